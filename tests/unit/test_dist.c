/*
 * test_dist.c - the plain (MPI-free) pieces of distributed and mini-batch
 * training, each against an independent naive reference, with several
 * processes played in one test:
 *
 *   - frost__radix_select (src/dist/select.c): the k-th smallest of ragged
 *     slices of floats (negatives, duplicates, -0.0 and +0.0, infinities,
 *     subnormals; k = 0 .. n-1) and the count below it equal a qsort of a
 *     copy; with a reduce callback, for P replicated processes and for P
 *     threads each holding some of the slices and summing histograms;
 *   - the post block over one process's rows (src/model/post_rows.c): the
 *     phases (sums, stats, apply, grad_sums, backward_apply) over P = 1, 2, 3
 *     contiguous, interleaved or random row groups, and the whole forward /
 *     backward with an allreduce over P threads, equal frost_post over all N
 *     rows (batch norm none / affine / non-affine, dropout on / off): h, the
 *     bits, batch and running statistics, dz, dgamma and dbeta;
 *   - frost__halo_plan_build (src/dist/plan.c) for P = 1 .. 4 on random
 *     graphs and partitions: owned and halo lists, receive and send blocks
 *     that agree across processes, the local A against the global graph, and
 *     the aggregation (A X) and its transpose (A^T X, halo rows added into
 *     their owners) equal to the global G X and G^T X;
 *   - Cluster-GCN batches (src/train/cluster.c): the epoch's part order is a
 *     permutation that changes with the epoch, the batches of an epoch cover
 *     every node once in increasing order, the batch count is a ceiling.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "frost/layers.h"
#include "frost/train.h"
#include "dist/dist_impl.h"
#include "dataset/dataset_impl.h"
#include "model/model_impl.h"
#include "testutil.h"

TestSuite(dist, .timeout = 60, .fini = tu_free_all);

/* ---- playing P processes with threads ------------------------------------------
 * Every thread is a process; the reduce callbacks add each one's vector into a
 * shared sum and hand the total back to all of them, like an allreduce. */

#define SIM_MAXP 4
#define SIM_MAXW 512

typedef struct sim {
    pthread_mutex_t mu;
    pthread_barrier_t bar;
    int64_t acc_i[SIM_MAXW];
    double acc_d[SIM_MAXW];
} sim;

static void sim_init(sim *s, int P)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_barrier_init(&s->bar, NULL, (unsigned)P);
}

static void sim_destroy(sim *s)
{
    pthread_barrier_destroy(&s->bar);
    pthread_mutex_destroy(&s->mu);
}

static void sim_sum_i64(void *ctx, int64_t *v, int64_t n)
{
    sim *s = ctx;
    if (n > SIM_MAXW) abort();
    pthread_mutex_lock(&s->mu);
    for (int64_t i = 0; i < n; i++) s->acc_i[i] += v[i];
    pthread_mutex_unlock(&s->mu);
    pthread_barrier_wait(&s->bar); /* every process has added its share */
    for (int64_t i = 0; i < n; i++) v[i] = s->acc_i[i];
    if (pthread_barrier_wait(&s->bar) == PTHREAD_BARRIER_SERIAL_THREAD) memset(s->acc_i, 0, sizeof s->acc_i);
    pthread_barrier_wait(&s->bar); /* cleared before the next round */
}

static void sim_sum_f64(void *ctx, double *v, int64_t n)
{
    sim *s = ctx;
    if (n > SIM_MAXW) abort();
    pthread_mutex_lock(&s->mu);
    for (int64_t i = 0; i < n; i++) s->acc_d[i] += v[i];
    pthread_mutex_unlock(&s->mu);
    pthread_barrier_wait(&s->bar);
    for (int64_t i = 0; i < n; i++) v[i] = s->acc_d[i];
    if (pthread_barrier_wait(&s->bar) == PTHREAD_BARRIER_SERIAL_THREAD) memset(s->acc_d, 0, sizeof s->acc_d);
    pthread_barrier_wait(&s->bar);
}

/* Run fn(arg + t * stride) on P threads and wait for them. */
static void sim_run(int P, void *(*fn)(void *), void *args, size_t stride)
{
    pthread_t th[SIM_MAXP];
    for (int t = 0; t < P; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, fn, (char *)args + (size_t)t * stride), 0, "pthread_create");
    for (int t = 0; t < P; t++) pthread_join(th[t], NULL);
}

/* ---- frost__radix_select ------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Values with many ties, both zeros, extremes and subnormals. */
static float sel_value(frost_rng *r)
{
    static const float special[] = {INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
                                    1e-45f,   -1e-45f,   1.0f,    -1.0f,    0.5f,    -2.0f};
    switch (frost_rng_next_below(r, 10)) {
    case 0: return -0.0f;
    case 1: return 0.0f;
    case 2: return special[frost_rng_next_below(r, sizeof special / sizeof *special)];
    case 3:
    case 4:
    case 5: return (float)((int)frost_rng_next_below(r, 9) - 4) * 0.5f;
    default: return (float)(frost_rng_next_normal(r) * pow(10.0, (double)frost_rng_next_below(r, 7) - 3.0));
    }
}

typedef struct sel_data {
    int32_t ns;
    const float *slice[8];
    int64_t len[8];
    int64_t n;
    float *sorted; /* (n) the union, sorted by float comparison */
} sel_data;

static void sel_make(sel_data *d, uint64_t seed, int32_t ns, int64_t maxlen)
{
    frost_rng r;
    frost_rng_init(&r, seed, 1);
    d->ns = ns;
    d->n = 0;
    for (int32_t s = 0; s < ns; s++) {
        /* ragged: an empty slice, a one-element one, the rest random */
        const int64_t len = s == 1 ? 0 : s == 2 ? 1 : (int64_t)frost_rng_next_below(&r, (uint64_t)maxlen + 1);
        float *x = tu_alloc((size_t)len * sizeof *x);
        for (int64_t i = 0; i < len; i++) x[i] = sel_value(&r);
        d->slice[s] = x;
        d->len[s] = len;
        d->n += len;
    }
    d->sorted = tu_alloc((size_t)d->n * sizeof(float));
    int64_t o = 0;
    for (int32_t s = 0; s < ns; s++) {
        memcpy(d->sorted + o, d->slice[s], (size_t)d->len[s] * sizeof(float));
        o += d->len[s];
    }
    qsort(d->sorted, (size_t)d->n, sizeof(float), cmp_float);
}

/* Values strictly below v (float comparison: -0.0 is not below +0.0). */
static int64_t sel_below(const sel_data *d, float v)
{
    int64_t c = 0;
    for (int64_t i = 0; i < d->n; i++) c += d->sorted[i] < v;
    return c;
}

static void sel_check(const sel_data *d, int64_t k, float v, int64_t less, int64_t mult, const char *what)
{
    const float want = d->sorted[k / mult];
    cr_assert(v == want || (isinf(v) && isinf(want) && signbit(v) == signbit(want)),
              "%s: k=%lld of n=%lld: selected %.9g, sorting gives %.9g", what, (long long)k, (long long)(d->n * mult),
              (double)v, (double)want);
    cr_assert_eq(less, mult * sel_below(d, want), "%s: k=%lld value %.9g: %lld below, sorting gives %lld", what,
                 (long long)k, (double)want, (long long)less, (long long)(mult * sel_below(d, want)));
}

Test(dist, radix_select_matches_sort)
{
    int checked_zero = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        sel_data d;
        sel_make(&d, seed, (int32_t)(1 + seed % 6), seed <= 6 ? 40 : 700);
        cr_assert_gt(d.n, 0);
        /* every k when small, else both ends and a spread */
        const int64_t step = d.n <= 200 ? 1 : d.n / 97;
        for (int64_t k = 0; k < d.n; k += step) {
            for (int pass = 0; pass < 2; pass++) {
                const int64_t kk = pass ? d.n - 1 - k : k; /* reaches k = n-1 */
                float v;
                int64_t less;
                frost__radix_select(d.slice, d.len, d.ns, kk, NULL, NULL, &v, &less);
                sel_check(&d, kk, v, less, 1, "slices");
                checked_zero += v == 0.0f && sel_below(&d, 0.0f) < kk;
            }
        }
        /* one slice holding everything: the same answers */
        const float *all = d.sorted;
        float v;
        int64_t less;
        frost__radix_select(&all, &d.n, 1, 0, NULL, NULL, &v, &less);
        sel_check(&d, 0, v, less, 1, "one slice, k=0");
        frost__radix_select(&all, &d.n, 1, d.n - 1, NULL, NULL, &v, &less);
        sel_check(&d, d.n - 1, v, less, 1, "one slice, k=n-1");
    }
    cr_assert_gt(checked_zero, 0, "no k landed inside a run of zeros: the -0.0/+0.0 case went untested");
}

/* P processes holding the same values: the histograms are multiplied by P. */
static void reduce_times(void *ctx, int64_t *v, int64_t n)
{
    const int64_t P = *(const int64_t *)ctx;
    for (int64_t i = 0; i < n; i++) v[i] *= P;
}

Test(dist, radix_select_with_reduce_replicated)
{
    for (uint64_t seed = 20; seed < 24; seed++) {
        sel_data d;
        sel_make(&d, seed, 4, 150);
        for (int64_t P = 1; P <= 4; P++)
            for (int64_t k = 0; k < P * d.n; k += 1 + P * d.n / 61) {
                float v;
                int64_t less;
                frost__radix_select(d.slice, d.len, d.ns, k, reduce_times, &P, &v, &less);
                sel_check(&d, k, v, less, P, "replicated");
                frost__radix_select(d.slice, d.len, d.ns, P * d.n - 1, reduce_times, &P, &v, &less);
                sel_check(&d, P * d.n - 1, v, less, P, "replicated, last");
            }
    }
}

typedef struct sel_proc {
    sim *s;
    const sel_data *d;
    int P, rank;
    const int64_t *ks;
    int nk;
    float v[64];
    int64_t less[64];
} sel_proc;

static void *sel_proc_run(void *arg)
{
    sel_proc *p = arg;
    const float *sl[8];
    int64_t len[8];
    int32_t ns = 0;
    for (int32_t s = 0; s < p->d->ns; s++)
        if (s % p->P == p->rank) sl[ns] = p->d->slice[s], len[ns++] = p->d->len[s];
    for (int q = 0; q < p->nk; q++)
        frost__radix_select(sl, len, ns, p->ks[q], sim_sum_i64, p->s, &p->v[q], &p->less[q]);
    return NULL;
}

/* Each thread holds some slices (possibly none) and the histograms are summed. */
Test(dist, radix_select_over_threads)
{
    for (int P = 2; P <= SIM_MAXP; P++) {
        sel_data d;
        sel_make(&d, 30 + (uint64_t)P, 7, 200);
        int64_t ks[64];
        int nk = 0;
        for (int64_t k = 0; k < d.n && nk < 62; k += 1 + d.n / 60) ks[nk++] = k;
        ks[nk++] = d.n - 1;
        sim s;
        sim_init(&s, P);
        sel_proc pr[SIM_MAXP];
        for (int t = 0; t < P; t++) pr[t] = (sel_proc){.s = &s, .d = &d, .P = P, .rank = t, .ks = ks, .nk = nk};
        sim_run(P, sel_proc_run, pr, sizeof *pr);
        sim_destroy(&s);
        for (int t = 0; t < P; t++)
            for (int q = 0; q < nk; q++) {
                char what[64];
                snprintf(what, sizeof what, "process %d of %d", t, P);
                sel_check(&d, ks[q], pr[t].v[q], pr[t].less[q], 1, what);
            }
    }
}

/* ---- the post block over row groups ----------------------------------------------- */

enum { PN = 53 };

static float *frnd(int64_t n, uint64_t seed, float scale, float shift)
{
    float *x = tu_alloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = scale * frost_rng_normal(seed, 9, (uint64_t)i) + shift;
    return x;
}

static float *fconst(int64_t n, float v)
{
    float *x = tu_alloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = v;
    return x;
}

static uint64_t *bits_alloc(int64_t n, int64_t H) { return tu_alloc((size_t)((n * H + 63) / 64 + 1) * 8); }

static bool bit_at(const uint64_t *b, int64_t e) { return (b[e >> 6] >> (e & 63)) & 1u; }

/* |a - b| <= tol max(1, |b|) */
static void close_rel(float a, float b, double tol, const char *what, const char *ctx, int64_t i)
{
    const double d = fabs((double)a - (double)b), s = fmax(1.0, fabs((double)b));
    cr_assert_leq(d, tol * s, "%s: %s [%lld]: %.9g, reference %.9g", ctx, what, (long long)i, (double)a, (double)b);
}

/* One setting of the post block and its reference over all PN rows. */
typedef struct post_case {
    int64_t H;
    int bn; /* 0 none, 1 affine, 2 non-affine */
    float p;
    const float *z, *dh, *gamma, *beta;
    /* reference */
    float *h, *dz, *mean, *invstd, *rm, *rv, *dg, *db; /* rm, rv: after the forward */
    float *rm0, *rv0;                                  /* the running statistics before it */
    uint64_t *bits;
    char name[96];
} post_case;

static frost_post post_settings(const post_case *c)
{
    return (frost_post){.batchnorm = c->bn != 0,
                        .gamma = c->gamma,
                        .beta = c->beta,
                        .momentum = 0.1f,
                        .eps = 1e-5f,
                        .dropout = c->p,
                        .seed = 11,
                        .stream = 12};
}

static void post_case_make(post_case *c, int64_t H, int bn, float p, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    const int64_t e = PN * H;
    c->H = H, c->bn = bn, c->p = p;
    c->z = frnd(e, seed, 2.0f, 0.3f);
    c->dh = frnd(e, seed + 1, 1.0f, 0.0f);
    c->gamma = bn == 1 ? frnd(H, seed + 2, 0.5f, 1.0f) : NULL;
    c->beta = bn == 1 ? frnd(H, seed + 3, 0.5f, 0.0f) : NULL;
    snprintf(c->name, sizeof c->name, "H=%lld bn=%s p=%g", (long long)H,
             bn == 0   ? "none"
             : bn == 1 ? "affine"
                       : "non-affine",
             (double)p);
    c->h = tu_alloc((size_t)e * 4), c->dz = tu_alloc((size_t)e * 4);
    c->mean = tu_alloc((size_t)H * 4), c->invstd = tu_alloc((size_t)H * 4);
    c->rm0 = frnd(H, seed + 4, 0.1f, 0.0f), c->rv0 = fconst(H, 1.5f);
    c->rm = tu_alloc((size_t)H * 4), c->rv = tu_alloc((size_t)H * 4);
    memcpy(c->rm, c->rm0, (size_t)H * 4), memcpy(c->rv, c->rv0, (size_t)H * 4);
    c->dg = tu_alloc((size_t)H * 4), c->db = tu_alloc((size_t)H * 4);
    c->bits = bits_alloc(PN, H);
    frost_post ref = post_settings(c);
    ref.mean = c->mean, ref.invstd = c->invstd;
    ref.run_mean = c->rm, ref.run_var = c->rv;
    ref.work = tu_alloc((size_t)(4 * H) * sizeof(double));
    ref.bits = c->bits;
    frost_post_forward(&ref, c->h, c->z, PN, H, true);
    frost_post_backward(&ref, c->dz, c->dg, c->db, c->dh, c->h, c->z, PN, H);
}

/* Row groups: 0 contiguous, 1 interleaved, 2 random. gid (PN) holds the groups
 * one after the other, group g at off[g] .. off[g+1], increasing inside. */
static void post_groups(int layout, int P, uint64_t seed, int64_t *gid, int64_t *off)
{
    int32_t grp[PN];
    frost_rng r;
    frost_rng_init(&r, seed, 5);
    for (int64_t i = 0; i < PN; i++)
        grp[i] = layout == 0   ? (int32_t)(i * P / PN)
                 : layout == 1 ? (int32_t)(i % P)
                               : (int32_t)frost_rng_next_below(&r, (uint64_t)P);
    int64_t n = 0;
    for (int g = 0; g < P; g++) {
        off[g] = n;
        for (int64_t i = 0; i < PN; i++)
            if (grp[i] == g) gid[n++] = i;
    }
    off[P] = n;
}

static float *gather_rows(const float *x, const int64_t *gid, int64_t n, int64_t H)
{
    float *y = tu_alloc((size_t)(n * H) * 4);
    for (int64_t i = 0; i < n; i++) memcpy(y + i * H, x + gid[i] * H, (size_t)H * 4);
    return y;
}

/* A group's h, bits and dz against the reference rows. */
static void post_check_rows(const post_case *c, const int64_t *gid, int64_t n, const float *h, const uint64_t *bits,
                            const float *dz, const char *ctx)
{
    const int64_t H = c->H;
    for (int64_t i = 0; i < n; i++)
        for (int64_t q = 0; q < H; q++) {
            const int64_t e = i * H + q, r = gid[i] * H + q;
            close_rel(h[e], c->h[r], 1e-5, "h", ctx, r);
            cr_assert_eq(bit_at(bits, e), h[e] > 0.0f, "%s: bit of local element %lld is not [h > 0]", ctx,
                         (long long)e);
            cr_assert_eq(bit_at(bits, e), bit_at(c->bits, r), "%s: bit of row %lld column %lld differs", ctx,
                         (long long)gid[i], (long long)q);
            if (dz) close_rel(dz[e], c->dz[r], 1e-5, "dz", ctx, r);
        }
}

static void post_check_stats(const post_case *c, const float *mean, const float *invstd, const float *rm,
                             const float *rv, const char *ctx)
{
    for (int64_t q = 0; q < c->H; q++) {
        close_rel(mean[q], c->mean[q], 1e-5, "mean", ctx, q);
        close_rel(invstd[q], c->invstd[q], 1e-5, "invstd", ctx, q);
        close_rel(rm[q], c->rm[q], 1e-5, "running mean", ctx, q);
        close_rel(rv[q], c->rv[q], 1e-5, "running var", ctx, q);
    }
}

static void post_phases_case(const post_case *c, int P, int layout)
{
    const int64_t H = c->H;
    int64_t gid[PN], off[SIM_MAXP + 1];
    post_groups(layout, P, 100 + (uint64_t)P, gid, off);
    char ctx[160];
    snprintf(ctx, sizeof ctx, "phases %s P=%d %s", c->name, P,
             layout == 0   ? "contiguous"
             : layout == 1 ? "interleaved"
                           : "random");
    /* shared statistics: one call of stats on the totals */
    frost_post sp = post_settings(c);
    float *mean = tu_alloc((size_t)H * 4), *invstd = tu_alloc((size_t)H * 4);
    float *rm = tu_alloc((size_t)H * 4), *rv = tu_alloc((size_t)H * 4);
    memcpy(rm, c->rm0, (size_t)H * 4), memcpy(rv, c->rv0, (size_t)H * 4);
    sp.mean = mean, sp.invstd = invstd, sp.run_mean = rm, sp.run_var = rv;
    sp.work = tu_alloc((size_t)(4 * H) * sizeof(double));
    frost__post_rows g[SIM_MAXP];
    float *z[SIM_MAXP], *dh[SIM_MAXP], *h[SIM_MAXP], *hr[SIM_MAXP], *dz[SIM_MAXP];
    int64_t n[SIM_MAXP];
    for (int q = 0; q < P; q++) {
        n[q] = off[q + 1] - off[q];
        z[q] = gather_rows(c->z, gid + off[q], n[q], H);
        dh[q] = gather_rows(c->dh, gid + off[q], n[q], H);
        h[q] = tu_alloc((size_t)(n[q] * H) * 4), hr[q] = tu_alloc((size_t)(n[q] * H) * 4);
        dz[q] = tu_alloc((size_t)(n[q] * H) * 4);
        g[q] = (frost__post_rows){.p = sp, .gid = gid + off[q], .n_global = PN};
        g[q].p.bits = bits_alloc(n[q], H);
    }
    /* forward */
    if (c->bn) {
        double tot[2 * 128] = {0}, part[2 * 128];
        for (int q = 0; q < P; q++) {
            for (int64_t i = 0; i < 2 * H; i++) part[i] = -7.0; /* must be overwritten */
            frost__post_rows_sums(z[q], n[q], H, part);
            for (int64_t i = 0; i < 2 * H; i++) tot[i] += part[i];
        }
        frost__post_rows_stats(&g[0], tot, H);
        post_check_stats(c, mean, invstd, rm, rv, ctx);
    }
    for (int q = 0; q < P; q++) {
        frost__post_rows_apply(&g[q], h[q], z[q], n[q], H);
        frost__post_rows_recompute(&g[q], hr[q], z[q], n[q], H);
        cr_assert(memcmp(h[q], hr[q], (size_t)(n[q] * H) * 4) == 0, "%s: recompute differs from apply (group %d)", ctx,
                  q);
    }
    /* backward: T summed over the groups; dgamma, dbeta from the groups' shares */
    double T[2 * 128] = {0};
    float *dg = tu_alloc((size_t)H * 4), *db = tu_alloc((size_t)H * 4);
    if (c->bn) {
        for (int q = 0; q < P; q++) {
            double Tq[2 * 128];
            frost__post_rows_grad_sums(&g[q], dh[q], z[q], n[q], H, Tq);
            for (int64_t i = 0; i < 2 * H; i++) T[i] += Tq[i];
            for (int64_t i = 0; i < H; i++) db[i] += (float)Tq[i], dg[i] += (float)Tq[H + i];
        }
    }
    for (int q = 0; q < P; q++) frost__post_rows_backward_apply(&g[q], dz[q], dh[q], z[q], c->bn ? T : NULL, n[q], H);
    for (int q = 0; q < P; q++) post_check_rows(c, gid + off[q], n[q], h[q], g[q].p.bits, dz[q], ctx);
    if (c->bn == 1)
        for (int64_t i = 0; i < H; i++) {
            close_rel(dg[i], c->dg[i], 1e-5, "dgamma", ctx, i);
            close_rel(db[i], c->db[i], 1e-5, "dbeta", ctx, i);
        }
}

static const int64_t post_H[] = {7, 64, 70};

Test(dist, post_rows_phases_match_frost_post)
{
    int cases = 0;
    for (int hi = 0; hi < 3; hi++)
        for (int bn = 0; bn < 3; bn++)
            for (int dr = 0; dr < 2; dr++) {
                post_case c;
                post_case_make(&c, post_H[hi], bn, dr ? 0.35f : 0.0f, 40 + (uint64_t)(10 * hi + 3 * bn + dr));
                for (int P = 1; P <= 3; P++)
                    for (int layout = 0; layout < 3; layout++) {
                        post_phases_case(&c, P, layout);
                        cases++;
                    }
            }
    cr_assert_eq(cases, 3 * 3 * 2 * 3 * 3);
}

/* The whole forward and backward, each process a thread with its own
 * statistics and work, the sums through the allreduce. */
typedef struct post_proc {
    sim *s;
    frost__post_rows pr;
    const float *z, *dh;
    float *h, *dz, *dg, *db;
    int64_t n, H;
} post_proc;

static void *post_proc_run(void *arg)
{
    post_proc *p = arg;
    frost__post_rows_forward(&p->pr, p->h, p->z, p->n, p->H);
    frost__post_rows_backward(&p->pr, p->dz, p->dg, p->db, p->dh, p->z, p->n, p->H);
    return NULL;
}

Test(dist, post_rows_over_threads_match_frost_post)
{
    for (int hi = 0; hi < 3; hi++)
        for (int bn = 0; bn < 3; bn++)
            for (int dr = 0; dr < 2; dr++) {
                post_case c;
                const int64_t H = post_H[hi];
                post_case_make(&c, H, bn, dr ? 0.35f : 0.0f, 70 + (uint64_t)(10 * hi + 3 * bn + dr));
                for (int P = 1; P <= 3; P++) {
                    const int layout = P == 2 ? 1 : 2;
                    int64_t gid[PN], off[SIM_MAXP + 1];
                    post_groups(layout, P, 200 + (uint64_t)P, gid, off);
                    char ctx[160];
                    snprintf(ctx, sizeof ctx, "threads %s P=%d", c.name, P);
                    sim s;
                    sim_init(&s, P);
                    post_proc pp[SIM_MAXP];
                    for (int q = 0; q < P; q++) {
                        const int64_t n = off[q + 1] - off[q];
                        frost_post sp = post_settings(&c);
                        sp.mean = tu_alloc((size_t)H * 4), sp.invstd = tu_alloc((size_t)H * 4);
                        sp.run_mean = tu_alloc((size_t)H * 4), sp.run_var = tu_alloc((size_t)H * 4);
                        memcpy(sp.run_mean, c.rm0, (size_t)H * 4), memcpy(sp.run_var, c.rv0, (size_t)H * 4);
                        sp.work = tu_alloc((size_t)(4 * H) * sizeof(double));
                        sp.bits = bits_alloc(n, H);
                        pp[q] = (post_proc){.s = &s,
                                            .pr = {.p = sp,
                                                   .gid = P == 1 ? NULL : gid + off[q],
                                                   .n_global = PN,
                                                   .allreduce = P == 1 ? NULL : sim_sum_f64,
                                                   .ctx = &s},
                                            .z = gather_rows(c.z, gid + off[q], n, H),
                                            .dh = gather_rows(c.dh, gid + off[q], n, H),
                                            .h = tu_alloc((size_t)(n * H) * 4),
                                            .dz = tu_alloc((size_t)(n * H) * 4),
                                            .dg = tu_alloc((size_t)H * 4),
                                            .db = tu_alloc((size_t)H * 4),
                                            .n = n,
                                            .H = H};
                    }
                    sim_run(P, post_proc_run, pp, sizeof *pp);
                    sim_destroy(&s);
                    float *dg = tu_alloc((size_t)H * 4), *db = tu_alloc((size_t)H * 4);
                    for (int q = 0; q < P; q++) {
                        const frost_post *sp = &pp[q].pr.p;
                        post_check_rows(&c, gid + off[q], pp[q].n, pp[q].h, sp->bits, pp[q].dz, ctx);
                        if (c.bn) post_check_stats(&c, sp->mean, sp->invstd, sp->run_mean, sp->run_var, ctx);
                        for (int64_t i = 0; i < H; i++) dg[i] += pp[q].dg[i], db[i] += pp[q].db[i];
                    }
                    if (c.bn == 1)
                        for (int64_t i = 0; i < H; i++) {
                            close_rel(dg[i], c.dg[i], 1e-5, "dgamma (summed over processes)", ctx, i);
                            close_rel(db[i], c.db[i], 1e-5, "dbeta (summed over processes)", ctx, i);
                        }
                }
            }
}

/* ---- the halo plan ----------------------------------------------------------------- */

enum { GN = 41, GE = 130, GF = 3 };

/* A directed random graph with self-loops, a hub, nodes with empty rows and
 * nodes nobody aggregates from. */
static void plan_graph(frost_csr *G, uint64_t seed)
{
    int32_t s[GE + 8], d[GE + 8];
    frost_rng r;
    frost_rng_init(&r, seed, 2);
    int e = 0;
    for (; e < GE; e++) {
        s[e] = (int32_t)frost_rng_next_below(&r, GN - 3); /* GN-3 .. GN-1: no one aggregates from them */
        d[e] = (int32_t)frost_rng_next_below(&r, GN - 2); /* GN-2, GN-1: empty rows */
        if (e % 9 == 0) s[e] = 5;                         /* a hub */
    }
    s[e] = 3, d[e++] = 3; /* self-loops */
    s[e] = 10, d[e++] = 10;
    frost_csr_build_opts o = frost_csr_build_opts_default();
    cr_assert_eq(frost_csr_from_edges(G, GN, e, d, s, &o, NULL), FROST_OK, "%s", frost_last_error());
}

/* Y (rows of A, F) = A X in double, A's rows in order. */
static void naive_spmm(double *Y, const frost_csr *A, const float *X, int64_t F)
{
    for (int64_t i = 0; i < A->n_rows; i++)
        for (int64_t f = 0; f < F; f++) {
            double s = 0;
            for (int64_t k = A->indptr[i]; k < A->indptr[i + 1]; k++) s += (double)X[A->indices[k] * F + f];
            Y[i * F + f] = s;
        }
}

static void plan_check(const frost_csr *G, const int32_t *part, int32_t P, const char *ctx)
{
    frost__halo_plan pl[SIM_MAXP];
    for (int32_t r = 0; r < P; r++)
        cr_assert_eq(frost__halo_plan_build(&pl[r], G, part, P, r), FROST_OK, "%s: rank %d: %s", ctx, r,
                     frost_last_error());
    float X[GN * GF];
    for (int i = 0; i < GN * GF; i++) X[i] = frost_rng_normal(77, 1, (uint64_t)i);
    double GX[GN * GF], GTX[GN * GF], GTX_dist[GN * GF];
    naive_spmm(GX, G, X, GF);
    memset(GTX, 0, sizeof GTX);
    memset(GTX_dist, 0, sizeof GTX_dist);
    for (int64_t i = 0; i < GN; i++)
        for (int64_t k = G->indptr[i]; k < G->indptr[i + 1]; k++)
            for (int f = 0; f < GF; f++) GTX[G->indices[k] * GF + f] += (double)X[i * GF + f];
    int owned_total = 0;
    for (int32_t r = 0; r < P; r++) {
        const frost__halo_plan *p = &pl[r];
        cr_assert_eq(p->rank, r);
        cr_assert_eq(p->size, P);
        cr_assert_eq(p->n_global, GN);
        /* owned: the part's nodes, increasing */
        int64_t n_owned = 0;
        for (int64_t i = 0; i < GN; i++)
            if (part[i] == r) {
                cr_assert_lt(n_owned, p->n_owned, "%s: rank %d owns too few rows", ctx, r);
                cr_assert_eq(p->gid[n_owned], i, "%s: rank %d owned row %lld is node %lld, expected %lld", ctx, r,
                             (long long)n_owned, (long long)p->gid[n_owned], (long long)i);
                n_owned++;
            }
        cr_assert_eq(p->n_owned, n_owned, "%s: rank %d owns %lld rows, part has %lld", ctx, r, (long long)p->n_owned,
                     (long long)n_owned);
        owned_total += (int)n_owned;
        /* halo: exactly the outside nodes the owned rows reference, by (owner, id) */
        bool need[GN] = {0};
        for (int64_t k = 0; k < n_owned; k++) {
            const int64_t i = p->gid[k];
            for (int64_t e = G->indptr[i]; e < G->indptr[i + 1]; e++)
                if (part[G->indices[e]] != r) need[G->indices[e]] = true;
        }
        int64_t h = p->n_owned;
        cr_assert_eq(p->recv_off[0], 0);
        for (int32_t q = 0; q < P; q++) {
            cr_assert_eq(p->recv_off[q], h - p->n_owned, "%s: rank %d: halo block of %d starts at %lld", ctx, r, q,
                         (long long)p->recv_off[q]);
            for (int64_t i = 0; i < GN; i++)
                if (part[i] == q && need[i]) {
                    cr_assert_lt(h, p->n_local, "%s: rank %d: halo too short", ctx, r);
                    cr_assert_eq(p->gid[h], i, "%s: rank %d: halo row %lld is node %lld, expected %lld (owner %d)", ctx,
                                 r, (long long)h, (long long)p->gid[h], (long long)i, q);
                    h++;
                }
            cr_assert_eq(p->recv_off[q + 1], h - p->n_owned, "%s: rank %d: halo block of %d ends at %lld", ctx, r, q,
                         (long long)p->recv_off[q + 1]);
        }
        cr_assert_eq(p->n_local, h, "%s: rank %d: %lld local rows, expected %lld", ctx, r, (long long)p->n_local,
                     (long long)h);
        cr_assert_eq(p->recv_off[r + 1], p->recv_off[r], "%s: rank %d receives from itself", ctx, r);
        /* A: the owned rows, neighbours in the global row's order */
        cr_assert_eq(frost_csr_check(&p->A, false), FROST_OK, "%s: %s", ctx, frost_last_error());
        cr_assert_eq(p->A.n_rows, p->n_owned);
        cr_assert_eq(p->A.n_cols, p->n_local);
        for (int64_t k = 0; k < n_owned; k++) {
            const int64_t i = p->gid[k];
            cr_assert_eq(p->A.indptr[k + 1] - p->A.indptr[k], G->indptr[i + 1] - G->indptr[i],
                         "%s: rank %d: row of node %lld has the wrong length", ctx, r, (long long)i);
            for (int64_t e = 0; e < G->indptr[i + 1] - G->indptr[i]; e++)
                cr_assert_eq(p->gid[p->A.indices[p->A.indptr[k] + e]], G->indices[G->indptr[i] + e],
                             "%s: rank %d: entry %lld of node %lld", ctx, r, (long long)e, (long long)i);
        }
        /* AT: the transpose of A */
        cr_assert_eq(p->AT.n_rows, p->n_local);
        cr_assert_eq(p->AT.n_cols, p->n_owned);
        cr_assert_eq(p->AT.nnz, p->A.nnz);
        for (int64_t j = 0; j < p->n_local; j++)
            for (int64_t e = p->AT.indptr[j]; e < p->AT.indptr[j + 1]; e++) {
                const int64_t k = p->AT.indices[e];
                bool found = false;
                for (int64_t t = p->A.indptr[k]; t < p->A.indptr[k + 1]; t++) found |= p->A.indices[t] == j;
                cr_assert(found, "%s: rank %d: AT has (%lld, %lld), A has no (%lld, %lld)", ctx, r, (long long)j,
                          (long long)k, (long long)k, (long long)j);
            }
        /* A X on the local rows = the owned rows of G X */
        float *Xl = gather_rows(X, p->gid, p->n_local, GF);
        double *Y = tu_alloc((size_t)(p->n_owned * GF) * sizeof(double));
        float *Yk = tu_alloc((size_t)(p->n_owned * GF) * sizeof(float));
        naive_spmm(Y, &p->A, Xl, GF);
        frost_aggr op = {.A = &p->A, .AT = &p->AT};
        frost_spmm(&op, Xl, GF, GF, Yk, GF);
        for (int64_t k = 0; k < n_owned; k++)
            for (int f = 0; f < GF; f++) {
                const double want = GX[p->gid[k] * GF + f];
                cr_assert_eq(Y[k * GF + f], want, "%s: rank %d: (A X)[%lld] = %.9g, (G X)[node %lld] = %.9g", ctx, r,
                             (long long)k, Y[k * GF + f], (long long)p->gid[k], want);
                cr_assert_leq(fabs((double)Yk[k * GF + f] - want), 1e-5 * fmax(1.0, fabs(want)),
                              "%s: rank %d: frost_spmm row %lld: %.9g, expected %.9g", ctx, r, (long long)k,
                              (double)Yk[k * GF + f], want);
            }
        /* A^T X_owned through AT, every local row (halo too) added into its node:
         * summed over the processes that is G^T X */
        float *Xo = gather_rows(X, p->gid, p->n_owned, GF);
        for (int64_t j = 0; j < p->n_local; j++)
            for (int64_t e = p->AT.indptr[j]; e < p->AT.indptr[j + 1]; e++)
                for (int f = 0; f < GF; f++) GTX_dist[p->gid[j] * GF + f] += (double)Xo[p->AT.indices[e] * GF + f];
        /* sends: empty to itself; to q exactly q's halo block from r, in its order */
        cr_assert_eq(p->send_off[0], 0);
        cr_assert_eq(p->send_off[r + 1], p->send_off[r], "%s: rank %d sends to itself", ctx, r);
    }
    cr_assert_eq(owned_total, GN, "%s: %d nodes owned over all processes", ctx, owned_total);
    for (int i = 0; i < GN * GF; i++)
        cr_assert_leq(fabs(GTX_dist[i] - GTX[i]), 1e-9 * fmax(1.0, fabs(GTX[i])),
                      "%s: (G^T X)[%d] summed over processes %.12g, global %.12g", ctx, i, GTX_dist[i], GTX[i]);
    for (int32_t r = 0; r < P; r++)
        for (int32_t q = 0; q < P; q++) {
            const frost__halo_plan *s = &pl[r], *d = &pl[q];
            const int64_t ns = s->send_off[q + 1] - s->send_off[q];
            const int64_t nr = d->recv_off[r + 1] - d->recv_off[r];
            cr_assert_eq(ns, nr, "%s: %d sends %lld rows to %d, which expects %lld", ctx, r, (long long)ns, q,
                         (long long)nr);
            for (int64_t t = 0; t < ns; t++) {
                const int64_t row = s->send_rows[s->send_off[q] + t];
                cr_assert(row >= 0 && row < s->n_owned, "%s: %d sends row %lld, not an owned row", ctx, r,
                          (long long)row);
                cr_assert_eq(s->gid[row], d->gid[d->n_owned + d->recv_off[r] + t],
                             "%s: %d -> %d, message row %lld: node %lld sent, node %lld expected", ctx, r, q,
                             (long long)t, (long long)s->gid[row], (long long)d->gid[d->n_owned + d->recv_off[r] + t]);
            }
        }
    for (int32_t r = 0; r < P; r++) frost__halo_plan_release(&pl[r]);
}

Test(dist, halo_plan_consistent_and_aggregates_like_global)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        frost_csr G;
        plan_graph(&G, seed);
        cr_assert_eq(frost_csr_check(&G, true), FROST_OK);
        if (seed == 3) /* rows in decreasing order: the local rows must keep the global order */
            for (int64_t i = 0; i < GN; i++)
                for (int64_t a = G.indptr[i], b = G.indptr[i + 1] - 1; a < b; a++, b--) {
                    const int32_t t = G.indices[a];
                    G.indices[a] = G.indices[b];
                    G.indices[b] = t;
                }
        for (int32_t P = 1; P <= SIM_MAXP; P++)
            for (int variant = 0; variant < 2; variant++) {
                int32_t part[GN];
                frost_rng r;
                frost_rng_init(&r, seed * 10 + (uint64_t)P, 3);
                for (int i = 0; i < GN; i++) part[i] = (int32_t)frost_rng_next_below(&r, (uint64_t)P);
                /* variant 1: the last part empty (P > 1), so a process owns nothing */
                if (variant && P > 1)
                    for (int i = 0; i < GN; i++)
                        if (part[i] == P - 1) part[i] = 0;
                char ctx[96];
                snprintf(ctx, sizeof ctx, "seed %llu P=%d%s", (unsigned long long)seed, P,
                         variant && P > 1 ? " (last part empty)" : "");
                plan_check(&G, part, P, ctx);
            }
        frost_csr_release(&G);
    }
}

Test(dist, halo_plan_rejects_bad_arguments)
{
    frost_csr G;
    plan_graph(&G, 1);
    int32_t part[GN] = {0};
    frost__halo_plan p;
    cr_assert_eq(frost__halo_plan_build(&p, &G, part, 2, 2), FROST_ERR_INVALID, "rank 2 of 2");
    cr_assert_eq(frost__halo_plan_build(&p, &G, part, 0, 0), FROST_ERR_INVALID, "0 processes");
    part[7] = 2;
    cr_assert_eq(frost__halo_plan_build(&p, &G, part, 2, 0), FROST_ERR_RANGE, "node in part 2 of 2");
    part[7] = -1;
    cr_assert_eq(frost__halo_plan_build(&p, &G, part, 2, 1), FROST_ERR_RANGE, "node in part -1");
    frost_csr_release(&G);
}

/* ---- Cluster-GCN batches ---------------------------------------------------------- */

Test(dist, cluster_num_batches_is_ceiling)
{
    for (int32_t k = 1; k <= 20; k++)
        for (int32_t q = 1; q <= 25; q++) {
            int64_t want = 0;
            for (int32_t covered = 0; covered < k; covered += q) want++;
            cr_assert_eq(frost_cluster_num_batches(k, q), want, "%d parts, %d per batch: %lld batches, expected %lld",
                         k, q, (long long)frost_cluster_num_batches(k, q), (long long)want);
        }
    cr_assert_eq(frost_cluster_num_batches(5, 0), 0, "0 parts per batch");
}

static bool is_permutation(const int32_t *o, int32_t k)
{
    bool seen[64] = {0};
    for (int32_t i = 0; i < k; i++) {
        if (o[i] < 0 || o[i] >= k || seen[o[i]]) return false;
        seen[o[i]] = true;
    }
    return true;
}

Test(dist, cluster_order_is_a_permutation_that_changes)
{
    for (int32_t k = 1; k <= 40; k++) {
        int32_t o[64], again[64];
        int differ = 0;
        for (int64_t e = 0; e < 6; e++) {
            frost_cluster_order(o, k, 7, e);
            cr_assert(is_permutation(o, k), "%d parts, epoch %lld: not a permutation", k, (long long)e);
            frost_cluster_order(again, k, 7, e);
            cr_assert(memcmp(o, again, (size_t)k * 4) == 0, "%d parts, epoch %lld: not reproducible", k, (long long)e);
            frost_cluster_order(again, k, 7, e + 1);
            differ += memcmp(o, again, (size_t)k * 4) != 0;
        }
        if (k >= 6) cr_assert_eq(differ, 6, "%d parts: only %d of 6 consecutive epochs change the order", k, differ);
        if (k >= 8) {
            frost_cluster_order(o, k, 7, 0);
            frost_cluster_order(again, k, 8, 0);
            cr_assert(memcmp(o, again, (size_t)k * 4) != 0, "%d parts: seeds 7 and 8 give the same order", k);
        }
    }
    /* the order is shuffled at all: over epochs every part leads at least once */
    bool led[10] = {0};
    for (int64_t e = 0; e < 200; e++) {
        int32_t o[10];
        frost_cluster_order(o, 10, 3, e);
        led[o[0]] = true;
    }
    for (int i = 0; i < 10; i++) cr_assert(led[i], "part %d never comes first in 200 epochs", i);
}

Test(dist, cluster_batches_cover_every_node_once)
{
    enum { CN = 97 };
    const int32_t ks[] = {1, 4, 7, 13};
    const int32_t qs[] = {1, 2, 3, 5, 13, 20};
    for (int ki = 0; ki < 4; ki++) {
        const int32_t k = ks[ki];
        int32_t part[CN];
        frost_rng r;
        frost_rng_init(&r, 99, (uint64_t)k);
        for (int i = 0; i < CN; i++) part[i] = (int32_t)frost_rng_next_below(&r, (uint64_t)k);
        for (int qi = 0; qi < 6; qi++) {
            const int32_t q = qs[qi];
            const int64_t nb = frost_cluster_num_batches(k, q);
            for (int64_t e = 0; e < 3; e++) {
                int32_t order[64];
                frost_cluster_order(order, k, 5, e);
                int seen[CN] = {0};
                for (int64_t b = 0; b < nb; b++) {
                    int64_t nodes[CN], n = -1;
                    cr_assert_eq(frost_cluster_batch(part, CN, k, q, 5, e, b, nodes, &n), FROST_OK, "%s",
                                 frost_last_error());
                    /* the batch's parts per the order */
                    bool in_batch[64] = {0};
                    for (int64_t t = b * q; t < (b + 1) * q && t < k; t++) in_batch[order[t]] = true;
                    int64_t want = 0;
                    for (int i = 0; i < CN; i++) want += in_batch[part[i]];
                    cr_assert_eq(n, want, "k=%d q=%d epoch %lld batch %lld: %lld nodes, its parts hold %lld", k, q,
                                 (long long)e, (long long)b, (long long)n, (long long)want);
                    for (int64_t t = 0; t < n; t++) {
                        cr_assert(nodes[t] >= 0 && nodes[t] < CN, "node id %lld", (long long)nodes[t]);
                        if (t)
                            cr_assert_lt(nodes[t - 1], nodes[t], "k=%d q=%d batch %lld: not increasing", k, q,
                                         (long long)b);
                        cr_assert(in_batch[part[nodes[t]]], "k=%d q=%d batch %lld: node %lld of part %d", k, q,
                                  (long long)b, (long long)nodes[t], part[nodes[t]]);
                        seen[nodes[t]]++;
                    }
                }
                for (int i = 0; i < CN; i++)
                    cr_assert_eq(seen[i], 1, "k=%d q=%d epoch %lld: node %d in %d batches", k, q, (long long)e, i,
                                 seen[i]);
            }
            int64_t nodes[CN], n;
            cr_assert_eq(frost_cluster_batch(part, CN, k, q, 5, 0, nb, nodes, &n), FROST_ERR_RANGE, "batch nb");
            cr_assert_eq(frost_cluster_batch(part, CN, k, q, 5, 0, -1, nodes, &n), FROST_ERR_RANGE, "batch -1");
        }
    }
    int32_t part[3] = {0, 0, 0};
    int64_t nodes[3], n;
    cr_assert_eq(frost_cluster_batch(part, 3, 0, 1, 5, 0, 0, nodes, &n), FROST_ERR_INVALID, "0 parts");
    cr_assert_eq(frost_cluster_batch(part, 3, 1, 0, 5, 0, 0, nodes, &n), FROST_ERR_INVALID, "0 per batch");
}

/* ---- a process's share read from the file --------------------------------------------- */

/* cora with a stored 3-part partition (and a renumbered copy by part, which
 * keeps original ids): every process's share read from the file alone is
 * the share taken from the whole prepared dataset, bit for bit: plan, send
 * and receive lists, local graph, features, labels, split rows, operator
 * coefficients, dropout ids. Self-loop rules, feature normalisations and
 * every operator kind of the models that run distributed. */
static void same_floats(const float *a, const float *b, int64_t n, const char *what, const char *ctx)
{
    cr_assert_eq(a == NULL, b == NULL, "%s: %s present on one side only", ctx, what);
    if (a) cr_assert(memcmp(a, b, (size_t)n * sizeof *a) == 0, "%s: %s differ", ctx, what);
}

static void same_i64(const int64_t *a, const int64_t *b, int64_t n, const char *what, const char *ctx)
{
    cr_assert_eq(a == NULL, b == NULL, "%s: %s present on one side only", ctx, what);
    if (a && n) cr_assert(memcmp(a, b, (size_t)n * sizeof *a) == 0, "%s: %s differ", ctx, what);
}

static void share_compare(const char *file, const char *model, const char *loops, const char *norm, int32_t P,
                          bool undirected)
{
    char text[1024], ctx[256];
    snprintf(text, sizeof text,
             "dataset = \"%s\";\nsplit = \"public\";\nfeatures = { normalize = \"%s\"; };\n"
             "graph = { self_loops = \"%s\"; undirected = %s; };\nmodel = { %s };\n",
             tu_path(tu_cora_dir(), file), norm, loops, undirected ? "true" : "false", model);
    snprintf(ctx, sizeof ctx, "%s, %s, self loops %s, features %s, P=%d%s", file, model, loops, norm, P,
             undirected ? ", undirected" : "");
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load_text(&c, text, "share.cfg"), FROST_OK, "%s", frost_last_error());
    frost_prepared p;
    cr_assert_eq(frost_prepare(&p, &c), FROST_OK, "%s", frost_last_error());
    const frost_model_spec spec = frost_prepared_spec(&p, &c);
    const frost_task_data task = frost_prepared_task(&p);
    const frost_partitioning *pt = frost_dataset_partitioning(&p.ds, "metis-k3");
    cr_assert_not_null(pt);
    const frost__dist_job job = {.A = &p.A, .AT = p.symmetric ? &p.A : &p.AT, .X = p.X, .original_id = p.ds.original_id,
                                 .task = task, .spec = spec};
    const frost__dist_file df = {.path = p.path, .partition = "metis-k3", .task = task, .symmetric = p.symmetric,
                                 .labelled = true, .row_norm = p.row_norm, .self_loops = p.self_loops};
    cr_assert(p.symmetric, "%s: cora is stored symmetric", ctx);
    const int64_t F = task.F;
    for (int32_t r = 0; r < P; r++) {
        frost__dist_share g, l;
        cr_assert_eq(frost__dist_share_global(&g, &job, pt->part, P, r), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(frost__dist_share_load(&l, &df, P, r), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(frost__dist_share_coefficients(&l, &spec), FROST_OK, "%s", frost_last_error());
        const frost__halo_plan *a = &g.plan, *b = &l.plan;
        cr_assert_eq(a->n_owned, b->n_owned, "%s rank %d", ctx, r);
        cr_assert_eq(a->n_local, b->n_local, "%s rank %d", ctx, r);
        cr_assert_gt(b->n_local, b->n_owned, "%s rank %d: a halo", ctx, r);
        const int64_t nl = a->n_local, no = a->n_owned;
        same_i64(a->gid, b->gid, nl, "local nodes", ctx);
        same_i64(a->recv_off, b->recv_off, P + 1, "receive blocks", ctx);
        same_i64(a->send_off, b->send_off, P + 1, "send blocks", ctx);
        same_i64(a->send_rows, b->send_rows, a->send_off[P], "send rows", ctx);
        same_i64(a->A.indptr, b->A.indptr, no + 1, "local graph rows", ctx);
        cr_assert(memcmp(a->A.indices, b->A.indices, (size_t)a->A.nnz * sizeof(int32_t)) == 0, "%s: local graph", ctx);
        same_floats(g.X, l.X, nl * F, "features", ctx);
        cr_assert(memcmp(g.labels, l.labels, (size_t)nl * sizeof(int32_t)) == 0, "%s: labels", ctx);
        cr_assert_eq(g.n_train, l.n_train);
        cr_assert_eq(g.n_valid, l.n_valid);
        cr_assert_eq(g.n_test, l.n_test);
        same_i64(g.train, l.train, g.n_train, "training rows", ctx);
        same_i64(g.valid, l.valid, g.n_valid, "validation rows", ctx);
        same_i64(g.test, l.test, g.n_test, "test rows", ctx);
        same_floats(g.a, l.a, no, "row coefficients", ctx);
        same_floats(g.b, l.b, nl, "column coefficients", ctx);
        same_floats(g.c, l.c, nl, "self coefficients", ctx);
        same_i64(g.mask_ids, l.mask_ids, nl, "dropout ids", ctx);
        frost__dist_share_release(&g);
        frost__dist_share_release(&l);
    }
    frost_prepared_release(&p);
}

Test(dist, share_read_from_file_equals_share_of_whole_dataset, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    frost_dataset ds, re;
    cr_assert_eq(frost_dataset_load(&ds, tu_path(tu_cora_dir(), "cora.h5")), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_dataset_partition(&ds, 3, 0.03, 0, "metis-k3"), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_dataset_save(&ds, tu_path(tu_cora_dir(), "cora-p.h5"), 1), FROST_OK, "%s", frost_last_error());
    int64_t *perm = tu_alloc((size_t)ds.num_nodes * sizeof *perm);
    cr_assert_eq(frost_partition_order(perm, ds.partitions[0].part, ds.num_nodes, 3), FROST_OK);
    cr_assert_eq(frost_dataset_permute(&re, &ds, perm), FROST_OK, "%s", frost_last_error());
    cr_assert_not_null(re.original_id);
    cr_assert_eq(frost_dataset_save(&re, tu_path(tu_cora_dir(), "cora-r.h5"), 1), FROST_OK, "%s", frost_last_error());
    frost_dataset_release(&ds);
    frost_dataset_release(&re);
    const char *models[] = {"name = \"gcn\";", "name = \"gcn\"; gcn_norm = \"left\";", "name = \"gcn\"; gcn_norm = \"right\";",
                            "name = \"gin\";", "name = \"sage\";", "name = \"mlp\";"};
    const char *loops[] = {"keep", "drop"};
    for (size_t m = 0; m < sizeof models / sizeof *models; m++)
        share_compare("cora-p.h5", models[m], loops[(m / 2) % 2], m % 2 ? "none" : "row", 3, m == 0);
    share_compare("cora-p.h5", "name = \"gin\";", "drop", "row", 3, true);
    share_compare("cora-r.h5", "name = \"gcn\";", "drop", "row", 3, false);
}

/* A damaged graph in a file read row by row: one line naming the file and
 * /graph/indptr, no crash, nothing returned. Each damage sits between or
 * inside the rows read (a decreasing indptr between two wanted rows once
 * made the block reader read before its buffer). */
static void poke_indptr(const char *path, int64_t at, int64_t value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t d = H5Dopen2(f, "graph/indptr", H5P_DEFAULT);
    cr_assert_geq(d, 0);
    hid_t fs = H5Dget_space(d);
    hsize_t off = (hsize_t)at, one = 1;
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &one, NULL);
    hid_t ms = H5Screate_simple(1, &one, NULL);
    cr_assert_geq(H5Dwrite(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &value), 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
}

Test(dist, damaged_indptr_read_by_rows_is_refused_in_one_line, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, tu_path(tu_cora_dir(), "cora.h5")), FROST_OK, "%s", frost_last_error());
    const int64_t N = ds.num_nodes, E = ds.graph.nnz;
    const int64_t at[] = {6, 7, 0, N, 100};
    const int64_t val[] = {0, 1 << 30, 2, E + 5, -3};
    const int64_t rows[] = {3, 5, 6, 7, 9, 99, 100, 101, 2000};
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        char name[64];
        snprintf(name, sizeof name, "bad%zu.h5", k);
        const char *path = tu_path(tu_cora_dir(), name);
        cr_assert_eq(frost_dataset_save(&ds, path, 0), FROST_OK, "%s", frost_last_error());
        poke_indptr(path, at[k], val[k]);
        frost_csr out;
        const frost_status st = frost__dataset_read_graph_rows(path, N, rows, sizeof rows / sizeof *rows, &out);
        cr_assert_eq(st, FROST_ERR_FORMAT, "indptr[%lld] = %lld: status %d", (long long)at[k], (long long)val[k], st);
        cr_assert(strstr(frost_last_error(), "/graph/indptr") && strstr(frost_last_error(), name) &&
                      !strchr(frost_last_error(), '\n'),
                  "%s", frost_last_error());
        cr_assert_null(out.indptr);
    }
    frost_dataset_release(&ds);
}

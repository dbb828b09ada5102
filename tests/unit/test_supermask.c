/*
 * test_supermask.c - a supermasked network against the test's own arithmetic
 * (slt.md section 2), never against the model's intermediate buffers:
 *
 *  - the kept free weights are exactly the top-|S| ones of a full sort done
 *    here, over every masked matrix at once (global threshold) or matrix by
 *    matrix (threshold = "layer"), ties included, on random and adversarial
 *    scores; frost_slt_select against qsort of a copy;
 *  - the effective weights are base * mask * c with c computed here: 1,
 *    1/sqrt(1 - s) (static), 1/sqrt(kept / size of the matrix) (dynamic);
 *  - a double-precision forward of a 2-layer GIN ticket, written here from
 *    the edge list and the test's own mask, gives the logits and the loss;
 *    its central differences give dL/dW~ (W~ the effective weights), which
 *    the model's gradient of W~ must match, and the straight-through score
 *    gradient dL/dS = sign(S) * dL/dW~ * W * c that the model's score
 *    gradient must match.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "model/model_impl.h"
#include "testutil.h"

TestSuite(supermask, .timeout = 120, .fini = tu_free_all);

/* N nodes, F features, H hidden, C classes: every matrix non-square */
enum { NN = 24, FF = 12, HH = 10, CC = 3, MAXE = 80, MAXM = 16 };

/* The graph as an edge list: node recv[e] aggregates from node send[e]. */
static int32_t send_[MAXE], recv_[MAXE];
static int n_edges;
static int indeg[NN];
static frost_csr A, AT;
static float X[NN * FF];
static int32_t Y[NN];
static int64_t IDX[NN];

static void fixture(void)
{
    frost_rng r;
    frost_rng_init(&r, 17, 1);
    bool seen[NN][NN];
    memset(seen, 0, sizeof seen);
    memset(indeg, 0, sizeof indeg);
    n_edges = 0;
    while (n_edges < 60) {
        int32_t u = (int32_t)frost_rng_next_below(&r, NN);
        int32_t v = (int32_t)frost_rng_next_below(&r, NN - 1); /* the last node receives nothing */
        if (u == v || seen[v][u]) continue;
        seen[v][u] = true;
        send_[n_edges] = u;
        recv_[n_edges] = v;
        indeg[v]++;
        n_edges++;
    }
    /* row v of A lists the nodes v aggregates from: v is the CSR's source */
    cr_assert_eq(frost_csr_from_edges(&A, NN, n_edges, recv_, send_, NULL, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&AT, &A), FROST_OK);
    for (int i = 0; i < NN * FF; i++) X[i] = frost_rng_normal(5, 9, (uint64_t)i);
    for (int i = 0; i < NN; i++) {
        Y[i] = i % 5 == 4 ? -1 : i % CC;
        IDX[i] = i;
    }
}

static void fixture_fini(void)
{
    frost_csr_release(&A);
    frost_csr_release(&AT);
}

/* ---- the mask and the effective weights, computed here ------------------------- */

typedef struct ticket_ref {
    int nm;
    int64_t rows[MAXM], cols[MAXM], n[MAXM];
    uint8_t *keep[MAXM]; /* expected mask */
    double c[MAXM];      /* expected scale */
} ticket_ref;

typedef struct wkey {
    float a; /* |score| */
    int k;   /* matrix */
    int64_t i;
} wkey;

/* Ascending |S|, ties by position (matrix, then index): supermask.c masks
 * the earliest of equal keys first. */
static int cmp_wkey(const void *pa, const void *pb)
{
    const wkey *x = pa, *y = pb;
    if (x->a != y->a) return x->a < y->a ? -1 : 1;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int64_t floor_n_s(int64_t n, double s) { return (int64_t)floor((double)n * s + 1e-9); }

/* The mask of matrices [k0, k1): floor(n s) weights out of the group are
 * masked, the pruned ones first, then the free ones with the smallest |S|
 * by a full sort; locked ones never. */
static void mask_group(ticket_ref *t, const frost_slt_matrix_info *in, int k0, int k1, double s)
{
    int64_t n = 0, pruned = 0, nfree = 0;
    for (int k = k0; k < k1; k++) {
        n += in[k].n;
        for (int64_t i = 0; i < in[k].n; i++) {
            pruned += in[k].code[i] < 0;
            nfree += in[k].code[i] == 0;
        }
    }
    wkey *v = malloc((size_t)(nfree ? nfree : 1) * sizeof *v);
    int64_t q = 0;
    for (int k = k0; k < k1; k++)
        for (int64_t i = 0; i < in[k].n; i++) {
            t->keep[k][i] = in[k].code[i] > 0;
            if (in[k].code[i] == 0) v[q++] = (wkey){fabsf(in[k].score[i]), k, i};
        }
    qsort(v, (size_t)nfree, sizeof *v, cmp_wkey);
    int64_t drop = floor_n_s(n, s) - pruned;
    if (drop < 0) drop = 0;
    if (drop > nfree) drop = nfree;
    for (q = drop; q < nfree; q++) t->keep[v[q].k][v[q].i] = 1;
    free(v);
}

/* Expected mask and scale of every matrix of m under spec sp. */
static void ticket_expect(ticket_ref *t, const frost_model *m, const frost_model_spec *sp)
{
    frost_slt_matrix_info in[MAXM];
    t->nm = frost_slt_num_matrices(m);
    cr_assert(t->nm > 0 && t->nm <= MAXM);
    for (int k = 0; k < t->nm; k++) {
        cr_assert_eq(frost_slt_matrix(m, k, &in[k]), FROST_OK);
        t->rows[k] = in[k].rows, t->cols[k] = in[k].cols, t->n[k] = in[k].n;
        t->keep[k] = tu_alloc((size_t)in[k].n);
    }
    const double s = sp->mask.sparsity;
    if (sp->mask.scope == FROST_THRESHOLD_GLOBAL) mask_group(t, in, 0, t->nm, s);
    else
        for (int k = 0; k < t->nm; k++) mask_group(t, in, k, k + 1, s);
    for (int k = 0; k < t->nm; k++) {
        int64_t kept = 0;
        for (int64_t i = 0; i < in[k].n; i++) kept += t->keep[k][i];
        switch (sp->mask.scale) {
        case FROST_SCALE_NONE: t->c[k] = 1.0; break;
        case FROST_SCALE_STATIC: t->c[k] = 1.0 / sqrt(1.0 - s); break;
        case FROST_SCALE_DYNAMIC: t->c[k] = kept ? 1.0 / sqrt((double)kept / (double)in[k].n) : 1.0; break;
        }
    }
}

/* The model's mask and effective weights are the expected ones. */
static void assert_ticket(const frost_model *m, const ticket_ref *t, const char *what)
{
    int64_t nfree = frost_slt_num_free(m);
    uint8_t *bits = tu_alloc((size_t)(nfree + 7) / 8 + 1);
    cr_assert_eq(frost_slt_get_mask_bits(m, bits, (nfree + 7) / 8 + 1), nfree);
    int64_t b = 0;
    for (int k = 0; k < t->nm; k++) {
        frost_slt_matrix_info in;
        cr_assert_eq(frost_slt_matrix(m, k, &in), FROST_OK);
        int64_t kept = 0;
        for (int64_t i = 0; i < in.n; i++) {
            kept += t->keep[k][i];
            if (in.code[i] == 0) {
                bool got = (bits[b >> 3] >> (b & 7)) & 1u;
                b++;
                cr_assert_eq(got, (bool)t->keep[k][i],
                             "%s: matrix %d weight %lld (|S| %.9g) is %s, a full sort says %s", what, k, (long long)i,
                             (double)fabsf(in.score[i]), got ? "kept" : "masked", t->keep[k][i] ? "kept" : "masked");
            }
            const double want = t->keep[k][i] ? (double)in.base[i] * t->c[k] : 0.0;
            cr_assert(fabs((double)in.effective[i] - want) <= 1e-6 * fabs(want),
                      "%s: matrix %d weight %lld effective %.9g, expected base %.9g x mask %d x c %.9g", what, k,
                      (long long)i, (double)in.effective[i], (double)in.base[i], t->keep[k][i], t->c[k]);
        }
        cr_assert_eq(in.kept, kept, "%s: matrix %d reports %lld kept, expected %lld", what, k, (long long)in.kept,
                     (long long)kept);
        cr_assert(fabs((double)in.scale - t->c[k]) <= 1e-6 * t->c[k], "%s: matrix %d scale %.9g, expected %.9g", what,
                  k, (double)in.scale, t->c[k]);
    }
}

/* Writable scores of matrix k (the trainable parameter the info points at). */
static float *scores_of(frost_model *m, int k)
{
    frost_slt_matrix_info in;
    cr_assert_eq(frost_slt_matrix(m, k, &in), FROST_OK);
    frost_param *ps;
    int32_t np = frost_model_params(m, &ps);
    for (int32_t q = 0; q < np; q++)
        if (ps[q].value == in.score) return ps[q].value;
    cr_assert_fail("matrix %d has no score parameter", k);
    return NULL;
}

/* ---- selection ------------------------------------------------------------------ */

static frost_model_spec ticket_spec(frost_arch arch, int layers, double s, double p, double r)
{
    frost_model_spec sp = frost_model_spec_default();
    sp.arch = arch;
    sp.layers = layers;
    sp.in_dim = FF;
    sp.hidden = HH;
    sp.out_dim = CC;
    sp.bias = false;
    sp.dropout = 0;
    sp.norm = FROST_NORM_NONE;
    sp.gin_eps = 0.3f;
    sp.weights = FROST_WEIGHTS_SUPERMASK;
    sp.mask.sparsity = s;
    sp.mask.prune_ratio = p;
    sp.mask.lock_ratio = r;
    return sp;
}

/* Score patterns, value of weight i of matrix k (g: a running index over
 * all matrices). */
enum { PAT_INIT, PAT_EQUAL, PAT_FEW, PAT_SIGNS, PAT_UP, PAT_DOWN, PAT_ULPS, PAT_ZEROS, PAT_WIDE, N_PAT };
static const char *const pat_name[N_PAT] = {"initial",   "all equal",  "three values", "+-x pairs", "increasing",
                                            "decreasing", "ulps apart", "signed zeros", "1e-30 .. 1e30"};

static float pattern(int pat, int64_t g)
{
    const float sign = (g * 2654435761u) & 1024 ? -1.0f : 1.0f;
    switch (pat) {
    case PAT_EQUAL: return 0.25f;
    case PAT_FEW: return sign * 0.1f * (float)(1 + (g * 7) % 3);
    case PAT_SIGNS: return (g & 1 ? -1.0f : 1.0f) * 0.01f * (float)(g / 2);
    case PAT_UP: return 1e-3f * (float)(g + 1);
    case PAT_DOWN: return 1e3f - (float)g;
    case PAT_ULPS: { /* 1.0 and its neighbours a few ulps away, shuffled */
        float v = 1.0f;
        for (int64_t q = 0; q < (g * 37) % 11; q++) v = nextafterf(v, 2.0f);
        return sign * v;
    }
    case PAT_ZEROS: return g % 3 == 0 ? 0.0f : (g % 3 == 1 ? -0.0f : sign * 1e-3f * (float)(g % 7));
    case PAT_WIDE: {
        static const float v[] = {1e-30f, 1e30f, 1e-45f, 3.0f, 1e-38f, 7e20f};
        return sign * v[(g * 5) % 6];
    }
    }
    return 0.0f;
}

static void set_pattern(frost_model *m, int pat)
{
    if (pat == PAT_INIT) return;
    int64_t g = 0;
    for (int k = 0; k < frost_slt_num_matrices(m); k++) {
        frost_slt_matrix_info in;
        frost_slt_matrix(m, k, &in);
        float *sc = scores_of(m, k);
        for (int64_t i = 0; i < in.n; i++) sc[i] = pattern(pat, g++);
    }
    frost_model_after_step(m);
}

Test(supermask, kept_free_weights_are_the_top_abs_scores_of_a_full_sort, .init = fixture, .fini = fixture_fini)
{
    const struct {
        frost_arch arch;
        int layers;
        bool skip;
    } models[] = {{FROST_ARCH_GIN, 3, true}, {FROST_ARCH_SAGE, 2, false}, {FROST_ARCH_GIN_MLP, 2, false}};
    const double cases[][3] = {{0.5, 0.0, 0.0}, {0.5, 0.2, 0.2}, {0.7, 0.3, 0.1}, {0.3, 0.1, 0.5},
                               {0.9, 0.0, 0.1}, {0.2, 0.2, 0.0}, {0.8, 0.0, 0.2}};
    const frost_threshold_scope scopes[] = {FROST_THRESHOLD_GLOBAL, FROST_THRESHOLD_LAYER};
    const frost_mask_scale scales[] = {FROST_SCALE_NONE, FROST_SCALE_STATIC, FROST_SCALE_DYNAMIC};
    const frost_freeze_dist dists[] = {FROST_DIST_EPL, FROST_DIST_ERK, FROST_DIST_UNIFORM};
    int checked = 0;
    for (size_t a = 0; a < sizeof models / sizeof models[0]; a++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            for (int sc = 0; sc < 2; sc++) {
                frost_model_spec sp = ticket_spec(models[a].arch, models[a].layers, cases[c][0], cases[c][1],
                                                  cases[c][2]);
                sp.skip_head = models[a].skip;
                sp.mask.scope = scopes[sc];
                sp.mask.scale = scales[(a + c + (size_t)sc) % 3];
                sp.mask.distribution = dists[(a + c) % 3];
                frost_model *m;
                cr_assert_eq(frost_model_new(&m, &sp, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
                cr_assert_eq(frost_model_init(m, 7 + c), FROST_OK);
                for (int pat = 0; pat < N_PAT; pat++) {
                    set_pattern(m, pat);
                    char what[160];
                    snprintf(what, sizeof what, "%s, s %g p %g r %g, %s threshold, scores %s",
                             frost_arch_name(sp.arch), cases[c][0], cases[c][1], cases[c][2],
                             sc ? "per-layer" : "global", pat_name[pat]);
                    ticket_ref t;
                    ticket_expect(&t, m, &sp);
                    assert_ticket(m, &t, what);
                    checked++;
                }
                frost_model_free(&m);
            }
    cr_assert_eq(checked, 3 * 7 * 2 * N_PAT);
}

/* The global threshold is one over every matrix: when one matrix holds all
 * the largest scores, the others lose their free weights first. A per-matrix
 * threshold would keep (1 - s) of each. */
Test(supermask, global_threshold_spans_the_matrices, .init = fixture, .fini = fixture_fini)
{
    frost_model_spec sp = ticket_spec(FROST_ARCH_GIN, 2, 0.5, 0.0, 0.0);
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_init(m, 3), FROST_OK);
    frost_slt_matrix_info in0, in1;
    frost_slt_matrix(m, 0, &in0);
    frost_slt_matrix(m, 1, &in1);
    /* W0 (12 x 10) has 120 weights, W1 (10 x 3) 30: half of all 150 masked */
    cr_assert_eq(in0.n, FF * HH);
    cr_assert_eq(in1.n, HH * CC);
    float *s0 = scores_of(m, 0), *s1 = scores_of(m, 1);
    for (int64_t i = 0; i < in0.n; i++) s0[i] = 1.0f + (float)i;    /* all large */
    for (int64_t i = 0; i < in1.n; i++) s1[i] = -0.5f + 1e-3f * (float)i; /* all small */
    frost_model_after_step(m);
    frost_slt_matrix(m, 0, &in0);
    frost_slt_matrix(m, 1, &in1);
    cr_assert_eq(in1.kept, 0, "every weight of the small-score matrix is masked (kept %lld)", (long long)in1.kept);
    cr_assert_eq(in0.kept, 150 - 75, "the rest of the 75 masked come from the smallest of W0 (kept %lld)",
                 (long long)in0.kept);
    for (int64_t i = 0; i < in0.n; i++) cr_assert_eq(in0.effective[i] != 0.0f, i >= 45, "W0 weight %lld", (long long)i);
    frost_model_free(&m);
}

/* frost_slt_select against qsort of a copy. */
static int cmp_float(const void *pa, const void *pb)
{
    float x = *(const float *)pa, y = *(const float *)pb;
    return (x > y) - (x < y);
}

static void check_select(const float *in, int64_t n, const char *what)
{
    float *sorted = malloc((size_t)n * sizeof *sorted), *a = malloc((size_t)n * sizeof *a),
          *after = malloc((size_t)n * sizeof *after);
    memcpy(sorted, in, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_float);
    frost_rng r;
    frost_rng_init(&r, (uint64_t)n, 3);
    int64_t ks[8] = {0, n - 1, n / 2, n / 3, (2 * n) / 3, n > 1 ? 1 : 0, n > 1 ? n - 2 : 0,
                     (int64_t)frost_rng_next_below(&r, (uint64_t)n)};
    for (int q = 0; q < 8; q++) {
        const int64_t k = ks[q];
        memcpy(a, in, (size_t)n * sizeof *a);
        int64_t at = frost_slt_select(a, n, k);
        cr_assert(at >= 0 && at < n, "%s, n %lld, k %lld: index %lld", what, (long long)n, (long long)k, (long long)at);
        cr_assert(a[at] == sorted[k], "%s, n %lld, k %lld: selected %.9g, the sorted copy has %.9g", what,
                  (long long)n, (long long)k, (double)a[at], (double)sorted[k]);
        /* the keys were only reordered */
        memcpy(after, a, (size_t)n * sizeof *after);
        qsort(after, (size_t)n, sizeof *after, cmp_float);
        for (int64_t i = 0; i < n; i++)
            cr_assert(after[i] == sorted[i], "%s, n %lld, k %lld: the keys changed", what, (long long)n, (long long)k);
    }
    free(sorted);
    free(a);
    free(after);
}

Test(supermask, select_matches_a_full_sort)
{
    const int64_t sizes[] = {1, 2, 3, 5, 8, 17, 100, 1000, 4097};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        const int64_t n = sizes[z];
        float *v = malloc((size_t)n * sizeof *v);
        char what[64];
        for (int kind = 0; kind < 12; kind++) {
            for (int64_t i = 0; i < n; i++) {
                const float g = frost_rng_normal(11, (uint64_t)kind, (uint64_t)i);
                switch (kind) {
                case 0: v[i] = g; break;                                     /* random */
                case 1: v[i] = 0.5f; break;                                  /* all equal */
                case 2: v[i] = (float)i; break;                              /* sorted */
                case 3: v[i] = (float)(n - i); break;                        /* reversed */
                case 4: v[i] = (float)(i < n / 2 ? i : n - i); break;        /* organ pipe */
                case 5: v[i] = (float)(i % 3); break;                        /* three values */
                case 6: v[i] = i & 1 ? 1.0f : 2.0f; break;                   /* two values, alternating */
                case 7: v[i] = i % 5 == 0 ? (i % 10 ? INFINITY : -INFINITY) : g; break; /* +-inf keys */
                case 8: v[i] = i % 2 ? 0.0f : -0.0f; break;                  /* signed zeros */
                case 9: v[i] = fabsf(g) < 0.5f ? 0.0f : g; break;            /* many zeros */
                case 10: v[i] = (float)(i % 7) - 3.0f + (i % 2 ? 1e-7f : 0.0f); break; /* near ties */
                case 11: v[i] = (float)((i * 7919) % (n + 1)); break;        /* a permutation-like mix */
                }
            }
            snprintf(what, sizeof what, "input kind %d", kind);
            check_select(v, n, what);
        }
        free(v);
    }
}

/* ---- the double-precision reference ticket ------------------------------------- */

/* G (N,F) = (1 + eps) x + mean over in-neighbours, from the edge list. */
static void ref_gin_aggr(double *G, const double *x, int64_t F, double eps)
{
    for (int64_t i = 0; i < NN * F; i++) G[i] = (1.0 + eps) * x[i];
    for (int e = 0; e < n_edges; e++) {
        const int v = recv_[e], u = send_[e];
        for (int64_t f = 0; f < F; f++) G[v * F + f] += x[u * F + f] / (double)indeg[v];
    }
}

/* logits (N,C) of the 2-layer GIN (no bias, no norm, no dropout) with
 * effective weights W0 (F,H) and W1 (H,C); returns the mean cross-entropy
 * over the labelled nodes. */
static double ref_gin_loss(double *logits, const double *W0, const double *W1, double eps)
{
    double x[NN * FF], g0[NN * FF], h1[NN * HH], g1[NN * HH], z[NN * CC];
    for (int i = 0; i < NN * FF; i++) x[i] = (double)X[i];
    ref_gin_aggr(g0, x, FF, eps);
    for (int i = 0; i < NN; i++)
        for (int j = 0; j < HH; j++) {
            double s = 0;
            for (int f = 0; f < FF; f++) s += g0[i * FF + f] * W0[f * HH + j];
            h1[i * HH + j] = s > 0 ? s : 0;
        }
    ref_gin_aggr(g1, h1, HH, eps);
    double loss = 0;
    int cnt = 0;
    for (int i = 0; i < NN; i++) {
        for (int c = 0; c < CC; c++) {
            double s = 0;
            for (int j = 0; j < HH; j++) s += g1[i * HH + j] * W1[j * CC + c];
            z[i * CC + c] = s;
        }
        if (Y[i] < 0) continue;
        double mx = z[i * CC];
        for (int c = 1; c < CC; c++) mx = fmax(mx, z[i * CC + c]);
        double se = 0;
        for (int c = 0; c < CC; c++) se += exp(z[i * CC + c] - mx);
        loss += mx + log(se) - z[i * CC + Y[i]];
        cnt++;
    }
    if (logits) memcpy(logits, z, sizeof z);
    return loss / cnt;
}

/* Forward and backward of the model against the reference: logits, loss,
 * dL/dW~ (central differences) and the straight-through dL/dS. */
static void check_ticket_gradients(frost_model_spec sp, uint64_t seed, const char *what)
{
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, seed), FROST_OK);
    cr_assert_eq(frost_slt_num_matrices(m), 2);
    ticket_ref t;
    ticket_expect(&t, m, &sp);
    assert_ticket(m, &t, what);
    cr_assert(t.rows[0] == FF && t.cols[0] == HH && t.rows[1] == HH && t.cols[1] == CC);

    /* the effective weights, built here */
    frost_slt_matrix_info in[2];
    double *W[2];
    for (int k = 0; k < 2; k++) {
        frost_slt_matrix(m, k, &in[k]);
        W[k] = tu_alloc((size_t)in[k].n * sizeof(double));
        for (int64_t i = 0; i < in[k].n; i++) W[k][i] = t.keep[k][i] ? (double)in[k].base[i] * t.c[k] : 0.0;
    }
    /* an all-masked column of W0 would put the hidden ReLU exactly at its
     * kink, where a central difference is one-sided */
    for (int j = 0; j < HH; j++) {
        bool any = false;
        for (int f = 0; f < FF; f++) any |= W[0][f * HH + j] != 0.0;
        cr_assert(any, "%s: column %d of W0 is all masked; pick another seed", what, j);
    }
    const double eps = (double)sp.gin_eps;
    double zref[NN * CC];
    const double lref = ref_gin_loss(zref, W[0], W[1], eps);

    frost_model_forward(m, X, true, 1, 0);
    float z[NN * CC];
    memcpy(z, frost_model_logits(m), sizeof z);
    double d2 = 0, n2 = 0;
    for (int i = 0; i < NN * CC; i++) {
        d2 += ((double)z[i] - zref[i]) * ((double)z[i] - zref[i]);
        n2 += zref[i] * zref[i];
    }
    cr_assert(sqrt(d2) <= 1e-5 * sqrt(n2), "%s: logits differ from the reference by %.3g (norm %.3g)", what, sqrt(d2),
              sqrt(n2));
    frost_model_zero_grad(m);
    const double loss = frost_softmax_ce(frost_model_dlogits(m), z, Y, IDX, NN, CC);
    cr_assert(fabs(loss - lref) <= 1e-5 * fabs(lref), "%s: loss %.9g, reference %.9g", what, loss, lref);
    frost_model_backward(m, X, 1, 0);

    for (int k = 0; k < 2; k++) {
        const int64_t n = in[k].n;
        double *fd = tu_alloc((size_t)n * sizeof(double));
        double fd2 = 0;
        for (int64_t i = 0; i < n; i++) {
            const double v = W[k][i], h = 1e-6;
            W[k][i] = v + h;
            const double lp = ref_gin_loss(NULL, W[0], W[1], eps);
            W[k][i] = v - h;
            const double lm = ref_gin_loss(NULL, W[0], W[1], eps);
            W[k][i] = v;
            fd[i] = (lp - lm) / (2 * h);
            fd2 += fd[i] * fd[i];
        }
        const double rms = sqrt(fd2 / (double)n);
        cr_assert_gt(rms, 1e-4, "%s: matrix %d: the loss does not depend on its weights; the check would prove nothing",
                     what, k);
        /* dL/dW~: the model's gradient of its effective weights (masked
         * positions included: the straight-through rule needs them) */
        const float *dw = m->wmats[k].dw;
        for (int64_t i = 0; i < n; i++)
            cr_assert(fabs((double)dw[i] - fd[i]) <= 1e-3 * fabs(fd[i]) + 1e-4 * rms,
                      "%s: matrix %d weight %lld (%s): dL/dW~ %.7g, central difference %.7g", what, k, (long long)i,
                      t.keep[k][i] ? "kept" : "masked", (double)dw[i], fd[i]);
        /* dL/dS = sign(S) dL/dW~ W c, with W the fixed weight and c the
         * scale computed here */
        frost_param *ps;
        int32_t np = frost_model_params(m, &ps);
        const float *ds = NULL;
        for (int32_t q = 0; q < np; q++)
            if (ps[q].value == in[k].score) ds = ps[q].grad;
        cr_assert_not_null(ds);
        int64_t nonzero = 0;
        for (int64_t i = 0; i < n; i++) {
            const double sg = in[k].score[i] > 0 ? 1.0 : (in[k].score[i] < 0 ? -1.0 : 0.0);
            const double want = sg * fd[i] * (double)in[k].base[i] * t.c[k];
            const double scale = fabs((double)in[k].base[i]) * t.c[k];
            cr_assert(fabs((double)ds[i] - want) <= (1e-3 * fabs(fd[i]) + 1e-4 * rms) * scale,
                      "%s: matrix %d weight %lld (%s, code %d): dL/dS %.7g, sign(S) dL/dW~ W c = %.7g", what, k,
                      (long long)i, t.keep[k][i] ? "kept" : "masked", in[k].code[i], (double)ds[i], want);
            nonzero += ds[i] != 0.0f;
        }
        cr_assert_gt(nonzero, n / 2, "%s: matrix %d: most scores get a gradient", what, k);
    }
    frost_model_free(&m);
}

Test(supermask, gradients_match_a_double_reference_ticket, .init = fixture, .fini = fixture_fini)
{
    const struct {
        double s, p, r;
        frost_mask_scale scale;
        frost_threshold_scope scope;
        const char *what;
    } cases[] = {
        {0.5, 0.1, 0.2, FROST_SCALE_NONE, FROST_THRESHOLD_GLOBAL, "no scaling, global"},
        {0.6, 0.1, 0.1, FROST_SCALE_STATIC, FROST_THRESHOLD_GLOBAL, "static scaling, global"},
        {0.5, 0.0, 0.2, FROST_SCALE_DYNAMIC, FROST_THRESHOLD_GLOBAL, "dynamic scaling, global"},
        {0.4, 0.1, 0.1, FROST_SCALE_DYNAMIC, FROST_THRESHOLD_LAYER, "dynamic scaling, per layer"},
        {0.3, 0.0, 0.0, FROST_SCALE_STATIC, FROST_THRESHOLD_LAYER, "static scaling, per layer"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        frost_model_spec sp = ticket_spec(FROST_ARCH_GIN, 2, cases[c].s, cases[c].p, cases[c].r);
        sp.mask.scale = cases[c].scale;
        sp.mask.scope = cases[c].scope;
        check_ticket_gradients(sp, 21 + c, cases[c].what);
    }
}

/* Dynamic scaling gives every matrix its own c (the global threshold keeps
 * different shares of each): the case above is only a check of it if the
 * scales differ. */
Test(supermask, dynamic_scales_differ_between_matrices, .init = fixture, .fini = fixture_fini)
{
    frost_model_spec sp = ticket_spec(FROST_ARCH_GIN, 2, 0.5, 0.0, 0.2);
    sp.mask.scale = FROST_SCALE_DYNAMIC;
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_init(m, 23), FROST_OK);
    ticket_ref t;
    ticket_expect(&t, m, &sp);
    cr_assert(fabs(t.c[0] - t.c[1]) > 0.01, "c %g and %g", t.c[0], t.c[1]);
    cr_assert(t.c[0] > 1.0 && t.c[1] > 1.0);
    frost_model_free(&m);
}

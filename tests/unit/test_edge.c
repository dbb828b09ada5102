/*
 * test_edge.c - graph attention's kernels (src/layers/edge.c) against their
 * naive references in double (edge_ref.c): the per-row softmax, the SpMM
 * with per-entry values and its transpose, the fused backward of the two,
 * the transposed sums of per-entry values; with and without attention
 * dropout, several head counts and widths, on a directed graph (AT its own
 * CSR) with a hub, empty rows and a stored self-loop, and on a symmetric one
 * passed as its own transpose; with 1 and 2 threads (identical bits). Also:
 * the map from AT's entries to A's, its refusal of a graph that is not the
 * transpose, and the dropout mask's rate and scale.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "layers/edge_impl.h"
#include "testutil.h"

TestSuite(edge, .timeout = 120, .fini = tu_free_all);

typedef struct tg {
    int64_t n;
    frost_csr A, AT;
    const frost_csr *at; /* AT, or A when symmetric */
    int64_t *tperm;
} tg;

static void make(tg *g, int64_t n, int64_t m, bool sym, uint64_t seed)
{
    int32_t *s = tu_alloc((size_t)(m + 1) * 4), *d = tu_alloc((size_t)(m + 1) * 4);
    frost_rng r;
    frost_rng_init(&r, seed, 7);
    for (int64_t e = 0; e < m; e++) {
        s[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)n);
        d[e] = e % 6 == 0 ? 0 : (int32_t)frost_rng_next_below(&r, (uint64_t)(n - 3)); /* 0 a hub; empty rows */
    }
    s[m] = 5, d[m] = 5; /* a stored self-loop */
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = sym;
    g->n = n;
    cr_assert_eq(frost_csr_from_edges(&g->A, n, m + 1, s, d, &o, NULL), FROST_OK);
    if (sym) {
        g->at = &g->A;
    } else {
        cr_assert_eq(frost_csr_transpose(&g->AT, &g->A), FROST_OK);
        g->at = &g->AT;
    }
    g->tperm = tu_alloc((size_t)(g->A.nnz + n + 1) * 8);
    cr_assert_eq(frost__edge_tperm(&g->A, g->at, g->tperm, g->tperm + g->A.nnz), FROST_OK, "%s", frost_last_error());
}

static void release(tg *g)
{
    frost_csr_release(&g->A);
    frost_csr_release(&g->AT);
}

static float *rnd(int64_t n, uint64_t seed, float scale)
{
    float *x = tu_alloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = scale * frost_rng_normal(seed, 5, (uint64_t)i);
    return x;
}

static float *copy(const float *x, int64_t n)
{
    float *y = tu_alloc((size_t)(n > 0 ? n : 1) * sizeof *y);
    memcpy(y, x, (size_t)n * sizeof *y);
    return y;
}

static double reldiff(const float *a, const float *b, int64_t n)
{
    double d = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)a[i] - (double)b[i]) * ((double)a[i] - (double)b[i]);
        s += (double)b[i] * (double)b[i];
    }
    return sqrt(d) / fmax(sqrt(s), 1e-30);
}

#define TOL 1e-5

/* Every kernel on graph g with K heads of D, dropout p, on `threads`;
 * the fast results are returned in out (for the thread comparison). */
static void check(const tg *g, int64_t K, int64_t D, float p, const char *what, float **out)
{
    const frost_csr *A = &g->A;
    const int64_t n = g->n, E = A->nnz, W = K * D;
    const frost__edge_drop drop = {p, 41, 42};
    const float *s = rnd(n * K, 1, 1.5f), *t = rnd(n * K, 2, 1.5f), *X = rnd(n * W, 3, 1.0f), *dY = rnd(n * W, 4, 1.0f);
    /* softmax */
    float *al = tu_alloc((size_t)((E + n) * K + 1) * 4), *alr = tu_alloc((size_t)((E + n) * K + 1) * 4);
    frost__edge_softmax(A, s, t, K, 0.2f, al, al + E * K);
    frost__edge_softmax_ref(A, s, t, K, 0.2f, alr, alr + E * K);
    cr_assert_leq(reldiff(al, alr, (E + n) * K), TOL, "%s: softmax", what);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < K; k++) {
            double sum = (double)al[(E + i) * K + k];
            for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++) sum += (double)al[e * K + k];
            cr_assert_lt(fabs(sum - 1.0), 1e-5, "%s: row %lld head %lld sums to %g", what, (long long)i, (long long)k,
                         sum);
        }
    /* SpMM and its transpose */
    float *Y = tu_alloc((size_t)(n * W) * 4), *Yr = tu_alloc((size_t)(n * W) * 4);
    frost__spmm_edge(A, al, al + E * K, K, D, &drop, X, Y);
    frost__spmm_edge_ref(A, al, al + E * K, K, D, &drop, X, Yr);
    cr_assert_leq(reldiff(Y, Yr, n * W), TOL, "%s: spmm", what);
    float *Yt = tu_alloc((size_t)(n * W) * 4), *Ytr = tu_alloc((size_t)(n * W) * 4);
    frost__spmm_edge_t(A, g->at, g->tperm, al, al + E * K, K, D, &drop, dY, Yt);
    frost__spmm_edge_t_ref(A, al, al + E * K, K, D, &drop, dY, Ytr);
    cr_assert_leq(reldiff(Yt, Ytr, n * W), TOL, "%s: transposed spmm", what);
    /* <dY, spmm(v, X)> = <spmm_t(v, dY), X>: the two are each other's transpose */
    double l = 0, r = 0;
    for (int64_t q = 0; q < n * W; q++) l += (double)dY[q] * (double)Y[q], r += (double)Yt[q] * (double)X[q];
    cr_assert_lt(fabs(l - r), 1e-4 * (1 + fabs(l)), "%s: transposes %g vs %g", what, l, r);
    /* the fused backward */
    float *g1 = copy(al, (E + n) * K), *g2 = copy(al, (E + n) * K);
    float *dt = tu_alloc((size_t)(n * K) * 4), *dtr = tu_alloc((size_t)(n * K) * 4);
    frost__edge_softmax_backward(A, s, t, K, D, 0.2f, &drop, dY, X, g1, g1 + E * K, dt);
    frost__edge_softmax_backward_ref(A, s, t, K, D, 0.2f, &drop, dY, X, g2, g2 + E * K, dtr);
    cr_assert_leq(reldiff(g1, g2, (E + n) * K), 1e-4, "%s: softmax backward", what);
    cr_assert_leq(reldiff(dt, dtr, n * K), 1e-4, "%s: dt", what);
    /* column sums of per-entry values */
    float *cs = tu_alloc((size_t)(n * K) * 4), *csr = tu_alloc((size_t)(n * K) * 4);
    frost__edge_sum_t(A, g->at, g->tperm, g1, g1 + E * K, K, cs);
    frost__edge_sum_t_ref(A, g1, g1 + E * K, K, csr);
    cr_assert_leq(reldiff(cs, csr, n * K), 1e-5, "%s: transposed sums", what);
    out[0] = al, out[1] = Y, out[2] = Yt, out[3] = g1, out[4] = cs;
}

Test(edge, kernels_match_their_references)
{
    const struct {
        int64_t n, m;
        bool sym;
    } graphs[] = {{40, 200, false}, {40, 150, true}, {300, 3000, false}, {1500, 7200, false}}; /* hub of 1200 */
    const int64_t KD[][2] = {{1, 7}, {3, 5}, {8, 8}};
    for (size_t gi = 0; gi < sizeof graphs / sizeof graphs[0]; gi++) {
        tg g;
        make(&g, graphs[gi].n, graphs[gi].m, graphs[gi].sym, 10 + gi);
        for (int c = 0; c < 3; c++)
            for (int dr = 0; dr < 2; dr++) {
                char what[96];
                snprintf(what, sizeof what, "graph %zu (%s), K %lld, D %lld, dropout %d", gi,
                         graphs[gi].sym ? "symmetric" : "directed", (long long)KD[c][0], (long long)KD[c][1], dr);
                float *one[5], *two[5];
                frost_set_threads(1);
                check(&g, KD[c][0], KD[c][1], dr ? 0.5f : 0.0f, what, one);
                frost_set_threads(2);
                check(&g, KD[c][0], KD[c][1], dr ? 0.5f : 0.0f, what, two);
                frost_set_threads(1);
                const int64_t n = g.n, E = g.A.nnz, W = KD[c][0] * KD[c][1], K = KD[c][0];
                const int64_t len[5] = {(E + n) * K, n * W, n * W, (E + n) * K, n * K};
                for (int k = 0; k < 5; k++)
                    cr_assert(memcmp(one[k], two[k], (size_t)len[k] * 4) == 0, "%s: kernel %d differs on 2 threads",
                              what, k);
            }
        release(&g);
    }
}

Test(edge, transposed_entry_map)
{
    tg g;
    make(&g, 50, 300, false, 3);
    for (int64_t j = 0; j < g.n; j++)
        for (int64_t q = g.AT.indptr[j]; q < g.AT.indptr[j + 1]; q++) {
            const int64_t e = g.tperm[q], i = g.AT.indices[q];
            cr_assert(e >= g.A.indptr[i] && e < g.A.indptr[i + 1] && g.A.indices[e] == j);
        }
    /* A as its own transpose is refused: it is not symmetric */
    int64_t *tp = tu_alloc((size_t)(g.A.nnz + g.n) * 8);
    cr_assert_eq(frost__edge_tperm(&g.A, &g.A, tp, tp + g.A.nnz), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "transpose"), "%s", frost_last_error());
    release(&g);
}

Test(edge, dropout_mask_rate_and_scale)
{
    const frost__edge_drop d = {0.3f, 5, 6};
    int64_t kept = 0;
    const int64_t n = 200000;
    for (int64_t k = 0; k < n; k++) {
        const float m = frost__edge_drop_at(&d, k);
        cr_assert(m == 0.0f || fabsf(m - 1.0f / 0.7f) < 1e-6f);
        kept += m != 0.0f;
    }
    cr_assert_lt(fabs((double)kept / (double)n - 0.7), 0.005, "kept %g", (double)kept / (double)n);
    const frost__edge_drop none = {0.0f, 5, 6};
    cr_assert_eq(frost__edge_drop_at(&none, 17), 1.0f);
}

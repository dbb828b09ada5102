/*
 * test_layers.c - every layer's backward pass against central finite
 * differences of a double-precision reference forward: the float32 analytic
 * gradient must be within 1e-3 relative error (norm-wise per tensor).
 *
 * Objective: L = sum(R .* Y) for a fixed random R, so dL/dY = R. The graph is
 * small, directed (so A^T differs from A), with a self-loop, a hub and an
 * isolated node.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "frost/layers.h"
#include "core/core_impl.h"
#include "testutil.h"

TestSuite(layers, .timeout = 120, .fini = tu_free_all);

#define TOL 1e-3
#define MAXP 8

enum { N = 7, F = 5, H = 4, K = 6 };

typedef struct gc {
    int np;
    double *p[MAXP];
    int64_t n[MAXP];
    float *g[MAXP];
    const char *name[MAXP];
} gc;

static double *drnd(int64_t n, uint64_t seed)
{
    double *x = tu_alloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = (double)frost_rng_normal(seed, 77, (uint64_t)i);
    return x;
}

static float *tof(const double *x, int64_t n)
{
    float *y = tu_alloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) y[i] = (float)x[i];
    return y;
}

static float *fzeros(int64_t n) { return tu_alloc((size_t)n * sizeof(float)); }

static void add_param(gc *c, const char *name, double *p, int64_t n, float *g)
{
    c->name[c->np] = name;
    c->p[c->np] = p;
    c->n[c->np] = n;
    c->g[c->np] = g;
    c->np++;
}

/* Compare each analytic gradient with central differences of obj. */
static void fd_check(gc *c, double (*obj)(void *), void *ctx, const char *what)
{
    const double h = 1e-6;
    for (int k = 0; k < c->np; k++) {
        double num2 = 0, diff2 = 0;
        for (int64_t e = 0; e < c->n[k]; e++) {
            double v = c->p[k][e];
            c->p[k][e] = v + h;
            double lp = obj(ctx);
            c->p[k][e] = v - h;
            double lm = obj(ctx);
            c->p[k][e] = v;
            double num = (lp - lm) / (2 * h);
            num2 += num * num;
            diff2 += (num - (double)c->g[k][e]) * (num - (double)c->g[k][e]);
        }
        double rel = sqrt(diff2) / fmax(sqrt(num2), 1e-12);
        cr_assert_leq(rel, TOL, "%s: d%s relative error %.3g (|grad| %.3g)", what, c->name[k], rel, sqrt(num2));
        cr_assert_gt(num2, 0.0, "%s: d%s is identically zero, the check would prove nothing", what, c->name[k]);
    }
}

/* ---- the test graph and double references -------------------------------- */

static frost_csr A, AT;
static float invdeg[N], selfw[N];

static void graph_init(void)
{
    /* directed; node 6 has no in-edges in rows (isolated as a row), 2 is a hub, 3 has a self-loop */
    int32_t s[] = {0, 1, 2, 2, 2, 3, 4, 5, 2, 3}, d[] = {1, 2, 0, 3, 4, 3, 2, 2, 5, 0};
    cr_assert_eq(frost_csr_from_edges(&A, N, 10, s, d, NULL, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&AT, &A), FROST_OK);
}

static void graph_fini(void)
{
    frost_csr_release(&A);
    frost_csr_release(&AT);
}

/* Y = diag(a) A diag(b) X + diag(c) X in double */
static void ref_aggr(double *Y, const frost_aggr *op, const double *X, int64_t cols)
{
    for (int64_t i = 0; i < N; i++) {
        for (int64_t f = 0; f < cols; f++) {
            double s = 0;
            for (int64_t k = op->A->indptr[i]; k < op->A->indptr[i + 1]; k++) {
                int32_t j = op->A->indices[k];
                s += (op->b ? (double)op->b[j] : 1.0) * X[j * cols + f];
            }
            Y[i * cols + f] = (op->a ? (double)op->a[i] : 1.0) * s + (op->c ? (double)op->c[i] : 0.0) * X[i * cols + f];
        }
    }
}

static void ref_matmul(double *Y, const double *X, const double *W, const double *b, int64_t n, int64_t f, int64_t h,
                       bool acc)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < h; o++) {
            double s = b ? b[o] : 0.0;
            for (int64_t k = 0; k < f; k++) s += X[i * f + k] * W[k * h + o];
            Y[i * h + o] = acc ? Y[i * h + o] + s : s;
        }
}

static double dot(const double *R, const double *Y, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += R[i] * Y[i];
    return s;
}

/* ---- linear --------------------------------------------------------------- */

typedef struct lin_ctx {
    double *X, *W, *b, *R;
} lin_ctx;

static double lin_obj(void *p)
{
    lin_ctx *c = p;
    double Y[N * H];
    ref_matmul(Y, c->X, c->W, c->b, N, F, H, false);
    return dot(c->R, Y, N * H);
}

Test(layers, linear)
{
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        lin_ctx c = {drnd(N * F, 1), drnd(F * H, 2), with_bias ? drnd(H, 3) : NULL, drnd(N * H, 4)};
        float *X = tof(c.X, N * F), *W = tof(c.W, F * H), *b = with_bias ? tof(c.b, H) : NULL, *R = tof(c.R, N * H);
        float Y[N * H];
        frost_linear_forward(Y, X, W, b, N, F, H);
        double Yr[N * H];
        ref_matmul(Yr, c.X, c.W, c.b, N, F, H, false);
        for (int i = 0; i < N * H; i++) cr_assert_lt(fabs((double)Y[i] - Yr[i]), 1e-5);
        float *dX = fzeros(N * F), *dW = fzeros(F * H), *db = fzeros(H);
        frost_linear_backward(dX, dW, with_bias ? db : NULL, R, X, W, N, F, H);
        gc g = {0};
        add_param(&g, "X", c.X, N * F, dX);
        add_param(&g, "W", c.W, F * H, dW);
        if (with_bias) add_param(&g, "b", c.b, H, db);
        fd_check(&g, lin_obj, &c, with_bias ? "linear+bias" : "linear");
    }
}

/* ---- GCN ------------------------------------------------------------------- */

typedef struct conv_ctx {
    double *X, *W, *W2, *b, *b2, *R;
    int64_t f, h, k;
    frost_aggr op;
} conv_ctx;

static double gcn_obj(void *p)
{
    conv_ctx *c = p;
    double T[N * 8], Y[N * 8];
    ref_aggr(T, &c->op, c->X, c->f);
    ref_matmul(Y, T, c->W, c->b, N, c->f, c->h, false);
    return dot(c->R, Y, N * c->h);
}

Test(layers, gcn_both_product_orders_and_normalisations, .init = graph_init, .fini = graph_fini)
{
    const int64_t dims[][2] = {{5, 3}, {3, 5}}; /* H <= F: XW first; H > F: aggregate first */
    static float v0[N], v1[N];
    for (int norm = 0; norm < 4; norm++)
        for (int t = 0; t < 2; t++) {
            conv_ctx c = {0};
            c.f = dims[t][0];
            c.h = dims[t][1];
            frost_aggr_gcn_norm(&c.op, &A, &AT, v0, v1, (frost_gcn_norm)norm);
            c.X = drnd(N * c.f, 10);
            c.W = drnd(c.f * c.h, 11);
            c.b = drnd(c.h, 12);
            c.R = drnd(N * c.h, 13);
            float *X = tof(c.X, N * c.f), *W = tof(c.W, c.f * c.h), *b = tof(c.b, c.h), *R = tof(c.R, N * c.h);
            float Y[N * 8], T[N * 8], work[N * 8];
            frost_gcn_forward(Y, T, &c.op, X, W, b, N, c.f, c.h);
            float *dX = fzeros(N * c.f), *dW = fzeros(c.f * c.h), *db = fzeros(c.h);
            frost_gcn_backward(dX, dW, db, work, R, T, &c.op, X, W, N, c.f, c.h);
            gc g = {0};
            add_param(&g, "X", c.X, N * c.f, dX);
            add_param(&g, "W", c.W, c.f * c.h, dW);
            add_param(&g, "b", c.b, c.h, db);
            char what[64];
            snprintf(what, sizeof what, "gcn norm %d (%s)", norm, t == 0 ? "XW first" : "aggregate first");
            fd_check(&g, gcn_obj, &c, what);
        }
    /* by hand on node 2: its row of A (what it aggregates) is 0, 3, 4, 5; it
     * appears in the rows of 1, 4 and 5 (its row of A^T) */
    frost_aggr op;
    frost_aggr_gcn_norm(&op, &A, &AT, v0, v1, FROST_GCN_NORM_RIGHT);
    cr_assert_float_eq(op.a[2], 0.2f, 1e-7); /* 1 / (4 + 1) */
    cr_assert_float_eq(op.c[2], 0.2f, 1e-7);
    frost_aggr_gcn_norm(&op, &A, &AT, v0, v1, FROST_GCN_NORM_LEFT);
    cr_assert_float_eq(op.b[2], 0.25f, 1e-7); /* 1 / (3 + 1) */
    frost_aggr_gcn(&op, &A, &AT, v0, v1);
    cr_assert_float_eq(op.a[2], (float)(1 / sqrt(5.0)), 1e-7);
}

/* ---- GraphSAGE ------------------------------------------------------------- */

static double sage_obj(void *p)
{
    conv_ctx *c = p;
    double M[N * F], Y[N * H];
    ref_aggr(M, &c->op, c->X, F);
    ref_matmul(Y, M, c->W, c->b, N, F, H, false);
    ref_matmul(Y, c->X, c->W2, NULL, N, F, H, true);
    return dot(c->R, Y, N * H);
}

Test(layers, sage, .init = graph_init, .fini = graph_fini)
{
    conv_ctx c = {0};
    frost_aggr_mean(&c.op, &A, &AT, invdeg, NULL, 0.0f);
    c.X = drnd(N * F, 20);
    c.W = drnd(F * H, 21);
    c.W2 = drnd(F * H, 22);
    c.b = drnd(H, 23);
    c.R = drnd(N * H, 24);
    float *X = tof(c.X, N * F), *Wn = tof(c.W, F * H), *Wr = tof(c.W2, F * H), *b = tof(c.b, H);
    float *R = tof(c.R, N * H);
    float Y[N * H], M[N * F], work[N * F];
    frost_sage_forward(Y, M, &c.op, X, Wn, Wr, b, N, F, H);
    float *dX = fzeros(N * F), *dWn = fzeros(F * H), *dWr = fzeros(F * H), *db = fzeros(H);
    frost_sage_backward(dX, dWn, dWr, db, work, R, M, &c.op, X, Wn, Wr, N, F, H);
    gc g = {0};
    add_param(&g, "X", c.X, N * F, dX);
    add_param(&g, "Wn", c.W, F * H, dWn);
    add_param(&g, "Wr", c.W2, F * H, dWr);
    add_param(&g, "b", c.b, H, db);
    fd_check(&g, sage_obj, &c, "sage");
}

/* ---- GIN (paper form) and GIN (classic MLP form) ------------------------- */

static double gin_obj(void *p)
{
    conv_ctx *c = p;
    double G[N * F], Y[N * H];
    ref_aggr(G, &c->op, c->X, F);
    ref_matmul(Y, G, c->W, c->b, N, F, H, false);
    return dot(c->R, Y, N * H);
}

Test(layers, gin_mean_form, .init = graph_init, .fini = graph_fini)
{
    const float eps[] = {0.0f, 0.3f};
    for (int t = 0; t < 2; t++) {
        conv_ctx c = {0};
        frost_aggr_mean(&c.op, &A, &AT, invdeg, selfw, 1.0f + eps[t]);
        c.X = drnd(N * F, 30);
        c.W = drnd(F * H, 31);
        c.b = t ? drnd(H, 32) : NULL;
        c.R = drnd(N * H, 33);
        float *X = tof(c.X, N * F), *W = tof(c.W, F * H), *b = t ? tof(c.b, H) : NULL, *R = tof(c.R, N * H);
        float Y[N * H], G[N * F], work[N * F];
        frost_gin_forward(Y, G, &c.op, X, W, b, N, F, H);
        float *dX = fzeros(N * F), *dW = fzeros(F * H), *db = fzeros(H);
        frost_gin_backward(dX, dW, t ? db : NULL, work, R, G, &c.op, X, W, N, F, H);
        gc g = {0};
        add_param(&g, "X", c.X, N * F, dX);
        add_param(&g, "W", c.W, F * H, dW);
        if (t) add_param(&g, "b", c.b, H, db);
        fd_check(&g, gin_obj, &c, t ? "gin eps=0.3 + bias" : "gin eps=0");
    }
}

static double gin_mlp_obj(void *p)
{
    conv_ctx *c = p;
    double G[N * F], Z[N * K], Y[N * H];
    ref_aggr(G, &c->op, c->X, F);
    ref_matmul(Z, G, c->W, c->b, N, F, K, false);
    for (int i = 0; i < N * K; i++) Z[i] = Z[i] > 0 ? Z[i] : 0;
    ref_matmul(Y, Z, c->W2, c->b2, N, K, H, false);
    return dot(c->R, Y, N * H);
}

Test(layers, gin_mlp_form, .init = graph_init, .fini = graph_fini)
{
    conv_ctx c = {0};
    frost_aggr_sum(&c.op, &A, &AT, selfw, 1.1f);
    c.X = drnd(N * F, 40);
    c.W = drnd(F * K, 41);
    c.b = drnd(K, 42);
    c.W2 = drnd(K * H, 43);
    c.b2 = drnd(H, 44);
    c.R = drnd(N * H, 45);
    float *X = tof(c.X, N * F), *W1 = tof(c.W, F * K), *b1 = tof(c.b, K), *W2 = tof(c.W2, K * H);
    float *b2 = tof(c.b2, H), *R = tof(c.R, N * H);
    float Y[N * H], G[N * F], Z[N * K], w1[N * K], w2[N * F];
    frost_gin_mlp_forward(Y, G, Z, &c.op, X, W1, b1, W2, b2, N, F, K, H);
    float *dX = fzeros(N * F), *dW1 = fzeros(F * K), *db1 = fzeros(K), *dW2 = fzeros(K * H), *db2 = fzeros(H);
    frost_gin_mlp_backward(dX, dW1, db1, dW2, db2, w1, w2, R, G, Z, &c.op, X, W1, W2, N, F, K, H);
    gc g = {0};
    add_param(&g, "X", c.X, N * F, dX);
    add_param(&g, "W1", c.W, F * K, dW1);
    add_param(&g, "b1", c.b, K, db1);
    add_param(&g, "W2", c.W2, K * H, dW2);
    add_param(&g, "b2", c.b2, H, db2);
    fd_check(&g, gin_mlp_obj, &c, "gin mlp");
}

/* ---- BatchNorm1d ---------------------------------------------------------- */

typedef struct bn_ctx {
    double *X, *gamma, *beta, *R;
} bn_ctx;

static void ref_bn(double *Y, const bn_ctx *c)
{
    for (int h = 0; h < H; h++) {
        double mu = 0, var = 0;
        for (int i = 0; i < N; i++) mu += c->X[i * H + h];
        mu /= N;
        for (int i = 0; i < N; i++) var += (c->X[i * H + h] - mu) * (c->X[i * H + h] - mu);
        var /= N;
        for (int i = 0; i < N; i++) {
            double xh = (c->X[i * H + h] - mu) / sqrt(var + 1e-5);
            Y[i * H + h] = c->gamma ? c->gamma[h] * xh + c->beta[h] : xh;
        }
    }
}

static double bn_obj(void *p)
{
    bn_ctx *c = p;
    double Y[N * H];
    ref_bn(Y, c);
    return dot(c->R, Y, N * H);
}

Test(layers, batchnorm_train_affine_and_not)
{
    for (int affine = 0; affine < 2; affine++) {
        bn_ctx c = {drnd(N * H, 50), affine ? drnd(H, 51) : NULL, affine ? drnd(H, 52) : NULL, drnd(N * H, 53)};
        for (int i = 0; i < N * H; i++) c.X[i] = 3.0 * c.X[i] + 1.5; /* non-trivial mean and scale */
        float *X = tof(c.X, N * H), *R = tof(c.R, N * H);
        float *gm = affine ? tof(c.gamma, H) : NULL, *bt = affine ? tof(c.beta, H) : NULL;
        float Y[N * H], mean[H], invstd[H], rm[H] = {0}, rv[H] = {1, 1, 1, 1};
        double work[2 * H];
        frost_batchnorm_forward_train(Y, mean, invstd, rm, rv, X, gm, bt, N, H, 0.1f, 1e-5f);
        double Yr[N * H];
        ref_bn(Yr, &c);
        for (int i = 0; i < N * H; i++) cr_assert_lt(fabs((double)Y[i] - Yr[i]), 1e-4);
        /* running statistics: 0.9 * old + 0.1 * batch (unbiased variance) */
        for (int h = 0; h < H; h++) {
            double mu = 0, v = 0;
            for (int i = 0; i < N; i++) mu += c.X[i * H + h];
            mu /= N;
            for (int i = 0; i < N; i++) v += (c.X[i * H + h] - mu) * (c.X[i * H + h] - mu);
            cr_assert_lt(fabs((double)rm[h] - 0.1 * mu), 1e-5);
            cr_assert_lt(fabs((double)rv[h] - (0.9 + 0.1 * v / (N - 1))), 1e-4);
        }
        float *dX = fzeros(N * H), *dg = fzeros(H), *dbt = fzeros(H);
        frost_batchnorm_backward(dX, affine ? dg : NULL, affine ? dbt : NULL, work, R, X, mean, invstd, gm, N, H);
        gc g = {0};
        add_param(&g, "X", c.X, N * H, dX);
        if (affine) {
            add_param(&g, "gamma", c.gamma, H, dg);
            add_param(&g, "beta", c.beta, H, dbt);
        }
        fd_check(&g, bn_obj, &c, affine ? "batchnorm affine" : "batchnorm non-affine");
        /* eval mode uses the running statistics */
        float Ye[N * H];
        frost_batchnorm_forward_eval(Ye, X, rm, rv, gm, bt, N, H, 1e-5f);
        for (int i = 0; i < N; i++)
            for (int h = 0; h < H; h++) {
                double v = ((double)X[i * H + h] - (double)rm[h]) / sqrt((double)rv[h] + 1e-5);
                if (affine) v = v * (double)gm[h] + (double)bt[h];
                cr_assert_lt(fabs((double)Ye[i * H + h] - v), 1e-4);
            }
    }
}

/* ---- ReLU and dropout -------------------------------------------------------- */

Test(layers, relu_rule)
{
    float X[] = {-1.0f, 0.0f, 2.0f, -3.0f, 5.0f}, Y[5], dY[] = {1, 2, 3, 4, 5}, dX[5];
    frost_relu_forward(Y, X, 5);
    frost_relu_backward(dX, dY, Y, 5);
    float want[] = {0, 0, 3, 0, 5};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(Y[i], X[i] > 0 ? X[i] : 0.0f);
        cr_assert_eq(dX[i], want[i]);
    }
}

typedef struct drop_ctx {
    double *X, *R;
    const float *mask; /* scale or 0 per element */
    int64_t n;
} drop_ctx;

static double drop_obj(void *p)
{
    drop_ctx *c = p;
    double s = 0;
    for (int64_t i = 0; i < c->n; i++) s += c->R[i] * c->X[i] * (double)c->mask[i];
    return s;
}

Test(layers, dropout_mask_rate_and_gradient)
{
    const int64_t n = 100000;
    float *ones = tu_alloc(n * 4), *mask = tu_alloc(n * 4);
    for (int64_t i = 0; i < n; i++) ones[i] = 1.0f;
    frost_dropout_forward(mask, ones, n, 0.3f, 5, 6);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        cr_assert(mask[i] == 0.0f || fabsf(mask[i] - 1.0f / 0.7f) < 1e-6f);
        kept += mask[i] != 0.0f;
    }
    cr_assert(fabs((double)kept / n - 0.7) < 0.01, "kept fraction %g", (double)kept / n);
    /* a different stream gives a different mask; p = 0 is the identity */
    float *m2 = tu_alloc(n * 4);
    frost_dropout_forward(m2, ones, n, 0.3f, 5, 7);
    cr_assert(memcmp(mask, m2, n * 4) != 0);
    frost_dropout_forward(m2, ones, n, 0.0f, 5, 7);
    cr_assert(memcmp(ones, m2, n * 4) == 0);
    /* gradient through a fixed mask */
    drop_ctx c = {drnd(64, 60), drnd(64, 61), mask, 64};
    float *X = tof(c.X, 64), *R = tof(c.R, 64), Y[64], dX[64];
    frost_dropout_forward(Y, X, 64, 0.3f, 5, 6);
    for (int i = 0; i < 64; i++) cr_assert_eq(Y[i], X[i] * mask[i]);
    frost_dropout_backward(dX, R, 64, 0.3f, 5, 6);
    gc g = {0};
    add_param(&g, "X", c.X, 64, dX);
    fd_check(&g, drop_obj, &c, "dropout");
}

/* ---- the fused post block against the separate layers
 * ------------------------ */

static double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

/* Widths cover the vector path (multiples of 64), chunks straddling rows and
 * a width above one column block; every norm, with and without dropout. */
static void fused_post_cases(void);

/* Every code path this CPU runs (generic C, AVX2, AVX-512). */
Test(layers, fused_post_block_matches_composition)
{
    const int fastest = frost__isa(-1);
    const int isas[] = {FROST__ISA_GENERIC, FROST__ISA_AVX2, FROST__ISA_AVX512};
    for (int k = 0; k < 3; k++)
        if (frost__isa(isas[k]) == isas[k]) fused_post_cases();
    frost__isa(fastest);
}

/* The hand-vectorised paths perform the generic path's float operations in
 * the same order: identical h, bits and gradients on every path this CPU
 * runs (generic, AVX2, AVX-512), compared with the generic one. */
Test(layers, fused_post_block_paths_identical)
{
    const int fastest = frost__isa(-1);
    const int isas[] = {FROST__ISA_GENERIC, FROST__ISA_AVX2, FROST__ISA_AVX512};
    const int64_t n = 301, hs[] = {64, 100, 256, 7};
    for (int hi = 0; hi < 4; hi++) {
        const int64_t h = hs[hi], e = n * h;
        float *z = tof(drnd(e, 40), e), *dh = tof(drnd(e, 41), e), *gm = tof(drnd(h, 42), h), *bt = tof(drnd(h, 43), h);
        float *y[3], *yr[3], *dz[3], *dg[3];
        uint64_t *bits[3];
        double *work = tu_alloc((size_t)(4 * h) * sizeof(double));
        float *mean = fzeros(h), *invstd = fzeros(h);
        for (int k = 0; k < 3; k++) {
            y[k] = fzeros(e), yr[k] = fzeros(e), dz[k] = fzeros(e), dg[k] = fzeros(h);
            bits[k] = tu_alloc((size_t)((e + 63) / 64 + 1) * 8);
            if (frost__isa(isas[k]) != isas[k]) continue; /* CPU lacks it */
            frost_post pb = {.batchnorm = true,
                             .gamma = gm,
                             .beta = bt,
                             .mean = mean,
                             .invstd = invstd,
                             .eps = 1e-5f,
                             .dropout = 0.3f,
                             .seed = 5,
                             .stream = 6,
                             .work = work,
                             .bits = bits[k]};
            frost_post_forward(&pb, y[k], z, n, h, true);
            frost_post_recompute(&pb, yr[k], z, n, h);
            frost_post_backward(&pb, dz[k], dg[k], NULL, dh, NULL, z, n, h);
            if (k == 0) continue;
            cr_assert(memcmp(y[0], y[k], (size_t)e * 4) == 0, "forward h=%lld path %d", (long long)h, isas[k]);
            cr_assert(memcmp(yr[0], yr[k], (size_t)e * 4) == 0, "recompute h=%lld path %d", (long long)h, isas[k]);
            cr_assert(memcmp(bits[0], bits[k], (size_t)((e + 63) / 64) * 8) == 0, "bits h=%lld path %d",
                      (long long)h, isas[k]);
            cr_assert(memcmp(dz[0], dz[k], (size_t)e * 4) == 0, "backward h=%lld path %d", (long long)h, isas[k]);
            cr_assert(memcmp(dg[0], dg[k], (size_t)h * 4) == 0, "dgamma h=%lld path %d", (long long)h, isas[k]);
        }
    }
    frost__isa(fastest);
}

static void fused_post_cases(void)
{
    const int64_t Ns[] = {300, 37}, Hs[] = {7, 64, 100, 256, 300};
    for (int ni = 0; ni < 2; ni++)
        for (int hi = 0; hi < 5; hi++)
            for (int norm = 0; norm < 3; norm++)
                for (int dr = 0; dr < 2; dr++) {
                    const int64_t n = Ns[ni], h = Hs[hi], e = n * h;
                    const float p = dr ? 0.4f : 0.0f;
                    float *z = tof(drnd(e, 70 + (uint64_t)hi), e), *dh = tof(drnd(e, 80 + (uint64_t)hi), e);
                    for (int64_t i = 0; i < e; i++) z[i] = 2.0f * z[i] + 0.3f;
                    float *gm = norm == 1 ? tof(drnd(h, 90), h) : NULL, *bt = norm == 1 ? tof(drnd(h, 91), h) : NULL;
                    /* reference: the separate layers */
                    float *y = fzeros(e), *mean = fzeros(h), *invstd = fzeros(h), *rm = fzeros(h), *rv = fzeros(h);
                    float *dz = fzeros(e), *dg = fzeros(h), *db = fzeros(h);
                    double *work = tu_alloc((size_t)(4 * h) * sizeof(double));
                    for (int64_t c = 0; c < h; c++) rv[c] = 1.0f;
                    if (norm) {
                        frost_batchnorm_forward_train(y, mean, invstd, rm, rv, z, gm, bt, n, h, 0.1f, 1e-5f);
                        frost_relu_forward(y, y, e);
                    } else {
                        frost_relu_forward(y, z, e);
                    }
                    frost_dropout_forward(y, y, e, p, 11, 12);
                    frost_dropout_backward(dz, dh, e, p, 11, 12);
                    frost_relu_backward(dz, dz, y, e);
                    if (norm)
                        frost_batchnorm_backward(dz, gm ? dg : NULL, gm ? db : NULL, work, dz, z, mean, invstd, gm, n,
                                                 h);
                    /* fused, with 1 and 2 threads */
                    float *y2[2], *dz2[2], *dg2 = fzeros(h), *db2 = fzeros(h), *rm2 = fzeros(h), *rv2 = fzeros(h);
                    float *mean2 = fzeros(h), *invstd2 = fzeros(h);
                    for (int64_t c = 0; c < h; c++) rv2[c] = 1.0f;
                    for (int t = 0; t < 2; t++) {
                        frost_set_threads(t + 1);
                        y2[t] = fzeros(e), dz2[t] = fzeros(e);
                        frost_post pb = {.batchnorm = norm != 0,
                                         .gamma = gm,
                                         .beta = bt,
                                         .mean = mean2,
                                         .invstd = invstd2,
                                         .run_mean = t ? NULL : rm2,
                                         .run_var = t ? NULL : rv2,
                                         .momentum = 0.1f,
                                         .eps = 1e-5f,
                                         .dropout = p,
                                         .seed = 11,
                                         .stream = 12,
                                         .work = work};
                        frost_post_forward(&pb, y2[t], z, n, h, true);
                        frost_post_backward(&pb, dz2[t], t ? NULL : dg2, t ? NULL : db2, dh, y2[t], z, n, h);
                    }
                    frost_set_threads(1);
                    const char *what = norm == 0 ? "none" : norm == 1 ? "affine" : "non-affine";
                    /* a bit mask instead of h: the recomputed h is the forward's bit for bit, and
                     * backward gives the same dz */
                    {
                        uint64_t *bits = tu_alloc((size_t)((e + 63) / 64 + 1) * 8);
                        float *y3 = fzeros(e), *y4 = fzeros(e), *dz3 = fzeros(e);
                        frost_post pk = {.batchnorm = norm != 0,
                                         .gamma = gm,
                                         .beta = bt,
                                         .mean = mean2,
                                         .invstd = invstd2,
                                         .eps = 1e-5f,
                                         .dropout = p,
                                         .seed = 11,
                                         .stream = 12,
                                         .work = work,
                                         .bits = bits};
                        frost_post_forward(&pk, y3, z, n, h, true);
                        cr_assert(memcmp(y3, y2[0], (size_t)e * 4) == 0, "forward with bits %s", what);
                        frost_post_recompute(&pk, y4, z, n, h);
                        cr_assert(memcmp(y3, y4, (size_t)e * 4) == 0, "recompute %s h=%lld p=%g", what, (long long)h,
                                  (double)p);
                        frost_post_backward(&pk, dz3, NULL, NULL, dh, NULL, z, n, h);
                        cr_assert(memcmp(dz3, dz2[0], (size_t)e * 4) == 0, "backward with bits %s", what);
                    }
                    cr_assert(memcmp(y2[0], y2[1], (size_t)e * 4) == 0, "forward 1 vs 2 threads %s", what);
                    cr_assert(memcmp(dz2[0], dz2[1], (size_t)e * 4) == 0, "backward 1 vs 2 threads %s", what);
                    cr_assert_lt(max_abs_diff(y, y2[0], e), 2e-5, "forward n=%lld h=%lld %s p=%g", (long long)n,
                                 (long long)h, what, (double)p);
                    cr_assert_lt(max_abs_diff(dz, dz2[0], e), 2e-5, "backward n=%lld h=%lld %s p=%g", (long long)n,
                                 (long long)h, what, (double)p);
                    if (norm) {
                        cr_assert_lt(max_abs_diff(rm, rm2, h), 1e-6);
                        cr_assert_lt(max_abs_diff(rv, rv2, h), 1e-6);
                        cr_assert_lt(max_abs_diff(mean, mean2, h), 1e-6);
                    }
                    if (gm) {
                        cr_assert_lt(max_abs_diff(dg, dg2, h), 1e-4 * (double)n);
                        cr_assert_lt(max_abs_diff(db, db2, h), 1e-4 * (double)n);
                    }
                    /* eval mode: running statistics, no dropout */
                    frost_post pe = {.batchnorm = norm != 0,
                                     .gamma = gm,
                                     .beta = bt,
                                     .run_mean = rm,
                                     .run_var = rv,
                                     .eps = 1e-5f,
                                     .dropout = p,
                                     .work = work};
                    frost_post_forward(&pe, y2[0], z, n, h, false);
                    if (norm) frost_batchnorm_forward_eval(y, z, rm, rv, gm, bt, n, h, 1e-5f);
                    frost_relu_forward(y, norm ? y : z, e);
                    cr_assert_lt(max_abs_diff(y, y2[0], e), 2e-5, "eval n=%lld h=%lld %s", (long long)n, (long long)h,
                                 what);
                }
}

/* ---- GAT: the reference backward against finite differences ----------------- */

typedef struct gat_ctx {
    double *X, *W, *as, *ad, *b, *R;
    int64_t K, D;
    bool concat;
} gat_ctx;

/* Y in double, straight from the definition (frost/layers.h) */
static double gat_obj(void *p)
{
    gat_ctx *c = p;
    const int64_t Kh = c->K, D = c->D, KD = Kh * D, Hh = c->concat ? KD : D;
    double T[N * 16], s[N * 4], t[N * 4], Y[N * 16];
    ref_matmul(T, c->X, c->W, NULL, N, F, KD, false);
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < Kh; k++) {
            s[i * Kh + k] = t[i * Kh + k] = 0;
            for (int64_t q = 0; q < D; q++) {
                s[i * Kh + k] += T[i * KD + k * D + q] * c->as[q * Kh + k];
                t[i * Kh + k] += T[i * KD + k * D + q] * c->ad[q * Kh + k];
            }
        }
    for (int64_t i = 0; i < N * Hh; i++) Y[i] = 0;
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < Kh; k++) {
            /* the row's sources, then i itself */
            int64_t src[N + 1], m = 0;
            for (int64_t e = A.indptr[i]; e < A.indptr[i + 1]; e++) src[m++] = A.indices[e];
            src[m++] = i;
            double l[N + 1], mx = -1e300, sum = 0;
            for (int64_t q = 0; q < m; q++) {
                double x = s[src[q] * Kh + k] + t[i * Kh + k];
                l[q] = x > 0 ? x : 0.2 * x;
                mx = fmax(mx, l[q]);
            }
            for (int64_t q = 0; q < m; q++) sum += exp(l[q] - mx);
            for (int64_t q = 0; q < m; q++) {
                const double a = exp(l[q] - mx) / sum;
                for (int64_t d = 0; d < D; d++) {
                    const double v = a * T[src[q] * KD + k * D + d];
                    if (c->concat) Y[i * Hh + k * D + d] += v;
                    else Y[i * Hh + d] += v / (double)Kh;
                }
            }
        }
    for (int64_t i = 0; i < N; i++)
        for (int64_t d = 0; d < Hh; d++) Y[i * Hh + d] += c->b[d];
    return dot(c->R, Y, N * Hh);
}

Test(layers, gat_heads_concatenated_and_averaged, .init = graph_init, .fini = graph_fini)
{
    const struct {
        int64_t K, D;
        bool concat;
    } cases[] = {{2, 3, true}, {3, 4, false}, {1, 5, false}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        gat_ctx c = {0};
        c.K = cases[t].K, c.D = cases[t].D, c.concat = cases[t].concat;
        const int64_t KD = c.K * c.D, Hh = c.concat ? KD : c.D;
        c.X = drnd(N * F, 60);
        c.W = drnd(F * KD, 61);
        c.as = drnd(c.D * c.K, 62);
        c.ad = drnd(c.D * c.K, 63);
        c.b = drnd(Hh, 64);
        c.R = drnd(N * Hh, 65);
        float *X = tof(c.X, N * F), *W = tof(c.W, F * KD), *as = tof(c.as, c.D * c.K), *ad = tof(c.ad, c.D * c.K);
        float *b = tof(c.b, Hh), *R = tof(c.R, N * Hh), *Y = fzeros(N * Hh);
        cr_assert_eq(frost_gat_forward(Y, &A, X, W, as, ad, b, N, F, c.K, c.D, c.concat), FROST_OK);
        double Yd = gat_obj(&c), Ys = 0;
        for (int64_t i = 0; i < N * Hh; i++) Ys += (double)R[i] * (double)Y[i];
        cr_assert_lt(fabs(Yd - Ys), 1e-4 * (1 + fabs(Yd)), "gat forward %g vs %g", Ys, Yd);
        float *dX = fzeros(N * F), *dW = fzeros(F * KD), *das = fzeros(c.D * c.K), *dad = fzeros(c.D * c.K);
        float *db = fzeros(Hh);
        cr_assert_eq(frost_gat_backward(dX, dW, das, dad, db, R, &A, X, W, as, ad, N, F, c.K, c.D, c.concat), FROST_OK);
        gc g = {0};
        add_param(&g, "X", c.X, N * F, dX);
        add_param(&g, "W", c.W, F * KD, dW);
        add_param(&g, "att_src", c.as, c.D * c.K, das);
        add_param(&g, "att_dst", c.ad, c.D * c.K, dad);
        add_param(&g, "b", c.b, Hh, db);
        fd_check(&g, gat_obj, &c, c.concat ? "gat concat" : "gat mean");
    }
}

/* ---- the post block with ELU against the separate layers ---------------------- */

Test(layers, elu_post_block_matches_composition)
{
    const int64_t Ns[] = {300, 37}, Hs[] = {7, 64};
    for (int ni = 0; ni < 2; ni++)
        for (int hi = 0; hi < 2; hi++)
            for (int norm = 0; norm < 3; norm++)
                for (int dr = 0; dr < 2; dr++) {
                    const int64_t n = Ns[ni], h = Hs[hi], e = n * h;
                    const float p = dr ? 0.4f : 0.0f;
                    float *z = tof(drnd(e, 170 + (uint64_t)hi), e), *dh = tof(drnd(e, 180 + (uint64_t)hi), e);
                    float *gm = norm == 1 ? tof(drnd(h, 190), h) : NULL, *bt = norm == 1 ? tof(drnd(h, 191), h) : NULL;
                    /* reference: batch norm, ELU, dropout */
                    float *y = fzeros(e), *u = fzeros(e), *mean = fzeros(h), *invstd = fzeros(h), *rm = fzeros(h),
                          *rv = fzeros(h), *dz = fzeros(e), *dg = fzeros(h), *db = fzeros(h);
                    double *work = tu_alloc((size_t)(4 * h) * sizeof(double));
                    for (int64_t c = 0; c < h; c++) rv[c] = 1.0f;
                    if (norm) frost_batchnorm_forward_train(u, mean, invstd, rm, rv, z, gm, bt, n, h, 0.1f, 1e-5f);
                    else memcpy(u, z, (size_t)e * 4);
                    for (int64_t i = 0; i < e; i++) y[i] = u[i] > 0 ? u[i] : expm1f(u[i]);
                    frost_dropout_forward(y, y, e, p, 11, 12);
                    frost_dropout_backward(dz, dh, e, p, 11, 12);
                    for (int64_t i = 0; i < e; i++) dz[i] *= u[i] > 0 ? 1.0f : expf(u[i]);
                    if (norm)
                        frost_batchnorm_backward(dz, gm ? dg : NULL, gm ? db : NULL, work, dz, z, mean, invstd, gm, n,
                                                 h);
                    const char *what = norm == 0 ? "none" : norm == 1 ? "affine" : "non-affine";
                    float *y2[2], *dz2[2], *yr = fzeros(e), *dz3 = fzeros(e), *dg2 = fzeros(h), *db2 = fzeros(h);
                    float *mean2 = fzeros(h), *invstd2 = fzeros(h), *rm2 = fzeros(h), *rv2 = fzeros(h);
                    for (int64_t c = 0; c < h; c++) rv2[c] = 1.0f;
                    uint64_t *bits = tu_alloc((size_t)((e + 63) / 64 + 1) * 8);
                    for (int t = 0; t < 2; t++) {
                        frost_set_threads(t + 1);
                        y2[t] = fzeros(e), dz2[t] = fzeros(e);
                        frost_post pb = {.batchnorm = norm != 0, .gamma = gm, .beta = bt, .mean = mean2,
                                         .invstd = invstd2, .run_mean = t ? NULL : rm2, .run_var = t ? NULL : rv2,
                                         .momentum = 0.1f, .eps = 1e-5f, .dropout = p, .seed = 11, .stream = 12,
                                         .work = work, .bits = t ? NULL : bits, .act = FROST_ACT_ELU};
                        frost_post_forward(&pb, y2[t], z, n, h, true);
                        frost_post_backward(&pb, dz2[t], t ? NULL : dg2, t ? NULL : db2, dh, NULL, z, n, h);
                        if (!t) {
                            frost_post_recompute(&pb, yr, z, n, h);
                            pb.bits = NULL; /* the mask drawn again */
                            frost_post_backward(&pb, dz3, NULL, NULL, dh, NULL, z, n, h);
                        }
                    }
                    frost_set_threads(1);
                    cr_assert(memcmp(y2[0], y2[1], (size_t)e * 4) == 0, "elu forward 1 vs 2 threads %s", what);
                    cr_assert(memcmp(dz2[0], dz2[1], (size_t)e * 4) == 0, "elu backward 1 vs 2 threads %s", what);
                    cr_assert(memcmp(yr, y2[0], (size_t)e * 4) == 0, "elu recompute from bits %s", what);
                    cr_assert(memcmp(dz3, dz2[0], (size_t)e * 4) == 0, "elu backward, mask drawn again %s", what);
                    cr_assert_lt(max_abs_diff(y, y2[0], e), 2e-5, "elu forward n=%lld h=%lld %s p=%g", (long long)n,
                                 (long long)h, what, (double)p);
                    cr_assert_lt(max_abs_diff(dz, dz2[0], e), 2e-5, "elu backward n=%lld h=%lld %s p=%g",
                                 (long long)n, (long long)h, what, (double)p);
                    if (gm) {
                        cr_assert_lt(max_abs_diff(dg, dg2, h), 1e-4 * (double)n);
                        cr_assert_lt(max_abs_diff(db, db2, h), 1e-4 * (double)n);
                    }
                    /* eval mode: running statistics, no dropout */
                    frost_post pe = {.batchnorm = norm != 0, .gamma = gm, .beta = bt, .run_mean = rm2,
                                     .run_var = rv2, .eps = 1e-5f, .dropout = p, .work = work, .act = FROST_ACT_ELU};
                    frost_post_forward(&pe, y2[0], z, n, h, false);
                    if (norm) frost_batchnorm_forward_eval(u, z, rm2, rv2, gm, bt, n, h, 1e-5f);
                    for (int64_t i = 0; i < e; i++) {
                        const float x = norm ? u[i] : z[i];
                        y[i] = x > 0 ? x : expm1f(x);
                    }
                    cr_assert_lt(max_abs_diff(y, y2[0], e), 2e-5, "elu eval %s", what);
                }
}

/* ---- losses ----------------------------------------------------------------- */

typedef struct loss_ctx {
    double *Z;
    int32_t *y;
    int64_t *idx;
    int64_t nidx, C;
    bool bce;
} loss_ctx;

static double loss_obj(void *p)
{
    loss_ctx *c = p;
    double L = 0;
    int64_t cnt = 0;
    for (int64_t k = 0; k < c->nidx; k++) {
        int64_t i = c->idx[k];
        if (c->bce) {
            for (int64_t t = 0; t < c->C; t++) {
                int32_t y = c->y[i * c->C + t];
                if (y < 0) continue;
                double z = c->Z[i * c->C + t], s = 1 / (1 + exp(-z));
                L += -(y ? log(s) : log(1 - s));
                cnt++;
            }
        } else {
            int32_t y = c->y[i];
            if (y < 0) continue;
            double se = 0;
            for (int64_t j = 0; j < c->C; j++) se += exp(c->Z[i * c->C + j]);
            L += log(se) - c->Z[i * c->C + y];
            cnt++;
        }
    }
    return L / (double)cnt;
}

Test(layers, softmax_cross_entropy)
{
    /* by hand: logits (0, ln 3) for label 1: p = 3/4, loss = -ln(3/4) */
    float z[] = {0.0f, logf(3.0f)}, dz[2];
    int32_t y1[] = {1};
    int64_t i0[] = {0};
    double l = frost_softmax_ce(dz, z, y1, i0, 1, 2);
    cr_assert_float_eq(l, -log(0.75), 1e-6);
    cr_assert_float_eq(dz[0], 0.25f, 1e-6);
    cr_assert_float_eq(dz[1], -0.25f, 1e-6);

    int32_t y[N] = {0, 2, 1, -1, 2, 0, 1};
    int64_t idx[] = {1, 3, 4, 6, 0};
    loss_ctx c = {drnd(N * 3, 70), y, idx, 5, 3, false};
    float *Z = tof(c.Z, N * 3), *dZ = fzeros(N * 3);
    double lf = frost_softmax_ce(dZ, Z, y, idx, 5, 3);
    cr_assert_lt(fabs(lf - loss_obj(&c)), 1e-6);
    gc g = {0};
    add_param(&g, "Z", c.Z, N * 3, dZ);
    fd_check(&g, loss_obj, &c, "softmax cross-entropy");
}

Test(layers, bce_with_logits_masked)
{
    int32_t y[N * 2] = {0, 1, 1, -1, -1, -1, 1, 0, 0, 0, 1, 1, -1, 0};
    int64_t idx[] = {0, 2, 3, 4, 6};
    loss_ctx c = {drnd(N * 2, 80), y, idx, 5, 2, true};
    float *Z = tof(c.Z, N * 2), *dZ = fzeros(N * 2);
    double lf = frost_bce_logits(dZ, Z, y, idx, 5, 2);
    cr_assert_lt(fabs(lf - loss_obj(&c)), 1e-6);
    cr_assert_eq(dZ[3], 0.0f, "a missing label has no gradient");
    gc g = {0};
    add_param(&g, "Z", c.Z, N * 2, dZ);
    fd_check(&g, loss_obj, &c, "bce with logits");
    /* by hand: z = 0, y = 1: log 2 */
    float z0 = 0.0f;
    int32_t one = 1;
    int64_t i0 = 0;
    cr_assert_float_eq(frost_bce_logits(NULL, &z0, &one, &i0, 1, 1), log(2.0), 1e-9);
}

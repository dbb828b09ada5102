/*
 * test_init.c - what a model starts from, against values computed here:
 *
 *  - the layer-wise distributions of slt.md section 3 (EPL: the same number
 *    of survivors per layer, full layers capped and the rest shared again,
 *    floored; ERK: density proportional to (rows + cols) / (rows cols),
 *    capped at 1; uniform: the same density everywhere), each computed here
 *    by its own water-filling over sorted layers, and the pruned and locked
 *    counts of every matrix of a model: n_p = floor(n P_l) with P_l the layer
 *    sparsity at density 1 - p, n_r = floor(n (F_l - P_l)) with F_l the one
 *    at density 1 - p - r;
 *  - the initial values of every scheme (Glorot, torch's Linear, Kaiming
 *    uniform and normal, signed constant, and the per-architecture default),
 *    for trained weights, supermask weights and scores, and the biases:
 *    bounds, moments and signs against fan_in = rows and fan_out = cols of
 *    non-square matrices (64 x 256 and 256 x 32), so that swapping the two
 *    fails by a factor of 2 to 8 in the variance.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(init, .timeout = 120);

/* ---- layer-wise distributions, computed here ------------------------------------- */

enum { MAXL = 32 };

/* Layer indices ordered by key ascending (insertion sort: a few layers). */
static void order_by(int *ord, const double *key, int n)
{
    for (int l = 0; l < n; l++) ord[l] = l;
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && key[ord[b]] < key[ord[b - 1]]; b--) {
            int t = ord[b];
            ord[b] = ord[b - 1];
            ord[b - 1] = t;
        }
}

/* Survivors per layer (not floored, except EPL whose counts are) for an
 * overall density d: survivors_l = min(n_l, x w_l) with x chosen so that
 * they add up to d N. EPL: w_l = 1; ERK: w_l = rows + cols (density
 * x (rows + cols) / (rows cols)). Layers fill up in the order of n_l / w_l. */
static void survivors_ref(double *surv, const int64_t *n, const int64_t *rows, const int64_t *cols, int L, double d,
                          frost_freeze_dist dist)
{
    double N = 0;
    for (int l = 0; l < L; l++) N += (double)n[l];
    if (dist == FROST_DIST_UNIFORM) {
        for (int l = 0; l < L; l++) surv[l] = d * (double)n[l];
        return;
    }
    double w[MAXL], ratio[MAXL];
    for (int l = 0; l < L; l++) {
        w[l] = dist == FROST_DIST_EPL ? 1.0 : (double)(rows[l] + cols[l]);
        ratio[l] = (double)n[l] / w[l];
    }
    int ord[MAXL];
    order_by(ord, ratio, L);
    double budget = d * N, wsum = 0;
    for (int l = 0; l < L; l++) wsum += w[l];
    bool full[MAXL] = {false};
    /* the layer that fills up first is the one with the smallest n / w */
    for (int q = 0; q < L; q++) {
        const int l = ord[q];
        if (budget / wsum * w[l] < (double)n[l]) break;
        full[l] = true;
        budget -= (double)n[l];
        wsum -= w[l];
    }
    for (int l = 0; l < L; l++) surv[l] = full[l] ? (double)n[l] : budget / wsum * w[l];
    if (dist == FROST_DIST_EPL)
        for (int l = 0; l < L; l++) surv[l] = floor(surv[l] + 1e-9);
}

static int64_t floor_count(double x) { return (int64_t)floor(x + 1e-9 * fmax(x, 1.0)); }

/* Pruned and locked counts of slt.md section 3. */
static void frozen_ref(int64_t *np, int64_t *nr, const int64_t *n, const int64_t *rows, const int64_t *cols, int L,
                       double p, double r, frost_freeze_dist dist)
{
    double sP[MAXL], sF[MAXL];
    survivors_ref(sP, n, rows, cols, L, 1.0 - p, dist);
    survivors_ref(sF, n, rows, cols, L, 1.0 - (p + r), dist);
    for (int l = 0; l < L; l++) {
        const double P = 1.0 - sP[l] / (double)n[l], F = 1.0 - sF[l] / (double)n[l];
        np[l] = p > 0 ? floor_count((double)n[l] * P) : 0;
        nr[l] = r > 0 ? floor_count((double)n[l] * (F - P)) : 0;
    }
}

static const char *dist_name(frost_freeze_dist d)
{
    return d == FROST_DIST_EPL ? "EPL" : d == FROST_DIST_ERK ? "ERK" : "uniform";
}

Test(init, layer_survivors_match_the_water_filling)
{
    /* the paper's GIN, and random layer shapes */
    int64_t rows[MAXL] = {128, 386, 386, 386, 386}, cols[MAXL] = {386, 386, 386, 40, 40}, n[MAXL];
    frost_rng r;
    frost_rng_init(&r, 4, 4);
    const frost_freeze_dist dists[] = {FROST_DIST_EPL, FROST_DIST_ERK, FROST_DIST_UNIFORM};
    const double dens[] = {0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 0.999};
    int capped_seen[3] = {0, 0, 0};
    for (int shape = 0; shape < 12; shape++) {
        int L = 5;
        if (shape > 0) {
            L = 2 + (int)frost_rng_next_below(&r, 9);
            for (int l = 0; l < L; l++) {
                rows[l] = 1 + (int64_t)frost_rng_next_below(&r, shape % 2 ? 600 : 40);
                cols[l] = 1 + (int64_t)frost_rng_next_below(&r, shape % 3 ? 600 : 8);
            }
        }
        for (int l = 0; l < L; l++) n[l] = rows[l] * cols[l];
        for (size_t di = 0; di < 3; di++)
            for (size_t k = 0; k < sizeof dens / sizeof dens[0]; k++) {
                double want[MAXL];
                int64_t keep[MAXL];
                survivors_ref(want, n, rows, cols, L, dens[k], dists[di]);
                frost_slt_layer_survivors(keep, n, rows, cols, L, dens[k], dists[di]);
                int64_t total = 0, N = 0;
                for (int l = 0; l < L; l++) {
                    cr_assert_eq(keep[l], floor_count(want[l]),
                                 "%s, shape %d, density %g, layer %d (%lld x %lld): %lld survivors, expected %.3f",
                                 dist_name(dists[di]), shape, dens[k], l, (long long)rows[l], (long long)cols[l],
                                 (long long)keep[l], want[l]);
                    capped_seen[di] += keep[l] == n[l];
                    total += keep[l];
                    N += n[l];
                }
                /* what flooring loses: less than one weight per layer */
                cr_assert(total <= (int64_t)ceil(dens[k] * (double)N) && total > dens[k] * (double)N - L,
                          "%s: %lld survivors of %lld at density %g", dist_name(dists[di]), (long long)total,
                          (long long)N, dens[k]);
            }
    }
    /* the capping branch was taken (EPL and ERK have full layers here) */
    cr_assert_gt(capped_seen[0], 0);
    cr_assert_gt(capped_seen[1], 0);
}

/* A model's freeze codes: per matrix, the counts of slt.md section 3. */
Test(init, model_freeze_counts_follow_the_distribution)
{
    const struct {
        frost_arch arch;
        int layers;
        bool skip;
        int64_t in, hidden, out;
    } models[] = {
        {FROST_ARCH_GIN, 3, true, 40, 24, 7},  /* 960, 576, 168 and the head's 168 weights */
        {FROST_ARCH_SAGE, 2, false, 50, 12, 3}, /* two matrices per layer */
        {FROST_ARCH_MLP, 3, false, 9, 64, 5},   /* a small first layer that EPL fills up */
    };
    const double pr[][2] = {{0.0, 0.2}, {0.1, 0.1}, {0.25, 0.25}, {0.35, 0.35}, {0.8, 0.0}, {0.05, 0.6}, {0.3, 0.0}};
    const frost_freeze_dist dists[] = {FROST_DIST_EPL, FROST_DIST_ERK, FROST_DIST_UNIFORM};
    for (size_t a = 0; a < sizeof models / sizeof models[0]; a++)
        for (size_t di = 0; di < 3; di++)
            for (size_t q = 0; q < sizeof pr / sizeof pr[0]; q++) {
                frost_model_spec sp = frost_model_spec_default();
                sp.arch = models[a].arch;
                sp.layers = models[a].layers;
                sp.skip_head = models[a].skip;
                sp.in_dim = models[a].in;
                sp.hidden = models[a].hidden;
                sp.out_dim = models[a].out;
                sp.bias = false;
                sp.weights = FROST_WEIGHTS_SUPERMASK;
                sp.mask.prune_ratio = pr[q][0];
                sp.mask.lock_ratio = pr[q][1];
                sp.mask.sparsity = pr[q][0] + 0.5 * (1.0 - pr[q][0] - pr[q][1]);
                sp.mask.distribution = dists[di];
                frost_model *m;
                cr_assert_eq(frost_model_new(&m, &sp, NULL, NULL, 4), FROST_OK, "%s", frost_last_error());
                cr_assert_eq(frost_model_init(m, 5 + q), FROST_OK);
                const int L = frost_slt_num_matrices(m);
                int64_t n[MAXL], rows[MAXL], cols[MAXL], np[MAXL], nr[MAXL];
                frost_slt_matrix_info in[MAXL];
                for (int l = 0; l < L; l++) {
                    frost_slt_matrix(m, l, &in[l]);
                    n[l] = in[l].n, rows[l] = in[l].rows, cols[l] = in[l].cols;
                }
                frozen_ref(np, nr, n, rows, cols, L, pr[q][0], pr[q][1], dists[di]);
                for (int l = 0; l < L; l++) {
                    int64_t cp = 0, cl = 0;
                    for (int64_t i = 0; i < n[l]; i++) cp += in[l].code[i] < 0, cl += in[l].code[i] > 0;
                    cr_assert(cp == np[l] && cl == nr[l],
                              "%s %s, p %g r %g, matrix %d (%lld x %lld): %lld pruned and %lld locked, slt.md section 3 "
                              "gives %lld and %lld",
                              frost_arch_name(sp.arch), dist_name(dists[di]), pr[q][0], pr[q][1], l,
                              (long long)rows[l], (long long)cols[l], (long long)cp, (long long)cl, (long long)np[l],
                              (long long)nr[l]);
                    cr_assert(in[l].pruned == cp && in[l].locked == cl);
                }
                frost_model_free(&m);
            }
}

/* ---- initial values -------------------------------------------------------------- */

typedef struct moments {
    int64_t n;
    double mean, var, kurt, maxabs;
    double frac_pos, frac_2sd; /* share > 0; share beyond 2 standard deviations of the expected law */
} moments;

static moments moments_of(const float *v, int64_t n, double sd)
{
    moments m = {.n = n};
    double s = 0, s2 = 0, s4 = 0;
    int64_t pos = 0, out2 = 0;
    for (int64_t i = 0; i < n; i++) s += (double)v[i];
    m.mean = s / (double)n;
    for (int64_t i = 0; i < n; i++) {
        const double d = (double)v[i] - m.mean;
        s2 += d * d;
        s4 += d * d * d * d;
        m.maxabs = fmax(m.maxabs, fabs((double)v[i]));
        pos += v[i] > 0;
        out2 += fabs((double)v[i]) > 2 * sd;
    }
    m.var = s2 / (double)n;
    m.kurt = s4 / (double)n / (m.var * m.var);
    m.frac_pos = (double)pos / (double)n;
    m.frac_2sd = (double)out2 / (double)n;
    return m;
}

/* The law of a scheme for a (fan_in, fan_out) matrix: uniform bound, normal
 * standard deviation or the constant's magnitude. */
static double expected_scale(frost_init how, double fan_in, double fan_out)
{
    switch (how) {
    case FROST_INIT_GLOROT: return sqrt(6.0 / (fan_in + fan_out));
    case FROST_INIT_DEFAULT:
    case FROST_INIT_TORCH_LINEAR: return 1.0 / sqrt(fan_in);
    case FROST_INIT_KAIMING_UNIFORM: return sqrt(6.0 / fan_in);
    case FROST_INIT_KAIMING_NORMAL: return sqrt(2.0 / fan_in);
    case FROST_INIT_SIGNED_CONSTANT: return sqrt(2.0 / fan_in);
    }
    return NAN;
}

static const char *init_name(frost_init how)
{
    static const char *const names[] = {"default", "glorot", "torch", "kaiming_uniform", "kaiming_normal",
                                        "signed_constant"};
    return names[how];
}

/* Values v (n) of a (rows, cols) matrix drawn from scheme `how`. The
 * tolerances are five standard errors or more of each statistic; a swapped
 * fan changes the variance by the fan ratio (4 or 8 here). */
static void check_law(const float *v, int64_t rows, int64_t cols, frost_init how, const char *what)
{
    const int64_t n = rows * cols;
    const double b = expected_scale(how, (double)rows, (double)cols);
    char ctx[200];
    snprintf(ctx, sizeof ctx, "%s: %s init of a %lld x %lld matrix (fan_in %lld, fan_out %lld)", what, init_name(how),
             (long long)rows, (long long)cols, (long long)rows, (long long)cols);
    if (how == FROST_INIT_SIGNED_CONSTANT) {
        for (int64_t i = 0; i < n; i++)
            cr_assert_eq(fabsf(v[i]), (float)b, "%s: |w[%lld]| = %.9g, expected sqrt(2 / fan_in) = %.9g", ctx,
                         (long long)i, (double)fabsf(v[i]), b);
        moments m = moments_of(v, n, b);
        cr_assert(fabs(m.frac_pos - 0.5) < 5 * 0.5 / sqrt((double)n), "%s: %.4f of the signs positive", ctx,
                  m.frac_pos);
        return;
    }
    const bool normal = how == FROST_INIT_KAIMING_NORMAL;
    const double var = normal ? b * b : b * b / 3.0;
    moments m = moments_of(v, n, sqrt(var));
    cr_assert(fabs(m.mean) < 5 * sqrt(var / (double)n), "%s: mean %.3g (sd %.3g)", ctx, m.mean, sqrt(var));
    /* the variance estimate's relative standard error: sqrt((kurtosis - 1) / n) */
    const double se = sqrt((normal ? 2.0 : 0.8) / (double)n);
    cr_assert(fabs(m.var / var - 1.0) < 6 * se, "%s: variance %.5g, expected %.5g (ratio %.4f)", ctx, m.var, var,
              m.var / var);
    if (normal) {
        cr_assert(fabs(m.kurt - 3.0) < 6 * sqrt(24.0 / (double)n), "%s: kurtosis %.3f, a normal law has 3", ctx, m.kurt);
        cr_assert(fabs(m.frac_2sd - 0.0455) < 6 * sqrt(0.0455 * 0.9545 / (double)n),
                  "%s: %.4f beyond 2 standard deviations, a normal law has 0.0455", ctx, m.frac_2sd);
        cr_assert_gt(m.maxabs, 3.0 * b, "%s: largest |w| %.4g", ctx, m.maxabs);
    } else {
        cr_assert(fabs(m.kurt - 1.8) < 6 * sqrt(0.23 / (double)n) + 0.02, "%s: kurtosis %.3f, a uniform law has 1.8", ctx,
                  m.kurt);
        cr_assert_leq(m.maxabs, b * (1 + 1e-6), "%s: |w| reaches %.6g, beyond the bound %.6g", ctx, m.maxabs, b);
        cr_assert_geq(m.maxabs, 0.99 * b, "%s: |w| only reaches %.6g of the bound %.6g", ctx, m.maxabs, b);
    }
}

/* 64 -> 256 -> 256 -> 32: fan_in < fan_out, square, fan_in > fan_out */
static frost_model_spec mlp3(void)
{
    frost_model_spec sp = frost_model_spec_default();
    sp.arch = FROST_ARCH_MLP;
    sp.layers = 3;
    sp.in_dim = 64;
    sp.hidden = 256;
    sp.out_dim = 32;
    return sp;
}

static const float *param(frost_model *m, const char *name, int64_t *n)
{
    frost_param *ps;
    int32_t np = frost_model_params(m, &ps);
    for (int32_t k = 0; k < np; k++)
        if (strcmp(ps[k].name, name) == 0) {
            *n = ps[k].n;
            return ps[k].value;
        }
    cr_assert_fail("no parameter %s", name);
    return NULL;
}

Test(init, trained_weights_follow_their_scheme_against_fan_in_and_fan_out)
{
    const int64_t shape[3][2] = {{64, 256}, {256, 256}, {256, 32}};
    for (int how = FROST_INIT_DEFAULT; how <= FROST_INIT_SIGNED_CONSTANT; how++) {
        frost_model_spec sp = mlp3();
        sp.weight_init = (frost_init)how;
        frost_model *m;
        cr_assert_eq(frost_model_new(&m, &sp, NULL, NULL, 4), FROST_OK);
        cr_assert_eq(frost_model_init(m, 3), FROST_OK);
        for (int l = 0; l < 3; l++) {
            char name[32];
            int64_t n;
            snprintf(name, sizeof name, "layer%d.weight", l);
            const float *w = param(m, name, &n);
            cr_assert_eq(n, shape[l][0] * shape[l][1]);
            /* an MLP's default is torch's Linear */
            check_law(w, shape[l][0], shape[l][1], how == FROST_INIT_DEFAULT ? FROST_INIT_TORCH_LINEAR : (frost_init)how,
                      "trained MLP");
            /* biases: U(+-1/sqrt(fan_in)) whatever the weights' scheme */
            snprintf(name, sizeof name, "layer%d.bias", l);
            const float *bias = param(m, name, &n);
            cr_assert_eq(n, shape[l][1]);
            const double bb = 1.0 / sqrt((double)shape[l][0]);
            double mx = 0;
            for (int64_t j = 0; j < n; j++) mx = fmax(mx, fabs((double)bias[j]));
            cr_assert(mx <= bb * (1 + 1e-6) && mx >= 0.85 * bb, "layer %d bias reaches %.5g, bound 1/sqrt(fan_in) = %.5g",
                      l, mx, bb);
        }
        frost_model_free(&m);
    }
}

Test(init, gcn_default_is_glorot_with_zero_biases)
{
    frost_model_spec sp = mlp3();
    sp.arch = FROST_ARCH_GCN;
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, NULL, NULL, 4), FROST_OK);
    cr_assert_eq(frost_model_init(m, 8), FROST_OK);
    const int64_t shape[3][2] = {{64, 256}, {256, 256}, {256, 32}};
    for (int l = 0; l < 3; l++) {
        char name[32];
        int64_t n;
        snprintf(name, sizeof name, "layer%d.weight", l);
        check_law(param(m, name, &n), shape[l][0], shape[l][1], FROST_INIT_GLOROT, "GCN default");
        snprintf(name, sizeof name, "layer%d.bias", l);
        const float *b = param(m, name, &n);
        for (int64_t j = 0; j < n; j++) cr_assert_eq(b[j], 0.0f, "GCN layer %d bias %lld", l, (long long)j);
    }
    frost_model_free(&m);
}

Test(init, supermask_weights_and_scores_follow_their_schemes)
{
    const frost_init schemes[][2] = {
        {FROST_INIT_KAIMING_UNIFORM, FROST_INIT_KAIMING_NORMAL}, /* the paper's GNN configs (the default) */
        {FROST_INIT_SIGNED_CONSTANT, FROST_INIT_KAIMING_UNIFORM},
        {FROST_INIT_KAIMING_NORMAL, FROST_INIT_GLOROT},
        {FROST_INIT_GLOROT, FROST_INIT_SIGNED_CONSTANT},
        {FROST_INIT_TORCH_LINEAR, FROST_INIT_TORCH_LINEAR},
    };
    for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++) {
        frost_model_spec sp = mlp3();
        sp.bias = false;
        sp.weights = FROST_WEIGHTS_SUPERMASK;
        sp.mask.sparsity = 0.5;
        sp.mask.prune_ratio = 0.2;
        sp.mask.lock_ratio = 0.2;
        if (k > 0) sp.mask.weight_init = schemes[k][0], sp.mask.score_init = schemes[k][1];
        frost_model *m;
        cr_assert_eq(frost_model_new(&m, &sp, NULL, NULL, 4), FROST_OK);
        cr_assert_eq(frost_model_init(m, 12), FROST_OK);
        cr_assert_eq(frost_slt_num_matrices(m), 3);
        for (int l = 0; l < 3; l++) {
            frost_slt_matrix_info in;
            frost_slt_matrix(m, l, &in);
            check_law(in.base, in.rows, in.cols, schemes[k][0], "supermask weights");
            check_law(in.score, in.rows, in.cols, schemes[k][1], "supermask scores");
        }
        frost_model_free(&m);
    }
}

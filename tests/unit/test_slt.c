/*
 * test_slt.c - strong lottery tickets: the straight-through rule, exactly
 * floor(N s) masked-out weights with ties, frozen codes that never flip, the
 * EPL table of slt.md section 3, regeneration for any thread count. The
 * model's gradients, masks and scales against the test's own arithmetic are
 * in test_supermask.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "model/model_impl.h"
#include "testutil.h"

TestSuite(slt, .timeout = 120);

enum { NN = 30, FF = 10, CC = 4 };
static frost_csr A;
static float X[NN * FF];
static int32_t Y[NN];
static int64_t IDX[NN];

static void fixture(void)
{
    int32_t s[90], d[90];
    for (int e = 0; e < 90; e++) s[e] = e % NN, d[e] = (e * 7 + 3) % NN;
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = true;
    o.self_loops = FROST_SELF_LOOPS_DROP;
    cr_assert_eq(frost_csr_from_edges(&A, NN, 90, s, d, &o, NULL), FROST_OK);
    for (int i = 0; i < NN * FF; i++) X[i] = frost_rng_normal(1, 2, (uint64_t)i);
    for (int i = 0; i < NN; i++) Y[i] = i % CC, IDX[i] = i;
}
static void fixture_fini(void) { frost_csr_release(&A); }

static frost_model_spec gin_spec(double s, double p, double r)
{
    frost_model_spec sp = frost_model_spec_default();
    sp.arch = FROST_ARCH_GIN;
    sp.layers = 3;
    sp.in_dim = FF;
    sp.hidden = 12;
    sp.out_dim = CC;
    sp.bias = false;
    sp.dropout = 0;
    sp.norm = FROST_NORM_BATCH_NONAFFINE;
    sp.norm_last = true;
    sp.skip_head = true;
    sp.weights = FROST_WEIGHTS_SUPERMASK;
    sp.mask.sparsity = s;
    sp.mask.prune_ratio = p;
    sp.mask.lock_ratio = r;
    return sp;
}

static int64_t count_masked(const frost_model *m, int64_t *total)
{
    int64_t z = 0, t = 0;
    for (int32_t k = 0; k < frost_slt_num_matrices(m); k++) {
        frost_slt_matrix_info in;
        frost_slt_matrix(m, k, &in);
        z += in.n - in.kept;
        t += in.n;
    }
    *total = t;
    return z;
}

Test(slt, straight_through_rule)
{
    float sc[] = {0.5f, -0.2f, 0.0f, 3.0f}, dw[] = {1.0f, 2.0f, 3.0f, -4.0f}, base[] = {0.1f, 0.2f, 0.3f, 0.4f};
    float ds[4] = {10, 10, 10, 10};
    frost_slt_score_grad(ds, sc, dw, base, 2.0f, 4);
    float want[] = {10 + 1 * 1.0f * 0.1f * 2, 10 - 1 * 2.0f * 0.2f * 2, 10 + 0, 10 + 1 * -4.0f * 0.4f * 2};
    for (int i = 0; i < 4; i++) cr_assert_float_eq(ds[i], want[i], 1e-6);
}

Test(slt, exactly_floor_N_s_masked_with_ties, .init = fixture, .fini = fixture_fini)
{
    const double cases[][3] = {{0.5, 0.0, 0.0}, {0.5, 0.2, 0.2}, {0.7, 0.3, 0.1}, {0.3, 0.1, 0.5}, {0.9, 0.0, 0.1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        frost_model_spec sp = gin_spec(cases[c][0], cases[c][1], cases[c][2]);
        frost_model *m;
        cr_assert_eq(frost_model_new(&m, &sp, &A, &A, NN), FROST_OK);
        cr_assert_eq(frost_model_init(m, 7), FROST_OK);
        int64_t total, z = count_masked(m, &total);
        cr_assert_eq(z, (int64_t)floor((double)total * cases[c][0] + 1e-9), "case %zu: %lld masked of %lld", c,
                     (long long)z, (long long)total);
        /* all scores tied: still exactly k */
        for (int32_t k = 0; k < m->n_wmats; k++)
            for (int64_t i = 0; i < m->sm->mats[k].n; i++) m->sm->mats[k].score[i] = 0.25f;
        frost_model_after_step(m);
        z = count_masked(m, &total);
        cr_assert_eq(z, (int64_t)floor((double)total * cases[c][0] + 1e-9), "ties, case %zu", c);
        frost_model_free(&m);
    }
}

Test(slt, frozen_codes_never_flip, .init = fixture, .fini = fixture_fini)
{
    frost_model_spec sp = gin_spec(0.5, 0.2, 0.2);
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &A, &A, NN), FROST_OK);
    cr_assert_eq(frost_model_init(m, 9), FROST_OK);
    int64_t total = frost_model_num_weights(m);
    int8_t *codes = malloc((size_t)total);
    int64_t o = 0, pruned = 0, locked = 0;
    for (int32_t k = 0; k < m->n_wmats; k++) {
        memcpy(codes + o, m->sm->mats[k].code, (size_t)m->wmats[k].n);
        for (int64_t i = 0; i < m->wmats[k].n; i++) pruned += codes[o + i] < 0, locked += codes[o + i] > 0;
        o += m->wmats[k].n;
    }
    cr_assert(pruned > 0 && locked > 0);
    int64_t tr[] = {0, 1, 2, 3, 4, 5, 6, 7};
    frost_task_data d = {NN, FF, X, Y, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, CC, tr, tr, tr, 8, 8, 8, NULL};
    frost_train_opts opt = frost_train_opts_default();
    opt.epochs = 20;
    opt.optim.lr = 0.5; /* large steps: scores move a lot */
    frost_run_result r;
    cr_assert_eq(frost_train(m, &d, &opt, &r), FROST_OK);
    o = 0;
    for (int32_t k = 0; k < m->n_wmats; k++) {
        const frost__smat *w = &m->sm->mats[k];
        for (int64_t i = 0; i < w->n; i++) {
            cr_assert_eq(w->code[i], codes[o + i]);
            if (w->code[i] < 0) cr_assert_eq(w->w[i], 0.0f, "a pruned weight is used");
            if (w->code[i] > 0) cr_assert(w->keep[i], "a locked weight is dropped");
        }
        o += w->n;
    }
    frost_run_result_release(&r);
    free(codes);
    frost_model_free(&m);
}

Test(slt, epl_shares_match_the_paper_table)
{
    /* slt.md section 3: layers gin0..3 and the head of the paper's GIN */
    const int64_t sizes[] = {49408, 148996, 148996, 15440, 15440};
    const struct {
        double p, r;
        double frozen[5], pruned[5];
    } rows[] = {
        {0.0, 0.2, {0, .254, .254, 0, 0}, {0, 0, 0, 0, 0}},
        {0.1, 0.1, {0, .254, .254, 0, 0}, {0, .127, .127, 0, 0}},
        {0.0, 0.4, {0, .508, .508, 0, 0}, {0, 0, 0, 0, 0}},
        {0.25, 0.25, {0, .635, .635, 0, 0}, {0, .317, .317, 0, 0}},
        {0.35, 0.35, {.443, .815, .815, 0, 0}, {0, .444, .444, 0, 0}},
        {0.8, 0.0, {.694, .898, .898, .02, .02}, {.694, .898, .898, .02, .02}},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        int64_t keepF[5], keepP[5];
        frost_slt_layer_survivors(keepF, sizes, NULL, NULL, 5, 1 - (rows[k].p + rows[k].r), FROST_DIST_EPL);
        frost_slt_layer_survivors(keepP, sizes, NULL, NULL, 5, 1 - rows[k].p, FROST_DIST_EPL);
        int64_t tot_f = 0, tot_p = 0;
        for (int l = 0; l < 5; l++) {
            double f = 1.0 - (double)keepF[l] / (double)sizes[l];
            double p = 1.0 - (double)keepP[l] / (double)sizes[l];
            cr_assert(fabs(f - rows[k].frozen[l]) < 0.0015, "p=%g r=%g layer %d frozen %.4f, table %.3f", rows[k].p,
                      rows[k].r, l, f, rows[k].frozen[l]);
            cr_assert(fabs(p - rows[k].pruned[l]) < 0.0015, "p=%g r=%g layer %d pruned %.4f, table %.3f", rows[k].p,
                      rows[k].r, l, p, rows[k].pruned[l]);
            tot_f += sizes[l] - keepF[l];
            tot_p += sizes[l] - keepP[l];
        }
        /* overall ratios come out as asked, up to flooring */
        cr_assert(fabs((double)tot_f / 378280.0 - (rows[k].p + rows[k].r)) < 1e-4);
        cr_assert(fabs((double)tot_p / 378280.0 - rows[k].p) < 1e-4);
    }
}

Test(slt, regeneration_identical_for_1_and_2_threads, .init = fixture, .fini = fixture_fini)
{
    frost_model_spec sp = gin_spec(0.6, 0.2, 0.2);
    sp.hidden = 300; /* large enough for the parallel paths */
    frost_model *a, *b;
    frost_set_threads(1);
    cr_assert_eq(frost_model_new(&a, &sp, &A, &A, NN), FROST_OK);
    cr_assert_eq(frost_model_init(a, 42), FROST_OK);
    frost_set_threads(2);
    cr_assert_eq(frost_model_new(&b, &sp, &A, &A, NN), FROST_OK);
    cr_assert_eq(frost_model_init(b, 42), FROST_OK);
    for (int32_t k = 0; k < a->n_wmats; k++) {
        const frost__smat *x = &a->sm->mats[k], *y = &b->sm->mats[k];
        cr_assert(memcmp(x->base, y->base, (size_t)x->n * 4) == 0);
        cr_assert(memcmp(x->score, y->score, (size_t)x->n * 4) == 0);
        cr_assert(memcmp(x->code, y->code, (size_t)x->n) == 0);
        cr_assert(memcmp(x->w, y->w, (size_t)x->n * 4) == 0);
    }
    frost_model_free(&a);
    frost_model_free(&b);
}

Test(slt, sparsity_outside_p_and_1_minus_r_is_refused)
{
    frost_model_spec sp = gin_spec(0.2, 0.3, 0.0);
    cr_assert_eq(frost_model_spec_check(&sp), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "slt.sparsity 0.2 is below slt.prune_ratio 0.3"), "%s", frost_last_error());
    sp = gin_spec(0.9, 0.0, 0.2);
    cr_assert_eq(frost_model_spec_check(&sp), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "above 1 - slt.lock_ratio"), "%s", frost_last_error());
}

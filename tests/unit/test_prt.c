/*
 * test_prt.c - portable reward tuning (prt.md section 3, item 8): a per-node
 * constant added to r changes nothing; the gradient is softmax(prior + r) -
 * onehot, and the entropy term's gradient matches finite differences; EFT with
 * new = old returns the fine-tuned model; PRT with new = old returns the
 * training-time PRT model; label sets that differ are refused.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "frost/prt.h"
#include "testutil.h"

TestSuite(prt, .timeout = 60);

enum { N = 9, C = 4 };

static void rnd(float *x, int64_t n, uint64_t seed, float scale)
{
    for (int64_t i = 0; i < n; i++) x[i] = scale * frost_rng_normal(seed, 5, (uint64_t)i);
}

static int32_t Y[N] = {0, 1, 2, 3, 0, 1, -1, 2, 3};
static int64_t IDX[N] = {0, 1, 2, 3, 4, 5, 6, 7, 8};

static int argmax(const float *z)
{
    int b = 0;
    for (int c = 1; c < C; c++)
        if (z[c] > z[b]) b = c;
    return b;
}

Test(prt, a_per_node_constant_in_r_changes_nothing)
{
    float lp[N * C], z0[N * C], r[N * C], r2[N * C], z[N * C], z2[N * C], d1[N * C], d2[N * C];
    rnd(z0, N * C, 1, 2.0f);
    frost_log_softmax_rows(lp, z0, N, C);
    rnd(r, N * C, 2, 1.0f);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) r2[i * C + c] = r[i * C + c] + 3.0f * (float)(i - 4); /* c_i per node */
    frost_prt_combine(z, lp, r, N * C);
    frost_prt_combine(z2, lp, r2, N * C);
    double l1 = frost_prt_loss(d1, z, r, Y, IDX, N, C, 0.0);
    double l2 = frost_prt_loss(d2, z2, r2, Y, IDX, N, C, 0.0);
    cr_assert(fabs(l1 - l2) < 1e-5, "loss %g vs %g", l1, l2);
    for (int k = 0; k < N * C; k++) cr_assert(fabs((double)d1[k] - (double)d2[k]) < 1e-6);
    for (int i = 0; i < N; i++) cr_assert_eq(argmax(z + i * C), argmax(z2 + i * C));
    /* the entropy term too: softmax(r) is shift-invariant */
    cr_assert(fabs(frost_prt_loss(NULL, z, r, Y, IDX, N, C, 0.1) - frost_prt_loss(NULL, z2, r2, Y, IDX, N, C, 0.1)) < 1e-5);
}

Test(prt, gradient_is_p_minus_onehot)
{
    float lp[N * C], z0[N * C], r[N * C], z[N * C], d[N * C];
    rnd(z0, N * C, 3, 1.0f);
    frost_log_softmax_rows(lp, z0, N, C);
    rnd(r, N * C, 4, 1.0f);
    frost_prt_combine(z, lp, r, N * C);
    frost_prt_loss(d, z, r, Y, IDX, N, C, 0.0);
    const double cnt = 8; /* node 6 has no label */
    for (int i = 0; i < N; i++) {
        double m = z[i * C], se = 0;
        for (int c = 1; c < C; c++) m = fmax(m, (double)z[i * C + c]);
        for (int c = 0; c < C; c++) se += exp((double)z[i * C + c] - m);
        for (int c = 0; c < C; c++) {
            double p = exp((double)z[i * C + c] - m) / se;
            double want = Y[i] < 0 ? 0.0 : (p - (c == Y[i] ? 1.0 : 0.0)) / cnt;
            cr_assert(fabs((double)d[i * C + c] - want) < 1e-6, "node %d class %d: %g vs %g", i, c, (double)d[i * C + c], want);
        }
    }
}

Test(prt, entropy_regulariser_gradient_matches_finite_differences)
{
    float lp[N * C], z0[N * C], r[N * C], z[N * C], d[N * C];
    rnd(z0, N * C, 5, 1.0f);
    frost_log_softmax_rows(lp, z0, N, C);
    rnd(r, N * C, 6, 1.0f);
    const double alpha = 0.3;
    frost_prt_combine(z, lp, r, N * C);
    frost_prt_loss(d, z, r, Y, IDX, N, C, alpha);
    double num2 = 0, diff2 = 0;
    for (int k = 0; k < N * C; k++) {
        float v = r[k];
        const float h = 1e-3f;
        r[k] = v + h;
        frost_prt_combine(z, lp, r, N * C);
        double lpl = frost_prt_loss(NULL, z, r, Y, IDX, N, C, alpha);
        r[k] = v - h;
        frost_prt_combine(z, lp, r, N * C);
        double lmi = frost_prt_loss(NULL, z, r, Y, IDX, N, C, alpha);
        r[k] = v;
        double fd = (lpl - lmi) / (2.0 * (double)h);
        num2 += fd * fd;
        diff2 += (fd - (double)d[k]) * (fd - (double)d[k]);
    }
    cr_assert_lt(sqrt(diff2) / sqrt(num2), 1e-3, "relative error %g", sqrt(diff2) / sqrt(num2));
}

Test(prt, eft_with_new_equal_old_is_the_fine_tuned_model)
{
    float zo[N * C], zf[N * C], lo[N * C], lf[N * C], out[N * C];
    rnd(zo, N * C, 7, 2.0f);
    rnd(zf, N * C, 8, 2.0f);
    frost_log_softmax_rows(lo, zo, N, C);
    frost_log_softmax_rows(lf, zf, N, C);
    frost_eft_combine(out, lo, lf, lo, 1.0, N * C);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(argmax(out + i * C), argmax(lf + i * C));
        for (int c = 0; c < C; c++) cr_assert(fabsf(out[i * C + c] - lf[i * C + c]) < 1e-5f);
    }
}

Test(prt, prt_with_new_equal_old_is_the_training_time_model)
{
    /* train a small reward through a prior, then combine it with that same
     * prior: the metrics equal what training reported */
    const frost_synth_opts so = tu_synth_opts(300, 1200, 8, 3);
    char *d = tu_tmpdir();
    frost_dataset ds;
    tu_synth_load(&ds, tu_path(d, "s.h5"), &so);
    frost_csr A;
    frost_csr_build_opts bo = frost_csr_build_opts_default();
    cr_assert_eq(frost_csr_rebuild(&A, &ds.graph, &bo), FROST_OK);
    frost_model_spec s = frost_model_spec_default();
    s.arch = FROST_ARCH_GCN;
    s.in_dim = 8;
    s.hidden = 16;
    s.out_dim = 3;
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &s, &A, &A, 300), FROST_OK);
    cr_assert_eq(frost_model_init(m, 1), FROST_OK);
    float *prior = malloc(300 * 3 * sizeof *prior), *z = malloc(300 * 3 * sizeof *z);
    rnd(prior, 900, 9, 1.0f);
    frost_log_softmax_rows(prior, prior, 300, 3);
    const frost_split *sp = &ds.splits[0];
    frost_task_data td = tu_task(&ds, sp, prior);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = 20;
    frost_run_result r;
    cr_assert_eq(frost_train(m, &td, &o, &r), FROST_OK);
    frost_prt_combine(z, prior, frost_model_logits(m), 900);
    double test;
    cr_assert_eq(frost_metric_compute(&test, FROST_METRIC_ACCURACY, FROST_TASK_MULTICLASS, z, ds.label, sp->test,
                                      sp->n_test, 3, 1),
                 FROST_OK);
    cr_assert_eq(test, r.test_at_best, "combined %g, training-time %g", test, r.test_at_best);
    frost_run_result_release(&r);
    frost_model_free(&m);
    free(prior);
    free(z);
    frost_csr_release(&A);
    frost_dataset_release(&ds);
    tu_rmtree(d);
    free(d);
}

Test(prt, different_label_sets_are_refused)
{
    cr_assert_eq(frost_prt_check_labels(7, 7, 0, 0, "a and b"), FROST_OK);
    cr_assert_eq(frost_prt_check_labels(7, 5, 0, 0, "reward.h5 and base.h5"), FROST_ERR_SHAPE);
    cr_assert(strstr(frost_last_error(), "reward.h5 and base.h5: label sets differ (7 classes against 5 classes)"), "%s",
              frost_last_error());
    cr_assert_eq(frost_prt_check_labels(2, 2, 0, 1, "x"), FROST_ERR_SHAPE);
}

/* A reward ticket inside the old base (prt.init = "base" with
 * prt.reward_slt): frost_slt_set_base_from gives the ticket the trained
 * network's weights, biases and batch-norm state. Kept at sparsity 0 it is
 * that network (the same logits bit for bit); at sparsity s its first mask
 * keeps the largest |w| among the free weights (scores start at |w|), and
 * frozen codes still decide the rest. */
Test(prt, a_ticket_inside_a_trained_network)
{
    char *dir = tu_tmpdir();
    const frost_synth_opts so = tu_synth_opts(300, 1200, 12, 4);
    frost_dataset ds;
    tu_synth_load(&ds, tu_path(dir, "s.h5"), &so);
    const frost_task_data d = tu_task(&ds, &ds.splits[0], NULL);
    frost_model_spec s = frost_model_spec_default();
    s.arch = FROST_ARCH_GIN;
    s.layers = 3;
    s.in_dim = ds.num_features;
    s.hidden = 16;
    s.out_dim = ds.num_classes;
    s.norm = FROST_NORM_BATCH;
    s.skip_head = true;
    frost_model *tr, *tk;
    cr_assert_eq(frost_model_new(&tr, &s, &ds.graph, &ds.graph, ds.num_nodes), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(tr, 3), FROST_OK);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = 20;
    frost_run_result res;
    cr_assert_eq(frost_train(tr, &d, &o, &res), FROST_OK, "%s", frost_last_error());
    frost_run_result_release(&res);
    frost_model_forward(tr, ds.feat, false, 0, 0);
    const int64_t nl = ds.num_nodes * s.out_dim;
    float *want = malloc((size_t)nl * sizeof *want);
    memcpy(want, frost_model_logits(tr), (size_t)nl * sizeof *want);

    frost_model_spec t = s;
    t.weights = FROST_WEIGHTS_SUPERMASK;
    t.mask.sparsity = 0.0; /* keep everything: the ticket is the trained network */
    cr_assert_eq(frost_model_new(&tk, &t, &ds.graph, &ds.graph, ds.num_nodes), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(tk, 11), FROST_OK);
    cr_assert_eq(frost_slt_set_base_from(tk, tr), FROST_OK, "%s", frost_last_error());
    frost_model_forward(tk, ds.feat, false, 0, 0);
    cr_assert_eq(memcmp(frost_model_logits(tk), want, (size_t)nl * sizeof *want), 0,
                 "at sparsity 0 the ticket computes the trained network's logits");
    frost_model_free(&tk);

    /* sparsity 0.5, 10 % pruned and 10 % locked: the free weights kept are
     * the largest |w| over all masked matrices (the global threshold) */
    t.mask.sparsity = 0.5;
    t.mask.prune_ratio = 0.1;
    t.mask.lock_ratio = 0.1;
    cr_assert_eq(frost_model_new(&tk, &t, &ds.graph, &ds.graph, ds.num_nodes), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(tk, 11), FROST_OK);
    cr_assert_eq(frost_slt_set_base_from(tk, tr), FROST_OK, "%s", frost_last_error());
    float min_kept = INFINITY, max_dropped = 0;
    int64_t total = 0, kept = 0;
    for (int32_t j = 0; j < frost_slt_num_matrices(tk); j++) {
        frost_slt_matrix_info a;
        cr_assert_eq(frost_slt_matrix(tk, j, &a), FROST_OK);
        for (int64_t i = 0; i < a.n; i++) {
            cr_assert_neq(a.base[i], 0.0f, "trained weights are not exactly zero here");
            const bool keep = a.effective[i] != 0.0f;
            total++;
            kept += keep;
            if (a.code[i] < 0) cr_assert(!keep, "a pruned weight is never kept");
            if (a.code[i] > 0) cr_assert_eq(a.effective[i], a.base[i], "a locked weight is always kept");
            if (a.code[i] != 0) continue;
            if (keep) min_kept = fminf(min_kept, fabsf(a.base[i]));
            else max_dropped = fmaxf(max_dropped, fabsf(a.base[i]));
        }
    }
    cr_assert_leq(max_dropped, min_kept, "dropped |w| %g above kept %g", (double)max_dropped, (double)min_kept);
    cr_assert_eq(kept, total - (int64_t)floor(0.5 * (double)total), "%lld kept of %lld", (long long)kept,
                 (long long)total);
    frost_model_free(&tk);

    /* shapes that differ are refused */
    t.hidden = 8;
    cr_assert_eq(frost_model_new(&tk, &t, &ds.graph, &ds.graph, ds.num_nodes), FROST_OK);
    cr_assert_eq(frost_model_init(tk, 11), FROST_OK);
    cr_assert_lt(frost_slt_set_base_from(tk, tr), 0);
    cr_assert(strstr(frost_last_error(), "differ") || strstr(frost_last_error(), "masked matrix"), "%s",
              frost_last_error());
    frost_model_free(&tk);
    frost_model_free(&tr);
    free(want);
    frost_dataset_release(&ds);
    tu_rmtree(dir);
    free(dir);
}

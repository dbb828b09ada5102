/*
 * test_export.c - export then predict: a ticket (and a trained model) written
 * from a results file, regenerated from its seed, gives bit-identical logits;
 * the file is within 10% + 4 KiB of the computed bits / 8; a dataset with
 * other dimensions is refused with a clear message.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(export, .timeout = 300);

static char *dir;

static void make_data(const char *name, int64_t F, int32_t C)
{
    frost_synth_opts o = tu_synth_opts(600, 3000, F, C);
    o.seed = 3;
    tu_synth(tu_path(dir, name), &o);
}

static void run_experiment(const char *method)
{
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/d.h5\";\noutput = \"%s/r.h5\";\nmethod = \"%s\";\nepochs = 15;\nruns = 2;\n"
             "model = { name = \"gin\"; layers = 3; hidden = 48; bias = false; dropout = 0.0; norm = \"batch_nonaffine\";\n"
             "  norm_last = true; skip_head = true; };\noptim = { name = \"adamw\"; lr = 0.01; schedule = \"cosine\"; };\n"
             "slt = { sparsity = 0.5; prune_ratio = 0.1; lock_ratio = 0.2; };\n",
             dir, dir, method);
    tu_writef(dir, "e.cfg", cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(dir, "e.cfg")), FROST_OK, "%s", frost_last_error());
    char out[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, out, sizeof out), FROST_OK, "%s", frost_last_error());
}

static void setup(void)
{
    dir = tu_tmpdir();
    make_data("d.h5", 24, 5);
}
static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static void round_trip(const char *run_id, bool ticket)
{
    const char *model = tu_path(dir, "m.h5");
    cr_assert_eq(frost_export_run(tu_path(dir, "r.h5"), run_id, model), FROST_OK, "%s", frost_last_error());
    cr_assert_not(tu_any_with_prefix(dir, "m.h5.tmp"));
    frost_model_file mf;
    cr_assert_eq(frost_model_file_load(&mf, model), FROST_OK, "%s", frost_last_error());
    long size = tu_file_size(model);
    double bytes = (double)mf.model_bits / 8.0;
    cr_assert_leq((double)size, 1.1 * bytes + 4096, "%s: %ld bytes on disk for %.0f bytes of model", run_id, size, bytes);
    if (ticket) {
        cr_assert_gt(mf.state.mask_bits, 0);
        cr_assert_eq(mf.state.n_params, 0, "a bias-free ticket stores no floats but statistics");
        cr_assert_lt(mf.model_bits * 10, mf.dense_bits, "a ticket is much smaller than its counterpart");
    }
    frost_prediction p;
    cr_assert_eq(frost_predict(model, tu_path(dir, "d.h5"), NULL, &p), FROST_OK, "%s", frost_last_error());
    cr_assert(p.hash_matches, "%s: logits %s, the run's %s", run_id, p.logits_hash, mf.logits_hash);
    /* the kernels that made the run's bits travel with it: results file, model file, prediction */
    frost_results r;
    cr_assert_eq(frost_results_load(&r, tu_path(dir, "r.h5")), FROST_OK, "%s", frost_last_error());
    cr_assert_str_eq(frost_results_find(&r, run_id)->blas_core, frost_blas_core());
    frost_results_release(&r);
    cr_assert_str_eq(mf.blas_core, frost_blas_core());
    cr_assert_str_eq(p.run_blas_core, frost_blas_core());
    cr_assert_float_eq(p.test, mf.test_metric, 1e-12, "the run's test metric is reproduced");
    frost_prediction_release(&p);
    frost_model_file_release(&mf);
}

Test(export, ticket_round_trip_is_bit_exact, .init = setup, .fini = teardown)
{
    run_experiment("slt");
    round_trip("slt-gin-seed1", true);
}

Test(export, trained_round_trip_is_bit_exact, .init = setup, .fini = teardown)
{
    run_experiment("trained");
    round_trip("trained-gin-seed0", false);
}

Test(export, other_dimensions_are_refused, .init = setup, .fini = teardown)
{
    run_experiment("slt");
    const char *model = tu_path(dir, "m.h5");
    cr_assert_eq(frost_export_run(tu_path(dir, "r.h5"), "slt-gin-seed0", model), FROST_OK, "%s", frost_last_error());
    make_data("other.h5", 30, 5);
    frost_prediction p;
    cr_assert_eq(frost_predict(model, tu_path(dir, "other.h5"), NULL, &p), FROST_ERR_SHAPE);
    cr_assert(strstr(frost_last_error(), "the model takes 24 features and predicts 5 classes; dataset 'synth' has 30 "
                                         "features and 5 classes"),
              "%s", frost_last_error());
    cr_assert_eq(frost_export_run(tu_path(dir, "r.h5"), "nope", model), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "no run 'nope'"), "%s", frost_last_error());
}

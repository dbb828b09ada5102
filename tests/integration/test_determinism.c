/*
 * test_determinism.c - the same configuration and seeds give the same results
 * file, timing fields aside, whether it runs on 1 or 2 threads: losses and
 * metrics of every epoch, logits fingerprints, trained floats and ticket
 * masks, bit for bit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(determinism, .timeout = 600);

static void run(const char *dir, const char *out, int threads)
{
    char cfg[2048], name[64];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/d.h5\";\noutput = \"%s/%s\";\nmethod = [\"trained\", \"slt\"];\nepochs = 15;\nruns = 2;\n"
             "threads = %d;\nmodel = { name = \"gin\"; hidden = 96; norm = \"batch\"; dropout = 0.3; };\n"
             "slt = { sparsity = 0.5; freeze = 0.4; };\n",
             dir, dir, out, threads);
    snprintf(name, sizeof name, "%s.cfg", out);
    tu_writef(dir, name, cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(dir, name)), FROST_OK, "%s", frost_last_error());
    char o[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, o, sizeof o), FROST_OK, "%s", frost_last_error());
}

Test(determinism, same_seed_same_results_for_1_and_2_threads)
{
    char *d = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(4000, 30000, 48, 0);
    tu_synth(tu_path(d, "d.h5"), &o);
    run(d, "a.h5", 1);
    run(d, "b.h5", 2);
    frost_results a, b;
    cr_assert_eq(frost_results_load(&a, tu_path(d, "a.h5")), FROST_OK);
    cr_assert_eq(frost_results_load(&b, tu_path(d, "b.h5")), FROST_OK);
    cr_assert_eq(a.n, 4);
    cr_assert_eq(b.n, 4);
    for (int64_t k = 0; k < a.n; k++) {
        const frost_run_info *x = &a.runs[k], *y = frost_results_find(&b, x->id);
        cr_assert_not_null(y);
        cr_assert_eq(x->test_metric, y->test_metric, "%s", x->id);
        cr_assert_eq(x->val_metric, y->val_metric, "%s", x->id);
        cr_assert_eq(x->best_epoch, y->best_epoch, "%s", x->id);
        cr_assert_str_eq(x->logits_hash, y->logits_hash, "%s: logits differ between 1 and 2 threads", x->id);
        cr_assert_eq(x->model_bits, y->model_bits);
        frost_run_state sa, sb;
        cr_assert_eq(frost_results_read_state(tu_path(d, "a.h5"), x->id, &sa), FROST_OK);
        cr_assert_eq(frost_results_read_state(tu_path(d, "b.h5"), x->id, &sb), FROST_OK);
        cr_assert_eq(sa.n_params, sb.n_params);
        cr_assert(memcmp(sa.params, sb.params, (size_t)sa.n_params * 4) == 0, "%s: trained floats differ", x->id);
        cr_assert(memcmp(sa.bn, sb.bn, (size_t)sa.n_bn * 4) == 0, "%s: batch-norm statistics differ", x->id);
        cr_assert_eq(sa.mask_bits, sb.mask_bits);
        cr_assert(memcmp(sa.mask, sb.mask, (size_t)(sa.mask_bits + 7) / 8) == 0, "%s: the ticket differs", x->id);
        if (strncmp(x->id, "slt", 3) == 0) cr_assert_gt(sa.mask_bits, 0);
        frost_run_state_release(&sa);
        frost_run_state_release(&sb);
    }
    frost_results_release(&a);
    frost_results_release(&b);
    tu_rmtree(d);
    free(d);
}

/*
 * test_train.c - end to end on real data: the shipped cora experiment
 * (Kipf & Welling's GCN recipe) trains to the published accuracy band.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(train, .timeout = 600);

Test(train, cora_gcn_recipe_reaches_published_accuracy)
{
    char *d = tu_tmpdir();
    char src[1024], cfgpath[1024], set[1200];
    snprintf(src, sizeof src, "%s/datasets/cora", tu_source_root());
    cr_assert_eq(frost_import_ogb(src, tu_path(d, "cora.h5"), NULL), FROST_OK, "%s", frost_last_error());
    snprintf(cfgpath, sizeof cfgpath, "%s/experiments/cora-gcn.cfg", tu_source_root());
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, cfgpath), FROST_OK, "%s", frost_last_error());
    snprintf(set, sizeof set, "dataset=\"%s/cora.h5\"", d);
    cr_assert_eq(frost_config_set_arg(&c, set), FROST_OK);
    snprintf(set, sizeof set, "output=\"%s/r.h5\"", d);
    cr_assert_eq(frost_config_set_arg(&c, set), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "runs=3"), FROST_OK);
    char out[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, out, sizeof out), FROST_OK, "%s", frost_last_error());
    frost_results r;
    cr_assert_eq(frost_results_load(&r, out), FROST_OK);
    frost_summary_row *rows;
    int64_t n;
    cr_assert_eq(frost_results_summarize(&r, &rows, &n), FROST_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(rows[0].runs, 3);
    /* published 81.5; 3 seeds of this recipe land within a point or two */
    cr_assert_geq(rows[0].test_mean, 0.79, "cora GCN test accuracy %.4f", rows[0].test_mean);
    cr_assert_leq(rows[0].test_mean, 0.85);
    frost_summary_release(rows, n);
    frost_results_release(&r);
    tu_rmtree(d);
    free(d);
}

/*
 * test_results.c - the results file: append, read back, summary statistics,
 * refusal of a duplicate run with the file left unchanged, and resume through
 * the runner (finished runs are skipped).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(results, .timeout = 120);

static void add(const char *path, const char *id, const char *cfg, int64_t seed, double val, double test)
{
    frost_run_info ri;
    memset(&ri, 0, sizeof ri);
    snprintf(ri.id, sizeof ri.id, "%s", id);
    ri.config = (char *)cfg;
    snprintf(ri.dataset, sizeof ri.dataset, "toy");
    snprintf(ri.method, sizeof ri.method, "trained");
    snprintf(ri.model, sizeof ri.model, "gcn");
    snprintf(ri.status, sizeof ri.status, "ok");
    snprintf(ri.metric, sizeof ri.metric, "accuracy");
    ri.seed = seed;
    ri.val_metric = val;
    ri.test_metric = test;
    ri.sparsity = ri.prune_ratio = ri.lock_ratio = NAN;
    ri.model_bits = 3200;
    ri.dense_bits = 3200;
    ri.in_dim = 4;
    ri.out_dim = 2;
    frost_epoch_record h[2] = {{1, 1.0, 0.5, val, test, 0.1, 0.01, 0.01}, {2, 0.5, 0.6, val, test, 0.1, 0.01, 0.01}};
    float params[3] = {1, 2, 3};
    uint8_t mask[1] = {0};
    frost_run_payload p = {h, 2, params, 3, NULL, 0, mask, 0};
    cr_assert_eq(frost_results_append(path, &ri, &p), FROST_OK, "%s", frost_last_error());
}

/* Append run id (configuration "x = 1;\n") with nothing in it: the status. */
static frost_status add_empty(const char *path, const char *id)
{
    frost_run_info ri;
    memset(&ri, 0, sizeof ri);
    snprintf(ri.id, sizeof ri.id, "%s", id);
    ri.config = "x = 1;\n";
    frost_run_payload p = {0};
    return frost_results_append(path, &ri, &p);
}

Test(results, append_read_summarize)
{
    char *d = tu_tmpdir();
    const char *f = tu_path(d, "r.h5");
    add(f, "a-seed0", "x = 1;\nseed = 0;\n", 0, 0.80, 0.70);
    add(f, "a-seed1", "x = 1;\nseed = 1;\n", 1, 0.82, 0.74);
    add(f, "a-seed2", "x = 1;\nseed = 2;\n", 2, 0.84, 0.72);
    add(f, "b-seed0", "x = 2;\nseed = 0;\n", 0, 0.5, 0.4);
    cr_assert_not(tu_any_with_prefix(d, "r.h5.tmp"));
    frost_results r;
    cr_assert_eq(frost_results_load(&r, f), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.n, 4);
    cr_assert_str_eq(r.runs[0].id, "a-seed0"); /* append order */
    cr_assert_str_eq(r.runs[3].id, "b-seed0");
    cr_assert_str_eq(r.runs[1].config, "x = 1;\nseed = 1;\n");
    frost_summary_row *rows;
    int64_t n;
    cr_assert_eq(frost_results_summarize(&r, &rows, &n), FROST_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(rows[0].runs, 3);
    cr_assert_float_eq(rows[0].test_mean, 0.72, 1e-12);
    cr_assert_float_eq(rows[0].test_std, 0.02, 1e-12); /* sample std of .70 .74 .72 */
    cr_assert_float_eq(rows[0].val_std, 0.02, 1e-12);
    cr_assert_eq(rows[1].runs, 1);
    cr_assert_float_eq(rows[1].test_std, 0.0, 1e-12);
    frost_summary_release(rows, n);
    frost_run_state s;
    cr_assert_eq(frost_results_read_state(f, "a-seed1", &s), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(s.n_params, 3);
    cr_assert_eq(s.params[2], 3.0f);
    frost_run_state_release(&s);
    cr_assert_eq(frost_results_read_state(f, "nope", &s), FROST_ERR_INVALID);
    frost_results_release(&r);
    tu_rmtree(d);
    free(d);
}

Test(results, duplicate_run_is_refused_and_file_kept)
{
    char *d = tu_tmpdir();
    const char *f = tu_path(d, "r.h5");
    add(f, "a", "x = 1;\n", 0, 0.8, 0.7);
    long size = tu_file_size(f);
    cr_assert_eq(add_empty(f, "a"), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "run 'a' is already there"), "%s", frost_last_error());
    cr_assert_eq(tu_file_size(f), size);
    cr_assert_not(tu_any_with_prefix(d, "r.h5.tmp"));
    frost_results r;
    cr_assert_eq(frost_results_load(&r, f), FROST_OK);
    cr_assert_eq(r.n, 1);
    frost_results_release(&r);
    tu_rmtree(d);
    free(d);
}

static int64_t runs_started;
static void count_start(const char *id, int64_t i, int64_t t, int64_t e, void *u)
{
    (void)id, (void)i, (void)t, (void)e, (void)u;
    runs_started++;
}

Test(results, runner_resumes_and_skips_finished_runs)
{
    char *d = tu_tmpdir();
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/datasets/cora.h5\";\nsplit = \"public\";\noutput = \"%s/r.h5\";\nepochs = 3;\nruns = 2;\n"
             "model = { hidden = 8; };\n",
             tu_source_root(), d);
    char *t = NULL; /* a folder for cora.h5 when the checkout has none (a clean clone) */
    if (!tu_exists(tu_path(tu_source_root(), "datasets/cora.h5"))) {
        char src[1024];
        snprintf(src, sizeof src, "%s/datasets/cora", tu_source_root());
        t = tu_tmpdir();
        snprintf(cfg, sizeof cfg,
                 "dataset = \"%s/cora.h5\";\nsplit = \"public\";\noutput = \"%s/r.h5\";\nepochs = 3;\nruns = 2;\n"
                 "model = { hidden = 8; };\n",
                 t, d);
        cr_assert_eq(frost_import_ogb(src, tu_path(t, "cora.h5"), NULL), FROST_OK);
    }
    tu_writef(d, "e.cfg", cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(d, "e.cfg")), FROST_OK, "%s", frost_last_error());
    frost_runner_events ev = {0};
    ev.run_start = count_start;
    char out[1024];
    runs_started = 0;
    cr_assert_eq(frost_experiment_run(&c, &ev, out, sizeof out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(runs_started, 2);
    runs_started = 0;
    cr_assert_eq(frost_experiment_run(&c, &ev, out, sizeof out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(runs_started, 0, "a second identical command trains nothing");
    cr_assert_eq(frost_config_set_arg(&c, "runs=3"), FROST_OK);
    runs_started = 0;
    cr_assert_eq(frost_experiment_run(&c, &ev, out, sizeof out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(runs_started, 1, "only the new seed runs");
    frost_results r;
    cr_assert_eq(frost_results_load(&r, out), FROST_OK);
    cr_assert_eq(r.n, 3);
    cr_assert_str_eq(r.runs[2].id, "trained-gcn-seed2");
    cr_assert(strstr(r.runs[2].config, "seed = 2;"), "%s", r.runs[2].config);
    frost_results_release(&r);
    /* the same output with another configuration is refused */
    cr_assert_eq(frost_config_set_arg(&c, "model.hidden=9"), FROST_OK);
    cr_assert_eq(frost_experiment_run(&c, &ev, out, sizeof out), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "made with a different configuration"), "%s", frost_last_error());
    tu_rmtree(d);
    free(d);
    if (t) {
        tu_rmtree(t);
        free(t);
    }
}

/* Runs in the main file: the `runs` of /runs, read with HDF5 directly
 * (what h5py sees). */
static int64_t main_runs(const char *path)
{
    frost_results r;
    /* a path whose pending folder is gone is the main file alone */
    char pend[1100];
    snprintf(pend, sizeof pend, "%s.pending", path);
    char away[1200];
    snprintf(away, sizeof away, "%s.away", pend);
    bool moved = rename(pend, away) == 0;
    cr_assert_eq(frost_results_load(&r, path), FROST_OK, "%s", frost_last_error());
    if (moved) rename(away, pend);
    int64_t n = r.n;
    frost_results_release(&r);
    return n;
}

static int64_t pending_files(const char *path)
{
    char pend[1100];
    snprintf(pend, sizeof pend, "%s.pending", path);
    DIR *d = opendir(pend);
    if (!d) return 0;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += strstr(e->d_name, ".run.h5") != NULL;
    closedir(d);
    return n;
}

/* Appends go to pending files; the main file is rewritten only when they
 * reach its size (so it doubles: 1, 2, 4, 8, 16 runs); every reader sees
 * all runs in append order; compaction folds them. */
Test(results, appends_are_pending_and_fold_geometrically)
{
    char *d = tu_tmpdir();
    char f[1100];
    snprintf(f, sizeof f, "%s/r.h5", d);
    const int64_t expect_main[20] = {1, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16};
    for (int k = 0; k < 20; k++) {
        char id[32], cfg[64];
        snprintf(id, sizeof id, "a-seed%d", k);
        snprintf(cfg, sizeof cfg, "x = 1;\nseed = %d;\n", k);
        add(f, id, cfg, k, 0.5 + 0.01 * k, 0.4 + 0.01 * k);
        cr_assert_eq(main_runs(f), expect_main[k], "after %d appends", k + 1);
        cr_assert_eq(pending_files(f), k + 1 - expect_main[k]);
        cr_assert_not(tu_any_with_prefix(d, "r.h5.tmp"));
    }
    frost_results r;
    cr_assert_eq(frost_results_load(&r, f), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.n, 20);
    for (int k = 0; k < 20; k++) {
        char id[32];
        snprintf(id, sizeof id, "a-seed%d", k);
        cr_assert_str_eq(r.runs[k].id, id);
        cr_assert_eq(r.runs[k].order, k);
    }
    frost_results_release(&r);
    /* a pending run's state and history */
    frost_run_state s;
    cr_assert_eq(frost_results_read_state(f, "a-seed19", &s), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(s.n_params, 3);
    frost_run_state_release(&s);
    frost_epoch_record *h;
    int64_t nh;
    cr_assert_eq(frost_results_read_history(f, "a-seed18", &h, &nh), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(nh, 2);
    free(h);
    /* a pending duplicate refused too */
    cr_assert_eq(add_empty(f, "a-seed17"), FROST_ERR_INVALID);
    /* fold: the main file alone holds everything, nothing left beside it */
    cr_assert_eq(frost_results_compact(f), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(main_runs(f), 20);
    cr_assert_not(tu_exists(tu_path(d, "r.h5.pending")));
    cr_assert_not(tu_exists(tu_path(d, "r.h5.lock")));
    cr_assert_eq(frost_results_load(&r, f), FROST_OK);
    cr_assert_eq(r.n, 20);
    cr_assert_str_eq(r.runs[19].id, "a-seed19");
    frost_results_release(&r);
    tu_rmtree(d);
    free(d);
}

/* A fold killed between its rename and the removal of the pending files
 * leaves runs in both places: readers count them once, the next fold
 * removes the leftovers. */
Test(results, leftovers_of_an_interrupted_fold_count_once)
{
    char *d = tu_tmpdir();
    char f[1100], cmd[3000];
    snprintf(f, sizeof f, "%s/r.h5", d);
    for (int k = 0; k < 3; k++) {
        char id[32];
        snprintf(id, sizeof id, "b-seed%d", k);
        add(f, id, "x = 2;\n", k, 0.5, 0.5);
    }
    /* main: b-seed0, b-seed1; pending: b-seed2 */
    cr_assert_eq(pending_files(f), 1);
    snprintf(cmd, sizeof cmd, "cp -p '%s.pending/b-seed2.run.h5' '%s/keep.h5'", f, d);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(frost_results_compact(f), FROST_OK);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s.pending' && cp -p '%s/keep.h5' '%s.pending/b-seed2.run.h5'", f, d, f);
    cr_assert_eq(system(cmd), 0);
    frost_results r;
    cr_assert_eq(frost_results_load(&r, f), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.n, 3);
    frost_results_release(&r);
    add(f, "b-seed3", "x = 2;\n", 3, 0.5, 0.5);
    cr_assert_eq(frost_results_compact(f), FROST_OK);
    cr_assert_eq(main_runs(f), 4);
    cr_assert_not(tu_exists(tu_path(d, "r.h5.pending")));
    tu_rmtree(d);
    free(d);
}

/* Run ids become file names: odd characters are escaped, '/' refused. */
Test(results, run_ids_as_file_names)
{
    char *d = tu_tmpdir();
    char f[1100];
    snprintf(f, sizeof f, "%s/r.h5", d);
    add(f, "first", "x = 3;\n", 0, 0.5, 0.5);
    add(f, "second", "x = 3;\n", 1, 0.5, 0.5);
    add(f, ".odd id%1 \xc3\xa9", "x = 3;\n", 2, 0.5, 0.5); /* pending, under an escaped name */
    cr_assert_eq(pending_files(f), 1);
    frost_run_state s;
    cr_assert_eq(frost_results_read_state(f, ".odd id%1 \xc3\xa9", &s), FROST_OK, "%s", frost_last_error());
    frost_run_state_release(&s);
    cr_assert_eq(add_empty(f, "a/b"), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "cannot name a run"), "%s", frost_last_error());
    tu_rmtree(d);
    free(d);
}

/* Merging: duplicates with the same result once; a conflict refused by
 * name with the output unchanged. */
Test(results, merge_in_the_library)
{
    char *d = tu_tmpdir();
    char a[1100], b[1100], c[1100], o[1100];
    snprintf(a, sizeof a, "%s/a.h5", d);
    snprintf(b, sizeof b, "%s/b.h5", d);
    snprintf(c, sizeof c, "%s/c.h5", d);
    snprintf(o, sizeof o, "%s/o.h5", d);
    add(a, "m-seed0", "x = 1;\noutput = \"a.h5\";\nseed = 0;\n", 0, 0.8, 0.7);
    add(a, "m-seed1", "x = 1;\noutput = \"a.h5\";\nseed = 1;\n", 1, 0.8, 0.7);
    add(b, "m-seed1", "x = 1;\noutput = \"/elsewhere/b.h5\";\nseed = 1;\n", 1, 0.8, 0.7);
    add(b, "m-seed2", "x = 1;\noutput = \"/elsewhere/b.h5\";\nseed = 2;\n", 2, 0.8, 0.7);
    add(c, "m-seed1", "x = 1;\noutput = \"c.h5\";\nseed = 1;\n", 1, 0.8, 0.71);
    const char *in[3] = {a, b, c};
    cr_assert_eq(frost_results_merge(o, in, 2), FROST_OK, "%s", frost_last_error());
    frost_results r;
    cr_assert_eq(frost_results_load(&r, o), FROST_OK);
    cr_assert_eq(r.n, 3);
    frost_results_release(&r);
    const long size = tu_file_size(o);
    cr_assert_eq(frost_results_merge(o, in, 3), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "run 'm-seed1' conflicts") && strstr(frost_last_error(), "other metrics"),
              "%s", frost_last_error());
    cr_assert_eq(tu_file_size(o), size);
    tu_rmtree(d);
    free(d);
}

/* What does not change a run's numbers is not compared. */
Test(results, canonical_configuration)
{
    const char *t = "dataset = \"d.h5\";\noutput = \"a/r.h5\";\nthreads = 4;\nseed = 3;\nmodel = {\n  name = \"gcn\";\n"
                    "  keep_activations = true;\n  hidden = 8;\n};\n";
    char *c = frost_config_canonical(t, 0);
    cr_assert_str_eq(c, "dataset = \"d.h5\";\nseed = 3;\nmodel = {\n  name = \"gcn\";\n  hidden = 8;\n};\n");
    free(c);
    c = frost_config_canonical(t, FROST_CANON_SEED | FROST_CANON_DATASET);
    cr_assert_str_eq(c, "model = {\n  name = \"gcn\";\n  hidden = 8;\n};\n");
    free(c);
}

/*
 * test_cli.c - the `frost` program as users meet it: exit status 0/1/2, one
 * line on stderr for every error, naming the file; no output left behind.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(cli, .timeout = 120);

static tu_run R; /* the last run of the frost program (TU_FROST, testutil) */

Test(cli, help_and_version)
{
    TU_FROST(&R, "--help");
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "import") && strstr(R.out, "synth") && strstr(R.out, "info"));
    TU_FROST(&R, "--version");
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "frost "));
    TU_FROST(&R, "import", "--help");
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "--add-inverse-edges"));
}

Test(cli, usage_errors_exit_2)
{
    tu_frost_run(&R, NULL, NULL, (const char *const[]){NULL});
    cr_assert_eq(R.status, 2);
    TU_FROST(&R, "frobnicate");
    cr_assert_eq(R.status, 2);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    TU_FROST(&R, "import", "ogb");
    cr_assert_eq(R.status, 2);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    TU_FROST(&R, "synth", "x.h5", "--nodes", "ten");
    cr_assert_eq(R.status, 2);
    cr_assert(strstr(R.err, "--nodes expects an integer, got 'ten'"), "%s", R.err);
    TU_FROST(&R, "info", "a", "b");
    cr_assert_eq(R.status, 2);
}

Test(cli, import_then_info_on_cora)
{
    char *d = tu_tmpdir();
    TU_FROST(&R, "import", "ogb", tu_path(tu_source_root(), "datasets/cora"), tu_path(d, "cora.h5"), "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST(&R, "info", tu_path(d, "cora.h5"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "nodes        2708\n"), "%s", R.out);
    cr_assert(strstr(R.out, "edges        10556 stored"), "%s", R.out);
    cr_assert(strstr(R.out, "features     1433"), "%s", R.out);
    cr_assert(strstr(R.out, "7 classes"), "%s", R.out);
    cr_assert(strstr(R.out, "public           train 140 / valid 500 / test 1000"), "%s", R.out);
    tu_rmtree(d);
    free(d);
}

/* frost bench end to end on a small graph: every item it was asked for is
 * printed and written to the JSON file (the timings themselves are not
 * asserted: speed is measured, not tested) */
Test(cli, bench_reports_every_item)
{
    char *d = tu_tmpdir();
    tu_import_cora(d);
    /* cora has several splits: without --split, a one-line error naming the file */
    TU_FROST(&R, "bench", tu_path(d, "cora.h5"), "--what", "gcn", "--json", tu_path(d, "b0.json"));
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "split: split is not set and ") && strstr(R.err, "cora.h5 has "), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "b0.json"), "a failed bench left its JSON (or a temporary) behind");
    TU_FROST(&R, "bench", tu_path(d, "cora.h5"), "--split", "public", "--what", "spmm,post,gemm,gcn,gin", "--widths",
             "16,40", "--repeat", "1", "--warmup", "0", "--threads", "2", "--json", tu_path(d, "b.json"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    const char *lines[] = {"spmm GCN-normalised, width 40", "post block width 16 fwd / bwd", "post block width 40",
                           "gemm N x 386 x 386", "gemm 2048 x 2048 x 2048", "epoch: GCN 3 x 256",
                           "epoch: supermask GIN 4 x 386"};
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++)
        cr_assert(strstr(R.out, lines[k]), "missing '%s' in:\n%s", lines[k], R.out);
    cr_assert_not(tu_any_with_prefix(d, "b.json.tmp"));
    const long size = tu_file_size(tu_path(d, "b.json"));
    cr_assert_gt(size, 0);
    char *json = calloc((size_t)size + 1, 1);
    FILE *f = fopen(tu_path(d, "b.json"), "r");
    cr_assert_eq(fread(json, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    const char *keys[] = {"\"spmm\"", "\"post\"", "\"backward_gbs\"", "\"gemm\"", "\"epoch_gcn\"", "\"epoch_slt_gin\""};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) cr_assert(strstr(json, keys[k]), "no %s in the JSON", keys[k]);
    free(json);
    tu_rmtree(d);
    free(d);
}

Test(cli, runtime_errors_are_one_line_exit_1)
{
    char *d = tu_tmpdir();
    char *src = tu_tmpdir();
    tu_make_ogb(src);
    tu_writef(src, "raw/node-feat.csv.gz", "1,0,0\n0,1,0\n0,abc,1\n0,0,0\n1,1,1\n");
    TU_FROST(&R, "import", "ogb", src, tu_path(d, "out.h5"));
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "node-feat.csv.gz:3: column 2: expected a number, found 'abc'"), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "out.h5"));

    tu_writef(d, "not.h5", "plain text");
    TU_FROST(&R, "info", tu_path(d, "not.h5"));
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "not.h5: not an HDF5 file"), "%s", R.err);

    TU_FROST(&R, "info", tu_path(d, "missing.h5"));
    cr_assert_eq(R.status, 1);
    cr_assert(strstr(R.err, "missing.h5: cannot open"), "%s", R.err);
    tu_rmtree(d);
    tu_rmtree(src);
    free(d);
    free(src);
}

/* frost run on the shipped SLT GIN experiment at f 0.6, s 0.3 (2 epochs, one
 * run, method "slt", hidden 32) on dir/cora.h5 into out, with up to two more
 * --set assignments (NULL: none; set2 only with set1). */
static void run_slt_gin(const char *dir, const char *out, const char *set1, const char *set2)
{
    char cfg[1100], dataset[1200], output[1200];
    snprintf(cfg, sizeof cfg, "%s/experiments/cora-slt-gin.cfg", tu_source_root());
    snprintf(dataset, sizeof dataset, "dataset=\"%s/cora.h5\"", dir);
    snprintf(output, sizeof output, "output=\"%s\"", out);
    const char *const args[] = {"run",
                                cfg,
                                "--quiet",
                                "--set",
                                "epochs=2",
                                "--set",
                                "runs=1",
                                "--set",
                                "method=\"slt\"",
                                "--set",
                                "model.hidden=32",
                                "--set",
                                dataset,
                                "--set",
                                output,
                                "--set",
                                "slt.freeze=0.6",
                                "--set",
                                "slt.sparsity=0.3",
                                set1 ? "--set" : NULL,
                                set1,
                                set2 ? "--set" : NULL,
                                set2,
                                NULL};
    tu_frost_run(&R, NULL, NULL, args);
}

/* Sweep semantics and the two size accountings end to end: the shipped
 * SLT GIN experiment at a point where nothing is searched is refused in one
 * line (exit 1, nothing written); with slt.allow_degenerate it runs and is
 * flagged in the results file and by frost report; the results record
 * p = f s and r = f (1 - s) by default; paper_bits is the mask alone, so
 * model_bits - paper_bits is the seed plus 32 bits per stored float. */
Test(cli, sweep_semantics_and_model_size_both_ways)
{
    char *d = tu_tmpdir();
    char out[1100];
    TU_FROST(&R, "import", "ogb", tu_path(tu_source_root(), "datasets/cora"), tu_path(d, "cora.h5"), "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    snprintf(out, sizeof out, "%s/r.h5", d);
    run_slt_gin(d, out, "slt.prune_share=0.5", NULL);
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "nothing is searched at p 0.3, r 0.3, s 0.3"), "%s", R.err);
    cr_assert(!tu_exists(out));
    /* allowed: runs, flagged */
    run_slt_gin(d, out, "slt.prune_share=0.5", "slt.allow_degenerate=true");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST(&R, "report", out, "--no-plots");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "[degenerate]") && strstr(R.out, "compr.paper"), "%s", R.out);
    frost_results res;
    cr_assert_eq(frost_results_load(&res, out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(res.n, 1);
    cr_assert(res.runs[0].degenerate);
    frost_results_release(&res);
    /* the default split, and both sizes */
    snprintf(out, sizeof out, "%s/r2.h5", d);
    run_slt_gin(d, out, NULL, NULL);
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(frost_results_load(&res, out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(res.n, 1);
    const frost_run_info *ri = &res.runs[0];
    cr_assert(!ri->degenerate);
    cr_assert_float_eq(ri->prune_ratio, 0.6 * 0.3, 1e-12);
    cr_assert_float_eq(ri->lock_ratio, 0.6 * 0.7, 1e-12);
    frost_run_state stt;
    cr_assert_eq(frost_results_read_state(out, ri->id, &stt), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(ri->paper_bits, stt.mask_bits);
    cr_assert_eq(ri->model_bits - ri->paper_bits, 64 + 32 * (stt.n_params + stt.n_bn));
    /* about (1 - f) of the masked weights are searched */
    cr_assert_gt(ri->paper_bits, 0);
    cr_assert_lt(ri->paper_bits, ri->dense_bits / 32);
    frost_run_state_release(&stt);
    frost_results_release(&res);
    tu_rmtree(d);
    free(d);
}

/* ---- results files across processes, paths and machines ---------------------------------- */

static int count_in(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

static char *tiny_experiment(void)
{
    char *d = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(200, 800, 8, 3);
    tu_experiment(d, &o,
                  "output = \"r.h5\";\nmethod = \"trained\";\nepochs = 2;\n"
                  "model = { name = \"gcn\"; hidden = 8; };\n");
    return d;
}

static int64_t runs_in(const char *path)
{
    frost_results r;
    cr_assert_eq(frost_results_load(&r, path), FROST_OK, "%s", frost_last_error());
    int64_t n = r.n;
    frost_results_release(&r);
    return n;
}

/* The configuration comparison ignores how output is spelled: a results
 * file made as "r.h5" resumes moved, named absolutely, or copied; another
 * configuration is still refused. */
Test(cli, a_moved_or_copied_results_file_resumes)
{
    char *d = tiny_experiment();
    char set[1200];
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=2");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(count_in(R.err, ": best epoch"), 2, "%s", R.err);
    mkdir(tu_path(d, "moved"), 0755);
    char from[1100], to[1100];
    snprintf(from, sizeof from, "%s/r.h5", d);
    snprintf(to, sizeof to, "%s/moved/x.h5", d);
    cr_assert_eq(rename(from, to), 0);
    /* moved, and named by an absolute path: one new run trained */
    snprintf(set, sizeof set, "output=\"%s\"", to);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=3", "--set", set);
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(2 already there)"), "%s", R.err);
    cr_assert_eq(count_in(R.err, ": best epoch"), 1, "%s", R.err);
    cr_assert_eq(runs_in(to), 3);
    /* copied, named relatively from elsewhere: nothing to do */
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/moved/copy.h5'", to, d);
    cr_assert_eq(system(cmd), 0);
    TU_FROST_IN(&R, tu_path(d, "moved"), "run", "../e.cfg", "--set", "runs=3", "--set", "output=\"copy.h5\"", "--set",
                "threads=1");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(3 already there)"), "%s", R.err);
    cr_assert_eq(count_in(R.err, ": best epoch"), 0, "%s", R.err);
    /* what changes the numbers still counts */
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=3", "--set", "model.hidden=9", "--set", set);
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "made with a different configuration"), "%s", R.err);
    tu_rmtree(d);
    free(d);
}

/* A results file named through a symbolic link is the file it points to:
 * runs added through the link land in the target, the link stays a link, and
 * writers through either name share one lock and one pending folder. */
Test(cli, a_results_file_through_a_symlink)
{
    char *d = tiny_experiment();
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "runs=2");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(symlink("r.h5", tu_path(d, "link.h5")), 0);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "runs=4", "--set", "output=\"link.h5\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    struct stat sb;
    cr_assert_eq(lstat(tu_path(d, "link.h5"), &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the link was replaced by a file");
    cr_assert_eq(runs_in(tu_path(d, "r.h5")), 4);
    cr_assert_not(tu_exists(tu_path(d, "link.h5.lock")));
    cr_assert_not(tu_exists(tu_path(d, "link.h5.pending")));
    tu_rmtree(d);
    free(d);
}

/* What someone else put in RESULTS.pending/: a FIFO or a folder is passed
 * over (opening a FIFO would block for ever); a file that is not a run is
 * refused in one line that says how to get out. */
Test(cli, stray_files_in_the_pending_folder)
{
    char *d = tiny_experiment();
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "runs=2");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(mkdir(tu_path(d, "r.h5.pending"), 0755), 0);
    cr_assert_eq(mkfifo(tu_path(d, "r.h5.pending/fifo.run.h5"), 0644), 0);
    cr_assert_eq(mkdir(tu_path(d, "r.h5.pending/dir.batch.h5"), 0755), 0);
    TU_FROST_IN(&R, d, "report", "r.h5", "--no-plots");
    cr_assert_eq(R.status, 0, "%s", R.err);
    tu_writef(d, "r.h5.pending/junk.run.h5", "not hdf5\n");
    TU_FROST_IN(&R, d, "report", "r.h5", "--no-plots");
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "junk.run.h5") && strstr(R.err, "move it out of"), "%s", R.err);
    tu_rmtree(d);
    free(d);
}

/* --shard I/N: run i of the plan (0-based) when i mod N == I; shards into
 * files of their own, then frost merge: the same runs as one process. */
Test(cli, shards_then_merge)
{
    char *d = tiny_experiment();
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=5", "--shard", "1/2", "--dry-run");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "# 2 runs:") && strstr(R.out, "trained-gcn-seed1\n") &&
                  strstr(R.out, "trained-gcn-seed3\n") && !strstr(R.out, "seed0"),
              "%s", R.out);
    for (int k = 0; k < 2; k++) {
        char shard[16], set[64];
        snprintf(shard, sizeof shard, "%d/2", k);
        snprintf(set, sizeof set, "output=\"s%d.h5\"", k);
        TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "runs=5", "--shard", shard, "--set", set);
        cr_assert_eq(R.status, 0, "%s", R.err);
    }
    cr_assert_eq(runs_in(tu_path(d, "s0.h5")), 3);
    cr_assert_eq(runs_in(tu_path(d, "s1.h5")), 2);
    TU_FROST_IN(&R, d, "merge", "all.h5", "s0.h5", "s1.h5");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "all.h5: 5 runs"), "%s", R.out);
    /* the summary groups runs whatever file (output) they were made for */
    frost_results r;
    frost_summary_row *rows;
    int64_t n;
    cr_assert_eq(frost_results_load(&r, tu_path(d, "all.h5")), FROST_OK);
    cr_assert_eq(frost_results_summarize(&r, &rows, &n), FROST_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(rows[0].runs, 5);
    frost_summary_release(rows, n);
    frost_results_release(&r);
    /* the unsharded sweep into the merged file: nothing left to train */
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=5", "--set", "output=\"all.h5\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(5 already there)"), "%s", R.err);
    /* a shard with no runs (N larger than the sweep) into a file not made yet: nothing to do, exit 0 */
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=5", "--shard", "7/8", "--set", "output=\"none.h5\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "no runs in this shard"), "%s", R.err);
    cr_assert_not(tu_exists(tu_path(d, "none.h5")));
    /* bad shards are usage errors */
    const char *bad[] = {"2/2", "-1/2", "0/0", "1", "a/b", "1/2x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        TU_FROST_IN(&R, d, "run", "e.cfg", "--shard", bad[k]);
        cr_assert_eq(R.status, 2, "--shard %s: %s", bad[k], R.err);
        cr_assert_eq(R.err_lines, 1, "%s", R.err);
        cr_assert(strstr(R.err, "--shard expects I/N"), "%s", R.err);
    }
    tu_rmtree(d);
    free(d);
}

/* frost merge keeps identical duplicates once and refuses conflicting ones
 * by name, in one line, leaving OUT as it was. */
Test(cli, merge_keeps_duplicates_once_and_refuses_conflicts)
{
    char *d = tiny_experiment();
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "seeds=[0,1]", "--set", "output=\"a.h5\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "seeds=[1,2]", "--set", "output=\"b.h5\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    /* seed 1 with other numbers: more epochs */
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "seeds=[1]", "--set", "epochs=3", "--set",
                "output=\"c.h5\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST_IN(&R, d, "merge", "m.h5", "a.h5", "b.h5");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(runs_in(tu_path(d, "m.h5")), 3);
    /* again, and with m.h5 itself among the inputs: still 3 */
    TU_FROST_IN(&R, d, "merge", "m.h5", "m.h5", "b.h5", "a.h5");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(runs_in(tu_path(d, "m.h5")), 3);
    const long size = tu_file_size(tu_path(d, "m.h5"));
    /* a conflict into an existing OUT, and into a new one */
    TU_FROST_IN(&R, d, "merge", "m.h5", "c.h5");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "c.h5: run 'trained-gcn-seed1' conflicts with the one in m.h5 (a different configuration)"),
              "%s", R.err);
    cr_assert_eq(tu_file_size(tu_path(d, "m.h5")), size);
    cr_assert_eq(runs_in(tu_path(d, "m.h5")), 3);
    TU_FROST_IN(&R, d, "merge", "n.h5", "a.h5", "c.h5");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "trained-gcn-seed1") && strstr(R.err, "a.h5"), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "n.h5"), "a refused merge left a file");
    /* usage and a missing input */
    TU_FROST_IN(&R, d, "merge");
    cr_assert_eq(R.status, 2);
    TU_FROST_IN(&R, d, "merge", "n.h5", "missing.h5");
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "missing.h5: cannot open"), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "n.h5"));
    tu_rmtree(d);
    free(d);
}

/* Lines of a text that start with `prefix`. */
static int lines_starting(const char *s, const char *prefix)
{
    int n = 0;
    for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    return n;
}

/* For batch jobs: --log FILE appends one JSON line per evaluated epoch and
 * per finished run (and a start and an end line per command); off a
 * terminal a plain progress line every --progress-every seconds, none by
 * default in a short run; the log may not be the results file. */
Test(cli, run_log_as_json_lines_and_progress_off_a_terminal)
{
    char *d = tiny_experiment();
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=2", "--set", "epochs=20", "--set", "eval_every=5", "--log",
                "my log.jsonl");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(count_in(R.err, "  epoch "), 0, "no progress lines within 60 s by default: %s", R.err);
    char *log = tu_slurp(tu_path(d, "my log.jsonl"));
    cr_assert_eq(lines_starting(log, "{\"event\":\"start\","), 1, "%s", log);
    cr_assert_eq(lines_starting(log, "{\"event\":\"epoch\","), 8, "2 runs x epochs 5, 10, 15, 20: %s", log);
    cr_assert_eq(lines_starting(log, "{\"event\":\"run\","), 2, "%s", log);
    cr_assert_eq(lines_starting(log, "{\"event\":\"end\","), 1, "%s", log);
    cr_assert_eq(count_in(log, "\n"), 12, "one event per line: %s", log);
    cr_assert_eq(count_in(log, "\"epoch\":5,"), 2, "%s", log);
    cr_assert_eq(count_in(log, "\"epoch\":20,"), 2, "%s", log);
    cr_assert_eq(count_in(log, "\"epoch\":3,"), 0, "epochs without evaluation are not logged: %s", log);
    /* the run lines say what the results file holds */
    frost_results r;
    cr_assert_eq(frost_results_load(&r, tu_path(d, "r.h5")), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.n, 2);
    for (int64_t k = 0; k < r.n; k++) {
        char want[400];
        snprintf(want, sizeof want, "\"run\":\"%s\"", r.runs[k].id);
        const char *line = strstr(log, "{\"event\":\"run\"");
        while (line && (!strstr(line, want) || strstr(line, want) > strchr(line, '\n')))
            line = strstr(line + 1, "{\"event\":\"run\"");
        cr_assert_not_null(line, "no run line for %s: %s", r.runs[k].id, log);
        snprintf(want, sizeof want, "\"best_epoch\":%lld,", (long long)r.runs[k].best_epoch);
        const char *eol = strchr(line, '\n');
        const char *at = strstr(line, want);
        cr_assert(at && at < eol, "%s: %s", want, line);
        snprintf(want, sizeof want, "\"test_metric\":%.9g,", r.runs[k].test_metric);
        at = strstr(line, want);
        cr_assert(at && at < eol, "%s: %s", want, line);
    }
    frost_results_release(&r);
    free(log);
    /* again: appended, nothing trained; progress lines when asked for */
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=3", "--set", "epochs=20", "--set", "eval_every=5", "--log",
                "my log.jsonl", "--progress-every", "0.000001");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(count_in(R.err, "run 3/3 "), 21, "20 progress lines and the run's end: %s", R.err);
    cr_assert_eq(count_in(R.err, "\r"), 0, "off a terminal no carriage returns: %s", R.err);
    log = tu_slurp(tu_path(d, "my log.jsonl"));
    cr_assert_eq(lines_starting(log, "{\"event\":\"start\","), 2, "%s", log);
    cr_assert(strstr(log, "\"runs\":3,\"already_there\":2}"), "%s", log);
    cr_assert_eq(lines_starting(log, "{\"event\":\"run\","), 3, "%s", log);
    free(log);
    /* the log is never an input */
    const long before = tu_file_size(tu_path(d, "r.h5"));
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=4", "--log", "r.h5");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert_eq(tu_file_size(tu_path(d, "r.h5")), before);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--log", "e.cfg");
    cr_assert_eq(R.status, 1, "%s", R.err);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--progress-every", "-1");
    cr_assert_eq(R.status, 2, "%s", R.err);
    /* a FIFO nobody reads is refused at once (opening it would block) */
    cr_assert_eq(mkfifo(tu_path(d, "fifo"), 0644), 0);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--set", "runs=4", "--log", "fifo");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert(strstr(R.err, "a FIFO with no reader") && R.err_lines == 1, "%s", R.err);
    /* --shard takes digits only */
    static const char *const bad_shards[] = {"0/99999999999999999999", " 0/2", "+0/2", "0/ 2", "0/2x", "-1/2"};
    for (size_t k = 0; k < sizeof bad_shards / sizeof bad_shards[0]; k++) {
        TU_FROST_IN(&R, d, "run", "e.cfg", "--dry-run", "--shard", bad_shards[k]);
        cr_assert_eq(R.status, 2, "--shard '%s': %s", bad_shards[k], R.err);
    }
    tu_rmtree(d);
    free(d);
}

/* Machine-readable views (--json) of datasets, results and histories, and a
 * report with gnuplot absent: table, CSV and plot scripts, one note, exit 0. */
Test(cli, json_views_and_a_report_without_gnuplot)
{
    char *d = tiny_experiment();
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", "runs=2", "--set", "method=[\"trained\", \"slt\"]", "--set",
                "slt.sparsity=[0.5]", "--set", "slt.freeze=[0.2]");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST_IN(&R, d, "info", "g.h5", "--json");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(R.out[0] == '{' && strstr(R.out, "\"nodes\":200,") && strstr(R.out, "\"classes\":3,") &&
                  strstr(R.out, "\"splits\":[{\"name\":\"random\",\"train\":"),
              "%s", R.out);
    TU_FROST_IN(&R, d, "report", "r.h5", "--json");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(count_in(R.out, "\"method\":"), 2, "%s", R.out);
    cr_assert(strstr(R.out, "\"method\":\"trained\"") && strstr(R.out, "\"sparsity\":null") &&
                  strstr(R.out, "\"sparsity\":0.5,") && strstr(R.out, "\"runs\":2,"),
              "%s", R.out);
    cr_assert_not(tu_exists(tu_path(d, "r-report")), "--json writes nothing else");
    TU_FROST_IN(&R, d, "info", "r.h5", "--json");
    cr_assert(strstr(R.out, "\"best_run\":\"slt-gcn-"), "%s", R.out);
    TU_FROST_IN(&R, d, "report", "r.h5", "--history", "trained-gcn-seed1", "--json");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "\"epochs\":[{\"epoch\":1,") && strstr(R.out, "{\"epoch\":2,"), "%s", R.out);
    TU_FROST_ENV(&R, "PATH=/nonexistent", "report", tu_path(d, "r.h5"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "gnuplot is not on PATH"), "%s", R.err);
    cr_assert(tu_exists(tu_path(d, "r-report/summary.csv")));
    cr_assert(tu_exists(tu_path(d, "r-report/gcn-plots.gp")));
    cr_assert_not(tu_exists(tu_path(d, "r-report/gcn-test-vs-size.png")));
    /* learning curves: with -o, the CSV on stdout and a plot (data and script without gnuplot) */
    TU_FROST_ENV(&R, "PATH=/nonexistent", "report", tu_path(d, "r.h5"), "--history", "trained-gcn-seed1", "-o",
                 tu_path(d, "h"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "epoch,loss,") && strstr(R.err, "plot skipped"), "%s / %s", R.out, R.err);
    char *hd = tu_slurp(tu_path(d, "h/trained-gcn-seed1-history.dat"));
    cr_assert_eq(count_in(hd, "\n"), 3, "a header and 2 epochs: %s", hd);
    free(hd);
    cr_assert(tu_exists(tu_path(d, "h/trained-gcn-seed1-history.gp")));
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        TU_FROST(&R, "report", tu_path(d, "r.h5"), "--history", "trained-gcn-seed1", "-o", tu_path(d, "h"), "--force");
        cr_assert_eq(R.status, 0, "%s", R.err);
        cr_assert(tu_exists(tu_path(d, "h/trained-gcn-seed1-history.png")), "%s", R.out);
    }
    /* a gnuplot that never finishes is stopped (FROST_GNUPLOT_SECONDS, 300 by default) */
    tu_writef(d, "fakegp/gnuplot", "#!/bin/sh\nexec /bin/sleep 1000\n");
    cr_assert_eq(chmod(tu_path(d, "fakegp/gnuplot"), 0755), 0);
    char pathv[1200];
    snprintf(pathv, sizeof pathv, "PATH=%s", tu_path(d, "fakegp"));
    setenv("FROST_GNUPLOT_SECONDS", "1", 1);
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    TU_FROST_ENV(&R, pathv, "report", tu_path(d, "r.h5"), "-o", tu_path(d, "hung"));
    unsetenv("FROST_GNUPLOT_SECONDS");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert(strstr(R.err, "gnuplot did not finish") && R.err_lines == 1, "%s", R.err);
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    cr_assert_lt((double)(ts1.tv_sec - ts0.tv_sec), 30.0, "stopped after about a second");
    /* portable reward tuning: a bar plot of every predictor */
    char prt_cfg[1200];
    snprintf(prt_cfg, sizeof prt_cfg, "%s/experiments/prt-upscaling.cfg", tu_source_root());
    char ds[1300];
    snprintf(ds, sizeof ds, "dataset=\"%s\"", tu_path(d, "g.h5"));
    TU_FROST_IN(&R, d, "run", prt_cfg, "--quiet", "--set", ds, "--set", "output=\"p.h5\"", "--set", "runs=1", "--set",
                "epochs=2", "--set", "prt.base_epochs=2", "--set", "threads=1");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST_ENV(&R, "PATH=/nonexistent", "report", tu_path(d, "p.h5"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    char *pd = tu_slurp(tu_path(d, "p-report/prt.dat"));
    cr_assert(strstr(pd, "\"new base + PRT\" ") && strstr(pd, "\"new base + EFT\" ") && count_in(pd, "\n") == 7,
              "%s", pd);
    free(pd);
    tu_rmtree(d);
    free(d);
}

/* A folder shaped like ogbn-proteins, small: N nodes, undirected edges
 * listed once, 8 edge features, T binary tasks, no node features, split
 * "species". Each node has a hidden 8-bit code; an edge's features are the
 * mean of its ends' codes plus noise, and task t of a node is bit t % 8 of
 * its code: the edges' mean features carry the labels. */
static void write_proteins_like(const char *dir, int n, int e, int tasks)
{
    char p[1200];
    uint64_t s = 12345;
#define LCG() (s = s * 6364136223846793005ULL + 1442695040888963407ULL, (s >> 33))
    unsigned char *code = malloc((size_t)n);
    for (int i = 0; i < n; i++) code[i] = (unsigned char)LCG();
    snprintf(p, sizeof p, "%s/raw", dir);
    cr_assert_eq(mkdir(dir, 0755) == 0 && mkdir(p, 0755) == 0, true);
    FILE *fe = fopen(tu_path(dir, "raw/edge.csv"), "w"), *ff = fopen(tu_path(dir, "raw/edge-feat.csv"), "w");
    cr_assert(fe && ff);
    for (int k = 0; k < e; k++) {
        const int a = (int)(LCG() % (uint64_t)n), b = (int)(LCG() % (uint64_t)n);
        fprintf(fe, "%d,%d\n", a, b);
        for (int f = 0; f < 8; f++)
            fprintf(ff, "%s%.3f", f ? "," : "", 0.5 * (((code[a] >> f) & 1) + ((code[b] >> f) & 1)) +
                                                     0.4 * ((double)(LCG() % 1000) / 1000.0 - 0.5));
        fprintf(ff, "\n");
    }
    fclose(fe);
    fclose(ff);
    FILE *fl = fopen(tu_path(dir, "raw/node-label.csv"), "w");
    for (int i = 0; i < n; i++)
        for (int t = 0; t < tasks; t++) fprintf(fl, "%d%s", (code[i] >> (t % 8)) & 1, t + 1 < tasks ? "," : "\n");
    fclose(fl);
    FILE *fn = fopen(tu_path(dir, "raw/num-node-list.csv"), "w");
    fprintf(fn, "%d\n", n);
    fclose(fn);
    fn = fopen(tu_path(dir, "raw/num-edge-list.csv"), "w");
    fprintf(fn, "%d\n", e);
    fclose(fn);
    snprintf(p, sizeof p, "%s/split", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/split/species", dir);
    mkdir(p, 0755);
    FILE *sp[3] = {fopen(tu_path(dir, "split/species/train.csv"), "w"),
                   fopen(tu_path(dir, "split/species/valid.csv"), "w"), fopen(tu_path(dir, "split/species/test.csv"), "w")};
    for (int i = 0; i < n; i++) fprintf(sp[i % 10 < 6 ? 0 : i % 10 < 8 ? 1 : 2], "%d\n", i);
    for (int k = 0; k < 3; k++) fclose(sp[k]);
    free(code);
#undef LCG
}

/* frost import ogb knows the ogbn datasets by their folder's name and says
 * what it applied; a flag wins; ogbn-proteins-shaped data trains with node
 * features made from its edge features (OGB's example), and without them
 * the refusal says how. */
Test(cli, ogb_settings_by_folder_name_and_proteins_from_edge_features)
{
    char *d = tu_tmpdir();
    char *prot = strdup(tu_path(d, "ogbn_proteins"));
    write_proteins_like(prot, 400, 2400, 112);
    TU_FROST(&R, "import", "ogb", prot, tu_path(d, "p.h5"), "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "ogbn-proteins (OGB's settings): inverse edges added, 112 binary tasks, metric rocauc"),
              "%s", R.err);
    TU_FROST(&R, "info", tu_path(d, "p.h5"), "--json");
    cr_assert(strstr(R.out, "\"symmetric\":true,\"inverse_edges_added\":true") && strstr(R.out, "\"tasks\":112,") &&
                  strstr(R.out, "\"metric\":\"rocauc\"") && strstr(R.out, "\"edge_features\":8,"),
              "%s", R.out);
    /* the same folder with --no-preset: edges as listed */
    TU_FROST(&R, "import", "ogb", prot, tu_path(d, "q.h5"), "--quiet", "--no-preset");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.err_lines, 0, "%s", R.err);
    TU_FROST(&R, "info", tu_path(d, "q.h5"), "--json");
    cr_assert(strstr(R.out, "\"inverse_edges_added\":false"), "%s", R.out);
    /* training: refused without node features, saying how; then ROC-AUC well above chance */
    char ds[1300];
    snprintf(ds, sizeof ds, "dataset=\"%s\"", tu_path(d, "p.h5"));
    tu_writef(d, "e.cfg", "split = \"species\";\noutput = \"r.h5\";\nepochs = 60;\nruns = 2;\n"
                          "model = { name = \"sage\"; hidden = 32; layers = 2; };\noptim = { lr = 0.01; };\n");
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", ds);
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "features.from_edges"), "%s", R.err);
    TU_FROST_IN(&R, d, "run", "e.cfg", "--quiet", "--set", ds, "--set", "features.from_edges=\"mean\"");
    cr_assert_eq(R.status, 0, "%s", R.err);
    frost_results r;
    cr_assert_eq(frost_results_load(&r, tu_path(d, "r.h5")), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.n, 2);
    for (int64_t k = 0; k < r.n; k++) {
        cr_assert_str_eq(r.runs[k].metric, "rocauc");
        cr_assert_eq(r.runs[k].in_dim, 8, "8 node features made from 8 edge features");
        /* the labels are bits of a code the edges' mean features carry: a
         * model that learns nothing scores 0.5 */
        cr_assert_gt(r.runs[k].test_metric, 0.75, "%s: ROC-AUC %.4f", r.runs[k].id, r.runs[k].test_metric);
        cr_log_info("proteins-shaped stand-in, %s: test ROC-AUC %.4f", r.runs[k].id, r.runs[k].test_metric);
    }
    frost_results_release(&r);
    /* arxiv and products by name; a flag given wins and is said to */
    char *arx = strdup(tu_path(d, "ogbn-arxiv")), *prod = strdup(tu_path(d, "products"));
    tu_make_ogb(arx);
    tu_make_ogb(prod);
    tu_writef(arx, "mapping/labelidx2arxivcategeory.csv.gz", "label idx,arxiv category\n0,arxiv cs na\n1,arxiv cs, mm\n");
    TU_FROST(&R, "import", "ogb", arx, tu_path(d, "a.h5"), "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "ogbn-arxiv (OGB's settings): edges as given, 40 classes, metric accuracy"), "%s", R.err);
    /* class names from mapping/: stored, shown */
    TU_FROST(&R, "info", tu_path(d, "a.h5"));
    cr_assert(strstr(R.out, "  0    ") && strstr(R.out, "arxiv cs na\n") && strstr(R.out, "arxiv cs, mm\n"), "%s", R.out);
    TU_FROST(&R, "info", tu_path(d, "a.h5"), "--json");
    cr_assert(strstr(R.out, "\"class_names\":[\"arxiv cs na\",\"arxiv cs, mm\",\"\""), "%s", R.out);
    TU_FROST(&R, "info", tu_path(d, "a.h5"), "--json");
    cr_assert(strstr(R.out, "\"classes\":40,") && strstr(R.out, "\"inverse_edges_added\":false"), "%s", R.out);
    TU_FROST(&R, "import", "ogb", prod, tu_path(d, "b.h5"), "--quiet", "--num-classes", "2");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "ogbn-products") && strstr(R.err, "the flags given override them"), "%s", R.err);
    TU_FROST(&R, "info", tu_path(d, "b.h5"), "--json");
    cr_assert(strstr(R.out, "\"classes\":2,") && strstr(R.out, "\"inverse_edges_added\":true"), "%s", R.out);
    /* ogbn-mag's heterogeneous layout: its paper citation graph is read */
    char *mag = strdup(tu_path(d, "ogbn_mag"));
    tu_writef(mag, "raw/num-node-dict.csv.gz", "author,field_of_study,institution,paper\n10,3,2,5\n");
    tu_writef(mag, "raw/relations/paper___cites___paper/edge.csv.gz", "0,1\n1,2\n3,4\n4,0\n");
    tu_writef(mag, "raw/relations/paper___cites___paper/num-edge-list.csv.gz", "4\n");
    tu_writef(mag, "raw/relations/author___writes___paper/edge.csv.gz", "9,4\n");
    tu_writef(mag, "raw/node-feat/paper/node-feat.csv.gz", "1,0\n0,1\n1,1\n0,0\n2,2\n");
    tu_writef(mag, "raw/node-label/paper/node-label.csv.gz", "3\n348\n0\n1\n2\n");
    tu_writef(mag, "raw/node_year/paper/node_year.csv.gz", "2010\n2011\n2012\n2019\n2019\n");
    tu_writef(mag, "split/time/paper/train.csv.gz", "0\n1\n2\n");
    tu_writef(mag, "split/time/paper/valid.csv.gz", "3\n");
    tu_writef(mag, "split/time/paper/test.csv.gz", "4\n");
    TU_FROST(&R, "import", "ogb", mag, tu_path(d, "m.h5"), "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "ogbn-mag (its paper citation graph) (OGB's settings): edges as given, 349 classes"), "%s",
              R.err);
    TU_FROST(&R, "info", tu_path(d, "m.h5"), "--json");
    cr_assert(strstr(R.out, "\"nodes\":5,") && strstr(R.out, "\"stored_edges\":4,") && strstr(R.out, "\"features\":2,") &&
                  strstr(R.out, "\"classes\":349,") && strstr(R.out, "{\"name\":\"time\",\"train\":3,\"valid\":1,\"test\":1}"),
              "%s", R.out);
    free(prot), free(arx), free(prod), free(mag);
    tu_rmtree(d);
    free(d);
}

/* FROST_ISA forces the kernel path, and the results file records it in
 * blas_core ("+avx2", "+avx512", nothing for the generic path); a name that
 * is not a path, or a path this CPU cannot run, is refused in one line. */
Test(cli, kernel_path_switch_is_recorded)
{
    char *d = tiny_experiment();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    const char *paths[] = {"generic", "avx2", "avx512"};
    const bool runs[] = {true, avx2, avx512};
    char env[64], out[1200], set[1300];
    for (int k = 0; k < 3; k++) {
        snprintf(env, sizeof env, "FROST_ISA=%s", paths[k]);
        snprintf(out, sizeof out, "%s/r-%s.h5", d, paths[k]);
        snprintf(set, sizeof set, "output=\"%s\"", out);
        TU_FROST_ENV(&R, env, "run", tu_path(d, "e.cfg"), "--quiet", "--set", set);
        if (!runs[k]) {
            cr_assert_eq(R.status, 1, "%s on a CPU without it: %s", env, R.err);
            cr_assert_eq(R.err_lines, 1, "%s", R.err);
            cr_assert(strstr(R.err, "this CPU runs at most"), "%s", R.err);
            cr_assert_not(tu_exists(out));
            continue;
        }
        cr_assert_eq(R.status, 0, "%s: %s", env, R.err);
        frost_results r;
        cr_assert_eq(frost_results_load(&r, out), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(r.n, 1);
        const char *plus = strchr(r.runs[0].blas_core, '+');
        if (k == 0) cr_assert_null(plus, "generic path recorded as %s", r.runs[0].blas_core);
        else cr_assert(plus && strcmp(plus + 1, paths[k]) == 0, "%s recorded as %s", env, r.runs[0].blas_core);
        frost_results_release(&r);
    }
    TU_FROST_ENV(&R, "FROST_ISA=avx3", "run", tu_path(d, "e.cfg"), "--quiet");
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "FROST_ISA=avx3: expected generic, avx2 or avx512"), "%s", R.err);
    cr_assert_not(tu_exists(tu_path(d, "r.h5")));
    tu_rmtree(d);
    free(d);
}

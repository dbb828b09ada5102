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

#include "frost/frost.h"
#include "testutil.h"

TestSuite(cli, .timeout = 120);

typedef struct run_result {
    int status;
    char out[1 << 16];
    char err[1 << 14];
    int err_lines;
} run_result;

static void run(run_result *r, const char *args)
{
    char *d = tu_tmpdir();
    char cmd[4096];
    const char *bin = getenv("FROST_BIN");
    cr_assert_not_null(bin, "FROST_BIN not set");
    snprintf(cmd, sizeof cmd, "%s %s >%s/o 2>%s/e", bin, args, d, d);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(tu_path(d, "o"), "r");
    size_t n = fread(r->out, 1, sizeof r->out - 1, f);
    r->out[n] = 0;
    fclose(f);
    f = fopen(tu_path(d, "e"), "r");
    n = fread(r->err, 1, sizeof r->err - 1, f);
    r->err[n] = 0;
    fclose(f);
    r->err_lines = 0;
    for (char *p = r->err; *p; p++) r->err_lines += *p == '\n';
    tu_rmtree(d);
    free(d);
}

static run_result R;

Test(cli, help_and_version)
{
    run(&R, "--help");
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "import") && strstr(R.out, "synth") && strstr(R.out, "info"));
    run(&R, "--version");
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "frost "));
    run(&R, "import --help");
    cr_assert_eq(R.status, 0);
    cr_assert(strstr(R.out, "--add-inverse-edges"));
}

Test(cli, usage_errors_exit_2)
{
    run(&R, "");
    cr_assert_eq(R.status, 2);
    run(&R, "frobnicate");
    cr_assert_eq(R.status, 2);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    run(&R, "import ogb");
    cr_assert_eq(R.status, 2);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    run(&R, "synth x.h5 --nodes ten");
    cr_assert_eq(R.status, 2);
    cr_assert(strstr(R.err, "--nodes expects an integer, got 'ten'"), "%s", R.err);
    run(&R, "info a b");
    cr_assert_eq(R.status, 2);
}

Test(cli, import_then_info_on_cora)
{
    char *d = tu_tmpdir();
    char args[2048];
    snprintf(args, sizeof args, "import ogb %s/datasets/cora %s/cora.h5 --quiet", tu_source_root(), d);
    run(&R, args);
    cr_assert_eq(R.status, 0, "%s", R.err);
    snprintf(args, sizeof args, "info %s/cora.h5", d);
    run(&R, args);
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
    char args[2048];
    tu_import_cora(d);
    /* cora has several splits: without --split, a one-line error naming the file */
    snprintf(args, sizeof args, "bench %s/cora.h5 --what gcn --json %s/b0.json", d, d);
    run(&R, args);
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "split: split is not set and ") && strstr(R.err, "cora.h5 has "), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "b0.json"), "a failed bench left its JSON (or a temporary) behind");
    snprintf(args, sizeof args,
             "bench %s/cora.h5 --split public --what spmm,post,gemm,gcn,gin --widths 16,40 --repeat 1 --warmup 0 "
             "--threads 2 "
             "--json %s/b.json",
             d, d);
    run(&R, args);
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
    char args[2048];
    snprintf(args, sizeof args, "import ogb %s %s/out.h5", src, d);
    run(&R, args);
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "node-feat.csv.gz:3: column 2: expected a number, found 'abc'"), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "out.h5"));

    tu_writef(d, "not.h5", "plain text");
    snprintf(args, sizeof args, "info %s/not.h5", d);
    run(&R, args);
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "not.h5: not an HDF5 file"), "%s", R.err);

    snprintf(args, sizeof args, "info %s/missing.h5", d);
    run(&R, args);
    cr_assert_eq(R.status, 1);
    cr_assert(strstr(R.err, "missing.h5: cannot open"), "%s", R.err);
    tu_rmtree(d);
    tu_rmtree(src);
    free(d);
    free(src);
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
    char args[4096], out[1100];
    snprintf(args, sizeof args, "import ogb %s/datasets/cora %s/cora.h5 --quiet", tu_source_root(), d);
    run(&R, args);
    cr_assert_eq(R.status, 0, "%s", R.err);
    snprintf(out, sizeof out, "%s/r.h5", d);
    const char *common = "--quiet --set epochs=2 --set runs=1 --set 'method=\"slt\"' --set model.hidden=32";
    snprintf(args, sizeof args,
             "run %s/experiments/cora-slt-gin.cfg %s --set 'dataset=\"%s/cora.h5\"' --set 'output=\"%s\"' "
             "--set slt.freeze=0.6 --set slt.sparsity=0.3 --set slt.prune_share=0.5",
             tu_source_root(), common, d, out);
    run(&R, args);
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "nothing is searched at p 0.3, r 0.3, s 0.3"), "%s", R.err);
    cr_assert(!tu_exists(out));
    /* allowed: runs, flagged */
    strncat(args, " --set slt.allow_degenerate=true", sizeof args - strlen(args) - 1);
    run(&R, args);
    cr_assert_eq(R.status, 0, "%s", R.err);
    snprintf(args, sizeof args, "report %s --no-plots", out);
    run(&R, args);
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "[degenerate]") && strstr(R.out, "compr.paper"), "%s", R.out);
    frost_results res;
    cr_assert_eq(frost_results_load(&res, out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(res.n, 1);
    cr_assert(res.runs[0].degenerate);
    frost_results_release(&res);
    /* the default split, and both sizes */
    snprintf(out, sizeof out, "%s/r2.h5", d);
    snprintf(args, sizeof args,
             "run %s/experiments/cora-slt-gin.cfg %s --set 'dataset=\"%s/cora.h5\"' --set 'output=\"%s\"' "
             "--set slt.freeze=0.6 --set slt.sparsity=0.3",
             tu_source_root(), common, d, out);
    run(&R, args);
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

/* `cd d && frost ARGS`, its output in R */
static void run_in(run_result *r, const char *d, const char *args)
{
    char a[4096];
    snprintf(a, sizeof a, "%s", args);
    char *t = tu_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s >%s/o 2>%s/e", d, getenv("FROST_BIN"), a, t, t);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(tu_path(t, "o"), "r");
    size_t n = fread(r->out, 1, sizeof r->out - 1, f);
    r->out[n] = 0;
    fclose(f);
    f = fopen(tu_path(t, "e"), "r");
    n = fread(r->err, 1, sizeof r->err - 1, f);
    r->err[n] = 0;
    fclose(f);
    r->err_lines = 0;
    for (char *p = r->err; *p; p++) r->err_lines += *p == '\n';
    tu_rmtree(t);
    free(t);
}

static int count_in(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

static char *tiny_experiment(void)
{
    char *d = tu_tmpdir();
    frost_synth_opts o = frost_synth_opts_default();
    o.num_nodes = 200;
    o.num_edges = 800;
    o.num_features = 8;
    o.num_classes = 3;
    cr_assert_eq(frost_synth(tu_path(d, "g.h5"), &o), FROST_OK, "%s", frost_last_error());
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/g.h5\";\noutput = \"r.h5\";\nmethod = \"trained\";\nepochs = 2;\n"
             "model = { name = \"gcn\"; hidden = 8; };\n",
             d);
    tu_writef(d, "e.cfg", cfg);
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
    char args[2048];
    run_in(&R, d, "run e.cfg --set runs=2");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(count_in(R.err, ": best epoch"), 2, "%s", R.err);
    mkdir(tu_path(d, "moved"), 0755);
    char from[1100], to[1100];
    snprintf(from, sizeof from, "%s/r.h5", d);
    snprintf(to, sizeof to, "%s/moved/x.h5", d);
    cr_assert_eq(rename(from, to), 0);
    /* moved, and named by an absolute path: one new run trained */
    snprintf(args, sizeof args, "run e.cfg --set runs=3 --set 'output=\"%s\"'", to);
    run_in(&R, d, args);
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(2 already there)"), "%s", R.err);
    cr_assert_eq(count_in(R.err, ": best epoch"), 1, "%s", R.err);
    cr_assert_eq(runs_in(to), 3);
    /* copied, named relatively from elsewhere: nothing to do */
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/moved/copy.h5'", to, d);
    cr_assert_eq(system(cmd), 0);
    run_in(&R, tu_path(d, "moved"), "run ../e.cfg --set runs=3 --set 'output=\"copy.h5\"' --set threads=1");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(3 already there)"), "%s", R.err);
    cr_assert_eq(count_in(R.err, ": best epoch"), 0, "%s", R.err);
    /* what changes the numbers still counts */
    snprintf(args, sizeof args, "run e.cfg --set runs=3 --set model.hidden=9 --set 'output=\"%s\"'", to);
    run_in(&R, d, args);
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "made with a different configuration"), "%s", R.err);
    tu_rmtree(d);
    free(d);
}

/* --shard I/N: run i of the plan (0-based) when i mod N == I; shards into
 * files of their own, then frost merge: the same runs as one process. */
Test(cli, shards_then_merge)
{
    char *d = tiny_experiment();
    run_in(&R, d, "run e.cfg --set runs=5 --shard 1/2 --dry-run");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "# 2 runs:") && strstr(R.out, "trained-gcn-seed1\n") &&
                  strstr(R.out, "trained-gcn-seed3\n") && !strstr(R.out, "seed0"),
              "%s", R.out);
    for (int k = 0; k < 2; k++) {
        char args[256];
        snprintf(args, sizeof args, "run e.cfg --quiet --set runs=5 --shard %d/2 --set 'output=\"s%d.h5\"'", k, k);
        run_in(&R, d, args);
        cr_assert_eq(R.status, 0, "%s", R.err);
    }
    cr_assert_eq(runs_in(tu_path(d, "s0.h5")), 3);
    cr_assert_eq(runs_in(tu_path(d, "s1.h5")), 2);
    run_in(&R, d, "merge all.h5 s0.h5 s1.h5");
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
    run_in(&R, d, "run e.cfg --set runs=5 --set 'output=\"all.h5\"'");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(5 already there)"), "%s", R.err);
    /* bad shards are usage errors */
    const char *bad[] = {"2/2", "-1/2", "0/0", "1", "a/b", "1/2x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char args[256];
        snprintf(args, sizeof args, "run e.cfg --shard %s", bad[k]);
        run_in(&R, d, args);
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
    run_in(&R, d, "run e.cfg --quiet --set 'seeds=[0,1]' --set 'output=\"a.h5\"'");
    cr_assert_eq(R.status, 0, "%s", R.err);
    run_in(&R, d, "run e.cfg --quiet --set 'seeds=[1,2]' --set 'output=\"b.h5\"'");
    cr_assert_eq(R.status, 0, "%s", R.err);
    /* seed 1 with other numbers: more epochs */
    run_in(&R, d, "run e.cfg --quiet --set 'seeds=[1]' --set epochs=3 --set 'output=\"c.h5\"'");
    cr_assert_eq(R.status, 0, "%s", R.err);
    run_in(&R, d, "merge m.h5 a.h5 b.h5");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(runs_in(tu_path(d, "m.h5")), 3);
    /* again, and with m.h5 itself among the inputs: still 3 */
    run_in(&R, d, "merge m.h5 m.h5 b.h5 a.h5");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(runs_in(tu_path(d, "m.h5")), 3);
    const long size = tu_file_size(tu_path(d, "m.h5"));
    /* a conflict into an existing OUT, and into a new one */
    run_in(&R, d, "merge m.h5 c.h5");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "c.h5: run 'trained-gcn-seed1' conflicts with the one in m.h5 (a different configuration)"),
              "%s", R.err);
    cr_assert_eq(tu_file_size(tu_path(d, "m.h5")), size);
    cr_assert_eq(runs_in(tu_path(d, "m.h5")), 3);
    run_in(&R, d, "merge n.h5 a.h5 c.h5");
    cr_assert_eq(R.status, 1, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "trained-gcn-seed1") && strstr(R.err, "a.h5"), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "n.h5"), "a refused merge left a file");
    /* usage and a missing input */
    run_in(&R, d, "merge");
    cr_assert_eq(R.status, 2);
    run_in(&R, d, "merge n.h5 missing.h5");
    cr_assert_eq(R.status, 1);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    cr_assert(strstr(R.err, "missing.h5: cannot open"), "%s", R.err);
    cr_assert_not(tu_any_with_prefix(d, "n.h5"));
    tu_rmtree(d);
    free(d);
}

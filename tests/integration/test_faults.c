/*
 * test_faults.c - a full disk and I/O errors on every write path.
 *
 * frost's writers count their write-side operations (creating a file, each
 * write, fsync, truncate, rename: src/io/file_impl.h). These tests make the
 * n-th one fail, for every n, until the work needs fewer operations than n:
 * either from then on (ENOSPC: a disk that stays full) or once (EIO). Each
 * time: no crash, one error line naming a file and the system's reason,
 * earlier data intact, no temporary file left; and the work done again
 * without faults completes with the same numbers.
 *
 * In this process for a small sweep (frost run's library call) and the
 * library writers; through the frost program built with a fault hook
 * (frost-fault, FROST_FAULT=N) for every verb that writes a file. A last
 * test fills a real 300 KiB tmpfs when mounting one is allowed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frost/frost.h"
#include "io/file_impl.h"
#include "testutil.h"

TestSuite(faults, .timeout = 900);

static char *dir;

static void make_graph(const char *path, int64_t features)
{
    const frost_synth_opts o = tu_synth_opts(200, 800, features, 3);
    tu_synth(path, &o);
}

static void setup(void)
{
    dir = tu_tmpdir();
    make_graph(tu_path(dir, "g.h5"), 8);
}

/* Any PATH.tmp.PID (frost's temporaries) under d, at any depth? */
static bool any_temporary(const char *d)
{
    DIR *h = opendir(d);
    if (!h) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(h))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        struct stat sb;
        if (strstr(e->d_name, ".tmp.")) found = true;
        else if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) found = any_temporary(p);
    }
    closedir(h);
    return found;
}

/* ---- a sweep, in this process ----------------------------------------------------- */

static void write_cfg(const char *output)
{
    char rest[2048];
    snprintf(rest, sizeof rest,
             "output = \"%s\";\nmethod = [\"trained\", \"slt\"];\nepochs = 2;\nruns = 2;\n"
             "model = { name = \"gcn\"; hidden = 8; };\nslt = { sparsity = 0.5; };\n",
             output);
    tu_experiment(dir, NULL, rest);
}

static frost_status sweep(const char *output)
{
    char out[1024];
    write_cfg(output);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(dir, "e.cfg")), FROST_OK, "%s", frost_last_error());
    return frost_experiment_run(&c, NULL, out, sizeof out);
}

static void remove_output(const char *name)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s.lock", dir, name);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s.pending", dir, name);
    tu_rmtree(p);
}

/* Every run of got is in ref with the same numbers, once. */
static void assert_subset(const frost_results *got, const frost_results *ref)
{
    for (int64_t k = 0; k < got->n; k++) {
        const frost_run_info *a = &got->runs[k], *b = frost_results_find(ref, a->id);
        cr_assert_not_null(b, "run %s is not one of the sweep's", a->id);
        cr_assert_eq(a->test_metric, b->test_metric, "run %s changed", a->id);
        cr_assert_str_eq(a->logits_hash, b->logits_hash);
        for (int64_t q = k + 1; q < got->n; q++) cr_assert_str_neq(a->id, got->runs[q].id);
    }
}

static void sweep_each_fault(int err, bool sticky)
{
    frost_results ref;
    remove_output("ref.h5");
    frost__io_fault_set(0, 0, false);
    cr_assert_eq(sweep(tu_path(dir, "ref.h5")), FROST_OK, "%s", frost_last_error());
    const int64_t ops = frost__io_fault_count();
    cr_assert_eq(frost_results_load(&ref, tu_path(dir, "ref.h5")), FROST_OK);
    cr_assert_eq(ref.n, 4);
    const char *out = tu_path(dir, "r.h5");
    char outp[1100];
    snprintf(outp, sizeof outp, "%s", out);
    int64_t n;
    for (n = 1; n <= ops + 1; n++) {
        remove_output("r.h5");
        frost__io_fault_set(n, err, sticky);
        frost_status st = sweep(outp);
        const int64_t used = frost__io_fault_count();
        frost__io_fault_set(0, 0, false);
        if (st == FROST_OK && used < n) break; /* the fault came after the last operation */
        if (st == FROST_OK) {
            /* a single failure frost recovered from (a fold that failed
             * leaves the run pending, and the end of the sweep folds it):
             * then nothing may be missing */
            cr_assert(!sticky, "fault %lld: a full disk went unnoticed", (long long)n);
            frost_results got;
            cr_assert_eq(frost_results_load(&got, outp), FROST_OK);
            cr_assert_eq(got.n, 4, "fault %lld: the sweep succeeded with %lld runs", (long long)n, (long long)got.n);
            assert_subset(&got, &ref);
            frost_results_release(&got);
            cr_assert_not(any_temporary(dir));
            continue;
        }
        const char *m = frost_last_error();
        cr_assert_eq(st, FROST_ERR_IO, "fault %lld: %s", (long long)n, m);
        cr_assert_null(strchr(m, '\n'), "fault %lld: more than one line: %s", (long long)n, m);
        cr_assert(strstr(m, dir), "fault %lld: the message names no file of ours: %s", (long long)n, m);
        cr_assert(strstr(m, strerror(err)), "fault %lld: the message gives no reason: %s", (long long)n, m);
        cr_assert_not(any_temporary(dir), "fault %lld: a temporary file was left", (long long)n);
        /* what was stored before the fault is intact */
        if (tu_exists(outp) || tu_exists(tu_path(dir, "r.h5.pending"))) {
            frost_results got;
            cr_assert_eq(frost_results_load(&got, outp), FROST_OK, "fault %lld: %s", (long long)n, frost_last_error());
            assert_subset(&got, &ref);
            for (int64_t k = 0; k < got.n; k++) {
                frost_run_state s;
                cr_assert_eq(frost_results_read_state(outp, got.runs[k].id, &s), FROST_OK, "%s", frost_last_error());
                frost_run_state_release(&s);
            }
            frost_results_release(&got);
        }
        /* and the same sweep again finishes it, with the same numbers */
        cr_assert_eq(sweep(outp), FROST_OK, "fault %lld, resuming: %s", (long long)n, frost_last_error());
        frost_results got;
        cr_assert_eq(frost_results_load(&got, outp), FROST_OK);
        cr_assert_eq(got.n, 4);
        assert_subset(&got, &ref);
        frost_results_release(&got);
        cr_assert_not(tu_exists(tu_path(dir, "r.h5.pending")), "fault %lld: pending runs left after resuming",
                      (long long)n);
    }
    cr_assert_gt(n, ops, "the sweep succeeded with fault %lld of %lld operations", (long long)n, (long long)ops);
    cr_assert_gt(ops, 20, "only %lld write operations counted", (long long)ops);
    frost_results_release(&ref);
}

Test(faults, every_write_of_a_sweep_fails_in_turn_full_disk, .init = setup)
{
    sweep_each_fault(ENOSPC, true);
}

Test(faults, every_write_of_a_sweep_fails_in_turn_io_error, .init = setup)
{
    sweep_each_fault(EIO, false);
}

/* ---- the library's other writers ---------------------------------------------------- */

typedef frost_status (*write_fn)(const char *out);

static frost_status w_synth(const char *out)
{
    frost_synth_opts o = frost_synth_opts_default();
    o.num_nodes = 100;
    o.num_edges = 300;
    o.num_features = 4;
    return frost_synth(out, &o);
}

static frost_status w_partition_in_place(const char *out)
{
    frost_dataset ds;
    frost_status st = frost_dataset_load(&ds, out);
    if (st == FROST_OK) st = frost_dataset_partition(&ds, 2, 0.03, 0, "metis-k2");
    if (st == FROST_OK) st = frost_dataset_save(&ds, out, 1);
    frost_dataset_release(&ds);
    return st;
}

static frost_status w_text(const char *out)
{
    frost__text t;
    frost__text_init(&t);
    for (int k = 0; k < 20000; k++) frost__text_printf(&t, "%d,%d\n", k, k * k);
    return frost__text_commit(&t, out);
}

/* fn(out) with every fault in turn: a failure leaves `keep` (if given) as
 * it was, and no temporary; then fn succeeds. */
static void each_fault(write_fn fn, const char *out, const char *keep)
{
    long size = keep ? tu_file_size(keep) : 0;
    int64_t n;
    for (n = 1; n < 2000; n++) {
        frost__io_fault_set(n, ENOSPC, true);
        frost_status st = fn(out);
        frost__io_fault_set(0, 0, false);
        if (st == FROST_OK) break;
        const char *m = frost_last_error();
        cr_assert_null(strchr(m, '\n'), "%s", m);
        cr_assert(strstr(m, out) && strstr(m, strerror(ENOSPC)), "fault %lld: %s", (long long)n, m);
        cr_assert_not(any_temporary(dir), "fault %lld on %s: a temporary was left", (long long)n, out);
        if (keep) {
            cr_assert_eq(tu_file_size(keep), size, "fault %lld: %s changed", (long long)n, keep);
            frost_dataset ds;
            cr_assert_eq(frost_dataset_load(&ds, keep), FROST_OK, "%s", frost_last_error());
            frost_dataset_release(&ds);
        } else {
            cr_assert_not(tu_exists(out), "fault %lld: a failed %s exists", (long long)n, out);
        }
    }
    cr_assert_gt(n, 3, "%s: too few operations", out);
    cr_assert_lt(n, 2000);
}

Test(faults, dataset_partition_and_text_writers, .init = setup)
{
    each_fault(w_synth, tu_path(dir, "s.h5"), NULL);
    char g[1100];
    snprintf(g, sizeof g, "%s", tu_path(dir, "g.h5"));
    each_fault(w_partition_in_place, g, g);
    each_fault(w_text, tu_path(dir, "t.csv"), NULL);
}

/* ---- every verb that writes, through the frost program -------------------------------- */

typedef struct cli_out {
    int status; /* exit status, or -signal */
    char err[4096];
    int lines;
} cli_out;

static void frost_fault(cli_out *r, const char *fault, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && FROST_FAULT=%s %s %s >/dev/null 2>%s/cli-err", dir, fault,
             getenv("FROST_FAULT_BIN"), args, dir);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (WIFSIGNALED(st)) r->status = -WTERMSIG(st);
    FILE *f = fopen(tu_path(dir, "cli-err"), "r");
    size_t n = f ? fread(r->err, 1, sizeof r->err - 1, f) : 0;
    if (f) fclose(f);
    r->err[n] = 0;
    r->lines = 0;
    for (char *p = r->err; *p; p++) r->lines += *p == '\n';
}

/* args with every fault in turn: exit 1 (never a crash), one line with the
 * reason, no temporary, `keep` unchanged; the first n it survives ends it. */
static void cli_each_fault(const char *args, const char *keep, const char *mode)
{
    cli_out r;
    long size = keep ? tu_file_size(tu_path(dir, keep)) : 0;
    const char *reason = strstr(mode, "eio") ? strerror(EIO) : strerror(ENOSPC);
    int n;
    for (n = 1; n < 400; n++) {
        char f[64];
        snprintf(f, sizeof f, "%d%s", n, mode);
        frost_fault(&r, f, args);
        if (r.status == 0) break;
        cr_assert_eq(r.status, 1, "frost %s, fault %s: exit %d: %s", args, f, r.status, r.err);
        cr_assert_eq(r.lines, 1, "frost %s, fault %s: %s", args, f, r.err);
        cr_assert(strstr(r.err, reason), "frost %s, fault %s: %s", args, f, r.err);
        cr_assert_not(any_temporary(dir), "frost %s, fault %s: a temporary was left", args, f);
        if (keep) cr_assert_eq(tu_file_size(tu_path(dir, keep)), size, "frost %s, fault %s: %s changed", args, f, keep);
    }
    cr_assert_gt(n, 1, "frost %s wrote nothing", args);
    cr_assert_lt(n, 400);
}

Test(faults, every_verb_that_writes, .init = setup)
{
    /* a results file to read from */
    frost__io_fault_set(0, 0, false);
    cr_assert_eq(sweep(tu_path(dir, "r.h5")), FROST_OK, "%s", frost_last_error());
    char *src = tu_tmpdir();
    tu_make_ogb(src);
    char args[2048];
    const char *modes[2] = {"", ":once:eio"};
    for (int m = 0; m < 2; m++) {
        const char *mode = modes[m];
        cli_each_fault("synth s.h5 --nodes 100 --edges 300 --features 4", NULL, mode);
        unlink(tu_path(dir, "s.h5"));
        snprintf(args, sizeof args, "import ogb %s i.h5 --quiet", src);
        cli_each_fault(args, NULL, mode);
        unlink(tu_path(dir, "i.h5"));
        cli_each_fault("partition g.h5 --parts 2", "g.h5", mode);
        snprintf(args, sizeof args, "import edgelist %s/raw/edge.csv.gz el.h5 --num-classes 2 --quiet", src);
        cli_each_fault(args, NULL, mode);
        unlink(tu_path(dir, "el.h5"));
        cli_each_fault("export r.h5 trained-gcn-seed0 -o m.h5", NULL, mode);
        cli_each_fault("export r.h5 trained-gcn-seed0 --dense -o dense.h5", NULL, mode);
        unlink(tu_path(dir, "dense.h5"));
        cli_each_fault("predict m.h5 g.h5 -o p.h5", NULL, mode);
        unlink(tu_path(dir, "m.h5"));
        unlink(tu_path(dir, "p.h5"));
        cli_each_fault("report r.h5 --history trained-gcn-seed0 -o hist", NULL, mode);
        tu_rmtree(tu_path(dir, "hist"));
        cli_each_fault("report r.h5 --no-plots -o rep", NULL, mode);
        tu_rmtree(tu_path(dir, "rep"));
        cli_each_fault("bench g.h5 --what spmm --widths 4 --repeat 1 --warmup 0 --json b.json", NULL, mode);
        unlink(tu_path(dir, "b.json"));
        cli_each_fault("merge merged.h5 r.h5", NULL, mode);
        remove_output("merged.h5");
        cli_each_fault("run e.cfg --quiet --set 'output=\"cli.h5\"'", NULL, mode);
        remove_output("cli.h5");
    }
    tu_rmtree(src);
    free(src);
}

/* ---- a real full disk ------------------------------------------------------------------ */

/* A 300 KiB tmpfs (root only; skipped when mounting is not allowed): a sweep
 * whose runs do not all fit. */
Test(faults, a_full_tmpfs, .init = setup)
{
    char mp[1100];
    snprintf(mp, sizeof mp, "%s/small", dir);
    mkdir(mp, 0755);
    if (geteuid() != 0 || mount("tmpfs", mp, "tmpfs", 0, "size=300k") != 0)
        cr_skip_test("cannot mount a tmpfs here (%s)", geteuid() != 0 ? "not root" : strerror(errno));
    /* runs of about 70 KiB each: 128 features x 128 hidden */
    write_cfg("unused.h5");
    make_graph(tu_path(dir, "wide.h5"), 128);
    char args[2048];
    cli_out r;
    snprintf(args, sizeof args,
             "run e.cfg --quiet --set 'dataset=\"%s/wide.h5\"' --set 'output=\"%s/r.h5\"' --set 'method=\"trained\"' "
             "--set runs=6 --set model.hidden=128",
             dir, mp);
    frost_fault(&r, "0", args);
    const int status = r.status;
    frost_results got;
    frost_status st = frost_results_load(&got, tu_path(mp, "r.h5"));
    const bool tmp = any_temporary(mp);
    const int64_t n = st == FROST_OK ? got.n : -1;
    if (st == FROST_OK) frost_results_release(&got);
    umount2(mp, MNT_DETACH);
    cr_assert_eq(status, 1, "exit %d: %s", status, r.err);
    cr_assert_eq(r.lines, 1, "%s", r.err);
    cr_assert(strstr(r.err, "No space left on device") && strstr(r.err, mp), "%s", r.err);
    cr_assert_not(tmp, "a temporary was left on the full disk");
    cr_assert_eq(st, FROST_OK, "the runs that fitted are unreadable");
    cr_assert_geq(n, 1, "no run fitted");
    cr_assert_lt(n, 6);
}

/*
 * test_crash.c - crash safety of the results file: a sweep killed with
 * SIGKILL at random moments, several times, then resumed. The file is
 * readable after every kill, holds each finished run exactly once, and the
 * final runs and summary equal those of an uninterrupted sweep.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(crash, .timeout = 600);

static char *dir;

/* Configuration text without its output line (the two sweeps write to
 * different files). */
static void strip_output(char *dst, size_t cap, const char *cfg)
{
    size_t w = 0;
    for (const char *p = cfg; *p;) {
        const char *e = strchr(p, '\n');
        size_t L = e ? (size_t)(e - p + 1) : strlen(p);
        if (strncmp(p, "output = ", 9) != 0 && w + L < cap) {
            memcpy(dst + w, p, L);
            w += L;
        }
        p += L;
    }
    dst[w] = 0;
}

static pid_t spawn(const char *cfg)
{
    return tu_frost_start(NULL, NULL, (const char *const[]){"run", cfg, "--quiet", NULL}, "/dev/null", "/dev/null");
}

static void write_cfg(const char *name, const char *output)
{
    char text[2048];
    snprintf(text, sizeof text,
             "dataset = \"%s/d.h5\";\noutput = \"%s/%s\";\nmethod = [\"trained\", \"slt\"];\nepochs = 40;\nruns = 2;\n"
             "model = { hidden = 64; norm = \"batch\"; };\nslt = { sparsity = [0.3, 0.5, 0.7]; };\n",
             dir, dir, output);
    tu_writef(dir, name, text);
}

Test(crash, sigkill_at_random_moments_then_resume)
{
    dir = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(3000, 15000, 32, 0);
    tu_synth(tu_path(dir, "d.h5"), &o);
    write_cfg("ref.cfg", "ref.h5");
    write_cfg("crash.cfg", "crash.h5");

    /* the uninterrupted sweep, timed to place the kills */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status;
    pid_t pid = spawn(tu_path(dir, "ref.cfg"));
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reference sweep failed");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double total = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    frost_rng r;
    frost_rng_init(&r, (uint64_t)time(NULL), 1);
    int kills = 0, rounds = 0;
    int64_t last_count = 0;
    for (;;) {
        rounds++;
        cr_assert_lt(rounds, 60, "the sweep never finished");
        pid = spawn(tu_path(dir, "crash.cfg"));
        bool killed = false;
        if (kills < 5) {
            /* somewhere within a fifth of the whole sweep's time */
            useconds_t us = (useconds_t)(1e6 * total * (0.02 + 0.18 * frost_rng_next_double(&r)));
            usleep(us);
            killed = kill(pid, SIGKILL) == 0;
        }
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status) && killed) kills++;
        else cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a resumed sweep failed (status %d)", status);
        /* after every stop the file is complete and readable */
        if (tu_exists(tu_path(dir, "crash.h5"))) {
            frost_results res;
            cr_assert_eq(frost_results_load(&res, tu_path(dir, "crash.h5")), FROST_OK, "unreadable after a kill: %s",
                         frost_last_error());
            for (int64_t a = 0; a < res.n; a++)
                for (int64_t b = a + 1; b < res.n; b++) cr_assert_str_neq(res.runs[a].id, res.runs[b].id);
            cr_assert_geq(res.n, last_count, "finished runs were lost");
            last_count = res.n;
            frost_results_release(&res);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) break;
    }
    cr_assert_geq(kills, 3, "only %d kills landed", kills);

    frost_results a, b;
    cr_assert_eq(frost_results_load(&a, tu_path(dir, "ref.h5")), FROST_OK);
    cr_assert_eq(frost_results_load(&b, tu_path(dir, "crash.h5")), FROST_OK);
    cr_assert_eq(a.n, b.n);
    cr_assert_eq(a.n, 8, "2 trained and 3 x 2 slt runs, found %lld", (long long)a.n);
    for (int64_t k = 0; k < a.n; k++) {
        const frost_run_info *y = frost_results_find(&b, a.runs[k].id);
        cr_assert_not_null(y, "run %s missing after the kills", a.runs[k].id);
        static char ca[8192], cb[8192];
        strip_output(ca, sizeof ca, a.runs[k].config);
        strip_output(cb, sizeof cb, y->config);
        cr_assert_str_eq(ca, cb);
        cr_assert_eq(y->test_metric, a.runs[k].test_metric, "run %s differs", a.runs[k].id);
        cr_assert_str_eq(y->logits_hash, a.runs[k].logits_hash);
    }
    frost_summary_row *ra, *rb;
    int64_t na, nb;
    cr_assert_eq(frost_results_summarize(&a, &ra, &na), FROST_OK);
    cr_assert_eq(frost_results_summarize(&b, &rb, &nb), FROST_OK);
    cr_assert_eq(na, nb);
    for (int64_t k = 0; k < na; k++) {
        bool found = false;
        static char ka[8192], kb[8192];
        strip_output(ka, sizeof ka, ra[k].config);
        for (int64_t q = 0; q < nb; q++) {
            strip_output(kb, sizeof kb, rb[q].config);
            if (strcmp(ka, kb) == 0) {
                found = true;
                cr_assert_eq(ra[k].test_mean, rb[q].test_mean);
                cr_assert_eq(ra[k].test_std, rb[q].test_std);
                cr_assert_eq(ra[k].runs, rb[q].runs);
            }
        }
        cr_assert(found);
    }
    frost_summary_release(ra, na);
    frost_summary_release(rb, nb);
    frost_results_release(&a);
    frost_results_release(&b);
    tu_rmtree(dir);
    free(dir);
}

/* checkpoint_every: a run killed with SIGKILL after a checkpoint and started
 * again continues from it (it says so) and ends bit-identical to the same
 * run never stopped: logits, best epoch, metrics, final loss; the
 * checkpoint folder is gone once the run is stored. A supermask GCN with
 * batch norm, dropout, AdamW and a cosine schedule, so the optimizer's
 * moments and step count, the scores, the running statistics and the best
 * state so far all have to come back. */
/* Runs body (one run, run id `id`, 120 epochs, checkpoint_every = 4) into
 * dir/ref.h5 uninterrupted, and into dir/ck.h5 killed with SIGKILL once its
 * second checkpoint is there, then run again: the two end bit-identical
 * (logits hash, best epoch, metrics, every epoch's loss and validation
 * metric). The killed run's checkpoint is kept as dir/saved.ckpt. */
static void kill_and_continue(const char *body, const char *id)
{
    char text[2048];
    remove(tu_path(dir, "ref.h5"));
    remove(tu_path(dir, "ck.h5"));
    snprintf(text, sizeof text, "dataset = \"%s/d.h5\";\noutput = \"%s/ref.h5\";\n%s", dir, dir, body);
    tu_writef(dir, "ref.cfg", text);
    snprintf(text, sizeof text, "dataset = \"%s/d.h5\";\noutput = \"%s/ck.h5\";\n%s", dir, dir, body);
    tu_writef(dir, "ck.cfg", text);
    int status;
    pid_t pid = spawn(tu_path(dir, "ref.cfg"));
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the uninterrupted run failed");
    cr_assert_not(tu_exists(tu_path(dir, "ref.h5.checkpoints")), "a stored run leaves no checkpoint");

    /* killed once its second checkpoint is there */
    char ck[1200];
    snprintf(ck, sizeof ck, "%s/ck.h5.checkpoints", dir);
    pid = spawn(tu_path(dir, "ck.cfg"));
    struct stat sb;
    time_t first = 0;
    bool killed = false;
    for (int k = 0; k < 60000 && !killed; k++) {
        DIR *dd = opendir(ck);
        struct dirent *de;
        char f[1500] = "";
        while (dd && (de = readdir(dd)))
            if (strstr(de->d_name, ".ckpt") && !strstr(de->d_name, ".tmp.")) snprintf(f, sizeof f, "%s/%s", ck, de->d_name);
        if (dd) closedir(dd);
        if (f[0] && stat(f, &sb) == 0) {
            if (!first) first = sb.st_mtime, (void)first;
            else if (sb.st_mtim.tv_nsec || sb.st_mtime != first) killed = kill(pid, SIGKILL) == 0;
        }
        if (!killed) usleep(1000);
    }
    waitpid(pid, &status, 0);
    cr_assert(killed && WIFSIGNALED(status), "the run finished before a second checkpoint (status %d)", status);
    cr_assert_not(tu_exists(tu_path(dir, "ck.h5")), "killed mid-run, nothing stored yet");
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "cp '%s/%s.ckpt' '%s/saved.ckpt'", ck, id, dir);
    cr_assert_eq(system(cmd), 0, "no checkpoint named by the run id");

    static tu_run R; /* large: not on the stack */
    TU_FROST(&R, "run", tu_path(dir, "ck.cfg"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "continued from its checkpoint after epoch "), "%s", R.err);
    cr_assert_not(tu_exists(ck), "the checkpoint folder outlived its stored run");

    frost_results a, b;
    cr_assert_eq(frost_results_load(&a, tu_path(dir, "ref.h5")), FROST_OK);
    cr_assert_eq(frost_results_load(&b, tu_path(dir, "ck.h5")), FROST_OK);
    cr_assert_eq(a.n, 1);
    cr_assert_eq(b.n, 1);
    const frost_run_info *x = &a.runs[0], *y = &b.runs[0];
    cr_assert_str_eq(x->id, y->id);
    cr_assert_str_eq(x->logits_hash, y->logits_hash, "%s: logits differ after the restart", id);
    cr_assert_eq(x->best_epoch, y->best_epoch);
    cr_assert_eq(x->test_metric, y->test_metric);
    cr_assert_eq(x->val_metric, y->val_metric);
    cr_assert_eq(x->epochs_run, y->epochs_run);
    /* every epoch's loss and every evaluation, bit for bit */
    frost_epoch_record *hx, *hy;
    int64_t nx, ny;
    cr_assert_eq(frost_results_read_history(tu_path(dir, "ref.h5"), x->id, &hx, &nx), FROST_OK);
    cr_assert_eq(frost_results_read_history(tu_path(dir, "ck.h5"), y->id, &hy, &ny), FROST_OK);
    cr_assert_eq(nx, 120);
    cr_assert_eq(ny, nx);
    for (int64_t k = 0; k < nx; k++) {
        cr_assert(memcmp(&hx[k].loss, &hy[k].loss, sizeof hx[k].loss) == 0, "%s: epoch %lld loss differs", id, (long long)k + 1);
        cr_assert(memcmp(&hx[k].valid_metric, &hy[k].valid_metric, sizeof(double)) == 0, "epoch %lld", (long long)k + 1);
    }
    free(hx);
    free(hy);
    frost_results_release(&a);
    frost_results_release(&b);
}

Test(crash, sigkill_mid_run_continues_from_its_checkpoint)
{
    dir = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(6000, 30000, 64, 0);
    tu_synth(tu_path(dir, "d.h5"), &o);
    const char *body = "method = \"slt\";\nepochs = 120;\nruns = 1;\neval_every = 3;\ncheckpoint_every = 4;\n"
                       "model = { hidden = 128; norm = \"batch\"; dropout = 0.3; };\n"
                       "optim = { name = \"adamw\"; lr = 0.01; schedule = \"cosine\"; };\n"
                       "slt = { sparsity = 0.5; freeze = 0.2; };\n";
    /* the mini-batch trainers too: Cluster-GCN and neighbour sampling */
    char mb[1024];
    snprintf(mb, sizeof mb, "%sbatch = { mode = \"cluster\"; parts = 6; parts_per_batch = 2; };\n", body);
    kill_and_continue(mb, "slt-gcn-seed0");
    snprintf(mb, sizeof mb, "%sbatch = { mode = \"neighbor\"; size = 256; fanout = [5, 3]; };\n", body);
    kill_and_continue(mb, "slt-gcn-seed0");
    kill_and_continue(body, "slt-gcn-seed0");
    char text[2048], cmd[4000], ck[1200];
    static tu_run R; /* large: not on the stack */
    snprintf(ck, sizeof ck, "%s/ck.h5.checkpoints", dir);

    /* a checkpoint left beside a run already stored (a kill between the
     * store and its removal) goes at the next run of the command */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/saved.ckpt' '%s/slt-gcn-seed0.ckpt'", ck, dir, ck);
    cr_assert_eq(system(cmd), 0);
    TU_FROST(&R, "run", tu_path(dir, "ck.cfg"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.err, "(1 already there)"), "%s", R.err);
    cr_assert_not(tu_exists(ck), "a stored run's stale checkpoint stayed");

    /* the same checkpoint under another output (not part of the key): used;
     * with another kernel path (FROST_ISA=generic): not used, and said so */
    for (int other = 1; other >= 0; other--) {
        snprintf(text, sizeof text, "dataset = \"%s/d.h5\";\noutput = \"%s/o%d.h5\";\n%s", dir, dir, other, body);
        tu_writef(dir, "o.cfg", text);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/o%d.h5.checkpoints' && cp '%s/saved.ckpt' '%s/o%d.h5.checkpoints/slt-gcn-seed0.ckpt'",
                 dir, other, dir, dir, other);
        cr_assert_eq(system(cmd), 0);
        if (other) TU_FROST_ENV(&R, "FROST_ISA=generic", "run", tu_path(dir, "o.cfg"));
        else TU_FROST(&R, "run", tu_path(dir, "o.cfg"));
        cr_assert_eq(R.status, 0, "%s", R.err);
        if (other) {
            cr_assert_null(strstr(R.err, "continued from"), "a checkpoint of another kernel path was used: %s", R.err);
            cr_assert(strstr(R.err, "its checkpoint was not used (made by another run, configuration, dataset or kernel path)"),
                      "%s", R.err);
        } else {
            cr_assert(strstr(R.err, "continued from its checkpoint"), "%s", R.err);
        }
    }
    tu_rmtree(dir);
    free(dir);
}

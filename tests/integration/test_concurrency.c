/*
 * test_concurrency.c - several `frost run` processes on one results file:
 * nothing lost, nothing trained twice.
 *
 * Trainings are counted from what each process prints on stderr (not a
 * terminal): one "run ...: best epoch" line per run it trained and stored.
 * A run trained twice would print twice or, its second append refused,
 * make that process fail; both are caught.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(concurrency, .timeout = 300);

static char *dir;

static void setup(void)
{
    dir = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(300, 1500, 16, 4);
    char rest[2048];
    snprintf(rest, sizeof rest,
             "output = \"%s/r.h5\";\nmethod = \"trained\";\nepochs = 2;\n"
             "model = { name = \"gcn\"; layers = 2; hidden = 8; };\n",
             dir);
    tu_experiment(dir, &o, rest);
}

/* frost run e.cfg --set SET, stderr to dir/err-K. */
static pid_t spawn(int k, const char *set)
{
    char err[1100];
    snprintf(err, sizeof err, "%s/err-%d", dir, k);
    return tu_frost_start(NULL, NULL, (const char *const[]){"run", tu_path(dir, "e.cfg"), "--set", set, NULL},
                          "/dev/null", err);
}

/* Per id, how many "run ...: best epoch" lines the processes printed. */
typedef struct tally {
    char id[64][48];
    int count[64];
    int n, total;
} tally;

static void count_trainings(tally *t, int nproc)
{
    memset(t, 0, sizeof *t);
    for (int k = 0; k < nproc; k++) {
        char err[1100], line[1024];
        snprintf(err, sizeof err, "%s/err-%d", dir, k);
        FILE *f = fopen(err, "r");
        cr_assert_not_null(f);
        while (fgets(line, sizeof line, f)) {
            cr_assert(strncmp(line, "frost:", 6) != 0, "process %d failed: %s", k, line);
            if (!strstr(line, ": best epoch")) continue;
            /* "run I/N ID: best epoch ..." */
            char id[48] = "";
            if (sscanf(line, "run %*s %47[^:]", id) != 1) continue;
            int q = 0;
            while (q < t->n && strcmp(t->id[q], id) != 0) q++;
            if (q == t->n) {
                cr_assert_lt(t->n, 64);
                snprintf(t->id[t->n++], sizeof t->id[0], "%s", id);
            }
            t->count[q]++;
            t->total++;
        }
        fclose(f);
    }
}

static void wait_all(pid_t *pid, int n)
{
    for (int k = 0; k < n; k++) {
        int status;
        cr_assert_eq(waitpid(pid[k], &status, 0), pid[k]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d: status %d", k, status);
    }
}

/* Only the results file is left: no lock, no pending folder, no temporary. */
static void assert_tidy(void)
{
    cr_assert_not(tu_exists(tu_path(dir, "r.h5.lock")), "the lock file was left");
    cr_assert_not(tu_exists(tu_path(dir, "r.h5.pending")), "the pending folder was left");
    cr_assert_not(tu_any_with_prefix(dir, "r.h5.tmp"));
}

static void clean_output(void)
{
    unlink(tu_path(dir, "r.h5"));
    tu_rmtree(tu_path(dir, "r.h5.pending"));
    unlink(tu_path(dir, "r.h5.lock"));
}

/* 4 processes x 10 runs (seeds 0-9, 10-19, 20-29, 30-39), 20 times: 40 runs
 * every time, each trained once, all in the main file. */
Test(concurrency, four_writers_keep_every_run, .init = setup)
{
    for (int trial = 0; trial < 20; trial++) {
        clean_output();
        pid_t pid[4];
        for (int k = 0; k < 4; k++) {
            char set[64];
            snprintf(set, sizeof set, "seeds=[%d,%d,%d,%d,%d,%d,%d,%d,%d,%d]", 10 * k, 10 * k + 1, 10 * k + 2,
                     10 * k + 3, 10 * k + 4, 10 * k + 5, 10 * k + 6, 10 * k + 7, 10 * k + 8, 10 * k + 9);
            pid[k] = spawn(k, set);
        }
        wait_all(pid, 4);
        tally t;
        count_trainings(&t, 4);
        cr_assert_eq(t.total, 40, "trial %d: %d trainings", trial, t.total);
        cr_assert_eq(t.n, 40, "trial %d: %d distinct runs trained", trial, t.n);
        frost_results r;
        cr_assert_eq(frost_results_load(&r, tu_path(dir, "r.h5")), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(r.n, 40, "trial %d: %lld runs stored", trial, (long long)r.n);
        for (int64_t a = 0; a < r.n; a++) {
            cr_assert_eq(r.runs[a].order, a);
            for (int64_t b = a + 1; b < r.n; b++) cr_assert_str_neq(r.runs[a].id, r.runs[b].id);
        }
        frost_results_release(&r);
        assert_tidy();
    }
}

/* Three identical sweeps started together split the work: 10 runs stored,
 * 10 trainings in all. */
Test(concurrency, identical_sweeps_split_the_work, .init = setup)
{
    for (int trial = 0; trial < 10; trial++) {
        clean_output();
        pid_t pid[3];
        for (int k = 0; k < 3; k++) pid[k] = spawn(k, "runs=10");
        wait_all(pid, 3);
        tally t;
        count_trainings(&t, 3);
        cr_assert_eq(t.total, 10, "trial %d: %d trainings for 10 runs", trial, t.total);
        for (int q = 0; q < t.n; q++) cr_assert_eq(t.count[q], 1, "run %s trained %d times", t.id[q], t.count[q]);
        frost_results r;
        cr_assert_eq(frost_results_load(&r, tu_path(dir, "r.h5")), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(r.n, 10);
        frost_results_release(&r);
        assert_tidy();
    }
}

/* Until the first run's claim file is there (its process trains it), 60 s at most. */
static void wait_for_first_claim(void)
{
    char claim[1200];
    snprintf(claim, sizeof claim, "%s/r.h5.pending/trained-gcn-seed0.claim", dir);
    for (int k = 0; k < 6000 && !tu_exists(claim); k++) usleep(10000);
    cr_assert(tu_exists(claim), "no claim appeared");
}

/* A process killed while training leaves its claim file behind, but not its
 * lock: the same command again trains the run and finishes. */
Test(concurrency, a_killed_trainer_does_not_block, .init = setup)
{
    clean_output();
    /* long runs, so that the kill lands during training */
    pid_t pid = spawn(0, "epochs=100000");
    wait_for_first_claim();
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status));
    pid = spawn(1, "runs=2");
    wait_all(&pid, 1);
    frost_results r;
    cr_assert_eq(frost_results_load(&r, tu_path(dir, "r.h5")), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.n, 2);
    frost_results_release(&r);
    assert_tidy();
}

/* A process waiting for a run another process trains stops at once on
 * SIGTERM (one line, exit 1), without waiting for that run to end. */
Test(concurrency, a_waiting_process_stops_on_sigterm, .init = setup)
{
    clean_output();
    pid_t a = spawn(0, "epochs=100000");
    wait_for_first_claim();
    pid_t b = spawn(1, "epochs=100000");
    char err[1100];
    snprintf(err, sizeof err, "%s/err-1", dir);
    bool waiting = false;
    for (int k = 0; k < 6000 && !waiting; k++) {
        char *text = tu_slurp(err);
        waiting = text && strstr(text, "waiting for the process that trains it");
        free(text);
        if (!waiting) usleep(10000);
    }
    cr_assert(waiting, "the second process never waited");
    usleep(100000); /* well inside the wait */
    kill(b, SIGTERM);
    int status = 0;
    pid_t got = 0;
    for (int k = 0; k < 300 && got == 0; k++) { /* 3 s: the other run goes on for minutes */
        got = waitpid(b, &status, WNOHANG);
        if (got == 0) usleep(10000);
    }
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    if (got == 0) {
        kill(b, SIGKILL);
        waitpid(b, NULL, 0);
    }
    cr_assert_eq(got, b, "the waiting process did not stop within 3 s of SIGTERM");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
    char *text = tu_slurp(err);
    cr_assert(text && strstr(text, "interrupted"), "%s", text ? text : "");
    free(text);
}

/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/frost-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        abort();
    }
    return strdup(d);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void tu_rmtree(const char *path)
{
    if (path) nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void mkdirs_for(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    }
}

void tu_write(const char *path, const char *text)
{
    mkdirs_for(path);
    if (ends_with(path, ".gz")) {
        gzFile g = gzopen(path, "wb6");
        if (!g) abort();
        size_t n = strlen(text);
        if (n && gzwrite(g, text, (unsigned)n) != (int)n) abort();
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f) abort();
        fputs(text, f);
        fclose(f);
    }
}

void tu_writef(const char *dir, const char *name, const char *text) { tu_write(tu_path(dir, name), text); }

void tu_truncate(const char *path, long keep)
{
    if (truncate(path, keep) != 0) abort();
}

long tu_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

bool tu_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

bool tu_any_with_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool found = false;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) found = true;
    closedir(d);
    return found;
}

void tu_make_ogb(const char *dir)
{
    tu_writef(dir, "raw/num-node-list.csv.gz", "5\n");
    tu_writef(dir, "raw/num-edge-list.csv.gz", "6\n");
    tu_writef(dir, "raw/edge.csv.gz", "0,1\n1,2\n2,3\n3,4\n0,2\n4,0\n");
    tu_writef(dir, "raw/node-feat.csv.gz", "1,0,0\n0,1,0\n0,0,1\n0.5,0.25,-1e-3\n1e2,2.5,0\n");
    tu_writef(dir, "raw/node-label.csv.gz", "0\n1\n0\n1\n1\n");
    tu_writef(dir, "split/s0/train.csv.gz", "0\n1\n");
    tu_writef(dir, "split/s0/valid.csv.gz", "2\n");
    tu_writef(dir, "split/s0/test.csv.gz", "3\n4\n");
}

const char *tu_source_root(void)
{
    const char *r = getenv("FROST_SOURCE_ROOT");
    return r && *r ? r : ".";
}

const char *tu_path(const char *dir, const char *name)
{
    static _Thread_local char bufs[8][1024];
    static _Thread_local int k = 0;
    char *b = bufs[k++ & 7];
    snprintf(b, 1024, "%s/%s", dir, name);
    return b;
}

double tu_rel(double a, double b, double floor)
{
    double m = fmax(fmax(fabs(a), fabs(b)), floor);
    return fabs(a - b) / m;
}

static void **tu_blocks;
static size_t tu_nblocks, tu_capblocks;

void *tu_alloc(size_t bytes)
{
    if (tu_nblocks == tu_capblocks) {
        tu_capblocks = tu_capblocks ? 2 * tu_capblocks : 64;
        tu_blocks = realloc(tu_blocks, tu_capblocks * sizeof *tu_blocks);
        if (!tu_blocks) abort();
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) abort();
    tu_blocks[tu_nblocks++] = p;
    return p;
}

void tu_free_all(void)
{
    for (size_t k = 0; k < tu_nblocks; k++) free(tu_blocks[k]);
    free(tu_blocks);
    tu_blocks = NULL;
    tu_nblocks = tu_capblocks = 0;
}

void tu_import_cora(const char *dir)
{
    char src[1024];
    snprintf(src, sizeof src, "%s/datasets/cora", tu_source_root());
    cr_assert_eq(frost_import_ogb(src, tu_path(dir, "cora.h5"), NULL), FROST_OK, "%s", frost_last_error());
}

static char *cora_dir;

void tu_cora_setup(void)
{
    cora_dir = tu_tmpdir();
    tu_import_cora(cora_dir);
}

void tu_cora_teardown(void)
{
    tu_rmtree(cora_dir);
    free(cora_dir);
    cora_dir = NULL;
}

const char *tu_cora_dir(void) { return cora_dir; }

frost_summary_row tu_run_cora_gcn(const char *dataset, const char *output, const char *const *sets, int n_sets)
{
    char cfg[1024], set[1200];
    snprintf(cfg, sizeof cfg, "%s/experiments/cora-gcn.cfg", tu_source_root());
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, cfg), FROST_OK, "%s", frost_last_error());
    snprintf(set, sizeof set, "dataset=\"%s\"", dataset);
    cr_assert_eq(frost_config_set_arg(&c, set), FROST_OK);
    snprintf(set, sizeof set, "output=\"%s\"", output);
    cr_assert_eq(frost_config_set_arg(&c, set), FROST_OK);
    for (int k = 0; k < n_sets; k++) cr_assert_eq(frost_config_set_arg(&c, sets[k]), FROST_OK, "%s", sets[k]);
    char out[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, out, sizeof out), FROST_OK, "%s", frost_last_error());
    frost_results r;
    cr_assert_eq(frost_results_load(&r, out), FROST_OK);
    frost_summary_row *rows;
    int64_t n;
    cr_assert_eq(frost_results_summarize(&r, &rows, &n), FROST_OK);
    cr_assert_eq(n, 1);
    frost_summary_row row = rows[0];
    row.config = NULL; /* released with the rows */
    frost_summary_release(rows, n);
    frost_results_release(&r);
    return row;
}

void tu_run_cora_body(const char *body, const char *out, const char *const *sets, int n_sets)
{
    char text[4096];
    snprintf(text, sizeof text, "dataset = \"%s\";\noutput = \"%s\";\nsplit = \"public\";\nthreads = 1;\n%s",
             tu_path(tu_cora_dir(), "cora.h5"), tu_path(tu_cora_dir(), out), body);
    char name[160];
    snprintf(name, sizeof name, "%s.cfg", out);
    tu_writef(tu_cora_dir(), name, text);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(tu_cora_dir(), name)), FROST_OK, "%s", frost_last_error());
    for (int k = 0; k < n_sets; k++)
        cr_assert_eq(frost_config_set_arg(&c, sets[k]), FROST_OK, "%s", frost_last_error());
    char o[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, o, sizeof o), FROST_OK, "%s", frost_last_error());
}

void tu_same_histories(const char *a, const char *b, int64_t n_runs, int64_t epochs, double loss_tol, double valid_tol,
                       bool same_best, const char *tag)
{
    char pa[1100], pb[1100];
    snprintf(pa, sizeof pa, "%s", tu_path(tu_cora_dir(), a));
    snprintf(pb, sizeof pb, "%s", tu_path(tu_cora_dir(), b));
    frost_results ra, rb;
    cr_assert_eq(frost_results_load(&ra, pa), FROST_OK);
    cr_assert_eq(frost_results_load(&rb, pb), FROST_OK);
    cr_assert_eq(ra.n, n_runs);
    cr_assert_eq(rb.n, n_runs);
    for (int64_t k = 0; k < ra.n; k++) {
        const frost_run_info *x = &ra.runs[k], *y = frost_results_find(&rb, x->id);
        cr_assert_not_null(y);
        frost_epoch_record *ha, *hb;
        int64_t na, nb;
        cr_assert_eq(frost_results_read_history(pa, x->id, &ha, &na), FROST_OK);
        cr_assert_eq(frost_results_read_history(pb, x->id, &hb, &nb), FROST_OK);
        cr_assert_eq(na, epochs);
        cr_assert_eq(nb, epochs);
        double worst = 0;
        for (int64_t e = 0; e < na; e++) {
            const double r = tu_rel(ha[e].loss, hb[e].loss, 1e-6);
            worst = r > worst ? r : worst;
            cr_assert_leq(r, loss_tol, "%s %s epoch %lld: loss %.9g against %.9g", tag, x->id, (long long)ha[e].epoch,
                          hb[e].loss, ha[e].loss);
            cr_assert_leq(fabs(ha[e].valid_metric - hb[e].valid_metric), valid_tol, "%s %s epoch %lld: valid %.4f "
                          "against %.4f", tag, x->id, (long long)ha[e].epoch, hb[e].valid_metric, ha[e].valid_metric);
        }
        cr_log_info("%s %s: largest relative loss difference over %lld epochs %.2e", tag, x->id, (long long)na, worst);
        if (same_best) {
            cr_assert_eq(x->best_epoch, y->best_epoch);
            cr_assert_eq(x->test_metric, y->test_metric, "%s %s", tag, x->id);
        }
        free(ha);
        free(hb);
    }
    frost_results_release(&ra);
    frost_results_release(&rb);
}

char *tu_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc((size_t)n + 1, 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n, "%s: short read", path);
    fclose(f);
    return b;
}

/* ---- small synthetic datasets -------------------------------------------------------- */

frost_synth_opts tu_synth_opts(int64_t nodes, int64_t edges, int64_t features, int32_t classes)
{
    frost_synth_opts o = frost_synth_opts_default();
    o.num_nodes = nodes;
    o.num_edges = edges;
    o.num_features = features;
    if (classes > 0) o.num_classes = classes;
    return o;
}

void tu_synth(const char *path, const frost_synth_opts *o)
{
    cr_assert_eq(frost_synth(path, o), FROST_OK, "%s", frost_last_error());
}

void tu_experiment(const char *dir, const frost_synth_opts *o, const char *rest)
{
    if (o) tu_synth(tu_path(dir, "g.h5"), o);
    size_t n = strlen(dir) + strlen(rest) + 64;
    char *cfg = malloc(n);
    cr_assert_not_null(cfg);
    snprintf(cfg, n, "dataset = \"%s/g.h5\";\n%s", dir, rest);
    tu_writef(dir, "e.cfg", cfg);
    free(cfg);
}

void tu_synth_load(frost_dataset *ds, const char *path, const frost_synth_opts *o)
{
    tu_synth(path, o);
    cr_assert_eq(frost_dataset_load(ds, path), FROST_OK, "%s", frost_last_error());
}

frost_task_data tu_task(const frost_dataset *ds, const frost_split *sp, const float *prior)
{
    const frost_task_data d = {ds->num_nodes, ds->num_features, ds->feat, ds->label, FROST_TASK_MULTICLASS,
                               FROST_METRIC_ACCURACY, ds->num_classes, sp->train, sp->valid, sp->test,
                               sp->n_train, sp->n_valid, sp->n_test, prior};
    return d;
}

/* ---- the frost program, by argument vector ------------------------------------------ */

void tu_run_release(tu_run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

pid_t tu_frost_start(const char *cwd, const char *env, const char *const *args, const char *out, const char *err)
{
    const char *bin = getenv("FROST_BIN");
    cr_assert_not_null(bin, "FROST_BIN not set");
    int n = 0;
    while (args[n]) n++;
    char **argv = calloc((size_t)n + 2, sizeof *argv);
    cr_assert_not_null(argv);
    argv[0] = (char *)bin;
    for (int k = 0; k < n; k++) argv[k + 1] = (char *)args[k];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0) _exit(125);
        dup2(fo, 1);
        dup2(fe, 2);
        if (cwd && chdir(cwd) != 0) _exit(126);
        if (env) putenv((char *)env);
        /* under the sanitizers: no "Suppressions used" table on stderr (it is not frost's line) */
        const char *lsan = getenv("LSAN_OPTIONS");
        if (lsan) {
            char *v = NULL;
            if (asprintf(&v, "%s:print_suppressions=0", lsan) > 0) setenv("LSAN_OPTIONS", v, 1);
        }
        execv(bin, argv);
        _exit(127);
    }
    free(argv);
    return pid;
}

void tu_frost_finish(tu_run *r, pid_t pid, const char *out, const char *err)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    tu_run_release(r);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = tu_slurp(out);
    r->err = tu_slurp(err);
    for (char *p = r->err; *p; p++) r->err_lines += *p == '\n';
}

void tu_frost_run(tu_run *r, const char *cwd, const char *env, const char *const *args)
{
    /* not tu_path: its buffers may hold the arguments */
    char *logs = tu_tmpdir();
    char out[1100], err[1100];
    snprintf(out, sizeof out, "%s/stdout", logs);
    snprintf(err, sizeof err, "%s/stderr", logs);
    tu_frost_finish(r, tu_frost_start(cwd, env, args, out, err), out, err);
    tu_rmtree(logs);
    free(logs);
}

/*
 * test_hostile.c - "nothing lost, nothing injected": the frost program against
 * a hostile user (issue 18). Every command here is started by argument vector,
 * never through a shell, so the file names reach frost exactly as written.
 *
 *   names       names with spaces, quotes, $(...), backticks, ';' and a newline
 *               in every verb: they work, and the injection names create nothing
 *   clobber     an output that is one of the inputs (any spelling) or a frost
 *               file of another kind is refused, the file left as it was
 *   sizes       a model that cannot fit is refused naming the file that asked
 *   long_paths  paths of 1,100+ bytes work; beyond PATH_MAX refused, never cut
 *   unwritable  an output that cannot be written is refused before training
 *   small       the smaller cases: --set, epochs = 0, a folder as experiment,
 *               groups, huge integers, NaN features, a damaged file, SIGTERM
 *               and SIGHUP, a split without validation nodes
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(hostile, .timeout = 600);

/* ---- running frost without a shell: TU_FROST (testutil) ------------------------------- */

static char *logdir; /* each test's own folder (the signal tests' stdout and stderr) */

/* "dir/name" malloc'd, any length */
static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    cr_assert_geq(vasprintf(&s, f, ap), 0);
    va_end(ap);
    return s;
}

/* A --set value for a string: libconfig double quotes, '"' and '\' escaped,
 * control characters as \xNN. */
static char *set_str(const char *key, const char *v)
{
    size_t o = 0, cap = strlen(key) + 4 * strlen(v) + 8;
    char *s = malloc(cap);
    o += (size_t)snprintf(s, cap, "%s=\"", key);
    for (; *v; v++) {
        unsigned char u = (unsigned char)*v;
        if (u < 0x20) o += (size_t)snprintf(s + o, cap - o, "\\x%02x", u);
        else if (u == '"' || u == '\\') s[o++] = '\\', s[o++] = (char)u;
        else s[o++] = (char)u;
    }
    s[o++] = '"';
    s[o] = 0;
    return s;
}

static unsigned long file_sum(const char *path)
{
    char *b = NULL;
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s missing", path);
    unsigned long h = 5381;
    int c;
    while ((c = fgetc(f)) != EOF) h = h * 33 + (unsigned)c;
    fclose(f);
    free(b);
    return h;
}

static bool on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path) return false;
    char *copy = strdup(path), *save = NULL;
    bool found = false;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *p = join(d, prog);
        found = access(p, X_OK) == 0;
        free(p);
    }
    free(copy);
    return found;
}

static void setup(void) { logdir = tu_tmpdir(); }
static void teardown(void)
{
    tu_rmtree(logdir);
    free(logdir);
}

static tu_run R;

/* A small synthetic dataset (200 nodes, split "random"). */
static void synth(const char *path, const char *extra)
{
    TU_FROST(&R, "synth", path, "--nodes", "200", "--edges", "600", "--features", "8", "--classes", "3", "--quiet",
             "--force", extra ? extra : "--seed", extra ? "0" : "1");
    cr_assert_eq(R.status, 0, "synth %s: %s", path, R.err);
}

static const char *gcn_cfg(void)
{
    static char p[1200];
    snprintf(p, sizeof p, "%s/experiments/cora-gcn.cfg", tu_source_root());
    return p;
}

/* ---- 5. no shell anywhere ----------------------------------------------------------- */

Test(hostile, names_with_shell_characters_work_in_every_verb_and_inject_nothing, .init = setup, .fini = teardown)
{
    static const char *const names[] = {
        "x';touch INJECTED;'", "a b's", "$(touch INJECTED_DOLLAR)", "`touch INJECTED_TICK`",
        "semi;touch INJECTED_SEMI", "new\nline", "dq\"uote", "back\\slash",
    };
    char *d = tu_tmpdir();
    const bool gnuplot = on_path("gnuplot");
    char slt_cfg[1200];
    snprintf(slt_cfg, sizeof slt_cfg, "%s/experiments/cora-slt-gcn.cfg", tu_source_root());
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *B = names[k];
        /* every verb, with the name in its inputs and outputs, run in d (where an injection would land) */
        char *src = fmt("%s-src", B), *imp = fmt("%s-imp.h5", B), *syn = fmt("%s.h5", B), *part = fmt("%s-part.h5", B);
        char *resf = fmt("%s-res.h5", B), *model = fmt("%s-model.h5", B), *pred = fmt("%s-pred.h5", B);
        char *json = fmt("%s-bench.json", B), *csv = fmt("%s.csv", B), *rdir = fmt("%s-report", B);
        char *srcfull = join(d, src);
        char *plain = join(d, "plain-src");
        tu_make_ogb(plain);
        cr_assert_eq(rename(plain, srcfull), 0);
        free(plain);
        TU_FROST_IN(&R, d, "import", "ogb", src, imp, "--quiet");
        cr_assert_eq(R.status, 0, "import [%s]: %s", B, R.err);
        TU_FROST_IN(&R, d, "info", imp);
        cr_assert_eq(R.status, 0, "info [%s]: %s", B, R.err);
        TU_FROST_IN(&R, d, "synth", syn, "--nodes", "200", "--edges", "600", "--features", "8", "--classes", "3",
                    "--quiet");
        cr_assert_eq(R.status, 0, "synth [%s]: %s", B, R.err);
        TU_FROST_IN(&R, d, "partition", syn, "--parts", "2", "-o", part);
        cr_assert_eq(R.status, 0, "partition [%s]: %s", B, R.err);
        char *sd = set_str("dataset", syn), *so = set_str("output", resf);
        TU_FROST_IN(&R, d, "run", slt_cfg, "--quiet", "--set", sd, "--set", so, "--set", "split=\"random\"", "--set",
                    "epochs=2", "--set", "runs=1", "--set", "model.hidden=8", "--set", "slt.freeze=0.4", "--set",
                    "slt.sparsity=0.5");
        cr_assert_eq(R.status, 0, "run [%s]: %s", B, R.err);
        if (gnuplot)
            TU_FROST_IN(&R, d, "report", resf, "--csv", csv, "-o", rdir);
        else
            TU_FROST_IN(&R, d, "report", resf, "--csv", csv, "--no-plots");
        cr_assert_eq(R.status, 0, "report [%s]: %s", B, R.err);
        if (gnuplot) {
            char *png = fmt("%s/%s/gcn-test-vs-size.png", d, rdir);
            cr_assert(tu_exists(png), "report [%s] made no plot", B);
            free(png);
        }
        TU_FROST_IN(&R, d, "export", resf, "slt-gcn-seed0", "-o", model);
        cr_assert_eq(R.status, 0, "export [%s]: %s", B, R.err);
        TU_FROST_IN(&R, d, "predict", model, syn, "-o", pred);
        cr_assert_eq(R.status, 0, "predict [%s]: %s", B, R.err);
        cr_assert(strstr(R.out, "bit-identical"), "predict [%s]: %s", B, R.out);
        TU_FROST_IN(&R, d, "bench", syn, "--split", "random", "--what", "gcn", "--repeat", "1", "--warmup", "0",
                    "--json", json);
        cr_assert_eq(R.status, 0, "bench [%s]: %s", B, R.err);
        char *jtext = tu_slurp(tu_path(d, json));
        cr_assert(jtext[0] == '{' && strstr(jtext, "\"epoch_gcn\""), "bench [%s] JSON: %s", B, jtext);
        free(jtext);
        /* every output is there under its own name */
        const char *outs[] = {imp, syn, part, resf, model, pred, json, csv};
        for (size_t q = 0; q < sizeof outs / sizeof outs[0]; q++) {
            char *p = join(d, outs[q]);
            cr_assert(tu_exists(p), "[%s]: %s missing", B, outs[q]);
            free(p);
        }
        free(sd), free(so), free(src), free(srcfull), free(imp), free(syn), free(part), free(resf), free(model);
        free(pred), free(json), free(csv), free(rdir);
    }
    /* the injection names created nothing, here or in the folder the tests run in */
    cr_assert_not(tu_any_with_prefix(d, "INJECTED"), "a file name was run by a shell");
    cr_assert_not(tu_any_with_prefix(".", "INJECTED"), "a file name was run by a shell");
    cr_assert_not(tu_any_with_prefix(logdir, "INJECTED"), "a file name was run by a shell");
    tu_rmtree(d);
    free(d);
}

/* ---- 6. outputs never clobber inputs ---------------------------------------------- */

static void refused(const char *what, const char *needle)
{
    cr_assert_eq(R.status, 1, "%s: exit %d: %s", what, R.status, R.err);
    cr_assert_eq(R.err_lines, 1, "%s: %s", what, R.err);
    if (needle) cr_assert(strstr(R.err, needle), "%s: no '%s' in: %s", what, needle, R.err);
}

Test(hostile, outputs_never_clobber_inputs, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir();
    char *ds = join(d, "d.h5"), *ds2 = join(d, "d2.h5"), *r = join(d, "r.h5"), *m = join(d, "m.h5");
    synth(ds, NULL);
    synth(ds2, NULL);
    char *sd = set_str("dataset", ds), *so = set_str("output", r);
    TU_FROST(&R, "run", gcn_cfg(), "--quiet", "--set", sd, "--set", so, "--set", "split=\"random\"", "--set",
             "epochs=2", "--set", "runs=1", "--set", "model.hidden=8");
    cr_assert_eq(R.status, 0, "%s", R.err);
    const unsigned long r_sum = file_sum(r), d_sum = file_sum(ds), d2_sum = file_sum(ds2);

    /* export onto its own results file, by every spelling */
    cr_assert_eq(symlink(r, tu_path(d, "link.h5")), 0);
    cr_assert_eq(link(r, tu_path(d, "hard.h5")), 0);
    cr_assert_eq(mkdir(tu_path(d, "sub"), 0755), 0);
    char *dot = fmt("%s/./r.h5", d), *up = fmt("%s/sub/../r.h5", d), *lnk = join(d, "link.h5"), *hard = join(d, "hard.h5");
    const char *spellings[] = {r, dot, up, lnk, hard};
    for (size_t k = 0; k < 5; k++) {
        TU_FROST(&R, "export", r, "trained-gcn-seed0", "-o", spellings[k]);
        refused(spellings[k], "is the input");
        TU_FROST(&R, "export", r, "trained-gcn-seed0", "-o", spellings[k], "--force");
        refused(spellings[k], "is the input"); /* --force never allows it */
    }
    cr_assert_eq(file_sum(r), r_sum, "the results file changed");
    TU_FROST(&R, "export", r, "trained-gcn-seed0", "-o", m);
    cr_assert_eq(R.status, 0, "%s", R.err);
    const unsigned long m_sum = file_sum(m);

    /* predict onto its model or its dataset; onto another frost kind only with --force */
    TU_FROST(&R, "predict", m, ds, "-o", m);
    refused("predict -o MODEL", "is the input");
    TU_FROST(&R, "predict", m, ds, "-o", ds);
    refused("predict -o DATASET", "is the input");
    TU_FROST(&R, "predict", m, ds, "-o", ds2);
    refused("predict -o another dataset", "is a frost.dataset file");
    cr_assert_eq(file_sum(m), m_sum);
    cr_assert_eq(file_sum(ds), d_sum);
    cr_assert_eq(file_sum(ds2), d2_sum);
    TU_FROST(&R, "predict", m, ds, "-o", ds2, "--force");
    cr_assert_eq(R.status, 0, "%s", R.err);

    /* import, synth, partition, report, run */
    char *src = tu_tmpdir();
    tu_make_ogb(src);
    TU_FROST(&R, "import", "ogb", src, r);
    refused("import onto a results file", "is a frost.results file");
    char *edge = join(src, "raw/edge.csv.gz");
    TU_FROST(&R, "import", "ogb", src, edge, "--force");
    refused("import onto its own input", "is the input");
    TU_FROST(&R, "synth", m, "--nodes", "50");
    refused("synth onto a model file", "is a frost.model file");
    cr_assert_eq(file_sum(m), m_sum);
    char *dspell = fmt("%s/sub/../d.h5", d);
    TU_FROST(&R, "partition", ds, "--parts", "2", "-o", dspell);
    refused("partition -o DATASET", "is the input");
    TU_FROST(&R, "report", r, "--no-plots", "--csv", hard);
    refused("report --csv RESULTS", "is the input");
    TU_FROST(&R, "report", r, "--no-plots", "--csv", ds);
    refused("report --csv DATASET", "is a frost.dataset file");
    char *od = set_str("output", ds), *om = set_str("output", m), *oc = set_str("output", gcn_cfg());
    TU_FROST(&R, "run", gcn_cfg(), "--quiet", "--set", sd, "--set", od, "--set", "split=\"random\"");
    refused("run output = its dataset", "is the input");
    TU_FROST(&R, "run", gcn_cfg(), "--quiet", "--set", sd, "--set", om, "--set", "split=\"random\"");
    refused("run output = a model file", "runs are added only to a frost.results file");
    TU_FROST(&R, "run", gcn_cfg(), "--quiet", "--set", sd, "--set", oc, "--set", "split=\"random\"");
    refused("run output = its experiment file", "is the input");
    cr_assert_eq(file_sum(r), r_sum);
    cr_assert_eq(file_sum(ds), d_sum);
    cr_assert_eq(file_sum(m), m_sum);
    /* with --force a frost file of another kind is replaced */
    TU_FROST(&R, "import", "ogb", src, r, "--force", "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST(&R, "info", r);
    cr_assert(strstr(R.out, "frost.dataset"), "%s", R.out);
    free(od), free(om), free(oc), free(dspell), free(edge), free(sd), free(so), free(dot), free(up), free(lnk);
    free(hard), free(ds), free(ds2), free(r), free(m);
    tu_rmtree(src);
    free(src);
    tu_rmtree(d);
    free(d);
}

/* ---- 7. fail fast on sizes that cannot fit ----------------------------------------- */

Test(hostile, impossible_sizes_refused_naming_the_file, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir();
    char *ds = join(d, "d.h5"), *r = join(d, "r.h5"), *m = join(d, "m.h5"), *big = join(d, "big.h5");
    synth(ds, NULL);
    char *sd = set_str("dataset", ds), *so = set_str("output", r);
    /* what this process may use is pinned (FROST_MEM_AVAILABLE replaces MemAvailable) */
    TU_FROST_ENV(&R, "FROST_MEM_AVAILABLE=536870912", "run", gcn_cfg(), "--quiet", "--set", sd, "--set", so, "--set",
                 "split=\"random\"", "--set", "model.hidden=1048576");
    refused("run hidden=1048576", gcn_cfg());
    cr_assert(strstr(R.err, "hidden 1048576") && strstr(R.err, "GiB; this process may use "), "%s", R.err);
    cr_assert_not(tu_exists(r), "a refused run left a results file");

    /* the same model the library would build: frost_model_bytes_for against the real one */
    TU_FROST(&R, "run", gcn_cfg(), "--quiet", "--set", sd, "--set", so, "--set", "split=\"random\"", "--set",
             "epochs=2", "--set", "runs=1", "--set", "model.hidden=8");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST(&R, "export", r, "trained-gcn-seed0", "-o", m);
    cr_assert_eq(R.status, 0, "%s", R.err);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, gcn_cfg()), FROST_OK, "%s", frost_last_error());
    snprintf(c.dataset, sizeof c.dataset, "%s", ds);
    snprintf(c.split, sizeof c.split, "random");
    c.model.hidden = 8;
    frost_prepared p;
    cr_assert_eq(frost_prepare(&p, &c), FROST_OK, "%s", frost_last_error());
    frost_model_spec spec = frost_prepared_spec(&p, &c);
    size_t need = 0;
    cr_assert_eq(frost_model_bytes_for(&spec, p.ds.num_nodes, p.A.nnz, false, &need), FROST_OK);
    frost_model *model = NULL;
    cr_assert_eq(frost_model_new(&model, &spec, &p.A, &p.A, p.ds.num_nodes), FROST_OK, "%s", frost_last_error());
    cr_assert_geq(need, frost_model_bytes(model));
    cr_assert_leq(need, frost_model_bytes(model) + 5 * 64);
    frost_model_free(&model);
    frost_prepared_release(&p);

    /* a small model file that describes a huge model: refused by predict, naming that file */
    frost_model_file mf;
    cr_assert_eq(frost_model_file_load(&mf, m), FROST_OK, "%s", frost_last_error());
    char *at = strstr(mf.config, "hidden = 8;");
    cr_assert_not_null(at, "%s", mf.config);
    char *edited = fmt("%.*shidden = 1048576;%s", (int)(at - mf.config), mf.config, at + strlen("hidden = 8;"));
    free(mf.config);
    mf.config = edited;
    cr_assert_eq(frost_model_file_write(&mf, big), FROST_OK, "%s", frost_last_error());
    frost_model_file_release(&mf);
    cr_assert_lt(tu_file_size(big), 64 * 1024);
    TU_FROST_ENV(&R, "FROST_MEM_AVAILABLE=536870912", "predict", big, ds);
    refused("predict of a huge model", big);
    cr_assert(strstr(R.err, "needs") && strstr(R.err, "may use "), "%s", R.err);
    free(sd), free(so), free(ds), free(r), free(m), free(big);
    tu_rmtree(d);
    free(d);
}

/* ---- 8. long paths ------------------------------------------------------------------- */

Test(hostile, long_paths_work_and_are_never_cut, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir();
    /* 12 nested folders of 95 characters: more than 1,100 bytes */
    char *deep = strdup(d);
    char seg[96];
    memset(seg, 'q', 95);
    seg[95] = 0;
    for (int k = 0; k < 12; k++) {
        seg[0] = (char)('a' + k);
        char *next = join(deep, seg);
        free(deep);
        deep = next;
        cr_assert_eq(mkdir(deep, 0755), 0, "%s", strerror(errno));
    }
    cr_assert_gt(strlen(deep), 1100);
    char *src = join(deep, "src"), *ds = join(deep, "cora like.h5"), *cfg = join(deep, "e.cfg");
    char *r = join(deep, "out/r.h5"), *m = join(deep, "m.h5"), *pred = join(deep, "p.h5");
    char *plain = join(d, "plain");
    tu_make_ogb(plain);
    cr_assert_eq(rename(plain, src), 0);
    free(plain);
    TU_FROST(&R, "import", "ogb", src, ds, "--quiet");
    cr_assert_eq(R.status, 0, "import: %s", R.err);
    cr_assert(tu_exists(ds));
    /* the experiment file itself in the deep folder, the dataset named relative to it */
    FILE *f = fopen(cfg, "w");
    cr_assert_not_null(f);
    fprintf(f, "dataset = \"cora like.h5\";\nsplit = \"s0\";\nepochs = 2;\nruns = 1;\nmodel = { hidden = 8; };\n");
    fclose(f);
    char *so = set_str("output", r);
    TU_FROST(&R, "run", cfg, "--quiet", "--set", so);
    cr_assert_eq(R.status, 0, "run: %s", R.err);
    cr_assert(tu_exists(r));
    TU_FROST(&R, "export", r, "trained-gcn-seed0", "-o", m);
    cr_assert_eq(R.status, 0, "export: %s", R.err);
    TU_FROST(&R, "predict", m, ds, "-o", pred);
    cr_assert_eq(R.status, 0, "predict: %s", R.err);
    cr_assert(strstr(R.out, "bit-identical"), "%s", R.out);
    cr_assert(tu_exists(m) && tu_exists(pred));
    TU_FROST(&R, "report", r, "--no-plots");
    cr_assert_eq(R.status, 0, "report: %s", R.err);
    cr_assert(strstr(R.out, r), "the report names the results file in full: %s", R.out);
    /* nothing was written at a cut path: the first 1023 bytes name no file */
    const char *outs[] = {ds, r, m, pred};
    for (size_t k = 0; k < 4; k++) {
        char cut[1024];
        snprintf(cut, sizeof cut, "%s", outs[k]);
        cr_assert_not(tu_exists(cut), "%s exists", cut);
    }
    /* beyond what the system opens: refused in one line, not cut */
    char *huge = strdup(d);
    for (int k = 0; k < 45; k++) {
        char *next = join(huge, seg);
        free(huge);
        huge = next;
    }
    char *hm = join(huge, "m.h5");
    TU_FROST(&R, "export", r, "trained-gcn-seed0", "-o", hm);
    refused("export to a 4,300-byte path", "bytes long");
    char *sh = set_str("output", hm);
    TU_FROST(&R, "run", cfg, "--quiet", "--set", sh);
    refused("run into a 4,300-byte path", "longer than 4095 characters");
    /* short enough for the file, too long for its pending runs: refused before any run */
    char *near = strdup(d);
    while (strlen(near) < 3990) {
        char *next = join(near, "x");
        free(near);
        near = next;
    }
    char *nm = join(near, "r.h5"), *sn = set_str("output", nm);
    TU_FROST(&R, "run", cfg, "--quiet", "--set", sn);
    refused("run into a 3,990-byte path", "to leave room for the pending runs");
    cr_assert_not(tu_exists(tu_path(d, "x")), "a folder was made");
    free(sn), free(nm), free(near);
    free(sh), free(hm), free(huge), free(so), free(src), free(ds), free(cfg), free(r), free(m), free(pred), free(deep);
    tu_rmtree(d);
    free(d);
}

/* ---- 9. the output is checked before training -------------------------------------- */

Test(hostile, unwritable_output_refused_before_the_first_run, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir();
    char *ds = join(d, "d.h5");
    synth(ds, NULL);
    char *sd = set_str("dataset", ds);
    char *file = join(d, "plain.txt");
    tu_write(file, "x");
    char *under_file = join(file, "sub/r.h5");
    char *folder = join(d, "a-folder");
    cr_assert_eq(mkdir(folder, 0755), 0);
    char *ro = join(d, "ro");
    cr_assert_eq(mkdir(ro, 0555), 0);
    char *in_ro = join(ro, "r.h5");
    /* a folder nobody may write, root included: /proc */
    const char *cases[][2] = {{folder, "is a folder"},
                              {under_file, "is not a folder"},
                              {"/proc/frost-test-out.h5", "cannot write in the folder /proc"},
                              {in_ro, "cannot write in the folder"}};
    const size_t n = geteuid() == 0 ? 3 : 4; /* root writes in a 0555 folder */
    for (size_t k = 0; k < n; k++) {
        char *so = set_str("output", cases[k][0]);
        /* not --quiet: a started experiment prints "N runs -> OUTPUT" first */
        TU_FROST(&R, "run", gcn_cfg(), "--set", sd, "--set", so, "--set", "split=\"random\"", "--set", "runs=2");
        refused(cases[k][0], cases[k][1]);
        cr_assert_not(strstr(R.err, " runs -> "), "the experiment started: %s", R.err);
        free(so);
    }
    cr_assert_not(tu_exists(under_file));
    free(sd), free(ds), free(file), free(under_file), free(folder), free(in_ro);
    chmod(ro, 0755);
    free(ro);
    tu_rmtree(d);
    free(d);
}

/* ---- 11. the smaller cases ------------------------------------------------------------ */

Test(hostile, set_and_config_edge_cases, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir();
    char *ds = join(d, "d.h5");
    synth(ds, NULL);
    char *sd = set_str("dataset", ds), *so = set_str("output", tu_path(d, "r.h5"));
    TU_FROST(&R, "run", gcn_cfg(), "--dry-run", "--set", sd, "--set", so, "--set", "model.hidden=32;epochs=3");
    refused("two settings in one --set", "one key=value per --set");
    TU_FROST(&R, "run", gcn_cfg(), "--dry-run", "--set", "model.hidden");
    cr_assert_eq(R.status, 2, "--set without '=' is a usage error: %s", R.err);
    /* run ids that would be cut (and then name two runs) are refused, not merged */
    TU_FROST(&R, "run", gcn_cfg(), "--dry-run", "--set", sd, "--set", so, "--set", "runs=3", "--set", "seed=1234567890",
             "--set", "optim.lr=[0.01234567891234567]", "--set", "optim.weight_decay=[0.00012345678912345678]", "--set",
             "model.dropout=[0.123456789]", "--set", "model.hidden=[8]", "--set", "model.layers=[2]", "--set",
             "epochs=[200000]", "--set", "optim.name=[\"adamw\"]", "--set", "split=[\"random\"]");
    refused("a run id of more than 159 characters", "characters long, at most 159");
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    TU_FROST(&R, "run", gcn_cfg(), "--dry-run", "--set", sd, "--set", "epochs=0");
    refused("epochs = 0", "epochs = 0 is out of range, expected 1 ..");
    TU_FROST(&R, "run", d);
    refused("run DIR", "is a folder, expected an experiment file");
    cr_assert_not(strstr(R.err, "flex"), "%s", R.err);
    char *cfg = join(d, "e.cfg");
    tu_write(cfg, "model = 5;\n");
    TU_FROST(&R, "run", cfg, "--dry-run");
    refused("model = 5", "model is a group of settings");
    tu_write(cfg, "dataset = \"x\";\nepochs = 99999999999999999999;\n");
    TU_FROST(&R, "run", cfg, "--dry-run");
    refused("a 20-digit integer", "e.cfg:2: epochs = 99999999999999999999 is out of range");
    TU_FROST(&R, "run", gcn_cfg(), "--dry-run", "--set", sd, "--set", "epochs=99999999999999999999");
    refused("a 20-digit --set", "99999999999999999999 is out of range");
    cr_assert_not(strstr(R.err, "-1"), "%s", R.err);
    /* beyond 32 bits is not wrapped (libconfig 1.5 reads 4294967296 as 0 without an L) */
    TU_FROST(&R, "run", gcn_cfg(), "--dry-run", "--set", sd, "--set", "seed=4294967296", "--set", "runs=1");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert(strstr(R.out, "seed = 4294967296;") && strstr(R.out, "trained-gcn-seed4294967296"), "%s", R.out);
    free(cfg), free(sd), free(so), free(ds);
    tu_rmtree(d);
    free(d);
}

Test(hostile, nan_features_and_damaged_files, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir(), *src = tu_tmpdir();
    tu_make_ogb(src);
    tu_writef(src, "raw/node-feat.csv.gz", "1,0,0\n0,1,0\n0,nan,1\n0,0,0\n1,1,1\n");
    char *ds = join(d, "nan.h5");
    TU_FROST(&R, "import", "ogb", src, ds, "--quiet");
    cr_assert_eq(R.status, 0, "%s", R.err);
    TU_FROST(&R, "info", ds);
    refused("info on NaN features", "node 2, column 1 is NaN");
    cr_assert(strstr(R.err, "frost run refuses"), "%s", R.err);
    cr_assert(strstr(R.out, "NOT ALL FINITE") && strstr(R.out, "nodes        5"), "the summary is still printed: %s",
              R.out);
    /* a damaged root group: HDF5's reason, not "attribute 'format' missing" */
    char *ok = join(d, "ok.h5");
    synth(ok, NULL);
    const long size = tu_file_size(ok);
    char *bytes = tu_slurp(ok);
    long at = -1;
    for (long k = 0; k + 4 < size && at < 0; k++)
        if (memcmp(bytes + k, "OHDR", 4) == 0) at = k;
    cr_assert_geq(at, 0, "no object header found");
    bytes[at + 8] ^= 0x5a;
    char *bad = join(d, "damaged.h5");
    FILE *f = fopen(bad, "wb");
    cr_assert_eq(fwrite(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    TU_FROST(&R, "info", bad);
    refused("info on a damaged file", "damaged.h5: cannot read the root group, the file is damaged (HDF5: ");
    cr_assert_not(strstr(R.err, "attribute 'format' missing"), "%s", R.err);
    free(bytes), free(bad), free(ok), free(ds);
    tu_rmtree(src);
    tu_rmtree(d);
    free(src);
    free(d);
}

/* SIGTERM and SIGHUP as Ctrl-C: the run that finished is kept, one line
 * names the one that was not saved. The first sweep point trains one epoch,
 * the second ten million: the signal comes once the first is in the file. */
static void signal_stops_cleanly(int sig)
{
    char *d = tu_tmpdir();
    char *ds = join(d, "d.h5"), *r = join(d, "r.h5");
    synth(ds, NULL);
    char *sd = set_str("dataset", ds), *so = set_str("output", r);
    char o[600], e[600];
    snprintf(o, sizeof o, "%s/sig-out", logdir);
    snprintf(e, sizeof e, "%s/sig-err", logdir);
    const char *args[] = {"run", gcn_cfg(), "--quiet", "--set", sd, "--set", so, "--set", "split=\"random\"",
                          "--set", "runs=1", "--set", "eval_every=1000000", "--set", "model.hidden=4",
                          "--set", "epochs=[1, 10000000]", NULL};
    pid_t pid = tu_frost_start(NULL, NULL, args, o, e);
    for (;;) {
        frost_results rr;
        if (tu_exists(r) && frost_results_load(&rr, r) == FROST_OK) {
            const int64_t n = rr.n;
            frost_results_release(&rr);
            if (n >= 1) break;
        }
        int st;
        cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "frost run ended before the signal");
        usleep(20000);
    }
    kill(pid, sig);
    tu_frost_finish(&R, pid, o, e);
    cr_assert_eq(R.status, 1, "exit %d: %s", R.status, R.err);
    cr_assert_eq(R.err_lines, 1, "%s", R.err);
    /* during the second run, or (the signal between the two) right after the first */
    cr_assert(strstr(R.err, "interrupted during run trained-gcn-epochs10000000-seed0; it was not saved") ||
                  strstr(R.err, "interrupted after run trained-gcn-epochs1-seed0 (saved); 1 run not started, the next "
                                "trained-gcn-epochs10000000-seed0"),
              "%s", R.err);
    frost_results rr;
    cr_assert_eq(frost_results_load(&rr, r), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(rr.n, 1);
    cr_assert_str_eq(rr.runs[0].id, "trained-gcn-epochs1-seed0");
    frost_results_release(&rr);
    free(sd), free(so), free(ds), free(r);
    tu_rmtree(d);
    free(d);
}

Test(hostile, sigterm_keeps_finished_runs, .init = setup, .fini = teardown) { signal_stops_cleanly(SIGTERM); }
Test(hostile, sighup_keeps_finished_runs, .init = setup, .fini = teardown) { signal_stops_cleanly(SIGHUP); }

Test(hostile, split_without_validation_nodes_is_said, .init = setup, .fini = teardown)
{
    char *d = tu_tmpdir();
    char *ds = join(d, "nv.h5"), *r = join(d, "r.h5");
    synth(ds, "--valid");
    char *sd = set_str("dataset", ds), *so = set_str("output", r);
    TU_FROST(&R, "run", gcn_cfg(), "--quiet", "--set", sd, "--set", so, "--set", "split=\"random\"", "--set",
             "epochs=3", "--set", "runs=1", "--set", "model.hidden=8");
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.err_lines, 1, "one warning line: %s", R.err);
    cr_assert(strstr(R.err, "warning: ") && strstr(R.err, "has no validation nodes: every run reports its last epoch"),
              "%s", R.err);
    frost_results rr;
    cr_assert_eq(frost_results_load(&rr, r), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(rr.n, 1);
    cr_assert_eq(rr.runs[0].best_epoch, 3);
    cr_assert(strstr(rr.runs[0].message, "no validation nodes in split random: the last epoch (3) is reported"), "%s",
              rr.runs[0].message);
    frost_results_release(&rr);
    free(sd), free(so), free(ds), free(r);
    tu_rmtree(d);
    free(d);
}

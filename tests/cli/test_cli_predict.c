/*
 * test_cli_predict.c - `frost predict` with --base (portable reward tuning)
 * and --eft (EFT / proxy tuning) as users meet it, on the model files of a
 * small `frost run` of method "prt":
 *
 *  - the combined logits written with -o are log_softmax(z_base) + r and
 *    log_softmax(z_new) + alpha (log_softmax(z_ft) - log_softmax(z_pt)),
 *    computed here from each model's own `frost predict -o` logits, and the
 *    predicted classes their argmax; the printed test metric is the run's;
 *  - a model of another label set, a missing file, too few or too many
 *    arguments: one line on stderr naming the problem, exit status 1
 *    (runtime) or 2 (usage), no output file left behind.
 */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

static char *dir;           /* the suite's files */
static char models[1024];   /* r-models/RUN_ID: base-old, base-new, ft-old, ft-new, reward */
static char scenario[1024]; /* r-models/scenario.h5 */
static double prt_test, prt_valid, eft_test; /* the run's rows */

static tu_run R; /* the last run of the frost program (TU_FROST, testutil) */

/* A model file's path (tu_path's eight rotating buffers: at most eight paths
 * in one call). */
static const char *model(const char *name) { return tu_path(models, name); }

/* Write cfg as dir/name, then `frost run dir/name --quiet`, which succeeds. */
static void run_cfg(const char *name, const char *cfg)
{
    tu_writef(dir, name, cfg);
    TU_FROST(&R, "run", tu_path(dir, name), "--quiet");
    cr_assert_eq(R.status, 0, "%s: %s", name, R.err);
}

static void setup(void)
{
    dir = tu_tmpdir();
    TU_FROST(&R, "synth", tu_path(dir, "s.h5"), "--nodes", "1200", "--edges", "6000", "--features", "24", "--classes",
             "4", "--homophily", "0.5", "--signal", "1.0", "--seed", "9");
    cr_assert_eq(R.status, 0, "%s", R.err);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/s.h5\";\noutput = \"%s/r.h5\";\nmethod = \"prt\";\nruns = 1;\nepochs = 25;\n"
             "model = { name = \"mlp\"; layers = 2; hidden = 16; dropout = 0.5; };\n"
             "optim = { name = \"adam\"; lr = 0.02; weight_decay = 5e-4; };\n"
             "prt = { parts = 8; task_parts = 4; task_train_per_class = 5; task_valid_per_class = 10;\n"
             "  old_model = \"mlp\"; old_layers = 2; old_hidden = 16; old_pool_fraction = 0.5;\n"
             "  new_model = \"gcn\"; new_layers = 2; new_hidden = 16;\n"
             "  base_epochs = 40; init = \"base\"; eft_alpha = 0.5; infer_repeats = 1; };\n",
             dir, dir);
    run_cfg("prt.cfg", cfg);
    frost_results res;
    cr_assert_eq(frost_results_load(&res, tu_path(dir, "r.h5")), FROST_OK, "%s", frost_last_error());
    for (int64_t k = 0; k < res.n; k++) {
        const frost_run_info *ri = &res.runs[k];
        if (strcmp(ri->role, "prt") == 0) {
            char id[160];
            snprintf(id, sizeof id, "%s", ri->id);
            id[strlen(id) - 4] = 0;
            snprintf(models, sizeof models, "%s/r-models/%s", dir, id);
            prt_test = ri->test_metric;
            prt_valid = ri->val_metric;
        }
        if (strcmp(ri->role, "eft") == 0) eft_test = ri->test_metric;
    }
    frost_results_release(&res);
    cr_assert(models[0], "no prt row");
    snprintf(scenario, sizeof scenario, "%s/r-models/scenario.h5", dir);
    /* a model of another label set: a 3-class MLP on the same features */
    TU_FROST(&R, "synth", tu_path(dir, "s3.h5"), "--nodes", "300", "--edges", "900", "--features", "24", "--classes",
             "3", "--seed", "2");
    cr_assert_eq(R.status, 0, "%s", R.err);
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/s3.h5\";\noutput = \"%s/r3.h5\";\nmethod = \"trained\";\nruns = 1;\nepochs = 3;\n"
             "split = \"random\";\nmodel = { name = \"mlp\"; layers = 2; hidden = 8; };\n",
             dir, dir);
    run_cfg("c3.cfg", cfg);
    TU_FROST(&R, "export", tu_path(dir, "r3.h5"), "trained-mlp-seed0", "-o", tu_path(dir, "three.h5"));
    cr_assert_eq(R.status, 0, "%s", R.err);
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

TestSuite(cli_predict, .init = setup, .fini = teardown, .timeout = 300);

/* ---- predictions files ------------------------------------------------------------ */

typedef struct preds {
    int64_t N, C;
    float *logits;
    int32_t *pred;
} preds;

static void read_preds(preds *p, const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "cannot open %s", path);
    hid_t d = H5Dopen2(f, "logits", H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dims[2];
    cr_assert_eq(H5Sget_simple_extent_ndims(s), 2);
    H5Sget_simple_extent_dims(s, dims, NULL);
    p->N = (int64_t)dims[0], p->C = (int64_t)dims[1];
    p->logits = malloc((size_t)(p->N * p->C) * sizeof(float));
    cr_assert_geq(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->logits), 0);
    H5Sclose(s);
    H5Dclose(d);
    d = H5Dopen2(f, "prediction", H5P_DEFAULT);
    p->pred = malloc((size_t)p->N * sizeof(int32_t));
    cr_assert_geq(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->pred), 0);
    H5Dclose(d);
    H5Fclose(f);
}

static void free_preds(preds *p)
{
    free(p->logits);
    free(p->pred);
}

/* The logits of one model file, by `frost predict MODEL DATASET -o`. */
static void single(preds *p, const char *name)
{
    TU_FROST(&R, "predict", model(name), scenario, "--split", "prt-task", "-o", tu_path(dir, "single.h5"));
    cr_assert_eq(R.status, 0, "%s: %s", name, R.err);
    read_preds(p, tu_path(dir, "single.h5"));
}

static void log_softmax(double *lp, const float *z, int64_t C)
{
    double m = z[0], s = 0;
    for (int64_t c = 1; c < C; c++) m = fmax(m, (double)z[c]);
    for (int64_t c = 0; c < C; c++) s += exp((double)z[c] - m);
    for (int64_t c = 0; c < C; c++) lp[c] = (double)z[c] - m - log(s);
}

/* got (N, C) against want (N, C) computed here, up to a constant per node;
 * the predicted class is the argmax of got. */
static void assert_combined(const preds *got, const double *want, const char *what)
{
    for (int64_t i = 0; i < got->N; i++) {
        const double shift = (double)got->logits[i * got->C] - want[i * got->C];
        int32_t best = 0;
        for (int64_t c = 0; c < got->C; c++) {
            const double w = want[i * got->C + c];
            cr_assert(fabs((double)got->logits[i * got->C + c] - w - shift) <= 1e-5 * (1.0 + fabs(w)),
                      "%s: node %lld class %lld: %.7g, expected %.7g", what, (long long)i, (long long)c,
                      (double)got->logits[i * got->C + c], w + shift);
            if (got->logits[i * got->C + c] > got->logits[i * got->C + best]) best = (int32_t)c;
        }
        cr_assert_eq(got->pred[i], best, "%s: node %lld predicted %d, the argmax is %d", what, (long long)i,
                     got->pred[i], best);
    }
}

/* The metric `frost predict` printed ("train X  valid Y  test Z"). */
static double printed(const char *out, const char *which)
{
    char key[16];
    snprintf(key, sizeof key, " %s ", which);
    const char *t = strstr(out, key);
    cr_assert_not_null(t, "no %s metric in: %s", which, out);
    return strtod(t + strlen(key), NULL);
}

Test(cli_predict, base_applies_the_reward_to_the_base)
{
    preds nb, rw, got;
    single(&nb, "base-new.h5");
    single(&rw, "reward.h5");
    TU_FROST(&R, "predict", model("reward.h5"), scenario, "--base", model("base-new.h5"), "-o", tu_path(dir, "prt.h5"));
    cr_assert_eq(R.status, 0, "%s", R.err);
    cr_assert_eq(R.err_lines, 0, "%s", R.err);
    cr_assert(strstr(R.out, "PRT (reward + base)") && strstr(R.out, "split prt-task"), "%s", R.out);
    /* on the reward's split by default: the run's prt row */
    cr_assert(fabs(printed(R.out, "test") - prt_test) <= 5e-5, "printed %s, the run's prt row %.6f", R.out, prt_test);
    cr_assert(fabs(printed(R.out, "valid") - prt_valid) <= 5e-5, "printed %s, the run's prt row valid %.6f", R.out,
              prt_valid);
    read_preds(&got, tu_path(dir, "prt.h5"));
    cr_assert(got.N == nb.N && got.C == nb.C && got.C == 4);
    double *want = malloc((size_t)(nb.N * nb.C) * sizeof *want);
    for (int64_t i = 0; i < nb.N; i++) {
        log_softmax(want + i * nb.C, nb.logits + i * nb.C, nb.C);
        for (int64_t c = 0; c < nb.C; c++) want[i * nb.C + c] += (double)rw.logits[i * nb.C + c];
    }
    assert_combined(&got, want, "--base");
    free(want);
    free_preds(&nb);
    free_preds(&rw);
    free_preds(&got);
}

Test(cli_predict, eft_combines_three_models_with_alpha)
{
    preds nb, ft, pt, got;
    single(&nb, "base-new.h5");
    single(&ft, "ft-old.h5");
    single(&pt, "base-old.h5");
    const int64_t N = nb.N, C = nb.C;
    double *want = malloc((size_t)(N * C) * sizeof *want), ln[8], lf[8], lo[8];
    const double alphas[3] = {0.5, 1.0, 3.0};
    for (int k = 0; k < 3; k++) {
        char alpha[32];
        snprintf(alpha, sizeof alpha, "%g", alphas[k]);
        if (k == 1) /* the default alpha is 1 */
            TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", model("ft-old.h5"), model("base-old.h5"),
                     "-o", tu_path(dir, "eft.h5"));
        else
            TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", model("ft-old.h5"), model("base-old.h5"),
                     "--alpha", alpha, "-o", tu_path(dir, "eft.h5"));
        cr_assert_eq(R.status, 0, "%s", R.err);
        cr_assert(strstr(R.out, "EFT (3 models)"), "%s", R.out);
        if (k == 0) /* the run's EFT row used alpha 0.5 */
            cr_assert(fabs(printed(R.out, "test") - eft_test) <= 5e-5, "printed %s, the run's eft row %.6f", R.out,
                      eft_test);
        read_preds(&got, tu_path(dir, "eft.h5"));
        cr_assert(got.N == N && got.C == C);
        for (int64_t i = 0; i < N; i++) {
            log_softmax(ln, nb.logits + i * C, C);
            log_softmax(lf, ft.logits + i * C, C);
            log_softmax(lo, pt.logits + i * C, C);
            for (int64_t c = 0; c < C; c++) want[i * C + c] = ln[c] + alphas[k] * (lf[c] - lo[c]);
        }
        char what[64];
        snprintf(what, sizeof what, "--eft, alpha %g", alphas[k]);
        assert_combined(&got, want, what);
        free_preds(&got);
    }
    free(want);
    free_preds(&nb);
    free_preds(&ft);
    free_preds(&pt);
}

/* One line on stderr containing `needle`, the exit status, and no -o file. */
static void assert_refused(int status, const char *needle)
{
    cr_assert_eq(R.status, status, "exit %d, expected %d; stderr: %s", R.status, status, R.err);
    cr_assert_eq(R.err_lines, 1, "expected one line on stderr: %s", R.err);
    cr_assert(strstr(R.err, needle), "'%s' not in: %s", needle, R.err);
    cr_assert_not(tu_any_with_prefix(dir, "bad.h5"), "a refused prediction left its output behind");
}

Test(cli_predict, other_label_sets_are_refused)
{
    char three[1200], bad[1200];
    snprintf(three, sizeof three, "%s/three.h5", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    TU_FROST(&R, "predict", three, scenario, "--base", model("base-new.h5"), "-o", bad);
    assert_refused(1, "three.h5: label sets differ (4 classes against 3 classes)");
    TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", three, model("base-old.h5"), "-o", bad);
    assert_refused(1, "three.h5: label sets differ (4 classes against 3 classes)");
    TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", model("ft-old.h5"), three, "-o", bad);
    assert_refused(1, "three.h5: label sets differ (4 classes against 3 classes)");
    /* a base that does not fit the dataset is refused by the dataset check */
    TU_FROST(&R, "predict", model("reward.h5"), scenario, "--base", three, "-o", bad);
    assert_refused(1, "three.h5: the model takes 24 features and predicts 3 classes");
}

Test(cli_predict, missing_files_are_one_line_errors)
{
    char nope[1200], bad[1200];
    snprintf(nope, sizeof nope, "%s/nope.h5", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    TU_FROST(&R, "predict", model("reward.h5"), scenario, "--base", nope, "-o", bad);
    assert_refused(1, "nope.h5: cannot open");
    TU_FROST(&R, "predict", nope, scenario, "--base", model("base-new.h5"), "-o", bad);
    assert_refused(1, "nope.h5: cannot open");
    TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", model("ft-old.h5"), nope, "-o", bad);
    assert_refused(1, "nope.h5: cannot open");
    TU_FROST(&R, "predict", model("reward.h5"), tu_path(dir, "nodata.h5"), "--base", model("base-new.h5"), "-o", bad);
    assert_refused(1, "nodata.h5");
}

Test(cli_predict, wrong_arguments_are_usage_errors)
{
    TU_FROST(&R, "predict", model("reward.h5"), "--base", model("base-new.h5"));
    assert_refused(2, "expected: frost predict MODEL DATASET");
    TU_FROST(&R, "predict", model("reward.h5"), scenario, scenario, "--base", model("base-new.h5"));
    assert_refused(2, "too many arguments");
    TU_FROST(&R, "predict", model("reward.h5"), scenario, "--base");
    assert_refused(2, "--base needs a model file");
    TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", model("ft-old.h5"));
    assert_refused(2, "--eft needs FINETUNED and PRETRAINED model files");
    TU_FROST(&R, "predict", model("reward.h5"), scenario, "--base", model("base-new.h5"), "--eft", model("ft-old.h5"),
             model("base-old.h5"));
    assert_refused(2, "--base and --eft exclude each other");
    TU_FROST(&R, "predict", model("base-new.h5"), scenario, "--eft", model("ft-old.h5"), model("base-old.h5"),
             "--alpha", "many");
    assert_refused(2, "--alpha");
}

/*
 * test_prt_pipeline.c - the portable-reward-tuning scenario end to end on a
 * small synthetic graph (method = "prt", a few epochs), then every role's
 * numbers recomputed here from the model files it saved in RESULTS-models/
 * and the scenario dataset, with the arithmetic of prt.md done in double:
 *
 *   base-old, base-new, ft-old, ft-new   softmax of each model alone
 *   prt                                  softmax(log p_new + r)
 *   prt-old                              softmax(log p_old + r)
 *   eft                                  softmax(log p_new + alpha (log p_ft_old - log p_old))
 *
 * (r the reward model's raw output, log p a log-softmax computed here) on the
 * task's valid and test nodes, against the rows of the results file; the
 * combined predictions of frost_predict_prt and frost_predict_eft against the
 * same sums, logit by logit; and the reward's start: with prt.init = "base"
 * its weights are the old base's, with "zero" its output is 0 and PRT is the
 * base alone (runs with a learning rate of 0 keep the starting state: frost
 * trains at least one epoch).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(prt_pipeline, .timeout = 600);

#define ALPHA 2.5 /* far from 1, so that a lost alpha changes predictions */

static char *dir;

static void setup(void)
{
    dir = tu_tmpdir();
    frost_synth_opts o = tu_synth_opts(1200, 6000, 24, 4);
    o.homophily = 0.5;
    o.feature_signal = 1.0;
    o.seed = 9;
    tu_synth(tu_path(dir, "s.h5"), &o);
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

/* Run the scenario into OUT.h5 (models in OUT-models/). epochs = 0: one
 * epoch at learning rate 0 for every model (the bases too), so each keeps
 * its starting state (Adam's step is lr times a finite ratio; no model here
 * has batch-norm statistics to move). */
static void run_prt(const char *out, int64_t epochs, const char *init)
{
    char cfg[4096];
    const double lr = epochs == 0 ? 0.0 : 0.02;
    if (epochs == 0) epochs = 1;
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s\";\noutput = \"%s\";\nmethod = \"prt\";\nruns = 1;\nepochs = %lld;\n"
             "model = { name = \"mlp\"; layers = 2; hidden = 16; dropout = 0.5; };\n"
             "optim = { name = \"adam\"; lr = %g; weight_decay = 5e-4; };\n"
             "prt = { parts = 8; task_parts = 4; task_train_per_class = 5; task_valid_per_class = 10;\n"
             "  old_model = \"mlp\"; old_layers = 2; old_hidden = 16; old_pool_fraction = 0.5;\n"
             "  new_model = \"gcn\"; new_layers = 2; new_hidden = 16;\n"
             "  base_epochs = 40; init = \"%s\"; eft_alpha = %g; infer_repeats = 1; };\n",
             tu_path(dir, "s.h5"), tu_path(dir, out), (long long)epochs, lr, init, ALPHA);
    tu_writef(dir, "prt.cfg", cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(dir, "prt.cfg")), FROST_OK, "%s", frost_last_error());
    char path[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, path, sizeof path), FROST_OK, "%s", frost_last_error());
}

/* ---- the files the run left ---------------------------------------------------- */

enum { OLD, NEW, FTOLD, FTNEW, REWARD, NFILES };
static const char *const file_name[NFILES] = {"base-old.h5", "base-new.h5", "ft-old.h5", "ft-new.h5", "reward.h5"};

typedef struct scenario {
    char models[1024];   /* OUT-models/RUN_ID */
    char dataset[1024];  /* OUT-models/scenario.h5 */
    char run_id[160];
    frost_results res;
    frost_dataset ds;
    const frost_split *task;
    int64_t N, C;
    float *z[NFILES];    /* (N, C) eval-mode outputs of each model file, by frost_predict */
} scenario;

static const char *model_path(const scenario *s, int k) { return tu_path(s->models, file_name[k]); }

static void load_scenario(scenario *s, const char *out)
{
    memset(s, 0, sizeof *s);
    cr_assert_eq(frost_results_load(&s->res, tu_path(dir, out)), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(s->res.n, 7, "one seed appends seven rows, the file has %lld", (long long)s->res.n);
    for (int64_t k = 0; k < s->res.n; k++)
        if (strcmp(s->res.runs[k].role, "prt") == 0) {
            snprintf(s->run_id, sizeof s->run_id, "%s", s->res.runs[k].id);
            s->run_id[strlen(s->run_id) - 4] = 0; /* less ".prt" */
        }
    cr_assert(s->run_id[0], "no prt row");
    char base[1024];
    snprintf(base, sizeof base, "%s", tu_path(dir, out));
    base[strlen(base) - 3] = 0; /* less ".h5" */
    snprintf(s->models, sizeof s->models, "%s-models/%s", base, s->run_id);
    snprintf(s->dataset, sizeof s->dataset, "%s-models/scenario.h5", base);
    cr_assert_eq(frost_dataset_load(&s->ds, s->dataset), FROST_OK, "%s", frost_last_error());
    s->task = frost_dataset_split(&s->ds, "prt-task");
    cr_assert_not_null(s->task, "the scenario dataset has no prt-task split");
    cr_assert_gt(s->task->n_test, 50);
    cr_assert_gt(s->task->n_valid, 10);
    s->N = s->ds.num_nodes;
    s->C = s->ds.num_classes;
    for (int k = 0; k < NFILES; k++) {
        frost_prediction p;
        cr_assert_eq(frost_predict(model_path(s, k), s->dataset, "prt-task", &p), FROST_OK, "%s: %s", file_name[k],
                     frost_last_error());
        cr_assert(p.N == s->N && p.C == s->C);
        cr_assert(p.hash_matches, "%s: the logits are not the ones the run saved", file_name[k]);
        s->z[k] = p.logits;
        p.logits = NULL;
    }
}

static void release_scenario(scenario *s)
{
    for (int k = 0; k < NFILES; k++) free(s->z[k]);
    frost_dataset_release(&s->ds);
    frost_results_release(&s->res);
}

static const frost_run_info *row_of(const scenario *s, const char *role)
{
    char id[200];
    snprintf(id, sizeof id, "%s.%s", s->run_id, role);
    const frost_run_info *r = frost_results_find(&s->res, id);
    cr_assert_not_null(r, "no row %s", id);
    cr_assert_str_eq(r->role, role);
    return r;
}

/* ---- prt.md arithmetic in double ----------------------------------------------- */

static void log_softmax(double *lp, const float *z, int64_t C)
{
    double m = z[0], s = 0;
    for (int64_t c = 1; c < C; c++) m = fmax(m, (double)z[c]);
    for (int64_t c = 0; c < C; c++) s += exp((double)z[c] - m);
    for (int64_t c = 0; c < C; c++) lp[c] = (double)z[c] - m - log(s);
}

typedef enum method { M_OLD, M_NEW, M_FTOLD, M_FTNEW, M_PRT, M_PRT_OLD, M_EFT, NMETHODS } method;
static const char *const role_name[NMETHODS] = {"base-old", "base-new", "ft-old", "ft-new", "prt", "prt-old", "eft"};

/* Scores (C) of node i under a method. */
static void method_scores(double *v, const scenario *s, method mth, int64_t i, double alpha)
{
    const int64_t C = s->C;
    double lo[64], ln[64], lf[64];
    cr_assert(C <= 64);
    const float *r = s->z[REWARD] + i * C;
    switch (mth) {
    case M_OLD: log_softmax(v, s->z[OLD] + i * C, C); return;
    case M_NEW: log_softmax(v, s->z[NEW] + i * C, C); return;
    case M_FTOLD: log_softmax(v, s->z[FTOLD] + i * C, C); return;
    case M_FTNEW: log_softmax(v, s->z[FTNEW] + i * C, C); return;
    case M_PRT:
        log_softmax(ln, s->z[NEW] + i * C, C);
        for (int64_t c = 0; c < C; c++) v[c] = ln[c] + (double)r[c];
        return;
    case M_PRT_OLD:
        log_softmax(lo, s->z[OLD] + i * C, C);
        for (int64_t c = 0; c < C; c++) v[c] = lo[c] + (double)r[c];
        return;
    default:
        log_softmax(ln, s->z[NEW] + i * C, C);
        log_softmax(lf, s->z[FTOLD] + i * C, C);
        log_softmax(lo, s->z[OLD] + i * C, C);
        for (int64_t c = 0; c < C; c++) v[c] = ln[c] + alpha * (lf[c] - lo[c]);
        return;
    }
}

/* Accuracy on nodes; *ambiguous counts nodes whose two best scores are
 * within float rounding (where float and double may pick differently). */
static double accuracy(const scenario *s, method mth, const int64_t *nodes, int64_t n, double alpha, int64_t *ambiguous)
{
    int64_t right = 0, amb = 0;
    for (int64_t q = 0; q < n; q++) {
        const int64_t i = nodes[q];
        double v[64];
        method_scores(v, s, mth, i, alpha);
        int64_t best = 0;
        for (int64_t c = 1; c < s->C; c++)
            if (v[c] > v[best]) best = c;
        double second = -INFINITY;
        for (int64_t c = 0; c < s->C; c++)
            if (c != best) second = fmax(second, v[c]);
        amb += v[best] - second < 1e-5 * (1.0 + fabs(v[best]));
        right += best == s->ds.label[i];
    }
    *ambiguous = amb;
    return (double)right / (double)n;
}

static void assert_rows_recomputed(const scenario *s, double alpha)
{
    for (int mth = 0; mth < NMETHODS; mth++) {
        const frost_run_info *r = row_of(s, role_name[mth]);
        int64_t amb_t, amb_v;
        const double test = accuracy(s, (method)mth, s->task->test, s->task->n_test, alpha, &amb_t);
        const double valid = accuracy(s, (method)mth, s->task->valid, s->task->n_valid, alpha, &amb_v);
        cr_assert_leq(fabs(r->test_metric - test), (double)amb_t / (double)s->task->n_test + 1e-12,
                      "%s: the results file says test %.6f, recomputed from the model files %.6f (%lld near ties)",
                      role_name[mth], r->test_metric, test, (long long)amb_t);
        cr_assert_leq(fabs(r->val_metric - valid), (double)amb_v / (double)s->task->n_valid + 1e-12,
                      "%s: the results file says valid %.6f, recomputed %.6f (%lld near ties)", role_name[mth],
                      r->val_metric, valid, (long long)amb_v);
    }
}

/* Logits of a combined prediction against the sums computed here (up to a
 * per-node constant: softmax does not see one). */
static void assert_logits(const scenario *s, const float *got, method mth, double alpha, const char *what)
{
    for (int64_t i = 0; i < s->N; i++) {
        double v[64];
        method_scores(v, s, mth, i, alpha);
        const double shift = (double)got[i * s->C] - v[0];
        for (int64_t c = 0; c < s->C; c++)
            cr_assert(fabs((double)got[i * s->C + c] - v[c] - shift) <= 1e-5 * (1.0 + fabs(v[c])),
                      "%s: node %lld class %lld: %.7g, expected %.7g (+ %.3g)", what, (long long)i, (long long)c,
                      (double)got[i * s->C + c], v[c], shift);
    }
}

Test(prt_pipeline, every_role_recomputed_from_the_model_files, .init = setup, .fini = teardown)
{
    run_prt("r.h5", 25, "base");
    scenario s;
    load_scenario(&s, "r.h5");
    assert_rows_recomputed(&s, ALPHA);
    /* the methods are not all the same number (else the check proves little) */
    const frost_run_info *rn = row_of(&s, "base-new"), *rp = row_of(&s, "prt"), *re = row_of(&s, "eft");
    cr_assert(rp->test_metric != rn->test_metric || re->test_metric != rn->test_metric,
              "PRT, EFT and the new base all score %.4f", rn->test_metric);

    /* frost predict --base and --eft: the same sums, logit by logit */
    frost_prediction p;
    cr_assert_eq(frost_predict_prt(model_path(&s, REWARD), model_path(&s, NEW), s.dataset, "prt-task", &p), FROST_OK,
                 "%s", frost_last_error());
    assert_logits(&s, p.logits, M_PRT, ALPHA, "frost_predict_prt");
    cr_assert_float_eq(p.test, rp->test_metric, 1e-12, "predict --base %.6f, the run's prt row %.6f", p.test,
                       rp->test_metric);
    frost_prediction_release(&p);
    for (int k = 0; k < 2; k++) {
        const double alpha = k ? 0.4 : ALPHA;
        cr_assert_eq(frost_predict_eft(model_path(&s, NEW), model_path(&s, FTOLD), model_path(&s, OLD), alpha, s.dataset,
                                       "prt-task", &p),
                     FROST_OK, "%s", frost_last_error());
        assert_logits(&s, p.logits, M_EFT, alpha, k ? "frost_predict_eft, alpha 0.4" : "frost_predict_eft");
        if (!k)
            cr_assert_float_eq(p.test, re->test_metric, 1e-12, "predict --eft %.6f, the run's eft row %.6f", p.test,
                               re->test_metric);
        frost_prediction_release(&p);
    }
    release_scenario(&s);
}

/* Whether two float arrays hold the same bits. */
static bool same_floats(const float *a, const float *b, int64_t n) { return memcmp(a, b, (size_t)n * sizeof *a) == 0; }

Test(prt_pipeline, reward_starts_from_the_old_base_or_from_zero, .init = setup, .fini = teardown)
{
    /* prt.init = "base", learning rate 0: the reward file holds the starting state */
    run_prt("b.h5", 0, "base");
    scenario s;
    load_scenario(&s, "b.h5");
    frost_model_file old, rew;
    cr_assert_eq(frost_model_file_load(&old, model_path(&s, OLD)), FROST_OK);
    cr_assert_eq(frost_model_file_load(&rew, model_path(&s, REWARD)), FROST_OK);
    cr_assert_gt(old.state.n_params, 0);
    cr_assert_eq(rew.state.n_params, old.state.n_params);
    cr_assert(same_floats(rew.state.params, old.state.params, old.state.n_params),
              "the reward does not start from the old base's weights");
    cr_assert_eq(rew.state.n_bn, old.state.n_bn);
    cr_assert(old.state.n_bn == 0 || same_floats(rew.state.bn, old.state.bn, old.state.n_bn));
    cr_assert(same_floats(s.z[REWARD], s.z[OLD], s.N * s.C), "r is the old base's logits at the start");
    assert_rows_recomputed(&s, ALPHA);
    frost_model_file_release(&old);
    frost_model_file_release(&rew);
    release_scenario(&s);

    /* prt.init = "zero": r = 0, so PRT is the base it is applied to */
    run_prt("z.h5", 0, "zero");
    load_scenario(&s, "z.h5");
    for (int64_t k = 0; k < s.N * s.C; k++) cr_assert_eq(s.z[REWARD][k], 0.0f, "r[%lld] = %g", (long long)k, (double)s.z[REWARD][k]);
    assert_rows_recomputed(&s, ALPHA);
    cr_assert_eq(row_of(&s, "prt")->test_metric, row_of(&s, "base-new")->test_metric);
    cr_assert_eq(row_of(&s, "prt")->val_metric, row_of(&s, "base-new")->val_metric);
    cr_assert_eq(row_of(&s, "prt-old")->test_metric, row_of(&s, "base-old")->test_metric);
    /* only the last layer is zeroed: the reward is a fresh network, not the base */
    cr_assert_eq(frost_model_file_load(&rew, model_path(&s, REWARD)), FROST_OK);
    cr_assert_eq(frost_model_file_load(&old, model_path(&s, OLD)), FROST_OK);
    int64_t nonzero = 0;
    for (int64_t k = 0; k < rew.state.n_params; k++) nonzero += rew.state.params[k] != 0.0f;
    cr_assert_gt(nonzero, rew.state.n_params / 2, "the first layer keeps its fresh initialisation");
    cr_assert_not(same_floats(rew.state.params, old.state.params, old.state.n_params));
    frost_model_file_release(&old);
    frost_model_file_release(&rew);
    release_scenario(&s);
}

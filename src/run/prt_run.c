/*
 * prt_run.c - the portable-reward-tuning scenario (prt.md section 4), one
 * seed at a time:
 *
 *   scenario (once)  METIS splits the graph into prt.parts communities; the
 *                    nodes of the highest prt.task_parts ids are the task's
 *                    domain, the rest the upstream pool. Splits written to
 *                    MODELS/scenario.h5: prt-upstream (80/20 of the labelled
 *                    upstream nodes; its test part is the task's test set),
 *                    prt-upstream-old (a prt.old_pool_fraction share of its
 *                    training nodes), prt-task (prt.task_train_per_class and
 *                    prt.task_valid_per_class nodes per class of the task's
 *                    domain, the rest of it as test).
 *   per seed         train the old base (prt.old_*) on prt-upstream-old and
 *                    the new base (prt.new_*) on prt-upstream; save both as
 *                    model files; reload them as frozen predictors; fine-tune
 *                    each on prt-task (FT-old, and FT-new: the oracle); train
 *                    the reward on prt-task through softmax(log p_old + r);
 *                    then on the task's test nodes: new base alone, PRT
 *                    (log p_new + r), EFT (log p_new + log p_ft_old -
 *                    log p_old), FT-new, FT-old, and PRT on the old base.
 *                    PRT and EFT are also timed as full-graph inference
 *                    passes from their model files, with the bytes they
 *                    allocate. All rows of a seed are appended at once.
 */
#include "frost/frost.h"
#include "frost/prt.h"
#include "run/run_impl.h"
#include "core/core_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void frost__prt_scenario_release(frost__prt_scenario *s)
{
    if (!s) return;
    for (int k = 0; k < 3; k++) {
        free(s->split[k].train);
        free(s->split[k].valid);
        free(s->split[k].test);
    }
    free(s->part);
    memset(s, 0, sizeof *s);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void shuffle(int64_t *v, int64_t n, frost_rng *r)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)frost_rng_next_below(r, (uint64_t)i + 1);
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

frost_status frost__prt_scenario_build(frost__prt_scenario *s, frost_prepared *p, const frost_config *c)
{
    frost_status st = FROST_OK;
    const frost_dataset *ds = &p->ds;
    const int64_t n = ds->num_nodes;
    int32_t *part = NULL;
    int64_t *up = NULL, *task = NULL, *cnt = NULL;
    memset(s, 0, sizeof *s);
    if (ds->task_type != FROST_TASK_MULTICLASS)
        return frost__error(FROST_ERR_CONFIG, "%s: the PRT scenario needs a multiclass dataset", c->path);
    FROST_ALLOC(part, n);
    FROST_TRY(frost_graph_partition(&p->A, c->prt.parts, 0.03, (uint64_t)c->prt.scenario_seed, part));
    const int32_t first_task = c->prt.parts - c->prt.task_parts;
    FROST_ALLOC(up, n);
    FROST_ALLOC(task, n);
    int64_t nu = 0, nt = 0;
    for (int64_t i = 0; i < n; i++) {
        if (ds->label[i] < 0) continue;
        if (part[i] >= first_task) task[nt++] = i;
        else up[nu++] = i;
    }
    if (nu < 10 || nt < 10)
        FROST_FAIL(FROST_ERR_CONFIG, "%s: the scenario leaves %lld upstream and %lld task nodes; change prt.parts or "
                   "prt.task_parts", c->path, (long long)nu, (long long)nt);
    frost_rng r;
    frost_rng_init(&r, (uint64_t)c->prt.scenario_seed, frost_rng_stream(FROST_RNG_SPLIT, 7));
    /* the shift between the two domains: total variation of their label distributions */
    const int32_t C = ds->num_classes;
    FROST_CALLOC(cnt, 2 * C);
    for (int64_t q = 0; q < nu; q++) cnt[ds->label[up[q]]]++;
    for (int64_t q = 0; q < nt; q++) cnt[C + ds->label[task[q]]]++;
    s->shift_tv = 0;
    for (int32_t k = 0; k < C; k++) s->shift_tv += 0.5 * fabs((double)cnt[k] / (double)nu - (double)cnt[C + k] / (double)nt);
    s->n_upstream = nu;
    s->n_task_domain = nt;

    /* the task: per class, train then valid nodes, the rest test */
    shuffle(task, nt, &r);
    frost_split *T = &s->split[2];
    snprintf(T->name, sizeof T->name, "prt-task");
    FROST_ALLOC(T->train, nt);
    FROST_ALLOC(T->valid, nt);
    FROST_ALLOC(T->test, nt);
    memset(cnt, 0, (size_t)C * sizeof *cnt);
    for (int64_t q = 0; q < nt; q++) {
        int64_t i = task[q];
        int64_t k = cnt[ds->label[i]]++;
        if (k < c->prt.task_train_per_class) T->train[T->n_train++] = i;
        else if (k < c->prt.task_train_per_class + c->prt.task_valid_per_class) T->valid[T->n_valid++] = i;
        else T->test[T->n_test++] = i;
    }
    if (T->n_test == 0) FROST_FAIL(FROST_ERR_CONFIG, "%s: the task's domain has no test nodes left", c->path);
    /* upstream: 80 / 20, test = the task's test nodes */
    shuffle(up, nu, &r);
    frost_split *U = &s->split[0], *O = &s->split[1];
    snprintf(U->name, sizeof U->name, "prt-upstream");
    snprintf(O->name, sizeof O->name, "prt-upstream-old");
    const int64_t ntr = (nu * 4) / 5;
    const int64_t nold = (int64_t)ceil((double)ntr * c->prt.old_pool_fraction);
    FROST_ALLOC(U->train, ntr);
    FROST_ALLOC(U->valid, nu - ntr);
    FROST_ALLOC(O->train, nold);
    FROST_ALLOC(O->valid, nu - ntr);
    FROST_ALLOC(U->test, T->n_test);
    FROST_ALLOC(O->test, T->n_test);
    for (int64_t q = 0; q < nu; q++) {
        if (q < ntr) U->train[U->n_train++] = up[q];
        else U->valid[U->n_valid++] = up[q];
        if (q < nold) O->train[O->n_train++] = up[q];
        else if (q >= ntr) O->valid[O->n_valid++] = up[q];
    }
    memcpy(U->test, T->test, (size_t)T->n_test * sizeof(int64_t));
    memcpy(O->test, T->test, (size_t)T->n_test * sizeof(int64_t));
    U->n_test = O->n_test = T->n_test;
    for (int k = 0; k < 3; k++) {
        qsort(s->split[k].train, (size_t)s->split[k].n_train, sizeof(int64_t), cmp_i64);
        qsort(s->split[k].valid, (size_t)s->split[k].n_valid, sizeof(int64_t), cmp_i64);
        qsort(s->split[k].test, (size_t)s->split[k].n_test, sizeof(int64_t), cmp_i64);
    }
    s->part = part;
    part = NULL;
fail:
    free(part);
    free(up);
    free(task);
    free(cnt);
    if (st < 0) frost__prt_scenario_release(s);
    return st;
}

/* The dataset with the scenario's splits and communities, for model files to
 * point at (frost predict on it reproduces every number). frost_prepare keeps
 * neither the stored graph nor the raw features (both are rebuilt into A and
 * X), so the dataset is read again from its file and written with the
 * scenario's splits and partition added. */
frost_status frost__prt_scenario_save(const frost__prt_scenario *s, const frost_config *c, const char *path)
{
    frost_status st = FROST_OK;
    char *src = NULL;
    frost_dataset d;
    memset(&d, 0, sizeof d);
    frost_split *splits = NULL;
    frost_partitioning *parts = NULL;
    FROST_ALLOC(src, FROST_PATH_CAP + 64);
    FROST_TRY(frost_resolve_dataset(c->dataset, c->path, src, FROST_PATH_CAP + 64));
    FROST_TRY(frost_dataset_load(&d, src));
    splits = malloc((size_t)(d.num_splits + 3) * sizeof *splits);
    parts = malloc((size_t)(d.num_partitions + 1) * sizeof *parts);
    if (!splits || !parts) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    if (d.num_splits) memcpy(splits, d.splits, (size_t)d.num_splits * sizeof *splits);
    for (int k = 0; k < 3; k++) splits[d.num_splits + k] = s->split[k];
    if (d.num_partitions) memcpy(parts, d.partitions, (size_t)d.num_partitions * sizeof *parts);
    frost_partitioning *cp = &parts[d.num_partitions];
    *cp = (frost_partitioning){.k = 0, .part = s->part};
    snprintf(cp->name, sizeof cp->name, "prt-communities");
    for (int64_t i = 0; i < d.num_nodes; i++)
        if (s->part[i] + 1 > cp->k) cp->k = s->part[i] + 1;
    /* write a copy whose lists are the extended ones; d keeps its own for release */
    frost_dataset w = d;
    w.splits = splits;
    w.num_splits = d.num_splits + 3;
    w.partitions = parts;
    w.num_partitions = d.num_partitions + 1;
    st = frost_dataset_save(&w, path, 1);
fail:
    free(src);
    free(splits);
    free(parts);
    frost_dataset_release(&d);
    return st;
}

/* ---- one seed -------------------------------------------------------------------- */

typedef struct trained {
    frost_model *m;
    frost_run_result res;
    frost_model_spec spec;
    float *lp;                 /* (N, C) log-probabilities, eval mode, best state */
} trained;

static void trained_release(trained *t)
{
    frost_model_free(&t->m);
    frost_run_result_release(&t->res);
    free(t->lp);
    memset(t, 0, sizeof *t);
}

static frost_task_data task_on(const frost_prepared *p, const frost_split *sp, const float *prior)
{
    frost_task_data d = frost_prepared_task(p);
    d.train = sp->train, d.valid = sp->valid, d.test = sp->test;
    d.n_train = sp->n_train, d.n_valid = sp->n_valid, d.n_test = sp->n_test;
    d.prior = prior;
    return d;
}

static frost_model_spec spec_of(const frost_prepared *p, const frost_config *c, int32_t arch, int32_t layers,
                                int64_t hidden, bool slt)
{
    frost_config b = *c;
    b.method = slt ? FROST_METHOD_SLT : FROST_METHOD_TRAINED;
    b.model.arch = (frost_arch)arch;
    b.model.layers = layers;
    b.model.hidden = hidden;
    return frost_prepared_spec(p, &b);
}

/* Train a model (optionally starting from a model file's state) and keep its
 * best state's log-probabilities (with the prior added if any). */
static frost_status train_one(trained *t, const frost_prepared *p, frost_model_spec spec, const frost_split *sp,
                              const float *prior, const frost_model_file *init, const frost_model *base_from,
                              int64_t epochs, const frost_config *c, uint64_t seed, double alpha, bool zero_last)
{
    frost_status st = FROST_OK;
    memset(t, 0, sizeof *t);
    t->spec = spec;
    const int64_t N = p->ds.num_nodes, C = spec.out_dim;
    FROST_TRY(frost_model_new(&t->m, &spec, &p->A, p->symmetric ? &p->A : &p->AT, N));
    FROST_TRY(frost_model_init(t->m, seed));
    FROST_TRY(frost_model_set_node_ids(t->m, p->ds.original_id));
    if (init) FROST_TRY(frost_model_state_import(t->m, init->state.params, init->state.bn, init->state.mask));
    if (base_from) FROST_TRY(frost_slt_set_base_from(t->m, base_from));
    if (zero_last) {
        /* r starts at zero: the PRT model starts as the base model */
        frost_param *ps;
        int32_t np = frost_model_params(t->m, &ps);
        const char *last = NULL;
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layer%d.", spec.layers - 1 + (spec.input_proj ? 1 : 0));
        for (int32_t k = 0; k < np; k++)
            if (strncmp(ps[k].name, prefix, strlen(prefix)) == 0 && !strstr(ps[k].name, "norm")) {
                memset(ps[k].value, 0, (size_t)ps[k].n * sizeof(float));
                last = ps[k].name;
            }
        if (!last) FROST_FAIL(FROST_ERR_CONFIG, "prt.init = \"zero\" found no last layer to zero");
        frost_model_after_step(t->m);
    }
    frost_task_data d = task_on(p, sp, prior);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = epochs;
    o.eval_every = c->eval_every;
    o.patience = c->patience;
    o.optim = c->optim;
    o.optim.t_max = epochs;
    o.seed = seed;
    o.entropy_alpha = alpha;
    FROST_TRY(frost_train(t->m, &d, &o, &t->res));
    FROST_ALLOC(t->lp, N * C);
    frost_log_softmax_rows(t->lp, frost_model_logits(t->m), N, C);
    return FROST_OK;
fail:
    trained_release(t);
    return st;
}

/* Model file of a trained model. */
static frost_status save_model(const trained *t, const frost_prepared *p, const frost_config *base_cfg,
                               const char *scenario_path, const char *split, const char *path, uint64_t seed,
                               const char *role, double test, const char *base_name, const char *base_hash)
{
    frost_status st = FROST_OK;
    frost_model_file mf;
    memset(&mf, 0, sizeof mf);
    if (base_name) {
        frost__strlcpy(mf.base_weights, base_name, sizeof mf.base_weights);
        frost__strlcpy(mf.base_weights_hash, base_hash, sizeof mf.base_weights_hash);
    }
    frost_config c = *base_cfg;
    c.method = t->spec.weights == FROST_WEIGHTS_SUPERMASK ? FROST_METHOD_SLT : FROST_METHOD_TRAINED;
    c.model = t->spec;
    c.seed = (int64_t)seed;
    c.runs = 1;
    c.n_seeds = 0;
    c.n_axes = 0;
    FROST_TRY(frost__path_copy(c.dataset, sizeof c.dataset, scenario_path, "the PRT scenario"));
    frost__strlcpy(c.split, split, sizeof c.split);
    mf.config = frost_config_to_text(&c);
    if (!mf.config) return frost__error(FROST_ERR_NOMEM, "out of memory");
    frost_model_state_sizes sz = frost_model_state_counts(t->m);
    FROST_ALLOC(mf.state.params, sz.params);
    FROST_ALLOC(mf.state.bn, sz.bn);
    FROST_CALLOC(mf.state.mask, (sz.mask + 7) / 8);
    frost_model_state_export(t->m, mf.state.params, mf.state.bn, mf.state.mask);
    mf.state.n_params = sz.params, mf.state.n_bn = sz.bn, mf.state.mask_bits = sz.mask;
    snprintf(mf.method, sizeof mf.method, "%s", frost_method_name(c.method));
    snprintf(mf.model, sizeof mf.model, "%s", frost_arch_name(t->spec.arch));
    snprintf(mf.dataset, sizeof mf.dataset, "%s", p->ds.name);
    snprintf(mf.split, sizeof mf.split, "%s", split);
    snprintf(mf.source, sizeof mf.source, "prt scenario, %s, seed %llu", role, (unsigned long long)seed);
    snprintf(mf.logits_hash, sizeof mf.logits_hash, "%016llx",
             (unsigned long long)frost_hash64(frost_model_logits(t->m),
                                              (size_t)(p->ds.num_nodes * t->spec.out_dim) * sizeof(float)));
    mf.seed = (int64_t)seed;
    mf.in_dim = t->spec.in_dim;
    mf.out_dim = t->spec.out_dim;
    mf.model_bits = frost_model_bits(t->m);
    mf.dense_bits = frost_model_dense_bits(t->m);
    mf.test_metric = test;
    st = frost_model_file_write(&mf, path);
fail:
    frost_model_file_release(&mf);
    return st;
}

/* Metric of scores (N, C) on a split's valid and test nodes. */
static frost_status score(const frost_prepared *p, const frost_split *sp, const float *s, double *valid, double *test)
{
    frost_status st;
    const frost_dataset *ds = &p->ds;
    if ((st = frost_metric_compute(valid, ds->metric, ds->task_type, s, ds->label, sp->valid, sp->n_valid,
                                   ds->num_classes, 1)) < 0)
        return st;
    return frost_metric_compute(test, ds->metric, ds->task_type, s, ds->label, sp->test, sp->n_test, ds->num_classes, 1);
}

/* One full-graph inference pass from model files, timed (median over
 * repeats) with the bytes it allocates (models and buffers):
 *   1 file:  a single model's log-probabilities (base or fine-tuned model);
 *   2 files: PRT, log p_base + r (the second file is the reward);
 *   3 files: EFT, log p_new + alpha (log p_ft_old - log p_old).
 * Returns the test metric of the pass as a check against the in-memory one. */
static frost_status time_inference(const frost_prepared *p, const char *const *files, int nfiles, double alpha,
                                   int64_t repeats, double *seconds, int64_t *bytes, double *check_test,
                                   const frost_split *task)
{
    frost_status st = FROST_OK;
    frost_model *m[3] = {NULL, NULL, NULL};
    frost_model_file mf;
    float *lp[3] = {NULL, NULL, NULL}, *out = NULL;
    double *t = NULL;
    const int64_t N = p->ds.num_nodes, C = p->ds.num_classes;
    memset(&mf, 0, sizeof mf);
    *bytes = 0;
    for (int k = 0; k < nfiles; k++) {
        FROST_TRY(frost_model_file_load(&mf, files[k]));
        st = frost_model_from_file_ex(&m[k], &mf, p, files[k], true);
        if (st == FROST_OK && k > 0)
            st = frost_prt_check_labels(frost_model_get_spec(m[0])->out_dim, mf.out_dim, 0, 0, files[k]);
        frost_model_file_release(&mf);
        if (st < 0) goto fail;
        *bytes += (int64_t)frost_model_bytes(m[k]);
        if (nfiles == 2 && k == 1) continue; /* the reward is used raw */
        FROST_ALLOC(lp[k], N * C);
        *bytes += N * C * (int64_t)sizeof(float);
    }
    if (nfiles > 1) {
        FROST_ALLOC(out, N * C);
        *bytes += N * C * (int64_t)sizeof(float);
    }
    FROST_ALLOC(t, repeats);
    for (int64_t r = 0; r < repeats; r++) {
        double t0 = frost__now();
        for (int k = 0; k < nfiles; k++) {
            frost_model_forward(m[k], p->X, false, 0, 0);
            if (lp[k]) frost_log_softmax_rows(lp[k], frost_model_logits(m[k]), N, C);
        }
        if (nfiles == 3) frost_eft_combine(out, lp[0], lp[1], lp[2], alpha, N * C);
        else if (nfiles == 2) frost_prt_combine(out, lp[0], frost_model_logits(m[1]), N * C);
        t[r] = frost__now() - t0;
    }
    for (int64_t a = 1; a < repeats; a++) /* insertion sort: a handful of values */
        for (int64_t b = a; b > 0 && t[b] < t[b - 1]; b--) {
            double x = t[b];
            t[b] = t[b - 1];
            t[b - 1] = x;
        }
    *seconds = t[repeats / 2];
    double v;
    FROST_TRY(score(p, task, nfiles > 1 ? out : lp[0], &v, check_test));
fail:
    for (int k = 0; k < 3; k++) {
        frost_model_free(&m[k]);
        free(lp[k]);
    }
    free(out);
    free(t);
    return st;
}

static void row(frost_run_info *ri, const char *id, const frost_prepared *p, const char *role, const char *method,
                frost_arch arch, int64_t seed, const char *config_text, double valid, double test)
{
    memset(ri, 0, sizeof *ri);
    snprintf(ri->id, sizeof ri->id, "%s.%s", id, role);
    ri->config = (char *)config_text;
    frost__strlcpy(ri->dataset, p->ds.name, sizeof ri->dataset);
    frost__strlcpy(ri->split, "prt-task", sizeof ri->split);
    frost__strlcpy(ri->model, frost_arch_name(arch), sizeof ri->model);
    frost__strlcpy(ri->method, method, sizeof ri->method);
    frost__strlcpy(ri->metric, frost_metric_name(p->ds.metric), sizeof ri->metric);
    frost__strlcpy(ri->role, role, sizeof ri->role);
    frost__strlcpy(ri->status, "ok", sizeof ri->status);
    ri->seed = seed;
    ri->sparsity = ri->prune_ratio = ri->lock_ratio = (double)NAN;
    ri->val_metric = valid;
    ri->test_metric = test;
    ri->train_metric = (double)NAN;
    ri->threads = frost_get_threads();
    frost__strlcpy(ri->blas_core, frost_blas_core(), sizeof ri->blas_core);
    ri->in_dim = p->ds.num_features;
    ri->out_dim = p->ds.num_classes;
}

static void fill_trained(frost_run_info *ri, const trained *t)
{
    ri->best_epoch = t->res.best_epoch;
    ri->epochs_run = t->res.epochs_run;
    ri->train_metric = t->res.train_at_best;
    ri->train_seconds = t->res.train_seconds;
    ri->eval_seconds = t->res.eval_seconds;
    ri->model_bits = frost_model_bits(t->m);
    ri->dense_bits = frost_model_dense_bits(t->m);
    ri->paper_bits = frost_model_paper_bits(t->m);
    if (t->res.diverged) {
        frost__strlcpy(ri->status, "diverged", sizeof ri->status);
        frost__strlcpy(ri->message, t->res.message, sizeof ri->message);
    }
}

typedef struct payload_buf {
    float *params, *bn;
    uint8_t *mask;
} payload_buf;

static frost_status payload_of(frost_run_payload *pl, payload_buf *b, const trained *t)
{
    frost_status st = FROST_OK;
    frost_model_state_sizes sz = frost_model_state_counts(t->m);
    FROST_ALLOC(b->params, sz.params);
    FROST_ALLOC(b->bn, sz.bn);
    FROST_CALLOC(b->mask, (sz.mask + 7) / 8);
    frost_model_state_export(t->m, b->params, b->bn, b->mask);
    *pl = (frost_run_payload){t->res.history, t->res.n_history, b->params, sz.params, b->bn, sz.bn, b->mask, sz.mask};
fail:
    return st;
}

frost_status frost__prt_run_seed(const frost_prepared *p, const frost__prt_scenario *sc, const frost_config *c,
                                 int64_t seed, const char *id, const char *output, const char *models_dir,
                                 const char *scenario_path, frost_run_info *summary_row)
{
    frost_status st = FROST_OK;
    trained old_b, new_b, ft_old, ft_new, reward;
    memset(&old_b, 0, sizeof old_b);
    memset(&new_b, 0, sizeof new_b);
    memset(&ft_old, 0, sizeof ft_old);
    memset(&ft_new, 0, sizeof ft_new);
    memset(&reward, 0, sizeof reward);
    frost_model_file mf_old, mf_new;
    memset(&mf_old, 0, sizeof mf_old);
    memset(&mf_new, 0, sizeof mf_new);
    float *buf = NULL;
    char *text = NULL;
    payload_buf pb[5];
    memset(pb, 0, sizeof pb);
    const int64_t N = p->ds.num_nodes, C = p->ds.num_classes;
    const frost_split *UP = &sc->split[0], *UPO = &sc->split[1], *TASK = &sc->split[2];
    char *dir = frost__asprintf("%s/%s", models_dir, id);
    char *f_old = frost__asprintf("%s/%s/base-old.h5", models_dir, id);
    char *f_new = frost__asprintf("%s/%s/base-new.h5", models_dir, id);
    char *f_ftold = frost__asprintf("%s/%s/ft-old.h5", models_dir, id);
    char *f_ftnew = frost__asprintf("%s/%s/ft-new.h5", models_dir, id);
    char *f_reward = frost__asprintf("%s/%s/reward.h5", models_dir, id);
    if (!dir || !f_old || !f_new || !f_ftold || !f_ftnew || !f_reward) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        FROST_FAIL(FROST_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    const uint64_t useed = (uint64_t)seed;
    frost_config rc = *c;
    rc.seed = seed;
    rc.runs = 1;
    rc.n_seeds = 0;
    rc.n_axes = 0;
    text = frost_config_to_text(&rc);
    if (!text) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");

    /* 1. the bases, upstream; saved and reloaded as frozen predictors */
    frost_model_spec s_old = spec_of(p, c, c->prt.old_arch, c->prt.old_layers, c->prt.old_hidden, false);
    frost_model_spec s_new = spec_of(p, c, c->prt.new_arch, c->prt.new_layers, c->prt.new_hidden, false);
    FROST_TRY(train_one(&old_b, p, s_old, UPO, NULL, NULL, NULL, c->prt.base_epochs, c, useed, 0, false));
    FROST_TRY(train_one(&new_b, p, s_new, UP, NULL, NULL, NULL, c->prt.base_epochs, c, useed + 1000003, 0, false));
    double v_old, t_old, v_new, t_new;
    FROST_TRY(score(p, TASK, old_b.lp, &v_old, &t_old));
    FROST_TRY(score(p, TASK, new_b.lp, &v_new, &t_new));
    FROST_TRY(save_model(&old_b, p, c, scenario_path, UPO->name, f_old, useed, "base-old", t_old, NULL, NULL));
    FROST_TRY(save_model(&new_b, p, c, scenario_path, UP->name, f_new, useed + 1000003, "base-new", t_new, NULL, NULL));
    FROST_TRY(frost_model_file_load(&mf_old, f_old));
    FROST_TRY(frost_model_file_load(&mf_new, f_new));
    FROST_TRY(frost_prt_check_labels(mf_old.out_dim, mf_new.out_dim, 0, 0, "old and new base"));

    /* 2. fine-tuning on the task: FT-old, FT-new (the oracle) */
    FROST_TRY(train_one(&ft_old, p, s_old, TASK, NULL, &mf_old, NULL, c->epochs, c, useed, 0, false));
    FROST_TRY(train_one(&ft_new, p, s_new, TASK, NULL, &mf_new, NULL, c->epochs, c, useed, 0, false));
    FROST_TRY(save_model(&ft_old, p, c, scenario_path, TASK->name, f_ftold, useed, "ft-old", (double)NAN, NULL, NULL));
    FROST_TRY(save_model(&ft_new, p, c, scenario_path, TASK->name, f_ftnew, useed, "ft-new", (double)NAN, NULL, NULL));

    /* 3. the reward, through softmax(log p_old + r) */
    frost_model_spec s_rew = spec_of(p, c, c->model.arch, c->model.layers, c->model.hidden, c->prt.reward_slt);
    const bool from_base = c->prt.init == 0, ticket = s_rew.weights == FROST_WEIGHTS_SUPERMASK;
    /* prt.init = "base": the reward starts as the old base, as in the paper;
     * a ticket reward is then a ticket inside the old base (its fixed
     * weights are the base's trained ones, the mask is searched). "zero": a
     * fresh reward starts at r = 0 (its last layer zeroed); a fresh ticket
     * cannot be zeroed and starts as a random ticket */
    FROST_TRY(train_one(&reward, p, s_rew, TASK, old_b.lp, from_base && !ticket ? &mf_old : NULL,
                        from_base && ticket ? old_b.m : NULL, c->epochs, c, useed, c->prt.entropy_alpha,
                        !from_base && !ticket));
    /* reward.lp holds log_softmax(r) since the model's output is r; recompute from raw r below */
    FROST_TRY(save_model(&reward, p, c, scenario_path, TASK->name, f_reward, useed, "reward", (double)NAN,
                         from_base && ticket ? "base-old.h5" : NULL, mf_old.logits_hash));

    /* 4. every method on the task's test nodes */
    FROST_ALLOC(buf, N * C);
    const float *r = frost_model_logits(reward.m);
    double v_prt, t_prt, v_eft, t_eft, v_ftn, t_ftn, v_fto, t_fto, v_prto, t_prto;
    frost_prt_combine(buf, new_b.lp, r, N * C);
    FROST_TRY(score(p, TASK, buf, &v_prt, &t_prt));
    frost_prt_combine(buf, old_b.lp, r, N * C);
    FROST_TRY(score(p, TASK, buf, &v_prto, &t_prto));
    frost_eft_combine(buf, new_b.lp, ft_old.lp, old_b.lp, c->prt.eft_alpha, N * C);
    FROST_TRY(score(p, TASK, buf, &v_eft, &t_eft));
    FROST_TRY(score(p, TASK, ft_new.lp, &v_ftn, &t_ftn));
    FROST_TRY(score(p, TASK, ft_old.lp, &v_fto, &t_fto));

    /* 5. inference cost from the model files, one pass per method */
    const char *prt_files[2] = {f_new, f_reward};
    const char *eft_files[3] = {f_new, f_ftold, f_old};
    const char *one[4] = {f_old, f_new, f_ftold, f_ftnew};
    double sec[7], chk[7];
    int64_t byt[7];
    for (int k = 0; k < 4; k++)
        FROST_TRY(time_inference(p, &one[k], 1, 0, c->prt.infer_repeats, &sec[k], &byt[k], &chk[k], TASK));
    FROST_TRY(time_inference(p, prt_files, 2, 0, c->prt.infer_repeats, &sec[4], &byt[4], &chk[4], TASK));
    FROST_TRY(time_inference(p, eft_files, 3, c->prt.eft_alpha, c->prt.infer_repeats, &sec[6], &byt[6], &chk[6], TASK));
    const double expect[7] = {t_old, t_new, t_fto, t_ftn, t_prt, t_prto, t_eft};
    for (int k = 0; k < 7; k++)
        if (k != 5 && chk[k] != expect[k])
            FROST_FAIL(FROST_ERR_INVALID, "inference from the model files gives %.6f, the models in memory %.6f", chk[k],
                       expect[k]);

    /* 6. the rows, appended together */
    frost_run_info rows[7];
    frost_run_payload pl[7];
    memset(pl, 0, sizeof pl);
    row(&rows[0], id, p, "base-old", "trained", s_old.arch, seed, text, v_old, t_old);
    fill_trained(&rows[0], &old_b);
    row(&rows[1], id, p, "base-new", "trained", s_new.arch, seed, text, v_new, t_new);
    fill_trained(&rows[1], &new_b);
    row(&rows[2], id, p, "ft-old", "trained", s_old.arch, seed, text, v_fto, t_fto);
    fill_trained(&rows[2], &ft_old);
    row(&rows[3], id, p, "ft-new", "trained", s_new.arch, seed, text, v_ftn, t_ftn);
    fill_trained(&rows[3], &ft_new);
    row(&rows[4], id, p, "prt", "prt", s_rew.arch, seed, text, v_prt, t_prt);
    fill_trained(&rows[4], &reward);
    for (int k = 0; k < 7; k++) {
        if (k == 5) continue; /* PRT on the old base: the training-time model, not an inference method */
        rows[k].infer_seconds = sec[k];
        rows[k].infer_bytes = byt[k];
    }
    rows[0].models_evaluated = rows[1].models_evaluated = rows[2].models_evaluated = rows[3].models_evaluated = 1;
    rows[4].models_evaluated = 2;
    row(&rows[5], id, p, "prt-old", "prt", s_rew.arch, seed, text, v_prto, t_prto);
    fill_trained(&rows[5], &reward);
    row(&rows[6], id, p, "eft", "eft", s_new.arch, seed, text, v_eft, t_eft);
    rows[6].infer_seconds = sec[6];
    rows[6].infer_bytes = byt[6];
    rows[6].models_evaluated = 3;
    if (s_rew.weights == FROST_WEIGHTS_SUPERMASK) {
        rows[4].sparsity = rows[5].sparsity = s_rew.mask.sparsity;
        rows[4].prune_ratio = rows[5].prune_ratio = s_rew.mask.prune_ratio;
        rows[4].lock_ratio = rows[5].lock_ratio = s_rew.mask.lock_ratio;
        rows[4].degenerate = rows[5].degenerate = frost_slt_degenerate(&s_rew.mask);
    }
    trained *ts[5] = {&old_b, &new_b, &ft_old, &ft_new, &reward};
    for (int k = 0; k < 5; k++) FROST_TRY(payload_of(&pl[k], &pb[k], ts[k]));
    pl[5] = pl[4];
    FROST_TRY(frost_results_append_many(output, rows, pl, 7));
    if (summary_row) *summary_row = rows[4];
fail:
    for (int k = 0; k < 5; k++) {
        free(pb[k].params);
        free(pb[k].bn);
        free(pb[k].mask);
    }
    trained_release(&old_b);
    trained_release(&new_b);
    trained_release(&ft_old);
    trained_release(&ft_new);
    trained_release(&reward);
    frost_model_file_release(&mf_old);
    frost_model_file_release(&mf_new);
    free(buf);
    free(text);
    free(dir);
    free(f_old);
    free(f_new);
    free(f_ftold);
    free(f_ftnew);
    free(f_reward);
    return st;
}

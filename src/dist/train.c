/*
 * train.c (dist) - one run trained by all processes together, each on its
 * METIS part of the graph (mpi.mode = "graph").
 *
 * Shape legend: N nodes, P processes, n_owned / n_local rows here (owned,
 * owned + halo), F features, C outputs, T label columns.
 *
 * Every process trains on its share (local.c): its plan, its rows of the
 * features and labels, its training, validation and test nodes, read
 * from the file or taken from the whole prepared dataset. The model is built for n_local rows and runs on the
 * owned ones (model_impl.h, frost__dist): halo exchanges around every
 * aggregation, batch statistics summed over processes, dropout masks keyed
 * by global node id. Parameters start equal (the same seed) and stay equal:
 * each step sums the gradients of all processes (an allreduce in double)
 * before the same optimizer update everywhere.
 *
 * The loss is the mean over all training nodes: each process's mean over
 * its own, weighted by its count. Metrics count over all processes
 * (accuracy: correct and total summed; ROC-AUC: the scores of a split
 * gathered everywhere). Both are the same on every process, so every
 * process takes the same decisions (best epoch, early stop, divergence).
 *
 * Against one process the arithmetic differs only in the order of some
 * floating-point sums: column sums (batch statistics, weight gradients)
 * are partial sums per process added up, and a node's gradient arrives
 * from the processes that hold it as halo in process order. Aggregations
 * sum a row's neighbours in the global order. README.md ("Mini-batches and several processes") states
 * the tolerance the equivalence test uses.
 */
#include "dist/dist_impl.h"
#include "frost/layers.h"
#include "frost/metrics.h"
#include "model/model_impl.h"
#include "train/train_impl.h"

#include <math.h>
#include <string.h>

typedef struct dist_ctx {
    frost__comm *c;
    frost__halo *halo;
    frost__dist dist;
    const frost__halo_plan *plan;
    const int32_t *labels; /* (n_local, T), the share's */
    double *gbuf;    /* (total parameter floats) the gradient allreduce */
    int64_t n_grad;
    /* statistics of the training epochs */
    int64_t epochs;
    double seconds;
    frost__comm_counters cnt;
} dist_ctx;

/* ---- the model's hooks ---------------------------------------------------------- */

static void hook_halo_forward(void *ctx, float *x, int64_t F) { frost__halo_forward(((dist_ctx *)ctx)->halo, x, F); }
static void hook_halo_backward(void *ctx, float *g, int64_t F) { frost__halo_backward(((dist_ctx *)ctx)->halo, g, F); }
static void hook_allreduce(void *ctx, double *v, int64_t n) { frost__comm_sum_f64(((dist_ctx *)ctx)->c, v, n); }

static void reduce_i64(void *ctx, int64_t *v, int64_t n) { frost__comm_sum_i64((frost__comm *)ctx, v, n); }

/* The supermask threshold: keys are the same on every process (scores are
 * replicated); each takes a contiguous slice and the radix selection sums
 * their histograms. */
static void hook_select(void *ctx, float *keys, int64_t n, int64_t k, float *v, int64_t *less)
{
    dist_ctx *x = ctx;
    const int64_t P = frost__comm_size(x->c), r = frost__comm_rank(x->c);
    const int64_t lo = n * r / P, hi = n * (r + 1) / P;
    const float *slice = keys + lo;
    const int64_t len = hi - lo;
    frost__radix_select(&slice, &len, 1, k, reduce_i64, x->c, v, less);
}

/* ---- loss and step --------------------------------------------------------------- */

static int64_t labelled_terms(const frost_task_data *d)
{
    const int64_t T = d->task == FROST_TASK_BINARY ? d->C : 1;
    int64_t n = 0;
    for (int64_t k = 0; k < d->n_train; k++)
        for (int64_t t = 0; t < T; t++) n += d->labels[d->train[k] * T + t] >= 0;
    return n;
}

static void allreduce_grads(dist_ctx *x, frost_model *m)
{
    frost_param *ps;
    const int32_t np = frost_model_params(m, &ps);
    int64_t o = 0;
    for (int32_t k = 0; k < np; k++)
        for (int64_t i = 0; i < ps[k].n; i++) x->gbuf[o++] = (double)ps[k].grad[i];
    frost__comm_sum_f64(x->c, x->gbuf, o);
    o = 0;
    for (int32_t k = 0; k < np; k++)
        for (int64_t i = 0; i < ps[k].n; i++) ps[k].grad[i] = (float)x->gbuf[o++];
}

static frost_status dist_epoch(void *vctx, frost_model *m, frost_optim *opt, const frost_task_data *d,
                               const frost_train_opts *o, int64_t e, double *loss_out)
{
    dist_ctx *x = vctx;
    frost__comm_counters before;
    frost__comm_counters_get(x->c, &before);
    const double t0 = frost__now();
    frost_model_forward(m, d->X, true, o->seed, e);
    frost_model_zero_grad(m);
    float *dz = frost_model_dlogits(m);
    const float *z = frost_model_logits(m);
    const double local = frost__train_loss(dz, z, z, d, d->labels, d->train, d->n_train, o->entropy_alpha);
    /* the mean over every process's training nodes */
    const int64_t mine = labelled_terms(d);
    double v[2] = {local * (double)mine, (double)mine};
    frost__comm_sum_f64(x->c, v, 2);
    const double loss = v[1] > 0 ? v[0] / v[1] : 0.0;
    *loss_out = loss;
    if (!isfinite(loss)) return FROST_OK;
    if (mine > 0) {
        const float scale = (float)((double)mine / v[1]);
        for (int64_t k = 0; k < d->n_train; k++) {
            float *r = dz + d->train[k] * d->C;
            for (int64_t c = 0; c < d->C; c++) r[c] *= scale;
        }
    }
    frost_model_backward(m, d->X, o->seed, e);
    allreduce_grads(x, m);
    frost_optim_step(opt, e);
    frost_model_after_step(m);
    frost__comm_counters after;
    frost__comm_counters_get(x->c, &after);
    x->epochs++;
    x->seconds += frost__now() - t0;
    x->cnt.halo_bytes += after.halo_bytes - before.halo_bytes;
    x->cnt.reduce_bytes += after.reduce_bytes - before.reduce_bytes;
    x->cnt.halo_seconds += after.halo_seconds - before.halo_seconds;
    x->cnt.reduce_seconds += after.reduce_seconds - before.reduce_seconds;
    return FROST_OK;
}

/* ---- metrics over all processes -------------------------------------------------- */

static frost_status metric_all(dist_ctx *x, double *out, const frost_task_data *d, const float *s, const int64_t *idx,
                               int64_t n)
{
    frost_status st = FROST_OK;
    const int64_t T = d->task == FROST_TASK_BINARY ? d->C : 1;
    int64_t total = n;
    float *sc = NULL, *allsc = NULL;
    int32_t *y = NULL, *ally = NULL;
    int64_t *cnt = NULL;
    *out = (double)NAN;
    frost__comm_sum_i64(x->c, &total, 1);
    if (total == 0) return FROST_OK;
    if (d->metric == FROST_METRIC_ACCURACY) {
        /* correct and labelled per task, summed */
        int64_t rc[2 * 64];
        int64_t *r = T <= 64 ? rc : NULL;
        if (!r) FROST_CALLOC(r, 2 * T);
        memset(r, 0, (size_t)(2 * T) * sizeof *r);
        for (int64_t k = 0; k < n; k++) {
            const int64_t i = idx[k];
            if (d->task == FROST_TASK_MULTICLASS) {
                const int32_t lab = d->labels[i];
                if (lab < 0) continue;
                const float *row = s + i * d->C;
                int64_t best = 0;
                for (int64_t c = 1; c < d->C; c++)
                    if (row[c] > row[best]) best = c;
                r[0] += best == lab;
                r[T]++;
            } else {
                for (int64_t t = 0; t < T; t++) {
                    const int32_t lab = d->labels[i * T + t];
                    if (lab < 0) continue;
                    r[t] += (s[i * T + t] > 0.0f) == (lab == 1);
                    r[T + t]++;
                }
            }
        }
        frost__comm_sum_i64(x->c, r, 2 * T);
        double sum = 0;
        int64_t tasks = 0;
        for (int64_t t = 0; t < T; t++)
            if (r[T + t] > 0) sum += (double)r[t] / (double)r[T + t], tasks++;
        *out = tasks ? sum / (double)tasks : (double)NAN;
        if (r != rc) free(r);
        return FROST_OK;
    }
    if (d->task != FROST_TASK_BINARY) return frost__error(FROST_ERR_INVALID, "ROC-AUC needs binary labels");
    /* ROC-AUC: every process's labelled scores of a task, gathered (the
     * rank sum does not depend on their order) */
    const int P = frost__comm_size(x->c);
    FROST_ALLOC(sc, n > 0 ? n : 1);
    FROST_ALLOC(y, n > 0 ? n : 1);
    FROST_ALLOC(cnt, P);
    double sum = 0;
    int64_t tasks = 0;
    for (int64_t t = 0; t < T; t++) {
        int64_t mloc = 0;
        for (int64_t k = 0; k < n; k++) {
            const int64_t i = idx[k];
            if (d->labels[i * T + t] < 0) continue;
            sc[mloc] = s[i * T + t];
            y[mloc++] = d->labels[i * T + t];
        }
        FROST_TRY(frost__comm_allgather(x->c, sc, mloc * (int64_t)sizeof(float), (void **)&allsc, cnt));
        FROST_TRY(frost__comm_allgather(x->c, y, mloc * (int64_t)sizeof(int32_t), (void **)&ally, cnt));
        int64_t m = 0;
        for (int q = 0; q < P; q++) m += cnt[q] / (int64_t)sizeof(int32_t);
        const double auc = frost_rocauc(allsc, ally, m);
        free(allsc);
        free(ally);
        allsc = NULL, ally = NULL;
        if (!isnan(auc)) sum += auc, tasks++;
    }
    if (tasks == 0)
        FROST_FAIL(FROST_ERR_INVALID, "ROC-AUC: no task has both positive and negative labels among these %lld nodes",
                   (long long)total);
    *out = sum / (double)tasks;
fail:
    free(sc);
    free(y);
    free(cnt);
    free(allsc);
    free(ally);
    return st;
}

static frost_status dist_evaluate(void *vctx, frost_model *m, const frost_task_data *d, double *tr, double *va,
                                  double *te)
{
    dist_ctx *x = vctx;
    frost_status st;
    frost_model_forward(m, d->X, false, 0, 0);
    const float *s = frost_model_logits(m);
    if ((st = metric_all(x, tr, d, s, d->train, d->n_train)) < 0) return st;
    if ((st = metric_all(x, va, d, s, d->valid, d->n_valid)) < 0) return st;
    return metric_all(x, te, d, s, d->test, d->n_test);
}

static bool dist_same(void *vctx, uint64_t v)
{
    dist_ctx *x = vctx;
    const int64_t hi = (int64_t)(v >> 32), lo = (int64_t)(v & 0xffffffffu);
    int64_t m[4] = {hi, lo, -hi, -lo}; /* maxima of the halves and of their negatives: equal iff max = min */
    frost__comm_max_i64(x->c, m, 4);
    return m[0] == -m[2] && m[1] == -m[3];
}

static bool dist_any(void *vctx, bool flag)
{
    dist_ctx *x = vctx;
    int64_t v = flag;
    frost__comm_max_i64(x->c, &v, 1);
    return v != 0;
}

/* ---- the run ---------------------------------------------------------------------- */

void frost__dist_outcome_release(frost__dist_outcome *o)
{
    if (!o) return;
    frost_run_result_release(&o->res);
    free(o->params);
    free(o->bn);
    free(o->mask);
    memset(o, 0, sizeof *o);
}

/* Every process sends q exactly the rows q expects from it (by count and
 * node): true by construction from the whole graph, and from each
 * process's own rows only when the graph is symmetric, as the file says.
 * One hash per pair of processes, gathered; all fail together. */
static frost_status check_exchange(frost__comm *c, const frost__halo_plan *pl)
{
    frost_status st = FROST_OK;
    const int P = pl->size, r = pl->rank;
    uint64_t *mine = NULL, *all = NULL;
    int64_t *ids = NULL, *cnt = NULL;
    FROST_ALLOC(mine, P);
    FROST_ALLOC(ids, pl->send_off[P] > 0 ? pl->send_off[P] : 1);
    FROST_ALLOC(cnt, P);
    for (int64_t k = 0; k < pl->send_off[P]; k++) ids[k] = pl->gid[pl->send_rows[k]];
    for (int q = 0; q < P; q++)
        mine[q] = frost_hash64(ids + pl->send_off[q], (size_t)(pl->send_off[q + 1] - pl->send_off[q]) * sizeof(int64_t));
    FROST_TRY(frost__comm_allgather(c, mine, P * (int64_t)sizeof(uint64_t), (void **)&all, cnt));
    int64_t bad = -1;
    for (int q = 0; q < P && bad < 0; q++) {
        const int64_t lo = pl->n_owned + pl->recv_off[q], n = pl->recv_off[q + 1] - pl->recv_off[q];
        if (all[(size_t)q * (size_t)P + (size_t)r] != frost_hash64(pl->gid + lo, (size_t)n * sizeof(int64_t))) bad = q;
    }
    int64_t v[2] = {bad >= 0, bad >= 0 ? (int64_t)r * P + bad : -1};
    frost__comm_max_i64(c, v, 2);
    if (v[0])
        FROST_FAIL(FROST_ERR_FORMAT, "the processes disagree on the halo rows process %lld sends to process %lld: the "
                   "dataset's /graph is marked symmetric but is not",
                   (long long)(v[1] % P), (long long)(v[1] / P));
fail:
    free(mine);
    free(all);
    free(ids);
    free(cnt);
    return st;
}

frost_status frost__dist_train(frost__comm *c, const frost__dist_share *sh, const frost_task_data *g,
                               const frost_model_spec *specp, uint64_t seed, const frost_train_opts *o,
                               frost__dist_outcome *out)
{
    frost_status st = FROST_OK;
    dist_ctx x;
    frost_model *m = NULL;
    float *logits = NULL;
    int64_t *counts = NULL;
    void *gathered = NULL;
    memset(&x, 0, sizeof x);
    memset(out, 0, sizeof *out);
    const int P = frost__comm_size(c), rank = frost__comm_rank(c);
    const frost__halo_plan *pl = &sh->plan;
    const int64_t N = g->N, F = g->F;
    if (g->prior) return frost__error(FROST_ERR_INVALID, "distributed training does not support a prior");
    const int64_t nl = pl->n_local, no = pl->n_owned;
    FROST_TRY(check_exchange(c, pl));
    x.c = c;
    x.plan = pl;
    x.labels = sh->labels;
    frost_task_data d = *g;
    d.N = nl;
    d.X = sh->X;
    d.labels = sh->labels;
    d.train = sh->train, d.valid = sh->valid, d.test = sh->test;
    d.n_train = sh->n_train, d.n_valid = sh->n_valid, d.n_test = sh->n_test;

    /* the model on n_local rows, with the operator of the whole graph restricted to them */
    const frost_model_spec spec = *specp;
    FROST_TRY(frost_model_new(&m, &spec, NULL, NULL, nl));
    FROST_TRY(frost_model_init(m, seed));
    frost__dist *dd = &x.dist;
    dd->n_owned = no, dd->n_local = nl, dd->n_global = N;
    /* dropout masks follow a node's id: its original id in a renumbered dataset */
    dd->gid = sh->mask_ids ? sh->mask_ids : pl->gid;
    dd->op.aggr.A = &pl->A;
    dd->op.aggr.AT = &pl->AT;
    dd->op.aggr.a = sh->a, dd->op.aggr.b = sh->b, dd->op.aggr.c = sh->c;
    int64_t width = F > spec.hidden ? F : spec.hidden;
    if (spec.out_dim > width) width = spec.out_dim;
    if (spec.mlp_hidden > width) width = spec.mlp_hidden;
    FROST_TRY(frost__halo_new(&x.halo, c, pl, width));
    dd->ctx = &x;
    dd->halo_forward = hook_halo_forward;
    dd->halo_backward = hook_halo_backward;
    dd->allreduce = hook_allreduce;
    dd->select = hook_select;
    FROST_TRY(frost__model_set_dist(m, dd));
    {
        frost_param *ps;
        const int32_t np = frost_model_params(m, &ps);
        for (int32_t k = 0; k < np; k++) x.n_grad += ps[k].n;
        FROST_ALLOC(x.gbuf, x.n_grad > 0 ? x.n_grad : 1);
    }
    /* the supermask of frost_model_init was chosen by one process's
     * quickselect: the same value as the distributed selection */

    /* every process holds the same state: process 0 writes checkpoints, all read them */
    frost__train_hooks h = {.ctx = &x,
                            .epoch = dist_epoch,
                            .evaluate = dist_evaluate,
                            .any = dist_any,
                            .same = dist_same,
                            .resumable = true,
                            .ckpt_read_only = rank != 0};
    frost__comm_counters_reset(c);
    FROST_TRY(frost__train(m, &d, o, &h, &out->res));

    /* the model's state is the same on every process */
    out->sizes = frost_model_state_counts(m);
    FROST_ALLOC(out->params, out->sizes.params);
    FROST_ALLOC(out->bn, out->sizes.bn);
    FROST_CALLOC(out->mask, (out->sizes.mask + 7) / 8);
    frost_model_state_export(m, out->params, out->bn, out->mask);
    out->model_bits = frost_model_bits(m);
    out->dense_bits = frost_model_dense_bits(m);

    /* the eval logits of every node, in global order, on process 0 */
    int64_t halo_b = 0;
    {
        const int64_t C = spec.out_dim, rb = (int64_t)sizeof(int64_t) + C * (int64_t)sizeof(float);
        char *buf = NULL;
        FROST_ALLOC(buf, no * rb > 0 ? no * rb : 1);
        const float *z = frost_model_logits(m);
        for (int64_t i = 0; i < no; i++) {
            memcpy(buf + i * rb, &pl->gid[i], sizeof(int64_t));
            memcpy(buf + i * rb + sizeof(int64_t), z + i * C, (size_t)C * sizeof(float));
        }
        /* the model and the halo buffers go before process 0 gathers every node's logits */
        halo_b = frost__halo_bytes(x.halo);
        frost_model_free(&m);
        frost__halo_free(&x.halo);
        FROST_ALLOC(counts, P);
        st = frost__comm_gather(c, buf, no * rb, 0, &gathered, counts);
        free(buf);
        if (st < 0) goto fail;
        if (rank == 0) {
            FROST_ALLOC(logits, N * C);
            int64_t total = 0;
            for (int q = 0; q < P; q++) total += counts[q];
            for (int64_t r = 0; r < total / rb; r++) {
                int64_t gi;
                memcpy(&gi, (char *)gathered + r * rb, sizeof gi);
                memcpy(logits + gi * C, (char *)gathered + r * rb + sizeof(int64_t), (size_t)C * sizeof(float));
            }
            out->logits_hash = frost_hash64(logits, (size_t)(N * C) * sizeof(float));
        }
    }

    /* statistics: bytes summed over processes, times averaged, the slowest epoch */
    {
        double s[6] = {(double)x.cnt.halo_bytes,
                       (double)x.cnt.reduce_bytes,
                       x.cnt.halo_seconds,
                       x.cnt.reduce_seconds,
                       x.seconds - x.cnt.halo_seconds - x.cnt.reduce_seconds,
                       0};
        int64_t mx[5] = {(int64_t)(x.seconds * 1e9), no, -no, nl - no, -(nl - no)};
        frost__comm_sum_f64(c, s, 6);
        frost__comm_max_i64(c, mx, 5);
        frost_dist_stats *ss = &out->stats;
        const double E = x.epochs > 0 ? (double)x.epochs : 1.0;
        ss->ranks = P;
        ss->epochs = x.epochs;
        ss->halo_bytes = s[0] / E;
        ss->reduce_bytes = s[1] / E;
        ss->halo_seconds = s[2] / P / E;
        ss->reduce_seconds = s[3] / P / E;
        ss->compute_seconds = s[4] / P / E;
        ss->epoch_seconds = (double)mx[0] * 1e-9 / E;
        ss->owned_max = mx[1], ss->owned_min = -mx[2];
        ss->halo_max = mx[3], ss->halo_min = -mx[4];
    }
    /* memory per process, gathered on process 0 */
    {
        const int64_t T = g->task == FROST_TASK_BINARY ? g->C : 1, row = F * 4 + T * 4;
        size_t mb = 0;
        FROST_TRY(frost_model_bytes_for(specp, nl, 0, false, &mb));
        const int64_t nnz = pl->A.nnz;
        int64_t v[FROST_DIST_MEM_COLS] = {no,
                                          nl - no,
                                          no * row,
                                          (nl - no) * row,
                                          (no + 1) * 8 + (nl + 1) * 8 + 2 * nnz * 4,
                                          (int64_t)mb,
                                          halo_b + x.n_grad * 8,
                                          (int64_t)frost__peak_rss()};
        void *all = NULL;
        int64_t *cnt = NULL;
        FROST_ALLOC(cnt, P);
        st = frost__comm_gather(c, v, sizeof v, 0, &all, cnt);
        free(cnt);
        if (st < 0) goto fail;
        if (rank == 0) {
            const int32_t keep = P < FROST_DIST_MEM_RANKS ? P : FROST_DIST_MEM_RANKS;
            out->stats.mem_ranks = keep;
            memcpy(out->stats.mem, all, (size_t)keep * sizeof v);
        }
        free(all);
    }
fail:
    if (st < 0) frost__dist_outcome_release(out);
    frost_model_free(&m);
    frost__halo_free(&x.halo);
    free(x.gbuf);
    free(counts);
    free(gathered);
    free(logits);
    return st;
}

/*
 * batch.c - the epoch of a mini-batch trainer (Cluster-GCN, cluster.c;
 * neighbour sampling, sample.c): the trainer makes each batch (its nodes,
 * graph and loss rows), this file gathers the rows, steps and keeps the
 * epoch's loss.
 *
 * Shape legend: N nodes, F features, T label columns, n rows of a batch.
 */
#include "frost/train.h"
#include "train/train_impl.h"

#include <math.h>
#include <string.h>

void frost__batch_rows_release(frost__batch_rows *r)
{
    free(r->X);
    free(r->labels);
    memset(r, 0, sizeof *r);
}

static frost_status grow_rows(frost__batch_rows *r, const frost_task_data *d, int64_t n)
{
    if (n <= r->cap) return FROST_OK;
    const int64_t T = d->task == FROST_TASK_BINARY ? d->C : 1;
    int64_t cap = r->cap ? r->cap : 1024;
    while (cap < n) cap *= 2;
    if (cap > d->N) cap = d->N > n ? d->N : n;
    float *X = realloc(r->X, (size_t)(cap * d->F) * sizeof *X);
    if (X) r->X = X;
    int32_t *l = X ? realloc(r->labels, (size_t)(cap * T) * sizeof *l) : NULL;
    if (l) r->labels = l;
    if (!X || !l)
        return frost__error(FROST_ERR_NOMEM, "mini-batches: out of memory for a batch of %lld nodes", (long long)n);
    r->cap = cap;
    return FROST_OK;
}

/* One optimizer step on batch bt; *n_lab receives the labels its loss
 * counted (0: nothing was done). */
static frost_status batch_step(frost_model *m, frost_optim *opt, const frost_task_data *d, const frost_train_opts *o,
                               int64_t e, int64_t step, const frost__batch *bt, frost__batch_rows *rows, double *loss,
                               int64_t *n_lab)
{
    const int64_t F = d->F, T = d->task == FROST_TASK_BINARY ? d->C : 1, n = bt->n;
    *loss = 0;
    *n_lab = 0;
    frost_status st = grow_rows(rows, d, n);
    if (st < 0) return st;
    float *X = rows->X;
    int32_t *labels = rows->labels;
    for (int64_t k = 0; k < n; k++) {
        const int64_t v = bt->nodes[k];
        memcpy(X + k * F, d->X + v * F, (size_t)F * sizeof(float));
        memcpy(labels + k * T, d->labels + v * T, (size_t)T * sizeof(int32_t));
    }
    for (int64_t k = 0; k < bt->n_idx; k++)
        for (int64_t t = 0; t < T; t++) *n_lab += labels[bt->idx[k] * T + t] >= 0;
    if (*n_lab == 0) return FROST_OK;
    if ((st = frost_model_set_graph(m, &bt->A, bt->AT.indptr ? &bt->AT : NULL, n)) < 0) return st;
    frost_model_forward(m, X, true, o->seed, step);
    frost_model_zero_grad(m);
    float *dz = frost_model_dlogits(m);
    const float *z = frost_model_logits(m);
    *loss = frost__train_loss(dz, z, z, d, labels, bt->idx, bt->n_idx, o->entropy_alpha);
    if (!isfinite(*loss)) return FROST_OK;
    frost_model_backward(m, X, o->seed, step);
    frost_optim_step(opt, e);
    frost_model_after_step(m);
    return FROST_OK;
}

frost_status frost__batch_epoch(frost_model *m, frost_optim *opt, const frost_task_data *d, const frost_train_opts *o,
                                int64_t e, int64_t nb, frost__batch_fn make, void *ctx, frost__batch_rows *rows,
                                const frost_csr *A, const frost_csr *AT, double *loss_out)
{
    frost_status st = FROST_OK;
    frost__batch bt;
    memset(&bt, 0, sizeof bt);
    double loss_sum = 0, weight = 0;
    for (int64_t b = 0; b < nb; b++) {
        int64_t n_lab = 0;
        double loss = 0;
        FROST_TRY(make(ctx, d, o, e, b, &bt));
        if (bt.n_idx > 0) FROST_TRY(batch_step(m, opt, d, o, e, e * nb + b, &bt, rows, &loss, &n_lab));
        frost_csr_release(&bt.A);
        frost_csr_release(&bt.AT);
        if (n_lab == 0) continue;
        loss_sum += loss * (double)n_lab;
        weight += (double)n_lab;
        if (!isfinite(loss)) break;
    }
    *loss_out = weight > 0 ? loss_sum / weight : 0.0;
fail:
    frost_csr_release(&bt.A);
    frost_csr_release(&bt.AT);
    /* evaluation (and the caller) see the full graph again */
    frost_status st2 = frost_model_set_graph(m, A, AT, d->N);
    return st < 0 ? st : st2;
}

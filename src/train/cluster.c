/*
 * cluster.c - Cluster-GCN mini-batch training (Chiang et al., KDD 2019).
 *
 * Shape legend: N nodes, F features, C outputs, k parts, q parts per batch,
 * n_b nodes of a batch.
 *
 * The nodes are split into k parts (METIS, done by the caller). In epoch e
 * the parts are shuffled by a Fisher-Yates permutation drawn from (seed,
 * SHUFFLE, e) and taken q at a time, so an epoch has ceil(k / q) batches and
 * visits every node once. A batch is the subgraph its nodes induce (edges
 * between parts of the same batch are kept: the paper's stochastic multiple
 * partitions), and the model's aggregation operator, self-loops and
 * normalisation included, is recomputed on that subgraph, as the reference
 * implementation normalises each batch's adjacency. One optimizer step per
 * batch, on the loss over the batch's training nodes; batches without a
 * labelled training node are skipped. Dropout masks are drawn per step
 * (epoch e, batch b: step e * batches + b).
 *
 * Evaluation runs on the full graph (the model is built for all N nodes and
 * rebound to the full graph after each epoch), as the reference code
 * evaluates: metrics are comparable with full-batch training.
 */
#include "frost/train.h"
#include "frost/layers.h"
#include "frost/rng.h"
#include "train/train_impl.h"

#include <math.h>
#include <string.h>

/* Nodes of every part, increasing id within a part. */
typedef struct part_index {
    int64_t *start; /* (k + 1) */
    int64_t *nodes; /* (N) */
} part_index;

static void part_index_release(part_index *x)
{
    free(x->start);
    free(x->nodes);
    memset(x, 0, sizeof *x);
}

static frost_status part_index_build(part_index *x, const int32_t *part, int64_t N, int32_t k)
{
    frost_status st = FROST_OK;
    int64_t *fill = NULL;
    memset(x, 0, sizeof *x);
    FROST_CALLOC(x->start, (int64_t)k + 1);
    for (int64_t i = 0; i < N; i++) {
        if (part[i] < 0 || part[i] >= k)
            FROST_FAIL(FROST_ERR_RANGE, "node %lld is in part %d; expected 0 .. %d", (long long)i, part[i], k - 1);
        x->start[part[i] + 1]++;
    }
    for (int32_t p = 0; p < k; p++) x->start[p + 1] += x->start[p];
    FROST_ALLOC(x->nodes, N);
    FROST_ALLOC(fill, k);
    memcpy(fill, x->start, (size_t)k * sizeof *fill);
    for (int64_t i = 0; i < N; i++) x->nodes[fill[part[i]]++] = i;
    free(fill);
    return FROST_OK;
fail:
    free(fill);
    part_index_release(x);
    return st;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t frost_cluster_num_batches(int32_t parts, int32_t parts_per_batch)
{
    return parts_per_batch > 0 ? ((int64_t)parts + parts_per_batch - 1) / parts_per_batch : 0;
}

void frost_cluster_order(int32_t *order, int32_t parts, uint64_t seed, int64_t epoch)
{
    frost_rng r;
    frost_rng_init(&r, seed, frost_rng_stream(FROST_RNG_SHUFFLE, (uint64_t)epoch));
    for (int32_t p = 0; p < parts; p++) order[p] = p;
    for (int32_t p = parts - 1; p > 0; p--) {
        const int32_t j = (int32_t)frost_rng_next_below(&r, (uint64_t)p + 1);
        const int32_t t = order[p];
        order[p] = order[j];
        order[j] = t;
    }
}

/* The nodes of batch b given the epoch's part order, increasing. */
static int64_t batch_nodes(const part_index *x, const int32_t *order, int32_t k, int32_t q, int64_t b, int64_t *nodes)
{
    int64_t n = 0;
    for (int64_t t = b * q; t < (b + 1) * q && t < k; t++) {
        const int32_t p = order[t];
        memcpy(nodes + n, x->nodes + x->start[p], (size_t)(x->start[p + 1] - x->start[p]) * sizeof *nodes);
        n += x->start[p + 1] - x->start[p];
    }
    qsort(nodes, (size_t)n, sizeof *nodes, cmp_i64);
    return n;
}

frost_status frost_cluster_batch(const int32_t *part, int64_t N, int32_t parts, int32_t parts_per_batch, uint64_t seed,
                                 int64_t epoch, int64_t b, int64_t *nodes, int64_t *n_nodes)
{
    frost_status st = FROST_OK;
    part_index x;
    int32_t *order = NULL;
    *n_nodes = 0;
    if (parts < 1 || parts_per_batch < 1)
        return frost__error(FROST_ERR_INVALID, "%d parts, %d per batch", parts, parts_per_batch);
    if (b < 0 || b >= frost_cluster_num_batches(parts, parts_per_batch))
        return frost__error(FROST_ERR_RANGE, "batch %lld of %lld", (long long)b,
                            (long long)frost_cluster_num_batches(parts, parts_per_batch));
    FROST_TRY(part_index_build(&x, part, N, parts));
    FROST_ALLOC(order, parts);
    frost_cluster_order(order, parts, seed, epoch);
    *n_nodes = batch_nodes(&x, order, parts, parts_per_batch, b, nodes);
    part_index_release(&x);
fail:
    free(order);
    return st;
}

/* ---- the epoch --------------------------------------------------------------------- */

typedef struct cluster_ctx {
    const frost_cluster_opts *c;
    part_index parts;
    int32_t *order;  /* (k) */
    int64_t cap;     /* most nodes a batch can have: the q largest parts */
    int64_t *nodes;  /* (cap) */
    int32_t *pos;    /* (N) -1 */
    int64_t *idx;    /* (cap) training nodes of the batch, local ids */
    bool *is_train;  /* (N) */
    frost__batch_rows rows;
} cluster_ctx;

/* Batch b: the parts' nodes, the subgraph they induce, their training nodes. */
static frost_status cluster_batch(void *vctx, const frost_task_data *d, const frost_train_opts *o, int64_t e,
                                  int64_t b, frost__batch *bt)
{
    (void)d;
    cluster_ctx *x = vctx;
    const frost_cluster_opts *c = x->c;
    frost_status st = FROST_OK;
    if (b == 0) frost_cluster_order(x->order, c->parts, o->seed, e);
    const int64_t n = batch_nodes(&x->parts, x->order, c->parts, c->parts_per_batch, b, x->nodes);
    int64_t n_idx = 0;
    for (int64_t k = 0; k < n; k++)
        if (x->is_train[x->nodes[k]]) x->idx[n_idx++] = k;
    bt->nodes = x->nodes, bt->n = n, bt->idx = x->idx, bt->n_idx = n_idx;
    if (n_idx == 0) return FROST_OK;
    FROST_TRY(frost_csr_induced(&bt->A, c->A, x->nodes, n, x->pos));
    if (c->AT) FROST_TRY(frost_csr_induced(&bt->AT, c->AT, x->nodes, n, x->pos));
fail:
    return st;
}

static frost_status cluster_epoch(void *vctx, frost_model *m, frost_optim *opt, const frost_task_data *d,
                                  const frost_train_opts *o, int64_t e, double *loss)
{
    cluster_ctx *x = vctx;
    return frost__batch_epoch(m, opt, d, o, e, frost_cluster_num_batches(x->c->parts, x->c->parts_per_batch),
                              cluster_batch, x, &x->rows, x->c->A, x->c->AT, loss);
}

frost_status frost_train_cluster(frost_model *m, const frost_task_data *d, const frost_cluster_opts *c,
                                 const frost_train_opts *o, frost_run_result *res)
{
    frost_status st = FROST_OK;
    cluster_ctx x;
    int64_t *sizes = NULL;
    memset(&x, 0, sizeof x);
    memset(res, 0, sizeof *res);
    x.c = c;
    const int64_t N = d->N;
    if (d->prior) return frost__error(FROST_ERR_INVALID, "Cluster-GCN batches do not support a prior (reward tuning)");
    if (c->parts < 1 || c->parts_per_batch < 1 || c->parts_per_batch > c->parts)
        return frost__error(FROST_ERR_CONFIG, "batch.parts_per_batch is %d with %d parts; expected 1 .. parts",
                            c->parts_per_batch, c->parts);
    if (!c->A || c->A->n_rows != N || frost_model_num_nodes(m) != N)
        return frost__error(FROST_ERR_SHAPE, "Cluster-GCN needs the model and the graph of all %lld nodes",
                            (long long)N);
    FROST_TRY(part_index_build(&x.parts, c->part, N, c->parts));
    /* the largest batch: the q largest parts */
    FROST_ALLOC(sizes, c->parts);
    for (int32_t p = 0; p < c->parts; p++) sizes[p] = x.parts.start[p + 1] - x.parts.start[p];
    qsort(sizes, (size_t)c->parts, sizeof *sizes, cmp_i64);
    for (int32_t p = 0; p < c->parts_per_batch; p++) x.cap += sizes[c->parts - 1 - p];
    FROST_ALLOC(x.order, c->parts);
    FROST_ALLOC(x.nodes, x.cap);
    FROST_ALLOC(x.pos, N);
    for (int64_t i = 0; i < N; i++) x.pos[i] = -1;
    FROST_ALLOC(x.idx, x.cap);
    FROST_CALLOC(x.is_train, N);
    for (int64_t k = 0; k < d->n_train; k++) x.is_train[d->train[k]] = true;
    frost__train_hooks h = {.ctx = &x, .epoch = cluster_epoch, .resumable = true};
    st = frost__train(m, d, o, &h, res);
fail:
    part_index_release(&x.parts);
    free(sizes);
    free(x.order);
    free(x.nodes);
    free(x.pos);
    frost__batch_rows_release(&x.rows);
    free(x.idx);
    free(x.is_train);
    return st;
}

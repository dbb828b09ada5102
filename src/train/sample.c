/*
 * sample.c - neighbour-sampled mini-batch training (GraphSAGE, Hamilton et
 * al., NeurIPS 2017; the batches of PyG's NeighborLoader).
 *
 * Shape legend: N nodes, F features, B seed nodes of a batch, L hops (the
 * model's layers), n_b reached nodes of a batch, nnz_b sampled edges.
 *
 * An epoch shuffles the training nodes (Fisher-Yates from (seed, SHUFFLE,
 * epoch)) and takes them B at a time as seeds. Hop h samples, for every node
 * first reached at hop h - 1 (the seeds at hop 0), fanout[h - 1] of its
 * in-neighbours without replacement (Floyd's algorithm for a few of many,
 * else selection sampling; the chosen entries stay in A's stored order, and
 * a hub costs its fanout, not its degree); newly reached nodes join the
 * batch in order of discovery and are sampled from at the next hop. Nodes
 * reached at the last hop keep no edges of their own: an L-layer model's
 * output at a seed needs layer l's values only at nodes within L - l hops.
 * The batch graph holds the sampled edges over the n_b reached nodes; the
 * model runs every layer on all of them (as PyG does with the subgraph a
 * NeighborLoader returns), its aggregation and normalisation recomputed on
 * that graph, and one optimizer step follows on the loss over the B seeds.
 * Dropout masks and the sample are drawn per step t = epoch * batches + b.
 *
 * With fanout -1 (all in-neighbours) and one batch, a mean or sum
 * aggregation without batch norm computes the full-batch logits of the
 * seeds exactly; GCN's symmetric normalisation then differs at the last hop
 * (its degrees are those of the batch graph), as in PyG.
 *
 * Evaluation runs on the full graph. The batches follow the node numbering
 * (training-node order, stored row order): a renumbered dataset (frost
 * partition --reorder) samples other batches.
 */
#include "frost/train.h"
#include "frost/rng.h"
#include "train/train_impl.h"

#include <math.h>
#include <string.h>

/* k distinct offsets of 0 .. deg-1, increasing, into out: Floyd's
 * algorithm (k draws) when k is small against deg, else selection sampling
 * (Knuth's algorithm S: one draw per offset looked at). */
static void choose(frost_rng *r, int64_t deg, int64_t k, int64_t *out)
{
    if (k <= 64 && 4 * k < deg) {
        int64_t n = 0;
        for (int64_t j = deg - k; j < deg; j++) {
            int64_t t = (int64_t)frost_rng_next_below(r, (uint64_t)j + 1);
            for (int64_t i = 0; i < n; i++)
                if (out[i] == t) {
                    t = j;
                    break;
                }
            /* insert in order */
            int64_t i = n++;
            while (i > 0 && out[i - 1] > t) out[i] = out[i - 1], i--;
            out[i] = t;
        }
        return;
    }
    int64_t n = 0;
    for (int64_t j = 0; j < deg && n < k; j++)
        if (frost_rng_next_below(r, (uint64_t)(deg - j)) < (uint64_t)(k - n)) out[n++] = j;
}

frost_status frost_sample_neighbors(frost_csr *out, int64_t *nodes, int64_t *n_nodes, const frost_csr *A,
                                    const int64_t *seeds, int64_t n_seeds, int32_t hops, const int32_t *fanout,
                                    uint64_t seed, uint64_t step, int32_t *pos)
{
    frost_status st = FROST_OK;
    int32_t *own = NULL, *cols = NULL;
    int64_t *ip = NULL, *pick = NULL, n = 0, cap = 0, ipcap = 0, pickcap = 0, nnz = 0, done = 0;
    memset(out, 0, sizeof *out);
    *n_nodes = 0;
    const int64_t N = A->n_rows;
    if (A->n_rows != A->n_cols) return frost__error(FROST_ERR_SHAPE, "neighbour sampling needs a square graph");
    if (n_seeds < 0 || n_seeds > N || hops < 0 || (hops > 0 && !fanout))
        return frost__error(FROST_ERR_RANGE, "%lld seeds, %d hops (fanout %s) on a %lld-node graph",
                            (long long)n_seeds, hops, fanout ? "given" : "missing", (long long)N);
    for (int32_t h = 0; h < hops; h++)
        if (fanout[h] == 0 || fanout[h] < -1)
            return frost__error(FROST_ERR_RANGE, "fanout %d at hop %d; expected -1 (all) or >= 1", fanout[h], h + 1);
    if (!pos) {
        FROST_ALLOC(own, N);
        for (int64_t i = 0; i < N; i++) own[i] = -1;
        pos = own;
    }
    for (; n < n_seeds; n++) {
        const int64_t v = seeds[n];
        if (v < 0 || v >= N || pos[v] >= 0)
            FROST_FAIL(FROST_ERR_INVALID, "seed entry %lld (%lld): %s", (long long)n, (long long)v,
                       v < 0 || v >= N ? "out of range" : "listed twice");
        pos[v] = (int32_t)n;
        nodes[n] = v;
    }
    frost_rng r;
    frost_rng_init(&r, seed, frost_rng_stream(FROST_RNG_SAMPLE, step));
    int64_t lo = 0, hi = n;
    /* rows are filled in order: row k's entries follow row k - 1's */
    for (int32_t h = 0; h < hops; h++) {
        const int64_t fan = fanout[h];
        for (int64_t k = lo; k < hi; k++) {
            const int64_t v = nodes[k], b = A->indptr[v], deg = A->indptr[v + 1] - b;
            const int64_t need = fan < 0 || fan >= deg ? deg : fan;
            if (nnz + need > cap || need > pickcap) {
                cap = nnz + need > cap ? 2 * (nnz + need) + 1024 : cap;
                pickcap = need > pickcap ? need : pickcap;
                int32_t *g = realloc(cols, (size_t)cap * sizeof *cols);
                if (g) cols = g;
                int64_t *q = realloc(pick, (size_t)(pickcap ? pickcap : 1) * sizeof *pick);
                if (q) pick = q;
                if (!g || !q) FROST_FAIL(FROST_ERR_NOMEM, "neighbour sampling: out of memory for %lld edges", (long long)cap);
            }
            if (need == deg)
                for (int64_t j = 0; j < deg; j++) pick[j] = j;
            else
                choose(&r, deg, need, pick);
            for (int64_t j = 0; j < need; j++) {
                const int32_t u = A->indices[b + pick[j]];
                if (pos[u] < 0) {
                    pos[u] = (int32_t)n;
                    nodes[n++] = u;
                }
                cols[nnz++] = pos[u];
            }
            if (k + 1 >= ipcap) {
                ipcap = 2 * (k + 1) + 1024;
                int64_t *g = realloc(ip, (size_t)ipcap * sizeof *ip);
                if (!g) FROST_FAIL(FROST_ERR_NOMEM, "neighbour sampling: out of memory for %lld rows", (long long)ipcap);
                ip = g;
            }
            ip[k + 1] = nnz;
            done = k + 1;
        }
        lo = hi;
        hi = n;
    }
    FROST_TRY(frost_csr_alloc(out, n, n, nnz));
    out->indptr[0] = 0;
    for (int64_t k = 0; k < n; k++) out->indptr[k + 1] = k < done ? ip[k + 1] : nnz; /* the last hop's rows: empty */
    if (nnz) memcpy(out->indices, cols, (size_t)nnz * sizeof *cols);
    *n_nodes = n;
fail:
    for (int64_t k = 0; k < n; k++) pos[nodes[k]] = -1;
    free(own);
    free(cols);
    free(ip);
    free(pick);
    if (st < 0) frost_csr_release(out);
    return st;
}

void frost_sample_order(int64_t *order, const int64_t *train, int64_t n, uint64_t seed, int64_t epoch)
{
    memcpy(order, train, (size_t)n * sizeof *order);
    frost_rng r;
    frost_rng_init(&r, seed, frost_rng_stream(FROST_RNG_SHUFFLE, (uint64_t)epoch));
    for (int64_t i = n - 1; i > 0; i--) {
        const int64_t j = (int64_t)frost_rng_next_below(&r, (uint64_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* ---- the epoch --------------------------------------------------------------------- */

typedef struct sample_ctx {
    const frost_sample_opts *s;
    int64_t *order; /* (n_train) this epoch's training nodes */
    int64_t *nodes; /* (N) */
    int32_t *pos;   /* (N) -1 */
    int64_t *idx;   /* (batch_size) 0 .. B-1: the seeds come first */
    frost__batch_rows rows;
} sample_ctx;

/* Batch b: seeds b * B onwards of the epoch's order, their sampled neighbourhood. */
static frost_status sample_batch(void *vctx, const frost_task_data *d, const frost_train_opts *o, int64_t e,
                                 int64_t b, frost__batch *bt)
{
    sample_ctx *x = vctx;
    const frost_sample_opts *s = x->s;
    frost_status st = FROST_OK;
    const int64_t B = s->batch_size, nb = (d->n_train + B - 1) / B, first = b * B;
    const int64_t n_seeds = first + B <= d->n_train ? B : d->n_train - first;
    if (b == 0) frost_sample_order(x->order, d->train, d->n_train, o->seed, e);
    FROST_TRY(frost_sample_neighbors(&bt->A, x->nodes, &bt->n, s->A, x->order + first, n_seeds, s->hops, s->fanout,
                                     o->seed, (uint64_t)(e * nb + b), x->pos));
    FROST_TRY(frost_csr_transpose(&bt->AT, &bt->A));
    bt->nodes = x->nodes, bt->idx = x->idx, bt->n_idx = n_seeds;
fail:
    return st;
}

static frost_status sample_epoch(void *vctx, frost_model *m, frost_optim *opt, const frost_task_data *d,
                                 const frost_train_opts *o, int64_t e, double *loss)
{
    sample_ctx *x = vctx;
    const int64_t B = x->s->batch_size;
    return frost__batch_epoch(m, opt, d, o, e, (d->n_train + B - 1) / B, sample_batch, x, &x->rows, x->s->A,
                              x->s->AT, loss);
}

frost_status frost_train_sample(frost_model *m, const frost_task_data *d, const frost_sample_opts *s,
                                const frost_train_opts *o, frost_run_result *res)
{
    frost_status st = FROST_OK;
    sample_ctx x;
    memset(&x, 0, sizeof x);
    memset(res, 0, sizeof *res);
    x.s = s;
    const int64_t N = d->N;
    if (d->prior) return frost__error(FROST_ERR_INVALID, "neighbour sampling does not support a prior (reward tuning)");
    if (s->batch_size < 1 || s->hops < 1 || !s->fanout)
        return frost__error(FROST_ERR_CONFIG, "neighbour sampling: batch size %d, %d hops; expected >= 1 each",
                            s->batch_size, s->hops);
    for (int32_t h = 0; h < s->hops; h++)
        if (s->fanout[h] == 0 || s->fanout[h] < -1)
            return frost__error(FROST_ERR_CONFIG, "neighbour sampling: fanout %d at hop %d; expected -1 or >= 1",
                                s->fanout[h], h + 1);
    if (!s->A || s->A->n_rows != N || frost_model_num_nodes(m) != N)
        return frost__error(FROST_ERR_SHAPE, "neighbour sampling needs the model and the graph of all %lld nodes",
                            (long long)N);
    if (d->n_train < 1) return frost__error(FROST_ERR_INVALID, "neighbour sampling: the split has no training node");
    FROST_ALLOC(x.order, d->n_train);
    FROST_ALLOC(x.nodes, N);
    FROST_ALLOC(x.pos, N);
    for (int64_t i = 0; i < N; i++) x.pos[i] = -1;
    const int64_t B = s->batch_size < d->n_train ? s->batch_size : d->n_train;
    FROST_ALLOC(x.idx, B);
    for (int64_t k = 0; k < B; k++) x.idx[k] = k;
    frost__train_hooks h = {.ctx = &x, .epoch = sample_epoch, .resumable = true};
    st = frost__train(m, d, o, &h, res);
fail:
    free(x.order);
    free(x.nodes);
    free(x.pos);
    free(x.idx);
    frost__batch_rows_release(&x.rows);
    return st;
}

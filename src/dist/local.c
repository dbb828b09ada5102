/*
 * local.c - one process's share of a distributed run: its plan (plan.c),
 * its rows of the prepared features and labels, its training, validation
 * and test nodes, and the aggregation operator's coefficients of its rows.
 *
 * Two ways to the same share:
 *   - frost__dist_share_global: from the whole prepared dataset, which
 *     every process then holds (any graph);
 *   - frost__dist_share_load: from the dataset file, reading only this
 *     process's part (a stored partition with one part per process, a
 *     symmetric graph): the partition, the owned nodes' graph rows, the
 *     halo nodes' graph rows (their degrees, then dropped), and the feature
 *     and label rows of owned and halo nodes. No process holds the whole
 *     feature matrix or graph; it holds arrays of N entries (the partition,
 *     a node-to-row map) and the splits' node lists.
 * Both give the same bits: features are prepared row by row
 * (frost__features_prepare), graph rows are cleaned by the same rebuild
 * as the whole graph (frost_csr_rebuild), and the operator coefficients of
 * a node depend only on its degree. tests/unit/test_dist.c compares them.
 *
 * Shape legend: N nodes, F features, T label columns, P processes,
 * n_owned / n_local rows here.
 */
#include "dist/dist_impl.h"
#include "dataset/dataset_impl.h"
#include "model/model_impl.h"

#include <string.h>

void frost__dist_share_release(frost__dist_share *s)
{
    if (!s) return;
    frost__halo_plan_release(&s->plan);
    free(s->X);
    free(s->labels);
    free(s->train);
    free(s->valid);
    free(s->test);
    free(s->a);
    free(s->b);
    free(s->c);
    free(s->mask_ids);
    free(s->deg);
    memset(s, 0, sizeof *s);
}

/* This process's rows of a split: loc (N) maps a node to its local row. */
static frost_status local_ids(int64_t **out, int64_t *n_out, const int64_t *ids, int64_t n, const int64_t *loc,
                              int64_t n_owned)
{
    frost_status st = FROST_OK;
    int64_t *v = NULL, m = 0;
    FROST_ALLOC(v, n > 0 ? n : 1);
    for (int64_t k = 0; k < n; k++) {
        const int64_t l = loc[ids[k]];
        if (l >= 0 && l < n_owned) v[m++] = l;
    }
    *out = v;
    *n_out = m;
fail:
    return st;
}

/* The split's node lists in local rows (the split as given, global ids). */
static frost_status split_rows(frost__dist_share *s, const frost_task_data *g)
{
    frost_status st = FROST_OK;
    int64_t *loc = NULL;
    const int64_t N = g->N, nl = s->plan.n_local, no = s->plan.n_owned;
    FROST_ALLOC(loc, N > 0 ? N : 1);
    for (int64_t i = 0; i < N; i++) loc[i] = -1;
    for (int64_t i = 0; i < nl; i++) loc[s->plan.gid[i]] = i;
    FROST_TRY(local_ids(&s->train, &s->n_train, g->train, g->n_train, loc, no));
    FROST_TRY(local_ids(&s->valid, &s->n_valid, g->valid, g->n_valid, loc, no));
    FROST_TRY(local_ids(&s->test, &s->n_test, g->test, g->n_test, loc, no));
fail:
    free(loc);
    return st;
}

/* The coefficients of op (built on nodes indexed by idx(i)) of the local
 * rows: a and c of owned rows, b of all local rows (c 0 on halo rows). */
static frost_status take_coefficients(frost__dist_share *s, const frost__op *op, const int64_t *idx)
{
    frost_status st = FROST_OK;
    const int64_t no = s->plan.n_owned, nl = s->plan.n_local;
    if (op->aggr.a) {
        FROST_ALLOC(s->a, no > 0 ? no : 1);
        for (int64_t i = 0; i < no; i++) s->a[i] = op->aggr.a[idx ? idx[i] : i];
    }
    if (op->aggr.b) {
        FROST_ALLOC(s->b, nl > 0 ? nl : 1);
        for (int64_t i = 0; i < nl; i++) s->b[i] = op->aggr.b[idx ? idx[i] : i];
    }
    if (op->aggr.c) {
        FROST_ALLOC(s->c, nl > 0 ? nl : 1);
        for (int64_t i = 0; i < nl; i++) s->c[i] = i < no ? op->aggr.c[idx ? idx[i] : i] : 0.0f;
    }
fail:
    return st;
}

frost_status frost__dist_share_coefficients(frost__dist_share *s, const frost_model_spec *spec)
{
    frost_status st = FROST_OK;
    float *v0 = NULL, *v1 = NULL;
    int64_t *ptr = NULL;
    const int64_t nl = s->plan.n_local;
    free(s->a), free(s->b), free(s->c);
    s->a = s->b = s->c = NULL;
    if (!s->deg) return frost__error(FROST_ERR_INVALID, "a share without degrees");
    /* a graph of the local nodes whose rows have their degrees: the
     * coefficients of a node depend on its degree alone (its entries are
     * not read); the graph is symmetric, so it is its own transpose */
    FROST_ALLOC(ptr, nl + 1);
    ptr[0] = 0;
    for (int64_t i = 0; i < nl; i++) ptr[i + 1] = ptr[i] + s->deg[i];
    const frost_csr D = {.n_rows = nl, .n_cols = nl, .nnz = ptr[nl], .indptr = ptr, .indices = NULL};
    frost__op op;
    FROST_ALLOC(v0, nl > 0 ? nl : 1);
    FROST_ALLOC(v1, nl > 0 ? nl : 1);
    FROST_TRY(frost__model_operator(spec, &op, &D, &D, v0, v1));
    FROST_TRY(take_coefficients(s, &op, NULL));
fail:
    free(ptr);
    free(v0);
    free(v1);
    return st;
}

frost_status frost__dist_share_global(frost__dist_share *s, const frost__dist_job *j, const int32_t *part, int32_t P,
                                      int32_t rank)
{
    frost_status st = FROST_OK;
    float *gv0 = NULL, *gv1 = NULL;
    memset(s, 0, sizeof *s);
    const frost_task_data *g = &j->task;
    const int64_t N = g->N, F = g->F, T = g->task == FROST_TASK_BINARY ? g->C : 1;
    FROST_TRY(frost__halo_plan_build(&s->plan, j->A, part, P, rank));
    const int64_t nl = s->plan.n_local;
    FROST_ALLOC(s->X, nl * F > 0 ? nl * F : 1);
    FROST_ALLOC(s->labels, nl * T > 0 ? nl * T : 1);
    for (int64_t i = 0; i < nl; i++) {
        memcpy(s->X + i * F, j->X + s->plan.gid[i] * F, (size_t)F * sizeof(float));
        memcpy(s->labels + i * T, g->labels + s->plan.gid[i] * T, (size_t)T * sizeof(int32_t));
    }
    FROST_TRY(split_rows(s, g));
    /* the operator of the whole graph, restricted to the local rows */
    frost__op gop;
    FROST_ALLOC(gv0, N > 0 ? N : 1);
    FROST_ALLOC(gv1, N > 0 ? N : 1);
    FROST_TRY(frost__model_operator(&j->spec, &gop, j->A, j->AT, gv0, gv1));
    FROST_TRY(take_coefficients(s, &gop, s->plan.gid));
    if (j->original_id) { /* a renumbered dataset: masks by original id */
        FROST_ALLOC(s->mask_ids, nl > 0 ? nl : 1);
        for (int64_t i = 0; i < nl; i++) s->mask_ids[i] = j->original_id[s->plan.gid[i]];
    }
fail:
    free(gv0);
    free(gv1);
    if (st < 0) frost__dist_share_release(s);
    return st;
}

static int cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Row `self` of the aggregation graph from its stored entries in[0 .. n):
 * cleaned as frost_prepare cleans the whole graph (frost_csr_rebuild:
 * sorted, duplicates dropped, self-loops kept, dropped or exactly one
 * added). On a symmetric graph symmetrising adds nothing, so a row needs
 * only itself. out has room for n + 1; returns its length. */
static int64_t clean_row(int32_t *in, int64_t n, int32_t self, int32_t rule, int32_t *out)
{
    qsort(in, (size_t)n, sizeof *in, cmp_i32);
    int64_t w = 0;
    bool pending = rule == FROST_SELF_LOOPS_ADD, have = false;
    for (int64_t k = 0; k < n; k++) {
        const int32_t c = in[k];
        if (c == self) {
            if (rule == FROST_SELF_LOOPS_DROP) continue;
            if (rule == FROST_SELF_LOOPS_ADD && have) continue;
            have = true, pending = false;
        }
        if (pending && c > self) out[w++] = self, pending = false, have = true;
        if (w > 0 && out[w - 1] == c) continue;
        out[w++] = c;
    }
    if (pending) out[w++] = self;
    return w;
}

/* The rows ids[] of R cleaned (clean_row) into out (same shape). */
static frost_status clean_rows(frost_csr *out, frost_csr *R, const int64_t *ids, int32_t rule)
{
    frost_status st = FROST_OK;
    FROST_TRY(frost_csr_alloc(out, R->n_rows, R->n_cols, R->nnz + R->n_rows));
    int64_t w = 0;
    for (int64_t k = 0; k < R->n_rows; k++) {
        const int64_t a = R->indptr[k], b = R->indptr[k + 1];
        w += clean_row(R->indices + a, b - a, (int32_t)ids[k], rule, out->indices + w);
        out->indptr[k + 1] = w;
    }
    out->nnz = w;
fail:
    return st;
}

frost_status frost__dist_share_load(frost__dist_share *s, const frost__dist_file *f, int32_t P, int32_t rank)
{
    frost_status st = FROST_OK;
    int32_t *part = NULL;
    int64_t *own = NULL;
    int32_t *row = NULL;
    frost_csr R, C, H;
    memset(&R, 0, sizeof R);
    memset(&C, 0, sizeof C);
    memset(&H, 0, sizeof H);
    memset(s, 0, sizeof *s);
    const frost_task_data *g = &f->task;
    const int64_t N = g->N, F = g->F, T = g->task == FROST_TASK_BINARY ? g->C : 1;
    if (!f->symmetric)
        return frost__error(FROST_ERR_INVALID, "%s: a process reads only its rows of a symmetric graph", f->path);

    /* the partition, this process's nodes and their cleaned rows */
    int32_t k = 0;
    FROST_ALLOC(part, N > 0 ? N : 1);
    FROST_TRY(frost__dataset_read_partition(f->path, f->partition, N, part, &k));
    if (k != P)
        FROST_FAIL(FROST_ERR_CONFIG, "%s: partition '%s' has %d parts; %d are needed", f->path, f->partition, k, P);
    int64_t n_owned = 0;
    for (int64_t i = 0; i < N; i++) n_owned += part[i] == rank;
    FROST_ALLOC(own, n_owned > 0 ? n_owned : 1);
    for (int64_t i = 0, m = 0; i < N; i++)
        if (part[i] == rank) own[m++] = i;
    FROST_TRY(frost__dataset_read_graph_rows(f->path, N, own, n_owned, &R));
    FROST_TRY(clean_rows(&C, &R, own, f->self_loops));
    frost_csr_release(&R);
    FROST_TRY(frost__halo_plan_build_rows(&s->plan, &C, own, part, N, P, rank));
    frost_csr_release(&C);
    const int64_t no = s->plan.n_owned, nl = s->plan.n_local;

    /* every local node's degree in the aggregation graph: the owned rows'
     * from the plan, the halo's from their rows, read, cleaned, dropped.
     * The plan orders the halo by owner, then id: each owner's block is
     * increasing, as the readers want */
    const int64_t *halo = s->plan.gid + no;
    FROST_ALLOC(s->deg, nl > 0 ? nl : 1);
    for (int64_t i = 0; i < no; i++) s->deg[i] = s->plan.A.indptr[i + 1] - s->plan.A.indptr[i];
    for (int32_t q = 0; q < P; q++) {
        const int64_t lo = s->plan.recv_off[q], hi = s->plan.recv_off[q + 1];
        if (hi == lo) continue;
        FROST_TRY(frost__dataset_read_graph_rows(f->path, N, halo + lo, hi - lo, &H));
        int64_t longest = 0;
        for (int64_t t = 0; t < hi - lo; t++)
            if (H.indptr[t + 1] - H.indptr[t] > longest) longest = H.indptr[t + 1] - H.indptr[t];
        FROST_ALLOC(row, longest + 1);
        for (int64_t t = 0; t < hi - lo; t++)
            s->deg[no + lo + t] = clean_row(H.indices + H.indptr[t], H.indptr[t + 1] - H.indptr[t],
                                            (int32_t)halo[lo + t], f->self_loops, row);
        free(row);
        row = NULL;
        frost_csr_release(&H);
    }

    /* features, labels (and original ids) of the local rows: the owned
     * block, then each owner's halo block */
    FROST_ALLOC(s->X, nl * F > 0 ? nl * F : 1);
    FROST_ALLOC(s->labels, nl * T > 0 ? nl * T : 1);
    const bool renumbered = frost__dataset_has(f->path, "node/original_id");
    if (renumbered) FROST_ALLOC(s->mask_ids, nl > 0 ? nl : 1);
    for (int32_t q = -1; q < P; q++) {
        const int64_t lo = q < 0 ? 0 : no + s->plan.recv_off[q], hi = q < 0 ? no : no + s->plan.recv_off[q + 1];
        const int64_t *ids = s->plan.gid + lo;
        if (hi == lo) continue;
        FROST_TRY(frost__dataset_read_rows(f->path, "node/feat", FROST__F32, F, N, ids, hi - lo, s->X + lo * F));
        if (f->labelled)
            FROST_TRY(frost__dataset_read_rows(f->path, "node/label", FROST__I32, T, N, ids, hi - lo,
                                               s->labels + lo * T));
        else
            for (int64_t t = lo * T; t < hi * T; t++) s->labels[t] = -1;
        if (renumbered)
            FROST_TRY(frost__dataset_read_rows(f->path, "node/original_id", FROST__I64, 1, N, ids, hi - lo,
                                               s->mask_ids + lo));
    }
    const int32_t top = g->task == FROST_TASK_BINARY ? 2 : (int32_t)g->C;
    for (int64_t t = 0; t < nl * T; t++)
        if (s->labels[t] < -1 || s->labels[t] >= top)
            FROST_FAIL(FROST_ERR_FORMAT, "%s: /node/label of node %lld is %d, expected -1 .. %d", f->path,
                       (long long)s->plan.gid[t / T], s->labels[t], top - 1);
    FROST_TRY(frost__features_prepare(s->X, nl, F, s->plan.gid, f->row_norm, f->path));
    FROST_TRY(split_rows(s, g));
fail:
    free(part);
    free(own);
    free(row);
    frost_csr_release(&R);
    frost_csr_release(&C);
    frost_csr_release(&H);
    if (st < 0) frost__dist_share_release(s);
    return st;
}

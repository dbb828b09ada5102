/*
 * plan.c - one process's share of a partitioned graph: its nodes, its halo,
 * its rows of the aggregation graph in local numbering, and the lists of
 * rows it sends to every other process. Plain graph work, no MPI: every
 * process computes its own plan from the same graph and partition, and the
 * plans agree without a message (dist_impl.h states the ordering rules).
 *
 * Shape legend: N nodes, E entries of the graph, P processes.
 * O(N + E) time and O(N) extra memory; the halo is sorted by (owner, id).
 */
#include "dist/dist_impl.h"

#include <string.h>

void frost__halo_plan_release(frost__halo_plan *p)
{
    if (!p) return;
    free(p->gid);
    free(p->recv_off);
    free(p->send_off);
    free(p->send_rows);
    frost_csr_release(&p->A);
    frost_csr_release(&p->AT);
    memset(p, 0, sizeof *p);
}

static const int32_t *sort_part; /* qsort has no context argument; plans are built one at a time */

static int cmp_owner_id(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    const int32_t px = sort_part[x], py = sort_part[y];
    if (px != py) return px < py ? -1 : 1;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The plan's nodes, halo and local rows from the owned nodes' rows R
 * (n_owned rows, global columns, row k = node own[k]); loc (N) receives
 * every local node's local row, -1 elsewhere. Send lists are left to the
 * caller. */
static frost_status plan_core(frost__halo_plan *p, int64_t N, const int64_t *own, int64_t n_owned, const frost_csr *R,
                              const int32_t *part, int32_t size, int32_t rank, int64_t *loc)
{
    frost_status st = FROST_OK;
    int64_t *halo = NULL;
    memset(p, 0, sizeof *p);
    p->rank = rank, p->size = size, p->n_global = N;
    for (int64_t i = 0; i < N; i++) loc[i] = -1;
    for (int64_t k = 0; k < n_owned; k++) loc[own[k]] = k;
    /* halo = neighbours of owned nodes owned elsewhere, by (owner, id) */
    int64_t n_halo = 0, cap = 1024;
    FROST_ALLOC(halo, cap);
    for (int64_t e = 0; e < R->nnz; e++) {
        const int64_t j = R->indices[e];
        if (loc[j] != -1) continue;
        loc[j] = -2;
        if (n_halo == cap) {
            int64_t *h2 = realloc(halo, (size_t)(cap *= 2) * sizeof *h2);
            if (!h2) FROST_FAIL(FROST_ERR_NOMEM, "out of memory for a halo of %lld nodes", (long long)n_halo);
            halo = h2;
        }
        halo[n_halo++] = j;
    }
    sort_part = part;
    qsort(halo, (size_t)n_halo, sizeof *halo, cmp_owner_id);
    p->n_owned = n_owned;
    p->n_local = n_owned + n_halo;
    FROST_ALLOC(p->gid, p->n_local);
    FROST_CALLOC(p->recv_off, size + 1);
    for (int64_t k = 0; k < n_owned; k++) p->gid[k] = own[k];
    for (int64_t k = 0; k < n_halo; k++) {
        loc[halo[k]] = n_owned + k;
        p->gid[n_owned + k] = halo[k];
        p->recv_off[part[halo[k]] + 1]++;
    }
    for (int32_t q = 0; q < size; q++) p->recv_off[q + 1] += p->recv_off[q];
    /* the owned rows in local numbering, neighbours in the global row's order */
    if (p->n_local > INT32_MAX) FROST_FAIL(FROST_ERR_RANGE, "%lld local nodes", (long long)p->n_local);
    FROST_TRY(frost_csr_alloc(&p->A, n_owned, p->n_local, R->nnz));
    for (int64_t e = 0; e < R->nnz; e++) p->A.indices[e] = (int32_t)loc[R->indices[e]];
    memcpy(p->A.indptr, R->indptr, (size_t)(n_owned + 1) * sizeof(int64_t));
    FROST_TRY(frost_csr_transpose(&p->AT, &p->A));
    FROST_CALLOC(p->send_off, size + 1);
fail:
    free(halo);
    return st;
}

/* Append `row` to q's send list. */
static frost_status send_push(frost__halo_plan *p, int64_t *n_send, int64_t *cap, int64_t row)
{
    if (*n_send == *cap) {
        int64_t *s2 = realloc(p->send_rows, (size_t)(*cap *= 2) * sizeof *s2);
        if (!s2) return frost__error(FROST_ERR_NOMEM, "out of memory for the send lists");
        p->send_rows = s2;
    }
    p->send_rows[(*n_send)++] = row;
    return FROST_OK;
}

frost_status frost__halo_plan_build(frost__halo_plan *p, const frost_csr *G, const int32_t *part, int32_t size,
                                    int32_t rank)
{
    frost_status st = FROST_OK;
    int64_t *loc = NULL, *start = NULL, *order = NULL, *fill = NULL;
    int32_t *stamp = NULL;
    frost_csr R;
    memset(&R, 0, sizeof R);
    memset(p, 0, sizeof *p);
    const int64_t N = G->n_rows;
    if (G->n_cols != N) return frost__error(FROST_ERR_SHAPE, "the aggregation graph is not square");
    if (size < 1 || rank < 0 || rank >= size) return frost__error(FROST_ERR_INVALID, "process %d of %d", rank, size);

    /* nodes by part, increasing id within a part */
    FROST_CALLOC(start, size + 1);
    for (int64_t i = 0; i < N; i++) {
        if (part[i] < 0 || part[i] >= size)
            FROST_FAIL(FROST_ERR_RANGE, "node %lld is in part %d; expected 0 .. %d", (long long)i, part[i], size - 1);
        start[part[i] + 1]++;
    }
    for (int32_t q = 0; q < size; q++) start[q + 1] += start[q];
    FROST_ALLOC(order, N);
    FROST_ALLOC(fill, size);
    memcpy(fill, start, (size_t)size * sizeof *fill);
    for (int64_t i = 0; i < N; i++) order[fill[part[i]]++] = i;
    const int64_t *own = order + start[rank];
    const int64_t n_owned = start[rank + 1] - start[rank];

    /* the owned rows, then the common part */
    int64_t nnz = 0;
    for (int64_t k = 0; k < n_owned; k++) nnz += G->indptr[own[k] + 1] - G->indptr[own[k]];
    FROST_TRY(frost_csr_alloc(&R, n_owned, N, nnz));
    for (int64_t k = 0, o = 0; k < n_owned; k++) {
        const int64_t a = G->indptr[own[k]], b = G->indptr[own[k] + 1];
        memcpy(R.indices + o, G->indices + a, (size_t)(b - a) * sizeof(int32_t));
        R.indptr[k + 1] = o += b - a;
    }
    FROST_ALLOC(loc, N);
    FROST_TRY(plan_core(p, N, own, n_owned, &R, part, size, rank, loc));

    /* what q needs from us: our nodes among its owned nodes' neighbours */
    FROST_ALLOC(stamp, N);
    for (int64_t i = 0; i < N; i++) stamp[i] = -1;
    int64_t n_send = 0, scap = 1024;
    FROST_ALLOC(p->send_rows, scap);
    for (int32_t q = 0; q < size; q++) {
        if (q != rank)
            for (int64_t t = start[q]; t < start[q + 1]; t++) {
                const int64_t i = order[t];
                for (int64_t e = G->indptr[i]; e < G->indptr[i + 1]; e++) {
                    const int64_t j = G->indices[e];
                    if (part[j] != rank || stamp[j] == q) continue;
                    stamp[j] = q;
                    FROST_TRY(send_push(p, &n_send, &scap, loc[j]));
                }
            }
        /* q's halo order: increasing global id, which is increasing owned local row */
        qsort(p->send_rows + p->send_off[q], (size_t)(n_send - p->send_off[q]), sizeof(int64_t), cmp_i64);
        p->send_off[q + 1] = n_send;
    }
fail:
    frost_csr_release(&R);
    free(fill);
    free(loc);
    free(start);
    free(order);
    free(stamp);
    if (st < 0) frost__halo_plan_release(p);
    return st;
}

frost_status frost__halo_plan_build_rows(frost__halo_plan *p, const frost_csr *R, const int64_t *own,
                                         const int32_t *part, int64_t N, int32_t size, int32_t rank)
{
    frost_status st = FROST_OK;
    int64_t *loc = NULL;
    int32_t *stamp = NULL;
    memset(p, 0, sizeof *p);
    if (size < 1 || rank < 0 || rank >= size) return frost__error(FROST_ERR_INVALID, "process %d of %d", rank, size);
    if (R->n_cols != N) return frost__error(FROST_ERR_SHAPE, "rows of %lld columns for %lld nodes", (long long)R->n_cols,
                                            (long long)N);
    for (int64_t k = 0; k < R->n_rows; k++)
        if (part[own[k]] != rank || (k > 0 && own[k] <= own[k - 1]))
            return frost__error(FROST_ERR_INVALID, "row %lld is node %lld: not this process's next node", (long long)k,
                                (long long)own[k]);
    FROST_ALLOC(loc, N);
    FROST_TRY(plan_core(p, N, own, R->n_rows, R, part, size, rank, loc));
    /* what q needs from us: on a symmetric graph, the owned nodes with a
     * neighbour in q, in increasing id (one pass over our rows) */
    FROST_ALLOC(stamp, size);
    int64_t *cnt = p->send_off; /* counts per q first */
    for (int64_t k = 0; k < R->n_rows; k++) {
        for (int32_t q = 0; q < size; q++) stamp[q] = 0;
        for (int64_t e = R->indptr[k]; e < R->indptr[k + 1]; e++) {
            const int32_t q = part[R->indices[e]];
            if (q != rank && !stamp[q]) stamp[q] = 1, cnt[q + 1]++;
        }
    }
    for (int32_t q = 0; q < size; q++) cnt[q + 1] += cnt[q];
    const int64_t n_send = cnt[size];
    FROST_ALLOC(p->send_rows, n_send > 0 ? n_send : 1);
    int64_t *at = NULL;
    FROST_ALLOC(at, size);
    memcpy(at, cnt, (size_t)size * sizeof *at);
    for (int64_t k = 0; k < R->n_rows; k++) {
        for (int32_t q = 0; q < size; q++) stamp[q] = 0;
        for (int64_t e = R->indptr[k]; e < R->indptr[k + 1]; e++) {
            const int32_t q = part[R->indices[e]];
            if (q != rank && !stamp[q]) stamp[q] = 1, p->send_rows[at[q]++] = k;
        }
    }
    free(at);
fail:
    free(loc);
    free(stamp);
    if (st < 0) frost__halo_plan_release(p);
    return st;
}

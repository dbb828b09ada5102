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

frost_status frost__halo_plan_build(frost__halo_plan *p, const frost_csr *G, const int32_t *part, int32_t size,
                                    int32_t rank)
{
    frost_status st = FROST_OK;
    int64_t *loc = NULL, *start = NULL, *order = NULL, *halo = NULL, *fill = NULL;
    int32_t *stamp = NULL;
    memset(p, 0, sizeof *p);
    const int64_t N = G->n_rows;
    if (G->n_cols != N) return frost__error(FROST_ERR_SHAPE, "the aggregation graph is not square");
    if (size < 1 || rank < 0 || rank >= size) return frost__error(FROST_ERR_INVALID, "process %d of %d", rank, size);
    p->rank = rank, p->size = size, p->n_global = N;

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

    /* local ids: owned first; halo = neighbours of owned nodes owned elsewhere */
    FROST_ALLOC(loc, N);
    for (int64_t i = 0; i < N; i++) loc[i] = -1;
    for (int64_t k = 0; k < n_owned; k++) loc[own[k]] = k;
    int64_t n_halo = 0, cap = 1024;
    FROST_ALLOC(halo, cap);
    for (int64_t k = 0; k < n_owned; k++)
        for (int64_t e = G->indptr[own[k]]; e < G->indptr[own[k] + 1]; e++) {
            const int64_t j = G->indices[e];
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
    int64_t nnz = 0;
    for (int64_t k = 0; k < n_owned; k++) nnz += G->indptr[own[k] + 1] - G->indptr[own[k]];
    if (p->n_local > INT32_MAX) FROST_FAIL(FROST_ERR_RANGE, "%lld local nodes", (long long)p->n_local);
    FROST_TRY(frost_csr_alloc(&p->A, n_owned, p->n_local, nnz));
    nnz = 0;
    for (int64_t k = 0; k < n_owned; k++) {
        for (int64_t e = G->indptr[own[k]]; e < G->indptr[own[k] + 1]; e++)
            p->A.indices[nnz++] = (int32_t)loc[G->indices[e]];
        p->A.indptr[k + 1] = nnz;
    }
    FROST_TRY(frost_csr_transpose(&p->AT, &p->A));

    /* what q needs from us: our nodes among its owned nodes' neighbours */
    FROST_ALLOC(stamp, N);
    for (int64_t i = 0; i < N; i++) stamp[i] = -1;
    FROST_CALLOC(p->send_off, size + 1);
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
                    if (n_send == scap) {
                        int64_t *s2 = realloc(p->send_rows, (size_t)(scap *= 2) * sizeof *s2);
                        if (!s2) FROST_FAIL(FROST_ERR_NOMEM, "out of memory for the send lists");
                        p->send_rows = s2;
                    }
                    p->send_rows[n_send++] = loc[j];
                }
            }
        /* q's halo order: increasing global id, which is increasing owned local row */
        qsort(p->send_rows + p->send_off[q], (size_t)(n_send - p->send_off[q]), sizeof(int64_t), cmp_i64);
        p->send_off[q + 1] = n_send;
    }
fail:
    free(fill);
    free(loc);
    free(start);
    free(order);
    free(halo);
    free(stamp);
    if (st < 0) frost__halo_plan_release(p);
    return st;
}

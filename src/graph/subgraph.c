/*
 * subgraph.c - the subgraph a set of nodes induces (Cluster-GCN's batches).
 *
 * Shape legend: n listed nodes, N nodes of the graph, nnz_b entries of the
 * listed rows.
 *
 * Row k of the result is row nodes[k] of the graph, keeping the entries whose
 * column is listed, renamed to its position in the list, in stored order:
 * with rows of the graph sorted and nodes ascending, rows stay sorted.
 * O(n + nnz_b) with a position map the caller may lend (all -1 on entry, and
 * again on return), so building a batch never touches the other N - n nodes.
 */
#include "frost/graph.h"
#include "core/core_impl.h"

#include <string.h>

frost_status frost_csr_induced(frost_csr *out, const frost_csr *in, const int64_t *nodes, int64_t n, int32_t *pos)
{
    frost_status st = FROST_OK;
    int32_t *own = NULL;
    int64_t placed = 0;
    memset(out, 0, sizeof *out);
    if (in->n_rows != in->n_cols) return frost__error(FROST_ERR_SHAPE, "an induced subgraph needs a square graph");
    if (n < 0 || n > in->n_rows)
        return frost__error(FROST_ERR_RANGE, "%lld nodes of a %lld-node graph", (long long)n, (long long)in->n_rows);
    if (!pos) {
        FROST_ALLOC(own, in->n_rows);
        for (int64_t i = 0; i < in->n_rows; i++) own[i] = -1;
        pos = own;
    }
    for (; placed < n; placed++) {
        const int64_t v = nodes[placed];
        if (v < 0 || v >= in->n_rows || pos[v] >= 0)
            FROST_FAIL(FROST_ERR_INVALID, "node list entry %lld (%lld): %s", (long long)placed, (long long)v,
                       v < 0 || v >= in->n_rows ? "out of range" : "listed twice");
        pos[v] = (int32_t)placed;
    }
    int64_t nnz = 0;
    for (int64_t k = 0; k < n; k++) {
        const int64_t v = nodes[k];
        for (int64_t e = in->indptr[v]; e < in->indptr[v + 1]; e++) nnz += pos[in->indices[e]] >= 0;
    }
    FROST_TRY(frost_csr_alloc(out, n, n, nnz));
    nnz = 0;
    for (int64_t k = 0; k < n; k++) {
        const int64_t v = nodes[k];
        for (int64_t e = in->indptr[v]; e < in->indptr[v + 1]; e++) {
            const int32_t p = pos[in->indices[e]];
            if (p >= 0) out->indices[nnz++] = p;
        }
        out->indptr[k + 1] = nnz;
    }
fail:
    for (int64_t k = 0; k < placed; k++) pos[nodes[k]] = -1;
    free(own);
    return st;
}

/*
 * partition.c - METIS k-way partitioning and node reordering. The only file
 * that includes metis.h: METIS indices are 32-bit here (Debian's build), so
 * node and edge counts are range-checked before narrowing.
 */
#include "frost/graph.h"
#include "core/core_impl.h"

#include <metis.h>
#include <string.h>

frost_status frost_graph_partition(const frost_csr *g, int32_t k, double imbalance, uint64_t seed, int32_t *part)
{
    frost_status st = FROST_OK;
    frost_csr sym;
    idx_t *xadj = NULL, *adj = NULL, *pv = NULL;
    memset(&sym, 0, sizeof sym);
    if (g->n_rows != g->n_cols)
        return frost__error(FROST_ERR_SHAPE, "partition needs a square graph, got %lld x %lld", (long long)g->n_rows,
                            (long long)g->n_cols);
    if (k < 1 || k > g->n_rows)
        return frost__error(FROST_ERR_RANGE, "partition into %d parts of a %lld-node graph: expected 1 .. %lld", k,
                            (long long)g->n_rows, (long long)g->n_rows);
    if (!(imbalance >= 0 && imbalance <= 10))
        return frost__error(FROST_ERR_RANGE, "partition imbalance %g, expected 0 .. 10", imbalance);
    const int64_t n = g->n_rows;
    if (k == 1) {
        memset(part, 0, (size_t)n * sizeof *part);
        return FROST_OK;
    }
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = true;
    o.self_loops = FROST_SELF_LOOPS_DROP;
    FROST_TRY(frost_csr_rebuild(&sym, g, &o));
    if (n > INT32_MAX || sym.nnz > INT32_MAX || (int64_t)sizeof(idx_t) < 4)
        FROST_FAIL(FROST_ERR_RANGE, "graph with %lld nodes and %lld entries exceeds METIS's 32-bit indices",
                   (long long)n, (long long)sym.nnz);
    FROST_ALLOC(xadj, n + 1);
    FROST_ALLOC(adj, sym.nnz);
    FROST_ALLOC(pv, n);
    for (int64_t i = 0; i <= n; i++) xadj[i] = (idx_t)sym.indptr[i];
    for (int64_t e = 0; e < sym.nnz; e++) adj[e] = (idx_t)sym.indices[e];
    idx_t nv = (idx_t)n, ncon = 1, nparts = (idx_t)k, objval = 0;
    idx_t options[METIS_NOPTIONS];
    METIS_SetDefaultOptions(options);
    options[METIS_OPTION_SEED] = (idx_t)(seed & 0x7fffffff);
    options[METIS_OPTION_NUMBERING] = 0;
    options[METIS_OPTION_UFACTOR] = (idx_t)(imbalance * 1000.0 + 0.5);
    int rc = METIS_PartGraphKway(&nv, &ncon, xadj, adj, NULL, NULL, NULL, &nparts, NULL, NULL, options, &objval, pv);
    if (rc != METIS_OK)
        FROST_FAIL(FROST_ERR_METIS, "METIS_PartGraphKway failed (%s) partitioning %lld nodes into %d parts",
                   rc == METIS_ERROR_INPUT ? "bad input" : rc == METIS_ERROR_MEMORY ? "out of memory" : "error",
                   (long long)n, k);
    for (int64_t i = 0; i < n; i++) part[i] = (int32_t)pv[i];
fail:
    free(xadj);
    free(adj);
    free(pv);
    frost_csr_release(&sym);
    return st;
}

frost_status frost_csr_permute(frost_csr *out, const frost_csr *in, const int64_t *perm, int64_t *inv_out)
{
    frost_status st = FROST_OK;
    int64_t *inv = NULL;
    int32_t *src = NULL, *dst = NULL;
    const int64_t n = in->n_rows;
    memset(out, 0, sizeof *out);
    if (in->n_rows != in->n_cols) return frost__error(FROST_ERR_SHAPE, "permute needs a square graph");
    FROST_ALLOC(inv, n);
    for (int64_t i = 0; i < n; i++) inv[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || inv[perm[i]] >= 0)
            FROST_FAIL(FROST_ERR_INVALID, "perm is not a permutation of 0 .. %lld (entry %lld)", (long long)n - 1,
                       (long long)i);
        inv[perm[i]] = i;
    }
    FROST_ALLOC(src, in->nnz);
    FROST_ALLOC(dst, in->nnz);
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = in->indptr[i]; e < in->indptr[i + 1]; e++) {
            src[e] = (int32_t)inv[i];
            dst[e] = (int32_t)inv[in->indices[e]];
        }
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.keep_duplicates = true; /* a permutation changes nothing but names */
    FROST_TRY(frost_csr_from_edges(out, n, in->nnz, src, dst, &o, NULL));
    if (inv_out) memcpy(inv_out, inv, (size_t)n * sizeof *inv);
fail:
    free(inv);
    free(src);
    free(dst);
    return st;
}

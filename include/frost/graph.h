/*
 * frost/graph.h - sparse graphs in compressed sparse row (CSR) form.
 *
 * A frost_csr holds the pattern of an n_rows x n_cols 0/1 matrix: row i
 * lists the column ids of its nonzeros in indices[indptr[i] .. indptr[i+1]).
 * Values are not stored; the normalisations GNNs need (1/deg, deg^-1/2) are
 * applied on the fly from per-node vectors. Row pointers are int64 (more than
 * 2^31 edges are fine); column ids are int32, so a graph has fewer than 2^31
 * nodes (ogbn-papers100M has 1.1e8).
 *
 * Invariants (checked by frost_csr_check):
 *   indptr[0] = 0, indptr nondecreasing, indptr[n_rows] = nnz,
 *   0 <= indices[k] < n_cols, and, when built by frost, each row's column ids
 *   are strictly increasing (sorted, no duplicates) unless duplicates were
 *   asked for.
 *
 *     int32_t src[] = {0, 1, 1}, dst[] = {1, 2, 0};
 *     frost_csr g;
 *     frost_csr_build_opts o = frost_csr_build_opts_default();
 *     o.symmetrize = true;                       // add (dst, src) for each edge
 *     frost_csr_from_edges(&g, 3, 3, src, dst, &o, NULL);
 *     ...
 *     frost_csr_release(&g);
 */
#ifndef FROST_GRAPH_H
#define FROST_GRAPH_H

#include "frost/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct frost_csr {
    int64_t n_rows;
    int64_t n_cols;
    int64_t nnz;
    int64_t *indptr;  /* (n_rows + 1) */
    int32_t *indices; /* (nnz) */
} frost_csr;

/* How self-loops (i, i) are treated when a graph is built. */
typedef enum frost_self_loops {
    FROST_SELF_LOOPS_KEEP = 0, /* as given */
    FROST_SELF_LOOPS_DROP = 1, /* removed */
    FROST_SELF_LOOPS_ADD = 2   /* exactly one per node */
} frost_self_loops;

typedef struct frost_csr_build_opts {
    bool symmetrize;              /* also insert (dst, src) for every (src, dst) */
    bool keep_duplicates;         /* keep repeated pairs (default: drop them) */
    frost_self_loops self_loops;  /* default KEEP */
} frost_csr_build_opts;

FROST_API frost_csr_build_opts frost_csr_build_opts_default(void);

/* Build a square n x n CSR from an edge list with two stable counting sorts
 * (by destination, then by source): O(n + E) time, no comparison sort. Rows
 * come out sorted by column.
 *   out      : receives the graph (caller releases it)
 *   n        : number of nodes, 0 <= n < 2^31
 *   n_edges  : number of input pairs
 *   src, dst : (n_edges) node ids in [0, n); borrowed
 *   perm     : optional; receives a malloc'd (out->nnz) array: for each stored
 *              entry the input edge it came from (e, or e + n_edges for the
 *              reversed copy made by symmetrize; -1 for an added self-loop).
 * Returns FROST_ERR_RANGE with a message if an id is out of range. */
FROST_API frost_status frost_csr_from_edges(frost_csr *out, int64_t n, int64_t n_edges,
                                            const int32_t *src, const int32_t *dst,
                                            const frost_csr_build_opts *opts, int64_t **perm);

/* Rebuild an existing CSR under new options (e.g. symmetrise a directed graph). */
FROST_API frost_status frost_csr_rebuild(frost_csr *out, const frost_csr *in,
                                         const frost_csr_build_opts *opts);

/* Allocate an empty CSR with room for nnz entries (indptr zeroed). */
FROST_API frost_status frost_csr_alloc(frost_csr *out, int64_t n_rows, int64_t n_cols, int64_t nnz);

/* Free the arrays; leaves a zeroed struct. NULL-safe. */
FROST_API void frost_csr_release(frost_csr *g);

FROST_API frost_status frost_csr_copy(frost_csr *out, const frost_csr *in);

/* Check the invariants. require_sorted: rows strictly increasing. Returns
 * FROST_ERR_FORMAT with a message naming the first bad row or entry. */
FROST_API frost_status frost_csr_check(const frost_csr *g, bool require_sorted);

/* Transpose (rows sorted in the result). */
FROST_API frost_status frost_csr_transpose(frost_csr *out, const frost_csr *in);

/* True if the pattern equals its transpose (square, sorted rows). */
FROST_API frost_status frost_csr_is_symmetric(const frost_csr *g, bool *symmetric);

/* Out-degrees (row lengths) and in-degrees (column counts); (n_rows), (n_cols). */
FROST_API void frost_csr_out_degrees(const frost_csr *g, int64_t *deg);
FROST_API void frost_csr_in_degrees(const frost_csr *g, int64_t *deg);

/* Number of diagonal entries. */
FROST_API int64_t frost_csr_count_self_loops(const frost_csr *g);

/* Index of column j in row i (sorted rows), or -1. */
FROST_API int64_t frost_csr_find(const frost_csr *g, int64_t i, int32_t j);

/* METIS k-way partition of a graph (made symmetric and loop-free first, as
 * METIS requires). part: (n) part ids 0 .. k-1. imbalance: allowed part size
 * above the mean (0.03 = 3%). The same seed gives the same partition. Graphs
 * beyond METIS's 32-bit indices give FROST_ERR_RANGE. */
FROST_API frost_status frost_graph_partition(const frost_csr *g, int32_t k, double imbalance, uint64_t seed,
                                             int32_t *part);

/* The subgraph induced by the distinct nodes[0 .. n): row k is row nodes[k]
 * of `in` keeping the columns that are listed, renamed to their position in
 * the list (stored order kept). pos: (in->n_cols) int32 scratch that is all
 * -1 on entry and is again on return, or NULL (allocated here). */
FROST_API frost_status frost_csr_induced(frost_csr *out, const frost_csr *in, const int64_t *nodes, int64_t n,
                                         int32_t *pos);

/* Reorder nodes: perm[new] = old. out is the graph with rows and columns
 * renumbered (rows sorted). inv (optional, (n)): inv[old] = new. */
FROST_API frost_status frost_csr_permute(frost_csr *out, const frost_csr *in, const int64_t *perm, int64_t *inv);

#ifdef __cplusplus
}
#endif
#endif

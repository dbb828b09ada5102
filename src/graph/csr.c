/*
 * csr.c - building and inspecting CSR graphs.
 *
 * Shape legend: n nodes, E input edges, m = E (or 2E when symmetrising)
 * entries before clean-up, nnz stored entries after it.
 *
 * Building uses two stable counting sorts and never compares pairs:
 *   1. group the m entries by column (bucket c holds the rows of entries
 *      whose column is c, in input order);
 *   2. walk the buckets in increasing c and append c to each entry's row.
 * Step 2 visits columns in increasing order, so every row comes out sorted
 * and repeated pairs sit next to each other, where one linear pass can drop
 * them, drop self-loops or add the missing ones.
 */
#include "frost/graph.h"
#include "core/core_impl.h"

#include <string.h>

frost_csr_build_opts frost_csr_build_opts_default(void)
{
    frost_csr_build_opts o = {.symmetrize = false, .keep_duplicates = false,
                              .self_loops = FROST_SELF_LOOPS_KEEP};
    return o;
}

void frost_csr_release(frost_csr *g)
{
    if (!g) return;
    free(g->indptr);
    free(g->indices);
    memset(g, 0, sizeof *g);
}

frost_status frost_csr_alloc(frost_csr *out, int64_t n_rows, int64_t n_cols, int64_t nnz)
{
    frost_status st = FROST_OK;
    memset(out, 0, sizeof *out);
    if (n_rows < 0 || n_cols < 0 || nnz < 0 || n_cols > INT32_MAX)
        return frost__error(FROST_ERR_INVALID, "bad CSR size %lld x %lld with %lld entries",
                            (long long)n_rows, (long long)n_cols, (long long)nnz);
    out->n_rows = n_rows;
    out->n_cols = n_cols;
    out->nnz = nnz;
    FROST_CALLOC(out->indptr, n_rows + 1);
    FROST_ALLOC(out->indices, nnz);
    return FROST_OK;
fail:
    frost_csr_release(out);
    return st;
}

frost_status frost_csr_copy(frost_csr *out, const frost_csr *in)
{
    frost_status st = frost_csr_alloc(out, in->n_rows, in->n_cols, in->nnz);
    if (st < 0) return st;
    memcpy(out->indptr, in->indptr, (size_t)(in->n_rows + 1) * sizeof(int64_t));
    memcpy(out->indices, in->indices, (size_t)in->nnz * sizeof(int32_t));
    return FROST_OK;
}

/* Drop repeated pairs and treat self-loops as asked, in one pass over sorted
 * rows. When adding self-loops the arrays grow by at most n entries. */
static frost_status csr_clean(frost_csr *g, int64_t **perm, bool dedup, frost_self_loops loops)
{
    frost_status st = FROST_OK;
    const int64_t n = g->n_rows;
    int32_t *nidx = NULL;
    int64_t *nperm = NULL;
    if (!dedup && loops == FROST_SELF_LOOPS_KEEP) return FROST_OK;

    int32_t *dst_idx = g->indices;
    int64_t *dst_perm = perm ? *perm : NULL;
    if (loops == FROST_SELF_LOOPS_ADD) {
        /* Growing: write into fresh arrays. */
        FROST_ALLOC(nidx, g->nnz + n);
        if (perm) FROST_ALLOC(nperm, g->nnz + n);
        dst_idx = nidx;
        dst_perm = nperm;
    }
    int64_t w = 0, old_start = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t s = old_start, e = g->indptr[i + 1];
        old_start = e;
        bool have_loop = false;
        bool loop_pending = (loops == FROST_SELF_LOOPS_ADD);
        int64_t row_start = w;
        for (int64_t k = s; k < e; k++) {
            const int32_t c = g->indices[k];
            const int64_t pk = perm ? (*perm)[k] : 0;
            if (c == i) {
                if (loops == FROST_SELF_LOOPS_DROP) continue;
                if (loops == FROST_SELF_LOOPS_ADD && have_loop) continue; /* exactly one */
                have_loop = true;
                loop_pending = false;
            }
            if (loop_pending && c > i) {
                dst_idx[w] = (int32_t)i;
                if (dst_perm) dst_perm[w] = -1;
                w++;
                loop_pending = false;
                have_loop = true;
            }
            if (dedup && w > row_start && dst_idx[w - 1] == c) continue;
            dst_idx[w] = c;
            if (dst_perm) dst_perm[w] = pk;
            w++;
        }
        if (loop_pending) {
            dst_idx[w] = (int32_t)i;
            if (dst_perm) dst_perm[w] = -1;
            w++;
        }
        g->indptr[i + 1] = w;
    }
    if (nidx) {
        free(g->indices);
        g->indices = nidx;
        nidx = NULL;
        if (perm) {
            free(*perm);
            *perm = nperm;
            nperm = NULL;
        }
    }
    g->nnz = w;
    /* Give back memory when a lot was dropped; failure to shrink is harmless. */
    int32_t *shr = realloc(g->indices, (size_t)(w ? w : 1) * sizeof(int32_t));
    if (shr) g->indices = shr;
    if (perm) {
        int64_t *pshr = realloc(*perm, (size_t)(w ? w : 1) * sizeof(int64_t));
        if (pshr) *perm = pshr;
    }
    return FROST_OK;
fail:
    free(nidx);
    free(nperm);
    return st;
}

frost_status frost_csr_from_edges(frost_csr *out, int64_t n, int64_t n_edges,
                                  const int32_t *src, const int32_t *dst,
                                  const frost_csr_build_opts *opts, int64_t **perm)
{
    frost_status st = FROST_OK;
    frost_csr_build_opts o = opts ? *opts : frost_csr_build_opts_default();
    int64_t *bucket = NULL, *fill = NULL, *tmp_id = NULL;
    int32_t *tmp_row = NULL;
    int64_t *pfinal = NULL;
    memset(out, 0, sizeof *out);
    if (perm) *perm = NULL;

    if (n < 0 || n > INT32_MAX)
        return frost__error(FROST_ERR_RANGE, "graph with %lld nodes: frost supports 0 .. %d nodes",
                            (long long)n, INT32_MAX);
    if (n_edges < 0 || (n_edges > 0 && (!src || !dst)))
        return frost__error(FROST_ERR_INVALID, "bad edge list (%lld edges)", (long long)n_edges);
    for (int64_t e = 0; e < n_edges; e++) {
        if (src[e] < 0 || src[e] >= n || dst[e] < 0 || dst[e] >= n)
            return frost__error(FROST_ERR_RANGE,
                                "edge %lld (%d, %d): node id out of range, expected 0 .. %lld",
                                (long long)e, src[e], dst[e], (long long)n - 1);
    }
    const int64_t m = o.symmetrize ? 2 * n_edges : n_edges;

    /* Pass 1: bucket entries by column. Entry k < E is (src, dst); entry
     * k >= E is the reversed copy (dst, src). */
    FROST_CALLOC(bucket, n + 1);
    for (int64_t e = 0; e < n_edges; e++) {
        bucket[dst[e] + 1]++;
        if (o.symmetrize) bucket[src[e] + 1]++;
    }
    for (int64_t i = 0; i < n; i++) bucket[i + 1] += bucket[i];
    FROST_ALLOC(fill, n);
    memcpy(fill, bucket, (size_t)n * sizeof(int64_t));
    FROST_ALLOC(tmp_row, m);
    if (perm) FROST_ALLOC(tmp_id, m);
    for (int64_t e = 0; e < n_edges; e++) {
        int64_t p = fill[dst[e]]++;
        tmp_row[p] = src[e];
        if (tmp_id) tmp_id[p] = e;
    }
    if (o.symmetrize) {
        for (int64_t e = 0; e < n_edges; e++) {
            int64_t p = fill[src[e]]++;
            tmp_row[p] = dst[e];
            if (tmp_id) tmp_id[p] = e + n_edges;
        }
    }

    /* Pass 2: row pointers from row counts, then scatter columns in
     * increasing order. */
    FROST_TRY(frost_csr_alloc(out, n, n, m));
    for (int64_t k = 0; k < m; k++) out->indptr[tmp_row[k] + 1]++;
    for (int64_t i = 0; i < n; i++) out->indptr[i + 1] += out->indptr[i];
    memcpy(fill, out->indptr, (size_t)n * sizeof(int64_t));
    if (perm) FROST_ALLOC(pfinal, m);
    for (int64_t c = 0; c < n; c++) {
        for (int64_t p = bucket[c]; p < bucket[c + 1]; p++) {
            int64_t q = fill[tmp_row[p]]++;
            out->indices[q] = (int32_t)c;
            if (pfinal) pfinal[q] = tmp_id[p];
        }
    }
    free(tmp_row);
    tmp_row = NULL;
    free(tmp_id);
    tmp_id = NULL;
    FROST_TRY(csr_clean(out, perm ? &pfinal : NULL, !o.keep_duplicates, o.self_loops));
    if (perm) *perm = pfinal;
    pfinal = NULL;
    free(bucket);
    free(fill);
    return FROST_OK;
fail:
    free(bucket);
    free(fill);
    free(tmp_row);
    free(tmp_id);
    free(pfinal);
    frost_csr_release(out);
    return st;
}

frost_status frost_csr_rebuild(frost_csr *out, const frost_csr *in, const frost_csr_build_opts *opts)
{
    frost_status st = FROST_OK;
    int32_t *src = NULL;
    if (in->n_rows != in->n_cols)
        return frost__error(FROST_ERR_SHAPE, "rebuild needs a square graph, got %lld x %lld",
                            (long long)in->n_rows, (long long)in->n_cols);
    FROST_ALLOC(src, in->nnz);
    for (int64_t i = 0; i < in->n_rows; i++)
        for (int64_t k = in->indptr[i]; k < in->indptr[i + 1]; k++) src[k] = (int32_t)i;
    st = frost_csr_from_edges(out, in->n_rows, in->nnz, src, in->indices, opts, NULL);
fail:
    free(src);
    return st;
}

frost_status frost_csr_check(const frost_csr *g, bool require_sorted)
{
    if (!g || !g->indptr || (g->nnz > 0 && !g->indices))
        return frost__error(FROST_ERR_INVALID, "graph arrays are missing");
    if (g->n_rows < 0 || g->n_cols < 0 || g->n_cols > INT32_MAX || g->nnz < 0)
        return frost__error(FROST_ERR_FORMAT, "bad graph size %lld x %lld, %lld entries",
                            (long long)g->n_rows, (long long)g->n_cols, (long long)g->nnz);
    if (g->indptr[0] != 0)
        return frost__error(FROST_ERR_FORMAT, "indptr[0] is %lld, expected 0", (long long)g->indptr[0]);
    for (int64_t i = 0; i < g->n_rows; i++) {
        int64_t s = g->indptr[i], e = g->indptr[i + 1];
        if (e < s || e > g->nnz)
            return frost__error(FROST_ERR_FORMAT,
                                "indptr[%lld] = %lld: expected nondecreasing values up to nnz = %lld",
                                (long long)i + 1, (long long)e, (long long)g->nnz);
        for (int64_t k = s; k < e; k++) {
            int32_t c = g->indices[k];
            if (c < 0 || c >= g->n_cols)
                return frost__error(FROST_ERR_FORMAT,
                                    "row %lld holds column %d, expected 0 .. %lld",
                                    (long long)i, c, (long long)g->n_cols - 1);
            if (require_sorted && k > s && g->indices[k - 1] >= c)
                return frost__error(FROST_ERR_FORMAT,
                                    "row %lld is not strictly increasing at column %d",
                                    (long long)i, c);
        }
    }
    if (g->indptr[g->n_rows] != g->nnz)
        return frost__error(FROST_ERR_FORMAT, "indptr ends at %lld, expected nnz = %lld",
                            (long long)g->indptr[g->n_rows], (long long)g->nnz);
    return FROST_OK;
}

frost_status frost_csr_transpose(frost_csr *out, const frost_csr *in)
{
    frost_status st = FROST_OK;
    int64_t *fill = NULL;
    FROST_TRY(frost_csr_alloc(out, in->n_cols, in->n_rows, in->nnz));
    for (int64_t k = 0; k < in->nnz; k++) out->indptr[in->indices[k] + 1]++;
    for (int64_t j = 0; j < in->n_cols; j++) out->indptr[j + 1] += out->indptr[j];
    FROST_ALLOC(fill, in->n_cols + 1);
    memcpy(fill, out->indptr, (size_t)in->n_cols * sizeof(int64_t));
    for (int64_t i = 0; i < in->n_rows; i++)
        for (int64_t k = in->indptr[i]; k < in->indptr[i + 1]; k++)
            out->indices[fill[in->indices[k]]++] = (int32_t)i;
    free(fill);
    return FROST_OK;
fail:
    free(fill);
    frost_csr_release(out);
    return st;
}

frost_status frost_csr_is_symmetric(const frost_csr *g, bool *symmetric)
{
    frost_status st;
    frost_csr t;
    *symmetric = false;
    if (g->n_rows != g->n_cols) return FROST_OK;
    st = frost_csr_transpose(&t, g);
    if (st < 0) return st;
    /* Both have sorted rows (the transpose always does; g must), so equal
     * patterns means equal arrays. */
    *symmetric = memcmp(t.indptr, g->indptr, (size_t)(g->n_rows + 1) * sizeof(int64_t)) == 0 &&
                 memcmp(t.indices, g->indices, (size_t)g->nnz * sizeof(int32_t)) == 0;
    frost_csr_release(&t);
    return FROST_OK;
}

void frost_csr_out_degrees(const frost_csr *g, int64_t *deg)
{
    for (int64_t i = 0; i < g->n_rows; i++) deg[i] = g->indptr[i + 1] - g->indptr[i];
}

void frost_csr_in_degrees(const frost_csr *g, int64_t *deg)
{
    memset(deg, 0, (size_t)g->n_cols * sizeof(int64_t));
    for (int64_t k = 0; k < g->nnz; k++) deg[g->indices[k]]++;
}

int64_t frost_csr_count_self_loops(const frost_csr *g)
{
    int64_t c = 0;
    int64_t n = g->n_rows < g->n_cols ? g->n_rows : g->n_cols;
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = g->indptr[i]; k < g->indptr[i + 1]; k++) c += (g->indices[k] == i);
    return c;
}

int64_t frost_csr_find(const frost_csr *g, int64_t i, int32_t j)
{
    int64_t lo = g->indptr[i], hi = g->indptr[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (g->indices[mid] < j) lo = mid + 1;
        else hi = mid;
    }
    return (lo < g->indptr[i + 1] && g->indices[lo] == j) ? lo : -1;
}

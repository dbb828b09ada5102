/*
 * edge.c - graph attention's kernels over entries with a value per entry
 * and head (edge_impl.h has the layouts): the per-row softmax of
 * LeakyReLU(s_j + t_i), the SpMM with per-entry values and its transpose,
 * the fused backward of the two, and the column sums of per-entry values.
 * The references are in edge_ref.c.
 *
 * Shape legend: n rows, E entries, K heads, D columns per head.
 *
 * Every output row is written by one thread visiting its entries in stored
 * order (the transposed kernels: the rows of AT, through tperm), so results
 * do not depend on the thread count. Degrees are skewed (hubs), hence
 * dynamic scheduling over small row chunks.
 */
#include "layers/edge_impl.h"
#include "layers/layers_impl.h"
#include "frost/rng.h"
#include "core/philox.h"

#include <math.h>
#include <string.h>

#define KMAX 64 /* heads a row keeps on the stack */
#define AHEAD 8 /* entries ahead whose gathered rows are prefetched */
#define ROWBUF 512 /* entries of a row whose dalpha the backward keeps on the stack (longer rows: twice) */

/* Prefetch a row of w floats (the gathers of random rows are latency bound). */
static inline void prefetch_row(const float *x, int64_t w)
{
    for (int64_t q = 0; q < w; q += 16) __builtin_prefetch(x + q);
}

/* ---- the attention dropout mask ------------------------------------------------------- */

/* Key `key` is the 16-bit half (key & 1) of word (key >> 1) & 3 of Philox
 * block key >> 3: eight keys per block. */
typedef struct mask_cache {
    int64_t block;
    uint32_t w[4];
} mask_cache;

static inline float mult(const frost__edge_drop *d, uint32_t thr, float scale, int64_t key, mask_cache *c)
{
    const int64_t b = key >> 3;
    if (b != c->block) {
        frost__philox(d->seed, d->stream, (uint64_t)b, c->w); /* frost_rng_block, inline */
        c->block = b;
    }
    const uint32_t h = (c->w[(key >> 1) & 3] >> (16 * (key & 1))) & 0xFFFFu;
    return h >= thr ? scale : 0.0f;
}

float frost__edge_drop_at(const frost__edge_drop *d, int64_t key)
{
    if (!d || d->p <= 0.0f) return 1.0f;
    mask_cache c = {-1, {0, 0, 0, 0}};
    return mult(d, frost__dropout_thr(d->p), (float)(1.0 / (1.0 - (double)d->p)), key, &c);
}

/* The multipliers of keys key0 .. key0 + K - 1 into m (all 1 without dropout). */
static inline void mults(const frost__edge_drop *d, int64_t key0, int64_t K, float *m, mask_cache *c)
{
    if (!d || d->p <= 0.0f) {
        for (int64_t k = 0; k < K; k++) m[k] = 1.0f;
        return;
    }
    const uint32_t thr = frost__dropout_thr(d->p);
    const float scale = (float)(1.0 / (1.0 - (double)d->p));
    for (int64_t k = 0; k < K; k++) m[k] = mult(d, thr, scale, key0 + k, c);
}

/* ---- the transposed entries ---------------------------------------------------------- */

frost_status frost__edge_tperm(const frost_csr *A, const frost_csr *AT, int64_t *tperm, int64_t *cur)
{
    const int64_t n = A->n_rows;
    if (AT->n_rows != A->n_cols || AT->nnz != A->nnz)
        return frost__error(FROST_ERR_INVALID, "graph attention: the transposed graph (%lld rows, %lld entries) does not "
                            "match the graph (%lld columns, %lld entries)",
                            (long long)AT->n_rows, (long long)AT->nnz, (long long)A->n_cols, (long long)A->nnz);
    memset(cur, 0, (size_t)AT->n_rows * sizeof *cur);
    /* rows of A in increasing order: entry (i, j) is the next one of AT's row j */
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++) {
            const int32_t j = A->indices[e];
            const int64_t pos = AT->indptr[j] + cur[j]++;
            if (pos >= AT->indptr[j + 1] || AT->indices[pos] != i)
                return frost__error(FROST_ERR_INVALID, "graph attention: row %d of the transposed graph does not list "
                                    "node %lld in increasing order (not the transpose, or rows unsorted)",
                                    j, (long long)i);
            tperm[pos] = e;
        }
    return FROST_OK;
}

/* ---- softmax ---------------------------------------------------------------------------- */

static inline float lrelu(float x, float slope) { return x > 0.0f ? x : slope * x; }

void frost__edge_softmax(const frost_csr *A, const float *s, const float *t, int64_t K, float slope, float *alpha,
                         float *alpha_self)
{
    const int64_t n = A->n_rows;
    FROST_ASSERT(K <= KMAX);
#pragma omp parallel for schedule(dynamic, 64) if (A->nnz > 65536)
    for (int64_t i = 0; i < n; i++) {
        float mx[KMAX], sum[KMAX];
        const float *ti = t + i * K, *si = s + i * K;
        const int64_t e0 = A->indptr[i], e1 = A->indptr[i + 1];
        for (int64_t k = 0; k < K; k++) mx[k] = lrelu(si[k] + ti[k], slope);
        for (int64_t e = e0; e < e1; e++) {
            const float *sj = s + (int64_t)A->indices[e] * K;
            for (int64_t k = 0; k < K; k++) {
                const float l = lrelu(sj[k] + ti[k], slope);
                mx[k] = l > mx[k] ? l : mx[k];
            }
        }
        float *as = alpha_self + i * K;
        for (int64_t k = 0; k < K; k++) sum[k] = as[k] = expf(lrelu(si[k] + ti[k], slope) - mx[k]);
        for (int64_t e = e0; e < e1; e++) {
            const float *sj = s + (int64_t)A->indices[e] * K;
            float *a = alpha + e * K;
            for (int64_t k = 0; k < K; k++) {
                a[k] = expf(lrelu(sj[k] + ti[k], slope) - mx[k]);
                sum[k] += a[k];
            }
        }
        for (int64_t k = 0; k < K; k++) sum[k] = 1.0f / sum[k];
        for (int64_t k = 0; k < K; k++) as[k] *= sum[k];
        for (int64_t e = e0; e < e1; e++) {
            float *a = alpha + e * K;
            for (int64_t k = 0; k < K; k++) a[k] *= sum[k];
        }
    }
}

/* ---- SpMM with per-entry values -------------------------------------------------------- */

/* y (K D) += per head k: w[k] x (K D) */
static inline void axpy_heads(float *restrict y, const float *restrict w, const float *restrict x, int64_t K,
                              int64_t D)
{
    for (int64_t k = 0; k < K; k++) {
        const float wk = w[k];
        if (wk == 0.0f) continue;
        for (int64_t c = 0; c < D; c++) y[k * D + c] += wk * x[k * D + c];
    }
}

void frost__spmm_edge(const frost_csr *A, const float *v, const float *v_self, int64_t K, int64_t D,
                      const frost__edge_drop *drop, const float *X, float *Y)
{
    const int64_t n = A->n_rows, E = A->nnz, W = K * D;
    FROST_ASSERT(K <= KMAX);
#pragma omp parallel for schedule(dynamic, 64) if (E * W > 65536)
    for (int64_t i = 0; i < n; i++) {
        float m[KMAX], w[KMAX];
        mask_cache mc = {-1, {0, 0, 0, 0}};
        float *restrict y = Y + i * W;
        memset(y, 0, (size_t)W * sizeof(float));
        mults(drop, (E + i) * K, K, m, &mc);
        for (int64_t k = 0; k < K; k++) w[k] = v_self[i * K + k] * m[k];
        axpy_heads(y, w, X + i * W, K, D);
        for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++) {
            if (e + AHEAD < E) prefetch_row(X + (int64_t)A->indices[e + AHEAD] * W, W);
            mults(drop, e * K, K, m, &mc);
            for (int64_t k = 0; k < K; k++) w[k] = v[e * K + k] * m[k];
            axpy_heads(y, w, X + (int64_t)A->indices[e] * W, K, D);
        }
    }
}

void frost__spmm_edge_t(const frost_csr *A, const frost_csr *AT, const int64_t *tperm, const float *v,
                        const float *v_self, int64_t K, int64_t D, const frost__edge_drop *drop, const float *X,
                        float *Y)
{
    const int64_t n = AT->n_rows, E = A->nnz, W = K * D;
    FROST_ASSERT(K <= KMAX);
#pragma omp parallel for schedule(dynamic, 64) if (E * W > 65536)
    for (int64_t j = 0; j < n; j++) {
        float m[KMAX], w[KMAX];
        mask_cache mc = {-1, {0, 0, 0, 0}};
        float *restrict y = Y + j * W;
        memset(y, 0, (size_t)W * sizeof(float));
        mults(drop, (E + j) * K, K, m, &mc);
        for (int64_t k = 0; k < K; k++) w[k] = v_self[j * K + k] * m[k];
        axpy_heads(y, w, X + j * W, K, D);
        for (int64_t q = AT->indptr[j]; q < AT->indptr[j + 1]; q++) {
            if (q + AHEAD < E) {
                prefetch_row(X + (int64_t)AT->indices[q + AHEAD] * W, W);
                __builtin_prefetch(v + tperm[q + AHEAD] * K);
            }
            const int64_t e = tperm[q];
            mults(drop, e * K, K, m, &mc);
            for (int64_t k = 0; k < K; k++) w[k] = v[e * K + k] * m[k];
            axpy_heads(y, w, X + (int64_t)AT->indices[q] * W, K, D);
        }
    }
}

/* ---- backward ------------------------------------------------------------------------- */

/* g[k] = m[k] (a_k . b_k) per head */
static inline void dots(float *restrict g, const float *restrict m, const float *restrict a, const float *restrict b,
                        int64_t K, int64_t D)
{
    for (int64_t k = 0; k < K; k++) {
        float acc = 0.0f;
        for (int64_t c = 0; c < D; c++) acc += a[k * D + c] * b[k * D + c];
        g[k] = m[k] * acc;
    }
}

void frost__edge_softmax_backward(const frost_csr *A, const float *s, const float *t, int64_t K, int64_t D,
                                  float slope, const frost__edge_drop *drop, const float *dY, const float *X,
                                  float *alpha, float *alpha_self, float *dt)
{
    const int64_t n = A->n_rows, E = A->nnz, W = K * D;
    FROST_ASSERT(K <= KMAX);
#pragma omp parallel for schedule(dynamic, 64) if (E * W > 65536)
    for (int64_t i = 0; i < n; i++) {
        float m[KMAX], g[KMAX], S[KMAX];
        float gbuf[ROWBUF * 8]; /* the row's g while it fits (K <= 8) */
        mask_cache mc = {-1, {0, 0, 0, 0}};
        const float *dy = dY + i * W, *ti = t + i * K, *si = s + i * K;
        const int64_t e0 = A->indptr[i], e1 = A->indptr[i + 1];
        const bool keep_g = K <= 8 && e1 - e0 <= ROWBUF;
        float *as = alpha_self + i * K;
        /* S = sum alpha g over the row (g kept when the row fits) */
        mults(drop, (E + i) * K, K, m, &mc);
        dots(g, m, dy, X + i * W, K, D);
        float gs[KMAX];
        for (int64_t k = 0; k < K; k++) S[k] = as[k] * g[k], gs[k] = g[k];
        for (int64_t e = e0; e < e1; e++) {
            if (e + AHEAD < E) prefetch_row(X + (int64_t)A->indices[e + AHEAD] * W, W);
            mults(drop, e * K, K, m, &mc);
            dots(g, m, dy, X + (int64_t)A->indices[e] * W, K, D);
            for (int64_t k = 0; k < K; k++) S[k] += alpha[e * K + k] * g[k];
            if (keep_g)
                for (int64_t k = 0; k < K; k++) gbuf[(e - e0) * K + k] = g[k];
        }
        /* the pre-activation gradients, written over alpha */
        float *dti = dt + i * K;
        for (int64_t k = 0; k < K; k++) {
            const float u = as[k] * (gs[k] - S[k]);
            as[k] = si[k] + ti[k] > 0.0f ? u : slope * u;
            dti[k] = as[k];
        }
        for (int64_t e = e0; e < e1; e++) {
            const int32_t j = A->indices[e];
            if (e + AHEAD < e1) __builtin_prefetch(s + (int64_t)A->indices[e + AHEAD] * K);
            const float *sj = s + (int64_t)j * K;
            float *a = alpha + e * K;
            if (keep_g) {
                for (int64_t k = 0; k < K; k++) g[k] = gbuf[(e - e0) * K + k];
            } else {
                mults(drop, e * K, K, m, &mc);
                dots(g, m, dy, X + (int64_t)j * W, K, D);
            }
            for (int64_t k = 0; k < K; k++) {
                const float u = a[k] * (g[k] - S[k]);
                a[k] = sj[k] + ti[k] > 0.0f ? u : slope * u;
                dti[k] += a[k];
            }
        }
    }
}

void frost__edge_sum_t(const frost_csr *A, const frost_csr *AT, const int64_t *tperm, const float *v,
                       const float *v_self, int64_t K, float *out)
{
    const int64_t n = AT->n_rows;
    (void)A;
#pragma omp parallel for schedule(dynamic, 256) if (AT->nnz > 65536)
    for (int64_t j = 0; j < n; j++) {
        float *o = out + j * K;
        for (int64_t k = 0; k < K; k++) o[k] = v_self[j * K + k];
        for (int64_t q = AT->indptr[j]; q < AT->indptr[j + 1]; q++) {
            const float *x = v + tperm[q] * K;
            for (int64_t k = 0; k < K; k++) o[k] += x[k];
        }
    }
}

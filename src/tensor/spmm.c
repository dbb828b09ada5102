/*
 * spmm.c - graph aggregation Y = diag(a) A diag(b) X + diag(c) X, row
 * parallel. Shape legend: n nodes, F feature columns, nnz stored entries.
 *
 * Each output row is produced by exactly one thread, visiting its nonzeros
 * in stored order, so the floating-point sums are the same for any thread
 * count. Degrees are skewed (hubs), hence dynamic scheduling over small row
 * chunks.
 */
#include "frost/tensor.h"
#include "core/core_impl.h"

#include <string.h>

/* y[0:F] += w * x[0:F] */
static inline void axpy_row(float *restrict y, const float *restrict x, float w, int64_t F)
{
    for (int64_t f = 0; f < F; f++) y[f] += w * x[f];
}

/* One output row: sum over the row's nonzeros, scaled. acc = true adds into
 * y instead of overwriting it. */
static inline void spmm_row(const frost_csr *A, const float *a, const float *b, const float *c, int64_t i,
                            const float *X, int64_t ldx, int64_t F, float *restrict y, bool acc,
                            float *restrict tmp)
{
    float *restrict s = acc ? tmp : y;
    memset(s, 0, (size_t)F * sizeof(float));
    const int64_t k0 = A->indptr[i], k1 = A->indptr[i + 1];
    if (b) {
        for (int64_t k = k0; k < k1; k++) {
            const int32_t j = A->indices[k];
            axpy_row(s, X + (int64_t)j * ldx, b[j], F);
        }
    } else {
        for (int64_t k = k0; k < k1; k++) {
            const float *restrict x = X + (int64_t)A->indices[k] * ldx;
            for (int64_t f = 0; f < F; f++) s[f] += x[f];
        }
    }
    const float ai = a ? a[i] : 1.0f;
    const float ci = c ? c[i] : 0.0f;
    const float *restrict xi = X + i * ldx;
    if (acc) {
        for (int64_t f = 0; f < F; f++) y[f] += ai * s[f] + ci * xi[f];
    } else if (c) {
        for (int64_t f = 0; f < F; f++) y[f] = ai * s[f] + ci * xi[f];
    } else if (a) {
        for (int64_t f = 0; f < F; f++) y[f] *= ai;
    }
}

/* Accumulating rows are summed in a stack buffer, in column blocks of this
 * many floats: no allocation inside a training step. */
#define SPMM_TMP_STACK 1024

static void spmm_impl(const frost_csr *A, const float *a, const float *b, const float *c, const float *X,
                      int64_t ldx, int64_t F, float *Y, int64_t ldy, bool acc)
{
    const int64_t n = A->n_rows;
#pragma omp parallel
    {
        float tmp[SPMM_TMP_STACK];
#pragma omp for schedule(dynamic, 256)
        for (int64_t i = 0; i < n; i++) {
            if (!acc) {
                spmm_row(A, a, b, c, i, X, ldx, F, Y + i * ldy, false, NULL);
            } else {
                for (int64_t f0 = 0; f0 < F; f0 += SPMM_TMP_STACK) {
                    int64_t nf = F - f0 < SPMM_TMP_STACK ? F - f0 : SPMM_TMP_STACK;
                    spmm_row(A, a, b, c, i, X + f0, ldx, nf, Y + i * ldy + f0, true, tmp);
                }
            }
        }
    }
}

void frost_spmm(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    spmm_impl(op->A, op->a, op->b, op->c, X, ldx, F, Y, ldy, false);
}

void frost_spmm_t_acc(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    /* (diag(a) A diag(b))^T = diag(b) A^T diag(a) */
    const frost_csr *AT = op->AT ? op->AT : op->A;
    spmm_impl(AT, op->b, op->a, op->c, X, ldx, F, Y, ldy, true);
}

void frost_colsum_acc(const float *X, int64_t n, int64_t F, int64_t ldx, float *out)
{
    /* Columns are split across threads in blocks of 16; each thread sums its
     * columns over all rows in order: deterministic, no workspace. */
    const int64_t nb = (F + 15) / 16;
#pragma omp parallel for schedule(static) if (n * F > 65536)
    for (int64_t cb = 0; cb < nb; cb++) {
        double acc[16] = {0};
        const int64_t f0 = cb * 16, f1 = f0 + 16 < F ? f0 + 16 : F;
        for (int64_t i = 0; i < n; i++) {
            const float *x = X + i * ldx;
            for (int64_t f = f0; f < f1; f++) acc[f - f0] += (double)x[f];
        }
        for (int64_t f = f0; f < f1; f++) out[f] += (float)acc[f - f0];
    }
}

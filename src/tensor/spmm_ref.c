/*
 * spmm_ref.c - reference aggregation: the definition, one entry at a time,
 * in double. The backward reference scatters through A itself, so it does not
 * rely on the transpose the fast kernel uses.
 */
#include "frost/tensor.h"

#include <stdlib.h>
#include <string.h>

void frost_spmm_ref(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    const frost_csr *A = op->A;
    double *s = calloc((size_t)(F > 0 ? F : 1), sizeof *s);
    for (int64_t i = 0; i < A->n_rows; i++) {
        memset(s, 0, (size_t)F * sizeof *s);
        for (int64_t k = A->indptr[i]; k < A->indptr[i + 1]; k++) {
            int32_t j = A->indices[k];
            double w = op->b ? (double)op->b[j] : 1.0;
            for (int64_t f = 0; f < F; f++) s[f] += w * (double)X[(int64_t)j * ldx + f];
        }
        double a = op->a ? (double)op->a[i] : 1.0, c = op->c ? (double)op->c[i] : 0.0;
        for (int64_t f = 0; f < F; f++) Y[i * ldy + f] = (float)(a * s[f] + c * (double)X[i * ldx + f]);
    }
    free(s);
}

void frost_spmm_t_acc_ref(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    /* Y_j += sum_i [j in row i] a_i b_j X_i + c_j X_j, scattering row by row. */
    const frost_csr *A = op->A;
    const int64_t n = A->n_rows;
    double *acc = calloc((size_t)(n * F > 0 ? n * F : 1), sizeof *acc);
    for (int64_t i = 0; i < n; i++) {
        double a = op->a ? (double)op->a[i] : 1.0;
        for (int64_t k = A->indptr[i]; k < A->indptr[i + 1]; k++) {
            int32_t j = A->indices[k];
            double w = a * (op->b ? (double)op->b[j] : 1.0);
            for (int64_t f = 0; f < F; f++) acc[(int64_t)j * F + f] += w * (double)X[i * ldx + f];
        }
    }
    for (int64_t j = 0; j < n; j++) {
        double c = op->c ? (double)op->c[j] : 0.0;
        for (int64_t f = 0; f < F; f++)
            Y[j * ldy + f] = (float)((double)Y[j * ldy + f] + acc[j * F + f] + c * (double)X[j * ldx + f]);
    }
    free(acc);
}

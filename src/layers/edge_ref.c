/*
 * edge_ref.c - the references of edge.c: the definitions, one entry at a
 * time, in double. The transposed ones scatter through A itself, so they do
 * not rely on AT or tperm. They allocate (they are for tests) and abort on
 * a failed allocation (FROST_ASSERT).
 *
 * Shape legend: n rows, E entries, K heads, D columns per head.
 */
#include "layers/edge_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double lrelu(double x, double slope) { return x > 0 ? x : slope * x; }

static double *dalloc(int64_t n)
{
    double *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    FROST_ASSERT(p);
    return p;
}

void frost__edge_softmax_ref(const frost_csr *A, const float *s, const float *t, int64_t K, float slope, float *alpha,
                             float *alpha_self)
{
    for (int64_t i = 0; i < A->n_rows; i++)
        for (int64_t k = 0; k < K; k++) {
            const double ti = (double)t[i * K + k];
            double mx = lrelu((double)s[i * K + k] + ti, slope);
            for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++)
                mx = fmax(mx, lrelu((double)s[(int64_t)A->indices[e] * K + k] + ti, slope));
            double sum = exp(lrelu((double)s[i * K + k] + ti, slope) - mx);
            for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++)
                sum += exp(lrelu((double)s[(int64_t)A->indices[e] * K + k] + ti, slope) - mx);
            alpha_self[i * K + k] = (float)(exp(lrelu((double)s[i * K + k] + ti, slope) - mx) / sum);
            for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++)
                alpha[e * K + k] = (float)(exp(lrelu((double)s[(int64_t)A->indices[e] * K + k] + ti, slope) - mx) / sum);
        }
}

void frost__spmm_edge_ref(const frost_csr *A, const float *v, const float *v_self, int64_t K, int64_t D,
                          const frost__edge_drop *drop, const float *X, float *Y)
{
    const int64_t E = A->nnz, W = K * D;
    double *y = dalloc(W);
    for (int64_t i = 0; i < A->n_rows; i++) {
        memset(y, 0, (size_t)W * sizeof *y);
        for (int64_t k = 0; k < K; k++) {
            const double w = (double)v_self[i * K + k] * (double)frost__edge_drop_at(drop, (E + i) * K + k);
            for (int64_t c = 0; c < D; c++) y[k * D + c] += w * (double)X[i * W + k * D + c];
            for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++) {
                const double we = (double)v[e * K + k] * (double)frost__edge_drop_at(drop, e * K + k);
                for (int64_t c = 0; c < D; c++) y[k * D + c] += we * (double)X[(int64_t)A->indices[e] * W + k * D + c];
            }
        }
        for (int64_t q = 0; q < W; q++) Y[i * W + q] = (float)y[q];
    }
    free(y);
}

void frost__spmm_edge_t_ref(const frost_csr *A, const float *v, const float *v_self, int64_t K, int64_t D,
                            const frost__edge_drop *drop, const float *X, float *Y)
{
    const int64_t n = A->n_rows, E = A->nnz, W = K * D;
    double *y = dalloc(n * W);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < K; k++) {
            const double w = (double)v_self[i * K + k] * (double)frost__edge_drop_at(drop, (E + i) * K + k);
            for (int64_t c = 0; c < D; c++) y[i * W + k * D + c] += w * (double)X[i * W + k * D + c];
            for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++) {
                const int64_t j = A->indices[e];
                const double we = (double)v[e * K + k] * (double)frost__edge_drop_at(drop, e * K + k);
                for (int64_t c = 0; c < D; c++) y[j * W + k * D + c] += we * (double)X[i * W + k * D + c];
            }
        }
    for (int64_t q = 0; q < n * W; q++) Y[q] = (float)y[q];
    free(y);
}

void frost__edge_softmax_backward_ref(const frost_csr *A, const float *s, const float *t, int64_t K, int64_t D,
                                      float slope, const frost__edge_drop *drop, const float *dY, const float *X,
                                      float *alpha, float *alpha_self, float *dt)
{
    const int64_t E = A->nnz, W = K * D;
    for (int64_t i = 0; i < A->n_rows; i++) {
        const int64_t e0 = A->indptr[i], deg = A->indptr[i + 1] - e0;
        double *g = dalloc(deg + 1); /* the row's entries, then the self entry */
        for (int64_t k = 0; k < K; k++) {
            double S = 0, sum = 0;
            for (int64_t q = 0; q <= deg; q++) {
                const int64_t j = q < deg ? A->indices[e0 + q] : i, key = q < deg ? (e0 + q) * K + k : (E + i) * K + k;
                double d = 0;
                for (int64_t c = 0; c < D; c++) d += (double)dY[i * W + k * D + c] * (double)X[j * W + k * D + c];
                g[q] = d * (double)frost__edge_drop_at(drop, key);
                S += (double)(q < deg ? alpha[(e0 + q) * K + k] : alpha_self[i * K + k]) * g[q];
            }
            for (int64_t q = 0; q <= deg; q++) {
                const int64_t j = q < deg ? A->indices[e0 + q] : i;
                float *a = q < deg ? &alpha[(e0 + q) * K + k] : &alpha_self[i * K + k];
                const double u = (double)*a * (g[q] - S);
                const double d = (double)s[j * K + k] + (double)t[i * K + k] > 0 ? u : (double)slope * u;
                *a = (float)d;
                sum += d;
            }
            dt[i * K + k] = (float)sum;
        }
        free(g);
    }
}

void frost__edge_sum_t_ref(const frost_csr *A, const float *v, const float *v_self, int64_t K, float *out)
{
    const int64_t n = A->n_rows;
    double *o = dalloc(n * K);
    for (int64_t i = 0; i < n; i++)
        for (int64_t e = A->indptr[i]; e < A->indptr[i + 1]; e++)
            for (int64_t k = 0; k < K; k++) o[(int64_t)A->indices[e] * K + k] += (double)v[e * K + k];
    for (int64_t j = 0; j < n; j++)
        for (int64_t k = 0; k < K; k++) out[j * K + k] = (float)(o[j * K + k] + (double)v_self[j * K + k]);
    free(o);
}

/*
 * sage.c - GraphSAGE with mean aggregation and a root weight (PyG SAGEConv):
 * Y = mean(X) Wn + X Wr + b.
 *
 * Shape legend: N nodes, F in, H out. M = mean(X) (N,F) is kept.
 * Backward: dWn += M^T dY; dWr += X^T dY; db += colsum(dY);
 *           dX += dY Wr^T + mean^T (dY Wn^T).
 */
#include "frost/layers.h"
#include "layers/layers_impl.h"

void frost_sage_forward(float *Y, float *M, const frost_aggr *mean, const float *X, const float *Wn,
                        const float *Wr, const float *b, int64_t N, int64_t F, int64_t H)
{
    frost_spmm(mean, X, F, F, M, F);
    frost_gemm(false, false, N, H, F, 1.0f, M, F, Wn, H, 0.0f, Y, H);
    frost_gemm(false, false, N, H, F, 1.0f, X, F, Wr, H, 1.0f, Y, H);
    if (b) frost__add_bias(Y, b, N, H);
}

void frost_sage_backward(float *dX, float *dWn, float *dWr, float *db, float *work, const float *dY,
                         const float *M, const frost_aggr *mean, const float *X, const float *Wn,
                         const float *Wr, int64_t N, int64_t F, int64_t H)
{
    if (db) frost_colsum_acc(dY, N, H, H, db);
    if (dWn) frost_gemm(true, false, F, H, N, 1.0f, M, F, dY, H, 1.0f, dWn, H);
    if (dWr) frost_gemm(true, false, F, H, N, 1.0f, X, F, dY, H, 1.0f, dWr, H);
    if (dX) {
        frost_gemm(false, true, N, F, H, 1.0f, dY, H, Wr, H, 1.0f, dX, F);
        float *dM = work; /* (N,F) */
        frost_gemm(false, true, N, F, H, 1.0f, dY, H, Wn, H, 0.0f, dM, F);
        frost_spmm_t_acc(mean, dM, F, F, dX, F);
    }
}

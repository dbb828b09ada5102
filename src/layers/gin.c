/*
 * gin.c - Graph Isomorphism Network layers in two forms.
 *
 * Shape legend: N nodes, F in, K MLP hidden, H out.
 *
 * 1. The strong-lottery-ticket paper's form (slt.md section 5):
 *      G = (1 + eps) X + mean(X),  Y = G W (+ b)
 *    op is the mean operator with self weight 1 + eps.
 *    Backward: dW += G^T dY; db += colsum(dY); dX += op^T (dY W^T).
 *
 * 2. The classic form (Xu et al. 2019; PyG GINConv with a 2-layer MLP):
 *      G = (1 + eps) X + sum(X),  Z = relu(G W1 + b1),  Y = Z W2 + b2
 *    Backward: dW2 += Z^T dY; db2; dZ = (dY W2^T) * [Z > 0];
 *              dW1 += G^T dZ; db1; dX += op^T (dZ W1^T).
 */
#include "frost/layers.h"
#include "layers/layers_impl.h"

void frost_gin_forward(float *Y, float *G, const frost_aggr *op, const float *X, const float *W, const float *b,
                       int64_t N, int64_t F, int64_t H)
{
    frost_spmm(op, X, F, F, G, F);
    frost_gemm(false, false, N, H, F, 1.0f, G, F, W, H, 0.0f, Y, H);
    if (b) frost__add_bias(Y, b, N, H);
}

void frost_gin_backward(float *dX, float *dW, float *db, float *work, const float *dY, const float *G,
                        const frost_aggr *op, const float *X, const float *W, int64_t N, int64_t F, int64_t H)
{
    (void)X;
    if (db) frost_colsum_acc(dY, N, H, H, db);
    if (dW) frost_gemm(true, false, F, H, N, 1.0f, G, F, dY, H, 1.0f, dW, H);
    if (dX) {
        float *dG = work; /* (N,F) */
        frost_gemm(false, true, N, F, H, 1.0f, dY, H, W, H, 0.0f, dG, F);
        frost_spmm_t_acc(op, dG, F, F, dX, F);
    }
}

void frost_gin_mlp_forward(float *Y, float *G, float *Z, const frost_aggr *op, const float *X, const float *W1,
                           const float *b1, const float *W2, const float *b2, int64_t N, int64_t F, int64_t K,
                           int64_t H)
{
    frost_spmm(op, X, F, F, G, F);
    frost_gemm(false, false, N, K, F, 1.0f, G, F, W1, K, 0.0f, Z, K);
    if (b1) frost__add_bias(Z, b1, N, K);
    frost_relu_forward(Z, Z, N * K);
    frost_gemm(false, false, N, H, K, 1.0f, Z, K, W2, H, 0.0f, Y, H);
    if (b2) frost__add_bias(Y, b2, N, H);
}

void frost_gin_mlp_backward(float *dX, float *dW1, float *db1, float *dW2, float *db2, float *work1,
                            float *work2, const float *dY, const float *G, const float *Z, const frost_aggr *op,
                            const float *X, const float *W1, const float *W2, int64_t N, int64_t F, int64_t K,
                            int64_t H)
{
    (void)X;
    if (db2) frost_colsum_acc(dY, N, H, H, db2);
    if (dW2) frost_gemm(true, false, K, H, N, 1.0f, Z, K, dY, H, 1.0f, dW2, H);
    float *dZ = work1; /* (N,K) */
    frost_gemm(false, true, N, K, H, 1.0f, dY, H, W2, H, 0.0f, dZ, K);
    frost_relu_backward(dZ, dZ, Z, N * K);
    if (db1) frost_colsum_acc(dZ, N, K, K, db1);
    if (dW1) frost_gemm(true, false, F, K, N, 1.0f, G, F, dZ, K, 1.0f, dW1, K);
    if (dX) {
        float *dG = work2; /* (N,F) */
        frost_gemm(false, true, N, F, K, 1.0f, dZ, K, W1, K, 0.0f, dG, F);
        frost_spmm_t_acc(op, dG, F, F, dX, F);
    }
}

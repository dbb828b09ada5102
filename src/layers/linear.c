/*
 * linear.c - Y (N,H) = X (N,F) W (F,H) + b (H).
 *
 * Backward: dW += X^T dY, db += colsum(dY), dX += dY W^T.
 */
#include "frost/layers.h"
#include "layers/layers_impl.h"

void frost_linear_forward(float *Y, const float *X, const float *W, const float *b, int64_t N, int64_t F,
                          int64_t H)
{
    frost_gemm(false, false, N, H, F, 1.0f, X, F, W, H, 0.0f, Y, H);
    if (b) frost__add_bias(Y, b, N, H);
}

void frost_linear_backward(float *dX, float *dW, float *db, const float *dY, const float *X, const float *W,
                           int64_t N, int64_t F, int64_t H)
{
    if (dW) frost_gemm(true, false, F, H, N, 1.0f, X, F, dY, H, 1.0f, dW, H);
    if (db) frost_colsum_acc(dY, N, H, H, db);
    if (dX) frost_gemm(false, true, N, F, H, 1.0f, dY, H, W, H, 1.0f, dX, F);
}

/*
 * activation.c - ReLU, dropout and the bias broadcast.
 *
 * Dropout masks come from Philox: element e uses the 16-bit half (e & 1) of
 * word ((e >> 1) & 3) of block e >> 3 of the stream, so one block serves 8
 * elements, the mask is the same for any thread count, and backward
 * regenerates it instead of storing it.
 */
#include "frost/layers.h"
#include "frost/rng.h"
#include "layers/layers_impl.h"

#include <math.h>
#include <string.h>

void frost__add_bias(float *Y, const float *b, int64_t N, int64_t H)
{
#pragma omp parallel for schedule(static) if (N * H > 65536)
    for (int64_t i = 0; i < N; i++) {
        float *y = Y + i * H;
        for (int64_t h = 0; h < H; h++) y[h] += b[h];
    }
}

void frost_relu_forward(float *Y, const float *X, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; k++) Y[k] = X[k] > 0.0f ? X[k] : 0.0f;
}

void frost_relu_backward(float *dX, const float *dY, const float *Y, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; k++) dX[k] = Y[k] > 0.0f ? dY[k] : 0.0f;
}

static void dropout_apply(float *Y, const float *X, int64_t n, float p, uint64_t seed, uint64_t stream)
{
    if (p <= 0.0f) {
        if (Y != X) memmove(Y, X, (size_t)n * sizeof(float));
        return;
    }
    if (p >= 1.0f) {
        memset(Y, 0, (size_t)n * sizeof(float));
        return;
    }
    const uint32_t thr = (uint32_t)lrintf(p * 65536.0f);
    const float scale = 1.0f / (1.0f - p);
    const int64_t nb = (n + 7) / 8;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < nb; b++) {
        uint32_t w[4];
        frost_rng_block(seed, stream, (uint64_t)b, w);
        const int64_t e0 = b * 8;
        const int64_t e1 = e0 + 8 < n ? e0 + 8 : n;
        for (int64_t e = e0; e < e1; e++) {
            int64_t q = e - e0;
            uint32_t r = (w[q >> 1] >> (16 * (q & 1))) & 0xFFFFu;
            Y[e] = r >= thr ? X[e] * scale : 0.0f;
        }
    }
}

void frost_dropout_forward(float *Y, const float *X, int64_t n, float p, uint64_t seed, uint64_t stream)
{
    dropout_apply(Y, X, n, p, seed, stream);
}

void frost_dropout_backward(float *dX, const float *dY, int64_t n, float p, uint64_t seed, uint64_t stream)
{
    /* d/dx (x * m * scale) = m * scale: the same map applied to dY */
    dropout_apply(dX, dY, n, p, seed, stream);
}

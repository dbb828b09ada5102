/*
 * activation.c - ReLU, dropout and the bias broadcast.
 *
 * Dropout masks come from Philox: element e = 64 c + 8 q + j uses the 16-bit
 * half (q & 1) of word (q >> 1) of block 8 c + j of the stream, so one block
 * serves 8 elements, eight consecutive elements compare eight blocks at once
 * (SIMD), the mask is the same for any thread count, and backward
 * regenerates it instead of storing it.
 */
#include "frost/layers.h"
#include "frost/rng.h"
#include "layers/layers_impl.h"
#include "core/philox.h"
#include "core/core_impl.h"

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

/* One chunk of 64 elements from 8 Philox blocks: element 8q + j of the chunk
 * takes 16-bit half (q & 1) of word (q >> 1) of block j, so 8 consecutive
 * elements read the same half-word of 8 blocks: one SIMD compare-and-select. */
static inline void dropout_64(float *restrict y, const float *restrict x, uint64_t seed, uint64_t stream,
                              uint64_t block0, uint32_t thr, float scale)
{
    uint32_t w[4][8];
    frost__philox8(seed, stream, block0, w);
    for (int q = 0; q < 8; q++) {
        const uint32_t shift = 16u * (uint32_t)(q & 1);
        for (int j = 0; j < 8; j++) {
            uint32_t r = (w[q >> 1][j] >> shift) & 0xFFFFu;
            float m = r >= thr ? scale : 0.0f;
            y[8 * q + j] = x[8 * q + j] * m;
        }
    }
}

/* Chunks [c0, c1): the per-ISA clone is chosen once per call. */
FROST_KERNEL_CLONES
static void dropout_chunks(float *Y, const float *X, int64_t c0, int64_t c1, uint64_t seed, uint64_t stream,
                           uint32_t thr, float scale)
{
    for (int64_t c = c0; c < c1; c++) dropout_64(Y + c * 64, X + c * 64, seed, stream, (uint64_t)c * 8, thr, scale);
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
    const int64_t nc = n / 64; /* chunks of 64 elements; the tail below */
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(nc, &lo, &hi);
        dropout_chunks(Y, X, lo, hi, seed, stream, thr, scale);
    }
    for (int64_t e = nc * 64; e < n; e++) {
        /* the same mapping as dropout_64 for the last partial chunk */
        uint32_t w[4];
        int64_t q = (e % 64) / 8, j = e % 8;
        frost__philox(seed, stream, (uint64_t)(nc * 8 + j), w);
        uint32_t r = (w[q >> 1] >> (16 * (q & 1))) & 0xFFFFu;
        Y[e] = r >= thr ? X[e] * scale : 0.0f;
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

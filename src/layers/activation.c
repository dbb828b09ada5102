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

FROST_KERNEL_CLONES
void frost__dropout_mask_run(float *m, int64_t g0, int64_t len, uint64_t seed, uint64_t stream, uint32_t thr,
                             float scale, frost__mask_cache *mc)
{
    for (int64_t k = 0; k < len; k++) {
        const int64_t g = g0 + k;
        if (g >> 6 != mc->chunk) {
            mc->chunk = g >> 6;
            frost__dropout_mask64(mc->m, seed, stream, mc->chunk, thr, scale);
        }
        m[k] = mc->m[g & 63];
    }
}

/* Chunks [c0, c1) of 64 elements (the last may be partial), masks as
 * frost__dropout_mask_ids: the per-ISA clone is chosen once per call. */
FROST_KERNEL_CLONES
static void dropout_chunks(float *Y, const float *X, const int64_t *ids, int64_t n, int64_t H, int64_t c0, int64_t c1,
                           uint64_t seed, uint64_t stream, uint32_t thr, float scale)
{
    frost__mask_cache mc = FROST__MASK_CACHE_INIT;
    for (int64_t c = c0; c < c1; c++) {
        float m[64];
        frost__dropout_mask_ids(m, ids, n, H, c, seed, stream, thr, scale, &mc);
        const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64;
        for (int64_t q = 0; q < cnt; q++) Y[e0 + q] = X[e0 + q] * m[q];
    }
}

static void dropout_apply(float *Y, const float *X, const int64_t *ids, int64_t n, int64_t H, float p, uint64_t seed,
                          uint64_t stream)
{
    if (p <= 0.0f) {
        if (Y != X) memmove(Y, X, (size_t)n * sizeof(float));
        return;
    }
    if (p >= 1.0f) {
        memset(Y, 0, (size_t)n * sizeof(float));
        return;
    }
    const uint32_t thr = frost__dropout_thr(p);
    const float scale = 1.0f / (1.0f - p);
    const int64_t nc = (n + 63) / 64;
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(nc, &lo, &hi);
        dropout_chunks(Y, X, ids, n, H, lo, hi, seed, stream, thr, scale);
    }
}

void frost_dropout_forward(float *Y, const float *X, int64_t n, float p, uint64_t seed, uint64_t stream)
{
    dropout_apply(Y, X, NULL, n, 1, p, seed, stream);
}

void frost__dropout_rows(float *Y, const float *X, const int64_t *ids, int64_t rows, int64_t H, float p, uint64_t seed,
                         uint64_t stream)
{
    dropout_apply(Y, X, ids, rows * H, H, p, seed, stream);
}

void frost_dropout_backward(float *dX, const float *dY, int64_t n, float p, uint64_t seed, uint64_t stream)
{
    /* d/dx (x * m * scale) = m * scale: the same map applied to dY */
    dropout_apply(dX, dY, NULL, n, 1, p, seed, stream);
}

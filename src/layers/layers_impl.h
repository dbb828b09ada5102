/*
 * layers_impl.h - small element-wise helpers shared by the layer files.
 */
#ifndef FROST_LAYERS_IMPL_H
#define FROST_LAYERS_IMPL_H

#include <string.h>

#include "frost/layers.h"
#include "core/philox.h"
#include "core/core_impl.h"

#include <math.h>

/* Y (N,H) += b (H) on every row. */
void frost__add_bias(float *Y, const float *b, int64_t N, int64_t H);

/* Dropout multipliers (scale or 0) of the 64 elements of chunk c of a
 * flattened tensor: element 64 c + 8 q + j keeps when the 16-bit half
 * (q & 1) of word (q >> 1) of Philox block 8 c + j is >= thr. One call makes
 * eight blocks at once, so the compare-and-select vectorises. */
static inline __attribute__((always_inline)) void frost__dropout_mask64(float m[64], uint64_t seed, uint64_t stream,
                                                                        int64_t c, uint32_t thr, float scale)
{
    uint32_t w[4][8];
    frost__philox8(seed, stream, (uint64_t)c * 8, w);
    for (int q = 0; q < 8; q++) {
        const uint32_t shift = 16u * (uint32_t)(q & 1);
        for (int j = 0; j < 8; j++) m[8 * q + j] = ((w[q >> 1][j] >> shift) & 0xFFFFu) >= thr ? scale : 0.0f;
    }
}

/* Dropout multipliers of flattened elements [64 c, 64 c + 64) of an
 * (n / H, H) matrix whose row i draws what row ids[i] draws (node ids of a
 * renumbered graph, global ids of a process's rows): element ids[i] H + col
 * of frost__dropout_mask64's stream; ids NULL: chunk c itself. mc keeps
 * the last stream chunk drawn, so a caller walking chunks in order draws
 * each one once (rows of consecutive ids straddle chunk boundaries). */
typedef struct frost__mask_cache {
    float m[64];
    int64_t chunk;
} frost__mask_cache;
#define FROST__MASK_CACHE_INIT                                                                                         \
    {                                                                                                                  \
        .chunk = -1                                                                                                    \
    }
/* The multipliers of stream elements g0 .. g0 + len - 1 into m. */
void frost__dropout_mask_run(float *m, int64_t g0, int64_t len, uint64_t seed, uint64_t stream, uint32_t thr,
                             float scale, frost__mask_cache *mc);
/* Inline, so that the plain path (ids NULL) makes its Philox draws in the
 * calling kernel's instruction set (the callers are compiled per ISA). */
static inline __attribute__((always_inline)) void frost__dropout_mask_ids(float m[64], const int64_t *ids, int64_t n,
                                                                          int64_t H, int64_t c, uint64_t seed,
                                                                          uint64_t stream, uint32_t thr, float scale,
                                                                          frost__mask_cache *mc)
{
    if (!ids) {
        frost__dropout_mask64(m, seed, stream, c, thr, scale);
        return;
    }
    const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64;
    int64_t row = e0 / H, col = e0 % H;
    for (int64_t q = 0; q < cnt;) {
        /* the run of this row's elements in the chunk: consecutive in row ids[row] too */
        const int64_t len = H - col < cnt - q ? H - col : cnt - q;
        frost__dropout_mask_run(m + q, ids[row] * H + col, len, seed, stream, thr, scale, mc);
        q += len;
        row++, col = 0;
    }
}
/* frost_dropout_forward of a (rows, H) matrix with those masks. */
void frost__dropout_rows(float *Y, const float *X, const int64_t *ids, int64_t rows, int64_t H, float p, uint64_t seed,
                         uint64_t stream);

/* Dropout threshold on the 16-bit draws and the scale of kept values. */
static inline uint32_t frost__dropout_thr(float p) { return (uint32_t)lrintf(p * 65536.0f); }

/* The post block's column sums over N rows of (N, H) arrays, the same on
 * any thread count (frost__block_sums), in one process (post.c) and over a
 * process's rows (model/post_rows.c):
 *  - sums[h], sums[H + h]: sum and sum of squares of column h of z;
 *  - T[h] = sum d, T[H + h] = invstd[h] sum d (z - mean[h]) with
 *    d = [h > 0] dh scale (the pass mask from p->bits, else from h). */
void frost__post_sums(const float *z, int64_t N, int64_t H, double *sums);
/* frost_post_backward with dz written in the column panels of
 * tensor_impl.h (dz must not be dh): for a layer whose SpMM backward reads
 * dz. False (nothing done) without the AVX-512 kernels or for a single
 * panel. */
bool frost__post_backward_panels(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                                 const float *h, const float *z, int64_t N, int64_t H);
void frost__post_grad_sums(const frost_post *p, const float *dh, const float *h, const float *z, int64_t N, int64_t H,
                           float scale, double *T);
/* Batch statistics (mean, invstd) from the sums over N rows, and the
 * running statistics' update. */
void frost__post_stats(const frost_post *p, const double *sums, double N, int64_t H);

/* The post block with ELU (post_elu.c; frost_post_* dispatch there when
 * p->act is FROST_ACT_ELU): h = dropout(elu(bn(z))), p->bits the kept
 * elements of the dropout mask (all ones without dropout), which backward
 * and recompute read. Backward needs z alone besides the bits: elu'(y) is 1
 * for y > 0 and exp(y) otherwise, y = bn(z) again. */
void frost__post_elu_forward(const frost_post *p, float *h, const float *z, int64_t N, int64_t H, bool train);
void frost__post_elu_recompute(const frost_post *p, float *h, const float *z, int64_t N, int64_t H);
void frost__post_elu_backward(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                              const float *z, int64_t N, int64_t H);

/* ---- the post block over one process's rows (post_rows.c): distributed training ---------------- */
typedef struct frost__post_rows {
    frost_post p;                                       /* settings, statistics, bits and work as frost_post */
    const int64_t *gid;                                 /* (n) global row ids for the dropout masks; NULL = 0 .. n-1 */
    int64_t n_global;                                   /* rows over all processes: the statistics divide by it */
    void (*allreduce)(void *ctx, double *v, int64_t n); /* NULL: one process */
    void *ctx;
} frost__post_rows;

/* Training forward: statistics over all processes, then h with its bits. */
void frost__post_rows_forward(const frost__post_rows *p, float *h, const float *z, int64_t n, int64_t H);
/* Backward: dz (n, H) may alias dh; dgamma, dbeta (H) get this process's share. */
void frost__post_rows_backward(const frost__post_rows *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                               const float *z, int64_t n, int64_t H);
/* h of the last training forward again, from z, the statistics and bits. */
void frost__post_rows_recompute(const frost__post_rows *p, float *h, const float *z, int64_t n, int64_t H);
/* The phases (tests play several processes with them): column sums (2H:
 * sum, sum of squares) of this process's rows; statistics from the totals;
 * h and bits; backward sums (2H: T1, T2); dz from the totals. */
void frost__post_rows_sums(const float *z, int64_t n, int64_t H, double *sums);
void frost__post_rows_stats(const frost__post_rows *p, const double *sums, int64_t H);
void frost__post_rows_apply(const frost__post_rows *p, float *h, const float *z, int64_t n, int64_t H);
void frost__post_rows_grad_sums(const frost__post_rows *p, const float *dh, const float *z, int64_t n, int64_t H,
                                double *T);
void frost__post_rows_backward_apply(const frost__post_rows *p, float *dz, const float *dh, const float *z,
                                     const double *T, int64_t n, int64_t H);

#endif

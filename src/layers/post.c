/*
 * post.c - the block after a hidden convolution, fused:
 *
 *     h = dropout(relu(bn(z)))        bn optional; dropout in training only
 *
 * Forward: one pass over z for the batch statistics (training), one that
 * writes h. bn(z) is folded into h = z a + b per column.
 *
 * Backward without a stored mask: h > 0 exactly where the gradient passes
 * both the ReLU (bn(z) > 0) and the dropout (kept), and there
 * d h / d bn = 1 / (1 - p). So with dbn = [h > 0] dh / (1 - p):
 *     T1 = sum_n dbn,  T2 = sum_n dbn xhat,  xhat = (z - mean) invstd
 *     dz = gamma invstd (dbn - T1/N - xhat T2/N)
 *        = alpha [h > 0] dh + beta z + gamma'      (per-column constants)
 * One pass for T1, T2 (fixed row blocks added in block order,
 * frost__block_sums: the sums do not depend on the thread count), one that
 * writes dz.
 *
 * The reference is the composition of frost_batchnorm_*, frost_relu_* and
 * frost_dropout_* (same dropout mask); tests compare the two.
 */
#include "core/core_impl.h"
#include "frost/layers.h"
#include "layers/layers_impl.h"
#include "tensor/tensor_impl.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/simd_impl.h"
#define POST_SIMD 1
#endif

/* Column sums are accumulated in double for this many columns at a time. */
#define COLS 256

/* The streaming passes prefetch this many floats ahead of what they read
 * (best of 256, 1024, 2048, 4096 on 169k x 386; `frost bench --what post`
 * at width 386 read 33 / 37 GB/s forward / backward without, 64 / 70 with,
 * the triad at 73 GB/s). */
#define PF_AHEAD 256

static double dropout_scale(const frost_post *p, bool train)
{
    return train && p->dropout > 0.0f ? 1.0 / (1.0 - (double)p->dropout) : 1.0;
}

/* ---- forward ------------------------------------------------------------ */

/* Sum and sum of squares of rows [i0, i1), columns [c0, c1) of z (width
 * H): acc[q], acc[FROST_SUM_COLS + q]. */
typedef struct {
    const float *z;
    int64_t H;
} stats_ctx;

FROST_KERNEL_CLONES
static void stats_rows(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *restrict acc)
{
    const stats_ctx *x = vctx;
    const int64_t w = c1 - c0;
    double *restrict s = acc, *restrict s2 = acc + FROST_SUM_COLS;
    for (int64_t i = i0; i < i1; i++) {
        const float *restrict r = x->z + i * x->H + c0;
        for (int64_t q = 0; q < w; q += 16) frost__prefetch_ahead(r + q, PF_AHEAD);
        for (int64_t q = 0; q < w; q++) {
            const double v = (double)r[q];
            s[q] += v;
            s2[q] += v * v;
        }
    }
}

void frost__post_sums(const float *z, int64_t N, int64_t H, double *sums)
{
    stats_ctx x = {z, H};
    for (int64_t c0 = 0; c0 < H; c0 += FROST_SUM_COLS) {
        const int64_t c1 = H - c0 < FROST_SUM_COLS ? H : c0 + FROST_SUM_COLS, w = c1 - c0;
        double acc[2 * FROST_SUM_COLS];
        memset(acc, 0, sizeof acc);
        frost__block_sums(N, c0, c1, 2, acc, stats_rows, &x);
        for (int64_t q = 0; q < w; q++) sums[c0 + q] = acc[q], sums[H + c0 + q] = acc[FROST_SUM_COLS + q];
    }
}

/* Batch statistics from the sums over N rows; running statistics updated. */
void frost__post_stats(const frost_post *p, const double *sums, double N, int64_t H)
{
    for (int64_t h = 0; h < H; h++) {
        const double mu = N > 0 ? sums[h] / N : 0.0;
        double var = N > 0 ? sums[H + h] / N - mu * mu : 0.0;
        if (var < 0) var = 0;
        p->mean[h] = (float)mu;
        p->invstd[h] = (float)(1.0 / sqrt(var + (double)p->eps));
        if (p->run_mean) {
            const double unb = N > 1 ? var * N / (N - 1) : var;
            const double mo = (double)p->momentum;
            p->run_mean[h] = (float)((1.0 - mo) * (double)p->run_mean[h] + mo * mu);
            p->run_var[h] = (float)((1.0 - mo) * (double)p->run_var[h] + mo * unb);
        }
    }
}

/* Where the dropout multipliers of a pass come from. */
typedef enum { MASK_NONE, MASK_PHILOX, MASK_BITS } mask_src;

/* Chunks [c0, c1) of 64 flattened elements; a and b fold the batch norm
 * (NULL: none). The multipliers: none, the dropout mask of
 * frost_dropout_forward, or bits of a training pass (recomputation: a set
 * bit is a kept positive value, so the same arithmetic gives the same h).
 * bits_out, when given, receives [h > 0]. */
FROST_KERNEL_CLONES
static void forward_chunks(float *out, const float *z, const float *a, const float *b, int64_t n, int64_t H, int64_t c0,
                           int64_t c1, mask_src src, const uint64_t *bits_in, uint64_t *bits_out, uint64_t seed,
                           uint64_t stream, uint32_t thr, float scale, const int64_t *ids)
{
    float m[64];
    for (int q = 0; q < 64; q++) m[q] = 1.0f;
    frost__mask_cache mc = FROST__MASK_CACHE_INIT;
    for (int64_t c = c0; c < c1; c++) {
        const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64;
        if (src == MASK_PHILOX) {
            frost__dropout_mask_ids(m, ids, n, H, c, seed, stream, thr, scale, &mc);
        } else if (src == MASK_BITS) {
            const uint64_t w = bits_in[c];
            for (int q = 0; q < 64; q++) m[q] = (w >> q) & 1u ? scale : 0.0f;
        }
        int64_t col = e0 % H;
        float *y = out + e0;
        if (cnt == 64 && col + 64 <= H) {
            const float *x = z + e0;
            if (a) {
                for (int q = 0; q < 64; q++) {
                    float t = x[q] * a[col + q] + b[col + q];
                    y[q] = (t > 0.0f ? t : 0.0f) * m[q];
                }
            } else {
                for (int q = 0; q < 64; q++) y[q] = (x[q] > 0.0f ? x[q] : 0.0f) * m[q];
            }
        } else {
            for (int64_t q = 0; q < cnt; q++) {
                float t = a ? z[e0 + q] * a[col] + b[col] : z[e0 + q];
                y[q] = (t > 0.0f ? t : 0.0f) * m[q];
                if (++col == H) col = 0;
            }
        }
        if (bits_out) {
            uint64_t w = 0;
            for (int64_t q = 0; q < cnt; q++) w |= (uint64_t)(y[q] > 0.0f) << q;
            bits_out[c] = w;
        }
    }
}

/* What a block of the backward column sums needs. */
typedef struct {
    const frost_post *p;
    const float *dh, *h, *z;
    int64_t H;
    float scale;
} grad_ctx;

#ifdef POST_SIMD
/* 64 mask bits from element e on (the bit array has a spare word). */
static inline uint64_t bits_at(const uint64_t *bits, int64_t e)
{
    const int64_t w = e >> 6;
    const unsigned o = (unsigned)(e & 63);
    return o ? (bits[w] >> o) | (bits[w + 1] << (64 - o)) : bits[w];
}

#define FROST_SIMD_W 16
#include "core/simd_width.h"
#include "layers/post_kern.h"
#define FROST_SIMD_W 8
#include "core/simd_width.h"
#include "layers/post_kern.h"
#endif

/* The folded batch norm h = z a + b of a pass (train: batch statistics).
 * With H >= 64, a and b continue periodically for 64 more columns (a[H + q]
 * = a[q]): 64 consecutive elements from any column read a + col. */
static void fold_norm(const frost_post *p, int64_t H, bool train, float **pa, float **pb)
{
    const int64_t ext = H >= 64 ? H + 64 : H;
    float *a = (float *)p->work, *b = a + ext;
    for (int64_t c = 0; c < H; c++) {
        const double is = train ? (double)p->invstd[c] : 1.0 / sqrt((double)p->run_var[c] + (double)p->eps);
        const double mu = train ? (double)p->mean[c] : (double)p->run_mean[c];
        const double g = p->gamma ? (double)p->gamma[c] : 1.0, be = p->beta ? (double)p->beta[c] : 0.0;
        a[c] = (float)(is * g);
        b[c] = (float)(be - mu * is * g);
    }
    for (int64_t c = H; c < ext; c++) a[c] = a[c - H], b[c] = b[c - H];
    *pa = a, *pb = b;
}

static void apply(const frost_post *p, float *h, const float *z, int64_t N, int64_t H, bool train, mask_src src)
{
    const int64_t n = N * H;
    float *a = NULL, *b = NULL;
    if (p->batchnorm) fold_norm(p, H, train, &a, &b);
    const uint32_t thr = src == MASK_PHILOX ? frost__dropout_thr(p->dropout) : 0;
    const float scale = (float)dropout_scale(p, train);
    uint64_t *bits_out = train && src != MASK_BITS ? p->bits : NULL;
    const int64_t nc = (n + 63) / 64;
    /* z read, h written, the bits written (training) or read (recompute) */
    frost__cost(0.0, 8.0 * (double)n + (bits_out ? (double)n / 8.0 : 0.0) + (src == MASK_BITS ? (double)n / 8.0 : 0.0));
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(nc, &lo, &hi);
#ifdef POST_SIMD
        const int isa = frost__isa(-1);
        if (isa == FROST__ISA_AVX512)
            forward_chunks_avx512(h, z, a, b, n, H, lo, hi, src, p->bits, bits_out, p->seed, p->stream, thr, scale,
                                  p->ids);
        else if (isa == FROST__ISA_AVX2)
            forward_chunks_avx2(h, z, a, b, n, H, lo, hi, src, p->bits, bits_out, p->seed, p->stream, thr, scale,
                                p->ids);
        else
#endif
            forward_chunks(h, z, a, b, n, H, lo, hi, src, p->bits, bits_out, p->seed, p->stream, thr, scale, p->ids);
    }
}

void frost_post_forward(const frost_post *p, float *h, const float *z, int64_t N, int64_t H, bool train)
{
    if (p->act == FROST_ACT_ELU) {
        frost__post_elu_forward(p, h, z, N, H, train);
        return;
    }
    if (p->batchnorm && train) {
        /* the sums in the work area, before fold_norm's coefficients */
        frost__cost(0.0, 4.0 * (double)N * (double)H); /* z read once more */
        frost__post_sums(z, N, H, p->work);
        frost__post_stats(p, p->work, (double)N, H);
    }
    apply(p, h, z, N, H, train, train && p->dropout > 0.0f ? MASK_PHILOX : MASK_NONE);
}

void frost_post_recompute(const frost_post *p, float *h, const float *z, int64_t N, int64_t H)
{
    if (p->act == FROST_ACT_ELU) {
        frost__post_elu_recompute(p, h, z, N, H);
        return;
    }
    apply(p, h, z, N, H, true, MASK_BITS);
}

/* ---- backward ----------------------------------------------------------- */

/* mk[q] = 1 where element e0 + q passes the gradient (h > 0), else 0. */
static inline void pass_mask(float *mk, const uint64_t *bits, const float *h, int64_t e0, int64_t w)
{
    if (bits) {
        for (int64_t q = 0; q < w; q++) {
            const int64_t e = e0 + q;
            mk[q] = (float)((bits[e >> 6] >> (e & 63)) & 1u);
        }
    } else {
        for (int64_t q = 0; q < w; q++) mk[q] = h[e0 + q] > 0.0f ? 1.0f : 0.0f;
    }
}

/* T1 and T2 / invstd terms of rows [i0, i1), columns [c0, c1):
 * acc[q] += d, acc[FROST_SUM_COLS + q] += d (z - mean), d = [h > 0] dh scale. */
FROST_KERNEL_CLONES
static void grad_sums_rows(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *restrict acc)
{
    const grad_ctx *x = vctx;
    const frost_post *p = x->p;
    const int64_t w = c1 - c0, H = x->H;
    double *restrict t1 = acc, *restrict t2 = acc + FROST_SUM_COLS;
    float mu[FROST_SUM_COLS], mk[FROST_SUM_COLS];
    for (int64_t q = 0; q < w; q++) mu[q] = p->mean[c0 + q];
    for (int64_t i = i0; i < i1; i++) {
        const int64_t o = i * H + c0;
        pass_mask(mk, p->bits, x->h, o, w);
        for (int64_t q = 0; q < w; q++) {
            const float d = mk[q] != 0.0f ? x->dh[o + q] * x->scale : 0.0f;
            t1[q] += (double)d;
            t2[q] += (double)d * (double)(x->z[o + q] - mu[q]);
        }
    }
}

FROST_KERNEL_CLONES
static void backward_rows(const frost_post *p, float *dz, const float *dh, const float *h, const float *z,
                          const float *al, const float *be, const float *ga, int64_t H, int64_t i0, int64_t i1,
                          float scale)
{
    float mk[COLS];
    for (int64_t i = i0; i < i1; i++) {
        for (int64_t c0 = 0; c0 < H; c0 += COLS) {
            const int64_t o = i * H + c0, w = H - c0 < COLS ? H - c0 : COLS;
            pass_mask(mk, p->bits, h, o, w);
            if (al) {
                for (int64_t q = 0; q < w; q++)
                    dz[o + q] = (mk[q] != 0.0f ? al[c0 + q] * dh[o + q] : 0.0f) + be[c0 + q] * z[o + q] + ga[c0 + q];
            } else {
                for (int64_t q = 0; q < w; q++) dz[o + q] = mk[q] != 0.0f ? dh[o + q] * scale : 0.0f;
            }
        }
    }
}

void frost__post_grad_sums(const frost_post *p, const float *dh, const float *h, const float *z, int64_t N, int64_t H,
                           float scale, double *T)
{
    grad_ctx x = {p, dh, h, z, H, scale};
    frost__block_sum_fn fn = grad_sums_rows;
#ifdef POST_SIMD
    if (frost__isa(-1) == FROST__ISA_AVX512) fn = grad_sums_rows_avx512;
    if (frost__isa(-1) == FROST__ISA_AVX2) fn = grad_sums_rows_avx2;
#endif
    for (int64_t c0 = 0; c0 < H; c0 += FROST_SUM_COLS) {
        const int64_t c1 = H - c0 < FROST_SUM_COLS ? H : c0 + FROST_SUM_COLS, w = c1 - c0;
        double acc[2 * FROST_SUM_COLS];
        memset(acc, 0, sizeof acc);
        frost__block_sums(N, c0, c1, 2, acc, fn, &x);
        for (int64_t q = 0; q < w; q++) {
            T[c0 + q] = acc[q];
            T[H + c0 + q] = acc[FROST_SUM_COLS + q] * (double)p->invstd[c0 + q];
        }
    }
}

static void post_backward(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh, const float *h,
                          const float *z, int64_t N, int64_t H, bool panels)
{
    const int64_t n = N * H;
    const float scale = (float)dropout_scale(p, true);
    float *al = NULL, *be = NULL, *ga = NULL;
    if (p->batchnorm) {
        double *T1 = p->work, *T2 = p->work + H;
        /* the sums' pass: dh, z and the pass mask (bits, or h) read */
        frost__cost(0.0, 8.0 * (double)n + (p->bits ? (double)n / 8.0 : 4.0 * (double)n));
        frost__post_grad_sums(p, dh, h, z, N, H, scale, p->work);
        if (dbeta)
            for (int64_t c = 0; c < H; c++) dbeta[c] += (float)T1[c];
        if (dgamma)
            for (int64_t c = 0; c < H; c++) dgamma[c] += (float)T2[c];
        const double invN = N > 0 ? 1.0 / (double)N : 0.0;
        al = (float *)(p->work + 2 * H), be = al + H, ga = be + H;
        for (int64_t c = 0; c < H; c++) {
            const double g = p->gamma ? (double)p->gamma[c] : 1.0, is = (double)p->invstd[c];
            const double mu = (double)p->mean[c];
            al[c] = (float)(g * is * (double)scale);
            be[c] = (float)(-g * is * is * T2[c] * invN);
            ga[c] = (float)(g * is * (mu * is * T2[c] - T1[c]) * invN);
        }
    }
    /* dz's pass: dh read (z too with a batch norm), the pass mask read, dz
     * written */
    frost__cost(0.0, (al ? 12.0 : 8.0) * (double)n + (p->bits ? (double)n / 8.0 : 4.0 * (double)n));
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(N, &lo, &hi);
#ifdef POST_SIMD
        const int isa = frost__isa(-1);
        if (isa == FROST__ISA_AVX512)
            backward_rows_avx512(p, dz, dh, h, z, al, be, ga, H, lo, hi, scale, panels ? N : 0);
        else if (isa == FROST__ISA_AVX2)
            backward_rows_avx2(p, dz, dh, h, z, al, be, ga, H, lo, hi, scale, panels ? N : 0);
        else
#endif
            backward_rows(p, dz, dh, h, z, al, be, ga, H, lo, hi, scale);
    }
}

void frost_post_backward(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh, const float *h,
                         const float *z, int64_t N, int64_t H)
{
    if (p->act == FROST_ACT_ELU) {
        frost__post_elu_backward(p, dz, dgamma, dbeta, dh, z, N, H);
        return;
    }
    post_backward(p, dz, dgamma, dbeta, dh, h, z, N, H, false);
}

bool frost__post_backward_panels(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                                 const float *h, const float *z, int64_t N, int64_t H)
{
#ifdef POST_SIMD
    if (p->act != FROST_ACT_RELU || frost__isa(-1) < FROST__ISA_AVX2 || !frost__panels_use(-1) ||
        frost__panels(H) < 2)
        return false;
    post_backward(p, dz, dgamma, dbeta, dh, h, z, N, H, true);
    return true;
#else
    (void)p, (void)dz, (void)dgamma, (void)dbeta, (void)dh, (void)h, (void)z, (void)N, (void)H;
    return false;
#endif
}

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
#include "core/avx512_impl.h"
#define POST_AVX512 1
#define AVX512 __attribute__((target("avx512f,avx512dq")))
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

#ifdef POST_AVX512
/* The same as forward_chunks, 16 lanes at a time where a chunk's 64
 * columns are contiguous; the same float operations in the same order, so
 * both paths give the same h and bits. */
static AVX512 void forward_chunks_512(float *out, const float *z, const float *a, const float *b, int64_t n, int64_t H,
                                      int64_t c0, int64_t c1, mask_src src, const uint64_t *bits_in, uint64_t *bits_out,
                                      uint64_t seed, uint64_t stream, uint32_t thr, float scale, const int64_t *ids)
{
    float m[64];
    const __m512 zero = _mm512_setzero_ps(), vs = _mm512_set1_ps(scale);
    frost__mask_cache mc = FROST__MASK_CACHE_INIT;
    for (int64_t c = c0; c < c1; c++) {
        const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64, col = e0 % H;
        /* a and b run on periodically past H (fold_norm), so a chunk that
         * crosses into the next row reads its columns from a + col too */
        if (cnt < 64 || (a && H < 64 && col + 64 > H)) {
            forward_chunks(out, z, a, b, n, H, c, c + 1, src, bits_in, bits_out, seed, stream, thr, scale, ids);
            continue;
        }
        if (src == MASK_PHILOX) frost__dropout_mask_ids(m, ids, n, H, c, seed, stream, thr, scale, &mc);
        const uint64_t kin = src == MASK_BITS ? bits_in[c] : 0;
        uint64_t kout = 0;
        for (int j = 0; j < 4; j++) {
            frost__prefetch_ahead(z + e0 + 16 * j, PF_AHEAD);
            __m512 t = _mm512_loadu_ps(z + e0 + 16 * j);
            if (a)
                t = _mm512_add_ps(_mm512_mul_ps(t, _mm512_loadu_ps(a + col + 16 * j)),
                                  _mm512_loadu_ps(b + col + 16 * j));
            t = _mm512_max_ps(t, zero); /* t > 0 ? t : 0, NaN to 0 */
            __m512 y;
            if (src == MASK_PHILOX)
                y = _mm512_mul_ps(t, _mm512_loadu_ps(m + 16 * j));
            else if (src == MASK_BITS)
                y = _mm512_maskz_mul_ps((__mmask16)(kin >> (16 * j)), t, vs);
            else
                y = t;
            _mm512_storeu_ps(out + e0 + 16 * j, y);
            kout |= (uint64_t)_mm512_cmp_ps_mask(y, zero, _CMP_GT_OQ) << (16 * j);
        }
        if (bits_out) bits_out[c] = kout;
    }
}
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
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(nc, &lo, &hi);
#ifdef POST_AVX512
        if (frost__isa(-1) == FROST__ISA_AVX512)
            forward_chunks_512(h, z, a, b, n, H, lo, hi, src, p->bits, bits_out, p->seed, p->stream, thr, scale,
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

/* What a block of the backward column sums needs. */
typedef struct {
    const frost_post *p;
    const float *dh, *h, *z;
    int64_t H;
    float scale;
} grad_ctx;

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

#ifdef POST_AVX512
/* 64 mask bits from element e on (the bit array has a spare word). */
static inline uint64_t bits_at(const uint64_t *bits, int64_t e)
{
    const int64_t w = e >> 6;
    const unsigned o = (unsigned)(e & 63);
    return o ? (bits[w] >> o) | (bits[w + 1] << (64 - o)) : bits[w];
}

static inline __mmask16 lanes(int64_t rem) { return rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u); }

/* Pass mask of 16 elements from q on, of the window starting at q0. */
static inline AVX512 __mmask16 pass16(const frost_post *p, uint64_t win, const float *h, int64_t o, int64_t q,
                                      int64_t q0, __mmask16 lm)
{
    if (p->bits) return (__mmask16)(win >> (q - q0)) & lm;
    return _mm512_mask_cmp_ps_mask(lm, frost__load16(lm, h + o + q), _mm512_setzero_ps(), _CMP_GT_OQ);
}

/* grad_sums_rows, 16 columns at a time. Products of two floats are exact
 * in double, so the fused multiply-add sums equal the generic ones. */
static AVX512 void grad_sums_rows_512(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *acc)
{
    const grad_ctx *x = vctx;
    const frost_post *p = x->p;
    const int64_t w = c1 - c0, H = x->H;
    const __m512 vs = _mm512_set1_ps(x->scale);
    double *t1 = acc, *t2 = acc + FROST_SUM_COLS;
    float mu[FROST_SUM_COLS] __attribute__((aligned(64)));
    memset(mu, 0, sizeof mu);
    for (int64_t q = 0; q < w; q++) mu[q] = p->mean[c0 + q];
    for (int64_t i = i0; i < i1; i++) {
        const int64_t o = i * H + c0;
        for (int64_t q0 = 0; q0 < w; q0 += 64) {
            const uint64_t win = p->bits ? bits_at(p->bits, o + q0) : 0;
            for (int64_t q = q0; q < w && q < q0 + 64; q += 16) {
                frost__prefetch_ahead(x->dh + o + q, PF_AHEAD);
                frost__prefetch_ahead(x->z + o + q, PF_AHEAD);
                const __mmask16 lm = lanes(w - q), pm = pass16(p, win, x->h, o, q, q0, lm);
                const __m512 d = _mm512_maskz_mul_ps(pm, frost__load16(lm, x->dh + o + q), vs);
                const __m512 zc = _mm512_sub_ps(frost__load16(lm, x->z + o + q), _mm512_load_ps(mu + q));
                const __m512d dlo = _mm512_cvtps_pd(_mm512_castps512_ps256(d));
                const __m512d dhi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(d, 1));
                const __m512d zlo = _mm512_cvtps_pd(_mm512_castps512_ps256(zc));
                const __m512d zhi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(zc, 1));
                /* whole-vector accumulators (lanes past w add zeros into the
                 * padding): a masked store would not forward to the next
                 * row's load of the same slot, and stall it */
                _mm512_store_pd(t1 + q, _mm512_add_pd(_mm512_load_pd(t1 + q), dlo));
                _mm512_store_pd(t1 + q + 8, _mm512_add_pd(_mm512_load_pd(t1 + q + 8), dhi));
                _mm512_store_pd(t2 + q, _mm512_fmadd_pd(dlo, zlo, _mm512_load_pd(t2 + q)));
                _mm512_store_pd(t2 + q + 8, _mm512_fmadd_pd(dhi, zhi, _mm512_load_pd(t2 + q + 8)));
            }
        }
    }
}

/* backward_rows, 16 columns at a time, the same operations in order; dz
 * row-major, or with pn > 0 in the column panels of tensor_impl.h over pn
 * rows (a vector of 16 columns lies in one panel). */
static AVX512 void backward_rows_512(const frost_post *p, float *dz, const float *dh, const float *h, const float *z,
                                     const float *al, const float *be, const float *ga, int64_t H, int64_t i0,
                                     int64_t i1, float scale, int64_t pn)
{
    const __m512 vs = _mm512_set1_ps(scale);
    for (int64_t i = i0; i < i1; i++) {
        const int64_t o = i * H;
        for (int64_t q0 = 0; q0 < H; q0 += 64) {
            const uint64_t win = p->bits ? bits_at(p->bits, o + q0) : 0;
            for (int64_t q = q0; q < H && q < q0 + 64; q += 16) {
                frost__prefetch_ahead(dh + o + q, PF_AHEAD);
                if (al) frost__prefetch_ahead(z + o + q, PF_AHEAD);
                const __mmask16 lm = lanes(H - q), pm = pass16(p, win, h, o, q, q0, lm);
                const __m512 g = frost__load16(lm, dh + o + q);
                __m512 r;
                if (al) {
                    const __m512 t = _mm512_maskz_mul_ps(pm, frost__load16(lm, al + q), g);
                    const __m512 u =
                        _mm512_mul_ps(frost__load16(lm, be + q), frost__load16(lm, z + o + q));
                    r = _mm512_add_ps(_mm512_add_ps(t, u), frost__load16(lm, ga + q));
                } else {
                    r = _mm512_maskz_mul_ps(pm, g, vs);
                }
                frost__store16(lm, pn ? frost__panel_at(dz, pn, H, i, q) : dz + o + q, r);
            }
        }
    }
}
#endif

void frost__post_grad_sums(const frost_post *p, const float *dh, const float *h, const float *z, int64_t N, int64_t H,
                           float scale, double *T)
{
    grad_ctx x = {p, dh, h, z, H, scale};
    frost__block_sum_fn fn = grad_sums_rows;
#ifdef POST_AVX512
    if (frost__isa(-1) == FROST__ISA_AVX512) fn = grad_sums_rows_512;
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
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(N, &lo, &hi);
#ifdef POST_AVX512
        if (frost__isa(-1) == FROST__ISA_AVX512)
            backward_rows_512(p, dz, dh, h, z, al, be, ga, H, lo, hi, scale, panels ? N : 0);
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
#ifdef POST_AVX512
    if (p->act != FROST_ACT_RELU || frost__isa(-1) != FROST__ISA_AVX512 || !frost__panels_use(-1) ||
        frost__panels(H) < 2)
        return false;
    post_backward(p, dz, dgamma, dbeta, dh, h, z, N, H, true);
    return true;
#else
    (void)p, (void)dz, (void)dgamma, (void)dbeta, (void)dh, (void)h, (void)z, (void)N, (void)H;
    return false;
#endif
}

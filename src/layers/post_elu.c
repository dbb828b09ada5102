/*
 * post_elu.c - the post block with ELU (GAT's activation, frost_post.act =
 * FROST_ACT_ELU):
 *
 *     h = dropout(elu(bn(z))),  elu(y) = y > 0 ? y : exp(y) - 1
 *
 * bn optional (batch statistics in training, running statistics in eval),
 * dropout in training only, with the mask of frost_dropout_forward (the
 * same element keys as the ReLU block, so ids work the same). Unlike ReLU,
 * h > 0 does not tell where the gradient passes, so the training forward
 * stores the kept elements of the dropout mask in p->bits (all ones without
 * dropout); recompute and backward read them (or, with bits NULL, draw the
 * mask again). Backward, with y = bn(z) recomputed and
 * d = dh m elu'(y), elu'(y) = y > 0 ? 1 : exp(y):
 *     T1 = sum_n d,  T2 = sum_n d xhat
 *     dz = gamma invstd (d - T1/N - xhat T2/N)
 * Column sums in fixed row blocks (frost__block_sums): the same on any
 * thread count.
 *
 * Shape legend: N rows, H columns; elements are processed in chunks of 64
 * of the flattened (N, H) array, as the dropout mask is drawn.
 *
 * Plain C, no hand vectorisation: GAT's hidden widths are small. The
 * reference is the composition of frost_batchnorm_*, an ELU and
 * frost_dropout_* (test_layers.c).
 */
#include "core/core_impl.h"
#include "frost/layers.h"
#include "layers/layers_impl.h"

#include <math.h>
#include <string.h>

/* exp(y) - 1 rather than expm1f: the same to 1e-7 in absolute terms here,
 * and glibc's expf is several times faster */
static inline float elu(float y) { return y > 0.0f ? y : expf(y) - 1.0f; }
static inline float elu_grad(float y) { return y > 0.0f ? 1.0f : expf(y); }

/* The folded batch norm y = z a + b (train: batch statistics), in p->work
 * (2H floats); NULL without batch norm. */
static void fold(const frost_post *p, int64_t H, bool train, float **pa, float **pb)
{
    *pa = *pb = NULL;
    if (!p->batchnorm) return;
    float *a = (float *)p->work, *b = a + H;
    for (int64_t c = 0; c < H; c++) {
        const double is = train ? (double)p->invstd[c] : 1.0 / sqrt((double)p->run_var[c] + (double)p->eps);
        const double mu = train ? (double)p->mean[c] : (double)p->run_mean[c];
        const double g = p->gamma ? (double)p->gamma[c] : 1.0, be = p->beta ? (double)p->beta[c] : 0.0;
        a[c] = (float)(is * g);
        b[c] = (float)(be - mu * is * g);
    }
    *pa = a, *pb = b;
}

/* Where a pass's dropout multipliers come from. */
typedef enum { MASK_ONES, MASK_DRAW, MASK_BITS } mask_src;

/* The multipliers of chunk c of the n = N H elements. */
static void chunk_mask(const frost_post *p, float m[64], int64_t n, int64_t H, int64_t c, mask_src src, float scale,
                       frost__mask_cache *mc)
{
    if (src == MASK_BITS) {
        const uint64_t w = p->bits[c];
        for (int q = 0; q < 64; q++) m[q] = (w >> q) & 1u ? scale : 0.0f;
    } else if (src == MASK_DRAW) {
        frost__dropout_mask_ids(m, p->ids, n, H, c, p->seed, p->stream, frost__dropout_thr(p->dropout), scale, mc);
    } else {
        for (int q = 0; q < 64; q++) m[q] = scale;
    }
}

/* h over the chunks; draw: a training forward with dropout (bits written
 * when p->bits), else the mask from bits (recompute) or none (eval, or no
 * dropout: bits all ones). */
static void apply(const frost_post *p, float *h, const float *z, int64_t N, int64_t H, bool train, bool from_bits)
{
    const int64_t n = N * H, nc = (n + 63) / 64;
    float *a, *b;
    fold(p, H, train, &a, &b);
    const bool drop = train && p->dropout > 0.0f;
    const float scale = drop ? (float)(1.0 / (1.0 - (double)p->dropout)) : 1.0f;
    const mask_src src = from_bits ? MASK_BITS : drop ? MASK_DRAW : MASK_ONES;
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(nc, &lo, &hi);
        frost__mask_cache mc = FROST__MASK_CACHE_INIT;
        float m[64];
        for (int64_t c = lo; c < hi; c++) {
            const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64;
            chunk_mask(p, m, n, H, c, src, scale, &mc);
            int64_t col = e0 % H;
            uint64_t w = 0;
            for (int64_t q = 0; q < cnt; q++) {
                const float y = a ? z[e0 + q] * a[col] + b[col] : z[e0 + q];
                h[e0 + q] = elu(y) * m[q];
                w |= (uint64_t)(m[q] != 0.0f) << q;
                if (++col == H) col = 0;
            }
            if (train && !from_bits && p->bits) p->bits[c] = w;
        }
    }
}

void frost__post_elu_forward(const frost_post *p, float *h, const float *z, int64_t N, int64_t H, bool train)
{
    if (p->batchnorm && train) {
        frost__post_sums(z, N, H, p->work);
        frost__post_stats(p, p->work, (double)N, H);
    }
    apply(p, h, z, N, H, train, false);
}

void frost__post_elu_recompute(const frost_post *p, float *h, const float *z, int64_t N, int64_t H)
{
    FROST_ASSERT(p->bits);
    apply(p, h, z, N, H, true, true);
}

/* ---- backward --------------------------------------------------------------------- */

typedef struct {
    const frost_post *p;
    const float *dh, *z, *a, *b;
    int64_t H, n;
    float scale;
    mask_src src;
} grad_ctx;

/* d = dh m elu'(y) of element e (flattened), with the chunk's mask. */
static inline float grad_at(const grad_ctx *x, const float *m, int64_t e, int64_t col)
{
    const float y = x->a ? x->z[e] * x->a[col] + x->b[col] : x->z[e];
    return x->dh[e] * m[e & 63] * elu_grad(y);
}

/* T1 = sum d, T2' = sum d (z - mean) over rows [i0, i1), columns [c0, c1). */
static void grad_sums(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *acc)
{
    const grad_ctx *x = vctx;
    const int64_t H = x->H;
    frost__mask_cache mc = FROST__MASK_CACHE_INIT;
    float m[64];
    int64_t chunk = -1;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t col = c0; col < c1; col++) {
            const int64_t e = i * H + col;
            if (e >> 6 != chunk) {
                chunk = e >> 6;
                chunk_mask(x->p, m, x->n, H, chunk, x->src, x->scale, &mc);
            }
            const double d = (double)grad_at(x, m, e, col);
            acc[col - c0] += d;
            acc[FROST_SUM_COLS + col - c0] += d * (double)(x->z[e] - x->p->mean[col]);
        }
}

void frost__post_elu_backward(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                              const float *z, int64_t N, int64_t H)
{
    const int64_t n = N * H, nc = (n + 63) / 64;
    const bool drop = p->dropout > 0.0f;
    const float scale = drop ? (float)(1.0 / (1.0 - (double)p->dropout)) : 1.0f;
    float *a, *b;
    fold(p, H, true, &a, &b); /* p->work: a, b (2H floats) */
    grad_ctx x = {p, dh, z, a, b, H, n, scale, p->bits ? MASK_BITS : drop ? MASK_DRAW : MASK_ONES};
    /* dz = al d + be z + ga per column, al = gamma invstd = a */
    const float *al = NULL;
    float *be = NULL, *ga = NULL;
    if (p->batchnorm) {
        /* sums after the folded coefficients: work is 4H doubles */
        double *T = p->work + H;
        for (int64_t c0 = 0; c0 < H; c0 += FROST_SUM_COLS) {
            const int64_t c1 = H - c0 < FROST_SUM_COLS ? H : c0 + FROST_SUM_COLS;
            double acc[2 * FROST_SUM_COLS];
            memset(acc, 0, sizeof acc);
            frost__block_sums(N, c0, c1, 2, acc, grad_sums, &x);
            for (int64_t q = 0; q < c1 - c0; q++)
                T[c0 + q] = acc[q], T[H + c0 + q] = acc[FROST_SUM_COLS + q] * (double)p->invstd[c0 + q];
        }
        const double *T1 = T, *T2 = T + H;
        if (dbeta)
            for (int64_t c = 0; c < H; c++) dbeta[c] += (float)T1[c];
        if (dgamma)
            for (int64_t c = 0; c < H; c++) dgamma[c] += (float)T2[c];
        /* work: a, b (H doubles), T (2H), be, ga (H) */
        const double invN = N > 0 ? 1.0 / (double)N : 0.0;
        al = a, be = (float *)(T + 2 * H), ga = be + H;
        for (int64_t c = 0; c < H; c++) {
            const double g = p->gamma ? (double)p->gamma[c] : 1.0, is = (double)p->invstd[c];
            const double mu = (double)p->mean[c];
            be[c] = (float)(-g * is * is * T2[c] * invN);
            ga[c] = (float)(g * is * (mu * is * T2[c] - T1[c]) * invN);
        }
    }
#pragma omp parallel if (n > 65536)
    {
        int64_t lo, hi;
        frost__thread_range(nc, &lo, &hi);
        frost__mask_cache mc = FROST__MASK_CACHE_INIT;
        float m[64];
        for (int64_t c = lo; c < hi; c++) {
            const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64;
            chunk_mask(p, m, n, H, c, x.src, scale, &mc);
            int64_t col = e0 % H;
            for (int64_t q = 0; q < cnt; q++) {
                const int64_t e = e0 + q;
                const float d = grad_at(&x, m, e, col);
                dz[e] = al ? al[col] * d + be[col] * z[e] + ga[col] : d;
                if (++col == H) col = 0;
            }
        }
    }
}

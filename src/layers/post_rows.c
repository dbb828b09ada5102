/*
 * post_rows.c - the post-convolution block h = dropout(relu(bn(z))) over the
 * rows one process holds of a graph spread over several (distributed
 * training: kind_impl.h's frost__exec).
 *
 * Shape legend: n rows here (this process's nodes), H columns, N_g rows
 * over all processes.
 *
 * It computes what frost_post (layers/post.c) computes over all N_g rows,
 * with two differences that make a process's rows behave as they would in
 * one process:
 *   - batch statistics come from column sums over every process: each
 *     process sums its rows (frost__post_rows_sums), the sums are added up
 *     (an allreduce), and mean and variance divide by N_g;
 *   - the dropout mask of row i is the one element gid[i] H + c of a single
 *     (N_g, H) tensor would draw, so a node keeps the same mask wherever it
 *     lives (and the same as frost_post over the whole graph in one process).
 * Backward likewise sums T1 = sum dbn and T2 = sum dbn xhat over every
 * process; dgamma and dbeta receive this process's share only, since the
 * parameter gradients are added up across processes afterwards.
 *
 * The phases are separate functions so that a test can play several
 * processes in one (sum the partial sums, then apply): with one process, no
 * gid and N_g = n, the results are frost_post's, which is the reference.
 */
#include "frost/layers.h"
#include "layers/layers_impl.h"

#include <math.h>
#include <string.h>

#define COLS 256

static float dropout_scale(const frost__post_rows *p)
{
    return p->p.dropout > 0.0f ? 1.0f / (1.0f - p->p.dropout) : 1.0f;
}

/* ---- forward ------------------------------------------------------------ */

void frost__post_rows_sums(const float *z, int64_t n, int64_t H, double *sums) { frost__post_sums(z, n, H, sums); }

void frost__post_rows_stats(const frost__post_rows *pr, const double *sums, int64_t H)
{
    frost__post_stats(&pr->p, sums, (double)pr->n_global, H);
}

/* The folded batch norm bn(z) = z a + b from the batch statistics. */
static void fold(const frost_post *p, int64_t H, float *a, float *b)
{
    for (int64_t c = 0; c < H; c++) {
        const double is = (double)p->invstd[c], mu = (double)p->mean[c];
        const double g = p->gamma ? (double)p->gamma[c] : 1.0, be = p->beta ? (double)p->beta[c] : 0.0;
        a[c] = (float)(is * g);
        b[c] = (float)(be - mu * is * g);
    }
}

/* Rows [i0, i1): h = relu(z a + b) m with m the dropout multiplier of the
 * row's global element (from Philox, or from the bits of the training pass
 * when recompute is set); writes the bits unless recomputing. */
static void apply_rows(const frost__post_rows *pr, float *h, const float *z, const float *a, const float *b, int64_t H,
                       int64_t i0, int64_t i1, bool recompute)
{
    const frost_post *p = &pr->p;
    const float scale = dropout_scale(pr);
    const bool drop = p->dropout > 0.0f;
    const uint32_t thr = drop ? frost__dropout_thr(p->dropout) : 0;
    float mk[64];
    frost__mask_cache mc = FROST__MASK_CACHE_INIT;
    for (int64_t i = i0; i < i1; i++) {
        const int64_t g = pr->gid ? pr->gid[i] : i;
        for (int64_t c = 0; c < H; c++) {
            const int64_t o = i * H + c;
            float m = 1.0f;
            if (recompute) {
                m = (p->bits[o >> 6] >> (o & 63)) & 1u ? scale : 0.0f;
            } else if (drop) {
                if (c % 64 == 0) /* the row's next 64 multipliers */
                    frost__dropout_mask_run(mk, g * H + c, H - c < 64 ? H - c : 64, p->seed, p->stream, thr, scale,
                                            &mc);
                m = mk[c % 64];
            }
            const float t = a ? z[o] * a[c] + b[c] : z[o];
            h[o] = (t > 0.0f ? t : 0.0f) * m;
        }
    }
}

/* Bits [h > 0] of elements [64 w0, 64 w1): whole words, one thread each. */
static void bits_words(uint64_t *bits, const float *h, int64_t ne, int64_t w0, int64_t w1)
{
    for (int64_t wd = w0; wd < w1; wd++) {
        const int64_t e0 = wd * 64, cnt = ne - e0 < 64 ? ne - e0 : 64;
        uint64_t w = 0;
        for (int64_t q = 0; q < cnt; q++) w |= (uint64_t)(h[e0 + q] > 0.0f) << q;
        bits[wd] = w;
    }
}

static void apply(const frost__post_rows *pr, float *h, const float *z, int64_t n, int64_t H, bool recompute)
{
    const frost_post *p = &pr->p;
    float *a = NULL, *b = NULL;
    if (p->batchnorm) {
        a = (float *)p->work, b = a + H;
        fold(p, H, a, b);
    }
    const int64_t ne = n * H;
    uint64_t *bits = recompute ? NULL : p->bits;
#pragma omp parallel if (ne > 65536)
    {
        int64_t i0, i1;
        frost__thread_range(n, &i0, &i1);
        apply_rows(pr, h, z, a, b, H, i0, i1, recompute);
        if (bits) {
            /* a word may straddle two threads' rows: bits in a second pass, by words */
#pragma omp barrier
            int64_t w0, w1;
            frost__thread_range((ne + 63) / 64, &w0, &w1);
            bits_words(bits, h, ne, w0, w1);
        }
    }
}

void frost__post_rows_apply(const frost__post_rows *pr, float *h, const float *z, int64_t n, int64_t H)
{
    apply(pr, h, z, n, H, false);
}

void frost__post_rows_recompute(const frost__post_rows *pr, float *h, const float *z, int64_t n, int64_t H)
{
    apply(pr, h, z, n, H, true);
}

void frost__post_rows_forward(const frost__post_rows *pr, float *h, const float *z, int64_t n, int64_t H)
{
    if (pr->p.batchnorm) {
        double *s = pr->p.work; /* 2H doubles: the fold below reuses them after the statistics */
        frost__post_rows_sums(z, n, H, s);
        if (pr->allreduce) pr->allreduce(pr->ctx, s, 2 * H);
        frost__post_rows_stats(pr, s, H);
    }
    apply(pr, h, z, n, H, false);
}

/* ---- backward ----------------------------------------------------------- */

void frost__post_rows_grad_sums(const frost__post_rows *pr, const float *dh, const float *z, int64_t n, int64_t H,
                                double *T)
{
    frost__post_grad_sums(&pr->p, dh, NULL, z, n, H, dropout_scale(pr), T);
}

void frost__post_rows_backward_apply(const frost__post_rows *pr, float *dz, const float *dh, const float *z,
                                     const double *T, int64_t n, int64_t H)
{
    const frost_post *p = &pr->p;
    const float scale = dropout_scale(pr);
    float *al = NULL, *be = NULL, *ga = NULL;
    if (p->batchnorm) {
        /* T (2H) is read before the coefficients overwrite the work area behind it */
        al = (float *)(p->work + 2 * H), be = al + H, ga = be + H;
        const double invN = pr->n_global > 0 ? 1.0 / (double)pr->n_global : 0.0;
        for (int64_t c = 0; c < H; c++) {
            const double g = p->gamma ? (double)p->gamma[c] : 1.0, is = (double)p->invstd[c];
            const double mu = (double)p->mean[c];
            al[c] = (float)(g * is * (double)scale);
            be[c] = (float)(-g * is * is * T[H + c] * invN);
            ga[c] = (float)(g * is * (mu * is * T[H + c] - T[c]) * invN);
        }
    }
    const int64_t ne = n * H;
#pragma omp parallel if (ne > 65536)
    {
        int64_t i0, i1;
        frost__thread_range(n, &i0, &i1);
        for (int64_t e = i0 * H; e < i1 * H; e++) {
            const bool pass = (p->bits[e >> 6] >> (e & 63)) & 1u;
            if (al) {
                const int64_t c = e % H;
                dz[e] = (pass ? al[c] * dh[e] : 0.0f) + be[c] * z[e] + ga[c];
            } else {
                dz[e] = pass ? dh[e] * scale : 0.0f;
            }
        }
    }
}

void frost__post_rows_backward(const frost__post_rows *pr, float *dz, float *dgamma, float *dbeta, const float *dh,
                               const float *z, int64_t n, int64_t H)
{
    const frost_post *p = &pr->p;
    double *T = NULL;
    if (p->batchnorm) {
        T = p->work; /* (2H) */
        frost__post_rows_grad_sums(pr, dh, z, n, H, T);
        /* this process's share into the parameter gradients (added up across
         * processes with the others), the total into dz */
        if (dbeta)
            for (int64_t c = 0; c < H; c++) dbeta[c] += (float)T[c];
        if (dgamma)
            for (int64_t c = 0; c < H; c++) dgamma[c] += (float)T[H + c];
        if (pr->allreduce) pr->allreduce(pr->ctx, T, 2 * H);
    }
    frost__post_rows_backward_apply(pr, dz, dh, z, T, n, H);
}

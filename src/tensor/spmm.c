/*
 * spmm.c - graph aggregation Y = diag(a) A diag(b) X + diag(c) X, row
 * parallel. Shape legend: n nodes, F feature columns, nnz stored entries.
 *
 * Each output row is produced by exactly one thread, visiting its nonzeros
 * in stored order, so the floating-point sums are the same for any thread
 * count. Degrees are skewed (hubs), hence dynamic scheduling over small row
 * chunks.
 *
 * Two row kernels compute the same sums in the same order:
 *  - generic C, left to the compiler's vectoriser;
 *  - vector (spmm_kern.h, in AVX-512 and in AVX2 + FMA), which keeps up
 *    to 112 columns of the output row in registers (7 zmm or 14 ymm) while
 *    it streams the neighbour rows (wider rows in passes), and prefetches
 *    the rows of the entries a few steps ahead (the gather of neighbour
 *    rows is latency bound without it). Picked at run time by the CPU's
 *    features or FROST_ISA.
 * The generic and the vector kernels may differ in the last bit (fused
 * multiply-add), so one process uses one of them throughout; the two vector
 * widths give the same bits. Tests compare every path with spmm_ref.c and
 * the two widths with each other.
 */
#include "core/core_impl.h"
#include "frost/tensor.h"
#include "tensor/tensor_impl.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/simd_impl.h"
#define SPMM_HAVE_SIMD 1
#endif

typedef struct {
    const frost_csr *A;
    const float *a, *b, *c;
    const float *X;
    int64_t ldx, F;
    float *Y;
    int64_t ldy;
    bool acc;
    int64_t pass; /* columns per pass of the vector kernels (pass_width) */
    bool indices_counted; /* a later panel of one product: its row pointers, ids and scales counted already */
} spmm_args;

/* ---- generic kernel ---------------------------------------------------- */

/* Accumulating rows are summed in a stack buffer, in column blocks of this
 * many floats: no allocation inside a training step. */
#define SPMM_TMP_STACK 1024

static void row_generic_block(const spmm_args *p, int64_t i, int64_t f0, int64_t F, float *restrict tmp)
{
    const frost_csr *A = p->A;
    const int64_t ldx = p->ldx;
    const float *X = p->X + f0;
    float *restrict y = p->Y + i * p->ldy + f0;
    float *restrict s = p->acc ? tmp : y;
    memset(s, 0, (size_t)F * sizeof(float));
    const int64_t k0 = A->indptr[i], k1 = A->indptr[i + 1];
    for (int64_t k = k0; k < k1; k++) {
        const int32_t j = A->indices[k];
        const float w = p->b ? p->b[j] : 1.0f;
        const float *restrict x = X + (int64_t)j * ldx;
        for (int64_t f = 0; f < F; f++) s[f] += w * x[f];
    }
    const float ai = p->a ? p->a[i] : 1.0f;
    const float ci = p->c ? p->c[i] : 0.0f;
    const float *restrict xi = X + i * ldx;
    if (p->acc) {
        for (int64_t f = 0; f < F; f++) y[f] += ai * s[f] + ci * xi[f];
    } else if (p->c) {
        for (int64_t f = 0; f < F; f++) y[f] = ai * s[f] + ci * xi[f];
    } else if (p->a) {
        for (int64_t f = 0; f < F; f++) y[f] *= ai;
    }
}

static void row_generic(const spmm_args *p, int64_t i)
{
    float tmp[SPMM_TMP_STACK];
    if (!p->acc) {
        row_generic_block(p, i, 0, p->F, NULL);
        return;
    }
    for (int64_t f0 = 0; f0 < p->F; f0 += SPMM_TMP_STACK)
        row_generic_block(p, i, f0, p->F - f0 < SPMM_TMP_STACK ? p->F - f0 : SPMM_TMP_STACK, tmp);
}

/* ---- vector kernels (AVX-512, AVX2 + FMA) ------------------------------ */

#ifdef SPMM_HAVE_SIMD
/* Bytes of neighbour rows kept in flight by prefetching: the entries
 * ahead are this over the bytes a pass reads (22 entries at 112 columns,
 * 32 at width 40; measured best of 6, 10 and 16 KiB on arxiv-sized graphs
 * with passes of 256 columns; flat between them with the narrow passes on
 * a random graph of the arxiv size). */
#define SPMM_PF_BYTES 10240
/* A row with fewer entries than this also prefetches the next row's self
 * term and output: there those two streams are a large share of the
 * misses (width 256, arxiv-sized graph, mean degree 14: 43 -> 47 GB/s).
 * Long rows keep the miss buffers busy with their own gathers, and the
 * extra requests slowed the products-sized graph (mean degree 50) by 8 %. */
#define SPMM_SHORT_ROW 32

/* Columns per pass of the vector kernels: rows wider than SPMM_PASS_MAX
 * are cut into passes of one width in whole vectors, the last one shorter
 * (386 -> 112 + 112 + 112 + 50, 256 -> 96 + 96 + 64, 128 -> 64 + 64).
 * Narrow passes gather faster than wide ones although each pass walks the
 * row's entries again (`frost bench --what spmm`, 2 threads, against passes
 * of 256 columns: arxiv-sized synth graph, width 386 88-92 -> 80 ms, 256
 * 50 -> 45 ms, 128 20.7 -> 18.0 ms; products-sized, width 256 4.08 -> 3.47
 * s; 80 and 96 were slower than 112). Probably more neighbour rows in
 * flight for the same bytes, with the lines next to a pass's fetched early
 * for the next. The sums are the same. */
#define SPMM_PASS_MAX 112

static int64_t pass_width(int64_t F)
{
    const int64_t passes = (F + SPMM_PASS_MAX - 1) / SPMM_PASS_MAX;
    return ((F + passes - 1) / passes + 15) / 16 * 16;
}

#define FROST_SIMD_W 16
#include "core/simd_width.h"
#define NVMAX 7
#include "tensor/spmm_kern.h"
#undef NVMAX
/* 14 sums of 8 floats and the broadcast weight in AVX2's 16 registers (the
 * loads fold into the multiply-adds) */
#define FROST_SIMD_W 8
#include "core/simd_width.h"
#define NVMAX 14
#include "tensor/spmm_kern.h"
#undef NVMAX
#endif

/* ---- dispatch ---------------------------------------------------------- */

static void spmm_impl(spmm_args *p)
{
    void (*row)(const spmm_args *, int64_t) = row_generic;
#ifdef SPMM_HAVE_SIMD
    const int isa = frost__isa(-1);
    if (isa == FROST__ISA_AVX512) row = row_avx512, p->pass = pass_width(p->F);
    if (isa == FROST__ISA_AVX2) row = row_avx2, p->pass = pass_width(p->F);
#endif
    const int64_t n = p->A->n_rows;
    if (p->F <= 0) return;
    /* compulsory traffic: every row of X read once (a gathered row met
     * again is assumed in cache), every output row written (and read when
     * accumulating), the row pointers, column ids and scale vectors */
    frost__cost(0.0, 4.0 * (double)p->F * ((double)p->A->n_cols + (double)n * (p->acc ? 2.0 : 1.0)) +
                         (p->indices_counted ? 0.0
                                             : 8.0 * (double)(n + 1) + 4.0 * (double)p->A->indptr[n] +
                                                   4.0 * ((p->a ? (double)n : 0.0) + (p->b ? (double)p->A->n_cols : 0.0) +
                                                          (p->c ? (double)n : 0.0))));
#pragma omp parallel for schedule(dynamic, 256)
    for (int64_t i = 0; i < n; i++) row(p, i);
}

void frost_spmm(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    spmm_args p = {op->A, op->a, op->b, op->c, X, ldx, F, Y, ldy, false, 0, false};
    spmm_impl(&p);
}

void frost__spmm_panels(const frost_aggr *op, const float *X, int64_t F, float *Y, int64_t ldy)
{
    const int64_t n = op->A->n_rows;
    for (int64_t p = 0; p < frost__panels(F); p++) {
        const int64_t w = frost__panel_width(F, p);
        spmm_args a = {op->A, op->a, op->b, op->c, X + n * FROST__PANEL * p, w, w, Y + FROST__PANEL * p, ldy, false, 0, p > 0};
        spmm_impl(&a);
    }
}

void frost__spmm_t_panels(const frost_aggr *op, const float *X, int64_t F, float *Y, int64_t ldy)
{
    /* X has a row per row of op^T, that is per column of op */
    const int64_t n = (op->AT ? op->AT : op->A)->n_rows;
    for (int64_t p = 0; p < frost__panels(F); p++) {
        const int64_t w = frost__panel_width(F, p);
        spmm_args a = {op->AT ? op->AT : op->A, op->b, op->a, op->c, X + n * FROST__PANEL * p, w, w,
                       Y + FROST__PANEL * p, ldy, false, 0, p > 0};
        spmm_impl(&a);
    }
}

void frost_spmm_t_acc(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    /* (diag(a) A diag(b))^T = diag(b) A^T diag(a) */
    spmm_args p = {op->AT ? op->AT : op->A, op->b, op->a, op->c, X, ldx, F, Y, ldy, true, 0, false};
    spmm_impl(&p);
}

typedef struct {
    const float *X;
    int64_t ldx;
} colsum_ctx;

/* Rows [i0, i1), columns [c0, c1) of X added to acc, in double. */
FROST_KERNEL_CLONES
static void colsum_rows(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *restrict acc)
{
    const colsum_ctx *x = vctx;
    const int64_t w = c1 - c0;
    for (int64_t i = i0; i < i1; i++) {
        const float *restrict r = x->X + i * x->ldx + c0;
        for (int64_t q = 0; q < w; q++) acc[q] += (double)r[q];
    }
}

void frost_spmm_t(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy)
{
    spmm_args p = {op->AT ? op->AT : op->A, op->b, op->a, op->c, X, ldx, F, Y, ldy, false, 0, false};
    spmm_impl(&p);
}

void frost__colsum_panels_acc(const float *X, int64_t n, int64_t F, float *out)
{
    for (int64_t p = 0; p < frost__panels(F); p++) {
        const int64_t w = frost__panel_width(F, p);
        frost_colsum_acc(X + n * FROST__PANEL * p, n, w, w, out + FROST__PANEL * p);
    }
}

void frost_colsum_acc(const float *X, int64_t n, int64_t F, int64_t ldx, float *out)
{
    /* blocks of rows summed on their threads, added in block order
     * (frost__block_sums): deterministic, contiguous reads */
    colsum_ctx x = {X, ldx};
    frost__cost(0.0, 4.0 * (double)n * (double)F);
    for (int64_t c0 = 0; c0 < F; c0 += FROST_SUM_COLS) {
        const int64_t c1 = F - c0 < FROST_SUM_COLS ? F : c0 + FROST_SUM_COLS;
        double s[FROST_SUM_COLS];
        memset(s, 0, sizeof s);
        frost__block_sums(n, c0, c1, 1, s, colsum_rows, &x);
        for (int64_t q = 0; q < c1 - c0; q++) out[c0 + q] += (float)s[q];
    }
}

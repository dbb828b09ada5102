/*
 * tensor_impl.h - the AVX-512 and AVX2 products behind frost_gemm and frost_gemm_ws
 * (gemm_simd.c).
 */
#ifndef FROST_TENSOR_IMPL_H
#define FROST_TENSOR_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "frost/tensor.h"

/* Widest N of the weight-gradient kernel: 3 vectors in registers. */
#define FROST__NARROW_MAX 48

/* Whether frost__gemm_rows takes C (M, N) = alpha op(A) op(B) + beta C:
 * op(A) = A, M long, N and K at most 512, the CPU runs AVX2 or AVX-512. */
bool frost__gemm_rows_fits(bool trans_a, int64_t M, int64_t N, int64_t K);
/* That product, op(B) = B^T if trans_b; false (C untouched) if its packing
 * buffer could not be had. */
bool frost__gemm_rows(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* Whether frost__gemm_narrow_tn takes an N-wide weight gradient: N <= 48,
 * or N <= 512 on the AVX-512 path where OpenBLAS runs without its AVX-512
 * kernels. */
bool frost__gemm_tn_fits(int64_t N);
/* PT (N, M), ld M, = (A^T B)^T for A (K, M) and B (K, N), N <= 512: one
 * chunk of a split weight gradient, transposed, single-threaded. */
void frost__gemm_narrow_tn(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float *PT);

/* Column panels: a product's output kept for one SpMM (the T = x W of a
 * layer that aggregates after its product) is stored as panels of 64
 * columns, each contiguous (M, width), the last panel taking the rest
 * (64 to 127 columns): panel p holds columns [64 p, ...) at C + M 64 p.
 * The SpMM then gathers from a (M, 64) array at a time instead of rows of
 * the whole width: `frost bench --what spmm --widths 256,386` times both
 * layouts (arxiv-sized graph, 2 threads, host memory in its slow state:
 * width 386 82 -> 56 ms, 256 50 -> 33 ms; the same sums). */
#define FROST__PANEL 64
static inline int64_t frost__panels(int64_t F) { return F < 2 * FROST__PANEL ? 1 : F / FROST__PANEL; }
/* Width of panel p of F columns. */
static inline int64_t frost__panel_width(int64_t F, int64_t p)
{
    return p == frost__panels(F) - 1 ? F - FROST__PANEL * p : FROST__PANEL;
}
/* The panel that holds column j. */
static inline int64_t frost__panel_of(int64_t F, int64_t j)
{
    const int64_t np = frost__panels(F);
    return j / FROST__PANEL < np ? j / FROST__PANEL : np - 1;
}
/* Element (i, j) of an (M, F) matrix in panels; the elements j .. j + 15 of
 * a 16-aligned j follow it (a vector never straddles two panels). */
static inline float *frost__panel_at(float *C, int64_t M, int64_t F, int64_t i, int64_t j)
{
    const int64_t p = frost__panel_of(F, j);
    return C + M * FROST__PANEL * p + i * frost__panel_width(F, p) + (j - FROST__PANEL * p);
}
/* want = 0 or 1 turns the panel paths off or on (tests compare the two),
 * -1 queries; on by default. */
FROST_API int frost__panels_use(int want);
/* C (M, N) = A B in panels, A (M, K) row-major: false (nothing written)
 * where the vector product does not take the shape or N makes one panel. */
FROST_API bool frost__gemm_panels(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B,
                                  int64_t ldb, float *C);
/* Y (rows of op, F; ld ldy) = op X for X (F wide) in panels. */
FROST_API void frost__spmm_panels(const frost_aggr *op, const float *X, int64_t F, float *Y, int64_t ldy);
/* Y = op^T X, the same for the transpose. */
void frost__spmm_t_panels(const frost_aggr *op, const float *X, int64_t F, float *Y, int64_t ldy);
/* out (F) += the column sums of X (n, F) in panels, as frost_colsum_acc. */
void frost__colsum_panels_acc(const float *X, int64_t n, int64_t F, float *out);

#endif

/*
 * tensor_impl.h - the AVX-512 products behind frost_gemm and frost_gemm_ws
 * (gemm_avx512.c).
 */
#ifndef FROST_TENSOR_IMPL_H
#define FROST_TENSOR_IMPL_H

#include <stdbool.h>
#include <stdint.h>

/* Widest N of the weight-gradient kernel: 3 vectors in registers. */
#define FROST__NARROW_MAX 48

/* Whether frost__gemm_rows takes C (M, N) = alpha op(A) op(B) + beta C:
 * op(A) = A, M long, N and K at most 512, the CPU runs AVX-512. */
bool frost__gemm_rows_fits(bool trans_a, int64_t M, int64_t N, int64_t K);
/* That product, op(B) = B^T if trans_b; false (C untouched) if its packing
 * buffer could not be had. */
bool frost__gemm_rows(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* Whether frost__gemm_narrow_tn takes an N-wide weight gradient. */
bool frost__gemm_tn_fits(int64_t N);
/* PT (N, M), ld M, = (A^T B)^T for A (K, M) and B (K, N), N <= 48: one
 * chunk of a split weight gradient, transposed, single-threaded. */
void frost__gemm_narrow_tn(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float *PT);

#endif

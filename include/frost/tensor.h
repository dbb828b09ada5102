/*
 * frost/tensor.h - dense and sparse kernels on row-major float32 matrices.
 *
 * Every fast kernel has a plain reference beside it (the _ref functions),
 * used by the tests to check the fast one on random and ragged shapes.
 *
 * Shapes: a matrix is (rows, cols) with a leading dimension ld >= cols; row
 * i starts at data + i * ld.
 *
 *     // Y (N,H) = X (N,F) * W (F,H)
 *     frost_gemm(false, false, N, H, F, 1.0f, X, F, W, H, 0.0f, Y, H);
 *
 *     // graph aggregation: Y = diag(a) A diag(b) X + diag(c) X
 *     frost_aggr op = {.A = &g, .a = dinv_sqrt, .b = dinv_sqrt, .c = dinv};
 *     frost_spmm(&op, X, F, F, Y, F);
 */
#ifndef FROST_TENSOR_H
#define FROST_TENSOR_H

#include "frost/status.h"
#include "frost/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C (M,N) = alpha * op(A) op(B) + beta * C, row-major, op = transpose if
 * the flag is set: op(A) is (M,K), op(B) is (K,N). frost's own AVX-512
 * kernels take tall products (M >= 1024, op(A) = A, 16 <= N <= 512,
 * K <= 512) where the CPU has AVX-512; cblas_sgemm the rest. The same bits
 * on any thread count. */
FROST_API void frost_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                          const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                          int64_t ldc);

/* frost_gemm for a long inner dimension (weight gradients X^T dY over all
 * nodes: K far above M and N). With work (frost_gemm_work_floats(M, N)
 * floats) the K range is cut into fixed chunks whose products run on
 * separate threads and are added in chunk order, which keeps every thread
 * busy on whole (M, N) blocks; the chunks depend on K alone, so the result
 * is the same on any thread count. Shapes that do not profit, or work ==
 * NULL, take frost_gemm. */
FROST_API size_t frost_gemm_work_floats(int64_t M, int64_t N);
FROST_API void frost_gemm_ws(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                             int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work);
/* The same as frost_gemm by triple loop, accumulating in double: the reference. */
FROST_API void frost_gemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                              const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                              float *C, int64_t ldc);

/* A graph aggregation operator  Y = diag(a) A diag(b) X + diag(c) X.
 * A is (n, n) with row i listing the nodes i aggregates from. a, b, c are
 * (n) vectors or NULL (NULL a or b means all ones, NULL c means no self
 * term). AT is the transpose of A (the same pointer when A is symmetric);
 * frost_spmm_t uses it for backward passes. */
typedef struct frost_aggr {
    const frost_csr *A;
    const frost_csr *AT;
    const float *a;
    const float *b;
    const float *c;
} frost_aggr;

/* Y (n,F) = op X (n,F). Parallel over rows; each row is summed by one thread
 * in a fixed order, so results do not depend on the thread count. */
FROST_API void frost_spmm(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy);

/* Y (n,F) += op^T X: the backward pass (diag(b) A^T diag(a) X + diag(c) X). */
FROST_API void frost_spmm_t_acc(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y,
                                int64_t ldy);
/* Y (n,F) = op^T X: the same, overwriting Y. */
FROST_API void frost_spmm_t(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y, int64_t ldy);

/* References: one row at a time, accumulating in double. */
FROST_API void frost_spmm_ref(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y,
                              int64_t ldy);
FROST_API void frost_spmm_t_acc_ref(const frost_aggr *op, const float *X, int64_t ldx, int64_t F, float *Y,
                                    int64_t ldy);

/* Column sums of X (n, F) added into out (F), in a fixed order independent of
 * the thread count (fixed row blocks combined in block order). */
FROST_API void frost_colsum_acc(const float *X, int64_t n, int64_t F, int64_t ldx, float *out);

#ifdef __cplusplus
}
#endif
#endif

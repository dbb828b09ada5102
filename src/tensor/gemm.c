/*
 * gemm.c - dense matrix products: frost's own AVX-512 and AVX2 kernels for the tall
 * node-by-feature shapes (gemm_simd.c), OpenBLAS (cblas_sgemm) for the
 * rest, and the triple-loop reference the tests compare both with.
 */
#include "frost/tensor.h"
#include "core/core_impl.h"
#include "tensor/tensor_impl.h"

#include <cblas.h>
#include <pthread.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS's results change with its thread count (its blocking does), so
 * frost never lets it thread: a product is cut into blocks of rows (or
 * columns) of C whose boundaries depend only on the shape, each block is one
 * single-threaded cblas_sgemm, and OpenMP spreads the blocks over the
 * threads. Every element is then computed by the same call, with the same
 * packing and kernel, on any number of threads: bit-identical results. */
static int64_t block_of(int64_t n)
{
    /* about 8 blocks, multiples of 16, at least 64 and at most 1024 rows:
     * a block of C then stays in the core's cache between OpenBLAS's
     * zeroing of it (beta = 0) and its kernel (`frost bench --what gemm`
     * on the arxiv-sized graph: +4 % at 169k x 386 x 386, +10 % at
     * 169k x 40 x 386) */
    int64_t b = (n + 7) / 8;
    b = (b + 15) / 16 * 16;
    return b < 64 ? 64 : b > 1024 ? 1024 : b;
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single(void) { frost__blas_single_thread(); }

static void gemm1(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                  const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (blasint)M,
                (blasint)N, (blasint)K, alpha, A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}

/* One single-threaded product from outside any parallel region. OpenBLAS's
 * OpenMP build sizes its team from omp_get_max_threads() there, whatever
 * openblas_set_num_threads said, so OpenMP's count is lowered to 1 for the
 * call and restored after. */
static void gemm1_alone(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                        int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
#ifdef _OPENMP
    const int T = omp_get_max_threads();
    if (T > 1) omp_set_num_threads(1);
#endif
    gemm1(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#ifdef _OPENMP
    if (T > 1) omp_set_num_threads(T);
#endif
}

void frost_gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    FROST_ASSERT(M < INT32_MAX && N < INT32_MAX && K < INT32_MAX);
    frost__cost(2.0 * (double)M * (double)N * (double)K, 0.0);
    if (frost__gemm_rows_fits(trans_a, M, N, K) && frost__gemm_rows(trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
        return;
    pthread_once(&blas_once, blas_single);
    const bool by_rows = M >= N;
    const int64_t n = by_rows ? M : N, b = block_of(n), nb = (n + b - 1) / b;
    if (nb <= 1 || (double)M * (double)N * (double)K < 2e6) {
        gemm1_alone(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t q = 0; q < nb; q++) {
        const int64_t i0 = q * b, m = i0 + b < n ? b : n - i0;
        if (by_rows) /* rows i0.. of C need rows i0.. of op(A) */
            gemm1(trans_a, trans_b, m, N, K, alpha, trans_a ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C + i0 * ldc, ldc);
        else /* columns i0.. of C need columns i0.. of op(B) */
            gemm1(trans_a, trans_b, M, m, K, alpha, A, lda, trans_b ? B + i0 * ldb : B + i0, ldb, beta, C + i0, ldc);
    }
}

/* K chunks of a split product, and the least K a chunk gets. */
#define KSPLIT 8
#define KSPLIT_MIN 4096

size_t frost_gemm_work_floats(int64_t M, int64_t N) { return (size_t)KSPLIT * (size_t)M * (size_t)N; }

void frost_gemm_ws(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                   int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work)
{
    const int64_t big = M > N ? M : N;
    if (!work || K < KSPLIT * KSPLIT_MIN || K < 16 * big || M <= 0 || N <= 0) {
        frost_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    FROST_ASSERT(M < INT32_MAX && N < INT32_MAX && K < INT32_MAX);
    /* the products, and the pass that adds the chunks' partials into C */
    frost__cost(2.0 * (double)M * (double)N * (double)K, 4.0 * (double)M * (double)N * (KSPLIT + (beta != 0.0f ? 2 : 1)));
    pthread_once(&blas_once, blas_single);
    const int64_t kb = (K + KSPLIT - 1) / KSPLIT, MN = M * N;
    /* a weight gradient frost's tn kernel takes: a narrow output side (a
     * last layer's), or a wide one where OpenBLAS lacks AVX-512 kernels */
    const bool narrow = trans_a && !trans_b && frost__gemm_tn_fits(N);
    /* chunk s: P_s = op(A)[:, k0:k1] op(B)[k0:k1, :], single-threaded */
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t s = 0; s < KSPLIT; s++) {
        const int64_t k0 = s * kb, k1 = k0 + kb < K ? k0 + kb : K;
        const float *As = trans_a ? A + k0 * lda : A + k0;
        const float *Bs = trans_b ? B + k0 : B + k0 * ldb;
        if (narrow) frost__gemm_narrow_tn(M, N, k1 - k0, As, lda, Bs, ldb, work + s * MN);
        else gemm1(trans_a, trans_b, M, N, k1 - k0, 1.0f, As, lda, Bs, ldb, 0.0f, work + s * MN, N);
    }
    /* C = beta C + alpha (P_0 + ... + P_7), every element summed in chunk
     * order; the narrow kernel's partials are transposed (N, M) */
    const int64_t si = narrow ? 1 : N, sj = narrow ? M : 1;
#pragma omp parallel for schedule(static) if (MN > 16384)
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float acc = 0.0f;
            for (int64_t s = 0; s < KSPLIT; s++) acc += work[s * MN + i * si + j * sj];
            float *c = C + i * ldc + j;
            *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
        }
}

void frost_gemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) {
                double a = (double)(trans_a ? A[k * lda + i] : A[i * lda + k]);
                double b = (double)(trans_b ? B[j * ldb + k] : B[k * ldb + j]);
                s += a * b;
            }
            double c = beta == 0.0f ? 0.0 : (double)beta * (double)C[i * ldc + j];
            C[i * ldc + j] = (float)((double)alpha * s + c);
        }
}

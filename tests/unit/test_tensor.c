/*
 * test_tensor.c - the fast kernels against their references: GEMM (frost's
 * AVX-512 kernels and OpenBLAS vs triple loop) and SpMM (row-parallel vs
 * scalar definition), on random and ragged shapes, and thread-count
 * independence of GEMM, SpMM and column sums.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "frost/layers.h"
#include "frost/tensor.h"
#include "core/core_impl.h"
#include "tensor/tensor_impl.h"
#include "testutil.h"
#ifdef __linux__
#include <unistd.h>
#endif

TestSuite(tensor, .timeout = 120);

static float *rnd(int64_t n, uint64_t seed)
{
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = frost_rng_normal(seed, 11, (uint64_t)i);
    return x;
}

static double max_rel(const float *a, const float *b, int64_t n)
{
    double m = 0, s = 0;
    for (int64_t i = 0; i < n; i++) s = fmax(s, fabs((double)b[i]));
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]) / fmax(s, 1e-30));
    return m;
}

/* C (M, N; row stride ldc) against the reference R, within tol (1 + |R|)
 * sqrt(K) per element: float rounding grows with the inner length K. */
static void assert_gemm_close(const float *C, const float *R, int64_t M, int64_t N, int64_t K, int64_t ldc, int ta,
                              int tb, double tol)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            const double c = (double)C[i * ldc + j], r = (double)R[i * ldc + j];
            cr_assert(fabs(c - r) < tol * (1.0 + fabs(r)) * sqrt((double)K),
                      "M=%lld N=%lld K=%lld ta=%d tb=%d at (%lld,%lld): %g vs %g", (long long)M, (long long)N,
                      (long long)K, ta, tb, (long long)i, (long long)j, c, r);
        }
}

Test(tensor, gemm_matches_reference_on_ragged_shapes)
{
    /* the last two are cut into blocks of at most 1024 rows (columns), the
     * last block ragged */
    const int64_t shapes[][3] = {{1, 1, 1},      {3, 5, 7},   {17, 1, 33},  {64, 64, 64},
                                 {129, 31, 257}, {1, 300, 2}, {9001, 7, 5}, {3, 8500, 4}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                /* leading dimensions larger than the logical width */
                int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                float *A = rnd((ta ? K : M) * lda, 1), *B = rnd((tb ? N : K) * ldb, 2);
                float *C1 = rnd(M * ldc, 3), *C2 = malloc((size_t)(M * ldc) * sizeof(float));
                memcpy(C2, C1, (size_t)(M * ldc) * sizeof(float));
                frost_gemm(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, ldc);
                frost_gemm_ref(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C2, ldc);
                assert_gemm_close(C1, C2, M, N, K, ldc, ta, tb, 1e-4);
                free(A);
                free(B);
                free(C1);
                free(C2);
            }
    }
}

static void random_graph(frost_csr *A, frost_csr *AT, int64_t n, int64_t E, uint64_t seed, bool sym)
{
    int32_t *s = malloc((size_t)(E + 1) * 4), *d = malloc((size_t)(E + 1) * 4);
    frost_rng r;
    frost_rng_init(&r, seed, 5);
    for (int64_t e = 0; e < E; e++) {
        /* skewed: a few hubs get many edges */
        s[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)(e % 4 == 0 ? (n > 3 ? 3 : n) : n));
        d[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)(n > 1 ? n - 1 : 1)); /* node n-1 may stay isolated */
    }
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = sym;
    cr_assert_eq(frost_csr_from_edges(A, n, E, s, d, &o, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(AT, A), FROST_OK);
    free(s);
    free(d);
}

/* Every row kernel this CPU can run, against the reference; widths cover
 * each register-block size of the vector kernels (1..7 vectors of 16, 1..14
 * of 8), masked
 * tails, rows cut into passes of equal and of unequal widths (128, 200,
 * 256, 257, 386, 1500). */
Test(tensor, spmm_matches_reference)
{
    const int64_t sizes[][3] = {{1, 0, 3},      {5, 9, 1},      {40, 300, 7},    {60, 500, 16},      {60, 500, 20},
                                {60, 500, 47},  {60, 500, 80},  {60, 500, 128},  {60, 500, 200},     {60, 500, 256},
                                {60, 500, 257}, {60, 500, 386}, {500, 4000, 33}, {2000, 20000, 1500}};
    const int kernels[] = {FROST__ISA_GENERIC, FROST__ISA_AVX2, FROST__ISA_AVX512};
    const int fastest = frost__isa(-1);
    for (size_t kk = 0; kk < 3; kk++)
        for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
            if (frost__isa(kernels[kk]) != kernels[kk]) continue; /* CPU lacks it */
            int64_t n = sizes[t][0], E = sizes[t][1], F = sizes[t][2];
            for (int sym = 0; sym < 2; sym++) {
                frost_csr A, AT;
                random_graph(&A, &AT, n, E, t, sym);
                float *va = rnd(n, 21), *vb = rnd(n, 22), *vc = rnd(n, 23);
                const int64_t ldx = F + 1, ldy = F + 2;
                float *X = rnd(n * ldx, 24);
                float *Y1 = rnd(n * ldy, 25), *Y2 = malloc((size_t)(n * ldy) * 4);
                for (int variant = 0; variant < 4; variant++) {
                    frost_aggr op = {.A = &A,
                                     .AT = &AT,
                                     .a = variant & 1 ? va : NULL,
                                     .b = variant & 2 ? vb : NULL,
                                     .c = variant == 3 ? vc : NULL};
                    frost_spmm(&op, X, ldx, F, Y1, ldy);
                    frost_spmm_ref(&op, X, ldx, F, Y2, ldy);
                    for (int64_t i = 0; i < n; i++)
                        cr_assert_lt(max_rel(Y1 + i * ldy, Y2 + i * ldy, F), 1e-5,
                                     "forward kernel %d n=%lld F=%lld v=%d", kernels[kk], (long long)n, (long long)F,
                                     variant);
                    /* backward: fast (transpose CSR) against the scatter reference */
                    memcpy(Y2, Y1, (size_t)(n * ldy) * 4);
                    frost_spmm_t_acc(&op, X, ldx, F, Y1, ldy);
                    frost_spmm_t_acc_ref(&op, X, ldx, F, Y2, ldy);
                    for (int64_t i = 0; i < n; i++)
                        cr_assert_lt(max_rel(Y1 + i * ldy, Y2 + i * ldy, F), 1e-5,
                                     "backward kernel %d n=%lld F=%lld v=%d", kernels[kk], (long long)n, (long long)F,
                                     variant);
                    /* the overwriting form: the same sums into a zeroed reference */
                    frost_spmm_t(&op, X, ldx, F, Y1, ldy);
                    memset(Y2, 0, (size_t)(n * ldy) * 4);
                    frost_spmm_t_acc_ref(&op, X, ldx, F, Y2, ldy);
                    for (int64_t i = 0; i < n; i++)
                        cr_assert_lt(max_rel(Y1 + i * ldy, Y2 + i * ldy, F), 1e-5,
                                     "backward (overwrite) kernel %d n=%lld F=%lld v=%d", kernels[kk], (long long)n,
                                     (long long)F, variant);
                }
                free(va);
                free(vb);
                free(vc);
                free(X);
                free(Y1);
                free(Y2);
                frost_csr_release(&A);
                frost_csr_release(&AT);
            }
        }
    frost__isa(fastest);
}

Test(tensor, spmm_and_colsum_identical_for_1_and_2_threads)
{
    frost_csr A, AT;
    random_graph(&A, &AT, 3000, 60000, 9, true);
    const int64_t F = 64;
    float *X = rnd(3000 * F, 1), *Y1 = malloc(3000 * F * 4), *Y2 = malloc(3000 * F * 4);
    float *dinv = malloc(3000 * 4), *dinvs = malloc(3000 * 4);
    frost_aggr op;
    frost_aggr_gcn(&op, &A, &AT, dinvs, dinv);
    float s1[64] = {0}, s2[64] = {0};
    frost_set_threads(1);
    frost_spmm(&op, X, F, F, Y1, F);
    frost_colsum_acc(X, 3000, F, F, s1);
    frost_set_threads(2);
    frost_spmm(&op, X, F, F, Y2, F);
    frost_colsum_acc(X, 3000, F, F, s2);
    cr_assert(memcmp(Y1, Y2, 3000 * F * 4) == 0);
    cr_assert(memcmp(s1, s2, sizeof s1) == 0);
    free(X);
    free(Y1);
    free(Y2);
    free(dinv);
    free(dinvs);
    frost_csr_release(&A);
    frost_csr_release(&AT);
}

Test(tensor, big_arrays_are_aligned_and_zeroed)
{
    /* rows of power-of-two widths stay cache-line aligned in big arrays */
    float *a = frost__malloc((size_t)3 << 20);
    cr_assert_not_null(a);
    cr_assert_eq((uintptr_t)a % ((uintptr_t)2 << 20), 0, "a 3 MiB block starts on a 2 MiB boundary");
    free(a);
    double *z = frost__calloc((size_t)1 << 20, sizeof(double));
    cr_assert_not_null(z);
    for (size_t i = 0; i < ((size_t)1 << 20); i += 4099) cr_assert_eq(z[i], 0.0);
    free(z);
    cr_assert_null(frost__calloc(SIZE_MAX / 2, 4), "a size that overflows is refused");
    char *small = frost__malloc(10);
    cr_assert_not_null(small);
    free(small);
}

#ifdef __linux__
static long resident_pages(void)
{
    long size = 0, res = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2) res = -1;
        fclose(f);
    }
    return res;
}
#endif

Test(tensor, zero_release_zeroes_its_range_only_and_hands_the_pages_back)
{
    /* the halo rows' release (layers/exec.c): an unaligned range inside a
     * big block reads as zero, every byte around it is kept, the block is
     * written again afterwards, and the memory of the range's whole pages
     * leaves the resident set */
    const size_t big = (size_t)64 << 20, lo = 1001, len = ((size_t)48 << 20) + 333;
    unsigned char *a = frost__malloc(big);
    cr_assert_not_null(a);
    memset(a, 0xab, big);
#ifdef __linux__
    const long before = resident_pages();
#endif
    frost__zero_release(a + lo, len);
#ifdef __linux__
    const long after = resident_pages(), page = sysconf(_SC_PAGESIZE);
    cr_assert(before > 0 && after > 0);
    cr_assert_geq((before - after) * page, (long)((size_t)40 << 20), "%ld pages resident before, %ld after", before,
                  after);
#endif
    size_t bad = 0;
    for (size_t i = 0; i < big; i++) bad += a[i] != (i >= lo && i < lo + len ? 0 : 0xab);
    cr_assert_eq(bad, 0, "%zu bytes wrong after the release", bad);
    memset(a + lo, 7, len);
    for (size_t i = lo; i < lo + len; i += 4093) cr_assert_eq(a[i], 7);
    free(a);
    /* a range inside one page of a small block: zeroed all the same */
    unsigned char *s = malloc(64);
    cr_assert_not_null(s);
    memset(s, 1, 64);
    frost__zero_release(s + 3, 50);
    for (int i = 0; i < 64; i++) cr_assert_eq(s[i], i >= 3 && i < 53 ? 0 : 1);
    free(s);
}

Test(tensor, gemm_row_kernel_matches_reference_and_thread_counts)
{
    /* tall products (M >= 1024, N >= 16, N and K <= 512) take frost's own
     * kernels where the CPU has AVX2 or AVX-512 (both paths here): ragged row counts (a last tile of
     * 1 to 7 rows), widths of whole and partial vectors and partial 48-wide
     * bands, K from 1 up, padded leading dimensions, beta 0 over a C of NaN
     * (C must not be read), 1 and 0.3 */
    const int64_t shapes[][3] = {{1031, 40, 386}, {1031, 386, 386}, {2053, 17, 3},  {1024, 48, 129}, {1500, 49, 40},
                                 {1201, 100, 1},  {1100, 16, 512},  {1030, 512, 47}, {1029, 47, 256}};
    const float betas[] = {0.0f, 1.0f, 0.3f};
    const int fastest = frost__isa(-1), paths[] = {FROST__ISA_AVX512, FROST__ISA_AVX2};
    for (int pk = 0; pk < 2; pk++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int tb = 0; tb < 2; tb++) {
            if (frost__isa(paths[pk]) != paths[pk]) break; /* CPU lacks it */
            const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            const int64_t lda = K + 3, ldb = (tb ? K : N) + 1, ldc = N + 5;
            const float beta = betas[(s + (size_t)tb) % 3];
            float *A = rnd(M * lda, 41), *B = rnd((tb ? N : K) * ldb, 42), *C1 = rnd(M * ldc, 43);
            if (beta == 0.0f)
                for (int64_t i = 0; i < M * ldc; i++) C1[i] = NAN;
            float *C2 = malloc((size_t)(M * ldc) * 4), *C3 = malloc((size_t)(M * ldc) * 4);
            memcpy(C2, C1, (size_t)(M * ldc) * 4);
            memcpy(C3, C1, (size_t)(M * ldc) * 4);
            frost_set_threads(1);
            frost_gemm(false, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C1, ldc);
            frost_set_threads(2);
            frost_gemm(false, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C3, ldc);
            frost_gemm_ref(false, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C2, ldc);
            cr_assert(memcmp(C1, C3, (size_t)(M * ldc) * 4) == 0, "M=%lld N=%lld K=%lld tb=%d: 1 and 2 threads differ",
                      (long long)M, (long long)N, (long long)K, tb);
            assert_gemm_close(C1, C2, M, N, K, ldc, 0, tb, 1e-5);
            /* the padding between rows of C is left as it was */
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = N; j < ldc; j++)
                    cr_assert(memcmp(&C1[i * ldc + j], &C2[i * ldc + j], 4) == 0, "padding of row %lld written",
                              (long long)i);
            free(A);
            free(B);
            free(C1);
            free(C2);
            free(C3);
        }
    frost__isa(fastest);
}

Test(tensor, blas_calls_keep_the_thread_count)
{
    /* OpenBLAS's OpenMP build sets OpenMP's thread count in
     * openblas_set_num_threads: frost's regions (which take
     * omp_get_max_threads(), what frost_get_threads reports) must keep their
     * 2 threads after frost_set_threads and after products of either path.
     * Until this test, every region after the first product ran on one. */
    frost_set_threads(2);
    cr_assert_eq(frost_get_threads(), 2);
    const int64_t M = 3000, N = 64, K = 64;
    float *A = rnd(M * K, 3), *B = rnd(K * N, 4), *C = malloc((size_t)(M * N) * 4);
    frost_gemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N); /* blocked over threads */
    cr_assert_eq(frost_get_threads(), 2, "after a blocked product: %d threads", frost_get_threads());
    frost_gemm(false, false, 8, 8, 8, 1.0f, A, K, B, N, 0.0f, C, N); /* one call outside any region */
    cr_assert_eq(frost_get_threads(), 2, "after a small product: %d threads", frost_get_threads());
    free(A);
    free(B);
    free(C);
}

Test(tensor, gemm_split_over_k_matches_reference_and_thread_counts)
{
    /* frost_gemm_ws cuts K into chunks only for K >= 32768 and K >= 16 max(M, N);
     * the last shape is too short and takes frost_gemm */
    const int64_t shapes[][3] = {{24, 17, 40000}, {5, 40, 70001}, {33, 1, 32768}, {40, 40, 20000}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                const int64_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N + 3;
                float *A = rnd((ta ? K : M) * lda, 5), *B = rnd((tb ? N : K) * ldb, 6);
                float *C1 = rnd(M * ldc, 7), *C2 = malloc((size_t)(M * ldc) * 4), *C3 = malloc((size_t)(M * ldc) * 4);
                float *work = malloc(frost_gemm_work_floats(M, N) * sizeof(float));
                memcpy(C2, C1, (size_t)(M * ldc) * 4);
                memcpy(C3, C1, (size_t)(M * ldc) * 4);
                frost_set_threads(1);
                frost_gemm_ws(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, ldc, work);
                frost_set_threads(2);
                frost_gemm_ws(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C3, ldc, work);
                frost_gemm_ref(ta, tb, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C2, ldc);
                cr_assert(memcmp(C1, C3, (size_t)(M * ldc) * 4) == 0, "M=%lld N=%lld K=%lld: 1 and 2 threads differ",
                          (long long)M, (long long)N, (long long)K);
                assert_gemm_close(C1, C2, M, N, K, ldc, ta, tb, 1e-5);
                free(A);
                free(B);
                free(C1);
                free(C2);
                free(C3);
                free(work);
            }
}

Test(tensor, gemm_identical_for_1_and_2_threads)
{
    /* OpenBLAS alone gives other bits on 2 threads for all of these */
    const int64_t shapes[][3] = {{48, 96, 4000}, {4000, 96, 48},   {4000, 48, 96},
                                 {96, 5, 4000},  {3000, 256, 128}, {10000, 24, 16}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        for (int ta = 0; ta < 2; ta++) {
            float *A = rnd(M * K, 31), *B = rnd(K * N, 32), *C1 = malloc((size_t)(M * N) * 4),
                  *C2 = malloc((size_t)(M * N) * 4);
            frost_set_threads(1);
            frost_gemm(ta, false, M, N, K, 1.0f, A, ta ? M : K, B, N, 0.0f, C1, N);
            frost_set_threads(2);
            frost_gemm(ta, false, M, N, K, 1.0f, A, ta ? M : K, B, N, 0.0f, C2, N);
            cr_assert(memcmp(C1, C2, (size_t)(M * N) * 4) == 0, "M=%lld N=%lld K=%lld ta=%d differ", (long long)M,
                      (long long)N, (long long)K, ta);
            free(A);
            free(B);
            free(C1);
            free(C2);
        }
    }
}

/* The weight-gradient kernel on wide outputs (frost_gemm_ws takes it for
 * N > 48 on the AVX-512 path where OpenBLAS lacks its AVX-512 kernels):
 * each width's copy against the reference, ragged M and N (masked last
 * vector, single-row tiles) and a K that is not a multiple of its 64-k
 * ranges; both copies give the same bits. The rule that picks it: never
 * for N > 512, never on the AVX2 path, and on the AVX-512 path exactly when
 * OpenBLAS's core has no AVX-512 kernels. */
Test(tensor, wide_weight_gradient_kernel_matches_reference_on_both_widths)
{
    const int fastest = frost__isa(-1);
    if (fastest < FROST__ISA_AVX2) {
        cr_log_info("this CPU has no AVX2: the kernel does not run here");
        return;
    }
    const int64_t shapes[][3] = {{203, 129, 1000}, {386, 386, 4133}, {17, 49, 70}};
    for (size_t q = 0; q < sizeof shapes / sizeof shapes[0]; q++) {
        const int64_t M = shapes[q][0], N = shapes[q][1], K = shapes[q][2], lda = M + 1, ldb = N + 3;
        float *A = rnd(K * lda, 81), *B = rnd(K * ldb, 82), *R = malloc((size_t)(M * N) * 4);
        float *PT[2], *C = malloc((size_t)(M * N) * 4);
        frost_gemm_ref(true, false, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, R, N);
        for (int w = 0; w < 2; w++) {
            const int isa = w ? FROST__ISA_AVX2 : FROST__ISA_AVX512;
            PT[w] = rnd(N * M, 83); /* overwritten: the first k range writes */
            if (frost__isa(isa) != isa) {
                if (w) memcpy(PT[w], PT[0], (size_t)(N * M) * 4);
                continue;
            }
            frost__gemm_narrow_tn(M, N, K, A, lda, B, ldb, PT[w]);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) C[i * N + j] = PT[w][j * M + i];
            assert_gemm_close(C, R, M, N, K, N, 1, 0, 1e-5);
        }
        if (frost__isa(FROST__ISA_AVX512) == FROST__ISA_AVX512)
            cr_assert(memcmp(PT[0], PT[1], (size_t)(N * M) * 4) == 0, "M=%lld N=%lld: AVX2 and AVX-512 differ",
                      (long long)M, (long long)N);
        free(A), free(B), free(R), free(C), free(PT[0]), free(PT[1]);
    }
    frost__isa(FROST__ISA_AVX2);
    cr_assert(frost__gemm_tn_fits(48) && !frost__gemm_tn_fits(49) && !frost__gemm_tn_fits(386), "AVX2 path");
    if (frost__isa(FROST__ISA_AVX512) == FROST__ISA_AVX512) {
        cr_assert(frost__gemm_tn_fits(48) && !frost__gemm_tn_fits(513));
        cr_assert_eq(frost__gemm_tn_fits(386), !frost__blas_avx512(), "OpenBLAS core %s", frost_blas_core());
    }
    frost__isa(fastest);
}

/* The AVX2 and AVX-512 paths perform each element's operations in the same
 * order: the tall products (row-major and in panels), the split weight
 * gradient's narrow kernel and the SpMM give identical bits. Runs where the
 * CPU has AVX-512 (it can then run both); elsewhere it says so and passes. */
Test(tensor, avx2_and_avx512_paths_identical)
{
    const int fastest = frost__isa(-1);
    if (frost__isa(FROST__ISA_AVX512) != FROST__ISA_AVX512) {
        cr_log_info("this CPU has no AVX-512: one vector path only, nothing to compare");
        return;
    }
    float *out[2][5];
    size_t len[5];
    /* N = 203: the row kernel's masked last vector on both widths */
    const int64_t M = 2053, N = 203, K = 77, Nt = 40, Kt = 40000, n = 3000, F = 257;
    float *A = rnd(M * K, 51), *B = rnd(K * N, 52), *At = rnd(Kt * M, 53), *Bt = rnd(Kt * Nt, 54);
    frost_csr G, GT;
    random_graph(&G, &GT, n, 40000, 55, false);
    float *va = rnd(n, 56), *vb = rnd(n, 57), *vc = rnd(n, 58), *X = rnd(n * F, 59);
    frost_aggr op = {.A = &G, .AT = &GT, .a = va, .b = vb, .c = vc};
    float *work = malloc(frost_gemm_work_floats(M, Nt) * sizeof(float));
    len[0] = (size_t)(M * N), len[1] = (size_t)(M * N), len[2] = (size_t)(M * Nt), len[3] = (size_t)(n * F);
    len[4] = (size_t)(n * F);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(frost__isa(k ? FROST__ISA_AVX2 : FROST__ISA_AVX512), k ? FROST__ISA_AVX2 : FROST__ISA_AVX512);
        for (int q = 0; q < 5; q++) out[k][q] = rnd((int64_t)len[q], 60 + (uint64_t)q);
        frost_gemm(false, false, M, N, K, 0.7f, A, K, B, N, 0.3f, out[k][0], N);
        frost_gemm(false, false, M, N, K, 1.0f, A, K, B, N, 1.0f, out[k][0], N); /* beta 1: C read and added */
        cr_assert(frost__gemm_panels(M, N, K, A, K, B, N, out[k][1]), "the %d-wide product takes the panels", (int)N);
        frost_gemm_ws(true, false, M, Nt, Kt, 1.0f, At, M, Bt, Nt, 0.0f, out[k][2], Nt, work);
        frost_spmm(&op, X, F, F, out[k][3], F);
        frost_spmm_t_acc(&op, X, F, F, out[k][4], F);
    }
    const char *what[] = {"tall product", "tall product in panels", "split weight gradient", "spmm", "spmm_t_acc"};
    for (int q = 0; q < 5; q++) {
        cr_assert(memcmp(out[0][q], out[1][q], len[q] * 4) == 0, "%s: AVX2 and AVX-512 differ", what[q]);
        free(out[0][q]);
        free(out[1][q]);
    }
    frost__isa(fastest);
    free(A), free(B), free(At), free(Bt), free(va), free(vb), free(vc), free(X), free(work);
    frost_csr_release(&G);
    frost_csr_release(&GT);
}

/* The work counters behind frost bench's roofline floor: a product counts
 * 2 M N K flops once (whichever kernel runs it), an SpMM its compulsory
 * bytes, a column sum its reads; nothing is counted when switched off. */
Test(tensor, work_counters_count_what_the_floor_assumes)
{
    const int64_t M = 1500, N = 40, K = 70, n = 300, F = 33;
    float *A = rnd(M * K, 71), *B = rnd(K * N, 72), *C = rnd(M * N, 73), *X = rnd(n * F, 74), *Y = rnd(n * F, 75);
    frost_csr G, GT;
    random_graph(&G, &GT, n, 2000, 76, false);
    float *vb = rnd(n, 77);
    frost_aggr op = {.A = &G, .AT = &GT, .b = vb};
    double fl, by;
    frost__cost_switch(true);
    frost_gemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    frost__cost_read(&fl, &by);
    cr_assert_eq(fl, 2.0 * M * N * K, "gemm flops %g", fl);
    cr_assert_eq(by, 0.0);
    frost__cost_switch(true);
    frost_spmm(&op, X, F, F, Y, F);
    frost__cost_read(&fl, &by);
    const double spmm = 4.0 * F * (double)(n + n) + 8.0 * (double)(n + 1) + 4.0 * (double)G.nnz + 4.0 * (double)n;
    cr_assert_eq(fl, 0.0);
    cr_assert_eq(by, spmm, "spmm bytes %g, expected %g", by, spmm);
    frost__cost_switch(true);
    frost_spmm_t_acc(&op, X, F, F, Y, F); /* accumulating: Y read too */
    frost__cost_read(&fl, &by);
    cr_assert_eq(by, spmm + 4.0 * F * n, "spmm_t_acc bytes %g", by);
    frost__cost_switch(true);
    float out[33] = {0};
    frost_colsum_acc(X, n, F, F, out);
    frost__cost_read(&fl, &by);
    cr_assert_eq(by, 4.0 * n * F);
    frost__cost_switch(false);
    frost_gemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    frost__cost_read(&fl, &by);
    cr_assert_eq(fl, 0.0, "counted while off");
    free(A), free(B), free(C), free(X), free(Y), free(vb);
    frost_csr_release(&G);
    frost_csr_release(&GT);
}

/*
 * gemm_simd.c - hand-written products for tall matrices: the
 * node-by-feature products of every layer (C with one row per node, K and N
 * at most 512), in AVX-512 and in AVX2 + FMA (the tiles are written once,
 * in gemm_kern.h). OpenBLAS packs and blocks for square-ish shapes; here
 * 8 rows of C by 48 columns (AVX2: 4 rows by 24) stay in registers while
 * their rows of A stream, and op(B), packed once per call, is read from L2.
 * On the project's 2-core AVX-512 machine (2 threads, `frost bench --what
 * gemm`, 169k rows, which times OpenBLAS alone on the same shapes in the
 * same run) the AVX-512 path runs N x 386 x 386 at 470-495 against
 * OpenBLAS's 430-445 GFLOP/s, N x 256 x 256 at 505 against 420, and the
 * 40-wide last layers at 385-415 against 220.
 *
 * Both widths compute every element of C with the same operations in the
 * same order, so a product gives the same bits on an AVX2 and on an AVX-512
 * machine (and under FROST_ISA=avx2 on the latter); which products come
 * here does not depend on the width either, but for the wide weight
 * gradients below (tn) where OpenBLAS lacks its AVX-512 kernels.
 *
 * Shape legend as frost_gemm: C (M, N) = alpha op(A) op(B) + beta C.
 *   rows (nn, nt):  A (M, K); op(B) (K, N) packed to Bp (K, N rounded up
 *        to 16), zero-padded. C in tasks of 1024 rows, each cut into
 *        256-row blocks whose A rows stay in L2 while the 48-column bands
 *        of C pass over them. Each element is one sum over k = 0 .. K-1 in
 *        order. C row-major, or in the column panels of tensor_impl.h.
 *   tn:  one K chunk of a weight gradient, A (K, M), B (K, N), made
 *        transposed (N, M): 8 columns of B by 48 of A (AVX2: 4 by 24) at a
 *        time over 64 k, those partial sums added in k order (frost_gemm_ws
 *        adds the chunks). It takes every N <= 48; wider ones (up to 512)
 *        only on the AVX-512 path where OpenBLAS runs without its AVX-512
 *        kernels (frost__blas_avx512: on an AMD EPYC with AVX-512, Debian's
 *        OpenBLAS 0.3.21 picks its Haswell kernels). With them OpenBLAS ran
 *        the 386 x 386 one at 420 against 347-394 GFLOP/s for this kernel;
 *        with its Haswell kernels, on that EPYC, 184 against 246-283
 *        (256 x 256 and 386 x 386 x 169k), while this kernel's AVX2 copy ran
 *        140-146 there: so the AVX2 path leaves them to OpenBLAS. Where
 *        this kernel takes them, the two paths' weight gradients wider than
 *        48 differ in their last bits (blas_core names the path: Haswell+avx512
 *        against Haswell+avx2); everything else still agrees.
 * Every element's arithmetic depends on the shape alone, not on the row
 * blocks the threads take: the same bits on any thread count. The tensor
 * tests compare all of them with frost_gemm_ref on ragged shapes and across
 * thread counts.
 */
#include "core/core_impl.h"
#include "tensor/tensor_impl.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/simd_impl.h"
#define GEMM_HAVE_SIMD 1
#endif

/* The widest K and N the row kernel takes, and its packed B's most floats
 * (768 KiB, most of a 1 MiB L2, which also sees the A rows streaming
 * through; a 512 x 512 B (1 MiB) would not fit, and OpenBLAS matched this
 * kernel there). */
#define TALL_MAX 512
#define TALL_PACK (192 * 1024)
/* Below this many rows of C, or a C narrower than 16 (one vector with
 * lanes to spare; in a throwaway harness 7 columns ran at 80 against
 * OpenBLAS's 108 GFLOP/s), OpenBLAS is left the product. */
#define TALL_MIN_ROWS 1024
#define TALL_MIN_COLS 16
/* Rows of C per task (a multiple of 8) and per block of A kept in L2. */
#define TALL_TASK 1024
#define TALL_BLOCK 256
/* k per partial sum of the tn kernel: that many rows of a 48-column band
 * of A (12 KiB) and of B (10 KiB at N = 40) stay in L1 while the band's
 * blocks of 8 columns of B pass over them. */
#define TN_K 64

static int panels_on = 1;

int frost__panels_use(int want)
{
    if (want >= 0) panels_on = want != 0;
    return panels_on;
}

bool frost__gemm_rows_fits(bool trans_a, int64_t M, int64_t N, int64_t K)
{
#ifdef GEMM_HAVE_SIMD
    return frost__isa(-1) >= FROST__ISA_AVX2 && !trans_a && M >= TALL_MIN_ROWS && N >= TALL_MIN_COLS &&
           N <= TALL_MAX && K > 0 && K <= TALL_MAX && K * ((N + 15) / 16 * 16) <= TALL_PACK;
#else
    (void)trans_a, (void)M, (void)N, (void)K;
    return false;
#endif
}

bool frost__gemm_tn_fits(int64_t N)
{
#ifdef GEMM_HAVE_SIMD
    const int isa = frost__isa(-1);
    return isa >= FROST__ISA_AVX2 && N > 0 &&
           (N <= FROST__NARROW_MAX || (isa == FROST__ISA_AVX512 && N <= TALL_MAX && !frost__blas_avx512()));
#else
    (void)N;
    return false;
#endif
}

#ifdef GEMM_HAVE_SIMD

/* The packed B: one buffer per thread, grown to the largest product the
 * thread has made and kept (no allocation per call once it is that size);
 * freed when the thread ends. */
static pthread_key_t pack_key;
static pthread_once_t pack_once = PTHREAD_ONCE_INIT;
static _Thread_local float *pack;
static _Thread_local size_t pack_floats;

static void pack_key_make(void) { (void)pthread_key_create(&pack_key, free); }

static float *pack_get(size_t floats)
{
    if (floats <= pack_floats) return pack;
    pthread_once(&pack_once, pack_key_make);
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) return NULL;
    free(pack);
    pack = p, pack_floats = bytes / sizeof(float);
    (void)pthread_setspecific(pack_key, pack);
    return pack;
}

/* Where rows_tile puts its sums: C row-major (ld ldc), or in column panels
 * (frost__panels): column j of panel p at C + M 64 p, rows ld its width. */
typedef struct {
    float *C;
    int64_t ldc, M, N;
    bool panels;
} rows_out;

/* Rows of C per register tile: 8 rows x 3 vectors of sums in AVX-512's 32
 * registers, 4 x 3 in AVX2's 16 (12 sums, 3 rows of B, one broadcast). */
#define FROST_SIMD_W 16
#include "core/simd_width.h"
#define TR 8
#include "tensor/gemm_kern.h"
#undef TR
#define FROST_SIMD_W 8
#include "core/simd_width.h"
#define TR 4
#include "tensor/gemm_kern.h"
#undef TR

static bool rows_product(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                         const float *B, int64_t ldb, float beta, const rows_out *o)
{
    /* packed to a multiple of 16 columns on both paths: which products this
     * kernel takes (frost__gemm_rows_fits) must not depend on the width */
    const int64_t ldp = (N + 15) / 16 * 16;
    FROST_ASSERT(K * ldp <= TALL_PACK);
    float *Bp = pack_get((size_t)(K * ldp));
    if (!Bp) return false;
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < ldp; j++) Bp[k * ldp + j] = j >= N ? 0.0f : trans_b ? B[j * ldb + k] : B[k * ldb + j];
    const bool wide = frost__isa(-1) == FROST__ISA_AVX512;
    const int64_t nt = (M + TALL_TASK - 1) / TALL_TASK;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t q = 0; q < nt; q++) {
        const int64_t i0 = q * TALL_TASK, i1 = i0 + TALL_TASK < M ? i0 + TALL_TASK : M;
        for (int64_t j0 = i0; j0 < i1; j0 += TALL_BLOCK) {
            const int64_t j1 = j0 + TALL_BLOCK < i1 ? j0 + TALL_BLOCK : i1;
            if (wide) rows_block_avx512(A, lda, Bp, ldp, K, o, j0, j1, alpha, beta);
            else rows_block_avx2(A, lda, Bp, ldp, K, o, j0, j1, alpha, beta);
        }
    }
    return true;
}

bool frost__gemm_rows(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    const rows_out o = {C, ldc, M, N, false};
    return rows_product(trans_b, M, N, K, alpha, A, lda, B, ldb, beta, &o);
}

bool frost__gemm_panels(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                        float *C)
{
    if (!panels_on || frost__panels(N) < 2 || !frost__gemm_rows_fits(false, M, N, K)) return false;
    const rows_out o = {C, 0, M, N, true};
    if (!rows_product(false, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, &o)) return false;
    frost__cost(2.0 * (double)M * (double)N * (double)K, 0.0);
    return true;
}

void frost__gemm_narrow_tn(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float *PT)
{
    const int isa = frost__isa(-1);
    FROST_ASSERT(isa >= FROST__ISA_AVX2); /* callers check frost__gemm_tn_fits */
    if (isa == FROST__ISA_AVX512) narrow_tn_avx512(M, N, K, A, lda, B, ldb, PT);
    else narrow_tn_avx2(M, N, K, A, lda, B, ldb, PT);
}

#else
bool frost__gemm_panels(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                        float *C)
{
    (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)C;
    return false;
}
bool frost__gemm_rows(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    (void)trans_b, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb, (void)beta;
    (void)C, (void)ldc;
    return false;
}
void frost__gemm_narrow_tn(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float *PT)
{
    (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)PT;
    FROST_ASSERT(!"frost__gemm_narrow_tn without AVX2 or AVX-512");
}
#endif

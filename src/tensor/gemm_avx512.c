/*
 * gemm_avx512.c - AVX-512 products for tall matrices: the node-by-feature
 * products of every layer (C with one row per node, K and N at most 512).
 * OpenBLAS packs and blocks for square-ish shapes; here 8 rows of C by 48
 * columns stay in 24 registers while their rows of A stream, and op(B),
 * packed once per call, is read from L2. On the project's 2-core AVX-512
 * machine (2 threads, `frost bench --what gemm`, 169k rows, which times
 * OpenBLAS alone on the same shapes in the same run) this runs N x 386 x
 * 386 at 470-495 against OpenBLAS's 430-445 GFLOP/s, N x 256 x 256 at
 * 505 against 420, and the 40-wide last layers at 385-415 against 220.
 *
 * Shape legend as frost_gemm: C (M, N) = alpha op(A) op(B) + beta C.
 *   rows (nn, nt):  A (M, K); op(B) (K, N) packed to Bp (K, N rounded up
 *        to 16), zero-padded. C in tasks of 1024 rows, each cut into
 *        256-row blocks whose A rows stay in L2 while the 48-column bands
 *        of C pass over them. Each element is one sum over k = 0 .. K-1 in
 *        order. C row-major, or in the column panels of tensor_impl.h.
 *   tn:  one K chunk of a weight gradient with N <= 48, A (K, M), B (K, N),
 *        made transposed (N, M): 8 columns of B by 48 of A at a time over
 *        64 k, those partial sums added in k order (frost_gemm_ws adds the
 *        chunks). Wider weight gradients stay with OpenBLAS, which ran the
 *        386 x 386 one at 420 against 347-394 GFLOP/s for this kernel and
 *        for packed variants of the row tile.
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
#include "core/avx512_impl.h"
#define GEMM_HAVE_AVX512 1
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
#ifdef GEMM_HAVE_AVX512
    return frost__isa(-1) == FROST__ISA_AVX512 && !trans_a && M >= TALL_MIN_ROWS && N >= TALL_MIN_COLS &&
           N <= TALL_MAX && K > 0 && K <= TALL_MAX && K * ((N + 15) / 16 * 16) <= TALL_PACK;
#else
    (void)trans_a, (void)M, (void)N, (void)K;
    return false;
#endif
}

bool frost__gemm_tn_fits(int64_t N)
{
#ifdef GEMM_HAVE_AVX512
    return frost__isa(-1) == FROST__ISA_AVX512 && N > 0 && N <= FROST__NARROW_MAX;
#else
    (void)N;
    return false;
#endif
}

#ifdef GEMM_HAVE_AVX512

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

#define KERNEL_INLINE static inline __attribute__((always_inline, target("avx512f")))

static __mmask16 tail_mask(int64_t w)
{
    return (w % 16) ? (__mmask16)((1u << (w % 16)) - 1u) : (__mmask16)0xFFFF;
}

/* c = beta c + alpha s over the lanes of m */
KERNEL_INLINE void put(float *c, __mmask16 m, __m512 s, float alpha, float beta)
{
    __m512 t = _mm512_mul_ps(_mm512_set1_ps(alpha), s);
    if (beta == 1.0f) t = _mm512_add_ps(frost__load16(m, c), t);
    else if (beta != 0.0f) t = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(beta), frost__load16(m, c)), t);
    frost__store16(m, c, t);
}

/* Where rows_tile puts its sums: C row-major (ld ldc), or in column panels
 * (frost__panels): column j of panel p at C + M 64 p, rows ld its width. */
typedef struct {
    float *C;
    int64_t ldc, M, N;
    bool panels;
} rows_out;

/* One k of a tile: s[r][v] += x[r xs] y[v] for R broadcasts and NV
 * vectors (constants at every call site, so s stays in registers). */
KERNEL_INLINE void tile_fma(__m512 s[8][3], const float *x, int64_t xs, const __m512 *y, const int R, const int NV)
{
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        const __m512 xr = _mm512_set1_ps(x[r * xs]);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) s[r][v] = _mm512_fmadd_ps(xr, y[v], s[r][v]);
    }
}

/* A tile's sums to cv[v] + (i + r) ldv[v] (the last vector masked). */
KERNEL_INLINE void tile_put(__m512 s[8][3], float *const *cv, const int64_t *ldv, int64_t i, const int R, const int NV,
                            __mmask16 last, float alpha, float beta)
{
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            put(cv[v] + (i + r) * ldv[v], v == NV - 1 ? last : (__mmask16)0xFFFF, s[r][v], alpha, beta);
}

/* R rows of C from row i, NV vectors of columns from column c0 (the last
 * masked by last): C[i.., c0..] = sum_k A[i.., k] Bp[k, c0..], vector v
 * put at cv[v] + row ldv[v]. R and NV are constants at every call site, so
 * the sums live in registers. */
KERNEL_INLINE void rows_tile(const float *A, int64_t lda, const float *Bp, int64_t ldp, int64_t K, float *const *cv,
                             const int64_t *ldv, int64_t i, int64_t c0, const int R, const int NV, __mmask16 last,
                             float alpha, float beta)
{
    __m512 s[8][3];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) s[r][v] = _mm512_setzero_ps();
    const float *a = A + i * lda;
    const float *b = Bp + c0;
    for (int64_t k = 0; k < K; k++, b += ldp) {
        __m512 bv[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);
        tile_fma(s, a + k, lda, bv, R, NV);
    }
    tile_put(s, cv, ldv, i, R, NV, last, alpha, beta);
}

/* Rows [i0, i1) of C, columns [c0, c0 + w) with w <= 48. */
static __attribute__((target("avx512f"))) void rows_band(const float *A, int64_t lda, const float *Bp, int64_t ldp,
                                                         int64_t K, const rows_out *o, int64_t i0, int64_t i1,
                                                         int64_t c0, int64_t w, float alpha, float beta)
{
    const int nv = (int)((w + 15) / 16);
    const __mmask16 last = tail_mask(w);
    float *cv[3];
    int64_t ldv[3];
    for (int v = 0; v < nv; v++) {
        const int64_t j = c0 + 16 * v;
        cv[v] = o->panels ? frost__panel_at(o->C, o->M, o->N, 0, j) : o->C + j;
        ldv[v] = o->panels ? frost__panel_width(o->N, frost__panel_of(o->N, j)) : o->ldc;
    }
    for (int64_t i = i0; i < i1;) {
        const int r = i1 - i >= 8 ? 8 : 1;
#define ROWS_CASE(R)                                                                                                   \
    if (nv == 3) rows_tile(A, lda, Bp, ldp, K, cv, ldv, i, c0, R, 3, last, alpha, beta);                               \
    else if (nv == 2) rows_tile(A, lda, Bp, ldp, K, cv, ldv, i, c0, R, 2, last, alpha, beta);                          \
    else rows_tile(A, lda, Bp, ldp, K, cv, ldv, i, c0, R, 1, last, alpha, beta);
        if (r == 8) {
            ROWS_CASE(8)
        } else {
            ROWS_CASE(1)
        }
#undef ROWS_CASE
        i += r;
    }
}

static bool rows_product(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                         const float *B, int64_t ldb, float beta, const rows_out *o)
{
    const int64_t ldp = (N + 15) / 16 * 16;
    FROST_ASSERT(K * ldp <= TALL_PACK);
    float *Bp = pack_get((size_t)(K * ldp));
    if (!Bp) return false;
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < ldp; j++) Bp[k * ldp + j] = j >= N ? 0.0f : trans_b ? B[j * ldb + k] : B[k * ldb + j];
    const int64_t nt = (M + TALL_TASK - 1) / TALL_TASK;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t q = 0; q < nt; q++) {
        const int64_t i0 = q * TALL_TASK, i1 = i0 + TALL_TASK < M ? i0 + TALL_TASK : M;
        for (int64_t j0 = i0; j0 < i1; j0 += TALL_BLOCK)
            for (int64_t c0 = 0; c0 < N; c0 += FROST__NARROW_MAX)
                rows_band(A, lda, Bp, ldp, K, o, j0, j0 + TALL_BLOCK < i1 ? j0 + TALL_BLOCK : i1, c0,
                          N - c0 < FROST__NARROW_MAX ? N - c0 : FROST__NARROW_MAX, alpha, beta);
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
    return rows_product(false, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, &o);
}

/* PT (N, M), the transposed partial, rows h.. (R of them) by columns m..
 * (NV vectors, the last masked by last if MASKED) += B[k0:k1, h..]^T
 * A[k0:k1, m..]: contiguous loads of A's rows, broadcasts from B's. R, NV
 * and MASKED are constants at every call site (a mask chosen inside the
 * loop cost a spilled register). */
KERNEL_INLINE void tn_tile(const float *A, int64_t lda, const float *B, int64_t ldb, int64_t k0, int64_t k1,
                           float *PT, int64_t M, int64_t m, int64_t h, const int R, const int NV, const bool MASKED,
                           __mmask16 last, bool first, uintptr_t pf)
{
    __m512 s[8][3];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) s[r][v] = _mm512_setzero_ps();
    for (int64_t k = k0; k < k1; k++) {
        const float *a = A + k * lda + m, *b = B + k * ldb + h;
        if (pf) /* this band's rows of the next k range */
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) _mm_prefetch((const char *)(pf + (uintptr_t)((k - k0) * lda + 16 * v) * sizeof(float)), _MM_HINT_T0);
        __m512 av[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            av[v] = v == NV - 1 && MASKED ? _mm512_maskz_loadu_ps(last, a + 16 * v) : _mm512_loadu_ps(a + 16 * v);
        tile_fma(s, b, 1, av, R, NV);
    }
    float *const cv[3] = {PT + m, PT + m + 16, PT + m + 32};
    const int64_t ldv[3] = {M, M, M};
    tile_put(s, cv, ldv, h, R, NV, last, 1.0f, first ? 0.0f : 1.0f);
}

/* Columns [m, m + w) of PT, w <= 48, over k0 .. k1. */
static __attribute__((target("avx512f"))) void tn_band(const float *A, int64_t lda, const float *B, int64_t ldb,
                                                       int64_t k0, int64_t k1, float *PT, int64_t M, int64_t N,
                                                       int64_t m, int64_t w, bool first, int64_t K)
{
    /* the band's next k range of A, prefetched over its first block (an
     * address made as an integer: it may lie past A's end) */
    const uintptr_t pf = k1 < K ? (uintptr_t)A + (uintptr_t)(k1 * lda + m) * sizeof(float) : 0;
    const int nv = (int)((w + 15) / 16);
    const __mmask16 last = tail_mask(w);
    const bool mk = w % 16 != 0;
    for (int64_t h = 0; h < N;) {
        const int r = N - h >= 8 ? 8 : 1;
#define TN_CASE(R, NV, MK)                                                                                             \
    tn_tile(A, lda, B, ldb, k0, k1, PT, M, m, h, R, NV, MK, last, first, h == 0 ? pf : 0)
#define TN_CASES(R)                                                                                                   \
    if (nv == 3) mk ? TN_CASE(R, 3, true) : TN_CASE(R, 3, false);                                                   \
    else if (nv == 2) mk ? TN_CASE(R, 2, true) : TN_CASE(R, 2, false);                                              \
    else mk ? TN_CASE(R, 1, true) : TN_CASE(R, 1, false);
        if (r == 8) {
            TN_CASES(8)
        } else {
            TN_CASES(1)
        }
#undef TN_CASES
#undef TN_CASE
        h += r;
    }
}

void frost__gemm_narrow_tn(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                           float *PT)
{
    for (int64_t k0 = 0; k0 < K; k0 += TN_K) {
        const int64_t k1 = K - k0 < TN_K ? K : k0 + TN_K;
        for (int64_t m = 0; m < M; m += FROST__NARROW_MAX)
            tn_band(A, lda, B, ldb, k0, k1, PT, M, N, m, M - m < FROST__NARROW_MAX ? M - m : FROST__NARROW_MAX,
                    k0 == 0, K);
    }
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
    FROST_ASSERT(!"frost__gemm_narrow_tn without AVX-512");
}
#endif

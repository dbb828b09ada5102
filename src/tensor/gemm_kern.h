/*
 * gemm_kern.h - the register tiles of gemm_simd.c, written once for both
 * vector widths. Included once per width, after core/simd_width.h (V, VF,
 * VM, VW, KN, KT) and with
 *   TR       rows of C per register tile (8 with 32 registers, 4 with 16)
 * A tile holds TR rows by up to 3 vectors of sums. Every element of C is
 * one fused multiply-add chain over k in order, whatever the width or the
 * tile shape: both widths give the same bits.
 */
#define KERNEL_INLINE static inline __attribute__((always_inline, target(KT)))

/* c = beta c + alpha s over the lanes of m */
KERNEL_INLINE void KN(put)(float *c, VM m, VF s, float alpha, float beta)
{
    VF t = V(mul)(V(set1)(alpha), s);
    if (beta == 1.0f) t = V(add)(V(loadm)(m, c), t);
    else if (beta != 0.0f) t = V(add)(V(mul)(V(set1)(beta), V(loadm)(m, c)), t);
    V(storem)(m, c, t);
}

/* One k of a tile: s[r][v] += x[r xs] y[v] for R broadcasts and NV
 * vectors (constants at every call site, so s stays in registers). */
KERNEL_INLINE void KN(tile_fma)(VF s[TR][3], const float *x, int64_t xs, const VF *y, const int R, const int NV)
{
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        const VF xr = V(set1)(x[r * xs]);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) s[r][v] = V(fma)(xr, y[v], s[r][v]);
    }
}

/* A tile's sums to cv[v] + (i + r) ldv[v] (the last vector masked). */
KERNEL_INLINE void KN(tile_put)(VF s[TR][3], float *const *cv, const int64_t *ldv, int64_t i, const int R,
                                const int NV, VM last, float alpha, float beta)
{
    const VM all = V(lanes)(VW);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) KN(put)(cv[v] + (i + r) * ldv[v], v == NV - 1 ? last : all, s[r][v], alpha, beta);
}

/* R rows of C from row i, NV vectors of columns from column c0 (the last
 * masked by last): C[i.., c0..] = sum_k A[i.., k] Bp[k, c0..], vector v
 * put at cv[v] + row ldv[v]. */
KERNEL_INLINE void KN(rows_tile)(const float *A, int64_t lda, const float *Bp, int64_t ldp, int64_t K,
                                 float *const *cv, const int64_t *ldv, int64_t i, int64_t c0, const int R,
                                 const int NV, VM last, float alpha, float beta)
{
    VF s[TR][3];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) s[r][v] = V(zero)();
    const float *a = A + i * lda;
    const float *b = Bp + c0;
    for (int64_t k = 0; k < K; k++, b += ldp) {
        VF bv[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) bv[v] = V(load)(b + VW * v);
        KN(tile_fma)(s, a + k, lda, bv, R, NV);
    }
    KN(tile_put)(s, cv, ldv, i, R, NV, last, alpha, beta);
}

/* Rows [i0, i1) of C, columns [c0, c0 + w) with w <= 3 VW. */
static __attribute__((target(KT))) void KN(rows_band)(const float *A, int64_t lda, const float *Bp, int64_t ldp,
                                                      int64_t K, const rows_out *o, int64_t i0, int64_t i1,
                                                      int64_t c0, int64_t w, float alpha, float beta)
{
    const int nv = (int)((w + VW - 1) / VW);
    const VM last = V(lanes)(w - VW * (nv - 1));
    float *cv[3];
    int64_t ldv[3];
    for (int v = 0; v < nv; v++) {
        const int64_t j = c0 + VW * v;
        cv[v] = o->panels ? frost__panel_at(o->C, o->M, o->N, 0, j) : o->C + j;
        ldv[v] = o->panels ? frost__panel_width(o->N, frost__panel_of(o->N, j)) : o->ldc;
    }
    for (int64_t i = i0; i < i1;) {
        const int r = i1 - i >= TR ? TR : 1;
#define ROWS_CASE(R)                                                                                                   \
    if (nv == 3) KN(rows_tile)(A, lda, Bp, ldp, K, cv, ldv, i, c0, R, 3, last, alpha, beta);                           \
    else if (nv == 2) KN(rows_tile)(A, lda, Bp, ldp, K, cv, ldv, i, c0, R, 2, last, alpha, beta);                      \
    else KN(rows_tile)(A, lda, Bp, ldp, K, cv, ldv, i, c0, R, 1, last, alpha, beta);
        if (r == TR) {
            ROWS_CASE(TR)
        } else {
            ROWS_CASE(1)
        }
#undef ROWS_CASE
        i += r;
    }
}

/* Rows [i0, i1) of C, all its columns, in bands of 3 vectors. */
static void KN(rows_block)(const float *A, int64_t lda, const float *Bp, int64_t ldp, int64_t K, const rows_out *o,
                           int64_t i0, int64_t i1, float alpha, float beta)
{
    for (int64_t c0 = 0; c0 < o->N; c0 += 3 * VW)
        KN(rows_band)(A, lda, Bp, ldp, K, o, i0, i1, c0, o->N - c0 < 3 * VW ? o->N - c0 : 3 * VW, alpha, beta);
}

/* PT (N, M), the transposed partial, rows h.. (R of them) by columns m..
 * (NV vectors, the last masked by last if MASKED) += B[k0:k1, h..]^T
 * A[k0:k1, m..]: contiguous loads of A's rows, broadcasts from B's. R, NV
 * and MASKED are constants at every call site (a mask chosen inside the
 * loop cost a spilled register). */
KERNEL_INLINE void KN(tn_tile)(const float *A, int64_t lda, const float *B, int64_t ldb, int64_t k0, int64_t k1,
                               float *PT, int64_t M, int64_t m, int64_t h, const int R, const int NV,
                               const bool MASKED, VM last, bool first, uintptr_t pf)
{
    VF s[TR][3];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) s[r][v] = V(zero)();
    for (int64_t k = k0; k < k1; k++) {
        const float *a = A + k * lda + m, *b = B + k * ldb + h;
        if (pf) /* this band's rows of the next k range */
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++)
                _mm_prefetch((const char *)(pf + (uintptr_t)((k - k0) * lda + VW * v) * sizeof(float)), _MM_HINT_T0);
        VF av[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) av[v] = v == NV - 1 && MASKED ? V(loadm)(last, a + VW * v) : V(load)(a + VW * v);
        KN(tile_fma)(s, b, 1, av, R, NV);
    }
    float *const cv[3] = {PT + m, PT + m + VW, PT + m + 2 * VW};
    const int64_t ldv[3] = {M, M, M};
    KN(tile_put)(s, cv, ldv, h, R, NV, last, 1.0f, first ? 0.0f : 1.0f);
}

/* Columns [m, m + w) of PT, w <= 3 VW, over k0 .. k1. */
static __attribute__((target(KT))) void KN(tn_band)(const float *A, int64_t lda, const float *B, int64_t ldb,
                                                    int64_t k0, int64_t k1, float *PT, int64_t M, int64_t N,
                                                    int64_t m, int64_t w, bool first, int64_t K)
{
    /* the band's next k range of A, prefetched over its first block (an
     * address made as an integer: it may lie past A's end) */
    const uintptr_t pf = k1 < K ? (uintptr_t)A + (uintptr_t)(k1 * lda + m) * sizeof(float) : 0;
    const int nv = (int)((w + VW - 1) / VW);
    const VM last = V(lanes)(w - VW * (nv - 1));
    const bool mk = w % VW != 0;
    for (int64_t h = 0; h < N;) {
        const int r = N - h >= TR ? TR : 1;
#define TN_CASE(R, NV, MK)                                                                                             \
    KN(tn_tile)(A, lda, B, ldb, k0, k1, PT, M, m, h, R, NV, MK, last, first, h == 0 ? pf : 0)
#define TN_CASES(R)                                                                                                    \
    if (nv == 3) mk ? TN_CASE(R, 3, true) : TN_CASE(R, 3, false);                                                      \
    else if (nv == 2) mk ? TN_CASE(R, 2, true) : TN_CASE(R, 2, false);                                                 \
    else mk ? TN_CASE(R, 1, true) : TN_CASE(R, 1, false);
        if (r == TR) {
            TN_CASES(TR)
        } else {
            TN_CASES(1)
        }
#undef TN_CASES
#undef TN_CASE
        h += r;
    }
}

/* The whole transposed chunk: k ranges of TN_K (the same on both widths:
 * the partial sums, hence the bits, depend on them), bands of 3 vectors. */
static void KN(narrow_tn)(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                          float *PT)
{
    for (int64_t k0 = 0; k0 < K; k0 += TN_K) {
        const int64_t k1 = K - k0 < TN_K ? K : k0 + TN_K;
        for (int64_t m = 0; m < M; m += 3 * VW)
            KN(tn_band)(A, lda, B, ldb, k0, k1, PT, M, N, m, M - m < 3 * VW ? M - m : 3 * VW, k0 == 0, K);
    }
}

#undef KERNEL_INLINE

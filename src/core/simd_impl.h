/*
 * simd_impl.h - the vector primitives under frost's hand-written kernels,
 * in two widths with the same names apart from the prefix:
 *
 *   v16_*  AVX-512 (avx512f, avx512dq): 16 floats, masks in k registers;
 *   v8_*   AVX2 + FMA: 8 floats, masks as vectors of all-ones lanes.
 *
 * A kernel is written once, in a template header (tensor/gemm_kern.h,
 * tensor/spmm_kern.h, layers/post_kern.h) that calls V(name) and is
 * included once per width after simd_width.h, which defines V(x) as
 * v16_##x or v8_##x (and the types, width and names). Every
 * primitive performs the same IEEE operation per lane in both widths (a
 * masked-off lane of a product is +0 in both), so a kernel that keeps each
 * output element's operations in the same order gives the same bits on
 * either path: tests compare the two paths bit for bit.
 *
 * Include only where __x86_64__ and __GNUC__ hold. Every function carries
 * its own target attribute, so callers compiled for the baseline ISA can
 * inline them into functions that carry the same target.
 */
#ifndef FROST_SIMD_IMPL_H
#define FROST_SIMD_IMPL_H

#include <immintrin.h>
#include <stdbool.h>
#include <stdint.h>

#define FROST__V16_TARGET "avx512f,avx512dq"
#define FROST__V8_TARGET "avx2,fma"
#define FROST__V16 static inline __attribute__((always_inline, target(FROST__V16_TARGET)))
#define FROST__V8 static inline __attribute__((always_inline, target(FROST__V8_TARGET)))

/* ---- AVX-512: 16 floats ------------------------------------------------- */

typedef __m512 v16_f;
typedef __m512d v16_d; /* half a float vector's lanes, as doubles */
typedef __mmask16 v16_m;

/* The first n lanes (all of them for n >= 16). */
FROST__V16 v16_m v16_lanes(int64_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }
/* Lane q set where bit q of b is. */
FROST__V16 v16_m v16_bits(uint64_t b) { return (__mmask16)b; }
FROST__V16 unsigned v16_mask_bits(v16_m m) { return (unsigned)m; }
FROST__V16 v16_m v16_mask_and(v16_m a, v16_m b) { return (__mmask16)(a & b); }
FROST__V16 bool v16_full(v16_m m) { return m == (__mmask16)0xFFFF; }

FROST__V16 v16_f v16_zero(void) { return _mm512_setzero_ps(); }
FROST__V16 v16_f v16_set1(float x) { return _mm512_set1_ps(x); }
FROST__V16 v16_f v16_load(const float *p) { return _mm512_loadu_ps(p); }
/* The lanes of m from p, zero elsewhere; a full mask takes a plain load: on
 * this project's machine a stream read through masked loads ran at about
 * half the bandwidth of plain ones (the hardware prefetchers follow those).
 * The values are the same either way. */
FROST__V16 v16_f v16_loadm(v16_m m, const float *p)
{
    return v16_full(m) ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
FROST__V16 void v16_store(float *p, v16_f v) { _mm512_storeu_ps(p, v); }
/* v's lanes of m to p, the others left; a plain store for a full mask. */
FROST__V16 void v16_storem(v16_m m, float *p, v16_f v)
{
    if (v16_full(m)) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);
}
FROST__V16 v16_f v16_fma(v16_f a, v16_f b, v16_f c) { return _mm512_fmadd_ps(a, b, c); }
FROST__V16 v16_f v16_mul(v16_f a, v16_f b) { return _mm512_mul_ps(a, b); }
FROST__V16 v16_f v16_add(v16_f a, v16_f b) { return _mm512_add_ps(a, b); }
FROST__V16 v16_f v16_sub(v16_f a, v16_f b) { return _mm512_sub_ps(a, b); }
/* a > 0 ? a : 0 for b = 0, NaN to 0 (the second operand). */
FROST__V16 v16_f v16_max(v16_f a, v16_f b) { return _mm512_max_ps(a, b); }
/* a b in the lanes of m, +0 elsewhere. */
FROST__V16 v16_f v16_maskz_mul(v16_m m, v16_f a, v16_f b) { return _mm512_maskz_mul_ps(m, a, b); }
/* Lanes of m where a > b (ordered). */
FROST__V16 v16_m v16_gt(v16_m m, v16_f a, v16_f b) { return _mm512_mask_cmp_ps_mask(m, a, b, _CMP_GT_OQ); }

FROST__V16 v16_d v16_cvt_lo(v16_f a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
FROST__V16 v16_d v16_cvt_hi(v16_f a) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1)); }
FROST__V16 v16_d v16_dload(const double *p) { return _mm512_loadu_pd(p); }
FROST__V16 void v16_dstore(double *p, v16_d v) { _mm512_storeu_pd(p, v); }
FROST__V16 v16_d v16_dadd(v16_d a, v16_d b) { return _mm512_add_pd(a, b); }
FROST__V16 v16_d v16_dfma(v16_d a, v16_d b, v16_d c) { return _mm512_fmadd_pd(a, b, c); }

/* ---- AVX2 + FMA: 8 floats ----------------------------------------------- */

typedef __m256 v8_f;
typedef __m256d v8_d;
typedef __m256i v8_m;

/* 8 set lanes, then 8 clear: the first n lanes start at 8 - n. */
static const int32_t frost__v8_lane_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

FROST__V8 v8_m v8_lanes(int64_t n)
{
    const int64_t k = n >= 8 ? 8 : n < 0 ? 0 : n;
    return _mm256_loadu_si256((const __m256i *)(frost__v8_lane_table + 8 - k));
}
FROST__V8 v8_m v8_bits(uint64_t b)
{
    const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)(b & 0xFFu)), sel), sel);
}
FROST__V8 unsigned v8_mask_bits(v8_m m) { return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(m)); }
FROST__V8 v8_m v8_mask_and(v8_m a, v8_m b) { return _mm256_and_si256(a, b); }
FROST__V8 bool v8_full(v8_m m) { return v8_mask_bits(m) == 0xFFu; }

FROST__V8 v8_f v8_zero(void) { return _mm256_setzero_ps(); }
FROST__V8 v8_f v8_set1(float x) { return _mm256_set1_ps(x); }
FROST__V8 v8_f v8_load(const float *p) { return _mm256_loadu_ps(p); }
FROST__V8 v8_f v8_loadm(v8_m m, const float *p) { return v8_full(m) ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m); }
FROST__V8 void v8_store(float *p, v8_f v) { _mm256_storeu_ps(p, v); }
FROST__V8 void v8_storem(v8_m m, float *p, v8_f v)
{
    if (v8_full(m)) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}
FROST__V8 v8_f v8_fma(v8_f a, v8_f b, v8_f c) { return _mm256_fmadd_ps(a, b, c); }
FROST__V8 v8_f v8_mul(v8_f a, v8_f b) { return _mm256_mul_ps(a, b); }
FROST__V8 v8_f v8_add(v8_f a, v8_f b) { return _mm256_add_ps(a, b); }
FROST__V8 v8_f v8_sub(v8_f a, v8_f b) { return _mm256_sub_ps(a, b); }
FROST__V8 v8_f v8_max(v8_f a, v8_f b) { return _mm256_max_ps(a, b); }
/* the product with its masked-off lanes cleared to +0 (an AND of the bits) */
FROST__V8 v8_f v8_maskz_mul(v8_m m, v8_f a, v8_f b) { return _mm256_and_ps(_mm256_mul_ps(a, b), _mm256_castsi256_ps(m)); }
FROST__V8 v8_m v8_gt(v8_m m, v8_f a, v8_f b)
{
    return _mm256_and_si256(m, _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GT_OQ)));
}

FROST__V8 v8_d v8_cvt_lo(v8_f a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
FROST__V8 v8_d v8_cvt_hi(v8_f a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
FROST__V8 v8_d v8_dload(const double *p) { return _mm256_loadu_pd(p); }
FROST__V8 void v8_dstore(double *p, v8_d v) { _mm256_storeu_pd(p, v); }
FROST__V8 v8_d v8_dadd(v8_d a, v8_d b) { return _mm256_add_pd(a, b); }
FROST__V8 v8_d v8_dfma(v8_d a, v8_d b, v8_d c) { return _mm256_fmadd_pd(a, b, c); }

#endif

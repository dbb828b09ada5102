/*
 * avx512_impl.h - helpers shared by the hand-vectorised AVX-512 kernels
 * (tensor/spmm.c, layers/post.c). Include only where __x86_64__ and
 * __GNUC__ hold; the functions carry their own target attribute, so callers
 * compiled for a baseline ISA can inline them into their AVX-512 paths.
 */
#ifndef FROST_AVX512_IMPL_H
#define FROST_AVX512_IMPL_H

#include <immintrin.h>

#define FROST__AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* The lanes of lm from p, zero elsewhere; lm = 0xFFFF takes a plain load:
 * on this project's machine a stream read through masked loads ran at about
 * half the bandwidth of plain ones (the hardware prefetchers follow those).
 * The values are the same either way. */
FROST__AVX512_INLINE __m512 frost__load16(__mmask16 lm, const float *p)
{
    return lm == (__mmask16)0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(lm, p);
}

/* v's lanes of lm to p, the others left; plain store for a whole vector. */
FROST__AVX512_INLINE void frost__store16(__mmask16 lm, float *p, __m512 v)
{
    if (lm == (__mmask16)0xFFFF) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, lm, v);
}

#endif

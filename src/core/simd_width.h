/*
 * simd_width.h - the parameters of a kernel template (tensor/gemm_kern.h,
 * tensor/spmm_kern.h, layers/post_kern.h) for one vector width. Define
 * FROST_SIMD_W as 16 (AVX-512) or 8 (AVX2 + FMA), include this, then the
 * template; include again for the other width (no include guard: each
 * inclusion replaces the previous parameters).
 *   V(x)   the primitive x of simd_impl.h of that width
 *   VF, VD, VM  its float vector, double vector and mask types
 *   VW     floats per vector
 *   KN(x)  this width's name for the template's function x (x_avx512, x_avx2)
 *   KT     the target attribute string
 */
#undef V
#undef VF
#undef VD
#undef VM
#undef VW
#undef KN
#undef KT
#if FROST_SIMD_W == 16
#define V(x) v16_##x
#define VF v16_f
#define VD v16_d
#define VM v16_m
#define VW 16
#define KN(x) x##_avx512
#define KT FROST__V16_TARGET
#elif FROST_SIMD_W == 8
#define V(x) v8_##x
#define VF v8_f
#define VD v8_d
#define VM v8_m
#define VW 8
#define KN(x) x##_avx2
#define KT FROST__V8_TARGET
#else
#error "FROST_SIMD_W must be 16 or 8"
#endif
#undef FROST_SIMD_W

/*
 * frost/rng.h - counter-based random numbers (Philox4x32-10).
 *
 * A value is a pure function of (seed, stream, index): no hidden state, so
 * any thread can regenerate any value in any order and get the same bits.
 * frost uses the stream to name what the numbers are for (which layer,
 * weights or scores or freezing pattern, which epoch's dropout), and the
 * index to name the element.
 *
 *     uint64_t stream = frost_rng_stream(FROST_RNG_WEIGHT, layer);
 *     for (int64_t i = 0; i < n; i++)
 *         w[i] = frost_rng_uniform(seed, stream, i) * 2.0f - 1.0f;
 *
 * frost_rng is a small sequential cursor over the same function for code
 * that just wants "the next number" (synthetic graphs, shuffles).
 */
#ifndef FROST_RNG_H
#define FROST_RNG_H

#include "frost/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a stream of random numbers is used for (high 32 bits of a stream). */
typedef enum frost_rng_purpose {
    FROST_RNG_WEIGHT = 1,    /* initial / fixed random weights */
    FROST_RNG_SCORE = 2,     /* initial supermask scores */
    FROST_RNG_FREEZE = 3,    /* the freezing permutation */
    FROST_RNG_DROPOUT = 4,   /* dropout masks (low bits: epoch and layer) */
    FROST_RNG_SYNTH = 5,     /* synthetic graphs */
    FROST_RNG_SPLIT = 6,     /* random splits */
    FROST_RNG_SHUFFLE = 7,   /* mini-batch order */
    FROST_RNG_BIAS = 8,      /* initial biases */
    FROST_RNG_SAMPLE = 9     /* neighbour sampling (low bits: the step) */
} frost_rng_purpose;

/* Stream id from a purpose and a sub-stream (layer number, epoch, ...). */
static inline uint64_t frost_rng_stream(frost_rng_purpose purpose, uint64_t sub)
{
    return ((uint64_t)purpose << 48) ^ sub;
}

/* Four independent 32-bit words for (seed, stream, block). */
FROST_API void frost_rng_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4]);

/* One 32-bit word: element `index` of the stream. */
FROST_API uint32_t frost_rng_u32(uint64_t seed, uint64_t stream, uint64_t index);

/* Uniform float in [0, 1) with 24 random bits. */
FROST_API float frost_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);

/* Standard normal (Box-Muller in double, rounded to float). */
FROST_API float frost_rng_normal(uint64_t seed, uint64_t stream, uint64_t index);

/* Initial values of a weight matrix (rows = fan_in, cols = fan_out): the
 * schemes a model spec and a supermask spec name. */
typedef enum frost_init {
    FROST_INIT_DEFAULT = 0,         /* per layer kind: glorot for GCN, torch Linear otherwise */
    FROST_INIT_GLOROT = 1,          /* U(+-sqrt(6 / (fan_in + fan_out))) */
    FROST_INIT_TORCH_LINEAR = 2,    /* U(+-1/sqrt(fan_in)) (nn.Linear's default) */
    FROST_INIT_KAIMING_UNIFORM = 3, /* U(+-sqrt(6 / fan_in)) (ReLU gain) */
    FROST_INIT_KAIMING_NORMAL = 4,  /* N(0, 2 / fan_in) */
    FROST_INIT_SIGNED_CONSTANT = 5  /* +-sqrt(2 / fan_in) with random signs */
} frost_init;

/* Sequential cursor. */
typedef struct frost_rng {
    uint64_t seed, stream, block;
    uint32_t buf[4];
    int left;
} frost_rng;

FROST_API void frost_rng_init(frost_rng *r, uint64_t seed, uint64_t stream);
FROST_API uint32_t frost_rng_next_u32(frost_rng *r);
FROST_API uint64_t frost_rng_next_u64(frost_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
FROST_API double frost_rng_next_double(frost_rng *r);
/* Uniform integer in [0, n), unbiased (n >= 1). */
FROST_API uint64_t frost_rng_next_below(frost_rng *r, uint64_t n);
FROST_API double frost_rng_next_normal(frost_rng *r);

#ifdef __cplusplus
}
#endif
#endif

/*
 * rng.c - Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011). Key = 64-bit seed, counter = (block, stream); the
 * rounds are in core/philox.h.
 */
#include "frost/rng.h"

#include <math.h>

#include "core/philox.h"

void frost_rng_block(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4])
{
    frost__philox(seed, stream, block, out);
}

uint32_t frost_rng_u32(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t b[4];
    frost_rng_block(seed, stream, index >> 2, b);
    return b[index & 3];
}

static inline float u32_to_unit(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

float frost_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    return u32_to_unit(frost_rng_u32(seed, stream, index));
}

static double box_muller(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    /* u1 in (0, 1] so the log is finite; 53-bit uniforms from two words each */
    uint64_t x = ((uint64_t)a << 21) ^ (uint64_t)(b >> 11);
    uint64_t y = ((uint64_t)c << 21) ^ (uint64_t)(d >> 11);
    double u1 = ((double)(x & ((1ull << 53) - 1)) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(y & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

float frost_rng_normal(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint32_t b[4];
    frost_rng_block(seed, stream, index, b);
    return (float)box_muller(b[0], b[1], b[2], b[3]);
}

void frost_rng_init(frost_rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->block = 0;
    r->left = 0;
}

uint32_t frost_rng_next_u32(frost_rng *r)
{
    if (r->left == 0) {
        frost_rng_block(r->seed, r->stream, r->block++, r->buf);
        r->left = 4;
    }
    return r->buf[4 - r->left--];
}

uint64_t frost_rng_next_u64(frost_rng *r)
{
    uint64_t hi = frost_rng_next_u32(r);
    return (hi << 32) | frost_rng_next_u32(r);
}

double frost_rng_next_double(frost_rng *r)
{
    return (double)(frost_rng_next_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t frost_rng_next_below(frost_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased for any n. */
    if (n <= 1) return 0;
    if (n <= 0xFFFFFFFFu) {
        uint32_t n32 = (uint32_t)n;
        uint64_t m = (uint64_t)frost_rng_next_u32(r) * n32;
        uint32_t l = (uint32_t)m;
        if (l < n32) {
            uint32_t t = (uint32_t)(-n32) % n32;
            while (l < t) {
                m = (uint64_t)frost_rng_next_u32(r) * n32;
                l = (uint32_t)m;
            }
        }
        return m >> 32;
    }
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = frost_rng_next_u64(r); while (x >= lim);
    return x % n;
}

double frost_rng_next_normal(frost_rng *r)
{
    uint32_t a = frost_rng_next_u32(r), b = frost_rng_next_u32(r);
    uint32_t c = frost_rng_next_u32(r), d = frost_rng_next_u32(r);
    return box_muller(a, b, c, d);
}

/*
 * select.c - the k-th smallest of values spread over processes, exactly.
 *
 * Shape legend: n values over all processes, n_p on this one.
 *
 * A float maps to a 32-bit pattern whose unsigned order is the float order
 * (flip every bit of negatives, the sign bit of the rest). Four rounds fix
 * the pattern of the answer eight bits at a time: each process counts its
 * values that agree with the bits fixed so far into 256 bins of the next
 * eight, the counts are summed over processes, and the bin that holds rank
 * k is kept. The answer is the value itself (not an approximation), so the
 * supermask it defines is the one a single process's quickselect finds.
 * Cost: 4 passes over n_p values and 4 sums of 256 counts.
 */
#include "dist/dist_impl.h"

#include <string.h>

static inline uint32_t order_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if (u == 0x80000000u) u = 0; /* -0.0 == +0.0: one key, so `less` counts what `<` counts */
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static inline float from_order_bits(uint32_t u)
{
    u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void frost__radix_select(const float *const *slices, const int64_t *lens, int32_t ns, int64_t k,
                         frost__reduce_i64_fn reduce, void *ctx, float *v, int64_t *less)
{
    uint32_t prefix = 0; /* the bits fixed so far */
    int64_t below = 0;   /* values whose pattern is below the prefix range */
    for (int round = 0; round < 4; round++) {
        const int shift = 24 - 8 * round;
        int64_t hist[256];
        memset(hist, 0, sizeof hist);
        for (int32_t s = 0; s < ns; s++) {
            const float *x = slices[s];
            if (round == 0) {
                for (int64_t i = 0; i < lens[s]; i++) hist[order_bits(x[i]) >> 24]++;
            } else {
                for (int64_t i = 0; i < lens[s]; i++) {
                    const uint32_t u = order_bits(x[i]);
                    if (u >> (shift + 8) == prefix) hist[(u >> shift) & 255u]++;
                }
            }
        }
        if (reduce) reduce(ctx, hist, 256);
        int b = 0;
        while (b < 255 && below + hist[b] <= k) below += hist[b++];
        FROST_ASSERT(below <= k && k < below + hist[b]);
        prefix = (prefix << 8) | (uint32_t)b;
    }
    *v = from_order_bits(prefix);
    *less = below;
}

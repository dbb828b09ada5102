/*
 * init.c - initial values of weight matrices: the schemes of frost_init,
 * each value a function of (seed, stream, index) so that any thread count
 * gives the same matrix (used by trained models and supermasks alike).
 */
#include "core/core_impl.h"
#include "frost/rng.h"

#include <math.h>

void frost__init_values(float *v, int64_t rows, int64_t cols, frost_init how, uint64_t seed, uint64_t stream)
{
    const int64_t n = rows * cols;
    const double fan_in = (double)rows, fan_out = (double)cols;
    double bound = 0;
    switch (how) {
    case FROST_INIT_GLOROT: bound = sqrt(6.0 / (fan_in + fan_out)); break;
    case FROST_INIT_TORCH_LINEAR:
    case FROST_INIT_DEFAULT: bound = 1.0 / sqrt(fan_in); break;
    case FROST_INIT_KAIMING_UNIFORM: bound = sqrt(6.0 / fan_in); break;
    case FROST_INIT_KAIMING_NORMAL: bound = sqrt(2.0 / fan_in); break; /* the std */
    case FROST_INIT_SIGNED_CONSTANT: bound = sqrt(2.0 / fan_in); break;
    }
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        double x;
        if (how == FROST_INIT_KAIMING_NORMAL) x = bound * (double)frost_rng_normal(seed, stream, (uint64_t)i);
        else if (how == FROST_INIT_SIGNED_CONSTANT) x = (frost_rng_u32(seed, stream, (uint64_t)i) & 1u) ? bound : -bound;
        else x = bound * (2.0 * (double)frost_rng_uniform(seed, stream, (uint64_t)i) - 1.0);
        v[i] = (float)x;
    }
}

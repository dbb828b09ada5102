/*
 * layers_impl.h - small element-wise helpers shared by the layer files.
 */
#ifndef FROST_LAYERS_IMPL_H
#define FROST_LAYERS_IMPL_H

#include "frost/layers.h"

/* Y (N,H) += b (H) on every row. */
void frost__add_bias(float *Y, const float *b, int64_t N, int64_t H);

#endif

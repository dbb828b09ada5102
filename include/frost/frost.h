/*
 * frost/frost.h - umbrella header of libfrost.
 *
 * frost trains graph neural networks on node-classification datasets stored
 * as HDF5 files, searches strong lottery tickets in partially frozen random
 * networks, and tunes portable rewards. Link with `pkg-config --libs frost`.
 *
 *     #include <frost/frost.h>
 *     frost_set_threads(2);
 */
#ifndef FROST_FROST_H
#define FROST_FROST_H

#include "frost/status.h"
#include "frost/rng.h"
#include "frost/graph.h"
#include "frost/dataset.h"
#include "frost/tensor.h"
#include "frost/layers.h"
#include "frost/model.h"
#include "frost/slt.h"
#include "frost/optim.h"
#include "frost/metrics.h"
#include "frost/train.h"
#include "frost/config.h"
#include "frost/results.h"
#include "frost/runner.h"
#include "frost/dist.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Worker threads for frost's kernels and for OpenBLAS (n >= 1). */
FROST_API void frost_set_threads(int n);
FROST_API int frost_get_threads(void);

/* The dense-product kernels in use: OpenBLAS's family ("Haswell",
 * "SkylakeX", ...: chosen by OpenBLAS from the CPU, or forced by
 * OPENBLAS_CORETYPE), with "+avx512" appended where frost's own AVX-512
 * kernels take the node-by-feature products. Results with the same string
 * are bit-identical. */
FROST_API const char *frost_blas_core(void);

#ifdef __cplusplus
}
#endif
#endif

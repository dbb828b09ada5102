/*
 * frost/frost.h - umbrella header of libfrost.
 *
 * frost trains graph neural networks on node-classification datasets stored
 * as HDF5 files, searches strong lottery tickets in partially frozen random
 * networks, and tunes portable rewards. Link with `pkg-config --libs frost`.
 *
 *     #include <frost/frost.h>
 *     frost_set_threads(2);
 *
 * Each header below belongs to one module of src/; frost_set_threads and
 * frost_blas_core are in status.h (src/core).
 */
#ifndef FROST_FROST_H
#define FROST_FROST_H

#include "frost/status.h"
#include "frost/rng.h"
#include "frost/graph.h"
#include "frost/dataset.h"
#include "frost/synth.h"
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

#endif

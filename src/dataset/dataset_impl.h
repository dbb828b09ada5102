/*
 * dataset_impl.h - pieces of the dataset file writer shared by save, import
 * and synth (the latter two stream node features in row blocks).
 */
#ifndef FROST_DATASET_IMPL_H
#define FROST_DATASET_IMPL_H

#include "frost/dataset.h"
#include "io/h5_impl.h"

/* Write root attributes, /graph, /node/label, /node/year, /split/... and
 * /graph/edge_feat of ds (everything except /node/feat). */
frost_status frost__dataset_write_meta(hid_t file, const frost_dataset *ds, int level, const char *ctx);

/* Check a split against N: ids in range, none repeated within or across parts.
 * `ctx` names the file or folder in messages. */
frost_status frost__split_check(const frost_split *sp, int64_t n, const char *ctx);

void frost__split_release(frost_split *sp);

const char *frost__self_loops_name(frost_self_loops s);

#endif

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

/* Task type, classes and metric of ds from its labels and the import options
 * (--task, --num-classes, --metric); `path` names the label file. */
frost_status frost__labels_finish(frost_dataset *ds, const frost_import_opts *o, const char *path);

/* Node ids from a text file (one per line) or a .npy vector, each checked
 * against n_nodes (0: not checked); *out malloc'd. */
/* ds->name from the option or the last name of path (folder or file, no extension). */
void frost__dataset_name(frost_dataset *ds, const char *path, const frost_import_opts *o);
/* ds->graph from an edge list as the import flags say; the flags and the symmetry recorded (ds->num_nodes set). */
frost_status frost__dataset_graph(frost_dataset *ds, int64_t E, const int32_t *src, const int32_t *dst,
                                  const frost_import_opts *o, int64_t **perm);

/* Class names of DIR/mapping/labelidx2*.csv[.gz], one per line; *out NULL without the file. */
frost_status frost__read_class_names(const char *dir, int32_t C, char **out);

/* DIR/split/NAME/{train,valid,test}.csv[.gz] of OGB's layout into ds. */
frost_status frost__read_ogb_splits(const char *dir, frost_dataset *ds);
/* OGB's npz layout: DIR/raw/data.npz (edge_index, node_feat, num_nodes_list,
 * node_year) and DIR/raw/node-label.npz (node_label, NaN for none). */
frost_status frost__import_ogb_npz(const char *dir, const char *out_path, const frost_import_opts *opts);

/* The attributes, splits and partition names of a dataset file: no graph,
 * no node arrays, no partition arrays (ds->graph empty, ds->symmetric from
 * the stored flag; a file that does not record it counts as not symmetric). */
frost_status frost__dataset_load_meta(frost_dataset *ds, const char *path);

/* ---- parts of a dataset file (rows.c) ---- */
typedef enum frost__elem { FROST__F32, FROST__I32, FROST__I64 } frost__elem;
/* Rows ids[0 .. n) (increasing) of the node array `name` ("node/feat":
 * N x cols) into out (n x cols). */
frost_status frost__dataset_read_rows(const char *path, const char *name, frost__elem t, int64_t cols, int64_t N,
                                      const int64_t *ids, int64_t n, void *out);
/* The whole of /node/feat (N x F) of the dataset file open as fd (checked
 * before: no format check; its path may name another file by now) into
 * out; messages name ctx. */
frost_status frost__dataset_read_features(int fd, const char *ctx, int64_t N, int64_t F, float *out);
/* Rows ids[0 .. n) (increasing) of /graph as out (n x N, global column ids,
 * each row as stored), checked like a whole graph. */
frost_status frost__dataset_read_graph_rows(const char *path, int64_t N, const int64_t *ids, int64_t n, frost_csr *out);
/* Whether the dataset file at path has the array `name` (false if unreadable). */
bool frost__dataset_has(const char *path, const char *name);
/* /partition/NAME (N) into part, checked; *k its number of parts. */
frost_status frost__dataset_read_partition(const char *path, const char *name, int64_t N, int32_t *part, int32_t *k);

/* Node features as frost's models take them: every value finite (else an
 * error naming node ids[i], or i without ids), then each row divided by its
 * sum when row_norm (rows summing to 0 kept). Row by row, so a process's
 * rows get the bits the whole matrix would. */
frost_status frost__features_prepare(float *X, int64_t n, int64_t F, const int64_t *ids, bool row_norm,
                                     const char *path);

frost_status frost__read_id_file(const char *path, int64_t n_nodes, int64_t **out, int64_t *count);

#endif

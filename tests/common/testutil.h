/*
 * testutil.h - helpers shared by frost's Criterion tests: temporary folders,
 * small OGB-layout fixtures, file checks and tolerances.
 */
#ifndef FROST_TESTUTIL_H
#define FROST_TESTUTIL_H

#include "frost/frost.h"

#include <stdbool.h>
#include <stddef.h>

/* A fresh temporary directory (removed by tu_rmtree). */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);

/* Write text to a file, gzip-compressed if the name ends in .gz. */
void tu_write(const char *path, const char *text);
/* Write a file by joining dir and name. */
void tu_writef(const char *dir, const char *name, const char *text);
/* Truncate a file to `keep` bytes. */
void tu_truncate(const char *path, long keep);
long tu_file_size(const char *path);
bool tu_exists(const char *path);
/* True if any file in dir starts with `prefix` (e.g. "out.h5" catches out.h5.tmp.123). */
bool tu_any_with_prefix(const char *dir, const char *prefix);

/* A tiny valid OGB raw folder in dir: 5 nodes, 6 edges (a path plus a chord),
 * 3 features, 2 classes, one split "s0" (train 0,1 / valid 2 / test 3,4). */
void tu_make_ogb(const char *dir);

/* Root of the source tree (FROST_SOURCE_ROOT, set by meson). */
const char *tu_source_root(void);

/* Path join into a static rotating buffer. */
const char *tu_path(const char *dir, const char *name);

/* Memory that lives until tu_free_all (a suite's .fini): test data that
 * would otherwise need a free per array. */
void *tu_alloc(size_t bytes);
void tu_free_all(void);

/* The bundled cora (datasets/cora, OGB raw layout) imported as dir/cora.h5. */
void tu_import_cora(const char *dir);

/* A suite fixture (.init / .fini): a temporary folder holding cora.h5,
 * tu_cora_dir() while the test runs. */
void tu_cora_setup(void);
void tu_cora_teardown(void);
const char *tu_cora_dir(void);

/* The shipped cora GCN experiment (experiments/cora-gcn.cfg) on `dataset`
 * into `output`, with extra --set assignments; its one summary row. */
frost_summary_row tu_run_cora_gcn(const char *dataset, const char *output, const char *const *sets, int n_sets);

/* Relative difference |a-b| / max(|a|, |b|, floor). */
double tu_rel(double a, double b, double floor);

#endif

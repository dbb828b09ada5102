/*
 * testutil.h - helpers shared by frost's Criterion tests: temporary folders,
 * small OGB-layout fixtures, file checks and tolerances.
 */
#ifndef FROST_TESTUTIL_H
#define FROST_TESTUTIL_H

#include "frost/frost.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
/* Run an experiment on the test's cora (public split, one thread): body is
 * configuration text without dataset, output, split and threads; out a file
 * name in tu_cora_dir(); sets --set overrides. */
void tu_run_cora_body(const char *body, const char *out, const char *const *sets, int n_sets);
/* Two results files in tu_cora_dir() hold the same n_runs run ids, each with
 * `epochs` epochs whose losses agree within relative loss_tol and validation
 * metrics within valid_tol; same best epoch and test metric when
 * same_best. */
void tu_same_histories(const char *a, const char *b, int64_t n_runs, int64_t epochs, double loss_tol, double valid_tol,
                       bool same_best, const char *tag);

/* Relative difference |a-b| / max(|a|, |b|, floor). */
double tu_rel(double a, double b, double floor);

/* A file's whole content, malloc'd and NUL-terminated ("" when it cannot be
 * opened). */
char *tu_slurp(const char *path);

/* ---- small synthetic datasets -------------------------------------------------------- */

/* frost_synth_opts_default() with these sizes (classes <= 0: the default). */
frost_synth_opts tu_synth_opts(int64_t nodes, int64_t edges, int64_t features, int32_t classes);
/* frost_synth(path, o), asserted. */
void tu_synth(const char *path, const frost_synth_opts *o);
/* DIR/e.cfg: `dataset = "DIR/g.h5";` followed by rest (the other keys);
 * DIR/g.h5 made by tu_synth with o unless o is NULL. */
void tu_experiment(const char *dir, const frost_synth_opts *o, const char *rest);
/* tu_synth, then the file loaded into ds (frost_dataset_release it). */
void tu_synth_load(frost_dataset *ds, const char *path, const frost_synth_opts *o);
/* The multiclass accuracy task of ds on split sp, with an optional prior
 * (NULL: none). */
frost_task_data tu_task(const frost_dataset *ds, const frost_split *sp, const float *prior);

/* ---- the frost program, by argument vector: never through a shell ------------------- */

/* What one run of the frost program left: its exit status (128 + the signal
 * when a signal ended it), what it printed (malloc'd, NUL-terminated) and the
 * number of lines on stderr. Start from {0}; tu_frost_run and
 * tu_frost_finish release what r held before. */
typedef struct tu_run {
    int status;
    char *out;
    char *err;
    int err_lines;
} tu_run;

/* Start the frost program ($FROST_BIN) with args (NULL-terminated, without
 * the program's name) by fork and execv, so that every argument reaches it
 * exactly as written; in folder cwd (NULL: the test's), with one more
 * environment entry env ("NAME=value", NULL: none), stdout into the file out
 * and stderr into the file err (created or truncated; "/dev/null" works). */
pid_t tu_frost_start(const char *cwd, const char *env, const char *const *args, const char *out, const char *err);
/* Wait for pid (from tu_frost_start), then fill r from the files out and err. */
void tu_frost_finish(tu_run *r, pid_t pid, const char *out, const char *err);
/* Both: one run to its end, stdout and stderr kept in a temporary folder of
 * its own (removed again). */
void tu_frost_run(tu_run *r, const char *cwd, const char *env, const char *const *args);
void tu_run_release(tu_run *r);

/* tu_frost_run with the arguments written out: TU_FROST(&r, "info", path);
 * in a folder: TU_FROST_IN(&r, dir, ...); with an environment entry:
 * TU_FROST_ENV(&r, "NAME=value", ...). */
#define TU_FROST(r, ...) tu_frost_run((r), NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})
#define TU_FROST_IN(r, cwd, ...) tu_frost_run((r), (cwd), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define TU_FROST_ENV(r, env, ...) tu_frost_run((r), NULL, (env), (const char *const[]){__VA_ARGS__, NULL})

#endif

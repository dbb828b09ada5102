/*
 * frost/results.h - the results file (format "frost.results"; layout in
 * results/README.md): one group per finished run with its configuration,
 * outcome, per-epoch history and the state needed to export the model, and a
 * /summary table per distinct configuration.
 *
 * Runs are appended atomically and without rewriting earlier ones: each
 * append writes one small file into PATH.pending/ (temporary name, fsync,
 * rename), and the pending runs are folded into PATH whenever they reach the
 * number of runs PATH holds (so PATH doubles each time: O(n) bytes for n
 * appends). Readers here see PATH and the pending runs together; a crash at
 * any moment loses at most the run being appended. Appends by several
 * processes are serialised by a lock (flock on PATH.lock); frost run folds
 * everything when it finishes, so other HDF5 readers (h5py) see every run in
 * PATH alone. Layout and protocol: results/README.md.
 *
 *     frost_results r;
 *     if (frost_results_load(&r, "results/cora-gcn.h5") == FROST_OK) {
 *         const frost_run_info *run = frost_results_find(&r, "trained-gcn-seed0");
 *         ...
 *         frost_results_release(&r);
 *     }
 */
#ifndef FROST_RESULTS_H
#define FROST_RESULTS_H

#include "frost/status.h"
#include "frost/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FROST_RESULTS_FORMAT "frost.results"
#define FROST_RESULTS_VERSION 1

typedef struct frost_run_info {
    char id[160];
    char *config;             /* the effective configuration (libconfig text), owned */
    char dataset[256], split[64], model[32], method[16], metric[16];
    int64_t seed;
    double sparsity, prune_ratio, lock_ratio; /* NaN unless method slt */
    int64_t best_epoch, epochs_run;
    double val_metric, test_metric, train_metric;
    double train_seconds, eval_seconds;
    int64_t model_bits, dense_bits;
    int64_t paper_bits;       /* the SLT paper's accounting (frost_model_paper_bits); -1 in older files */
    bool degenerate;          /* slt: nothing was searched (s <= p or s >= 1 - r; slt.allow_degenerate) */
    int64_t threads;
    int64_t in_dim, out_dim;  /* model input width (features) and outputs (classes or tasks) */
    char role[24];            /* prt runs: base-old, base-new, ft-old, ft-new, prt, prt-old, eft ("" otherwise) */
    double infer_seconds;     /* prt runs: one full-graph inference pass of the method (median) */
    int64_t infer_bytes;      /* prt runs: memory the pass allocates (models and buffers) */
    int64_t models_evaluated; /* prt runs: models the pass runs */
    char status[16];          /* "ok", "diverged" */
    char message[256];
    char logits_hash[24];     /* hex FNV-1a of the best state's eval logits */
    char blas_core[48];       /* OpenBLAS kernels that computed the run (frost_blas_core); "" in older files */
    int64_t order;            /* position in append order */
} frost_run_info;

typedef struct frost_results {
    int64_t n;
    frost_run_info *runs;     /* in append order */
} frost_results;

/* The heavy parts of a run. */
typedef struct frost_run_payload {
    const frost_epoch_record *history;
    int64_t n_history;
    const float *params;      /* frost_model_state_export arrays */
    int64_t n_params;
    const float *bn;
    int64_t n_bn;
    const uint8_t *mask;
    int64_t mask_bits;
} frost_run_payload;

/* An owned copy of a payload read back from a file. */
typedef struct frost_run_state {
    float *params;
    int64_t n_params;
    float *bn;
    int64_t n_bn;
    uint8_t *mask;
    int64_t mask_bits;
} frost_run_state;

FROST_API frost_status frost_results_load(frost_results *r, const char *path);
FROST_API void frost_results_release(frost_results *r);
FROST_API const frost_run_info *frost_results_find(const frost_results *r, const char *id);

/* Append one run (and refresh /summary) atomically. The file is created if
 * it does not exist. */
FROST_API frost_status frost_results_append(const char *path, const frost_run_info *info,
                                            const frost_run_payload *payload);

/* Append several runs in one atomic step (all or none). */
FROST_API frost_status frost_results_append_many(const char *path, const frost_run_info *info,
                                                 const frost_run_payload *payload, int64_t n);

/* Fold the pending runs of path into the main file (atomically; nothing to
 * do when none are pending). */
FROST_API frost_status frost_results_compact(const char *path);

/* Merge results files into out (which keeps its own runs, if it exists):
 * a run id present in several files is kept once when every copy holds the
 * same result (configuration as frost_config_canonical compares it, seed,
 * outcome, logits); a conflicting copy is refused with a message naming the
 * run and both files, and out is left as it was. The new out holds every
 * run, compacted, written atomically under out's writer lock. */
FROST_API frost_status frost_results_merge(const char *out, const char *const *inputs, int64_t n_inputs);

/* Read a run's model state. */
FROST_API frost_status frost_results_read_state(const char *path, const char *id, frost_run_state *out);
FROST_API void frost_run_state_release(frost_run_state *s);

/* Read a run's per-epoch history: *out malloc'd (free it), *n records. */
FROST_API frost_status frost_results_read_history(const char *path, const char *id, frost_epoch_record **out,
                                                  int64_t *n);

/* One row per distinct configuration (the run's configuration without its
 * seed): mean and sample standard deviation over its runs. */
typedef struct frost_summary_row {
    char method[16], model[32], dataset[256], split[64], role[24];
    double sparsity, prune_ratio, lock_ratio;
    int64_t runs;
    double val_mean, val_std, test_mean, test_std;
    double train_seconds_mean;
    double infer_seconds_mean;
    int64_t infer_bytes, models_evaluated;
    int64_t model_bits, dense_bits;
    int64_t paper_bits;       /* -1 when a run of the group does not say */
    bool degenerate;
    char first_id[160];       /* a run of the group */
    char *config;             /* the group's configuration without its seed line, owned */
} frost_summary_row;

/* ---- exported models (format "frost.model") ------------------------------------ */

#define FROST_MODEL_FORMAT "frost.model"
#define FROST_MODEL_VERSION 1

typedef struct frost_model_file {
    char *config;             /* the run's configuration, owned */
    char method[16], model[32], dataset[256], split[64], logits_hash[24];
    char source[FROST_PATH_CAP + 192]; /* RESULTS#RUN_ID it was exported from */
    char blas_core[48];       /* OpenBLAS kernels of the run ("" if the file does not say) */
    int64_t seed, in_dim, out_dim, model_bits, dense_bits;
    double test_metric;       /* what the run reported */
    /* A ticket inside a trained network (frost_slt_set_base_from): the model
     * file of that network, relative to this file's folder, and its
     * logits_hash; "" for a ticket over random weights and every other model */
    char base_weights[256], base_weights_hash[24];
    frost_run_state state;
} frost_model_file;

/* Write a model file from its parts (mf->config, the names, dims, bits, hash
 * and state). Atomic. */
FROST_API frost_status frost_model_file_write(const frost_model_file *mf, const char *out_path);

/* Write run RUN_ID of a results file as a model file: architecture (the
 * configuration), seed, packed mask of the free weights, batch-norm running
 * statistics, and any other trained floats. Atomic (temporary name, rename). */
FROST_API frost_status frost_export_run(const char *results, const char *run_id, const char *out_path);
/* The same model in memory (what frost_export_run writes); release with frost_model_file_release. */
FROST_API frost_status frost_model_file_of_run(const char *results, const char *run_id, frost_model_file *out);
FROST_API frost_status frost_model_file_load(frost_model_file *mf, const char *path);
FROST_API void frost_model_file_release(frost_model_file *mf);

FROST_API frost_status frost_results_summarize(const frost_results *r, frost_summary_row **rows, int64_t *n);
FROST_API void frost_summary_release(frost_summary_row *rows, int64_t n);

#ifdef __cplusplus
}
#endif
#endif

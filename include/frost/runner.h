/*
 * frost/runner.h - running an experiment: every point of the sweep times
 * every seed, skipping runs already in the results file (resume, by the
 * content of each run's configuration), appending each finished run
 * atomically; several processes may share one results file.
 *
 *     frost_config c;  ...load...
 *     frost_runner_events ev = {.epoch = show_progress, .user = &ui};
 *     frost_experiment_run(&c, &ev, out_path, sizeof out_path);
 */
#ifndef FROST_RUNNER_H
#define FROST_RUNNER_H

#include "frost/config.h"
#include "frost/results.h"
#include "frost/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct frost_runner_events {
    /* total runs of the experiment and how many the file already holds */
    void (*start)(int64_t total, int64_t done, const char *output, void *user);
    void (*run_start)(const char *id, int64_t index, int64_t total, int64_t epochs, void *user);
    void (*epoch)(const char *id, const frost_epoch_record *rec, void *user);
    void (*run_end)(const frost_run_info *info, void *user);
    void (*note)(const char *message, void *user); /* things worth a line on the terminal */
    void *user;
    const volatile int *stop;  /* non-zero: finish the current epoch, keep nothing of the run, return */
} frost_runner_events;

/* The runs of an experiment: every sweep point times every seed, each id
 * once (a trained run under slt-only axes is a single run). */
typedef struct frost_run_item {
    char id[160];
    int64_t point, seed;
} frost_run_item;

typedef struct frost_run_plan {
    int64_t n;
    frost_run_item *runs;
} frost_run_plan;

FROST_API frost_status frost_experiment_plan(const frost_config *c, frost_run_plan *plan);

/* How this process takes part in an experiment. */
typedef struct frost_run_opts {
    /* shard_count > 1: run only the runs of the plan (frost_experiment_plan's
     * order, 0-based) whose index i has i mod shard_count == shard_index
     * (0 .. shard_count - 1): a Slurm job array's SLURM_ARRAY_TASK_ID of
     * --array=0-(N-1). 0 or 1: every run. */
    int64_t shard_index, shard_count;
} frost_run_opts;

/* The plan of this shard (o may be NULL: every run); a bad shard is refused. */
FROST_API frost_status frost_experiment_plan_ex(const frost_config *c, const frost_run_opts *o, frost_run_plan *plan);
FROST_API void frost_run_plan_release(frost_run_plan *plan);

/* Run the experiment. output receives the results file path.
 *
 * Any number of processes may run experiments into one results file at
 * once (several shards, or the same sweep twice): appends are serialised by
 * the file's lock, and each run is claimed before it is trained (a flock
 * held while training, released by the kernel if the process dies), so no
 * run is trained twice. A run another process is training is left for the
 * end and then waited for; a run another process stored meanwhile is
 * skipped. On success every run of the plan is in the file, and the file is
 * compacted (every run in the main file). */
FROST_API frost_status frost_experiment_run(const frost_config *c, const frost_runner_events *ev, char *output,
                                            size_t cap);
/* The same, with options (o may be NULL). */
FROST_API frost_status frost_experiment_run_ex(const frost_config *c, const frost_run_opts *o,
                                               const frost_runner_events *ev, char *output, size_t cap);

/* Where the results of a configuration go (output key, or results/NAME.h5). */
FROST_API void frost_experiment_output(const frost_config *c, char *out, size_t cap);

/* Find a dataset given as a path or as the name of a bundled dataset
 * (DIR/../datasets/NAME.h5 next to the experiment file, or ./datasets/NAME.h5). */
FROST_API frost_status frost_resolve_dataset(const char *name, const char *config_path, char *out, size_t cap);

/* Everything a model needs from a dataset for one configuration: the
 * aggregation graph (row i = nodes i aggregates from) and its transpose,
 * preprocessed features, the split. */
typedef struct frost_prepared {
    frost_dataset ds;           /* as loaded, less ds.feat (moved into X) and ds.graph (rebuilt into A) */
    frost_csr A, AT;            /* AT unused (A reused) when symmetric */
    bool symmetric;
    float *X;                   /* (N, F) features after normalisation */
    const frost_split *split;
    /* how it was prepared: the file, and the options a process that reads
     * only its rows applies to them (mpi.mode "graph", src/dist/local.c) */
    char path[FROST_PATH_CAP + 64];
    bool meta_only;             /* attributes and splits only: no X, no A (frost__prepare_meta) */
    bool row_norm, undirected;
    int32_t self_loops;
    /* X is freed during a run once the model has made all it reads of it,
     * and read again for the next run (run_exec.c) through X_fd, the
     * dataset file held open (so the same file even if it is renamed over
     * or deleted meanwhile); the hash of the features as first prepared,
     * which the copy read again must match */
    bool X_reloadable, X_hashed, X_fd_open;
    int X_fd;
    uint64_t X_hash;
} frost_prepared;

FROST_API frost_status frost_prepare(frost_prepared *p, const frost_config *c);
FROST_API void frost_prepared_release(frost_prepared *p);
/* Model spec of a configuration on a prepared dataset. */
FROST_API frost_model_spec frost_prepared_spec(const frost_prepared *p, const frost_config *c);
/* Task data for training or evaluation. */
FROST_API frost_task_data frost_prepared_task(const frost_prepared *p);

/* ---- exported models ------------------------------------------------------------ */

/* A live model from a model file, on a prepared dataset: the network is
 * regenerated from the seed (fixed weights, freezing pattern) and the saved
 * state loaded (mask bits, batch-norm statistics, trained floats). Fails
 * with a clear message if the dataset's feature or label count differs from
 * the model's. */
FROST_API frost_status frost_model_from_file(frost_model **out, const frost_model_file *mf, const frost_prepared *p,
                                             const char *model_path);
/* inference = true: an inference-only model (no gradient buffers). */
FROST_API frost_status frost_model_from_file_ex(frost_model **out, const frost_model_file *mf, const frost_prepared *p,
                                                const char *model_path, bool inference);

typedef struct frost_prediction {
    int64_t N, C;             /* nodes; classes, or tasks when binary */
    float *logits;            /* (N, C) eval-mode outputs, owned */
    bool binary;              /* C binary tasks (sigmoid per task), else C classes (softmax) */
    int64_t *node_ids;        /* (N) the dataset's /node/original_id, owned; NULL: the ids are 0 .. N-1 */
    double train, valid, test;
    char split[64];           /* "" when the dataset has no such split (metrics NaN) */
    char logits_hash[24];
    bool hash_matches;        /* bit-identical to the logits of the exported run */
    char run_blas_core[48];   /* OpenBLAS kernels of the exported run ("" if unknown) */
} frost_prediction;

/* Predict with a model file on a dataset (a path or a bundled name); split
 * NULL = the model's own split. The dataset is preprocessed as the model's
 * configuration says. */
FROST_API frost_status frost_predict(const char *model_path, const char *dataset, const char *split,
                                     frost_prediction *out);
FROST_API void frost_prediction_release(frost_prediction *p);

/* A model file as named dense tensors (format "frost.dense"; README "frost
 * export"): every weight matrix (a ticket's effective weights), bias and
 * batch-norm statistic with its shape, the architecture and preprocessing as
 * attributes. The model is rebuilt on `dataset` (NULL: its own). Atomic. */
#define FROST_DENSE_FORMAT "frost.dense"
#define FROST_DENSE_VERSION 1
FROST_API frost_status frost_export_dense(const char *model_path, const char *dataset, const char *out_path);
/* The same from run RUN_ID of a results file, without a model file in between. */
FROST_API frost_status frost_export_dense_run(const char *results, const char *run_id, const char *dataset,
                                              const char *out_path);

/* Portable reward tuning at inference: softmax(log p_base + r) with the
 * reward of reward_path applied to the base model of base_path (any model of
 * the same label set; a mismatch is refused). split NULL = the reward's own
 * split. */
FROST_API frost_status frost_predict_prt(const char *reward_path, const char *base_path, const char *dataset,
                                         const char *split, frost_prediction *out);
/* EFT / proxy-tuning: log p_new + alpha (log p_ft - log p_pt). split NULL =
 * the new model's own split. */
FROST_API frost_status frost_predict_eft(const char *new_path, const char *ft_path, const char *pt_path, double alpha,
                                         const char *dataset, const char *split, frost_prediction *out);
/* Write a predictions file (format "frost.predictions", results/README.md),
 * atomically: /node_id, /logits (n, C), /probability (softmax over classes,
 * or a sigmoid per binary task), /prediction (the class, or (n, T) 0/1 per
 * task). Every node, or the n_nodes rows `nodes` lists (0-based, in that
 * order; an id out of range is refused). */
FROST_API frost_status frost_predictions_save(const frost_prediction *p, const char *path);
FROST_API frost_status frost_predictions_save_nodes(const frost_prediction *p, const int64_t *nodes, int64_t n_nodes,
                                                    const char *path);

#ifdef __cplusplus
}
#endif
#endif

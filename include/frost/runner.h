/*
 * frost/runner.h - running an experiment: every point of the sweep times
 * every seed, skipping runs already in the results file (resume), appending
 * each finished run atomically.
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
    void *user;
    const volatile int *stop;  /* non-zero: finish the current epoch, keep nothing of the run, return */
} frost_runner_events;

/* Run the experiment. output receives the results file path. */
FROST_API frost_status frost_experiment_run(const frost_config *c, const frost_runner_events *ev, char *output,
                                            size_t cap);

/* Where the results of a configuration go (output key, or results/NAME.h5). */
FROST_API void frost_experiment_output(const frost_config *c, char *out, size_t cap);

/* Find a dataset given as a path or as the name of a bundled dataset
 * (DIR/../datasets/NAME.h5 next to the experiment file, or ./datasets/NAME.h5). */
FROST_API frost_status frost_resolve_dataset(const char *name, const char *config_path, char *out, size_t cap);

/* Everything a model needs from a dataset for one configuration: the
 * aggregation graph (row i = nodes i aggregates from) and its transpose,
 * preprocessed features, the split. */
typedef struct frost_prepared {
    frost_dataset ds;
    frost_csr A, AT;            /* AT unused (A reused) when symmetric */
    bool symmetric;
    float *X;                   /* (N, F) features after normalisation */
    const frost_split *split;
} frost_prepared;

FROST_API frost_status frost_prepare(frost_prepared *p, const frost_config *c);
FROST_API void frost_prepared_release(frost_prepared *p);
/* Model spec of a configuration on a prepared dataset. */
FROST_API frost_model_spec frost_prepared_spec(const frost_prepared *p, const frost_config *c);
/* Task data for training or evaluation. */
FROST_API frost_task_data frost_prepared_task(const frost_prepared *p);

#ifdef __cplusplus
}
#endif
#endif

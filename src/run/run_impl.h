/*
 * run_impl.h - pieces of the experiment runner shared between files.
 */
#ifndef FROST_RUN_IMPL_H
#define FROST_RUN_IMPL_H

#include "frost/runner.h"
#include "frost/dist.h"
#include "io/file_impl.h"

/* The portable-reward-tuning scenario (prt_run.c). */
typedef struct frost__prt_scenario {
    int32_t *part;          /* (N) METIS community of each node */
    frost_split split[3];   /* prt-upstream, prt-upstream-old, prt-task */
    double shift_tv;        /* total variation between the domains' label distributions */
    int64_t n_upstream, n_task_domain;
} frost__prt_scenario;

frost_status frost__prt_scenario_build(frost__prt_scenario *s, frost_prepared *p, const frost_config *c);
frost_status frost__prt_scenario_save(const frost__prt_scenario *s, const frost_config *c, const char *path);
void frost__prt_scenario_release(frost__prt_scenario *s);

/* One seed of the scenario; appends its rows ("ID.base-old", ..., "ID.prt",
 * "ID.eft") to output. */
frost_status frost__prt_run_seed(const frost_prepared *p, const frost__prt_scenario *sc, const frost_config *c,
                                 int64_t seed, const char *id, const char *output, const char *models_dir,
                                 const char *scenario_path, frost_run_info *prt_row);

/* ---- claims and resume (runner.c) ---------------------------------------------- */

/* Does a stored run's configuration text describe run `it` of experiment
 * c? By content (frost_config_canonical), the dataset also by file. */
frost_status frost__run_config_matches(const frost_config *c, const frost_run_item *it, const char *stored,
                                       bool *same);

typedef enum frost__claim_result {
    FROST__CLAIM_TRAIN = 0,  /* claimed (claim held): train it */
    FROST__CLAIM_STORED = 1, /* another process stored it meanwhile (same configuration) */
    FROST__CLAIM_BUSY = 2    /* another process is training it (wait = false only) */
} frost__claim_result;

/* Claim run `it` of c before training it into output. */
frost_status frost__run_claim(const char *output, const frost_config *c, const frost_run_item *it, bool wait,
                              const volatile int *stop, frost__flock *claim, frost__claim_result *what);

/* ---- training and recording runs (run_exec.c) ------------------------------- */

typedef struct frost__comm frost__comm;

/* What lives across the runs of an experiment: MPI processes and their
 * partition, the Cluster-GCN partition of the last configuration. */
typedef struct frost__run_env {
    frost__comm *comm;      /* mpi.mode "graph" with several processes, else NULL */
    int32_t *dist_part;     /* (N) process of every node (whole-file loading) */
    bool dist_noted;        /* the one note on how the processes share the graph was given */
    struct frost__dist_share *dist_share; /* this process's rows, read from the file once per job */
    frost_dist_stats stats; /* of the last distributed run */
    int32_t *cluster_part;  /* (N) */
    int32_t cluster_k;
    double cluster_imbalance;
    char cluster_name[64];
    const char *checkpoint; /* this run's checkpoint file (checkpoint_every > 0, one process), else NULL */
} frost__run_env;
void frost__run_env_release(frost__run_env *env);
/* frost_prepare's attributes and splits only (frost_prepared.meta_only): a
 * distributed run whose processes read their own rows. */
frost_status frost__prepare_meta(frost_prepared *p, const frost_config *c);
/* p->X's fingerprint, once, before a run may free it */
void frost__prepared_features_hash(frost_prepared *p);
/* frost_train_opts.input_spent of a run on p: frees p->X (hashed before) */
void frost__prepared_features_spent(void *p);
/* p->X again after a run freed it: read from the file, prepared as before,
 * refused unless the same bits; nothing to do while X is there */
frost_status frost__prepared_features(frost_prepared *p);
/* Remove a stored run's checkpoint OUTPUT.checkpoints/KEY.ckpt, if any,
 * and the folder when it is left empty. */
void frost__run_drop_checkpoint(const char *output, const char *id);

/* A trained run: its row for the results file (config owned), history and state. */
typedef struct frost__run_out {
    frost_run_info info;
    frost_run_result res;
    float *params, *bn;
    uint8_t *mask;
    frost_model_state_sizes sz;
} frost__run_out;
void frost__run_out_release(frost__run_out *o);

/* Train run `it` of configuration point pt (on every process of env->comm
 * together when set). */
frost_status frost__run_train(frost_prepared *p, const frost_config *pt, const frost_run_item *it,
                              const frost_runner_events *ev, frost__run_env *env, frost__run_out *out);
/* Train it and append it to output (process 0 writes). */
frost_status frost__run_one(frost_prepared *p, const frost_config *pt, const frost_run_item *it,
                            const char *output, const frost_runner_events *ev, frost__run_env *env);
/* mpi.mode "runs": the n runs of todo dealt out over the processes of comm
 * in rounds; process 0 appends each round. */
frost_status frost__run_spread(frost_prepared *p, const frost_config *c, const frost_run_item *todo, int64_t n,
                               const char *output, const frost_runner_events *ev, frost__comm *comm,
                               frost__run_env *env);

#endif

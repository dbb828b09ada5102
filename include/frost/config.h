/*
 * frost/config.h - experiment configuration: a plain struct, defaults, a
 * libconfig reader with line-numbered errors, --set overrides and sweeps.
 *
 * One table of keys (name, type, default, range, meaning) drives parsing,
 * checking, the text written with every run and experiments/README.md
 * (`frost run --list-keys`), so the documentation cannot drift.
 *
 *     frost_config c;
 *     frost_config_default(&c);
 *     if (frost_config_load(&c, "experiments/cora-gcn.cfg") < 0 ||
 *         frost_config_set(&c, "model.hidden", "32", "--set model.hidden=32") < 0)
 *         fprintf(stderr, "%s\n", frost_last_error());
 *
 * A list in place of a scalar (slt.sparsity = [0.3, 0.5];) makes a sweep:
 * runs are the cartesian product of all lists, times the seeds.
 */
#ifndef FROST_CONFIG_H
#define FROST_CONFIG_H

#include "frost/status.h"
#include "frost/model.h"
#include "frost/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum frost_method {
    FROST_METHOD_TRAINED = 0, /* weights trained */
    FROST_METHOD_SLT = 1,     /* strong lottery ticket: supermask search */
    FROST_METHOD_PRT = 2      /* portable reward tuning scenario (with the EFT baseline) */
} frost_method;

typedef enum frost_feature_norm { FROST_FEAT_NONE = 0, FROST_FEAT_ROW = 1 } frost_feature_norm;

/* Node features made from edge features (ogbn-proteins has none of its own):
 * each node's stored out-edges' features reduced, appended to its features. */
typedef enum frost_edge_reduce {
    FROST_EDGE_FEAT_NONE = 0,
    FROST_EDGE_FEAT_MEAN = 1,
    FROST_EDGE_FEAT_SUM = 2,
    FROST_EDGE_FEAT_MAX = 3
} frost_edge_reduce;

#define FROST_MAX_AXES 8
#define FROST_MAX_AXIS_VALUES 64
#define FROST_MAX_SEEDS 1024

typedef struct frost_sweep_axis {
    int32_t key;                              /* index into the key table */
    int32_t n;
    char values[FROST_MAX_AXIS_VALUES][64];   /* each value as config text */
} frost_sweep_axis;

typedef struct frost_prt_spec {
    /* the scenario: METIS communities, some upstream, some the task's domain */
    int32_t parts;                /* METIS parts */
    int32_t task_parts;           /* how many of them (the highest ids) form the task's domain */
    int64_t task_train_per_class; /* task training nodes per class */
    int64_t task_valid_per_class; /* task validation nodes per class */
    double old_pool_fraction;     /* share of the upstream training nodes the old base sees */
    int64_t scenario_seed;
    /* the base models, trained upstream */
    int32_t old_arch, old_layers;
    int64_t old_hidden;
    int32_t new_arch, new_layers;
    int64_t new_hidden;
    int64_t base_epochs;
    /* the reward */
    int32_t init;                 /* 0 = copy the old base (the paper), 1 = fresh with a zeroed last layer */
    bool reward_slt;              /* the reward is a strong lottery ticket (slt.* settings) */
    double entropy_alpha;
    double eft_alpha;             /* EFT strength */
    int64_t infer_repeats;        /* inference passes timed per method */
} frost_prt_spec;

/* How an epoch trains (batch.*): one full-batch step, Cluster-GCN batches,
 * or neighbour-sampled mini-batches (GraphSAGE, PyG's NeighborLoader). */
typedef enum frost_batch_mode {
    FROST_BATCH_FULL = 0,
    FROST_BATCH_CLUSTER = 1,
    FROST_BATCH_NEIGHBOR = 2
} frost_batch_mode;

#define FROST_MAX_FANOUT 64 /* hops of neighbour sampling (model.layers <= 64) */

typedef struct frost_batch_spec {
    frost_batch_mode mode;
    int32_t parts;           /* METIS parts of the graph */
    int32_t parts_per_batch; /* parts per mini-batch */
    char partition[64];      /* a partition stored in the dataset (frost partition), or "" to compute one */
    double imbalance;        /* METIS balance constraint when computing */
    int32_t size;            /* neighbour sampling: training (seed) nodes per mini-batch */
    int32_t n_fanout;        /* neighbour sampling: entries of fanout (1: the same for every hop) */
    int32_t fanout[FROST_MAX_FANOUT]; /* in-neighbours sampled per node, hop 1 (the seeds') first; -1: all */
} frost_batch_spec;

/* What several MPI processes share (mpi.*; frost/dist.h). Execution
 * settings: not part of a run's effective configuration. */
typedef enum frost_mpi_mode { FROST_MPI_GRAPH = 0, FROST_MPI_RUNS = 1 } frost_mpi_mode;
typedef enum frost_mpi_load { FROST_MPI_LOAD_AUTO = 0, FROST_MPI_LOAD_LOCAL = 1, FROST_MPI_LOAD_WHOLE = 2 } frost_mpi_load;

typedef struct frost_mpi_spec {
    frost_mpi_mode mode; /* graph: all processes train each run; runs: runs dealt out */
    char partition[64];  /* stored partition with one part per process, or "" to compute one */
    frost_mpi_load load; /* graph mode: each process reads its part of the file, or all of it */
    double imbalance;    /* METIS balance constraint when computing */
    char stats[FROST_PATH_CAP]; /* file to append communication statistics to ("" = none) */
} frost_mpi_spec;

typedef struct frost_config {
    char path[FROST_PATH_CAP];    /* file read (for messages and relative paths) */
    char dataset[FROST_PATH_CAP];
    char split[64];
    bool split_optional;          /* not a key: frost_predict on data without that split (metrics NaN) */
    char output[FROST_PATH_CAP];
    frost_method method;
    int64_t epochs, runs, seed, threads, eval_every, patience;
    int64_t checkpoint_every;     /* save a run's training state every k epochs (0: never) */
    frost_feature_norm feature_norm;
    frost_edge_reduce features_from_edges;
    bool undirected;
    int32_t self_loops;         /* frost_self_loops: keep or drop before building operators */
    frost_model_spec model;
    frost_optim_spec optim;
    frost_prt_spec prt;
    frost_batch_spec batch;
    frost_mpi_spec mpi;
    double slt_freeze;          /* f = p + r when >= 0 (then p = f * s, r = f * (1 - s)); -1: unset */
    double slt_prune_share;     /* explicit share of f that is pruned (p = f * share); -1: the paper's p = f * s */
    bool slt_allow_degenerate;  /* run points where nothing is searched (flagged) instead of refusing them */
    int32_t n_seeds;            /* explicit seed list (seeds = [...]) or 0 */
    int64_t seeds[FROST_MAX_SEEDS];
    int32_t n_axes;
    frost_sweep_axis axes[FROST_MAX_AXES];
} frost_config;

FROST_API void frost_config_default(frost_config *c);

/* Read a libconfig file over the current values. Errors: one line "FILE:LINE:
 * ..." naming the key and what was expected (unknown key, wrong type, value
 * out of range, syntax error). */
FROST_API frost_status frost_config_load(frost_config *c, const char *path);

/* Read configuration text (as stored with a run or a model); `name` stands
 * for the file in messages. */
FROST_API frost_status frost_config_load_text(frost_config *c, const char *text, const char *name);

/* Set one key from text written as the config file would ("gcn" in
 * quotes, lists in [ ], numbers). `ctx` names the source in errors. A list
 * makes (or replaces) a sweep axis. */
FROST_API frost_status frost_config_set(frost_config *c, const char *key, const char *value, const char *ctx);

/* Parse "key=value" (an argument of --set). */
FROST_API frost_status frost_config_set_arg(frost_config *c, const char *arg);

/* Resolve derived values (slt.freeze into prune and lock ratios). Called by
 * frost_config_point and frost_config_check; idempotent. */
FROST_API void frost_config_finalize(frost_config *c);

/* Cross-field checks (p <= s <= 1 - r, ...); message names the key. */
FROST_API frost_status frost_config_check(const frost_config *c);

/* The effective configuration as libconfig text (keys that matter for the
 * method, no sweep lists); caller frees. */
FROST_API char *frost_config_to_text(const frost_config *c);

/* What a run's effective configuration text (frost_config_to_text, the
 * `config` attribute of a results file) says about its numbers: the text
 * without the keys that do not change them (output: where the results go;
 * threads: the same bits on any thread count; model.keep_activations: the
 * same bits kept or rebuilt), and without `seed` / `dataset` when asked.
 * Two runs whose canonical texts are equal computed the same thing: frost
 * run resumes by it (a moved or copied results file resumes), the summary
 * groups by it (with the seed dropped), frost merge compares by it.
 * Caller frees; NULL when out of memory. */
enum { FROST_CANON_SEED = 1, FROST_CANON_DATASET = 2 };
FROST_API char *frost_config_canonical(const char *text, unsigned drop);

/* Sweep expansion: number of points (product of axis lengths), and the
 * configuration of point k (axes applied, lists removed). */
FROST_API int64_t frost_config_num_points(const frost_config *c);
FROST_API frost_status frost_config_point(const frost_config *c, int64_t k, frost_config *out);

/* Seeds of the runs: explicit list, or seed .. seed + runs - 1. */
FROST_API int32_t frost_config_seeds(const frost_config *c, int64_t *seeds, int32_t cap);

/* A short readable run id for one point and seed ("slt-gin-s0.5-p0.2-r0.2-seed3"). */
FROST_API void frost_config_run_id(const frost_config *point, const frost_config *sweep, int64_t seed, char *buf,
                                   size_t cap);

/* Markdown table of every key: name, type, default, range, meaning. */
FROST_API char *frost_config_keys_markdown(void);

FROST_API const char *frost_method_name(frost_method m);

#ifdef __cplusplus
}
#endif
#endif

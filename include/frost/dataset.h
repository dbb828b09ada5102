/*
 * frost/dataset.h - node-classification datasets: the in-memory form, the
 * HDF5 dataset file (format "frost.dataset", see datasets/README.md), the
 * OGB raw-folder importer, the synthetic generator and summary statistics.
 *
 *     frost_import_opts io = frost_import_opts_default();
 *     io.add_inverse_edges = true;                 // tolokers lists each edge once
 *     if (frost_import_ogb("datasets/tolokers", "tolokers.h5", &io) < 0) ...
 *
 *     frost_dataset ds;
 *     if (frost_dataset_load(&ds, "tolokers.h5") < 0) ...
 *     const frost_split *sp = frost_dataset_split(&ds, "yandex-0");
 *     ...
 *     frost_dataset_release(&ds);
 */
#ifndef FROST_DATASET_H
#define FROST_DATASET_H

#include "frost/status.h"
#include "frost/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FROST_DATASET_FORMAT "frost.dataset"
#define FROST_DATASET_VERSION 1

typedef enum frost_task {
    FROST_TASK_MULTICLASS = 0, /* one label column, classes 0 .. C-1 */
    FROST_TASK_BINARY = 1      /* T label columns of 0/1 (multi-task) */
} frost_task;

typedef enum frost_metric {
    FROST_METRIC_ACCURACY = 0, /* fraction of correct argmax, mean over tasks */
    FROST_METRIC_ROCAUC = 1    /* ROC-AUC per task with both classes, averaged */
} frost_metric;

typedef struct frost_split {
    char name[64];
    int64_t n_train, n_valid, n_test;
    int64_t *train; /* (n_train) node ids */
    int64_t *valid; /* (n_valid) */
    int64_t *test;  /* (n_test) */
} frost_split;

typedef struct frost_partitioning {
    char name[64];            /* "metis-k8" */
    int32_t k;
    int32_t *part;            /* (N) part of each node, 0 .. k-1 */
} frost_partitioning;

typedef struct frost_dataset {
    char name[128];
    char source[FROST_PATH_CAP + 256]; /* provenance: import folder or synth parameters */
    int64_t num_nodes;          /* N */
    int64_t num_features;       /* F (0: no node features) */
    int32_t num_classes;        /* C (binary tasks: 2) */
    int32_t num_tasks;          /* T label columns */
    frost_task task_type;
    frost_metric metric;
    /* Adjacency: row i lists the targets j of the stored edges i -> j. */
    frost_csr graph;
    bool symmetric;             /* every stored (i, j) has (j, i) */
    bool inverse_edges_added;   /* reverse edges were added on import */
    bool deduplicated;          /* repeated pairs were dropped */
    frost_self_loops self_loops;/* how self-loops were treated on import */
    int64_t edge_list_edges;    /* lines of the source edge list */
    float *feat;                /* (N, F) row-major; NULL if F = 0 */
    int64_t num_edge_features;  /* Fe (0: none) */
    float *edge_feat;           /* (nnz, Fe), aligned with graph.indices */
    int32_t *label;             /* (N, T) row-major; -1 = unlabelled */
    int32_t *year;              /* (N) or NULL */
    int32_t num_splits;
    frost_split *splits;        /* (num_splits) */
    int32_t num_partitions;
    frost_partitioning *partitions; /* (num_partitions), stored under /partition */
    int64_t *original_id;       /* (N) or NULL: id of each node before a reordering */
    char *class_names;          /* owned or NULL: the classes' names in class order, one per line
                                   (from an OGB folder's mapping/labelidx2*.csv) */
} frost_dataset;

/* Read a dataset file; checks format and version. On failure nothing is
 * left allocated and the error names the file and the field. */
FROST_API frost_status frost_dataset_load(frost_dataset *ds, const char *path);

/* Write a dataset file atomically (temporary name, then rename). */
FROST_API frost_status frost_dataset_save(const frost_dataset *ds, const char *path, int compression);

FROST_API void frost_dataset_release(frost_dataset *ds);

/* Split by name, or NULL. */
FROST_API const frost_split *frost_dataset_split(const frost_dataset *ds, const char *name);

/* Validate a dataset in memory (graph invariants, label and split ranges,
 * no repeated ids in a split). */
FROST_API frost_status frost_dataset_check(const frost_dataset *ds);

FROST_API const char *frost_task_name(frost_task t);
FROST_API const char *frost_metric_name(frost_metric m);

/* Progress of long operations: stage name, fraction done in [0, 1]. */
typedef void (*frost_progress_fn)(const char *stage, double fraction, void *user);

/* ---- import from the OGB raw layout ------------------------------------ */

typedef struct frost_import_opts {
    const char *name;           /* dataset name (default: the folder's name) */
    bool add_inverse_edges;     /* store (j, i) for every (i, j), like OGB's add_inverse_edge */
    bool keep_duplicates;       /* default false: repeated pairs dropped */
    frost_self_loops self_loops;/* default KEEP */
    int32_t num_classes;        /* 0: infer max label + 1 */
    int task_type;              /* -1: infer (several label columns = binary) */
    int metric;                 /* -1: infer (binary -> rocauc, else accuracy) */
    int compression;            /* deflate level 0..9 for large arrays (default 1) */
    frost_progress_fn progress;
    void *progress_user;
} frost_import_opts;

FROST_API frost_import_opts frost_import_opts_default(void);

/* ---- import from an edge list (frost import edgelist) ------------------ */

/* Text files (gzip too; fields separated by commas and/or blanks; blank and
 * '#' lines skipped) or numpy .npy arrays. */
typedef struct frost_edgelist_files {
    const char *edges;          /* "src dst" per line, or .npy (2, E) / (E, 2) */
    const char *features;       /* optional: one row of numbers per node, or .npy (N, F) */
    const char *labels;         /* optional: one row per node (several columns: binary tasks; empty, nan or -1:
                                   unlabelled), or .npy (N) / (N, T); without it --num-classes is needed */
    int64_t num_nodes;          /* 0: the feature rows, else the largest id + 1 */
    int32_t n_splits;
    struct {
        const char *name;
        const char *part[3];    /* train, valid, test: node ids, one per line, or .npy */
    } splits[16];
} frost_edgelist_files;

FROST_API frost_status frost_import_edgelist(const frost_edgelist_files *in, const char *out_path,
                                             const frost_import_opts *opts);

/* OGB's own settings for an ogbn dataset known by DIR's last name
 * (ogbn-arxiv, ogbn_products, proteins, ...: case, "_" for "-" and the
 * "ogbn-" prefix do not matter): inverse edges, classes or tasks, task type,
 * metric, as OGB's master table has them. Returns 1 and fills o (its other
 * fields untouched) and `said` (what was applied, one line) when known, 0
 * when not, and an error for a known dataset whose raw layout frost does not
 * read (ogbn-mag's heterogeneous files, ogbn-papers100M's npz). */
FROST_API int frost_import_ogb_preset(const char *dir, frost_import_opts *o, char *said, size_t cap);

/* Import DIR (raw/ and split/ subfolders, .csv.gz or .csv) into OUT. Streams
 * node features straight into the file. On any error OUT is not created (or
 * left untouched if it existed). */
FROST_API frost_status frost_import_ogb(const char *dir, const char *out_path,
                                        const frost_import_opts *opts);

/* Synthetic graphs (frost_synth) are in frost/synth.h. */

/* ---- partitions and reordering ------------------------------------------ */

/* METIS k-way partition of the dataset's graph, added to ds->partitions (an
 * existing one of the same name is replaced). */
FROST_API frost_status frost_dataset_partition(frost_dataset *ds, int32_t k, double imbalance, uint64_t seed,
                                               const char *name);
FROST_API const frost_partitioning *frost_dataset_partitioning(const frost_dataset *ds, const char *name);

/* A copy of ds with its nodes renumbered: node `new` is old node perm[new].
 * Graph, features, labels, years, splits (ids renumbered, order kept) and
 * partitions follow; out->original_id records the old ids (composed with any
 * earlier reordering). */
FROST_API frost_status frost_dataset_permute(frost_dataset *out, const frost_dataset *in, const int64_t *perm);

/* The permutation that makes each part of a partitioning contiguous (parts in
 * order, nodes in id order within a part): a counting sort. */
FROST_API frost_status frost_partition_order(int64_t *perm, const int32_t *part, int64_t n, int32_t k);

/* ---- statistics (frost info) ------------------------------------------- */

typedef struct frost_dataset_stats {
    int64_t num_nodes, stored_edges, self_loops, isolated;
    bool symmetric;
    int64_t deg_min, deg_max, deg_median; /* out-degree (row length) */
    double deg_mean, deg_std;
    int64_t in_deg_max;
    double feature_density;     /* nonzero fraction of /node/feat */
    int64_t labelled;           /* nodes with at least one label */
    int64_t *class_counts;      /* (C) multiclass; (T) positives per task for binary; malloc'd */
    double edge_homophily;      /* multiclass: fraction of edges (both ends labelled) inside a class; NaN otherwise */
    int64_t homophily_edges;    /* edges counted */
    int64_t nonfinite_features; /* NaN or infinite entries of /node/feat (frost run refuses them) */
    int64_t first_nonfinite;    /* the first one's flat index (node * F + column), -1 if none */
} frost_dataset_stats;

FROST_API frost_status frost_dataset_stats_compute(const frost_dataset *ds, frost_dataset_stats *st);
FROST_API void frost_dataset_stats_release(frost_dataset_stats *st);

#ifdef __cplusplus
}
#endif
#endif

/*
 * frost/train.h - full-batch training with the OGB protocol: train on the
 * split's training nodes, evaluate every k epochs, keep the epoch with the
 * best validation metric and report the test metric there.
 *
 *     frost_task_data d = {...};                 // features, labels, split
 *     frost_train_opts o = frost_train_opts_default();
 *     o.epochs = 200; o.seed = run;
 *     frost_run_result r;
 *     frost_train(model, &d, &o, &r);            // model ends in its best state
 *     printf("%g\n", r.test_at_best);
 *     frost_run_result_release(&r);
 */
#ifndef FROST_TRAIN_H
#define FROST_TRAIN_H

#include "frost/status.h"
#include "frost/dataset.h"
#include "frost/model.h"
#include "frost/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct frost_task_data {
    int64_t N, F;
    const float *X;             /* (N, F) */
    const int32_t *labels;      /* (N) multiclass or (N, T) binary; -1 = none */
    frost_task task;
    frost_metric metric;
    int64_t C;                  /* model outputs: classes (multiclass) or tasks (binary) */
    const int64_t *train, *valid, *test;
    int64_t n_train, n_valid, n_test;
    /* Portable reward tuning: (N, C) log-probabilities of a frozen base model
     * added to the model's output before the loss and the metrics (NULL: none). */
    const float *prior;
} frost_task_data;

typedef struct frost_epoch_record {
    int64_t epoch;              /* 1-based */
    double loss;
    double train_metric, valid_metric, test_metric; /* NaN when not evaluated this epoch */
    double train_seconds;       /* forward, backward, update */
    double eval_seconds;
    double lr;
} frost_epoch_record;

typedef void (*frost_epoch_fn)(const frost_epoch_record *rec, void *user);

typedef struct frost_train_opts {
    int64_t epochs;
    int64_t eval_every;         /* evaluate every k epochs (and at the last) */
    int64_t patience;           /* stop after this many evaluations without improvement (0: never) */
    frost_optim_spec optim;
    uint64_t seed;              /* dropout masks (the model's init seed is separate) */
    double entropy_alpha;       /* PRT: loss - alpha * mean entropy of softmax(model output) */
    frost_epoch_fn on_epoch;
    void *user;
    const volatile int *stop;   /* set non-zero to stop after the current epoch */
    /* Checkpoints: every checkpoint_every epochs (0: never) the whole
     * training state (model, best state so far, optimizer, history) is
     * written to the file checkpoint, atomically. A run started with a
     * checkpoint file of the same checkpoint_key (which should name the run
     * and its configuration) continues after its last epoch, to the same
     * numbers as a run never stopped; a file of another key, or damaged, is
     * ignored. frost_train only (not Cluster-GCN or MPI). */
    const char *checkpoint;
    int64_t checkpoint_every;
    uint64_t checkpoint_key;
    /* frost_train (full batch) only: called once, with input_spent_ctx, when
     * the model has made all it reads of d->X this run
     * (frost_model_hold_input_ex). The caller may free the features then:
     * this run reads them no more. */
    frost_input_spent_fn input_spent;
    void *input_spent_ctx;
} frost_train_opts;

FROST_API frost_train_opts frost_train_opts_default(void);

typedef struct frost_run_result {
    int64_t best_epoch;         /* 1-based; 0 if no evaluation happened */
    int64_t epochs_run;
    double best_valid, test_at_best, train_at_best;
    double final_loss;
    double train_seconds, eval_seconds; /* totals */
    frost_epoch_record *history;        /* (n_history) */
    int64_t n_history;
    bool diverged;
    bool stopped;               /* interrupted through opts.stop */
    int64_t resumed_from;       /* epochs done by the checkpoint this run continued from (0: none) */
    int64_t checkpoint_epoch;   /* the last epoch this call wrote a checkpoint after (0: none) */
    char checkpoint_note[320];  /* a checkpoint there but not used, or writes given up: why ("" otherwise) */
    char message[256];          /* why training stopped early */
} frost_run_result;

FROST_API void frost_run_result_release(frost_run_result *r);

/* Train from the model's current state; on return the model holds the
 * best-validation state (weights or scores, batch-norm statistics) and its
 * eval-mode logits. A diverging run (NaN or Inf loss) stops cleanly with
 * diverged = true; that is not an error status. */
FROST_API frost_status frost_train(frost_model *m, const frost_task_data *d, const frost_train_opts *o,
                                   frost_run_result *res);

/* ---- Cluster-GCN mini-batches (Chiang et al., KDD 2019) -----------------------
 * The nodes are split into `parts` parts (METIS); every epoch the parts are
 * shuffled from (seed, epoch) and grouped parts_per_batch at a time; each
 * batch trains one step on the subgraph its nodes induce (the aggregation
 * and its normalisation recomputed on it), with the loss over the batch's
 * training nodes. Evaluation runs on the full graph. The model is built for
 * the N nodes of A; it ends bound to A again. */
typedef struct frost_cluster_opts {
    const frost_csr *A, *AT; /* the full aggregation graph; AT NULL when A is symmetric */
    const int32_t *part;     /* (N) part of every node, 0 .. parts-1 */
    int32_t parts;           /* k */
    int32_t parts_per_batch; /* q */
} frost_cluster_opts;

FROST_API frost_status frost_train_cluster(frost_model *m, const frost_task_data *d, const frost_cluster_opts *c,
                                           const frost_train_opts *o, frost_run_result *res);

/* Batches per epoch: ceil(parts / parts_per_batch). */
FROST_API int64_t frost_cluster_num_batches(int32_t parts, int32_t parts_per_batch);
/* The epoch's order of the parts (a permutation of 0 .. parts-1). */
FROST_API void frost_cluster_order(int32_t *order, int32_t parts, uint64_t seed, int64_t epoch);
/* The nodes of batch b of an epoch, increasing: nodes needs room for N. */
FROST_API frost_status frost_cluster_batch(const int32_t *part, int64_t N, int32_t parts, int32_t parts_per_batch,
                                           uint64_t seed, int64_t epoch, int64_t b, int64_t *nodes, int64_t *n_nodes);

/* ---- neighbour-sampled mini-batches (GraphSAGE; PyG's NeighborLoader) -----------
 * Every epoch the training nodes are shuffled from (seed, epoch) and taken
 * batch_size at a time as seed nodes. From the seeds, hop h (1 .. hops)
 * samples fanout[h - 1] in-neighbours of every node first reached at hop
 * h - 1, without replacement (-1 or a fanout >= the degree: all of them);
 * a node is sampled from once, when first reached. The batch is the graph of
 * the sampled edges over the reached nodes (the seeds first, then in order of
 * discovery); the model, every layer on every reached node as PyG runs it,
 * recomputes its aggregation and normalisation on that graph, and one
 * optimizer step follows on the loss over the seeds. Deterministic per seed:
 * the draws of step t come from stream (SAMPLE, t). Evaluation runs on the
 * full graph. The model is built for the N nodes of A; it ends bound to A. */
typedef struct frost_sample_opts {
    const frost_csr *A, *AT; /* the full aggregation graph; AT NULL when A is symmetric */
    int32_t batch_size;      /* seed (training) nodes per mini-batch */
    int32_t hops;            /* entries of fanout: the model's layers */
    const int32_t *fanout;   /* (hops) in-neighbours per node at each hop, the seeds' first; -1: all */
} frost_sample_opts;

FROST_API frost_status frost_train_sample(frost_model *m, const frost_task_data *d, const frost_sample_opts *s,
                                          const frost_train_opts *o, frost_run_result *res);

/* One sampled mini-batch from the seeds (n_seeds distinct nodes): *out
 * receives the sampled graph (row k: the sampled in-neighbours of nodes[k],
 * as positions in nodes, in A's stored order), nodes (room for A's N rows)
 * the reached nodes, seeds first, and *n_nodes their count. Draws from
 * (seed, stream (SAMPLE, step)). fanout: hops entries, each -1 (all) or
 * >= 1. pos: an optional map of N entries, all -1 on entry and again on
 * return (NULL: one is allocated). */
FROST_API frost_status frost_sample_neighbors(frost_csr *out, int64_t *nodes, int64_t *n_nodes, const frost_csr *A,
                                              const int64_t *seeds, int64_t n_seeds, int32_t hops,
                                              const int32_t *fanout, uint64_t seed, uint64_t step, int32_t *pos);

/* The training nodes' order in an epoch: train (n) shuffled by a
 * Fisher-Yates permutation drawn from (seed, SHUFFLE, epoch); batch b is
 * entries b * batch_size onwards. */
FROST_API void frost_sample_order(int64_t *order, const int64_t *train, int64_t n, uint64_t seed, int64_t epoch);

/* Eval-mode forward and the metric on the three parts of the split. */
FROST_API frost_status frost_evaluate(frost_model *m, const frost_task_data *d, double *train, double *valid,
                                      double *test);

/* 64-bit FNV-1a hash of n bytes: fingerprints of logits. */
FROST_API uint64_t frost_hash64(const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif

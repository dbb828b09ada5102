/*
 * train_impl.h - the training loop with replaceable parts, for the loops
 * that differ from full-batch training in one process only in how an epoch
 * trains or how metrics are gathered: Cluster-GCN mini-batches (cluster.c),
 * neighbour-sampled mini-batches (sample.c), both through batch.c, and
 * distributed training (src/dist/train.c).
 */
#ifndef FROST_TRAIN_IMPL_H
#define FROST_TRAIN_IMPL_H

#include "frost/train.h"
#include "core/core_impl.h"

typedef struct frost__train_hooks {
    void *ctx;
    /* One epoch of training: every forward, backward and optimizer step of
     * epoch e (0-based); *loss receives its training loss (a non-finite loss
     * stops the run). The model must be left ready for an evaluation pass on
     * d. NULL: one full-batch step on d. */
    frost_status (*epoch)(void *ctx, frost_model *m, frost_optim *opt, const frost_task_data *d,
                          const frost_train_opts *o, int64_t e, double *loss);
    /* The metric on d's train, valid and test nodes after an eval-mode
     * forward. NULL: over d's nodes in this process. */
    frost_status (*evaluate)(void *ctx, frost_model *m, const frost_task_data *d, double *train, double *valid,
                             double *test);
    /* Whether any process wants to stop (NULL: this process's flag). */
    bool (*any)(void *ctx, bool flag);
    /* Epoch e depends only on the model, the optimizer and (seed, e): a
     * checkpoint (o->checkpoint) may continue the run. */
    bool resumable;
    /* Several processes with the same training state: this one reads the
     * checkpoint but leaves writing it to another (process 0). */
    bool ckpt_read_only;
    /* Whether every process holds the same v (NULL: one process). A run
     * continues from a checkpoint only when all read the same one. */
    bool (*same)(void *ctx, uint64_t v);
} frost__train_hooks;

/* The training loss and its gradient, chosen here and nowhere else: binary
 * cross-entropy with logits for a binary task, softmax cross-entropy
 * otherwise, and with a prior (d->prior, portable reward tuning) the reward
 * loss of prt.md 1.6 on scores = prior + out with entropy weight
 * entropy_alpha. Over the nodes idx (n_idx) of labels ((N, T) or (N));
 * dz receives the gradient rows of those nodes with respect to out. */
double frost__train_loss(float *dz, const float *scores, const float *out, const frost_task_data *d,
                         const int32_t *labels, const int64_t *idx, int64_t n_idx, double entropy_alpha);

/* ---- mini-batch epochs (batch.c; Cluster-GCN and neighbour sampling) ---- */

/* One mini-batch: the nodes it gathers (global ids; n), the graph it
 * trains on (A over the n rows; AT its transpose, or empty when A is
 * symmetric) and the local rows of its loss (idx, n_idx). */
typedef struct frost__batch {
    const int64_t *nodes;
    int64_t n;
    frost_csr A, AT;
    const int64_t *idx;
    int64_t n_idx;
} frost__batch;

/* Builds batch b of epoch e into *bt (A and AT allocated by the maker,
 * released by the epoch; n_idx 0 skips the batch). */
typedef frost_status (*frost__batch_fn)(void *ctx, const frost_task_data *d, const frost_train_opts *o, int64_t e,
                                        int64_t b, frost__batch *bt);

/* The gathered rows of a batch: features (cap, F) and labels (cap, T), grown as needed. */
typedef struct frost__batch_rows {
    float *X;
    int32_t *labels;
    int64_t cap;
} frost__batch_rows;

void frost__batch_rows_release(frost__batch_rows *r);

/* One epoch of nb mini-batches from make(): each gathers its rows of d's
 * features and labels, binds the model to its graph, runs a train-mode
 * forward with the dropout masks of step e * nb + b, the loss over its idx
 * rows, backward and the optimizer's step for epoch e. A non-finite loss
 * ends the epoch. *loss is the mean over the labels counted; the model ends
 * bound to the full graph (A, AT; AT NULL when A is symmetric) with d->N
 * rows. */
frost_status frost__batch_epoch(frost_model *m, frost_optim *opt, const frost_task_data *d, const frost_train_opts *o,
                                int64_t e, int64_t nb, frost__batch_fn make, void *ctx, frost__batch_rows *rows,
                                const frost_csr *A, const frost_csr *AT, double *loss);

/* The optimizer's state for checkpoints: its floats (moments, velocities),
 * one slab of frost__optim_state_floats, and its step count. */
size_t frost__optim_state_floats(const frost_optim *o);
float *frost__optim_state(frost_optim *o, int64_t **t);

/* frost_train with hooks (NULL: frost_train). */
frost_status frost__train(frost_model *m, const frost_task_data *d, const frost_train_opts *o,
                          const frost__train_hooks *h, frost_run_result *res);

#endif

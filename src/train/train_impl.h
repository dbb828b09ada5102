/*
 * train_impl.h - the training loop with replaceable parts, for the loops
 * that differ from full-batch training in one process only in how an epoch
 * trains or how metrics are gathered: Cluster-GCN mini-batches (cluster.c)
 * and distributed training (src/dist/train.c).
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
    /* One process, and epoch e depends only on the model, the optimizer and
     * (seed, e): a checkpoint (o->checkpoint) may continue the run. */
    bool resumable;
} frost__train_hooks;

/* The training loss and its gradient, chosen here and nowhere else: binary
 * cross-entropy with logits for a binary task, softmax cross-entropy
 * otherwise, and with a prior (d->prior, portable reward tuning) the reward
 * loss of prt.md 1.6 on scores = prior + out with entropy weight
 * entropy_alpha. Over the nodes idx (n_idx) of labels ((N, T) or (N));
 * dz receives the gradient rows of those nodes with respect to out. */
double frost__train_loss(float *dz, const float *scores, const float *out, const frost_task_data *d,
                         const int32_t *labels, const int64_t *idx, int64_t n_idx, double entropy_alpha);

/* One optimizer step on a mini-batch (cluster.c; Cluster-GCN and neighbour
 * sampling): rows nodes[0 .. n) of d's features and labels gathered into X
 * ((n, F)) and labels, the model bound to the batch graph (A, AT; AT NULL
 * when A is symmetric) with n rows, a train-mode forward with the dropout
 * masks of `step`, the loss over the local rows idx (n_idx), backward and
 * the optimizer's step for epoch e. *n_lab receives the labels the loss
 * counted (0: nothing was done) and *loss the loss (non-finite: no step). */
frost_status frost__batch_step(frost_model *m, frost_optim *opt, const frost_task_data *d, const frost_train_opts *o,
                               int64_t e, int64_t step, const int64_t *nodes, int64_t n, const frost_csr *A,
                               const frost_csr *AT, float *X, int32_t *labels, const int64_t *idx, int64_t n_idx,
                               double *loss, int64_t *n_lab);

/* The optimizer's state for checkpoints: its floats (moments, velocities),
 * one slab of frost__optim_state_floats, and its step count. */
size_t frost__optim_state_floats(const frost_optim *o);
float *frost__optim_state(frost_optim *o, int64_t **t);

/* frost_train with hooks (NULL: frost_train). */
frost_status frost__train(frost_model *m, const frost_task_data *d, const frost_train_opts *o,
                          const frost__train_hooks *h, frost_run_result *res);

#endif

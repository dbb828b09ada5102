/*
 * dist_impl.h - the pieces of distributed training (src/dist/):
 *
 *   plan.c     which nodes a process owns, its halo, its share of the graph
 *              and what it sends to whom (no MPI: plain graph work);
 *   select.c   the k-th smallest of keys spread over processes (radix
 *              selection with summed histograms);
 *   comm.c     the MPI layer: collectives and the halo exchange, with byte
 *              and time counters (stubs when frost is built without MPI);
 *   train.c    a run on this process's share: the model's hooks, the
 *              loss and metrics over all processes, the gradient allreduce.
 *
 * Shape legend: N nodes of the graph, P processes, n_owned nodes this
 * process owns, n_halo the other processes' nodes its own aggregate from,
 * n_local = n_owned + n_halo.
 */
#ifndef FROST_DIST_IMPL_H
#define FROST_DIST_IMPL_H

#include "frost/dist.h"
#include "frost/graph.h"
#include "frost/model.h"
#include "frost/train.h"
#include "core/core_impl.h"

/* ---- the plan (plan.c) --------------------------------------------------------
 * Local rows: the owned nodes in increasing global id, then the halo grouped
 * by owner (process order) and in increasing global id within an owner. So
 * the halo rows process q sends form one block, and the rows it sends are
 * its owned rows in increasing id: both sides agree on the order without a
 * message. A row of the local graph lists its neighbours in the global
 * row's order, so an aggregation sums the same terms in the same order as
 * in one process. */
typedef struct frost__halo_plan {
    int32_t rank, size;
    int64_t n_global, n_owned, n_local;
    int64_t *gid;       /* (n_local) global id of every local row */
    int64_t *recv_off;  /* (size + 1) halo rows from q: n_owned + recv_off[q] .. n_owned + recv_off[q + 1] */
    int64_t *send_off;  /* (size + 1) entries of send_rows for q: send_off[q] .. send_off[q + 1] */
    int64_t *send_rows; /* (send_off[size]) owned local rows sent to each q, in q's halo order */
    frost_csr A;        /* (n_owned, n_local): rows of the owned nodes of the aggregation graph */
    frost_csr AT;       /* (n_local, n_owned): its transpose */
} frost__halo_plan;

/* The plan of process `rank` of `size` for the aggregation graph G (N x N,
 * row i = the nodes i aggregates from) with part[i] in 0 .. size-1. */
frost_status frost__halo_plan_build(frost__halo_plan *p, const frost_csr *G, const int32_t *part, int32_t size,
                                    int32_t rank);
/* The same plan from this process's rows alone, for a symmetric graph:
 * R (n_owned x N, global columns) holds the rows of the owned nodes own[]
 * (increasing; part[own[k]] = rank). What other processes need from this
 * one follows from these rows by symmetry, so no other row is read. */
frost_status frost__halo_plan_build_rows(frost__halo_plan *p, const frost_csr *R, const int64_t *own,
                                         const int32_t *part, int64_t N, int32_t size, int32_t rank);
void frost__halo_plan_release(frost__halo_plan *p);

/* ---- selection (select.c) ------------------------------------------------------
 * The k-th smallest (0-based) value of the union of `ns` slices of floats
 * (NaN-free) and how many values are below it, exactly: four rounds of a
 * 256-bin histogram on the keys' order-preserving bit patterns, each summed
 * over processes by reduce (NULL: this process holds every slice). */
typedef void (*frost__reduce_i64_fn)(void *ctx, int64_t *v, int64_t n);
void frost__radix_select(const float *const *slices, const int64_t *lens, int32_t ns, int64_t k,
                         frost__reduce_i64_fn reduce, void *ctx, float *v, int64_t *less);

/* ---- communication (comm.c) ---------------------------------------------------- */
typedef struct frost__comm frost__comm;

/* The world of `mpirun` when it has more than one process, else NULL. */
frost__comm *frost__comm_world(void);
int frost__comm_rank(const frost__comm *c);
int frost__comm_size(const frost__comm *c);

/* In-place sums (and a maximum) over processes. */
void frost__comm_sum_f64(frost__comm *c, double *v, int64_t n);
void frost__comm_sum_i64(frost__comm *c, int64_t *v, int64_t n);
void frost__comm_max_i64(frost__comm *c, int64_t *v, int64_t n);
void frost__comm_bcast(frost__comm *c, void *buf, int64_t bytes, int root);
void frost__comm_barrier(frost__comm *c);
/* Every process's bytes, concatenated in process order, to root (gather)
 * or to all (allgather): *out malloc'd (root or all), counts (size) bytes
 * per process. */
frost_status frost__comm_gather(frost__comm *c, const void *send, int64_t bytes, int root, void **out, int64_t *counts);
frost_status frost__comm_allgather(frost__comm *c, const void *send, int64_t bytes, void **out, int64_t *counts);

/* What went over the wire and how long it took, since the last reset
 * (this process). */
typedef struct frost__comm_counters {
    int64_t halo_bytes, reduce_bytes; /* sent */
    double halo_seconds, reduce_seconds;
} frost__comm_counters;
void frost__comm_counters_get(const frost__comm *c, frost__comm_counters *out);
void frost__comm_counters_reset(frost__comm *c);

/* The halo exchange of a plan, buffers for widths up to max_width. */
typedef struct frost__halo frost__halo;
frost_status frost__halo_new(frost__halo **out, frost__comm *c, const frost__halo_plan *p, int64_t max_width);
void frost__halo_free(frost__halo **h);
/* Bytes of its message buffers. */
int64_t frost__halo_bytes(const frost__halo *h);
/* x (n_local, F): halo rows from their owners. */
void frost__halo_forward(frost__halo *h, float *x, int64_t F);
/* g (n_local, F): halo rows added into their owners' rows (in process
 * order), the halo rows left as they were. */
void frost__halo_backward(frost__halo *h, float *g, int64_t F);

/* ---- a distributed run (train.c) ------------------------------------------------ */

/* What a distributed run trains: every process holds the whole dataset and
 * keeps its share. */
typedef struct frost__dist_job {
    const frost_csr *A, *AT;    /* aggregation graph of all N nodes (row i: the nodes i aggregates
                                   from); AT its transpose, A itself when symmetric */
    const float *X;             /* (N, F) features */
    const int64_t *original_id; /* (N) a renumbered dataset's original ids (dropout masks), or NULL */
    frost_task_data task;       /* labels and split over all N nodes (no prior) */
    frost_model_spec spec;
} frost__dist_job;

/* One process's share of a run (local.c): the same bits whichever way it
 * was made. */
typedef struct frost__dist_share {
    frost__halo_plan plan;
    float *X;                      /* (n_local, F) prepared features */
    int32_t *labels;               /* (n_local, T) */
    int64_t *train, *valid, *test; /* owned local rows of the split */
    int64_t n_train, n_valid, n_test;
    float *a, *b, *c;              /* the aggregation's coefficients: a, c (n_owned; c 0 on halo rows,
                                      n_local long), b (n_local); NULL where the operator has none */
    int64_t *mask_ids;             /* (n_local) original ids of a renumbered dataset (dropout masks), or NULL */
    int64_t *deg;                  /* (n_local) degrees in the aggregation graph (a share read from the file) */
} frost__dist_share;

/* A dataset file a process reads its share from. */
typedef struct frost__dist_file {
    const char *path;
    const char *partition;         /* stored partition with one part per process */
    frost_task_data task;          /* N, F, C, task, metric, the split's global node lists (no X, no labels) */
    bool symmetric, labelled;      /* the stored graph's flag; /node/label present */
    bool row_norm;                 /* frost_prepare's options */
    int32_t self_loops;
} frost__dist_file;

/* From the whole prepared dataset (job j), part[] (N) in 0 .. P-1. */
frost_status frost__dist_share_global(frost__dist_share *s, const frost__dist_job *j, const int32_t *part, int32_t P,
                                      int32_t rank);
/* From the file, reading only this process's rows (symmetric graphs):
 * everything but the coefficients, which frost__dist_share_coefficients
 * makes for a model from the degrees (once per job, then once per run). */
frost_status frost__dist_share_load(frost__dist_share *s, const frost__dist_file *f, int32_t P, int32_t rank);
frost_status frost__dist_share_coefficients(frost__dist_share *s, const frost_model_spec *spec);
void frost__dist_share_release(frost__dist_share *s);

/* Train one run on this process's share s (g: the task's sizes, metric
 * and kind over all N nodes). On return every process has the run's outcome and
 * the model state; the eval logits of all nodes (global order) and their
 * hash on `root`, the communication counters in *stats. */
typedef struct frost__dist_outcome {
    frost_run_result res;
    float *params, *bn; /* frost_model_state_export arrays */
    uint8_t *mask;
    frost_model_state_sizes sizes;
    int64_t model_bits, dense_bits;
    uint64_t logits_hash; /* root only */
    frost_dist_stats stats;
} frost__dist_outcome;

frost_status frost__dist_train(frost__comm *c, const frost__dist_share *s, const frost_task_data *g,
                               const frost_model_spec *spec, uint64_t seed, const frost_train_opts *o,
                               frost__dist_outcome *out);
void frost__dist_outcome_release(frost__dist_outcome *o);

#endif

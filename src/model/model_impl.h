/*
 * model_impl.h - the inside of frost_model: the sequencer (model.c), its
 * memory plan (plan.c), the table of layer kinds (kinds.c), state and
 * ticket access (model_io.c, ticket.c), and what distributed training
 * (src/dist/) sets to run a model on one process's share of a graph.
 *
 * Shape legend: N rows the buffers hold, n rows computed, fin / fout layer
 * widths, C outputs.
 */
#ifndef FROST_MODEL_IMPL_H
#define FROST_MODEL_IMPL_H

#include "frost/model.h"
#include "frost/tensor.h"
#include "frost/layers.h"
#include "layers/kind_impl.h"
#include "slt/slt_impl.h"
#include "core/core_impl.h"

/* ---- the layer kinds (kinds.c) -------------------------------------------------- */

/* The kind of an architecture's graph layers. */
const frost__kind *frost__kind_of(frost_arch a);
/* A kind's settings from a spec (inner widths, self weights, normalisation). */
frost__kind_args frost__kind_args_of(const frost_model_spec *s);

/* ---- distributed training: how a model runs on one process's share -------
 * The graph's nodes are spread over P processes. This process owns n_owned
 * of them (local rows 0 .. n_owned-1) and keeps copies of the halo, the
 * other processes' nodes its own aggregate from (rows n_owned .. n_local-1).
 * The model is built for n_local rows and computes every dense step on the
 * owned rows only; its layers reach the halo through their execution
 * context (kind_impl.h's frost__exec): before each sparse aggregation
 * halo_forward fills the halo rows of its input from their owners, and
 * after each transposed one (backward) halo_backward adds the halo rows'
 * gradients into the owners' rows. Batch statistics and the post block's
 * backward sums are added up over processes with allreduce; dropout masks
 * follow a node's global id. The caller sums parameter gradients across
 * processes (frost_train does with its own hooks) so that parameters stay
 * the same everywhere. */
typedef struct frost__dist {
    int64_t n_owned, n_local;
    int64_t n_global;   /* nodes over all processes */
    const int64_t *gid; /* (n_local) global id of every local row */
    /* the aggregation: A (n_owned, n_local) rows of the owned nodes, AT its
     * transpose (n_local, n_owned); a (n_owned), b and c (n_local; c is 0 on
     * halo rows) */
    frost__op op;
    void *ctx;
    void (*halo_forward)(void *ctx, float *x, int64_t F);  /* x (n_local, F): fill halo rows */
    void (*halo_backward)(void *ctx, float *g, int64_t F); /* g (n_local, F): halo rows into owners' */
    void (*allreduce)(void *ctx, double *v, int64_t n);    /* in place sum over processes */
    /* the supermask threshold: the k-th smallest (0-based) of keys (n), the
     * same on every process; *less = how many keys are below it. NULL: local
     * quickselect. keys may be reordered. */
    frost__select_fn select;
} frost__dist;

/* The aggregation operator a spec's architecture uses on graph A (AT its
 * transpose, or A), its per-node vectors written into v0, v1 (n each).
 * Fails for a kind that needs per-graph data beyond the vectors. */
frost_status frost__model_operator(const frost_model_spec *spec, frost__op *op, const frost_csr *A,
                                   const frost_csr *AT, float *v0, float *v1);

/* Run the model as one process's share (d borrowed; NULL: back to the
 * graph given to frost_model_new, all rows). */
frost_status frost__model_set_dist(frost_model *m, const frost__dist *d);

/* ---- the model -------------------------------------------------------------------- */

typedef struct frost__layer {
    frost__conv conv;       /* the kind's convolution z = conv(x): shapes, weights, biases, caches, z */
    frost__wmat *Wr;        /* model.root_weight (kinds that take it): z += x Wr (fin, fout) */
    bool post;              /* norm, ReLU (and dropout unless last) after the layer */
    bool dropout;           /* dropout in the post block */
    bool residual;          /* output += input */
    float *gamma, *beta, *dgamma, *dbeta; /* (fout) affine batch norm */
    float *rmean, *rvar;    /* (fout) running statistics */
    float *bmean, *binvstd; /* (fout) batch statistics of the last train forward */
    bool z_rebuilt;         /* z is not kept: backward rebuilds it (kind->rebuild_z, one product) */
    bool h_kept;            /* h has a buffer of its own and backward reads it (keep_activations) */
    float *h;               /* (N, fout) post-block output (before the residual): a scratch
                               buffer for hidden layers, rebuilt from z and bits in backward */
    uint64_t *bits;         /* (ceil(N fout / 64)) [h > 0] of the last training forward */
    float *hres;            /* (N, fout) h + input, when residual */
} frost__layer;

struct frost_model {
    frost_model_spec spec;
    const frost__kind *kind; /* the graph layers' kind */
    int64_t N; /* rows the buffers hold */
    int64_t n; /* rows forward and backward compute (frost_model_set_graph, dist) */
    int64_t E; /* graph entries the per-edge buffers hold (the graph of frost_model_new) */
    const frost_csr *A, *AT;
    frost__op op;            /* the aggregation on the bound graph */
    frost__exec ex;          /* the context the layers run in */
    const frost__dist *dist; /* distributed training, or NULL */
    const frost_csr *A_own;  /* the graph given to frost_model_new (its rows are the nodes) */
    const int64_t *node_ids; /* frost_model_set_node_ids, or NULL */
    const int64_t *mask_ids; /* (N) whose dropout masks each row draws: node_ids, dist->gid, both composed, or NULL */
    int64_t *mask_ids_own;   /* the composed ids when mask_ids needs its own array */
    float *opv0, *opv1;     /* (N) operator vectors */
    void *opws;             /* the kind's per-graph data (graph_bytes for N rows, E entries) */
    size_t opws_bytes;
    int32_t L;
    frost__layer *layer;    /* (L) */
    int32_t n_wmats;
    frost__wmat *wmats;     /* every maskable matrix, head last */
    frost__wmat *head;      /* skip head (hidden -> out) or NULL */
    float *head_b, *head_db;
    float *head_out;        /* (N, out) */
    float *logits;          /* points at the buffer holding the logits */
    float *logit_buf;       /* (N, out) when logits need their own buffer */
    float *dlogits;         /* (N, out): own buffer, or S[L & 1] from row N on (after the logits) */
    float *xin;             /* (N, F) input after input dropout, or NULL */
    float *S[4];            /* (N, sw) scratch: forward h ping-pong, backward gradients */
    int nS;                 /* scratch buffers allocated */
    int64_t sw;             /* scratch width: the widest layer side */
    double *bnwork;         /* (4 sw): the post block's work */
    float *gemm_work;       /* frost_gemm_ws's chunk products of the largest weight matrix */
    int32_t n_params;
    frost_param *params;
    /* slabs: one allocation per lifetime */
    void *slab_params, *slab_grads, *slab_acts, *slab_fixed, *slab_bwd;
    size_t bytes_params, bytes_grads, bytes_acts, bytes_fixed, bytes_bwd;
    size_t fixed_state_off; /* the fixed slab's state starts here: before it, the operator's vectors (N
                               entries each, rebuilt from the graph), not part of the training state */
    bool inference;         /* no gradients, no backward buffers */
    uint64_t seed;
    frost__supermask *sm;   /* the supermask of a ticket, or NULL (trained weights) */
    const frost__layer *z_held; /* during backward: the layer whose rebuilt z sits at z_held_at */
    float *z_held_at;
    frost_input_spent_fn spent; /* frost_model_hold_input_ex's, until called */
    void *spent_ctx;
    bool logits_in_scratch; /* the last layer's z (the logits) in S[L & 1] (plan.c) */
    int32_t z_over_x;       /* the layer whose kept z lives in its input's scratch buffer (plan.c), or -1 */
};

/* ---- the memory plan (plan.c) ------------------------------------------------------ */

/* Decide what is kept and what lives in scratch (z_rebuilt, h_kept,
 * logits_in_scratch), once the layers' shapes are known. */
void frost__plan_decide(frost_model *m);
/* One pass of the layout: with null slab bases it only measures. P
 * trainable values, G their gradients, X fixed values, A what a forward
 * pass needs, B what only training needs. */
void frost__plan_layout(frost_model *m, frost__slab *P, frost__slab *G, frost__slab *X, frost__slab *A,
                        frost__slab *B);
/* Layer l's z lives in scratch rather than a buffer of its own. */
bool frost__plan_z_in_scratch(const frost_model *m, int32_t l);

#endif

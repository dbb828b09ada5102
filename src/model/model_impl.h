/*
 * model_impl.h - the inside of frost_model, shared by model.c and the
 * supermask (strong lottery ticket) code.
 *
 * Shape legend: N nodes, fin / fout layer widths, K GIN-MLP inner width.
 */
#ifndef FROST_MODEL_IMPL_H
#define FROST_MODEL_IMPL_H

#include "frost/model.h"
#include "frost/tensor.h"
#include "frost/layers.h"
#include "core/core_impl.h"

/* ---- distributed training: how a model runs on one process's share -------
 * The graph's nodes are spread over P processes. This process owns n_owned
 * of them (local rows 0 .. n_owned-1) and keeps copies of the halo, the
 * other processes' nodes its own aggregate from (rows n_owned .. n_local-1).
 * The model is built for n_local rows and computes every dense step on the
 * owned rows only; before each sparse aggregation halo_forward fills the
 * halo rows of its input from their owners, and after each transposed one
 * (backward) halo_backward adds the halo rows' gradients into the owners'
 * rows. Batch statistics and the post block's backward sums are added up
 * over processes with allreduce; dropout masks follow a node's global id.
 * The caller sums parameter gradients across processes (frost_train does
 * with its own hooks) so that parameters stay the same everywhere. */
typedef struct frost__dist {
    int64_t n_owned, n_local;
    int64_t n_global;   /* nodes over all processes */
    const int64_t *gid; /* (n_local) global id of every local row */
    /* the aggregation: A (n_owned, n_local) rows of the owned nodes, AT its
     * transpose (n_local, n_owned); a (n_owned), b and c (n_local; c is 0 on
     * halo rows) */
    frost_aggr op;
    void *ctx;
    void (*halo_forward)(void *ctx, float *x, int64_t F);  /* x (n_local, F): fill halo rows */
    void (*halo_backward)(void *ctx, float *g, int64_t F); /* g (n_local, F): halo rows into owners' */
    void (*allreduce)(void *ctx, double *v, int64_t n);    /* in place sum over processes */
    /* the supermask threshold: the k-th smallest (0-based) of keys (n), the
     * same on every process; *less = how many keys are below it. NULL: local
     * quickselect. keys may be reordered. */
    void (*select)(void *ctx, float *keys, int64_t n, int64_t k, float *v, int64_t *less);
} frost__dist;

/* The aggregation operator a spec's architecture uses on graph A (AT its
 * transpose, or A), its per-node vectors written into v0, v1 (n each). */
void frost__model_operator(const frost_model_spec *spec, frost_aggr *op, const frost_csr *A, const frost_csr *AT,
                           float *v0, float *v1);

/* Run the model as one process's share (d borrowed; NULL: back to the
 * graph given to frost_model_new, all rows). */
void frost__model_set_dist(frost_model *m, const frost__dist *d);

/* ---- the post block over one process's rows (post_rows.c) ---------------- */
typedef struct frost__post_rows {
    frost_post p;                                       /* settings, statistics, bits and work as frost_post */
    const int64_t *gid;                                 /* (n) global row ids for the dropout masks; NULL = 0 .. n-1 */
    int64_t n_global;                                   /* rows over all processes: the statistics divide by it */
    void (*allreduce)(void *ctx, double *v, int64_t n); /* NULL: one process */
    void *ctx;
} frost__post_rows;

/* Training forward: statistics over all processes, then h with its bits. */
void frost__post_rows_forward(const frost__post_rows *p, float *h, const float *z, int64_t n, int64_t H);
/* Backward: dz (n, H) may alias dh; dgamma, dbeta (H) get this process's share. */
void frost__post_rows_backward(const frost__post_rows *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                               const float *z, int64_t n, int64_t H);
/* h of the last training forward again, from z, the statistics and bits. */
void frost__post_rows_recompute(const frost__post_rows *p, float *h, const float *z, int64_t n, int64_t H);
/* The phases (tests play several processes with them): column sums (2H:
 * sum, sum of squares) of this process's rows; statistics from the totals;
 * h and bits; backward sums (2H: T1, T2); dz from the totals. */
void frost__post_rows_sums(const float *z, int64_t n, int64_t H, double *sums);
void frost__post_rows_stats(const frost__post_rows *p, const double *sums, int64_t H);
void frost__post_rows_apply(const frost__post_rows *p, float *h, const float *z, int64_t n, int64_t H);
void frost__post_rows_grad_sums(const frost__post_rows *p, const float *dh, const float *z, int64_t n, int64_t H,
                                double *T);
void frost__post_rows_backward_apply(const frost__post_rows *p, float *dz, const float *dh, const float *z,
                                     const double *T, int64_t n, int64_t H);

/* One maskable weight matrix (fan_in rows, fan_out columns), Y = X W. */
typedef struct frost__wmat {
    int64_t rows, cols, n;  /* n = rows * cols */
    int32_t index;          /* position among the model's matrices: names its RNG streams */
    float *w;               /* (n) effective weights the layers use */
    float *dw;              /* (n) gradient with respect to w */
    /* supermask only */
    float *base;            /* (n) fixed random weights */
    float *score;           /* (n) trainable scores */
    float *dscore;          /* (n) */
    int8_t *code;           /* (n) -1 pruned, 0 free, +1 locked */
    uint8_t *keep;          /* (n) 1 if the current mask keeps the weight */
    float scale;            /* multiplier of the kept weights */
    int64_t n_pruned, n_locked; /* frozen counts */
    int64_t n_kept;         /* weights kept by the current mask */
} frost__wmat;

typedef struct frost__layer {
    frost_arch arch;        /* the layer's kind (MLP for an input projection) */
    int64_t fin, fout, k;
    frost__wmat *W0, *W1;   /* GCN/GIN/MLP: W0; SAGE: W0 = neighbours, W1 = root; GIN_MLP: W0 (F,K), W1 (K,H) */
    frost__wmat *Wr;        /* model.root_weight on GCN/GIN layers: Y += X Wr (F,H) */
    float *b0, *db0;        /* (fout) or (K) for GIN_MLP */
    float *b1, *db1;        /* GIN_MLP second bias (fout) */
    bool post;              /* norm, ReLU (and dropout unless last) after the layer */
    bool dropout;           /* dropout in the post block */
    bool residual;          /* output += input */
    float *gamma, *beta, *dgamma, *dbeta; /* (fout) affine batch norm */
    float *rmean, *rvar;    /* (fout) running statistics */
    float *bmean, *binvstd; /* (fout) batch statistics of the last train forward */
    float *cache0, *cache1; /* conv internals kept for backward (GCN, GIN with fout <= fin: scratch) */
    float *z;               /* (N, fout) conv output; scratch when z_rebuilt */
    bool z_rebuilt;         /* z = cache0 W0 + b0 is not kept: backward rebuilds it (one product) */
    bool h_kept;            /* h has a buffer of its own and backward reads it (keep_activations) */
    float *h;               /* (N, fout) post-block output (before the residual): a scratch
                               buffer for hidden layers, rebuilt from z and bits in backward */
    uint64_t *bits;         /* (ceil(N fout / 64)) [h > 0] of the last training forward */
    float *hres;            /* (N, fout) h + input, when residual */
} frost__layer;

struct frost_model {
    frost_model_spec spec;
    int64_t N; /* rows the buffers hold */
    int64_t n; /* rows forward and backward compute (frost_model_set_graph, dist) */
    const frost_csr *A, *AT;
    frost_aggr op;
    const frost__dist *dist; /* distributed training, or NULL */
    const frost_csr *A_own;  /* the graph given to frost_model_new (its rows are the nodes) */
    const int64_t *node_ids; /* frost_model_set_node_ids, or NULL */
    const int64_t *mask_ids; /* (N) whose dropout masks each row draws: node_ids, dist->gid, both composed, or NULL */
    int64_t *mask_ids_own;   /* the composed ids when mask_ids needs its own array */
    float *opv0, *opv1;     /* (N) operator vectors */
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
    float *keys;            /* (total masked weights) threshold selection scratch */
    float *gemm_work;       /* frost_gemm_ws's chunk products of the largest weight matrix */
    int32_t n_params;
    frost_param *params;
    /* slabs: one allocation per lifetime */
    void *slab_params, *slab_grads, *slab_acts, *slab_fixed, *slab_bwd;
    size_t bytes_params, bytes_grads, bytes_acts, bytes_fixed, bytes_bwd;
    bool inference;         /* no gradients, no backward buffers */
    uint64_t seed;
    bool supermask;
    const frost__layer *z_held; /* during backward: the layer whose rebuilt z sits at z_held_at */
    float *z_held_at;
    bool logits_in_scratch; /* the last layer's z (the logits) in S[L & 1] (plan in model.c) */
    double threshold;       /* last global threshold (supermask) */
    const float *held_x;    /* frost_model_hold_input: an input that does not change */
    bool held_agg;          /* layer 0's aggregation of held_x is in its cache0 */
};

/* ---- supermask (src/slt/supermask.c) ---------------------------------- */

/* Fixed weights, scores and the freeze pattern from the seed. */
frost_status frost__supermask_init(frost_model *m, uint64_t seed);
/* Threshold over the keys and new effective weights (after each step). */
void frost__supermask_update(frost_model *m);
/* dscore = sign(score) * dw * base * scale (straight-through), for every matrix. */
void frost__supermask_backward(frost_model *m);

/* Initialise n values of a (rows, cols) matrix with the given scheme. */
void frost__init_values(float *v, int64_t rows, int64_t cols, frost_init how, uint64_t seed, uint64_t stream);

#endif

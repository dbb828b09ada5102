/*
 * kind_impl.h - layer kinds: what a model needs to know about a kind of
 * graph layer (GCN, SAGE, GIN, ...) to run it, and the context it runs in.
 *
 * Shape legend: N rows the buffers hold, n rows computed (n <= N), E stored
 * entries of the graph, fin / fout the layer's input and output widths.
 *
 * A kind is a descriptor (frost__kind): its weight matrices and their
 * parameter names, its biases, the buffers its backward needs, whether its
 * operator is linear (so that the aggregation may run after the product, on
 * the narrower side), its init rules, the aggregation operator it builds on
 * a graph, and its forward and backward. Each kind lives in one file,
 * src/layers/<kind>.c, with the plain reference version beside it (the
 * public frost_<kind>_forward / _backward of frost/layers.h), which the
 * tests use as the oracle for what the model runs. The model
 * (src/model/) sequences layers through the table of kinds
 * (src/model/kinds.c) and never switches on the architecture.
 *
 * A layer computes on the rows of an execution context (frost__exec): in
 * one process every row; in distributed training the rows a process owns,
 * with rows beyond them holding copies of other processes' nodes (the
 * halo), filled and drained through callbacks. Layer code calls the
 * frost__exec_* helpers around its aggregations and never learns whether
 * other processes exist.
 */
#ifndef FROST_KIND_IMPL_H
#define FROST_KIND_IMPL_H

#include "frost/layers.h"
#include "layers/layers_impl.h"
#include "core/core_impl.h"

/* One weight matrix, Y = X W: rows = fan_in, cols = fan_out. */
typedef struct frost__wmat {
    int64_t rows, cols, n; /* n = rows * cols */
    int32_t index;         /* position among the model's matrices: names its RNG streams */
    frost_init init;       /* what FROST_INIT_DEFAULT means for it (the kind's rule) */
    float *w;              /* (n) the weights the layer uses (a ticket's effective weights) */
    float *dw;             /* (n) gradient with respect to w */
} frost__wmat;

/* A kind's settings that come from the model spec (filled by the table's
 * frost__kind_args_of). */
typedef struct frost__kind_args {
    int64_t inner;    /* GIN-MLP: width of the MLP's hidden layer */
    float self;       /* GIN, GIN-MLP: weight of the node's own term, 1 + eps */
    int32_t gcn_norm; /* GCN: frost_gcn_norm */
    int32_t heads;    /* GAT: attention heads of the hidden layers (concatenated) */
    int32_t out_heads;/* GAT: heads of the output layer (averaged) */
    float attn_dropout; /* GAT: dropout on the attention coefficients */
} frost__kind_args;

/* The aggregation operator of a kind on the bound graph. */
typedef struct frost__op {
    frost_aggr aggr; /* diag(a) A diag(b) X + diag(c) X; a, b, c (n) in the model's fixed slab */
    void *ws;        /* the kind's per-graph data (frost__kind.graph_bytes), or NULL */
} frost__op;

/* Where and how a layer computes (see the opening comment). */
typedef struct frost__exec {
    int64_t n;           /* rows computed */
    int64_t n_halo;      /* rows after them that copy other processes' nodes (0 in one process) */
    const frost__op *op; /* the aggregation on the bound graph */
    float *gemm_work;    /* frost_gemm_ws's work for the largest weight matrix */
    /* other processes (all NULL in one process): */
    void *ctx;
    void (*halo_forward)(void *ctx, float *x, int64_t F);  /* x (n + n_halo, F): fill the halo rows */
    void (*halo_backward)(void *ctx, float *g, int64_t F); /* g (n + n_halo, F): halo rows into their owners' */
    void (*allreduce)(void *ctx, double *v, int64_t n);    /* in place sum over processes */
    int64_t n_global;    /* rows over all processes (batch statistics divide by it) */
    /* the first layer's aggregation of an input that does not change
     * (frost_model_hold_input): made once, reused while held */
    const float *held_x;
    bool held_agg;
    /* the held input is gone (frost_model_hold_input_ex's spent): its
     * aggregation stands for it, and the passes name it NULL */
    bool held_spent;
} frost__exec;

/* A training pass's randomness (dropout inside a layer). */
typedef struct frost__pass {
    bool train;
    uint64_t seed;
    int64_t epoch;
} frost__pass;

struct frost__kind;

/* A layer's convolution: shapes, parameters and the buffers it keeps. */
#define FROST__KIND_MATS 3
#define FROST__KIND_CACHES 4
typedef struct frost__conv {
    const struct frost__kind *kind;
    frost__kind_args args;
    int32_t layer;          /* position in the model: names its random streams */
    bool last;              /* the model's last layer (its output) */
    int64_t fin, fout;
    bool agg_after;         /* aggregate after the product (z = op (x W)); set by the model for linear kinds */
    frost__wmat *W[FROST__KIND_MATS]; /* the kind's weight matrices (kind->n_mats of them) */
    float *b[2], *db[2];    /* biases (kind->n_bias; NULL without model.bias) */
    int64_t nb[2];          /* their lengths */
    int64_t b_fan_in[2];    /* their init bound's fan_in */
    int64_t cache_floats[FROST__KIND_CACHES]; /* buffers kept between forward and backward (0: none) */
    bool cache_temp[FROST__KIND_CACHES];      /* a forward intermediate only: may live in scratch (one at most) */
    float *cache[FROST__KIND_CACHES];
    int64_t scratch_w;      /* widest row backward writes into a scratch buffer besides fin and fout */
    float *z;               /* (N, fout) output */
} frost__conv;

/* What a kind's backward receives from the model. */
typedef struct frost__bwd {
    float *P;         /* (n, fout) dz; may be overwritten */
    float *Q, *R;     /* free scratch of (N, widest) (R only where bwd_buffers counted three) */
    bool panels;      /* dz is in column panels (tensor_impl.h): only when kind->dz_panels said so */
    bool first;       /* the input needs no gradient */
    bool extras;      /* the model adds terms that read the layer's input (root weight, skip head) */
    bool extras_dz;   /* ... and one of them reads dz too (the root weight) */
    void *u;
    /* the layer's input as forward saw it, rebuilt into buf (n, fin) if need be */
    const float *(*input)(void *u, float *buf);
    /* the extras' weight gradients (dz NULL unless extras_dz) */
    void (*extra_grads)(void *u, const float *x, const float *dz);
    /* their shares of the input gradient, added into gx (n, fin) */
    void (*extra_dx)(void *u, const float *dz, float *gx);
} frost__bwd;

typedef struct frost__kind {
    const char *name;         /* model.name in a configuration */
    int n_mats;               /* weight matrices */
    const char *mat_names[FROST__KIND_MATS]; /* their parameter names */
    int n_bias;               /* biases with model.bias */
    bool linear;              /* z = op (x W) = (op x) W: the aggregation may run on the narrower side */
    bool root_weight;         /* takes model.root_weight (z += x W_root) */
    frost_init init;          /* its matrices' FROST_INIT_DEFAULT */
    bool zero_bias;           /* biases start at 0 (else U(+-1/sqrt(fan_in))) */
    bool uses_graph;          /* needs a graph (false: an MLP layer) */
    frost_act act;            /* the post block's activation after its hidden layers */
    /* Whether the layer's settings fit (NULL: always): a status with a
     * message naming the configuration key. After shape. */
    frost_status (*check)(const frost__conv *c);
    /* Matrices' shapes (c->W[k]->rows, cols), bias lengths and fan-ins,
     * cache sizes and scratch width, from fin, fout, args, agg_after, N
     * rows and E graph entries at most. */
    void (*shape)(frost__conv *c, int64_t N, int64_t E);
    /* Per-graph data beyond the operator's vectors, for n rows and E entries. */
    size_t (*graph_bytes)(const frost__kind_args *a, int64_t n, int64_t E);
    /* The operator on graph A (row i: the nodes i aggregates from; AT its
     * transpose or A): v0, v1 (n) and ws (graph_bytes) are its storage. */
    frost_status (*make_op)(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                            float *v0, float *v1, void *ws);
    /* Scratch buffers of (N, widest) its backward needs: 2 or 3. */
    int (*bwd_buffers)(const frost__conv *c, bool extras, bool extras_dz);
    /* z (n, fout) = conv(x), x (n, fin) (x_in: x is the model's input,
     * whose halo rows the caller filled). */
    void (*forward)(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p);
    /* Backward of the last training forward; returns the buffer holding
     * the input gradient (P, Q or R), or NULL when b->first. */
    float *(*backward)(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p);
    /* z again from what forward kept, bit for bit (one product), or NULL
     * when z cannot be rebuilt cheaply. Only for !agg_after. */
    void (*rebuild_z)(const frost__exec *ex, const frost__conv *c, float *z);
    /* Whether backward can read dz in column panels. */
    bool (*dz_panels)(const frost__conv *c);
} frost__kind;

/* The kinds (one file each). */
extern const frost__kind frost__kind_mlp, frost__kind_gcn, frost__kind_sage, frost__kind_gin, frost__kind_gin_mlp,
    frost__kind_gat;

/* z = op x W + b over a linear operator (opconv.c): the model's GCN and GIN. */
void frost__opconv_shape(frost__conv *c, int64_t N, int64_t E);
int frost__opconv_bwd_buffers(const frost__conv *c, bool extras, bool extras_dz);
void frost__opconv_forward(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p);
float *frost__opconv_backward(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p);
void frost__opconv_rebuild_z(const frost__exec *ex, const frost__conv *c, float *z);
bool frost__opconv_dz_panels(const frost__conv *c);

/* ---- helpers for kinds (exec.c) ----------------------------------------------------- */

/* graph_bytes of a kind whose operator is its vectors alone: 0. */
size_t frost__no_graph_bytes(const frost__kind_args *a, int64_t n, int64_t E);

/* ---- more helpers (exec.c) -------------------------------------------------- */

/* Fill the halo rows of x (n + n_halo, F) from their owners (no-op in one process). */
void frost__exec_halo_forward(const frost__exec *ex, float *x, int64_t F);
/* Y (n, F) = op X: X's halo rows filled first unless x_in. */
void frost__exec_spmm(const frost__exec *ex, const float *X, bool x_in, int64_t F, float *Y);
/* Y (n + n_halo, F) = op^T X over every held row, halo rows' results sent
 * to their owners (X's halo rows are zeroed first). */
void frost__exec_spmm_t(const frost__exec *ex, float *X, int64_t F, float *Y);
/* Y += op^T X, likewise (Y's and X's halo rows are zeroed first). */
void frost__exec_spmm_t_acc(const frost__exec *ex, float *X, int64_t F, float *Y);
/* out (n, F) = op x for the layer that reads the model's input (x_in) or
 * not: an input held unchanged (ex->held_x) is aggregated once. */
void frost__exec_aggregate_input(frost__exec *ex, const float *x, bool x_in, int64_t F, float *out);
/* dW += alpha x^T dy for x (n, W->rows), dy (n, W->cols). */
void frost__exec_grad_w(const frost__exec *ex, frost__wmat *W, const float *x, const float *dy, float alpha);
/* out (n, W->rows) = beta out + alpha dy W^T for dy (n, W->cols). */
void frost__exec_grad_x(const frost__exec *ex, float *out, const frost__wmat *W, const float *dy, float alpha,
                        float beta);

/* The post block over the context's rows: statistics over all processes
 * when there are others (post_rows.c), frost_post otherwise. */
void frost__exec_post_forward(const frost__exec *ex, const frost_post *p, float *h, const float *z, int64_t H,
                              bool train);
void frost__exec_post_recompute(const frost__exec *ex, const frost_post *p, float *h, const float *z, int64_t H);
/* Backward in place over dh (= dz); with panels non-NULL it may instead
 * write dz into panels (column panels, tensor_impl.h) and return true. */
bool frost__exec_post_backward(const frost__exec *ex, const frost_post *p, float *panels, float *dgamma, float *dbeta,
                               float *dh, const float *z, int64_t H);

#endif

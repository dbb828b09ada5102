/*
 * frost/model.h - GNN models for full-batch node classification.
 *
 * A model is a stack of graph layers (GCN, GraphSAGE, GIN in two forms, or
 * plain linear layers for an MLP), each followed, except the last, by an
 * optional BatchNorm, ReLU and dropout, with optional residual connections.
 * Its weight matrices are either trained (ordinary floats) or supermasked:
 * fixed random weights regenerated from the seed, a trainable score per
 * weight, and a ternary freeze code (pruned / free / locked), as in the
 * strong-lottery-ticket method (see frost/slt.h).
 *
 * The model owns every buffer it needs for a graph of N nodes, allocated
 * once: parameters, gradients and activations each live in one slab, and a
 * training step allocates nothing.
 *
 *     frost_model_spec s = frost_model_spec_default();
 *     s.arch = FROST_ARCH_GCN; s.layers = 2; s.in_dim = F; s.hidden = 16; s.out_dim = C;
 *     frost_model *m;
 *     frost_model_new(&m, &s, &A, &AT, N);       // A: row i = nodes i aggregates from
 *     frost_model_init(m, seed);
 *     frost_model_forward(m, X, true, seed, epoch);
 *     ... loss gradient into frost_model_dlogits(m) ...
 *     frost_model_zero_grad(m);
 *     frost_model_backward(m, X, seed, epoch);
 *     ... optimizer step over frost_model_params(m) ...
 *     frost_model_after_step(m);                 // supermask: new threshold and masks
 *     frost_model_free(&m);
 */
#ifndef FROST_MODEL_H
#define FROST_MODEL_H

#include "frost/status.h"
#include "frost/graph.h"
#include "frost/rng.h"
#include "frost/slt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum frost_arch {
    FROST_ARCH_MLP = 0,     /* linear layers, the graph unused */
    FROST_ARCH_GCN = 1,     /* Kipf & Welling */
    FROST_ARCH_SAGE = 2,    /* mean aggregation + root weight */
    FROST_ARCH_GIN = 3,     /* (1 + eps) x + mean, one linear map (slt.md section 5) */
    FROST_ARCH_GIN_MLP = 4, /* (1 + eps) x + sum, two-layer MLP (Xu et al.) */
    FROST_ARCH_GAT = 5,     /* graph attention (Velickovic et al.): heads concatenated, averaged at the output */
    FROST_ARCH_COUNT        /* the number of architectures (new ones go before it); each has a layer
                               kind in src/model/kinds.c, whose table is checked against it at compile time */
} frost_arch;

typedef enum frost_norm {
    FROST_NORM_NONE = 0,
    FROST_NORM_BATCH = 1,          /* BatchNorm1d with gamma, beta */
    FROST_NORM_BATCH_NONAFFINE = 2 /* BatchNorm1d without */
} frost_norm;

typedef enum frost_weights {
    FROST_WEIGHTS_TRAINED = 0,
    FROST_WEIGHTS_SUPERMASK = 1
} frost_weights;

typedef struct frost_model_spec {
    frost_arch arch;
    int32_t layers;           /* graph layers (>= 1) */
    int64_t in_dim, hidden, out_dim;
    int64_t mlp_hidden;       /* GIN_MLP inner width (0 = hidden) */
    bool bias;
    frost_norm norm;
    bool norm_last;           /* norm and ReLU after the last layer too */
    bool skip_head;           /* logits = (head(h_{L-1}) + h_L) / 2 (slt.md section 5) */
    bool residual;            /* h_{l+1} += h_l where widths match */
    bool input_proj;          /* a linear layer (F -> hidden, with the post block) before the graph layers */
    bool root_weight;         /* GCN/GIN graph layers also add X W_root (a learned skip, as SAGE's root weight) */
    bool keep_activations;    /* keep every hidden layer's z and h for backward (faster, more memory) instead of
                                 rebuilding h from z and dropout bits, and z of aggregate-first layers from the
                                 kept aggregation (one product) */
    float dropout;            /* after each hidden layer */
    float input_dropout;      /* on the input features */
    float gin_eps;
    int32_t gcn_norm;         /* frost_gcn_norm: both (Kipf & Welling), right, left, none */
    int32_t heads;            /* GAT: attention heads of each hidden layer, concatenated (hidden = heads x
                                 per-head width; 0: 1) */
    int32_t out_heads;        /* GAT: heads of the output layer, averaged (0: 1) */
    float attn_dropout;       /* GAT: dropout on the attention coefficients (training) */
    float bn_momentum, bn_eps;
    frost_init weight_init;
    frost_weights weights;
    frost_supermask_spec mask;
} frost_model_spec;

FROST_API frost_model_spec frost_model_spec_default(void);

/* Check a spec; returns FROST_ERR_CONFIG with a message naming the field. */
FROST_API frost_status frost_model_spec_check(const frost_model_spec *s);

typedef struct frost_model frost_model;

/* A trainable tensor as the optimizer sees it. */
typedef struct frost_param {
    char name[48];
    float *value;  /* (n) */
    float *grad;   /* (n) */
    int64_t n;
} frost_param;

/* Build a model for a graph of N nodes. A: row i lists the nodes i
 * aggregates from; AT its transpose (pass A again if symmetric). Both are
 * borrowed and must outlive the model. A may be NULL: the buffers are sized
 * for N rows and a graph is bound later (frost_model_set_graph). */
FROST_API frost_status frost_model_new(frost_model **out, const frost_model_spec *spec, const frost_csr *A,
                                       const frost_csr *AT, int64_t N);
/* The same for inference only: forward passes in eval mode, no gradients
 * or backward buffers allocated (training one is an internal error). */
FROST_API frost_status frost_model_new_ex(frost_model **out, const frost_model_spec *spec, const frost_csr *A,
                                          const frost_csr *AT, int64_t N, bool inference);
FROST_API void frost_model_free(frost_model **m);

/* Run the model on another graph of n <= N nodes (its first n rows):
 * mini-batches of Cluster-GCN, or the full graph again. The aggregation
 * operator (normalisation included) is recomputed from A; A and AT are
 * borrowed until the next call. Features, logits and gradients then have n
 * rows. */
FROST_API frost_status frost_model_set_graph(frost_model *m, const frost_csr *A, const frost_csr *AT, int64_t n);
/* Rows the model currently computes (n of the last frost_model_set_graph). */
FROST_API int64_t frost_model_rows(const frost_model *m);
/* Promise that the input X will not change until the next call (NULL: no
 * promise). The first layer's aggregation of X (op X, when the layer
 * aggregates before its product) is then computed by one forward and reused
 * by the next ones, as long as the graph stays bound (like SGC's
 * precomputation; PyG's GCNConv(cached=True) caches only the operator).
 * Input dropout makes the layer's input differ from X, so nothing is reused
 * then. The full-batch trainer and the evaluations hold the features. */
FROST_API void frost_model_hold_input(frost_model *m, const float *X);
/* frost_model_hold_input, and where the first layer's aggregation is all the
 * model reads of X (an aggregate-first GCN or GIN layer without root weight,
 * input dropout or a skip head reading it, in one process), spent(ctx) is
 * called once, inside the forward that made that aggregation and before the
 * rest of it writes its buffers. From then on the model never reads X: the
 * caller may free it, and passes NULL for it to frost_model_forward and
 * frost_model_backward while it stays held. Binding a graph after that
 * (frost_model_set_graph) is the caller's error: the model stops with an
 * assertion rather than read the freed X. */
typedef void (*frost_input_spent_fn)(void *ctx);
FROST_API void frost_model_hold_input_ex(frost_model *m, const float *X, frost_input_spent_fn spent, void *ctx);

/* Key the dropout masks by node: row i of the model's own graph draws the
 * masks of node ids[i] (ids borrowed, N entries; NULL: row i draws its own).
 * A dataset whose nodes were renumbered (frost partition --reorder) passes
 * its original ids, so every node keeps the masks it had before and
 * training is the same up to the permutation and float rounding (sums run
 * in another order). Mini-batches bound with frost_model_set_graph keep
 * row-indexed masks; a model running distributed (MPI) looks its rows' ids
 * up by their node numbers in the dataset, so ids then has the dataset's
 * node count. */
FROST_API frost_status frost_model_set_node_ids(frost_model *m, const int64_t *ids);

/* Initialise weights (and scores, freeze codes, batch-norm statistics) from
 * the seed. The same seed gives the same model for any thread count. */
FROST_API frost_status frost_model_init(frost_model *m, uint64_t seed);

/* Forward pass over the model's rows (all N nodes unless
 * frost_model_set_graph chose fewer). train: batch statistics and dropout (whose
 * masks derive from seed and epoch). */
FROST_API void frost_model_forward(frost_model *m, const float *X, bool train, uint64_t seed, int64_t epoch);

/* Logits (N, out_dim) of the last forward; valid until the next forward or
 * backward (they may live in scratch that backward reuses). */
FROST_API const float *frost_model_logits(const frost_model *m);

/* Buffer (N, out_dim) the caller fills with dLoss/dlogits before backward;
 * rows not written must be zero (frost_model_zero_grad clears it). It may
 * share scratch with forward's intermediates: fill it after the forward it
 * belongs to, before backward. */
FROST_API float *frost_model_dlogits(frost_model *m);

/* Clear parameter gradients and dlogits. */
FROST_API void frost_model_zero_grad(frost_model *m);

/* Backward pass of the last train-mode forward (same seed and epoch). */
FROST_API void frost_model_backward(frost_model *m, const float *X, uint64_t seed, int64_t epoch);

/* After each optimizer step: supermask models recompute the threshold and
 * the effective weights. A no-op for trained weights. */
FROST_API void frost_model_after_step(frost_model *m);

/* The trainable tensors (weights or scores, biases, batch-norm affine). */
FROST_API int32_t frost_model_params(frost_model *m, frost_param **params);

/* Weights of the trained counterpart (32 bits each, batch-norm statistics
 * included) and, for supermask models, the bits the ticket needs. */
FROST_API int64_t frost_model_num_weights(const frost_model *m);     /* maskable / trainable matrix entries */
FROST_API int64_t frost_model_num_bn_values(const frost_model *m);   /* running mean + var entries */
FROST_API int64_t frost_model_num_bias_values(const frost_model *m); /* biases + affine gamma/beta */

FROST_API const frost_model_spec *frost_model_get_spec(const frost_model *m);
FROST_API int64_t frost_model_num_nodes(const frost_model *m);

/* Bytes held by the model's slabs (parameters, gradients, activations). */
FROST_API size_t frost_model_bytes(const frost_model *m);

/* Bytes a model of `spec` on N nodes would allocate (what frost_model_new_ex
 * with the same `inference` allocates), computed from the shapes alone.
 * nnz: the stored entries of the graph that will be given to frost_model_new
 * (kinds with per-edge buffers, GAT, size them by it; 0 without a graph).
 * frost_model_new_ex itself refuses, before allocating, a model larger than
 * the memory the process may still use (FROST_ERR_NOMEM naming both). */
FROST_API frost_status frost_model_bytes_for(const frost_model_spec *spec, int64_t N, int64_t nnz, bool inference,
                                             size_t *bytes);

FROST_API const char *frost_arch_name(frost_arch a);

/* Copy of everything that defines the model's predictions (trainable values,
 * batch-norm statistics, supermask state): size, save, load. */
FROST_API size_t frost_model_state_size(const frost_model *m);
FROST_API void frost_model_state_save(const frost_model *m, void *buf);
FROST_API void frost_model_state_load(frost_model *m, const void *buf);

/* ---- the state that defines a model's predictions ----------------------------
 * params: every trainable float except supermask scores, in parameter order
 *         (weights, biases, affine batch norm);
 * bn:     batch-norm running mean and variance of every normalised layer;
 * mask:   one bit per free (searched) weight of a supermask model, matrix by
 *         matrix, LSB first (1 = kept).
 * A trained model is its params and bn; a ticket is its seed, mask and bn
 * (plus params if it has trainable biases). */
typedef struct frost_model_state_sizes {
    int64_t params;  /* floats */
    int64_t bn;      /* floats */
    int64_t mask;    /* bits */
} frost_model_state_sizes;

FROST_API frost_model_state_sizes frost_model_state_counts(const frost_model *m);
/* The SLT paper's size accounting (Otsuka et al., who report 40.3x for the
 * arxiv GIN): a supermask model is its mask bits of the searched (free)
 * weights only, without the seed or batch-norm statistics; any other model
 * is frost_model_bits. Compare it with frost_model_dense_bits. */
FROST_API int64_t frost_model_paper_bits(const frost_model *m);
FROST_API void frost_model_state_export(const frost_model *m, float *params, float *bn, uint8_t *mask);
/* Load a state exported from a model with the same spec and seed (call
 * frost_model_init(m, seed) first). */
FROST_API frost_status frost_model_state_import(frost_model *m, const float *params, const float *bn,
                                                const uint8_t *mask);

/* ---- the ticket of a supermask model (frost/slt.h has the method) ---------------
 * Inspection is meaningful for supermask models only (0 matrices otherwise). */
FROST_API int32_t frost_slt_num_matrices(const frost_model *m);
FROST_API frost_status frost_slt_matrix(const frost_model *m, int32_t k, frost_slt_matrix_info *info);
/* Last threshold (global scope). */
FROST_API double frost_slt_threshold(const frost_model *m);

/* Overwrite the free weights' mask from packed bits (one per free weight,
 * matrix order, index order within a matrix) and rebuild the effective
 * weights: how an exported ticket is loaded. Scores are set to +-1 so that
 * the mask is what the bits say. */
FROST_API frost_status frost_slt_set_mask_bits(frost_model *m, const uint8_t *bits, int64_t nbits);
/* Pack the current mask of the free weights (caller buffer of (free+7)/8 bytes). */
FROST_API int64_t frost_slt_get_mask_bits(const frost_model *m, uint8_t *bits, int64_t cap_bytes);
/* A ticket inside a trained network instead of a random one: the fixed
 * weights of every masked matrix of `ticket` become the trained weights of
 * the same matrix of `trained` (same architecture and shapes), the free
 * weights' scores start at |w| (so the first mask is the magnitude pruning
 * of the trained network at the ticket's sparsity, frozen codes aside), and
 * biases, affine batch-norm parameters and running statistics start as the
 * trained network's. The frozen codes stay those of the ticket's seed.
 * Portable reward tuning uses it for a reward ticket over the old base. */
FROST_API frost_status frost_slt_set_base_from(frost_model *ticket, const frost_model *trained);

/* Number of free (searched) weights. */
FROST_API int64_t frost_slt_num_free(const frost_model *m);

/* Bits to store the model as exported: trained 32 per float; a ticket one per
 * free weight + 64 for the seed + 32 per other float. dense: 32 per float of
 * the weight-trained counterpart (weights, biases, affine, running stats). */
/* The model as named dense tensors, for use outside frost: every weight
 * matrix (rows = fan_in, cols = fan_out, row-major, Y = X W; a ticket's
 * effective weights, mask and scale applied), bias, batch-norm affine and
 * running statistic (cols = 1), in forward order. Names as PyTorch would
 * write them: layer0.weight, layer0.bias, layer0.norm.running_mean, ...,
 * head.weight. Fills up to cap views (pointing into the model) and returns
 * how many there are. */
typedef struct frost_tensor_view {
    char name[64];
    int64_t rows, cols;
    const float *value;
    const char *kind;    /* the layer's kind ("gcn", "mlp" for an input projection, ...); "head" for the skip head */
    bool matrix;         /* a weight matrix (rows x cols); else a vector of rows entries */
} frost_tensor_view;
FROST_API int32_t frost_model_tensors(const frost_model *m, frost_tensor_view *out, int32_t cap);

FROST_API int64_t frost_model_bits(const frost_model *m);
FROST_API int64_t frost_model_dense_bits(const frost_model *m);

#ifdef __cplusplus
}
#endif
#endif

/*
 * frost/layers.h - GNN layers, each a forward and a backward pass side by
 * side, on raw row-major float arrays (llm.c style: no allocation inside).
 *
 * Shape legend: N nodes, F input width, H output width, C classes or tasks.
 * Conventions:
 *   - forward(out, cache..., in, weights..., dims) overwrites `out`;
 *   - backward(din, dweights..., dout, cache/in/weights..., dims) ADDS into
 *     every gradient (+=); zeroing them is the caller's job; any gradient
 *     pointer may be NULL when it is not needed (dX of the first layer);
 *   - weights are (F, H): Y = X W + b;
 *   - `work` arguments are scratch buffers of the stated shape.
 *
 *     frost_linear_forward(Y, X, W, b, N, F, H);
 *     ... loss gradient into dY ...
 *     frost_linear_backward(dX, dW, db, dY, X, W, N, F, H);
 */
#ifndef FROST_LAYERS_H
#define FROST_LAYERS_H

#include "frost/status.h"
#include "frost/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Linear: Y (N,H) = X (N,F) W (F,H) + b (H), b may be NULL ---------- */
FROST_API void frost_linear_forward(float *Y, const float *X, const float *W, const float *b, int64_t N,
                                    int64_t F, int64_t H);
FROST_API void frost_linear_backward(float *dX, float *dW, float *db, const float *dY, const float *X,
                                     const float *W, int64_t N, int64_t F, int64_t H);

/* ---- GCN convolution: Y = Â X W + b, Â = D^-1/2 (A + I) D^-1/2 ----------
 * op: the normalised operator (frost_aggr_gcn). The cheaper order is used:
 * if H <= F, T = X W (N,H) then Y = Â T; else T = Â X (N,F) then Y = T W.
 * T (N, min(F,H)) is kept for backward. work: (N, min(F,H)). */
FROST_API void frost_gcn_forward(float *Y, float *T, const frost_aggr *op, const float *X, const float *W,
                                 const float *b, int64_t N, int64_t F, int64_t H);
FROST_API void frost_gcn_backward(float *dX, float *dW, float *db, float *work, const float *dY,
                                  const float *T, const frost_aggr *op, const float *X, const float *W,
                                  int64_t N, int64_t F, int64_t H);

/* ---- GraphSAGE (mean aggregation + root weight) -------------------------
 * Y = mean(X) Wn + X Wr + b. M = mean(X) (N,F) is kept. work: (N,F). */
FROST_API void frost_sage_forward(float *Y, float *M, const frost_aggr *mean, const float *X, const float *Wn,
                                  const float *Wr, const float *b, int64_t N, int64_t F, int64_t H);
FROST_API void frost_sage_backward(float *dX, float *dWn, float *dWr, float *db, float *work, const float *dY,
                                   const float *M, const frost_aggr *mean, const float *X, const float *Wn,
                                   const float *Wr, int64_t N, int64_t F, int64_t H);

/* ---- GIN, the form of the strong-lottery-ticket paper -------------------
 * Y = ((1 + eps) X + mean(X)) W (+ b). op is the mean operator with the
 * self term c = 1 + eps (frost_aggr_mean with self weight). G = op X (N,F)
 * is kept. work: (N,F). */
FROST_API void frost_gin_forward(float *Y, float *G, const frost_aggr *op, const float *X, const float *W,
                                 const float *b, int64_t N, int64_t F, int64_t H);
FROST_API void frost_gin_backward(float *dX, float *dW, float *db, float *work, const float *dY,
                                  const float *G, const frost_aggr *op, const float *X, const float *W,
                                  int64_t N, int64_t F, int64_t H);

/* ---- GIN, classic form: sum aggregation then a two-layer MLP -------------
 * G = (1 + eps) X + sum(X) (N,F); Z = relu(G W1 + b1) (N,K); Y = Z W2 + b2.
 * G and Z are kept. work1: (N,K), work2: (N,F). */
FROST_API void frost_gin_mlp_forward(float *Y, float *G, float *Z, const frost_aggr *op, const float *X,
                                     const float *W1, const float *b1, const float *W2, const float *b2,
                                     int64_t N, int64_t F, int64_t K, int64_t H);
FROST_API void frost_gin_mlp_backward(float *dX, float *dW1, float *db1, float *dW2, float *db2, float *work1,
                                      float *work2, const float *dY, const float *G, const float *Z,
                                      const frost_aggr *op, const float *X, const float *W1, const float *W2,
                                      int64_t N, int64_t F, int64_t K, int64_t H);

/* ---- GAT: graph attention (Velickovic et al., ICLR 2018), PyG's GATConv --
 * T = X W (N, K D) for K heads of D; per head s_i = T_i . a_src, t_i = T_i .
 * a_dst; alpha_ij = softmax over j in (the nodes i aggregates from) and i
 * itself of LeakyReLU(s_j + t_i, 0.2); Y_i = sum_j alpha_ij T_j per head,
 * heads concatenated (concat: H = K D) or averaged (H = D), plus b.
 * W (F, K D); a_src, a_dst (D, K) (element (c, k) at c K + k); b (H) or
 * NULL. A plain reference in double without attention dropout (the model's
 * kind, src/layers/gat.c, is held to it); it allocates its intermediates
 * and returns FROST_ERR_NOMEM when it cannot. Backward adds into every
 * gradient given (any may be NULL). */
FROST_API frost_status frost_gat_forward(float *Y, const frost_csr *A, const float *X, const float *W,
                                         const float *att_src, const float *att_dst, const float *b, int64_t N,
                                         int64_t F, int64_t K, int64_t D, bool concat);
FROST_API frost_status frost_gat_backward(float *dX, float *dW, float *datt_src, float *datt_dst, float *db,
                                          const float *dY, const frost_csr *A, const float *X, const float *W,
                                          const float *att_src, const float *att_dst, int64_t N, int64_t F,
                                          int64_t K, int64_t D, bool concat);

/* ---- BatchNorm1d over the N rows ----------------------------------------
 * Train mode: batch mean and biased variance per column; the running
 * statistics move by `momentum` (running_var uses the unbiased variance, as
 * PyTorch does). Eval mode: running statistics. gamma/beta NULL = non-affine.
 * mean, invstd (H) are kept for backward, which recomputes xhat from X. */
FROST_API void frost_batchnorm_forward_train(float *Y, float *mean, float *invstd, float *run_mean,
                                             float *run_var, const float *X, const float *gamma,
                                             const float *beta, int64_t N, int64_t H, float momentum, float eps);
FROST_API void frost_batchnorm_forward_eval(float *Y, const float *X, const float *run_mean,
                                            const float *run_var, const float *gamma, const float *beta,
                                            int64_t N, int64_t H, float eps);
/* dX may alias dY. work: (2H) doubles. */
FROST_API void frost_batchnorm_backward(float *dX, float *dgamma, float *dbeta, double *work, const float *dY,
                                        const float *X, const float *mean, const float *invstd,
                                        const float *gamma, int64_t N, int64_t H);

/* ---- ReLU (in place allowed); backward uses the output as the mask ------ */
FROST_API void frost_relu_forward(float *Y, const float *X, int64_t n);
FROST_API void frost_relu_backward(float *dX, const float *dY, const float *Y, int64_t n);

/* ---- Dropout --------------------------------------------------------------
 * Element e is kept when a 16-bit counter-based random number r(seed, stream,
 * e) >= p * 65536 (p is thus rounded to 1/65536); kept values are scaled by
 * 1/(1-p). Nothing is stored: backward regenerates the same mask. In place
 * allowed. */
FROST_API void frost_dropout_forward(float *Y, const float *X, int64_t n, float p, uint64_t seed,
                                     uint64_t stream);
FROST_API void frost_dropout_backward(float *dX, const float *dY, int64_t n, float p, uint64_t seed,
                                      uint64_t stream);

/* ---- The post-convolution block, fused -----------------------------------
 * h = dropout(relu(bn(z))) over (N,H): bn optional (batch statistics in
 * training, running statistics in eval), dropout only in training with
 * p > 0, with the mask of frost_dropout_forward. Backward writes dz (may
 * alias dh) from dh, h and z alone: h > 0 exactly where the gradient passes
 * both the ReLU and the dropout, so no mask is stored or regenerated.
 * The composition of the separate layers above is its reference. */
/* The activation of a post block (frost_post.act). */
typedef enum frost_act {
    FROST_ACT_RELU = 0,
    FROST_ACT_ELU = 1 /* x > 0 ? x : exp(x) - 1 (GAT); bits then hold the dropout mask (kept), not [h > 0] */
} frost_act;

typedef struct frost_post {
    bool batchnorm;
    const float *gamma, *beta; /* affine, or NULL */
    float *mean, *invstd;      /* batch statistics: written by training forward */
    float *run_mean, *run_var; /* running statistics (NULL: not tracked in training) */
    float momentum, eps;
    float dropout; /* p */
    uint64_t seed, stream;
    double *work;   /* 4H doubles */
    uint64_t *bits; /* (ceil(N H / 64) + 1: a spare word) or NULL: [h > 0], written by training forward; backward and
                       recompute then read it instead of h */
    const int64_t *ids; /* (N) or NULL: row i draws the dropout mask of row ids[i] (node ids of a renumbered graph) */
    frost_act act;      /* the activation (0: ReLU, as above) */
} frost_post;
FROST_API void frost_post_forward(const frost_post *p, float *h, const float *z, int64_t N, int64_t H, bool train);
/* After a training forward; dgamma, dbeta (H) accumulate, may be NULL. h
 * may be NULL when p->bits is set. */
FROST_API void frost_post_backward(const frost_post *p, float *dz, float *dgamma, float *dbeta, const float *dh,
                                   const float *h, const float *z, int64_t N, int64_t H);
/* h of the last training forward again, bit for bit, from z, the batch
 * statistics and p->bits (no random numbers drawn): lets a model keep z
 * alone and rebuild h when backward needs it. */
FROST_API void frost_post_recompute(const frost_post *p, float *h, const float *z, int64_t N, int64_t H);

/* ---- Losses over a set of nodes ----------------------------------------
 * Softmax cross-entropy: logits (N,C), labels (N) in 0..C-1 (-1 skipped),
 * mean over the listed nodes with a label. dlogits (N,C) receives the
 * gradient rows of those nodes (overwritten; other rows untouched). */
FROST_API double frost_softmax_ce(float *dlogits, const float *logits, const int32_t *labels, const int64_t *idx,
                                  int64_t n_idx, int64_t C);
/* Binary cross-entropy with logits, (N,T) labels 0/1 with -1 = missing;
 * mean over labelled (node, task) pairs of the listed nodes. */
FROST_API double frost_bce_logits(float *dlogits, const float *logits, const int32_t *labels, const int64_t *idx,
                                  int64_t n_idx, int64_t T);

/* Aggregation operators for a graph whose row i lists the nodes i
 * aggregates from (A), with AT its transpose (A itself if symmetric):
 * the per-node vectors are written into caller arrays of length n. */
/* Â = D^-1/2 (A + I) D^-1/2, D = row degree + 1: a = b = dinv_sqrt, c = dinv. */
FROST_API void frost_aggr_gcn(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *dinv_sqrt,
                              float *dinv);
/* The other normalisations of A + I that DGL's GraphConv offers (norm =
 * 'right': mean over the row and self, D^-1 (A + I); 'left': each message
 * divided by its source's out-degree + 1, (A + I) D_out^-1; 'none': A + I).
 * v0, v1: (n) arrays the per-node factors are written into. */
typedef enum frost_gcn_norm {
    FROST_GCN_NORM_BOTH = 0,
    FROST_GCN_NORM_RIGHT = 1,
    FROST_GCN_NORM_LEFT = 2,
    FROST_GCN_NORM_NONE = 3
} frost_gcn_norm;
FROST_API void frost_aggr_gcn_norm(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *v0, float *v1,
                                   frost_gcn_norm norm);
/* mean over the row (empty rows give 0) plus self_weight * x (0 = none). */
FROST_API void frost_aggr_mean(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *inv_deg,
                               float *self, float self_weight);
/* plain sum plus self_weight * x. */
FROST_API void frost_aggr_sum(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *self,
                              float self_weight);

#ifdef __cplusplus
}
#endif
#endif

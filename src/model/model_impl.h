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
#include "core/core_impl.h"

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
    float *cache0, *cache1; /* conv internals kept for backward (GCN fout <= fin: scratch) */
    float *z;               /* (N, fout) conv output */
    float *h;               /* (N, fout) post-block output (before the residual): a scratch
                               buffer for hidden layers, rebuilt from z and bits in backward */
    uint64_t *bits;         /* (ceil(N fout / 64)) [h > 0] of the last training forward */
    float *hres;            /* (N, fout) h + input, when residual */
} frost__layer;

struct frost_model {
    frost_model_spec spec;
    int64_t N;
    const frost_csr *A, *AT;
    frost_aggr op;
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
    float *dlogits;         /* (N, out) */
    float *xin;             /* (N, F) input after input dropout, or NULL */
    float *S[4];            /* (N, sw) scratch: forward h ping-pong, backward gradients */
    int nS;                 /* scratch buffers allocated */
    int64_t sw;             /* scratch width: the widest layer side */
    double *bnwork;         /* (4 sw): the post block's work */
    float *keys;            /* (total masked weights) threshold selection scratch */
    int32_t n_params;
    frost_param *params;
    /* slabs: one allocation per lifetime */
    void *slab_params, *slab_grads, *slab_acts, *slab_fixed, *slab_bwd;
    size_t bytes_params, bytes_grads, bytes_acts, bytes_fixed, bytes_bwd;
    bool inference;         /* no gradients, no backward buffers */
    uint64_t seed;
    bool supermask;
    double threshold;       /* last global threshold (supermask) */
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

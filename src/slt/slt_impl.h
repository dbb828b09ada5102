/*
 * slt_impl.h - the supermask of a model: its state and the interface the
 * model drives it through (supermask.c).
 *
 * Shape legend: n weights of one matrix, Ntot weights of every masked
 * matrix.
 *
 * The supermask owns, per masked matrix, the fixed random weights, the
 * scores and their gradient, the freeze code and the current mask; it
 * writes the effective weights w = base * keep * scale that the layers read
 * and reads the gradient dw the layers wrote. The model lays its arrays out
 * in the model's slabs (frost__supermask_layout), then calls
 * frost__supermask_init once, frost__supermask_backward after each
 * backward pass and frost__supermask_update after each optimizer step. The
 * supermask knows nothing of layers or graphs.
 */
#ifndef FROST_SLT_IMPL_H
#define FROST_SLT_IMPL_H

#include "frost/slt.h"
#include "core/core_impl.h"

/* One masked matrix (fan_in rows, fan_out columns). */
typedef struct frost__smat {
    int64_t rows, cols, n;  /* n = rows * cols */
    int32_t index;          /* position among the model's matrices: names its RNG streams */
    float *w;               /* (n) effective weights, written here */
    float *dw;              /* (n) their gradient, written by the layers */
    float *base;            /* (n) fixed random weights */
    float *score;           /* (n) trainable scores */
    float *dscore;          /* (n) */
    int8_t *code;           /* (n) -1 pruned, 0 free, +1 locked */
    uint8_t *keep;          /* (n) 1 if the current mask keeps the weight */
    float scale;            /* multiplier of the kept weights */
    int64_t n_pruned, n_locked; /* frozen counts */
    int64_t n_kept;         /* weights kept by the current mask */
} frost__smat;

/* The k-th smallest (0-based) of keys (n), the same on every process, and
 * how many keys are below it (distributed training shares the selection). */
typedef void (*frost__select_fn)(void *ctx, float *keys, int64_t n, int64_t k, float *v, int64_t *less);

typedef struct frost__supermask {
    frost_supermask_spec spec;
    int32_t n;              /* matrices */
    frost__smat *mats;      /* (n) */
    float *keys;            /* (Ntot) threshold selection scratch */
    double threshold;       /* last global threshold */
    frost__select_fn select; /* NULL: quickselect in this process */
    void *select_ctx;
} frost__supermask;

/* A supermask over n matrices of the given shapes (rows[k], cols[k]);
 * arrays not yet placed (frost__supermask_layout). */
frost_status frost__supermask_new(frost__supermask **out, const frost_supermask_spec *spec, int32_t n,
                                  const int64_t *rows, const int64_t *cols);
void frost__supermask_free(frost__supermask **sm);
/* Place the arrays: trainable scores in P, their gradients in G, fixed
 * weights and codes in X, mask, effective weights and keys in A (forward),
 * the weight gradients in B (training only). Null slab bases measure. */
void frost__supermask_layout(frost__supermask *sm, frost__slab *P, frost__slab *G, frost__slab *X, frost__slab *A,
                             frost__slab *B);
/* Fixed weights, scores and the freeze pattern from the seed, then the
 * first mask. */
frost_status frost__supermask_init(frost__supermask *sm, uint64_t seed);
/* Threshold over the keys and new effective weights (after each step). */
void frost__supermask_update(frost__supermask *sm);
/* dscore += sign(score) * dw * base * scale (straight-through), every matrix. */
void frost__supermask_backward(frost__supermask *sm);
/* Free (searched) weights. */
int64_t frost__supermask_num_free(const frost__supermask *sm);
/* Pack / load the mask of the free weights (one bit each, matrix by
 * matrix, LSB first). get returns the bits written or -1 if cap is short. */
int64_t frost__supermask_get_bits(const frost__supermask *sm, uint8_t *bits, int64_t cap_bytes);
frost_status frost__supermask_set_bits(frost__supermask *sm, const uint8_t *bits, int64_t nbits);
/* Fixed weights from given matrices (w[k], n of matrix k floats), scores
 * |w|, then a new mask: a ticket inside a trained network. */
void frost__supermask_set_base(frost__supermask *sm, const float *const *w);
/* Inspection. */
frost_status frost__supermask_matrix(const frost__supermask *sm, int32_t k, frost_slt_matrix_info *info);

#endif

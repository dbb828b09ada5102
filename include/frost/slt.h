/*
 * frost/slt.h - strong lottery tickets in partially frozen random networks
 * (Otsuka et al., TMLR 2025; method notes in specs/slt.md).
 *
 * Weights are never trained: they stay at their seeded random values. A
 * random subset is frozen, pruned (ratio p) or locked (ratio r); for the rest
 * a score per weight is learned and the top-scoring ones are kept (Edge-Popup
 * with a straight-through gradient) so that the whole network has sparsity s,
 * p <= s <= 1 - r. The ticket is the seed plus one bit per free weight.
 *
 * These helpers expose the pieces the model uses, for tests and tools.
 *
 *     int64_t sizes[] = {49408, 148996, 148996, 15440, 15440}, keep[5];
 *     frost_slt_layer_survivors(keep, sizes, 5, 0.8, FROST_DIST_EPL);  // density 0.8
 */
#ifndef FROST_SLT_H
#define FROST_SLT_H

#include "frost/status.h"
#include "frost/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Surviving (unfrozen-by-this-ratio) weights per layer for an overall density
 * d in [0, 1] under a layer-wise distribution: EPL gives every layer the same
 * number (capped at the layer's size, excess shared out again), ERK a density
 * proportional to (rows + cols) / (rows * cols), UNIFORM d everywhere.
 * sizes: (n) layer sizes; rows/cols needed only by ERK (may be NULL
 * otherwise). keep: (n) output counts, floored. A model freezes per matrix
 * n_p = floor(n P) pruned and n_r = floor(n (F - P)) locked weights, P and F
 * the layer's sparsities at densities 1 - p and 1 - (p + r) before any
 * flooring (slt.md section 3; EPL's survivors are whole numbers already). */
FROST_API void frost_slt_layer_survivors(int64_t *keep, const int64_t *sizes, const int64_t *rows,
                                         const int64_t *cols, int32_t n, double density, frost_freeze_dist dist);

/* Index of the k-th smallest (0-based) of keys[0..n) after an O(n) average
 * selection that reorders keys in place. */
FROST_API int64_t frost_slt_select(float *keys, int64_t n, int64_t k);

/* Straight-through backward of a supermasked matrix:
 * dscore[i] += sign(score[i]) * dw[i] * base[i] * scale. */
FROST_API void frost_slt_score_grad(float *dscore, const float *score, const float *dw, const float *base,
                                    float scale, int64_t n);

/* Inspection of a supermask model (NULL-safe only for supermask models). */
typedef struct frost_slt_matrix_info {
    int64_t rows, cols, n;
    int64_t pruned, locked, free_;   /* freeze counts */
    int64_t kept;                    /* weights kept by the current mask (frozen included) */
    const int8_t *code;              /* (n) -1 / 0 / +1 */
    const float *score;              /* (n) */
    const float *base;               /* (n) fixed weights (unscaled) */
    const float *effective;          /* (n) base * mask * scale */
    float scale;
} frost_slt_matrix_info;

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
/* Number of free (searched) weights. */
FROST_API int64_t frost_slt_num_free(const frost_model *m);

#ifdef __cplusplus
}
#endif
#endif

/*
 * frost/slt.h - strong lottery tickets in partially frozen random networks
 * (Otsuka et al., TMLR 2025; method notes in specs/slt.md).
 *
 * Weights are never trained: they stay at their seeded random values. A
 * random subset is frozen, pruned (ratio p) or locked (ratio r); for the rest
 * a score S per weight is learned and the free weights with the largest |S|
 * are kept (Edge-Popup with a straight-through gradient) so that the whole
 * network has sparsity s, p < s < 1 - r (a point with s <= p or s >= 1 - r
 * searches nothing). The ticket is the seed plus one bit per free weight.
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

/* The one check of a supermask's ratios p (prune_ratio), r (lock_ratio) and
 * s (sparsity): each in [0, 1], p + r <= 1 and p <= s <= 1 - r (a little
 * room for the decimal spelling of ratios). When s <= p or s >= 1 - r
 * (equality included) nothing is searched: every free weight is kept (or
 * dropped) whatever the scores; such a spec is refused unless
 * allow_degenerate. The message names the ratios; callers prefix where. */
FROST_API frost_status frost_slt_check_ratios(const frost_supermask_spec *k, bool allow_degenerate);

/* True when nothing is searched (s <= p or s >= 1 - r, within 1e-9). */
FROST_API bool frost_slt_degenerate(const frost_supermask_spec *k);

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

#ifdef __cplusplus
}
#endif
#endif

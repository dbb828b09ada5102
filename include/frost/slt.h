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
 * These helpers expose the pieces the model uses, for tests and tools; a
 * supermask model's ticket is read and loaded through frost/model.h.
 *
 *     int64_t sizes[] = {49408, 148996, 148996, 15440, 15440}, keep[5];
 *     frost_slt_layer_survivors(keep, sizes, 5, 0.8, FROST_DIST_EPL);  // density 0.8
 */
#ifndef FROST_SLT_H
#define FROST_SLT_H

#include "frost/status.h"
#include "frost/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum frost_freeze_dist {
    FROST_DIST_EPL = 0,     /* equal number of surviving weights per layer (slt.md section 3) */
    FROST_DIST_ERK = 1,     /* Erdos-Renyi-kernel */
    FROST_DIST_UNIFORM = 2  /* the same ratio in every layer */
} frost_freeze_dist;

typedef enum frost_threshold_scope {
    FROST_THRESHOLD_GLOBAL = 0, /* one threshold over every masked matrix */
    FROST_THRESHOLD_LAYER = 1   /* one per matrix */
} frost_threshold_scope;

typedef enum frost_mask_scale {
    FROST_SCALE_NONE = 0,
    FROST_SCALE_STATIC = 1,  /* weights times 1/sqrt(1 - s) */
    FROST_SCALE_DYNAMIC = 2  /* weights times 1/sqrt(density of the matrix) */
} frost_mask_scale;

typedef struct frost_supermask_spec {
    double sparsity;          /* s: fraction of all masked weights that are zero */
    double prune_ratio;       /* p: fraction frozen as pruned */
    double lock_ratio;        /* r: fraction frozen as kept */
    frost_freeze_dist distribution;
    frost_threshold_scope scope;
    frost_init weight_init;   /* default Kaiming uniform */
    frost_init score_init;    /* default Kaiming normal */
    frost_mask_scale scale;
} frost_supermask_spec;

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

/* One masked matrix of a supermask model (frost_slt_matrix in frost/model.h). */
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

/* The functions that inspect and load a supermask model's ticket
 * (frost_slt_matrix, frost_slt_set_mask_bits, ...) act on a model and are
 * declared in frost/model.h. */

#ifdef __cplusplus
}
#endif
#endif

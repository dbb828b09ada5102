/*
 * ratios.c - the check of a supermask's ratios (p, r, s), in one place for
 * the configuration, the model and the PRT reward ticket.
 */
#include "frost/slt.h"
#include "core/core_impl.h"

#include <math.h>

#define RATIO_ROOM 1e-9 /* decimal spellings: 0.6 * 0.5 is not exactly 0.3 */

bool frost_slt_degenerate(const frost_supermask_spec *k)
{
    return k->sparsity <= k->prune_ratio + RATIO_ROOM || k->sparsity >= 1 - k->lock_ratio - RATIO_ROOM;
}

frost_status frost_slt_check_ratios(const frost_supermask_spec *k, bool allow_degenerate)
{
    if (!(k->sparsity >= 0 && k->sparsity <= 1))
        return frost__error(FROST_ERR_CONFIG, "slt.sparsity is %g, expected 0 .. 1", k->sparsity);
    if (!(k->prune_ratio >= 0 && k->prune_ratio <= 1))
        return frost__error(FROST_ERR_CONFIG, "slt.prune_ratio is %g, expected 0 .. 1", k->prune_ratio);
    if (!(k->lock_ratio >= 0 && k->lock_ratio <= 1))
        return frost__error(FROST_ERR_CONFIG, "slt.lock_ratio is %g, expected 0 .. 1", k->lock_ratio);
    if (k->prune_ratio + k->lock_ratio > 1 + RATIO_ROOM)
        return frost__error(FROST_ERR_CONFIG, "slt.prune_ratio + slt.lock_ratio = %g, expected at most 1",
                            k->prune_ratio + k->lock_ratio);
    if (k->sparsity + RATIO_ROOM < k->prune_ratio)
        return frost__error(FROST_ERR_CONFIG,
                            "slt.sparsity %g is below slt.prune_ratio %g: the pruned weights alone are sparser than "
                            "the target (need prune_ratio < sparsity < 1 - lock_ratio)",
                            k->sparsity, k->prune_ratio);
    if (k->sparsity > 1 - k->lock_ratio + RATIO_ROOM)
        return frost__error(FROST_ERR_CONFIG,
                            "slt.sparsity %g is above 1 - slt.lock_ratio = %g: the locked weights alone are denser "
                            "than the target (need prune_ratio < sparsity < 1 - lock_ratio)",
                            k->sparsity, 1 - k->lock_ratio);
    if (!allow_degenerate && frost_slt_degenerate(k))
        return frost__error(FROST_ERR_CONFIG,
                            "nothing is searched at p %g, r %g, s %g: s %s, so every free weight is %s whatever the "
                            "scores (need prune_ratio < sparsity < 1 - lock_ratio; slt.allow_degenerate = true runs "
                            "it anyway)",
                            k->prune_ratio, k->lock_ratio, k->sparsity,
                            k->sparsity <= k->prune_ratio + RATIO_ROOM ? "<= p" : ">= 1 - r",
                            k->sparsity <= k->prune_ratio + RATIO_ROOM ? "kept" : "dropped");
    return FROST_OK;
}

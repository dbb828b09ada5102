/*
 * kinds.c - the table of layer kinds: which kind (src/layers/<kind>.c) an
 * architecture's graph layers are, and the kind settings a spec gives.
 *
 * The model reaches every architecture-specific decision through this
 * table (shapes, buffers, operator, init rules, parameter names, forward,
 * backward); a new architecture is a kind file, an entry here and its
 * frost_arch value. The table is in frost_arch order and checked against
 * FROST_ARCH_COUNT at compile time, so an architecture without a kind does
 * not build (ggml's op table does the same).
 */
#include "model/model_impl.h"

static const frost__kind *const kinds[] = {
    [FROST_ARCH_MLP] = &frost__kind_mlp,
    [FROST_ARCH_GCN] = &frost__kind_gcn,
    [FROST_ARCH_SAGE] = &frost__kind_sage,
    [FROST_ARCH_GIN] = &frost__kind_gin,
    [FROST_ARCH_GIN_MLP] = &frost__kind_gin_mlp,
    [FROST_ARCH_GAT] = &frost__kind_gat,
};
_Static_assert(sizeof kinds / sizeof kinds[0] == FROST_ARCH_COUNT,
               "every frost_arch needs its layer kind in kinds[] (src/model/kinds.c)");

const frost__kind *frost__kind_of(frost_arch a)
{
    FROST_ASSERT((unsigned)a < FROST_ARCH_COUNT && kinds[a]);
    return kinds[a];
}

frost__kind_args frost__kind_args_of(const frost_model_spec *s)
{
    frost__kind_args a;
    memset(&a, 0, sizeof a);
    a.inner = s->mlp_hidden > 0 ? s->mlp_hidden : s->hidden;
    a.self = 1.0f + s->gin_eps;
    a.gcn_norm = s->gcn_norm;
    a.heads = s->heads > 0 ? s->heads : 1;
    a.out_heads = s->out_heads > 0 ? s->out_heads : 1;
    a.attn_dropout = s->attn_dropout;
    return a;
}

const char *frost_arch_name(frost_arch a) { return (unsigned)a < FROST_ARCH_COUNT ? kinds[a]->name : "?"; }

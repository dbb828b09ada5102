/*
 * gin.c - the Graph Isomorphism Network layer in the form of the
 * strong-lottery-ticket paper (slt.md section 5):
 *      G = (1 + eps) X + mean(X),  Y = G W (+ b)
 * op is the mean operator with self weight 1 + eps.
 *
 * Shape legend: N nodes, F in, H out.
 * Backward: dW += G^T dY; db += colsum(dY); dX += op^T (dY W^T).
 *
 * The kind (frost__kind_gin) runs through opconv.c (shared with GCN: the
 * operator is linear, so the model aggregates on the narrower side);
 * frost_gin_forward / _backward below are the plain reference. The
 * classic GIN with a two-layer MLP is its own kind (gin_mlp.c).
 */
#include "frost/layers.h"
#include "layers/kind_impl.h"

#include <string.h>

void frost_gin_forward(float *Y, float *G, const frost_aggr *op, const float *X, const float *W, const float *b,
                       int64_t N, int64_t F, int64_t H)
{
    frost_spmm(op, X, F, F, G, F);
    frost_gemm(false, false, N, H, F, 1.0f, G, F, W, H, 0.0f, Y, H);
    if (b) frost__add_bias(Y, b, N, H);
}

void frost_gin_backward(float *dX, float *dW, float *db, float *work, const float *dY, const float *G,
                        const frost_aggr *op, const float *X, const float *W, int64_t N, int64_t F, int64_t H)
{
    (void)X;
    if (db) frost_colsum_acc(dY, N, H, H, db);
    if (dW) frost_gemm(true, false, F, H, N, 1.0f, G, F, dY, H, 1.0f, dW, H);
    if (dX) {
        float *dG = work; /* (N,F) */
        frost_gemm(false, true, N, F, H, 1.0f, dY, H, W, H, 0.0f, dG, F);
        frost_spmm_t_acc(op, dG, F, F, dX, F);
    }
}

/* ---- the kind --------------------------------------------------------------------- */

static frost_status gin_op(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                           float *v0, float *v1, void *ws)
{
    (void)ws;
    memset(op, 0, sizeof *op);
    frost_aggr_mean(&op->aggr, A, AT, v0, v1, a->self);
    return FROST_OK;
}

const frost__kind frost__kind_gin = {
    .name = "gin",
    .n_mats = 1,
    .mat_names = {"weight"},
    .n_bias = 1,
    .linear = true,
    .root_weight = true,
    .init = FROST_INIT_TORCH_LINEAR,
    .zero_bias = false,
    .uses_graph = true,
    .shape = frost__opconv_shape,
    .graph_bytes = frost__no_graph_bytes,
    .make_op = gin_op,
    .bwd_buffers = frost__opconv_bwd_buffers,
    .forward = frost__opconv_forward,
    .backward = frost__opconv_backward,
    .rebuild_z = frost__opconv_rebuild_z,
    .dz_panels = frost__opconv_dz_panels,
};

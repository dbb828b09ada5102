/*
 * gcn.c - GCN convolution (Kipf & Welling): Y = Â X W + b with
 * Â = D^-1/2 (A + I) D^-1/2, computed once per graph (frost_aggr_gcn), or
 * one of DGL's other normalisations of A + I (model.gcn_norm).
 *
 * Shape legend: N nodes, F in, H out. The product is associative, so the
 * narrow side goes through the sparse aggregation:
 *   H <= F:  T = X W (N,H),  Y = Â T + b
 *   H >  F:  T = Â X (N,F),  Y = T W + b
 * Backward (Â^T is Â for symmetric graphs, op->AT otherwise):
 *   H <= F:  dT = Â^T dY;  dW += X^T dT;  dX += dT W^T
 *   H >  F:  dW += T^T dY; dT = dY W^T;   dX += Â^T dT
 *
 * The kind (frost__kind_gcn) runs this through opconv.c, which the model
 * shares with GIN; frost_gcn_forward / _backward below are the plain
 * reference the tests hold it to.
 */
#include "frost/layers.h"
#include "layers/kind_impl.h"

#include <string.h>

void frost_gcn_forward(float *Y, float *T, const frost_aggr *op, const float *X, const float *W, const float *b,
                       int64_t N, int64_t F, int64_t H)
{
    if (H <= F) {
        frost_gemm(false, false, N, H, F, 1.0f, X, F, W, H, 0.0f, T, H);
        frost_spmm(op, T, H, H, Y, H);
    } else {
        frost_spmm(op, X, F, F, T, F);
        frost_gemm(false, false, N, H, F, 1.0f, T, F, W, H, 0.0f, Y, H);
    }
    if (b) frost__add_bias(Y, b, N, H);
}

void frost_gcn_backward(float *dX, float *dW, float *db, float *work, const float *dY, const float *T,
                        const frost_aggr *op, const float *X, const float *W, int64_t N, int64_t F, int64_t H)
{
    if (db) frost_colsum_acc(dY, N, H, H, db);
    if (H <= F) {
        float *dT = work; /* (N,H) */
        memset(dT, 0, (size_t)(N * H) * sizeof(float));
        frost_spmm_t_acc(op, dY, H, H, dT, H);
        if (dW) frost_gemm(true, false, F, H, N, 1.0f, X, F, dT, H, 1.0f, dW, H);
        if (dX) frost_gemm(false, true, N, F, H, 1.0f, dT, H, W, H, 1.0f, dX, F);
    } else {
        if (dW) frost_gemm(true, false, F, H, N, 1.0f, T, F, dY, H, 1.0f, dW, H);
        if (dX) {
            float *dT = work; /* (N,F) */
            frost_gemm(false, true, N, F, H, 1.0f, dY, H, W, H, 0.0f, dT, F);
            frost_spmm_t_acc(op, dT, F, F, dX, F);
        }
    }
}

/* ---- the kind --------------------------------------------------------------------- */

static frost_status gcn_op(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                           float *v0, float *v1, void *ws)
{
    (void)ws;
    memset(op, 0, sizeof *op);
    frost_aggr_gcn_norm(&op->aggr, A, AT, v0, v1, (frost_gcn_norm)a->gcn_norm);
    return FROST_OK;
}

const frost__kind frost__kind_gcn = {
    .name = "gcn",
    .n_mats = 1,
    .mat_names = {"weight"},
    .n_bias = 1,
    .linear = true,
    .root_weight = true,
    .init = FROST_INIT_GLOROT, /* PyG's GCNConv */
    .zero_bias = true,         /* likewise */
    .uses_graph = true,
    .shape = frost__opconv_shape,
    .graph_bytes = frost__no_graph_bytes,
    .make_op = gcn_op,
    .bwd_buffers = frost__opconv_bwd_buffers,
    .forward = frost__opconv_forward,
    .backward = frost__opconv_backward,
    .rebuild_z = frost__opconv_rebuild_z,
    .dz_panels = frost__opconv_dz_panels,
};

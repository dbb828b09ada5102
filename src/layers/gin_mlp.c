/*
 * gin_mlp.c - the classic GIN layer (Xu et al. 2019; PyG GINConv with a
 * two-layer MLP):
 *      G = (1 + eps) X + sum(X),  Z = relu(G W1 + b1),  Y = Z W2 + b2
 *
 * Shape legend: N nodes (n computed), F in, K MLP hidden, H out.
 * Backward: dW2 += Z^T dY; db2; dZ = (dY W2^T) * [Z > 0];
 *           dW1 += G^T dZ; db1; dX += op^T (dZ W1^T).
 * G (N,F) and Z (N,K) are kept for backward.
 *
 * frost_gin_mlp_forward / _backward are the plain reference; the kind
 * (frost__kind_gin_mlp, below) is what the model runs. Its matrices are
 * W1 (F,K) and W2 (K,H), named weight and weight2, its biases b1 (K) and
 * b2 (H), bias and bias2.
 */
#include "frost/layers.h"
#include "layers/kind_impl.h"

#include <string.h>

void frost_gin_mlp_forward(float *Y, float *G, float *Z, const frost_aggr *op, const float *X, const float *W1,
                           const float *b1, const float *W2, const float *b2, int64_t N, int64_t F, int64_t K,
                           int64_t H)
{
    frost_spmm(op, X, F, F, G, F);
    frost_gemm(false, false, N, K, F, 1.0f, G, F, W1, K, 0.0f, Z, K);
    if (b1) frost__add_bias(Z, b1, N, K);
    frost_relu_forward(Z, Z, N * K);
    frost_gemm(false, false, N, H, K, 1.0f, Z, K, W2, H, 0.0f, Y, H);
    if (b2) frost__add_bias(Y, b2, N, H);
}

void frost_gin_mlp_backward(float *dX, float *dW1, float *db1, float *dW2, float *db2, float *work1,
                            float *work2, const float *dY, const float *G, const float *Z, const frost_aggr *op,
                            const float *X, const float *W1, const float *W2, int64_t N, int64_t F, int64_t K,
                            int64_t H)
{
    (void)X;
    if (db2) frost_colsum_acc(dY, N, H, H, db2);
    if (dW2) frost_gemm(true, false, K, H, N, 1.0f, Z, K, dY, H, 1.0f, dW2, H);
    float *dZ = work1; /* (N,K) */
    frost_gemm(false, true, N, K, H, 1.0f, dY, H, W2, H, 0.0f, dZ, K);
    frost_relu_backward(dZ, dZ, Z, N * K);
    if (db1) frost_colsum_acc(dZ, N, K, K, db1);
    if (dW1) frost_gemm(true, false, F, K, N, 1.0f, G, F, dZ, K, 1.0f, dW1, K);
    if (dX) {
        float *dG = work2; /* (N,F) */
        frost_gemm(false, true, N, F, K, 1.0f, dZ, K, W1, K, 0.0f, dG, F);
        frost_spmm_t_acc(op, dG, F, F, dX, F);
    }
}

/* ---- the kind --------------------------------------------------------------------- */

static void gin_mlp_shape(frost__conv *c, int64_t N, int64_t E)
{
    (void)E;
    const int64_t K = c->args.inner;
    c->W[0]->rows = c->fin, c->W[0]->cols = K;
    c->W[1]->rows = K, c->W[1]->cols = c->fout;
    c->nb[0] = K, c->b_fan_in[0] = c->fin;
    c->nb[1] = c->fout, c->b_fan_in[1] = K;
    c->cache_floats[0] = N * c->fin; /* G */
    c->cache_floats[1] = N * K;      /* Z */
    c->scratch_w = K;                /* dZ */
}

static frost_status gin_mlp_op(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                               float *v0, float *v1, void *ws)
{
    (void)v0, (void)ws;
    memset(op, 0, sizeof *op);
    frost_aggr_sum(&op->aggr, A, AT, v1, a->self);
    return FROST_OK;
}

static int gin_mlp_bwd_buffers(const frost__conv *c, bool extras, bool extras_dz)
{
    (void)c, (void)extras_dz;
    return extras ? 3 : 2;
}

static void gin_mlp_fwd(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fin = c->fin, fout = c->fout, K = c->args.inner;
    float *G = c->cache[0], *Z = c->cache[1];
    frost__exec_aggregate_input(ex, x, x_in, fin, G);
    frost_gemm(false, false, n, K, fin, 1.0f, G, fin, c->W[0]->w, K, 0.0f, Z, K);
    if (c->b[0]) frost__add_bias(Z, c->b[0], n, K);
    frost_relu_forward(Z, Z, n * K);
    frost_gemm(false, false, n, fout, K, 1.0f, Z, K, c->W[1]->w, fout, 0.0f, c->z, fout);
    if (c->b[1]) frost__add_bias(c->z, c->b[1], n, fout);
}

static float *gin_mlp_bwd(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fin = c->fin, fout = c->fout, K = c->args.inner;
    float *P = b->P, *Q = b->Q, *R = b->R;
    if (c->db[1]) frost_colsum_acc(P, n, fout, fout, c->db[1]);
    frost__exec_grad_w(ex, c->W[1], c->cache[1], P, 1.0f);
    frost__exec_grad_x(ex, Q, c->W[1], P, 1.0f, 0.0f); /* dZ (n, K) */
    frost_relu_backward(Q, Q, c->cache[1], n * K);
    if (c->db[0]) frost_colsum_acc(Q, n, K, K, c->db[0]);
    frost__exec_grad_w(ex, c->W[0], c->cache[0], Q, 1.0f);
    if (b->extras) b->extra_grads(b->u, b->input(b->u, R), P);
    if (b->first) return NULL;
    if (b->extras) {
        frost__exec_grad_x(ex, R, c->W[0], Q, 1.0f, 0.0f); /* dG */
        frost__exec_spmm_t(ex, R, fin, Q);
        b->extra_dx(b->u, P, Q);
        return Q;
    }
    frost__exec_grad_x(ex, P, c->W[0], Q, 1.0f, 0.0f); /* dG */
    frost__exec_spmm_t(ex, P, fin, Q);
    return Q;
}

const frost__kind frost__kind_gin_mlp = {
    .name = "gin_mlp",
    .n_mats = 2,
    .mat_names = {"weight", "weight2"},
    .n_bias = 2,
    .linear = false,
    .root_weight = false,
    .init = FROST_INIT_TORCH_LINEAR,
    .zero_bias = false,
    .uses_graph = true,
    .shape = gin_mlp_shape,
    .graph_bytes = frost__no_graph_bytes,
    .make_op = gin_mlp_op,
    .bwd_buffers = gin_mlp_bwd_buffers,
    .forward = gin_mlp_fwd,
    .backward = gin_mlp_bwd,
    .rebuild_z = NULL,
    .dz_panels = NULL,
};

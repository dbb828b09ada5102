/*
 * sage.c - GraphSAGE with mean aggregation and a root weight (PyG SAGEConv):
 * Y = mean(X) Wn + X Wr + b.
 *
 * Shape legend: N nodes (n computed), F in, H out. M = mean(X) (N,F) is kept.
 * Backward: dWn += M^T dY; dWr += X^T dY; db += colsum(dY);
 *           dX += dY Wr^T + mean^T (dY Wn^T).
 *
 * frost_sage_forward / _backward are the plain reference; the kind
 * (frost__kind_sage) is what the model runs: matrices Wn (weight_neigh)
 * and Wr (weight_root).
 */
#include "frost/layers.h"
#include "layers/kind_impl.h"

#include <string.h>

void frost_sage_forward(float *Y, float *M, const frost_aggr *mean, const float *X, const float *Wn,
                        const float *Wr, const float *b, int64_t N, int64_t F, int64_t H)
{
    frost_spmm(mean, X, F, F, M, F);
    frost_gemm(false, false, N, H, F, 1.0f, M, F, Wn, H, 0.0f, Y, H);
    frost_gemm(false, false, N, H, F, 1.0f, X, F, Wr, H, 1.0f, Y, H);
    if (b) frost__add_bias(Y, b, N, H);
}

void frost_sage_backward(float *dX, float *dWn, float *dWr, float *db, float *work, const float *dY,
                         const float *M, const frost_aggr *mean, const float *X, const float *Wn,
                         const float *Wr, int64_t N, int64_t F, int64_t H)
{
    if (db) frost_colsum_acc(dY, N, H, H, db);
    if (dWn) frost_gemm(true, false, F, H, N, 1.0f, M, F, dY, H, 1.0f, dWn, H);
    if (dWr) frost_gemm(true, false, F, H, N, 1.0f, X, F, dY, H, 1.0f, dWr, H);
    if (dX) {
        frost_gemm(false, true, N, F, H, 1.0f, dY, H, Wr, H, 1.0f, dX, F);
        float *dM = work; /* (N,F) */
        frost_gemm(false, true, N, F, H, 1.0f, dY, H, Wn, H, 0.0f, dM, F);
        frost_spmm_t_acc(mean, dM, F, F, dX, F);
    }
}

/* ---- the kind --------------------------------------------------------------------- */

static void sage_shape(frost__conv *c, int64_t N, int64_t E)
{
    (void)E;
    for (int k = 0; k < 2; k++) c->W[k]->rows = c->fin, c->W[k]->cols = c->fout;
    c->nb[0] = c->fout, c->b_fan_in[0] = c->fin;
    c->cache_floats[0] = N * c->fin; /* M */
}

static frost_status sage_op(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                            float *v0, float *v1, void *ws)
{
    (void)a, (void)v1, (void)ws;
    memset(op, 0, sizeof *op);
    frost_aggr_mean(&op->aggr, A, AT, v0, NULL, 0.0f);
    return FROST_OK;
}

static int sage_bwd_buffers(const frost__conv *c, bool extras, bool extras_dz)
{
    (void)c, (void)extras, (void)extras_dz;
    return 3;
}

static void sage_fwd(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fin = c->fin, fout = c->fout;
    frost__exec_aggregate_input(ex, x, x_in, fin, c->cache[0]);
    frost_gemm(false, false, n, fout, fin, 1.0f, c->cache[0], fin, c->W[0]->w, fout, 0.0f, c->z, fout);
    frost_gemm(false, false, n, fout, fin, 1.0f, x, fin, c->W[1]->w, fout, 1.0f, c->z, fout);
    if (c->b[0]) frost__add_bias(c->z, c->b[0], n, fout);
}

static float *sage_bwd(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fin = c->fin, fout = c->fout;
    float *P = b->P, *Q = b->Q, *R = b->R;
    if (c->db[0]) frost_colsum_acc(P, n, fout, fout, c->db[0]);
    frost__exec_grad_w(ex, c->W[0], c->cache[0], P, 1.0f);
    const float *x = b->input(b->u, R);
    frost__exec_grad_w(ex, c->W[1], x, P, 1.0f);
    if (b->extras) b->extra_grads(b->u, x, P);
    if (b->first) return NULL;
    frost__exec_grad_x(ex, Q, c->W[0], P, 1.0f, 0.0f);
    frost__exec_grad_x(ex, R, c->W[1], P, 1.0f, 0.0f);
    if (b->extras) b->extra_dx(b->u, P, R);
    /* R += mean^T Q over every held row */
    frost__exec_spmm_t_acc(ex, Q, fin, R);
    return R;
}

const frost__kind frost__kind_sage = {
    .name = "sage",
    .n_mats = 2,
    .mat_names = {"weight_neigh", "weight_root"},
    .n_bias = 1,
    .linear = false,
    .root_weight = false,
    .init = FROST_INIT_TORCH_LINEAR,
    .zero_bias = false,
    .uses_graph = true,
    .shape = sage_shape,
    .graph_bytes = frost__no_graph_bytes,
    .make_op = sage_op,
    .bwd_buffers = sage_bwd_buffers,
    .forward = sage_fwd,
    .backward = sage_bwd,
    .rebuild_z = NULL,
    .dz_panels = NULL,
};

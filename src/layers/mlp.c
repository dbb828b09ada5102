/*
 * mlp.c - the MLP layer kind: z = x W + b, the graph unused (model.name =
 * "mlp", and the input projection of any model).
 *
 * Shape legend: n rows computed, F in, H out.
 * Backward: dW += x^T dz; db += colsum(dz); dx = dz W^T.
 *
 * Its plain reference is frost_linear_forward / _backward (linear.c).
 */
#include "frost/layers.h"
#include "layers/kind_impl.h"

#include <string.h>

static void mlp_shape(frost__conv *c, int64_t N, int64_t E)
{
    (void)N, (void)E;
    c->W[0]->rows = c->fin, c->W[0]->cols = c->fout;
    c->nb[0] = c->fout, c->b_fan_in[0] = c->fin;
}

static frost_status mlp_op(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                           float *v0, float *v1, void *ws)
{
    (void)a, (void)A, (void)AT, (void)v0, (void)v1, (void)ws;
    memset(op, 0, sizeof *op);
    return FROST_OK;
}

static int mlp_bwd_buffers(const frost__conv *c, bool extras, bool extras_dz)
{
    (void)c, (void)extras, (void)extras_dz;
    return 3;
}

static void mlp_fwd(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p)
{
    (void)x_in, (void)p;
    frost_linear_forward(c->z, x, c->W[0]->w, c->b[0], ex->n, c->fin, c->fout);
}

static float *mlp_bwd(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fout = c->fout;
    float *P = b->P, *R = b->R;
    if (c->db[0]) frost_colsum_acc(P, n, fout, fout, c->db[0]);
    const float *x = b->input(b->u, R);
    frost__exec_grad_w(ex, c->W[0], x, P, 1.0f);
    if (b->extras) b->extra_grads(b->u, x, P);
    if (b->first) return NULL;
    frost__exec_grad_x(ex, R, c->W[0], P, 1.0f, 0.0f);
    if (b->extras) b->extra_dx(b->u, P, R);
    return R;
}

const frost__kind frost__kind_mlp = {
    .name = "mlp",
    .n_mats = 1,
    .mat_names = {"weight"},
    .n_bias = 1,
    .linear = false,
    .root_weight = false,
    .init = FROST_INIT_TORCH_LINEAR,
    .zero_bias = false,
    .uses_graph = false,
    .shape = mlp_shape,
    .graph_bytes = frost__no_graph_bytes,
    .make_op = mlp_op,
    .bwd_buffers = mlp_bwd_buffers,
    .forward = mlp_fwd,
    .backward = mlp_bwd,
    .rebuild_z = NULL,
    .dz_panels = NULL,
};

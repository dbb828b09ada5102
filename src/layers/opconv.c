/*
 * opconv.c - the model's forward and backward of a one-matrix convolution
 * over a linear aggregation operator, z = op x W + b: the form of GCN
 * (gcn.c, op = D^-1/2 (A + I) D^-1/2 and the other normalisations) and of
 * the strong-lottery-ticket paper's GIN (gin.c, op = (1 + eps) I + mean).
 * Their reference versions (frost_gcn_forward, frost_gin_forward) sit in
 * those files.
 *
 * Shape legend: n rows computed, fin = F in, fout = H out.
 *
 * op is linear, so the aggregation runs on the narrower side
 * (c->agg_after, chosen by the model when H <= F):
 *   after:  T = x W (n,H) (a forward intermediate, in scratch or, for the
 *           last layer under plan.c's z over x, a buffer of its own), z = op T + b
 *   before: G = op x (n,F) (kept), z = G W + b
 * Backward (op^T: frost_spmm_t):
 *   after:  dT = op^T dz; dW += x^T dT; dx = dT W^T
 *   before: dW += G^T dz;  dx = op^T (dz W^T)
 * z of an aggregate-first layer is one product of the kept G, so the model
 * may rebuild it in backward instead of keeping it (opconv_rebuild_z).
 *
 * Where the AVX-512 products run and no rows come from other processes, T
 * and dz are kept in column panels (tensor_impl.h): the same sums, a faster
 * SpMM.
 */
#include "layers/kind_impl.h"
#include "tensor/tensor_impl.h"

/* z = G W0 + b0 of an aggregate-first layer: forward makes z with it, and
 * backward rebuilds a z it did not keep with the same calls on the same
 * inputs, so the same bits. */
void frost__opconv_rebuild_z(const frost__exec *ex, const frost__conv *c, float *z)
{
    frost_gemm(false, false, ex->n, c->fout, c->fin, 1.0f, c->cache[0], c->fin, c->W[0]->w, c->fout, 0.0f, z, c->fout);
    if (c->b[0]) frost__add_bias(z, c->b[0], ex->n, c->fout);
}

void frost__opconv_shape(frost__conv *c, int64_t N, int64_t E)
{
    (void)E;
    c->W[0]->rows = c->fin, c->W[0]->cols = c->fout;
    c->nb[0] = c->fout, c->b_fan_in[0] = c->fin;
    /* T = x W (a forward intermediate) or G = op x (kept) */
    c->cache_floats[0] = N * (c->agg_after ? c->fout : c->fin);
    c->cache_temp[0] = c->agg_after;
}

int frost__opconv_bwd_buffers(const frost__conv *c, bool extras, bool extras_dz)
{
    /* an extra that reads dz keeps it alive; an aggregate-first layer's
     * input gradient goes through one more buffer when extras add to it */
    return extras_dz || (extras && !c->agg_after) ? 3 : 2;
}

bool frost__opconv_dz_panels(const frost__conv *c) { return c->agg_after; }

void frost__opconv_forward(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fin = c->fin, fout = c->fout;
    if (!c->agg_after) {
        frost__exec_aggregate_input(ex, x, x_in, fin, c->cache[0]);
        frost__opconv_rebuild_z(ex, c, c->z);
        return;
    }
    /* T = x W, z = op T; T in column panels where the shapes allow */
    float *T = c->cache[0];
    if (!ex->halo_forward && frost__gemm_panels(n, fout, fin, x, fin, c->W[0]->w, fout, T)) {
        frost__spmm_panels(&ex->op->aggr, T, fout, c->z, fout);
    } else {
        frost_gemm(false, false, n, fout, fin, 1.0f, x, fin, c->W[0]->w, fout, 0.0f, T, fout);
        frost__exec_spmm(ex, T, false, fout, c->z);
    }
    if (c->b[0]) frost__add_bias(c->z, c->b[0], n, fout);
}

float *frost__opconv_backward(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p)
{
    (void)p;
    const int64_t n = ex->n, fin = c->fin, fout = c->fout;
    float *P = b->P, *Q = b->Q, *R = b->R;
    frost__wmat *W = c->W[0];
    if (c->db[0]) {
        if (b->panels) frost__colsum_panels_acc(P, n, fout, c->db[0]);
        else frost_colsum_acc(P, n, fout, fout, c->db[0]);
    }
    if (c->agg_after) {
        /* z = op (x W): dT = op^T dz, dW = x^T dT, dx = dT W^T */
        FROST_ASSERT(!b->panels || !b->extras_dz);
        if (b->panels) frost__spmm_t_panels(&ex->op->aggr, P, fout, Q, fout);
        else frost__exec_spmm_t(ex, P, fout, Q);
        if (b->extras_dz) {
            const float *x = b->input(b->u, R);
            b->extra_grads(b->u, x, P);
            frost__exec_grad_w(ex, W, x, Q, 1.0f);
            if (b->first) return NULL;
            frost__exec_grad_x(ex, R, W, Q, 1.0f, 0.0f);
            b->extra_dx(b->u, P, R);
            return R;
        }
        const float *x = b->input(b->u, P); /* dz is spent */
        if (b->extras) b->extra_grads(b->u, x, NULL);
        frost__exec_grad_w(ex, W, x, Q, 1.0f);
        if (b->first) return NULL;
        frost__exec_grad_x(ex, P, W, Q, 1.0f, 0.0f);
        if (b->extras) b->extra_dx(b->u, NULL, P);
        return P;
    }
    /* z = G W with G = op x kept: dW = G^T dz, dx = op^T (dz W^T) */
    frost__exec_grad_w(ex, W, c->cache[0], P, 1.0f);
    if (b->extras) b->extra_grads(b->u, b->input(b->u, R), P);
    if (b->first) return NULL;
    frost__exec_grad_x(ex, Q, W, P, 1.0f, 0.0f);
    if (b->extras) {
        frost__exec_spmm_t(ex, Q, fin, R);
        b->extra_dx(b->u, P, R);
        return R;
    }
    frost__exec_spmm_t(ex, Q, fin, P);
    return P;
}

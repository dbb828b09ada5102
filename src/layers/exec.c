/*
 * exec.c - what a layer kind calls around its products and aggregations
 * (kind_impl.h's frost__exec): halo rows filled before an aggregation and
 * sent back after a transposed one when other processes hold part of the
 * graph, the held input's aggregation made once, the post block over all
 * processes' rows. In one process the callbacks are NULL and these are the
 * plain kernels.
 *
 * Shape legend: n rows computed, n_halo rows after them copied from other
 * processes, F columns.
 */
#include "layers/kind_impl.h"
#include "tensor/tensor_impl.h"

#include <string.h>

size_t frost__no_graph_bytes(const frost__kind_args *a, int64_t n, int64_t E)
{
    (void)a, (void)n, (void)E;
    return 0;
}

void frost__exec_halo_forward(const frost__exec *ex, float *x, int64_t F)
{
    if (ex->halo_forward) ex->halo_forward(ex->ctx, x, F);
}

/* Halo rows are alive only from the exchange that fills them to the
 * aggregation that reads them (forward), and from the transposed
 * aggregation that writes them to the exchange that sends them back
 * (backward). Outside those spans they are zeroed and their memory handed
 * back (frost__zero_release), so a process holds the halo rows of the
 * buffer it is aggregating, not of every buffer it has ever aggregated
 * (README, "Memory per process"). The self term of a transposed
 * aggregation reads its input's halo rows (times 0), which must therefore
 * be finite: zero is. */
static void zero_halo(const frost__exec *ex, float *x, int64_t F)
{
    if (ex->halo_forward) frost__zero_release(x + ex->n * F, (size_t)(ex->n_halo * F) * sizeof(float));
}

void frost__exec_spmm(const frost__exec *ex, const float *X, bool x_in, int64_t F, float *Y)
{
    if (!x_in) frost__exec_halo_forward(ex, (float *)X, F);
    frost_spmm(&ex->op->aggr, X, F, F, Y, F);
    if (!x_in) zero_halo(ex, (float *)X, F); /* a held input keeps its halo (copied once) */
}

void frost__exec_spmm_t(const frost__exec *ex, float *X, int64_t F, float *Y)
{
    zero_halo(ex, X, F);
    frost_spmm_t(&ex->op->aggr, X, F, F, Y, F);
    if (ex->halo_backward) ex->halo_backward(ex->ctx, Y, F);
    zero_halo(ex, Y, F);
}

/* Halo rows that are about to be written anyway and must start at exactly
 * zero (they are added into their owners' rows): a plain memset, which
 * costs no memory the writes would not take, and does not rely on the
 * kernel's zero pages. */
static void clear_halo(const frost__exec *ex, float *x, int64_t F)
{
    if (ex->halo_forward) memset(x + ex->n * F, 0, (size_t)(ex->n_halo * F) * sizeof(float));
}

void frost__exec_spmm_t_acc(const frost__exec *ex, float *X, int64_t F, float *Y)
{
    zero_halo(ex, X, F);
    clear_halo(ex, Y, F);
    frost_spmm_t_acc(&ex->op->aggr, X, F, F, Y, F);
    if (ex->halo_backward) ex->halo_backward(ex->ctx, Y, F);
    zero_halo(ex, Y, F);
}

void frost__exec_aggregate_input(frost__exec *ex, const float *x, bool x_in, int64_t F, float *out)
{
    const bool held = x_in && (ex->held_spent ? x == NULL : x == ex->held_x);
    if (held && ex->held_agg) return;
    FROST_ASSERT(x); /* a spent input's aggregation is not made again (a graph bound since) */
    frost__exec_spmm(ex, x, x_in, F, out);
    /* (another layer's aggregation leaves the first layer's as it is) */
    if (x_in) ex->held_agg = held;
}

void frost__exec_grad_w(const frost__exec *ex, frost__wmat *W, const float *x, const float *dy, float alpha)
{
    frost_gemm_ws(true, false, W->rows, W->cols, ex->n, alpha, x, W->rows, dy, W->cols, 1.0f, W->dw, W->cols,
                  ex->gemm_work);
}

void frost__exec_grad_x(const frost__exec *ex, float *out, const frost__wmat *W, const float *dy, float alpha,
                        float beta)
{
    frost_gemm(false, true, ex->n, W->rows, W->cols, alpha, dy, W->cols, W->w, W->cols, beta, out, W->rows);
}

/* ---- the post block ------------------------------------------------------------ */

static frost__post_rows rows_of(const frost__exec *ex, const frost_post *p)
{
    frost__post_rows pr = {.p = *p, .gid = p->ids, .n_global = ex->n_global, .allreduce = ex->allreduce,
                           .ctx = ex->ctx};
    return pr;
}

void frost__exec_post_forward(const frost__exec *ex, const frost_post *p, float *h, const float *z, int64_t H,
                              bool train)
{
    FROST_ASSERT(!ex->allreduce || p->act == FROST_ACT_RELU); /* frost__model_set_dist refuses others */
    if (ex->allreduce && train) {
        frost__post_rows pr = rows_of(ex, p);
        frost__post_rows_forward(&pr, h, z, ex->n, H);
    } else {
        frost_post_forward(p, h, z, ex->n, H, train);
    }
}

void frost__exec_post_recompute(const frost__exec *ex, const frost_post *p, float *h, const float *z, int64_t H)
{
    if (ex->allreduce) {
        frost__post_rows pr = rows_of(ex, p);
        frost__post_rows_recompute(&pr, h, z, ex->n, H);
    } else {
        frost_post_recompute(p, h, z, ex->n, H);
    }
}

bool frost__exec_post_backward(const frost__exec *ex, const frost_post *p, float *panels, float *dgamma, float *dbeta,
                               float *dh, const float *z, int64_t H)
{
    if (ex->allreduce) {
        frost__post_rows pr = rows_of(ex, p);
        frost__post_rows_backward(&pr, dh, dgamma, dbeta, dh, z, ex->n, H);
        return false;
    }
    if (panels && frost__post_backward_panels(p, panels, dgamma, dbeta, dh, NULL, z, ex->n, H)) return true;
    frost_post_backward(p, dh, dgamma, dbeta, dh, NULL, z, ex->n, H);
    return false;
}

/*
 * aggr.c - the per-node vectors of the standard aggregation operators.
 * Row i of A lists the nodes i aggregates from; degrees are row lengths.
 */
#include "frost/layers.h"

#include <math.h>

void frost_aggr_gcn(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *dinv_sqrt, float *dinv)
{
    for (int64_t i = 0; i < A->n_rows; i++) {
        double d = (double)(A->indptr[i + 1] - A->indptr[i]) + 1.0; /* + self-loop */
        dinv_sqrt[i] = (float)(1.0 / sqrt(d));
        dinv[i] = (float)(1.0 / d);
    }
    op->A = A;
    op->AT = AT;
    op->a = dinv_sqrt;
    op->b = dinv_sqrt;
    op->c = dinv;
}

void frost_aggr_gcn_norm(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *v0, float *v1,
                         frost_gcn_norm norm)
{
    op->A = A;
    op->AT = AT;
    switch (norm) {
    case FROST_GCN_NORM_BOTH: frost_aggr_gcn(op, A, AT, v0, v1); return;
    case FROST_GCN_NORM_RIGHT: /* y_i = (x_i + sum_j x_j) / (deg_i + 1) */
        for (int64_t i = 0; i < A->n_rows; i++) v0[i] = (float)(1.0 / ((double)(A->indptr[i + 1] - A->indptr[i]) + 1.0));
        op->a = v0;
        op->b = NULL;
        op->c = v0;
        return;
    case FROST_GCN_NORM_LEFT: { /* y_i = x_i / (out_i + 1) + sum_j x_j / (out_j + 1) */
        const frost_csr *T = AT ? AT : A; /* row j of A^T lists the nodes j sends to */
        for (int64_t j = 0; j < T->n_rows; j++) v0[j] = (float)(1.0 / ((double)(T->indptr[j + 1] - T->indptr[j]) + 1.0));
        op->a = NULL;
        op->b = v0;
        op->c = v0;
        return;
    }
    case FROST_GCN_NORM_NONE:
        for (int64_t i = 0; i < A->n_rows; i++) v1[i] = 1.0f;
        op->a = NULL;
        op->b = NULL;
        op->c = v1;
        return;
    }
}

void frost_aggr_mean(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *inv_deg, float *self,
                     float self_weight)
{
    for (int64_t i = 0; i < A->n_rows; i++) {
        int64_t d = A->indptr[i + 1] - A->indptr[i];
        inv_deg[i] = d > 0 ? 1.0f / (float)d : 0.0f;
        if (self) self[i] = self_weight;
    }
    op->A = A;
    op->AT = AT;
    op->a = inv_deg;
    op->b = NULL;
    op->c = self_weight != 0.0f ? self : NULL;
}

void frost_aggr_sum(frost_aggr *op, const frost_csr *A, const frost_csr *AT, float *self, float self_weight)
{
    if (self)
        for (int64_t i = 0; i < A->n_rows; i++) self[i] = self_weight;
    op->A = A;
    op->AT = AT;
    op->a = NULL;
    op->b = NULL;
    op->c = self_weight != 0.0f ? self : NULL;
}

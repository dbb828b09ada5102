/*
 * gat.c - graph attention (Veličković et al., ICLR 2018), as PyG's GATConv:
 *
 *     T = X W                                   (N, K D): K heads of D
 *     s_i = T_i^k . a_src^k,  t_i = T_i^k . a_dst^k       per head k
 *     e_ij = LeakyReLU(s_j + t_i, 0.2)          j in the in-neighbours of i and i itself
 *     alpha_ij = softmax_j(e_ij)                per row i and head
 *     Y_i^k = sum_j dropout(alpha_ij) T_j^k
 *     Y_i = [Y_i^1 .. Y_i^K] + b  (hidden layers: heads concatenated, H = K D)
 *     Y_i = mean_k Y_i^k + b      (the output layer: heads averaged, H = D)
 *
 * ELU follows the hidden layers in the model's post block (the kind's
 * activation). Shape legend: N nodes (n computed), F in, K heads, D per
 * head, H out, E stored entries of the graph.
 *
 * Backward, with dY_i^k = dY_i (concat) or dY_i / K (mean), m the dropout
 * multiplier:
 *     dT_j += sum_i alpha_ij m dY_i^k                 (transposed SpMM)
 *     g_ij = m dY_i^k . T_j,  u_ij = alpha_ij (g_ij - sum_j' alpha_ij' g_ij'),
 *     d_ij = u_ij LeakyReLU'(s_j + t_i)
 *     dt_i = sum_j d_ij,  ds_j = sum_i d_ij
 *     dT_i += dt_i a_dst + ds_i a_src,  da_src += sum_i ds_i T_i,  da_dst += sum_i dt_i T_i
 *     dW += X^T dT,  dX += dT W^T,  db += colsum(dY)
 *
 * The model's kind (frost__kind_gat) keeps T, s, t and alpha (one float per
 * entry and head: the only per-entry buffer; the dropout mask is drawn
 * again) and runs the kernels of edge.c; its matrices are W (weight),
 * a_src (att_src) and a_dst (att_dst), each (D, K) with fan_in D, so a
 * ticket masks the attention vectors too. frost_gat_forward / _backward
 * below are the plain reference, in double.
 */
#include "frost/layers.h"
#include "layers/kind_impl.h"
#include "layers/edge_impl.h"
#include "frost/rng.h"

#include <math.h>
#include <string.h>

#define SLOPE 0.2f /* LeakyReLU's negative slope (the paper's 0.2) */

/* ---- the plain reference ---------------------------------------------------------- */

static double lrelu(double x) { return x > 0 ? x : (double)SLOPE * x; }

/* T, s, t and alpha of the reference: T (N, K D), s, t (N, K), alpha per
 * row in a CSR-shaped array (E + N, K): entries, then self. */
typedef struct ref_state {
    double *T, *s, *t, *alpha;
} ref_state;

static void ref_free(ref_state *r)
{
    free(r->T), free(r->s), free(r->t), free(r->alpha);
}

static frost_status ref_forward(ref_state *r, double *out, const frost_csr *A, const float *X, const float *W,
                                const float *as, const float *ad, int64_t N, int64_t F, int64_t K, int64_t D)
{
    const int64_t KD = K * D, E = A->nnz;
    r->T = calloc((size_t)(N * KD + 1), sizeof(double));
    r->s = calloc((size_t)(N * K + 1), sizeof(double));
    r->t = calloc((size_t)(N * K + 1), sizeof(double));
    r->alpha = calloc((size_t)((E + N) * K + 1), sizeof(double));
    if (!r->T || !r->s || !r->t || !r->alpha) {
        ref_free(r);
        return frost__error(FROST_ERR_NOMEM, "out of memory for the reference GAT layer");
    }
    for (int64_t i = 0; i < N; i++)
        for (int64_t q = 0; q < KD; q++) {
            double v = 0;
            for (int64_t f = 0; f < F; f++) v += (double)X[i * F + f] * (double)W[f * KD + q];
            r->T[i * KD + q] = v;
        }
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t c = 0; c < D; c++) {
                r->s[i * K + k] += r->T[i * KD + k * D + c] * (double)as[c * K + k];
                r->t[i * K + k] += r->T[i * KD + k * D + c] * (double)ad[c * K + k];
            }
    memset(out, 0, (size_t)(N * KD) * sizeof *out);
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < K; k++) {
            const int64_t e0 = A->indptr[i], e1 = A->indptr[i + 1];
            double mx = lrelu(r->s[i * K + k] + r->t[i * K + k]), sum = 0;
            for (int64_t e = e0; e < e1; e++) mx = fmax(mx, lrelu(r->s[A->indices[e] * K + k] + r->t[i * K + k]));
            for (int64_t e = e0; e <= e1; e++) { /* e1 stands for the self entry */
                const int64_t j = e < e1 ? A->indices[e] : i, slot = e < e1 ? e : E + i;
                r->alpha[slot * K + k] = exp(lrelu(r->s[j * K + k] + r->t[i * K + k]) - mx);
                sum += r->alpha[slot * K + k];
            }
            for (int64_t e = e0; e <= e1; e++) {
                const int64_t j = e < e1 ? A->indices[e] : i, slot = e < e1 ? e : E + i;
                r->alpha[slot * K + k] /= sum;
                for (int64_t c = 0; c < D; c++)
                    out[i * KD + k * D + c] += r->alpha[slot * K + k] * r->T[j * KD + k * D + c];
            }
        }
    return FROST_OK;
}

frost_status frost_gat_forward(float *Y, const frost_csr *A, const float *X, const float *W, const float *att_src,
                               const float *att_dst, const float *b, int64_t N, int64_t F, int64_t K, int64_t D,
                               bool concat)
{
    ref_state r = {0};
    const int64_t KD = K * D, H = concat ? KD : D;
    double *out = malloc((size_t)(N * KD + 1) * sizeof *out);
    if (!out) return frost__error(FROST_ERR_NOMEM, "out of memory for the reference GAT layer");
    frost_status st = ref_forward(&r, out, A, X, W, att_src, att_dst, N, F, K, D);
    if (st < 0) {
        free(out);
        return st;
    }
    for (int64_t i = 0; i < N; i++)
        for (int64_t c = 0; c < H; c++) {
            double v = 0;
            if (concat) v = out[i * KD + c];
            else
                for (int64_t k = 0; k < K; k++) v += out[i * KD + k * D + c] / (double)K;
            Y[i * H + c] = (float)(v + (b ? (double)b[c] : 0.0));
        }
    free(out);
    ref_free(&r);
    return FROST_OK;
}

frost_status frost_gat_backward(float *dX, float *dW, float *datt_src, float *datt_dst, float *db, const float *dY,
                                const frost_csr *A, const float *X, const float *W, const float *att_src,
                                const float *att_dst, int64_t N, int64_t F, int64_t K, int64_t D, bool concat)
{
    ref_state r = {0};
    const int64_t KD = K * D, H = concat ? KD : D, E = A->nnz;
    double *out = malloc((size_t)(N * KD + 1) * sizeof *out), *dO = calloc((size_t)(N * KD + 1), sizeof(double));
    double *dT = calloc((size_t)(N * KD + 1), sizeof(double)), *ds = calloc((size_t)(N * K + 1), sizeof(double));
    double *dt = calloc((size_t)(N * K + 1), sizeof(double));
    frost_status st = FROST_OK;
    if (!out || !dO || !dT || !ds || !dt) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory for the reference GAT layer");
        goto done;
    }
    if ((st = ref_forward(&r, out, A, X, W, att_src, att_dst, N, F, K, D)) < 0) goto done;
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t c = 0; c < D; c++)
                dO[i * KD + k * D + c] = concat ? (double)dY[i * H + k * D + c] : (double)dY[i * H + c] / (double)K;
    if (db)
        for (int64_t i = 0; i < N; i++)
            for (int64_t c = 0; c < H; c++) db[c] += dY[i * H + c];
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < K; k++) {
            const int64_t e0 = A->indptr[i], e1 = A->indptr[i + 1];
            double S = 0;
            for (int64_t e = e0; e <= e1; e++) {
                const int64_t j = e < e1 ? A->indices[e] : i, slot = e < e1 ? e : E + i;
                double g = 0;
                for (int64_t c = 0; c < D; c++) {
                    g += dO[i * KD + k * D + c] * r.T[j * KD + k * D + c];
                    dT[j * KD + k * D + c] += r.alpha[slot * K + k] * dO[i * KD + k * D + c];
                }
                S += r.alpha[slot * K + k] * g;
            }
            for (int64_t e = e0; e <= e1; e++) {
                const int64_t j = e < e1 ? A->indices[e] : i, slot = e < e1 ? e : E + i;
                double g = 0;
                for (int64_t c = 0; c < D; c++) g += dO[i * KD + k * D + c] * r.T[j * KD + k * D + c];
                const double u = r.alpha[slot * K + k] * (g - S);
                const double d = r.s[j * K + k] + r.t[i * K + k] > 0 ? u : (double)SLOPE * u;
                dt[i * K + k] += d;
                ds[j * K + k] += d;
            }
        }
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t c = 0; c < D; c++) {
                const double Tv = r.T[i * KD + k * D + c];
                if (datt_src) datt_src[c * K + k] += (float)(ds[i * K + k] * Tv);
                if (datt_dst) datt_dst[c * K + k] += (float)(dt[i * K + k] * Tv);
                dT[i * KD + k * D + c] += dt[i * K + k] * (double)att_dst[c * K + k] + ds[i * K + k] * (double)att_src[c * K + k];
            }
    for (int64_t f = 0; f < F; f++)
        for (int64_t q = 0; q < KD; q++) {
            double v = 0;
            for (int64_t i = 0; i < N; i++) v += (double)X[i * F + f] * dT[i * KD + q];
            if (dW) dW[f * KD + q] += (float)v;
        }
    if (dX)
        for (int64_t i = 0; i < N; i++)
            for (int64_t f = 0; f < F; f++) {
                double v = 0;
                for (int64_t q = 0; q < KD; q++) v += dT[i * KD + q] * (double)W[f * KD + q];
                dX[i * F + f] += (float)v;
            }
done:
    free(out), free(dO), free(dT), free(ds), free(dt);
    ref_free(&r);
    return st;
}

/* ---- the kind --------------------------------------------------------------------- */

/* heads K, per-head width D, whether heads are concatenated (hidden layers) */
static void dims(const frost__conv *c, int64_t *K, int64_t *D, bool *concat)
{
    *concat = !c->last;
    *K = *concat ? c->args.heads : c->args.out_heads;
    *D = *concat ? c->fout / *K : c->fout;
}

static void gat_shape(frost__conv *c, int64_t N, int64_t E)
{
    int64_t K, D;
    bool concat;
    dims(c, &K, &D, &concat);
    c->W[0]->rows = c->fin, c->W[0]->cols = K * D; /* W */
    c->W[1]->rows = D, c->W[1]->cols = K;          /* a_src: (D, K), fan_in D */
    c->W[2]->rows = D, c->W[2]->cols = K;          /* a_dst */
    c->nb[0] = c->fout, c->b_fan_in[0] = c->fin;
    c->cache_floats[0] = N * K * D;                /* T */
    c->cache_floats[1] = N * 4 * K;                /* s, t, then ds, dt */
    c->cache_floats[2] = (E + N) * K;              /* alpha of the entries, then of the self entries */
    c->cache_floats[3] = !concat && K > 1 ? N * K * D : 0; /* heads before their mean */
    c->cache_temp[3] = true;
    c->scratch_w = K * D;
}

static frost_status gat_check(const frost__conv *c)
{
    if (c->args.heads < 1 || c->args.heads > 64 || c->args.out_heads < 1 || c->args.out_heads > 64)
        return frost__error(FROST_ERR_CONFIG, "model.heads %d and model.out_heads %d: expected 1 .. 64",
                            (int)c->args.heads, (int)c->args.out_heads);
    if (!c->last && c->fout % c->args.heads != 0)
        return frost__error(FROST_ERR_CONFIG,
                            "model.hidden %lld is not a multiple of model.heads %d (gat concatenates its heads)",
                            (long long)c->fout, (int)c->args.heads);
    return FROST_OK;
}

static size_t gat_graph_bytes(const frost__kind_args *a, int64_t n, int64_t E)
{
    (void)a;
    return (size_t)(E + n) * sizeof(int64_t); /* tperm, then the builder's cursors */
}

static frost_status gat_op(frost__op *op, const frost__kind_args *a, const frost_csr *A, const frost_csr *AT,
                           float *v0, float *v1, void *ws)
{
    (void)a, (void)v0, (void)v1;
    memset(op, 0, sizeof *op);
    op->aggr.A = A;
    op->aggr.AT = AT;
    op->ws = ws;
    if (!ws) return frost__error(FROST_ERR_INVALID, "gat needs its per-graph data (the transposed entries)");
    int64_t *tperm = ws;
    return frost__edge_tperm(A, AT, tperm, tperm + A->nnz);
}

static int gat_bwd_buffers(const frost__conv *c, bool extras, bool extras_dz)
{
    (void)c, (void)extras, (void)extras_dz;
    return 3;
}

static frost__edge_drop attention_dropout(const frost__conv *c, const frost__pass *p)
{
    /* the model's dropout streams are (epoch << 20) | (layer << 1) | kind;
     * bit 47 marks attention (epochs below 2^27) */
    frost__edge_drop d = {0.0f, p->seed,
                          frost_rng_stream(FROST_RNG_DROPOUT, (UINT64_C(1) << 47) | ((uint64_t)p->epoch << 20) |
                                                                  ((uint64_t)c->layer << 1))};
    if (p->train) d.p = c->args.attn_dropout;
    return d;
}

static void gat_fwd(frost__exec *ex, frost__conv *c, const float *x, bool x_in, const frost__pass *p)
{
    (void)x_in;
    int64_t K, D;
    bool concat;
    dims(c, &K, &D, &concat);
    const int64_t n = ex->n, KD = K * D, fout = c->fout;
    const frost_csr *A = ex->op->aggr.A;
    const int64_t E = A->nnz;
    float *T = c->cache[0], *s = c->cache[1], *t = s + n * K, *alpha = c->cache[2];
    const float *as = c->W[1]->w, *ad = c->W[2]->w;
    frost_gemm(false, false, n, KD, c->fin, 1.0f, x, c->fin, c->W[0]->w, KD, 0.0f, T, KD);
#pragma omp parallel for schedule(static) if (n * KD > 65536)
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < K; k++) {
            float a = 0.0f, b = 0.0f;
            for (int64_t q = 0; q < D; q++) {
                a += T[i * KD + k * D + q] * as[q * K + k];
                b += T[i * KD + k * D + q] * ad[q * K + k];
            }
            s[i * K + k] = a, t[i * K + k] = b;
        }
    frost__edge_softmax(A, s, t, K, SLOPE, alpha, alpha + E * K);
    const frost__edge_drop drop = attention_dropout(c, p);
    float *Y = concat || K == 1 ? c->z : c->cache[3];
    frost__spmm_edge(A, alpha, alpha + E * K, K, D, &drop, T, Y);
    if (!concat && K > 1) {
        const float inv = 1.0f / (float)K;
#pragma omp parallel for schedule(static) if (n * KD > 65536)
        for (int64_t i = 0; i < n; i++)
            for (int64_t q = 0; q < D; q++) {
                float v = 0.0f;
                for (int64_t k = 0; k < K; k++) v += Y[i * KD + k * D + q];
                c->z[i * fout + q] = v * inv;
            }
    }
    if (c->b[0]) frost__add_bias(c->z, c->b[0], n, fout);
}

/* da_src[q K + k] and da_dst: sums over rows of T (n, K D) times ds, dt (n, K). */
typedef struct att_ctx {
    const float *T, *ds, *dt;
    int64_t K, D;
} att_ctx;

static void att_rows(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *acc)
{
    const att_ctx *x = vctx;
    const int64_t K = x->K, D = x->D, KD = K * D;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t col = c0; col < c1; col++) {
            const double v = (double)x->T[i * KD + col];
            const int64_t k = col / D;
            acc[col - c0] += v * (double)x->ds[i * K + k];
            acc[FROST_SUM_COLS + col - c0] += v * (double)x->dt[i * K + k];
        }
}

static float *gat_bwd(frost__exec *ex, frost__conv *c, const frost__bwd *b, const frost__pass *p)
{
    int64_t K, D;
    bool concat;
    dims(c, &K, &D, &concat);
    FROST_ASSERT(!b->extras_dz);
    const int64_t n = ex->n, KD = K * D, fout = c->fout;
    const frost_csr *A = ex->op->aggr.A, *AT = ex->op->aggr.AT;
    const int64_t E = A->nnz;
    const int64_t *tperm = ex->op->ws;
    float *P = b->P, *Q = b->Q, *R = b->R;
    float *T = c->cache[0], *s = c->cache[1], *t = s + n * K, *ds = t + n * K, *dt = ds + n * K;
    float *alpha = c->cache[2], *alpha_self = alpha + E * K;
    const float *as = c->W[1]->w, *ad = c->W[2]->w;
    if (c->db[0]) frost_colsum_acc(P, n, fout, fout, c->db[0]);
    /* the heads' gradient */
    const float *dO = P;
    if (!concat && K > 1) {
        const float inv = 1.0f / (float)K;
#pragma omp parallel for schedule(static) if (n * KD > 65536)
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < K; k++)
                for (int64_t q = 0; q < D; q++) R[i * KD + k * D + q] = P[i * fout + q] * inv;
        dO = R;
    }
    const frost__edge_drop drop = attention_dropout(c, p);
    frost__spmm_edge_t(A, AT, tperm, alpha, alpha_self, K, D, &drop, dO, Q); /* dT from the aggregation */
    frost__edge_softmax_backward(A, s, t, K, D, SLOPE, &drop, dO, T, alpha, alpha_self, dt);
    frost__edge_sum_t(A, AT, tperm, alpha, alpha_self, K, ds);
    /* dT += dt a_dst + ds a_src */
#pragma omp parallel for schedule(static) if (n * KD > 65536)
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t q = 0; q < D; q++)
                Q[i * KD + k * D + q] += dt[i * K + k] * ad[q * K + k] + ds[i * K + k] * as[q * K + k];
    att_ctx ax = {T, ds, dt, K, D};
    for (int64_t c0 = 0; c0 < KD; c0 += FROST_SUM_COLS) {
        const int64_t c1 = KD - c0 < FROST_SUM_COLS ? KD : c0 + FROST_SUM_COLS;
        double acc[2 * FROST_SUM_COLS];
        memset(acc, 0, sizeof acc);
        frost__block_sums(n, c0, c1, 2, acc, att_rows, &ax);
        for (int64_t col = c0; col < c1; col++) {
            const int64_t k = col / D, q = col % D;
            c->W[1]->dw[q * K + k] += (float)acc[col - c0];
            c->W[2]->dw[q * K + k] += (float)acc[FROST_SUM_COLS + col - c0];
        }
    }
    /* the product: dW = x^T dT, dx = dT W^T */
    const float *x = b->input(b->u, R);
    frost__exec_grad_w(ex, c->W[0], x, Q, 1.0f);
    if (b->extras) b->extra_grads(b->u, x, NULL);
    if (b->first) return NULL;
    frost__exec_grad_x(ex, R, c->W[0], Q, 1.0f, 0.0f);
    if (b->extras) b->extra_dx(b->u, NULL, R);
    return R;
}

const frost__kind frost__kind_gat = {
    .name = "gat",
    .n_mats = 3,
    .mat_names = {"weight", "att_src", "att_dst"},
    .n_bias = 1,
    .linear = false,
    .root_weight = false,
    .init = FROST_INIT_GLOROT, /* PyG's GATConv (and the paper's code) */
    .zero_bias = true,
    .uses_graph = true,
    .act = FROST_ACT_ELU,
    .check = gat_check,
    .shape = gat_shape,
    .graph_bytes = gat_graph_bytes,
    .make_op = gat_op,
    .bwd_buffers = gat_bwd_buffers,
    .forward = gat_fwd,
    .backward = gat_bwd,
    .rebuild_z = NULL,
    .dz_panels = NULL,
};

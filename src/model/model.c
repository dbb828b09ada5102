/*
 * model.c - assembling GNN layers into a model: memory layout, parameter
 * initialisation, forward and backward over all nodes.
 *
 * Shape legend: N nodes, F input features, D hidden width, C outputs.
 *
 * Layer l (0 .. L-1) maps h_l (N, fin) to h_{l+1} (N, fout):
 *   z = conv(h_l)                                  (kept, or rebuilt: below)
 *   h = dropout(relu(norm(z)))   for hidden layers (fused post block)
 *   h_{l+1} = h + h_l            when residual and fin == fout (kept)
 * The last layer's z are the logits, unless norm_last (post block without
 * dropout) or skip_head (logits = (head(h_{L-1}) + h_L) / 2, slt.md 5).
 *
 * Memory plan: what backward needs is z of every layer, the conv internals
 * that cannot be rebuilt cheaply (cache0/cache1: aggregated inputs), the
 * batch statistics and one bit per post-block output ([h > 0]). The hidden
 * h themselves live in two scratch buffers during forward and are rebuilt
 * from z and the bits, bit for bit, when backward needs a layer's input.
 * Cheaper still, unless spec.keep_activations:
 *  - z of a hidden GCN/GIN layer that aggregates before its product is one
 *    product of its kept aggregation: made in scratch, rebuilt in backward
 *    (once, in the next layer's spent z buffer when that fits: layer_input);
 *  - the logits of a plain last layer that aggregates after its product,
 *    and dlogits, live in scratch between forward and backward;
 *  - the first layer's aggregation of a held input (frost_model_hold_input)
 *    is made by one forward and reused.
 * Backward runs with two (GCN, GIN) or three scratch gradients of (N, max
 * width), reused across layers; a fourth holds the residual share.
 *
 * Slabs, allocated once by a two-pass layout (sizes, then pointers):
 * trainable values, their gradients, fixed values (supermask weights and
 * codes, batch-norm running statistics), forward activations and scratch,
 * and what only training needs.
 */
#include "model/model_impl.h"
#include "frost/layers.h"
#include "layers/layers_impl.h"
#include "tensor/tensor_impl.h"
#include "frost/rng.h"
#include "frost/slt.h"
#include "frost/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

frost_model_spec frost_model_spec_default(void)
{
    frost_model_spec s;
    memset(&s, 0, sizeof s);
    s.arch = FROST_ARCH_GCN;
    s.layers = 2;
    s.hidden = 64;
    s.bias = true;
    s.norm = FROST_NORM_NONE;
    s.dropout = 0.5f;
    s.gin_eps = 0.0f;
    s.bn_momentum = 0.1f;
    s.bn_eps = 1e-5f;
    s.weight_init = FROST_INIT_DEFAULT;
    s.weights = FROST_WEIGHTS_TRAINED;
    s.mask.sparsity = 0.5;
    s.mask.distribution = FROST_DIST_EPL;
    s.mask.scope = FROST_THRESHOLD_GLOBAL;
    s.mask.weight_init = FROST_INIT_KAIMING_UNIFORM;
    s.mask.score_init = FROST_INIT_KAIMING_NORMAL;
    s.mask.scale = FROST_SCALE_NONE;
    return s;
}

const char *frost_arch_name(frost_arch a)
{
    switch (a) {
    case FROST_ARCH_MLP: return "mlp";
    case FROST_ARCH_GCN: return "gcn";
    case FROST_ARCH_SAGE: return "sage";
    case FROST_ARCH_GIN: return "gin";
    case FROST_ARCH_GIN_MLP: return "gin_mlp";
    }
    return "?";
}

frost_status frost_model_spec_check(const frost_model_spec *s)
{
    if ((unsigned)s->arch > FROST_ARCH_GIN_MLP)
        return frost__error(FROST_ERR_CONFIG, "model.name: unknown architecture %d", (int)s->arch);
    if (s->layers < 1 || s->layers > 64)
        return frost__error(FROST_ERR_CONFIG, "model.layers is %d, expected 1 .. 64", s->layers);
    if (s->in_dim < 1) return frost__error(FROST_ERR_CONFIG, "the dataset has no node features (in_dim %lld)",
                                           (long long)s->in_dim);
    if (s->hidden < 1 || s->hidden > (1 << 20))
        return frost__error(FROST_ERR_CONFIG, "model.hidden is %lld, expected 1 .. 1048576", (long long)s->hidden);
    if (s->out_dim < 1) return frost__error(FROST_ERR_CONFIG, "model output width %lld", (long long)s->out_dim);
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return frost__error(FROST_ERR_CONFIG, "model.dropout is %g, expected 0 <= p < 1", (double)s->dropout);
    if (!(s->input_dropout >= 0.0f && s->input_dropout < 1.0f))
        return frost__error(FROST_ERR_CONFIG, "model.input_dropout is %g, expected 0 <= p < 1",
                            (double)s->input_dropout);
    if (s->skip_head && s->layers < 2)
        return frost__error(FROST_ERR_CONFIG, "model.skip_head needs at least 2 layers");
    if (s->weights == FROST_WEIGHTS_SUPERMASK) {
        /* the model runs a degenerate point too (the configuration refuses it
         * unless slt.allow_degenerate) */
        frost_status st = frost_slt_check_ratios(&s->mask, true);
        if (st < 0) return st;
    }
    return FROST_OK;
}

/* Graph layers that get a root weight (model.root_weight): GCN and GIN. */
static bool has_root(const frost_model_spec *s, frost_arch a)
{
    return s->root_weight && (a == FROST_ARCH_GCN || a == FROST_ARCH_GIN);
}

/* ---- memory layout ---------------------------------------------------------- */

typedef struct slab {
    char *base;
    size_t off;
} slab;

static void *take(slab *s, size_t bytes)
{
    size_t o = (s->off + 63) & ~(size_t)63; /* cache-line aligned */
    s->off = o + bytes;
    return s->base ? (void *)(s->base + o) : NULL;
}
#define TAKE(s, n, T) ((T *)take((s), (size_t)(n) * sizeof(T)))

/* Width of the tensor a layer's conv keeps (cache0) and its scratch needs. */
static int64_t cache0_width(frost_arch arch, int64_t fin, int64_t fout)
{
    switch (arch) {
    case FROST_ARCH_GCN:
    case FROST_ARCH_GIN: return fout <= fin ? fout : fin;
    case FROST_ARCH_SAGE:
    case FROST_ARCH_GIN_MLP: return fin;
    default: return 0;
    }
}

/* GCN and GIN layers aggregate after the product (z = op (x W)) when that
 * is no wider than the input, before it (z = (op x) W) otherwise: the
 * aggregation runs at the narrower width. */
static bool agg_after(const frost__layer *ly)
{
    return (ly->arch == FROST_ARCH_GCN || ly->arch == FROST_ARCH_GIN) && ly->fout <= ly->fin;
}

/* Layer l's z lives in scratch rather than a buffer of its own: rebuilt in
 * backward, or the logits kept in scratch until the loss has read them. */
static bool z_in_scratch(const frost_model *m, int32_t l)
{
    return m->layer[l].z_rebuilt || (l == m->L - 1 && m->logits_in_scratch);
}

/* Scratch gradients layer l's backward needs (see frost_model_backward):
 * two when the layer never needs its input and its output gradient at
 * once, three otherwise, four with a residual share to carry. */
static int backward_buffers(const frost_model *m, int32_t l)
{
    const frost__layer *ly = &m->layer[l];
    const bool head = m->head && l == m->L - 1;
    int n = 2;
    switch (ly->arch) {
    case FROST_ARCH_GCN:
    case FROST_ARCH_GIN:
        if (ly->Wr || (head && ly->fout > ly->fin)) n = 3;
        break;
    case FROST_ARCH_GIN_MLP:
        if (ly->Wr || head) n = 3;
        break;
    case FROST_ARCH_SAGE:
    case FROST_ARCH_MLP: n = 3; break;
    }
    return ly->residual ? n + 1 : n;
}

/* One pass of the layout: with null bases it only measures. */
/* Slabs: P trainable values, G their gradients, X fixed values, A what a
 * forward pass needs, B what only training needs (batch statistics, backward
 * scratch). An inference-only model allocates neither G nor B. */
static void layout(frost_model *m, slab *P, slab *G, slab *X, slab *A, slab *B)
{
    const frost_model_spec *s = &m->spec;
    const int64_t N = m->N;
    const bool sm = m->supermask;
    int64_t total_masked = 0;

    m->opv0 = TAKE(X, N, float);
    m->opv1 = TAKE(X, N, float);
    for (int32_t k = 0; k < m->n_wmats; k++) {
        frost__wmat *w = &m->wmats[k];
        total_masked += w->n;
        if (sm) {
            /* trainable: scores; fixed: base weights, codes; effective weights with the activations */
            w->score = TAKE(P, w->n, float);
            w->dscore = TAKE(G, w->n, float);
            w->base = TAKE(X, w->n, float);
            w->code = TAKE(X, w->n, int8_t);
            w->keep = TAKE(A, w->n, uint8_t);
            w->w = TAKE(A, w->n, float);
            w->dw = TAKE(B, w->n, float);
        } else {
            w->w = TAKE(P, w->n, float);
            w->dw = TAKE(G, w->n, float);
        }
    }
    if (sm) m->keys = TAKE(A, total_masked, float);
    size_t gw = 0;
    for (int32_t k = 0; k < m->n_wmats; k++) {
        const size_t f = frost_gemm_work_floats(m->wmats[k].rows, m->wmats[k].cols);
        if (f > gw) gw = f;
    }
    m->gemm_work = TAKE(B, gw, float);
    /* scratch: forward keeps a layer's input and output in S[0], S[1];
     * backward's gradients rotate through all of them */
    int64_t sw = s->out_dim;
    int nS = 2;
    for (int32_t l = 0; l < m->L; l++) {
        const frost__layer *ly = &m->layer[l];
        if (ly->fout > sw) sw = ly->fout;
        if (l > 0 && ly->fin > sw) sw = ly->fin;
        if (ly->arch == FROST_ARCH_GIN_MLP && ly->k > sw) sw = ly->k;
        if (!m->inference && backward_buffers(m, l) > nS) nS = backward_buffers(m, l);
    }
    m->sw = sw;
    m->nS = nS;
    for (int k = 0; k < 4; k++) m->S[k] = k < nS ? TAKE(A, N * sw, float) : NULL;
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        const int64_t fin = ly->fin, fout = ly->fout;
        const bool last = l == m->L - 1;
        if (s->bias) {
            int64_t nb0 = ly->arch == FROST_ARCH_GIN_MLP ? ly->k : fout;
            ly->b0 = TAKE(P, nb0, float);
            ly->db0 = TAKE(G, nb0, float);
            if (ly->arch == FROST_ARCH_GIN_MLP) {
                ly->b1 = TAKE(P, fout, float);
                ly->db1 = TAKE(G, fout, float);
            }
        }
        if (ly->post && s->norm != FROST_NORM_NONE) {
            if (s->norm == FROST_NORM_BATCH) {
                ly->gamma = TAKE(P, fout, float);
                ly->beta = TAKE(P, fout, float);
                ly->dgamma = TAKE(G, fout, float);
                ly->dbeta = TAKE(G, fout, float);
            }
            ly->rmean = TAKE(X, fout, float);
            ly->rvar = TAKE(X, fout, float);
            ly->bmean = TAKE(B, fout, float);
            ly->binvstd = TAKE(B, fout, float);
        }
        if (ly->post) ly->bits = TAKE(B, (N * fout + 63) / 64 + 1, uint64_t);
        /* GCN and GIN with fout <= fin: X W is a forward intermediate, made
         * in the buffer the layer's output takes next */
        if (agg_after(ly)) ly->cache0 = m->S[l & 1];
        else if (cache0_width(ly->arch, fin, fout)) ly->cache0 = TAKE(A, N * cache0_width(ly->arch, fin, fout), float);
        if (ly->arch == FROST_ARCH_GIN_MLP) ly->cache1 = TAKE(A, N * ly->k, float);
        /* a rebuilt z is made in the buffer of the layer's input, which the
         * aggregation has consumed by then */
        ly->z = z_in_scratch(m, l) ? m->S[(l + 1) & 1] : TAKE(A, N * fout, float);
        if (!last) ly->h = ly->h_kept ? TAKE(A, N * fout, float) : m->S[l & 1];
        else ly->h = ly->post ? TAKE(A, N * fout, float) : ly->z;
        if (ly->residual) ly->hres = TAKE(A, N * fout, float);
    }
    if (m->head) {
        if (s->bias) {
            m->head_b = TAKE(P, s->out_dim, float);
            m->head_db = TAKE(G, s->out_dim, float);
        }
        m->head_out = TAKE(A, N * s->out_dim, float);
        m->logit_buf = TAKE(A, N * s->out_dim, float);
    }
    /* between the loss and backward the scratch holds nothing but maybe the
     * logits (first N out values of S[L & 1]); the skip head reads dlogits
     * during backward, so it keeps its own */
    if (m->head || m->inference || 2 * s->out_dim > sw) m->dlogits = TAKE(B, N * s->out_dim, float);
    else if (m->S[m->L & 1]) m->dlogits = m->S[m->L & 1] + N * s->out_dim; /* (measuring pass: no buffers yet) */
    if (s->input_dropout > 0.0f) m->xin = TAKE(B, N * s->in_dim, float);
    m->bnwork = TAKE(A, 4 * sw, double);
}

static void add_param(frost_model *m, const char *name, float *v, float *g, int64_t n)
{
    frost_param *p = &m->params[m->n_params++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->value = v;
    p->grad = g;
    p->n = n;
}

void frost__model_operator(const frost_model_spec *spec, frost_aggr *op, const frost_csr *A, const frost_csr *AT,
                           float *v0, float *v1)
{
    memset(op, 0, sizeof *op);
    switch (spec->arch) {
    case FROST_ARCH_GCN: frost_aggr_gcn_norm(op, A, AT, v0, v1, (frost_gcn_norm)spec->gcn_norm); break;
    case FROST_ARCH_SAGE: frost_aggr_mean(op, A, AT, v0, NULL, 0.0f); break;
    case FROST_ARCH_GIN: frost_aggr_mean(op, A, AT, v0, v1, 1.0f + spec->gin_eps); break;
    case FROST_ARCH_GIN_MLP: frost_aggr_sum(op, A, AT, v1, 1.0f + spec->gin_eps); break;
    case FROST_ARCH_MLP: break;
    }
}

/* The aggregation operator of the architecture on graph A (n x n). */
static void bind_graph(frost_model *m, const frost_csr *A, const frost_csr *AT, int64_t n)
{
    m->A = A;
    m->AT = AT ? AT : A;
    m->n = n;
    m->held_agg = false;
    frost__model_operator(&m->spec, &m->op, m->A, m->AT, m->opv0, m->opv1);
}

void frost_model_hold_input(frost_model *m, const float *X)
{
    m->held_x = X;
    m->held_agg = false;
}

frost_status frost_model_set_graph(frost_model *m, const frost_csr *A, const frost_csr *AT, int64_t n)
{
    if (m->dist) return frost__error(FROST_ERR_INVALID, "the model runs distributed; it has no graph of its own");
    if (n < 0 || n > m->N)
        return frost__error(FROST_ERR_RANGE, "a graph of %lld nodes on a model built for %lld", (long long)n,
                            (long long)m->N);
    if (m->spec.arch != FROST_ARCH_MLP && !A)
        return frost__error(FROST_ERR_INVALID, "a %s model needs a graph", frost_arch_name(m->spec.arch));
    if (A && (A->n_rows != n || A->n_cols != n))
        return frost__error(FROST_ERR_SHAPE, "the graph (%lld x %lld) does not match the %lld nodes",
                            (long long)A->n_rows, (long long)A->n_cols, (long long)n);
    if (AT && (AT->n_rows != n || AT->n_cols != n))
        return frost__error(FROST_ERR_SHAPE, "the transposed graph (%lld x %lld) does not match the %lld nodes",
                            (long long)AT->n_rows, (long long)AT->n_cols, (long long)n);
    bind_graph(m, A, AT, n);
    return FROST_OK;
}

int64_t frost_model_rows(const frost_model *m) { return m->n; }

/* Which node's dropout masks each row draws (frost_model_set_node_ids). */
static frost_status update_mask_ids(frost_model *m)
{
    free(m->mask_ids_own);
    m->mask_ids_own = NULL;
    const int64_t *gid = m->dist ? m->dist->gid : NULL;
    m->mask_ids = m->node_ids ? m->node_ids : gid;
    if (m->node_ids && gid) { /* local row -> its node in the dataset -> that node's original id */
        m->mask_ids_own = malloc((size_t)m->N * sizeof *m->mask_ids_own);
        if (!m->mask_ids_own) {
            m->mask_ids = NULL;
            return frost__error(FROST_ERR_NOMEM, "out of memory for %lld node ids", (long long)m->N);
        }
        for (int64_t i = 0; i < m->N; i++) m->mask_ids_own[i] = m->node_ids[gid[i]];
        m->mask_ids = m->mask_ids_own;
    }
    return FROST_OK;
}

frost_status frost_model_set_node_ids(frost_model *m, const int64_t *ids)
{
    m->node_ids = ids;
    return update_mask_ids(m);
}

/* The ids the current pass's dropout masks follow, NULL for row indices:
 * none while a mini-batch (another graph) is bound. */
static const int64_t *pass_mask_ids(const frost_model *m)
{
    return m->dist || (m->A == m->A_own && m->n == m->N) ? m->mask_ids : NULL;
}

void frost__model_set_dist(frost_model *m, const frost__dist *d)
{
    m->dist = d;
    m->held_agg = false;
    m->node_ids = NULL; /* frost_model_set_node_ids again after this call */
    (void)update_mask_ids(m); /* no node ids: cannot fail */
    if (d) {
        FROST_ASSERT(d->n_local == m->N && d->n_owned <= d->n_local);
        m->n = d->n_owned;
        m->op = d->op;
    } else {
        m->n = m->N;
        memset(&m->op, 0, sizeof m->op);
        if (m->A) bind_graph(m, m->A, m->AT, m->N);
    }
}

frost_status frost_model_new(frost_model **out, const frost_model_spec *spec, const frost_csr *A,
                             const frost_csr *AT, int64_t N)
{
    return frost_model_new_ex(out, spec, A, AT, N, false);
}

/* The model's layers and weight matrices (their shapes), before any slab:
 * what layout() measures. */
static frost_status build_skeleton(frost_model *m, const frost_model_spec *spec, int64_t N)
{
    frost_status st = FROST_OK;
    m->spec = *spec;
    m->N = N;
    m->n = N;
    const int32_t first = spec->input_proj ? 1 : 0; /* index of the first graph layer */
    m->L = spec->layers + first;
    m->supermask = spec->weights == FROST_WEIGHTS_SUPERMASK;
    FROST_CALLOC(m->layer, m->L);
    m->n_wmats = spec->skip_head ? 1 : 0;
    for (int32_t l = 0; l < m->L; l++) {
        m->layer[l].arch = l < first ? FROST_ARCH_MLP : spec->arch;
        m->n_wmats += (m->layer[l].arch == FROST_ARCH_SAGE || m->layer[l].arch == FROST_ARCH_GIN_MLP) ? 2 : 1;
        if (has_root(spec, m->layer[l].arch)) m->n_wmats++;
    }
    FROST_CALLOC(m->wmats, m->n_wmats);
    int32_t wi = 0;
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        int32_t per_layer = (ly->arch == FROST_ARCH_SAGE || ly->arch == FROST_ARCH_GIN_MLP) ? 2 : 1;
        ly->fin = l == 0 ? spec->in_dim : spec->hidden;
        ly->fout = l == m->L - 1 ? spec->out_dim : spec->hidden;
        ly->k = spec->mlp_hidden > 0 ? spec->mlp_hidden : spec->hidden;
        bool last = l == m->L - 1;
        ly->post = !last || spec->norm_last;
        ly->dropout = !last && spec->dropout > 0.0f;
        ly->residual = spec->residual && l > 0 && ly->fin == ly->fout && !last;
        ly->h_kept = spec->keep_activations && ly->post && !last;
        ly->W0 = &m->wmats[wi];
        if (ly->arch == FROST_ARCH_GIN_MLP) {
            ly->W0->rows = ly->fin, ly->W0->cols = ly->k;
            ly->W1 = &m->wmats[wi + 1];
            ly->W1->rows = ly->k, ly->W1->cols = ly->fout;
        } else {
            ly->W0->rows = ly->fin, ly->W0->cols = ly->fout;
            if (per_layer == 2) {
                ly->W1 = &m->wmats[wi + 1];
                ly->W1->rows = ly->fin, ly->W1->cols = ly->fout;
            }
        }
        if (has_root(spec, ly->arch)) {
            ly->Wr = &m->wmats[wi + per_layer];
            ly->Wr->rows = ly->fin, ly->Wr->cols = ly->fout;
            per_layer++;
        }
        /* z of an aggregate-first hidden layer is one product of the kept
         * aggregation: rebuilt in backward unless activations are kept */
        ly->z_rebuilt = !spec->keep_activations && (ly->arch == FROST_ARCH_GCN || ly->arch == FROST_ARCH_GIN) &&
                        !agg_after(ly) && ly->post && !last && !ly->residual && !ly->Wr;
        /* the logits of a plain last layer that aggregates after its product
         * are made in the buffer of its input, consumed by the product */
        if (last)
            m->logits_in_scratch = !spec->keep_activations && agg_after(ly) && !ly->post && !ly->Wr && !spec->skip_head;
        wi += per_layer;
    }
    if (spec->skip_head) {
        m->head = &m->wmats[wi];
        m->head->rows = spec->hidden;
        m->head->cols = spec->out_dim;
    }
    for (int32_t k = 0; k < m->n_wmats; k++) {
        m->wmats[k].n = m->wmats[k].rows * m->wmats[k].cols;
        m->wmats[k].index = k;
        m->wmats[k].scale = 1.0f;
    }
fail:
    return st;
}

/* Bytes of the five slabs (layout() measuring, nothing allocated). */
static size_t measure(frost_model *m, bool inference, slab *P, slab *G, slab *X, slab *Ac, slab *B)
{
    *P = *G = *X = *Ac = *B = (slab){0};
    m->inference = inference;
    layout(m, P, G, X, Ac, B);
    return P->off + X->off + Ac->off + (inference ? 0 : G->off + B->off) + 5 * 64;
}

/* Refuse a model that cannot fit before touching a byte of it: computed
 * from the shapes, compared with what this process may still use. */
static frost_status check_fits(size_t bytes, int64_t N)
{
    char why[96];
    const size_t avail = frost__memory_available(why, sizeof why);
    if (bytes <= avail) return FROST_OK;
    return frost__error(FROST_ERR_NOMEM, "a model of %lld nodes needs %.1f GiB; this process may use %.1f GiB (%s)",
                        (long long)N, (double)bytes / 1073741824.0, (double)avail / 1073741824.0, why);
}

frost_status frost_model_bytes_for(const frost_model_spec *spec, int64_t N, bool inference, size_t *bytes)
{
    frost_status st = FROST_OK;
    frost_model *m = NULL;
    *bytes = 0;
    FROST_TRY(frost_model_spec_check(spec));
    if (N < 0) return frost__error(FROST_ERR_SHAPE, "%lld nodes", (long long)N);
    FROST_CALLOC(m, 1);
    FROST_TRY(build_skeleton(m, spec, N));
    slab P, G, X, Ac, B;
    *bytes = measure(m, inference, &P, &G, &X, &Ac, &B);
fail:
    frost_model_free(&m);
    return st;
}

frost_status frost_model_new_ex(frost_model **out, const frost_model_spec *spec, const frost_csr *A,
                                const frost_csr *AT, int64_t N, bool inference)
{
    frost_status st = FROST_OK;
    frost_model *m = NULL;
    *out = NULL;
    FROST_TRY(frost_model_spec_check(spec));
    if (A && (A->n_rows != N || A->n_cols != N))
        return frost__error(FROST_ERR_SHAPE, "the graph (%lld x %lld) does not match the %lld nodes",
                            (long long)A->n_rows, (long long)A->n_cols, (long long)N);
    if (N < 0) return frost__error(FROST_ERR_SHAPE, "%lld nodes", (long long)N);
    FROST_CALLOC(m, 1);
    FROST_TRY(build_skeleton(m, spec, N));

    /* measure, check, allocate, point */
    slab P, G, X, Ac, B;
    FROST_TRY(check_fits(measure(m, inference, &P, &G, &X, &Ac, &B), N));
    m->bytes_params = P.off, m->bytes_fixed = X.off, m->bytes_acts = Ac.off;
    m->bytes_grads = inference ? 0 : G.off;
    m->bytes_bwd = inference ? 0 : B.off;
    m->slab_params = frost__calloc(1, P.off + 64);
    m->slab_fixed = frost__calloc(1, X.off + 64);
    m->slab_acts = frost__malloc(Ac.off + 64);
    if (!inference) {
        m->slab_grads = frost__calloc(1, G.off + 64);
        m->slab_bwd = frost__malloc(B.off + 64);
    }
    if (!m->slab_params || !m->slab_fixed || !m->slab_acts || (!inference && (!m->slab_grads || !m->slab_bwd)))
        FROST_FAIL(FROST_ERR_NOMEM, "out of memory for a model of %lld nodes (%.1f GiB)", (long long)N,
                   (double)(P.off + G.off + X.off + Ac.off + B.off) / 1073741824.0);
    P = (slab){m->slab_params, 0}, G = (slab){m->slab_grads, 0};
    X = (slab){m->slab_fixed, 0}, Ac = (slab){m->slab_acts, 0}, B = (slab){m->slab_bwd, 0};
    layout(m, &P, &G, &X, &Ac, &B);

    /* the trainable tensors, in a fixed order */
    FROST_CALLOC(m->params, 7 * m->L + 4);
    char name[48];
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        frost__wmat *ws[3] = {ly->W0, ly->W1, ly->Wr};
        const char *wn[3] = {ly->arch == FROST_ARCH_SAGE ? "weight_neigh" : "weight",
                             ly->arch == FROST_ARCH_SAGE ? "weight_root" : "weight2", "weight_root"};
        for (int k = 0; k < 3; k++) {
            if (!ws[k]) continue;
            snprintf(name, sizeof name, "layer%d.%s%s", l, wn[k], m->supermask ? ".scores" : "");
            if (m->supermask) add_param(m, name, ws[k]->score, ws[k]->dscore, ws[k]->n);
            else add_param(m, name, ws[k]->w, ws[k]->dw, ws[k]->n);
        }
        if (ly->b0) {
            snprintf(name, sizeof name, "layer%d.bias", l);
            add_param(m, name, ly->b0, ly->db0, ly->arch == FROST_ARCH_GIN_MLP ? ly->k : ly->fout);
        }
        if (ly->b1) {
            snprintf(name, sizeof name, "layer%d.bias2", l);
            add_param(m, name, ly->b1, ly->db1, ly->fout);
        }
        if (ly->gamma) {
            snprintf(name, sizeof name, "layer%d.norm.weight", l);
            add_param(m, name, ly->gamma, ly->dgamma, ly->fout);
            snprintf(name, sizeof name, "layer%d.norm.bias", l);
            add_param(m, name, ly->beta, ly->dbeta, ly->fout);
        }
    }
    if (m->head) {
        if (m->supermask) add_param(m, "head.weight.scores", m->head->score, m->head->dscore, m->head->n);
        else add_param(m, "head.weight", m->head->w, m->head->dw, m->head->n);
        if (m->head_b) add_param(m, "head.bias", m->head_b, m->head_db, spec->out_dim);
    }

    if (A) bind_graph(m, A, AT, N);
    m->A_own = A;
    *out = m;
    return FROST_OK;
fail:
    frost_model_free(&m);
    return st;
}

void frost_model_free(frost_model **pm)
{
    if (!pm || !*pm) return;
    frost_model *m = *pm;
    free(m->slab_params);
    free(m->slab_grads);
    free(m->slab_fixed);
    free(m->slab_acts);
    free(m->slab_bwd);
    free(m->layer);
    free(m->wmats);
    free(m->params);
    free(m->mask_ids_own);
    free(m);
    *pm = NULL;
}

/* ---- initialisation --------------------------------------------------------- */

void frost__init_values(float *v, int64_t rows, int64_t cols, frost_init how, uint64_t seed, uint64_t stream)
{
    const int64_t n = rows * cols;
    const double fan_in = (double)rows, fan_out = (double)cols;
    double bound = 0;
    switch (how) {
    case FROST_INIT_GLOROT: bound = sqrt(6.0 / (fan_in + fan_out)); break;
    case FROST_INIT_TORCH_LINEAR:
    case FROST_INIT_DEFAULT: bound = 1.0 / sqrt(fan_in); break;
    case FROST_INIT_KAIMING_UNIFORM: bound = sqrt(6.0 / fan_in); break;
    case FROST_INIT_KAIMING_NORMAL: bound = sqrt(2.0 / fan_in); break; /* the std */
    case FROST_INIT_SIGNED_CONSTANT: bound = sqrt(2.0 / fan_in); break;
    }
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        double x;
        if (how == FROST_INIT_KAIMING_NORMAL) x = bound * (double)frost_rng_normal(seed, stream, (uint64_t)i);
        else if (how == FROST_INIT_SIGNED_CONSTANT) x = (frost_rng_u32(seed, stream, (uint64_t)i) & 1u) ? bound : -bound;
        else x = bound * (2.0 * (double)frost_rng_uniform(seed, stream, (uint64_t)i) - 1.0);
        v[i] = (float)x;
    }
}

static void init_bias(float *b, int64_t n, int64_t fan_in, bool zero, uint64_t seed, uint64_t sub)
{
    const uint64_t stream = frost_rng_stream(FROST_RNG_BIAS, sub);
    const double bound = 1.0 / sqrt((double)fan_in);
    for (int64_t j = 0; j < n; j++)
        b[j] = zero ? 0.0f : (float)(bound * (2.0 * (double)frost_rng_uniform(seed, stream, (uint64_t)j) - 1.0));
}

frost_status frost_model_init(frost_model *m, uint64_t seed)
{
    const frost_model_spec *s = &m->spec;
    m->seed = seed;
    if (m->supermask) {
        frost_status st = frost__supermask_init(m, seed);
        if (st < 0) return st;
    } else {
        for (int32_t k = 0; k < m->n_wmats; k++) {
            frost__wmat *w = &m->wmats[k];
            /* the default: glorot for GCN layers (PyG GCNConv), nn.Linear's otherwise */
            bool gcn = false;
            for (int32_t l = 0; l < m->L; l++)
                if (m->layer[l].W0 == w && m->layer[l].arch == FROST_ARCH_GCN) gcn = true;
            frost_init how = s->weight_init;
            if (how == FROST_INIT_DEFAULT) how = gcn ? FROST_INIT_GLOROT : FROST_INIT_TORCH_LINEAR;
            frost__init_values(w->w, w->rows, w->cols, how, seed, frost_rng_stream(FROST_RNG_WEIGHT, (uint64_t)k));
        }
    }
    /* biases: zero for GCN (PyG GCNConv), nn.Linear's U(+-1/sqrt(fan_in)) otherwise */
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        if (ly->b0) init_bias(ly->b0, ly->W0->cols, ly->W0->rows, ly->arch == FROST_ARCH_GCN, seed, 2 * (uint64_t)l);
        if (ly->b1) init_bias(ly->b1, ly->W1->cols, ly->W1->rows, false, seed, 2 * (uint64_t)l + 1);
        if (ly->gamma)
            for (int64_t j = 0; j < ly->fout; j++) ly->gamma[j] = 1.0f, ly->beta[j] = 0.0f;
        if (ly->rmean)
            for (int64_t j = 0; j < ly->fout; j++) ly->rmean[j] = 0.0f, ly->rvar[j] = 1.0f;
    }
    if (m->head_b) init_bias(m->head_b, s->out_dim, s->hidden, false, seed, 1u << 20);
    return FROST_OK;
}

/* ---- forward ------------------------------------------------------------------ */

static uint64_t dropout_stream(int64_t epoch, int32_t layer, int kind)
{
    return frost_rng_stream(FROST_RNG_DROPOUT, ((uint64_t)epoch << 20) | ((uint64_t)layer << 1) | (uint64_t)kind);
}

/* Distributed training: the halo rows of an aggregation input come from
 * their owners; halo gradients of a transposed aggregation go back to them;
 * the self term of a transposed aggregation reads the halo rows of its
 * input (times 0), which must therefore be finite. No-ops otherwise. */
static void halo_forward(const frost_model *m, float *x, int64_t F)
{
    if (m->dist) m->dist->halo_forward(m->dist->ctx, x, F);
}

static void halo_backward(const frost_model *m, float *g, int64_t F)
{
    if (m->dist) m->dist->halo_backward(m->dist->ctx, g, F);
}

static void zero_halo(const frost_model *m, float *x, int64_t F)
{
    if (m->dist) memset(x + m->n * F, 0, (size_t)((m->N - m->n) * F) * sizeof(float));
}

/* The input of an aggregation: its halo rows filled unless it is the
 * model's input (whose halo rows the caller provides). */
static const float *agg_input(const frost_model *m, const float *x, bool model_input, int64_t F)
{
    if (!model_input) halo_forward(m, (float *)x, F);
    return x;
}

/* cache0 = op x. Layer 0's aggregation of a held input (frost_model_hold_input)
 * is made once and reused: the input, the graph and the operator are the
 * same, so are the values. */
static void aggregate_input(frost_model *m, frost__layer *ly, const float *x, bool x_in)
{
    const bool held = x_in && x == m->held_x;
    if (held && m->held_agg) return;
    frost_spmm(&m->op, agg_input(m, x, x_in, ly->fin), ly->fin, ly->fin, ly->cache0, ly->fin);
    m->held_agg = held;
}

/* z = cache0 W0 + b0 of an aggregate-first GCN/GIN layer. Forward makes z
 * with it; backward rebuilds a z it did not keep with it (layer_z): the same
 * calls on the same inputs, so the same bits. */
static void agg_first_product(const frost_model *m, const frost__layer *ly, float *z)
{
    frost_gemm(false, false, m->n, ly->fout, ly->fin, 1.0f, ly->cache0, ly->fin, ly->W0->w, ly->fout, 0.0f, z,
               ly->fout);
    if (ly->b0) frost__add_bias(z, ly->b0, m->n, ly->fout);
}

/* z = conv(x) over the n computed rows; x_in: x is the model's input. As
 * frost_{gcn,sage,gin,gin_mlp}_forward, with the aggregation inputs'
 * halo rows filled in between. */
static void conv_main_forward(frost_model *m, frost__layer *ly, const float *x, bool x_in)
{
    const int64_t n = m->n, fin = ly->fin, fout = ly->fout;
    const frost_aggr *op = &m->op;
    switch (ly->arch) {
    case FROST_ARCH_MLP: frost_linear_forward(ly->z, x, ly->W0->w, ly->b0, n, fin, fout); return;
    case FROST_ARCH_GCN:
    case FROST_ARCH_GIN:
        if (agg_after(ly)) {
            /* T = x W, z = op T; T in column panels where the shapes allow
             * (tensor_impl.h: the same sums, a faster SpMM) */
            if (!m->dist && frost__gemm_panels(n, fout, fin, x, fin, ly->W0->w, fout, ly->cache0)) {
                frost__spmm_panels(op, ly->cache0, fout, ly->z, fout);
                break;
            }
            frost_gemm(false, false, n, fout, fin, 1.0f, x, fin, ly->W0->w, fout, 0.0f, ly->cache0, fout);
            halo_forward(m, ly->cache0, fout);
            frost_spmm(op, ly->cache0, fout, fout, ly->z, fout);
        } else {
            /* T = op x, z = T W + b */
            aggregate_input(m, ly, x, x_in);
            agg_first_product(m, ly, ly->z);
            return;
        }
        break;
    case FROST_ARCH_SAGE:
        /* M = mean x, z = M Wn + x Wr */
        aggregate_input(m, ly, x, x_in);
        frost_gemm(false, false, n, fout, fin, 1.0f, ly->cache0, fin, ly->W0->w, fout, 0.0f, ly->z, fout);
        frost_gemm(false, false, n, fout, fin, 1.0f, x, fin, ly->W1->w, fout, 1.0f, ly->z, fout);
        break;
    case FROST_ARCH_GIN_MLP:
        /* G = op x, Z = relu(G W0 + b0), z = Z W1 + b1 */
        aggregate_input(m, ly, x, x_in);
        frost_gemm(false, false, n, ly->k, fin, 1.0f, ly->cache0, fin, ly->W0->w, ly->k, 0.0f, ly->cache1, ly->k);
        if (ly->b0) frost__add_bias(ly->cache1, ly->b0, n, ly->k);
        frost_relu_forward(ly->cache1, ly->cache1, n * ly->k);
        frost_gemm(false, false, n, fout, ly->k, 1.0f, ly->cache1, ly->k, ly->W1->w, fout, 0.0f, ly->z, fout);
        if (ly->b1) frost__add_bias(ly->z, ly->b1, n, fout);
        return;
    }
    if (ly->b0) frost__add_bias(ly->z, ly->b0, n, fout);
}

static void conv_forward(frost_model *m, frost__layer *ly, const float *x, bool x_in)
{
    const int64_t n = m->n, fin = ly->fin, fout = ly->fout;
    conv_main_forward(m, ly, x, x_in);
    /* model.root_weight: z += x Wr */
    if (ly->Wr) frost_gemm(false, false, n, fout, fin, 1.0f, x, fin, ly->Wr->w, fout, 1.0f, ly->z, fout);
}

/* The fused norm + ReLU + dropout block after layer ly's convolution. */
static frost_post post_block(const frost_model *m, const frost__layer *ly, uint64_t seed, int64_t epoch, bool train)
{
    const frost_model_spec *s = &m->spec;
    frost_post pb = {.batchnorm = s->norm != FROST_NORM_NONE,
                     .gamma = ly->gamma,
                     .beta = ly->beta,
                     .mean = ly->bmean,
                     .invstd = ly->binvstd,
                     .run_mean = ly->rmean,
                     .run_var = ly->rvar,
                     .momentum = s->bn_momentum,
                     .eps = s->bn_eps,
                     .dropout = ly->dropout ? s->dropout : 0.0f,
                     .seed = seed,
                     .stream = dropout_stream(epoch, (int32_t)(ly - m->layer), 1),
                     .work = m->bnwork,
                     .bits = train ? ly->bits : NULL,
                     .ids = pass_mask_ids(m)};
    return pb;
}

/* The same over one process's rows of a distributed model. */
static frost__post_rows post_rows(const frost_model *m, const frost__layer *ly, uint64_t seed, int64_t epoch)
{
    const frost__dist *d = m->dist;
    frost__post_rows pr = {.p = post_block(m, ly, seed, epoch, true),
                           .gid = pass_mask_ids(m),
                           .n_global = d->n_global,
                           .allreduce = d->allreduce,
                           .ctx = d->ctx};
    return pr;
}

/* Output of layer l as the next layer sees it. */
static const float *layer_out(const frost__layer *ly) { return ly->residual ? ly->hres : ly->h; }

void frost_model_forward(frost_model *m, const float *X, bool train, uint64_t seed, int64_t epoch)
{
    FROST_ASSERT(!(train && m->inference));
    FROST_ASSERT(m->op.A || m->spec.arch == FROST_ARCH_MLP);
    const frost_model_spec *s = &m->spec;
    const int64_t n = m->n;
    const float *x = X;
    if (train && m->xin) {
        /* element (i, f) draws what (ids[i], f) of the whole feature matrix
         * draws; a distributed model's halo rows too (no exchange needed) */
        frost__dropout_rows(m->xin, X, pass_mask_ids(m), m->dist ? m->N : n, s->in_dim, s->input_dropout, seed,
                            dropout_stream(epoch, 0, 0));
        x = m->xin;
    }
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        /* the skip head reads the last layer's input, alive only now */
        if (m->head && l == m->L - 1)
            frost_linear_forward(m->head_out, x, m->head->w, m->head_b, n, s->hidden, s->out_dim);
        conv_forward(m, ly, x, l == 0);
        if (ly->post) {
            if (m->dist && train) {
                frost__post_rows pr = post_rows(m, ly, seed, epoch);
                frost__post_rows_forward(&pr, ly->h, ly->z, n, ly->fout);
            } else {
                frost_post pb = post_block(m, ly, seed, epoch, train);
                frost_post_forward(&pb, ly->h, ly->z, n, ly->fout, train);
            }
        }
        if (ly->residual) {
            const int64_t nf = n * ly->fout;
            for (int64_t k = 0; k < nf; k++) ly->hres[k] = ly->h[k] + x[k];
        }
        x = layer_out(ly);
    }
    frost__layer *last = &m->layer[m->L - 1];
    const int64_t no = n * s->out_dim;
    if (m->head) {
        for (int64_t k = 0; k < no; k++) m->logit_buf[k] = 0.5f * (m->head_out[k] + last->h[k]);
        m->logits = m->logit_buf;
    } else {
        m->logits = last->h;
    }
}

const float *frost_model_logits(const frost_model *m) { return m->logits; }
float *frost_model_dlogits(frost_model *m) { return m->dlogits; }

void frost_model_zero_grad(frost_model *m)
{
    FROST_ASSERT(!m->inference);
    memset(m->slab_grads, 0, m->bytes_grads);
    memset(m->dlogits, 0, (size_t)(m->N * m->spec.out_dim) * sizeof(float));
    for (int32_t k = 0; k < m->n_wmats; k++)
        if (m->supermask) memset(m->wmats[k].dw, 0, (size_t)m->wmats[k].n * sizeof(float));
}

/* ---- backward ----------------------------------------------------------------- */

/* Layer ly's z as forward made it: kept, held from an earlier rebuild, or
 * rebuilt into buf (the weights change only after backward). */
static const float *layer_z(frost_model *m, const frost__layer *ly, float *buf)
{
    if (!ly->z_rebuilt) return ly->z;
    if (m->z_held == ly) return m->z_held_at;
    agg_first_product(m, ly, buf);
    return buf;
}

/* Layer l's input as forward saw it: the model input, a kept residual
 * output, or h_{l-1} rebuilt bit for bit into buf. */
static const float *layer_input(frost_model *m, int32_t l, const float *X, float *buf, uint64_t seed, int64_t epoch)
{
    if (l == 0) return m->xin ? m->xin : X;
    const frost__layer *p = &m->layer[l - 1];
    if (p->residual) return p->hres;
    if (p->h_kept) return p->h;
    /* Layer l's own kept z is spent once its post block's backward has run,
     * which is before anything asks for its input: a rebuilt z of layer l - 1
     * is made there and stays for layer l - 1's post block (one product
     * instead of two). Otherwise h is rebuilt in place over z in buf. */
    const frost__layer *c = &m->layer[l];
    if (p->z_rebuilt && !z_in_scratch(m, l) && c->fout >= p->fout && m->z_held != p) {
        agg_first_product(m, p, c->z);
        m->z_held = p, m->z_held_at = c->z;
    }
    const float *z = layer_z(m, p, buf);
    if (m->dist) {
        frost__post_rows pr = post_rows(m, p, seed, epoch);
        frost__post_rows_recompute(&pr, buf, z, m->n, p->fout);
    } else {
        frost_post pb = post_block(m, p, seed, epoch, true);
        frost_post_recompute(&pb, buf, z, m->n, p->fout);
    }
    return buf;
}

/* dW += x^T dy for x (n, f), dy (n, h): the node range cut into chunks */
static void grad_w(frost_model *m, frost__wmat *W, const float *x, const float *dy, int64_t n, float alpha)
{
    frost_gemm_ws(true, false, W->rows, W->cols, n, alpha, x, W->rows, dy, W->cols, 1.0f, W->dw, W->cols,
                  m->gemm_work);
}

/* out (n, rows) = beta out + alpha dy W^T for dy (n, cols) */
static void grad_x(float *out, const frost__wmat *W, const float *dy, int64_t n, float alpha, float beta)
{
    frost_gemm(false, true, n, W->rows, W->cols, alpha, dy, W->cols, W->w, W->cols, beta, out, W->rows);
}

/* The parts of layer l's backward that need its input x: the root weight
 * and, on the last layer, the skip head (it reads the same input). */
static void grads_of_input(frost_model *m, frost__layer *ly, int32_t l, const float *x, const float *dz)
{
    if (ly->Wr) grad_w(m, ly->Wr, x, dz, m->n, 1.0f);
    if (m->head && l == m->L - 1) grad_w(m, m->head, x, m->dlogits, m->n, 0.5f);
}

/* Their shares of the input gradient, added to gx. */
static void input_grad_extras(frost_model *m, frost__layer *ly, int32_t l, const float *dz, float *gx)
{
    if (ly->Wr) grad_x(gx, ly->Wr, dz, m->n, 1.0f, 1.0f);
    if (m->head && l == m->L - 1) grad_x(gx, m->head, m->dlogits, m->n, 0.5f, 1.0f);
}

/* Y = op^T X over every local row (the halo too, distributed), with the
 * halo rows' results sent to their owners. */
static void spmm_t_halo(frost_model *m, float *X, int64_t F, float *Y)
{
    zero_halo(m, X, F);
    frost_spmm_t(&m->op, X, F, F, Y, F);
    halo_backward(m, Y, F);
}

/*
 * Layer l's convolution backward. P holds dz (n, fout) and may be
 * overwritten; Q and R are free scratch (R only where backward_buffers
 * counted three). Returns the buffer that holds the gradient of the layer's
 * input, or NULL for the first layer (the input needs none).
 */
static float *conv_backward(frost_model *m, int32_t l, float *P, float *Q, float *R, const float *X, uint64_t seed,
                            int64_t epoch, bool panels)
{
    frost__layer *ly = &m->layer[l];
    const int64_t n = m->n, fin = ly->fin, fout = ly->fout;
    const bool first = l == 0, extras = ly->Wr || (m->head && l == m->L - 1);
    const float *x;
    switch (ly->arch) {
    case FROST_ARCH_GCN:
    case FROST_ARCH_GIN:
        if (agg_after(ly)) {
            /* z = A (x W): dT = A^T dz, dW = x^T dT, dx = dT W^T; dz in
             * column panels if the post block wrote it so */
            FROST_ASSERT(!panels || !ly->Wr);
            if (panels) frost__spmm_t_panels(&m->op, P, fout, Q, fout);
            else spmm_t_halo(m, P, fout, Q);
            if (ly->Wr) {
                x = layer_input(m, l, X, R, seed, epoch);
                grads_of_input(m, ly, l, x, P);
                grad_w(m, ly->W0, x, Q, n, 1.0f);
                if (first) return NULL;
                grad_x(R, ly->W0, Q, n, 1.0f, 0.0f);
                input_grad_extras(m, ly, l, P, R);
                return R;
            }
            x = layer_input(m, l, X, P, seed, epoch); /* dz is spent */
            grads_of_input(m, ly, l, x, NULL);
            grad_w(m, ly->W0, x, Q, n, 1.0f);
            if (first) return NULL;
            grad_x(P, ly->W0, Q, n, 1.0f, 0.0f);
            input_grad_extras(m, ly, l, NULL, P);
            return P;
        }
        /* z = G W with G = op x kept: dW = G^T dz, dx = op^T (dz W^T) */
        grad_w(m, ly->W0, ly->cache0, P, n, 1.0f);
        if (extras) grads_of_input(m, ly, l, layer_input(m, l, X, R, seed, epoch), P);
        if (first) return NULL;
        grad_x(Q, ly->W0, P, n, 1.0f, 0.0f);
        if (extras) {
            spmm_t_halo(m, Q, fin, R);
            input_grad_extras(m, ly, l, P, R);
            return R;
        }
        spmm_t_halo(m, Q, fin, P);
        return P;
    case FROST_ARCH_GIN_MLP: {
        /* z = relu(G W0 + b0) W1 + b1 with G, Z kept */
        const int64_t K = ly->k;
        if (ly->db1) frost_colsum_acc(P, n, fout, fout, ly->db1);
        grad_w(m, ly->W1, ly->cache1, P, n, 1.0f);
        grad_x(Q, ly->W1, P, n, 1.0f, 0.0f); /* dZ (n, K) */
        frost_relu_backward(Q, Q, ly->cache1, n * K);
        if (ly->db0) frost_colsum_acc(Q, n, K, K, ly->db0);
        grad_w(m, ly->W0, ly->cache0, Q, n, 1.0f);
        if (extras) grads_of_input(m, ly, l, layer_input(m, l, X, R, seed, epoch), P);
        if (first) return NULL;
        if (extras) {
            grad_x(R, ly->W0, Q, n, 1.0f, 0.0f); /* dG */
            spmm_t_halo(m, R, fin, Q);
            input_grad_extras(m, ly, l, P, Q);
            return Q;
        }
        grad_x(P, ly->W0, Q, n, 1.0f, 0.0f); /* dG */
        spmm_t_halo(m, P, fin, Q);
        return Q;
    }
    case FROST_ARCH_SAGE:
        /* z = M W0 + x W1 with M = mean x kept */
        grad_w(m, ly->W0, ly->cache0, P, n, 1.0f);
        x = layer_input(m, l, X, R, seed, epoch);
        grad_w(m, ly->W1, x, P, n, 1.0f);
        grads_of_input(m, ly, l, x, P);
        if (first) return NULL;
        grad_x(Q, ly->W0, P, n, 1.0f, 0.0f);
        grad_x(R, ly->W1, P, n, 1.0f, 0.0f);
        input_grad_extras(m, ly, l, P, R);
        /* R += mean^T Q over every local row: the halo rows of R start at 0 */
        zero_halo(m, Q, fin);
        zero_halo(m, R, fin);
        frost_spmm_t_acc(&m->op, Q, fin, fin, R, fin);
        halo_backward(m, R, fin);
        return R;
    case FROST_ARCH_MLP:
        x = layer_input(m, l, X, R, seed, epoch);
        grad_w(m, ly->W0, x, P, n, 1.0f);
        grads_of_input(m, ly, l, x, P);
        if (first) return NULL;
        grad_x(R, ly->W0, P, n, 1.0f, 0.0f);
        input_grad_extras(m, ly, l, P, R);
        return R;
    }
    return NULL;
}

void frost_model_backward(frost_model *m, const float *X, uint64_t seed, int64_t epoch)
{
    FROST_ASSERT(!m->inference);
    const frost_model_spec *s = &m->spec;
    const int64_t n = m->n;
    m->z_held = NULL;
    /* gradient of the last layer's output h_L */
    float *g = m->S[0];
    const int64_t no = n * s->out_dim;
    const float half = m->head ? 0.5f : 1.0f;
    for (int64_t k = 0; k < no; k++) g[k] = half * m->dlogits[k];
    if (m->head_db) frost_colsum_acc(g, n, s->out_dim, s->out_dim, m->head_db);

    for (int32_t l = m->L - 1; l >= 0; l--) {
        frost__layer *ly = &m->layer[l];
        const int64_t fout = ly->fout;
        float *o[3] = {NULL, NULL, NULL};
        for (int k = 0, j = 0; k < m->nS; k++)
            if (m->S[k] != g) o[j++] = m->S[k];
        float *res = NULL; /* the residual share of the input gradient */
        if (ly->residual) {
            res = o[m->nS - 2];
            memcpy(res, g, (size_t)(n * fout) * sizeof(float));
        }
        /* dz goes to o[0] in column panels (tensor_impl.h) when the layer's
         * SpMM backward reads it and nothing else does, and o[0] does not
         * hold z: the SpMM then gathers one panel at a time (same sums) */
        float *P = g, *Q = o[0];
        bool panels = false;
        if (ly->post) {
            const float *z = layer_z(m, ly, o[0]); /* o[0] is free again after this block */
            if (m->dist) {
                frost__post_rows pr = post_rows(m, ly, seed, epoch);
                frost__post_rows_backward(&pr, g, ly->dgamma, ly->dbeta, g, z, n, fout);
            } else {
                frost_post pb = post_block(m, ly, seed, epoch, true);
                if (agg_after(ly) && !ly->Wr && z != o[0] &&
                    frost__post_backward_panels(&pb, o[0], ly->dgamma, ly->dbeta, g, NULL, z, n, fout))
                    panels = true, P = o[0], Q = g;
                else
                    frost_post_backward(&pb, g, ly->dgamma, ly->dbeta, g, NULL, z, n, fout);
            }
        }
        if (ly->db0 && ly->arch != FROST_ARCH_GIN_MLP) {
            if (panels) frost__colsum_panels_acc(P, n, fout, ly->db0);
            else frost_colsum_acc(g, n, fout, fout, ly->db0);
        }
        float *gx = conv_backward(m, l, P, Q, o[1], X, seed, epoch, panels);
        if (res && gx)
            for (int64_t k = 0; k < n * fout; k++) gx[k] += res[k];
        g = gx;
    }
    m->z_held = NULL;
    if (m->supermask) frost__supermask_backward(m);
}

void frost_model_after_step(frost_model *m)
{
    if (m->supermask) frost__supermask_update(m);
}

int32_t frost_model_params(frost_model *m, frost_param **params)
{
    *params = m->params;
    return m->n_params;
}

int64_t frost_model_num_weights(const frost_model *m)
{
    int64_t n = 0;
    for (int32_t k = 0; k < m->n_wmats; k++) n += m->wmats[k].n;
    return n;
}

int64_t frost_model_num_bn_values(const frost_model *m)
{
    int64_t n = 0;
    for (int32_t l = 0; l < m->L; l++)
        if (m->layer[l].rmean) n += 2 * m->layer[l].fout;
    return n;
}

int64_t frost_model_num_bias_values(const frost_model *m)
{
    int64_t n = 0;
    for (int32_t k = 0; k < m->n_params; k++) {
        const char *nm = m->params[k].name;
        if (strstr(nm, "bias") || strstr(nm, "norm.weight")) n += m->params[k].n;
    }
    return n;
}

const frost_model_spec *frost_model_get_spec(const frost_model *m) { return &m->spec; }
int64_t frost_model_num_nodes(const frost_model *m) { return m->N; }

size_t frost_model_bytes(const frost_model *m)
{
    return m->bytes_params + m->bytes_grads + m->bytes_fixed + m->bytes_acts + m->bytes_bwd;
}

/* ---- state snapshots ---------------------------------------------------------- */

/* The trainable values and the fixed slab (running statistics, supermask
 * weights and codes) define the predictions; masks follow from the scores. */
size_t frost_model_state_size(const frost_model *m) { return m->bytes_params + m->bytes_fixed; }

void frost_model_state_save(const frost_model *m, void *buf)
{
    memcpy(buf, m->slab_params, m->bytes_params);
    memcpy((char *)buf + m->bytes_params, m->slab_fixed, m->bytes_fixed);
}

void frost_model_state_load(frost_model *m, const void *buf)
{
    memcpy(m->slab_params, buf, m->bytes_params);
    memcpy(m->slab_fixed, (const char *)buf + m->bytes_params, m->bytes_fixed);
    if (m->supermask) frost__supermask_update(m);
}

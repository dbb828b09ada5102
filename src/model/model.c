/*
 * model.c - a model as a sequencer of layers: build, initialise, forward
 * and backward over all nodes. What a layer computes belongs to its kind
 * (src/layers/<kind>.c, found through the table in kinds.c); where buffers
 * live belongs to the memory plan (plan.c); how layers reach rows of other
 * processes belongs to their execution context (kind_impl.h's frost__exec);
 * the supermask of a ticket is driven through slt_impl.h.
 *
 * Shape legend: N rows held, n computed, F input features, D hidden width,
 * C outputs.
 *
 * Layer l (0 .. L-1) maps h_l (n, fin) to h_{l+1} (n, fout):
 *   z = conv(h_l) (+ h_l W_root with model.root_weight)   (the kind's)
 *   h = dropout(relu(norm(z)))   for hidden layers (fused post block)
 *   h_{l+1} = h + h_l            when residual and fin == fout (kept)
 * The last layer's z are the logits, unless norm_last (post block without
 * dropout) or skip_head (logits = (head(h_{L-1}) + h_L) / 2, slt.md 5).
 * With model.input_proj, layer 0 is an MLP layer (F -> D) before the graph
 * layers.
 */
#include "model/model_impl.h"
#include "frost/rng.h"

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

frost_status frost_model_spec_check(const frost_model_spec *s)
{
    if ((unsigned)s->arch >= FROST_ARCH_COUNT)
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

static void add_param(frost_model *m, const char *name, float *v, float *g, int64_t n)
{
    frost_param *p = &m->params[m->n_params++];
    snprintf(p->name, sizeof p->name, "%s", name);
    p->value = v;
    p->grad = g;
    p->n = n;
}

/* ---- graphs and execution contexts ---------------------------------------------------- */

frost_status frost__model_operator(const frost_model_spec *spec, frost__op *op, const frost_csr *A,
                                   const frost_csr *AT, float *v0, float *v1)
{
    const frost__kind *k = frost__kind_of(spec->arch);
    const frost__kind_args a = frost__kind_args_of(spec);
    if (k->graph_bytes(&a, A->n_rows, A->nnz) > 0)
        return frost__error(FROST_ERR_INVALID, "model %s: its layers need per-edge data that a graph spread over "
                            "processes does not provide (use mpi.mode = \"runs\")", k->name);
    return k->make_op(op, &a, A, AT, v0, v1, NULL);
}

/* The execution context of one process over the model's own rows. */
static void exec_local(frost_model *m)
{
    frost__exec *ex = &m->ex;
    const float *held_x = ex->held_x;
    const bool spent = ex->held_spent;
    memset(ex, 0, sizeof *ex);
    ex->n = m->n;
    ex->op = &m->op;
    ex->gemm_work = m->gemm_work;
    ex->n_global = m->n;
    ex->held_x = held_x;
    ex->held_spent = spent;
}

/* The aggregation operator of the architecture on graph A (n x n). */
static frost_status bind_graph(frost_model *m, const frost_csr *A, const frost_csr *AT, int64_t n)
{
    const frost__kind_args a = frost__kind_args_of(&m->spec);
    if (A && m->kind->graph_bytes(&a, n, A->nnz) > m->opws_bytes)
        return frost__error(FROST_ERR_RANGE,
                            "a graph of %lld entries on a %s model whose per-edge buffers hold %lld (build it on the "
                            "largest graph it runs)",
                            (long long)A->nnz, m->kind->name, (long long)m->E);
    m->A = A;
    m->AT = AT ? AT : A;
    m->n = n;
    exec_local(m);
    if (!A) {
        memset(&m->op, 0, sizeof m->op);
        return FROST_OK;
    }
    return m->kind->make_op(&m->op, &a, m->A, m->AT, m->opv0, m->opv1, m->opws);
}

void frost_model_hold_input_ex(frost_model *m, const float *X, frost_input_spent_fn spent, void *ctx)
{
    m->ex.held_x = X;
    m->ex.held_agg = false;
    m->ex.held_spent = false;
    m->spent = X ? spent : NULL;
    m->spent_ctx = ctx;
}

void frost_model_hold_input(frost_model *m, const float *X) { frost_model_hold_input_ex(m, X, NULL, NULL); }

/* Whether the held input is read by the first layer's aggregation alone (an
 * aggregate-first opconv layer: GCN, the paper's GIN), so that once that is
 * made nothing reads it again: no input dropout (a new input every pass), no
 * root weight or skip head reading it, one process (a distributed model
 * copies its halo rows from it). */
static bool input_read_once(const frost_model *m)
{
    const frost__layer *ly = &m->layer[0];
    return !m->dist && !m->xin && ly->conv.kind->rebuild_z && !ly->conv.agg_after && !ly->Wr &&
           !(m->head && m->L == 1);
}

frost_status frost_model_set_graph(frost_model *m, const frost_csr *A, const frost_csr *AT, int64_t n)
{
    if (m->dist) return frost__error(FROST_ERR_INVALID, "the model runs distributed; it has no graph of its own");
    if (n < 0 || n > m->N)
        return frost__error(FROST_ERR_RANGE, "a graph of %lld nodes on a model built for %lld", (long long)n,
                            (long long)m->N);
    if (m->kind->uses_graph && !A)
        return frost__error(FROST_ERR_INVALID, "a %s model needs a graph", m->kind->name);
    if (A && (A->n_rows != n || A->n_cols != n))
        return frost__error(FROST_ERR_SHAPE, "the graph (%lld x %lld) does not match the %lld nodes",
                            (long long)A->n_rows, (long long)A->n_cols, (long long)n);
    if (AT && (AT->n_rows != n || AT->n_cols != n))
        return frost__error(FROST_ERR_SHAPE, "the transposed graph (%lld x %lld) does not match the %lld nodes",
                            (long long)AT->n_rows, (long long)AT->n_cols, (long long)n);
    return bind_graph(m, A, AT, n);
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

frost_status frost__model_set_dist(frost_model *m, const frost__dist *d)
{
    m->dist = d;
    m->ex.held_agg = false;
    m->node_ids = NULL; /* frost_model_set_node_ids again after this call */
    (void)update_mask_ids(m); /* no node ids: cannot fail */
    if (m->sm) {
        m->sm->select = d ? d->select : NULL;
        m->sm->select_ctx = d ? d->ctx : NULL;
    }
    if (!d) {
        m->n = m->N;
        memset(&m->op, 0, sizeof m->op);
        if (m->A) return bind_graph(m, m->A, m->AT, m->N);
        exec_local(m);
        return FROST_OK;
    }
    FROST_ASSERT(d->n_local == m->N && d->n_owned <= d->n_local);
    const frost__kind_args a = frost__kind_args_of(&m->spec);
    /* the post block over several processes' rows (post_rows.c) is ReLU's */
    if (m->kind->graph_bytes(&a, d->n_local, d->op.aggr.A ? d->op.aggr.A->nnz : 0) > 0 ||
        m->kind->act != FROST_ACT_RELU) {
        m->dist = NULL;
        return frost__error(FROST_ERR_INVALID,
                            "model %s does not run on a graph spread over processes (its layers need per-edge data "
                            "or a post block other than ReLU's); use mpi.mode = \"runs\"", m->kind->name);
    }
    m->n = d->n_owned;
    m->op = d->op;
    exec_local(m);
    frost__exec *ex = &m->ex;
    ex->n_halo = d->n_local - d->n_owned;
    ex->ctx = d->ctx;
    ex->halo_forward = d->halo_forward;
    ex->halo_backward = d->halo_backward;
    ex->allreduce = d->allreduce;
    ex->n_global = d->n_global;
    return FROST_OK;
}

/* ---- building ------------------------------------------------------------------------ */

frost_status frost_model_new(frost_model **out, const frost_model_spec *spec, const frost_csr *A,
                             const frost_csr *AT, int64_t N)
{
    return frost_model_new_ex(out, spec, A, AT, N, false);
}

/* The model's layers and weight matrices (their shapes), before any slab:
 * what the plan measures. E: the stored entries of the graph the per-edge
 * buffers are for (the graph of frost_model_new; 0 without one). */
static frost_status build_skeleton(frost_model *m, const frost_model_spec *spec, int64_t N, int64_t E)
{
    frost_status st = FROST_OK;
    m->spec = *spec;
    m->kind = frost__kind_of(spec->arch);
    m->N = N;
    m->n = N;
    m->E = E;
    const frost__kind_args args = frost__kind_args_of(spec);
    const int32_t first = spec->input_proj ? 1 : 0; /* index of the first graph layer */
    m->L = spec->layers + first;
    FROST_CALLOC(m->layer, m->L);
    /* the layers' kinds and how many matrices each has */
    m->n_wmats = spec->skip_head ? 1 : 0;
    for (int32_t l = 0; l < m->L; l++) {
        frost__conv *c = &m->layer[l].conv;
        c->kind = l < first ? &frost__kind_mlp : m->kind;
        m->n_wmats += c->kind->n_mats + (spec->root_weight && c->kind->root_weight);
    }
    FROST_CALLOC(m->wmats, m->n_wmats);
    int32_t wi = 0;
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        frost__conv *c = &ly->conv;
        const bool last = l == m->L - 1;
        c->args = args;
        c->layer = l;
        c->last = last;
        c->fin = l == 0 ? spec->in_dim : spec->hidden;
        c->fout = last ? spec->out_dim : spec->hidden;
        /* a linear operator aggregates on the narrower side */
        c->agg_after = c->kind->linear && c->fout <= c->fin;
        ly->post = !last || spec->norm_last;
        ly->dropout = !last && spec->dropout > 0.0f;
        ly->residual = spec->residual && l > 0 && c->fin == c->fout && !last;
        for (int k = 0; k < c->kind->n_mats; k++) {
            c->W[k] = &m->wmats[wi++];
            c->W[k]->init = c->kind->init;
        }
        c->kind->shape(c, N, m->E);
        if (c->kind->check) FROST_TRY(c->kind->check(c));
        if (spec->root_weight && c->kind->root_weight) {
            ly->Wr = &m->wmats[wi++];
            ly->Wr->rows = c->fin, ly->Wr->cols = c->fout;
            ly->Wr->init = FROST_INIT_TORCH_LINEAR;
        }
    }
    if (spec->skip_head) {
        m->head = &m->wmats[wi];
        m->head->rows = spec->hidden;
        m->head->cols = spec->out_dim;
        m->head->init = FROST_INIT_TORCH_LINEAR;
    }
    for (int32_t k = 0; k < m->n_wmats; k++) {
        m->wmats[k].n = m->wmats[k].rows * m->wmats[k].cols;
        m->wmats[k].index = k;
    }
    m->opws_bytes = m->kind->graph_bytes(&args, N, m->E);
    frost__plan_decide(m);
    if (spec->weights == FROST_WEIGHTS_SUPERMASK) {
        int64_t rows[256], cols[256];
        for (int32_t k = 0; k < m->n_wmats && k < 256; k++) rows[k] = m->wmats[k].rows, cols[k] = m->wmats[k].cols;
        FROST_TRY(frost__supermask_new(&m->sm, &spec->mask, m->n_wmats, rows, cols));
    }
fail:
    return st;
}

/* Bytes of the five slabs (the plan measuring, nothing allocated). */
static size_t measure(frost_model *m, bool inference, frost__slab *P, frost__slab *G, frost__slab *X,
                      frost__slab *Ac, frost__slab *B)
{
    *P = *G = *X = *Ac = *B = (frost__slab){0};
    m->inference = inference;
    frost__plan_layout(m, P, G, X, Ac, B);
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

frost_status frost_model_bytes_for(const frost_model_spec *spec, int64_t N, int64_t nnz, bool inference,
                                   size_t *bytes)
{
    frost_status st = FROST_OK;
    frost_model *m = NULL;
    *bytes = 0;
    FROST_TRY(frost_model_spec_check(spec));
    if (N < 0) return frost__error(FROST_ERR_SHAPE, "%lld nodes", (long long)N);
    if (nnz < 0) return frost__error(FROST_ERR_SHAPE, "%lld graph entries", (long long)nnz);
    FROST_CALLOC(m, 1);
    FROST_TRY(build_skeleton(m, spec, N, nnz));
    frost__slab P, G, X, Ac, B;
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
    FROST_TRY(build_skeleton(m, spec, N, A ? A->nnz : 0));

    /* measure, check, allocate, point */
    frost__slab P, G, X, Ac, B;
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
    P = (frost__slab){m->slab_params, 0}, G = (frost__slab){m->slab_grads, 0};
    X = (frost__slab){m->slab_fixed, 0}, Ac = (frost__slab){m->slab_acts, 0}, B = (frost__slab){m->slab_bwd, 0};
    frost__plan_layout(m, &P, &G, &X, &Ac, &B);

    /* the trainable tensors, in a fixed order */
    FROST_CALLOC(m->params, (FROST__KIND_MATS + 5) * m->L + 4);
    char name[48];
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        frost__conv *c = &ly->conv;
        frost__wmat *ws[FROST__KIND_MATS + 1] = {NULL};
        const char *wn[FROST__KIND_MATS + 1] = {NULL};
        int nw = 0;
        for (int k = 0; k < c->kind->n_mats; k++) ws[nw] = c->W[k], wn[nw++] = c->kind->mat_names[k];
        if (ly->Wr) ws[nw] = ly->Wr, wn[nw++] = "weight_root";
        for (int k = 0; k < nw; k++) {
            snprintf(name, sizeof name, "layer%d.%s%s", l, wn[k], m->sm ? ".scores" : "");
            if (m->sm) {
                const frost__smat *sw = &m->sm->mats[ws[k]->index];
                add_param(m, name, sw->score, sw->dscore, sw->n);
            } else {
                add_param(m, name, ws[k]->w, ws[k]->dw, ws[k]->n);
            }
        }
        for (int i = 0; i < c->kind->n_bias; i++) {
            if (!c->b[i]) continue;
            if (i == 0) snprintf(name, sizeof name, "layer%d.bias", l);
            else snprintf(name, sizeof name, "layer%d.bias%d", l, i + 1);
            add_param(m, name, c->b[i], c->db[i], c->nb[i]);
        }
        if (ly->gamma) {
            snprintf(name, sizeof name, "layer%d.norm.weight", l);
            add_param(m, name, ly->gamma, ly->dgamma, c->fout);
            snprintf(name, sizeof name, "layer%d.norm.bias", l);
            add_param(m, name, ly->beta, ly->dbeta, c->fout);
        }
    }
    if (m->head) {
        if (m->sm) {
            const frost__smat *sw = &m->sm->mats[m->head->index];
            add_param(m, "head.weight.scores", sw->score, sw->dscore, sw->n);
        } else {
            add_param(m, "head.weight", m->head->w, m->head->dw, m->head->n);
        }
        if (m->head_b) add_param(m, "head.bias", m->head_b, m->head_db, spec->out_dim);
    }

    exec_local(m);
    if (A) FROST_TRY(bind_graph(m, A, AT, N));
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
    frost__supermask_free(&m->sm);
    free(m);
    *pm = NULL;
}

/* ---- initialisation ------------------------------------------------------------------ */

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
    if (m->sm) {
        frost_status st = frost__supermask_init(m->sm, seed);
        if (st < 0) return st;
    } else {
        for (int32_t k = 0; k < m->n_wmats; k++) {
            frost__wmat *w = &m->wmats[k];
            /* the default is the kind's rule (glorot for GCN, as PyG's GCNConv) */
            const frost_init how = s->weight_init == FROST_INIT_DEFAULT ? w->init : s->weight_init;
            frost__init_values(w->w, w->rows, w->cols, how, seed, frost_rng_stream(FROST_RNG_WEIGHT, (uint64_t)k));
        }
    }
    /* biases: the kind's rule (zero for GCN), nn.Linear's U(+-1/sqrt(fan_in)) otherwise */
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        frost__conv *c = &ly->conv;
        for (int i = 0; i < c->kind->n_bias; i++)
            if (c->b[i]) init_bias(c->b[i], c->nb[i], c->b_fan_in[i], c->kind->zero_bias, seed, 2 * (uint64_t)l + i);
        if (ly->gamma)
            for (int64_t j = 0; j < c->fout; j++) ly->gamma[j] = 1.0f, ly->beta[j] = 0.0f;
        if (ly->rmean)
            for (int64_t j = 0; j < c->fout; j++) ly->rmean[j] = 0.0f, ly->rvar[j] = 1.0f;
    }
    if (m->head_b) init_bias(m->head_b, s->out_dim, s->hidden, false, seed, 1u << 20);
    return FROST_OK;
}

/* ---- forward ------------------------------------------------------------------------ */

static uint64_t dropout_stream(int64_t epoch, int32_t layer, int kind)
{
    return frost_rng_stream(FROST_RNG_DROPOUT, ((uint64_t)epoch << 20) | ((uint64_t)layer << 1) | (uint64_t)kind);
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
                     .ids = pass_mask_ids(m),
                     .act = ly->conv.kind->act};
    return pb;
}

/* Output of layer l as the next layer sees it. */
static const float *layer_out(const frost__layer *ly) { return ly->residual ? ly->hres : ly->h; }

void frost_model_forward(frost_model *m, const float *X, bool train, uint64_t seed, int64_t epoch)
{
    FROST_ASSERT(!(train && m->inference));
    FROST_ASSERT(m->op.aggr.A || !m->kind->uses_graph);
    const frost_model_spec *s = &m->spec;
    frost__exec *ex = &m->ex;
    const frost__pass pass = {.train = train, .seed = seed, .epoch = epoch};
    const int64_t n = m->n;
    const float *x = X;
    if (train && m->xin) {
        /* element (i, f) draws what (ids[i], f) of the whole feature matrix
         * draws; a distributed model's halo rows too (no exchange needed) */
        frost__dropout_rows(m->xin, X, pass_mask_ids(m), n + ex->n_halo, s->in_dim, s->input_dropout, seed,
                            dropout_stream(epoch, 0, 0));
        x = m->xin;
    }
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        frost__conv *c = &ly->conv;
        /* the skip head reads the last layer's input, alive only now */
        if (m->head && l == m->L - 1)
            frost_linear_forward(m->head_out, x, m->head->w, m->head_b, n, s->hidden, s->out_dim);
        c->kind->forward(ex, c, x, l == 0, &pass);
        if (l == 0 && m->spent && ex->held_agg && input_read_once(m)) {
            /* made before this pass writes the rest of its buffers: the
             * holder may free the input before the peak */
            const frost_input_spent_fn fn = m->spent;
            m->spent = NULL;
            ex->held_spent = true;
            fn(m->spent_ctx);
        }
        /* model.root_weight: z += x Wr */
        if (ly->Wr) frost_gemm(false, false, n, c->fout, c->fin, 1.0f, x, c->fin, ly->Wr->w, c->fout, 1.0f, c->z, c->fout);
        if (ly->post) {
            frost_post pb = post_block(m, ly, seed, epoch, train);
            frost__exec_post_forward(ex, &pb, ly->h, c->z, c->fout, train);
        }
        if (ly->residual) {
            const int64_t nf = n * c->fout;
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
    if (m->sm)
        for (int32_t k = 0; k < m->n_wmats; k++) memset(m->wmats[k].dw, 0, (size_t)m->wmats[k].n * sizeof(float));
}

/* ---- backward ------------------------------------------------------------------------ */

/* Layer ly's z as forward made it: kept, held from an earlier rebuild, or
 * rebuilt into buf (the weights change only after backward). */
static const float *layer_z(frost_model *m, const frost__layer *ly, float *buf)
{
    if (!ly->z_rebuilt) return ly->conv.z;
    if (m->z_held == ly) return m->z_held_at;
    ly->conv.kind->rebuild_z(&m->ex, &ly->conv, buf);
    return buf;
}

/* What a layer's backward asks of the model (frost__bwd's callbacks). */
typedef struct bwd_ctx {
    frost_model *m;
    int32_t l;
    const float *X;
    uint64_t seed;
    int64_t epoch;
} bwd_ctx;

/* Layer l's input as forward saw it: the model input, a kept residual
 * output, or h_{l-1} rebuilt bit for bit into buf. */
static const float *layer_input(void *u, float *buf)
{
    const bwd_ctx *b = u;
    frost_model *m = b->m;
    const int32_t l = b->l;
    if (l == 0) return m->xin ? m->xin : b->X;
    const frost__layer *p = &m->layer[l - 1];
    if (p->residual) return p->hres;
    if (p->h_kept) return p->h;
    /* Layer l's own kept z is spent once its post block's backward has run,
     * which is before anything asks for its input: a rebuilt z of layer l - 1
     * is made there and stays for layer l - 1's post block (one product
     * instead of two). Otherwise h is rebuilt in place over z in buf. */
    const frost__layer *c = &m->layer[l];
    if (p->z_rebuilt && !frost__plan_z_in_scratch(m, l) && c->conv.fout >= p->conv.fout && m->z_held != p) {
        p->conv.kind->rebuild_z(&m->ex, &p->conv, c->conv.z);
        m->z_held = p, m->z_held_at = c->conv.z;
    }
    const float *z = layer_z(m, p, buf);
    frost_post pb = post_block(m, p, b->seed, b->epoch, true);
    frost__exec_post_recompute(&m->ex, &pb, buf, z, p->conv.fout);
    return buf;
}

/* The parts of layer l's backward that need its input x: the root weight
 * and, on the last layer, the skip head (it reads the same input). */
static void extra_grads(void *u, const float *x, const float *dz)
{
    const bwd_ctx *b = u;
    frost_model *m = b->m;
    const frost__layer *ly = &m->layer[b->l];
    if (ly->Wr) frost__exec_grad_w(&m->ex, ly->Wr, x, dz, 1.0f);
    if (m->head && b->l == m->L - 1) frost__exec_grad_w(&m->ex, m->head, x, m->dlogits, 0.5f);
}

/* Their shares of the input gradient, added to gx. */
static void extra_dx(void *u, const float *dz, float *gx)
{
    const bwd_ctx *b = u;
    frost_model *m = b->m;
    const frost__layer *ly = &m->layer[b->l];
    if (ly->Wr) frost__exec_grad_x(&m->ex, gx, ly->Wr, dz, 1.0f, 1.0f);
    if (m->head && b->l == m->L - 1) frost__exec_grad_x(&m->ex, gx, m->head, m->dlogits, 0.5f, 1.0f);
}

void frost_model_backward(frost_model *m, const float *X, uint64_t seed, int64_t epoch)
{
    FROST_ASSERT(!m->inference);
    const frost_model_spec *s = &m->spec;
    const int64_t n = m->n;
    const frost__pass pass = {.train = true, .seed = seed, .epoch = epoch};
    m->z_held = NULL;
    /* gradient of the last layer's output h_L; with z over x, S[L & 1] (the
     * logits' spent buffer): the other one holds that z */
    float *g = m->S[m->z_over_x >= 0 ? m->L & 1 : 0];
    const int64_t no = n * s->out_dim;
    const float half = m->head ? 0.5f : 1.0f;
    for (int64_t k = 0; k < no; k++) g[k] = half * m->dlogits[k];
    if (m->head_db) frost_colsum_acc(g, n, s->out_dim, s->out_dim, m->head_db);

    for (int32_t l = m->L - 1; l >= 0; l--) {
        frost__layer *ly = &m->layer[l];
        frost__conv *c = &ly->conv;
        const int64_t fout = c->fout;
        float *o[3] = {NULL, NULL, NULL};
        /* above a z kept over x, its buffer is not free: the last layer's
         * dT goes to the buffer of its T, (N, C), and its dz stays in g
         * (plan.c) */
        const float *busy = m->z_over_x >= 0 && l > m->z_over_x ? m->layer[m->z_over_x].conv.z : NULL;
        int j = 0;
        if (busy) o[j++] = c->cache[0];
        for (int k = 0; k < m->nS; k++)
            if (m->S[k] != g && m->S[k] != busy) o[j++] = m->S[k];
        float *res = NULL; /* the residual share of the input gradient */
        if (ly->residual) {
            res = o[m->nS - 2];
            memcpy(res, g, (size_t)(n * fout) * sizeof(float));
        }
        /* dz goes to o[0] in column panels (tensor_impl.h) when the layer's
         * backward reads it so and nothing else does, and o[0] does not
         * hold z: the SpMM then gathers one panel at a time (same sums) */
        float *P = g, *Q = o[0];
        bool panels = false;
        if (ly->post) {
            const float *z = layer_z(m, ly, o[0]); /* o[0] is free again after this block */
            frost_post pb = post_block(m, ly, seed, epoch, true);
            const bool want = c->kind->dz_panels && c->kind->dz_panels(c) && !ly->Wr && z != o[0] && !busy;
            if (frost__exec_post_backward(&m->ex, &pb, want ? o[0] : NULL, ly->dgamma, ly->dbeta, g, z, fout))
                panels = true, P = o[0], Q = g;
        }
        bwd_ctx u = {.m = m, .l = l, .X = X, .seed = seed, .epoch = epoch};
        const frost__bwd b = {.P = P,
                              .Q = Q,
                              .R = o[1],
                              .panels = panels,
                              .first = l == 0,
                              .extras = ly->Wr || (m->head && l == m->L - 1),
                              .extras_dz = ly->Wr != NULL,
                              .u = &u,
                              .input = layer_input,
                              .extra_grads = extra_grads,
                              .extra_dx = extra_dx};
        float *gx = c->kind->backward(&m->ex, c, &b, &pass);
        if (res && gx)
            for (int64_t k = 0; k < n * fout; k++) gx[k] += res[k];
        g = gx;
    }
    m->z_held = NULL;
    if (m->sm) frost__supermask_backward(m->sm);
}

void frost_model_after_step(frost_model *m)
{
    if (m->sm) frost__supermask_update(m->sm);
}

/* ---- accounting ------------------------------------------------------------------------ */

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
        if (m->layer[l].rmean) n += 2 * m->layer[l].conv.fout;
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

/* ---- state snapshots ------------------------------------------------------------------ */

/* The trainable values and the fixed slab (running statistics, supermask
 * weights and codes; not the operator's vectors, which the graph gives)
 * define the predictions; masks follow from the scores. The size does not
 * depend on the rows, so processes of a distributed run share checkpoints. */
size_t frost_model_state_size(const frost_model *m) { return m->bytes_params + m->bytes_fixed - m->fixed_state_off; }

void frost_model_state_save(const frost_model *m, void *buf)
{
    memcpy(buf, m->slab_params, m->bytes_params);
    memcpy((char *)buf + m->bytes_params, (const char *)m->slab_fixed + m->fixed_state_off,
           m->bytes_fixed - m->fixed_state_off);
}

void frost_model_state_load(frost_model *m, const void *buf)
{
    memcpy(m->slab_params, buf, m->bytes_params);
    memcpy((char *)m->slab_fixed + m->fixed_state_off, (const char *)buf + m->bytes_params,
           m->bytes_fixed - m->fixed_state_off);
    if (m->sm) frost__supermask_update(m->sm);
}

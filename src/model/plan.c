/*
 * plan.c - the memory plan of a model: what backward needs and where every
 * buffer lives, allocated once in one slab per lifetime.
 *
 * Shape legend: N rows, fin / fout layer widths, C outputs, sw the scratch
 * width (the widest layer side).
 *
 * What backward needs is z of every layer, the convolution internals that
 * cannot be rebuilt cheaply (the kind's caches: aggregated inputs), the
 * batch statistics and one bit per post-block output ([h > 0]). The hidden
 * h themselves live in two scratch buffers during forward and are rebuilt
 * from z and the bits, bit for bit, when backward needs a layer's input.
 * Cheaper still, unless spec.keep_activations:
 *  - z of a hidden layer whose kind can rebuild it (an aggregate-first GCN
 *    or GIN: one product of its kept aggregation) is made in scratch and
 *    rebuilt in backward (once, in the next layer's spent z buffer when
 *    that fits: model.c's layer_input);
 *  - the logits of a plain last layer that aggregates after its product,
 *    and dlogits, live in scratch between forward and backward;
 *  - a kind's forward intermediate (cache_temp: T = x W before the
 *    aggregation) lives in the scratch buffer the layer's output takes
 *    next;
 *  - the first layer's aggregation of a held input (frost_model_hold_input)
 *    is made by one forward and reused;
 *  - the kept z of the last hidden layer, when it and the last layer
 *    aggregate after their products, is made in the scratch buffer of its
 *    own input (spent once T = x W is made) and stays there until its post
 *    block's backward (z_over_x). The last layer's T and dT then take a
 *    buffer of their own (N, C), neither its dz nor the z layer's is put
 *    in column panels (no free buffer to hold them), and
 *    where the layer below rebuilds its z, backward does so a second time
 *    rather than keeping it in this z's spent buffer. The arxiv GCN (3 x
 *    256): one (N, 256) buffer less for one more (N, 128) x (128, 256)
 *    product; the arxiv supermask GIN (4 x 386, skip head): one (N, 386)
 *    buffer less, nothing recomputed.
 * Backward runs with two or three scratch gradients of (N, sw), as the
 * kinds ask (frost__kind.bwd_buffers), reused across layers (under z over
 * x the last layer's second one is its own (N, C) T buffer); a fourth holds
 * the residual share.
 *
 * Slabs, allocated once by a two-pass layout (sizes, then pointers):
 * trainable values, their gradients, fixed values (supermask weights and
 * codes, batch-norm running statistics, the operator), forward activations
 * and scratch, and what only training needs.
 */
#include "model/model_impl.h"

void frost__plan_decide(frost_model *m)
{
    const frost_model_spec *s = &m->spec;
    const bool keep = s->keep_activations;
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        const frost__conv *c = &ly->conv;
        const bool last = l == m->L - 1;
        ly->h_kept = keep && ly->post && !last;
        /* z that is one product of the kept aggregation: rebuilt in backward */
        ly->z_rebuilt = !keep && c->kind->rebuild_z && !c->agg_after && ly->post && !last && !ly->residual && !ly->Wr;
        /* the logits of a plain last layer that aggregates after its product
         * are made in the buffer of its input, consumed by the product */
        if (last) m->logits_in_scratch = !keep && c->agg_after && !ly->post && !ly->Wr && !s->skip_head;
    }
    /* z over x: the layer below the last one, kept z, aggregating after its
     * product (an opconv kind: x is read by T = x W alone), its input a
     * hidden h in scratch; the last layer an opconv kind aggregating after
     * its product (T and dT of (N, C) in a buffer of their own), with
     * nothing that reads its dz but the aggregation */
    m->z_over_x = -1;
    const int32_t l = m->L - 2;
    if (l >= 1 && !keep) {
        const frost__layer *ly = &m->layer[l];
        const frost__layer *below = &m->layer[l - 1], *top = &m->layer[m->L - 1];
        /* (rebuild_z marks the opconv kinds; !keep: below's h is in scratch) */
        if (ly->conv.kind->rebuild_z && ly->conv.agg_after && ly->post && !ly->residual && !ly->Wr && below->post &&
            !below->residual && top->conv.kind->rebuild_z && top->conv.agg_after && !top->residual && !top->Wr)
            m->z_over_x = l;
    }
}

bool frost__plan_z_in_scratch(const frost_model *m, int32_t l)
{
    return m->layer[l].z_rebuilt || l == m->z_over_x || (l == m->L - 1 && m->logits_in_scratch);
}

/* Scratch gradients layer l's backward needs: the kind's count, one more
 * with a residual share to carry. */
static int backward_buffers(const frost_model *m, int32_t l)
{
    const frost__layer *ly = &m->layer[l];
    const bool head = m->head && l == m->L - 1;
    const int n = ly->conv.kind->bwd_buffers(&ly->conv, ly->Wr || head, ly->Wr != NULL);
    return ly->residual ? n + 1 : n;
}

void frost__plan_layout(frost_model *m, frost__slab *P, frost__slab *G, frost__slab *X, frost__slab *A,
                        frost__slab *B)
{
    const frost_model_spec *s = &m->spec;
    const int64_t N = m->N;

    m->opv0 = FROST__TAKE(X, N, float);
    m->opv1 = FROST__TAKE(X, N, float);
    /* the state that follows does not depend on N: it starts on a cache line */
    X->off = (X->off + 63) & ~(size_t)63;
    m->fixed_state_off = X->off;
    if (m->sm) {
        frost__supermask_layout(m->sm, P, G, X, A, B);
        for (int32_t k = 0; k < m->n_wmats; k++) m->wmats[k].w = m->sm->mats[k].w, m->wmats[k].dw = m->sm->mats[k].dw;
    } else {
        for (int32_t k = 0; k < m->n_wmats; k++) {
            frost__wmat *w = &m->wmats[k];
            w->w = FROST__TAKE(P, w->n, float);
            w->dw = FROST__TAKE(G, w->n, float);
        }
    }
    size_t gw = 0;
    for (int32_t k = 0; k < m->n_wmats; k++) {
        const size_t f = frost_gemm_work_floats(m->wmats[k].rows, m->wmats[k].cols);
        if (f > gw) gw = f;
    }
    m->gemm_work = FROST__TAKE(B, gw, float);
    /* scratch: forward keeps a layer's input and output in S[0], S[1];
     * backward's gradients rotate through all of them */
    int64_t sw = s->out_dim;
    int nS = 2;
    for (int32_t l = 0; l < m->L; l++) {
        const frost__conv *c = &m->layer[l].conv;
        if (c->fout > sw) sw = c->fout;
        if (l > 0 && c->fin > sw) sw = c->fin;
        if (c->scratch_w > sw) sw = c->scratch_w;
        if (!m->inference && backward_buffers(m, l) > nS) nS = backward_buffers(m, l);
    }
    m->sw = sw;
    m->nS = nS;
    for (int k = 0; k < 4; k++) m->S[k] = k < nS ? FROST__TAKE(A, N * sw, float) : NULL;
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        frost__conv *c = &ly->conv;
        const int64_t fout = c->fout;
        const bool last = l == m->L - 1;
        if (s->bias)
            for (int i = 0; i < c->kind->n_bias; i++) {
                c->b[i] = FROST__TAKE(P, c->nb[i], float);
                c->db[i] = FROST__TAKE(G, c->nb[i], float);
            }
        if (ly->post && s->norm != FROST_NORM_NONE) {
            if (s->norm == FROST_NORM_BATCH) {
                ly->gamma = FROST__TAKE(P, fout, float);
                ly->beta = FROST__TAKE(P, fout, float);
                ly->dgamma = FROST__TAKE(G, fout, float);
                ly->dbeta = FROST__TAKE(G, fout, float);
            }
            ly->rmean = FROST__TAKE(X, fout, float);
            ly->rvar = FROST__TAKE(X, fout, float);
            ly->bmean = FROST__TAKE(B, fout, float);
            ly->binvstd = FROST__TAKE(B, fout, float);
        }
        if (ly->post) ly->bits = FROST__TAKE(B, (N * fout + 63) / 64 + 1, uint64_t);
        /* a forward intermediate is made in the buffer the layer's output
         * takes next */
        for (int i = 0; i < FROST__KIND_CACHES; i++) {
            if (!c->cache_floats[i]) continue;
            FROST_ASSERT(!c->cache_temp[i] || c->cache_floats[i] <= N * sw);
            /* (with z over x that buffer holds the z below: the last layer's T takes its own) */
            const bool own = !c->cache_temp[i] || (last && m->z_over_x >= 0);
            c->cache[i] = own ? FROST__TAKE(A, c->cache_floats[i], float) : m->S[l & 1];
        }
        /* a rebuilt z (or one over x) is made in the buffer of the layer's
         * input, which the aggregation (the product) has consumed by then */
        c->z = frost__plan_z_in_scratch(m, l) ? m->S[(l + 1) & 1] : FROST__TAKE(A, N * fout, float);
        if (!last) ly->h = ly->h_kept ? FROST__TAKE(A, N * fout, float) : m->S[l & 1];
        else ly->h = ly->post ? FROST__TAKE(A, N * fout, float) : c->z;
        if (ly->residual) ly->hres = FROST__TAKE(A, N * fout, float);
    }
    if (m->head) {
        if (s->bias) {
            m->head_b = FROST__TAKE(P, s->out_dim, float);
            m->head_db = FROST__TAKE(G, s->out_dim, float);
        }
        m->head_out = FROST__TAKE(A, N * s->out_dim, float);
        m->logit_buf = FROST__TAKE(A, N * s->out_dim, float);
    }
    /* between the loss and backward S[L & 1] holds nothing but maybe the
     * logits (its first N out values); the other buffers may not be free
     * (z over x keeps a z in S[(L - 1) & 1]); the skip head reads dlogits
     * during backward, so it keeps its own */
    if (m->head || m->inference || 2 * s->out_dim > sw) m->dlogits = FROST__TAKE(B, N * s->out_dim, float);
    else if (m->S[m->L & 1]) m->dlogits = m->S[m->L & 1] + N * s->out_dim; /* (measuring pass: no buffers yet) */
    if (s->input_dropout > 0.0f) m->xin = FROST__TAKE(B, N * s->in_dim, float);
    m->bnwork = FROST__TAKE(A, 4 * sw, double);
    /* the kind's per-graph data is remade whenever a graph is bound: not state */
    if (m->opws_bytes) m->opws = FROST__TAKE(A, m->opws_bytes, char);
}

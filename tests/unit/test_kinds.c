/*
 * test_kinds.c - every layer kind the model runs against its plain reference
 * (the public frost_<kind>_forward / _backward of frost/layers.h, whose own
 * backward test_layers.c checks by finite differences):
 *
 *   - a one-layer model of each architecture (every frost_arch), with bias,
 *     on a directed graph with a hub, isolated rows and a self-loop: its
 *     logits against the reference forward with the model's own weights,
 *     and after frost_model_backward with dlogits = R, every parameter's
 *     gradient against the reference backward with dY = R;
 *   - the kind's backward called as a hidden layer would be (input gradient
 *     wanted): dX against the reference's;
 *   - both sides of the linear kinds' choice (aggregate after the product
 *     when H <= F, before it otherwise), and GIN's self weight;
 *   - the table: every architecture has a kind, named as frost_arch_name
 *     and as configurations spell it.
 *
 * The operators of the reference are built here from the public
 * frost_aggr_* functions, not taken from the model.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "frost/layers.h"
#include "model/model_impl.h"
#include "testutil.h"

TestSuite(kinds, .timeout = 120, .fini = tu_free_all);

enum { NN = 60 };

static frost_csr A, AT;

static void graph(void)
{
    int32_t s[401], d[401];
    frost_rng r;
    frost_rng_init(&r, 5, 5);
    int e = 0;
    for (int t = 0; t < 400; t++) {
        int32_t u = (int32_t)frost_rng_next_below(&r, NN);
        int32_t v = t % 5 == 0 ? 0 : (int32_t)frost_rng_next_below(&r, NN - 3); /* 0 a hub; the last rows empty */
        s[e] = u, d[e] = v, e++;
    }
    s[e] = 7, d[e] = 7, e++; /* a self-loop, kept */
    frost_csr_build_opts o = frost_csr_build_opts_default();
    cr_assert_eq(frost_csr_from_edges(&A, NN, e, s, d, &o, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&AT, &A), FROST_OK);
}

static void graph_fini(void)
{
    frost_csr_release(&A);
    frost_csr_release(&AT);
}

static float *rnd(int64_t n, uint64_t seed)
{
    float *x = tu_alloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) x[i] = frost_rng_normal(seed, 3, (uint64_t)i);
    return x;
}

static float *zeros(int64_t n)
{
    float *x = tu_alloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    memset(x, 0, (size_t)n * sizeof *x);
    return x;
}

/* Norm-wise relative difference of two float arrays. */
static double reldiff(const float *a, const float *b, int64_t n)
{
    double d = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)a[i] - (double)b[i]) * ((double)a[i] - (double)b[i]);
        s += (double)b[i] * (double)b[i];
    }
    return sqrt(d) / fmax(sqrt(s), 1e-30);
}

#define TOL 2e-5

static frost_param *param(frost_model *m, const char *name)
{
    frost_param *ps;
    const int32_t np = frost_model_params(m, &ps);
    for (int32_t k = 0; k < np; k++)
        if (strcmp(ps[k].name, name) == 0) return &ps[k];
    cr_assert_fail("no parameter %s", name);
    return NULL;
}

/* The reference's result of one architecture: Y and the gradients of the
 * named parameters (as the model names them), dX. */
typedef struct refout {
    float *Y, *dX;
    int np;
    const char *name[4];
    float *grad[4];
} refout;

static void add(refout *r, const char *name, int64_t n)
{
    r->name[r->np] = name;
    r->grad[r->np++] = zeros(n);
}

/* The reference forward and backward of architecture `arch` with the
 * model's weights, on input X (NN, F), dY = R (NN, H). false: no reference
 * for this architecture (the test fails then). */
static bool reference(frost_model *m, const frost_model_spec *sp, const float *X, const float *R, refout *o)
{
    const int64_t F = sp->in_dim, H = sp->out_dim, K = sp->mlp_hidden;
    const float eps1 = 1.0f + sp->gin_eps;
    float *v0 = zeros(NN), *v1 = zeros(NN);
    frost_aggr op;
    memset(&op, 0, sizeof op);
    memset(o, 0, sizeof *o);
    o->Y = zeros(NN * H);
    o->dX = zeros(NN * F);
    const float *W0 = sp->arch == FROST_ARCH_SAGE ? NULL : param(m, "layer0.weight")->value;
    const float *b0 = param(m, "layer0.bias")->value;
    switch (sp->arch) {
    case FROST_ARCH_MLP:
        add(o, "layer0.weight", F * H), add(o, "layer0.bias", H);
        frost_linear_forward(o->Y, X, W0, b0, NN, F, H);
        frost_linear_backward(o->dX, o->grad[0], o->grad[1], R, X, W0, NN, F, H);
        return true;
    case FROST_ARCH_GCN: {
        frost_aggr_gcn(&op, &A, &AT, v0, v1);
        float *T = zeros(NN * (F < H ? F : H)), *work = zeros(NN * (F > H ? F : H));
        add(o, "layer0.weight", F * H), add(o, "layer0.bias", H);
        frost_gcn_forward(o->Y, T, &op, X, W0, b0, NN, F, H);
        frost_gcn_backward(o->dX, o->grad[0], o->grad[1], work, R, T, &op, X, W0, NN, F, H);
        return true;
    }
    case FROST_ARCH_GIN: {
        frost_aggr_mean(&op, &A, &AT, v0, v1, eps1);
        float *G = zeros(NN * F), *work = zeros(NN * F);
        add(o, "layer0.weight", F * H), add(o, "layer0.bias", H);
        frost_gin_forward(o->Y, G, &op, X, W0, b0, NN, F, H);
        frost_gin_backward(o->dX, o->grad[0], o->grad[1], work, R, G, &op, X, W0, NN, F, H);
        return true;
    }
    case FROST_ARCH_SAGE: {
        /* the mean operator without a self term */
        frost_aggr_mean(&op, &A, &AT, v0, NULL, 0.0f);
        const float *Wn = param(m, "layer0.weight_neigh")->value, *Wr = param(m, "layer0.weight_root")->value;
        float *M = zeros(NN * F), *work = zeros(NN * F);
        add(o, "layer0.weight_neigh", F * H), add(o, "layer0.weight_root", F * H), add(o, "layer0.bias", H);
        frost_sage_forward(o->Y, M, &op, X, Wn, Wr, param(m, "layer0.bias")->value, NN, F, H);
        frost_sage_backward(o->dX, o->grad[0], o->grad[1], o->grad[2], work, R, M, &op, X, Wn, Wr, NN, F, H);
        return true;
    }
    case FROST_ARCH_GIN_MLP: {
        frost_aggr_sum(&op, &A, &AT, v1, eps1);
        const float *W2 = param(m, "layer0.weight2")->value, *b2 = param(m, "layer0.bias2")->value;
        float *G = zeros(NN * F), *Z = zeros(NN * K), *w1 = zeros(NN * K), *w2 = zeros(NN * F);
        add(o, "layer0.weight", F * K), add(o, "layer0.bias", K), add(o, "layer0.weight2", K * H),
            add(o, "layer0.bias2", H);
        frost_gin_mlp_forward(o->Y, G, Z, &op, X, W0, b0, W2, b2, NN, F, K, H);
        frost_gin_mlp_backward(o->dX, o->grad[0], o->grad[1], o->grad[2], o->grad[3], w1, w2, R, G, Z, &op, X, W0,
                               W2, NN, F, K, H);
        return true;
    }
    case FROST_ARCH_GAT: {
        /* the output layer: sp->out_heads heads of H, averaged */
        const int64_t Kh = sp->out_heads;
        const float *as = param(m, "layer0.att_src")->value, *ad = param(m, "layer0.att_dst")->value;
        add(o, "layer0.weight", F * Kh * H), add(o, "layer0.att_src", H * Kh), add(o, "layer0.att_dst", H * Kh),
            add(o, "layer0.bias", H);
        cr_assert_eq(frost_gat_forward(o->Y, &A, X, W0, as, ad, b0, NN, F, Kh, H, false), FROST_OK);
        cr_assert_eq(frost_gat_backward(o->dX, o->grad[0], o->grad[1], o->grad[2], o->grad[3], R, &A, X, W0, as, ad, NN,
                                        F, Kh, H, false),
                     FROST_OK);
        return true;
    }
    default: return false;
    }
}

/* The kind's backward as a hidden layer's (input gradient wanted). */
static const float *the_input(void *u, float *buf)
{
    (void)buf;
    return u;
}

static float *kind_dx(frost_model *m, const float *X, const float *R)
{
    frost__conv *c = &m->layer[0].conv;
    const int64_t w = m->sw > c->fin ? m->sw : c->fin;
    float *P = zeros(NN * w), *Q = zeros(NN * w), *S = zeros(NN * w);
    memcpy(P, R, (size_t)(NN * c->fout) * sizeof(float));
    frost_model_zero_grad(m);
    frost__bwd b = {.P = P, .Q = Q, .R = S, .first = false, .u = (void *)X, .input = the_input};
    const frost__pass pass = {.train = true, .seed = 1, .epoch = 0};
    float *dx = c->kind->backward(&m->ex, c, &b, &pass);
    cr_assert(dx == P || dx == Q || dx == S);
    return dx;
}

static void check_arch(frost_arch arch, int64_t F, int64_t H, float eps)
{
    frost_model_spec sp = frost_model_spec_default();
    sp.arch = arch;
    sp.layers = 1;
    sp.in_dim = F;
    sp.out_dim = H;
    sp.hidden = 16;
    sp.mlp_hidden = 7;
    sp.gin_eps = eps;
    sp.dropout = 0.0f;
    sp.out_heads = 3; /* gat: three heads averaged */
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, 13), FROST_OK);
    const char *what = frost_arch_name(arch);
    const float *X = rnd(NN * F, 21), *R = rnd(NN * H, 22);
    /* the biases start at zero for GCN: make them count */
    frost_param *ps;
    const int32_t np = frost_model_params(m, &ps);
    for (int32_t k = 0; k < np; k++)
        if (strstr(ps[k].name, "bias"))
            for (int64_t i = 0; i < ps[k].n; i++) ps[k].value[i] = 0.1f * frost_rng_normal(9, (uint64_t)k, (uint64_t)i);

    refout ref;
    cr_assert(reference(m, &sp, X, R, &ref), "%s: the test has no reference for this architecture", what);

    frost_model_forward(m, X, true, 1, 0);
    double e = reldiff(frost_model_logits(m), ref.Y, NN * H);
    cr_assert_leq(e, TOL, "%s %lld -> %lld: logits differ from the reference by %.3g", what, (long long)F,
                  (long long)H, e);
    frost_model_zero_grad(m);
    memcpy(frost_model_dlogits(m), R, (size_t)(NN * H) * sizeof(float));
    frost_model_backward(m, X, 1, 0);
    cr_assert_eq(np, ref.np, "%s: %d parameters, the reference has %d", what, np, ref.np);
    for (int k = 0; k < ref.np; k++) {
        const frost_param *p = param(m, ref.name[k]);
        e = reldiff(p->grad, ref.grad[k], p->n);
        cr_assert_leq(e, TOL, "%s %lld -> %lld: d%s differs from the reference by %.3g", what, (long long)F,
                      (long long)H, ref.name[k], e);
    }
    /* the input gradient, which a first layer does not compute */
    frost_model_forward(m, X, true, 1, 0);
    const float *dx = kind_dx(m, X, R);
    e = reldiff(dx, ref.dX, NN * F);
    cr_assert_leq(e, TOL, "%s %lld -> %lld: dX differs from the reference by %.3g", what, (long long)F, (long long)H,
                  e);
    frost_model_free(&m);
}

Test(kinds, one_layer_models_match_their_reference, .init = graph, .fini = graph_fini)
{
    for (int a = 0; a < FROST_ARCH_COUNT; a++) {
        check_arch((frost_arch)a, 9, 4, 0.0f);  /* H <= F: linear kinds aggregate after the product */
        check_arch((frost_arch)a, 5, 11, 0.0f); /* H > F: before */
        check_arch((frost_arch)a, 6, 6, 0.25f); /* GIN's self weight 1 + eps */
    }
}

Test(kinds, every_architecture_has_a_kind_named_as_in_configurations)
{
    for (int a = 0; a < FROST_ARCH_COUNT; a++) {
        const frost__kind *k = frost__kind_of((frost_arch)a);
        cr_assert_not_null(k);
        cr_assert_str_eq(k->name, frost_arch_name((frost_arch)a));
        /* model.name = "<name>" selects it */
        frost_config c;
        frost_config_default(&c);
        char text[128];
        snprintf(text, sizeof text, "model = { name = \"%s\"; };", k->name);
        cr_assert_eq(frost_config_load_text(&c, text, "kinds"), FROST_OK, "%s: %s", k->name, frost_last_error());
        cr_assert_eq((int)c.model.arch, a, "model.name = \"%s\" selects architecture %d", k->name, (int)c.model.arch);
        cr_assert(k->n_mats >= 1 && k->n_mats <= FROST__KIND_MATS);
        cr_assert(k->forward && k->backward && k->shape && k->make_op && k->bwd_buffers && k->graph_bytes);
        cr_assert(!k->rebuild_z || k->linear, "%s: only an aggregate-first linear kind rebuilds z", k->name);
    }
}

/* A hidden GAT layer (heads concatenated) of a two-layer model: its z and,
 * from the kind's backward with dz = R, its gradients and dX against the
 * reference. */
Test(kinds, gat_hidden_layer_concatenates_heads, .init = graph, .fini = graph_fini)
{
    const int64_t F = 7, K = 3, D = 4, H = K * D;
    frost_model_spec sp = frost_model_spec_default();
    sp.arch = FROST_ARCH_GAT;
    sp.layers = 2;
    sp.in_dim = F;
    sp.hidden = H;
    sp.heads = (int32_t)K;
    sp.out_dim = 5;
    sp.dropout = 0.0f;
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, 17), FROST_OK);
    const float *X = rnd(NN * F, 31), *R = rnd(NN * H, 32);
    float *b = param(m, "layer0.bias")->value;
    for (int64_t i = 0; i < H; i++) b[i] = 0.1f * (float)i;
    frost__conv *c = &m->layer[0].conv;
    const float *W = param(m, "layer0.weight")->value, *as = param(m, "layer0.att_src")->value,
                *ad = param(m, "layer0.att_dst")->value;
    float *Y = zeros(NN * H), *dX = zeros(NN * F), *dW = zeros(F * H), *das = zeros(D * K), *dad = zeros(D * K),
          *db = zeros(H);
    cr_assert_eq(frost_gat_forward(Y, &A, X, W, as, ad, b, NN, F, K, D, true), FROST_OK);
    cr_assert_eq(frost_gat_backward(dX, dW, das, dad, db, R, &A, X, W, as, ad, NN, F, K, D, true), FROST_OK);
    frost_model_forward(m, X, true, 1, 0);
    double e = reldiff(c->z, Y, NN * H);
    cr_assert_leq(e, TOL, "gat hidden layer: z differs from the reference by %.3g", e);
    const float *dx = kind_dx(m, X, R);
    const char *names[] = {"layer0.weight", "layer0.att_src", "layer0.att_dst", "layer0.bias"};
    const float *want[] = {dW, das, dad, db};
    for (int k = 0; k < 4; k++) {
        const frost_param *p = param(m, names[k]);
        e = reldiff(p->grad, want[k], p->n);
        cr_assert_leq(e, TOL, "gat hidden layer: d%s differs from the reference by %.3g", names[k], e);
    }
    e = reldiff(dx, dX, NN * F);
    cr_assert_leq(e, TOL, "gat hidden layer: dX differs from the reference by %.3g", e);
    frost_model_free(&m);
}

/*
 * test_aggr.c - the aggregation operators against dense matrices built here
 * from the edge list, with degrees counted here, never from the operator's
 * own per-node vectors:
 *
 *   GCN  D^-1/2 (A + I) D^-1/2, D = in-degree + 1 (and DGL's right, left
 *        and none normalisations of A + I)
 *   mean D^-1 A (rows without neighbours give 0), plus w I
 *   sum  A, plus w I
 *   GIN  (1 + eps) I + D^-1 A;  GIN-MLP  (1 + eps) I + A
 *   SAGE D^-1 A X Wn + X Wr + b
 *
 * each applied forward (op X) and transposed (op^T X, the backward pass), the
 * operator each architecture picks (frost__model_operator), 1-layer models
 * whose weights are set to the identity (their logits are op X: the model's
 * own path, column panels included for 136 columns on 1100 nodes), and the
 * orientation of a prepared dataset (a stored edge u -> v: v aggregates u).
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

TestSuite(aggr, .timeout = 120, .fini = tu_free_all);

/* The test graph: edge e goes from send[e] to recv[e] (recv aggregates
 * send), no duplicates, no self-loops; dense adjacency Adj[v][u]. */
typedef struct tgraph {
    int64_t n, E;
    int32_t *send, *recv;
    double *adj;              /* (n, n) */
    int64_t *indeg, *outdeg;  /* counted from the edge list */
    frost_csr A, AT;          /* row v of A lists the nodes v aggregates from */
} tgraph;

/* n nodes, about `avg` in-edges each; node 0 a hub, the last two nodes
 * without in-edges, node n - 3 without any edge. */
static void make_graph(tgraph *g, int64_t n, int64_t avg, uint64_t seed)
{
    g->n = n;
    const int64_t cap = n * avg + n;
    g->send = tu_alloc((size_t)cap * sizeof(int32_t));
    g->recv = tu_alloc((size_t)cap * sizeof(int32_t));
    g->adj = tu_alloc((size_t)(n * n) * sizeof(double));
    g->indeg = tu_alloc((size_t)n * sizeof(int64_t));
    g->outdeg = tu_alloc((size_t)n * sizeof(int64_t));
    frost_rng r;
    frost_rng_init(&r, seed, 11);
    g->E = 0;
    for (int64_t t = 0; t < cap && g->E < cap; t++) {
        int32_t u = (int32_t)frost_rng_next_below(&r, (uint64_t)n), v;
        if (t % 4 == 0) v = 0; /* the hub receives from many */
        else v = (int32_t)frost_rng_next_below(&r, (uint64_t)(n - 3));
        if (u == v || u == n - 3 || g->adj[v * n + u] != 0) continue;
        g->adj[v * n + u] = 1;
        g->send[g->E] = u;
        g->recv[g->E] = v;
        g->indeg[v]++;
        g->outdeg[u]++;
        g->E++;
    }
    cr_assert_eq(g->indeg[n - 1] + g->indeg[n - 2] + g->indeg[n - 3] + g->outdeg[n - 3], 0);
    cr_assert_gt(g->indeg[0], n / 8);
    cr_assert_eq(frost_csr_from_edges(&g->A, n, g->E, g->recv, g->send, NULL, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&g->AT, &g->A), FROST_OK);
}

static void free_graph(tgraph *g)
{
    frost_csr_release(&g->A);
    frost_csr_release(&g->AT);
}

typedef enum opkind {
    OP_GCN, OP_GCN_RIGHT, OP_GCN_LEFT, OP_GCN_NONE, OP_MEAN, OP_SUM, N_OPKIND
} opkind;
static const char *const op_name[N_OPKIND] = {"GCN D^-1/2 (A+I) D^-1/2", "GCN right D^-1 (A+I)",
                                              "GCN left (A+I) D_out^-1", "GCN none A+I", "mean", "sum"};

/* The dense operator (n, n): what the operator is by its definition. */
static double *dense_op(const tgraph *g, opkind k, double self)
{
    const int64_t n = g->n;
    double *M = tu_alloc((size_t)(n * n) * sizeof(double));
    for (int64_t v = 0; v < n; v++)
        for (int64_t u = 0; u < n; u++) {
            const double a = g->adj[v * n + u], aI = a + (u == v ? 1.0 : 0.0);
            double x = 0;
            switch (k) {
            case OP_GCN: x = aI / sqrt((double)(g->indeg[v] + 1) * (double)(g->indeg[u] + 1)); break;
            case OP_GCN_RIGHT: x = aI / (double)(g->indeg[v] + 1); break;
            case OP_GCN_LEFT: x = aI / (double)(g->outdeg[u] + 1); break;
            case OP_GCN_NONE: x = aI; break;
            case OP_MEAN: x = (g->indeg[v] ? a / (double)g->indeg[v] : 0.0) + (u == v ? self : 0.0); break;
            case OP_SUM: x = a + (u == v ? self : 0.0); break;
            default: break;
            }
            M[v * n + u] = x;
        }
    return M;
}

/* Y (n, F) against M X (or M^T X): within float rounding of the sum of
 * |terms| of each entry, whatever order the kernel adds them in. */
static void assert_dense_product(const float *Y, const double *M, const float *X, int64_t n, int64_t F, bool trans,
                                 const char *what)
{
    for (int64_t v = 0; v < n; v++)
        for (int64_t f = 0; f < F; f++) {
            double s = 0, sa = 0;
            for (int64_t u = 0; u < n; u++) {
                const double m = trans ? M[u * n + v] : M[v * n + u];
                if (m == 0) continue;
                s += m * (double)X[u * F + f];
                sa += fabs(m * (double)X[u * F + f]);
            }
            const double err = fabs((double)Y[v * F + f] - s);
            cr_assert(err <= 1e-5 * sa + 1e-30, "%s: row %lld column %lld: %.9g, the dense operator gives %.9g", what,
                      (long long)v, (long long)f, (double)Y[v * F + f], s);
        }
}

static float *rand_mat(int64_t n, uint64_t seed)
{
    float *x = tu_alloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = frost_rng_normal(seed, 3, (uint64_t)i);
    return x;
}

/* op X and op^T X of one operator against the dense one. */
static void check_op(const tgraph *g, const frost_aggr *op, const double *M, int64_t F, const char *what)
{
    const int64_t n = g->n;
    float *X = rand_mat(n * F, 5), *Y = tu_alloc((size_t)(n * F) * sizeof(float));
    char w[200];
    frost_spmm(op, X, F, F, Y, F);
    snprintf(w, sizeof w, "%s, op X (%lld columns)", what, (long long)F);
    assert_dense_product(Y, M, X, n, F, false, w);
    memset(Y, 0, (size_t)(n * F) * sizeof(float));
    frost_spmm_t_acc(op, X, F, F, Y, F);
    snprintf(w, sizeof w, "%s, op^T X (%lld columns)", what, (long long)F);
    assert_dense_product(Y, M, X, n, F, true, w);
}

Test(aggr, operators_match_dense_matrices)
{
    tgraph g;
    make_graph(&g, 40, 3, 1);
    const int64_t n = g.n;
    float *v0 = tu_alloc((size_t)n * sizeof(float)), *v1 = tu_alloc((size_t)n * sizeof(float));
    const int64_t widths[] = {1, 5, 33};
    for (size_t wi = 0; wi < 3; wi++) {
        const int64_t F = widths[wi];
        frost_aggr op;
        frost_aggr_gcn(&op, &g.A, &g.AT, v0, v1);
        check_op(&g, &op, dense_op(&g, OP_GCN, 0), F, "frost_aggr_gcn");
        const frost_gcn_norm norms[4] = {FROST_GCN_NORM_BOTH, FROST_GCN_NORM_RIGHT, FROST_GCN_NORM_LEFT,
                                         FROST_GCN_NORM_NONE};
        for (int k = 0; k < 4; k++) {
            memset(&op, 0, sizeof op);
            frost_aggr_gcn_norm(&op, &g.A, &g.AT, v0, v1, norms[k]);
            check_op(&g, &op, dense_op(&g, (opkind)(OP_GCN + k), 0), F, op_name[OP_GCN + k]);
        }
        const float selfw[] = {0.0f, 1.0f, 1.5f};
        for (int k = 0; k < 3; k++) {
            char what[64];
            frost_aggr_mean(&op, &g.A, &g.AT, v0, v1, selfw[k]);
            snprintf(what, sizeof what, "mean + %g I", (double)selfw[k]);
            check_op(&g, &op, dense_op(&g, OP_MEAN, selfw[k]), F, what);
            frost_aggr_sum(&op, &g.A, &g.AT, v1, selfw[k]);
            snprintf(what, sizeof what, "sum + %g I", (double)selfw[k]);
            check_op(&g, &op, dense_op(&g, OP_SUM, selfw[k]), F, what);
        }
    }
    free_graph(&g);
}

/* The operator each architecture builds from a graph: GCN (both), SAGE's
 * mean, GIN's (1 + eps) I + mean, GIN-MLP's (1 + eps) I + sum. */
Test(aggr, each_architecture_picks_its_operator)
{
    tgraph g;
    make_graph(&g, 40, 3, 2);
    const int64_t n = g.n;
    float *v0 = tu_alloc((size_t)n * sizeof(float)), *v1 = tu_alloc((size_t)n * sizeof(float));
    const float eps = 0.25f;
    const struct {
        frost_arch arch;
        opkind kind;
        double self;
    } cases[] = {{FROST_ARCH_GCN, OP_GCN, 0},
                 {FROST_ARCH_SAGE, OP_MEAN, 0},
                 {FROST_ARCH_GIN, OP_MEAN, 1.0 + 0.25},
                 {FROST_ARCH_GIN_MLP, OP_SUM, 1.0 + 0.25}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        frost_model_spec sp = frost_model_spec_default();
        sp.arch = cases[c].arch;
        sp.gin_eps = eps;
        frost__op op;
        cr_assert_eq(frost__model_operator(&sp, &op, &g.A, &g.AT, v0, v1), FROST_OK);
        check_op(&g, &op.aggr, dense_op(&g, cases[c].kind, cases[c].self), 7, frost_arch_name(sp.arch));
    }
    free_graph(&g);
}

/* SAGE: mean(X) Wn + X Wr + b, dense, against the layer. */
Test(aggr, sage_layer_matches_dense)
{
    tgraph g;
    make_graph(&g, 40, 3, 3);
    const int64_t n = g.n, F = 6, H = 4;
    float *inv = tu_alloc((size_t)n * sizeof(float));
    frost_aggr op;
    frost_aggr_mean(&op, &g.A, &g.AT, inv, NULL, 0.0f);
    float *X = rand_mat(n * F, 8), *Wn = rand_mat(F * H, 9), *Wr = rand_mat(F * H, 10), *b = rand_mat(H, 11);
    float *Y = tu_alloc((size_t)(n * H) * sizeof(float)), *Mc = tu_alloc((size_t)(n * F) * sizeof(float));
    frost_sage_forward(Y, Mc, &op, X, Wn, Wr, b, n, F, H);
    const double *M = dense_op(&g, OP_MEAN, 0);
    for (int64_t v = 0; v < n; v++)
        for (int64_t h = 0; h < H; h++) {
            double s = b[h], sa = fabs((double)b[h]);
            for (int64_t f = 0; f < F; f++) {
                double agg = 0;
                for (int64_t u = 0; u < n; u++) agg += M[v * n + u] * (double)X[u * F + f];
                s += agg * (double)Wn[f * H + h] + (double)X[v * F + f] * (double)Wr[f * H + h];
                sa += fabs(agg * (double)Wn[f * H + h]) + fabs((double)X[v * F + f] * (double)Wr[f * H + h]);
            }
            cr_assert(fabs((double)Y[v * H + h] - s) <= 1e-5 * sa, "SAGE row %lld (in-degree %lld) column %lld: %.9g, dense %.9g",
                      (long long)v, (long long)g.indeg[v], (long long)h, (double)Y[v * H + h], s);
        }
    free_graph(&g);
}

/* Set a trained matrix parameter to a multiple of the identity (F == H)
 * and every bias to 0. */
static void set_identity(frost_model *m, const char *name, float diag)
{
    frost_param *ps;
    int32_t np = frost_model_params(m, &ps);
    bool found = false;
    for (int32_t k = 0; k < np; k++) {
        if (strstr(ps[k].name, "bias")) memset(ps[k].value, 0, (size_t)ps[k].n * sizeof(float));
        if (strcmp(ps[k].name, name) != 0) continue;
        const int64_t H = (int64_t)llround(sqrt((double)ps[k].n));
        cr_assert_eq(H * H, ps[k].n);
        memset(ps[k].value, 0, (size_t)ps[k].n * sizeof(float));
        for (int64_t i = 0; i < H; i++) ps[k].value[i * H + i] = diag;
        found = true;
    }
    cr_assert(found, "no parameter %s", name);
}

/* A 1-layer model with identity weights: its logits are the operator
 * applied to X, through the model's own aggregation path. */
static void model_path(const tgraph *g, frost_arch arch, int64_t F, const char *what)
{
    const int64_t n = g->n;
    frost_model_spec sp = frost_model_spec_default();
    sp.arch = arch;
    sp.layers = 1;
    sp.in_dim = sp.hidden = sp.out_dim = F;
    sp.mlp_hidden = F;
    sp.gin_eps = 0.5f;
    sp.dropout = 0;
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &sp, &g->A, &g->AT, n), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, 1), FROST_OK);
    const double *M;
    switch (arch) {
    case FROST_ARCH_GCN:
        set_identity(m, "layer0.weight", 1.0f);
        M = dense_op(g, OP_GCN, 0);
        break;
    case FROST_ARCH_GIN:
        set_identity(m, "layer0.weight", 1.0f);
        M = dense_op(g, OP_MEAN, 1.5);
        break;
    case FROST_ARCH_SAGE: /* mean X + 2 X */
        set_identity(m, "layer0.weight_neigh", 1.0f);
        set_identity(m, "layer0.weight_root", 2.0f);
        M = dense_op(g, OP_MEAN, 2.0);
        break;
    default: /* GIN-MLP: relu((1.5 I + A) X), then the identity */
        set_identity(m, "layer0.weight", 1.0f);
        set_identity(m, "layer0.weight2", 1.0f);
        M = dense_op(g, OP_SUM, 1.5);
        break;
    }
    float *X = rand_mat(n * F, 21);
    if (arch == FROST_ARCH_GIN_MLP)
        for (int64_t i = 0; i < n * F; i++) X[i] = fabsf(X[i]); /* the inner ReLU passes everything */
    frost_model_forward(m, X, false, 0, 0);
    assert_dense_product(frost_model_logits(m), M, X, n, F, false, what);
    frost_model_free(&m);
}

/* model_path for the first n_arch of GCN, GIN, SAGE, GIN-MLP at width F on
 * make_graph(n, avg, seed), each named "ARCH model" and what follows. */
static void models_on_graph(int64_t n, int64_t avg, uint64_t seed, int n_arch, int64_t F, const char *suffix)
{
    static const frost_arch arch[] = {FROST_ARCH_GCN, FROST_ARCH_GIN, FROST_ARCH_SAGE, FROST_ARCH_GIN_MLP};
    static const char *const name[] = {"GCN", "GIN", "SAGE", "GIN-MLP"};
    tgraph g;
    make_graph(&g, n, avg, seed);
    for (int k = 0; k < n_arch; k++) {
        char what[64];
        snprintf(what, sizeof what, "%s model%s", name[k], suffix);
        model_path(&g, arch[k], F, what);
    }
    free_graph(&g);
}

Test(aggr, models_aggregate_with_their_operator) { models_on_graph(60, 4, 4, 4, 9, ""); }

/* 1100 nodes and 136 columns: the products and SpMMs frost runs in column
 * panels on AVX2 and AVX-512 CPUs (the generic path elsewhere; FROST_ISA=generic). */
Test(aggr, models_aggregate_with_their_operator_wide) { models_on_graph(1100, 5, 5, 2, 136, ", 136 wide"); }

/* A dataset stores out-edges; a directed graph aggregates over in-edges
 * (stored u -> v: v aggregates u), an undirected one over both. */
Test(aggr, prepared_graph_aggregates_over_in_edges)
{
    char *d = tu_tmpdir();
    tu_make_ogb(d); /* edges 0->1, 1->2, 2->3, 3->4, 0->2, 4->0 */
    cr_assert_eq(frost_import_ogb(d, tu_path(d, "t.h5"), NULL), FROST_OK, "%s", frost_last_error());
    const int32_t su[] = {0, 1, 2, 3, 0, 4}, sv[] = {1, 2, 3, 4, 2, 0};
    for (int undirected = 0; undirected < 2; undirected++) {
        frost_config c;
        frost_config_default(&c);
        char set[1200];
        snprintf(set, sizeof set, "dataset=\"%s\"", tu_path(d, "t.h5"));
        cr_assert_eq(frost_config_set_arg(&c, set), FROST_OK);
        cr_assert_eq(frost_config_set_arg(&c, "split=\"s0\""), FROST_OK);
        cr_assert_eq(frost_config_set_arg(&c, undirected ? "graph.undirected=true" : "graph.undirected=false"),
                     FROST_OK, "%s", frost_last_error());
        frost_prepared p;
        cr_assert_eq(frost_prepare(&p, &c), FROST_OK, "%s", frost_last_error());
        bool in[5][5];
        memset(in, 0, sizeof in);
        for (int e = 0; e < 6; e++) {
            in[sv[e]][su[e]] = true;
            if (undirected) in[su[e]][sv[e]] = true;
        }
        for (int v = 0; v < 5; v++)
            for (int u = 0; u < 5; u++)
                cr_assert_eq(frost_csr_find(&p.A, v, u) >= 0, in[v][u], "%s: does node %d aggregate node %d?",
                             undirected ? "undirected" : "directed", v, u);
        frost_prepared_release(&p);
    }
    tu_rmtree(d);
    free(d);
}

/*
 * test_model.c - whole models: the composed backward pass (batch norm,
 * dropout, residuals, input projection, skip head; every architecture, GAT
 * with attention dropout and ELU) against finite
 * differences of the loss, and reproducibility: the same seed gives the same
 * numbers, with 1 or 2 threads.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"
#include "model/model_impl.h"
#include "tensor/tensor_impl.h"
#include "train/train_impl.h"

TestSuite(model, .timeout = 120);

enum { NN = 40, FF = 6, CC = 3 };

static frost_csr A, AT;
static float X[NN * FF];
static int32_t Y[NN];
static int64_t IDX[NN];

static void fixture(void)
{
    int32_t s[160], d[160];
    frost_rng r;
    frost_rng_init(&r, 3, 3);
    for (int e = 0; e < 160; e++) {
        s[e] = (int32_t)frost_rng_next_below(&r, NN);
        d[e] = (int32_t)frost_rng_next_below(&r, NN - 2); /* the last nodes receive nothing */
    }
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.self_loops = FROST_SELF_LOOPS_DROP;
    cr_assert_eq(frost_csr_from_edges(&A, NN, 160, s, d, &o, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&AT, &A), FROST_OK);
    for (int i = 0; i < NN * FF; i++) X[i] = frost_rng_normal(4, 4, (uint64_t)i);
    for (int i = 0; i < NN; i++) {
        Y[i] = i % 7 == 0 ? -1 : (int32_t)(i % CC);
        IDX[i] = i;
    }
}

static void fixture_fini(void)
{
    frost_csr_release(&A);
    frost_csr_release(&AT);
}

static double loss_of(frost_model *m, uint64_t seed)
{
    frost_model_forward(m, X, true, seed, 5);
    return frost_softmax_ce(NULL, frost_model_logits(m), Y, IDX, NN, CC);
}

static void grad_check(frost_model_spec s, const char *what)
{
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &s, &A, &AT, NN), FROST_OK, "%s: %s", what, frost_last_error());
    const char *arch = frost_arch_name(s.arch);
    cr_assert_eq(frost_model_init(m, 11), FROST_OK);
    /* analytic */
    frost_model_forward(m, X, true, 9, 5);
    frost_model_zero_grad(m);
    frost_softmax_ce(frost_model_dlogits(m), frost_model_logits(m), Y, IDX, NN, CC);
    frost_model_backward(m, X, 9, 5);
    frost_param *ps;
    int32_t np = frost_model_params(m, &ps);
    float *g = malloc(4096 * sizeof *g);
    for (int32_t k = 0; k < np; k++) {
        int64_t n = ps[k].n < 24 ? ps[k].n : 24; /* a sample of each tensor */
        memcpy(g, ps[k].grad, (size_t)ps[k].n * sizeof *g);
        /* Central differences in float. A sample agrees when it is within 1%
         * (or 5e-4, the float noise of the quotient) at one of two steps: a
         * step that crosses a ReLU kink of some node misleads the difference,
         * the smaller step rarely crosses the same one. A few may still
         * disagree, but a wrong backward fails most of them at both steps. */
        int64_t agree = 0;
        for (int64_t q = 0; q < n; q++) {
            int64_t e = (q * 7919) % ps[k].n;
            float v = ps[k].value[e];
            const float steps[2] = {1e-3f, 2.5e-4f};
            bool ok = false;
            for (int si = 0; si < 2 && !ok; si++) {
                const float h = steps[si];
                ps[k].value[e] = v + h;
                double lp = loss_of(m, 9);
                ps[k].value[e] = v - h;
                double lm = loss_of(m, 9);
                ps[k].value[e] = v;
                double fd = (lp - lm) / (2.0 * (double)h);
                ok = fabs(fd - (double)g[e]) <= 1e-2 * fmax(fabs(fd), fabs((double)g[e])) + 5e-4;
            }
            agree += ok;
        }
        cr_assert_geq(agree, (n * 8 + 9) / 10, "%s (%s): %s: only %lld of %lld sampled gradients agree", what, arch,
                      ps[k].name, (long long)agree, (long long)n);
    }
    free(g);
    frost_model_free(&m);
}

Test(model, composed_gradients_match_finite_differences, .init = fixture, .fini = fixture_fini)
{
    for (int a = 0; a < FROST_ARCH_COUNT; a++) {
        frost_model_spec s = frost_model_spec_default();
        s.arch = (frost_arch)a;
        s.heads = 2;             /* gat: two heads of 4, concatenated; two averaged at the output */
        s.out_heads = 2;
        s.attn_dropout = 0.3f;   /* gat: its mask too is fixed by (seed, epoch) */
        s.layers = 3;
        s.in_dim = FF;
        s.hidden = 8;
        s.out_dim = CC;
        s.dropout = 0.3f; /* the mask is fixed by (seed, epoch) */
        s.norm = FROST_NORM_BATCH;
        s.residual = true;
        grad_check(s, frost_arch_name(s.arch));
        s.keep_activations = true;
        grad_check(s, "keep_activations");
        s.keep_activations = false;
        s.input_proj = true;
        s.norm = FROST_NORM_BATCH_NONAFFINE;
        s.skip_head = true;
        s.norm_last = true;
        s.bias = false;
        s.input_dropout = 0.2f;
        s.root_weight = true;
        grad_check(s, "input_proj + skip head + norm_last + root weight");
        /* the skip head alone: backward then rebuilds the last layer's input
         * in the buffer the gradient leaves (GCN, GIN: two buffers) */
        s.input_proj = false;
        s.root_weight = false;
        s.residual = false;
        s.input_dropout = 0.0f;
        grad_check(s, "skip head alone");
    }
}

/* Train a few epochs and return the final eval logits and history; with
 * spent, on a copy of the features that spent poisons when the trainer says
 * the model has done with them (frost_train_opts.input_spent). */
static int spent_calls;
static float spent_x[NN * FF];
static void poison_features(void *u)
{
    spent_calls++;
    float *x = u;
    for (int i = 0; i < NN * FF; i++) x[i] = NAN;
}

static void train_once_ex(frost_model_spec s, int threads, uint64_t seed, float *logits, frost_run_result *res,
                          bool spent)
{
    frost_set_threads(threads);
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &s, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, seed), FROST_OK);
    int64_t tr[20], va[10], te[10];
    for (int i = 0; i < 20; i++) tr[i] = i;
    for (int i = 0; i < 10; i++) va[i] = 20 + i, te[i] = 30 + i;
    frost_task_data d = {NN, FF, X, Y, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, CC, tr, va, te, 20, 10, 10, NULL};
    frost_train_opts o = frost_train_opts_default();
    o.epochs = 15;
    o.seed = seed;
    if (spent) {
        memcpy(spent_x, X, sizeof spent_x);
        d.X = spent_x;
        o.input_spent = poison_features;
        o.input_spent_ctx = spent_x;
    }
    cr_assert_eq(frost_train(m, &d, &o, res), FROST_OK, "%s", frost_last_error());
    memcpy(logits, frost_model_logits(m), NN * CC * sizeof(float));
    frost_model_free(&m);
}

static void train_once(frost_model_spec s, int threads, uint64_t seed, float *logits, frost_run_result *res)
{
    train_once_ex(s, threads, seed, logits, res, false);
}

/* The 3-layer models the reproducibility tests train: GCN, or a supermask
 * GIN with frozen weights of both kinds. */
static frost_model_spec spec3(bool gin)
{
    frost_model_spec s = frost_model_spec_default();
    s.arch = gin ? FROST_ARCH_GIN : FROST_ARCH_GCN;
    s.layers = 3;
    s.in_dim = FF;
    s.hidden = 16;
    s.out_dim = CC;
    s.norm = FROST_NORM_BATCH;
    if (gin) {
        s.weights = FROST_WEIGHTS_SUPERMASK;
        s.mask.sparsity = 0.5;
        s.mask.prune_ratio = 0.1;
        s.mask.lock_ratio = 0.2;
    }
    return s;
}

/* Two trainings gave the same numbers: final logits, every epoch's loss and
 * validation metric. */
static void assert_same_training(const float *l1, const frost_run_result *r1, const float *l2,
                                 const frost_run_result *r2, const char *what)
{
    cr_assert(memcmp(l1, l2, NN * CC * sizeof(float)) == 0, "%s: logits differ", what);
    cr_assert_eq(r1->n_history, r2->n_history);
    for (int64_t k = 0; k < r1->n_history; k++) {
        cr_assert_eq(r1->history[k].loss, r2->history[k].loss, "%s: epoch %lld loss differs", what, (long long)k + 1);
        cr_assert_eq(r1->history[k].valid_metric, r2->history[k].valid_metric);
    }
}

Test(model, same_seed_same_numbers_for_1_and_2_threads, .init = fixture, .fini = fixture_fini)
{
    for (int sm = 0; sm < 2; sm++) {
        frost_model_spec s = spec3(sm);
        float l1[NN * CC], l2[NN * CC], l3[NN * CC];
        frost_run_result r1, r2, r3;
        train_once(s, 1, 5, l1, &r1);
        train_once(s, 2, 5, l2, &r2);
        train_once(s, 1, 6, l3, &r3);
        assert_same_training(l1, &r1, l2, &r2, "1 against 2 threads");
        cr_assert(memcmp(l1, l3, sizeof l1) != 0, "another seed gives other numbers");
        frost_run_result_release(&r1);
        frost_run_result_release(&r2);
        frost_run_result_release(&r3);
    }
}

/* Rebuilding activations in backward (the default) or keeping them
 * (model.keep_activations) is a memory plan, not a change of numbers: the
 * same training bit for bit. The first layer (6 -> 16) aggregates first, so
 * its z is rebuilt from the kept aggregation; the hidden h from z and bits. */
Test(model, rebuilt_activations_give_the_same_training, .init = fixture, .fini = fixture_fini)
{
    /* 3 layers: layer 0's z is rebuilt twice (layer 1's z is kept over
     * layer 1's input, so there is no spent z buffer to hold it); 2 layers:
     * the last layer's z (the logits) lives in scratch, so it is rebuilt in
     * a scratch buffer, twice; 4 layers with a skip head and a norm after
     * the last layer: layer 2's z over its input, layer 3's dz not in panels */
    for (int c = 0; c < 6; c++) {
        frost_model_spec s = spec3(c & 1);
        s.layers = c < 2 ? 3 : c < 4 ? 2 : 4;
        s.dropout = 0.3f;
        if (c >= 4) s.skip_head = true, s.norm_last = true; /* the arxiv supermask GIN's form */
        /* 3 or 4 layers: the last hidden z is kept over its input (plan.c's
         * z over x: 16 -> 16 and 16 -> CC aggregate after their products) */
        frost_model *pm;
        cr_assert_eq(frost_model_new(&pm, &s, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(pm->z_over_x, s.layers >= 3 ? s.layers - 2 : -1, "case %d: z over x at layer %d", c, pm->z_over_x);
        frost_model_free(&pm);
        float l1[NN * CC], l2[NN * CC];
        frost_run_result r1, r2;
        train_once(s, 2, 5, l1, &r1);
        s.keep_activations = true;
        train_once(s, 2, 5, l2, &r2);
        assert_same_training(l1, &r1, l2, &r2, frost_arch_name(s.arch));
        frost_run_result_release(&r1);
        frost_run_result_release(&r2);
    }
}

/* A held input's first aggregation is reused while the promise holds and
 * only then: the same logits as without the hold, and new ones once the hold
 * is released and the features change. */
Test(model, held_input_aggregation_is_reused_only_while_held, .init = fixture, .fini = fixture_fini)
{
    frost_model_spec s = spec3(false); /* layer 0 is 6 -> 16: it aggregates first */
    frost_model *m, *ref;
    cr_assert_eq(frost_model_new(&m, &s, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_new(&ref, &s, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_init(m, 3), FROST_OK);
    cr_assert_eq(frost_model_init(ref, 3), FROST_OK);
    float x[NN * FF], a[NN * CC], b[NN * CC];
    memcpy(x, X, sizeof x);
    frost_model_hold_input(m, x);
    for (int k = 0; k < 2; k++) { /* the second forward reuses the aggregation */
        frost_model_forward(m, x, false, 0, 0);
        frost_model_forward(ref, x, false, 0, 0);
        memcpy(a, frost_model_logits(m), sizeof a);
        memcpy(b, frost_model_logits(ref), sizeof b);
        cr_assert(memcmp(a, b, sizeof a) == 0, "forward %d with the hold differs", k);
    }
    frost_model_hold_input(m, NULL);
    for (int i = 0; i < NN * FF; i++) x[i] = 2.0f * x[i] + 0.5f;
    frost_model_forward(m, x, false, 0, 0);
    frost_model_forward(ref, x, false, 0, 0);
    memcpy(b, frost_model_logits(ref), sizeof b);
    cr_assert(memcmp(frost_model_logits(m), b, sizeof b) == 0, "released hold: the new features were not aggregated");
    cr_assert(memcmp(a, b, sizeof a) != 0, "the features changed, so must the logits");
    frost_model_free(&m);
    frost_model_free(&ref);
}

/* The trainer says the features are spent once, in its first pass, where
 * the first layer's aggregation is all the model reads of them, and nothing
 * reads them after that: the same training bits with them poisoned from
 * that call on. Where something else reads them (input dropout, a root
 * weight, a first layer that multiplies first, GraphSAGE's root term), it
 * never says so. */
Test(model, spent_features_are_never_read_again, .init = fixture, .fini = fixture_fini)
{
    for (int c = 0; c < 8; c++) {
        frost_model_spec s = spec3(c & 1);
        s.dropout = 0.3f;
        const bool once = c < 4;
        if (c >= 2 && c < 4) s.layers = 4, s.skip_head = true, s.norm_last = true; /* the arxiv GIN's form */
        if (c == 4) s.input_dropout = 0.2f;
        if (c == 5) s.root_weight = true;
        if (c == 6) s.hidden = 4; /* 6 -> 4: T = x W first */
        if (c == 7) s.arch = FROST_ARCH_SAGE, s.weights = FROST_WEIGHTS_TRAINED;
        float l1[NN * CC], l2[NN * CC];
        frost_run_result r1, r2;
        train_once(s, 2, 5, l1, &r1);
        spent_calls = 0;
        train_once_ex(s, 2, 5, l2, &r2, true);
        cr_assert_eq(spent_calls, once ? 1 : 0, "case %d: spent %d times", c, spent_calls);
        char what[32];
        snprintf(what, sizeof what, "case %d", c);
        assert_same_training(l1, &r1, l2, &r2, what);
        frost_run_result_release(&r1);
        frost_run_result_release(&r2);
    }
    /* a later layer that aggregates first too (6 -> 8 -> 12) leaves the
     * first layer's aggregation as it is: the forwards after the call give
     * the logits of a model without the hold */
    frost_model_spec s = frost_model_spec_default();
    s.arch = FROST_ARCH_GCN;
    s.layers = 2;
    s.in_dim = FF;
    s.hidden = 8;
    s.out_dim = 12;
    frost_model *m, *ref;
    cr_assert_eq(frost_model_new(&m, &s, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_new(&ref, &s, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_init(m, 3), FROST_OK);
    cr_assert_eq(frost_model_init(ref, 3), FROST_OK);
    memcpy(spent_x, X, sizeof spent_x);
    spent_calls = 0;
    frost_model_hold_input_ex(m, spent_x, poison_features, spent_x);
    for (int k = 0; k < 3; k++) {
        frost_model_forward(m, k ? NULL : spent_x, false, 0, 0);
        frost_model_forward(ref, X, false, 0, 0);
        cr_assert(memcmp(frost_model_logits(m), frost_model_logits(ref), NN * 12 * sizeof(float)) == 0,
                  "forward %d after the features were spent differs", k);
    }
    cr_assert_eq(spent_calls, 1);
    frost_model_free(&m);
    frost_model_free(&ref);
}

/* A small GCN on the fixture graph and a task on its first four nodes. */
static int64_t task_nodes[] = {0, 1, 2, 3};

static frost_model *small_gcn(frost_task_data *d)
{
    frost_model_spec s = frost_model_spec_default();
    s.arch = FROST_ARCH_GCN;
    s.in_dim = FF;
    s.hidden = 8;
    s.out_dim = CC;
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &s, &A, &AT, NN), FROST_OK);
    cr_assert_eq(frost_model_init(m, 1), FROST_OK);
    *d = (frost_task_data){
        NN, FF, X, Y,   FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, CC, task_nodes, task_nodes, task_nodes,
        4,  4,  4, NULL};
    return m;
}

/* frost_model_bytes_for (the size check before any run) counts what
 * frost_model_new allocates, for every architecture, training and inference,
 * supermask too; GAT's per-edge buffers are sized by the graph's entries, so
 * without them it counts less. A GAT ticket has scores for its attention
 * vectors (they are masked like W). */
Test(model, bytes_for_counts_what_model_new_allocates, .init = fixture, .fini = fixture_fini)
{
    for (int a = 0; a < FROST_ARCH_COUNT; a++) {
        for (int v = 0; v < 4; v++) {
            frost_model_spec s = frost_model_spec_default();
            s.arch = (frost_arch)a;
            s.heads = 2;
            s.out_heads = 2;
            s.layers = 3;
            s.in_dim = FF;
            s.hidden = 8;
            s.out_dim = CC;
            s.norm = FROST_NORM_BATCH;
            if (v & 1) s.weights = FROST_WEIGHTS_SUPERMASK;
            const bool inference = (v & 2) != 0;
            const char *arch = frost_arch_name(s.arch);
            size_t need = 0;
            cr_assert_eq(frost_model_bytes_for(&s, NN, A.nnz, inference, &need), FROST_OK, "%s: %s", arch,
                         frost_last_error());
            frost_model *m = NULL;
            cr_assert_eq(frost_model_new_ex(&m, &s, &A, &AT, NN, inference), FROST_OK, "%s: %s", arch,
                         frost_last_error());
            const size_t have = frost_model_bytes(m);
            cr_assert(need >= have && need <= have + 5 * 64, "%s (variant %d): bytes_for %zu, the model %zu", arch, v,
                      need, have);
            if (s.arch == FROST_ARCH_GAT && s.weights == FROST_WEIGHTS_SUPERMASK) {
                /* a GAT ticket masks the attention vectors too: each layer's scores */
                frost_param *ps = NULL;
                const int32_t np = frost_model_params(m, &ps);
                int found = 0;
                for (int32_t k = 0; k < np; k++)
                    found += strstr(ps[k].name, ".att_src.scores") || strstr(ps[k].name, ".att_dst.scores");
                cr_assert_eq(found, 2 * s.layers, "gat ticket: %d attention score tensors, expected %d", found,
                             2 * s.layers);
            }
            if (s.arch == FROST_ARCH_GAT) {
                size_t blind = 0;
                cr_assert_eq(frost_model_bytes_for(&s, NN, 0, inference, &blind), FROST_OK);
                cr_assert_lt(blind, need, "gat: its per-edge buffers must count (%zu without the graph)", blind);
            }
            frost_model_free(&m);
        }
    }
    frost_model_spec s = frost_model_spec_default();
    s.in_dim = FF, s.out_dim = CC;
    size_t need = 1;
    cr_assert_eq(frost_model_bytes_for(&s, NN, -1, false, &need), FROST_ERR_SHAPE);
    cr_assert_eq(need, 0);
}

Test(model, diverging_run_stops_cleanly, .init = fixture, .fini = fixture_fini)
{
    frost_task_data d;
    frost_model *m = small_gcn(&d);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = 50;
    o.optim.lr = 1e30; /* blows up */
    frost_run_result r;
    cr_assert_eq(frost_train(m, &d, &o, &r), FROST_OK);
    cr_assert(r.diverged);
    cr_assert_lt(r.epochs_run, 50);
    cr_assert(strstr(r.message, "the training loss is"), "%s", r.message);
    frost_run_result_release(&r);
    frost_model_free(&m);
}

/* An epoch hook that trains nothing and, at epoch 3, leaves a NaN in the
 * second parameter, as an update that overflowed would. */
static frost_status poison_epoch(void *ctx, frost_model *m, frost_optim *opt, const frost_task_data *d,
                                 const frost_train_opts *o, int64_t e, double *loss)
{
    (void)ctx, (void)opt, (void)d, (void)o;
    frost_param *p;
    cr_assert_geq(frost_model_params(m, &p), 2);
    if (e == 2) p[1].value[p[1].n - 1] = NAN;
    *loss = 1.0;
    return FROST_OK;
}

Test(model, nonfinite_weight_after_an_update_stops_the_run_naming_epoch_and_parameter, .init = fixture,
     .fini = fixture_fini)
{
    frost_task_data d;
    frost_model *m = small_gcn(&d);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = 10;
    frost__train_hooks h = {.epoch = poison_epoch};
    frost_run_result r;
    cr_assert_eq(frost__train(m, &d, &o, &h, &r), FROST_OK);
    cr_assert(r.diverged);
    cr_assert_eq(r.epochs_run, 3);
    frost_param *p;
    frost_model_params(m, &p);
    char want[128];
    snprintf(want, sizeof want, "epoch 3: parameter %s[%lld] is NaN", p[1].name, (long long)(p[1].n - 1));
    cr_assert(strstr(r.message, want), "message '%s', expected '%s'", r.message, want);
    frost_run_result_release(&r);
    frost_model_free(&m);
}

/* Column panels (tensor/tensor_impl.h) change where a layer's T = x W and
 * dz are stored between a product and its SpMM, not a number: the same
 * training bit for bit with them on and off. The graph is large enough
 * (1200 nodes) for frost's AVX-512 products, the hidden widths make 2 and
 * 3 panels (130 = 64 + 66, 200 = 64 + 64 + 72); kept activations let dz go
 * to panels too, rebuilt ones only T; the GCN has biases (column sums over
 * panels) and dropout; residuals, a skip head and root weights too. On a CPU without AVX-512 both runs take the
 * row-major path. */
Test(model, column_panels_give_the_same_training)
{
    enum { PN = 1200, PF = 24, PE = 9000 };
    int32_t *s = malloc(PE * sizeof *s), *d = malloc(PE * sizeof *d), *y = malloc(PN * sizeof *y);
    float *x = malloc((size_t)PN * PF * sizeof *x);
    frost_rng r;
    frost_rng_init(&r, 9, 9);
    for (int e = 0; e < PE; e++) {
        s[e] = (int32_t)frost_rng_next_below(&r, PN);
        d[e] = (int32_t)frost_rng_next_below(&r, PN);
    }
    frost_csr g, gt;
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.self_loops = FROST_SELF_LOOPS_DROP;
    cr_assert_eq(frost_csr_from_edges(&g, PN, PE, s, d, &o, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&gt, &g), FROST_OK);
    for (int i = 0; i < PN * PF; i++) x[i] = frost_rng_normal(5, 5, (uint64_t)i);
    for (int i = 0; i < PN; i++) y[i] = (int32_t)(i % CC);
    int64_t tr[600], va[300], te[300];
    for (int i = 0; i < 600; i++) tr[i] = i;
    for (int i = 0; i < 300; i++) va[i] = 600 + i, te[i] = 900 + i;
    frost_task_data data = {PN, PF, x, y, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, CC, tr, va, te, 600, 300,
                            300, NULL};
    if (frost__isa(-1) >= FROST__ISA_AVX2) {
        /* the hidden layers' shapes really take the panel path here */
        float *w = calloc(200 * 200, sizeof(float)), *t = malloc((size_t)PN * 200 * sizeof(float));
        float *hid = calloc((size_t)PN * 200, sizeof(float));
        cr_assert(frost__gemm_panels(PN, 200, 200, hid, 200, w, 200, t), "200 -> 200 on %d nodes: no panels", PN);
        cr_assert(frost__gemm_panels(PN, 130, 130, hid, 130, w, 130, t), "130 -> 130 on %d nodes: no panels", PN);
        free(w);
        free(t);
        free(hid);
    }
    for (int c = 0; c < 6; c++) {
        frost_model_spec sp = spec3(c & 1);
        sp.in_dim = PF;
        sp.hidden = c & 1 ? 130 : 200;
        sp.keep_activations = c < 2 || c >= 4;
        if (!(c & 1)) sp.dropout = 0.3f;
        /* 4, 5: 4 layers with residuals (a fourth scratch buffer carries
         * their share) and the GIN with the skip head and root weights
         * (which read dz row-major, so its panels stay forward only) */
        if (c >= 4) sp.layers = 4, sp.residual = true;
        if (c == 5) sp.skip_head = true, sp.root_weight = true;
        float *l[2];
        frost_run_result res[2];
        for (int on = 0; on < 2; on++) {
            frost__panels_use(on);
            frost_model *m;
            cr_assert_eq(frost_model_new(&m, &sp, &g, &gt, PN), FROST_OK, "%s", frost_last_error());
            cr_assert_eq(frost_model_init(m, 7), FROST_OK);
            frost_train_opts t = frost_train_opts_default();
            t.epochs = 4;
            t.seed = 7;
            cr_assert_eq(frost_train(m, &data, &t, &res[on]), FROST_OK, "%s", frost_last_error());
            l[on] = malloc((size_t)PN * CC * sizeof(float));
            memcpy(l[on], frost_model_logits(m), (size_t)PN * CC * sizeof(float));
            frost_model_free(&m);
        }
        frost__panels_use(1);
        cr_assert(memcmp(l[0], l[1], (size_t)PN * CC * sizeof(float)) == 0, "case %d: logits differ", c);
        cr_assert_eq(res[0].n_history, res[1].n_history);
        for (int64_t k = 0; k < res[0].n_history; k++)
            cr_assert_eq(res[0].history[k].loss, res[1].history[k].loss, "case %d: epoch %lld loss differs", c,
                         (long long)k + 1);
        for (int on = 0; on < 2; on++) {
            free(l[on]);
            frost_run_result_release(&res[on]);
        }
    }
    frost_csr_release(&g);
    frost_csr_release(&gt);
    free(s);
    free(d);
    free(y);
    free(x);
}

/* Checkpoints (frost_train_opts.checkpoint): a run stopped after epoch 16
 * and started again on a fresh model continues from the checkpoint of epoch
 * 14 and ends with the same logits, losses and metrics as a run never
 * stopped; a damaged checkpoint, or one of another key, is ignored (the run
 * starts over, to the same numbers). */
static volatile int ck_stop;
static void ck_on_epoch(const frost_epoch_record *rec, void *user)
{
    if (rec->epoch == *(int64_t *)user) ck_stop = 1;
}

static void ck_train(frost_model_spec s, frost_train_opts o, float *logits, frost_run_result *res)
{
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, &s, &A, &AT, NN), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, 5), FROST_OK);
    static int64_t tr[20], va[10], te[10];
    for (int i = 0; i < 20; i++) tr[i] = i;
    for (int i = 0; i < 10; i++) va[i] = 20 + i, te[i] = 30 + i;
    frost_task_data d = {NN, FF, X, Y, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, CC, tr, va, te, 20, 10, 10, NULL};
    cr_assert_eq(frost_train(m, &d, &o, res), FROST_OK, "%s", frost_last_error());
    memcpy(logits, frost_model_logits(m), NN * CC * sizeof(float));
    frost_model_free(&m);
}

Test(model, checkpoint_continues_a_stopped_run_to_the_same_numbers, .init = fixture, .fini = fixture_fini)
{
    char *dir = tu_tmpdir();
    const char *path = tu_path(dir, "run.ckpt");
    int best_before = 0;
    for (int sm = 0; sm < 2; sm++) {
        frost_model_spec s = spec3(sm);
        s.dropout = 0.3f;
        frost_train_opts o = frost_train_opts_default();
        o.epochs = 30;
        o.seed = 5;
        o.optim.kind = FROST_OPTIM_ADAMW;
        o.optim.schedule = FROST_SCHED_COSINE;
        o.optim.t_max = 30;
        float l0[NN * CC], l1[NN * CC];
        frost_run_result r0, r1;
        ck_train(s, o, l0, &r0);
        best_before += r0.best_epoch < 14;
        /* stopped after epoch 16: the checkpoint of epoch 14 stays */
        int64_t at = 16;
        o.checkpoint = path, o.checkpoint_every = 7, o.checkpoint_key = 42;
        o.on_epoch = ck_on_epoch, o.user = &at, o.stop = &ck_stop;
        ck_stop = 0;
        ck_train(s, o, l1, &r1);
        cr_assert(r1.stopped && r1.epochs_run == 16, "stopped at %lld", (long long)r1.epochs_run);
        frost_run_result_release(&r1);
        cr_assert(tu_exists(path));
        /* continued on a fresh model */
        ck_stop = 0, at = -1;
        ck_train(s, o, l1, &r1);
        cr_assert_eq(r1.resumed_from, 14, "resumed from %lld", (long long)r1.resumed_from);
        assert_same_training(l0, &r0, l1, &r1, sm ? "supermask GIN" : "GCN");
        cr_assert_eq(r1.best_epoch, r0.best_epoch);
        cr_assert(memcmp(&r1.test_at_best, &r0.test_at_best, sizeof(double)) == 0);
        frost_run_result_release(&r1);
        /* another key, then a damaged file: ignored, the same numbers from scratch */
        for (int bad = 0; bad < 2; bad++) {
            if (bad) {
                o.checkpoint_key = 42;
                FILE *f = fopen(path, "r+b");
                cr_assert_not_null(f);
                fseek(f, 200, SEEK_SET);
                int c = fgetc(f);
                fseek(f, 200, SEEK_SET);
                fputc(c ^ 1, f);
                fclose(f);
            } else {
                o.checkpoint_key = 43;
            }
            ck_train(s, o, l1, &r1);
            cr_assert_eq(r1.resumed_from, 0, "%s checkpoint used", bad ? "a damaged" : "another run's");
            cr_assert(strstr(r1.checkpoint_note, bad ? "not used (damaged)" : "not used (made by another run"), "%s",
                      r1.checkpoint_note);
            assert_same_training(l0, &r0, l1, &r1, bad ? "after a damaged checkpoint" : "after another key's");
            frost_run_result_release(&r1);
            /* a finished run writes no checkpoint of its last epoch, and
             * leaves the one before it: make a fresh one for the next case */
            o.checkpoint_key = 42, at = 16, ck_stop = 0;
            ck_train(s, o, l1, &r1);
            frost_run_result_release(&r1);
            at = -1, ck_stop = 0;
        }
        remove(path);
        frost_run_result_release(&r0);
    }
    cr_assert_geq(best_before, 1, "no model had its best epoch before the checkpoint: the best state's return untested");
    tu_rmtree(dir);
    free(dir);
}

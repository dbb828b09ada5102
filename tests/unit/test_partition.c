/*
 * test_partition.c - METIS partitions (every node placed, balanced, edges
 * mostly inside parts, reproducible) and reordering a dataset by part
 * (features, labels, splits and the graph follow their nodes).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(partition, .timeout = 60);

static void synth(frost_dataset *ds, const char *dir)
{
    frost_synth_opts o = tu_synth_opts(2000, 8000, 4, 4);
    o.homophily = 0.9;
    tu_synth_load(ds, tu_path(dir, "s.h5"), &o);
}

Test(partition, metis_parts_are_balanced_and_local)
{
    char *d = tu_tmpdir();
    frost_dataset ds;
    synth(&ds, d);
    cr_assert_eq(frost_dataset_partition(&ds, 8, 0.05, 1, "p8"), FROST_OK, "%s", frost_last_error());
    const frost_partitioning *p = frost_dataset_partitioning(&ds, "p8");
    cr_assert_not_null(p);
    int64_t size[8] = {0}, cut = 0;
    for (int64_t i = 0; i < ds.num_nodes; i++) {
        cr_assert(p->part[i] >= 0 && p->part[i] < 8);
        size[p->part[i]]++;
        for (int64_t e = ds.graph.indptr[i]; e < ds.graph.indptr[i + 1]; e++) cut += p->part[ds.graph.indices[e]] != p->part[i];
    }
    for (int k = 0; k < 8; k++) cr_assert(size[k] <= 250 * 1.06 && size[k] > 150, "part %d has %lld", k, (long long)size[k]);
    cr_assert_lt(cut, ds.graph.nnz * 7 / 8, "a random assignment cuts 7/8 of the edges");
    int32_t *again = malloc(2000 * sizeof *again);
    cr_assert_eq(frost_graph_partition(&ds.graph, 8, 0.05, 1, again), FROST_OK);
    cr_assert(memcmp(again, p->part, 2000 * sizeof *again) == 0, "same seed, same parts");
    cr_assert_eq(frost_graph_partition(&ds.graph, 0, 0.05, 1, again), FROST_ERR_RANGE);
    free(again);
    frost_dataset_release(&ds);
    tu_rmtree(d);
    free(d);
}

Test(partition, reorder_keeps_every_node_with_its_data)
{
    char *d = tu_tmpdir();
    frost_dataset ds, re, back;
    synth(&ds, d);
    cr_assert_eq(frost_dataset_partition(&ds, 4, 0.03, 0, "p4"), FROST_OK);
    int64_t *perm = malloc(2000 * sizeof *perm);
    cr_assert_eq(frost_partition_order(perm, ds.partitions[0].part, 2000, 4), FROST_OK);
    cr_assert_eq(frost_dataset_permute(&re, &ds, perm), FROST_OK, "%s", frost_last_error());
    for (int64_t i = 1; i < 2000; i++) cr_assert_leq(re.partitions[0].part[i - 1], re.partitions[0].part[i]);
    for (int64_t i = 0; i < 2000; i++) {
        int64_t o = re.original_id[i];
        cr_assert_eq(o, perm[i]);
        cr_assert(memcmp(re.feat + i * 4, ds.feat + o * 4, 16) == 0);
        cr_assert_eq(re.label[i], ds.label[o]);
        /* the same neighbourhood under the new names */
        cr_assert_eq(re.graph.indptr[i + 1] - re.graph.indptr[i], ds.graph.indptr[o + 1] - ds.graph.indptr[o]);
        for (int64_t e = re.graph.indptr[i]; e < re.graph.indptr[i + 1]; e++)
            cr_assert_geq(frost_csr_find(&ds.graph, o, (int32_t)re.original_id[re.graph.indices[e]]), 0);
    }
    for (int64_t q = 0; q < re.splits[0].n_train; q++)
        cr_assert_eq(re.original_id[re.splits[0].train[q]], ds.splits[0].train[q]);
    /* the round trip through a file keeps partitions and original ids */
    cr_assert_eq(frost_dataset_save(&re, tu_path(d, "r.h5"), 1), FROST_OK);
    cr_assert_eq(frost_dataset_load(&back, tu_path(d, "r.h5")), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(back.num_partitions, 1);
    cr_assert(memcmp(back.original_id, re.original_id, 2000 * 8) == 0);
    free(perm);
    frost_dataset_release(&ds);
    frost_dataset_release(&re);
    frost_dataset_release(&back);
    tu_rmtree(d);
    free(d);
}

/* One training step of a model on ds and of its twin on the reordered re:
 * logits, loss and every parameter gradient agree up to the permutation
 * (float rounding aside); then both take the same plain gradient step. */
static double twin_step(frost_model *a, const frost_dataset *ds, frost_model *b, const frost_dataset *re,
                        int64_t epoch, double *max_logit_diff)
{
    const int64_t n = ds->num_nodes, C = ds->num_classes;
    int64_t *all = malloc((size_t)n * sizeof *all);
    for (int64_t i = 0; i < n; i++) all[i] = i;
    frost_model_forward(a, ds->feat, true, 7, epoch);
    frost_model_forward(b, re->feat, true, 7, epoch);
    const float *la = frost_model_logits(a), *lb = frost_model_logits(b);
    *max_logit_diff = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < C; c++) {
            double d = fabs((double)lb[i * C + c] - (double)la[re->original_id[i] * C + c]);
            if (d > *max_logit_diff) *max_logit_diff = d;
        }
    frost_model_zero_grad(a);
    frost_model_zero_grad(b);
    double loss_a = frost_softmax_ce(frost_model_dlogits(a), la, ds->label, all, n, C);
    double loss_b = frost_softmax_ce(frost_model_dlogits(b), lb, re->label, all, n, C);
    frost_model_backward(a, ds->feat, 7, epoch);
    frost_model_backward(b, re->feat, 7, epoch);
    frost_param *pa, *pb;
    const int32_t np = frost_model_params(a, &pa);
    cr_assert_eq(frost_model_params(b, &pb), np);
    for (int32_t k = 0; k < np; k++)
        for (int64_t e = 0; e < pa[k].n; e++) {
            const double ga = pa[k].grad[e], gb = pb[k].grad[e];
            cr_assert(fabs(ga - gb) <= 1e-4 * fmax(fabs(ga), 1e-2), "epoch %lld, %s[%lld]: %g against %g",
                      (long long)epoch, pa[k].name, (long long)e, ga, gb);
            pa[k].value[e] -= 0.5f * pa[k].grad[e];
            pb[k].value[e] -= 0.5f * pb[k].grad[e];
        }
    free(all);
    return fabs(loss_a - loss_b);
}

Test(partition, training_on_a_reordered_dataset_is_the_same_up_to_the_permutation)
{
    /* dropout masks follow the original node ids (frost_model_set_node_ids),
     * so only the order of float sums differs */
    char *d = tu_tmpdir();
    frost_dataset ds, re;
    synth(&ds, d);
    cr_assert_eq(frost_dataset_partition(&ds, 4, 0.03, 0, "p4"), FROST_OK);
    int64_t *perm = malloc(2000 * sizeof *perm);
    cr_assert_eq(frost_partition_order(perm, ds.partitions[0].part, 2000, 4), FROST_OK);
    cr_assert_eq(frost_dataset_permute(&re, &ds, perm), FROST_OK, "%s", frost_last_error());
    frost_model_spec s = frost_model_spec_default();
    s.arch = FROST_ARCH_GCN;
    s.layers = 3;
    s.in_dim = ds.num_features;
    s.out_dim = ds.num_classes;
    s.dropout = 0.5f;
    s.input_dropout = 0.2f;
    s.norm = FROST_NORM_BATCH;
    /* hidden 16: a mask chunk of 64 spans four rows; 100: rows cross chunk boundaries */
    for (int keep = 0; keep < 2; keep++) {
        s.keep_activations = keep;
        s.hidden = keep ? 100 : 16;
        frost_model *a, *b, *c;
        cr_assert_eq(frost_model_new(&a, &s, &ds.graph, &ds.graph, 2000), FROST_OK);
        cr_assert_eq(frost_model_new(&b, &s, &re.graph, &re.graph, 2000), FROST_OK);
        cr_assert_eq(frost_model_new(&c, &s, &re.graph, &re.graph, 2000), FROST_OK);
        cr_assert_eq(frost_model_init(a, 3), FROST_OK);
        cr_assert_eq(frost_model_init(b, 3), FROST_OK);
        cr_assert_eq(frost_model_init(c, 3), FROST_OK);
        cr_assert_eq(frost_model_set_node_ids(b, re.original_id), FROST_OK);
        for (int64_t epoch = 1; epoch <= 5; epoch++) {
            double dl;
            const double dloss = twin_step(a, &ds, b, &re, epoch, &dl);
            cr_assert_leq(dl, 1e-4, "keep %d, epoch %lld: logits differ by %g", keep, (long long)epoch, dl);
            cr_assert_leq(dloss, 1e-5, "keep %d, epoch %lld: losses differ by %g", keep, (long long)epoch, dloss);
        }
        /* the check can fail: masks by row index (no node ids) give other logits */
        frost_model_forward(c, re.feat, true, 7, 1);
        frost_model_forward(a, ds.feat, true, 7, 1);
        double far = 0;
        const float *la = frost_model_logits(a), *lc = frost_model_logits(c);
        for (int64_t i = 0; i < 2000 * ds.num_classes; i++) {
            const int64_t row = i / ds.num_classes, col = i % ds.num_classes;
            far = fmax(far, fabs((double)lc[i] - (double)la[re.original_id[row] * ds.num_classes + col]));
        }
        cr_assert_gt(far, 1e-2, "row-indexed masks matched too: the test would not notice them");
        frost_model_free(&a);
        frost_model_free(&b);
        frost_model_free(&c);
    }
    free(perm);
    frost_dataset_release(&ds);
    frost_dataset_release(&re);
    tu_rmtree(d);
    free(d);
}

/*
 * test_neighbors.c - neighbour-sampled mini-batches on real data (cora):
 *   - with every in-neighbour taken (fanout -1) and one batch holding every
 *     training node, a mean aggregation without batch norm computes the
 *     seeds' full-batch logits, so training follows frost_train's loss curve
 *     and metrics, for GraphSAGE and GIN, weight-trained and as tickets
 *     (dropout off: the masks are drawn per batch row);
 *   - with fanouts 10, 10 in batches of 32 seeds (5 steps an epoch), GCN on
 *     cora reaches the accuracy band of full-batch training (Kipf & Welling's
 *     recipe, 3 seeds), and the same seed gives the same numbers;
 *   - a fanout list that does not match the layers is refused by name.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(neighbors, .timeout = 600);

static void whole_neighbourhood_is_full_batch(const char *tag, const char *model)
{
    char body[1024], a[64], b[64];
    snprintf(body, sizeof body,
             "method = [\"trained\", \"slt\"];\nepochs = 25;\nruns = 1;\nfeatures = { normalize = \"row\"; };\n"
             "model = { %s dropout = 0.0; };\noptim = { name = \"adam\"; lr = 0.01; };\n"
             "slt = { sparsity = 0.5; freeze = 0.4; };\n",
             model);
    snprintf(a, sizeof a, "%s-full.h5", tag);
    snprintf(b, sizeof b, "%s-sampled.h5", tag);
    tu_run_cora_body(body, a, NULL, 0);
    const char *sets[] = {"batch.mode=\"neighbor\"", "batch.fanout=-1", "batch.size=140"};
    tu_run_cora_body(body, b, sets, 3);
    /* the seeds' logits are the full-batch ones; the training nodes' order
     * differs, so float sums differ in order: one validation node at most */
    tu_same_histories(a, b, 2, 25, 1e-5, 0.0021, false, tag);
}

Test(neighbors, whole_neighbourhood_sage_equals_full_batch, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    whole_neighbourhood_is_full_batch("sage", "name = \"sage\"; layers = 2; hidden = 64;");
}

Test(neighbors, whole_neighbourhood_gin_equals_full_batch, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    whole_neighbourhood_is_full_batch("gin", "name = \"gin\"; layers = 3; hidden = 64;");
}

Test(neighbors, sampled_mini_batches_train_cora_gcn_reproducibly, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    const char *sets[] = {"runs=3", "batch.mode=\"neighbor\"", "batch.fanout=[10, 10]", "batch.size=32"};
    frost_summary_row row =
        tu_run_cora_gcn(tu_path(tu_cora_dir(), "cora.h5"), tu_path(tu_cora_dir(), "ns.h5"), sets, 4);
    cr_assert_eq(row.runs, 3);
    /* full batch: 81.7 +- 0.9 over 10 seeds */
    cr_assert_geq(row.test_mean, 0.78, "neighbour-sampled cora GCN test accuracy %.4f", row.test_mean);
    /* the same seeds again: the same numbers */
    frost_summary_row again =
        tu_run_cora_gcn(tu_path(tu_cora_dir(), "cora.h5"), tu_path(tu_cora_dir(), "ns2.h5"), sets, 4);
    cr_assert_eq(again.test_mean, row.test_mean);
    cr_assert_eq(again.val_mean, row.val_mean);
    frost_results r1, r2;
    cr_assert_eq(frost_results_load(&r1, tu_path(tu_cora_dir(), "ns.h5")), FROST_OK);
    char p2[1100];
    snprintf(p2, sizeof p2, "%s", tu_path(tu_cora_dir(), "ns2.h5"));
    cr_assert_eq(frost_results_load(&r2, p2), FROST_OK);
    for (int64_t k = 0; k < r1.n; k++) {
        const frost_run_info *y = frost_results_find(&r2, r1.runs[k].id);
        cr_assert_not_null(y);
        cr_assert_str_eq(r1.runs[k].logits_hash, y->logits_hash, "%s", r1.runs[k].id);
    }
    frost_results_release(&r1);
    frost_results_release(&r2);
}

Test(neighbors, a_fanout_per_layer_must_match_the_layers, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    frost_config c;
    frost_config_default(&c);
    char set[1200];
    snprintf(set, sizeof set, "dataset=\"%s\"", tu_path(tu_cora_dir(), "cora.h5"));
    cr_assert_eq(frost_config_set_arg(&c, set), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "model.layers=3"), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "batch.mode=\"neighbor\""), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "batch.fanout=[15, 10]"), FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "batch.fanout has 2 values for a model of 3 layers"), "%s",
              frost_last_error());
    cr_assert_eq(frost_config_set_arg(&c, "batch.fanout=[15, 10, 5]"), FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_config_set_arg(&c, "batch.fanout=[15, 0, 5]"), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "0 is out of range"), "%s", frost_last_error());
}

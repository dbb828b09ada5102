/*
 * test_cluster.c - Cluster-GCN mini-batches on real data (cora):
 *   - with one batch holding every part, an epoch is one full-batch step, so
 *     training follows frost_train's loss curve and metrics exactly, for
 *     GCN, GraphSAGE and GIN with batch norm, weight-trained and as tickets
 *     (dropout off: the masks are drawn per batch row);
 *   - with 8 parts in batches of 2, GCN on cora still reaches the accuracy
 *     band of full-batch training (Kipf & Welling's recipe, 3 seeds).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(cluster, .timeout = 600);

static void one_batch_is_full_batch(const char *tag, const char *model)
{
    char body[1024], a[64], b[64];
    snprintf(body, sizeof body,
             "method = [\"trained\", \"slt\"];\nepochs = 25;\nruns = 1;\nfeatures = { normalize = \"row\"; };\n"
             "model = { %s dropout = 0.0; };\noptim = { name = \"adam\"; lr = 0.01; };\n"
             "slt = { sparsity = 0.5; freeze = 0.4; };\n",
             model);
    snprintf(a, sizeof a, "%s-full.h5", tag);
    snprintf(b, sizeof b, "%s-cluster.h5", tag);
    tu_run_cora_body(body, a, NULL, 0);
    const char *sets[] = {"batch.mode=\"cluster\"", "batch.parts=4", "batch.parts_per_batch=4"};
    tu_run_cora_body(body, b, sets, 3);
    tu_same_histories(a, b, 2, 25, 1e-5, 1e-9, true, tag);
}

Test(cluster, one_batch_gcn_equals_full_batch, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    one_batch_is_full_batch("gcn", "name = \"gcn\"; layers = 2; hidden = 64;");
}

Test(cluster, one_batch_sage_equals_full_batch, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    one_batch_is_full_batch("sage", "name = \"sage\"; layers = 2; hidden = 64;");
}

Test(cluster, one_batch_gin_batchnorm_equals_full_batch, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    one_batch_is_full_batch("gin", "name = \"gin\"; layers = 3; hidden = 64; norm = \"batch\";");
}

Test(cluster, mini_batches_train_cora_gcn, .init = tu_cora_setup, .fini = tu_cora_teardown)
{
    const char *sets[] = {"runs=3", "batch.mode=\"cluster\"", "batch.parts=8", "batch.parts_per_batch=2"};
    frost_summary_row row =
        tu_run_cora_gcn(tu_path(tu_cora_dir(), "cora.h5"), tu_path(tu_cora_dir(), "mb.h5"), sets, 4);
    cr_assert_eq(row.runs, 3);
    /* full batch: 81.7 +- 0.9 over 10 seeds; 4 batches per epoch lose little on cora */
    cr_assert_geq(row.test_mean, 0.78, "Cluster-GCN cora test accuracy %.4f", row.test_mean);
}

/*
 * test_partition.c - METIS partitions (every node placed, balanced, edges
 * mostly inside parts, reproducible) and reordering a dataset by part
 * (features, labels, splits and the graph follow their nodes).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(partition, .timeout = 60);

static void synth(frost_dataset *ds, const char *dir)
{
    frost_synth_opts o = frost_synth_opts_default();
    o.num_nodes = 2000;
    o.num_edges = 8000;
    o.num_features = 4;
    o.num_classes = 4;
    o.homophily = 0.9;
    cr_assert_eq(frost_synth(tu_path(dir, "s.h5"), &o), FROST_OK);
    cr_assert_eq(frost_dataset_load(ds, tu_path(dir, "s.h5")), FROST_OK);
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

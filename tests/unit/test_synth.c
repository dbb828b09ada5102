/*
 * test_synth.c - synthetic graphs: exact sizes, a simple symmetric graph,
 * homophily near the target, the split, and the same file for any thread
 * count.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(synth, .timeout = 120);

static void make(const char *path, int threads, double h, uint64_t seed)
{
    frost_set_threads(threads);
    frost_synth_opts o = tu_synth_opts(3000, 20000, 16, 5);
    o.homophily = h;
    o.seed = seed;
    tu_synth(path, &o);
}

Test(synth, sizes_symmetry_and_split)
{
    char *d = tu_tmpdir();
    const char *p = tu_path(d, "s.h5");
    make(p, 1, 0.8, 1);
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(ds.num_nodes, 3000);
    cr_assert_eq(ds.graph.nnz, 40000, "20000 distinct undirected edges stored both ways");
    cr_assert_eq(ds.edge_list_edges, 20000);
    cr_assert(ds.symmetric);
    cr_assert_eq(frost_csr_count_self_loops(&ds.graph), 0);
    cr_assert_eq(frost_csr_check(&ds.graph, true), FROST_OK, "rows sorted, no duplicates");
    cr_assert_eq(ds.num_features, 16);
    cr_assert_eq(ds.num_classes, 5);
    const frost_split *sp = frost_dataset_split(&ds, "random");
    cr_assert_not_null(sp);
    cr_assert_eq(sp->n_train, 1800);
    cr_assert_eq(sp->n_valid, 600);
    cr_assert_eq(sp->n_test, 600);
    frost_dataset_stats st;
    cr_assert_eq(frost_dataset_stats_compute(&ds, &st), FROST_OK);
    cr_assert(fabs(st.edge_homophily - 0.8) < 0.03, "homophily %g, target 0.8", st.edge_homophily);
    cr_assert_gt(st.deg_max, 5 * st.deg_mean, "heavy tail: max degree %lld, mean %g", (long long)st.deg_max,
                 st.deg_mean);
    /* features carry the class: each class mean has norm = signal (1 here),
     * the overall mean is near 0 */
    for (int32_t c = 0; c < 2; c++) {
        double mean[16] = {0};
        int64_t cnt = 0;
        for (int64_t i = 0; i < ds.num_nodes; i++) {
            if (ds.label[i] != c) continue;
            for (int k = 0; k < 16; k++) mean[k] += (double)ds.feat[i * 16 + k];
            cnt++;
        }
        cr_assert_gt(cnt, 400);
        double nrm = 0;
        for (int k = 0; k < 16; k++) nrm += (mean[k] / (double)cnt) * (mean[k] / (double)cnt);
        cr_assert(fabs(sqrt(nrm) - 1.0) < 0.1, "class %d mean norm %g, expected about 1", c, sqrt(nrm));
    }
    frost_dataset_stats_release(&st);
    frost_dataset_release(&ds);
    tu_rmtree(d);
    free(d);
}

Test(synth, low_homophily)
{
    char *d = tu_tmpdir();
    const char *p = tu_path(d, "s.h5");
    make(p, 1, 0.1, 2);
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_OK);
    frost_dataset_stats st;
    cr_assert_eq(frost_dataset_stats_compute(&ds, &st), FROST_OK);
    cr_assert(fabs(st.edge_homophily - 0.1) < 0.03, "homophily %g, target 0.1", st.edge_homophily);
    frost_dataset_stats_release(&st);
    frost_dataset_release(&ds);
    tu_rmtree(d);
    free(d);
}

Test(synth, same_seed_same_data_for_any_thread_count)
{
    char *d = tu_tmpdir();
    make(tu_path(d, "a.h5"), 1, 0.7, 5);
    make(tu_path(d, "b.h5"), 2, 0.7, 5);
    make(tu_path(d, "c.h5"), 2, 0.7, 6);
    frost_dataset a, b, c;
    cr_assert_eq(frost_dataset_load(&a, tu_path(d, "a.h5")), FROST_OK);
    cr_assert_eq(frost_dataset_load(&b, tu_path(d, "b.h5")), FROST_OK);
    cr_assert_eq(frost_dataset_load(&c, tu_path(d, "c.h5")), FROST_OK);
    cr_assert(memcmp(a.graph.indices, b.graph.indices, (size_t)a.graph.nnz * 4) == 0);
    cr_assert(memcmp(a.feat, b.feat, (size_t)(a.num_nodes * a.num_features) * 4) == 0);
    cr_assert(memcmp(a.label, b.label, (size_t)a.num_nodes * 4) == 0);
    cr_assert(memcmp(a.splits[0].train, b.splits[0].train, (size_t)a.splits[0].n_train * 8) == 0);
    cr_assert(memcmp(a.feat, c.feat, (size_t)(a.num_nodes * a.num_features) * 4) != 0, "another seed differs");
    frost_dataset_release(&a);
    frost_dataset_release(&b);
    frost_dataset_release(&c);
    tu_rmtree(d);
    free(d);
}

Test(synth, bad_parameters)
{
    frost_synth_opts o = frost_synth_opts_default();
    o.homophily = 1.5;
    cr_assert_eq(frost_synth("/tmp/never.h5", &o), FROST_ERR_RANGE);
    cr_assert(strstr(frost_last_error(), "--homophily 1.5, expected 0 .. 1"), "%s", frost_last_error());
    o = frost_synth_opts_default();
    o.num_nodes = 10;
    o.num_edges = 1000;
    cr_assert_eq(frost_synth("/tmp/never.h5", &o), FROST_ERR_RANGE);
    cr_assert_not(tu_exists("/tmp/never.h5"));
}

/* Planted communities: with 4 blocks and 5 % of the edges between them,
 * METIS's 4-way cut is near that fraction; the same graph without blocks is
 * cut far more. Classes and degrees are the same either way (the blocks draw
 * from their own stream), and the per-class homophily still holds. */
static double metis_cut(const char *path, int32_t k)
{
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, path), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_dataset_partition(&ds, k, 0.03, 0, "t"), FROST_OK, "%s", frost_last_error());
    const frost_partitioning *pt = frost_dataset_partitioning(&ds, "t");
    int64_t cut = 0, same = 0;
    for (int64_t i = 0; i < ds.num_nodes; i++)
        for (int64_t e = ds.graph.indptr[i]; e < ds.graph.indptr[i + 1]; e++) {
            cut += pt->part[ds.graph.indices[e]] != pt->part[i];
            same += ds.label[ds.graph.indices[e]] == ds.label[i];
        }
    const double f = (double)cut / (double)ds.graph.nnz, h = (double)same / (double)ds.graph.nnz;
    cr_assert(h > 0.6 && h < 0.8, "homophily %.3f, asked 0.7", h);
    frost_dataset_release(&ds);
    return f;
}

Test(synth, planted_communities_are_found_by_metis)
{
    char *d = tu_tmpdir();
    frost_synth_opts o = frost_synth_opts_default();
    o.num_nodes = 4000, o.num_edges = 20000, o.num_features = 8, o.num_classes = 5;
    cr_assert_eq(frost_synth(tu_path(d, "plain.h5"), &o), FROST_OK, "%s", frost_last_error());
    o.communities = 4, o.mixing = 0.05;
    cr_assert_eq(frost_synth(tu_path(d, "planted.h5"), &o), FROST_OK, "%s", frost_last_error());
    const double plain = metis_cut(tu_path(d, "plain.h5"), 4), planted = metis_cut(tu_path(d, "planted.h5"), 4);
    cr_log_info("4-way METIS cut: %.3f without blocks, %.3f with 4 blocks mixing 0.05", plain, planted);
    cr_assert_lt(planted, 0.08, "planted graph cut %.3f", planted);
    cr_assert_gt(plain, 0.2, "plain graph cut %.3f", plain);
    frost_dataset a, b;
    cr_assert_eq(frost_dataset_load(&a, tu_path(d, "plain.h5")), FROST_OK);
    cr_assert_eq(frost_dataset_load(&b, tu_path(d, "planted.h5")), FROST_OK);
    cr_assert(memcmp(a.label, b.label, (size_t)a.num_nodes * sizeof *a.label) == 0, "classes changed");
    cr_assert(strstr(b.source, "communities=4 mixing=0.05"), "%s", b.source);
    frost_dataset_release(&a);
    frost_dataset_release(&b);
    o.mixing = 1.5;
    cr_assert_eq(frost_synth(tu_path(d, "bad.h5"), &o), FROST_ERR_RANGE);
    tu_rmtree(d);
    free(d);
}

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

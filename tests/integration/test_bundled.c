/*
 * test_bundled.c - import the bundled real datasets and check what the
 * acceptance criteria name: cora's counts and public split, tolokers' edge
 * count with inverse edges, and features equal to the CSV (parsed here with
 * plain strtof, independent of frost's fast parser).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(bundled, .timeout = 300);

Test(bundled, cora)
{
    char *out = tu_tmpdir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/datasets/cora", tu_source_root());
    const char *p = tu_path(out, "cora.h5");
    cr_assert_eq(frost_import_ogb(dir, p, NULL), FROST_OK, "%s", frost_last_error());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(ds.num_nodes, 2708);
    cr_assert_eq(ds.graph.nnz, 10556);
    cr_assert(ds.symmetric);
    cr_assert_eq(ds.num_features, 1433);
    cr_assert_eq(ds.num_classes, 7);
    const frost_split *sp = frost_dataset_split(&ds, "public");
    cr_assert_not_null(sp);
    cr_assert_eq(sp->n_train, 140);
    cr_assert_eq(sp->n_valid, 500);
    cr_assert_eq(sp->n_test, 1000);
    cr_assert_eq(ds.num_splits, 11);

    /* features against an independent parse of the CSV */
    char fp[1100];
    snprintf(fp, sizeof fp, "%s/raw/node-feat.csv.gz", dir);
    gzFile g = gzopen(fp, "rb");
    cr_assert_not_null(g);
    static char line[1 << 16];
    int64_t row = 0, mism = 0;
    while (gzgets(g, line, sizeof line)) {
        char *s = line;
        for (int64_t c = 0; c < 1433; c++) {
            char *e;
            float v = strtof(s, &e);
            mism += v != ds.feat[row * 1433 + c];
            s = e + 1;
        }
        row++;
    }
    gzclose(g);
    cr_assert_eq(row, 2708);
    cr_assert_eq(mism, 0);
    frost_dataset_release(&ds);
    tu_rmtree(out);
    free(out);
}

Test(bundled, tolokers_with_inverse_edges)
{
    char *out = tu_tmpdir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/datasets/tolokers", tu_source_root());
    const char *p = tu_path(out, "t.h5");
    frost_import_opts o = frost_import_opts_default();
    o.add_inverse_edges = true;
    o.metric = FROST_METRIC_ROCAUC;
    cr_assert_eq(frost_import_ogb(dir, p, &o), FROST_OK, "%s", frost_last_error());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_OK);
    cr_assert_eq(ds.num_nodes, 11758);
    cr_assert_eq(ds.graph.nnz, 1038000);
    cr_assert(ds.symmetric);
    cr_assert_eq(ds.task_type, FROST_TASK_BINARY);
    cr_assert_eq(ds.num_tasks, 1);
    cr_assert_eq(ds.metric, FROST_METRIC_ROCAUC);
    cr_assert_eq(ds.num_splits, 10);
    frost_dataset_release(&ds);
    tu_rmtree(out);
    free(out);
}

Test(bundled, directed_sets_keep_their_edges)
{
    const char *names[] = {"chameleon", "squirrel", "actor", "cora-ml"};
    const int64_t edges[] = {36101, 217073, 30019, 8416};
    const int64_t nodes[] = {2277, 5201, 7600, 2995};
    char *out = tu_tmpdir();
    for (int k = 0; k < 4; k++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/datasets/%s", tu_source_root(), names[k]);
        const char *p = tu_path(out, "d.h5");
        cr_assert_eq(frost_import_ogb(dir, p, NULL), FROST_OK, "%s: %s", names[k], frost_last_error());
        frost_dataset ds;
        cr_assert_eq(frost_dataset_load(&ds, p), FROST_OK);
        cr_assert_eq(ds.num_nodes, nodes[k], "%s", names[k]);
        cr_assert_eq(ds.graph.nnz, edges[k], "%s", names[k]);
        cr_assert_not(ds.symmetric, "%s", names[k]);
        frost_dataset_release(&ds);
    }
    tu_rmtree(out);
    free(out);
}

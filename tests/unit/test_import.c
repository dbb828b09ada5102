/*
 * test_import.c - `frost import ogb` on a tiny valid folder, and every kind
 * of bad input: each must fail with one message naming the file, the line or
 * field and what was expected, and leave no output file behind.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(import, .timeout = 60);

static char *dir;
static char *outdir;

static void setup(void)
{
    dir = tu_tmpdir();
    outdir = tu_tmpdir();
    tu_make_ogb(dir);
}

static void teardown(void)
{
    tu_rmtree(dir);
    tu_rmtree(outdir);
    free(dir);
    free(outdir);
}

/* Import must fail with `code` and a message containing every fragment; no
 * output (or temporary) file may remain. */
static void expect_fail(frost_status code, const char *frag1, const char *frag2)
{
    const char *out = tu_path(outdir, "out.h5");
    frost_import_opts o = frost_import_opts_default();
    frost_status st = frost_import_ogb(dir, out, &o);
    const char *msg = frost_last_error();
    cr_assert_eq(st, code, "status %s, message: %s", frost_status_str(st), msg);
    cr_assert(strchr(msg, '\n') == NULL, "message is not one line: %s", msg);
    cr_assert(strstr(msg, frag1), "'%s' not in: %s", frag1, msg);
    if (frag2) cr_assert(strstr(msg, frag2), "'%s' not in: %s", frag2, msg);
    cr_assert_not(tu_any_with_prefix(outdir, "out.h5"), "an output file was left behind");
}

Test(import, valid_folder, .init = setup, .fini = teardown)
{
    const char *out = tu_path(outdir, "out.h5");
    frost_import_opts o = frost_import_opts_default();
    cr_assert_eq(frost_import_ogb(dir, out, &o), FROST_OK, "%s", frost_last_error());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(ds.num_nodes, 5);
    cr_assert_eq(ds.graph.nnz, 6);
    cr_assert_eq(ds.num_features, 3);
    cr_assert_eq(ds.num_classes, 2);
    cr_assert_eq(ds.task_type, FROST_TASK_MULTICLASS);
    cr_assert_eq(ds.metric, FROST_METRIC_ACCURACY);
    cr_assert_not(ds.symmetric);
    cr_assert_eq(ds.feat[9], 0.5f);
    cr_assert_eq(ds.feat[11], -1e-3f);
    cr_assert_eq(ds.feat[12], 100.0f);
    cr_assert_eq(ds.label[3], 1);
    const frost_split *sp = frost_dataset_split(&ds, "s0");
    cr_assert(sp && sp->n_train == 2 && sp->n_valid == 1 && sp->n_test == 2);
    frost_dataset_release(&ds);

    o.add_inverse_edges = true;
    cr_assert_eq(frost_import_ogb(dir, out, &o), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_dataset_load(&ds, out), FROST_OK);
    cr_assert_eq(ds.graph.nnz, 12);
    cr_assert(ds.symmetric && ds.inverse_edges_added);
    frost_dataset_release(&ds);
}

Test(import, plain_csv_multitask_year_and_no_features, .init = setup, .fini = teardown)
{
    /* replace .gz files with plain ones; several label columns; missing labels */
    remove(tu_path(dir, "raw/node-label.csv.gz"));
    remove(tu_path(dir, "raw/node-feat.csv.gz"));
    remove(tu_path(dir, "raw/edge.csv.gz"));
    tu_writef(dir, "raw/edge.csv", "0,1\n1,2\n2,3\n3,4\n0,2\n4,0\n");
    tu_writef(dir, "raw/node-label.csv", "0,1\n1,\n,nan\n1,1\n0,0\n");
    tu_writef(dir, "raw/node_year.csv.gz", "1999\n2000\n2001\n2002\n2003\n");
    const char *out = tu_path(outdir, "out.h5");
    cr_assert_eq(frost_import_ogb(dir, out, NULL), FROST_OK, "%s", frost_last_error());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, out), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(ds.num_tasks, 2);
    cr_assert_eq(ds.task_type, FROST_TASK_BINARY);
    cr_assert_eq(ds.metric, FROST_METRIC_ROCAUC);
    cr_assert_eq(ds.num_features, 0);
    cr_assert_null(ds.feat);
    int32_t want[] = {0, 1, 1, -1, -1, -1, 1, 1, 0, 0};
    cr_assert(memcmp(ds.label, want, sizeof want) == 0);
    cr_assert_eq(ds.year[4], 2003);
    frost_dataset_release(&ds);
}

Test(import, edge_features_follow_the_csr_order, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/edge-feat.csv.gz", "10\n12\n23\n34\n2\n40\n");
    const char *out = tu_path(outdir, "out.h5");
    frost_import_opts o = frost_import_opts_default();
    o.add_inverse_edges = true;
    cr_assert_eq(frost_import_ogb(dir, out, &o), FROST_OK, "%s", frost_last_error());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, out), FROST_OK);
    cr_assert_eq(ds.num_edge_features, 1);
    /* the feature of stored (i, j) is that of the listed edge {i, j} */
    const int want[5][5] = {{0, 10, 2, 0, 40}, {10, 0, 12, 0, 0}, {2, 12, 0, 23, 0}, {0, 0, 23, 0, 34},
                            {40, 0, 0, 34, 0}};
    for (int64_t i = 0; i < 5; i++)
        for (int64_t k = ds.graph.indptr[i]; k < ds.graph.indptr[i + 1]; k++)
            cr_assert_eq((int)ds.edge_feat[k], want[i][ds.graph.indices[k]]);
    frost_dataset_release(&ds);
}

Test(import, truncated_gzip, .init = setup, .fini = teardown)
{
    char *text = malloc(1 << 20);
    size_t k = 0;
    int e = 0;
    for (; k < (1u << 20) - 64; e++) k += (size_t)sprintf(text + k, "%d,%d\n", e % 5, (e + 1) % 5);
    tu_writef(dir, "raw/edge.csv.gz", text);
    char num[32];
    snprintf(num, sizeof num, "%d\n", e);
    tu_writef(dir, "raw/num-edge-list.csv.gz", num);
    const char *p = tu_path(dir, "raw/edge.csv.gz");
    tu_truncate(p, tu_file_size(p) / 2);
    free(text);
    expect_fail(FROST_ERR_FORMAT, "raw/edge.csv.gz: corrupt or truncated gzip data", NULL);
}

Test(import, non_numeric_feature, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-feat.csv.gz", "1,0,0\n0,1,0\n0,zero,1\n0,0,0\n1,1,1\n");
    expect_fail(FROST_ERR_FORMAT, "raw/node-feat.csv.gz:3: column 2: expected a number, found 'zero'", NULL);
}

Test(import, non_numeric_edge, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/edge.csv.gz", "0,1\n1,2\n2,3\n3,x4\n0,2\n4,0\n");
    expect_fail(FROST_ERR_FORMAT, "raw/edge.csv.gz:4: column 2: expected a node id, found 'x4'", NULL);
}

Test(import, wrong_column_count_features, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-feat.csv.gz", "1,0,0\n0,1\n0,0,1\n0,0,0\n1,1,1\n");
    expect_fail(FROST_ERR_FORMAT, "raw/node-feat.csv.gz:2: expected 3 columns, found 2", NULL);
}

Test(import, wrong_column_count_edges, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/edge.csv.gz", "0,1\n1,2,7\n2,3\n3,4\n0,2\n4,0\n");
    expect_fail(FROST_ERR_FORMAT, "raw/edge.csv.gz:2: expected 2 columns (src,dst), found 3", NULL);
}

Test(import, wrong_column_count_labels, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-label.csv.gz", "0\n1\n0,1\n1\n1\n");
    expect_fail(FROST_ERR_FORMAT, "raw/node-label.csv.gz:3: expected 1 columns, found 2", NULL);
}

Test(import, node_id_out_of_range, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/edge.csv.gz", "0,1\n1,2\n2,5\n3,4\n0,2\n4,0\n");
    expect_fail(FROST_ERR_RANGE, "raw/edge.csv.gz:3: node id 5 out of range, expected 0 .. 4", NULL);
}

Test(import, negative_node_id, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/edge.csv.gz", "0,1\n-1,2\n2,3\n3,4\n0,2\n4,0\n");
    expect_fail(FROST_ERR_RANGE, "raw/edge.csv.gz:2: node id -1 out of range", NULL);
}

Test(import, fewer_edges_than_num_edge_list, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/num-edge-list.csv.gz", "7\n");
    expect_fail(FROST_ERR_FORMAT, "raw/edge.csv.gz: 6 edges, but", "num-edge-list.csv.gz gives 7");
}

Test(import, more_edges_than_num_edge_list, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/num-edge-list.csv.gz", "5\n");
    expect_fail(FROST_ERR_FORMAT, "raw/edge.csv.gz:6: more edges than the 5 that", NULL);
}

Test(import, labels_disagree_with_num_node_list, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-label.csv.gz", "0\n1\n0\n1\n");
    expect_fail(FROST_ERR_FORMAT, "raw/node-label.csv.gz: 4 label rows, but num-node-list gives 5 nodes", NULL);
}

Test(import, features_disagree_with_num_node_list, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-feat.csv.gz", "1,0,0\n0,1,0\n0,0,1\n0,0,0\n1,1,1\n2,2,2\n");
    expect_fail(FROST_ERR_FORMAT, "raw/node-feat.csv.gz:6: more feature rows than the 5 nodes", NULL);
}

Test(import, split_id_out_of_range, .init = setup, .fini = teardown)
{
    tu_writef(dir, "split/s0/valid.csv.gz", "2\n9\n");
    expect_fail(FROST_ERR_RANGE, "split/s0/valid.csv.gz: row 2: node id 9 out of range, expected 0 .. 4", NULL);
}

Test(import, split_id_repeated, .init = setup, .fini = teardown)
{
    tu_writef(dir, "split/s0/train.csv.gz", "0\n1\n0\n");
    expect_fail(FROST_ERR_FORMAT, "split 's0' train entry 3: node 0 is repeated (already in train)", NULL);
}

Test(import, split_id_in_two_parts, .init = setup, .fini = teardown)
{
    tu_writef(dir, "split/s0/test.csv.gz", "3\n1\n");
    expect_fail(FROST_ERR_FORMAT, "split 's0' test entry 2: node 1 is repeated (already in train)", NULL);
}

Test(import, empty_file, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/num-node-list.csv.gz", "");
    expect_fail(FROST_ERR_FORMAT, "raw/num-node-list.csv.gz: empty file, expected one line with the number of nodes",
                NULL);
}

Test(import, empty_features, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-feat.csv.gz", "");
    expect_fail(FROST_ERR_FORMAT, "raw/node-feat.csv.gz: empty file, expected 5 feature rows", NULL);
}

Test(import, missing_file, .init = setup, .fini = teardown)
{
    remove(tu_path(dir, "raw/edge.csv.gz"));
    expect_fail(FROST_ERR_IO, "raw/edge.csv.gz: missing (also tried edge.csv)", NULL);
}

Test(import, missing_folder, .init = setup, .fini = teardown)
{
    tu_rmtree(dir);
    expect_fail(FROST_ERR_IO, ": no such folder", NULL);
}

Test(import, non_numeric_count, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/num-node-list.csv.gz", "five\n");
    expect_fail(FROST_ERR_FORMAT, "raw/num-node-list.csv.gz:1: expected the number of nodes, found 'five'", NULL);
}

Test(import, bad_label, .init = setup, .fini = teardown)
{
    tu_writef(dir, "raw/node-label.csv.gz", "0\n1\n0.5\n1\n1\n");
    expect_fail(FROST_ERR_FORMAT, "raw/node-label.csv.gz:3: column 1: expected an integer label", NULL);
}

Test(import, existing_output_survives_a_failed_import, .init = setup, .fini = teardown)
{
    const char *out = tu_path(outdir, "out.h5");
    cr_assert_eq(frost_import_ogb(dir, out, NULL), FROST_OK);
    long size = tu_file_size(out);
    tu_writef(dir, "raw/node-feat.csv.gz", "1,0,0\n0,1,0\n0,0,1\n0,0,0\n1,1\n");
    cr_assert_eq(frost_import_ogb(dir, out, NULL), FROST_ERR_FORMAT);
    cr_assert_eq(tu_file_size(out), size);
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, out), FROST_OK, "the old file must still load");
    frost_dataset_release(&ds);
    cr_assert_not(tu_any_with_prefix(outdir, "out.h5.tmp"));
}

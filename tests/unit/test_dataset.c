/*
 * test_dataset.c - the dataset file: save/load round trip, atomic writes,
 * refusal of files of another format or version, and the statistics.
 */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(dataset, .timeout = 60);

/* 4 nodes, binary multi-task labels (T = 2), features, year, edge features. */
static void make_ds(frost_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "tiny");
    snprintf(ds->source, sizeof ds->source, "hand-made");
    ds->num_nodes = 4;
    ds->num_features = 2;
    ds->num_classes = 2;
    ds->num_tasks = 2;
    ds->task_type = FROST_TASK_BINARY;
    ds->metric = FROST_METRIC_ROCAUC;
    int32_t s[] = {0, 1, 2, 3}, d[] = {1, 2, 3, 0};
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = true;
    cr_assert_eq(frost_csr_from_edges(&ds->graph, 4, 4, s, d, &o, NULL), FROST_OK);
    ds->symmetric = true;
    ds->inverse_edges_added = true;
    ds->deduplicated = true;
    ds->edge_list_edges = 4;
    ds->feat = malloc(8 * sizeof(float));
    for (int k = 0; k < 8; k++) ds->feat[k] = 0.5f * (float)k - 1.0f;
    ds->num_edge_features = 1;
    ds->edge_feat = malloc((size_t)ds->graph.nnz * sizeof(float));
    for (int64_t k = 0; k < ds->graph.nnz; k++) ds->edge_feat[k] = (float)k;
    ds->label = malloc(8 * sizeof(int32_t));
    int32_t lab[] = {0, 1, 1, -1, -1, 0, 1, 1};
    memcpy(ds->label, lab, sizeof lab);
    ds->year = malloc(4 * sizeof(int32_t));
    for (int k = 0; k < 4; k++) ds->year[k] = 2000 + k;
    ds->num_splits = 1;
    ds->splits = calloc(1, sizeof *ds->splits);
    frost_split *sp = &ds->splits[0];
    snprintf(sp->name, sizeof sp->name, "a");
    sp->n_train = 2;
    sp->n_valid = 1;
    sp->n_test = 1;
    sp->train = malloc(16);
    sp->valid = malloc(8);
    sp->test = malloc(8);
    sp->train[0] = 0;
    sp->train[1] = 3;
    sp->valid[0] = 1;
    sp->test[0] = 2;
}

Test(dataset, save_load_round_trip)
{
    char *d = tu_tmpdir();
    frost_dataset a, b;
    make_ds(&a);
    const char *p = tu_path(d, "t.h5");
    cr_assert_eq(frost_dataset_save(&a, p, 1), FROST_OK, "%s", frost_last_error());
    cr_assert_not(tu_any_with_prefix(d, "t.h5.tmp"));
    cr_assert_eq(frost_dataset_load(&b, p), FROST_OK, "%s", frost_last_error());
    cr_assert_str_eq(b.name, "tiny");
    cr_assert_str_eq(b.source, "hand-made");
    cr_assert_eq(b.num_nodes, 4);
    cr_assert_eq(b.num_tasks, 2);
    cr_assert_eq(b.task_type, FROST_TASK_BINARY);
    cr_assert_eq(b.metric, FROST_METRIC_ROCAUC);
    cr_assert_eq(b.graph.nnz, a.graph.nnz);
    cr_assert(memcmp(b.graph.indptr, a.graph.indptr, 5 * 8) == 0);
    cr_assert(memcmp(b.graph.indices, a.graph.indices, (size_t)a.graph.nnz * 4) == 0);
    cr_assert(b.symmetric && b.inverse_edges_added && b.deduplicated);
    cr_assert(memcmp(b.feat, a.feat, 8 * 4) == 0);
    cr_assert(memcmp(b.label, a.label, 8 * 4) == 0);
    cr_assert(memcmp(b.year, a.year, 4 * 4) == 0);
    cr_assert_eq(b.num_edge_features, 1);
    cr_assert(memcmp(b.edge_feat, a.edge_feat, (size_t)a.graph.nnz * 4) == 0);
    cr_assert_eq(b.num_splits, 1);
    const frost_split *sp = frost_dataset_split(&b, "a");
    cr_assert_not_null(sp);
    cr_assert(sp->n_train == 2 && sp->train[1] == 3 && sp->valid[0] == 1 && sp->test[0] == 2);
    cr_assert_null(frost_dataset_split(&b, "nope"));
    cr_assert_eq(frost_dataset_check(&b), FROST_OK);
    frost_dataset_release(&a);
    frost_dataset_release(&b);
    tu_rmtree(d);
    free(d);
}

Test(dataset, save_into_missing_folder_leaves_nothing)
{
    frost_dataset a;
    make_ds(&a);
    cr_assert_eq(frost_dataset_save(&a, "/nonexistent-frost-dir/t.h5", 1), FROST_ERR_IO);
    /* the file asked for and the system's reason */
    cr_assert(strstr(frost_last_error(), "/nonexistent-frost-dir/t.h5: cannot create: No such file or directory"), "%s",
              frost_last_error());
    frost_dataset_release(&a);
}

static void write_h5(const char *path, const char *format, int64_t version, bool with_graph)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate(H5S_SCALAR);
    if (format) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, strlen(format) + 1);
        hid_t a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, format);
        H5Aclose(a);
        H5Tclose(t);
    }
    hid_t a = H5Acreate2(f, "version", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &version);
    H5Aclose(a);
    (void)with_graph;
    H5Sclose(sp);
    H5Fclose(f);
}

Test(dataset, refuses_other_formats_and_versions)
{
    char *d = tu_tmpdir();
    frost_dataset ds;
    const char *p = tu_path(d, "x.h5");

    tu_write(p, "this is not HDF5\n");
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "x.h5: not an HDF5 file"), "%s", frost_last_error());

    write_h5(p, NULL, 1, false);
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "x.h5: attribute 'format' missing"), "%s", frost_last_error());

    write_h5(p, "frost.results", 1, false);
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "attribute 'format' is \"frost.results\", expected \"frost.dataset\""), "%s",
              frost_last_error());

    write_h5(p, "frost.dataset", 99, false);
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "attribute 'version' is 99"), "%s", frost_last_error());

    write_h5(p, "frost.dataset", 1, false); /* right header, no content */
    cr_assert_lt(frost_dataset_load(&ds, p), 0);
    cr_assert(strstr(frost_last_error(), "x.h5: attribute 'name' missing"), "%s", frost_last_error());

    /* a variable-length string (h5py's default for str attributes) is refused
     * by name: HDF5 1.10 reads those from its global heap without bounds checks */
    {
        hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        const char *v = "frost.dataset";
        hid_t a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, &v);
        H5Aclose(a);
        H5Tclose(t);
        H5Sclose(sp);
        H5Fclose(f);
    }
    cr_assert_eq(frost_dataset_load(&ds, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "x.h5: attribute 'format' is a variable-length string"), "%s",
              frost_last_error());

    cr_assert_eq(frost_dataset_load(&ds, tu_path(d, "missing.h5")), FROST_ERR_IO);
    cr_assert(strstr(frost_last_error(), "missing.h5: cannot open"), "%s", frost_last_error());
    tu_rmtree(d);
    free(d);
}

/* Overwrite one element of an int64 or int32 dataset in a file. */
static void poke(const char *path, const char *name, hid_t type, int64_t index, const void *value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    hid_t fs = H5Dget_space(d);
    hsize_t off[2] = {(hsize_t)index, 0}, one[2] = {1, 1};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, one, NULL); /* row `index`, first column if 2-D */
    hid_t ms = H5Screate_simple(1, one, NULL);
    cr_assert_geq(H5Dwrite(d, type, ms, fs, H5P_DEFAULT, value), 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
}

Test(dataset, corrupt_files_are_refused)
{
    char *d = tu_tmpdir();
    frost_dataset a, b;
    make_ds(&a);
    const char *p = tu_path(d, "c.h5");
    cr_assert_eq(frost_dataset_save(&a, p, 0), FROST_OK, "%s", frost_last_error());
    int64_t bad = 100; /* beyond nnz */
    poke(p, "graph/indptr", H5T_NATIVE_INT64, 2, &bad);
    cr_assert_eq(frost_dataset_load(&b, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "c.h5: /graph: indptr[2] = 100"), "%s", frost_last_error());
    cr_assert_eq(frost_dataset_save(&a, p, 0), FROST_OK);
    int32_t lab = 5; /* not 0/1 */
    poke(p, "node/label", H5T_NATIVE_INT32, 0, &lab);
    cr_assert_eq(frost_dataset_load(&b, p), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "/node/label of node 0 is 5"), "%s", frost_last_error());
    /* an invalid dataset in memory is not written at all */
    a.graph.indptr[2] = 100;
    cr_assert_lt(frost_dataset_save(&a, tu_path(d, "never.h5"), 0), 0);
    cr_assert(strstr(frost_last_error(), "never.h5: refusing to write an invalid dataset"), "%s", frost_last_error());
    cr_assert_not(tu_any_with_prefix(d, "never.h5"));
    a.graph.indptr[2] = 4;
    frost_dataset_release(&a);
    tu_rmtree(d);
    free(d);
}

Test(dataset, statistics_by_hand)
{
    /* path 0-1-2 plus 3 isolated, stored both ways; labels 0,0,1,1 */
    frost_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.num_nodes = 4;
    ds.num_classes = 2;
    ds.num_tasks = 1;
    int32_t s[] = {0, 1}, d[] = {1, 2};
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = true;
    cr_assert_eq(frost_csr_from_edges(&ds.graph, 4, 2, s, d, &o, NULL), FROST_OK);
    ds.symmetric = true;
    ds.label = malloc(16);
    int32_t lab[] = {0, 0, 1, 1};
    memcpy(ds.label, lab, 16);
    ds.num_features = 2;
    ds.feat = calloc(8, sizeof(float));
    ds.feat[1] = 1.0f;
    ds.feat[6] = 2.0f;
    frost_dataset_stats st;
    cr_assert_eq(frost_dataset_stats_compute(&ds, &st), FROST_OK);
    cr_assert_eq(st.stored_edges, 4);
    cr_assert_eq(st.isolated, 1);
    cr_assert_eq(st.deg_min, 0);
    cr_assert_eq(st.deg_max, 2);
    cr_assert_eq(st.deg_median, 1); /* sorted 0,1,1,2 -> element 2 */
    cr_assert_float_eq(st.deg_mean, 1.0, 1e-12);
    cr_assert_float_eq(st.feature_density, 0.25, 1e-12);
    cr_assert_eq(st.class_counts[0], 2);
    cr_assert_eq(st.class_counts[1], 2);
    /* edges 0-1 (same), 1-2 (different), both directions: 2 of 4 */
    cr_assert_float_eq(st.edge_homophily, 0.5, 1e-12);
    cr_assert_eq(st.homophily_edges, 4);
    frost_dataset_stats_release(&st);
    frost_dataset_release(&ds);
}

/* A file libFuzzer made from a valid one (tests/data/damaged-chunk.h5): its
 * deflated /node/feat chunk inflates short. HDF5 1.10's own H5Dread copied a
 * full chunk from it (a heap overflow under AddressSanitizer); frost inflates
 * chunks itself and refuses this one, naming the dataset. */
Test(dataset, damaged_compressed_chunk_is_refused_not_read_past)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/damaged-chunk.h5", tu_source_root());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, path), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "dataset 'node/feat' has a damaged chunk"), "%s", frost_last_error());
}

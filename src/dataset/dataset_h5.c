/*
 * dataset_h5.c - the dataset file (format "frost.dataset", version 1).
 *
 * Layout (datasets/README.md documents it for users):
 *   /                attrs format, version, name, source, created_by,
 *                    num_nodes, num_edges, num_features, num_classes,
 *                    num_tasks, task_type, metric
 *   /graph/indptr    int64 (N+1)   row i = targets j of stored edges i -> j
 *   /graph/indices   int32 (nnz)
 *   /graph           attrs direction, symmetric, inverse_edges_added,
 *                    deduplicated, self_loops, num_self_loops, edge_list_edges
 *   /graph/edge_feat float32 (nnz, Fe), optional, aligned with indices
 *   /node/feat       float32 (N, F), absent when F = 0
 *   /node/label      int32 (N) or (N, T); -1 = unlabelled
 *   /node/year       int32 (N), optional
 *   /split/NAME/{train,valid,test}  int64 node ids
 */
#include "dataset/dataset_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *frost_task_name(frost_task t) { return t == FROST_TASK_BINARY ? "binary" : "multiclass"; }
const char *frost_metric_name(frost_metric m) { return m == FROST_METRIC_ROCAUC ? "rocauc" : "accuracy"; }

const char *frost__self_loops_name(frost_self_loops s)
{
    switch (s) {
    case FROST_SELF_LOOPS_DROP: return "drop";
    case FROST_SELF_LOOPS_ADD: return "add";
    default: return "keep";
    }
}

void frost__split_release(frost_split *sp)
{
    free(sp->train);
    free(sp->valid);
    free(sp->test);
    sp->train = sp->valid = sp->test = NULL;
}

void frost_dataset_release(frost_dataset *ds)
{
    if (!ds) return;
    frost_csr_release(&ds->graph);
    free(ds->feat);
    free(ds->edge_feat);
    free(ds->label);
    free(ds->year);
    for (int32_t s = 0; s < ds->num_splits; s++) frost__split_release(&ds->splits[s]);
    free(ds->splits);
    for (int32_t k = 0; k < ds->num_partitions; k++) free(ds->partitions[k].part);
    free(ds->partitions);
    free(ds->original_id);
    free(ds->class_names);
    memset(ds, 0, sizeof *ds);
}

const frost_split *frost_dataset_split(const frost_dataset *ds, const char *name)
{
    for (int32_t s = 0; s < ds->num_splits; s++)
        if (strcmp(ds->splits[s].name, name) == 0) return &ds->splits[s];
    return NULL;
}

frost_status frost__split_check(const frost_split *sp, int64_t n, const char *ctx)
{
    uint8_t *seen = calloc((size_t)(n > 0 ? n : 1), 1);
    if (!seen) return frost__error(FROST_ERR_NOMEM, "out of memory");
    const char *part_name[3] = {"train", "valid", "test"};
    const int64_t *part[3] = {sp->train, sp->valid, sp->test};
    const int64_t cnt[3] = {sp->n_train, sp->n_valid, sp->n_test};
    frost_status st = FROST_OK;
    for (int p = 0; p < 3 && st == FROST_OK; p++) {
        for (int64_t k = 0; k < cnt[p]; k++) {
            int64_t v = part[p][k];
            if (v < 0 || v >= n) {
                st = frost__error(FROST_ERR_RANGE,
                                  "%s: split '%s' %s entry %lld is node %lld, expected 0 .. %lld",
                                  ctx, sp->name, part_name[p], (long long)k + 1, (long long)v,
                                  (long long)n - 1);
                break;
            }
            if (seen[v]) {
                st = frost__error(FROST_ERR_FORMAT,
                                  "%s: split '%s' %s entry %lld: node %lld is repeated (already in %s)",
                                  ctx, sp->name, part_name[p], (long long)k + 1, (long long)v,
                                  part_name[seen[v] - 1]);
                break;
            }
            seen[v] = (uint8_t)(p + 1);
        }
    }
    free(seen);
    return st;
}

frost_status frost_dataset_check(const frost_dataset *ds)
{
    frost_status st = frost_csr_check(&ds->graph, false);
    if (st < 0) return st;
    if (ds->graph.n_rows != ds->num_nodes || ds->graph.n_cols != ds->num_nodes)
        return frost__error(FROST_ERR_SHAPE, "graph is %lld x %lld, expected %lld nodes",
                            (long long)ds->graph.n_rows, (long long)ds->graph.n_cols,
                            (long long)ds->num_nodes);
    int64_t nl = ds->num_nodes * ds->num_tasks;
    int32_t hi = ds->task_type == FROST_TASK_BINARY ? 2 : ds->num_classes;
    for (int64_t k = 0; k < nl; k++)
        if (ds->label[k] < -1 || ds->label[k] >= hi)
            return frost__error(FROST_ERR_RANGE, "label of node %lld is %d, expected -1 .. %d",
                                (long long)(k / ds->num_tasks), ds->label[k], hi - 1);
    for (int32_t s = 0; s < ds->num_splits; s++) {
        st = frost__split_check(&ds->splits[s], ds->num_nodes, ds->name);
        if (st < 0) return st;
    }
    return FROST_OK;
}

/* ---- writing ------------------------------------------------------------ */

frost_status frost__dataset_write_meta(hid_t file, const frost_dataset *ds, int level, const char *ctx)
{
    frost_status st = FROST_OK;
    hid_t g = H5I_INVALID_HID, s = H5I_INVALID_HID;
    char created[64];
    snprintf(created, sizeof created, "frost %s", frost_version());
    FROST_TRY(frost__h5_attr_str(file, "format", FROST_DATASET_FORMAT, ctx));
    FROST_TRY(frost__h5_attr_i64(file, "version", FROST_DATASET_VERSION, ctx));
    FROST_TRY(frost__h5_attr_str(file, "name", ds->name, ctx));
    FROST_TRY(frost__h5_attr_str(file, "source", ds->source, ctx));
    FROST_TRY(frost__h5_attr_str(file, "created_by", created, ctx));
    FROST_TRY(frost__h5_attr_i64(file, "num_nodes", ds->num_nodes, ctx));
    FROST_TRY(frost__h5_attr_i64(file, "num_edges", ds->graph.nnz, ctx));
    FROST_TRY(frost__h5_attr_i64(file, "num_features", ds->num_features, ctx));
    FROST_TRY(frost__h5_attr_i64(file, "num_classes", ds->num_classes, ctx));
    FROST_TRY(frost__h5_attr_i64(file, "num_tasks", ds->num_tasks, ctx));
    FROST_TRY(frost__h5_attr_str(file, "task_type", frost_task_name(ds->task_type), ctx));
    FROST_TRY(frost__h5_attr_str(file, "metric", frost_metric_name(ds->metric), ctx));
    if (ds->class_names) FROST_TRY(frost__h5_attr_strfix(file, "class_names", ds->class_names, ctx));

    g = frost__h5_group(file, "graph");
    if (g < 0) FROST_FAILED(frost__h5_fail(ctx, "cannot create group /graph"));
    int64_t d1 = ds->num_nodes + 1;
    FROST_TRY(frost__h5_write(g, "indptr", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &d1, ds->graph.indptr,
                              level, ctx));
    int64_t dn = ds->graph.nnz;
    FROST_TRY(frost__h5_write(g, "indices", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dn,
                              ds->graph.indices, level, ctx));
    FROST_TRY(frost__h5_attr_str(g, "direction", "row i lists the targets j of the stored edges i -> j",
                                 ctx));
    FROST_TRY(frost__h5_attr_i64(g, "symmetric", ds->symmetric, ctx));
    FROST_TRY(frost__h5_attr_i64(g, "inverse_edges_added", ds->inverse_edges_added, ctx));
    FROST_TRY(frost__h5_attr_i64(g, "deduplicated", ds->deduplicated, ctx));
    FROST_TRY(frost__h5_attr_str(g, "self_loops", frost__self_loops_name(ds->self_loops), ctx));
    FROST_TRY(frost__h5_attr_i64(g, "num_self_loops", frost_csr_count_self_loops(&ds->graph), ctx));
    FROST_TRY(frost__h5_attr_i64(g, "edge_list_edges", ds->edge_list_edges, ctx));
    if (ds->num_edge_features > 0 && ds->edge_feat) {
        int64_t de[2] = {ds->graph.nnz, ds->num_edge_features};
        FROST_TRY(frost__h5_write(g, "edge_feat", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, de,
                                  ds->edge_feat, level, ctx));
    }
    H5Gclose(g);
    g = H5I_INVALID_HID;

    int64_t dl[2] = {ds->num_nodes, ds->num_tasks};
    FROST_TRY(frost__h5_write(file, "node/label", H5T_NATIVE_INT32, H5T_STD_I32LE,
                              ds->num_tasks == 1 ? 1 : 2, dl, ds->label, level, ctx));
    if (ds->year) {
        int64_t dy = ds->num_nodes;
        FROST_TRY(frost__h5_write(file, "node/year", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dy, ds->year,
                                  level, ctx));
    }
    for (int32_t k = 0; k < ds->num_splits; k++) {
        const frost_split *sp = &ds->splits[k];
        char path[128];
        snprintf(path, sizeof path, "split/%s", sp->name);
        s = frost__h5_group(file, path);
        if (s < 0) FROST_FAILED(frost__h5_fail(ctx, "cannot create group /%s", path));
        FROST_TRY(frost__h5_write(s, "train", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &sp->n_train,
                                  sp->train, level, ctx));
        FROST_TRY(frost__h5_write(s, "valid", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &sp->n_valid,
                                  sp->valid, level, ctx));
        FROST_TRY(frost__h5_write(s, "test", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &sp->n_test,
                                  sp->test, level, ctx));
        H5Gclose(s);
        s = H5I_INVALID_HID;
    }
    for (int32_t k = 0; k < ds->num_partitions; k++) {
        char path[128];
        snprintf(path, sizeof path, "partition/%s", ds->partitions[k].name);
        FROST_TRY(frost__h5_write(file, path, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &ds->num_nodes, ds->partitions[k].part,
                                  level, ctx));
        hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
        if (d < 0) FROST_FAILED(frost__h5_fail(ctx, "cannot reopen /%s", path));
        st = frost__h5_attr_i64(d, "k", ds->partitions[k].k, ctx);
        H5Dclose(d);
        if (st < 0) goto fail;
    }
    if (ds->original_id) {
        FROST_TRY(frost__h5_write(file, "node/original_id", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &ds->num_nodes,
                                  ds->original_id, level, ctx));
    }
    if (ds->num_splits == 0) {
        /* Keep /split present so readers can always list it. */
        s = frost__h5_group(file, "split");
        if (s >= 0) H5Gclose(s);
        s = H5I_INVALID_HID;
    }
    return FROST_OK;
fail:
    if (g >= 0) H5Gclose(g);
    if (s >= 0) H5Gclose(s);
    return st;
}

frost_status frost_dataset_save(const frost_dataset *ds, const char *path, int compression)
{
    frost_status st = FROST_OK;
    frost__h5_out out;
    /* never write a file that would not load back */
    if ((st = frost_dataset_check(ds)) < 0) {
        frost__error_prefix("%s: refusing to write an invalid dataset", path);
        return st;
    }
    FROST_TRY(frost__h5_out_create(&out, path));
    FROST_TRY(frost__dataset_write_meta(out.file, ds, compression, path));
    if (ds->num_features > 0) {
        int64_t df[2] = {ds->num_nodes, ds->num_features};
        FROST_TRY(frost__h5_write(out.file, "node/feat", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, df,
                                  ds->feat, compression, path));
    }
    return frost__h5_out_commit(&out);
fail:
    frost__h5_out_abort(&out);
    return st;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct split_names {
    int32_t n, cap;
    char (*names)[64];
} split_names;

/* Names of the members of a group, in name order (H5Gget_info and
 * H5Lget_name_by_idx work the same on HDF5 1.10 and later). */
static frost_status list_group(hid_t g, split_names *sn, const char *ctx)
{
    H5G_info_t info;
    if (H5Gget_info(g, &info) < 0) return frost__h5_fail(ctx, "cannot list a group");
    if (info.nlinks > 100000) return frost__error(FROST_ERR_FORMAT, "%s: too many splits", ctx);
    sn->names = calloc(info.nlinks ? info.nlinks : 1, sizeof *sn->names);
    if (!sn->names) return frost__error(FROST_ERR_NOMEM, "out of memory");
    sn->cap = (int32_t)info.nlinks;
    for (hsize_t k = 0; k < info.nlinks; k++) {
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, NULL, 0, H5P_DEFAULT);
        if (len < 0) return frost__h5_fail(ctx, "cannot list a group");
        if (len >= 64) return frost__error(FROST_ERR_FORMAT, "%s: split name longer than 63 characters", ctx);
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, sn->names[sn->n], 64, H5P_DEFAULT);
        sn->n++;
    }
    return FROST_OK;
}

static frost_status read_task_attrs(hid_t f, frost_dataset *ds, const char *path)
{
    char buf[64];
    frost_status st = frost__h5_read_attr_strbuf(f, "task_type", buf, sizeof buf, path);
    if (st < 0) return st;
    if (strcmp(buf, "multiclass") == 0) ds->task_type = FROST_TASK_MULTICLASS;
    else if (strcmp(buf, "binary") == 0) ds->task_type = FROST_TASK_BINARY;
    else
        return frost__error(FROST_ERR_FORMAT,
                            "%s: attribute 'task_type' is \"%s\", expected \"multiclass\" or \"binary\"",
                            path, buf);
    st = frost__h5_read_attr_strbuf(f, "metric", buf, sizeof buf, path);
    if (st < 0) return st;
    if (strcmp(buf, "accuracy") == 0) ds->metric = FROST_METRIC_ACCURACY;
    else if (strcmp(buf, "rocauc") == 0) ds->metric = FROST_METRIC_ROCAUC;
    else
        return frost__error(FROST_ERR_FORMAT,
                            "%s: attribute 'metric' is \"%s\", expected \"accuracy\" or \"rocauc\"",
                            path, buf);
    return FROST_OK;
}

/* bulk false: the attributes, splits and partition names only (no graph,
 * node arrays or partition arrays): frost__dataset_load_meta. */
static frost_status dataset_load(frost_dataset *ds, const char *path, bool bulk)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID, g = H5I_INVALID_HID;
    split_names sn = {0, 0, NULL};
    int64_t v, dims[2];
    memset(ds, 0, sizeof *ds);
    FROST_TRY(frost__h5_open_read(&f, path, FROST_DATASET_FORMAT, FROST_DATASET_VERSION, NULL));

    FROST_TRY(frost__h5_read_attr_strbuf(f, "name", ds->name, sizeof ds->name, path));
    if (frost__h5_has_attr(f, "source"))
        FROST_TRY(frost__h5_read_attr_strbuf(f, "source", ds->source, sizeof ds->source, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "num_nodes", &ds->num_nodes, path));
    if (ds->num_nodes < 0 || ds->num_nodes > INT32_MAX)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: attribute 'num_nodes' is %lld, expected 0 .. %d", path,
                   (long long)ds->num_nodes, INT32_MAX);
    FROST_TRY(frost__h5_read_attr_i64(f, "num_features", &ds->num_features, path));
    if (ds->num_features < 0 || ds->num_features > (1 << 24))
        FROST_FAIL(FROST_ERR_FORMAT, "%s: attribute 'num_features' is %lld, expected 0 .. %d", path,
                   (long long)ds->num_features, 1 << 24);
    FROST_TRY(frost__h5_read_attr_i64(f, "num_classes", &v, path));
    if (v < 1 || v > (1 << 20))
        FROST_FAIL(FROST_ERR_FORMAT, "%s: attribute 'num_classes' is %lld, expected 1 .. %d", path,
                   (long long)v, 1 << 20);
    ds->num_classes = (int32_t)v;
    FROST_TRY(frost__h5_read_attr_i64(f, "num_tasks", &v, path));
    if (v < 1 || v > 4096)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: attribute 'num_tasks' is %lld, expected 1 .. 4096", path,
                   (long long)v);
    ds->num_tasks = (int32_t)v;
    FROST_TRY(read_task_attrs(f, ds, path));
    if (frost__h5_has_attr(f, "class_names")) FROST_TRY(frost__h5_read_attr_str(f, "class_names", &ds->class_names, path));
    if (ds->task_type == FROST_TASK_MULTICLASS && ds->num_tasks != 1)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: multiclass dataset with %d label columns, expected 1", path,
                   ds->num_tasks);

    /* graph */
    const int64_t n = ds->num_nodes;
    if (!frost__h5_exists(f, "graph"))
        FROST_FAIL(FROST_ERR_FORMAT, "%s: group /graph missing", path);
    g = H5Gopen2(f, "graph", H5P_DEFAULT);
    if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /graph"));
    ds->graph.n_rows = ds->graph.n_cols = n;
    if (!bulk) {
        int64_t flag = 0;
        if (frost__h5_has_attr(g, "symmetric")) FROST_TRY(frost__h5_read_attr_i64(g, "symmetric", &flag, path));
        ds->symmetric = flag != 0; /* unrecorded: not known without the graph, taken as not symmetric */
        H5Gclose(g);
        g = H5I_INVALID_HID;
        goto splits;
    }
    FROST_TRY(frost__h5_read(g, "indptr", H5T_NATIVE_INT64, 1, dims, (void **)&ds->graph.indptr, path));
    if (dims[0] != n + 1)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: /graph/indptr has %lld entries, expected num_nodes + 1 = %lld",
                   path, (long long)dims[0], (long long)n + 1);
    FROST_TRY(frost__h5_read(g, "indices", H5T_NATIVE_INT32, 1, dims, (void **)&ds->graph.indices, path));
    ds->graph.nnz = dims[0];
    st = frost_csr_check(&ds->graph, false);
    if (st < 0) {
        frost__error_prefix("%s: /graph", path);
        goto fail;
    }
    int64_t flag = 0;
    if (frost__h5_has_attr(g, "symmetric")) {
        FROST_TRY(frost__h5_read_attr_i64(g, "symmetric", &flag, path));
        ds->symmetric = flag != 0;
    } else {
        FROST_TRY(frost_csr_is_symmetric(&ds->graph, &ds->symmetric));
    }
    if (frost__h5_has_attr(g, "inverse_edges_added")) {
        FROST_TRY(frost__h5_read_attr_i64(g, "inverse_edges_added", &flag, path));
        ds->inverse_edges_added = flag != 0;
    }
    if (frost__h5_has_attr(g, "deduplicated")) {
        FROST_TRY(frost__h5_read_attr_i64(g, "deduplicated", &flag, path));
        ds->deduplicated = flag != 0;
    }
    if (frost__h5_has_attr(g, "edge_list_edges"))
        FROST_TRY(frost__h5_read_attr_i64(g, "edge_list_edges", &ds->edge_list_edges, path));
    if (frost__h5_has_attr(g, "self_loops")) {
        char sl[32];
        FROST_TRY(frost__h5_read_attr_strbuf(g, "self_loops", sl, sizeof sl, path));
        ds->self_loops = strcmp(sl, "drop") == 0  ? FROST_SELF_LOOPS_DROP
                         : strcmp(sl, "add") == 0 ? FROST_SELF_LOOPS_ADD
                                                  : FROST_SELF_LOOPS_KEEP;
    }
    if (frost__h5_exists(g, "edge_feat")) {
        FROST_TRY(frost__h5_read(g, "edge_feat", H5T_NATIVE_FLOAT, 2, dims, (void **)&ds->edge_feat, path));
        if (dims[0] != ds->graph.nnz)
            FROST_FAIL(FROST_ERR_FORMAT, "%s: /graph/edge_feat has %lld rows, expected %lld", path,
                       (long long)dims[0], (long long)ds->graph.nnz);
        ds->num_edge_features = dims[1];
    }
    H5Gclose(g);
    g = H5I_INVALID_HID;

    /* node data */
    if (ds->num_features > 0) {
        int64_t df[2] = {n, ds->num_features};
        FROST_ALLOC(ds->feat, n * ds->num_features);
        FROST_TRY(frost__h5_read_into(f, "node/feat", H5T_NATIVE_FLOAT, 2, df, ds->feat, path));
    }
    FROST_ALLOC(ds->label, n * ds->num_tasks);
    if (!frost__h5_exists(f, "node/label")) {
        /* a dataset to predict on: no labels at all (-1 everywhere) */
        for (int64_t k = 0; k < n * ds->num_tasks; k++) ds->label[k] = -1;
    } else if (ds->num_tasks == 1) {
        /* (N) or (N, 1) */
        int32_t *tmp = NULL;
        FROST_TRY(frost__h5_read(f, "node/label", H5T_NATIVE_INT32, 0, dims, (void **)&tmp, path));
        if (dims[0] != n || dims[1] != 1) {
            free(tmp);
            FROST_FAIL(FROST_ERR_FORMAT, "%s: /node/label is %lld x %lld, expected %lld labels", path,
                       (long long)dims[0], (long long)dims[1], (long long)n);
        }
        memcpy(ds->label, tmp, (size_t)n * sizeof(int32_t));
        free(tmp);
    } else {
        int64_t dl[2] = {n, ds->num_tasks};
        FROST_TRY(frost__h5_read_into(f, "node/label", H5T_NATIVE_INT32, 2, dl, ds->label, path));
    }
    int32_t hi = ds->task_type == FROST_TASK_BINARY ? 2 : ds->num_classes;
    for (int64_t k = 0; k < n * ds->num_tasks; k++)
        if (ds->label[k] < -1 || ds->label[k] >= hi)
            FROST_FAIL(FROST_ERR_FORMAT, "%s: /node/label of node %lld is %d, expected -1 .. %d", path,
                       (long long)(k / ds->num_tasks), ds->label[k], hi - 1);
    if (frost__h5_exists(f, "node/year")) {
        FROST_ALLOC(ds->year, n);
        FROST_TRY(frost__h5_read_into(f, "node/year", H5T_NATIVE_INT32, 1, &ds->num_nodes, ds->year, path));
    }

splits:
    if (frost__h5_exists(f, "split")) {
        g = H5Gopen2(f, "split", H5P_DEFAULT);
        if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /split"));
        FROST_TRY(list_group(g, &sn, path));
        FROST_CALLOC(ds->splits, sn.n);
        for (int32_t k = 0; k < sn.n; k++) {
            frost_split *sp = &ds->splits[k];
            ds->num_splits = k + 1;
            frost__strlcpy(sp->name, sn.names[k], sizeof sp->name);
            char p[160];
            snprintf(p, sizeof p, "%s/train", sp->name);
            FROST_TRY(frost__h5_read(g, p, H5T_NATIVE_INT64, 1, dims, (void **)&sp->train, path));
            sp->n_train = dims[0];
            snprintf(p, sizeof p, "%s/valid", sp->name);
            FROST_TRY(frost__h5_read(g, p, H5T_NATIVE_INT64, 1, dims, (void **)&sp->valid, path));
            sp->n_valid = dims[0];
            snprintf(p, sizeof p, "%s/test", sp->name);
            FROST_TRY(frost__h5_read(g, p, H5T_NATIVE_INT64, 1, dims, (void **)&sp->test, path));
            sp->n_test = dims[0];
            FROST_TRY(frost__split_check(sp, n, path));
        }
        H5Gclose(g);
        g = H5I_INVALID_HID;
    }
    free(sn.names);
    sn.names = NULL;
    sn.n = sn.cap = 0;
    if (frost__h5_exists(f, "partition")) {
        g = H5Gopen2(f, "partition", H5P_DEFAULT);
        if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /partition"));
        FROST_TRY(list_group(g, &sn, path));
        FROST_CALLOC(ds->partitions, sn.n);
        for (int32_t k = 0; k < sn.n; k++) {
            frost_partitioning *pt = &ds->partitions[k];
            ds->num_partitions = k + 1;
            frost__strlcpy(pt->name, sn.names[k], sizeof pt->name);
            if (bulk) {
                FROST_ALLOC(pt->part, n);
                FROST_TRY(frost__h5_read_into(g, pt->name, H5T_NATIVE_INT32, 1, &ds->num_nodes, pt->part, path));
            }
            hid_t d = H5Dopen2(g, pt->name, H5P_DEFAULT);
            int64_t kk = 0;
            st = d >= 0 ? frost__h5_read_attr_i64(d, "k", &kk, path) : frost__h5_fail(path, "cannot open a partition");
            if (d >= 0) H5Dclose(d);
            if (st < 0) goto fail;
            if (kk < 1 || kk > n) FROST_FAIL(FROST_ERR_FORMAT, "%s: /partition/%s: k = %lld", path, pt->name, (long long)kk);
            pt->k = (int32_t)kk;
            for (int64_t i = 0; bulk && i < n; i++)
                if (pt->part[i] < 0 || pt->part[i] >= pt->k)
                    FROST_FAIL(FROST_ERR_FORMAT, "%s: /partition/%s: node %lld is in part %d, expected 0 .. %d", path,
                               pt->name, (long long)i, pt->part[i], pt->k - 1);
        }
        H5Gclose(g);
        g = H5I_INVALID_HID;
        free(sn.names);
        sn.names = NULL;
    }
    if (bulk && frost__h5_exists(f, "node/original_id")) {
        FROST_ALLOC(ds->original_id, n);
        FROST_TRY(frost__h5_read_into(f, "node/original_id", H5T_NATIVE_INT64, 1, &ds->num_nodes, ds->original_id, path));
    }
    H5Fclose(f);
    return FROST_OK;
fail:
    free(sn.names);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    frost_dataset_release(ds);
    return st;
}

frost_status frost_dataset_load(frost_dataset *ds, const char *path) { return dataset_load(ds, path, true); }

frost_status frost__dataset_load_meta(frost_dataset *ds, const char *path) { return dataset_load(ds, path, false); }

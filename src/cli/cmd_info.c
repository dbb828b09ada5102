/*
 * cmd_info.c - `frost info FILE`: what a dataset, results or model file holds.
 */
#include "cli/cli.h"
#include "io/file_impl.h"
#include "io/h5_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void help(void)
{
    printf("usage: frost info FILE [--json]\n\n"
           "Summarise a frost file. For a dataset: nodes, stored edges, symmetry, self-loops,\n"
           "degree statistics, isolated nodes, feature dimension and density, classes with\n"
           "counts, split sizes and edge homophily. For a model: architecture, seed, what is\n"
           "stored, its size in bits and on disk, and the compression against its weight-trained\n"
           "counterpart. For a results file: one row per configuration.\n\n"
           "  --json   the same as one JSON object on stdout (NaN is null; a results file as\n"
           "           frost report --json)\n");
}

/* The dataset summary as one JSON object (frost info --json). */
static int dataset_json(const char *path, const frost_dataset *ds, const frost_dataset_stats *s)
{
    frost__text t;
    frost__text_init(&t);
    frost__text_printf(&t, "{");
    frost__json_str(&t, "file", path);
    frost__json_str(&t, "format", FROST_DATASET_FORMAT);
    frost__json_str(&t, "name", ds->name);
    frost__json_str(&t, "source", ds->source);
    frost__json_int(&t, "nodes", s->num_nodes);
    frost__json_int(&t, "stored_edges", s->stored_edges);
    frost__json_int(&t, "edge_list_edges", ds->edge_list_edges);
    frost__json_bool(&t, "symmetric", s->symmetric);
    frost__json_bool(&t, "inverse_edges_added", ds->inverse_edges_added);
    frost__json_int(&t, "self_loops", s->self_loops);
    frost__json_int(&t, "isolated", s->isolated);
    frost__json_num(&t, "degree_mean", s->deg_mean);
    frost__json_int(&t, "degree_max", s->deg_max);
    frost__json_int(&t, "features", ds->num_features);
    frost__json_num(&t, "feature_density", ds->num_features > 0 ? s->feature_density : (double)NAN);
    frost__json_int(&t, "nonfinite_features", s->nonfinite_features);
    frost__json_int(&t, "edge_features", ds->num_edge_features);
    frost__json_str(&t, "task", frost_task_name(ds->task_type));
    frost__json_int(&t, ds->task_type == FROST_TASK_BINARY ? "tasks" : "classes",
                    ds->task_type == FROST_TASK_BINARY ? ds->num_tasks : ds->num_classes);
    frost__json_str(&t, "metric", frost_metric_name(ds->metric));
    frost__json_int(&t, "labelled", s->labelled);
    frost__json_key(&t, ds->task_type == FROST_TASK_BINARY ? "positives" : "class_counts");
    frost__text_printf(&t, "[");
    const int32_t nc = ds->task_type == FROST_TASK_BINARY ? ds->num_tasks : ds->num_classes;
    for (int32_t c = 0; c < nc; c++) frost__json_int(&t, NULL, s->class_counts[c]);
    frost__text_printf(&t, "]");
    if (ds->class_names) {
        frost__json_key(&t, "class_names");
        frost__text_printf(&t, "[");
        const char *nm = ds->class_names;
        for (int32_t c = 0; c < ds->num_classes; c++) {
            const char *nl = strchr(nm, '\n');
            char *one = strndup(nm, nl ? (size_t)(nl - nm) : strlen(nm));
            frost__json_str(&t, NULL, one ? one : "");
            free(one);
            nm = nl ? nl + 1 : nm + strlen(nm);
        }
        frost__text_printf(&t, "]");
    }
    frost__json_num(&t, "edge_homophily", s->edge_homophily);
    frost__json_key(&t, "splits");
    frost__text_printf(&t, "[");
    for (int32_t k = 0; k < ds->num_splits; k++) {
        frost__json_key(&t, NULL);
        frost__text_printf(&t, "{");
        frost__json_str(&t, "name", ds->splits[k].name);
        frost__json_int(&t, "train", ds->splits[k].n_train);
        frost__json_int(&t, "valid", ds->splits[k].n_valid);
        frost__json_int(&t, "test", ds->splits[k].n_test);
        frost__text_printf(&t, "}");
    }
    frost__text_printf(&t, "]}\n");
    return cli_put_text(&t);
}

static int info_dataset(const char *path, bool json)
{
    frost_dataset ds;
    frost_dataset_stats s;
    if (frost_dataset_load(&ds, path) < 0) return cli_fail();
    if (frost_dataset_stats_compute(&ds, &s) < 0) {
        frost_dataset_release(&ds);
        return cli_fail();
    }
    if (json) {
        const int rc = dataset_json(path, &ds, &s);
        frost_dataset_stats_release(&s);
        frost_dataset_release(&ds);
        return rc;
    }
    printf("file         %s (%s v%d)\n", path, FROST_DATASET_FORMAT, FROST_DATASET_VERSION);
    printf("name         %s\n", ds.name);
    if (ds.source[0]) printf("source       %s\n", ds.source);
    printf("nodes        %lld\n", (long long)s.num_nodes);
    printf("edges        %lld stored (edge list: %lld)\n", (long long)s.stored_edges,
           (long long)ds.edge_list_edges);
    printf("symmetric    %s%s\n", s.symmetric ? "yes" : "no",
           ds.inverse_edges_added ? " (inverse edges added on import)" : "");
    printf("self-loops   %lld (%s)\n", (long long)s.self_loops,
           ds.self_loops == FROST_SELF_LOOPS_DROP  ? "dropped on import"
           : ds.self_loops == FROST_SELF_LOOPS_ADD ? "added on import"
                                                   : "as given");
    printf("duplicates   %s\n", ds.deduplicated ? "dropped" : "kept");
    printf("out-degree   min %lld  median %lld  mean %.2f  std %.2f  max %lld%s\n", (long long)s.deg_min,
           (long long)s.deg_median, s.deg_mean, s.deg_std, (long long)s.deg_max,
           s.symmetric ? "" : "");
    if (!s.symmetric) printf("in-degree    max %lld\n", (long long)s.in_deg_max);
    printf("isolated     %lld nodes\n", (long long)s.isolated);
    if (ds.num_features > 0)
        printf("features     %lld (density %.2f%%)%s\n", (long long)ds.num_features, 100.0 * s.feature_density,
               s.nonfinite_features ? ", NOT ALL FINITE" : "");
    else
        printf("features     none\n");
    if (ds.num_edge_features > 0) printf("edge feat    %lld\n", (long long)ds.num_edge_features);
    if (ds.year) {
        int32_t lo = ds.year[0], hi = ds.year[0];
        for (int64_t i = 1; i < ds.num_nodes; i++) {
            if (ds.year[i] < lo) lo = ds.year[i];
            if (ds.year[i] > hi) hi = ds.year[i];
        }
        printf("year         %d .. %d\n", lo, hi);
    }
    printf("task         %s, %d %s, metric %s\n", frost_task_name(ds.task_type),
           ds.task_type == FROST_TASK_BINARY ? ds.num_tasks : ds.num_classes,
           ds.task_type == FROST_TASK_BINARY ? (ds.num_tasks == 1 ? "task" : "tasks") : "classes",
           frost_metric_name(ds.metric));
    printf("labelled     %lld nodes\n", (long long)s.labelled);
    if (ds.task_type == FROST_TASK_MULTICLASS && ds.class_names) {
        /* named classes (OGB's mapping/labelidx2*.csv), one per line */
        printf("classes      %d (nodes per class, names from the import's mapping file):\n", ds.num_classes);
        const char *nm = ds.class_names;
        for (int32_t c = 0; c < ds.num_classes && c < 64; c++) {
            const char *nl = strchr(nm, '\n');
            const int L = nl ? (int)(nl - nm) : (int)strlen(nm);
            printf("  %-4d %-8lld %.*s\n", c, (long long)s.class_counts[c], L, nm);
            nm = nl ? nl + 1 : nm + L;
        }
        if (ds.num_classes > 64) printf("  ...\n");
    } else if (ds.task_type == FROST_TASK_MULTICLASS) {
        printf("classes      %d:", ds.num_classes);
        for (int32_t c = 0; c < ds.num_classes; c++) {
            if (c == 64) {
                printf(" ...");
                break;
            }
            printf(" %d:%lld", c, (long long)s.class_counts[c]);
        }
        printf("\n");
    } else {
        printf("positives    ");
        for (int32_t t = 0; t < ds.num_tasks && t < 32; t++)
            printf("%s%lld", t ? " " : "", (long long)s.class_counts[t]);
        printf("%s\n", ds.num_tasks > 32 ? " ..." : "");
    }
    if (!isnan(s.edge_homophily))
        printf("homophily    %.4f (edge homophily over %lld labelled edges)\n", s.edge_homophily,
               (long long)s.homophily_edges);
    printf("splits       %d\n", ds.num_splits);
    for (int32_t k = 0; k < ds.num_splits; k++)
        printf("  %-16s train %lld / valid %lld / test %lld\n", ds.splits[k].name,
               (long long)ds.splits[k].n_train, (long long)ds.splits[k].n_valid,
               (long long)ds.splits[k].n_test);
    int rc = 0;
    if (s.nonfinite_features) {
        /* the same refusal frost run makes, said here too: exit 1, one line */
        const int64_t F = ds.num_features, k = s.first_nonfinite;
        fflush(stdout);
        fprintf(stderr,
                "frost: %s: /node/feat has %lld NaN or infinite values (the first: node %lld, column %lld is %s); "
                "features must be finite, frost run refuses this file\n",
                path, (long long)s.nonfinite_features, (long long)(k / F), (long long)(k % F),
                isnan(ds.feat[k]) ? "NaN" : "infinite");
        rc = CLI_EXIT_RUNTIME;
    }
    frost_dataset_stats_release(&s);
    frost_dataset_release(&ds);
    return rc;
}

static int info_model(const char *path, bool json)
{
    frost_model_file mf;
    if (frost_model_file_load(&mf, path) < 0) return cli_fail();
    struct stat sb;
    if (stat(path, &sb) != 0) sb.st_size = 0;
    if (json) {
        frost__text t;
        frost__text_init(&t);
        frost__text_printf(&t, "{");
        frost__json_str(&t, "file", path);
        frost__json_str(&t, "format", FROST_MODEL_FORMAT);
        frost__json_str(&t, "model", mf.model);
        frost__json_str(&t, "method", mf.method);
        frost__json_int(&t, "seed", mf.seed);
        frost__json_str(&t, "dataset", mf.dataset);
        frost__json_str(&t, "split", mf.split);
        frost__json_str(&t, "source", mf.source);
        frost__json_int(&t, "in_dim", mf.in_dim);
        frost__json_int(&t, "out_dim", mf.out_dim);
        frost__json_int(&t, "mask_bits", mf.state.mask_bits);
        frost__json_int(&t, "batch_norm_statistics", mf.state.n_bn);
        frost__json_int(&t, "other_floats", mf.state.n_params);
        frost__json_int(&t, "model_bits", mf.model_bits);
        frost__json_int(&t, "dense_bits", mf.dense_bits);
        frost__json_int(&t, "file_bytes", (int64_t)sb.st_size);
        frost__json_num(&t, "compression", (double)mf.dense_bits / (double)mf.model_bits);
        frost__json_num(&t, "compression_paper", mf.state.mask_bits > 0
                                                     ? (double)mf.dense_bits / (double)mf.state.mask_bits
                                                     : (double)NAN);
        frost__json_num(&t, "test_metric", mf.test_metric);
        frost__json_str(&t, "blas_core", mf.blas_core);
        frost__text_printf(&t, "}\n");
        frost_model_file_release(&mf);
        return cli_put_text(&t);
    }
    printf("file         %s (%s v%d)\n", path, FROST_MODEL_FORMAT, FROST_MODEL_VERSION);
    printf("model        %s, method %s, seed %lld\n", mf.model, mf.method, (long long)mf.seed);
    printf("trained on   %s, split %s (%s)\n", mf.dataset, mf.split, mf.source);
    printf("inputs       %lld features -> %lld outputs\n", (long long)mf.in_dim, (long long)mf.out_dim);
    printf("stored       %lld mask bits, %lld batch-norm statistics, %lld other floats\n",
           (long long)mf.state.mask_bits, (long long)mf.state.n_bn, (long long)mf.state.n_params);
    printf("size         %lld bits = %.1f KiB to store; %lld bytes on disk (%.1f%% + %lld bytes above bits/8)\n",
           (long long)mf.model_bits, (double)mf.model_bits / 8192.0, (long long)sb.st_size,
           100.0 * ((double)sb.st_size - (double)mf.model_bits / 8.0) / ((double)mf.model_bits / 8.0),
           (long long)sb.st_size - mf.model_bits / 8);
    printf("compression %.1fx against the weight-trained float32 counterpart (%lld bits, batch-norm statistics "
           "included)\n",
           (double)mf.dense_bits / (double)mf.model_bits, (long long)mf.dense_bits);
    if (mf.state.mask_bits > 0)
        printf("             %.1fx by the SLT paper's accounting (mask bits of the searched weights only)\n",
               (double)mf.dense_bits / (double)mf.state.mask_bits);
    printf("test metric  %.4f in its run\n", mf.test_metric);
    if (mf.blas_core[0]) printf("computed     with the %s product kernels (bit-identical predictions need the same)\n", mf.blas_core);
    frost_model_file_release(&mf);
    return 0;
}

/* A dense export or a predictions file: what it holds, array by array. */
static int info_arrays(const char *path, const char *format)
{
    hid_t f;
    int64_t version;
    if (frost__h5_open_read(&f, path, format, 1, &version) < 0) return cli_fail();
    printf("file         %s (%s)\n", path, format);
    char buf[256];
    static const char *const sattrs[] = {"model", "method", "norm", "task_type", "split", "source"};
    for (size_t k = 0; k < sizeof sattrs / sizeof sattrs[0]; k++)
        if (frost__h5_has_attr(f, sattrs[k]) && frost__h5_read_attr_strbuf(f, sattrs[k], buf, sizeof buf, path) >= 0)
            printf("%-12s %s\n", sattrs[k], buf[0] ? buf : "(none)");
    static const char *const iattrs[] = {"layers", "hidden", "in_dim", "out_dim", "seed"};
    for (size_t k = 0; k < sizeof iattrs / sizeof iattrs[0]; k++) {
        int64_t v;
        if (frost__h5_has_attr(f, iattrs[k]) && frost__h5_read_attr_i64(f, iattrs[k], &v, path) >= 0)
            printf("%-12s %lld\n", iattrs[k], (long long)v);
    }
    frost_clear_error();
    /* every array with its shape */
    hsize_t n = 0;
    H5Gget_num_objs(f, &n);
    for (hsize_t i = 0; i < n && i < 256; i++) {
        char name[128];
        if (H5Gget_objname_by_idx(f, i, name, sizeof name) <= 0) continue;
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
        if (d < 0) continue;
        hid_t sp = H5Dget_space(d);
        hsize_t dims[2] = {0, 0};
        const int r = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
        if (r == 2) printf("  %-36s %llu x %llu\n", name, (unsigned long long)dims[0], (unsigned long long)dims[1]);
        else if (r == 1) printf("  %-36s %llu\n", name, (unsigned long long)dims[0]);
        if (sp >= 0) H5Sclose(sp);
        H5Dclose(d);
    }
    H5Fclose(f);
    return 0;
}

static int info_results(const char *path, bool json)
{
    return json ? cli_print_json_table(path) : cli_print_table(path);
}

int cli_info(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_flag(argv, i, "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("info", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("info", "expected one FILE");
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_usage_error("info", "expected: frost info FILE");
    char fmt[128];
    if (frost__h5_peek_format(path, fmt, sizeof fmt) < 0) return cli_fail();
    if (strcmp(fmt, FROST_DATASET_FORMAT) == 0) return info_dataset(path, json);
    if (strcmp(fmt, FROST_MODEL_FORMAT) == 0) return info_model(path, json);
    if (strcmp(fmt, FROST_RESULTS_FORMAT) == 0) return info_results(path, json);
    if (!json && (strcmp(fmt, FROST_DENSE_FORMAT) == 0 || strcmp(fmt, "frost.predictions") == 0))
        return info_arrays(path, fmt);
    if (!fmt[0])
        fprintf(stderr, "frost: %s: attribute 'format' missing, expected a frost dataset, results or model file\n",
                path);
    else
        fprintf(stderr, "frost: %s: attribute 'format' is \"%s\", expected a frost dataset, results or model file (or, without "
                "--json, a dense export or predictions)\n",
                path, fmt);
    return CLI_EXIT_RUNTIME;
}

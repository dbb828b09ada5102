/*
 * cmd_import.c - `frost import ogb DIR OUT.h5`.
 */
#include "cli/cli.h"

#include <dirent.h>
#include <string.h>

/* The files an import reads: every entry of DIR/raw and DIR/split/NAME/
 * (paths appended to *list, malloc'd). */
static void add_entries(const char *dir, char ***list, int *n, int depth)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *p = frost__asprintf("%s/%s", dir, e->d_name);
        if (!p) continue;
        if (depth > 0) add_entries(p, list, n, depth - 1);
        char **grown = realloc(*list, (size_t)(*n + 1) * sizeof **list);
        if (!grown) {
            free(p);
            continue;
        }
        *list = grown;
        (*list)[(*n)++] = p;
    }
    closedir(d);
}

static void help(void)
{
    printf("usage: frost import ogb DIR OUT.h5 [options]\n\n"
           "Import a dataset folder in OGB's raw layout (DIR/raw/*.csv[.gz], DIR/split/NAME/...)\n"
           "into a frost dataset file. The file is written under a temporary name and renamed\n"
           "when complete.\n\n"
           "OGB's own settings for ogbn-arxiv, ogbn-products and ogbn-proteins (inverse edges,\n"
           "classes or tasks, metric) apply by the folder's name (ogbn-arxiv, ogbn_arxiv or arxiv),\n"
           "and one line says which; the flags below override them.\n\n"
           "options (what OGB keeps outside the folder):\n"
           "  --add-inverse-edges     store (j, i) for every edge (i, j), as OGB's add_inverse_edge\n"
           "  --keep-duplicates       keep repeated (i, j) pairs (default: dropped)\n"
           "  --self-loops MODE       keep (default) | drop | add\n"
           "  --num-classes C         number of classes (default: max label + 1)\n"
           "  --task TYPE             multiclass | binary (default: binary if several label columns)\n"
           "  --metric M              accuracy | rocauc (default: rocauc for binary tasks)\n"
           "  --name NAME             dataset name (default: the folder's name)\n"
           "  --no-preset             ignore the folder's name: only the flags given count\n"
           "  --compression L         deflate level 0..9 for large arrays (default 1)\n"
           "  --force                 replace OUT.h5 even if it is a results or model file\n"
           "  --quiet                 no progress display\n");
}

int cli_import(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    bool quiet = false, force = false, preset = true;
    bool set_inverse = false, set_classes = false, set_task = false, set_metric = false;
    frost_import_opts o = frost_import_opts_default();
    for (int i = 1; i < argc; i++) {
        const char *v;
        int64_t iv;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_flag(argv, i, "--add-inverse-edges")) {
            o.add_inverse_edges = set_inverse = true;
        } else if (cli_flag(argv, i, "--no-preset")) {
            preset = false;
        } else if (cli_flag(argv, i, "--keep-duplicates")) {
            o.keep_duplicates = true;
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = true;
        } else if (cli_flag(argv, i, "--force")) {
            force = true;
        } else if (cli_opt(argc, argv, &i, "--self-loops", &v)) {
            if (v && strcmp(v, "keep") == 0) o.self_loops = FROST_SELF_LOOPS_KEEP;
            else if (v && strcmp(v, "drop") == 0) o.self_loops = FROST_SELF_LOOPS_DROP;
            else if (v && strcmp(v, "add") == 0) o.self_loops = FROST_SELF_LOOPS_ADD;
            else return cli_usage_error("import", "--self-loops expects keep, drop or add");
        } else if (cli_opt(argc, argv, &i, "--num-classes", &v)) {
            if (!cli_i64("import", "--num-classes", v, &iv)) return CLI_EXIT_USAGE;
            if (iv < 1 || iv > (1 << 20)) return cli_usage_error("import", "--num-classes expects 1 .. 1048576");
            o.num_classes = (int32_t)iv;
            set_classes = true;
        } else if (cli_opt(argc, argv, &i, "--task", &v)) {
            if (v && strcmp(v, "multiclass") == 0) o.task_type = FROST_TASK_MULTICLASS;
            else if (v && strcmp(v, "binary") == 0) o.task_type = FROST_TASK_BINARY;
            else return cli_usage_error("import", "--task expects multiclass or binary");
            set_task = true;
        } else if (cli_opt(argc, argv, &i, "--metric", &v)) {
            if (v && strcmp(v, "accuracy") == 0) o.metric = FROST_METRIC_ACCURACY;
            else if (v && strcmp(v, "rocauc") == 0) o.metric = FROST_METRIC_ROCAUC;
            else return cli_usage_error("import", "--metric expects accuracy or rocauc");
            set_metric = true;
        } else if (cli_opt(argc, argv, &i, "--name", &v)) {
            if (!v || !*v) return cli_usage_error("import", "--name needs a value");
            o.name = v;
        } else if (cli_opt(argc, argv, &i, "--compression", &v)) {
            if (!cli_i64("import", "--compression", v, &iv)) return CLI_EXIT_USAGE;
            if (iv < 0 || iv > 9) return cli_usage_error("import", "--compression expects 0 .. 9");
            o.compression = (int)iv;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("import", "unknown option '%s'", argv[i]);
        } else {
            if (npos == 3) return cli_usage_error("import", "too many arguments");
            pos[npos++] = argv[i];
        }
    }
    if (npos < 3) return cli_usage_error("import", "expected: frost import ogb DIR OUT.h5");
    if (strcmp(pos[0], "ogb") != 0)
        return cli_usage_error("import", "unknown source format '%s' (supported: ogb)", pos[0]);
    if (preset) {
        /* OGB's settings by the folder's name; a flag given wins */
        frost_import_opts p = o;
        char said[256];
        const int known = frost_import_ogb_preset(pos[1], &p, said, sizeof said);
        if (known < 0) return cli_fail();
        if (known) {
            if (!set_inverse) o.add_inverse_edges = p.add_inverse_edges;
            if (!set_classes && !set_task) o.num_classes = p.num_classes;
            if (!set_task) o.task_type = p.task_type;
            if (!set_metric) o.metric = p.metric;
            fprintf(stderr, "%s: %s%s\n", pos[1], said,
                    set_inverse || set_classes || set_task || set_metric ? "; the flags given override them" : "");
        }
    }
    /* the output is none of the files read, and no results or model file */
    char **inputs = NULL;
    int n_in = 0;
    char *raw = frost__asprintf("%s/raw", pos[1]), *split = frost__asprintf("%s/split", pos[1]);
    if (raw) add_entries(raw, &inputs, &n_in, 0);
    if (split) add_entries(split, &inputs, &n_in, 1);
    free(raw);
    free(split);
    int bad = cli_check_output(pos[2], (const char *const *)inputs, n_in, FROST_DATASET_FORMAT, force, false);
    for (int k = 0; k < n_in; k++) free(inputs[k]);
    free(inputs);
    if (bad) return bad;
    cli_progress pr;
    cli_progress_init(&pr, quiet);
    o.progress = cli_progress_cb;
    o.progress_user = &pr;
    double t0 = frost__now();
    frost_status st = frost_import_ogb(pos[1], pos[2], &o);
    cli_progress_done(&pr);
    if (st < 0) return cli_fail();
    if (!quiet) {
        char b[32];
        fprintf(stderr, "imported %s -> %s in %.2f s (peak memory %s)\n", pos[1], pos[2],
                frost__now() - t0, cli_bytes((double)frost__peak_rss(), b, sizeof b));
    }
    return 0;
}

/*
 * cmd_import.c - `frost import ogb DIR OUT.h5`.
 */
#include "cli/cli.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

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

/* DIR/NAME.EXT for the first extension that exists (plain or .gz), or NULL. */
static char *find_in(const char *dir, const char *name)
{
    static const char *const ext[] = {".npy", ".txt", ".csv", ".tsv", ".txt.gz", ".csv.gz", ".tsv.gz", ""};
    for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
        char *p = frost__asprintf("%s/%s%s", dir, name, ext[k]);
        struct stat sb;
        if (p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) return p;
        free(p);
    }
    return NULL;
}

/* frost import edgelist: files named by flags, or found in a folder (edges,
 * features, labels, split/NAME/{train,valid,test}, any of the extensions). */
static int import_edgelist(const char *from, const char *out, frost_edgelist_files *el, char **specs, int n_specs,
                           frost_import_opts *o, bool quiet, bool force)
{
    char *owned[3 + 4 * 16 + 16]; /* edges, features, labels; per split a name and three parts; the specs */
    int n_owned = 0, rc = 0;
    struct stat sb;
#define OWN(p) (owned[n_owned++] = (p))
    if (stat(from, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        if (!(el->edges = OWN(find_in(from, "edges"))))
            return fprintf(stderr, "frost: %s: no edges.txt, edges.csv, edges.tsv or edges.npy in it\n", from), 1;
        if (!el->features) el->features = OWN(find_in(from, "features"));
        if (!el->labels) el->labels = OWN(find_in(from, "labels"));
        char *sd = frost__asprintf("%s/split", from);
        struct dirent **ents = NULL;
        const int ne = sd ? scandir(sd, &ents, NULL, alphasort) : -1; /* the same order on every file system */
        for (int q = 0; q < ne && rc == 0; q++) {
            const struct dirent *e = ents[q];
            if (e->d_name[0] == '.') continue;
            char *sub = frost__asprintf("%s/%s", sd, e->d_name);
            if (!sub || stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                free(sub);
                continue;
            }
            if (el->n_splits == 16) {
                fprintf(stderr, "frost: %s: more than 16 splits; frost import edgelist takes 16 at most\n", sd);
                free(sub);
                rc = 1;
                break;
            }
            const int k = el->n_splits;
            el->splits[k].name = OWN(frost__asprintf("%s", e->d_name));
            static const char *const parts[3] = {"train", "valid", "test"};
            bool all = true;
            for (int p = 0; p < 3; p++) all &= (el->splits[k].part[p] = OWN(find_in(sub, parts[p]))) != NULL;
            free(sub);
            if (!all) {
                fprintf(stderr, "frost: %s/%s: expected train, valid and test files of node ids\n", sd, e->d_name);
                rc = 1;
                break;
            }
            el->n_splits++;
        }
        for (int q = 0; q < ne; q++) free(ents[q]);
        free(ents);
        free(sd);
    } else {
        el->edges = from;
    }
    if (rc == 0 && el->n_splits + n_specs > 16) {
        fprintf(stderr, "frost: %s: %d splits in all; frost import edgelist takes 16 at most\n", from,
                el->n_splits + n_specs);
        rc = 1;
    }
    for (int k = 0; k < n_specs && rc == 0; k++) {
        /* NAME=TRAIN,VALID,TEST (added to a folder's splits) */
        char *spec = OWN(frost__asprintf("%s", specs[k]));
        char *eq = spec ? strchr(spec, '=') : NULL, *c1 = eq ? strchr(eq + 1, ',') : NULL,
             *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!eq || !c1 || !c2 || eq == spec || strchr(c2 + 1, ',')) {
            rc = cli_usage_error("import", "--split '%s': expected NAME=TRAIN,VALID,TEST", specs[k]);
            break;
        }
        *eq = *c1 = *c2 = 0;
        if (!eq[1] || !c1[1] || !c2[1]) {
            rc = cli_usage_error("import", "--split '%s': a file name is empty", specs[k]);
            break;
        }
        el->splits[el->n_splits].name = spec;
        el->splits[el->n_splits].part[0] = eq + 1;
        el->splits[el->n_splits].part[1] = c1 + 1;
        el->splits[el->n_splits].part[2] = c2 + 1;
        el->n_splits++;
    }
    for (int k = 0; k < el->n_splits && rc == 0; k++) {
        /* a split's name is an HDF5 group: no '/', at most 63 bytes, each once */
        const char *nm = el->splits[k].name;
        bool dup = false;
        for (int q = 0; q < k; q++) dup |= strcmp(el->splits[q].name, nm) == 0;
        if (!*nm || strchr(nm, '/') || strlen(nm) > 63 || dup) {
            fprintf(stderr, "frost: split name '%s': %s\n", nm,
                    dup ? "given twice" : "expected 1 to 63 characters without '/'");
            rc = 1;
        }
    }
    if (rc == 0) {
        const char *inputs[3 + 3 * 16];
        int n_in = 0;
        inputs[n_in++] = el->edges, inputs[n_in++] = el->features, inputs[n_in++] = el->labels;
        for (int k = 0; k < el->n_splits; k++)
            for (int p = 0; p < 3; p++) inputs[n_in++] = el->splits[k].part[p];
        if (cli_check_output(out, inputs, n_in, FROST_DATASET_FORMAT, force, false)) rc = 1;
    }
    if (rc == 0) {
        const double t0 = frost__now();
        if (frost_import_edgelist(el, out, o) < 0) rc = cli_fail();
        else if (!quiet)
            fprintf(stderr, "imported %s -> %s in %.2f s\n", el->edges, out, frost__now() - t0);
    }
    for (int k = 0; k < n_owned; k++) free(owned[k]);
#undef OWN
    return rc;
}

static void help(void)
{
    printf("usage: frost import ogb DIR OUT.h5 [options]\n"
           "       frost import edgelist EDGES|DIR OUT.h5 [--features F] [--labels L]\n"
           "                             [--split NAME=TRAIN,VALID,TEST]... [--num-nodes N] [options]\n\n"
           "edgelist: a graph from 'src dst' lines (commas or blanks; # comments) or a .npy (2, E)\n"
           "array, with optional features (one row per node, or .npy (N, F)), labels (one per node;\n"
           "empty, nan or -1: none; several columns: binary tasks; or .npy) and splits (files of node\n"
           "ids); text files may be gzip'ed; no count files. A folder DIR holds edges.*, features.*,\n"
           "labels.* and split/NAME/{train,valid,test}.* (.txt, .csv, .tsv, .npy). Nodes: --num-nodes,\n"
           "else the feature rows, else the largest id + 1. Without labels, --num-classes is needed.\n\n"
           "Import a dataset folder in OGB's raw layout (DIR/raw/*.csv[.gz], DIR/split/NAME/...)\n"
           "into a frost dataset file. The file is written under a temporary name and renamed\n"
           "when complete.\n\n"
           "OGB's own settings for ogbn-arxiv, -products, -proteins, -mag (its paper graph) and\n"
           "-papers100M (raw/data.npz) apply by the folder's name (ogbn-arxiv, ogbn_arxiv or arxiv),\n"
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
    frost_edgelist_files el;
    memset(&el, 0, sizeof el);
    char *split_specs[16];
    int n_split_specs = 0;
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
        } else if (cli_opt(argc, argv, &i, "--features", &v)) {
            if (!v || !*v) return cli_usage_error("import", "--features needs a file");
            el.features = v;
        } else if (cli_opt(argc, argv, &i, "--labels", &v)) {
            if (!v || !*v) return cli_usage_error("import", "--labels needs a file");
            el.labels = v;
        } else if (cli_opt(argc, argv, &i, "--num-nodes", &v)) {
            if (!cli_i64("import", "--num-nodes", v, &iv)) return CLI_EXIT_USAGE;
            if (iv < 1 || iv > INT32_MAX) return cli_usage_error("import", "--num-nodes expects 1 .. %d", INT32_MAX);
            el.num_nodes = iv;
        } else if (cli_opt(argc, argv, &i, "--split", &v)) {
            if (!v || !strchr(v, '=') || n_split_specs == 16)
                return cli_usage_error("import", "--split expects NAME=TRAIN,VALID,TEST (files of node ids; 16 at most)");
            split_specs[n_split_specs++] = (char *)v;
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
    if (npos < 3) return cli_usage_error("import", "expected: frost import ogb DIR OUT.h5 (or edgelist EDGES OUT.h5)");
    if (strcmp(pos[0], "edgelist") == 0) return import_edgelist(pos[1], pos[2], &el, split_specs, n_split_specs, &o, quiet, force);
    if (strcmp(pos[0], "ogb") != 0)
        return cli_usage_error("import", "unknown source format '%s' (supported: ogb, edgelist)", pos[0]);
    if (el.features || el.labels || el.num_nodes || n_split_specs)
        return cli_usage_error("import", "--features, --labels, --num-nodes and --split are for frost import edgelist");
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

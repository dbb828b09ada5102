/*
 * cmd_export.c - `frost export RESULTS RUN_ID -o MODEL.h5` and
 * `frost predict MODEL DATASET`.
 */
#include "cli/cli.h"
#include "io/io_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void export_help(void)
{
    printf("usage: frost export RESULTS RUN_ID -o MODEL.h5 [--force]\n"
           "       frost export RESULTS RUN_ID --dense -o DENSE.h5 [--dataset D] [--force]\n"
           "       frost export MODEL.h5 --dense -o DENSE.h5 [--dataset D] [--force]\n\n"
           "Write one run of a results file as a model file: the architecture (the run's\n"
           "configuration), the seed that regenerates the random weights and the freezing\n"
           "pattern, the bit-packed mask of the free weights, the batch-norm running statistics\n"
           "and any trained floats. `frost report RESULTS` lists the run ids. MODEL.h5 is never\n"
           "RESULTS itself; an existing dataset or results file there is replaced only with --force.\n\n"
           "--dense writes the model for use outside frost instead: every weight matrix (a ticket's\n"
           "effective weights, mask and scale applied), bias and batch-norm statistic as a named\n"
           "float32 HDF5 dataset with its shape, the architecture and preprocessing as attributes\n"
           "(README.md has a PyTorch snippet). The model is rebuilt on its dataset (or --dataset D).\n");
}

/* --dense from a model file, or from a run of a results file. */
static int export_dense(const char *const *pos, int npos, const char *out, const char *dataset, bool force)
{
    if (!out || npos < 1)
        return cli_usage_error("export", "expected: frost export MODEL.h5 --dense -o DENSE.h5 (or RESULTS RUN_ID)");
    const char *inputs[2] = {pos[0], dataset};
    if (cli_check_output(out, inputs, dataset ? 2 : 1, FROST_DENSE_FORMAT, force, false)) return CLI_EXIT_RUNTIME;
    const int rc = (npos == 2 ? frost_export_dense_run(pos[0], pos[1], dataset, out)
                              : frost_export_dense(pos[0], dataset, out)) < 0
                       ? cli_fail()
                       : 0;
    if (rc == 0) printf("exported %s%s%s -> %s (dense float32 tensors)\n", pos[0], npos == 2 ? " " : "", npos == 2 ? pos[1] : "", out);
    return rc;
}

int cli_export(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *out = NULL, *dataset = NULL;
    int npos = 0;
    bool force = false, dense = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            export_help();
            return 0;
        } else if (cli_flag(argv, i, "--force")) {
            force = true;
        } else if (cli_flag(argv, i, "--dense")) {
            dense = true;
        } else if (cli_opt(argc, argv, &i, "--dataset", &v)) {
            if (!v || !*v) return cli_usage_error("export", "--dataset needs a dataset file or name");
            dataset = v;
        } else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v)) {
            if (!v) return cli_usage_error("export", "-o needs a file name");
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("export", "unknown option '%s'", argv[i]);
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            return cli_usage_error("export", "too many arguments");
        }
    }
    if (dense) return export_dense(pos, npos, out, dataset, force);
    if (npos < 2 || !out) return cli_usage_error("export", "expected: frost export RESULTS RUN_ID -o MODEL.h5");
    if (cli_check_output(out, pos, 1, FROST_MODEL_FORMAT, force, false)) return CLI_EXIT_RUNTIME;
    if (frost_export_run(pos[0], pos[1], out) < 0) return cli_fail();
    frost_model_file mf;
    if (frost_model_file_load(&mf, out) < 0) return cli_fail();
    struct stat sb;
    stat(out, &sb);
    printf("exported %s %s -> %s: %lld bytes on disk, %lld bits to store (%.1f KiB), %.1fx smaller than the "
           "trained float32 counterpart\n",
           pos[0], pos[1], out, (long long)sb.st_size, (long long)mf.model_bits, (double)mf.model_bits / 8192.0,
           (double)mf.dense_bits / (double)mf.model_bits);
    frost_model_file_release(&mf);
    return 0;
}

/* Node ids, one per line (blank lines and # comments skipped): 0, or one
 * line naming the file and line and 1. */
static int read_node_list(const char *path, int64_t **out, int64_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "frost: %s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, have = 0;
    int64_t lineno = 0, *ids = NULL;
    *n = 0;
    int rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (*s == '#' || *s == '\n' || *s == '\r' || !*s) continue;
        char *end;
        errno = 0;
        const long long v = strtoll(s, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
        if (end == s || *end || errno || v < 0) {
            char q[128];
            for (char *c = s; *c; c++) /* a comma is part of what is wrong here, not a field end */
                if (*c == ',') *c = ' ';
            frost__quote_field(q, sizeof q, strtok(s, "\r\n") ? s : "");
            fprintf(stderr, "frost: %s, line %lld: expected a node id (an integer from 0, one per line), got %s\n",
                    path, (long long)lineno, q);
            rc = 1;
            break;
        }
        if ((size_t)*n == have) {
            have = have ? 2 * have : 1024;
            int64_t *g = realloc(ids, have * sizeof *ids);
            if (!g) {
                fprintf(stderr, "frost: %s: out of memory\n", path);
                rc = 1;
                break;
            }
            ids = g;
        }
        ids[(*n)++] = v;
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "frost: %s: cannot read: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (rc == 0 && *n == 0) {
        fprintf(stderr, "frost: %s: no node ids in it\n", path);
        rc = 1;
    }
    free(line);
    fclose(f);
    if (rc) free(ids);
    else *out = ids;
    return rc;
}

static void predict_help(void)
{
    printf("usage: frost predict MODEL DATASET [--split NAME] [--nodes FILE] [-o PRED.h5 [--force]]\n"
           "       frost predict REWARD DATASET --base BASE [--split NAME] [-o PRED.h5]\n"
           "       frost predict NEW DATASET --eft FINETUNED PRETRAINED [--alpha A] [--split NAME] [-o PRED.h5]\n\n"
           "Regenerate a model from its file (random weights from the seed, saved mask and\n"
           "statistics), run it on DATASET (a file, or a bundled name), print the metric on the\n"
           "split (default: the model's) and whether the logits are bit-identical to the run's.\n"
           "--base: portable reward tuning, softmax(log p_BASE + r) with MODEL as the reward r.\n"
           "--eft: the EFT / proxy-tuning baseline, log p_NEW + alpha (log p_FINETUNED - log p_PRETRAINED).\n"
           "Models must share the label set. -o writes node ids, logits, probabilities (softmax, or a\n"
           "sigmoid per binary task) and predicted classes (per task 0/1 for binary tasks) of every\n"
           "node (frost.predictions); it is never one of the input files, and replaces a dataset,\n"
           "results or model file only with --force. DATASET needs no labels and no split: without\n"
           "the model's split (and no --split) every node is predicted and no metric is printed;\n"
           "metrics count labelled nodes only.\n"
           "  --nodes FILE   write only these nodes (0-based ids, one per line, # comments)\n");
}

int cli_predict(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *split = NULL, *out = NULL, *base = NULL, *eft_ft = NULL, *eft_pt = NULL,
               *nodes_file = NULL;
    double alpha = 1.0;
    int npos = 0;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            predict_help();
            return 0;
        } else if (cli_flag(argv, i, "--force")) {
            force = true;
        } else if (cli_opt(argc, argv, &i, "--base", &v)) {
            if (!v) return cli_usage_error("predict", "--base needs a model file");
            base = v;
        } else if (cli_opt(argc, argv, &i, "--eft", &v)) {
            if (!v || i + 1 >= argc) return cli_usage_error("predict", "--eft needs FINETUNED and PRETRAINED model files");
            eft_ft = v;
            eft_pt = argv[++i];
        } else if (cli_opt(argc, argv, &i, "--alpha", &v)) {
            if (!cli_f64("predict", "--alpha", v, &alpha)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--split", &v)) {
            if (!v) return cli_usage_error("predict", "--split needs a name");
            split = v;
        } else if (cli_opt(argc, argv, &i, "--nodes", &v)) {
            if (!v || !*v) return cli_usage_error("predict", "--nodes needs a file of node ids");
            nodes_file = v;
        } else if (cli_opt(argc, argv, &i, "-o", &v) || cli_opt(argc, argv, &i, "--output", &v)) {
            if (!v) return cli_usage_error("predict", "-o needs a file name");
            out = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("predict", "unknown option '%s'", argv[i]);
        } else if (npos < 2) {
            pos[npos++] = argv[i];
        } else {
            return cli_usage_error("predict", "too many arguments");
        }
    }
    if (npos < 2) return cli_usage_error("predict", "expected: frost predict MODEL DATASET");
    if (base && eft_ft) return cli_usage_error("predict", "--base and --eft exclude each other");
    if (nodes_file && !out) return cli_usage_error("predict", "--nodes chooses the rows of -o PRED.h5: give -o too");
    int64_t *nodes = NULL, n_nodes = 0;
    if (nodes_file && read_node_list(nodes_file, &nodes, &n_nodes) != 0) return CLI_EXIT_RUNTIME;
    if (out) {
        /* before any work: -o is none of the inputs (the dataset as resolved: a bundled name too) */
        char *ds = malloc(FROST_PATH_CAP + 64);
        if (!ds) return cli_fail();
        if (frost_resolve_dataset(pos[1], NULL, ds, FROST_PATH_CAP + 64) < 0) frost__strlcpy(ds, pos[1], FROST_PATH_CAP + 64);
        const char *inputs[6] = {pos[0], ds, base, eft_ft, eft_pt, nodes_file};
        const int bad = cli_check_output(out, inputs, 6, "frost.predictions", force, false);
        free(ds);
        if (bad) {
            free(nodes);
            return CLI_EXIT_RUNTIME;
        }
    }
    frost_prediction p;
    frost_status st = base     ? frost_predict_prt(pos[0], base, pos[1], split, &p)
                      : eft_ft ? frost_predict_eft(pos[0], eft_ft, eft_pt, alpha, pos[1], split, &p)
                               : frost_predict(pos[0], pos[1], split, &p);
    if (st < 0) {
        free(nodes);
        return cli_fail();
    }
    const char *what = base ? "PRT (reward + base)" : eft_ft ? "EFT (3 models)" : "model";
    if (!p.split[0])
        printf("%s %s on %s: no split to score (the dataset lacks the model's; --split names one), %lld nodes "
               "predicted\n",
               what, pos[0], pos[1], (long long)p.N);
    else if (isnan(p.train) && isnan(p.valid) && isnan(p.test))
        printf("%s %s on %s, split %s: no labelled node in the split, %lld nodes predicted\n", what, pos[0], pos[1],
               p.split, (long long)p.N);
    else
        printf("%s %s on %s, split %s: train %.4f  valid %.4f  test %.4f\n", what, pos[0], pos[1], p.split, p.train,
               p.valid, p.test);
    if (!base && !eft_ft) {
        printf("logits %s: %s the exported run's", p.logits_hash, p.hash_matches ? "bit-identical to" : "differ from");
        /* the bits of every product depend on OpenBLAS's kernels, chosen per CPU */
        if (!p.hash_matches && p.run_blas_core[0] && strcmp(p.run_blas_core, frost_blas_core()) != 0)
            printf(" (the run used the %s product kernels, this machine %s)", p.run_blas_core, frost_blas_core());
        printf("\n");
    }
    int rc = 0;
    if (out && frost_predictions_save_nodes(&p, nodes, nodes ? n_nodes : -1, out) < 0) {
        if (nodes) frost__error_prefix("%s", nodes_file); /* the node list holds the bad id */
        rc = cli_fail();
    }
    if (rc == 0 && out) printf("predictions of %lld nodes -> %s\n", (long long)(nodes ? n_nodes : p.N), out);
    free(nodes);
    frost_prediction_release(&p);
    return rc;
}

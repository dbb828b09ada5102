/*
 * main.c - the `frost` program: one binary, one verb per task.
 * Exit status: 0 success, 1 runtime error (bad file, bad data), 2 usage error.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct verb {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"import", cli_import, "OGB raw folder -> dataset file"},
    {"info", cli_info, "summary of a dataset, results or model file"},
    {"synth", cli_synth, "synthetic graph (CSBM) straight to a dataset file"},
    {"run", cli_run, "an experiment from a libconfig file: training, SLT search, sweeps"},
    {"export", cli_export, "one run of a results file -> model file"},
    {"predict", cli_predict, "model file + dataset file -> predictions and metric"},
    {"report", cli_report, "results file -> tables (text, CSV) and plots"},
    {"merge", cli_merge, "results files (shards, other machines) -> one results file"},
    {"bench", cli_bench, "timing of the kernels and of one training epoch"},
    {"partition", cli_partition, "METIS k-way parts stored in a dataset file, optional reordering"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: frost VERB [ARGS...]\n"
            "       frost VERB --help\n"
            "       frost --version\n\n"
            "Graph neural network experiments: train GNNs, search strong lottery tickets\n"
            "in partially frozen random networks, tune portable rewards.\n\n"
            "verbs:\n");
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
        fprintf(f, "  %-8s %s\n", verbs[k].name, verbs[k].summary);
    fprintf(f, "\nExit status: 0 success, 1 runtime error, 2 usage error.\n");
}

#ifdef FROST_FAULT_ENV
#include "io/file_impl.h"
#include <errno.h>
/* Only in the test build of the program (tests/meson.build: frost-fault):
 * FROST_FAULT="N[:once][:eio]" makes frost's N-th write-side operation
 * (creating a file, a write, fsync, truncate, rename) fail with ENOSPC (or
 * EIO), and every later one too unless "once": a disk that fills up, or
 * one failed write. */
static void fault_from_env(void)
{
    const char *v = getenv("FROST_FAULT");
    if (!v || !*v) return;
    long long n = strtoll(v, NULL, 10);
    frost__io_fault_set(n, strstr(v, ":eio") ? EIO : ENOSPC, !strstr(v, ":once"));
}
#endif

int main(int argc, char **argv)
{
#ifdef FROST_FAULT_ENV
    fault_from_env();
#endif
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("frost %s\n", frost_version());
        return 0;
    }
    /* a kernel path named in FROST_ISA that this CPU cannot run, or a
     * misspelt one, is refused before any work rather than ignored */
    if (frost_isa_from_env() != FROST_OK) return cli_fail();
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
        if (strcmp(argv[1], verbs[k].name) == 0) return verbs[k].fn(argc - 1, argv + 1);
    return cli_usage_error(NULL, "unknown verb '%s'", argv[1]);
}

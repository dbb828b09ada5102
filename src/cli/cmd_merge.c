/*
 * cmd_merge.c - `frost merge OUT.h5 IN.h5...`: results files written
 * separately (shards of a Slurm array, sweeps run on other machines) into
 * one.
 */
#include "cli/cli.h"
#include "frost/frost.h"

#include <string.h>

static void help(void)
{
    printf("usage: frost merge OUT.h5 [IN.h5...]\n\n"
           "Merge results files into OUT.h5. OUT keeps the runs it holds; a run found in several\n"
           "files is kept once when every copy holds the same result (the same configuration, as\n"
           "resuming compares it, seed, outcome and logits; timings may differ). A run id whose\n"
           "copies differ is refused with one line naming the run and both files, and OUT is left\n"
           "as it was (exit 1). OUT is written atomically, under its lock, with every run in the\n"
           "one file. Without IN files, folds OUT's pending runs into it (what frost run does\n"
           "when it finishes).\n\n"
           "  frost merge results/sweep.h5 results/sweep-shard*.h5\n");
}

int cli_merge(int argc, char **argv)
{
    const char *out = NULL;
    const char **ins = calloc((size_t)argc, sizeof *ins);
    int64_t n = 0;
    if (!ins) return cli_fail();
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            free(ins);
            help();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(ins);
            return cli_usage_error("merge", "unknown option '%s'", argv[i]);
        } else if (!out) {
            out = argv[i];
        } else {
            ins[n++] = argv[i];
        }
    }
    if (!out) {
        free(ins);
        return cli_usage_error("merge", "expected: frost merge OUT.h5 IN.h5...");
    }
    frost_status st = frost_results_merge(out, ins, n);
    free(ins);
    if (st < 0) return cli_fail();
    frost_results r;
    if (frost_results_load(&r, out) < 0) return cli_fail();
    printf("%s: %lld runs\n", out, (long long)r.n);
    frost_results_release(&r);
    return 0;
}

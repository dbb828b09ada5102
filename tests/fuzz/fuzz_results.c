/*
 * fuzz_results.c - the results-file reader on arbitrary bytes: load, the
 * summary, and every run's stored state.
 */
#include "fuzz_util.h"
#include "frost/results.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    frost_results r;
    if (frost_results_load(&r, path) == FROST_OK) {
        frost_summary_row *rows;
        int64_t n;
        if (frost_results_summarize(&r, &rows, &n) == FROST_OK) frost_summary_release(rows, n);
        for (int64_t k = 0; k < r.n && k < 16; k++) {
            frost_run_state s;
            if (frost_results_read_state(path, r.runs[k].id, &s) == FROST_OK) frost_run_state_release(&s);
        }
        frost_results_release(&r);
    }
    close(fd);
    return 0;
}

/*
 * fuzz_dataset.c - the dataset-file reader on arbitrary bytes: load (every
 * array and attribute checked before use), then the statistics of whatever
 * loaded.
 */
#include "fuzz_util.h"
#include "frost/dataset.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    frost_dataset ds;
    if (frost_dataset_load(&ds, path) == FROST_OK) {
        frost_dataset_stats st;
        if (frost_dataset_stats_compute(&ds, &st) == FROST_OK) frost_dataset_stats_release(&st);
        frost_dataset_check(&ds);
        frost_dataset_release(&ds);
    }
    close(fd);
    return 0;
}

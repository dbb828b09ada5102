/*
 * fuzz_csv.c - the streaming CSV reader (plain or gzip) and the number
 * parsers, as the OGB importer uses them: every line is split into fields and
 * parsed as a row of floats and as integers.
 */
#include "fuzz_util.h"
#include "io/io_impl.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    frost__lines r;
    if (frost__lines_open(&r, path) == FROST_OK) {
        char *line;
        size_t len;
        float row[64];
        while (frost__lines_next(&r, &line, &len) == FROST_OK) {
            int64_t nf = frost__count_fields(line);
            if (nf > 0 && nf <= 64) frost__parse_float_row(line, nf, row, path, r.lineno);
            const char *p = line;
            int64_t v;
            while (*p) {
                if (!frost__parse_i64(&p, &v)) {
                    float f;
                    if (!frost__parse_f32(&p, &f)) p++;
                }
                if (*p == ',') p++;
            }
        }
        frost__lines_close(&r);
    }
    close(fd);
    return 0;
}

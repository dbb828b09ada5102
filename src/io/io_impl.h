/*
 * io_impl.h - streaming text input (plain or gzip) and number parsing.
 *
 *     frost__lines r;
 *     FROST_TRY(frost__lines_open(&r, "raw/edge.csv.gz"));
 *     char *line; size_t len;
 *     while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) { ... r.lineno ... }
 *     frost__lines_close(&r);          // st is FROST_DONE at the end, < 0 on error
 */
#ifndef FROST_IO_IMPL_H
#define FROST_IO_IMPL_H

#include "core/core_impl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct frost__lines {
    void *gz;          /* gzFile: reads gzip and plain files alike */
    char path[1024];
    char *buf;
    size_t cap;        /* allocated bytes */
    size_t pos;        /* start of the unread part */
    size_t end;        /* end of valid bytes */
    int64_t lineno;    /* 1-based number of the line last returned */
    bool eof;
} frost__lines;

/* Open a text file (gzip or plain). Errors name the path. */
frost_status frost__lines_open(frost__lines *r, const char *path);

/* Next line, NUL-terminated, without its "\n" / "\r\n". FROST_DONE at the
 * end; an error (truncated gzip, read failure) names the path and line. */
frost_status frost__lines_next(frost__lines *r, char **line, size_t *len);

void frost__lines_close(frost__lines *r);

/* Does PATH exist as a regular file? */
bool frost__file_exists(const char *path);

/* Find DIR/NAME.csv.gz or DIR/NAME.csv; writes the found path into out.
 * Returns true if one exists. */
bool frost__find_csv(char *out, size_t cap, const char *dir, const char *name);

/* ---- number parsing -------------------------------------------------
 * Each parser reads one field starting at *p (no leading blanks skipped
 * except spaces) and advances *p to the first character after it.
 * Returns false if the field is not a number of that kind. */
bool frost__parse_i64(const char **p, int64_t *v);

/* Correctly rounded decimal -> float. Fast path (exact double arithmetic,
 * Clinger) for up to 19 digits and small exponents; anything else, and the
 * rare case where double rounding could differ, goes through strtof. Accepts
 * nan / inf as strtof does. */
bool frost__parse_f32(const char **p, float *v);

/* Parse "a,b,c,..." with exactly `ncols` floats into out. On failure sets an
 * error naming path:lineno and the column (1-based) and what was found. */
frost_status frost__parse_float_row(const char *line, int64_t ncols, float *out,
                                    const char *path, int64_t lineno);

/* Count comma-separated fields of a line (empty line = 0 fields). */
int64_t frost__count_fields(const char *line);

/* Quote at most 24 characters of a field for an error message. */
void frost__quote_field(char *dst, size_t cap, const char *field);

#endif

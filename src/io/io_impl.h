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
    char *path;        /* malloc'd copy, for messages */
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

/* Find DIR/NAME.csv.gz or DIR/NAME.csv: *out is the one found, or the
 * preferred name (.csv.gz) for messages when neither exists; malloc'd (the
 * caller frees it), NULL when out of memory. True if one exists. */
bool frost__find_csv(char **out, const char *dir, const char *name);

/* ---- outputs (paths.c) ---------------------------------------------
 * May a verb write OUT? Refused, with one line naming OUT and the reason:
 * OUT is one of `inputs` (same device and inode, so also through symlinks,
 * hard links and other spellings; for a file not yet there, the same
 * resolved folder and name); OUT is a folder; OUT is a frost file whose
 * `format` is not `kind` (NULL: any frost file), unless FROST__OUT_FORCE;
 * OUT's folder is missing (unless FROST__OUT_MAKE_PARENTS and the nearest
 * existing folder takes new ones) or cannot take a new file (a probe file
 * is created and removed); the path or name is too long for the system.
 * NULL entries of `inputs` are skipped. */
enum {
    FROST__OUT_FORCE = 1,        /* a frost file of another kind may be replaced */
    FROST__OUT_MAKE_PARENTS = 2, /* missing folders will be made */
    FROST__OUT_APPEND = 4,       /* OUT is added to, not replaced: another kind is never right */
    FROST__OUT_NO_PROBE = 8      /* only what OUT is: not whether its folder takes a new file */
};
frost_status frost__output_check(const char *out, const char *const *inputs, int n_inputs, const char *kind,
                                 unsigned flags);
/* Are a and b the same file (the identity above)? */
bool frost__same_file(const char *a, const char *b);
/* mkdir -p: dir and every missing folder above it; an error names the folder
 * and the reason ("a file is in the way" when one is). */
frost_status frost__mkdirs(const char *dir);

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

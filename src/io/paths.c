/*
 * paths.c - the one place that decides whether a verb may write its output:
 * never over one of its own inputs (same file by any spelling: symlinks,
 * hard links, "./x" against "x"), never over a frost file of another kind
 * unless forced, never into a folder that cannot take it; all checked
 * before any work starts.
 *
 * A file's identity is its device and inode when it exists, else its
 * resolved parent folder plus its name.
 */
#include "io/io_impl.h"
#include "io/h5_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest name beside a file's own: frost writes NAME.tmp.PID next to NAME
 * and renames it (io/h5util.c), so NAME leaves room for that suffix. */
#define TMP_SUFFIX_ROOM 24

typedef struct identity {
    bool exists;
    dev_t dev;
    ino_t ino;
    char *resolved; /* not existing: realpath(parent) + "/" + name (malloc'd), or NULL */
} identity;

/* The folder part of a path ("." when it has none) and the name part, both
 * malloc'd. */
static frost_status split_path(const char *path, char **dir, char **base)
{
    *dir = *base = NULL;
    size_t L = strlen(path);
    while (L > 1 && path[L - 1] == '/') L--; /* "a/b/" names b */
    const char *end = path + L, *slash = NULL;
    for (const char *p = path; p < end; p++)
        if (*p == '/') slash = p;
    if (!slash) {
        *dir = strdup(".");
        *base = strndup(path, L);
    } else {
        *dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
        *base = strndup(slash + 1, (size_t)(end - slash - 1));
    }
    if (!*dir || !*base) {
        free(*dir);
        free(*base);
        *dir = *base = NULL;
        return frost__error(FROST_ERR_NOMEM, "%s: out of memory", path);
    }
    return FROST_OK;
}

static void identity_of(identity *id, const char *path)
{
    memset(id, 0, sizeof *id);
    struct stat sb;
    if (stat(path, &sb) == 0) {
        id->exists = true;
        id->dev = sb.st_dev;
        id->ino = sb.st_ino;
        return;
    }
    char *dir, *base;
    if (split_path(path, &dir, &base) < 0) return;
    char *real = realpath(dir, NULL);
    if (real) id->resolved = frost__asprintf("%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
    free(real);
    free(dir);
    free(base);
}

static bool same_identity(const identity *a, const identity *b)
{
    if (a->exists != b->exists) return false;
    if (a->exists) return a->dev == b->dev && a->ino == b->ino;
    return a->resolved && b->resolved && strcmp(a->resolved, b->resolved) == 0;
}

bool frost__same_file(const char *a, const char *b)
{
    identity x, y;
    identity_of(&x, a);
    identity_of(&y, b);
    const bool same = same_identity(&x, &y);
    free(x.resolved);
    free(y.resolved);
    return same;
}

/* Can a file be created in folder `dir`? Creates and removes a probe file:
 * permission bits, read-only mounts, ACLs and quotas all answer the same
 * way the real write will. */
static frost_status probe_folder(const char *dir, const char *out, unsigned flags)
{
    if (flags & FROST__OUT_NO_PROBE) return FROST_OK;
    char *probe = frost__asprintf("%s/.frost-probe.%ld", dir, (long)getpid());
    if (!probe) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", out);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    const int e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    if (fd < 0 && e != EEXIST)
        return frost__error(FROST_ERR_IO, "%s: cannot write in the folder %s: %s", out, dir, strerror(e));
    return FROST_OK;
}

/* The format attribute of an existing file ("" if it is not a frost file). */
static void format_of(const char *path, char *fmt, size_t cap)
{
    fmt[0] = 0;
    /* only a regular file can be a frost file; opening a FIFO to look would block */
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return;
    if (frost__h5_peek_format(path, fmt, cap) < 0) fmt[0] = 0;
    frost_clear_error();
    if (strncmp(fmt, "frost.", 6) != 0) fmt[0] = 0;
}

frost_status frost__output_check(const char *out, const char *const *inputs, int n_inputs, const char *kind,
                                 unsigned flags)
{
    frost_status st = FROST_OK;
    char *dir = NULL, *base = NULL, *ancestor = NULL;
    identity o = {0}, in = {0};
    if (!out || !out[0]) return frost__error(FROST_ERR_INVALID, "the output file name is empty");
    const size_t L = strlen(out);
    if (L >= PATH_MAX)
        return frost__error(FROST_ERR_RANGE, "%.120s...: the output path is %zu bytes long; the system opens at most %d",
                            out, L, PATH_MAX - 1);
    FROST_TRY(split_path(out, &dir, &base));
    if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        FROST_FAIL(FROST_ERR_IO, "%s: is a folder, expected a file name", out);
    if (strlen(base) + TMP_SUFFIX_ROOM > NAME_MAX)
        FROST_FAIL(FROST_ERR_RANGE, "%s: the file name is %zu bytes long; at most %d here (the system allows %d, and "
                   "frost writes NAME.tmp.PID beside it first)",
                   out, strlen(base), NAME_MAX - TMP_SUFFIX_ROOM, NAME_MAX);
    identity_of(&o, out);
    for (int k = 0; k < n_inputs; k++) {
        if (!inputs[k]) continue;
        identity_of(&in, inputs[k]);
        const bool same = same_identity(&o, &in);
        free(in.resolved);
        in.resolved = NULL;
        if (same)
            FROST_FAIL(FROST_ERR_IO, "%s: is the input %s (the same file); write the output to another file", out,
                       inputs[k]);
    }
    struct stat sb;
    if (o.exists) {
        if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode))
            FROST_FAIL(FROST_ERR_IO, "%s: is a folder, expected a file name", out);
        if (!(flags & FROST__OUT_FORCE)) {
            char fmt[128];
            format_of(out, fmt, sizeof fmt);
            if (fmt[0] && (!kind || strcmp(fmt, kind) != 0) && (flags & FROST__OUT_APPEND))
                FROST_FAIL(FROST_ERR_IO, "%s: is a %s file, and runs are added only to a %s file; choose another output",
                           out, fmt, kind ? kind : "results");
            if (fmt[0] && (!kind || strcmp(fmt, kind) != 0))
                FROST_FAIL(FROST_ERR_IO,
                           "%s: is a %s file; refusing to replace it with %s%s%s (--force replaces it)", out, fmt,
                           kind ? "a " : "", kind ? kind : "this output", kind ? " file" : "");
        }
        FROST_TRY(probe_folder(dir, out, flags));
    } else if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) FROST_FAIL(FROST_ERR_IO, "%s: %s is not a folder", out, dir);
        FROST_TRY(probe_folder(dir, out, flags));
    } else if (!(flags & FROST__OUT_MAKE_PARENTS)) {
        FROST_FAIL(FROST_ERR_IO, "%s: the folder %s does not exist", out, dir);
    } else {
        /* the nearest existing folder must take the new ones */
        ancestor = strdup(dir);
        if (!ancestor) FROST_FAIL(FROST_ERR_NOMEM, "%s: out of memory", out);
        for (;;) {
            char *slash = strrchr(ancestor, '/');
            if (!slash) {
                strcpy(ancestor, ".");
            } else if (slash == ancestor) {
                ancestor[1] = 0;
            } else {
                *slash = 0;
            }
            if (stat(ancestor, &sb) == 0) break;
            if (errno != ENOENT)
                FROST_FAIL(FROST_ERR_IO, "%s: cannot create the folder %s: %s", out, dir, strerror(errno));
            if (strcmp(ancestor, ".") == 0 || strcmp(ancestor, "/") == 0) break;
        }
        if (!S_ISDIR(sb.st_mode))
            FROST_FAIL(FROST_ERR_IO, "%s: cannot create the folder %s: %s is not a folder", out, dir, ancestor);
        FROST_TRY(probe_folder(ancestor, out, flags));
    }
fail:
    free(o.resolved);
    free(in.resolved);
    free(ancestor);
    free(dir);
    free(base);
    return st;
}

frost_status frost__mkdirs(const char *dir)
{
    char *buf = strdup(dir);
    if (!buf) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", dir);
    for (char *q = buf + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            mkdir(buf, 0755); /* an error shows at the last one */
            *q = '/';
        }
    frost_status st = FROST_OK;
    struct stat sb;
    if (mkdir(buf, 0755) != 0) {
        const int e = errno;
        if (e != EEXIST) st = frost__io_error(dir, e, "cannot create the folder");
        else if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = frost__error(FROST_ERR_IO, "%s: cannot create the folder: a file is in the way", dir);
    }
    free(buf);
    return st;
}

/*
 * fileio.c - checked writes, atomic text files, flock-based locks and the
 * fault-injection hook every write-side operation of frost passes through
 * (file_impl.h).
 */
#include "io/file_impl.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fault injection ---------------------------------------------------------------- */

static _Atomic int64_t fault_ops = 0;   /* operations since the last set */
static _Atomic int64_t fault_at = 0;    /* 0: off */
static _Atomic int fault_err = 0;
static _Atomic bool fault_sticky = false;

void frost__io_fault_set(int64_t n, int err, bool sticky)
{
    atomic_store(&fault_at, n > 0 ? n : 0);
    atomic_store(&fault_err, err);
    atomic_store(&fault_sticky, sticky);
    atomic_store(&fault_ops, 0);
}

int64_t frost__io_fault_count(void) { return atomic_load(&fault_ops); }

int frost__io_fault(void)
{
    const int64_t k = atomic_fetch_add(&fault_ops, 1) + 1;
    const int64_t at = atomic_load(&fault_at);
    if (at > 0 && (k == at || (k > at && atomic_load(&fault_sticky)))) return atomic_load(&fault_err);
    return 0;
}

void frost__wstatus_set(frost__wstatus *ws, int err, const char *op)
{
    if (!ws || ws->err) return;
    ws->err = err ? err : EIO;
    frost__strlcpy(ws->op, op, sizeof ws->op);
}

/* ---- checked system calls ------------------------------------------------------------ */

int frost__sys_create(int *fd, const char *path, int flags, mode_t mode)
{
    *fd = -1;
    int e = frost__io_fault();
    if (e) return e;
    int f;
    do f = open(path, flags | O_CREAT | O_CLOEXEC, mode);
    while (f < 0 && errno == EINTR);
    if (f < 0) return errno;
    *fd = f;
    return 0;
}

int frost__sys_write_at(int fd, const void *buf, size_t n, int64_t off)
{
    int e = frost__io_fault();
    if (e) return e;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = off >= 0 ? pwrite(fd, p, n, (off_t)off) : write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (w == 0) return ENOSPC; /* no progress: the device took nothing */
        p += w;
        n -= (size_t)w;
        if (off >= 0) off += w;
    }
    return 0;
}

int frost__sys_write(int fd, const void *buf, size_t n) { return frost__sys_write_at(fd, buf, n, -1); }

int frost__sys_fsync(int fd)
{
    int e = frost__io_fault();
    if (e) return e;
    /* tmpfs and pipes: nothing to make durable */
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) return errno;
    return 0;
}

int frost__sys_rename(const char *from, const char *to)
{
    int e = frost__io_fault();
    if (e) return e;
    return rename(from, to) == 0 ? 0 : errno;
}

void frost__fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) dir = strdup(".");
    else if (slash == path) dir = strdup("/");
    else dir = strndup(path, (size_t)(slash - path));
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

char *frost__tmp_name(const char *path)
{
    size_t L = strlen(path) + 32;
    char *t = malloc(L);
    if (t) snprintf(t, L, "%s.tmp.%ld", path, (long)getpid());
    return t;
}

void frost__remove_stale_temporaries(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    size_t pl = strlen(base) + 8;
    char *prefix = malloc(pl);
    DIR *d = NULL;
    if (!dir || !prefix) goto done;
    snprintf(prefix, pl, "%s.tmp.", base);
    d = opendir(dir);
    if (!d) goto done;
    const size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, plen) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        (void)unlinkat(dirfd(d), e->d_name, 0);
    }
done:
    if (d) closedir(d);
    free(dir);
    free(prefix);
}

frost_status frost__io_error(const char *path, int err, const char *what)
{
    return frost__error(FROST_ERR_IO, "%s: %s: %s", path, what ? what : "cannot write", strerror(err ? err : EIO));
}

/* ---- atomic text files ------------------------------------------------------------------ */

void frost__text_init(frost__text *t) { memset(t, 0, sizeof *t); }

void frost__text_release(frost__text *t)
{
    free(t->buf);
    memset(t, 0, sizeof *t);
}

void frost__text_printf(frost__text *t, const char *fmt, ...)
{
    if (t->nomem) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->nomem = true;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->len + (size_t)n) cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->nomem = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

void frost__text_json_string(frost__text *t, const char *s)
{
    frost__text_printf(t, "\"");
    for (; *s; s++) {
        const unsigned char u = (unsigned char)*s;
        if (u == '"' || u == '\\') frost__text_printf(t, "\\%c", u);
        else if (u < 0x20) frost__text_printf(t, "\\u%04x", u);
        else frost__text_printf(t, "%c", u);
    }
    frost__text_printf(t, "\"");
}

void frost__text_json_number(frost__text *t, double v)
{
    if (isfinite(v)) frost__text_printf(t, "%.9g", v);
    else frost__text_printf(t, "null"); /* JSON has no NaN or infinity */
}

void frost__json_key(frost__text *t, const char *key)
{
    /* a comma unless the object or array has just opened */
    const char last = t->len ? t->buf[t->len - 1] : '{';
    if (last != '{' && last != '[') frost__text_printf(t, ",");
    if (key) {
        frost__text_json_string(t, key);
        frost__text_printf(t, ":");
    }
}

void frost__json_str(frost__text *t, const char *key, const char *v)
{
    frost__json_key(t, key);
    frost__text_json_string(t, v);
}

void frost__json_num(frost__text *t, const char *key, double v)
{
    frost__json_key(t, key);
    frost__text_json_number(t, v);
}

void frost__json_int(frost__text *t, const char *key, int64_t v)
{
    frost__json_key(t, key);
    frost__text_printf(t, "%lld", (long long)v);
}

void frost__json_bool(frost__text *t, const char *key, bool v)
{
    frost__json_key(t, key);
    frost__text_printf(t, v ? "true" : "false");
}

/* The text in blocks of at most 64 KiB: a long file is several writes. */
static int write_blocks(int fd, const frost__text *t)
{
    for (size_t o = 0; o < t->len; o += 65536) {
        size_t n = t->len - o < 65536 ? t->len - o : 65536;
        int e = frost__sys_write(fd, t->buf + o, n);
        if (e) return e;
    }
    return 0;
}

frost_status frost__text_commit(frost__text *t, const char *path)
{
    frost_status st = FROST_OK;
    char *tmp = NULL;
    int fd = -1, e = 0;
    if (t->nomem) FROST_FAIL(FROST_ERR_NOMEM, "%s: out of memory composing the file", path);
    tmp = frost__tmp_name(path);
    if (!tmp) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    frost__remove_stale_temporaries(path);
    if ((e = frost__sys_create(&fd, tmp, O_WRONLY | O_TRUNC, 0644)) != 0) FROST_FAILED(frost__io_error(path, e, "cannot create"));
    if ((e = write_blocks(fd, t)) != 0 || (e = frost__sys_fsync(fd)) != 0) FROST_FAILED(frost__io_error(path, e, NULL));
    if (close(fd) != 0) {
        fd = -1;
        FROST_FAILED(frost__io_error(path, errno, NULL));
    }
    fd = -1;
    if ((e = frost__sys_rename(tmp, path)) != 0) FROST_FAILED(frost__io_error(path, e, "cannot move the finished file into place"));
    frost__fsync_dir_of(path);
    free(tmp);
    frost__text_release(t);
    return FROST_OK;
fail:
    if (fd >= 0) close(fd);
    if (tmp) unlink(tmp);
    free(tmp);
    frost__text_release(t);
    return st;
}

frost_status frost__text_append_to(frost__text *t, const char *path)
{
    frost_status st = FROST_OK;
    int fd = -1, e = 0;
    if (t->nomem) FROST_FAIL(FROST_ERR_NOMEM, "%s: out of memory composing the line", path);
    if ((e = frost__sys_create(&fd, path, O_WRONLY | O_APPEND, 0644)) != 0) FROST_FAILED(frost__io_error(path, e, "cannot open for appending"));
    /* one write with O_APPEND: lines of several writers do not interleave */
    if ((e = frost__sys_write(fd, t->buf ? t->buf : "", t->len)) != 0 || (e = frost__sys_fsync(fd)) != 0)
        FROST_FAILED(frost__io_error(path, e, NULL));
fail:
    if (fd >= 0 && close(fd) != 0 && st == FROST_OK) st = frost__io_error(path, errno, NULL);
    frost__text_release(t);
    return st;
}

/* ---- locks ---------------------------------------------------------------------------------- */

frost_status frost__flock_take(frost__flock *lk, const char *path, bool wait, const volatile int *stop)
{
    lk->fd = -1;
    lk->path = strdup(path);
    if (!lk->path) return frost__error(FROST_ERR_NOMEM, "out of memory");
    for (;;) {
        int fd = -1;
        int e = frost__sys_create(&fd, path, O_RDWR, 0644);
        if (e) {
            free(lk->path);
            lk->path = NULL;
            return frost__io_error(path, e, "cannot create the lock file");
        }
        /* Waiting polls (LOCK_NB every 20 ms) instead of blocking in flock:
         * a stop asked for just before the call would not interrupt it, and
         * the process would wait for another's whole run. */
        int r;
        for (;;) {
            if (stop && *stop) {
                r = -1;
                errno = EINTR;
                break;
            }
            r = flock(fd, LOCK_EX | LOCK_NB);
            if (r == 0 || !wait || (errno != EWOULDBLOCK && errno != EINTR)) break;
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        }
        if (r != 0) {
            e = errno;
            close(fd);
            free(lk->path);
            lk->path = NULL;
            if (e == EWOULDBLOCK) return FROST_DONE;
            if (e == EINTR) return frost__error(FROST_ERR_INTERRUPTED, "%s: interrupted while waiting for the lock", path);
            return frost__io_error(path, e, "cannot lock");
        }
        /* the holder before us may have removed the file: then this lock
         * guards nothing, and the next open makes a fresh one */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            lk->fd = fd;
            return FROST_OK;
        }
        close(fd);
    }
}

void frost__flock_drop(frost__flock *lk, bool remove)
{
    if (!lk) return;
    if (lk->fd >= 0) {
        if (remove && lk->path) unlink(lk->path);
        close(lk->fd); /* releases the flock */
    }
    lk->fd = -1;
    free(lk->path);
    lk->path = NULL;
}

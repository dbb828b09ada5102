/*
 * file_impl.h - frost's own file writing: every byte frost writes to disk
 * goes through these few calls (and through the HDF5 file driver of
 * h5vfd.c, which uses them), so that
 *
 *   - every failure (a full disk, an I/O error) becomes one error line that
 *     names the file and the system's reason, and the half-written
 *     temporary is removed;
 *   - tests can make the n-th write-side operation fail (frost__io_fault_set)
 *     without LD_PRELOAD or a special file system.
 *
 * Text files (CSV, gnuplot data, JSON) are built in memory and written
 * atomically:
 *
 *     frost__text t;
 *     frost__text_init(&t);
 *     frost__text_printf(&t, "a,b\n%d,%d\n", 1, 2);
 *     st = frost__text_commit(&t, "out/summary.csv");   // temporary, fsync, rename; releases t
 *
 * Locks (flock) on a file beside the data serialise writers:
 *
 *     frost__flock lk;
 *     st = frost__flock_take(&lk, "r.h5.lock", true, NULL);  // blocks; false: FROST_DONE if busy
 *     ...
 *     frost__flock_drop(&lk, false);                      // true: also remove the lock file
 */
#ifndef FROST_FILE_IMPL_H
#define FROST_FILE_IMPL_H

#include "core/core_impl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- fault injection (tests) ----------------------------------------------------
 * Write-side operations are counted: creating a file, each write, fsync,
 * truncate and rename. After frost__io_fault_set(n, err, sticky) the n-th
 * operation from then on (1-based) fails with errno err; with sticky, every
 * later one too (a disk that stays full). n = 0 turns injection off. The
 * count runs whether or not a fault is set. */
void frost__io_fault_set(int64_t n, int err, bool sticky);
int64_t frost__io_fault_count(void);
/* The errno the next operation must fail with, or 0 (counts it). */
int frost__io_fault(void);

/* The first failure of a file being written: errno and the operation. */
typedef struct frost__wstatus {
    int err;                /* 0: no failure */
    char op[16];            /* "create", "write", "fsync", "truncate", "close" */
} frost__wstatus;

/* Record a failure (the first one wins). */
void frost__wstatus_set(frost__wstatus *ws, int err, const char *op);

/* Checked system calls (fault hook, EINTR, short writes). Each returns 0 or
 * an errno value. */
int frost__sys_create(int *fd, const char *path, int flags, mode_t mode);
int frost__sys_write_at(int fd, const void *buf, size_t n, int64_t off);
int frost__sys_write(int fd, const void *buf, size_t n);
int frost__sys_fsync(int fd);
int frost__sys_rename(const char *from, const char *to);

/* Make the rename of a file in `path`'s folder durable (best effort). */
void frost__fsync_dir_of(const char *path);

/* A temporary name beside path: "PATH.tmp.PID" (malloc'd, NULL when out of memory). */
char *frost__tmp_name(const char *path);

/* Remove PATH.tmp.PID files left by processes that died mid-write (their
 * PID no longer runs); a live writer's temporary is left alone. */
void frost__remove_stale_temporaries(const char *path);

/* "PATH: cannot write: REASON" for a file that failed (removes nothing). */
frost_status frost__io_error(const char *path, int err, const char *what);

/* ---- atomic text files ----------------------------------------------------------- */

typedef struct frost__text {
    char *buf;
    size_t len, cap;
    bool nomem;             /* an append ran out of memory: commit fails */
} frost__text;

void frost__text_init(frost__text *t);
void frost__text_printf(frost__text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (quotes, backslashes and control characters escaped). */
void frost__text_json_string(frost__text *t, const char *s);
/* A number as JSON: %.9g, or null for NaN and infinities. */
void frost__text_json_number(frost__text *t, double v);
/* JSON objects field by field: each call appends ,"key":value (no comma
 * right after '{' or '['; key NULL for an array element):
 *     frost__text_printf(&t, "{"); frost__json_str(&t, "run", id); frost__json_num(&t, "loss", l);
 *     frost__text_printf(&t, "}\n"); */
void frost__json_key(frost__text *t, const char *key);
void frost__json_str(frost__text *t, const char *key, const char *v);
void frost__json_num(frost__text *t, const char *key, double v);
void frost__json_int(frost__text *t, const char *key, int64_t v);
void frost__json_bool(frost__text *t, const char *key, bool v);
void frost__text_release(frost__text *t);
/* Write the text to path atomically (temporary, fsync, rename); on failure
 * path is untouched and no temporary is left. Releases t either way. */
frost_status frost__text_commit(frost__text *t, const char *path);
/* Append the text to path (O_APPEND, one write, fsync): for logs. */
frost_status frost__text_append_to(frost__text *t, const char *path);

/* ---- locks ------------------------------------------------------------------------ */

typedef struct frost__flock {
    int fd;                 /* -1: not held */
    char *path;             /* owned */
} frost__flock;

/* Take an exclusive flock on path (created if missing). wait = false: returns
 * FROST_DONE at once when another open file holds it. The lock file may be
 * removed by its holder (frost__flock_drop(.., true)): a waiter that wakes on
 * a removed file tries again, so two holders never coexist. flock locks are
 * released by the kernel when the process dies. Returns
 * FROST_ERR_INTERRUPTED as soon as *stop is set (stop may be NULL), also when
 * it was set before the call: the wait polls every 20 ms. */
frost_status frost__flock_take(frost__flock *lk, const char *path, bool wait, const volatile int *stop);
/* Release; remove = true unlinks the lock file first (while still holding it). */
void frost__flock_drop(frost__flock *lk, bool remove);

#endif

/*
 * frost/status.h - status codes, error messages and logging.
 *
 * Every fallible frost function returns a frost_status. Zero is success,
 * positive values are information (FROST_DONE: nothing left to do), negative
 * values are errors. On an error the library stores a one-line message for
 * the calling thread that names the file, the line or field and what was
 * expected; frost_last_error() returns it. The library never prints and never
 * exits; it reports through the status and, optionally, a log callback.
 *
 *     frost_dataset ds;
 *     if (frost_dataset_load(&ds, "cora.h5") != FROST_OK) {
 *         fprintf(stderr, "frost: %s\n", frost_last_error());
 *         return 1;
 *     }
 */
#ifndef FROST_STATUS_H
#define FROST_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(FROST_BUILDING) && defined(__GNUC__)
#define FROST_API __attribute__((visibility("default")))
#else
#define FROST_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a path in frost's structs (the configuration's dataset and
 * output): Linux's PATH_MAX, 4096 bytes with the NUL, the longest path the
 * kernel opens. A longer value is refused with a one-line error, never cut. */
#define FROST_PATH_CAP 4096

typedef enum frost_status {
    FROST_OK = 0,
    FROST_DONE = 1,            /* information: nothing left to do */
    FROST_ERR_NOMEM = -1,      /* an allocation failed */
    FROST_ERR_IO = -2,         /* a file could not be opened, read or written */
    FROST_ERR_SHAPE = -3,      /* array dimensions disagree */
    FROST_ERR_INVALID = -4,    /* a bad argument */
    FROST_ERR_CONFIG = -5,     /* a bad experiment configuration */
    FROST_ERR_RANGE = -6,      /* a value outside its allowed range */
    FROST_ERR_HDF5 = -7,       /* the HDF5 library reported an error */
    FROST_ERR_METIS = -8,      /* METIS reported an error */
    FROST_ERR_FORMAT = -9,     /* a file's content is malformed */
    FROST_ERR_NUMERIC = -10,   /* NaN or Inf where a finite number is needed */
    FROST_ERR_MPI = -11,       /* MPI reported an error */
    FROST_ERR_INTERRUPTED = -12 /* the caller asked to stop */
} frost_status;

/* Name of a status code ("FROST_ERR_IO"); never NULL. */
FROST_API const char *frost_status_str(frost_status st);

/* Message of the most recent error in this thread (owned by the library,
 * valid until the next failing call in this thread). "" if none. */
FROST_API const char *frost_last_error(void);

/* Where in frost's own source the last error was raised (function, file,
 * line): for bug reports, not for users. */
FROST_API const char *frost_last_error_origin(void);

/* Clear the thread's error message. */
FROST_API void frost_clear_error(void);

typedef enum frost_log_level {
    FROST_LOG_DEBUG = 0,
    FROST_LOG_INFO = 1,
    FROST_LOG_WARN = 2,
    FROST_LOG_ERROR = 3
} frost_log_level;

/* Log sink: called with a complete message (no trailing newline). */
typedef void (*frost_log_fn)(frost_log_level level, const char *msg, void *user);

/* Install a log sink (NULL = discard, the default). Not thread-safe: call it
 * once at start-up. */
FROST_API void frost_log_set(frost_log_fn fn, void *user);

/* Library version, e.g. "0.1.0". */
FROST_API const char *frost_version(void);

/* Worker threads for frost's kernels and for OpenBLAS (n >= 1). */
FROST_API void frost_set_threads(int n);
FROST_API int frost_get_threads(void);

/* The dense-product kernels in use: OpenBLAS's family ("Haswell",
 * "SkylakeX", ...: chosen by OpenBLAS from the CPU, or forced by
 * OPENBLAS_CORETYPE), with "+avx512" or "+avx2" appended where frost's own
 * kernels take the node-by-feature products (both give the same bits; the
 * suffix names the path). Results with the same string are bit-identical. */
FROST_API const char *frost_blas_core(void);

/* The path of frost's own kernels (tall products, SpMM, post block):
 * "avx512", "avx2" or "generic". The best the CPU runs unless FROST_ISA
 * names another; frost_isa_from_env checks that variable (an unknown name,
 * or a path this CPU cannot run, is an error naming it). */
FROST_API const char *frost_isa_name(void);
FROST_API frost_status frost_isa_from_env(void);

#ifdef __cplusplus
}
#endif
#endif

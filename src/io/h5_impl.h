/*
 * h5_impl.h - small HDF5 helpers shared by the dataset, results and model
 * files. Only files in src/io, src/dataset, src/train and src/slt include it.
 *
 * Every function takes `ctx`, the file path, and on failure sets a one-line
 * error "PATH: what failed (HDF5: innermost reason)".
 *
 * Files are written atomically: frost__h5_out_create makes PATH.tmp.PID,
 * frost__h5_out_commit flushes, fsyncs and renames it over PATH; on any error
 * (a full disk included) the temporary is removed, so a crash never leaves a
 * half-written file under the final name.
 */
#ifndef FROST_H5_IMPL_H
#define FROST_H5_IMPL_H

#include "core/core_impl.h"
#include "io/file_impl.h"

#include <hdf5.h>

/* Silence HDF5's own printing of error stacks (the library never prints). */
void frost__h5_init(void);

/* Set an error "ctx: what (HDF5: reason)" and return FROST_ERR_HDF5. */
frost_status frost__h5_fail(const char *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct frost__h5_out {
    hid_t file;
    char *path;             /* owned */
    char *tmp;              /* owned: PATH.tmp.PID */
    frost__wstatus ws;      /* the first write failure (h5vfd.c) */
} frost__h5_out;

/* Written through frost's file driver (h5vfd.c): HDF5 never sees a write
 * error; commit reports the first one ("PATH: cannot write: REASON") and
 * removes the temporary. After commit or abort the struct holds nothing. */
frost_status frost__h5_out_create(frost__h5_out *o, const char *path);
frost_status frost__h5_out_commit(frost__h5_out *o);
void frost__h5_out_abort(frost__h5_out *o);

/* Set a file-access property list to frost's writing driver, failures
 * going to *ws (which must outlive the file). */
frost_status frost__h5_fapl_writer(hid_t fapl, frost__wstatus *ws, const char *ctx);
/* fapl reads the file open as fd (read only; the name given to H5Fopen is
 * only a name), whatever has happened to its path since */
frost_status frost__h5_fapl_fd(hid_t fapl, int fd, const char *ctx);

/* Open an existing frost file for reading and check its `format` attribute
 * equals `format` and its `version` is within [1, max_version]. */
frost_status frost__h5_open_read(hid_t *file, const char *path, const char *format,
                                 int64_t max_version, int64_t *version);

/* Read the `format` attribute of any HDF5 file ("" if absent). Returns
 * FROST_ERR_IO / FROST_ERR_FORMAT if the file is not HDF5 at all. */
frost_status frost__h5_peek_format(const char *path, char *format, size_t cap);

/* Groups: create intermediate groups as needed. */
hid_t frost__h5_group(hid_t loc, const char *name);

/* Attributes. */
frost_status frost__h5_attr_str(hid_t obj, const char *name, const char *value, const char *ctx);
/* Fixed-length string attribute: stored inline in the object header (no
 * 4 KiB global-heap collection as variable-length strings need). */
frost_status frost__h5_attr_strfix(hid_t obj, const char *name, const char *value, const char *ctx);
frost_status frost__h5_attr_i64(hid_t obj, const char *name, int64_t value, const char *ctx);
frost_status frost__h5_attr_f64(hid_t obj, const char *name, double value, const char *ctx);
bool frost__h5_has_attr(hid_t obj, const char *name);
/* Read a string attribute into a malloc'd string (*out). */
frost_status frost__h5_read_attr_str(hid_t obj, const char *name, char **out, const char *ctx);
frost_status frost__h5_read_attr_strbuf(hid_t obj, const char *name, char *buf, size_t cap,
                                        const char *ctx);
frost_status frost__h5_read_attr_i64(hid_t obj, const char *name, int64_t *value, const char *ctx);
frost_status frost__h5_read_attr_f64(hid_t obj, const char *name, double *value, const char *ctx);

/* Write a whole array (rank 1 or 2). Arrays over 64 KiB are chunked (about
 * 1 MiB chunks, whole rows) and compressed with shuffle + deflate(level);
 * level 0 disables compression. */
frost_status frost__h5_write(hid_t loc, const char *name, hid_t memtype, hid_t filetype, int rank,
                             const int64_t *dims, const void *data, int level, const char *ctx);

/* Read a whole array of rank 1 or 2 (rank = 0: accept either) converted to
 * memtype into a malloc'd buffer; dims[0..1] receive the shape (dims[1] = 1
 * for rank 1). */
frost_status frost__h5_read(hid_t loc, const char *name, hid_t memtype, int rank, int64_t dims[2],
                            void **data, const char *ctx);

/* Read into a caller buffer; the shape must be exactly dims (rank 1 or 2). */
frost_status frost__h5_read_into(hid_t loc, const char *name, hid_t memtype, int rank,
                                 const int64_t *dims, void *data, const char *ctx);

/* Rows lo .. hi-1 of an array of rank 1 or 2 with `cols` columns (1 for
 * rank 1; anything else is an error) into buf ((hi - lo) x cols elements of
 * memtype). A chunked array is read chunk by chunk, only the chunks that
 * hold the rows, through the same checks as a whole read. */
frost_status frost__h5_read_rows(hid_t loc, const char *name, hid_t memtype, int64_t cols, int64_t lo, int64_t hi,
                                void *buf, const char *ctx);

/* The length of a rank-1 array, or -1 (missing, or another rank). */
int64_t frost__h5_length(hid_t loc, const char *name);

bool frost__h5_exists(hid_t loc, const char *path);

/* Streaming writer of a (rows) or (rows, cols) array in blocks of whole
 * rows. With compression on, chunks are shuffled and deflated by frost on
 * all threads and handed to HDF5 with H5Dwrite_chunk; the bytes on disk are
 * exactly what HDF5's own shuffle + deflate filters would write, so every
 * HDF5 reader (h5py, h5dump) decodes them as usual. Blocks may have any
 * number of rows; a partial chunk is staged until the next call. */
typedef struct frost__h5_rows {
    hid_t dset;
    hid_t memtype;
    int rank;
    int level;
    bool direct;            /* frost compresses the chunks itself */
    int64_t rows, cols;
    int64_t written;        /* rows accepted so far (staged included) */
    int64_t chunk_rows;
    size_t elsize, row_bytes, chunk_bytes;
    unsigned char *stage;   /* (chunk_bytes): the current partial chunk */
    int64_t staged;         /* rows in stage */
    unsigned char *work;    /* per-chunk shuffle + deflate buffers of a batch */
    size_t *work_len;
    unsigned *work_mask;
    size_t work_stride;
    const char *ctx;
    char name[256];
} frost__h5_rows;

frost_status frost__h5_rows_begin(frost__h5_rows *w, hid_t loc, const char *name, hid_t memtype,
                                  hid_t filetype, int rank, int64_t rows, int64_t cols, int level,
                                  const char *ctx);
frost_status frost__h5_rows_write(frost__h5_rows *w, const void *block, int64_t nrows);
/* Flush the staged rows and close; checks that exactly `rows` were given. */
frost_status frost__h5_rows_end(frost__h5_rows *w);
/* Close without checking (error paths). */
void frost__h5_rows_abort(frost__h5_rows *w);
/* Rows per chunk used for a (rows, cols) array of element size `elsize`. */
int64_t frost__h5_chunk_rows(int64_t rows, int64_t cols, size_t elsize);

#endif

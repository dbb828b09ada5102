/*
 * npy_impl.h - numpy arrays (.npy, and members of .npz archives) read in
 * blocks, converted to float32 or int64 (npy.c).
 *
 *     frost__npy a;
 *     st = frost__npy_open(&a, "raw/data.npz", "node_feat.npy");   // or (path, NULL) for a .npy
 *     // a.ndim, a.shape[0], a.shape[1] (1 when 1-D), a.count elements in C order
 *     st = frost__npy_read_f32(&a, row, a.shape[1]);               // the next elements, converted
 *     frost__npy_close(&a);
 */
#ifndef FROST_NPY_IMPL_H
#define FROST_NPY_IMPL_H

#include "core/core_impl.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct frost__npy {
    char path[FROST_PATH_CAP];
    char member[128];          /* "" for a plain .npy */
    FILE *f;
    void *z;                   /* z_stream of a deflated member, or NULL */
    bool deflated;
    int64_t left;              /* bytes of the member not yet read from the file */
    int64_t unpacked;          /* a member's uncompressed size */
    unsigned char inbuf[65536];
    char kind;                 /* 'f', 'i', 'u', 'b' */
    int size;                  /* bytes per element */
    bool swap, fortran;
    int ndim;                  /* 0 (a scalar), 1 or 2 */
    int64_t shape[2];          /* 1 for missing dimensions */
    int64_t count, done;       /* elements in all, elements read */
    bool missing;              /* zip_find: the member is not in the archive */
} frost__npy;

frost_status frost__npy_open(frost__npy *a, const char *path, const char *member);
/* The next n elements (NaN reads as -1 for integers; other non-integers are refused). */
frost_status frost__npy_read_f32(frost__npy *a, float *out, int64_t n);
frost_status frost__npy_read_i64(frost__npy *a, int64_t *out, int64_t n);
void frost__npy_close(frost__npy *a);
/* Is `member` in the zip archive at path? 1, 0, or an error (a damaged archive). */
int frost__npz_has(const char *path, const char *member);
/* Refuse (naming the file) a 2-D array in Fortran order where rows are read one by one. */
frost_status frost__npy_need_rows(const frost__npy *a);

#endif

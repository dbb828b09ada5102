/*
 * fuzz_util.h - helpers of the libFuzzer targets: the fuzz input as a file
 * (an anonymous memory file, reached through /proc/self/fd), so the readers
 * run on their real entry points.
 */
#ifndef FROST_FUZZ_UTIL_H
#define FROST_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Write data to a fresh memory file; path receives a name HDF5 and zlib can open. */
static inline int fuzz_memfile(const unsigned char *data, size_t n, char *path, size_t cap)
{
    int fd = memfd_create("frost-fuzz", 0);
    if (fd < 0) abort();
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif

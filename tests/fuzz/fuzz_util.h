/*
 * fuzz_util.h - helpers of the libFuzzer targets: the fuzz input as a file,
 * so the readers run on their real entry points.
 */
#ifndef FROST_FUZZ_UTIL_H
#define FROST_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The fuzz input as a file that every reader can open: zlib and libconfig
 * would take an anonymous memory file (memfd, /proc/self/fd/N), but HDF5
 * resolves the real path of what it opens and refuses a memfd, so the input
 * goes to one file per process in /dev/shm (tmpfs: memory, no disk), rewritten
 * for every input and removed at exit. Returns an open descriptor of it (the
 * caller closes it); path receives its name. */
static char fuzz_path_[64];

static void fuzz_unlink_(void) { unlink(fuzz_path_); }

static inline int fuzz_memfile(const unsigned char *data, size_t n, char *path, size_t cap)
{
    if (!fuzz_path_[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_path_, sizeof fuzz_path_, "%s/frost-fuzz-%d", dir, (int)getpid());
        atexit(fuzz_unlink_);
    }
    int fd = open(fuzz_path_, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    snprintf(path, cap, "%s", fuzz_path_);
    return fd;
}

#endif

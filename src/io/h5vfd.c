/*
 * h5vfd.c - the HDF5 file driver frost writes its files with.
 *
 * HDF5 1.10 does not survive its own write errors: on a full disk it has
 * been seen to crash inside H5Ocopy and again at exit while closing the
 * failed file. So this driver never lets HDF5 see one. It is a plain POSIX
 * driver (pread/pwrite on one descriptor, like HDF5's sec2) with one
 * difference: the first failing operation (a write, truncate or the final
 * fsync; the fault hook of file_impl.h included) is recorded in the
 * frost__wstatus the file was created with, and from then on writes only
 * go to memory. HDF5 carries on undisturbed; the writer (frost__h5_out_commit)
 * finds the recorded error after H5Fclose, removes the temporary file and
 * reports "PATH: cannot write: REASON". Nothing the driver dropped is ever
 * renamed into place.
 *
 * After a failure, metadata writes are kept in memory (up to 256 MiB) and
 * laid over later reads, so HDF5 reads back what it wrote if it evicts and
 * reloads a metadata block. Raw data written after a failure is dropped:
 * HDF5 only reads raw data back to fill partial sieve blocks, and the file
 * is discarded anyway.
 */
#include "io/h5_impl.h"
#include "io/file_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fv_info {
    frost__wstatus *ws;     /* where the first failure goes (owned by the writer) */
    int fd;                 /* >= 0: read this open file (a copy of the descriptor), not the name */
} fv_info;

typedef struct fv_extent {
    haddr_t addr;
    size_t size;
    struct fv_extent *next;
    unsigned char data[];
} fv_extent;

typedef struct fv_file {
    H5FD_t pub;             /* must come first */
    int fd;
    haddr_t eoa, eof;
    dev_t dev;
    ino_t ino;
    frost__wstatus *ws;
    bool failed;
    fv_extent *shadow, *shadow_tail;
    size_t shadow_bytes;
} fv_file;

#define FV_MAXADDR ((haddr_t)(((uint64_t)1 << 63) - 1))
#define FV_SHADOW_CAP ((size_t)256 << 20)

static void fv_fail(fv_file *f, int err, const char *op)
{
    if (!f->failed) frost__wstatus_set(f->ws, err, op);
    f->failed = true;
}

static void *fv_fapl_get(H5FD_t *file)
{
    fv_file *f = (fv_file *)file;
    fv_info *i = malloc(sizeof *i);
    if (i) i->ws = f->ws, i->fd = -1;
    return i;
}

static void *fv_fapl_copy(const void *old)
{
    fv_info *i = malloc(sizeof *i);
    if (i) memcpy(i, old, sizeof *i);
    return i;
}

static herr_t fv_fapl_free(void *p)
{
    free(p);
    return 0;
}

static H5FD_t *fv_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr)
{
    (void)maxaddr;
    const fv_info *info = H5Pget_driver_info(fapl);
    frost__wstatus *ws = info ? info->ws : NULL;
    int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
    if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
    if (flags & H5F_ACC_EXCL) o |= O_EXCL;
    int fd = -1;
    if (info && info->fd >= 0) {
        if (flags & (H5F_ACC_RDWR | H5F_ACC_CREAT)) return NULL;
        fd = fcntl(info->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return NULL;
    } else if (flags & H5F_ACC_CREAT) {
        int e = frost__sys_create(&fd, name, o, 0644);
        if (e) {
            frost__wstatus_set(ws, e, "create");
            return NULL;
        }
    } else {
        /* HDF5 first tries the name without creating it: a new file is not there yet */
        fd = open(name, o | O_CLOEXEC);
        if (fd < 0) return NULL;
    }
    struct stat sb;
    fv_file *f = calloc(1, sizeof *f);
    if (!f || fstat(fd, &sb) != 0) {
        free(f);
        close(fd);
        return NULL;
    }
    f->fd = fd;
    f->eof = (haddr_t)sb.st_size;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->ws = ws;
    return &f->pub;
}

static herr_t fv_close(H5FD_t *file)
{
    fv_file *f = (fv_file *)file;
    if (!f->failed && (f->pub.access_flags & H5F_ACC_RDWR)) {
        int e = frost__sys_fsync(f->fd);
        if (e) fv_fail(f, e, "fsync");
    }
    if (close(f->fd) != 0 && !f->failed) fv_fail(f, errno, "close");
    for (fv_extent *x = f->shadow; x;) {
        fv_extent *n = x->next;
        free(x);
        x = n;
    }
    free(f);
    return 0;
}

static int fv_cmp(const H5FD_t *a, const H5FD_t *b)
{
    const fv_file *x = (const fv_file *)a, *y = (const fv_file *)b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
    return 0;
}

static herr_t fv_query(const H5FD_t *file, unsigned long *flags)
{
    (void)file;
    /* what HDF5's own POSIX driver asks for: metadata gathered into large
     * writes, raw data sieved */
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA;
    return 0;
}

static haddr_t fv_get_eoa(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const fv_file *)file)->eoa;
}

static herr_t fv_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr)
{
    (void)type;
    ((fv_file *)file)->eoa = addr;
    return 0;
}

static haddr_t fv_get_eof(const H5FD_t *file, H5FD_mem_t type)
{
    (void)type;
    return ((const fv_file *)file)->eof;
}

static herr_t fv_get_handle(H5FD_t *file, hid_t fapl, void **handle)
{
    (void)fapl;
    *handle = &((fv_file *)file)->fd;
    return 0;
}

static herr_t fv_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf)
{
    (void)type, (void)dxpl;
    fv_file *f = (fv_file *)file;
    unsigned char *p = buf;
    size_t left = size;
    haddr_t at = addr;
    while (left > 0) {
        ssize_t r = pread(f->fd, p, left, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            /* past the end (or unreadable after a failure): zeros, as sec2 */
            if (r < 0 && !f->failed) fv_fail(f, errno, "read");
            memset(p, 0, left);
            break;
        }
        p += r;
        at += (haddr_t)r;
        left -= (size_t)r;
    }
    /* what was written after a failure, in write order */
    for (const fv_extent *x = f->shadow; x; x = x->next) {
        haddr_t lo = x->addr > addr ? x->addr : addr;
        haddr_t hi = x->addr + x->size < addr + size ? x->addr + x->size : addr + size;
        if (lo < hi) memcpy((unsigned char *)buf + (lo - addr), x->data + (lo - x->addr), (size_t)(hi - lo));
    }
    return 0;
}

static void fv_keep(fv_file *f, haddr_t addr, size_t size, const void *buf)
{
    if (size > FV_SHADOW_CAP - f->shadow_bytes) return; /* shadow_bytes <= FV_SHADOW_CAP */
    fv_extent *x = malloc(sizeof *x + size);
    if (!x) return;
    x->addr = addr;
    x->size = size;
    x->next = NULL;
    memcpy(x->data, buf, size);
    if (f->shadow_tail) f->shadow_tail->next = x;
    else f->shadow = x;
    f->shadow_tail = x;
    f->shadow_bytes += size;
}

static herr_t fv_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf)
{
    (void)dxpl;
    fv_file *f = (fv_file *)file;
    if (!f->failed) {
        int e = frost__sys_write_at(f->fd, buf, size, (int64_t)addr);
        if (e) fv_fail(f, e, "write");
    }
    if (f->failed && type != H5FD_MEM_DRAW) fv_keep(f, addr, size, buf);
    if (addr + size > f->eof) f->eof = addr + size;
    return 0;
}

static herr_t fv_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing)
{
    (void)dxpl, (void)closing;
    fv_file *f = (fv_file *)file;
    if (f->eoa == f->eof) return 0;
    if (!f->failed) {
        int e = frost__io_fault();
        if (!e && ftruncate(f->fd, (off_t)f->eoa) != 0) e = errno;
        if (e) fv_fail(f, e, "truncate");
    }
    f->eof = f->eoa;
    return 0;
}

static const H5FD_class_t fv_class = {
    .name = "frost",
    .maxaddr = FV_MAXADDR,
    .fc_degree = H5F_CLOSE_SEMI, /* an object left open fails the close (and the commit) instead of skipping fv_close */
    .fapl_size = sizeof(fv_info),
    .fapl_get = fv_fapl_get,
    .fapl_copy = fv_fapl_copy,
    .fapl_free = fv_fapl_free,
    .open = fv_open,
    .close = fv_close,
    .cmp = fv_cmp,
    .query = fv_query,
    .get_eoa = fv_get_eoa,
    .set_eoa = fv_set_eoa,
    .get_eof = fv_get_eof,
    .get_handle = fv_get_handle,
    .read = fv_read,
    .write = fv_write,
    .truncate = fv_truncate,
    .fl_map = H5FD_FLMAP_DICHOTOMY,
};

static pthread_once_t fv_once = PTHREAD_ONCE_INIT;
static hid_t fv_id = H5I_INVALID_HID;
static void fv_register(void) { fv_id = H5FDregister(&fv_class); }

frost_status frost__h5_fapl_writer(hid_t fapl, frost__wstatus *ws, const char *ctx)
{
    pthread_once(&fv_once, fv_register);
    fv_info info = {ws, -1};
    if (fv_id < 0 || H5Pset_driver(fapl, fv_id, &info) < 0)
        return frost__h5_fail(ctx, "cannot set up frost's HDF5 file driver");
    return FROST_OK;
}

frost_status frost__h5_fapl_fd(hid_t fapl, int fd, const char *ctx)
{
    pthread_once(&fv_once, fv_register);
    fv_info info = {NULL, fd};
    if (fv_id < 0 || H5Pset_driver(fapl, fv_id, &info) < 0)
        return frost__h5_fail(ctx, "cannot set up frost's HDF5 file driver");
    return FROST_OK;
}

/*
 * h5util.c - HDF5 helpers: atomic files, attributes, whole arrays and
 * streamed row blocks, all reporting one-line errors that name the file.
 */
#include "io/h5_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static void h5_init_once(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
void frost__h5_init(void) { pthread_once(&h5_once, h5_init_once); }

/* Innermost (first pushed) HDF5 error description. */
static herr_t walk_first(unsigned n, const H5E_error2_t *e, void *data)
{
    char *out = data;
    if (n == 0 && e->desc) frost__strlcpy(out, e->desc, 200);
    return 0;
}

frost_status frost__h5_fail(const char *ctx, const char *fmt, ...)
{
    char what[512], reason[200] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, reason);
    H5Eclear2(H5E_DEFAULT);
    if (reason[0]) return frost__error(FROST_ERR_HDF5, "%s: %s (HDF5: %s)", ctx, what, reason);
    return frost__error(FROST_ERR_HDF5, "%s: %s", ctx, what);
}

frost_status frost__h5_out_create(frost__h5_out *o, const char *path)
{
    frost_status st = FROST_OK;
    hid_t fapl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID;
    frost__h5_init();
    memset(o, 0, sizeof *o);
    o->file = H5I_INVALID_HID;
    o->path = strdup(path);
    o->tmp = frost__tmp_name(path);
    if (!o->path || !o->tmp) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    frost__remove_stale_temporaries(path);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fapl < 0 || fcpl < 0) FROST_FAILED(frost__h5_fail(path, "cannot create property lists"));
    FROST_TRY(frost__h5_fapl_writer(fapl, &o->ws, path));
    /* The newest format that HDF5 1.10 readers (and h5py) understand. */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V110);
    /* The root group keeps its attributes in its header (compact) however
     * many there are: no fractal heap for a dozen attributes. */
    H5Pset_attr_phase_change(fcpl, 1000, 900);
    o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (o->file < 0) {
        H5Eclear2(H5E_DEFAULT);
        FROST_FAILED(o->ws.err ? frost__io_error(path, o->ws.err, "cannot create")
                               : frost__error(FROST_ERR_IO, "%s: cannot create (HDF5 create failed)", o->tmp));
    }
fail:
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (st < 0) frost__h5_out_abort(o);
    return st;
}

static void out_free(frost__h5_out *o)
{
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
}

frost_status frost__h5_out_commit(frost__h5_out *o)
{
    frost_status st = FROST_OK;
    if (o->file >= 0) {
        herr_t e = H5Fclose(o->file);
        o->file = H5I_INVALID_HID;
        /* a write failure first: HDF5 never saw it */
        if (o->ws.err) FROST_FAILED(frost__io_error(o->path, o->ws.err, NULL));
        if (e < 0) FROST_FAILED(frost__h5_fail(o->path, "cannot close"));
    }
    if (o->ws.err) FROST_FAILED(frost__io_error(o->path, o->ws.err, NULL));
    int err = frost__sys_rename(o->tmp, o->path);
    if (err) FROST_FAILED(frost__io_error(o->path, err, "cannot move the finished file into place"));
    frost__fsync_dir_of(o->path);
    out_free(o);
    return FROST_OK;
fail:
    if (o->tmp) unlink(o->tmp);
    out_free(o);
    return st;
}

void frost__h5_out_abort(frost__h5_out *o)
{
    if (o->file >= 0) H5Fclose(o->file);
    H5Eclear2(H5E_DEFAULT);
    o->file = H5I_INVALID_HID;
    if (o->tmp) unlink(o->tmp);
    out_free(o);
}

frost_status frost__h5_peek_format(const char *path, char *format, size_t cap)
{
    frost__h5_init();
    format[0] = 0;
    if (access(path, R_OK) != 0) return frost__error(FROST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return frost__error(FROST_ERR_FORMAT, "%s: not an HDF5 file", path);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return frost__h5_fail(path, "cannot open the HDF5 file");
    /* an unreadable root group (a damaged file) is not a missing attribute */
    const htri_t has = H5Aexists(f, "format");
    if (has < 0) {
        frost_status st = frost__h5_fail(path, "cannot read the root group, the file is damaged");
        H5Fclose(f);
        return st;
    }
    if (has > 0) {
        frost_status st = frost__h5_read_attr_strbuf(f, "format", format, cap, path);
        if (st < 0) {
            H5Fclose(f);
            return st;
        }
    }
    H5Fclose(f);
    return FROST_OK;
}

frost_status frost__h5_open_read(hid_t *file, const char *path, const char *format, int64_t max_version,
                                 int64_t *version)
{
    char fmt[128];
    frost_status st = frost__h5_peek_format(path, fmt, sizeof fmt);
    *file = H5I_INVALID_HID;
    if (st < 0) return st;
    if (strcmp(fmt, format) != 0) {
        if (!fmt[0])
            return frost__error(FROST_ERR_FORMAT, "%s: attribute 'format' missing, expected \"%s\" (not a frost file)",
                                path, format);
        return frost__error(FROST_ERR_FORMAT, "%s: attribute 'format' is \"%s\", expected \"%s\"", path, fmt, format);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return frost__h5_fail(path, "cannot open");
    int64_t v = 0;
    st = frost__h5_read_attr_i64(f, "version", &v, path);
    if (st < 0) {
        H5Fclose(f);
        return st;
    }
    if (v < 1 || v > max_version) {
        H5Fclose(f);
        return frost__error(FROST_ERR_FORMAT,
                            "%s: attribute 'version' is %lld, this frost reads %s versions 1 .. %lld;"
                            " re-create the file with this frost",
                            path, (long long)v, format, (long long)max_version);
    }
    if (version) *version = v;
    *file = f;
    return FROST_OK;
}

hid_t frost__h5_group(hid_t loc, const char *name)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    /* Keep attributes in the object header (compact) however many there are:
     * HDF5 1.10's H5Ocopy crashes copying dense attribute storage that holds
     * variable-length strings, and results files copy run groups. */
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_attr_phase_change(gcpl, 1000, 900);
    hid_t g = H5Gcreate2(loc, name, lcpl, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    H5Pclose(lcpl);
    return g;
}

static frost_status attr_write(hid_t obj, const char *name, hid_t type, const void *v, const char *ctx)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a >= 0 ? H5Awrite(a, type, v) : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    if (e < 0) return frost__h5_fail(ctx, "cannot write attribute '%s'", name);
    return FROST_OK;
}

/* Text attributes are fixed-length UTF-8 strings: readable by h5py as str,
 * and read back without HDF5's global heap (see frost__h5_read_attr_str). */
frost_status frost__h5_attr_str(hid_t obj, const char *name, const char *value, const char *ctx)
{
    return frost__h5_attr_strfix(obj, name, value, ctx);
}

frost_status frost__h5_attr_strfix(hid_t obj, const char *name, const char *value, const char *ctx)
{
    const char *v = value ? value : "";
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    H5Tset_cset(t, H5T_CSET_UTF8);
    frost_status st = attr_write(obj, name, t, v, ctx);
    H5Tclose(t);
    return st;
}

frost_status frost__h5_attr_i64(hid_t obj, const char *name, int64_t value, const char *ctx)
{
    return attr_write(obj, name, H5T_NATIVE_INT64, &value, ctx);
}

frost_status frost__h5_attr_f64(hid_t obj, const char *name, double value, const char *ctx)
{
    return attr_write(obj, name, H5T_NATIVE_DOUBLE, &value, ctx);
}

bool frost__h5_has_attr(hid_t obj, const char *name)
{
    htri_t e = H5Aexists(obj, name);
    if (e < 0) H5Eclear2(H5E_DEFAULT);
    return e > 0;
}

bool frost__h5_exists(hid_t loc, const char *path)
{
    /* H5Lexists needs every intermediate link to exist: walk the path. */
    char buf[512];
    frost__strlcpy(buf, path, sizeof buf);
    for (char *p = buf + (buf[0] == '/');; p++) {
        char c = *p;
        if (c == '/' || c == 0) {
            *p = 0;
            htri_t e = H5Lexists(loc, buf, H5P_DEFAULT);
            if (e <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
            if (c == 0) return true;
            *p = '/';
        }
    }
}

static hid_t attr_open(hid_t obj, const char *name, const char *ctx, frost_status *st)
{
    if (!frost__h5_has_attr(obj, name)) {
        *st = frost__error(FROST_ERR_FORMAT, "%s: attribute '%s' missing", ctx, name);
        return H5I_INVALID_HID;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) *st = frost__h5_fail(ctx, "cannot open attribute '%s'", name);
    return a;
}

frost_status frost__h5_read_attr_str(hid_t obj, const char *name, char **out, const char *ctx)
{
    frost_status st = FROST_OK;
    *out = NULL;
    hid_t a = attr_open(obj, name, ctx, &st);
    if (a < 0) return st;
    hid_t t = H5Aget_type(a);
    hid_t sp = H5Aget_space(a);
    if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_npoints(sp) != 1) {
        st = frost__error(FROST_ERR_FORMAT, "%s: attribute '%s' is not a text string", ctx, name);
    } else if (H5Tis_variable_str(t) > 0) {
        /* variable-length strings live in HDF5's global heap, which HDF5
         * 1.10 reads without bounds checks: a damaged file crashes it
         * (found by fuzzing). frost writes fixed-length strings only. */
        st = frost__error(FROST_ERR_FORMAT,
                          "%s: attribute '%s' is a variable-length string (h5py's default for str); frost reads "
                          "fixed-length strings only: write np.bytes_(value) or "
                          "h5py.string_dtype('utf-8', len) (tools/python/frost.py does; "
                          "tools/upgrade-h5-strings.py converts a file)",
                          ctx, name);
    } else {
        size_t n = H5Tget_size(t);
        if (n > (1u << 24)) {
            st = frost__error(FROST_ERR_FORMAT, "%s: attribute '%s' is implausibly long", ctx, name);
        } else {
            char *v = calloc(n + 1, 1);
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, n + 1);
            H5Tset_strpad(mt, H5T_STR_NULLTERM);
            H5Tset_cset(mt, H5Tget_cset(t));
            if (!v)
                st = frost__error(FROST_ERR_NOMEM, "out of memory");
            else if (H5Aread(a, mt, v) < 0) {
                free(v);
                st = frost__h5_fail(ctx, "cannot read attribute '%s'", name);
            } else {
                *out = v;
            }
            H5Tclose(mt);
        }
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return st;
}

frost_status frost__h5_read_attr_strbuf(hid_t obj, const char *name, char *buf, size_t cap, const char *ctx)
{
    char *s = NULL;
    frost_status st = frost__h5_read_attr_str(obj, name, &s, ctx);
    if (st < 0) return st;
    frost__strlcpy(buf, s, cap);
    free(s);
    return FROST_OK;
}

static frost_status attr_read_num(hid_t obj, const char *name, hid_t mt, void *v, const char *ctx)
{
    frost_status st = FROST_OK;
    hid_t a = attr_open(obj, name, ctx, &st);
    if (a < 0) return st;
    hid_t t = H5Aget_type(a);
    hid_t sp = H5Aget_space(a);
    H5T_class_t c = H5Tget_class(t);
    if ((c != H5T_INTEGER && c != H5T_FLOAT) || H5Sget_simple_extent_npoints(sp) != 1)
        st = frost__error(FROST_ERR_FORMAT, "%s: attribute '%s' is not a number", ctx, name);
    else if (H5Aread(a, mt, v) < 0)
        st = frost__h5_fail(ctx, "cannot read attribute '%s'", name);
    H5Sclose(sp);
    H5Tclose(t);
    H5Aclose(a);
    return st;
}

frost_status frost__h5_read_attr_i64(hid_t obj, const char *name, int64_t *value, const char *ctx)
{
    return attr_read_num(obj, name, H5T_NATIVE_INT64, value, ctx);
}

frost_status frost__h5_read_attr_f64(hid_t obj, const char *name, double *value, const char *ctx)
{
    return attr_read_num(obj, name, H5T_NATIVE_DOUBLE, value, ctx);
}

int64_t frost__h5_chunk_rows(int64_t rows, int64_t cols, size_t elsize)
{
    int64_t row_bytes = (cols > 0 ? cols : 1) * (int64_t)elsize;
    int64_t r = (int64_t)(1u << 20) / row_bytes;
    if (r < 1) r = 1;
    if (r > rows) r = rows > 0 ? rows : 1;
    return r;
}

static hid_t make_dcpl(int rank, const int64_t *dims, size_t elsize, int level, bool force_chunk)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int64_t total = (int64_t)elsize;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if ((total > (64 << 10) || force_chunk) && dims[0] > 0) {
        hsize_t chunk[2];
        int64_t cols = rank == 2 ? dims[1] : 1;
        chunk[0] = (hsize_t)frost__h5_chunk_rows(dims[0], cols, elsize);
        if (rank == 2) chunk[1] = (hsize_t)(cols > 0 ? cols : 1);
        H5Pset_chunk(dcpl, rank, chunk);
        if (level > 0) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, (unsigned)level);
        }
    }
    return dcpl;
}

frost_status frost__h5_write(hid_t loc, const char *name, hid_t memtype, hid_t filetype, int rank, const int64_t *dims,
                             const void *data, int level, const char *ctx)
{
    int64_t total = (int64_t)H5Tget_size(filetype) * dims[0] * (rank == 2 ? dims[1] : 1);
    if (total > (64 << 10)) {
        /* large: chunked, compressed on all threads */
        frost__h5_rows w;
        frost_status st =
            frost__h5_rows_begin(&w, loc, name, memtype, filetype, rank, dims[0], rank == 2 ? dims[1] : 1, level, ctx);
        if (st < 0) return st;
        st = frost__h5_rows_write(&w, data, dims[0]);
        if (st == FROST_OK)
            st = frost__h5_rows_end(&w);
        else
            frost__h5_rows_abort(&w);
        return st;
    }
    hsize_t hd[2] = {(hsize_t)dims[0], rank == 2 ? (hsize_t)dims[1] : 1};
    hid_t sp = H5Screate_simple(rank, hd, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(loc, name, filetype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = -1;
    if (d >= 0) {
        bool empty = hd[0] == 0 || hd[1] == 0;
        e = empty ? 0 : H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        H5Dclose(d);
    }
    H5Pclose(lcpl);
    H5Sclose(sp);
    if (e < 0) return frost__h5_fail(ctx, "cannot write dataset '%s'", name);
    return FROST_OK;
}

static frost_status open_checked(hid_t loc, const char *name, int rank, int64_t dims[2], hid_t *dset, const char *ctx)
{
    if (!frost__h5_exists(loc, name)) return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' missing", ctx, name);
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return frost__h5_fail(ctx, "cannot open dataset '%s'", name);
    hid_t sp = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(sp);
    hsize_t hd[2] = {0, 1};
    if (r == 1 || r == 2) H5Sget_simple_extent_dims(sp, hd, NULL);
    H5Sclose(sp);
    if ((rank != 0 && r != rank) || (r != 1 && r != 2)) {
        H5Dclose(d);
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' has %d dimensions, expected %d", ctx, name, r,
                            rank ? rank : 1);
    }
    dims[0] = (int64_t)hd[0];
    dims[1] = r == 2 ? (int64_t)hd[1] : 1;
    /* HDF5 1.10 trusts a damaged file in two places a fuzzer found: data
     * of another class goes through conversions that assume well-formed
     * input, and a compact dataset's stored bytes are copied as if they
     * covered the dataspace. frost's arrays are numbers; a compact one must
     * hold exactly its elements. */
    hid_t t = H5Dget_type(d);
    const H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    const size_t tsize = t >= 0 ? H5Tget_size(t) : 0;
    if (t >= 0) H5Tclose(t);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        H5Dclose(d);
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' does not hold numbers", ctx, name);
    }
    hid_t pl = H5Dget_create_plist(d);
    const H5D_layout_t lay = pl >= 0 ? H5Pget_layout(pl) : H5D_LAYOUT_ERROR;
    if (pl >= 0) H5Pclose(pl);
    if (lay == H5D_COMPACT && H5Dget_storage_size(d) != (hsize_t)dims[0] * (hsize_t)dims[1] * tsize) {
        H5Dclose(d);
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' is damaged (its stored size does not match its shape)",
                            ctx, name);
    }
    *dset = d;
    return FROST_OK;
}

/* "int32", "float64", "uint8", "big-endian int64", ... for messages. */
static void type_name(hid_t t, char *buf, size_t cap)
{
    const H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    const size_t bits = t >= 0 ? 8 * H5Tget_size(t) : 0;
    const bool big = t >= 0 && (c == H5T_INTEGER || c == H5T_FLOAT) && H5Tget_order(t) == H5T_ORDER_BE;
    const bool uns = c == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE;
    snprintf(buf, cap, "%s%s%zu", big ? "big-endian " : "",
             c == H5T_FLOAT ? "float" : c == H5T_INTEGER ? (uns ? "uint" : "int") : "other", bits);
}

/* ---- reading whole arrays --------------------------------------------------
 * Chunked arrays are read chunk by chunk, their filters undone here: HDF5
 * 1.10 copies a decompressed chunk as if it had the chunk's size, so a
 * damaged file whose chunk inflates short overflows its buffer (found by
 * fuzzing). Here every chunk must inflate to exactly its size. frost writes
 * shuffle + deflate (or no filter); other filters are refused. */

/* Chunk `raw` (nbytes) -> out (cb bytes): inflate if deflated, unshuffle
 * if shuffled (elements of ts bytes). */
static bool unfilter_chunk(const unsigned char *raw, size_t nbytes, unsigned char *out, unsigned char *tmp, size_t cb,
                           size_t ts, bool deflated, bool shuffled)
{
    const unsigned char *src = raw;
    if (deflated) {
        uLongf got = (uLongf)cb;
        if (uncompress(shuffled ? tmp : out, &got, raw, (uLong)nbytes) != Z_OK || got != cb) return false;
        src = shuffled ? tmp : out;
    } else if (nbytes != cb) {
        return false;
    }
    if (shuffled) {
        const size_t n = cb / ts;
        for (size_t b = 0; b < ts; b++)
            for (size_t i = 0; i < n; i++) out[i * ts + b] = src[b * n + i];
    } else if (!deflated) {
        memcpy(out, src, cb);
    }
    return true;
}

/* Rows lo .. hi-1 of a chunked dataset d into buf ((hi - lo) rows): only
 * the chunks that hold them are read. */
static frost_status read_chunked(hid_t d, hid_t pl, hid_t memtype, void *buf, const int64_t dims[2], int rank,
                                 int64_t lo, int64_t hi, const char *ctx, const char *name)
{
    frost_status st = FROST_OK;
    unsigned char *raw = NULL, *chunk = NULL, *tmp = NULL;
    bool deflated = false, shuffled = false;
    const int nf = H5Pget_nfilters(pl);
    for (int k = 0; k < nf; k++) {
        unsigned flags = 0, cd[8];
        size_t ncd = 8;
        const H5Z_filter_t id = H5Pget_filter2(pl, (unsigned)k, &flags, &ncd, cd, 0, NULL, NULL);
        if (id == H5Z_FILTER_SHUFFLE && k == 0 && !shuffled)
            shuffled = true;
        else if (id == H5Z_FILTER_DEFLATE && k == nf - 1 && !deflated)
            deflated = true;
        else
            return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' uses a filter frost does not read (HDF5 id %d)",
                                ctx, name, (int)id);
    }
    hsize_t cdim[2] = {1, 1};
    if (H5Pget_chunk(pl, rank, cdim) != rank || cdim[0] == 0 || cdim[1] == 0)
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' has a damaged chunk layout", ctx, name);
    const size_t ts = H5Tget_size(memtype);
    const int64_t cols = rank == 2 ? dims[1] : 1;
    const uint64_t cb64 = (uint64_t)cdim[0] * (uint64_t)cdim[1] * ts;
    if (cdim[0] > (hsize_t)INT32_MAX || cdim[1] > (hsize_t)INT32_MAX || cb64 > (1ull << 31))
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' has implausible chunks", ctx, name);
    const size_t cb = (size_t)cb64;
    const size_t cap = cb + cb / 8 + 1024; /* deflate never grows data by more */
    FROST_ALLOC(raw, cap);
    FROST_ALLOC(chunk, cb);
    FROST_ALLOC(tmp, cb);
    for (int64_t r0 = lo / (int64_t)cdim[0] * (int64_t)cdim[0]; r0 < hi; r0 += (int64_t)cdim[0])
        for (int64_t c0 = 0; c0 < cols; c0 += (int64_t)cdim[1]) {
            hsize_t off[2] = {(hsize_t)r0, (hsize_t)c0};
            hsize_t nb = 0;
            if (H5Dget_chunk_storage_size(d, off, &nb) < 0)
                FROST_FAILED(frost__h5_fail(ctx, "cannot read dataset '%s'", name));
            if (nb == 0) {
                memset(chunk, 0, cb); /* never written: the fill value, 0 */
            } else {
                uint32_t mask = 0;
                if (nb > cap) FROST_FAIL(FROST_ERR_FORMAT, "%s: dataset '%s' has a damaged chunk", ctx, name);
                if (H5Dread_chunk(d, H5P_DEFAULT, off, &mask, raw) < 0)
                    FROST_FAILED(frost__h5_fail(ctx, "cannot read dataset '%s'", name));
                const bool sk_shuffle = shuffled && (mask & 1u), sk_deflate = deflated && (mask & (1u << (nf - 1)));
                if (!unfilter_chunk(raw, (size_t)nb, chunk, tmp, cb, ts, deflated && !sk_deflate,
                                    shuffled && !sk_shuffle))
                    FROST_FAIL(FROST_ERR_FORMAT, "%s: dataset '%s' has a damaged chunk at row %lld", ctx, name,
                               (long long)r0);
            }
            const int64_t nr = dims[0] - r0 < (int64_t)cdim[0] ? dims[0] - r0 : (int64_t)cdim[0];
            const int64_t nc = cols - c0 < (int64_t)cdim[1] ? cols - c0 : (int64_t)cdim[1];
            for (int64_t i = 0; i < nr; i++)
                if (r0 + i >= lo && r0 + i < hi)
                    memcpy((unsigned char *)buf + ((size_t)(r0 + i - lo) * (size_t)cols + (size_t)c0) * ts,
                           chunk + (size_t)i * (size_t)cdim[1] * ts, (size_t)nc * ts);
        }
fail:
    free(raw);
    free(chunk);
    free(tmp);
    return st;
}

/* The whole of dataset d (dims as open_checked gave them) into buf. */
static frost_status read_all(hid_t d, hid_t memtype, void *buf, const int64_t dims[2], const char *ctx,
                             const char *name)
{
    if (dims[0] * dims[1] == 0) return FROST_OK;
    hid_t sp = H5Dget_space(d);
    const int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (sp >= 0) H5Sclose(sp);
    hid_t pl = H5Dget_create_plist(d);
    if (pl < 0) return frost__h5_fail(ctx, "cannot read dataset '%s'", name);
    frost_status st = FROST_OK;
    if (H5Pget_layout(pl) == H5D_CHUNKED) {
        /* raw chunk bytes are the memory type's bytes: the stored type must be it */
        hid_t ft = H5Dget_type(d), ft2 = ft >= 0 ? H5Tcopy(ft) : -1;
        const bool same = ft >= 0 && H5Tequal(ft, memtype) > 0;
        if (ft >= 0) H5Tclose(ft);
        if (!same) {
            char got[32], want[32];
            type_name(ft2, got, sizeof got);
            type_name(memtype, want, sizeof want);
            st = frost__error(FROST_ERR_FORMAT,
                              "%s: dataset '%s' is chunked and stored as %s; frost reads chunked arrays as %s only: "
                              "write it as %s (h5py: dtype='%s') or unchunked (then any number type is converted)",
                              ctx, name, got, want, want, want[0] == 'f' ? "f4" : want[0] == 'i' && want[3] == '3' ? "i4" : "i8");
        } else
            st = read_chunked(d, pl, memtype, buf, dims, rank, 0, dims[0], ctx, name);
        if (ft2 >= 0) H5Tclose(ft2);
    } else if (H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        st = frost__h5_fail(ctx, "cannot read dataset '%s'", name);
    }
    H5Pclose(pl);
    return st;
}

frost_status frost__h5_read(hid_t loc, const char *name, hid_t memtype, int rank, int64_t dims[2], void **data,
                            const char *ctx)
{
    hid_t d;
    *data = NULL;
    frost_status st = open_checked(loc, name, rank, dims, &d, ctx);
    if (st < 0) return st;
    size_t n = (size_t)dims[0] * (size_t)dims[1];
    size_t el = H5Tget_size(memtype);
    void *buf = frost__malloc(n ? n * el : 1);
    if (!buf) {
        H5Dclose(d);
        return frost__error(FROST_ERR_NOMEM, "%s: out of memory reading '%s' (%zu bytes)", ctx, name, n * el);
    }
    st = read_all(d, memtype, buf, dims, ctx, name);
    if (st < 0) {
        free(buf);
        H5Dclose(d);
        return st;
    }
    H5Dclose(d);
    *data = buf;
    return FROST_OK;
}

frost_status frost__h5_read_into(hid_t loc, const char *name, hid_t memtype, int rank, const int64_t *dims, void *data,
                                 const char *ctx)
{
    hid_t d;
    int64_t got[2];
    frost_status st = open_checked(loc, name, rank, got, &d, ctx);
    if (st < 0) return st;
    if (got[0] != dims[0] || (rank == 2 && got[1] != dims[1])) {
        H5Dclose(d);
        if (rank == 2)
            return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' is %lld x %lld, expected %lld x %lld", ctx, name,
                                (long long)got[0], (long long)got[1], (long long)dims[0], (long long)dims[1]);
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' has %lld entries, expected %lld", ctx, name,
                            (long long)got[0], (long long)dims[0]);
    }
    st = read_all(d, memtype, data, got, ctx, name);
    if (st < 0) {
        H5Dclose(d);
        return st;
    }
    H5Dclose(d);
    return FROST_OK;
}

int64_t frost__h5_length(hid_t loc, const char *name)
{
    if (!frost__h5_exists(loc, name)) return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dim = 0;
    const int r = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (r == 1) H5Sget_simple_extent_dims(sp, &dim, NULL);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return r == 1 ? (int64_t)dim : -1;
}

frost_status frost__h5_read_rows(hid_t loc, const char *name, hid_t memtype, int64_t cols, int64_t lo, int64_t hi,
                                void *buf, const char *ctx)
{
    hid_t d;
    int64_t dims[2];
    frost_status st = open_checked(loc, name, 0, dims, &d, ctx);
    if (st < 0) return st;
    if (dims[1] != cols) {
        H5Dclose(d);
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' has %lld columns, expected %lld", ctx, name,
                            (long long)dims[1], (long long)cols);
    }
    if (lo < 0 || hi > dims[0] || lo > hi) {
        H5Dclose(d);
        return frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' has %lld rows; rows %lld .. %lld were asked for", ctx,
                            name, (long long)dims[0], (long long)lo, (long long)hi - 1);
    }
    if (hi == lo || dims[1] == 0) {
        H5Dclose(d);
        return FROST_OK;
    }
    hid_t pl = H5Dget_create_plist(d), fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    if (pl < 0) {
        H5Dclose(d);
        return frost__h5_fail(ctx, "cannot read dataset '%s'", name);
    }
    hid_t sp = H5Dget_space(d);
    const int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (H5Pget_layout(pl) == H5D_CHUNKED) {
        /* the same checked chunk reader as whole reads, over the chunks that hold the rows */
        hid_t ft = H5Dget_type(d);
        const bool same = ft >= 0 && H5Tequal(ft, memtype) > 0;
        if (ft >= 0) H5Tclose(ft);
        st = same ? read_chunked(d, pl, memtype, buf, dims, rank, lo, hi, ctx, name)
                  : frost__error(FROST_ERR_FORMAT, "%s: dataset '%s' is chunked and not stored as the type frost reads",
                                 ctx, name);
    } else {
        hsize_t off[2] = {(hsize_t)lo, 0}, cnt[2] = {(hsize_t)(hi - lo), (hsize_t)dims[1]};
        fs = H5Dget_space(d);
        ms = H5Screate_simple(rank, cnt, NULL);
        if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
            H5Dread(d, memtype, ms, fs, H5P_DEFAULT, buf) < 0)
            st = frost__h5_fail(ctx, "cannot read rows %lld .. %lld of dataset '%s'", (long long)lo, (long long)hi - 1,
                                name);
    }
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (sp >= 0) H5Sclose(sp);
    H5Pclose(pl);
    H5Dclose(d);
    return st;
}

/* Chunks compressed per batch: bounds the work memory (about 2 MiB each). */
#define ROWS_BATCH 16

frost_status frost__h5_rows_begin(frost__h5_rows *w, hid_t loc, const char *name, hid_t memtype, hid_t filetype,
                                  int rank, int64_t rows, int64_t cols, int level, const char *ctx)
{
    memset(w, 0, sizeof *w);
    w->dset = H5I_INVALID_HID;
    w->memtype = memtype;
    w->rank = rank;
    w->level = level;
    w->rows = rows;
    w->cols = rank == 2 ? cols : 1;
    w->ctx = ctx;
    frost__strlcpy(w->name, name, sizeof w->name);
    w->elsize = H5Tget_size(filetype);
    w->row_bytes = (size_t)w->cols * w->elsize;
    w->chunk_rows = frost__h5_chunk_rows(rows, w->cols, w->elsize);
    w->chunk_bytes = (size_t)w->chunk_rows * w->row_bytes;
    /* Direct chunk writes need the memory layout to be the file layout. */
    w->direct = level > 0 && rows > 0 && w->cols > 0 && H5Tequal(memtype, filetype) > 0;

    int64_t dims[2] = {rows, w->cols};
    hsize_t hd[2] = {(hsize_t)rows, (hsize_t)w->cols};
    hid_t sp = H5Screate_simple(rank, hd, NULL);
    hid_t dcpl = make_dcpl(rank, dims, w->elsize, level, true);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    w->dset = H5Dcreate2(loc, name, filetype, sp, lcpl, dcpl, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (w->dset < 0) return frost__h5_fail(ctx, "cannot create dataset '%s'", name);
    if (w->direct) {
        w->work_stride = w->chunk_bytes + compressBound((uLong)w->chunk_bytes);
        w->stage = malloc(w->chunk_bytes);
        w->work = malloc(ROWS_BATCH * w->work_stride);
        w->work_len = malloc(ROWS_BATCH * sizeof *w->work_len);
        w->work_mask = malloc(ROWS_BATCH * sizeof *w->work_mask);
        if (!w->stage || !w->work || !w->work_len || !w->work_mask) {
            frost__h5_rows_abort(w);
            return frost__error(FROST_ERR_NOMEM, "%s: out of memory for compression buffers", ctx);
        }
    }
    return FROST_OK;
}

/* HDF5's shuffle filter: byte j of element i goes to j * n + i. */
static void shuffle_bytes(unsigned char *dst, const unsigned char *src, size_t nbytes, size_t es)
{
    size_t n = nbytes / es;
    if (es == 4) {
        for (size_t i = 0; i < n; i++) {
            dst[i] = src[4 * i];
            dst[n + i] = src[4 * i + 1];
            dst[2 * n + i] = src[4 * i + 2];
            dst[3 * n + i] = src[4 * i + 3];
        }
    } else {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < es; j++) dst[j * n + i] = src[i * es + j];
    }
}

/* Write n whole chunks starting at chunk index c0 from data. */
static frost_status rows_flush(frost__h5_rows *w, const unsigned char *data, int64_t n, int64_t c0)
{
    if (!w->direct) {
        int64_t r0 = c0 * w->chunk_rows;
        int64_t nr = n * w->chunk_rows;
        if (r0 + nr > w->rows) nr = w->rows - r0;
        hsize_t off[2] = {(hsize_t)r0, 0}, cnt[2] = {(hsize_t)nr, (hsize_t)w->cols};
        hid_t fs = H5Dget_space(w->dset);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
        hid_t ms = H5Screate_simple(w->rank, cnt, NULL);
        herr_t e = nr > 0 ? H5Dwrite(w->dset, w->memtype, ms, fs, H5P_DEFAULT, data) : 0;
        H5Sclose(ms);
        H5Sclose(fs);
        if (e < 0) return frost__h5_fail(w->ctx, "cannot write rows of '%s'", w->name);
        return FROST_OK;
    }
    for (int64_t b0 = 0; b0 < n; b0 += ROWS_BATCH) {
        int64_t nb = n - b0 < ROWS_BATCH ? n - b0 : ROWS_BATCH;
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t k = 0; k < nb; k++) {
            unsigned char *shuf = w->work + (size_t)k * w->work_stride;
            unsigned char *comp = shuf + w->chunk_bytes;
            shuffle_bytes(shuf, data + (size_t)(b0 + k) * w->chunk_bytes, w->chunk_bytes, w->elsize);
            uLongf clen = (uLongf)(w->work_stride - w->chunk_bytes);
            int zr = compress2(comp, &clen, shuf, (uLong)w->chunk_bytes, w->level);
            if (zr == Z_OK && clen < w->chunk_bytes) {
                w->work_len[k] = clen;
                w->work_mask[k] = 0; /* both filters applied */
            } else {
                w->work_len[k] = w->chunk_bytes; /* deflate skipped: optional filter 1 */
                w->work_mask[k] = 1u << 1;
            }
        }
        for (int64_t k = 0; k < nb; k++) {
            hsize_t off[2] = {(hsize_t)((c0 + b0 + k) * w->chunk_rows), 0};
            unsigned char *shuf = w->work + (size_t)k * w->work_stride;
            const void *buf = w->work_mask[k] ? shuf : shuf + w->chunk_bytes;
            if (H5Dwrite_chunk(w->dset, H5P_DEFAULT, w->work_mask[k], off, w->work_len[k], buf) < 0)
                return frost__h5_fail(w->ctx, "cannot write a chunk of '%s'", w->name);
        }
    }
    return FROST_OK;
}

frost_status frost__h5_rows_write(frost__h5_rows *w, const void *block, int64_t nrows)
{
    if (nrows <= 0) return FROST_OK;
    if (w->written + nrows > w->rows)
        return frost__error(FROST_ERR_SHAPE, "%s: '%s' given %lld rows, expected %lld", w->ctx, w->name,
                            (long long)(w->written + nrows), (long long)w->rows);
    const unsigned char *p = block;
    frost_status st;
    if (!w->direct) {
        /* one hyperslab write: HDF5 applies any filters itself */
        int64_t r0 = w->written;
        hsize_t off[2] = {(hsize_t)r0, 0}, cnt[2] = {(hsize_t)nrows, (hsize_t)w->cols};
        hid_t fs = H5Dget_space(w->dset);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
        hid_t ms = H5Screate_simple(w->rank, cnt, NULL);
        herr_t e = H5Dwrite(w->dset, w->memtype, ms, fs, H5P_DEFAULT, block);
        H5Sclose(ms);
        H5Sclose(fs);
        if (e < 0) return frost__h5_fail(w->ctx, "cannot write rows of '%s'", w->name);
        w->written += nrows;
        return FROST_OK;
    }
    int64_t left = nrows;
    if (w->staged > 0) {
        int64_t t = w->chunk_rows - w->staged;
        if (t > left) t = left;
        memcpy(w->stage + (size_t)w->staged * w->row_bytes, p, (size_t)t * w->row_bytes);
        w->staged += t;
        p += (size_t)t * w->row_bytes;
        left -= t;
        if (w->staged == w->chunk_rows) {
            int64_t c = (w->written + t - w->staged) / w->chunk_rows;
            if ((st = rows_flush(w, w->stage, 1, c)) < 0) return st;
            w->staged = 0;
        }
        w->written += t;
    }
    int64_t full = left / w->chunk_rows;
    if (full > 0) {
        if ((st = rows_flush(w, p, full, w->written / w->chunk_rows)) < 0) return st;
        p += (size_t)full * w->chunk_bytes;
        left -= full * w->chunk_rows;
        w->written += full * w->chunk_rows;
    }
    if (left > 0) {
        memcpy(w->stage, p, (size_t)left * w->row_bytes);
        w->staged = left;
        w->written += left;
    }
    return FROST_OK;
}

void frost__h5_rows_abort(frost__h5_rows *w)
{
    if (w->dset >= 0) H5Dclose(w->dset);
    H5Eclear2(H5E_DEFAULT);
    w->dset = H5I_INVALID_HID;
    free(w->stage);
    free(w->work);
    free(w->work_len);
    free(w->work_mask);
    w->stage = w->work = NULL;
    w->work_len = NULL;
    w->work_mask = NULL;
}

frost_status frost__h5_rows_end(frost__h5_rows *w)
{
    frost_status st = FROST_OK;
    if (w->dset < 0) return FROST_OK;
    if (w->written != w->rows) {
        st = frost__error(FROST_ERR_SHAPE, "%s: '%s' got %lld rows, expected %lld", w->ctx, w->name,
                          (long long)w->written, (long long)w->rows);
    } else if (w->direct && w->staged > 0) {
        /* the last chunk reaches past the end: pad it (HDF5 ignores the rest) */
        memset(w->stage + (size_t)w->staged * w->row_bytes, 0, (size_t)(w->chunk_rows - w->staged) * w->row_bytes);
        st = rows_flush(w, w->stage, 1, (w->rows - 1) / w->chunk_rows);
        w->staged = 0;
    }
    if (st == FROST_OK && H5Dclose(w->dset) < 0) {
        w->dset = H5I_INVALID_HID;
        st = frost__h5_fail(w->ctx, "cannot close '%s'", w->name);
    }
    if (st == FROST_OK) w->dset = H5I_INVALID_HID;
    frost__h5_rows_abort(w);
    return st;
}

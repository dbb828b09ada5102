/*
 * npy.c - numpy's array files, read in blocks: a .npy file, or one member of
 * a .npz archive (a zip file; members stored, or deflated as
 * np.savez_compressed writes them, with zip64 for large archives).
 *
 * The format (numpy.lib.format): "\x93NUMPY", major and minor version, the
 * header's length (2 bytes in version 1, 4 in 2 and 3), then a Python dict
 * literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, F), } padded
 * with spaces, then the elements. frost reads little- and big-endian
 * integers (1, 2, 4, 8 bytes, signed or not), booleans and floats (4 and 8
 * bytes; 2 bytes too), converted to float32 or int64 as it asks; arrays of
 * 0, 1 or 2 dimensions; a 2-D array in Fortran order is read as stored
 * (column by column: the caller says whether it can take that). Anything
 * else is refused naming the file, the member and what was found. Elements
 * pass through double: integers are exact up to 2^53 (node ids and labels
 * are far below). Little-endian hosts (x86-64) only.
 */
#include "io/npy_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* ---- the byte source: a plain file, or a zip member (stored or deflated) -------- */

static int64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = (v << 8) | p[k];
    return (int64_t)v;
}

static frost_status src_fail(const frost__npy *a, const char *what)
{
    return frost__error(FROST_ERR_FORMAT, "%s%s%s: %s", a->path, a->member[0] ? ", member " : "", a->member, what);
}

/* Read exactly n bytes from the source (inflating a deflated member). */
static frost_status src_read(frost__npy *a, void *buf, size_t n)
{
    unsigned char *out = buf;
    if (!a->deflated) {
        if (a->member[0] && (int64_t)n > a->left) return src_fail(a, "the member ends early (truncated archive?)");
        if (fread(out, 1, n, a->f) != n)
            return ferror(a->f) ? frost__error(FROST_ERR_IO, "%s: cannot read: %s", a->path, strerror(errno))
                                : src_fail(a, "the file ends early (truncated?)");
        a->left -= (int64_t)n;
        return FROST_OK;
    }
    z_stream *z = a->z;
    z->next_out = out;
    z->avail_out = (uInt)n;
    while (z->avail_out > 0) {
        if (z->avail_in == 0) {
            if (a->left <= 0) return src_fail(a, "the compressed member ends early (truncated archive?)");
            const size_t want = a->left < (int64_t)sizeof a->inbuf ? (size_t)a->left : sizeof a->inbuf;
            if (fread(a->inbuf, 1, want, a->f) != want)
                return ferror(a->f) ? frost__error(FROST_ERR_IO, "%s: cannot read: %s", a->path, strerror(errno))
                                    : src_fail(a, "the archive ends early (truncated?)");
            a->left -= (int64_t)want;
            z->next_in = a->inbuf;
            z->avail_in = (uInt)want;
        }
        const int r = inflate(z, Z_NO_FLUSH);
        if (r == Z_STREAM_END && z->avail_out > 0) return src_fail(a, "the compressed member ends early");
        if (r != Z_OK && r != Z_STREAM_END) return src_fail(a, "damaged compressed data (zlib inflate failed)");
    }
    return FROST_OK;
}

/* Find `member` in the zip archive a->f; position the file at its data. */
static frost_status zip_find(frost__npy *a, const char *member)
{
    FILE *f = a->f;
    if (fseeko(f, 0, SEEK_END) != 0) return frost__error(FROST_ERR_IO, "%s: cannot seek", a->path);
    const int64_t size = ftello(f);
    /* the end-of-central-directory record: in the last 64 KiB + 22 bytes */
    const int64_t span = size < 65557 ? size : 65557;
    unsigned char *tail = malloc((size_t)span + 1);
    if (!tail) return frost__error(FROST_ERR_NOMEM, "out of memory");
    if (fseeko(f, size - span, SEEK_SET) != 0 || fread(tail, 1, (size_t)span, f) != (size_t)span) {
        free(tail);
        return frost__error(FROST_ERR_IO, "%s: cannot read its end", a->path);
    }
    int64_t eocd = -1;
    for (int64_t k = span - 22; k >= 0 && eocd < 0; k--)
        if (le(tail + k, 4) == 0x06054b50) eocd = k;
    if (eocd < 0) {
        free(tail);
        return frost__error(FROST_ERR_FORMAT, "%s: not a zip archive (numpy .npz): no end-of-directory record",
                            a->path);
    }
    int64_t entries = le(tail + eocd + 10, 2), cd_size = le(tail + eocd + 12, 4), cd_off = le(tail + eocd + 16, 4);
    if ((entries == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) && eocd >= 20 &&
        le(tail + eocd - 20, 4) == 0x07064b50) {
        /* zip64: the locator points at the zip64 end-of-directory record */
        const int64_t z64 = le(tail + eocd - 20 + 8, 8);
        unsigned char r[56];
        if (fseeko(f, z64, SEEK_SET) != 0 || fread(r, 1, 56, f) != 56 || le(r, 4) != 0x06064b50) {
            free(tail);
            return frost__error(FROST_ERR_FORMAT, "%s: damaged zip64 end-of-directory record", a->path);
        }
        entries = le(r + 32, 8), cd_size = le(r + 40, 8), cd_off = le(r + 48, 8);
    }
    free(tail);
    if (cd_off < 0 || cd_size < 0 || cd_off > size || cd_size > size - cd_off)
        return frost__error(FROST_ERR_FORMAT, "%s: damaged zip archive (its directory lies outside the file)",
                            a->path);
    unsigned char *cd = malloc((size_t)cd_size + 1);
    if (!cd) return frost__error(FROST_ERR_NOMEM, "out of memory");
    if (fseeko(f, cd_off, SEEK_SET) != 0 || fread(cd, 1, (size_t)cd_size, f) != (size_t)cd_size) {
        free(cd);
        return frost__error(FROST_ERR_IO, "%s: cannot read the zip directory", a->path);
    }
    const size_t want = strlen(member);
    frost_status st = frost__error(FROST_ERR_FORMAT, "%s: no member %s in the archive", a->path, member);
    a->missing = true; /* until found */
    for (int64_t p = 0, e = 0; e < entries && p + 46 <= cd_size; e++) {
        const unsigned char *h = cd + p;
        if (le(h, 4) != 0x02014b50) {
            a->missing = false;
            st = frost__error(FROST_ERR_FORMAT, "%s: damaged zip directory (entry %lld)", a->path, (long long)e);
            break;
        }
        const int64_t nlen = le(h + 28, 2), xlen = le(h + 30, 2), clen = le(h + 32, 2);
        if (p + 46 + nlen + xlen + clen > cd_size) {
            a->missing = false;
            st = frost__error(FROST_ERR_FORMAT, "%s: damaged zip directory (entry %lld)", a->path, (long long)e);
            break;
        }
        if ((size_t)nlen == want && memcmp(h + 46, member, want) == 0) {
            a->missing = false;
            const int method = (int)le(h + 10, 2);
            int64_t csize = le(h + 20, 4), usize = le(h + 24, 4), off = le(h + 42, 4);
            /* zip64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order */
            const unsigned char *xend = h + 46 + nlen + xlen; /* the real end of the extra fields */
            for (const unsigned char *x = h + 46 + nlen; x + 4 <= xend;) {
                const int64_t id = le(x, 2), len = le(x + 2, 2);
                const unsigned char *v = x + 4, *fend = x + 4 + len < xend ? x + 4 + len : xend;
                if (id == 1) {
                    if (usize == 0xffffffff && v + 8 <= fend) usize = le(v, 8), v += 8;
                    if (csize == 0xffffffff && v + 8 <= fend) csize = le(v, 8), v += 8;
                    if (off == 0xffffffff && v + 8 <= fend) off = le(v, 8), v += 8;
                }
                x += 4 + len;
            }
            unsigned char lh[30];
            if (method != 0 && method != 8) {
                st = frost__error(FROST_ERR_FORMAT, "%s: member %s is compressed with zip method %d; frost reads "
                                                    "stored (0) and deflated (8) members",
                                  a->path, member, method);
            } else if (off < 0 || fseeko(f, off, SEEK_SET) != 0 || fread(lh, 1, 30, f) != 30 ||
                       le(lh, 4) != 0x04034b50 || fseeko(f, off + 30 + le(lh + 26, 2) + le(lh + 28, 2), SEEK_SET) != 0 ||
                       csize < 0 || usize < 0 || csize > size - off - 30) {
                st = frost__error(FROST_ERR_FORMAT, "%s: damaged zip archive (member %s)", a->path, member);
            } else {
                a->left = csize;
                a->deflated = method == 8;
                a->unpacked = usize;
                st = FROST_OK;
                if (a->deflated) {
                    a->z = calloc(1, sizeof(z_stream));
                    if (!a->z || inflateInit2(a->z, -MAX_WBITS) != Z_OK) {
                        free(a->z);
                        a->z = NULL;
                        a->deflated = false;
                        st = frost__error(FROST_ERR_NOMEM, "out of memory (zlib)");
                    }
                }
            }
            break;
        }
        p += 46 + nlen + xlen + clen;
        if (e + 1 < entries && p + 46 > cd_size) { /* the directory ends before its entries do */
            a->missing = false;
            st = frost__error(FROST_ERR_FORMAT, "%s: damaged zip directory (%lld entries announced, %lld there)", a->path,
                              (long long)entries, (long long)e + 1);
            break;
        }
    }
    free(cd);
    return st;
}

/* ---- the .npy header ------------------------------------------------------------ */

/* The value after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
    char k[32];
    snprintf(k, sizeof k, "'%s'", key);
    const char *p = strstr(h, k);
    if (!p) return NULL;
    p += strlen(k);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

static frost_status parse_header(frost__npy *a, const char *h)
{
    const char *d = dict_value(h, "descr"), *fo = dict_value(h, "fortran_order"), *sh = dict_value(h, "shape");
    if (!d || !fo || !sh || *d != '\'' || *sh != '(') return src_fail(a, "not a numpy .npy header (descr, fortran_order, shape)");
    char order = d[1], kind = d[2];
    int size = atoi(d + 3);
    if (order == '|' || kind == 'b' || size == 1) order = '<';
    if ((order != '<' && order != '>' && order != '=') ||
        !((kind == 'f' && (size == 2 || size == 4 || size == 8)) ||
          ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
          (kind == 'b' && size == 1))) {
        char got[24] = "";
        const char *q = strchr(d + 1, '\'');
        snprintf(got, sizeof got, "%.*s", q ? (int)(q - d - 1) : 8, d + 1);
        return frost__error(FROST_ERR_FORMAT,
                            "%s%s%s: element type '%s'; frost reads numbers: floats (f2, f4, f8), integers (i1..i8, "
                            "u1..u8), bool",
                            a->path, a->member[0] ? ", member " : "", a->member, got);
    }
    const uint16_t probe = 1;
    const bool little = *(const unsigned char *)&probe == 1;
    a->kind = kind;
    a->size = size;
    a->swap = size > 1 && order != '=' && (order == '<') != little;
    if (strncmp(fo, "True", 4) != 0 && strncmp(fo, "False", 5) != 0) return src_fail(a, "fortran_order is neither True nor False");
    a->fortran = strncmp(fo, "True", 4) == 0;
    a->ndim = 0;
    a->shape[0] = a->shape[1] = 1;
    const char *p = sh + 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        const long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || errno) return src_fail(a, "a bad shape in the header");
        if (a->ndim == 2) return src_fail(a, "an array of more than 2 dimensions; frost reads 1-D and 2-D arrays");
        a->shape[a->ndim++] = v;
        p = end;
    }
    if (a->ndim == 0) a->shape[0] = 1; /* a scalar */
    /* no product that overflows: every element must fit in the file anyway */
    if (a->shape[0] > (INT64_C(1) << 40) || a->shape[1] > (INT64_C(1) << 40) ||
        (a->shape[1] > 0 && a->shape[0] > (INT64_C(1) << 56) / a->size / a->shape[1]))
        return src_fail(a, "an impossible shape in the header");
    a->count = a->shape[0] * a->shape[1];
    return FROST_OK;
}

frost_status frost__npy_open(frost__npy *a, const char *path, const char *member)
{
    memset(a, 0, sizeof *a);
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->member, sizeof a->member, "%s", member ? member : "");
    a->f = fopen(path, "rb");
    if (!a->f) return frost__error(FROST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    frost_status st = FROST_OK;
    if (member && (st = zip_find(a, member)) < 0) goto fail;
    if (!member) a->left = INT64_MAX;
    unsigned char pre[10];
    if ((st = src_read(a, pre, 10)) < 0) goto fail;
    if (memcmp(pre, "\x93NUMPY", 6) != 0) {
        st = src_fail(a, "not a numpy .npy array (no \\x93NUMPY magic)");
        goto fail;
    }
    if (pre[6] < 1 || pre[6] > 3) {
        st = src_fail(a, "a .npy format version frost does not know (1, 2 and 3 are read)");
        goto fail;
    }
    int64_t hlen = le(pre + 8, 2);
    if (pre[6] >= 2) {
        unsigned char more[2];
        if ((st = src_read(a, more, 2)) < 0) goto fail;
        hlen = le(pre + 8, 2) | (le(more, 2) << 16);
    }
    if (hlen <= 0 || hlen > (1 << 20)) {
        st = src_fail(a, "a header of an impossible length");
        goto fail;
    }
    char *h = malloc((size_t)hlen + 1);
    if (!h) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = src_read(a, h, (size_t)hlen)) < 0) {
        free(h);
        goto fail;
    }
    h[hlen] = 0;
    st = parse_header(a, h);
    free(h);
    if (st < 0) goto fail;
    {
        /* the elements the header announces must be there: a header that lies is refused here,
         * before anyone allocates for it */
        const int64_t head = 10 + (pre[6] >= 2 ? 2 : 0) + hlen;
        int64_t avail;
        if (member) {
            avail = a->unpacked - head;
        } else {
            struct stat sb;
            avail = fstat(fileno(a->f), &sb) == 0 ? (int64_t)sb.st_size - head : -1;
        }
        if (avail < a->count * a->size) {
            char m[160];
            snprintf(m, sizeof m, "the header announces %lld elements of %d bytes, but %lld bytes follow it",
                     (long long)a->count, a->size, (long long)(avail < 0 ? 0 : avail));
            st = src_fail(a, m);
            goto fail;
        }
    }
    return FROST_OK;
fail:
    frost__npy_close(a);
    return st;
}

void frost__npy_close(frost__npy *a)
{
    if (a->z) {
        inflateEnd(a->z);
        free(a->z);
    }
    if (a->f) fclose(a->f);
    a->f = NULL;
    a->z = NULL;
}

/* The next n elements as doubles (exact for every integer up to 2^53). */
static frost_status next(frost__npy *a, double *out, int64_t n)
{
    if (n > a->count - a->done)
        return frost__error(FROST_ERR_FORMAT, "%s%s%s: asked for element %lld of %lld", a->path,
                            a->member[0] ? ", member " : "", a->member, (long long)(a->done + n), (long long)a->count);
    unsigned char buf[8192];
    const int64_t per = (int64_t)sizeof buf / a->size;
    for (int64_t k = 0; k < n;) {
        const int64_t m = n - k < per ? n - k : per;
        frost_status st = src_read(a, buf, (size_t)(m * a->size));
        if (st < 0) return st;
        for (int64_t j = 0; j < m; j++) {
            unsigned char e[8];
            memcpy(e, buf + j * a->size, (size_t)a->size);
            if (a->swap)
                for (int b = 0; b < a->size / 2; b++) {
                    const unsigned char t = e[b];
                    e[b] = e[a->size - 1 - b];
                    e[a->size - 1 - b] = t;
                }
            double v = 0;
            if (a->kind == 'f' && a->size == 4) {
                float x;
                memcpy(&x, e, 4);
                v = x;
            } else if (a->kind == 'f' && a->size == 8) {
                memcpy(&v, e, 8);
            } else if (a->kind == 'f') { /* half precision */
                const unsigned h = (unsigned)e[0] | ((unsigned)e[1] << 8);
                const int ex = (int)((h >> 10) & 31), mant = (int)(h & 1023);
                v = ex == 0 ? ldexp(mant, -24) : ex == 31 ? (mant ? (double)NAN : (double)INFINITY) : ldexp(mant + 1024, ex - 25);
                if (h & 0x8000) v = -v;
            } else if (a->kind == 'u' || a->kind == 'b') {
                uint64_t u = 0;
                memcpy(&u, e, (size_t)a->size);
                v = (double)u;
            } else {
                int64_t s = 0;
                memcpy(&s, e, (size_t)a->size);
                const int sh = 64 - 8 * a->size; /* sign-extend */
                s = (int64_t)((uint64_t)s << sh) >> sh;
                v = (double)s;
            }
            out[k + j] = v;
        }
        k += m;
        a->done += m;
    }
    return FROST_OK;
}

frost_status frost__npy_read_f32(frost__npy *a, float *out, int64_t n)
{
    double tmp[512];
    for (int64_t k = 0; k < n;) {
        const int64_t m = n - k < 512 ? n - k : 512;
        frost_status st = next(a, tmp, m);
        if (st < 0) return st;
        for (int64_t j = 0; j < m; j++) out[k + j] = (float)tmp[j];
        k += m;
    }
    return FROST_OK;
}

frost_status frost__npy_read_i64(frost__npy *a, int64_t *out, int64_t n)
{
    double tmp[512];
    for (int64_t k = 0; k < n;) {
        const int64_t m = n - k < 512 ? n - k : 512;
        frost_status st = next(a, tmp, m);
        if (st < 0) return st;
        for (int64_t j = 0; j < m; j++) {
            /* NaN (a missing label) reads as -1; other non-integers are refused */
            if (isnan(tmp[j])) out[k + j] = -1;
            else if (tmp[j] != floor(tmp[j]) || fabs(tmp[j]) > 9.0e18)
                return frost__error(FROST_ERR_FORMAT, "%s%s%s: element %lld is %g, expected an integer", a->path,
                                    a->member[0] ? ", member " : "", a->member, (long long)(a->done - m + j), tmp[j]);
            else out[k + j] = (int64_t)tmp[j];
        }
        k += m;
    }
    return FROST_OK;
}

frost_status frost__npy_need_rows(const frost__npy *a)
{
    if (a->fortran && a->ndim == 2 && a->shape[0] > 1 && a->shape[1] > 1)
        return src_fail(a, "a 2-D array in Fortran order (a transpose?); save it with np.ascontiguousarray first");
    return FROST_OK;
}

int frost__npz_has(const char *path, const char *member)
{
    frost__npy a;
    memset(&a, 0, sizeof a);
    snprintf(a.path, sizeof a.path, "%s", path);
    a.f = fopen(path, "rb");
    if (!a.f) return frost__error(FROST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    frost_status st = zip_find(&a, member);
    const bool missing = a.missing;
    frost__npy_close(&a);
    if (missing) {
        frost_clear_error();
        return 0;
    }
    return st < 0 ? st : 1;
}

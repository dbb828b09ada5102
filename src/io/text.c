/*
 * text.c - streaming line reader over zlib's gzread (which also reads plain
 * files unchanged) and fast, correctly rounded number parsing.
 */
#include "io/io_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define LINES_INITIAL_CAP (256u << 10)

bool frost__file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

bool frost__find_csv(char **out, const char *dir, const char *name)
{
    *out = frost__asprintf("%s/%s.csv.gz", dir, name);
    if (!*out || frost__file_exists(*out)) return *out != NULL;
    char *plain = frost__asprintf("%s/%s.csv", dir, name);
    if (plain && frost__file_exists(plain)) {
        free(*out);
        *out = plain;
        return true;
    }
    free(plain); /* name the preferred one in errors */
    return false;
}

frost_status frost__lines_open(frost__lines *r, const char *path)
{
    memset(r, 0, sizeof *r);
    if (!frost__file_exists(path))
        return frost__error(FROST_ERR_IO, "%s: no such file", path);
    if (!(r->path = strdup(path))) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        frost__lines_close(r);
        return frost__error(FROST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    gzbuffer(gz, 1u << 18);
    r->gz = gz;
    r->cap = LINES_INITIAL_CAP;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        frost__lines_close(r);
        return frost__error(FROST_ERR_NOMEM, "%s: out of memory for the read buffer", path);
    }
    return FROST_OK;
}

void frost__lines_close(frost__lines *r)
{
    if (r->gz) gzclose((gzFile)r->gz);
    free(r->buf);
    free(r->path);
    r->gz = NULL;
    r->buf = NULL;
    r->path = NULL;
}

/* Read more bytes after r->end; compacts and grows the buffer as needed. */
static frost_status lines_fill(frost__lines *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->end + 1 >= r->cap) {
        /* A single line longer than the buffer: grow (keep 1 byte for NUL). */
        size_t ncap = r->cap * 2;
        char *nb = realloc(r->buf, ncap);
        if (!nb) return frost__error(FROST_ERR_NOMEM, "%s:%lld: line too long for memory",
                                     r->path, (long long)r->lineno + 1);
        r->buf = nb;
        r->cap = ncap;
    }
    size_t want = r->cap - 1 - r->end;
    if (want > (1u << 30)) want = 1u << 30;
    int got = gzread((gzFile)r->gz, r->buf + r->end, (unsigned)want);
    if (got < 0) {
        int zerr = 0;
        const char *msg = gzerror((gzFile)r->gz, &zerr);
        return frost__error(FROST_ERR_FORMAT,
                            "%s: corrupt or truncated gzip data after line %lld (%s)",
                            r->path, (long long)r->lineno, msg ? msg : "read error");
    }
    if (got == 0) {
        int zerr = 0;
        const char *msg = gzerror((gzFile)r->gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END)
            return frost__error(FROST_ERR_FORMAT,
                                "%s: corrupt or truncated gzip data after line %lld (%s)",
                                r->path, (long long)r->lineno, msg ? msg : "read error");
        r->eof = true;
    }
    r->end += (size_t)got;
    return FROST_OK;
}

frost_status frost__lines_next(frost__lines *r, char **line, size_t *len)
{
    for (;;) {
        char *s = r->buf + r->pos;
        char *nl = memchr(s, '\n', r->end - r->pos);
        if (nl) {
            size_t n = (size_t)(nl - s);
            if (n > 0 && s[n - 1] == '\r') n--;
            s[n] = 0;
            r->pos = (size_t)(nl - r->buf) + 1;
            r->lineno++;
            *line = s;
            *len = n;
            return FROST_OK;
        }
        if (r->eof) {
            if (r->pos < r->end) { /* last line without a newline */
                size_t n = r->end - r->pos;
                if (n > 0 && s[n - 1] == '\r') n--;
                s[n] = 0;
                r->pos = r->end;
                r->lineno++;
                *line = s;
                *len = n;
                return FROST_OK;
            }
            return FROST_DONE;
        }
        frost_status st = lines_fill(r);
        if (st < 0) return st;
    }
}

/* ---- numbers ------------------------------------------------------------ */

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool frost__parse_i64(const char **pp, int64_t *v)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    bool neg = false;
    if (*p == '-' || *p == '+') neg = (*p++ == '-');
    if ((unsigned)(*p - '0') >= 10) return false;
    uint64_t x = 0;
    while ((unsigned)(*p - '0') < 10) {
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_C(9223372036854775807) - d) / 10) return false; /* overflow */
        x = x * 10 + d;
        p++;
    }
    while (*p == ' ') p++;
    *v = neg ? -(int64_t)x : (int64_t)x;
    *pp = p;
    return true;
}

static bool parse_f32_slow(const char **pp, float *v)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    char *end;
    errno = 0;
    float f = strtof(p, &end);
    if (end == p) return false;
    /* strtof accepts hex floats and such; fields must then end cleanly, which
     * the caller checks. Overflow gives +-inf, underflow a (sub)normal or 0. */
    *v = f;
    while (*end == ' ') end++;
    *pp = end;
    return true;
}

bool frost__parse_f32(const char **pp, float *v)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    bool neg = false;
    if (*p == '-' || *p == '+') neg = (*p++ == '-');
    uint64_t mant = 0;
    int sig = 0;      /* significant digits taken into mant */
    int exp10 = 0;
    bool any = false, overflow = false;
    while ((unsigned)(*p - '0') < 10) {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            if (mant) sig++;
        } else {
            overflow = true;
        }
        p++;
        any = true;
    }
    if (*p == '.') {
        p++;
        while ((unsigned)(*p - '0') < 10) {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                if (mant) sig++;
                exp10--;
            } else {
                overflow = true;
            }
            p++;
            any = true;
        }
    }
    if (!any) return parse_f32_slow(pp, v); /* nan, inf, or not a number */
    if (*p == 'e' || *p == 'E') {
        const char *q = p + 1;
        bool eneg = false;
        if (*q == '-' || *q == '+') eneg = (*q++ == '-');
        if ((unsigned)(*q - '0') >= 10) return parse_f32_slow(pp, v);
        int e = 0;
        while ((unsigned)(*q - '0') < 10) {
            if (e < 100000) e = e * 10 + (*q - '0');
            q++;
        }
        exp10 += eneg ? -e : e;
        p = q;
    }
    if (overflow) return parse_f32_slow(pp, v);
    if (mant == 0) {
        *v = neg ? -0.0f : 0.0f;
    } else if (mant < (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        /* Exact operands, one correctly rounded double operation. */
        double d = (double)mant;
        d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
        /* Rounding the double to float is exact unless the double sits on a
         * float midpoint (low 29 mantissa bits = 1000...0) or outside the
         * normal float range: then let strtof decide. */
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        if ((bits & ((UINT64_C(1) << 29) - 1)) == (UINT64_C(1) << 28) ||
            d < 1.1754943508222875e-38 || d > 3.4028234663852886e+38)
            return parse_f32_slow(pp, v);
        float f = (float)d;
        *v = neg ? -f : f;
    } else {
        return parse_f32_slow(pp, v);
    }
    while (*p == ' ') p++;
    *pp = p;
    return true;
}

void frost__quote_field(char *dst, size_t cap, const char *field)
{
    size_t n = 0;
    while (field[n] && field[n] != ',' && n < 24) n++;
    if (n == 0) {
        snprintf(dst, cap, "an empty field");
        return;
    }
    /* control bytes as \xNN: a crafted file never writes escape sequences to the terminal */
    char body[24 * 4 + 1];
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        const unsigned char u = (unsigned char)field[k];
        if (u < 0x20 || u == 0x7f) o += (size_t)snprintf(body + o, sizeof body - o, "\\x%02x", u);
        else body[o++] = (char)u;
    }
    body[o] = 0;
    snprintf(dst, cap, "'%s%s'", body, (field[n] && field[n] != ',') ? "..." : "");
}

int64_t frost__count_fields(const char *line)
{
    if (!*line) return 0;
    int64_t n = 1;
    for (const char *p = line; *p; p++) n += (*p == ',');
    return n;
}

frost_status frost__parse_float_row(const char *line, int64_t ncols, float *out,
                                    const char *path, int64_t lineno)
{
    const char *p = line;
    for (int64_t c = 0; c < ncols; c++) {
        const char *field = p;
        if (!frost__parse_f32(&p, &out[c]) || (*p != ',' && *p != 0)) {
            if (*field == 0 && c > 0)
                return frost__error(FROST_ERR_FORMAT, "%s:%lld: expected %lld columns, found %lld",
                                    path, (long long)lineno, (long long)ncols, (long long)c);
            char q[64];
            frost__quote_field(q, sizeof q, field);
            return frost__error(FROST_ERR_FORMAT, "%s:%lld: column %lld: expected a number, found %s",
                                path, (long long)lineno, (long long)c + 1, q);
        }
        if (*p == ',') {
            p++;
            if (c == ncols - 1)
                return frost__error(FROST_ERR_FORMAT, "%s:%lld: expected %lld columns, found %lld",
                                    path, (long long)lineno, (long long)ncols,
                                    (long long)(ncols + frost__count_fields(p)));
        } else if (c < ncols - 1) {
            return frost__error(FROST_ERR_FORMAT, "%s:%lld: expected %lld columns, found %lld",
                                path, (long long)lineno, (long long)ncols, (long long)c + 1);
        }
    }
    return FROST_OK;
}

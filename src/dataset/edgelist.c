/*
 * edgelist.c - `frost import edgelist`: a graph from an edge list and
 * optional feature, label and split files, text or numpy (.npy), with no
 * count files; and the array readers it shares with OGB's npz layout.
 *
 * Text files may be gzip'ed; fields are separated by commas, spaces or tabs;
 * blank lines and lines starting with '#' are skipped, except in a label
 * file, where an empty line is a node without a label (and '#' starts a
 * comment only in the first column). Features and labels are one row per
 * node, in node order; split files list node ids.
 */
#include "dataset/dataset_impl.h"
#include "io/io_impl.h"
#include "io/npy_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool is_npy(const char *path)
{
    const size_t L = strlen(path);
    return L > 4 && strcmp(path + L - 4, ".npy") == 0;
}

static bool skip_line(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == 0 || *s == '#' || *s == '\r';
}

/* The fields of a text line: separated by a comma and/or blanks. An empty
 * field between two commas is "" (a missing label). Returns the count; at
 * most cap pointers are stored (NUL-terminated in place). */
static int64_t fields(char *line, char **out, int64_t cap)
{
    int64_t n = 0;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p || *p == '\r') return 0;
    for (;;) {
        char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r') p++;
        char *end = p;
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        const bool comma = *p == ',';
        if (comma) p++;
        while (*p == ' ' || *p == '\t') p++;
        *end = 0;
        if (n < cap) out[n] = start;
        n++;
        if (!*p && !comma) break;
        if (!*p) { /* a trailing comma: one more empty field */
            if (n < cap) out[n] = p;
            n++;
            break;
        }
    }
    return n;
}

static frost_status bad_field(const char *path, int64_t line, int64_t col, const char *what, const char *got)
{
    char q[112];
    frost__quote_field(q, sizeof q, got);
    return frost__error(FROST_ERR_FORMAT, "%s:%lld: column %lld is %s, expected %s", path, (long long)line,
                        (long long)col, q, what);
}

static bool parse_id(const char *s, int64_t *v)
{
    const char *p = s;
    return frost__parse_i64(&p, v) && *p == 0 && *v >= 0;
}

/* ---- an integer vector (split ids, a label column): text or .npy ------------ */

frost_status frost__read_id_file(const char *path, int64_t n_nodes, int64_t **out, int64_t *count)
{
    frost_status st = FROST_OK;
    int64_t *v = NULL, cap = 0, n = 0;
    *out = NULL;
    *count = 0;
    if (is_npy(path)) {
        frost__npy a;
        FROST_TRY(frost__npy_open(&a, path, NULL));
        if (a.ndim == 2 && a.shape[1] != 1) {
            frost__npy_close(&a);
            FROST_FAIL(FROST_ERR_FORMAT, "%s: shape (%lld, %lld), expected a vector of node ids", path,
                       (long long)a.shape[0], (long long)a.shape[1]);
        }
        n = a.count;
        v = malloc((size_t)(n ? n : 1) * sizeof *v);
        if (!v) st = frost__error(FROST_ERR_NOMEM, "out of memory");
        if (st >= 0) st = frost__npy_read_i64(&a, v, n);
        frost__npy_close(&a);
        if (st < 0) goto fail;
    } else {
        frost__lines r;
        char *line, *f[2];
        size_t len;
        FROST_TRY(frost__lines_open(&r, path));
        while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
            if (skip_line(line)) continue;
            int64_t id;
            const int64_t nf = fields(line, f, 2);
            if (nf != 1) {
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: %lld fields, expected one node id per line", path,
                                  (long long)r.lineno, (long long)nf);
                break;
            }
            if (!parse_id(f[0], &id)) {
                st = bad_field(path, r.lineno, 1, "one node id (an integer from 0) per line", f[0]);
                break;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 4096;
                int64_t *g = realloc(v, (size_t)cap * sizeof *v);
                if (!g) {
                    st = frost__error(FROST_ERR_NOMEM, "out of memory");
                    break;
                }
                v = g;
            }
            v[n++] = id;
        }
        frost__lines_close(&r);
        if (st < 0) goto fail;
        st = FROST_OK;
    }
    for (int64_t k = 0; k < n; k++)
        if (v[k] < 0 || (n_nodes > 0 && v[k] >= n_nodes))
            FROST_FAIL(FROST_ERR_RANGE, "%s: row %lld: node id %lld out of range, expected 0 .. %lld", path,
                       (long long)k + 1, (long long)v[k], (long long)n_nodes - 1);
    *out = v;
    *count = n;
    return FROST_OK;
fail:
    free(v);
    return st;
}

/* ---- the edge list ------------------------------------------------------------------ */

static frost_status read_edge_list(const char *path, int32_t **src, int32_t **dst, int64_t *E, int64_t *max_id)
{
    frost_status st = FROST_OK;
    int64_t n = 0, cap = 0, hi = -1;
    int32_t *s = NULL, *d = NULL;
    if (is_npy(path)) {
        frost__npy a;
        FROST_TRY(frost__npy_open(&a, path, NULL));
        /* (2, E) as PyG's edge_index, or (E, 2); in Fortran order (a transpose) the
         * elements come column by column: (E, 2) then reads as (2, E) */
        if (a.fortran && a.ndim == 2) {
            const int64_t t = a.shape[0];
            a.shape[0] = a.shape[1], a.shape[1] = t;
        }
        const bool rows2 = a.ndim == 2 && a.shape[0] == 2;
        if (a.ndim != 2 || (!rows2 && a.shape[1] != 2)) {
            frost__npy_close(&a);
            FROST_FAIL(FROST_ERR_FORMAT, "%s: shape (%lld, %lld), expected (2, E) or (E, 2) node ids", path,
                       (long long)a.shape[0], (long long)a.shape[1]);
        }
        n = rows2 ? a.shape[1] : a.shape[0];
        if (n == 0) {
            frost__npy_close(&a);
            FROST_FAIL(FROST_ERR_FORMAT, "%s: no edges in it", path);
        }
        int64_t *all = malloc((size_t)(n > 0 ? 2 * n : 1) * sizeof *all);
        if (!all) st = frost__error(FROST_ERR_NOMEM, "out of memory for %lld edges", (long long)n);
        if (st >= 0) st = frost__npy_read_i64(&a, all, 2 * n);
        frost__npy_close(&a);
        if (st >= 0 && (!(s = malloc((size_t)(n ? n : 1) * sizeof *s)) || !(d = malloc((size_t)(n ? n : 1) * sizeof *d))))
            st = frost__error(FROST_ERR_NOMEM, "out of memory for %lld edges", (long long)n);
        for (int64_t k = 0; st >= 0 && k < n; k++) {
            const int64_t a0 = rows2 ? all[k] : all[2 * k], a1 = rows2 ? all[n + k] : all[2 * k + 1];
            if (a0 < 0 || a1 < 0 || a0 > INT32_MAX - 1 || a1 > INT32_MAX - 1)
                st = frost__error(FROST_ERR_RANGE, "%s: edge %lld (%lld, %lld): node ids must be 0 .. %d", path,
                                  (long long)k, (long long)a0, (long long)a1, INT32_MAX - 1);
            else {
                s[k] = (int32_t)a0, d[k] = (int32_t)a1;
                hi = a0 > hi ? a0 : hi;
                hi = a1 > hi ? a1 : hi;
            }
        }
        free(all);
        if (st < 0) goto fail;
    } else {
        frost__lines r;
        char *line, *f[3];
        size_t len;
        FROST_TRY(frost__lines_open(&r, path));
        while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
            if (skip_line(line)) continue;
            const int64_t nf = fields(line, f, 3);
            int64_t a0, a1;
            if (nf < 2 || !parse_id(f[0], &a0) || !parse_id(f[1], &a1) || a0 > INT32_MAX - 1 || a1 > INT32_MAX - 1) {
                st = frost__error(FROST_ERR_FORMAT,
                                  "%s:%lld: expected 'src dst' (two node ids from 0, separated by a comma or "
                                  "blanks; a third column is ignored)",
                                  path, (long long)r.lineno);
                break;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 65536;
                int32_t *gs = realloc(s, (size_t)cap * sizeof *s);
                if (gs) s = gs;
                int32_t *gd = gs ? realloc(d, (size_t)cap * sizeof *d) : NULL;
                if (!gs || !gd) {
                    st = frost__error(FROST_ERR_NOMEM, "out of memory for %lld edges", (long long)cap);
                    break;
                }
                d = gd;
            }
            s[n] = (int32_t)a0, d[n] = (int32_t)a1, n++;
            hi = a0 > hi ? a0 : hi;
            hi = a1 > hi ? a1 : hi;
        }
        frost__lines_close(&r);
        if (st < 0) goto fail;
        st = FROST_OK;
        if (n == 0) FROST_FAIL(FROST_ERR_FORMAT, "%s: no edges in it", path);
    }
    *src = s, *dst = d, *E = n, *max_id = hi;
    return FROST_OK;
fail:
    free(s);
    free(d);
    return st;
}

/* ---- labels: one row per node (empty, nan or -1: none) -------------------------- */

static frost_status read_label_file(const char *path, int64_t n_nodes, frost_dataset *ds)
{
    frost_status st = FROST_OK;
    if (is_npy(path)) {
        frost__npy a;
        if ((st = frost__npy_open(&a, path, NULL)) < 0) return st;
        int64_t *v = NULL;
        if ((st = frost__npy_need_rows(&a)) < 0) {
            frost__npy_close(&a);
            return st;
        }
        if (a.shape[1] < 1 || a.shape[1] > 4096)
            st = frost__error(FROST_ERR_FORMAT, "%s: %lld label columns, expected 1 .. 4096", path, (long long)a.shape[1]);
        else if (a.shape[0] != n_nodes)
            st = frost__error(FROST_ERR_FORMAT, "%s: %lld label rows, expected one per node (%lld)", path,
                              (long long)a.shape[0], (long long)n_nodes);
        else if (!(v = malloc((size_t)(a.count ? a.count : 1) * sizeof *v)) || !(ds->label = malloc((size_t)(a.count ? a.count : 1) * sizeof *ds->label)))
            st = frost__error(FROST_ERR_NOMEM, "out of memory");
        else
            st = frost__npy_read_i64(&a, v, a.count);
        ds->num_tasks = (int32_t)(a.shape[1] > 4096 ? 0 : a.shape[1]);
        frost__npy_close(&a);
        for (int64_t k = 0; st >= 0 && k < n_nodes * ds->num_tasks; k++) {
            if (v[k] < -1 || v[k] > INT32_MAX)
                st = frost__error(FROST_ERR_RANGE, "%s: label %lld of row %lld, expected -1 (none) or 0 and up", path,
                                  (long long)v[k], (long long)(k / ds->num_tasks));
            else ds->label[k] = (int32_t)v[k];
        }
        free(v);
        return st;
    }
    frost__lines r;
    char *line, *f[4096];
    size_t len;
    int64_t row = 0;
    if ((st = frost__lines_open(&r, path)) < 0) return st;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (len > 0 && line[0] == '#') continue;
        int64_t nf = fields(line, f, 4096);
        if (nf == 0) nf = 1, f[0] = line + len; /* an empty or blank line: one missing label */
        if (row >= n_nodes && nf == 1 && !*f[0]) continue; /* blank lines at the end */
        if (row == 0) {
            if (nf > 4096) {
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: %lld label columns, at most 4096", path,
                                  (long long)r.lineno, (long long)nf);
                break;
            }
            ds->num_tasks = (int32_t)nf;
            if (!(ds->label = malloc((size_t)(n_nodes > 0 && nf > 0 ? n_nodes * nf : 1) * sizeof *ds->label))) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (row >= n_nodes) {
            st = frost__error(FROST_ERR_FORMAT, "%s:%lld: more label rows than the %lld nodes", path,
                              (long long)r.lineno, (long long)n_nodes);
            break;
        }
        if (nf != ds->num_tasks) {
            st = frost__error(FROST_ERR_FORMAT, "%s:%lld: %lld label columns, expected %d as on the first row", path,
                              (long long)r.lineno, (long long)nf, ds->num_tasks);
            break;
        }
        for (int64_t t = 0; t < nf && st >= 0; t++) {
            const char *x = f[t];
            int64_t v;
            if (!*x || strcmp(x, "nan") == 0 || strcmp(x, "NaN") == 0) v = -1;
            else {
                const char *p = x;
                bool neg = *p == '-';
                if (neg) p++;
                if (!frost__parse_i64(&p, &v) || *p || (neg && v != 1) || v > INT32_MAX) {
                    /* 1.0 and 0.0, as float columns are often written */
                    char *end;
                    const double d = strtod(x, &end);
                    if (*end || d != floor(d) || d < -1 || d > INT32_MAX) {
                        st = bad_field(path, r.lineno, t + 1, "a label (an integer from 0; empty, nan or -1: none)", x);
                        break;
                    }
                    v = (int64_t)d;
                } else if (neg) {
                    v = -1;
                }
            }
            ds->label[row * nf + t] = (int32_t)v;
        }
        if (st < 0) break;
        row++;
    }
    frost__lines_close(&r);
    if (st < 0) return st;
    if (row != n_nodes)
        return frost__error(FROST_ERR_FORMAT, "%s: %lld label rows, expected one per node (%lld)", path, (long long)row,
                            (long long)n_nodes);
    return FROST_OK;
}

/* ---- features: rows of numbers, text or .npy, written in blocks ------------------- */

/* Rows and columns of a feature file (text: a counting pass). */
static frost_status feature_shape(const char *path, int64_t *rows, int64_t *cols)
{
    frost_status st = FROST_OK;
    if (is_npy(path)) {
        frost__npy a;
        FROST_TRY(frost__npy_open(&a, path, NULL));
        *rows = a.shape[0];
        *cols = a.ndim == 2 ? a.shape[1] : 1;
        frost__npy_close(&a);
        return FROST_OK;
    }
    frost__lines r;
    char *line;
    size_t len;
    *rows = *cols = 0;
    FROST_TRY(frost__lines_open(&r, path));
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (skip_line(line)) continue;
        if (*rows == 0) *cols = fields(line, NULL, 0);
        (*rows)++;
    }
    frost__lines_close(&r);
    return st < 0 ? st : FROST_OK;
fail:
    return st;
}

static frost_status write_features(const char *path, const char *member, hid_t file, int64_t n, int64_t F, int level,
                                   const char *out)
{
    frost_status st = FROST_OK;
    frost__h5_rows w;
    memset(&w, 0, sizeof w);
    w.dset = H5I_INVALID_HID;
    const int64_t block_rows = frost__h5_chunk_rows(n, F, sizeof(float)) * 4;
    float *block = malloc((size_t)(block_rows * F) * sizeof *block);
    char **f = malloc((size_t)(F + 1) * sizeof *f);
    frost__npy a;
    frost__lines r;
    bool npy = member || is_npy(path), opened = false;
    memset(&a, 0, sizeof a);
    if (!block || !f) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory for a feature block");
        goto done;
    }
    if ((st = npy ? frost__npy_open(&a, path, member) : frost__lines_open(&r, path)) < 0) goto done;
    opened = true;
    if (npy && (st = frost__npy_need_rows(&a)) < 0) goto done;
    if ((st = frost__h5_rows_begin(&w, file, "node/feat", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, n, F, level, out)) < 0)
        goto done;
    for (int64_t k = 0, in = 0; k < n;) {
        float *row = block + in * F;
        if (npy) {
            if ((st = frost__npy_read_f32(&a, row, F)) < 0) goto done;
        } else {
            char *line;
            size_t len;
            do {
                st = frost__lines_next(&r, &line, &len);
            } while (st == FROST_OK && skip_line(line));
            if (st != FROST_OK) {
                if (st >= 0) st = frost__error(FROST_ERR_FORMAT, "%s: fewer feature rows than %lld nodes", path, (long long)n);
                goto done;
            }
            const int64_t nf = fields(line, f, F + 1);
            if (nf != F) {
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: %lld features, expected %lld as on the first row", path,
                                  (long long)r.lineno, (long long)nf, (long long)F);
                goto done;
            }
            for (int64_t c = 0; c < F; c++) {
                const char *p = f[c];
                if (!frost__parse_f32(&p, &row[c]) || *p) {
                    st = bad_field(path, r.lineno, c + 1, "a number", f[c]);
                    goto done;
                }
            }
        }
        k++;
        if (++in == block_rows || k == n) {
            if ((st = frost__h5_rows_write(&w, block, in)) < 0) goto done;
            in = 0;
        }
    }
    st = frost__h5_rows_end(&w);
done:
    if (st < 0) frost__h5_rows_abort(&w);
    if (opened) {
        if (npy) frost__npy_close(&a);
        else frost__lines_close(&r);
    }
    free(block);
    free(f);
    return st;
}

/* The dataset file, atomically: everything but the features from ds, then
 * F feature columns streamed from feat_path (member: of an npz; NULL: no
 * features). */
static frost_status write_file(frost_dataset *ds, const char *out_path, int level, const char *feat_path,
                               const char *member, int64_t F)
{
    frost__h5_out out;
    frost_status st = frost__h5_out_create(&out, out_path);
    if (st < 0) return st;
    ds->num_features = 0; /* written with the features */
    if ((st = frost__dataset_write_meta(out.file, ds, level, out_path)) >= 0 && feat_path &&
        (st = write_features(feat_path, member, out.file, ds->num_nodes, F, level, out_path)) >= 0)
        st = frost__h5_attr_i64(out.file, "num_features", F, out_path);
    if (st < 0) {
        frost__h5_out_abort(&out);
        return st;
    }
    return frost__h5_out_commit(&out);
}

/* ---- the import ------------------------------------------------------------------ */

frost_status frost_import_edgelist(const frost_edgelist_files *in, const char *out_path, const frost_import_opts *opts)
{
    frost_status st = FROST_OK;
    frost_import_opts o = opts ? *opts : frost_import_opts_default();
    frost_dataset ds;
    int32_t *src = NULL, *dst = NULL;
    int64_t E = 0, hi = -1, frows = 0, F = 0;
    memset(&ds, 0, sizeof ds);
    if (!in->edges) return frost__error(FROST_ERR_INVALID, "no edge list given");
    if (in->n_splits < 0 || in->n_splits > 16)
        return frost__error(FROST_ERR_INVALID, "%d splits, expected 0 .. 16", in->n_splits);
    FROST_TRY(read_edge_list(in->edges, &src, &dst, &E, &hi));
    /* nodes: as given, or as many as the feature rows, or max id + 1 */
    int64_t n = in->num_nodes;
    if (in->features) {
        FROST_TRY(feature_shape(in->features, &frows, &F));
        if (n == 0) n = frows;
        if (frows != n)
            FROST_FAIL(FROST_ERR_FORMAT, "%s: %lld feature rows, but there are %lld nodes", in->features,
                       (long long)frows, (long long)n);
        if (F < 1) FROST_FAIL(FROST_ERR_FORMAT, "%s: no feature columns", in->features);
    }
    if (n == 0) n = hi + 1;
    if (hi >= n)
        FROST_FAIL(FROST_ERR_RANGE, "%s: node id %lld, but there are %lld nodes (%s)", in->edges, (long long)hi,
                   (long long)n, in->num_nodes ? "--num-nodes" : "the feature rows");
    if (n > INT32_MAX) FROST_FAIL(FROST_ERR_RANGE, "%s: %lld nodes, frost takes at most %d", in->edges, (long long)n, INT32_MAX);
    ds.num_nodes = n;
    ds.num_features = F;
    frost__dataset_name(&ds, in->edges, &o);
    snprintf(ds.source, sizeof ds.source, "frost import edgelist %s (add_inverse_edges=%d, dedup=%d, self_loops=%s)",
             in->edges, o.add_inverse_edges, !o.keep_duplicates, frost__self_loops_name(o.self_loops));
    FROST_TRY(frost__dataset_graph(&ds, E, src, dst, &o, NULL));
    free(src);
    free(dst);
    src = dst = NULL;
    if (in->labels) {
        FROST_TRY(read_label_file(in->labels, n, &ds));
        FROST_TRY(frost__labels_finish(&ds, &o, in->labels));
    } else {
        /* data to predict on: no labels; the classes must be said */
        if (o.num_classes < 1)
            FROST_FAIL(FROST_ERR_INVALID, "%s: no label file: give --num-classes (the classes a model will predict)",
                       in->edges);
        ds.num_tasks = 1;
        FROST_ALLOC(ds.label, n);
        for (int64_t k = 0; k < n; k++) ds.label[k] = -1;
        ds.task_type = FROST_TASK_MULTICLASS;
        ds.num_classes = o.num_classes;
        ds.metric = FROST_METRIC_ACCURACY;
    }
    if (in->n_splits > 0) {
        FROST_CALLOC(ds.splits, in->n_splits);
        for (int32_t k = 0; k < in->n_splits; k++) {
            frost_split *sp = &ds.splits[k];
            ds.num_splits = k + 1;
            frost__strlcpy(sp->name, in->splits[k].name, sizeof sp->name);
            FROST_TRY(frost__read_id_file(in->splits[k].part[0], n, &sp->train, &sp->n_train));
            FROST_TRY(frost__read_id_file(in->splits[k].part[1], n, &sp->valid, &sp->n_valid));
            FROST_TRY(frost__read_id_file(in->splits[k].part[2], n, &sp->test, &sp->n_test));
            char where[96];
            snprintf(where, sizeof where, "split %s", sp->name); /* its three files were read above */
            FROST_TRY(frost__split_check(sp, n, where));
        }
    }
    FROST_TRY(write_file(&ds, out_path, o.compression, in->features, NULL, F));
fail:
    free(src);
    free(dst);
    frost_dataset_release(&ds);
    return st;
}

/* ---- OGB's npz layout (ogbn-papers100M): raw/data.npz, raw/node-label.npz ------- */

/* A whole member as int64 (with its shape). */
static frost_status member_i64(const char *path, const char *member, int64_t **out, int64_t shape[2])
{
    frost__npy a;
    frost_status st = frost__npy_open(&a, path, member);
    if (st < 0) return st;
    if ((st = frost__npy_need_rows(&a)) < 0) {
        frost__npy_close(&a);
        return st;
    }
    shape[0] = a.shape[0], shape[1] = a.shape[1];
    *out = malloc((size_t)(a.count > 0 ? a.count : 1) * sizeof **out);
    st = *out ? frost__npy_read_i64(&a, *out, a.count) : frost__error(FROST_ERR_NOMEM, "out of memory");
    frost__npy_close(&a);
    if (st < 0) {
        free(*out);
        *out = NULL;
    }
    return st;
}

frost_status frost__import_ogb_npz(const char *dir, const char *out_path, const frost_import_opts *opts)
{
    frost_status st = FROST_OK;
    frost_import_opts o = opts ? *opts : frost_import_opts_default();
    frost_dataset ds;
    int64_t *ei = NULL, *lab = NULL, *yr = NULL, *nn = NULL, sh[2], lsh[2];
    int32_t *src = NULL, *dst = NULL;
    char *data = frost__asprintf("%s/raw/data.npz", dir), *labels = frost__asprintf("%s/raw/node-label.npz", dir);
    memset(&ds, 0, sizeof ds);
    if (!data || !labels) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    /* nodes and edges */
    FROST_TRY(member_i64(data, "edge_index.npy", &ei, sh));
    if (sh[0] != 2) FROST_FAIL(FROST_ERR_FORMAT, "%s, member edge_index.npy: shape (%lld, %lld), expected (2, E)", data,
                               (long long)sh[0], (long long)sh[1]);
    const int64_t E = sh[1];
    int64_t n = 0, F = 0;
    int have;
    FROST_TRY(have = frost__npz_has(data, "num_nodes_list.npy"));
    if (have) {
        int64_t s2[2];
        FROST_TRY(member_i64(data, "num_nodes_list.npy", &nn, s2));
        if (s2[0] * s2[1] < 1) FROST_FAIL(FROST_ERR_FORMAT, "%s, member num_nodes_list.npy: empty, expected [N]", data);
        n = nn[0];
    }
    frost__npy fa;
    int feat;
    FROST_TRY(feat = frost__npz_has(data, "node_feat.npy"));
    if (feat) {
        FROST_TRY(frost__npy_open(&fa, data, "node_feat.npy"));
        if (n == 0) n = fa.shape[0];
        F = fa.ndim == 2 ? fa.shape[1] : 1;
        const int64_t rows = fa.shape[0];
        frost__npy_close(&fa);
        if (F < 1) FROST_FAIL(FROST_ERR_FORMAT, "%s, member node_feat.npy: no feature columns", data);
        if (rows != n)
            FROST_FAIL(FROST_ERR_FORMAT, "%s, member node_feat.npy: %lld rows, but num_nodes_list gives %lld nodes",
                       data, (long long)rows, (long long)n);
    }
    if (n <= 0 || n > INT32_MAX)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: %lld nodes (num_nodes_list.npy or node_feat.npy), expected 1 .. %d", data,
                   (long long)n, INT32_MAX);
    FROST_ALLOC(src, E);
    FROST_ALLOC(dst, E);
    for (int64_t k = 0; k < E; k++) {
        if (ei[k] < 0 || ei[k] >= n || ei[E + k] < 0 || ei[E + k] >= n)
            FROST_FAIL(FROST_ERR_RANGE, "%s, member edge_index.npy: edge %lld (%lld, %lld), expected ids 0 .. %lld",
                       data, (long long)k, (long long)ei[k], (long long)ei[E + k], (long long)n - 1);
        src[k] = (int32_t)ei[k], dst[k] = (int32_t)ei[E + k];
    }
    free(ei);
    ei = NULL;
    ds.num_nodes = n;
    frost__dataset_name(&ds, dir, &o);
    snprintf(ds.source, sizeof ds.source, "frost import ogb %s (npz; add_inverse_edges=%d, dedup=%d, self_loops=%s)",
             dir, o.add_inverse_edges, !o.keep_duplicates, frost__self_loops_name(o.self_loops));
    FROST_TRY(frost__dataset_graph(&ds, E, src, dst, &o, NULL));
    free(src);
    free(dst);
    src = dst = NULL;
    /* labels: node_label (N, T), NaN for none */
    FROST_TRY(member_i64(labels, "node_label.npy", &lab, lsh));
    if (lsh[0] != n)
        FROST_FAIL(FROST_ERR_FORMAT, "%s, member node_label.npy: %lld rows, expected %lld", labels, (long long)lsh[0],
                   (long long)n);
    if (lsh[1] < 1 || lsh[1] > 4096)
        FROST_FAIL(FROST_ERR_FORMAT, "%s, member node_label.npy: %lld label columns, expected 1 .. 4096", labels,
                   (long long)lsh[1]);
    ds.num_tasks = (int32_t)lsh[1];
    FROST_ALLOC(ds.label, n * ds.num_tasks);
    for (int64_t k = 0; k < n * ds.num_tasks; k++) {
        if (lab[k] < -1 || lab[k] > INT32_MAX)
            FROST_FAIL(FROST_ERR_RANGE, "%s, member node_label.npy: label %lld of node %lld", labels, (long long)lab[k],
                       (long long)(k / ds.num_tasks));
        ds.label[k] = (int32_t)lab[k];
    }
    FROST_TRY(frost__labels_finish(&ds, &o, labels));
    FROST_TRY(have = frost__npz_has(data, "node_year.npy"));
    if (have) {
        int64_t ys[2];
        FROST_TRY(member_i64(data, "node_year.npy", &yr, ys));
        if (ys[0] * ys[1] != n)
            FROST_FAIL(FROST_ERR_FORMAT, "%s, member node_year.npy: %lld values, expected one per node (%lld)", data,
                       (long long)(ys[0] * ys[1]), (long long)n);
        FROST_ALLOC(ds.year, n);
        for (int64_t k = 0; k < n; k++) {
            if (yr[k] < INT32_MIN || yr[k] > INT32_MAX)
                FROST_FAIL(FROST_ERR_RANGE, "%s, member node_year.npy: year %lld of node %lld is out of range", data,
                           (long long)yr[k], (long long)k);
            ds.year[k] = (int32_t)yr[k];
        }
    }
    FROST_TRY(frost__read_ogb_splits(dir, &ds));
    if (ds.task_type == FROST_TASK_MULTICLASS) FROST_TRY(frost__read_class_names(dir, ds.num_classes, &ds.class_names));
    FROST_TRY(write_file(&ds, out_path, o.compression, feat ? data : NULL, "node_feat.npy", F));
fail:
    free(data);
    free(labels);
    free(ei);
    free(lab);
    free(yr);
    free(nn);
    free(src);
    free(dst);
    frost_dataset_release(&ds);
    return st;
}

/*
 * ogb.c - import a dataset folder in OGB's raw layout into a dataset file.
 *
 *   DIR/raw/num-node-list.csv[.gz]  N
 *   DIR/raw/num-edge-list.csv[.gz]  E
 *   DIR/raw/edge.csv[.gz]           E lines "src,dst"
 *   DIR/raw/node-label.csv[.gz]     N lines, T columns (empty / nan / -1 = unlabelled)
 *   DIR/raw/node-feat.csv[.gz]      N lines of F floats (optional)
 *   DIR/raw/edge-feat.csv[.gz]      E lines of Fe floats (optional)
 *   DIR/raw/node_year.csv[.gz]      N integers (optional)
 *   DIR/split/NAME/{train,valid,test}.csv[.gz]
 *
 * Memory: the edge list (8 bytes per edge) and the CSR are held; node
 * features, usually most of the data, are parsed in blocks of rows and
 * written straight to the file, so peak memory stays well under the size of
 * the finished dataset held in memory.
 */
#include "dataset/dataset_impl.h"
#include "io/io_impl.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

frost_import_opts frost_import_opts_default(void)
{
    frost_import_opts o;
    memset(&o, 0, sizeof o);
    o.self_loops = FROST_SELF_LOOPS_KEEP;
    o.task_type = -1;
    o.metric = -1;
    o.compression = 1;
    return o;
}

/* OGB's master table (ogb/nodeproppred/master.csv) for the ogbn datasets. */
static const struct ogbn_preset {
    const char *key, *name, *split;
    bool inverse;
    int32_t classes, tasks;
    frost_task task;
    frost_metric metric;
    const char *unread; /* a raw layout frost does not read, or NULL */
} ogbn_presets[] = {
    {"arxiv", "ogbn-arxiv", "time", false, 40, 1, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, NULL},
    {"products", "ogbn-products", "sales_ranking", true, 47, 1, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, NULL},
    {"proteins", "ogbn-proteins", "species", true, 2, 112, FROST_TASK_BINARY, FROST_METRIC_ROCAUC, NULL},
    {"mag", "ogbn-mag (its paper citation graph)", "time", false, 349, 1, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY,
     NULL},
    {"papers100m", "ogbn-papers100M", "time", false, 172, 1, FROST_TASK_MULTICLASS, FROST_METRIC_ACCURACY, NULL},
};

int frost_import_ogb_preset(const char *dir, frost_import_opts *o, char *said, size_t cap)
{
    /* the folder's last name, lower case, "_" as "-", without "ogbn-" */
    size_t L = strlen(dir);
    while (L > 1 && dir[L - 1] == '/') L--;
    size_t b = L;
    while (b > 0 && dir[b - 1] != '/') b--;
    char key[64];
    size_t k = 0;
    for (size_t i = b; i < L && k + 1 < sizeof key; i++) {
        char ch = dir[i];
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        key[k++] = ch == '_' ? '-' : ch;
    }
    key[k] = 0;
    const char *bare = strncmp(key, "ogbn-", 5) == 0 ? key + 5 : key;
    if (said && cap) said[0] = 0;
    for (size_t i = 0; i < sizeof ogbn_presets / sizeof ogbn_presets[0]; i++) {
        const struct ogbn_preset *p = &ogbn_presets[i];
        if (strcmp(bare, p->key) != 0) continue;
        if (p->unread) return frost__error(FROST_ERR_FORMAT, "%s: %s: %s", dir, p->name, p->unread);
        o->add_inverse_edges = p->inverse;
        o->task_type = (int)p->task;
        o->metric = (int)p->metric;
        o->num_classes = p->task == FROST_TASK_MULTICLASS ? p->classes : 0;
        if (said && cap) {
            if (p->task == FROST_TASK_BINARY)
                snprintf(said, cap, "%s (OGB's settings): %s, %d binary tasks, metric %s, split '%s'", p->name,
                         p->inverse ? "inverse edges added" : "edges as given", p->tasks, frost_metric_name(p->metric),
                         p->split);
            else
                snprintf(said, cap, "%s (OGB's settings): %s, %d classes, metric %s, split '%s'", p->name,
                         p->inverse ? "inverse edges added" : "edges as given", p->classes,
                         frost_metric_name(p->metric), p->split);
        }
        return 1;
    }
    return 0;
}

static bool dir_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void progress(const frost_import_opts *o, const char *stage, double f)
{
    if (o->progress) o->progress(stage, f, o->progress_user);
}

/* A file holding one non-negative integer on one line. */
/* ogbn-mag's raw/num-node-dict.csv: a header of node types, then their counts; the count of `type`. */
static frost_status read_typed_count(const char *path, const char *type, int64_t *out)
{
    frost__lines r;
    char *line, *head = NULL;
    size_t len;
    frost_status st = frost__lines_open(&r, path);
    if (st < 0) return st;
    int col = -1;
    if ((st = frost__lines_next(&r, &line, &len)) != FROST_OK || !(head = strdup(line))) {
        if (st >= 0) st = frost__error(FROST_ERR_FORMAT, "%s: empty, expected a header of node types", path);
        goto done;
    }
    int k = 0;
    for (char *save = NULL, *t = strtok_r(head, ",", &save); t; t = strtok_r(NULL, ",", &save), k++)
        if (strcmp(t, type) == 0) col = k;
    if (col < 0) {
        st = frost__error(FROST_ERR_FORMAT, "%s:1: no node type '%s' in the header", path, type);
        goto done;
    }
    if ((st = frost__lines_next(&r, &line, &len)) != FROST_OK) {
        if (st >= 0) st = frost__error(FROST_ERR_FORMAT, "%s: expected a second line of counts", path);
        goto done;
    }
    const char *p = line;
    int64_t v = -1;
    for (k = 0; k <= col; k++) {
        if (!frost__parse_i64(&p, &v) || (k < col && *p++ != ',')) {
            st = frost__error(FROST_ERR_FORMAT, "%s:2: expected a count per node type", path);
            goto done;
        }
    }
    if (v < 1 || v > INT32_MAX) {
        st = frost__error(FROST_ERR_RANGE, "%s:2: %lld %s nodes, expected 1 .. %d", path, (long long)v, type, INT32_MAX);
        goto done;
    }
    *out = v;
    st = FROST_OK;
done:
    free(head);
    frost__lines_close(&r);
    return st;
}

static frost_status read_count(const char *path, const char *what, int64_t max, int64_t *out)
{
    frost__lines r;
    char *line;
    size_t len;
    frost_status st = frost__lines_open(&r, path);
    if (st < 0) return st;
    st = frost__lines_next(&r, &line, &len);
    if (st == FROST_DONE) {
        st = frost__error(FROST_ERR_FORMAT, "%s: empty file, expected one line with the number of %s",
                          path, what);
        goto done;
    }
    if (st < 0) goto done;
    const char *p = line;
    int64_t v;
    if (!frost__parse_i64(&p, &v) || *p) {
        char q[64];
        frost__quote_field(q, sizeof q, line);
        st = frost__error(FROST_ERR_FORMAT, "%s:1: expected the number of %s, found %s", path, what, q);
        goto done;
    }
    if (v < 0 || v > max) {
        st = frost__error(FROST_ERR_RANGE, "%s:1: %lld %s, expected 0 .. %lld", path, (long long)v,
                          what, (long long)max);
        goto done;
    }
    st = frost__lines_next(&r, &line, &len);
    while (st == FROST_OK && len == 0) st = frost__lines_next(&r, &line, &len);
    if (st == FROST_OK) {
        st = frost__error(FROST_ERR_FORMAT,
                          "%s:%lld: expected a single line (one graph), found more", path,
                          (long long)r.lineno);
        goto done;
    }
    if (st < 0) goto done;
    *out = v;
    st = FROST_OK;
done:
    frost__lines_close(&r);
    return st;
}

static frost_status read_edges(const char *path, int64_t n, int64_t e, const char *nedge_path,
                               int32_t *src, int32_t *dst, const frost_import_opts *o)
{
    frost__lines r;
    char *line;
    size_t len;
    frost_status st = frost__lines_open(&r, path);
    if (st < 0) return st;
    int64_t k = 0;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (len == 0 && k == e) continue; /* trailing blank lines */
        if (k >= e) {
            st = frost__error(FROST_ERR_FORMAT,
                              "%s:%lld: more edges than the %lld that %s gives", path,
                              (long long)r.lineno, (long long)e, nedge_path);
            goto done;
        }
        const char *p = line;
        int64_t a, b;
        if (!frost__parse_i64(&p, &a) || *p != ',') {
            char q[64];
            frost__quote_field(q, sizeof q, line);
            if (frost__count_fields(line) != 2)
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: expected 2 columns (src,dst), found %lld",
                                  path, (long long)r.lineno, (long long)frost__count_fields(line));
            else
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: column 1: expected a node id, found %s",
                                  path, (long long)r.lineno, q);
            goto done;
        }
        p++;
        const char *f2 = p;
        if (!frost__parse_i64(&p, &b) || *p) {
            char q[64];
            frost__quote_field(q, sizeof q, f2);
            if (frost__count_fields(line) != 2)
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: expected 2 columns (src,dst), found %lld",
                                  path, (long long)r.lineno, (long long)frost__count_fields(line));
            else
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: column 2: expected a node id, found %s",
                                  path, (long long)r.lineno, q);
            goto done;
        }
        if (a < 0 || a >= n || b < 0 || b >= n) {
            st = frost__error(FROST_ERR_RANGE,
                              "%s:%lld: node id %lld out of range, expected 0 .. %lld (num-node-list gives %lld nodes)",
                              path, (long long)r.lineno, (long long)((a < 0 || a >= n) ? a : b),
                              (long long)n - 1, (long long)n);
            goto done;
        }
        src[k] = (int32_t)a;
        dst[k] = (int32_t)b;
        k++;
        if ((k & 0xFFFFF) == 0) progress(o, "edges", (double)k / (double)e);
    }
    if (st < 0) goto done;
    if (k != e) {
        st = frost__error(FROST_ERR_FORMAT, "%s: %lld edges, but %s gives %lld", path, (long long)k,
                          nedge_path, (long long)e);
        goto done;
    }
    st = FROST_OK;
done:
    frost__lines_close(&r);
    return st;
}

/* A label field: integer (or integral float), or empty / nan / -1 for none. */
static bool parse_label(const char **pp, int32_t *out)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    if (*p == ',' || *p == 0) {
        *out = -1;
        *pp = p;
        return true;
    }
    float f;
    if (!frost__parse_f32(&p, &f)) return false;
    if (isnan(f)) {
        *out = -1;
    } else {
        if (f != floorf(f) || f < -1.0f || f > 1e9f) return false;
        *out = (int32_t)f;
    }
    *pp = p;
    return true;
}

static frost_status read_labels(const char *path, int64_t n, int32_t **label, int32_t *ntasks)
{
    frost__lines r;
    char *line;
    size_t len;
    frost_status st = frost__lines_open(&r, path);
    int32_t *lab = NULL;
    if (st < 0) return st;
    int64_t k = 0, t = 0;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (k == 0) {
            t = frost__count_fields(line);
            if (t < 1) t = 1; /* an empty first line is one missing label */
            if (t > 4096) {
                st = frost__error(FROST_ERR_FORMAT, "%s:1: %lld label columns, expected at most 4096",
                                  path, (long long)t);
                goto done;
            }
            lab = malloc((size_t)(n > 0 ? n : 1) * (size_t)t * sizeof *lab);
            if (!lab) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory for labels");
                goto done;
            }
        }
        if (k >= n) {
            if (len == 0) continue;
            st = frost__error(FROST_ERR_FORMAT, "%s:%lld: more label rows than the %lld nodes", path,
                              (long long)r.lineno, (long long)n);
            goto done;
        }
        const char *p = line;
        for (int64_t c = 0; c < t; c++) {
            const char *field = p;
            if (!parse_label(&p, &lab[k * t + c]) || (*p != ',' && *p != 0)) {
                char q[64];
                frost__quote_field(q, sizeof q, field);
                st = frost__error(FROST_ERR_FORMAT,
                                  "%s:%lld: column %lld: expected an integer label (or empty / nan), found %s",
                                  path, (long long)r.lineno, (long long)c + 1, q);
                goto done;
            }
            if (*p == ',') {
                if (c == t - 1) {
                    st = frost__error(FROST_ERR_FORMAT, "%s:%lld: expected %lld columns, found %lld", path,
                                      (long long)r.lineno, (long long)t, (long long)frost__count_fields(line));
                    goto done;
                }
                p++;
            } else if (c < t - 1) {
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: expected %lld columns, found %lld", path,
                                  (long long)r.lineno, (long long)t, (long long)c + 1);
                goto done;
            }
        }
        k++;
    }
    if (st < 0) goto done;
    if (k == 0) {
        st = frost__error(FROST_ERR_FORMAT, "%s: empty file, expected %lld label rows", path, (long long)n);
        goto done;
    }
    if (k != n) {
        st = frost__error(FROST_ERR_FORMAT, "%s: %lld label rows, but num-node-list gives %lld nodes", path,
                          (long long)k, (long long)n);
        goto done;
    }
    *label = lab;
    lab = NULL;
    *ntasks = (int32_t)t;
    st = FROST_OK;
done:
    free(lab);
    frost__lines_close(&r);
    return st;
}

/* One integer per line; `count` receives the number of lines. */
static frost_status read_int_column(const char *path, int64_t expect, int64_t **out, int64_t *count)
{
    frost__lines r;
    char *line;
    size_t len;
    int64_t *v = NULL, cap = 0, k = 0;
    frost_status st = frost__lines_open(&r, path);
    if (st < 0) return st;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (len == 0) continue;
        if (k == cap) {
            int64_t nc = cap ? cap * 2 : 1024;
            int64_t *nv = realloc(v, (size_t)nc * sizeof *v);
            if (!nv) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory reading %s", path);
                goto done;
            }
            v = nv;
            cap = nc;
        }
        const char *p = line;
        if (!frost__parse_i64(&p, &v[k]) || *p) {
            char q[64];
            frost__quote_field(q, sizeof q, line);
            if (frost__count_fields(line) != 1)
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: expected 1 column, found %lld", path,
                                  (long long)r.lineno, (long long)frost__count_fields(line));
            else
                st = frost__error(FROST_ERR_FORMAT, "%s:%lld: expected an integer, found %s", path,
                                  (long long)r.lineno, q);
            goto done;
        }
        k++;
    }
    if (st < 0) goto done;
    if (expect >= 0 && k != expect) {
        st = frost__error(FROST_ERR_FORMAT, "%s: %lld rows, but num-node-list gives %lld nodes", path,
                          (long long)k, (long long)expect);
        goto done;
    }
    *out = v;
    v = NULL;
    *count = k;
    st = FROST_OK;
done:
    free(v);
    frost__lines_close(&r);
    return st;
}

/* Split ids: also checks the range here so the message names the line. */
static frost_status read_split_part(const char *dir, const char *part, int64_t n, int64_t **ids,
                                    int64_t *count)
{
    char *path = NULL;
    frost_status st = FROST_OK;
    const bool found = frost__find_csv(&path, dir, part);
    if (!path) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", dir);
    if (!found) {
        st = frost__error(FROST_ERR_IO, "%s: missing (also tried %s.csv)", path, part);
        free(path);
        return st;
    }
    st = frost__read_id_file(path, n, ids, count); /* the edge-list import's reader: ids, each in range */
    free(path);
    return st;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

static frost_status read_splits_in(const char *dir, const char *sub, frost_dataset *ds);

frost_status frost__read_ogb_splits(const char *dir, frost_dataset *ds) { return read_splits_in(dir, NULL, ds); }

/* split/NAME/{train,valid,test} (or split/NAME/SUB/..., ogbn-mag's per-type folders) */
static frost_status read_splits_in(const char *dir, const char *sub, frost_dataset *ds)
{
    char *sdir = frost__asprintf("%s/split", dir), *p = NULL;
    if (!sdir) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", dir);
    if (!dir_exists(sdir)) {
        free(sdir);
        return FROST_OK;
    }
    DIR *d = opendir(sdir);
    if (!d) {
        frost_status e = frost__error(FROST_ERR_IO, "%s: cannot list", sdir);
        free(sdir);
        return e;
    }
    char (*names)[64] = NULL;
    int32_t n = 0, cap = 0;
    frost_status st = FROST_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        free(p);
        if (!(p = frost__asprintf("%s/%s", sdir, de->d_name))) {
            st = frost__error(FROST_ERR_NOMEM, "%s: out of memory", sdir);
            break;
        }
        if (!dir_exists(p)) continue;
        if (strlen(de->d_name) >= 64) {
            st = frost__error(FROST_ERR_FORMAT, "%s: split name longer than 63 characters", p);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *nn = realloc(names, (size_t)cap * sizeof *names);
            if (!nn) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory");
                break;
            }
            names = nn;
        }
        frost__strlcpy(names[n++], de->d_name, 64);
    }
    closedir(d);
    if (st < 0) goto done;
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    ds->splits = calloc((size_t)(n ? n : 1), sizeof *ds->splits);
    if (!ds->splits) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int32_t k = 0; k < n; k++) {
        frost_split *sp = &ds->splits[k];
        ds->num_splits = k + 1;
        frost__strlcpy(sp->name, names[k], sizeof sp->name);
        free(p);
        if (!(p = frost__asprintf("%s/%s%s%s", sdir, names[k], sub ? "/" : "", sub ? sub : ""))) {
            st = frost__error(FROST_ERR_NOMEM, "%s: out of memory", sdir);
            goto done;
        }
        if ((st = read_split_part(p, "train", ds->num_nodes, &sp->train, &sp->n_train)) < 0) goto done;
        if ((st = read_split_part(p, "valid", ds->num_nodes, &sp->valid, &sp->n_valid)) < 0) goto done;
        if ((st = read_split_part(p, "test", ds->num_nodes, &sp->test, &sp->n_test)) < 0) goto done;
        if ((st = frost__split_check(sp, ds->num_nodes, p)) < 0) goto done;
    }
done:
    free(names);
    free(p);
    free(sdir);
    return st;
}

static frost_status read_edge_feat(const char *path, int64_t e, const frost_csr *g, const int64_t *perm,
                                   float **out, int64_t *fe_out)
{
    frost__lines r;
    char *line;
    size_t len;
    float *raw = NULL, *fe = NULL;
    int64_t F = 0, k = 0;
    frost_status st = frost__lines_open(&r, path);
    if (st < 0) return st;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (k == 0) {
            F = frost__count_fields(line);
            if (F < 1) {
                st = frost__error(FROST_ERR_FORMAT, "%s:1: empty line, expected edge features", path);
                goto done;
            }
            raw = malloc((size_t)(e ? e : 1) * (size_t)F * sizeof *raw);
            if (!raw) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory for edge features");
                goto done;
            }
        }
        if (k >= e) {
            st = frost__error(FROST_ERR_FORMAT, "%s:%lld: more rows than the %lld edges", path,
                              (long long)r.lineno, (long long)e);
            goto done;
        }
        if ((st = frost__parse_float_row(line, F, raw + k * F, path, r.lineno)) < 0) goto done;
        k++;
    }
    if (st < 0) goto done;
    if (k != e) {
        st = frost__error(FROST_ERR_FORMAT, "%s: %lld rows, but num-edge-list gives %lld edges", path,
                          (long long)k, (long long)e);
        goto done;
    }
    fe = malloc((size_t)(g->nnz ? g->nnz : 1) * (size_t)F * sizeof *fe);
    if (!fe) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory for edge features");
        goto done;
    }
    for (int64_t q = 0; q < g->nnz; q++) {
        int64_t src = perm[q];
        if (src < 0) memset(fe + q * F, 0, (size_t)F * sizeof(float)); /* added self-loop */
        else memcpy(fe + q * F, raw + (src % e) * F, (size_t)F * sizeof(float));
    }
    *out = fe;
    fe = NULL;
    *fe_out = F;
    st = FROST_OK;
done:
    free(raw);
    free(fe);
    frost__lines_close(&r);
    return st;
}

/* Stream node-feat rows into /node/feat in blocks. */
static frost_status stream_features(const char *path, hid_t file, int64_t n, int level,
                                    const char *out_path, const frost_import_opts *o, int64_t *nfeat)
{
    frost__lines r;
    frost__h5_rows w;
    char *line;
    size_t len;
    float *block = NULL;
    int64_t F = 0, k = 0, in_block = 0, block_rows = 0;
    bool started = false;
    frost_status st = frost__lines_open(&r, path);
    if (st < 0) return st;
    memset(&w, 0, sizeof w);
    w.dset = H5I_INVALID_HID;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        if (!started) {
            F = frost__count_fields(line);
            if (F < 1) {
                st = frost__error(FROST_ERR_FORMAT, "%s:1: empty line, expected node features", path);
                goto done;
            }
            block_rows = frost__h5_chunk_rows(n, F, sizeof(float)) * 4;
            block = malloc((size_t)block_rows * (size_t)F * sizeof *block);
            if (!block) {
                st = frost__error(FROST_ERR_NOMEM, "out of memory for a feature block");
                goto done;
            }
            if ((st = frost__h5_rows_begin(&w, file, "node/feat", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, n, F,
                                           level, out_path)) < 0)
                goto done;
            started = true;
        }
        if (k >= n) {
            if (len == 0) continue;
            st = frost__error(FROST_ERR_FORMAT, "%s:%lld: more feature rows than the %lld nodes", path,
                              (long long)r.lineno, (long long)n);
            goto done;
        }
        if ((st = frost__parse_float_row(line, F, block + in_block * F, path, r.lineno)) < 0) goto done;
        k++;
        if (++in_block == block_rows) {
            if ((st = frost__h5_rows_write(&w, block, in_block)) < 0) goto done;
            in_block = 0;
            progress(o, "features", (double)k / (double)n);
        }
    }
    if (st < 0) goto done;
    if (k != n) {
        st = k == 0 ? frost__error(FROST_ERR_FORMAT, "%s: empty file, expected %lld feature rows", path,
                                   (long long)n)
                    : frost__error(FROST_ERR_FORMAT, "%s: %lld feature rows, but num-node-list gives %lld nodes",
                                   path, (long long)k, (long long)n);
        goto done;
    }
    if ((st = frost__h5_rows_write(&w, block, in_block)) < 0) goto done;
    st = frost__h5_rows_end(&w);
    *nfeat = F;
done:
    if (st < 0) frost__h5_rows_abort(&w);
    free(block);
    frost__lines_close(&r);
    return st;
}

/* frost__find_csv into *out, freeing what *out held; false also when out of
 * memory (then *out is NULL and the caller's message names nothing). */
static bool find_csv(char **out, const char *dir, const char *name)
{
    free(*out);
    return frost__find_csv(out, dir, name);
}

/* ds->name: the option, else the last name of `path` (a folder or a file, without its extension). */
void frost__dataset_name(frost_dataset *ds, const char *path, const frost_import_opts *o)
{
    if (o->name && o->name[0]) {
        frost__strlcpy(ds->name, o->name, sizeof ds->name);
        return;
    }
    size_t L = strlen(path);
    while (L > 1 && path[L - 1] == '/') L--;
    size_t b = L;
    while (b > 0 && path[b - 1] != '/') b--;
    snprintf(ds->name, sizeof ds->name, "%.*s", (int)(L - b), path + b);
    struct stat sb;
    char *dot = strchr(ds->name, '.');
    if (dot && dot != ds->name && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) *dot = 0; /* a file's extension */
}

/* ds->graph from an edge list as the import flags say (inverse edges,
 * repeats, self-loops), with the flags and the symmetry recorded. */
frost_status frost__dataset_graph(frost_dataset *ds, int64_t E, const int32_t *src, const int32_t *dst,
                                  const frost_import_opts *o, int64_t **perm)
{
    frost_csr_build_opts bo = frost_csr_build_opts_default();
    bo.symmetrize = o->add_inverse_edges;
    bo.keep_duplicates = o->keep_duplicates;
    bo.self_loops = o->self_loops;
    frost_status st = frost_csr_from_edges(&ds->graph, ds->num_nodes, E, src, dst, &bo, perm);
    if (st < 0) return st;
    ds->edge_list_edges = E;
    ds->inverse_edges_added = o->add_inverse_edges;
    ds->deduplicated = !o->keep_duplicates;
    ds->self_loops = o->self_loops;
    return frost_csr_is_symmetric(&ds->graph, &ds->symmetric);
}

/* Task type, classes and metric of ds from its labels and the options
 * (shared by the importers); `path` names the label file in messages. */
frost_status frost__labels_finish(frost_dataset *ds, const frost_import_opts *o, const char *path)
{
    frost_status st = FROST_OK;
    int32_t maxlab = -1;
    for (int64_t k = 0; k < ds->num_nodes * ds->num_tasks; k++)
        if (ds->label[k] > maxlab) maxlab = ds->label[k];
    ds->task_type = o->task_type >= 0 ? (frost_task)o->task_type
                                    : (ds->num_tasks > 1 ? FROST_TASK_BINARY : FROST_TASK_MULTICLASS);
    if (ds->task_type == FROST_TASK_MULTICLASS && ds->num_tasks > 1)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: %d label columns, but a multiclass task needs exactly 1", path,
                   ds->num_tasks);
    if (ds->task_type == FROST_TASK_BINARY) {
        if (maxlab > 1)
            FROST_FAIL(FROST_ERR_RANGE, "%s: label %d in a binary task, expected 0 or 1", path, maxlab);
        ds->num_classes = 2;
    } else {
        if (o->num_classes <= 0 && maxlab >= (1 << 20))
            FROST_FAIL(FROST_ERR_RANGE, "%s: label %d: frost takes at most %d classes", path, maxlab, 1 << 20);
        ds->num_classes = o->num_classes > 0 ? o->num_classes : maxlab + 1;
        if (ds->num_classes < 1)
            FROST_FAIL(FROST_ERR_FORMAT, "%s: no node has a label", path);
        if (maxlab >= ds->num_classes)
            FROST_FAIL(FROST_ERR_RANGE, "%s: label %d, but --num-classes is %d", path, maxlab,
                       ds->num_classes);
    }
    ds->metric = o->metric >= 0 ? (frost_metric)o->metric
                              : (ds->task_type == FROST_TASK_BINARY ? FROST_METRIC_ROCAUC
                                                                    : FROST_METRIC_ACCURACY);
    if (ds->metric == FROST_METRIC_ROCAUC && ds->task_type == FROST_TASK_MULTICLASS) {
        if (ds->num_classes != 2)
            FROST_FAIL(FROST_ERR_INVALID, "%s: metric rocauc needs binary labels, found %d classes", path,
                       ds->num_classes);
        ds->task_type = FROST_TASK_BINARY; /* one task of 0/1 labels */
    }
    return FROST_OK;
fail:
    return st;
}

/* The class names of DIR/mapping/labelidx2*.csv[.gz] (OGB: "label idx,NAME"
 * after a header line), one per line in class order; NULL without the file.
 * A class the file does not name gets an empty line. */
frost_status frost__read_class_names(const char *dir, int32_t C, char **out)
{
    frost_status st = FROST_OK;
    char *mdir = frost__asprintf("%s/mapping", dir), *path = NULL, **names = NULL;
    frost__lines r;
    bool open = false;
    *out = NULL;
    DIR *d = mdir ? opendir(mdir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "labelidx2", 9) == 0 && strstr(e->d_name, ".csv")) {
            path = frost__asprintf("%s/%s", mdir, e->d_name);
            break;
        }
    if (d) closedir(d);
    if (!path || C < 1) goto done;
    FROST_CALLOC(names, C);
    FROST_TRY(frost__lines_open(&r, path));
    open = true;
    char *line;
    size_t len;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        const char *p = line;
        int64_t idx;
        if (r.lineno == 1 && !frost__parse_i64(&p, &idx)) continue; /* the header */
        p = line;
        if (!frost__parse_i64(&p, &idx) || *p != ',' || idx < 0 || idx >= C)
            FROST_FAIL(FROST_ERR_FORMAT, "%s:%lld: expected 'label index,name' with an index 0 .. %d", path,
                       (long long)r.lineno, C - 1);
        free(names[idx]);
        if (!(names[idx] = strdup(p + 1))) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        for (char *q = names[idx]; *q; q++)
            if (*q == '\n' || *q == '\r') *q = ' ';
    }
    if (st < 0) goto fail;
    st = FROST_OK;
    size_t total = 1;
    for (int32_t c = 0; c < C; c++) total += (names[c] ? strlen(names[c]) : 0) + 1;
    FROST_ALLOC(*out, (int64_t)total);
    char *w = *out;
    for (int32_t c = 0; c < C; c++) w += sprintf(w, "%s%s", c ? "\n" : "", names[c] ? names[c] : "");
fail:
done:
    if (open) frost__lines_close(&r);
    for (int32_t c = 0; names && c < C; c++) free(names[c]);
    free(names);
    free(path);
    free(mdir);
    return st;
}

frost_status frost_import_ogb(const char *dir, const char *out_path, const frost_import_opts *opts)
{
    {
        /* OGB's npz layout (ogbn-papers100M): raw/data.npz and raw/node-label.npz */
        char *npz = frost__asprintf("%s/raw/data.npz", dir);
        const bool is_npz = npz && frost__file_exists(npz);
        free(npz);
        if (is_npz) return frost__import_ogb_npz(dir, out_path, opts);
    }
    frost_status st = FROST_OK;
    frost_import_opts o = opts ? *opts : frost_import_opts_default();
    frost_dataset ds;
    frost__h5_out out;
    int32_t *src = NULL, *dst = NULL;
    int64_t *perm = NULL, *years = NULL;
    char *raw = NULL, *path = NULL, *nedge_path = NULL, *feat_path = NULL, *efeat_path = NULL;
    /* ogbn-mag's paper graph: the same files in per-type folders */
    char *edir = NULL, *fdir = NULL, *ldir = NULL, *ydir = NULL;
    bool mag = false;
    bool out_open = false;
    memset(&ds, 0, sizeof ds);
    frost__h5_init();

    if (!dir_exists(dir)) return frost__error(FROST_ERR_IO, "%s: no such folder", dir);
    if (!(raw = frost__asprintf("%s/raw", dir))) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", dir);
    if (!dir_exists(raw))
        FROST_FAIL(FROST_ERR_IO, "%s: missing, expected the OGB raw layout (raw/edge.csv.gz, ...)", raw);
    if (o.compression < 0 || o.compression > 9)
        FROST_FAIL(FROST_ERR_INVALID, "compression level %d, expected 0 .. 9", o.compression);

    frost__dataset_name(&ds, dir, &o); /* the folder's last name */
    snprintf(ds.source, sizeof ds.source, "frost import ogb %s (add_inverse_edges=%d, dedup=%d, self_loops=%s)",
             dir, o.add_inverse_edges, !o.keep_duplicates, frost__self_loops_name(o.self_loops));

    edir = frost__asprintf("%s/relations/paper___cites___paper", raw);
    if (!edir) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    mag = dir_exists(edir);
    if (mag) {
        fdir = frost__asprintf("%s/node-feat/paper", raw);
        ldir = frost__asprintf("%s/node-label/paper", raw);
        ydir = frost__asprintf("%s/node_year/paper", raw);
    } else {
        free(edir);
        edir = strdup(raw), fdir = strdup(raw), ldir = strdup(raw), ydir = strdup(raw);
    }
    if (!edir || !fdir || !ldir || !ydir) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    if (mag) snprintf(ds.source + strlen(ds.source), sizeof ds.source - strlen(ds.source), "; ogbn-mag's paper graph");

    /* counts */
    if (mag) {
        if (!find_csv(&path, raw, "num-node-dict"))
            FROST_FAIL(FROST_ERR_IO, "%s: missing (also tried num-node-dict.csv)", path);
        FROST_TRY(read_typed_count(path, "paper", &ds.num_nodes));
    } else {
        if (!find_csv(&path, raw, "num-node-list"))
            FROST_FAIL(FROST_ERR_IO, "%s: missing (also tried num-node-list.csv)", path);
        FROST_TRY(read_count(path, "nodes", INT32_MAX, &ds.num_nodes));
    }
    if (!find_csv(&nedge_path, edir, "num-edge-list"))
        FROST_FAIL(FROST_ERR_IO, "%s: missing (also tried num-edge-list.csv)", nedge_path);
    int64_t E = 0;
    FROST_TRY(read_count(nedge_path, "edges", INT64_C(1) << 40, &E));
    ds.edge_list_edges = E;

    /* edges -> CSR */
    if (!find_csv(&path, edir, "edge"))
        FROST_FAIL(FROST_ERR_IO, "%s: missing (also tried edge.csv)", path);
    FROST_ALLOC(src, E);
    FROST_ALLOC(dst, E);
    FROST_TRY(read_edges(path, ds.num_nodes, E, nedge_path, src, dst, &o));
    bool have_efeat = find_csv(&efeat_path, edir, "edge-feat");
    FROST_TRY(frost__dataset_graph(&ds, E, src, dst, &o, have_efeat ? &perm : NULL));
    free(src);
    src = NULL;
    free(dst);
    dst = NULL;
    progress(&o, "edges", 1.0);
    if (have_efeat) {
        FROST_TRY(read_edge_feat(efeat_path, E, &ds.graph, perm, &ds.edge_feat, &ds.num_edge_features));
        free(perm);
        perm = NULL;
    }

    /* labels */
    if (!find_csv(&path, ldir, "node-label"))
        FROST_FAIL(FROST_ERR_IO, "%s: missing (also tried node-label.csv)", path);
    FROST_TRY(read_labels(path, ds.num_nodes, &ds.label, &ds.num_tasks));
    FROST_TRY(frost__labels_finish(&ds, &o, path));

    /* year */
    if (find_csv(&path, ydir, "node_year")) {
        int64_t cnt = 0;
        FROST_TRY(read_int_column(path, ds.num_nodes, &years, &cnt));
        FROST_ALLOC(ds.year, ds.num_nodes);
        for (int64_t k = 0; k < ds.num_nodes; k++) ds.year[k] = (int32_t)years[k];
        free(years);
        years = NULL;
    }

    FROST_TRY(read_splits_in(dir, mag ? "paper" : NULL, &ds));
    if (ds.task_type == FROST_TASK_MULTICLASS) FROST_TRY(frost__read_class_names(dir, ds.num_classes, &ds.class_names));

    /* write: everything but the features, then stream the features */
    FROST_TRY(frost__h5_out_create(&out, out_path));
    out_open = true;
    FROST_TRY(frost__dataset_write_meta(out.file, &ds, o.compression, out_path));
    if (find_csv(&feat_path, fdir, "node-feat")) {
        FROST_TRY(stream_features(feat_path, out.file, ds.num_nodes, o.compression, out_path, &o,
                                  &ds.num_features));
        FROST_TRY(frost__h5_attr_i64(out.file, "num_features", ds.num_features, out_path));
    }
    out_open = false;
    FROST_TRY(frost__h5_out_commit(&out));
    progress(&o, "done", 1.0);
    st = FROST_OK;
fail:
    if (out_open) frost__h5_out_abort(&out);
    free(raw);
    free(edir);
    free(fdir);
    free(ldir);
    free(ydir);
    free(path);
    free(nedge_path);
    free(feat_path);
    free(efeat_path);
    free(src);
    free(dst);
    free(perm);
    free(years);
    frost_dataset_release(&ds);
    return st;
}

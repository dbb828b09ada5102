/*
 * rows.c - parts of a dataset file: some rows of a node array, some rows of
 * the graph, one stored partition. A process of a distributed run reads
 * with these only what its share needs (src/dist/local.c), never the whole
 * feature matrix or graph.
 *
 * Rows are read in blocks of consecutive rows (a hyperslab, or the chunks
 * that hold it): a block runs from a wanted row to the last wanted row
 * within BLOCK_BYTES of it, so the memory beyond the result is one block,
 * and a file whose part is contiguous (frost partition --reorder) is read
 * only where that part lies.
 *
 * Shape legend: N nodes, n rows wanted, cols values per row.
 */
#include "dataset/dataset_impl.h"

#include <math.h>
#include <string.h>

#define BLOCK_BYTES ((int64_t)32 << 20)

static hid_t memtype_of(frost__elem t) { return t == FROST__F32 ? H5T_NATIVE_FLOAT : t == FROST__I32 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64; }
static size_t size_of(frost__elem t) { return t == FROST__I64 ? 8 : 4; }

static frost_status check_ids(const int64_t *ids, int64_t n, int64_t N, const char *path, const char *name)
{
    for (int64_t k = 0; k < n; k++)
        if (ids[k] < 0 || ids[k] >= N || (k > 0 && ids[k] <= ids[k - 1]))
            return frost__error(FROST_ERR_INVALID, "%s: rows of '%s': row %lld at position %lld, expected increasing "
                                "rows in 0 .. %lld", path, name, (long long)ids[k], (long long)k, (long long)N - 1);
    return FROST_OK;
}

static frost_status rows_in(hid_t f, const char *path, const char *name, frost__elem t, int64_t cols, int64_t N,
                            const int64_t *ids, int64_t n, void *out)
{
    frost_status st = FROST_OK;
    unsigned char *blk = NULL;
    const size_t es = size_of(t), row = (size_t)cols * es;
    FROST_TRY(check_ids(ids, n, N, path, name));
    if (n == 0 || cols == 0) return FROST_OK;
    int64_t span = row ? BLOCK_BYTES / (int64_t)row : N;
    if (span < 1) span = 1;
    FROST_ALLOC(blk, (size_t)span * row);
    for (int64_t k = 0; k < n;) {
        const int64_t lo = ids[k];
        int64_t e = k;
        while (e + 1 < n && ids[e + 1] - lo < span) e++;
        const int64_t hi = ids[e] + 1;
        FROST_TRY(frost__h5_read_rows(f, name, memtype_of(t), cols, lo, hi, blk, path));
        for (; k <= e; k++) memcpy((unsigned char *)out + (size_t)k * row, blk + (size_t)(ids[k] - lo) * row, row);
    }
fail:
    free(blk);
    return st;
}

frost_status frost__dataset_read_rows(const char *path, const char *name, frost__elem t, int64_t cols, int64_t N,
                                      const int64_t *ids, int64_t n, void *out)
{
    hid_t f = H5I_INVALID_HID;
    frost_status st = frost__h5_open_read(&f, path, FROST_DATASET_FORMAT, FROST_DATASET_VERSION, NULL);
    if (st < 0) return st;
    st = rows_in(f, path, name, t, cols, N, ids, n, out);
    H5Fclose(f);
    if (st < 0) H5Eclear2(H5E_DEFAULT);
    return st;
}

frost_status frost__dataset_read_features(int fd, const char *ctx, int64_t N, int64_t F, float *out)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return frost__h5_fail(ctx, "cannot open");
    frost_status st = frost__h5_fapl_fd(fapl, fd, ctx);
    hid_t f = st < 0 ? H5I_INVALID_HID : H5Fopen(ctx, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (st < 0) return st;
    if (f < 0) return frost__h5_fail(ctx, "cannot open");
    const int64_t df[2] = {N, F};
    st = frost__h5_read_into(f, "node/feat", H5T_NATIVE_FLOAT, 2, df, out, ctx);
    H5Fclose(f);
    if (st < 0) H5Eclear2(H5E_DEFAULT);
    return st;
}

frost_status frost__dataset_read_graph_rows(const char *path, int64_t N, const int64_t *ids, int64_t n, frost_csr *out)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID;
    int64_t *ptr = NULL, *want = NULL, *pos = NULL, *vals = NULL;
    int32_t *blk = NULL;
    memset(out, 0, sizeof *out);
    FROST_TRY(check_ids(ids, n, N, path, "graph"));
    FROST_TRY(frost__h5_open_read(&f, path, FROST_DATASET_FORMAT, FROST_DATASET_VERSION, NULL));
    /* the wanted rows' bounds: entries ids[k] and ids[k] + 1 of /graph/indptr,
     * with its first and last entry to check them all against */
    FROST_ALLOC(ptr, 2 * (n > 0 ? n : 1));
    FROST_ALLOC(want, 2 * n + 2);
    FROST_ALLOC(pos, n > 0 ? n : 1);
    int64_t m = 0;
    want[m++] = 0;
    for (int64_t k = 0; k < n; k++) {
        if (want[m - 1] == ids[k]) pos[k] = m - 1;
        else pos[k] = m, want[m++] = ids[k];
        want[m++] = ids[k] + 1;
    }
    if (want[m - 1] != N) want[m++] = N;
    FROST_ALLOC(vals, m);
    FROST_TRY(rows_in(f, path, "graph/indptr", FROST__I64, 1, N + 1, want, m, vals));
    /* indptr must start at 0, never decrease, and end at the length of
     * /graph/indices: over the entries read, in increasing position */
    const int64_t E = frost__h5_length(f, "graph/indices");
    if (E < 0) FROST_FAIL(FROST_ERR_FORMAT, "%s: /graph/indices is missing or not a vector", path);
    if (vals[0] != 0 || vals[m - 1] != E)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: /graph/indptr runs from %lld to %lld; expected 0 to %lld (the length of "
                   "/graph/indices)", path, (long long)vals[0], (long long)vals[m - 1], (long long)E);
    for (int64_t t = 1; t < m; t++)
        if (vals[t] < vals[t - 1])
            FROST_FAIL(FROST_ERR_FORMAT, "%s: /graph/indptr[%lld] = %lld is below /graph/indptr[%lld] = %lld: expected "
                       "nondecreasing values", path, (long long)want[t], (long long)vals[t], (long long)want[t - 1],
                       (long long)vals[t - 1]);
    int64_t nnz = 0;
    for (int64_t k = 0; k < n; k++) {
        ptr[2 * k] = vals[pos[k]], ptr[2 * k + 1] = vals[pos[k] + 1];
        nnz += ptr[2 * k + 1] - ptr[2 * k];
    }
    FROST_TRY(frost_csr_alloc(out, n, N, nnz));
    /* the rows' entries, in blocks of consecutive entries */
    const int64_t span = BLOCK_BYTES / (int64_t)sizeof(int32_t);
    FROST_ALLOC(blk, span);
    int64_t o = 0;
    for (int64_t k = 0; k < n;) {
        const int64_t lo = ptr[2 * k];
        int64_t e = k;
        while (e + 1 < n && ptr[2 * e + 3] - lo <= span) e++;
        const int64_t hi = ptr[2 * e + 1] > lo ? ptr[2 * e + 1] : lo;
        if (hi - lo > span) { /* one row longer than a block: read it whole */
            FROST_TRY(frost__h5_read_rows(f, "graph/indices", H5T_NATIVE_INT32, 1, lo, hi, out->indices + o, path));
        } else {
            FROST_TRY(frost__h5_read_rows(f, "graph/indices", H5T_NATIVE_INT32, 1, lo, hi, blk, path));
        }
        for (; k <= e; k++) {
            const int64_t a = ptr[2 * k], b = ptr[2 * k + 1];
            if (hi - lo <= span) memcpy(out->indices + o, blk + (a - lo), (size_t)(b - a) * sizeof(int32_t));
            for (int64_t q = o; q < o + (b - a); q++)
                if (out->indices[q] < 0 || out->indices[q] >= N)
                    FROST_FAIL(FROST_ERR_FORMAT, "%s: /graph: row %lld holds column %d, expected 0 .. %lld", path,
                               (long long)ids[k], out->indices[q], (long long)N - 1);
            o += b - a;
            out->indptr[k + 1] = o;
        }
    }
fail:
    free(ptr);
    free(want);
    free(pos);
    free(vals);
    free(blk);
    if (f >= 0) H5Fclose(f);
    if (st < 0) {
        H5Eclear2(H5E_DEFAULT);
        frost_csr_release(out);
    }
    return st;
}

frost_status frost__dataset_read_partition(const char *path, const char *name, int64_t N, int32_t *part, int32_t *k)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID, d = H5I_INVALID_HID;
    char p[128];
    snprintf(p, sizeof p, "partition/%s", name);
    FROST_TRY(frost__h5_open_read(&f, path, FROST_DATASET_FORMAT, FROST_DATASET_VERSION, NULL));
    FROST_TRY(frost__h5_read_into(f, p, H5T_NATIVE_INT32, 1, &N, part, path));
    d = H5Dopen2(f, p, H5P_DEFAULT);
    int64_t kk = 0;
    FROST_TRY(d >= 0 ? frost__h5_read_attr_i64(d, "k", &kk, path) : frost__h5_fail(path, "cannot open /%s", p));
    if (kk < 1 || kk > N) FROST_FAIL(FROST_ERR_FORMAT, "%s: /%s: k = %lld", path, p, (long long)kk);
    for (int64_t i = 0; i < N; i++)
        if (part[i] < 0 || part[i] >= kk)
            FROST_FAIL(FROST_ERR_FORMAT, "%s: /%s: node %lld is in part %d, expected 0 .. %lld", path, p, (long long)i,
                       part[i], (long long)kk - 1);
    *k = (int32_t)kk;
fail:
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    if (st < 0) H5Eclear2(H5E_DEFAULT);
    return st;
}

frost_status frost__features_prepare(float *X, int64_t n, int64_t F, const int64_t *ids, bool row_norm, const char *path)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < F; f++)
            if (!isfinite(X[i * F + f]))
                return frost__error(FROST_ERR_NUMERIC, "%s: /node/feat of node %lld, column %lld is %s; features must "
                                    "be finite", path, (long long)(ids ? ids[i] : i), (long long)f,
                                    isnan(X[i * F + f]) ? "NaN" : "infinite");
    if (!row_norm) return FROST_OK;
    for (int64_t i = 0; i < n; i++) {
        float *y = X + i * F;
        double s = 0;
        for (int64_t f = 0; f < F; f++) s += (double)y[f];
        const float inv = s != 0 ? (float)(1.0 / s) : 1.0f;
        if (inv != 1.0f)
            for (int64_t f = 0; f < F; f++) y[f] *= inv;
    }
    return FROST_OK;
}

bool frost__dataset_has(const char *path, const char *name)
{
    hid_t f = H5I_INVALID_HID;
    if (frost__h5_open_read(&f, path, FROST_DATASET_FORMAT, FROST_DATASET_VERSION, NULL) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
    }
    const bool yes = frost__h5_exists(f, name);
    H5Fclose(f);
    return yes;
}

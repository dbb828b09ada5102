/*
 * results.c - one HDF5 file of the results format ("frost.results",
 * version 1): the main results file and each pending run file beside it
 * (store.c) have this layout.
 *
 *   /                 attrs format, version, created_by
 *   /runs/ID          attrs: config, dataset, split, model, method, metric,
 *                     seed, [sparsity, prune_ratio, lock_ratio], best_epoch,
 *                     epochs_run, val_metric, test_metric, train_metric,
 *                     train_seconds, eval_seconds, model_bits, dense_bits,
 *                     threads, status, message, logits_hash, order
 *   /runs/ID/history  compound (epoch, loss, train_metric, valid_metric,
 *                     test_metric, train_seconds, eval_seconds, lr)
 *   /runs/ID/state/params, /bn (float32), /mask (uint8, packed bits)
 *   /summary          compound, one row per configuration without its seed
 *                     (main file only)
 */
#include "results/results_impl.h"
#include "frost/config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void frost_results_release(frost_results *r)
{
    if (!r) return;
    for (int64_t k = 0; k < r->n; k++) free(r->runs[k].config);
    free(r->runs);
    r->runs = NULL;
    r->n = 0;
}

const frost_run_info *frost_results_find(const frost_results *r, const char *id)
{
    for (int64_t k = 0; k < r->n; k++)
        if (strcmp(r->runs[k].id, id) == 0) return &r->runs[k];
    return NULL;
}

void frost_run_state_release(frost_run_state *s)
{
    if (!s) return;
    free(s->params);
    free(s->bn);
    free(s->mask);
    memset(s, 0, sizeof *s);
}

/* ---- compound types --------------------------------------------------------------- */

static hid_t history_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(frost_epoch_record));
    H5Tinsert(t, "epoch", HOFFSET(frost_epoch_record, epoch), H5T_NATIVE_INT64);
    H5Tinsert(t, "loss", HOFFSET(frost_epoch_record, loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "train_metric", HOFFSET(frost_epoch_record, train_metric), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "valid_metric", HOFFSET(frost_epoch_record, valid_metric), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "test_metric", HOFFSET(frost_epoch_record, test_metric), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "train_seconds", HOFFSET(frost_epoch_record, train_seconds), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "eval_seconds", HOFFSET(frost_epoch_record, eval_seconds), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "lr", HOFFSET(frost_epoch_record, lr), H5T_NATIVE_DOUBLE);
    return t;
}

typedef struct summary_rec {
    char *config, *method, *model, *dataset, *split;
    double sparsity, prune_ratio, lock_ratio;
    int64_t runs;
    double val_mean, val_std, test_mean, test_std, train_seconds_mean;
    int64_t model_bits, dense_bits, paper_bits, degenerate;
} summary_rec;

static hid_t summary_type(void)
{
    hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, H5T_VARIABLE);
    H5Tset_cset(s, H5T_CSET_UTF8);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(summary_rec));
    H5Tinsert(t, "config", HOFFSET(summary_rec, config), s);
    H5Tinsert(t, "method", HOFFSET(summary_rec, method), s);
    H5Tinsert(t, "model", HOFFSET(summary_rec, model), s);
    H5Tinsert(t, "dataset", HOFFSET(summary_rec, dataset), s);
    H5Tinsert(t, "split", HOFFSET(summary_rec, split), s);
    H5Tinsert(t, "sparsity", HOFFSET(summary_rec, sparsity), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "prune_ratio", HOFFSET(summary_rec, prune_ratio), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "lock_ratio", HOFFSET(summary_rec, lock_ratio), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "runs", HOFFSET(summary_rec, runs), H5T_NATIVE_INT64);
    H5Tinsert(t, "val_mean", HOFFSET(summary_rec, val_mean), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "val_std", HOFFSET(summary_rec, val_std), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "test_mean", HOFFSET(summary_rec, test_mean), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "test_std", HOFFSET(summary_rec, test_std), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "train_seconds_mean", HOFFSET(summary_rec, train_seconds_mean), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "model_bits", HOFFSET(summary_rec, model_bits), H5T_NATIVE_INT64);
    H5Tinsert(t, "dense_bits", HOFFSET(summary_rec, dense_bits), H5T_NATIVE_INT64);
    H5Tinsert(t, "paper_bits", HOFFSET(summary_rec, paper_bits), H5T_NATIVE_INT64);
    H5Tinsert(t, "degenerate", HOFFSET(summary_rec, degenerate), H5T_NATIVE_INT64);
    H5Tclose(s);
    return t;
}

/* ---- reading ------------------------------------------------------------------------ */

static frost_status read_info(hid_t g, frost_run_info *ri, const char *path)
{
    frost_status st;
#define RS(name, field)                                                                                                \
    if ((st = frost__h5_read_attr_strbuf(g, name, ri->field, sizeof ri->field, path)) < 0) return st
#define RI(name, field)                                                                                                \
    if ((st = frost__h5_read_attr_i64(g, name, &ri->field, path)) < 0) return st
#define RD(name, field)                                                                                                \
    if ((st = frost__h5_read_attr_f64(g, name, &ri->field, path)) < 0) return st
    if ((st = frost__h5_read_attr_str(g, "config", &ri->config, path)) < 0) return st;
    RS("dataset", dataset);
    RS("split", split);
    RS("model", model);
    RS("method", method);
    RS("metric", metric);
    RS("status", status);
    RS("message", message);
    RS("logits_hash", logits_hash);
    RI("seed", seed);
    RI("best_epoch", best_epoch);
    RI("epochs_run", epochs_run);
    RI("model_bits", model_bits);
    RI("dense_bits", dense_bits);
    ri->paper_bits = -1;
    if (frost__h5_has_attr(g, "paper_bits")) RI("paper_bits", paper_bits);
    ri->degenerate = false;
    if (frost__h5_has_attr(g, "degenerate")) {
        int64_t dg;
        if ((st = frost__h5_read_attr_i64(g, "degenerate", &dg, path)) < 0) return st;
        ri->degenerate = dg != 0;
    }
    RI("threads", threads);
    RI("order", order);
    RI("in_dim", in_dim);
    RI("out_dim", out_dim);
    RD("val_metric", val_metric);
    RD("test_metric", test_metric);
    RD("train_metric", train_metric);
    RD("train_seconds", train_seconds);
    RD("eval_seconds", eval_seconds);
    ri->blas_core[0] = 0;
    if (frost__h5_has_attr(g, "blas_core")) RS("blas_core", blas_core);
    ri->sparsity = ri->prune_ratio = ri->lock_ratio = (double)NAN;
    if (frost__h5_has_attr(g, "role")) {
        RS("role", role);
        RD("infer_seconds", infer_seconds);
        RI("infer_bytes", infer_bytes);
        RI("models_evaluated", models_evaluated);
    }
    if (frost__h5_has_attr(g, "sparsity")) {
        RD("sparsity", sparsity);
        RD("prune_ratio", prune_ratio);
        RD("lock_ratio", lock_ratio);
    }
#undef RS
#undef RI
#undef RD
    return FROST_OK;
}

static int cmp_order(const void *a, const void *b)
{
    const frost_run_info *x = a, *y = b;
    if (x->order != y->order) return (x->order > y->order) - (x->order < y->order);
    return strcmp(x->id, y->id);
}

void frost__run_infos_free(frost_run_info *runs, int64_t n)
{
    for (int64_t k = 0; k < n; k++) free(runs[k].config);
    free(runs);
}

typedef struct name_list {
    frost_run_info *runs;
    hsize_t cap, n;
    bool too_long;
} name_list;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g, (void)info;
    name_list *l = data;
    if (l->n >= l->cap) return 1; /* more links than counted: stop */
    if (strlen(name) >= sizeof l->runs[0].id) {
        l->too_long = true;
        return 1;
    }
    frost__strlcpy(l->runs[l->n++].id, name, sizeof l->runs[0].id);
    return 0;
}

frost_status frost__results_read_runs(hid_t f, const char *path, frost_run_info **runs_out, int64_t *n_out)
{
    frost_status st = FROST_OK;
    hid_t runs = H5I_INVALID_HID, g = H5I_INVALID_HID;
    frost_run_info *rr = NULL;
    int64_t n = 0;
    *runs_out = NULL;
    *n_out = 0;
    if (!frost__h5_exists(f, "runs")) return FROST_OK;
    runs = H5Gopen2(f, "runs", H5P_DEFAULT);
    if (runs < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /runs"));
    H5G_info_t info;
    if (H5Gget_info(runs, &info) < 0) FROST_FAILED(frost__h5_fail(path, "cannot list /runs"));
    FROST_CALLOC(rr, info.nlinks);
    /* every name in one pass: H5Lget_name_by_idx sorts the whole group of a
     * large file at each call */
    name_list names = {rr, info.nlinks, 0, false};
    hsize_t at = 0;
    if (H5Literate(runs, H5_INDEX_NAME, H5_ITER_NATIVE, &at, collect_name, &names) < 0 || names.too_long ||
        names.n != info.nlinks)
        FROST_FAILED(frost__h5_fail(path, "bad run names in /runs"));
    for (hsize_t k = 0; k < info.nlinks; k++) {
        frost_run_info *ri = &rr[n];
        g = H5Gopen2(runs, ri->id, H5P_DEFAULT);
        if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /runs/%s", ri->id));
        n++;
        st = read_info(g, ri, path);
        if (st < 0) {
            frost__error_prefix("run %s", ri->id);
            goto fail;
        }
        H5Gclose(g);
        g = H5I_INVALID_HID;
    }
    qsort(rr, (size_t)n, sizeof *rr, cmp_order);
    H5Gclose(runs);
    *runs_out = rr;
    *n_out = n;
    return FROST_OK;
fail:
    if (g >= 0) H5Gclose(g);
    if (runs >= 0) H5Gclose(runs);
    H5Eclear2(H5E_DEFAULT);
    frost__run_infos_free(rr, n);
    return st;
}

frost_status frost__results_read_state_in(hid_t f, const char *path, const char *id, frost_run_state *out)
{
    frost_status st = FROST_OK;
    int64_t dims[2];
    char p[256];
    memset(out, 0, sizeof *out);
    snprintf(p, sizeof p, "runs/%s/state/params", id);
    FROST_TRY(frost__h5_read(f, p, H5T_NATIVE_FLOAT, 1, dims, (void **)&out->params, path));
    out->n_params = dims[0];
    snprintf(p, sizeof p, "runs/%s/state/bn", id);
    FROST_TRY(frost__h5_read(f, p, H5T_NATIVE_FLOAT, 1, dims, (void **)&out->bn, path));
    out->n_bn = dims[0];
    snprintf(p, sizeof p, "runs/%s/state/mask", id);
    FROST_TRY(frost__h5_read(f, p, H5T_NATIVE_UINT8, 1, dims, (void **)&out->mask, path));
    snprintf(p, sizeof p, "runs/%s/state", id);
    hid_t g = H5Gopen2(f, p, H5P_DEFAULT);
    if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /%s", p));
    st = frost__h5_read_attr_i64(g, "mask_bits", &out->mask_bits, path);
    H5Gclose(g);
    if (st < 0) goto fail;
    if ((out->mask_bits + 7) / 8 != dims[0])
        FROST_FAIL(FROST_ERR_FORMAT, "%s: run %s: mask holds %lld bytes for %lld bits", path, id, (long long)dims[0],
                   (long long)out->mask_bits);
    return FROST_OK;
fail:
    frost_run_state_release(out);
    return st;
}

frost_status frost__results_read_history_in(hid_t f, const char *path, const char *id, frost_epoch_record **out,
                                            int64_t *n)
{
    frost_status st = FROST_OK;
    hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID, t = H5I_INVALID_HID;
    char p[256];
    *out = NULL;
    *n = 0;
    snprintf(p, sizeof p, "runs/%s/history", id);
    if (!frost__h5_exists(f, p)) FROST_FAIL(FROST_ERR_FORMAT, "%s: run '%s' has no history", path, id);
    ds = H5Dopen2(f, p, H5P_DEFAULT);
    if (ds < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /%s", p));
    sp = H5Dget_space(ds);
    hsize_t d = 0;
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &d, NULL) < 0)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: /%s: expected a one-dimensional table", path, p);
    if (d > 0) {
        FROST_ALLOC(*out, d);
        t = history_type();
        if (H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
            FROST_FAILED(frost__h5_fail(path, "cannot read /%s", p));
    }
    *n = (int64_t)d;
fail:
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    if (st < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* Bitwise equality of two doubles (NaN equals NaN). */
static bool same_f64(double a, double b) { return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)); }

bool frost__results_same_run(const frost_run_info *a, const frost_run_info *b, const char **why)
{
    const char *w = NULL;
    char *ca = frost_config_canonical(a->config ? a->config : "", 0);
    char *cb = frost_config_canonical(b->config ? b->config : "", 0);
    if (!ca || !cb || strcmp(ca, cb) != 0) w = "a different configuration";
    else if (a->seed != b->seed) w = "another seed";
    else if (strcmp(a->status, b->status) != 0) w = "another status";
    else if (a->best_epoch != b->best_epoch || a->epochs_run != b->epochs_run) w = "another best epoch";
    else if (!same_f64(a->val_metric, b->val_metric) || !same_f64(a->test_metric, b->test_metric) ||
             !same_f64(a->train_metric, b->train_metric))
        w = "other metrics";
    else if (strcmp(a->logits_hash, b->logits_hash) != 0) w = "other logits";
    else if (a->model_bits != b->model_bits || a->dense_bits != b->dense_bits) w = "another model size";
    free(ca);
    free(cb);
    if (why) *why = w;
    return w == NULL;
}
/* ---- summary --------------------------------------------------------------------------- */

void frost_summary_release(frost_summary_row *rows, int64_t n)
{
    if (!rows) return;
    for (int64_t k = 0; k < n; k++) free(rows[k].config);
    free(rows);
}

frost_status frost_results_summarize(const frost_results *r, frost_summary_row **rows_out, int64_t *n_out)
{
    frost_summary_row *rows = calloc((size_t)(r->n ? r->n : 1), sizeof *rows);
    double *s1 = calloc((size_t)(r->n ? r->n : 1) * 4, sizeof *s1);
    if (!rows || !s1) {
        free(rows);
        free(s1);
        return frost__error(FROST_ERR_NOMEM, "out of memory");
    }
    int64_t n = 0;
    for (int64_t k = 0; k < r->n; k++) {
        const frost_run_info *ri = &r->runs[k];
        if (strcmp(ri->status, "ok") != 0) continue;
        char *key = frost_config_canonical(ri->config, FROST_CANON_SEED);
        if (key && ri->role[0]) {
            /* prt runs share one configuration: the role tells them apart */
            size_t L = strlen(key) + strlen(ri->role) + 16;
            char *k2 = malloc(L);
            if (k2) snprintf(k2, L, "%s# role %s\n", key, ri->role);
            free(key);
            key = k2;
        }
        if (!key) {
            frost_summary_release(rows, n);
            free(s1);
            return frost__error(FROST_ERR_NOMEM, "out of memory");
        }
        int64_t g;
        for (g = 0; g < n; g++)
            if (strcmp(rows[g].config, key) == 0) break;
        if (g == n) {
            frost_summary_row *w = &rows[n++];
            w->config = key;
            key = NULL;
            snprintf(w->method, sizeof w->method, "%s", ri->method);
            snprintf(w->model, sizeof w->model, "%s", ri->model);
            snprintf(w->dataset, sizeof w->dataset, "%s", ri->dataset);
            snprintf(w->split, sizeof w->split, "%s", ri->split);
            snprintf(w->first_id, sizeof w->first_id, "%s", ri->id);
            snprintf(w->role, sizeof w->role, "%s", ri->role);
            w->infer_bytes = ri->infer_bytes;
            w->models_evaluated = ri->models_evaluated;
            w->sparsity = ri->sparsity;
            w->prune_ratio = ri->prune_ratio;
            w->lock_ratio = ri->lock_ratio;
            w->model_bits = ri->model_bits;
            w->dense_bits = ri->dense_bits;
            w->paper_bits = ri->paper_bits;
            w->degenerate = ri->degenerate;
        }
        free(key);
        frost_summary_row *w = &rows[g];
        w->runs++;
        s1[4 * g + 0] += ri->val_metric;
        s1[4 * g + 1] += ri->val_metric * ri->val_metric;
        s1[4 * g + 2] += ri->test_metric;
        s1[4 * g + 3] += ri->test_metric * ri->test_metric;
        w->train_seconds_mean += ri->train_seconds;
        w->infer_seconds_mean += ri->infer_seconds;
    }
    for (int64_t g = 0; g < n; g++) {
        frost_summary_row *w = &rows[g];
        double c = (double)w->runs;
        w->val_mean = s1[4 * g] / c;
        w->test_mean = s1[4 * g + 2] / c;
        w->train_seconds_mean /= c;
        w->infer_seconds_mean /= c;
        /* sample standard deviation (n - 1), 0 for a single run */
        w->val_std = c > 1 ? sqrt(fmax(0.0, (s1[4 * g + 1] - c * w->val_mean * w->val_mean) / (c - 1))) : 0.0;
        w->test_std = c > 1 ? sqrt(fmax(0.0, (s1[4 * g + 3] - c * w->test_mean * w->test_mean) / (c - 1))) : 0.0;
    }
    free(s1);
    *rows_out = rows;
    *n_out = n;
    return FROST_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

static frost_status write_info(hid_t g, const frost_run_info *ri, const char *path)
{
    frost_status st;
#define WS(name, v)                                                                                                    \
    if ((st = frost__h5_attr_str(g, name, v, path)) < 0) return st
#define WI(name, v)                                                                                                    \
    if ((st = frost__h5_attr_i64(g, name, v, path)) < 0) return st
#define WD(name, v)                                                                                                    \
    if ((st = frost__h5_attr_f64(g, name, v, path)) < 0) return st
    WS("config", ri->config);
    WS("dataset", ri->dataset);
    WS("split", ri->split);
    WS("model", ri->model);
    WS("method", ri->method);
    WS("metric", ri->metric);
    WS("status", ri->status);
    WS("message", ri->message);
    WS("logits_hash", ri->logits_hash);
    if (ri->blas_core[0]) WS("blas_core", ri->blas_core);
    WI("seed", ri->seed);
    WI("best_epoch", ri->best_epoch);
    WI("epochs_run", ri->epochs_run);
    WI("model_bits", ri->model_bits);
    WI("dense_bits", ri->dense_bits);
    if (ri->paper_bits >= 0) WI("paper_bits", ri->paper_bits);
    if (ri->degenerate) WI("degenerate", 1);
    WI("threads", ri->threads);
    WI("order", ri->order);
    WI("in_dim", ri->in_dim);
    WI("out_dim", ri->out_dim);
    WD("val_metric", ri->val_metric);
    WD("test_metric", ri->test_metric);
    WD("train_metric", ri->train_metric);
    WD("train_seconds", ri->train_seconds);
    WD("eval_seconds", ri->eval_seconds);
    if (ri->role[0]) {
        WS("role", ri->role);
        WD("infer_seconds", ri->infer_seconds);
        WI("infer_bytes", ri->infer_bytes);
        WI("models_evaluated", ri->models_evaluated);
    }
    if (!isnan(ri->sparsity)) {
        WD("sparsity", ri->sparsity);
        WD("prune_ratio", ri->prune_ratio);
        WD("lock_ratio", ri->lock_ratio);
    }
#undef WS
#undef WI
#undef WD
    return FROST_OK;
}

frost_status frost__results_write_summary(hid_t f, const frost_results *all, const char *path)
{
    frost_summary_row *rows = NULL;
    int64_t n = 0;
    frost_status st = frost_results_summarize(all, &rows, &n);
    if (st < 0) return st;
    summary_rec *recs = calloc((size_t)(n ? n : 1), sizeof *recs);
    if (!recs) {
        frost_summary_release(rows, n);
        return frost__error(FROST_ERR_NOMEM, "out of memory");
    }
    for (int64_t k = 0; k < n; k++) {
        recs[k] = (summary_rec){rows[k].config,      rows[k].method,
                                rows[k].model,       rows[k].dataset,
                                rows[k].split,       rows[k].sparsity,
                                rows[k].prune_ratio, rows[k].lock_ratio,
                                rows[k].runs,        rows[k].val_mean,
                                rows[k].val_std,     rows[k].test_mean,
                                rows[k].test_std,    rows[k].train_seconds_mean,
                                rows[k].model_bits,  rows[k].dense_bits,
                                rows[k].paper_bits,  rows[k].degenerate};
    }
    hid_t t = summary_type();
    hsize_t d = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t ds = H5Dcreate2(f, "summary", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = ds >= 0 ? (n ? H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs) : 0) : -1;
    if (e >= 0)
        st = frost__h5_attr_str(ds, "grouping",
                                "one row per configuration without its seed (and without the keys that do not "
                                "change a run's numbers: output, threads, model.keep_activations); std is the "
                                "sample standard deviation (n - 1)",
                                path);
    if (ds >= 0 && H5Dclose(ds) < 0 && e >= 0) e = -1;
    H5Sclose(sp);
    H5Tclose(t);
    free(recs);
    frost_summary_release(rows, n);
    if (e < 0) return frost__h5_fail(path, "cannot write /summary");
    return st;
}

/* One run group: attributes, history, state. */
frost_status frost__results_write_run(hid_t file, const frost_run_info *ri, const frost_run_payload *p,
                                      const char *path)
{
    frost_status st = FROST_OK;
    hid_t g = H5I_INVALID_HID, s = H5I_INVALID_HID;
    char name[200];
    snprintf(name, sizeof name, "runs/%s", ri->id);
    g = frost__h5_group(file, name);
    if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot create /%s", name));
    FROST_TRY(write_info(g, ri, path));
    {
        hid_t t = history_type();
        hsize_t d = (hsize_t)p->n_history;
        hid_t sp = H5Screate_simple(1, &d, NULL);
        hid_t ds = H5Dcreate2(g, "history", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        herr_t e = ds >= 0 ? (d ? H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->history) : 0) : -1;
        if (ds >= 0) H5Dclose(ds);
        H5Sclose(sp);
        H5Tclose(t);
        if (e < 0) FROST_FAILED(frost__h5_fail(path, "cannot write /%s/history", name));
    }
    s = frost__h5_group(g, "state");
    if (s < 0) FROST_FAILED(frost__h5_fail(path, "cannot create /%s/state", name));
    FROST_TRY(frost__h5_write(s, "params", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &p->n_params, p->params, 4, path));
    FROST_TRY(frost__h5_write(s, "bn", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &p->n_bn, p->bn, 4, path));
    int64_t nb = (p->mask_bits + 7) / 8;
    FROST_TRY(frost__h5_write(s, "mask", H5T_NATIVE_UINT8, H5T_STD_U8LE, 1, &nb, p->mask, 4, path));
    FROST_TRY(frost__h5_attr_i64(s, "mask_bits", p->mask_bits, path));
fail:
    if (s >= 0) H5Gclose(s);
    if (g >= 0) H5Gclose(g);
    return st;
}

frost_status frost__results_write_header(hid_t f, const char *path)
{
    frost_status st;
    char created[64];
    snprintf(created, sizeof created, "frost %s", frost_version());
    if ((st = frost__h5_attr_str(f, "format", FROST_RESULTS_FORMAT, path)) < 0 ||
        (st = frost__h5_attr_i64(f, "version", FROST_RESULTS_VERSION, path)) < 0 ||
        (st = frost__h5_attr_str(f, "created_by", created, path)) < 0)
        return st;
    hid_t g = frost__h5_group(f, "runs");
    if (g < 0) return frost__h5_fail(path, "cannot create /runs");
    H5Gclose(g);
    return FROST_OK;
}

frost_status frost__results_read_one(hid_t f, const char *path, const char *id, frost_run_info *ri)
{
    frost_status st = FROST_OK;
    char p[200];
    memset(ri, 0, sizeof *ri);
    snprintf(p, sizeof p, "runs/%s", id);
    hid_t g = H5Gopen2(f, p, H5P_DEFAULT);
    if (g < 0) return frost__h5_fail(path, "cannot open /%s", p);
    frost__strlcpy(ri->id, id, sizeof ri->id);
    st = read_info(g, ri, path);
    H5Gclose(g);
    if (st < 0) {
        free(ri->config);
        ri->config = NULL;
        frost__error_prefix("run %s", id);
    }
    return st;
}

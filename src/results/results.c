/*
 * results.c - the results file (format "frost.results", version 1).
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
 *
 * Appending copies every existing run group into a new file (H5Ocopy),
 * writes the new run and the summary, and renames the new file over the old.
 */
#include "frost/results.h"
#include "io/h5_impl.h"

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
    return (x->order > y->order) - (x->order < y->order);
}

frost_status frost_results_load(frost_results *r, const char *path)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID, runs = H5I_INVALID_HID, g = H5I_INVALID_HID;
    memset(r, 0, sizeof *r);
    FROST_TRY(frost__h5_open_read(&f, path, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL));
    if (!frost__h5_exists(f, "runs")) {
        H5Fclose(f);
        return FROST_OK;
    }
    runs = H5Gopen2(f, "runs", H5P_DEFAULT);
    if (runs < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /runs"));
    H5G_info_t info;
    if (H5Gget_info(runs, &info) < 0) FROST_FAILED(frost__h5_fail(path, "cannot list /runs"));
    FROST_CALLOC(r->runs, info.nlinks);
    for (hsize_t k = 0; k < info.nlinks; k++) {
        frost_run_info *ri = &r->runs[r->n];
        ssize_t len = H5Lget_name_by_idx(runs, ".", H5_INDEX_NAME, H5_ITER_INC, k, ri->id, sizeof ri->id, H5P_DEFAULT);
        if (len < 0 || len >= (ssize_t)sizeof ri->id) FROST_FAILED(frost__h5_fail(path, "bad run name in /runs"));
        g = H5Gopen2(runs, ri->id, H5P_DEFAULT);
        if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot open /runs/%s", ri->id));
        r->n++;
        st = read_info(g, ri, path);
        if (st < 0) {
            frost__error_prefix("run %s", ri->id);
            goto fail;
        }
        H5Gclose(g);
        g = H5I_INVALID_HID;
    }
    qsort(r->runs, (size_t)r->n, sizeof *r->runs, cmp_order);
    H5Gclose(runs);
    H5Fclose(f);
    return FROST_OK;
fail:
    if (g >= 0) H5Gclose(g);
    if (runs >= 0) H5Gclose(runs);
    if (f >= 0) H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    frost_results_release(r);
    return st;
}

frost_status frost_results_read_state(const char *path, const char *id, frost_run_state *out)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID;
    int64_t dims[2];
    char p[256];
    memset(out, 0, sizeof *out);
    FROST_TRY(frost__h5_open_read(&f, path, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL));
    snprintf(p, sizeof p, "runs/%s", id);
    if (!frost__h5_exists(f, p))
        FROST_FAIL(FROST_ERR_INVALID, "%s: no run '%s' (frost report lists the runs)", path, id);
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
    H5Fclose(f);
    return FROST_OK;
fail:
    if (f >= 0) H5Fclose(f);
    frost_run_state_release(out);
    return st;
}

frost_status frost_results_read_history(const char *path, const char *id, frost_epoch_record **out, int64_t *n)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID, ds = H5I_INVALID_HID, sp = H5I_INVALID_HID, t = H5I_INVALID_HID;
    char p[256];
    *out = NULL;
    *n = 0;
    FROST_TRY(frost__h5_open_read(&f, path, FROST_RESULTS_FORMAT, FROST_RESULTS_VERSION, NULL));
    snprintf(p, sizeof p, "runs/%s/history", id);
    if (!frost__h5_exists(f, p))
        FROST_FAIL(FROST_ERR_INVALID, "%s: no run '%s' (frost report lists the runs)", path, id);
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
    if (f >= 0) H5Fclose(f);
    if (st < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}

/* ---- summary --------------------------------------------------------------------------- */

/* The configuration without its "seed = ...;" line. */
static char *strip_seed(const char *cfg)
{
    size_t n = strlen(cfg);
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t w = 0;
    for (const char *p = cfg; *p;) {
        const char *e = strchr(p, '\n');
        size_t L = e ? (size_t)(e - p + 1) : strlen(p);
        if (strncmp(p, "seed = ", 7) != 0) {
            memcpy(o + w, p, L);
            w += L;
        }
        p += L;
    }
    o[w] = 0;
    return o;
}

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
        char *key = strip_seed(ri->config);
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

static frost_status write_summary(hid_t f, const frost_results *all, const char *path)
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
    if (ds >= 0) {
        frost__h5_attr_str(ds, "grouping",
                           "one row per configuration without its seed; std is the sample "
                           "standard deviation (n - 1)",
                           path);
        H5Dclose(ds);
    }
    H5Sclose(sp);
    H5Tclose(t);
    free(recs);
    frost_summary_release(rows, n);
    if (e < 0) return frost__h5_fail(path, "cannot write /summary");
    return FROST_OK;
}

/* One run group: attributes, history, state. */
static frost_status write_run(hid_t file, const frost_run_info *ri, const frost_run_payload *p, const char *path)
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

frost_status frost_results_append_many(const char *path, const frost_run_info *info, const frost_run_payload *p,
                                       int64_t n)
{
    frost_status st = FROST_OK;
    frost_results all = {0, NULL};
    frost__h5_out out;
    hid_t old = H5I_INVALID_HID, g = H5I_INVALID_HID;
    bool out_open = false;
    int64_t n_old = 0;
    char created[64];
    snprintf(created, sizeof created, "frost %s", frost_version());
    frost__h5_init();

    if (access(path, F_OK) == 0) FROST_TRY(frost_results_load(&all, path));
    n_old = all.n;
    for (int64_t k = 0; k < n; k++) {
        if (frost_results_find(&all, info[k].id))
            FROST_FAIL(FROST_ERR_INVALID, "%s: run '%s' is already there", path, info[k].id);
        for (int64_t q = 0; q < k; q++)
            if (strcmp(info[q].id, info[k].id) == 0) FROST_FAIL(FROST_ERR_INVALID, "run '%s' given twice", info[k].id);
    }

    FROST_TRY(frost__h5_out_create(&out, path));
    out_open = true;
    FROST_TRY(frost__h5_attr_str(out.file, "format", FROST_RESULTS_FORMAT, path));
    FROST_TRY(frost__h5_attr_i64(out.file, "version", FROST_RESULTS_VERSION, path));
    FROST_TRY(frost__h5_attr_str(out.file, "created_by", created, path));
    g = frost__h5_group(out.file, "runs");
    if (g < 0) FROST_FAILED(frost__h5_fail(path, "cannot create /runs"));
    H5Gclose(g);
    g = H5I_INVALID_HID;
    if (n_old > 0) {
        old = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (old < 0) FROST_FAILED(frost__h5_fail(path, "cannot reopen"));
        for (int64_t k = 0; k < n_old; k++) {
            char name[200];
            snprintf(name, sizeof name, "runs/%s", all.runs[k].id);
            if (H5Ocopy(old, name, out.file, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
                FROST_FAILED(frost__h5_fail(path, "cannot copy run %s", all.runs[k].id));
        }
        H5Fclose(old);
        old = H5I_INVALID_HID;
    }

    /* the new runs, numbered after the old ones; the summary sees them all */
    frost_run_info *grown = realloc(all.runs, (size_t)(n_old + n) * sizeof *grown);
    if (!grown) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    all.runs = grown;
    const int64_t next = n_old > 0 ? all.runs[n_old - 1].order + 1 : 0;
    for (int64_t k = 0; k < n; k++) {
        all.runs[n_old + k] = info[k];
        all.runs[n_old + k].order = next + k;
        all.n = n_old + k + 1;
        FROST_TRY(write_run(out.file, &all.runs[n_old + k], &p[k], path));
    }
    st = write_summary(out.file, &all, path);
    all.n = n_old; /* the new configs are borrowed: do not free them */
    if (st < 0) goto fail;
    out_open = false;
    FROST_TRY(frost__h5_out_commit(&out));
    frost_results_release(&all);
    return FROST_OK;
fail:
    all.n = all.n > n_old ? n_old : all.n;
    if (g >= 0) H5Gclose(g);
    if (old >= 0) H5Fclose(old);
    if (out_open) frost__h5_out_abort(&out);
    frost_results_release(&all);
    return st;
}

frost_status frost_results_append(const char *path, const frost_run_info *info, const frost_run_payload *p)
{
    return frost_results_append_many(path, info, p, 1);
}

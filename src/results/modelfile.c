/*
 * modelfile.c - exported models (format "frost.model", version 1).
 *
 *   /           attrs format, version, created_by, config (the run's
 *               configuration: architecture, preprocessing, seed), method,
 *               model, dataset, split, source (RESULTS#RUN_ID), seed, in_dim,
 *               out_dim, model_bits, dense_bits, test_metric, logits_hash,
 *               mask_bits
 *   /mask       uint8: one bit per free weight (supermask models)
 *   /bn         float32: batch-norm running means and variances
 *   /params     float32: trained floats (weights of a trained model; biases
 *               or affine parameters of a ticket that has them)
 *
 * Small arrays use HDF5's compact layout (stored in the object header), so a
 * ticket's file is its bits plus about 3 KiB of HDF5 and configuration.
 */
#include "frost/results.h"
#include "io/h5_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void frost_model_file_release(frost_model_file *mf)
{
    if (!mf) return;
    free(mf->config);
    frost_run_state_release(&mf->state);
    memset(mf, 0, sizeof *mf);
}

/* A 1-D array; compact when small enough to live in the object header. */
static frost_status write_array(hid_t f, const char *name, hid_t mt, hid_t ft, int64_t n, const void *data,
                                const char *path)
{
    hsize_t d = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if ((size_t)n * H5Tget_size(ft) < 60000) H5Pset_layout(dcpl, H5D_COMPACT);
    hid_t ds = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t e = ds >= 0 ? (n ? H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0) : -1;
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    if (e < 0) return frost__h5_fail(path, "cannot write /%s", name);
    return FROST_OK;
}

frost_status frost_model_file_write(const frost_model_file *mf, const char *out_path)
{
    frost_status st = FROST_OK;
    frost__h5_out out;
    const frost_run_state *s = &mf->state;
    FROST_TRY(frost__h5_out_create(&out, out_path));
    hid_t f = out.file;
    char created[64];
    snprintf(created, sizeof created, "frost %s", frost_version());
#define WS(name, v) if ((st = frost__h5_attr_strfix(f, name, v, out_path)) < 0) goto abort
#define WI(name, v) if ((st = frost__h5_attr_i64(f, name, v, out_path)) < 0) goto abort
    WS("format", FROST_MODEL_FORMAT);
    WI("version", FROST_MODEL_VERSION);
    WS("created_by", created);
    WS("config", mf->config);
    WS("method", mf->method);
    WS("model", mf->model);
    WS("dataset", mf->dataset);
    WS("split", mf->split);
    WS("source", mf->source);
    WS("logits_hash", mf->logits_hash);
    if (mf->blas_core[0]) WS("blas_core", mf->blas_core);
    WI("seed", mf->seed);
    WI("in_dim", mf->in_dim);
    WI("out_dim", mf->out_dim);
    WI("model_bits", mf->model_bits);
    WI("dense_bits", mf->dense_bits);
    WI("mask_bits", s->mask_bits);
    if (mf->base_weights[0]) {
        WS("base_weights", mf->base_weights);
        WS("base_weights_hash", mf->base_weights_hash);
    }
#undef WS
#undef WI
    if ((st = frost__h5_attr_f64(f, "test_metric", mf->test_metric, out_path)) < 0) goto abort;
    if ((st = write_array(f, "mask", H5T_NATIVE_UINT8, H5T_STD_U8LE, (s->mask_bits + 7) / 8, s->mask, out_path)) < 0 ||
        (st = write_array(f, "bn", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, s->n_bn, s->bn, out_path)) < 0 ||
        (st = write_array(f, "params", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, s->n_params, s->params, out_path)) < 0)
        goto abort;
    return frost__h5_out_commit(&out);
abort:
    frost__h5_out_abort(&out);
fail:
    return st;
}

frost_status frost_export_run(const char *results, const char *run_id, const char *out_path)
{
    frost_model_file mf;
    frost_status st = frost_model_file_of_run(results, run_id, &mf);
    if (st < 0) return st;
    st = frost_model_file_write(&mf, out_path);
    frost_model_file_release(&mf);
    return st;
}

frost_status frost_model_file_of_run(const char *results, const char *run_id, frost_model_file *out)
{
    frost_status st = FROST_OK;
    frost_results r = {0, NULL};
    frost_model_file mf;
    memset(&mf, 0, sizeof mf);
    memset(out, 0, sizeof *out);
    FROST_TRY(frost_results_load(&r, results));
    const frost_run_info *ri = frost_results_find(&r, run_id);
    if (!ri) {
        char some[400] = "";
        for (int64_t k = 0; k < r.n && strlen(some) < 300; k++) {
            strncat(some, k ? ", " : "", sizeof some - strlen(some) - 1);
            strncat(some, r.runs[k].id, sizeof some - strlen(some) - 1);
        }
        FROST_FAIL(FROST_ERR_INVALID, "%s: no run '%s' (runs: %s%s)", results, run_id, some, r.n > 8 ? ", ..." : "");
    }
    if (strcmp(ri->status, "ok") != 0)
        FROST_FAIL(FROST_ERR_INVALID, "%s: run '%s' did not finish normally (%s)", results, run_id, ri->message);
    if (strcmp(ri->method, "eft") == 0)
        FROST_FAIL(FROST_ERR_INVALID, "%s: run '%s' combines three models and has no model of its own", results, run_id);
    FROST_TRY(frost_results_read_state(results, run_id, &mf.state));
    snprintf(mf.method, sizeof mf.method, "%s", ri->method);
    snprintf(mf.model, sizeof mf.model, "%s", ri->model);
    snprintf(mf.dataset, sizeof mf.dataset, "%s", ri->dataset);
    snprintf(mf.split, sizeof mf.split, "%s", ri->split);
    snprintf(mf.source, sizeof mf.source, "%s#%s", results, run_id);
    snprintf(mf.logits_hash, sizeof mf.logits_hash, "%s", ri->logits_hash);
    snprintf(mf.blas_core, sizeof mf.blas_core, "%s", ri->blas_core);
    mf.seed = ri->seed;
    mf.in_dim = ri->in_dim;
    mf.out_dim = ri->out_dim;
    mf.model_bits = ri->model_bits;
    mf.dense_bits = ri->dense_bits;
    mf.test_metric = ri->test_metric;
    if (!(mf.config = strdup(ri->config))) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    *out = mf;
    memset(&mf, 0, sizeof mf);
fail:
    frost_model_file_release(&mf);
    frost_results_release(&r);
    return st;
}

frost_status frost_model_file_load(frost_model_file *mf, const char *path)
{
    frost_status st = FROST_OK;
    hid_t f = H5I_INVALID_HID;
    int64_t dims[2];
    memset(mf, 0, sizeof *mf);
    FROST_TRY(frost__h5_open_read(&f, path, FROST_MODEL_FORMAT, FROST_MODEL_VERSION, NULL));
    FROST_TRY(frost__h5_read_attr_str(f, "config", &mf->config, path));
    FROST_TRY(frost__h5_read_attr_strbuf(f, "method", mf->method, sizeof mf->method, path));
    FROST_TRY(frost__h5_read_attr_strbuf(f, "model", mf->model, sizeof mf->model, path));
    FROST_TRY(frost__h5_read_attr_strbuf(f, "dataset", mf->dataset, sizeof mf->dataset, path));
    FROST_TRY(frost__h5_read_attr_strbuf(f, "split", mf->split, sizeof mf->split, path));
    FROST_TRY(frost__h5_read_attr_strbuf(f, "source", mf->source, sizeof mf->source, path));
    FROST_TRY(frost__h5_read_attr_strbuf(f, "logits_hash", mf->logits_hash, sizeof mf->logits_hash, path));
    mf->blas_core[0] = 0;
    if (frost__h5_has_attr(f, "blas_core"))
        FROST_TRY(frost__h5_read_attr_strbuf(f, "blas_core", mf->blas_core, sizeof mf->blas_core, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "seed", &mf->seed, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "in_dim", &mf->in_dim, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "out_dim", &mf->out_dim, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "model_bits", &mf->model_bits, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "dense_bits", &mf->dense_bits, path));
    FROST_TRY(frost__h5_read_attr_i64(f, "mask_bits", &mf->state.mask_bits, path));
    FROST_TRY(frost__h5_read_attr_f64(f, "test_metric", &mf->test_metric, path));
    if (frost__h5_has_attr(f, "base_weights")) {
        FROST_TRY(frost__h5_read_attr_strbuf(f, "base_weights", mf->base_weights, sizeof mf->base_weights, path));
        FROST_TRY(frost__h5_read_attr_strbuf(f, "base_weights_hash", mf->base_weights_hash,
                                             sizeof mf->base_weights_hash, path));
        if (!mf->base_weights[0] || strchr(mf->base_weights, '/'))
            FROST_FAIL(FROST_ERR_FORMAT, "%s: attribute base_weights must name a file in the same folder, not '%s'",
                       path, mf->base_weights);
    }
    FROST_TRY(frost__h5_read(f, "mask", H5T_NATIVE_UINT8, 1, dims, (void **)&mf->state.mask, path));
    if (dims[0] != (mf->state.mask_bits + 7) / 8)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: /mask has %lld bytes, attribute mask_bits says %lld bits", path,
                   (long long)dims[0], (long long)mf->state.mask_bits);
    FROST_TRY(frost__h5_read(f, "bn", H5T_NATIVE_FLOAT, 1, dims, (void **)&mf->state.bn, path));
    mf->state.n_bn = dims[0];
    FROST_TRY(frost__h5_read(f, "params", H5T_NATIVE_FLOAT, 1, dims, (void **)&mf->state.params, path));
    mf->state.n_params = dims[0];
    H5Fclose(f);
    return FROST_OK;
fail:
    if (f >= 0) H5Fclose(f);
    frost_model_file_release(mf);
    return st;
}

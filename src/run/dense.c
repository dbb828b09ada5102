/*
 * dense.c - `frost export --dense`: a model as named dense tensors that any
 * HDF5 reader can use without frost (format "frost.dense", version 1).
 *
 *   /           attrs format, version, created_by, source (the model file),
 *               config (the run's configuration), method, model, and the
 *               architecture: layers, hidden, in_dim, out_dim, heads,
 *               out_heads, norm, norm_last, residual, skip_head, input_proj,
 *               root_weight, bias, gin_eps, bn_eps, gcn_norm, seed; the preprocessing:
 *               features_normalize, features_from_edges, graph_undirected,
 *               graph_self_loops; tensors (their names in forward order, one
 *               per line)
 *   /NAME       float32 (rows, cols) for a weight matrix (Y = X W), (n) for a
 *               vector; attr kind (the layer's kind)
 *
 * A ticket is written as its effective weights (random weights, mask and
 * scale applied): what its forward pass multiplies by.
 */
#include "frost/frost.h"
#include "io/h5_impl.h"
#include "io/file_impl.h"

#include <stdio.h>
#include <string.h>

static frost_status write_tensor(hid_t f, const frost_tensor_view *t, const char *path)
{
    const hsize_t d[2] = {(hsize_t)t->rows, (hsize_t)t->cols};
    const int r = t->matrix ? 2 : 1;
    hid_t sp = H5Screate_simple(r, d, NULL);
    hid_t ds = sp >= 0 ? H5Dcreate2(f, t->name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    herr_t e = ds >= 0 ? H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->value) : -1;
    frost_status st = FROST_OK;
    if (e < 0) st = frost__h5_fail(path, "cannot write /%s", t->name);
    else st = frost__h5_attr_strfix(ds, "kind", t->kind ? t->kind : "", path);
    if (ds >= 0) H5Dclose(ds);
    if (sp >= 0) H5Sclose(sp);
    return st;
}

static frost_status dense_of(frost_model_file *mf, const char *model_path, const char *dataset, const char *out_path);

frost_status frost_export_dense(const char *model_path, const char *dataset, const char *out_path)
{
    frost_model_file mf;
    frost_status st = frost_model_file_load(&mf, model_path);
    if (st < 0) return st;
    st = dense_of(&mf, model_path, dataset, out_path);
    frost_model_file_release(&mf);
    return st;
}

frost_status frost_export_dense_run(const char *results, const char *run_id, const char *dataset,
                                    const char *out_path)
{
    frost_model_file mf;
    frost_status st = frost_model_file_of_run(results, run_id, &mf);
    if (st < 0) return st;
    st = dense_of(&mf, results, dataset, out_path); /* no file in between: nothing to leave behind */
    frost_model_file_release(&mf);
    return st;
}

static frost_status dense_of(frost_model_file *mfp, const char *model_path, const char *dataset, const char *out_path)
{
    frost_status st = FROST_OK;
    frost_model_file mf = *mfp; /* borrowed: the caller releases it */
    frost_prepared prep;
    frost_model *m = NULL;
    frost_config c;
    frost_tensor_view *tv = NULL;
    frost__h5_out out;
    bool open = false;
    memset(&prep, 0, sizeof prep);
    frost_config_default(&c);
    if ((st = frost_config_load_text(&c, mf.config, model_path)) < 0) goto done;
    if (dataset && (st = frost__path_copy(c.dataset, sizeof c.dataset, dataset, "dataset")) < 0) goto done;
    frost__strlcpy(c.split, mf.split, sizeof c.split);
    c.split_optional = true; /* the tensors do not depend on a split: any dataset of the right shape */
    c.path[0] = 0;
    /* the model is rebuilt as frost predict does (its seed regenerates a ticket's weights) */
    if ((st = frost_prepare(&prep, &c)) < 0) goto done;
    if ((st = frost_model_from_file(&m, &mf, &prep, model_path)) < 0) goto done;
    const int32_t n = frost_model_tensors(m, NULL, 0);
    tv = calloc((size_t)(n ? n : 1), sizeof *tv);
    if (!tv) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory");
        goto done;
    }
    frost_model_tensors(m, tv, n);
    const frost_model_spec *s = frost_model_get_spec(m);
    if ((st = frost__h5_out_create(&out, out_path)) < 0) goto done;
    open = true;
    hid_t f = out.file;
    char created[64];
    snprintf(created, sizeof created, "frost %s", frost_version());
    static const char *const norms[] = {"none", "batch", "batch_nonaffine"};
    static const char *const gcn_norms[] = {"both", "right", "left", "none"};
    static const char *const reduces[] = {"none", "mean", "sum", "max"};
    frost__text names;
    frost__text_init(&names);
    for (int32_t k = 0; k < n; k++) frost__text_printf(&names, "%s%s", k ? "\n" : "", tv[k].name);
    const struct {
        const char *k, *v;
    } strs[] = {
        {"format", FROST_DENSE_FORMAT},
        {"created_by", created},
        {"source", mf.source[0] ? mf.source : model_path},
        {"config", mf.config},
        {"method", mf.method},
        {"model", frost_arch_name(s->arch)},
        {"norm", norms[s->norm]},
        {"gcn_norm", gcn_norms[s->gcn_norm & 3]},
        {"features_normalize", c.feature_norm == FROST_FEAT_ROW ? "row" : "none"},
        {"features_from_edges", reduces[c.features_from_edges & 3]},
        {"graph_self_loops", c.self_loops == FROST_SELF_LOOPS_KEEP ? "keep" : "drop"},
        {"tensors", names.nomem ? "" : names.buf ? names.buf : ""},
    };
    if (names.nomem) st = frost__error(FROST_ERR_NOMEM, "%s: out of memory listing the tensors", out_path);
    for (size_t k = 0; k < sizeof strs / sizeof strs[0] && st >= 0; k++)
        st = frost__h5_attr_strfix(f, strs[k].k, strs[k].v, out_path);
    frost__text_release(&names);
    const struct {
        const char *k;
        int64_t v;
    } ints[] = {
        {"version", FROST_DENSE_VERSION}, {"layers", s->layers},        {"hidden", s->hidden},
        {"in_dim", s->in_dim},            {"out_dim", s->out_dim},      {"heads", s->heads ? s->heads : 1},
        {"out_heads", s->out_heads ? s->out_heads : 1},                 {"norm_last", s->norm_last},
        {"residual", s->residual},        {"skip_head", s->skip_head},  {"input_proj", s->input_proj},
        {"root_weight", s->root_weight},  {"bias", s->bias},            {"graph_undirected", c.undirected},
        {"seed", mf.seed},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0] && st >= 0; k++)
        st = frost__h5_attr_i64(f, ints[k].k, ints[k].v, out_path);
    if (st >= 0) st = frost__h5_attr_f64(f, "gin_eps", (double)s->gin_eps, out_path);
    if (st >= 0) st = frost__h5_attr_f64(f, "bn_eps", (double)s->bn_eps, out_path);
    for (int32_t k = 0; k < n && st >= 0; k++) st = write_tensor(f, &tv[k], out_path);
    if (st >= 0) {
        open = false;
        st = frost__h5_out_commit(&out);
    }
done:
    if (open) frost__h5_out_abort(&out);
    free(tv);
    frost_model_free(&m);
    frost_prepared_release(&prep);
    return st;
}

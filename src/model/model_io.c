/*
 * model_io.c - the state that defines a model's predictions, packed into
 * three flat arrays (trainable floats, batch-norm statistics, mask bits),
 * and the model-size accounting of the strong-lottery-ticket method
 * (slt.md section 8).
 */
#include "model/model_impl.h"

#include <stdio.h>
#include <string.h>

/* Supermask scores are not part of the state: the mask replaces them. */
static bool is_score(const frost_param *p) { return strstr(p->name, ".scores") != NULL; }

frost_model_state_sizes frost_model_state_counts(const frost_model *m)
{
    frost_model_state_sizes s = {0, 0, 0};
    for (int32_t k = 0; k < m->n_params; k++)
        if (!is_score(&m->params[k])) s.params += m->params[k].n;
    s.bn = frost_model_num_bn_values(m);
    s.mask = frost_slt_num_free(m);
    return s;
}

void frost_model_state_export(const frost_model *m, float *params, float *bn, uint8_t *mask)
{
    int64_t o = 0;
    for (int32_t k = 0; k < m->n_params; k++) {
        const frost_param *p = &m->params[k];
        if (is_score(p)) continue;
        memcpy(params + o, p->value, (size_t)p->n * sizeof(float));
        o += p->n;
    }
    o = 0;
    for (int32_t l = 0; l < m->L; l++) {
        const frost__layer *ly = &m->layer[l];
        if (!ly->rmean) continue;
        memcpy(bn + o, ly->rmean, (size_t)ly->conv.fout * sizeof(float));
        memcpy(bn + o + ly->conv.fout, ly->rvar, (size_t)ly->conv.fout * sizeof(float));
        o += 2 * ly->conv.fout;
    }
    if (m->sm) frost_slt_get_mask_bits(m, mask, (frost_slt_num_free(m) + 7) / 8);
}

frost_status frost_model_state_import(frost_model *m, const float *params, const float *bn, const uint8_t *mask)
{
    int64_t o = 0;
    for (int32_t k = 0; k < m->n_params; k++) {
        frost_param *p = &m->params[k];
        if (is_score(p)) continue;
        memcpy(p->value, params + o, (size_t)p->n * sizeof(float));
        o += p->n;
    }
    o = 0;
    for (int32_t l = 0; l < m->L; l++) {
        frost__layer *ly = &m->layer[l];
        if (!ly->rmean) continue;
        memcpy(ly->rmean, bn + o, (size_t)ly->conv.fout * sizeof(float));
        memcpy(ly->rvar, bn + o + ly->conv.fout, (size_t)ly->conv.fout * sizeof(float));
        o += 2 * ly->conv.fout;
    }
    if (m->sm) return frost_slt_set_mask_bits(m, mask, frost_slt_num_free(m));
    return FROST_OK;
}

int64_t frost_model_bits(const frost_model *m)
{
    frost_model_state_sizes s = frost_model_state_counts(m);
    if (!m->sm) return 32 * (s.params + s.bn);
    return s.mask + 64 + 32 * (s.params + s.bn);
}

int64_t frost_model_paper_bits(const frost_model *m)
{
    return m->sm ? frost_model_state_counts(m).mask : frost_model_bits(m);
}

int64_t frost_model_dense_bits(const frost_model *m)
{
    return 32 * (frost_model_num_weights(m) + frost_model_num_bias_values(m) + frost_model_num_bn_values(m));
}

/* ---- the model as named dense tensors (frost export --dense) ---------------------- */

static void put(frost_tensor_view *out, int32_t cap, int32_t *n, const char *kind, const char *name, int64_t rows,
                int64_t cols, const float *v)
{
    if (*n < cap && v) {
        frost_tensor_view *t = &out[*n];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->rows = rows, t->cols = cols, t->value = v, t->kind = kind, t->matrix = cols > 1 || (strstr(name, ".norm.") == NULL && strstr(name, "bias") == NULL);
    }
    if (v) (*n)++;
}

int32_t frost_model_tensors(const frost_model *m, frost_tensor_view *out, int32_t cap)
{
    int32_t n = 0;
    char name[64];
    for (int32_t l = 0; l < m->L; l++) {
        const frost__layer *ly = &m->layer[l];
        const frost__conv *c = &ly->conv;
        for (int k = 0; k < c->kind->n_mats; k++) {
            snprintf(name, sizeof name, "layer%d.%s", l, c->kind->mat_names[k]);
            put(out, cap, &n, c->kind->name, name, c->W[k]->rows, c->W[k]->cols, c->W[k]->w);
        }
        if (ly->Wr) {
            snprintf(name, sizeof name, "layer%d.weight_root", l);
            put(out, cap, &n, c->kind->name, name, ly->Wr->rows, ly->Wr->cols, ly->Wr->w);
        }
        for (int i = 0; i < c->kind->n_bias; i++) {
            if (i == 0) snprintf(name, sizeof name, "layer%d.bias", l);
            else snprintf(name, sizeof name, "layer%d.bias%d", l, i + 1);
            put(out, cap, &n, c->kind->name, name, c->nb[i], 1, c->b[i]);
        }
        snprintf(name, sizeof name, "layer%d.norm.weight", l);
        put(out, cap, &n, c->kind->name, name, c->fout, 1, ly->gamma);
        snprintf(name, sizeof name, "layer%d.norm.bias", l);
        put(out, cap, &n, c->kind->name, name, c->fout, 1, ly->beta);
        snprintf(name, sizeof name, "layer%d.norm.running_mean", l);
        put(out, cap, &n, c->kind->name, name, c->fout, 1, ly->rmean);
        snprintf(name, sizeof name, "layer%d.norm.running_var", l);
        put(out, cap, &n, c->kind->name, name, c->fout, 1, ly->rvar);
    }
    if (m->head) {
        put(out, cap, &n, "head", "head.weight", m->head->rows, m->head->cols, m->head->w);
        put(out, cap, &n, "head", "head.bias", m->spec.out_dim, 1, m->head_b);
    }
    return n;
}

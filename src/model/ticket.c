/*
 * ticket.c - the ticket of a supermask model, as frost/model.h offers it:
 * inspection of the masked matrices, the mask bits of an exported ticket,
 * and a ticket inside a trained network. The supermask itself
 * (src/slt/supermask.c) holds the state; these functions hand it the
 * model's side (matrices, biases, batch-norm statistics).
 */
#include "model/model_impl.h"

#include <string.h>

int32_t frost_slt_num_matrices(const frost_model *m) { return m->sm ? m->n_wmats : 0; }

double frost_slt_threshold(const frost_model *m) { return m->sm ? m->sm->threshold : 0.0; }

frost_status frost_slt_matrix(const frost_model *m, int32_t k, frost_slt_matrix_info *info)
{
    if (!m->sm) return frost__error(FROST_ERR_INVALID, "no masked matrix %d in this model", k);
    return frost__supermask_matrix(m->sm, k, info);
}

int64_t frost_slt_num_free(const frost_model *m) { return m->sm ? frost__supermask_num_free(m->sm) : 0; }

int64_t frost_slt_get_mask_bits(const frost_model *m, uint8_t *bits, int64_t cap_bytes)
{
    return m->sm ? frost__supermask_get_bits(m->sm, bits, cap_bytes) : 0;
}

frost_status frost_slt_set_mask_bits(frost_model *m, const uint8_t *bits, int64_t nbits)
{
    if (!m->sm) return frost__error(FROST_ERR_INVALID, "the model has no supermask");
    return frost__supermask_set_bits(m->sm, bits, nbits);
}

static frost_status copy_floats(float *dst, const float *src, int64_t n_dst, int64_t n_src, const char *what, int32_t l)
{
    if (!dst) return FROST_OK;
    if (!src || n_dst != n_src)
        return frost__error(FROST_ERR_SHAPE, "the trained network has no matching %s for layer %d", what, l);
    memcpy(dst, src, (size_t)n_dst * sizeof *dst);
    return FROST_OK;
}

frost_status frost_slt_set_base_from(frost_model *t, const frost_model *src)
{
    if (!t->sm) return frost__error(FROST_ERR_INVALID, "the model has no supermask");
    if (src->sm) return frost__error(FROST_ERR_INVALID, "the weights must come from a weight-trained network");
    if (t->n_wmats != src->n_wmats || t->L != src->L || t->spec.arch != src->spec.arch)
        return frost__error(FROST_ERR_SHAPE,
                            "the ticket (%s, %d layers, %d matrices) and the trained network (%s, %d layers, %d "
                            "matrices) differ",
                            frost_arch_name(t->spec.arch), t->L, t->n_wmats, frost_arch_name(src->spec.arch), src->L,
                            src->n_wmats);
    for (int32_t j = 0; j < t->n_wmats; j++)
        if (t->wmats[j].rows != src->wmats[j].rows || t->wmats[j].cols != src->wmats[j].cols)
            return frost__error(FROST_ERR_SHAPE, "masked matrix %d is %lld x %lld in the ticket, %lld x %lld trained", j,
                                (long long)t->wmats[j].rows, (long long)t->wmats[j].cols,
                                (long long)src->wmats[j].rows, (long long)src->wmats[j].cols);
    static const char *const bias_what[2] = {"bias", "second bias"};
    for (int32_t l = 0; l < t->L; l++) {
        frost__layer *a = &t->layer[l];
        const frost__layer *b = &src->layer[l];
        const int64_t fa = a->conv.fout, fb = b->conv.fout;
        frost_status st;
        for (int i = 0; i < 2; i++)
            if ((st = copy_floats(a->conv.b[i], b->conv.b[i], a->conv.nb[i], b->conv.nb[i], bias_what[i], l)) < 0)
                return st;
        if ((st = copy_floats(a->gamma, b->gamma, fa, fb, "batch-norm scale", l)) < 0 ||
            (st = copy_floats(a->beta, b->beta, fa, fb, "batch-norm shift", l)) < 0 ||
            (st = copy_floats(a->rmean, b->rmean, fa, fb, "running mean", l)) < 0 ||
            (st = copy_floats(a->rvar, b->rvar, fa, fb, "running variance", l)) < 0)
            return st;
    }
    if (t->head_b && src->head_b) memcpy(t->head_b, src->head_b, (size_t)t->spec.out_dim * sizeof(float));
    const float *w[256];
    for (int32_t j = 0; j < t->n_wmats && j < 256; j++) w[j] = src->wmats[j].w;
    frost__supermask_set_base(t->sm, w);
    return FROST_OK;
}

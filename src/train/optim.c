/*
 * optim.c - PyTorch's update rules, step for step.
 *
 *   SGD:   g = grad + wd p;  buf = g (first step) or mu buf + g;
 *          g = nesterov ? g + mu buf : buf;  p -= lr g
 *   Adam:  g = grad + wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *          p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW: p *= 1 - lr wd, then Adam with wd = 0
 *   cosine (CosineAnnealingLR): lr_e = lr_min + (lr - lr_min)(1 + cos(pi e / T)) / 2
 *   step (StepLR):              lr_e = lr gamma^floor(e / step_size)
 */
#include "frost/optim.h"
#include "core/core_impl.h"

#include <math.h>
#include <string.h>

struct frost_optim {
    frost_optim_spec spec;
    frost_param *params;
    int32_t n;
    float *state;     /* one slab: m (and v) per parameter */
    float **m, **v;   /* (n) pointers into the slab */
    int64_t t;        /* steps taken */
};

frost_optim_spec frost_optim_spec_default(void)
{
    frost_optim_spec s;
    memset(&s, 0, sizeof s);
    s.kind = FROST_OPTIM_ADAM;
    s.lr = 0.01;
    s.beta1 = 0.9;
    s.beta2 = 0.999;
    s.eps = 1e-8;
    s.schedule = FROST_SCHED_CONSTANT;
    s.step_size = 100;
    s.gamma = 0.1;
    return s;
}

frost_status frost_optim_new(frost_optim **out, const frost_optim_spec *spec, frost_param *params, int32_t n)
{
    frost_status st = FROST_OK;
    frost_optim *o = NULL;
    *out = NULL;
    if (!(spec->lr >= 0) || !(spec->weight_decay >= 0))
        return frost__error(FROST_ERR_CONFIG, "optimizer needs lr >= 0 and weight_decay >= 0");
    FROST_CALLOC(o, 1);
    o->spec = *spec;
    o->params = params;
    o->n = n;
    FROST_CALLOC(o->m, n);
    FROST_CALLOC(o->v, n);
    int64_t total = 0;
    for (int32_t k = 0; k < n; k++) total += params[k].n;
    const int per = spec->kind == FROST_OPTIM_SGD ? 1 : 2;
    FROST_CALLOC(o->state, per * total);
    int64_t off = 0;
    for (int32_t k = 0; k < n; k++) {
        o->m[k] = o->state + off;
        off += params[k].n;
        if (per == 2) {
            o->v[k] = o->state + off;
            off += params[k].n;
        }
    }
    *out = o;
    return FROST_OK;
fail:
    frost_optim_free(&o);
    return st;
}

void frost_optim_free(frost_optim **po)
{
    if (!po || !*po) return;
    free((*po)->state);
    free((*po)->m);
    free((*po)->v);
    free(*po);
    *po = NULL;
}

void frost_optim_reset(frost_optim *o)
{
    int64_t total = 0;
    for (int32_t k = 0; k < o->n; k++) total += o->params[k].n;
    memset(o->state, 0, (size_t)(total * (o->spec.kind == FROST_OPTIM_SGD ? 1 : 2)) * sizeof(float));
    o->t = 0;
}

double frost_optim_lr(const frost_optim_spec *s, int64_t e)
{
    switch (s->schedule) {
    case FROST_SCHED_COSINE: {
        double T = s->t_max > 0 ? (double)s->t_max : 1.0;
        return s->lr_min + (s->lr - s->lr_min) * (1.0 + cos(M_PI * (double)e / T)) / 2.0;
    }
    case FROST_SCHED_STEP:
        return s->lr * pow(s->gamma, floor((double)e / (double)(s->step_size > 0 ? s->step_size : 1)));
    default: return s->lr;
    }
}

void frost_optim_step(frost_optim *o, int64_t epoch)
{
    const frost_optim_spec *s = &o->spec;
    const float lr = (float)frost_optim_lr(s, epoch);
    const float wd = (float)s->weight_decay;
    o->t++;
    const float b1 = (float)s->beta1, b2 = (float)s->beta2, eps = (float)s->eps;
    const float bc1 = (float)(1.0 - pow(s->beta1, (double)o->t));
    const float bc2s = (float)sqrt(1.0 - pow(s->beta2, (double)o->t));
    const float step = lr / bc1;
    const float mu = (float)s->momentum;
    for (int32_t k = 0; k < o->n; k++) {
        float *p = o->params[k].value, *g = o->params[k].grad, *m = o->m[k], *v = o->v[k];
        const int64_t n = o->params[k].n;
        /* read value and gradient, write the value; SGD reads and writes its
         * velocity (when it keeps one), Adam its two moments */
        frost__cost(0.0, (double)n * 4.0 * (s->kind == FROST_OPTIM_SGD ? (m ? 5.0 : 3.0) : 7.0));
        switch (s->kind) {
        case FROST_OPTIM_SGD:
#pragma omp parallel for schedule(static) if (n > 65536)
            for (int64_t i = 0; i < n; i++) {
                float gi = g[i] + wd * p[i];
                if (mu != 0.0f) {
                    m[i] = o->t == 1 ? gi : mu * m[i] + gi;
                    gi = s->nesterov ? gi + mu * m[i] : m[i];
                }
                p[i] -= lr * gi;
            }
            break;
        case FROST_OPTIM_ADAM:
        case FROST_OPTIM_ADAMW: {
            const bool decoupled = s->kind == FROST_OPTIM_ADAMW;
#pragma omp parallel for schedule(static) if (n > 65536)
            for (int64_t i = 0; i < n; i++) {
                float gi = g[i];
                if (decoupled) p[i] *= 1.0f - lr * wd;
                else gi += wd * p[i];
                m[i] = b1 * m[i] + (1.0f - b1) * gi;
                v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
                p[i] -= step * m[i] / (sqrtf(v[i]) / bc2s + eps);
            }
            break;
        }
        }
    }
}

size_t frost__optim_state_floats(const frost_optim *o)
{
    int64_t total = 0;
    for (int32_t k = 0; k < o->n; k++) total += o->params[k].n;
    return (size_t)total * (o->spec.kind == FROST_OPTIM_SGD ? 1 : 2);
}

float *frost__optim_state(frost_optim *o, int64_t **t)
{
    *t = &o->t;
    return o->state;
}

/*
 * frost/optim.h - optimizers (SGD with momentum, Adam, AdamW, with PyTorch's
 * update rules) and learning-rate schedules (constant, cosine, step).
 *
 *     frost_optim_spec os = frost_optim_spec_default();   // Adam, lr 0.01
 *     frost_optim *opt;
 *     frost_optim_new(&opt, &os, params, nparams);
 *     for (epoch = 0; epoch < E; epoch++) { ... gradients ...; frost_optim_step(opt, epoch); }
 *     frost_optim_free(&opt);
 */
#ifndef FROST_OPTIM_H
#define FROST_OPTIM_H

#include "frost/status.h"
#include "frost/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum frost_optim_kind { FROST_OPTIM_SGD = 0, FROST_OPTIM_ADAM = 1, FROST_OPTIM_ADAMW = 2 } frost_optim_kind;
typedef enum frost_schedule { FROST_SCHED_CONSTANT = 0, FROST_SCHED_COSINE = 1, FROST_SCHED_STEP = 2 } frost_schedule;

typedef struct frost_optim_spec {
    frost_optim_kind kind;
    double lr;
    double weight_decay;   /* Adam/SGD: added to the gradient; AdamW: decoupled */
    double momentum;       /* SGD */
    bool nesterov;         /* SGD */
    double beta1, beta2, eps; /* Adam(W) */
    frost_schedule schedule;
    int64_t t_max;         /* cosine period in epochs */
    double lr_min;         /* cosine floor */
    int64_t step_size;     /* step schedule: every step_size epochs ... */
    double gamma;          /* ... multiply by gamma */
} frost_optim_spec;

FROST_API frost_optim_spec frost_optim_spec_default(void);

typedef struct frost_optim frost_optim;

/* params are borrowed (the model owns them). */
FROST_API frost_status frost_optim_new(frost_optim **out, const frost_optim_spec *spec, frost_param *params,
                                       int32_t n);
FROST_API void frost_optim_free(frost_optim **o);
/* Learning rate for the step taken in epoch e (0-based). */
FROST_API double frost_optim_lr(const frost_optim_spec *spec, int64_t e);
/* One update of every parameter from its gradient. */
FROST_API void frost_optim_step(frost_optim *o, int64_t epoch);
/* Reset the state (moments, step count). */
FROST_API void frost_optim_reset(frost_optim *o);

#ifdef __cplusplus
}
#endif
#endif

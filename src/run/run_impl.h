/*
 * run_impl.h - pieces of the experiment runner shared between files.
 */
#ifndef FROST_RUN_IMPL_H
#define FROST_RUN_IMPL_H

#include "frost/runner.h"

/* The portable-reward-tuning scenario (prt_run.c). */
typedef struct frost__prt_scenario {
    int32_t *part;          /* (N) METIS community of each node */
    frost_split split[3];   /* prt-upstream, prt-upstream-old, prt-task */
    double shift_tv;        /* total variation between the domains' label distributions */
    int64_t n_upstream, n_task_domain;
} frost__prt_scenario;

frost_status frost__prt_scenario_build(frost__prt_scenario *s, frost_prepared *p, const frost_config *c);
frost_status frost__prt_scenario_save(const frost__prt_scenario *s, const frost_prepared *p, const char *path);
void frost__prt_scenario_release(frost__prt_scenario *s);

/* One seed of the scenario; appends its rows ("ID.base-old", ..., "ID.prt",
 * "ID.eft") to output. */
frost_status frost__prt_run_seed(const frost_prepared *p, const frost__prt_scenario *sc, const frost_config *c,
                                 int64_t seed, const char *id, const char *output, const char *models_dir,
                                 const char *scenario_path, frost_run_info *prt_row);

#endif

/*
 * test_optim.c - optimizer updates against PyTorch's formulas written out in
 * double, and the learning-rate schedules.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "frost/optim.h"

TestSuite(optim, .timeout = 30);

/* Three steps of one parameter vector with a gradient that changes. */
static void run(frost_optim_kind kind, double wd, double mom, bool nesterov, double *expect, float *got)
{
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3];
    frost_param prm = {.name = "w", .value = p, .grad = g, .n = 3};
    frost_optim_spec s = frost_optim_spec_default();
    s.kind = kind;
    s.lr = 0.1;
    s.weight_decay = wd;
    s.momentum = mom;
    s.nesterov = nesterov;
    frost_optim *o;
    cr_assert_eq(frost_optim_new(&o, &s, &prm, 1), FROST_OK);
    double P[3] = {1.0, -2.0, 0.5}, M[3] = {0}, V[3] = {0};
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < 3; i++) g[i] = (float)(0.3 * (i + 1) * (t % 2 ? 1 : -0.5) + 0.1 * P[i]);
        frost_optim_step(o, t - 1);
        for (int i = 0; i < 3; i++) {
            double gi = 0.3 * (i + 1) * (t % 2 ? 1 : -0.5) + 0.1 * P[i];
            if (kind == FROST_OPTIM_SGD) {
                gi += wd * P[i];
                if (mom != 0) {
                    M[i] = t == 1 ? gi : mom * M[i] + gi;
                    gi = nesterov ? gi + mom * M[i] : M[i];
                }
                P[i] -= 0.1 * gi;
            } else {
                if (kind == FROST_OPTIM_ADAMW) P[i] *= 1 - 0.1 * wd;
                else gi += wd * P[i];
                M[i] = 0.9 * M[i] + 0.1 * gi;
                V[i] = 0.999 * V[i] + 0.001 * gi * gi;
                double mh = M[i] / (1 - pow(0.9, t)), vh = V[i] / (1 - pow(0.999, t));
                P[i] -= 0.1 * mh / (sqrt(vh) + 1e-8);
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        expect[i] = P[i];
        got[i] = p[i];
    }
    frost_optim_free(&o);
}

Test(optim, updates_match_pytorch_formulas)
{
    const struct {
        frost_optim_kind k;
        double wd, mom;
        bool nest;
    } cases[] = {{FROST_OPTIM_SGD, 0, 0, false},   {FROST_OPTIM_SGD, 0.01, 0.9, false}, {FROST_OPTIM_SGD, 0.01, 0.9, true},
                 {FROST_OPTIM_ADAM, 0, 0, false},  {FROST_OPTIM_ADAM, 0.05, 0, false},  {FROST_OPTIM_ADAMW, 0.05, 0, false}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double e[3];
        float g[3];
        run(cases[c].k, cases[c].wd, cases[c].mom, cases[c].nest, e, g);
        for (int i = 0; i < 3; i++)
            cr_assert(fabs((double)g[i] - e[i]) < 2e-6, "case %zu element %d: %.8f vs %.8f", c, i, (double)g[i], e[i]);
    }
}

Test(optim, schedules)
{
    frost_optim_spec s = frost_optim_spec_default();
    s.lr = 0.1;
    cr_assert_float_eq(frost_optim_lr(&s, 57), 0.1, 1e-15);
    s.schedule = FROST_SCHED_COSINE;
    s.t_max = 100;
    s.lr_min = 0.001;
    cr_assert_float_eq(frost_optim_lr(&s, 0), 0.1, 1e-15);
    cr_assert_float_eq(frost_optim_lr(&s, 50), 0.001 + 0.099 * 0.5, 1e-12);
    cr_assert_float_eq(frost_optim_lr(&s, 100), 0.001, 1e-12);
    s.schedule = FROST_SCHED_STEP;
    s.step_size = 30;
    s.gamma = 0.5;
    cr_assert_float_eq(frost_optim_lr(&s, 29), 0.1, 1e-15);
    cr_assert_float_eq(frost_optim_lr(&s, 30), 0.05, 1e-15);
    cr_assert_float_eq(frost_optim_lr(&s, 65), 0.025, 1e-15);
}

/*
 * prt.c - the arithmetic of portable reward tuning and of EFT, in log space
 * (prt.md section 3: never multiply probabilities).
 */
#include "frost/prt.h"
#include "core/core_impl.h"

#include <math.h>

void frost_log_softmax_rows(float *out, const float *z, int64_t N, int64_t C)
{
#pragma omp parallel for schedule(static) if (N * C > 65536)
    for (int64_t i = 0; i < N; i++) {
        const float *zi = z + i * C;
        float *oi = out + i * C;
        double m = (double)zi[0];
        for (int64_t c = 1; c < C; c++) m = fmax(m, (double)zi[c]);
        double se = 0;
        for (int64_t c = 0; c < C; c++) se += exp((double)zi[c] - m);
        const double lse = m + log(se);
        for (int64_t c = 0; c < C; c++) oi[c] = (float)((double)zi[c] - lse);
    }
}

void frost_prt_combine(float *out, const float *lp_base, const float *r, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; k++) out[k] = lp_base[k] + r[k];
}

void frost_eft_combine(float *out, const float *lp_new, const float *lp_ft, const float *lp_pt, double alpha, int64_t n)
{
    const float a = (float)alpha;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; k++) out[k] = lp_new[k] + a * (lp_ft[k] - lp_pt[k]);
}

frost_status frost_prt_check_labels(int64_t c_a, int64_t c_b, int task_a, int task_b, const char *what)
{
    if (c_a != c_b || task_a != task_b)
        return frost__error(FROST_ERR_SHAPE,
                            "%s: label sets differ (%lld %s against %lld %s); a reward only transfers between models of "
                            "the same label set",
                            what, (long long)c_a, task_a ? "binary tasks" : "classes", (long long)c_b,
                            task_b ? "binary tasks" : "classes");
    return FROST_OK;
}

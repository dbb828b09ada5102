/*
 * prt.c - the arithmetic of portable reward tuning and of EFT, in log space
 * (prt.md section 3: never multiply probabilities).
 */
#include "frost/prt.h"
#include "core/core_impl.h"
#include "frost/layers.h"

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

double frost_prt_loss(float *dr, const float *z, const float *r, const int32_t *labels, const int64_t *idx,
                      int64_t n_idx, int64_t C, double alpha)
{
    /* the cross-entropy part is the ordinary one, on prior + r */
    double loss = frost_softmax_ce(dr, z, labels, idx, n_idx, C);
    if (alpha <= 0) return loss;
    int64_t cnt = 0;
    for (int64_t k = 0; k < n_idx; k++) cnt += labels[idx[k]] >= 0;
    if (cnt == 0) return loss;
    double neg_h = 0;
    for (int64_t k = 0; k < n_idx; k++) {
        const int64_t i = idx[k];
        if (labels[i] < 0) continue;
        const float *ri = r + i * C;
        double mx = (double)ri[0];
        for (int64_t c = 1; c < C; c++) mx = fmax(mx, (double)ri[c]);
        double se = 0;
        for (int64_t c = 0; c < C; c++) se += exp((double)ri[c] - mx);
        const double lse = mx + log(se);
        double H = 0;
        for (int64_t c = 0; c < C; c++) {
            const double lp = (double)ri[c] - lse;
            H -= exp(lp) * lp;
        }
        neg_h -= H;
        if (dr)
            for (int64_t c = 0; c < C; c++) {
                const double lp = (double)ri[c] - lse;
                dr[i * C + c] += (float)(alpha * exp(lp) * (lp + H) / (double)cnt);
            }
    }
    return loss + alpha * neg_h / (double)cnt;
}

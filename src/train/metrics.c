/*
 * metrics.c - accuracy and ROC-AUC as OGB's Evaluator computes them.
 */
#include "frost/metrics.h"
#include "core/core_impl.h"

#include <math.h>
#include <string.h>

typedef struct sy {
    float s;
    int32_t y;
} sy;

static int cmp_sy(const void *a, const void *b)
{
    float x = ((const sy *)a)->s, y = ((const sy *)b)->s;
    return (x > y) - (x < y);
}

double frost_rocauc(const float *scores, const int32_t *y, int64_t n)
{
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) pos += y[i] == 1;
    int64_t neg = n - pos;
    if (pos == 0 || neg == 0) return (double)NAN;
    sy *a = malloc((size_t)n * sizeof *a);
    if (!a) return (double)NAN;
    for (int64_t i = 0; i < n; i++) a[i] = (sy){scores[i], y[i]};
    qsort(a, (size_t)n, sizeof *a, cmp_sy);
    /* rank sum of positives with tied groups sharing their mean rank (1-based) */
    double rank_sum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        int64_t p = 0;
        while (j < n && a[j].s == a[i].s) p += a[j++].y == 1;
        double mean_rank = 0.5 * (double)(i + 1 + j);
        rank_sum += mean_rank * (double)p;
        i = j;
    }
    free(a);
    return (rank_sum - 0.5 * (double)pos * (double)(pos + 1)) / ((double)pos * (double)neg);
}

frost_status frost_metric_compute(double *out, frost_metric metric, frost_task task, const float *scores,
                                  const int32_t *labels, const int64_t *idx, int64_t n, int64_t C, int64_t T)
{
    *out = (double)NAN;
    if (n == 0) return FROST_OK; /* an empty part (no validation nodes): NaN */
    if (task == FROST_TASK_MULTICLASS) {
        if (metric == FROST_METRIC_ROCAUC)
            return frost__error(FROST_ERR_INVALID, "ROC-AUC needs binary labels");
        int64_t right = 0, cnt = 0;
        for (int64_t k = 0; k < n; k++) {
            const int64_t i = idx[k];
            const int32_t y = labels[i];
            if (y < 0) continue;
            const float *s = scores + i * C;
            int64_t best = 0;
            for (int64_t c = 1; c < C; c++)
                if (s[c] > s[best]) best = c;
            right += best == y;
            cnt++;
        }
        *out = cnt ? (double)right / (double)cnt : (double)NAN;
        return FROST_OK;
    }
    /* binary tasks */
    if (metric == FROST_METRIC_ACCURACY) {
        double sum = 0;
        int64_t tasks = 0;
        for (int64_t t = 0; t < T; t++) {
            int64_t right = 0, cnt = 0;
            for (int64_t k = 0; k < n; k++) {
                const int64_t i = idx[k];
                const int32_t y = labels[i * T + t];
                if (y < 0) continue;
                right += (scores[i * T + t] > 0.0f) == (y == 1);
                cnt++;
            }
            if (cnt) {
                sum += (double)right / (double)cnt;
                tasks++;
            }
        }
        *out = tasks ? sum / (double)tasks : (double)NAN;
        return FROST_OK;
    }
    float *s = malloc((size_t)n * sizeof *s);
    int32_t *y = malloc((size_t)n * sizeof *y);
    if (!s || !y) {
        free(s);
        free(y);
        return frost__error(FROST_ERR_NOMEM, "out of memory computing ROC-AUC");
    }
    double sum = 0;
    int64_t tasks = 0;
    for (int64_t t = 0; t < T; t++) {
        int64_t m = 0;
        for (int64_t k = 0; k < n; k++) {
            const int64_t i = idx[k];
            if (labels[i * T + t] < 0) continue;
            s[m] = scores[i * T + t];
            y[m] = labels[i * T + t];
            m++;
        }
        double auc = frost_rocauc(s, y, m);
        if (!isnan(auc)) {
            sum += auc;
            tasks++;
        }
    }
    free(s);
    free(y);
    bool any_label = false;
    for (int64_t k = 0; k < n && !any_label; k++)
        for (int64_t t = 0; t < T && !any_label; t++) any_label = labels[idx[k] * T + t] >= 0;
    if (!any_label) { /* nothing to score (unlabelled nodes, an empty part): NaN, as accuracy gives */
        *out = NAN;
        return FROST_OK;
    }
    if (tasks == 0)
        return frost__error(FROST_ERR_INVALID,
                            "ROC-AUC: no task has both positive and negative labels among these %lld nodes",
                            (long long)n);
    *out = sum / (double)tasks;
    return FROST_OK;
}

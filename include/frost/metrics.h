/*
 * frost/metrics.h - evaluation metrics with OGB Evaluator semantics:
 * labels (N, T) with -1 = missing, computed per task over the listed nodes,
 * then averaged; ROC-AUC counts only tasks that have both classes among the
 * listed labelled nodes, and fails if none does. Values are fractions in
 * [0, 1], as OGB returns them.
 *
 *     double acc;
 *     frost_metric_compute(&acc, FROST_METRIC_ACCURACY, FROST_TASK_MULTICLASS,
 *                          logits, labels, test_idx, n_test, C, 1);
 */
#ifndef FROST_METRICS_H
#define FROST_METRICS_H

#include "frost/status.h"
#include "frost/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out: the metric over nodes idx[0..n).
 * multiclass: scores (N, C) (argmax), labels (N).
 * binary:     scores (N, T) (logits; > 0 predicts 1), labels (N, T).
 * Returns FROST_ERR_INVALID with a message if ROC-AUC has no task with both classes. */
FROST_API frost_status frost_metric_compute(double *out, frost_metric metric, frost_task task, const float *scores,
                                            const int32_t *labels, const int64_t *idx, int64_t n, int64_t C,
                                            int64_t T);

/* ROC-AUC of one task: positives' rank sum (ties share their average rank),
 * i.e. the probability a random positive outscores a random negative, ties
 * counting half. scores (n), y (n) in {0, 1}. Returns NaN without both classes. */
FROST_API double frost_rocauc(const float *scores, const int32_t *y, int64_t n);

#ifdef __cplusplus
}
#endif
#endif

/*
 * test_metrics.c - accuracy and ROC-AUC against values computed by hand, with
 * OGB's Evaluator conventions (missing labels skipped, tasks without both
 * classes skipped, an error when no task qualifies).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "frost/metrics.h"

TestSuite(metrics, .timeout = 30);

Test(metrics, accuracy_multiclass)
{
    /* argmax per row: 1, 0, 2, 2, 1 */
    float s[] = {0.1f, 0.9f, 0.0f, 2.0f, 1.0f, 0.5f, 0.0f, 0.0f, 3.0f, -1.0f, -2.0f, 0.0f, 0.2f, 0.3f, 0.1f};
    int32_t y[] = {1, 1, 2, 0, -1};
    int64_t all[] = {0, 1, 2, 3, 4}, some[] = {0, 2};
    double a;
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ACCURACY, FROST_TASK_MULTICLASS, s, y, all, 5, 3, 1), FROST_OK);
    cr_assert_float_eq(a, 2.0 / 4.0, 1e-12); /* node 4 has no label; right: 0 and 2 */
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ACCURACY, FROST_TASK_MULTICLASS, s, y, some, 2, 3, 1), FROST_OK);
    cr_assert_float_eq(a, 1.0, 1e-12);
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ACCURACY, FROST_TASK_MULTICLASS, s, y, all, 0, 3, 1), FROST_OK);
    cr_assert(isnan(a), "an empty part gives NaN");
}

Test(metrics, rocauc_by_hand)
{
    float s1[] = {0.1f, 0.4f, 0.35f, 0.8f};
    int32_t y1[] = {0, 0, 1, 1};
    cr_assert_float_eq(frost_rocauc(s1, y1, 4), 0.75, 1e-12);
    /* ties count one half: pairs (0.5,0.5) x2 -> 1, (0.9,0.5) x2 -> 2: 3/4 */
    float s2[] = {0.5f, 0.5f, 0.5f, 0.9f};
    int32_t y2[] = {0, 1, 0, 1};
    cr_assert_float_eq(frost_rocauc(s2, y2, 4), 0.75, 1e-12);
    float s3[] = {3, 2, 1};
    int32_t y3[] = {1, 1, 0};
    cr_assert_float_eq(frost_rocauc(s3, y3, 3), 1.0, 1e-12);
    int32_t y4[] = {1, 1, 1};
    cr_assert(isnan(frost_rocauc(s3, y4, 3)));
}

Test(metrics, rocauc_multitask_ogb_semantics)
{
    /* 4 nodes x 3 tasks; task 1 has only negatives -> skipped; -1 skipped */
    float s[] = {0.9f, 0.1f, 0.2f, 0.2f, 0.3f, 0.8f, 0.6f, 0.5f, 0.4f, 0.1f, 0.2f, 0.9f};
    int32_t y[] = {1, 0, 0, 0, 0, 1, 1, 0, -1, 0, 0, 1};
    int64_t idx[] = {0, 1, 2, 3};
    double a;
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ROCAUC, FROST_TASK_BINARY, s, y, idx, 4, 3, 3), FROST_OK);
    /* task 0: pos {0.9, 0.6}, neg {0.2, 0.1} -> 1; task 2: labels 0,1,-,1 scores 0.2,0.8,-,0.9 -> 1 */
    cr_assert_float_eq(a, 1.0, 1e-12);
    y[0] = 0;
    y[6] = 0; /* task 0 loses its positives */
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ROCAUC, FROST_TASK_BINARY, s, y, idx, 4, 3, 3), FROST_OK);
    cr_assert_float_eq(a, 1.0, 1e-12, "only task 2 counts");
    y[5] = 0;
    y[11] = 0;
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ROCAUC, FROST_TASK_BINARY, s, y, idx, 4, 3, 3), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "no task has both positive and negative labels"));
    /* binary accuracy: logit > 0 predicts 1 */
    float z[] = {1.0f, -1.0f, 0.5f, -0.5f};
    int32_t yb[] = {1, 1, 0, 0};
    cr_assert_eq(frost_metric_compute(&a, FROST_METRIC_ACCURACY, FROST_TASK_BINARY, z, yb, idx, 4, 1, 1), FROST_OK);
    cr_assert_float_eq(a, 0.5, 1e-12);
}

/*
 * predictions.c - the predictions file of frost predict (format
 * "frost.predictions", version 1): node ids, logits, probabilities and the
 * predicted class (or per-task 0/1) of every node or of the nodes asked
 * for, written atomically. Format: results/README.md.
 */
#include "frost/runner.h"
#include "io/h5_impl.h"

#include <math.h>
#include <string.h>

frost_status frost_predictions_save(const frost_prediction *p, const char *path)
{
    return frost_predictions_save_nodes(p, NULL, -1, path);
}

frost_status frost_predictions_save_nodes(const frost_prediction *p, const int64_t *nodes, int64_t n_nodes,
                                          const char *path)
{
    frost_status st = FROST_OK;
    frost__h5_out out;
    const int64_t C = p->C, n = nodes ? n_nodes : p->N;
    const int64_t T = p->binary ? C : 1; /* prediction columns */
    int32_t *pred = NULL;
    int64_t *ids = NULL;
    float *logits = NULL, *prob = NULL;
    for (int64_t k = 0; nodes && k < n; k++)
        if (nodes[k] < 0 || nodes[k] >= p->N)
            return frost__error(FROST_ERR_RANGE, "node %lld (entry %lld of the node list) is out of range 0 .. %lld",
                                (long long)nodes[k], (long long)k + 1, (long long)p->N - 1);
    FROST_ALLOC(pred, n * T);
    FROST_ALLOC(ids, n);
    FROST_ALLOC(logits, n * C);
    FROST_ALLOC(prob, n * C);
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = nodes ? nodes[k] : k;
        const float *z = p->logits + i * C;
        ids[k] = p->node_ids ? p->node_ids[i] : i;
        memcpy(logits + k * C, z, (size_t)C * sizeof *z);
        if (p->binary) { /* per task: sigmoid, and logit > 0 */
            for (int64_t t = 0; t < C; t++) {
                prob[k * C + t] = (float)(1.0 / (1.0 + exp(-(double)z[t])));
                pred[k * T + t] = z[t] > 0.0f;
            }
        } else { /* softmax over the classes, and the argmax */
            int32_t b = 0;
            double mx = z[0], sum = 0;
            for (int64_t c = 1; c < C; c++)
                if (z[c] > z[b]) b = (int32_t)c, mx = z[c];
            for (int64_t c = 0; c < C; c++) sum += exp((double)z[c] - mx);
            for (int64_t c = 0; c < C; c++) prob[k * C + c] = (float)(exp((double)z[c] - mx) / sum);
            pred[k] = b;
        }
    }
    FROST_TRY(frost__h5_out_create(&out, path));
    int64_t d2[2] = {n, C}, dp[2] = {n, T};
    if ((st = frost__h5_attr_str(out.file, "format", "frost.predictions", path)) < 0 ||
        (st = frost__h5_attr_i64(out.file, "version", 1, path)) < 0 ||
        (st = frost__h5_attr_str(out.file, "logits_hash", p->logits_hash, path)) < 0 ||
        (st = frost__h5_attr_str(out.file, "task_type", p->binary ? "binary" : "multiclass", path)) < 0 ||
        (st = frost__h5_attr_str(out.file, "split", p->split, path)) < 0 ||
        (st = frost__h5_write(out.file, "node_id", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &n, ids, 1, path)) < 0 ||
        (st = frost__h5_write(out.file, "logits", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d2, logits, 1, path)) < 0 ||
        (st = frost__h5_write(out.file, "probability", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d2, prob, 1, path)) < 0 ||
        (st = frost__h5_write(out.file, "prediction", H5T_NATIVE_INT32, H5T_STD_I32LE, p->binary && T > 1 ? 2 : 1,
                              p->binary && T > 1 ? dp : &n, pred, 1, path)) < 0) {
        frost__h5_out_abort(&out);
        goto fail;
    }
    st = frost__h5_out_commit(&out);
fail:
    free(pred);
    free(ids);
    free(logits);
    free(prob);
    return st;
}

/*
 * predictions.c - the predictions file of frost predict (format
 * "frost.predictions", version 1): logits (N, C) and the predicted class
 * of every node, written atomically. Format: results/README.md.
 */
#include "frost/runner.h"
#include "io/h5_impl.h"

frost_status frost_predictions_save(const frost_prediction *p, const char *path)
{
    frost_status st = FROST_OK;
    frost__h5_out out;
    int32_t *pred = NULL;
    FROST_ALLOC(pred, p->N);
    for (int64_t i = 0; i < p->N; i++) {
        int32_t b = 0;
        for (int64_t c = 1; c < p->C; c++)
            if (p->logits[i * p->C + c] > p->logits[i * p->C + b]) b = (int32_t)c;
        pred[i] = p->C == 1 ? (p->logits[i] > 0) : b;
    }
    FROST_TRY(frost__h5_out_create(&out, path));
    int64_t d2[2] = {p->N, p->C};
    if ((st = frost__h5_attr_str(out.file, "format", "frost.predictions", path)) < 0 ||
        (st = frost__h5_attr_i64(out.file, "version", 1, path)) < 0 ||
        (st = frost__h5_attr_str(out.file, "logits_hash", p->logits_hash, path)) < 0 ||
        (st = frost__h5_write(out.file, "logits", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d2, p->logits, 1, path)) < 0 ||
        (st = frost__h5_write(out.file, "prediction", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &p->N, pred, 1, path)) < 0) {
        frost__h5_out_abort(&out);
        goto fail;
    }
    st = frost__h5_out_commit(&out);
fail:
    free(pred);
    return st;
}

/*
 * loss.c - losses over a list of nodes.
 *
 * Softmax cross-entropy, per node i with label y:
 *   l_i = logsumexp(z_i) - z_iy,  dz_i = (softmax(z_i) - onehot(y)) / n
 * Binary cross-entropy with logits, per labelled (i, t):
 *   l = max(z,0) - z y + log(1 + exp(-|z|)),  dz = (sigmoid(z) - y) / n
 * n counts the labelled terms; unlabelled ones (-1) are skipped. Sums run in
 * node order (double), so the loss does not depend on the thread count.
 */
#include "frost/layers.h"

#include <math.h>

double frost_softmax_ce(float *dlogits, const float *logits, const int32_t *labels, const int64_t *idx,
                        int64_t n_idx, int64_t C)
{
    int64_t n = 0;
    for (int64_t k = 0; k < n_idx; k++) n += labels[idx[k]] >= 0;
    if (n == 0) return 0.0;
    const double inv = 1.0 / (double)n;
    double loss = 0;
    for (int64_t k = 0; k < n_idx; k++) {
        const int64_t i = idx[k];
        const int32_t y = labels[i];
        const float *z = logits + i * C;
        float *dz = dlogits ? dlogits + i * C : NULL;
        if (y < 0) {
            if (dz)
                for (int64_t c = 0; c < C; c++) dz[c] = 0.0f;
            continue;
        }
        double m = (double)z[0];
        for (int64_t c = 1; c < C; c++) m = fmax(m, (double)z[c]);
        double se = 0;
        for (int64_t c = 0; c < C; c++) se += exp((double)z[c] - m);
        double lse = m + log(se);
        loss += lse - (double)z[y];
        if (dz)
            for (int64_t c = 0; c < C; c++)
                dz[c] = (float)((exp((double)z[c] - lse) - (c == y ? 1.0 : 0.0)) * inv);
    }
    return loss * inv;
}

double frost_bce_logits(float *dlogits, const float *logits, const int32_t *labels, const int64_t *idx,
                        int64_t n_idx, int64_t T)
{
    int64_t n = 0;
    for (int64_t k = 0; k < n_idx; k++)
        for (int64_t t = 0; t < T; t++) n += labels[idx[k] * T + t] >= 0;
    if (n == 0) return 0.0;
    const double inv = 1.0 / (double)n;
    double loss = 0;
    for (int64_t k = 0; k < n_idx; k++) {
        const int64_t i = idx[k];
        for (int64_t t = 0; t < T; t++) {
            const int32_t y = labels[i * T + t];
            const double z = (double)logits[i * T + t];
            if (y < 0) {
                if (dlogits) dlogits[i * T + t] = 0.0f;
                continue;
            }
            loss += fmax(z, 0.0) - z * (double)y + log1p(exp(-fabs(z)));
            if (dlogits) dlogits[i * T + t] = (float)((1.0 / (1.0 + exp(-z)) - (double)y) * inv);
        }
    }
    return loss * inv;
}

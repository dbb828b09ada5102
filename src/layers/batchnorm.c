/*
 * batchnorm.c - BatchNorm1d over the rows of X (N,H) (full batch: every node).
 *
 *   train: mu = mean_n X, var = mean_n (X - mu)^2 (biased),
 *          xhat = (X - mu) / sqrt(var + eps), Y = gamma * xhat + beta;
 *          running_mean += m (mu - running_mean),
 *          running_var  += m (var * N/(N-1) - running_var)   (PyTorch)
 *   eval:  Y = gamma (X - running_mean) / sqrt(running_var + eps) + beta
 *   backward (xhat recomputed from X, mu, invstd):
 *          T1 = sum_n dY, T2 = sum_n dY xhat;  dbeta += T1, dgamma += T2
 *          dX = gamma invstd (dY - T1/N - xhat T2/N)
 *
 * Column sums run per block of 16 columns, rows in order, so they do not
 * depend on the thread count.
 */
#include "frost/layers.h"

#include <math.h>

#define CB 16

void frost_batchnorm_forward_train(float *Y, float *mean, float *invstd, float *run_mean, float *run_var,
                                   const float *X, const float *gamma, const float *beta, int64_t N, int64_t H,
                                   float momentum, float eps)
{
    const int64_t nb = (H + CB - 1) / CB;
#pragma omp parallel for schedule(static) if (N * H > 65536)
    for (int64_t cb = 0; cb < nb; cb++) {
        const int64_t h0 = cb * CB, h1 = h0 + CB < H ? h0 + CB : H;
        double s[CB] = {0}, s2[CB] = {0};
        for (int64_t i = 0; i < N; i++) {
            const float *x = X + i * H;
            for (int64_t h = h0; h < h1; h++) {
                double v = (double)x[h];
                s[h - h0] += v;
                s2[h - h0] += v * v;
            }
        }
        for (int64_t h = h0; h < h1; h++) {
            double mu = N > 0 ? s[h - h0] / (double)N : 0.0;
            double var = N > 0 ? s2[h - h0] / (double)N - mu * mu : 0.0;
            if (var < 0) var = 0;
            mean[h] = (float)mu;
            invstd[h] = (float)(1.0 / sqrt(var + (double)eps));
            if (run_mean) {
                double unb = N > 1 ? var * (double)N / (double)(N - 1) : var;
                run_mean[h] = (float)((1.0 - (double)momentum) * (double)run_mean[h] + (double)momentum * mu);
                run_var[h] = (float)((1.0 - (double)momentum) * (double)run_var[h] + (double)momentum * unb);
            }
        }
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *x = X + i * H;
        float *y = Y + i * H;
        if (gamma) {
            for (int64_t h = 0; h < H; h++) y[h] = (x[h] - mean[h]) * invstd[h] * gamma[h] + beta[h];
        } else {
            for (int64_t h = 0; h < H; h++) y[h] = (x[h] - mean[h]) * invstd[h];
        }
    }
}

void frost_batchnorm_forward_eval(float *Y, const float *X, const float *run_mean, const float *run_var,
                                  const float *gamma, const float *beta, int64_t N, int64_t H, float eps)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *x = X + i * H;
        float *y = Y + i * H;
        for (int64_t h = 0; h < H; h++) {
            float is = 1.0f / sqrtf(run_var[h] + eps);
            float v = (x[h] - run_mean[h]) * is;
            y[h] = gamma ? v * gamma[h] + beta[h] : v;
        }
    }
}

void frost_batchnorm_backward(float *dX, float *dgamma, float *dbeta, double *work, const float *dY,
                              const float *X, const float *mean, const float *invstd, const float *gamma,
                              int64_t N, int64_t H)
{
    double *T1 = work, *T2 = work + H;
    const int64_t nb = (H + CB - 1) / CB;
#pragma omp parallel for schedule(static) if (N * H > 65536)
    for (int64_t cb = 0; cb < nb; cb++) {
        const int64_t h0 = cb * CB, h1 = h0 + CB < H ? h0 + CB : H;
        double t1[CB] = {0}, t2[CB] = {0};
        for (int64_t i = 0; i < N; i++) {
            const float *x = X + i * H, *dy = dY + i * H;
            for (int64_t h = h0; h < h1; h++) {
                double xhat = ((double)x[h] - (double)mean[h]) * (double)invstd[h];
                t1[h - h0] += (double)dy[h];
                t2[h - h0] += (double)dy[h] * xhat;
            }
        }
        for (int64_t h = h0; h < h1; h++) {
            T1[h] = t1[h - h0];
            T2[h] = t2[h - h0];
            if (dbeta) dbeta[h] += (float)T1[h];
            if (dgamma) dgamma[h] += (float)T2[h];
        }
    }
    if (!dX) return;
    const float invN = N > 0 ? 1.0f / (float)N : 0.0f;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *x = X + i * H, *dy = dY + i * H;
        float *dx = dX + i * H;
        for (int64_t h = 0; h < H; h++) {
            float g = gamma ? gamma[h] : 1.0f;
            float xhat = (x[h] - mean[h]) * invstd[h];
            dx[h] = g * invstd[h] * (dy[h] - (float)T1[h] * invN - xhat * (float)T2[h] * invN);
        }
    }
}

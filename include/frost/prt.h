/*
 * frost/prt.h - portable reward tuning (Chijiwa et al., ICML 2025; method
 * notes in specs/prt.md) and the EFT / proxy-tuning baseline.
 *
 * A reward network r(x) in R^C per node is trained through the fine-tuning
 * loss on softmax(log p_base + r), with the base model frozen (its
 * log-probabilities computed once). Later the same reward is applied to a new
 * base model with the same label set: softmax(log p_new + r). EFT combines
 * three models instead: log p_new + alpha (log p_ft_old - log p_pt_old).
 *
 *     float *lp = malloc(N * C * sizeof *lp);
 *     frost_log_softmax_rows(lp, frost_model_logits(base), N, C);
 *     frost_prt_combine(out, lp, frost_model_logits(reward), N * C);   // argmax per row
 */
#ifndef FROST_PRT_H
#define FROST_PRT_H

#include "frost/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out (N,C) = z - logsumexp(z) per row (max-subtracted, in double). out may alias z. */
FROST_API void frost_log_softmax_rows(float *out, const float *z, int64_t N, int64_t C);

/* PRT inference: out = lp_base + r (n values); softmax of a row is the PRT
 * model's distribution. out may alias either input. */
FROST_API void frost_prt_combine(float *out, const float *lp_base, const float *r, int64_t n);

/* EFT: out = lp_new + alpha (lp_ft - lp_pt). */
FROST_API void frost_eft_combine(float *out, const float *lp_new, const float *lp_ft, const float *lp_pt, double alpha,
                                 int64_t n);

/* The reward's training loss over the listed nodes with a label:
 *   mean CE(softmax(prior + r), y) - alpha * mean H(softmax(r))
 * z = prior + r (N,C) is given (the caller combines once); dr (N,C), if not
 * NULL, receives the gradient rows of the listed nodes (overwritten):
 *   softmax(z) - onehot(y)  +  alpha rho (log rho + H),  rho = softmax(r),
 * both divided by the number of labelled nodes. */
FROST_API double frost_prt_loss(float *dr, const float *z, const float *r, const int32_t *labels, const int64_t *idx,
                                int64_t n_idx, int64_t C, double alpha);

/* Refuse to combine models whose label sets differ: the number of outputs
 * must agree, and the task types where the caller passes them (frost's
 * model files store no class names, so the classes themselves are not
 * compared). `what` names the models in the message. */
FROST_API frost_status frost_prt_check_labels(int64_t c_a, int64_t c_b, int task_a, int task_b, const char *what);

#ifdef __cplusplus
}
#endif
#endif

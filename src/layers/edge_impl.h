/*
 * edge_impl.h - kernels over a graph's entries with a value per entry and
 * head: graph attention's per-row softmax and its SpMM (edge.c), each with
 * a naive reference in double (edge_ref.c) that the tests hold it to.
 *
 * Shape legend: n rows of A (row i lists the nodes i aggregates from, its
 * sources j), E = A->nnz stored entries, K heads, D columns per head (a
 * feature row is K blocks of D: (n, K D)).
 *
 * Every row also has an entry for the node itself (the self loop attention
 * adds, whether or not A stores one): per-entry arrays are (E, K) for the
 * stored entries in A's order, entry e head k at e K + k, and (n, K) for the
 * self entries.
 *
 * Attention dropout multiplies entry values by a mask: entry e, head k is
 * kept when the 16-bit draw of key e K + k (self entries: (E + i) K + k)
 * of the stream is >= p 65536, kept values scaled by 1 / (1 - p): the rule
 * of frost_dropout_forward, keyed by the entry's position in A.
 *
 * The transposed kernels (backward) run in parallel over the rows of AT
 * (the transpose of A, or A itself when symmetric), reading each entry's
 * value through tperm (E: for the k-th entry of AT, its position in A), so
 * every output row is summed by one thread in a fixed order.
 */
#ifndef FROST_EDGE_IMPL_H
#define FROST_EDGE_IMPL_H

#include "frost/graph.h"
#include "core/core_impl.h"

/* Attention dropout of a pass; p = 0: none. */
typedef struct frost__edge_drop {
    float p;
    uint64_t seed, stream;
} frost__edge_drop;

/* The multiplier (0 or 1 / (1 - p)) of key `key` (see above). */
float frost__edge_drop_at(const frost__edge_drop *d, int64_t key);

/* tperm (E) for A and AT (AT == A allowed): AT's rows must list their
 * sources in increasing order (frost_csr_from_edges and frost_csr_induced
 * keep them so). cur: (n) scratch. FROST_ERR_INVALID if AT is not A's
 * transpose with sorted rows. */
frost_status frost__edge_tperm(const frost_csr *A, const frost_csr *AT, int64_t *tperm, int64_t *cur);

/* Per-row softmax over the entries and the self entry of
 *     e = LeakyReLU(s_j + t_i, slope),  s, t (n, K):
 * alpha (E, K), alpha_self (n, K). */
void frost__edge_softmax(const frost_csr *A, const float *s, const float *t, int64_t K, float slope, float *alpha,
                         float *alpha_self);
void frost__edge_softmax_ref(const frost_csr *A, const float *s, const float *t, int64_t K, float slope, float *alpha,
                             float *alpha_self);

/* Y (n, K D) = per head k: Y_i = sum_e v_e m_e X_j + v_self_i m X_i, the
 * values v (E, K) and v_self (n, K) times the dropout mask. */
void frost__spmm_edge(const frost_csr *A, const float *v, const float *v_self, int64_t K, int64_t D,
                      const frost__edge_drop *drop, const float *X, float *Y);
void frost__spmm_edge_ref(const frost_csr *A, const float *v, const float *v_self, int64_t K, int64_t D,
                          const frost__edge_drop *drop, const float *X, float *Y);

/* The transpose: Y (n, K D) = per head: Y_j = sum_{entries e = (i, j)}
 * v_e m_e X_i + v_self_j m X_j (the reference scatters through A). */
void frost__spmm_edge_t(const frost_csr *A, const frost_csr *AT, const int64_t *tperm, const float *v,
                        const float *v_self, int64_t K, int64_t D, const frost__edge_drop *drop, const float *X,
                        float *Y);
void frost__spmm_edge_t_ref(const frost_csr *A, const float *v, const float *v_self, int64_t K, int64_t D,
                            const frost__edge_drop *drop, const float *X, float *Y);

/* Backward of alpha = softmax(LeakyReLU(s_j + t_i)) followed by
 * Y = spmm_edge(alpha m, X), given dY (n, K D): per row i and head k,
 *     g_e = m_e (dY_i . X_j)                       (dalpha)
 *     u_e = alpha_e (g_e - sum_e' alpha_e' g_e')  (softmax)
 *     d_e = u_e (s_j + t_i > 0 ? 1 : slope)        (LeakyReLU)
 * written over alpha and alpha_self (the pre-activation gradients, per
 * entry), and dt (n, K) = sum over the row's entries of d. */
void frost__edge_softmax_backward(const frost_csr *A, const float *s, const float *t, int64_t K, int64_t D,
                                  float slope, const frost__edge_drop *drop, const float *dY, const float *X,
                                  float *alpha, float *alpha_self, float *dt);
void frost__edge_softmax_backward_ref(const frost_csr *A, const float *s, const float *t, int64_t K, int64_t D,
                                      float slope, const frost__edge_drop *drop, const float *dY, const float *X,
                                      float *alpha, float *alpha_self, float *dt);

/* out (n, K) = per source j: sum over entries e = (i, j) of v_e, plus
 * v_self_j (the reference scatters through A). */
void frost__edge_sum_t(const frost_csr *A, const frost_csr *AT, const int64_t *tperm, const float *v,
                       const float *v_self, int64_t K, float *out);
void frost__edge_sum_t_ref(const frost_csr *A, const float *v, const float *v_self, int64_t K, float *out);

#endif

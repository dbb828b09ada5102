/*
 * spmm_kern.h - the vector row kernel of spmm.c, written once for both
 * widths (included after core/simd_width.h, with NVMAX: the most vectors
 * of one pass kept in registers). Each output element is
 * one fused multiply-add chain over the row's entries in stored order, then
 * a, c and the accumulation: the same bits on both widths.
 */

/* Columns [f0, f0 + VW NV) of row i, the last vector masked by `last`.
 * NV is a constant at every call site, so the accumulators live in
 * registers. */
static inline __attribute__((always_inline, target(KT))) void KN(row_chunk)(const spmm_args *p, int64_t i, int64_t f0,
                                                                           const int NV, VM last)
{
    const frost_csr *A = p->A;
    const int32_t *idx = A->indices;
    const int64_t ldx = p->ldx, nnz = A->indptr[A->n_rows];
    const float *X = p->X + f0;
    VF s[NVMAX];
    /* 64-byte lines of the pass's columns per entry */
    const int64_t lines = (VW * NV * 4 + 63) / 64;
    const int64_t pf = SPMM_PF_BYTES / (64 * lines) < 32 ? SPMM_PF_BYTES / (64 * lines) : 32;
    for (int v = 0; v < NV; v++) s[v] = V(zero)();
    const int64_t k0 = A->indptr[i], k1 = A->indptr[i + 1];
    if (k1 - k0 < SPMM_SHORT_ROW && i + 1 < A->n_rows) {
        const char *yn = (const char *)(p->Y + (i + 1) * p->ldy + f0);
        const char *xn = (const char *)(X + (i + 1) * ldx);
        for (int64_t l = 0; l < lines; l++) {
            _mm_prefetch(yn + 64 * l, _MM_HINT_ET0);
            if (p->c) _mm_prefetch(xn + 64 * l, _MM_HINT_T0);
        }
    }
    for (int64_t k = k0; k < k1; k++) {
        if (k + pf < nnz) {
            const char *q = (const char *)(X + (int64_t)idx[k + pf] * ldx);
            for (int64_t l = 0; l < lines; l++) _mm_prefetch(q + 64 * l, _MM_HINT_T0);
        }
        const int32_t j = idx[k];
        const VF w = V(set1)(p->b ? p->b[j] : 1.0f);
        const float *x = X + (int64_t)j * ldx;
        for (int v = 0; v < NV - 1; v++) s[v] = V(fma)(w, V(load)(x + VW * v), s[v]);
        s[NV - 1] = V(fma)(w, V(loadm)(last, x + VW * (NV - 1)), s[NV - 1]);
    }
    const VF ai = V(set1)(p->a ? p->a[i] : 1.0f);
    const VF ci = V(set1)(p->c ? p->c[i] : 0.0f);
    const VM all = V(lanes)(VW);
    const float *xi = X + i * ldx;
    float *y = p->Y + i * p->ldy + f0;
    for (int v = 0; v < NV; v++) {
        const VM m = v == NV - 1 ? last : all;
        VF out = V(mul)(ai, s[v]);
        if (p->c) out = V(fma)(ci, V(loadm)(m, xi + VW * v), out);
        if (p->acc) out = V(add)(V(loadm)(m, y + VW * v), out);
        V(storem)(m, y + VW * v, out);
    }
}

#define ROW_CASE(NV)                                                                                                   \
    case NV: KN(row_chunk)(p, i, f0, NV, last); break;

/* Row i in passes of p->pass columns (pass_width). */
static __attribute__((target(KT))) void KN(row)(const spmm_args *p, int64_t i)
{
    const int64_t pw = p->pass;
    for (int64_t f0 = 0; f0 < p->F; f0 += pw) {
        const int64_t w = p->F - f0 < pw ? p->F - f0 : pw;
        const int nv = (int)((w + VW - 1) / VW);
        const VM last = V(lanes)(w - VW * (nv - 1));
        switch (nv) {
            ROW_CASE(1)
            ROW_CASE(2)
            ROW_CASE(3)
            ROW_CASE(4)
            ROW_CASE(5)
            ROW_CASE(6)
            ROW_CASE(7)
#if NVMAX > 7
            ROW_CASE(8)
            ROW_CASE(9)
            ROW_CASE(10)
            ROW_CASE(11)
            ROW_CASE(12)
            ROW_CASE(13)
            ROW_CASE(14)
#endif
        default: FROST_ASSERT(!"an SpMM pass wider than the kernel's registers"); break;
        }
    }
}
#undef ROW_CASE

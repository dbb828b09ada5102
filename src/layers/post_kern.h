/*
 * post_kern.h - the vector passes of post.c, written once for both widths
 * (included after core/simd_width.h, once per width). They
 * perform the generic passes' float operations in the same order, VW lanes
 * at a time, so every path gives the same h, bits and gradients.
 */

/* forward_chunks where a chunk's 64 columns are contiguous. */
static __attribute__((target(KT))) void KN(forward_chunks)(float *out, const float *z, const float *a, const float *b,
                                                           int64_t n, int64_t H, int64_t c0, int64_t c1,
                                                           mask_src src, const uint64_t *bits_in, uint64_t *bits_out,
                                                           uint64_t seed, uint64_t stream, uint32_t thr, float scale,
                                                           const int64_t *ids)
{
    float m[64];
    const VF zero = V(zero)(), vs = V(set1)(scale);
    const VM all = V(lanes)(VW);
    frost__mask_cache mc = FROST__MASK_CACHE_INIT;
    for (int64_t c = c0; c < c1; c++) {
        const int64_t e0 = c * 64, cnt = n - e0 < 64 ? n - e0 : 64, col = e0 % H;
        /* a and b run on periodically past H (fold_norm), so a chunk that
         * crosses into the next row reads its columns from a + col too */
        if (cnt < 64 || (a && H < 64 && col + 64 > H)) {
            forward_chunks(out, z, a, b, n, H, c, c + 1, src, bits_in, bits_out, seed, stream, thr, scale, ids);
            continue;
        }
        if (src == MASK_PHILOX) frost__dropout_mask_ids(m, ids, n, H, c, seed, stream, thr, scale, &mc);
        const uint64_t kin = src == MASK_BITS ? bits_in[c] : 0;
        uint64_t kout = 0;
        for (int j = 0; j < 64 / VW; j++) {
            if ((VW * j) % 16 == 0) frost__prefetch_ahead(z + e0 + VW * j, PF_AHEAD);
            VF t = V(load)(z + e0 + VW * j);
            if (a) t = V(add)(V(mul)(t, V(load)(a + col + VW * j)), V(load)(b + col + VW * j));
            t = V(max)(t, zero); /* t > 0 ? t : 0, NaN to 0 */
            VF y;
            if (src == MASK_PHILOX) y = V(mul)(t, V(load)(m + VW * j));
            else if (src == MASK_BITS) y = V(maskz_mul)(V(bits)(kin >> (VW * j)), t, vs);
            else y = t;
            V(store)(out + e0 + VW * j, y);
            kout |= (uint64_t)V(mask_bits)(V(gt)(all, y, zero)) << (VW * j);
        }
        if (bits_out) bits_out[c] = kout;
    }
}

/* Pass mask of VW elements from q on, of the window of 64 starting at q0. */
static inline __attribute__((always_inline, target(KT))) VM KN(pass)(const frost_post *p, uint64_t win, const float *h,
                                                                    int64_t o, int64_t q, int64_t q0, VM lm)
{
    if (p->bits) return V(mask_and)(V(bits)(win >> (q - q0)), lm);
    return V(gt)(lm, V(loadm)(lm, h + o + q), V(zero)());
}

/* grad_sums_rows, VW columns at a time. Products of two floats are exact
 * in double, so the fused multiply-add sums equal the generic ones. */
static __attribute__((target(KT))) void KN(grad_sums_rows)(void *vctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1,
                                                           double *acc)
{
    const grad_ctx *x = vctx;
    const frost_post *p = x->p;
    const int64_t w = c1 - c0, H = x->H;
    const VF vs = V(set1)(x->scale);
    double *t1 = acc, *t2 = acc + FROST_SUM_COLS;
    float mu[FROST_SUM_COLS] __attribute__((aligned(64)));
    memset(mu, 0, sizeof mu);
    for (int64_t q = 0; q < w; q++) mu[q] = p->mean[c0 + q];
    for (int64_t i = i0; i < i1; i++) {
        const int64_t o = i * H + c0;
        for (int64_t q0 = 0; q0 < w; q0 += 64) {
            const uint64_t win = p->bits ? bits_at(p->bits, o + q0) : 0;
            for (int64_t q = q0; q < w && q < q0 + 64; q += VW) {
                if (q % 16 == 0) {
                    frost__prefetch_ahead(x->dh + o + q, PF_AHEAD);
                    frost__prefetch_ahead(x->z + o + q, PF_AHEAD);
                }
                const VM lm = V(lanes)(w - q), pm = KN(pass)(p, win, x->h, o, q, q0, lm);
                const VF d = V(maskz_mul)(pm, V(loadm)(lm, x->dh + o + q), vs);
                const VF zc = V(sub)(V(loadm)(lm, x->z + o + q), V(load)(mu + q));
                const VD dlo = V(cvt_lo)(d), dhi = V(cvt_hi)(d), zlo = V(cvt_lo)(zc), zhi = V(cvt_hi)(zc);
                /* whole-vector accumulators (lanes past w add zeros into the
                 * padding): a masked store would not forward to the next
                 * row's load of the same slot, and stall it */
                V(dstore)(t1 + q, V(dadd)(V(dload)(t1 + q), dlo));
                V(dstore)(t1 + q + VW / 2, V(dadd)(V(dload)(t1 + q + VW / 2), dhi));
                V(dstore)(t2 + q, V(dfma)(dlo, zlo, V(dload)(t2 + q)));
                V(dstore)(t2 + q + VW / 2, V(dfma)(dhi, zhi, V(dload)(t2 + q + VW / 2)));
            }
        }
    }
}

/* backward_rows, VW columns at a time, the same operations in order; dz
 * row-major, or with pn > 0 in the column panels of tensor_impl.h over pn
 * rows (a vector of VW columns lies in one panel). */
static __attribute__((target(KT))) void KN(backward_rows)(const frost_post *p, float *dz, const float *dh,
                                                          const float *h, const float *z, const float *al,
                                                          const float *be, const float *ga, int64_t H, int64_t i0,
                                                          int64_t i1, float scale, int64_t pn)
{
    const VF vs = V(set1)(scale);
    for (int64_t i = i0; i < i1; i++) {
        const int64_t o = i * H;
        for (int64_t q0 = 0; q0 < H; q0 += 64) {
            const uint64_t win = p->bits ? bits_at(p->bits, o + q0) : 0;
            for (int64_t q = q0; q < H && q < q0 + 64; q += VW) {
                if (q % 16 == 0) {
                    frost__prefetch_ahead(dh + o + q, PF_AHEAD);
                    if (al) frost__prefetch_ahead(z + o + q, PF_AHEAD);
                }
                const VM lm = V(lanes)(H - q), pm = KN(pass)(p, win, h, o, q, q0, lm);
                const VF g = V(loadm)(lm, dh + o + q);
                VF r;
                if (al) {
                    const VF t = V(maskz_mul)(pm, V(loadm)(lm, al + q), g);
                    const VF u = V(mul)(V(loadm)(lm, be + q), V(loadm)(lm, z + o + q));
                    r = V(add)(V(add)(t, u), V(loadm)(lm, ga + q));
                } else {
                    r = V(maskz_mul)(pm, g, vs);
                }
                V(storem)(lm, pn ? frost__panel_at(dz, pn, H, i, q) : dz + o + q, r);
            }
        }
    }
}

/*
 * supermask.c - strong lottery tickets: freezing, the Edge-Popup threshold
 * and the straight-through gradient (method notes: specs/slt.md).
 *
 * Shape legend: n weights of one matrix, Ntot weights of all masked
 * matrices, k = floor(Ntot s) weights masked out.
 *
 * Keys (slt.md section 2): -inf for pruned, +inf for locked, |score| for
 * free weights. Exactly k keys fall below the threshold: the pruned ones
 * plus the k - P smallest free scores, found by an O(n) selection (no sort).
 * Ties at the threshold are broken by position, so the count is exact.
 *
 * Randomness: weights from stream (WEIGHT, matrix), scores from (SCORE,
 * matrix), the freeze pattern from (FREEZE, matrix): weight i of a matrix is
 * frozen by the rank of its key (u32 from the stream at index i, then i), so
 * every value is a function of (seed, matrix, index) alone.
 *
 * The model drives the supermask through slt_impl.h; nothing here knows
 * what a layer or a graph is.
 */
#include "slt/slt_impl.h"
#include "frost/rng.h"

#include <math.h>
#include <string.h>

/* floor(n * f) robust to the decimal spelling of f (0.3 * 10 is 3). */
static int64_t floor_frac(int64_t n, double f)
{
    double x = (double)n * f;
    double r = floor(x + 1e-9 * (x > 1 ? x : 1));
    if (r < 0) r = 0;
    if (r > (double)n) r = (double)n;
    return (int64_t)r;
}

/* Per-layer density (surviving share) for an overall density in (0, 1]
 * under a layer-wise distribution (slt.md section 3): EPL's survivors are
 * whole numbers (floored, as the reference's per-layer counts), ERK's and
 * uniform's densities are not rounded. */
static void layer_densities(double *dens, const int64_t *sizes, const int64_t *rows, const int64_t *cols, int32_t n,
                            double density, frost_freeze_dist dist)
{
    int64_t total_n = 0;
    for (int32_t l = 0; l < n; l++) total_n += sizes[l];
    if (density >= 1.0 || density <= 0.0) {
        for (int32_t l = 0; l < n; l++) dens[l] = density >= 1.0 ? 1.0 : 0.0;
        return;
    }
    const double total = (double)total_n * density;
    bool capped[256] = {false};
    FROST_ASSERT(n <= 256);
    if (dist == FROST_DIST_UNIFORM) {
        for (int32_t l = 0; l < n; l++) dens[l] = density;
        return;
    }
    if (dist == FROST_DIST_EPL) {
        /* equal survivors per layer; full layers are capped and the rest shared again */
        double share = 0;
        for (;;) {
            double rem = total;
            int32_t cnt = 0;
            for (int32_t l = 0; l < n; l++) {
                if (capped[l]) rem -= (double)sizes[l];
                else cnt++;
            }
            if (cnt == 0) break;
            share = rem / cnt;
            bool changed = false;
            for (int32_t l = 0; l < n; l++)
                if (!capped[l] && (double)sizes[l] <= share) capped[l] = changed = true;
            if (!changed) break;
        }
        for (int32_t l = 0; l < n; l++) {
            int64_t s = (int64_t)floor(share + 1e-9);
            dens[l] = capped[l] || s >= sizes[l] ? 1.0 : (double)s / (double)sizes[l];
        }
        return;
    }
    /* ERK: density_l = eps (rows + cols) / (rows cols), capped at 1 */
    double eps = 0;
    for (;;) {
        double rem = total, denom = 0;
        for (int32_t l = 0; l < n; l++) {
            if (capped[l]) rem -= (double)sizes[l];
            else denom += (double)(rows[l] + cols[l]);
        }
        if (denom <= 0) break;
        eps = rem / denom;
        bool changed = false;
        for (int32_t l = 0; l < n; l++)
            if (!capped[l] && eps * (double)(rows[l] + cols[l]) >= (double)sizes[l]) capped[l] = changed = true;
        if (!changed) break;
    }
    for (int32_t l = 0; l < n; l++)
        dens[l] = capped[l] ? 1.0 : eps * (double)(rows[l] + cols[l]) / (double)sizes[l];
}

void frost_slt_layer_survivors(int64_t *keep, const int64_t *sizes, const int64_t *rows, const int64_t *cols,
                               int32_t n, double density, frost_freeze_dist dist)
{
    double dens[256];
    FROST_ASSERT(n <= 256);
    layer_densities(dens, sizes, rows, cols, n, density, dist);
    for (int32_t l = 0; l < n; l++) keep[l] = dens[l] >= 1.0 ? sizes[l] : floor_frac(sizes[l], dens[l]);
}

/* ---- selection ------------------------------------------------------------- */

#define SWAP(T, a, b)  \
    do {               \
        T t__ = (a);   \
        (a) = (b);     \
        (b) = t__;     \
    } while (0)

int64_t frost_slt_select(float *a, int64_t n, int64_t k)
{
    /* Hoare-partition quickselect with a median-of-three pivot. */
    int64_t lo = 0, hi = n - 1;
    FROST_ASSERT(k >= 0 && k < n);
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) SWAP(float, a[mid], a[lo]);
        if (a[hi] < a[lo]) SWAP(float, a[hi], a[lo]);
        if (a[hi] < a[mid]) SWAP(float, a[hi], a[mid]);
        float pivot = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                SWAP(float, a[i], a[j]);
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return k;
    }
    return k;
}

static void select_u64(uint64_t *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) SWAP(uint64_t, a[mid], a[lo]);
        if (a[hi] < a[lo]) SWAP(uint64_t, a[hi], a[lo]);
        if (a[hi] < a[mid]) SWAP(uint64_t, a[hi], a[mid]);
        uint64_t pivot = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                SWAP(uint64_t, a[i], a[j]);
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return;
    }
}

/* ---- freezing ----------------------------------------------------------------- */

static inline uint64_t freeze_key(uint64_t seed, int32_t mat, int64_t i)
{
    return ((uint64_t)frost_rng_u32(seed, frost_rng_stream(FROST_RNG_FREEZE, (uint64_t)mat), (uint64_t)i) << 32) |
           (uint64_t)(uint32_t)i;
}

/* The n_pruned smallest keys are pruned, the next n_locked locked. */
static frost_status freeze_matrix(frost__smat *w, uint64_t seed, int64_t n_pruned, int64_t n_locked)
{
    w->n_pruned = n_pruned;
    w->n_locked = n_locked;
    memset(w->code, 0, (size_t)w->n);
    if (n_pruned + n_locked == 0) return FROST_OK;
    uint64_t *keys = malloc((size_t)w->n * sizeof *keys);
    if (!keys) return frost__error(FROST_ERR_NOMEM, "out of memory freezing a %lld-weight matrix", (long long)w->n);
    for (int64_t i = 0; i < w->n; i++) keys[i] = freeze_key(seed, w->index, i);
    uint64_t t_prune = 0, t_lock = 0; /* keys below t are in the set */
    if (n_pruned > 0) {
        if (n_pruned < w->n) {
            select_u64(keys, w->n, n_pruned);
            t_prune = keys[n_pruned];
        } else {
            t_prune = UINT64_MAX;
        }
    }
    if (n_locked > 0) {
        int64_t r = n_pruned + n_locked;
        if (r < w->n) {
            select_u64(keys, w->n, r);
            t_lock = keys[r];
        } else {
            t_lock = UINT64_MAX;
        }
    }
    free(keys);
    for (int64_t i = 0; i < w->n; i++) {
        uint64_t k = freeze_key(seed, w->index, i);
        if (n_pruned > 0 && (k < t_prune || t_prune == UINT64_MAX)) w->code[i] = -1;
        else if (n_locked > 0 && (k < t_lock || t_lock == UINT64_MAX)) w->code[i] = 1;
    }
    return FROST_OK;
}

frost_status frost__supermask_new(frost__supermask **out, const frost_supermask_spec *spec, int32_t n,
                                  const int64_t *rows, const int64_t *cols)
{
    frost_status st = FROST_OK;
    frost__supermask *sm = NULL;
    *out = NULL;
    if (n > 256) return frost__error(FROST_ERR_CONFIG, "at most 256 masked matrices, the model has %d", n);
    FROST_CALLOC(sm, 1);
    sm->spec = *spec;
    sm->n = n;
    FROST_CALLOC(sm->mats, n > 0 ? n : 1);
    for (int32_t k = 0; k < n; k++) {
        frost__smat *w = &sm->mats[k];
        w->rows = rows[k], w->cols = cols[k], w->n = rows[k] * cols[k];
        w->index = k;
        w->scale = 1.0f;
    }
    *out = sm;
    return FROST_OK;
fail:
    frost__supermask_free(&sm);
    return st;
}

void frost__supermask_free(frost__supermask **psm)
{
    if (!psm || !*psm) return;
    free((*psm)->mats);
    free(*psm);
    *psm = NULL;
}

void frost__supermask_layout(frost__supermask *sm, frost__slab *P, frost__slab *G, frost__slab *X, frost__slab *A,
                             frost__slab *B)
{
    int64_t total = 0;
    for (int32_t k = 0; k < sm->n; k++) {
        frost__smat *w = &sm->mats[k];
        total += w->n;
        /* trainable: scores; fixed: base weights, codes; effective weights with the activations */
        w->score = FROST__TAKE(P, w->n, float);
        w->dscore = FROST__TAKE(G, w->n, float);
        w->base = FROST__TAKE(X, w->n, float);
        w->code = FROST__TAKE(X, w->n, int8_t);
        w->keep = FROST__TAKE(A, w->n, uint8_t);
        w->w = FROST__TAKE(A, w->n, float);
        w->dw = FROST__TAKE(B, w->n, float);
    }
    sm->keys = FROST__TAKE(A, total, float);
}

frost_status frost__supermask_init(frost__supermask *sm, uint64_t seed)
{
    const frost_supermask_spec *k = &sm->spec;
    const int32_t nm = sm->n;
    int64_t sizes[256] = {0}, rows[256] = {0}, cols[256] = {0};
    double densP[256], densF[256];
    FROST_ASSERT(nm <= 256);
    for (int32_t j = 0; j < nm; j++) {
        frost__smat *w = &sm->mats[j];
        sizes[j] = w->n, rows[j] = w->rows, cols[j] = w->cols;
        frost__init_values(w->base, w->rows, w->cols, k->weight_init, seed,
                           frost_rng_stream(FROST_RNG_WEIGHT, (uint64_t)j));
        frost__init_values(w->score, w->rows, w->cols, k->score_init, seed,
                           frost_rng_stream(FROST_RNG_SCORE, (uint64_t)j));
    }
    /* per-layer pruned and locked counts (slt.md section 3): P_l is the layer's
     * sparsity at density 1 - p, F_l the one at 1 - (p + r); n_p = floor(n P_l),
     * n_r = floor(n (F_l - P_l)) */
    layer_densities(densP, sizes, rows, cols, nm, 1.0 - k->prune_ratio, k->distribution);
    layer_densities(densF, sizes, rows, cols, nm, 1.0 - (k->prune_ratio + k->lock_ratio), k->distribution);
    for (int32_t j = 0; j < nm; j++) {
        int64_t n_pruned = floor_frac(sizes[j], 1.0 - densP[j]);
        int64_t n_locked = densP[j] > densF[j] ? floor_frac(sizes[j], densP[j] - densF[j]) : 0;
        if (n_locked > sizes[j] - n_pruned) n_locked = sizes[j] - n_pruned;
        frost_status st = freeze_matrix(&sm->mats[j], seed, n_pruned, n_locked);
        if (st < 0) return st;
    }
    frost__supermask_update(sm);
    return FROST_OK;
}

/* ---- the mask ------------------------------------------------------------------ */

/* Mask k weights of the matrices [j0, j1): pruned first, then the smallest
 * free scores; returns the threshold (the largest masked free key). */
static double mask_range(frost__supermask *m, int32_t j0, int32_t j1, int64_t k)
{
    int64_t n_pruned = 0, n_free = 0;
    for (int32_t j = j0; j < j1; j++) {
        const frost__smat *w = &m->mats[j];
        for (int64_t i = 0; i < w->n; i++) {
            if (w->code[i] == 0) m->keys[n_free++] = fabsf(w->score[i]);
            else n_pruned += w->code[i] < 0;
        }
    }
    int64_t kf = k - n_pruned; /* free weights to mask */
    double thr = -INFINITY;
    float v = -INFINITY;
    int64_t eq_budget = 0;
    bool mask_all_free = kf >= n_free;
    if (kf > 0 && !mask_all_free) {
        int64_t less = 0;
        if (m->select) {
            /* distributed training: the processes share the selection (same result) */
            m->select(m->select_ctx, m->keys, n_free, kf - 1, &v, &less);
        } else {
            int64_t r = frost_slt_select(m->keys, n_free, kf - 1);
            v = m->keys[r];
            for (int64_t q = 0; q < n_free; q++) less += m->keys[q] < v;
        }
        eq_budget = kf - less;
        thr = (double)v;
    } else if (mask_all_free) {
        thr = INFINITY;
    }
    /* one pass in (matrix, index) order: ties at v go to the earliest weights */
    for (int32_t j = j0; j < j1; j++) {
        frost__smat *w = &m->mats[j];
        int64_t kept = 0;
        for (int64_t i = 0; i < w->n; i++) {
            bool keep;
            if (w->code[i] < 0) keep = false;
            else if (w->code[i] > 0) keep = true;
            else if (kf <= 0) keep = true;
            else if (mask_all_free) keep = false;
            else {
                float a = fabsf(w->score[i]);
                if (a < v) keep = false;
                else if (a == v && eq_budget > 0) {
                    keep = false;
                    eq_budget--;
                } else keep = true;
            }
            w->keep[i] = keep;
            kept += keep;
        }
        w->n_kept = kept;
    }
    return thr;
}

/* Effective weights base * keep * scale, with the scale the spec asks for. */
static void apply_effective(frost__supermask *m)
{
    const frost_supermask_spec *k = &m->spec;
    for (int32_t j = 0; j < m->n; j++) {
        frost__smat *w = &m->mats[j];
        float scale = 1.0f;
        if (k->scale == FROST_SCALE_STATIC && k->sparsity < 1) scale = (float)(1.0 / sqrt(1.0 - k->sparsity));
        else if (k->scale == FROST_SCALE_DYNAMIC && w->n_kept > 0) scale = (float)sqrt((double)w->n / (double)w->n_kept);
        w->scale = scale;
        const int64_t n = w->n;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (int64_t i = 0; i < n; i++) w->w[i] = w->keep[i] ? w->base[i] * scale : 0.0f;
    }
}

void frost__supermask_update(frost__supermask *m)
{
    const frost_supermask_spec *k = &m->spec;
    if (k->scope == FROST_THRESHOLD_GLOBAL) {
        int64_t total = 0;
        for (int32_t j = 0; j < m->n; j++) total += m->mats[j].n;
        m->threshold = mask_range(m, 0, m->n, floor_frac(total, k->sparsity));
    } else {
        for (int32_t j = 0; j < m->n; j++) m->threshold = mask_range(m, j, j + 1, floor_frac(m->mats[j].n, k->sparsity));
    }
    apply_effective(m);
}

void frost_slt_score_grad(float *dscore, const float *score, const float *dw, const float *base, float scale,
                          int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        float sg = score[i] > 0.0f ? 1.0f : (score[i] < 0.0f ? -1.0f : 0.0f);
        dscore[i] += sg * dw[i] * base[i] * scale;
    }
}

void frost__supermask_backward(frost__supermask *m)
{
    for (int32_t j = 0; j < m->n; j++) {
        frost__smat *w = &m->mats[j];
        frost_slt_score_grad(w->dscore, w->score, w->dw, w->base, w->scale, w->n);
    }
}

/* ---- inspection and tickets ----------------------------------------------------------- */

frost_status frost__supermask_matrix(const frost__supermask *m, int32_t k, frost_slt_matrix_info *info)
{
    if (k < 0 || k >= m->n) return frost__error(FROST_ERR_INVALID, "no masked matrix %d in this model", k);
    const frost__smat *w = &m->mats[k];
    info->rows = w->rows;
    info->cols = w->cols;
    info->n = w->n;
    info->pruned = w->n_pruned;
    info->locked = w->n_locked;
    info->free_ = w->n - w->n_pruned - w->n_locked;
    info->kept = w->n_kept;
    info->code = w->code;
    info->score = w->score;
    info->base = w->base;
    info->effective = w->w;
    info->scale = w->scale;
    return FROST_OK;
}

void frost__supermask_set_base(frost__supermask *m, const float *const *src)
{
    for (int32_t j = 0; j < m->n; j++) {
        frost__smat *w = &m->mats[j];
        const float *v = src[j];
        for (int64_t i = 0; i < w->n; i++) {
            w->base[i] = v[i];
            w->score[i] = fabsf(v[i]);
        }
    }
    frost__supermask_update(m);
}

int64_t frost__supermask_num_free(const frost__supermask *m)
{
    int64_t n = 0;
    for (int32_t j = 0; j < m->n; j++) n += m->mats[j].n - m->mats[j].n_pruned - m->mats[j].n_locked;
    return n;
}

int64_t frost__supermask_get_bits(const frost__supermask *m, uint8_t *bits, int64_t cap_bytes)
{
    int64_t b = 0;
    const int64_t nfree = frost__supermask_num_free(m);
    if ((nfree + 7) / 8 > cap_bytes) return -1;
    memset(bits, 0, (size_t)((nfree + 7) / 8));
    for (int32_t j = 0; j < m->n; j++) {
        const frost__smat *w = &m->mats[j];
        for (int64_t i = 0; i < w->n; i++) {
            if (w->code[i] != 0) continue;
            if (w->keep[i]) bits[b >> 3] |= (uint8_t)(1u << (b & 7));
            b++;
        }
    }
    return b;
}

frost_status frost__supermask_set_bits(frost__supermask *m, const uint8_t *bits, int64_t nbits)
{
    if (nbits != frost__supermask_num_free(m))
        return frost__error(FROST_ERR_SHAPE, "mask has %lld bits, the model has %lld free weights", (long long)nbits,
                            (long long)frost__supermask_num_free(m));
    int64_t b = 0;
    for (int32_t j = 0; j < m->n; j++) {
        frost__smat *w = &m->mats[j];
        int64_t kept = 0;
        for (int64_t i = 0; i < w->n; i++) {
            bool keep;
            if (w->code[i] != 0) {
                keep = w->code[i] > 0;
            } else {
                keep = (bits[b >> 3] >> (b & 7)) & 1u;
                w->score[i] = keep ? 1.0f : 0.0f;
                b++;
            }
            w->keep[i] = keep;
            kept += keep;
        }
        w->n_kept = kept;
    }
    apply_effective(m);
    return FROST_OK;
}

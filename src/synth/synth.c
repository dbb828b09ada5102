/*
 * synth.c - synthetic node-classification graphs written straight to a
 * dataset file: a contextual stochastic block model (CSBM) with
 * heavy-tailed degrees.
 *
 * Model (all randomness from the counter-based generator, so the same seed
 * gives the same file for any thread count):
 *   y_i       ~ uniform over C classes
 *   theta_i   ~ Pareto with tail exponent gamma (expected-degree weight,
 *               capped at sqrt(2E)); gamma = 0 gives equal weights
 *   edge e    : source u ~ theta; with probability h the target is drawn
 *               ~ theta within class y_u, otherwise ~ theta among the other
 *               classes; self-loops and repeated pairs are redrawn, so the
 *               graph has exactly E distinct undirected edges
 *   x_i       = mu_{y_i} + eps_i, eps ~ N(0, I_F), mu_c = s * g_c / |g_c|,
 *               g_c ~ N(0, I_F): s (feature_signal) is the distance of a class
 *               mean from the origin in units of the per-dimension noise
 *   split     : a uniformly random permutation cut into train/valid/test
 */
#include "frost/synth.h"
#include "dataset/dataset_impl.h"
#include "frost/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EDGE_BLOCK 65536 /* edges per RNG stream: thread-count independent */

frost_synth_opts frost_synth_opts_default(void)
{
    frost_synth_opts o;
    memset(&o, 0, sizeof o);
    o.name = "synth";
    o.num_nodes = 10000;
    o.num_edges = 50000;
    o.num_features = 64;
    o.num_classes = 8;
    o.homophily = 0.7;
    o.mixing = 0.1;
    o.feature_signal = 1.0;
    o.degree_exponent = 2.5;
    o.train_fraction = 0.6;
    o.valid_fraction = 0.2;
    o.symmetrize = true;
    o.seed = 0;
    o.compression = 1;
    return o;
}

/* Walker alias table over weights w[0..n): O(n) build, O(1) draw. */
typedef struct alias_table {
    int64_t n;
    float *prob;
    int32_t *alias;
} alias_table;

static frost_status alias_build(alias_table *t, const double *w, int64_t n)
{
    frost_status st = FROST_OK;
    int32_t *small = NULL, *large = NULL;
    double *scaled = NULL;
    t->n = n;
    t->prob = NULL;
    t->alias = NULL;
    FROST_ALLOC(t->prob, n);
    FROST_ALLOC(t->alias, n);
    FROST_ALLOC(small, n);
    FROST_ALLOC(large, n);
    FROST_ALLOC(scaled, n);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += w[i];
    int64_t ns = 0, nl = 0;
    for (int64_t i = 0; i < n; i++) {
        scaled[i] = w[i] * (double)n / sum;
        if (scaled[i] < 1.0) small[ns++] = (int32_t)i;
        else large[nl++] = (int32_t)i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[--nl];
        t->prob[s] = (float)scaled[s];
        t->alias[s] = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) small[ns++] = l;
        else large[nl++] = l;
    }
    while (nl) {
        int32_t l = large[--nl];
        t->prob[l] = 1.0f;
        t->alias[l] = l;
    }
    while (ns) {
        int32_t s = small[--ns];
        t->prob[s] = 1.0f;
        t->alias[s] = s;
    }
    free(small);
    free(large);
    free(scaled);
    return FROST_OK;
fail:
    free(small);
    free(large);
    free(scaled);
    free(t->prob);
    free(t->alias);
    return st;
}

static void alias_release(alias_table *t)
{
    free(t->prob);
    free(t->alias);
}

static inline int64_t alias_draw(const alias_table *t, int64_t off, int64_t len, frost_rng *r)
{
    /* one 32-bit word picks the slot, one the coin */
    int64_t k = (int64_t)(((uint64_t)frost_rng_next_u32(r) * (uint64_t)len) >> 32);
    float u = (float)(frost_rng_next_u32(r) >> 8) * (1.0f / 16777216.0f);
    int64_t j = off + k;
    return u < t->prob[j] ? j : off + t->alias[j];
}

/* Nodes grouped by a key (class, community, or both), with an alias table
 * per group over the nodes' degree weights. */
typedef struct segments {
    int32_t *ids;         /* (n) node ids grouped by key */
    int64_t *off;         /* (keys + 1) */
    alias_table within;   /* over ids, one segment per key, aliases relative */
} segments;

static frost_status segments_build(segments *t, const int32_t *key, int64_t keys, const double *theta, int64_t n)
{
    frost_status st = FROST_OK;
    double *w = NULL;
    int64_t *fill = NULL;
    FROST_CALLOC(t->off, keys + 1);
    for (int64_t i = 0; i < n; i++) t->off[key[i] + 1]++;
    for (int64_t c = 0; c < keys; c++) t->off[c + 1] += t->off[c];
    FROST_ALLOC(t->ids, n);
    FROST_ALLOC(w, n);
    FROST_ALLOC(fill, keys);
    memcpy(fill, t->off, (size_t)keys * sizeof *fill);
    for (int64_t i = 0; i < n; i++) {
        const int64_t p = fill[key[i]]++;
        t->ids[p] = (int32_t)i;
        w[p] = theta[i];
    }
    FROST_ALLOC(t->within.prob, n);
    FROST_ALLOC(t->within.alias, n);
    t->within.n = n;
    for (int64_t c = 0; c < keys; c++) {
        alias_table seg;
        const int64_t off = t->off[c], len = t->off[c + 1] - off;
        if (len == 0) continue;
        FROST_TRY(alias_build(&seg, w + off, len));
        memcpy(t->within.prob + off, seg.prob, (size_t)len * sizeof(float));
        memcpy(t->within.alias + off, seg.alias, (size_t)len * sizeof(int32_t));
        alias_release(&seg);
    }
fail:
    free(w);
    free(fill);
    return st;
}

static void segments_release(segments *t)
{
    free(t->ids);
    free(t->off);
    alias_release(&t->within);
    memset(t, 0, sizeof *t);
}

/* A node of group g by degree weight. */
static inline int64_t segments_draw(const segments *t, int64_t g, frost_rng *r)
{
    const int64_t off = t->off[g];
    return t->ids[alias_draw(&t->within, off, t->off[g + 1] - off, r)];
}

typedef struct synth_state {
    int64_t n;
    int32_t C;
    double h;
    int32_t *y;           /* (n) class */
    int32_t *by_class;    /* (n) node ids grouped by class */
    int64_t *class_off;   /* (C + 1) */
    alias_table all;      /* over all nodes, weight theta */
    alias_table within;   /* over by_class, one segment per class */
    /* planted communities (K > 0): block of every node, the nodes by block
     * and by (block, class), and the fraction of edges between blocks */
    int32_t K;
    double mu;
    int32_t *comm;
    segments by_comm, by_group;
} synth_state;

/* v for an edge from u with planted communities: inside u's block with
 * probability 1 - mu, inside u's class with probability h, independently;
 * the "other" choices by rejection (-1: give up, draw u again). */
static int64_t draw_planted(const synth_state *s, int64_t u, frost_rng *r)
{
    const int32_t cu = s->y[u], bu = s->comm[u];
    const bool inside = (double)frost_rng_next_u32(r) * (1.0 / 4294967296.0) >= s->mu;
    const bool same = s->C == 1 || (double)frost_rng_next_u32(r) * (1.0 / 4294967296.0) < s->h;
    for (int tries = 0; tries < 64; tries++) {
        int64_t v;
        if (inside && same) v = segments_draw(&s->by_group, (int64_t)bu * s->C + cu, r);
        else if (inside) v = segments_draw(&s->by_comm, bu, r);
        else if (same) v = s->by_class[alias_draw(&s->within, s->class_off[cu], s->class_off[cu + 1] - s->class_off[cu], r)];
        else v = alias_draw(&s->all, 0, s->n, r);
        if ((s->y[v] == cu) == same && (s->comm[v] == bu) == inside) return v;
    }
    return -1;
}

/* Draw edges [first, first + count) of round `round` into (u, v) with u < v. */
static void draw_edges(const synth_state *s, uint64_t seed, int64_t round, int64_t count,
                       int32_t *u_out, int32_t *v_out)
{
    int64_t nblocks = (count + EDGE_BLOCK - 1) / EDGE_BLOCK;
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t b = 0; b < nblocks; b++) {
        frost_rng r;
        frost_rng_init(&r, seed, frost_rng_stream(FROST_RNG_SYNTH, ((uint64_t)(round + 16) << 32) | (uint64_t)b));
        int64_t lo = b * EDGE_BLOCK, hi = lo + EDGE_BLOCK < count ? lo + EDGE_BLOCK : count;
        for (int64_t e = lo; e < hi; e++) {
            int64_t u, v;
            for (;;) {
                u = alias_draw(&s->all, 0, s->n, &r);
                if (s->K > 0) {
                    v = draw_planted(s, u, &r);
                    if (v >= 0 && u != v) break;
                    continue;
                }
                int32_t cu = s->y[u];
                double coin = (double)frost_rng_next_u32(&r) * (1.0 / 4294967296.0);
                if (coin < s->h || s->C == 1) {
                    int64_t off = s->class_off[cu], len = s->class_off[cu + 1] - off;
                    v = s->by_class[alias_draw(&s->within, off, len, &r)];
                } else {
                    int tries = 0;
                    do v = alias_draw(&s->all, 0, s->n, &r);
                    while (s->y[v] == cu && ++tries < 64);
                    if (s->y[v] == cu) continue; /* class holds nearly all weight: redraw u */
                }
                if (u != v) break;
            }
            if (u > v) { int64_t t = u; u = v; v = t; }
            u_out[e] = (int32_t)u;
            v_out[e] = (int32_t)v;
        }
    }
}

/* Four standard normals from one Philox block (Box-Muller on two pairs). */
static inline void normal4(uint64_t seed, uint64_t stream, uint64_t idx, float out[4])
{
    uint32_t b[4];
    frost_rng_block(seed, stream, idx, b);
    for (int p = 0; p < 2; p++) {
        double u1 = ((double)b[2 * p] + 1.0) * (1.0 / 4294967296.0); /* (0, 1] */
        double u2 = (double)b[2 * p + 1] * (1.0 / 4294967296.0);
        double r = sqrt(-2.0 * log(u1));
        out[2 * p] = (float)(r * cos(6.283185307179586 * u2));
        out[2 * p + 1] = (float)(r * sin(6.283185307179586 * u2));
    }
}

static void progress(const frost_synth_opts *o, const char *stage, double f)
{
    if (o->progress) o->progress(stage, f, o->progress_user);
}

static inline uint64_t pair_key(int32_t u, int32_t v) { return ((uint64_t)(uint32_t)u << 32) | (uint32_t)v; }

/* Fill eu/ev[have .. E) with distinct pairs absent from g (g holds eu/ev[0 .. have)). */
static frost_status top_up(const synth_state *s, const frost_synth_opts *o, const frost_csr *g, int64_t E,
                           int64_t have, int32_t *eu, int32_t *ev)
{
    frost_status st = FROST_OK;
    const int64_t need = E - have;
    uint64_t *set = NULL;
    int32_t *cu = NULL, *cv = NULL;
    if (need == 0) return FROST_OK;
    uint64_t cap = 16;
    while (cap < 2 * (uint64_t)need) cap <<= 1;
    FROST_ALLOC(set, cap);
    memset(set, 0xff, cap * sizeof *set); /* UINT64_MAX = empty (never a valid key) */
    FROST_ALLOC(cu, need);
    FROST_ALLOC(cv, need);
    int64_t got = 0;
    for (int round = 1; got < need; round++) {
        if (round > 200)
            FROST_FAIL(FROST_ERR_RANGE, "could not draw %lld distinct edges (got %lld): the graph is too dense "
                       "for these degree weights", (long long)E, (long long)(have + got));
        int64_t want = need - got;
        draw_edges(s, o->seed, round, want, cu, cv);
        for (int64_t k = 0; k < want && got < need; k++) {
            if (frost_csr_find(g, cu[k], cv[k]) >= 0) continue;
            uint64_t key = pair_key(cu[k], cv[k]);
            uint64_t h = (key * UINT64_C(0x9E3779B97F4A7C15)) & (cap - 1);
            while (set[h] != UINT64_MAX && set[h] != key) h = (h + 1) & (cap - 1);
            if (set[h] == key) continue;
            set[h] = key;
            eu[have + got] = cu[k];
            ev[have + got] = cv[k];
            got++;
        }
        progress(o, "edges", (double)(have + got) / (double)E);
    }
fail:
    free(set);
    free(cu);
    free(cv);
    return st;
}

frost_status frost_synth(const char *out_path, const frost_synth_opts *opts)
{
    frost_status st = FROST_OK;
    frost_synth_opts o = opts ? *opts : frost_synth_opts_default();
    synth_state s;
    frost_dataset ds;
    frost__h5_out out;
    frost__h5_rows w;
    bool out_open = false;
    double *theta = NULL, *wclass = NULL, *mu = NULL;
    int32_t *gkey = NULL;
    int32_t *eu = NULL, *ev = NULL, *part = NULL;
    int64_t *perm = NULL;
    float *block = NULL;
    memset(&s, 0, sizeof s);
    memset(&ds, 0, sizeof ds);
    memset(&w, 0, sizeof w);
    w.dset = H5I_INVALID_HID;
    frost__h5_init();

    const int64_t n = o.num_nodes, E = o.num_edges, F = o.num_features;
    const int32_t C = o.num_classes;
    if (n < 2 || n > INT32_MAX)
        return frost__error(FROST_ERR_RANGE, "--nodes %lld, expected 2 .. %d", (long long)n, INT32_MAX);
    if (C < 1 || C > n)
        return frost__error(FROST_ERR_RANGE, "--classes %d, expected 1 .. %lld", C, (long long)n);
    if (E < 0 || (double)E > 0.25 * (double)n * (double)(n - 1))
        return frost__error(FROST_ERR_RANGE, "--edges %lld, expected 0 .. %.0f (a quarter of all pairs)",
                            (long long)E, 0.25 * (double)n * (double)(n - 1));
    if (F < 0 || F > (1 << 20))
        return frost__error(FROST_ERR_RANGE, "--features %lld, expected 0 .. %d", (long long)F, 1 << 20);
    if (!(o.homophily >= 0 && o.homophily <= 1))
        return frost__error(FROST_ERR_RANGE, "--homophily %g, expected 0 .. 1", o.homophily);
    if (C == 1 && o.homophily < 1) o.homophily = 1; /* one class: every edge is inside it */
    if (!(o.degree_exponent == 0 || o.degree_exponent > 2))
        return frost__error(FROST_ERR_RANGE, "--degree-exponent %g, expected 0 (uniform) or > 2",
                            o.degree_exponent);
    if (!(o.train_fraction > 0 && o.valid_fraction >= 0 && o.train_fraction + o.valid_fraction < 1))
        return frost__error(FROST_ERR_RANGE, "split fractions train %g valid %g: expected train > 0 and "
                            "train + valid < 1", o.train_fraction, o.valid_fraction);
    if (!(o.feature_signal >= 0 && isfinite(o.feature_signal)))
        return frost__error(FROST_ERR_RANGE, "--signal %g, expected >= 0", o.feature_signal);
    if (o.communities < 0 || (o.communities > 0 && (int64_t)o.communities * C > (int64_t)1 << 30))
        return frost__error(FROST_ERR_RANGE, "--communities %d, expected 0 (none) .. 2^30 / classes", o.communities);
    if (o.communities > 0 && !(o.mixing >= 0 && o.mixing <= 1))
        return frost__error(FROST_ERR_RANGE, "--mixing %g, expected 0 .. 1", o.mixing);
    if (o.compression < 0 || o.compression > 9)
        return frost__error(FROST_ERR_RANGE, "--compression %d, expected 0 .. 9", o.compression);

    s.n = n;
    s.C = C;
    s.h = o.homophily;

    /* classes and degree weights */
    frost_rng r;
    frost_rng_init(&r, o.seed, frost_rng_stream(FROST_RNG_SYNTH, 1));
    FROST_ALLOC(s.y, n);
    FROST_ALLOC(theta, n);
    const double cap = sqrt(2.0 * (double)(E > 0 ? E : 1));
    for (int64_t i = 0; i < n; i++) {
        s.y[i] = (int32_t)frost_rng_next_below(&r, (uint64_t)C);
        double u = frost_rng_next_double(&r);
        double t = o.degree_exponent > 0 ? pow(1.0 - u, -1.0 / (o.degree_exponent - 1.0)) : 1.0;
        theta[i] = t < cap ? t : cap;
    }
    FROST_CALLOC(s.class_off, C + 1);
    for (int64_t i = 0; i < n; i++) s.class_off[s.y[i] + 1]++;
    for (int32_t c = 0; c < C; c++) {
        if (s.class_off[c + 1] == 0)
            FROST_FAIL(FROST_ERR_RANGE, "class %d drew no nodes: use fewer classes or more nodes", c);
        s.class_off[c + 1] += s.class_off[c];
    }
    FROST_ALLOC(s.by_class, n);
    FROST_ALLOC(wclass, n);
    {
        int64_t *fill = NULL;
        FROST_ALLOC(fill, C);
        memcpy(fill, s.class_off, (size_t)C * sizeof *fill);
        for (int64_t i = 0; i < n; i++) {
            int64_t p = fill[s.y[i]]++;
            s.by_class[p] = (int32_t)i;
            wclass[p] = theta[i];
        }
        free(fill);
    }
    FROST_TRY(alias_build(&s.all, theta, n));
    /* per-class tables: build each segment separately, aliases relative */
    FROST_ALLOC(s.within.prob, n);
    FROST_ALLOC(s.within.alias, n);
    s.within.n = n;
    for (int32_t c = 0; c < C; c++) {
        alias_table seg;
        int64_t off = s.class_off[c], len = s.class_off[c + 1] - off;
        FROST_TRY(alias_build(&seg, wclass + off, len));
        memcpy(s.within.prob + off, seg.prob, (size_t)len * sizeof(float));
        memcpy(s.within.alias + off, seg.alias, (size_t)len * sizeof(int32_t));
        alias_release(&seg);
    }
    if (o.communities > 0) {
        /* blocks drawn from their own stream: the classes and degrees above
         * are those of the same seed without communities */
        s.K = o.communities, s.mu = o.mixing;
        FROST_ALLOC(s.comm, n);
        FROST_ALLOC(gkey, n);
        frost_rng rb;
        frost_rng_init(&rb, o.seed, frost_rng_stream(FROST_RNG_SYNTH, 2));
        for (int64_t i = 0; i < n; i++) {
            s.comm[i] = (int32_t)frost_rng_next_below(&rb, (uint64_t)s.K);
            gkey[i] = s.comm[i] * C + s.y[i];
        }
        FROST_TRY(segments_build(&s.by_comm, s.comm, s.K, theta, n));
        FROST_TRY(segments_build(&s.by_group, gkey, (int64_t)s.K * C, theta, n));
        free(gkey);
        gkey = NULL;
    }
    free(theta);
    theta = NULL;
    free(wclass);
    wclass = NULL;
    progress(&o, "weights", 1.0);

    /* edges: draw E pairs, deduplicate with one counting-sort build, then top
     * up: candidates already in the graph or already drawn are rejected
     * (binary search in the sorted rows; a hash set for the new ones) until
     * exactly E distinct pairs exist. */
    FROST_ALLOC(eu, E);
    FROST_ALLOC(ev, E);
    draw_edges(&s, o.seed, 0, E, eu, ev);
    {
        frost_csr g;
        frost_csr_build_opts bo = frost_csr_build_opts_default();
        FROST_TRY(frost_csr_from_edges(&g, n, E, eu, ev, &bo, NULL));
        int64_t have = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = g.indptr[i]; k < g.indptr[i + 1]; k++) {
                eu[have] = (int32_t)i;
                ev[have] = g.indices[k];
                have++;
            }
        progress(&o, "edges", (double)have / (double)(E ? E : 1));
        st = top_up(&s, &o, &g, E, have, eu, ev);
        frost_csr_release(&g);
        if (st < 0) goto fail;
    }

    /* the dataset */
    frost__strlcpy(ds.name, o.name ? o.name : "synth", sizeof ds.name);
    snprintf(ds.source, sizeof ds.source,
             "frost synth: csbm nodes=%lld edges=%lld features=%lld classes=%d homophily=%g signal=%g "
             "degree_exponent=%g train=%g valid=%g symmetrize=%d seed=%llu",
             (long long)n, (long long)E, (long long)F, C, o.homophily, o.feature_signal, o.degree_exponent,
             o.train_fraction, o.valid_fraction, o.symmetrize, (unsigned long long)o.seed);
    if (o.communities > 0) {
        const size_t L = strlen(ds.source);
        snprintf(ds.source + L, sizeof ds.source - L, " communities=%d mixing=%g", o.communities, o.mixing);
    }
    ds.num_nodes = n;
    ds.num_features = F;
    ds.num_classes = C;
    ds.num_tasks = 1;
    ds.task_type = FROST_TASK_MULTICLASS;
    ds.metric = FROST_METRIC_ACCURACY;
    ds.edge_list_edges = E;
    ds.deduplicated = true;
    ds.inverse_edges_added = o.symmetrize;
    ds.self_loops = FROST_SELF_LOOPS_KEEP;
    {
        frost_csr_build_opts bo = frost_csr_build_opts_default();
        bo.symmetrize = o.symmetrize;
        FROST_TRY(frost_csr_from_edges(&ds.graph, n, E, eu, ev, &bo, NULL));
    }
    free(eu);
    eu = NULL;
    free(ev);
    ev = NULL;
    ds.symmetric = o.symmetrize || E == 0;
    ds.label = s.y;
    s.y = NULL;

    /* split: random permutation, parts listed in increasing node id */
    FROST_ALLOC(perm, n);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    frost_rng_init(&r, o.seed, frost_rng_stream(FROST_RNG_SPLIT, 0));
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)frost_rng_next_below(&r, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    FROST_ALLOC(part, n);
    int64_t ntr = (int64_t)floor(o.train_fraction * (double)n);
    int64_t nva = (int64_t)floor(o.valid_fraction * (double)n);
    if (ntr < 1) ntr = 1;
    for (int64_t k = 0; k < n; k++) part[perm[k]] = k < ntr ? 0 : (k < ntr + nva ? 1 : 2);
    FROST_CALLOC(ds.splits, 1);
    ds.num_splits = 1;
    frost_split *sp = &ds.splits[0];
    frost__strlcpy(sp->name, "random", sizeof sp->name);
    sp->n_train = ntr;
    sp->n_valid = nva;
    sp->n_test = n - ntr - nva;
    FROST_ALLOC(sp->train, sp->n_train);
    FROST_ALLOC(sp->valid, sp->n_valid);
    FROST_ALLOC(sp->test, sp->n_test);
    {
        int64_t a = 0, b = 0, c = 0;
        for (int64_t i = 0; i < n; i++) {
            if (part[i] == 0) sp->train[a++] = i;
            else if (part[i] == 1) sp->valid[b++] = i;
            else sp->test[c++] = i;
        }
    }
    free(perm);
    perm = NULL;
    free(part);
    part = NULL;

    FROST_TRY(frost__h5_out_create(&out, out_path));
    out_open = true;
    FROST_TRY(frost__dataset_write_meta(out.file, &ds, o.compression, out_path));
    frost_csr_release(&ds.graph); /* written; free before the features */

    if (F > 0) {
        /* class means */
        FROST_ALLOC(mu, (int64_t)C * F);
        for (int32_t c = 0; c < C; c++) {
            double nrm = 0;
            for (int64_t k = 0; k < F; k++) {
                double g = (double)frost_rng_normal(o.seed, frost_rng_stream(FROST_RNG_SYNTH, 2),
                                                    (uint64_t)c * (uint64_t)F + (uint64_t)k);
                mu[c * F + k] = g;
                nrm += g * g;
            }
            double sc = nrm > 0 ? o.feature_signal / sqrt(nrm) : 0;
            for (int64_t k = 0; k < F; k++) mu[c * F + k] *= sc;
        }
        const int64_t brows = frost__h5_chunk_rows(n, F, sizeof(float)) * 8;
        FROST_ALLOC(block, brows * F);
        FROST_TRY(frost__h5_rows_begin(&w, out.file, "node/feat", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, n, F,
                                       o.compression, out_path));
        const uint64_t fstream = frost_rng_stream(FROST_RNG_SYNTH, 3);
        const int64_t q = (F + 3) / 4; /* Philox blocks per row */
        for (int64_t r0 = 0; r0 < n; r0 += brows) {
            int64_t nr = r0 + brows < n ? brows : n - r0;
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < nr; i++) {
                const int64_t node = r0 + i;
                const double *m = mu + (int64_t)ds.label[node] * F;
                float *x = block + i * F;
                for (int64_t b = 0; b < q; b++) {
                    float z[4];
                    normal4(o.seed, fstream, (uint64_t)node * (uint64_t)q + (uint64_t)b, z);
                    for (int t = 0; t < 4 && 4 * b + t < F; t++) x[4 * b + t] = (float)(m[4 * b + t] + (double)z[t]);
                }
            }
            FROST_TRY(frost__h5_rows_write(&w, block, nr));
            progress(&o, "features", (double)(r0 + nr) / (double)n);
        }
        FROST_TRY(frost__h5_rows_end(&w));
    }
    out_open = false;
    FROST_TRY(frost__h5_out_commit(&out));
    progress(&o, "done", 1.0);
    st = FROST_OK;
fail:
    if (st < 0) frost__h5_rows_abort(&w);
    if (out_open) frost__h5_out_abort(&out);
    free(s.y);
    free(s.by_class);
    free(s.class_off);
    alias_release(&s.all);
    free(s.within.prob);
    free(s.within.alias);
    free(s.comm);
    free(gkey);
    segments_release(&s.by_comm);
    segments_release(&s.by_group);
    free(theta);
    free(wclass);
    free(mu);
    free(eu);
    free(ev);
    free(perm);
    free(part);
    free(block);
    frost_dataset_release(&ds);
    return st;
}

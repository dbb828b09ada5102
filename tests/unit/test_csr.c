/*
 * test_csr.c - CSR building (counting sort) against a naive sort-based
 * reference, clean-up options, transpose, symmetry and the validity check.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(csr, .timeout = 60);

typedef struct pair {
    int32_t r, c;
    int64_t id;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->r != y->r) return x->r < y->r ? -1 : 1;
    if (x->c != y->c) return x->c < y->c ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id); /* stable: input order */
}

/* Reference builder: materialise all entries, qsort, then apply options. */
static void ref_build(int64_t n, int64_t E, const int32_t *s, const int32_t *d, frost_csr_build_opts o,
                      int64_t **indptr, int32_t **indices, int64_t *nnz)
{
    int64_t m = o.symmetrize ? 2 * E : E;
    pair *p = malloc((size_t)(m + n + 1) * sizeof *p);
    int64_t k = 0;
    for (int64_t e = 0; e < E; e++) p[k++] = (pair){s[e], d[e], e};
    if (o.symmetrize)
        for (int64_t e = 0; e < E; e++) p[k++] = (pair){d[e], s[e], e + E};
    qsort(p, (size_t)k, sizeof *p, cmp_pair);
    int64_t *ip = calloc((size_t)n + 1, sizeof *ip);
    int32_t *ix = malloc((size_t)(k + n + 1) * sizeof *ix);
    int64_t w = 0, q = 0;
    for (int64_t i = 0; i < n; i++) {
        bool has_loop = false;
        int64_t start = w;
        while (q < k && p[q].r == i) {
            int32_t c = p[q].c;
            q++;
            if (c == i && o.self_loops == FROST_SELF_LOOPS_DROP) continue;
            if (!o.keep_duplicates && w > start && ix[w - 1] == c) continue;
            if (c == i && o.self_loops == FROST_SELF_LOOPS_ADD && has_loop) continue;
            if (c > i && o.self_loops == FROST_SELF_LOOPS_ADD && !has_loop) {
                ix[w++] = (int32_t)i;
                has_loop = true;
            }
            if (c == i) has_loop = true;
            ix[w++] = c;
        }
        if (o.self_loops == FROST_SELF_LOOPS_ADD && !has_loop) ix[w++] = (int32_t)i;
        ip[i + 1] = w;
    }
    free(p);
    *indptr = ip;
    *indices = ix;
    *nnz = w;
}

static void random_edges(uint64_t seed, int64_t n, int64_t E, int32_t *s, int32_t *d)
{
    frost_rng r;
    frost_rng_init(&r, seed, 99);
    for (int64_t e = 0; e < E; e++) {
        s[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)n);
        /* bias towards small ids so duplicates and self-loops happen */
        d[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)(e % 3 == 0 ? (n < 4 ? n : 4) : n));
    }
}

Test(csr, counting_sort_matches_reference_on_random_graphs)
{
    const int64_t sizes[][2] = {{1, 0}, {1, 3}, {7, 20}, {50, 400}, {300, 5000}, {2000, 3000}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int64_t n = sizes[t][0], E = sizes[t][1];
        int32_t *s = malloc((size_t)(E + 1) * 4), *d = malloc((size_t)(E + 1) * 4);
        random_edges(t, n, E, s, d);
        for (int sym = 0; sym < 2; sym++)
            for (int dup = 0; dup < 2; dup++)
                for (int loops = 0; loops < 3; loops++) {
                    frost_csr_build_opts o = {.symmetrize = sym, .keep_duplicates = dup,
                                              .self_loops = (frost_self_loops)loops};
                    frost_csr g;
                    int64_t *perm = NULL;
                    cr_assert_eq(frost_csr_from_edges(&g, n, E, s, d, &o, &perm), FROST_OK, "%s",
                                 frost_last_error());
                    int64_t *ip;
                    int32_t *ix;
                    int64_t nnz;
                    ref_build(n, E, s, d, o, &ip, &ix, &nnz);
                    cr_assert_eq(g.nnz, nnz, "n=%lld E=%lld sym=%d dup=%d loops=%d: nnz %lld vs %lld",
                                 (long long)n, (long long)E, sym, dup, loops, (long long)g.nnz, (long long)nnz);
                    cr_assert(memcmp(g.indptr, ip, (size_t)(n + 1) * 8) == 0);
                    cr_assert(memcmp(g.indices, ix, (size_t)nnz * 4) == 0);
                    cr_assert_eq(frost_csr_check(&g, !dup), FROST_OK, "%s", frost_last_error());
                    /* perm points every stored entry back at the input edge it came from */
                    for (int64_t i = 0; i < n; i++)
                        for (int64_t k = g.indptr[i]; k < g.indptr[i + 1]; k++) {
                            int64_t e = perm[k];
                            if (e < 0) {
                                cr_assert_eq(g.indices[k], i); /* added self-loop */
                            } else if (e < E) {
                                cr_assert(s[e] == i && d[e] == g.indices[k]);
                            } else {
                                cr_assert(d[e - E] == i && s[e - E] == g.indices[k]);
                            }
                        }
                    if (sym) {
                        bool symm;
                        cr_assert_eq(frost_csr_is_symmetric(&g, &symm), FROST_OK);
                        cr_assert(symm || dup, "a symmetrised graph must be symmetric");
                    }
                    free(perm);
                    free(ip);
                    free(ix);
                    frost_csr_release(&g);
                }
        free(s);
        free(d);
    }
}

Test(csr, small_example_by_hand)
{
    /* 0->1, 1->2, 1->0, 1->2 (dup), 2->2 (loop) */
    int32_t s[] = {0, 1, 1, 1, 2}, d[] = {1, 2, 0, 2, 2};
    frost_csr g;
    frost_csr_build_opts o = frost_csr_build_opts_default();
    cr_assert_eq(frost_csr_from_edges(&g, 3, 5, s, d, &o, NULL), FROST_OK);
    int64_t ip[] = {0, 1, 3, 4};
    int32_t ix[] = {1, 0, 2, 2};
    cr_assert_eq(g.nnz, 4);
    cr_assert(memcmp(g.indptr, ip, sizeof ip) == 0);
    cr_assert(memcmp(g.indices, ix, sizeof ix) == 0);
    cr_assert_eq(frost_csr_count_self_loops(&g), 1);
    int64_t deg[3], ind[3];
    frost_csr_out_degrees(&g, deg);
    frost_csr_in_degrees(&g, ind);
    cr_assert(deg[0] == 1 && deg[1] == 2 && deg[2] == 1);
    cr_assert(ind[0] == 1 && ind[1] == 1 && ind[2] == 2);
    bool sym = true;
    frost_csr_is_symmetric(&g, &sym);
    cr_assert_not(sym);
    cr_assert_eq(frost_csr_find(&g, 1, 2), 2);
    cr_assert_eq(frost_csr_find(&g, 0, 2), -1);
    frost_csr_release(&g);

    o.symmetrize = true;
    o.self_loops = FROST_SELF_LOOPS_DROP;
    cr_assert_eq(frost_csr_from_edges(&g, 3, 5, s, d, &o, NULL), FROST_OK);
    int64_t ip2[] = {0, 1, 3, 4};
    int32_t ix2[] = {1, 0, 2, 1};
    cr_assert_eq(g.nnz, 4);
    cr_assert(memcmp(g.indptr, ip2, sizeof ip2) == 0);
    cr_assert(memcmp(g.indices, ix2, sizeof ix2) == 0);
    frost_csr_is_symmetric(&g, &sym);
    cr_assert(sym);
    frost_csr_release(&g);
}

Test(csr, out_of_range_id_is_an_error)
{
    int32_t s[] = {0, 5}, d[] = {1, 1};
    frost_csr g;
    cr_assert_eq(frost_csr_from_edges(&g, 3, 2, s, d, NULL, NULL), FROST_ERR_RANGE);
    cr_assert(strstr(frost_last_error(), "edge 1") != NULL, "%s", frost_last_error());
    cr_assert_null(g.indptr);
}

Test(csr, transpose_twice_is_identity)
{
    int32_t s[200], d[200];
    random_edges(7, 40, 200, s, d);
    frost_csr g, t, tt;
    cr_assert_eq(frost_csr_from_edges(&g, 40, 200, s, d, NULL, NULL), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&t, &g), FROST_OK);
    cr_assert_eq(frost_csr_transpose(&tt, &t), FROST_OK);
    cr_assert_eq(tt.nnz, g.nnz);
    cr_assert(memcmp(tt.indptr, g.indptr, 41 * 8) == 0);
    cr_assert(memcmp(tt.indices, g.indices, (size_t)g.nnz * 4) == 0);
    /* every (i,j) of g is (j,i) of t */
    for (int64_t i = 0; i < 40; i++)
        for (int64_t k = g.indptr[i]; k < g.indptr[i + 1]; k++)
            cr_assert_geq(frost_csr_find(&t, g.indices[k], (int32_t)i), 0);
    frost_csr_release(&g);
    frost_csr_release(&t);
    frost_csr_release(&tt);
}

Test(csr, rebuild_symmetrizes)
{
    int32_t s[] = {0, 1, 2}, d[] = {1, 2, 3};
    frost_csr g, u;
    cr_assert_eq(frost_csr_from_edges(&g, 4, 3, s, d, NULL, NULL), FROST_OK);
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.symmetrize = true;
    o.self_loops = FROST_SELF_LOOPS_ADD;
    cr_assert_eq(frost_csr_rebuild(&u, &g, &o), FROST_OK);
    cr_assert_eq(u.nnz, 6 + 4);
    bool sym;
    frost_csr_is_symmetric(&u, &sym);
    cr_assert(sym);
    cr_assert_eq(frost_csr_count_self_loops(&u), 4);
    frost_csr_release(&g);
    frost_csr_release(&u);
}

Test(csr, check_finds_broken_invariants)
{
    int64_t ip[] = {0, 2, 1, 3};
    int32_t ix[] = {1, 0, 2};
    frost_csr g = {.n_rows = 3, .n_cols = 3, .nnz = 3, .indptr = ip, .indices = ix};
    cr_assert_eq(frost_csr_check(&g, false), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "indptr[2]") != NULL, "%s", frost_last_error());
    int64_t ip2[] = {0, 2, 2, 3};
    int32_t ix2[] = {1, 0, 7};
    g.indptr = ip2;
    g.indices = ix2;
    cr_assert_eq(frost_csr_check(&g, false), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "column 7") != NULL, "%s", frost_last_error());
    ix2[2] = 2;
    cr_assert_eq(frost_csr_check(&g, false), FROST_OK);
    cr_assert_eq(frost_csr_check(&g, true), FROST_ERR_FORMAT); /* row 0 is 1,0 */
    int64_t ip3[] = {1, 2, 2, 3};
    g.indptr = ip3;
    cr_assert_eq(frost_csr_check(&g, false), FROST_ERR_FORMAT);
}

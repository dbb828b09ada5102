/*
 * test_sample.c - the neighbour sampler (src/train/sample.c) against what a
 * GraphSAGE / NeighborLoader batch must be, checked from the graph itself:
 *   - the seeds come first; every node is listed once; every sampled edge is
 *     an entry of its node's row in the graph (no repeats, stored order);
 *   - a node first reached at hop h < L gets min(fanout[h], degree) edges,
 *     nodes of the last hop none; every reached node is a sampled neighbour
 *     of the hop before (breadth-first, in order of discovery);
 *   - fanout -1 (or >= the degree) takes the whole row;
 *   - the same (seed, step) gives the same batch, another step another one;
 *   - each neighbour of a node is drawn with probability fanout / degree
 *     (frequencies over 4000 steps within 5 standard deviations), by both
 *     of the sampler's methods;
 *   - every epoch shuffles the training nodes, the same epoch alike;
 *   - bad seeds (repeated, out of range) and fanouts (0, < -1, none) are
 *     errors and the position map is left all -1.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(sample, .timeout = 120);

/* A random directed graph of n nodes, rows sorted, no repeated entries,
 * degrees from 0 to about 2 * avg. */
static frost_csr random_graph(uint64_t seed, int64_t n, int64_t avg)
{
    frost_rng r;
    frost_rng_init(&r, seed, 7);
    const int64_t E = n * avg;
    int32_t *s = malloc((size_t)E * sizeof *s), *d = malloc((size_t)E * sizeof *d);
    for (int64_t e = 0; e < E; e++) {
        s[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)n);
        d[e] = (int32_t)frost_rng_next_below(&r, (uint64_t)n);
    }
    frost_csr g;
    const frost_csr_build_opts o = frost_csr_build_opts_default();
    cr_assert_eq(frost_csr_from_edges(&g, n, E, s, d, &o, NULL), FROST_OK, "%s", frost_last_error());
    free(s);
    free(d);
    return g;
}

/* Is u in row v of g? (rows sorted) */
static int64_t find_entry(const frost_csr *g, int64_t v, int64_t u)
{
    for (int64_t e = g->indptr[v]; e < g->indptr[v + 1]; e++)
        if (g->indices[e] == u) return e;
    return -1;
}

static void check_batch(const frost_csr *A, const int64_t *seeds, int64_t B, int32_t hops, const int32_t *fan,
                        uint64_t seed, uint64_t step)
{
    const int64_t N = A->n_rows;
    int64_t *nodes = malloc((size_t)N * sizeof *nodes), n = -1;
    int32_t *hop = malloc((size_t)N * sizeof *hop);
    frost_csr S;
    cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, A, seeds, B, hops, fan, seed, step, NULL), FROST_OK, "%s",
                 frost_last_error());
    cr_assert_geq(n, B);
    cr_assert_eq(S.n_rows, n);
    cr_assert_eq(S.n_cols, n);
    for (int64_t k = 0; k < B; k++) cr_assert_eq(nodes[k], seeds[k], "seed %lld not first", (long long)k);
    for (int64_t i = 0; i < N; i++) hop[i] = -1;
    for (int64_t k = 0; k < n; k++) {
        cr_assert(nodes[k] >= 0 && nodes[k] < N);
        cr_assert_eq(hop[nodes[k]], -1, "node %lld listed twice", (long long)nodes[k]);
        hop[nodes[k]] = k < B ? 0 : -2; /* -2: reached, hop not known yet */
    }
    /* breadth first: walk the rows in order, giving every new neighbour the next hop */
    int64_t first_new = B;
    for (int64_t k = 0; k < n; k++) {
        const int64_t v = nodes[k];
        const int32_t h = hop[v];
        cr_assert_geq(h, 0, "node at position %lld was reached by no sampled edge before it", (long long)k);
        const int64_t deg = A->indptr[v + 1] - A->indptr[v], got = S.indptr[k + 1] - S.indptr[k];
        const int64_t want = h >= hops ? 0 : (fan[h] < 0 || fan[h] >= deg ? deg : fan[h]);
        cr_assert_eq(got, want, "node %lld at hop %d (degree %lld): %lld sampled edges, expected %lld", (long long)v, h,
                     (long long)deg, (long long)got, (long long)want);
        int64_t last = -1;
        for (int64_t e = S.indptr[k]; e < S.indptr[k + 1]; e++) {
            const int64_t p = S.indices[e];
            cr_assert(p >= 0 && p < n);
            const int64_t u = nodes[p], at = find_entry(A, v, u);
            cr_assert_geq(at, 0, "sampled edge %lld <- %lld is not in the graph", (long long)v, (long long)u);
            cr_assert_gt(at, last, "row of node %lld: entries repeated or out of stored order", (long long)v);
            last = at;
            if (hop[u] == -2) {
                cr_assert_eq(p, first_new, "node %lld is not in order of discovery", (long long)u);
                hop[u] = h + 1;
                first_new++;
            }
        }
    }
    cr_assert_eq(first_new, n, "%lld nodes listed, %lld reached", (long long)n, (long long)first_new);
    frost_csr_release(&S);
    free(nodes);
    free(hop);
}

Test(sample, batches_hold_what_a_neighbour_sample_must)
{
    frost_csr A = random_graph(3, 600, 6);
    int64_t seeds[40];
    for (int k = 0; k < 40; k++) seeds[k] = (k * 37 + 11) % 600;
    const int32_t f1[] = {5, 3}, f2[] = {-1, 2, 1}, f3[] = {1}, f4[] = {1000, -1};
    for (uint64_t step = 0; step < 20; step++) {
        check_batch(&A, seeds, 40, 2, f1, 1, step);
        check_batch(&A, seeds, 40, 3, f2, 2, step);
        check_batch(&A, seeds, 17, 1, f3, 3, step);
        check_batch(&A, seeds + 5, 1, 2, f4, 4, step);
    }
    frost_csr_release(&A);
}

Test(sample, all_neighbours_take_whole_rows_and_draws_follow_seed_and_step)
{
    frost_csr A = random_graph(5, 300, 5);
    const int64_t N = A.n_rows;
    int64_t seeds[10] = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
    int64_t *n1 = malloc((size_t)N * sizeof *n1), *n2 = malloc((size_t)N * sizeof *n2), c1, c2;
    frost_csr S1, S2;
    /* all in-neighbours: each row of the first hop is the graph's row */
    const int32_t all[] = {-1};
    cr_assert_eq(frost_sample_neighbors(&S1, n1, &c1, &A, seeds, 10, 1, all, 9, 0, NULL), FROST_OK);
    for (int64_t k = 0; k < 10; k++) {
        const int64_t v = seeds[k];
        cr_assert_eq(S1.indptr[k + 1] - S1.indptr[k], A.indptr[v + 1] - A.indptr[v]);
        for (int64_t j = 0; j < A.indptr[v + 1] - A.indptr[v]; j++)
            cr_assert_eq(n1[S1.indices[S1.indptr[k] + j]], A.indices[A.indptr[v] + j]);
    }
    frost_csr_release(&S1);
    /* the same (seed, step): the same batch; another step or seed: another */
    const int32_t fan[] = {2, 2};
    cr_assert_eq(frost_sample_neighbors(&S1, n1, &c1, &A, seeds, 10, 2, fan, 9, 4, NULL), FROST_OK);
    cr_assert_eq(frost_sample_neighbors(&S2, n2, &c2, &A, seeds, 10, 2, fan, 9, 4, NULL), FROST_OK);
    cr_assert_eq(c1, c2);
    cr_assert_eq(S1.nnz, S2.nnz);
    cr_assert_eq(memcmp(n1, n2, (size_t)c1 * sizeof *n1), 0);
    cr_assert_eq(memcmp(S1.indices, S2.indices, (size_t)S1.nnz * sizeof *S1.indices), 0);
    frost_csr_release(&S2);
    int differ = 0;
    for (uint64_t k = 0; k < 2; k++) {
        cr_assert_eq(frost_sample_neighbors(&S2, n2, &c2, &A, seeds, 10, 2, fan, k ? 10 : 9, k ? 4 : 5, NULL),
                     FROST_OK);
        differ += c1 != c2 || memcmp(n1, n2, (size_t)c1 * sizeof *n1) != 0;
        frost_csr_release(&S2);
    }
    cr_assert_eq(differ, 2, "another step or seed gave the same batch");
    frost_csr_release(&S1);
    free(n1);
    free(n2);
    frost_csr_release(&A);
}

/* Node 0 aggregates from nodes 1 .. 40; draw K of them STEPS times: each
 * neighbour's count within 5 standard deviations of STEPS K / 40. */
static void draw_frequencies(int K)
{
    enum { D = 40, STEPS = 4000 };
    int32_t s[D], d[D];
    for (int j = 0; j < D; j++) s[j] = 0, d[j] = j + 1;
    frost_csr A;
    const frost_csr_build_opts o = frost_csr_build_opts_default();
    cr_assert_eq(frost_csr_from_edges(&A, D + 1, D, s, d, &o, NULL), FROST_OK);
    cr_assert_eq(A.indptr[1] - A.indptr[0], D);
    int64_t v = 0, count[D + 1] = {0}, nodes[D + 1], n;
    int32_t *pos = malloc((D + 1) * sizeof *pos);
    for (int i = 0; i <= D; i++) pos[i] = -1;
    const int32_t fan[] = {K};
    for (uint64_t t = 0; t < STEPS; t++) {
        frost_csr S;
        cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, &A, &v, 1, 1, fan, 77, t, pos), FROST_OK);
        cr_assert_eq(S.indptr[1], K);
        for (int64_t e = 0; e < K; e++) count[nodes[S.indices[e]]]++;
        frost_csr_release(&S);
        for (int i = 0; i <= D; i++) cr_assert_eq(pos[i], -1, "the lent position map was not restored");
    }
    const double p = (double)K / D, mean = STEPS * p, sd = sqrt(STEPS * p * (1 - p));
    for (int64_t u = 1; u <= D; u++)
        cr_assert_leq(fabs((double)count[u] - mean), 5 * sd, "K %d: neighbour %lld drawn %lld times in %d (expected %.0f)",
                      K, (long long)u, (long long)count[u], STEPS, mean);
    free(pos);
    frost_csr_release(&A);
}

Test(sample, each_neighbour_is_drawn_with_probability_fanout_over_degree)
{
    draw_frequencies(7);  /* a few of many: Floyd's algorithm */
    draw_frequencies(1);
    draw_frequencies(25); /* most of them: selection sampling */
}

Test(sample, epochs_shuffle_the_training_nodes)
{
    int64_t train[200], a[200], b[200], c[200];
    for (int i = 0; i < 200; i++) train[i] = 3 * i + 1;
    frost_sample_order(a, train, 200, 11, 0);
    frost_sample_order(b, train, 200, 11, 1);
    frost_sample_order(c, train, 200, 11, 0);
    cr_assert_eq(memcmp(a, c, sizeof a), 0, "the same epoch gave another order");
    int moved = 0, same = 0, seen[600] = {0};
    for (int i = 0; i < 200; i++) {
        moved += a[i] != train[i];
        same += a[i] == b[i];
        cr_assert(a[i] >= 1 && a[i] < 600 && a[i] % 3 == 1 && !seen[a[i]], "not a permutation of the training nodes");
        seen[a[i]] = 1;
    }
    /* a random permutation keeps about one entry in place */
    cr_assert_geq(moved, 190, "epoch 0 left %d of 200 nodes in place", 200 - moved);
    cr_assert_leq(same, 10, "epochs 0 and 1 agree at %d of 200 places", same);
}

Test(sample, bad_seeds_are_errors_and_leave_the_map_clean)
{
    frost_csr A = random_graph(8, 50, 3);
    int64_t nodes[50], n;
    int32_t pos[50];
    for (int i = 0; i < 50; i++) pos[i] = -1;
    const int32_t fan[] = {3};
    frost_csr S;
    const int64_t twice[] = {4, 9, 4}, range[] = {4, 50};
    cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, &A, twice, 3, 1, fan, 1, 0, pos), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "listed twice"), "%s", frost_last_error());
    cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, &A, range, 2, 1, fan, 1, 0, pos), FROST_ERR_INVALID);
    cr_assert(strstr(frost_last_error(), "out of range"), "%s", frost_last_error());
    for (int i = 0; i < 50; i++) cr_assert_eq(pos[i], -1);
    cr_assert_null(S.indptr);
    const int32_t zero[] = {0}, neg[] = {-2};
    const int64_t one[] = {4};
    cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, &A, one, 1, 1, zero, 1, 0, pos), FROST_ERR_RANGE);
    cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, &A, one, 1, 1, neg, 1, 0, pos), FROST_ERR_RANGE);
    cr_assert(strstr(frost_last_error(), "fanout -2 at hop 1"), "%s", frost_last_error());
    cr_assert_eq(frost_sample_neighbors(&S, nodes, &n, &A, one, 1, 1, NULL, 1, 0, pos), FROST_ERR_RANGE);
    frost_csr_release(&A);
}

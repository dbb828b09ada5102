/*
 * cmd_partition.c - `frost partition DATASET --parts K`: METIS k-way parts
 * stored in the dataset file, optionally with the nodes reordered by part.
 */
#include "cli/cli.h"

#include <string.h>

static void help(void)
{
    printf("usage: frost partition DATASET.h5 --parts K [options]\n\n"
           "Partition the graph into K parts with METIS (k-way, edge-cut objective) and store\n"
           "the part of every node in the dataset file as /partition/NAME. The file is rewritten\n"
           "atomically (or written to -o).\n\n"
           "  --parts K         number of parts\n"
           "  --imbalance F     allowed part size above the mean (default 0.03)\n"
           "  --seed S          METIS seed (default 0)\n"
           "  --name NAME       partition name (default metis-kK)\n"
           "  --reorder         renumber nodes so that each part is contiguous (splits and\n"
           "                    partitions follow; /node/original_id keeps the old ids)\n"
           "  -o OUT.h5         write to OUT instead of rewriting DATASET (OUT is not DATASET itself:\n"
           "                    leave -o out for that)\n"
           "  --force           with -o: replace OUT even if it is a results or model file\n");
}

int cli_partition(int argc, char **argv)
{
    const char *path = NULL, *out = NULL, *name = NULL;
    int64_t k = 0, seed = 0;
    double imbalance = 0.03;
    bool reorder = false, force = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_opt(argc, argv, &i, "--parts", &v)) {
            if (!cli_i64("partition", "--parts", v, &k)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            if (!cli_i64("partition", "--seed", v, &seed)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--imbalance", &v)) {
            if (!cli_f64("partition", "--imbalance", v, &imbalance)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--name", &v)) {
            if (!v || !*v) return cli_usage_error("partition", "--name needs a value");
            name = v;
        } else if (cli_opt(argc, argv, &i, "-o", &v)) {
            if (!v) return cli_usage_error("partition", "-o needs a file name");
            out = v;
        } else if (cli_flag(argv, i, "--reorder")) {
            reorder = true;
        } else if (cli_flag(argv, i, "--force")) {
            force = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("partition", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("partition", "expected one dataset file");
        } else {
            path = argv[i];
        }
    }
    if (!path || k < 1) return cli_usage_error("partition", "expected: frost partition DATASET.h5 --parts K");
    if (k > INT32_MAX) return cli_usage_error("partition", "--parts is too large");
    char nm[64];
    snprintf(nm, sizeof nm, "%s", name ? name : "");
    if (!name) snprintf(nm, sizeof nm, "metis-k%lld", (long long)k);
    /* in place without -o (read whole, then replaced atomically); -o is another file */
    if (cli_check_output(out ? out : path, out ? &path : NULL, out ? 1 : 0, FROST_DATASET_FORMAT, force, false))
        return CLI_EXIT_RUNTIME;
    frost_dataset ds, re;
    if (frost_dataset_load(&ds, path) < 0) return cli_fail();
    double t0 = frost__now();
    if (frost_dataset_partition(&ds, (int32_t)k, imbalance, (uint64_t)seed, nm) < 0) {
        frost_dataset_release(&ds);
        return cli_fail();
    }
    const frost_partitioning *pt = frost_dataset_partitioning(&ds, nm);
    int64_t *size = calloc((size_t)k, sizeof *size), cut = 0;
    for (int64_t i = 0; i < ds.num_nodes; i++) {
        size[pt->part[i]]++;
        for (int64_t e = ds.graph.indptr[i]; e < ds.graph.indptr[i + 1]; e++)
            cut += pt->part[ds.graph.indices[e]] != pt->part[i];
    }
    int64_t lo = size[0], hi = size[0];
    for (int64_t p = 1; p < k; p++) {
        if (size[p] < lo) lo = size[p];
        if (size[p] > hi) hi = size[p];
    }
    free(size);
    printf("%s: %lld parts in %.2f s, part sizes %lld .. %lld, %lld of %lld stored edges cut (%.1f%%)\n", nm, (long long)k,
           frost__now() - t0, (long long)lo, (long long)hi, (long long)cut, (long long)ds.graph.nnz,
           ds.graph.nnz ? 100.0 * (double)cut / (double)ds.graph.nnz : 0.0);
    /* halos: for each part, the distinct nodes of other parts its rows
     * aggregate from (what a process of mpi.mode "graph" receives) */
    int64_t *first = calloc((size_t)k + 1, sizeof *first), *byp = malloc((size_t)(ds.num_nodes ? ds.num_nodes : 1) * sizeof *byp);
    int32_t *seen = calloc((size_t)(ds.num_nodes ? ds.num_nodes : 1), sizeof *seen);
    if (first && byp && seen) {
        for (int64_t i = 0; i < ds.num_nodes; i++) first[pt->part[i] + 1]++;
        for (int64_t p = 0; p < k; p++) first[p + 1] += first[p];
        for (int64_t i = 0; i < ds.num_nodes; i++) byp[first[pt->part[i]]++] = i; /* first[p] now ends part p */
        int64_t total = 0, hmin = INT64_MAX, hmax = 0;
        for (int64_t p = 0, at = 0; p < k; p++) {
            int64_t halo = 0;
            for (; at < first[p]; at++) {
                const int64_t i = byp[at];
                for (int64_t e = ds.graph.indptr[i]; e < ds.graph.indptr[i + 1]; e++) {
                    const int32_t j = ds.graph.indices[e];
                    if (pt->part[j] != p && seen[j] != (int32_t)(p + 1)) seen[j] = (int32_t)(p + 1), halo++;
                }
            }
            total += halo;
            if (halo < hmin) hmin = halo;
            if (halo > hmax) hmax = halo;
        }
        printf("%s: halo nodes per part %lld .. %lld, %lld in all (%.1f%% of the nodes)\n", nm, (long long)hmin,
               (long long)hmax, (long long)total, ds.num_nodes ? 100.0 * (double)total / (double)ds.num_nodes : 0.0);
    }
    free(first);
    free(byp);
    free(seen);
    frost_dataset *save = &ds;
    if (reorder) {
        int64_t *perm = malloc((size_t)ds.num_nodes * sizeof *perm);
        if (!perm || frost_partition_order(perm, pt->part, ds.num_nodes, pt->k) < 0 ||
            frost_dataset_permute(&re, &ds, perm) < 0) {
            free(perm);
            frost_dataset_release(&ds);
            return cli_fail();
        }
        free(perm);
        save = &re;
    }
    const char *dst = out ? out : path;
    frost_status st = frost_dataset_save(save, dst, 1);
    if (reorder) frost_dataset_release(&re);
    frost_dataset_release(&ds);
    if (st < 0) return cli_fail();
    printf("wrote %s%s\n", dst, reorder ? " (nodes reordered by part)" : "");
    return 0;
}

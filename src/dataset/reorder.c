/*
 * reorder.c - partitions stored with a dataset, and renumbering its nodes
 * (so that each METIS part is contiguous: better cache locality for the
 * sparse kernels, and the layout Cluster-GCN and distributed training use).
 */
#include "dataset/dataset_impl.h"

#include <stdio.h>
#include <string.h>

const frost_partitioning *frost_dataset_partitioning(const frost_dataset *ds, const char *name)
{
    for (int32_t k = 0; k < ds->num_partitions; k++)
        if (strcmp(ds->partitions[k].name, name) == 0) return &ds->partitions[k];
    return NULL;
}

frost_status frost_dataset_partition(frost_dataset *ds, int32_t k, double imbalance, uint64_t seed, const char *name)
{
    frost_status st = FROST_OK;
    int32_t *part = NULL;
    FROST_ALLOC(part, ds->num_nodes);
    FROST_TRY(frost_graph_partition(&ds->graph, k, imbalance, seed, part));
    frost_partitioning *pt = (frost_partitioning *)frost_dataset_partitioning(ds, name);
    if (!pt) {
        frost_partitioning *np = realloc(ds->partitions, (size_t)(ds->num_partitions + 1) * sizeof *np);
        if (!np) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        ds->partitions = np;
        pt = &ds->partitions[ds->num_partitions++];
        memset(pt, 0, sizeof *pt);
        frost__strlcpy(pt->name, name, sizeof pt->name);
    }
    free(pt->part);
    pt->part = part;
    pt->k = k;
    return FROST_OK;
fail:
    free(part);
    return st;
}

frost_status frost_partition_order(int64_t *perm, const int32_t *part, int64_t n, int32_t k)
{
    int64_t *start = calloc((size_t)k + 1, sizeof *start);
    if (!start) return frost__error(FROST_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) start[part[i] + 1]++;
    for (int32_t p = 0; p < k; p++) start[p + 1] += start[p];
    for (int64_t i = 0; i < n; i++) perm[start[part[i]]++] = i;
    free(start);
    return FROST_OK;
}

static frost_status permute_ids(int64_t **dst, const int64_t *src, int64_t cnt, const int64_t *inv)
{
    int64_t *d = malloc((size_t)(cnt ? cnt : 1) * sizeof *d);
    if (!d) return frost__error(FROST_ERR_NOMEM, "out of memory");
    for (int64_t q = 0; q < cnt; q++) d[q] = inv[src[q]];
    *dst = d;
    return FROST_OK;
}

frost_status frost_dataset_permute(frost_dataset *out, const frost_dataset *in, const int64_t *perm)
{
    frost_status st = FROST_OK;
    int64_t *inv = NULL;
    const int64_t n = in->num_nodes;
    memset(out, 0, sizeof *out);
    FROST_ALLOC(inv, n);
    FROST_TRY(frost_csr_permute(&out->graph, &in->graph, perm, inv));
    memcpy(out->name, in->name, sizeof out->name);
    snprintf(out->source, sizeof out->source, "%s; nodes reordered", in->source);
    out->num_nodes = n;
    out->num_features = in->num_features;
    out->num_classes = in->num_classes;
    out->num_tasks = in->num_tasks;
    out->task_type = in->task_type;
    out->metric = in->metric;
    out->symmetric = in->symmetric;
    out->inverse_edges_added = in->inverse_edges_added;
    out->deduplicated = in->deduplicated;
    out->self_loops = in->self_loops;
    out->edge_list_edges = in->edge_list_edges;
    if (in->class_names && !(out->class_names = strdup(in->class_names)))
        FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    if (in->num_edge_features > 0)
        FROST_FAIL(FROST_ERR_INVALID, "reordering datasets with edge features is not supported");
    const int64_t F = in->num_features, T = in->num_tasks;
    if (F > 0) {
        FROST_ALLOC(out->feat, n * F);
        for (int64_t i = 0; i < n; i++) memcpy(out->feat + i * F, in->feat + perm[i] * F, (size_t)F * sizeof(float));
    }
    FROST_ALLOC(out->label, n * T);
    for (int64_t i = 0; i < n; i++) memcpy(out->label + i * T, in->label + perm[i] * T, (size_t)T * sizeof(int32_t));
    if (in->year) {
        FROST_ALLOC(out->year, n);
        for (int64_t i = 0; i < n; i++) out->year[i] = in->year[perm[i]];
    }
    FROST_ALLOC(out->original_id, n);
    for (int64_t i = 0; i < n; i++) out->original_id[i] = in->original_id ? in->original_id[perm[i]] : perm[i];
    FROST_CALLOC(out->splits, in->num_splits);
    for (int32_t s = 0; s < in->num_splits; s++) {
        const frost_split *a = &in->splits[s];
        frost_split *b = &out->splits[s];
        out->num_splits = s + 1;
        memcpy(b->name, a->name, sizeof b->name);
        b->n_train = a->n_train, b->n_valid = a->n_valid, b->n_test = a->n_test;
        FROST_TRY(permute_ids(&b->train, a->train, a->n_train, inv));
        FROST_TRY(permute_ids(&b->valid, a->valid, a->n_valid, inv));
        FROST_TRY(permute_ids(&b->test, a->test, a->n_test, inv));
    }
    FROST_CALLOC(out->partitions, in->num_partitions);
    for (int32_t k = 0; k < in->num_partitions; k++) {
        frost_partitioning *b = &out->partitions[k];
        out->num_partitions = k + 1;
        *b = in->partitions[k];
        b->part = NULL;
        FROST_ALLOC(b->part, n);
        for (int64_t i = 0; i < n; i++) b->part[i] = in->partitions[k].part[perm[i]];
    }
    free(inv);
    return FROST_OK;
fail:
    free(inv);
    frost_dataset_release(out);
    return st;
}

/*
 * stats.c - the numbers `frost info` prints for a dataset.
 */
#include "dataset/dataset_impl.h"

#include <math.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Fraction of stored edges, both ends labelled, whose ends share the label
 * (single label column only). */
static void edge_homophily(const frost_dataset *ds, frost_dataset_stats *s)
{
    int64_t same = 0, tot = 0;
    for (int64_t i = 0; i < ds->num_nodes; i++) {
        int32_t yi = ds->label[i];
        if (yi < 0) continue;
        for (int64_t k = ds->graph.indptr[i]; k < ds->graph.indptr[i + 1]; k++) {
            int32_t yj = ds->label[ds->graph.indices[k]];
            if (yj < 0) continue;
            tot++;
            same += yi == yj;
        }
    }
    s->homophily_edges = tot;
    s->edge_homophily = tot ? (double)same / (double)tot : (double)NAN;
}

void frost_dataset_stats_release(frost_dataset_stats *st)
{
    if (!st) return;
    free(st->class_counts);
    st->class_counts = NULL;
}

frost_status frost_dataset_stats_compute(const frost_dataset *ds, frost_dataset_stats *s)
{
    frost_status st = FROST_OK;
    int64_t *deg = NULL, *indeg = NULL;
    const int64_t n = ds->num_nodes;
    memset(s, 0, sizeof *s);
    s->num_nodes = n;
    s->stored_edges = ds->graph.nnz;
    s->symmetric = ds->symmetric;
    s->self_loops = frost_csr_count_self_loops(&ds->graph);
    s->edge_homophily = (double)NAN;
    s->first_nonfinite = -1;

    FROST_ALLOC(deg, n);
    FROST_ALLOC(indeg, n);
    frost_csr_out_degrees(&ds->graph, deg);
    frost_csr_in_degrees(&ds->graph, indeg);
    double sum = 0, sum2 = 0;
    s->deg_min = n ? INT64_MAX : 0;
    for (int64_t i = 0; i < n; i++) {
        /* isolated: no edge other than a self-loop, in either direction */
        int64_t loop = frost_csr_find(&ds->graph, i, (int32_t)i) >= 0;
        if (deg[i] - loop == 0 && indeg[i] - loop == 0) s->isolated++;
        if (indeg[i] > s->in_deg_max) s->in_deg_max = indeg[i];
        sum += (double)deg[i];
        sum2 += (double)deg[i] * (double)deg[i];
        if (deg[i] < s->deg_min) s->deg_min = deg[i];
        if (deg[i] > s->deg_max) s->deg_max = deg[i];
    }
    if (n > 0) {
        s->deg_mean = sum / (double)n;
        s->deg_std = sqrt(fmax(0.0, sum2 / (double)n - s->deg_mean * s->deg_mean));
        qsort(deg, (size_t)n, sizeof *deg, cmp_i64);
        s->deg_median = deg[n / 2];
    }

    if (ds->feat && ds->num_features > 0) {
        int64_t nz = 0, tot = n * ds->num_features;
        for (int64_t k = 0; k < tot; k++) {
            nz += ds->feat[k] != 0.0f;
            if (!isfinite(ds->feat[k])) {
                if (s->nonfinite_features++ == 0) s->first_nonfinite = k;
            }
        }
        s->feature_density = tot ? (double)nz / (double)tot : 0.0;
    }

    const int32_t T = ds->num_tasks;
    if (ds->task_type == FROST_TASK_MULTICLASS) {
        FROST_CALLOC(s->class_counts, ds->num_classes);
        for (int64_t i = 0; i < n; i++) {
            int32_t y = ds->label[i];
            if (y >= 0) {
                s->class_counts[y]++;
                s->labelled++;
            }
        }
        edge_homophily(ds, s);
    } else {
        FROST_CALLOC(s->class_counts, T);
        for (int64_t i = 0; i < n; i++) {
            bool any = false;
            for (int32_t t = 0; t < T; t++) {
                int32_t y = ds->label[i * T + t];
                if (y >= 0) any = true;
                if (y == 1) s->class_counts[t]++;
            }
            s->labelled += any;
        }
        if (T == 1) {
            edge_homophily(ds, s); /* one binary task: homophily of the 0/1 label */
        }
    }
    free(deg);
    free(indeg);
    return FROST_OK;
fail:
    free(deg);
    free(indeg);
    frost_dataset_stats_release(s);
    return st;
}

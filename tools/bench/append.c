/*
 * append.c - bench-append: what appending a run to a results file costs as
 * the file grows. Appends N tiny runs one at a time (frost_results_append,
 * as frost run does after each run), then folds the file (frost run's last
 * step), and reports per append the bytes frost wrote (write and pwrite
 * calls: /proc/self/io wchar) and the wall time, for the first and the last
 * 100 appends.
 *
 *   build/tools/bench/bench-append /tmp/a.h5 --runs 2000 [--params 200] [--epochs 2] [--csv FILE] [--no-fold]
 *
 * A tiny run: the effective configuration text of a default GCN (about
 * 1 KB), `epochs` history rows and `params` float parameters.
 */
#include "frost/frost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Bytes this process has handed to write-like system calls. */
static long long wchar(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1) break;
    if (f) fclose(f);
    return v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(const char *what, const double *ms, const long long *bytes, int lo, int hi)
{
    int n = hi - lo;
    double *s = malloc((size_t)n * sizeof *s), sum = 0, bsum = 0, bmax = 0;
    for (int k = 0; k < n; k++) {
        s[k] = ms[lo + k];
        sum += ms[lo + k];
        bsum += (double)bytes[lo + k];
        if ((double)bytes[lo + k] > bmax) bmax = (double)bytes[lo + k];
    }
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    printf("%-16s appends %5d-%-5d  bytes/append mean %9.0f  max %9.0f   ms/append mean %7.2f  median %7.2f  max %8.2f\n",
           what, lo + 1, hi, bsum / n, bmax, sum / n, s[n / 2], s[n - 1]);
    free(s);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *csv = NULL;
    int runs = 2000, params = 200, epochs = 2, fold = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--params") == 0 && i + 1 < argc) params = atoi(argv[++i]);
        else if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) csv = argv[++i];
        else if (strcmp(argv[i], "--no-fold") == 0) fold = 0;
        else if (argv[i][0] != '-' && !out) out = argv[i];
        else {
            fprintf(stderr, "usage: bench-append OUT.h5 [--runs N] [--params P] [--epochs E] [--csv FILE]\n");
            return 2;
        }
    }
    if (!out || runs < 200 || params < 1 || epochs < 1) {
        fprintf(stderr, "usage: bench-append OUT.h5 [--runs N >= 200] [--params P] [--epochs E] [--csv FILE]\n");
        return 2;
    }
    if (access(out, F_OK) == 0) {
        fprintf(stderr, "bench-append: %s exists; give a new file\n", out);
        return 1;
    }
    frost_config c;
    frost_config_default(&c);
    float *w = malloc((size_t)params * sizeof *w);
    frost_epoch_record *h = calloc((size_t)epochs, sizeof *h);
    double *ms = malloc((size_t)runs * sizeof *ms);
    long long *bytes = malloc((size_t)runs * sizeof *bytes);
    FILE *cf = csv ? fopen(csv, "w") : NULL;
    if (!w || !h || !ms || !bytes || (csv && !cf)) {
        fprintf(stderr, "bench-append: out of memory or cannot write %s\n", csv ? csv : "");
        return 1;
    }
    if (cf) fprintf(cf, "append,bytes,ms\n");
    for (int k = 0; k < params; k++) w[k] = (float)k * 1e-3f;
    for (int e = 0; e < epochs; e++) h[e] = (frost_epoch_record){e + 1, 1.0, 0.5, 0.5, 0.5, 1e-3, 1e-4, 0.01};
    for (int r = 0; r < runs; r++) {
        frost_run_info ri;
        memset(&ri, 0, sizeof ri);
        c.seed = r;
        snprintf(ri.id, sizeof ri.id, "trained-gcn-seed%d", r);
        ri.config = frost_config_to_text(&c);
        snprintf(ri.dataset, sizeof ri.dataset, "bench");
        snprintf(ri.split, sizeof ri.split, "random");
        snprintf(ri.model, sizeof ri.model, "gcn");
        snprintf(ri.method, sizeof ri.method, "trained");
        snprintf(ri.metric, sizeof ri.metric, "accuracy");
        snprintf(ri.status, sizeof ri.status, "ok");
        snprintf(ri.logits_hash, sizeof ri.logits_hash, "%016x", r);
        ri.seed = r;
        ri.sparsity = ri.prune_ratio = ri.lock_ratio = 0.0 / 0.0;
        ri.best_epoch = epochs;
        ri.epochs_run = epochs;
        ri.val_metric = ri.test_metric = ri.train_metric = 0.5;
        ri.model_bits = ri.dense_bits = 32LL * params;
        ri.paper_bits = ri.model_bits;
        ri.in_dim = 16;
        ri.out_dim = 4;
        ri.threads = 1;
        uint8_t mask = 0;
        frost_run_payload p = {h, epochs, w, params, NULL, 0, &mask, 0};
        long long b0 = wchar();
        double t0 = now();
        if (frost_results_append(out, &ri, &p) < 0) {
            fprintf(stderr, "bench-append: %s\n", frost_last_error());
            return 1;
        }
        ms[r] = 1e3 * (now() - t0);
        bytes[r] = wchar() - b0;
        free(ri.config);
        if (cf) fprintf(cf, "%d,%lld,%.3f\n", r + 1, bytes[r], ms[r]);
    }
    long long b0 = wchar();
    double t0 = now();
    if (fold && frost_results_compact(out) < 0) {
        fprintf(stderr, "bench-append: %s\n", frost_last_error());
        return 1;
    }
    double fold_ms = 1e3 * (now() - t0);
    long long fold_bytes = wchar() - b0;
    struct stat sb;
    stat(out, &sb);
    long long total = 0;
    for (int r = 0; r < runs; r++) total += bytes[r];
    printf("%d tiny runs (%d parameters, %d epochs each) appended to %s one at a time\n", runs, params, epochs, out);
    stats("first 100", ms, bytes, 0, 100);
    stats("last 100", ms, bytes, runs - 100, runs);
    printf("all %d appends: %.1f MB written (%.0f bytes per append on average); final file %.1f MB (%.0f bytes per run)\n",
           runs, (double)total / 1e6, (double)total / runs, (double)sb.st_size / 1e6, (double)sb.st_size / runs);
    if (fold) printf("final fold (frost run's last step): %.1f MB in %.0f ms\n", (double)fold_bytes / 1e6, fold_ms);
    if (cf) fclose(cf);
    free(w);
    free(h);
    free(ms);
    free(bytes);
    return 0;
}

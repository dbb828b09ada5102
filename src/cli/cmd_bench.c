/*
 * cmd_bench.c - `frost bench`: the machine's stream bandwidth (triad), SpMM
 * and GEMM kernels, and training epochs of the GCN recipe and the supermask
 * GIN on a dataset file; median, min and max over repeats, peak RSS; a JSON
 * file with every number.
 */
#include "cli/cli.h"
#include "io/file_impl.h"
#include "frost/frost.h"
#include "tensor/tensor_impl.h" /* the column panels of --what spmm */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static void help(void)
{
    printf("usage: frost bench DATASET.h5 [options]\n\n"
           "Time the kernels and training epochs on DATASET (for example `frost synth\n"
           "build/bench/arxiv.h5 --preset arxiv`), print a table and write JSON. Each epoch\n"
           "is shown against its roofline floor: its dense-product flops at the best GEMM\n"
           "rate measured, plus the bytes its SpMMs, post blocks, column sums and optimizer\n"
           "move at the triad bandwidth measured (both timed whenever epochs are).\n\n"
           "  --what LIST       comma list of: triad, spmm, post, gemm, gcn, gin (default: all)\n"
           "  --config FILE     time the epochs of this experiment (its first sweep point)\n"
           "                    instead of the built-in GCN and GIN\n"
           "  --set key=value   override a setting of --config's file (repeatable)\n"
           "  --repeat N        timed repeats per kernel and epochs per model (default 5)\n"
           "  --warmup N        untimed epochs first (default 2)\n"
           "  --widths LIST     feature widths of the SpMM and post-block timings (default 64,128,256)\n"
           "  --threads N       worker threads (default: all cores)\n"
           "  --split NAME      split for the training epochs (default: the dataset's only one)\n"
           "  --json FILE       write the results (default: results/bench-NAME.json)\n");
}


/* The next width of a comma list (advancing *w), or 0 at its end. */
static int64_t next_width(const char **w)
{
    if (!**w) return 0;
    char *end;
    const int64_t F = strtoll(*w, &end, 10);
    *w = *end == ',' ? end + 1 : end;
    return F > 0 ? F : 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stat3 {
    double med, min, max;
} stat3;

static stat3 stats(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return (stat3){t[n / 2], t[0], t[n - 1]};
}

/* a[i] = b[i] + s c[i] over arrays far beyond the caches: 3 x 4 bytes each.
 * Two layouts, the faster one counts (the kernels are then measured against
 * the most the machine showed): three plain malloc blocks, and one
 * huge-page block (frost__malloc) with the arrays at staggered offsets (at
 * equal 2 MiB alignment they would compete for the same cache sets). */
static void triad_layout(int64_t n, int huge, int repeat, double *t)
{
    float *blk = NULL, *a, *b, *c;
    const int64_t gap = 16 * 1024 + 64 * 4; /* floats between the arrays */
    if (huge) {
        blk = frost__malloc((size_t)(3 * n + 3 * gap) * 4);
        a = blk, b = a + n + gap, c = b + n + gap;
    } else {
        a = malloc((size_t)n * 4), b = malloc((size_t)n * 4), c = malloc((size_t)n * 4);
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) a[i] = 0, b[i] = 1, c[i] = 2;
    for (int r = 0; r < repeat; r++) {
        double t0 = frost__now();
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
        t[r] = frost__now() - t0;
    }
    if (huge) {
        free(blk);
    } else {
        free(a);
        free(b);
        free(c);
    }
}

static double triad_gbs(int repeat, stat3 *st)
{
    const int64_t n = 1 << 26; /* 256 MiB per array */
    double *t = malloc((size_t)repeat * sizeof *t);
    double best = 0;
    for (int huge = 0; huge < 2; huge++) {
        triad_layout(n, huge, repeat, t);
        stat3 s = stats(t, repeat);
        const double gbs = 12.0 * (double)n / s.med / 1e9;
        if (gbs > best) best = gbs, *st = s;
    }
    free(t);
    return best;
}

/* --config FILE and its --set overrides (argv entries) */
typedef struct {
    const char *file;
    int argc;
    char **argv;
} bench_config;

static int bench(const char *path, const char *what, const char *widths, const char *json, const char *split,
                 int64_t repeat, int64_t warmup, const bench_config *xp);

int cli_bench(int argc, char **argv)
{
    const char *path = NULL, *what = "triad,spmm,post,gemm,gcn,gin", *widths = "64,128,256", *json = NULL, *split = NULL;
    int64_t repeat = 5, warmup = 2, threads = 0;
    bench_config xp = {NULL, argc, argv};
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_opt(argc, argv, &i, "--what", &v)) {
            if (!v) return cli_usage_error("bench", "--what needs a list");
            what = v;
        } else if (cli_opt(argc, argv, &i, "--widths", &v)) {
            if (!v) return cli_usage_error("bench", "--widths needs a list");
            widths = v;
        } else if (cli_opt(argc, argv, &i, "--repeat", &v)) {
            if (!cli_i64("bench", "--repeat", v, &repeat) || repeat < 1) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--warmup", &v)) {
            if (!cli_i64("bench", "--warmup", v, &warmup) || warmup < 0) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--threads", &v)) {
            if (!cli_i64("bench", "--threads", v, &threads)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--json", &v)) {
            if (!v) return cli_usage_error("bench", "--json needs a file");
            json = v;
        } else if (cli_opt(argc, argv, &i, "--split", &v)) {
            if (!v) return cli_usage_error("bench", "--split needs a name");
            split = v;
        } else if (cli_opt(argc, argv, &i, "--config", &v)) {
            if (!v) return cli_usage_error("bench", "--config needs an experiment file");
            xp.file = v;
        } else if (cli_opt(argc, argv, &i, "--set", &v)) {
            if (!v || !strchr(v, '=') || v[0] == '=') return cli_usage_error("bench", "--set expects key=value");
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("bench", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("bench", "expected one dataset file");
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_usage_error("bench", "expected: frost bench DATASET.h5");
    if (!xp.file) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--set") == 0 || strncmp(argv[i], "--set=", 6) == 0)
                return cli_usage_error("bench", "--set applies to --config FILE");
    }
    if (threads > 0) frost_set_threads((int)threads);
    char *jbuf = NULL;
    if (!json) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        json = jbuf = frost__asprintf("results/bench-%.*s.json", (int)(strlen(b) > 3 ? strlen(b) - 3 : strlen(b)), b);
    }
    int rc = cli_check_output(json, &path, 1, NULL, false, false) ? CLI_EXIT_RUNTIME
                                                                   : bench(path, what, widths, json, split, repeat, warmup, &xp);
    free(jbuf);
    return rc;
}

/* What the kernels counted (frost__cost) in the second epoch. */
typedef struct {
    double flops, bytes;
    int64_t seen;
} epoch_cost;

static void count_epoch(const frost_epoch_record *rec, void *user)
{
    (void)rec;
    epoch_cost *c = user;
    double f, b;
    frost__cost_read(&f, &b);
    /* epoch 2 = the counts after it less those after epoch 1: the first
     * epoch also makes the held input's aggregation, once per run */
    if (c->seen == 0) c->flops = -f, c->bytes = -b;
    else if (c->seen == 1) c->flops += f, c->bytes += b;
    c->seen++;
}

/* warmup + repeat epochs of the model m describes on p, timed, with the
 * work of one epoch counted and its roofline floor: the dense products at
 * the best GEMM rate measured in this run, the memory-bound kernels' bytes
 * at the triad bandwidth. Printed, and added to jt under key. */
static frost_status time_epochs(frost_prepared *p, const frost_config *m, const char *name, const char *key,
                                int64_t warmup, int64_t repeat, double triad, double gemm_best, double *t,
                                frost__text *jt)
{
    const int64_t N = p->ds.num_nodes;
    frost_model_spec spec = frost_prepared_spec(p, m);
    frost_model *model;
    if (frost_model_new(&model, &spec, &p->A, p->symmetric ? &p->A : &p->AT, N) < 0) return FROST_ERR_INVALID;
    if (frost_model_init(model, (uint64_t)m->seed) < 0 ||
        frost_model_set_node_ids(model, p->ds.original_id) < 0) { /* as frost run does */
        frost_model_free(&model);
        return FROST_ERR_INVALID;
    }
    frost_task_data d = frost_prepared_task(p);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = warmup + repeat < 3 ? 3 : warmup + repeat; /* the second epoch is counted, without an evaluation */
    o.eval_every = 1000000; /* one evaluation, at the end, untimed here */
    o.optim = m->optim;
    o.seed = (uint64_t)m->seed;
    epoch_cost ec = {0, 0, 0};
    o.on_epoch = count_epoch, o.user = &ec;
    frost_run_result res;
    frost__cost_switch(true);
    const frost_status st_train = frost_train(model, &d, &o, &res);
    frost__cost_switch(false);
    if (st_train < 0) {
        frost_model_free(&model);
        return st_train;
    }
    for (int64_t r = 0; r < repeat; r++) t[r] = res.history[warmup + r].train_seconds;
    stat3 st = stats(t, (int)repeat);
    double mib = (double)frost_model_bytes(model) / 1048576.0;
    printf("%-34s %10.3f s      (min %.3f, max %.3f; model %.0f MiB allocated; peak RSS so far %.0f MiB)\n", name,
           st.med, st.min, st.max, mib, (double)frost__peak_rss() / 1048576.0);
    const double floor_s = ec.flops / (gemm_best * 1e9) + ec.bytes / (triad * 1e9);
    printf("%-34s %10.3f s      (%.1f GFLOP at %.0f GFLOP/s + %.2f GB at %.1f GB/s): epoch %.2fx the floor\n",
           "  roofline floor", floor_s, ec.flops / 1e9, gemm_best, ec.bytes / 1e9, triad, st.med / floor_s);
    frost__text_printf(jt,
                       ",\n  \"%s\": {\"median_s\": %.6f, \"min_s\": %.6f, \"max_s\": %.6f, \"model_bytes\": %zu, "
                       "\"final_loss\": %.6f, \"flops\": %.6g, \"bytes\": %.6g, \"gemm_gflops\": %.4f, \"triad_gbs\": %.4f, "
                       "\"floor_s\": %.6f, \"ratio_to_floor\": %.4f}",
                       key, st.med, st.min, st.max, frost_model_bytes(model), res.final_loss, ec.flops, ec.bytes,
                       gemm_best, triad, floor_s, st.med / floor_s);
    frost_run_result_release(&res);
    frost_model_free(&model);
    return FROST_OK;
}

static int bench(const char *path, const char *what, const char *widths, const char *json, const char *split,
                 int64_t repeat, int64_t warmup, const bench_config *xp)
{
    const int T = frost_get_threads();
    /* an epoch's floor needs the triad bandwidth and the GEMM rate of this
     * run: timed too when only epochs are asked for */
    char what_all[256];
    if ((strstr(what, "gcn") || strstr(what, "gin") || xp->file) && (!strstr(what, "triad") || !strstr(what, "gemm"))) {
        snprintf(what_all, sizeof what_all, "%.200s%s%s", what, strstr(what, "triad") ? "" : ",triad",
                 strstr(what, "gemm") ? "" : ",gemm");
        what = what_all;
    }
    /* composed in memory, written under a temporary name and renamed when
     * complete (frost__text_commit): a run that fails or is interrupted
     * leaves no truncated JSON behind. Whether the folder takes a file was
     * checked before the timings (cli_check_output probes it). */
    frost__text jt;
    frost__text_init(&jt);
    frost__text_printf(&jt, "{\n  \"dataset\": ");
    frost__text_json_string(&jt, path);
    frost__text_printf(&jt, ",\n  \"threads\": %d,\n  \"repeat\": %lld,\n  \"blas_core\": \"%s\"", T,
                       (long long)repeat, frost_blas_core());
    printf("%d threads; product kernels: %s%s\n", T, frost_blas_core(),
           getenv("OPENBLAS_CORETYPE") ? " (forced by OPENBLAS_CORETYPE)" : "");
    double *t = malloc((size_t)(repeat + warmup + 8) * sizeof *t);
    double triad = NAN, gemm_best = 0.0; /* GB/s, GFLOP/s: the epochs' floor */

    if (strstr(what, "triad")) {
        stat3 st;
        triad = triad_gbs((int)repeat, &st);
        printf("%-34s %10.2f GB/s   (median %.4f s, min %.4f, max %.4f; %d threads)\n", "stream triad (3 x 256 MiB)", triad,
               st.med, st.min, st.max, T);
        frost__text_printf(&jt, ",\n  \"triad_gbs\": %.4f", triad);
    }

    /* the dataset prepared as the experiment of --config asks (its first
     * sweep point, on DATASET), or with the defaults */
    frost_config c;
    frost_config_default(&c);
    bool bad = false;
    if (xp->file) {
        frost_config sweep;
        frost_config_default(&sweep);
        bad = frost_config_load(&sweep, xp->file) < 0;
        for (int i = 1; !bad && i < xp->argc; i++) {
            const char *v;
            if (cli_opt(xp->argc, xp->argv, &i, "--set", &v)) bad = frost_config_set_arg(&sweep, v) < 0;
        }
        bad = bad || frost__path_copy(sweep.dataset, sizeof sweep.dataset, path, "frost bench") < 0 ||
              frost_config_check(&sweep) < 0 || frost_config_point(&sweep, 0, &c) < 0;
        if (!bad) printf("epochs of %s (its first sweep point) on %s\n", xp->file, path);
    }
    if (split) frost__strlcpy(c.split, split, sizeof c.split);
    frost_prepared p;
    if (bad || frost__path_copy(c.dataset, sizeof c.dataset, path, "frost bench") < 0 || frost_prepare(&p, &c) < 0) {
        frost__text_release(&jt);
        free(t);
        return cli_fail();
    }
    const int64_t N = p.ds.num_nodes;
    printf("dataset %s: %lld nodes, %lld aggregation entries (symmetrised, no self-loops), %lld features\n", path,
           (long long)N, (long long)p.A.nnz, (long long)p.ds.num_features);
    frost__text_printf(&jt, ",\n  \"nodes\": %lld,\n  \"aggregation_nnz\": %lld", (long long)N, (long long)p.A.nnz);

    if (strstr(what, "spmm")) {
        float *dinvs = frost__malloc((size_t)N * 4), *dinv = frost__malloc((size_t)N * 4);
        frost_aggr op;
        frost_aggr_gcn(&op, &p.A, &p.A, dinvs, dinv);
        frost__text_printf(&jt, ",\n  \"spmm\": [");
        int first = 1;
        const char *w = widths;
        for (int64_t F; (F = next_width(&w)) > 0;) {
            float *X = frost__malloc((size_t)(N * F) * 4), *Y = frost__malloc((size_t)(N * F) * 4);
            for (int64_t k = 0; k < N * F; k++) X[k] = (float)(k % 17) * 0.1f;
            frost_spmm(&op, X, F, F, Y, F); /* warm */
            for (int64_t r = 0; r < repeat; r++) {
                double t0 = frost__now();
                frost_spmm(&op, X, F, F, Y, F);
                t[r] = frost__now() - t0;
            }
            stat3 st = stats(t, (int)repeat);
            /* the same X in the column panels a layer that aggregates after
             * its product hands the SpMM (tensor_impl.h) */
            double panel_s = -1.0;
            bool panel_same = false;
            if (frost__panels(F) > 1) {
                float *Xp = frost__malloc((size_t)(N * F) * 4), *Yp = frost__malloc((size_t)(N * F) * 4);
                for (int64_t i = 0; i < N; i++)
                    for (int64_t j = 0; j < F; j++) *frost__panel_at(Xp, N, F, i, j) = X[i * F + j];
                frost__spmm_panels(&op, Xp, F, Yp, F); /* warm */
                double *tp = frost__malloc((size_t)repeat * sizeof(double));
                for (int64_t r = 0; r < repeat; r++) {
                    double t0 = frost__now();
                    frost__spmm_panels(&op, Xp, F, Yp, F);
                    tp[r] = frost__now() - t0;
                }
                panel_s = stats(tp, (int)repeat).med;
                panel_same = memcmp(Y, Yp, (size_t)(N * F) * 4) == 0;
                free(tp);
                free(Xp);
                free(Yp);
            }
            /* bytes the kernel must move: every stored entry reads one row of X
             * (4F) and its column id (4); every row reads its pointer, scale
             * factors and writes its output row */
            double bytes = (double)p.A.nnz * (4.0 * (double)F + 4.0) + (double)N * (4.0 * (double)F + 8.0 + 12.0);
            double gbs = bytes / st.med / 1e9, gflops = 2.0 * (double)p.A.nnz * (double)F / st.med / 1e9;
            char lab[64];
            snprintf(lab, sizeof lab, "spmm GCN-normalised, width %lld", (long long)F);
            printf("%-34s %10.2f GB/s   %.2f GFLOP/s (median %.4f s, min %.4f, max %.4f)%s\n", lab, gbs, gflops, st.med,
                   st.min, st.max, "");
            if (isfinite(triad)) printf("%-34s %10.1f %% of the stream triad\n", "", 100.0 * gbs / triad);
            if (panel_s >= 0)
                printf("%-34s %10.4f s median in %lld column panels (%s)\n", "", panel_s, (long long)frost__panels(F),
                       panel_same ? "the same sums" : "SUMS DIFFER");
            frost__text_printf(&jt, "%s\n    {\"width\": %lld, \"median_s\": %.6f, \"min_s\": %.6f, \"max_s\": %.6f, \"gbs\": %.4f, "
                        "\"gflops\": %.4f, \"fraction_of_triad\": %.4f",
                    first ? "" : ",", (long long)F, st.med, st.min, st.max, gbs, gflops, isfinite(triad) ? gbs / triad : -1.0);
            if (panel_s >= 0) frost__text_printf(&jt, ", \"panels_median_s\": %.6f, \"panels_same\": %s", panel_s, panel_same ? "true" : "false");
            frost__text_printf(&jt, "}");
            first = 0;
            free(X);
            free(Y);
        }
        frost__text_printf(&jt, "\n  ]");
        free(dinvs);
        free(dinv);
    }

    if (strstr(what, "post")) {
        /* the fused post block of a hidden layer as training runs it: batch
         * norm (non-affine), ReLU, the [h > 0] bits; forward reads z twice
         * (statistics, then h) and writes h, backward reads dh and z twice
         * (sums, then dz) and writes dz */
        frost__text_printf(&jt, ",\n  \"post\": [");
        const char *w = widths;
        for (int64_t F, first = 1; (F = next_width(&w)) > 0; first = 0) {
            float *z = frost__malloc((size_t)(N * F) * 4), *h = frost__malloc((size_t)(N * F) * 4);
            float *dh = frost__malloc((size_t)(N * F) * 4);
            float *mean = frost__malloc((size_t)F * 4), *invstd = frost__malloc((size_t)F * 4);
            double *work = frost__malloc((size_t)F * 4 * sizeof(double));
            uint64_t *bits = frost__calloc((size_t)((N * F + 63) / 64 + 1), sizeof(uint64_t));
            for (int64_t k = 0; k < N * F; k++) z[k] = (float)(k % 17) * 0.1f - 0.8f, dh[k] = (float)(k % 5) * 0.1f;
            frost_post pb = {.batchnorm = true, .mean = mean, .invstd = invstd, .eps = 1e-5f, .work = work, .bits = bits};
            double tf[2];
            for (int dir = 0; dir < 2; dir++) {
                for (int64_t r = -1; r < repeat; r++) { /* r = -1: warm */
                    double t0 = frost__now();
                    if (dir == 0) frost_post_forward(&pb, h, z, N, F, true);
                    else frost_post_backward(&pb, h, NULL, NULL, dh, NULL, z, N, F); /* dz over h */
                    if (r >= 0) t[r] = frost__now() - t0;
                }
                tf[dir] = stats(t, (int)repeat).med;
            }
            const double mb = (double)(N * F) * 4.0 / 1e9;
            const double gf = 3.0 * mb / tf[0], gb = 5.0 * mb / tf[1];
            char lab[64];
            snprintf(lab, sizeof lab, "post block width %lld fwd / bwd", (long long)F);
            printf("%-34s %10.2f / %.2f GB/s (median %.4f / %.4f s)", lab, gf, gb, tf[0], tf[1]);
            if (isfinite(triad)) printf("  %.1f / %.1f %% of the triad", 100.0 * gf / triad, 100.0 * gb / triad);
            printf("\n");
            frost__text_printf(&jt, "%s\n    {\"width\": %lld, \"forward_median_s\": %.6f, \"forward_gbs\": %.4f, "
                        "\"backward_median_s\": %.6f, \"backward_gbs\": %.4f}",
                    first ? "" : ",", (long long)F, tf[0], gf, tf[1], gb);
            free(z);
            free(h);
            free(dh);
            free(mean);
            free(invstd);
            free(work);
            free(bits);
        }
        frost__text_printf(&jt, "\n  ]");
    }

    if (strstr(what, "gemm")) {
        /* the GCN recipe's shapes (N x 128 x 256 forward, 256 x 256 over N
         * the weight gradient), the supermask GIN's (386 wide, its 40-class
         * last layer; forward, input gradient dY W^T, weight gradient), and
         * a square 2048-cube for comparison. Where frost's own AVX-512
         * products run, each shape is timed again with OpenBLAS alone. */
        const struct {
            int64_t M, N, K;
            bool ta, tb;
            const char *name;
        } shapes[] = {{N, 256, 128, false, false, "gemm N x 256 x 128"},
                      {N, 256, 256, false, false, "gemm N x 256 x 256"},
                      {256, 256, N, true, false, "gemm 256 x 256 x N (X^T dY)"},
                      {N, 386, 386, false, false, "gemm N x 386 x 386"},
                      {N, 386, 386, false, true, "gemm N x 386 x 386 (dY W^T)"},
                      {386, 386, N, true, false, "gemm 386 x 386 x N (X^T dY)"},
                      {N, 40, 386, false, false, "gemm N x 40 x 386"},
                      {N, 386, 40, false, true, "gemm N x 386 x 40 (dY W^T)"},
                      {386, 40, N, true, false, "gemm 386 x 40 x N (X^T dY)"},
                      {2048, 2048, 2048, false, false, "gemm 2048 x 2048 x 2048"}};
        const int ns = (int)(sizeof shapes / sizeof shapes[0]);
        const int isa = frost__isa(-1);
        frost__text_printf(&jt, ",\n  \"gemm\": [");
        for (int s = 0; s < ns; s++) {
            const int64_t M = shapes[s].M, Nn = shapes[s].N, K = shapes[s].K;
            const bool ta = shapes[s].ta, tb = shapes[s].tb;
            float *A = frost__malloc((size_t)(M * K) * 4), *B = frost__malloc((size_t)(K * Nn) * 4), *C = frost__malloc((size_t)(M * Nn) * 4);
            for (int64_t k = 0; k < M * K; k++) A[k] = (float)(k % 13) * 0.01f;
            for (int64_t k = 0; k < K * Nn; k++) B[k] = (float)(k % 7) * 0.01f;
            /* the weight-gradient shape as training runs it: split over K */
            float *W = ta ? frost__malloc(frost_gemm_work_floats(M, Nn) * sizeof(float)) : NULL;
            double gf[2] = {0, 0};
            stat3 st = {0, 0, 0};
            for (int alone = 0; alone < (isa >= FROST__ISA_AVX2 ? 2 : 1); alone++) {
                if (alone) frost__isa(FROST__ISA_GENERIC);
                frost_gemm_ws(ta, tb, M, Nn, K, 1.0f, A, ta ? M : K, B, tb ? K : Nn, 0.0f, C, Nn, W);
                for (int64_t r = 0; r < repeat; r++) {
                    double t0 = frost__now();
                    frost_gemm_ws(ta, tb, M, Nn, K, 1.0f, A, ta ? M : K, B, tb ? K : Nn, 0.0f, C, Nn, W);
                    t[r] = frost__now() - t0;
                }
                stat3 sp = stats(t, (int)repeat);
                if (!alone) st = sp;
                gf[alone] = 2.0 * (double)M * (double)Nn * (double)K / sp.med / 1e9;
                if (gf[alone] > gemm_best) gemm_best = gf[alone];
                if (alone) frost__isa(isa);
            }
            free(W);
            printf("%-34s %10.2f GFLOP/s (median %.4f s, min %.4f, max %.4f)", shapes[s].name, gf[0], st.med, st.min,
                   st.max);
            if (gf[1] > 0) printf("; OpenBLAS alone %.2f", gf[1]);
            printf("\n");
            frost__text_printf(&jt, "%s\n    {\"shape\": \"%s\", \"median_s\": %.6f, \"gflops\": %.4f", s ? "," : "",
                    shapes[s].name, st.med, gf[0]);
            if (gf[1] > 0) frost__text_printf(&jt, ", \"openblas_gflops\": %.4f", gf[1]);
            frost__text_printf(&jt, "}");
            free(A);
            free(B);
            free(C);
        }
        frost__text_printf(&jt, "\n  ]");
    }

    /* training epochs: the experiment given by --config, or the OGB arxiv
     * GCN recipe and the paper's supermask GIN */
    for (int which = 0; which < 2; which++) {
        frost_config m = c;
        const char *name, *key;
        if (xp->file) {
            if (which) break;
            name = "epoch: --config", key = "epoch_config";
        } else if (which == 0) {
            if (!strstr(what, "gcn")) continue;
            name = "epoch: GCN 3 x 256 (arxiv recipe)", key = "epoch_gcn";
            m.model.arch = FROST_ARCH_GCN;
            m.model.layers = 3;
            m.model.hidden = 256;
            m.model.norm = FROST_NORM_BATCH;
            m.model.dropout = 0.5f;
            m.method = FROST_METHOD_TRAINED;
            m.optim.kind = FROST_OPTIM_ADAM;
        } else {
            if (!strstr(what, "gin")) continue;
            name = "epoch: supermask GIN 4 x 386", key = "epoch_slt_gin";
            m.model.arch = FROST_ARCH_GIN;
            m.model.layers = 4;
            m.model.hidden = 386;
            m.model.bias = false;
            m.model.norm = FROST_NORM_BATCH_NONAFFINE;
            m.model.norm_last = true;
            m.model.skip_head = true;
            m.model.keep_activations = false; /* as experiments/arxiv-slt-gin.cfg */
            m.model.dropout = 0.0f;
            m.method = FROST_METHOD_SLT;
            m.model.mask.sparsity = 0.5;
            m.optim.kind = FROST_OPTIM_ADAMW;
        }
        if (time_epochs(&p, &m, name, key, warmup, repeat, triad, gemm_best, t, &jt) < 0) {
            frost_prepared_release(&p);
            frost__text_release(&jt);
            free(t);
            return cli_fail();
        }
    }
    frost__text_printf(&jt, ",\n  \"peak_rss_bytes\": %zu\n}\n", frost__peak_rss());
    if (frost__text_commit(&jt, json) < 0) {
        cli_fail();
        frost_prepared_release(&p);
        free(t);
        return CLI_EXIT_RUNTIME;
    }
    printf("peak RSS %.0f MiB; wrote %s\n", (double)frost__peak_rss() / 1048576.0, json);
    frost_prepared_release(&p);
    free(t);
    return 0;
}

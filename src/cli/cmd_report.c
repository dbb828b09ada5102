/*
 * cmd_report.c - `frost report RESULTS`: the sweep table (text and CSV) and
 * gnuplot plots of the test metric against model size and against the
 * freezing ratio, with the weight-trained counterpart as a reference line.
 */
#include "cli/cli.h"
#include "io/file_impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void help(void)
{
    printf("usage: frost report RESULTS [-o DIR] [--csv FILE] [--no-plots]\n\n"
           "Print one row per configuration (method, model, p, r, s, runs, test and validation\n"
           "mean +- sample std, model size in KiB, compression against the weight-trained float32\n"
           "counterpart, and the run with the best validation metric, ready for frost export).\n"
           "Writes the table as CSV and, with gnuplot, two plots per model (PNG and SVG): test\n"
           "metric against model size and against the freezing ratio f = p + r, the trained\n"
           "counterpart drawn as a horizontal reference line.\n\n"
           "  -o DIR        where plots and CSV go (default: RESULTS without .h5, plus -report)\n"
           "  --csv FILE    the CSV file (default: DIR/summary.csv)\n"
           "  --no-plots    table and CSV only\n"
           "  --best METHOD print only the id of the best run of METHOD (the configuration with the\n"
           "                best mean validation metric, its run with the best validation metric)\n"
           "  --history RUN print one run's per-epoch history as CSV (epoch, loss, train, valid,\n"
           "                test, lr, seconds); metrics are empty on epochs without evaluation\n");
}

typedef struct group {
    const frost_summary_row *row;
    char best_id[160];
    double best_val;
} group;

static void fill_best(group *g, int64_t n, const frost_results *r)
{
    for (int64_t k = 0; k < n; k++) {
        g[k].best_val = -INFINITY;
        snprintf(g[k].best_id, sizeof g[k].best_id, "%s", g[k].row->first_id);
    }
    /* a run belongs to the group whose configuration equals its own minus the seed line */
    for (int64_t q = 0; q < r->n; q++) {
        const frost_run_info *ri = &r->runs[q];
        if (strcmp(ri->status, "ok") != 0) continue;
        for (int64_t k = 0; k < n; k++) {
            const char *gc = g[k].row->config;
            /* compare ignoring the run's seed line */
            const char *a = ri->config, *b = gc;
            bool same = true;
            while (*a || *b) {
                if (strncmp(a, "seed = ", 7) == 0) {
                    const char *e = strchr(a, '\n');
                    a = e ? e + 1 : a + strlen(a);
                    continue;
                }
                const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
                size_t la = ea ? (size_t)(ea - a + 1) : strlen(a), lb = eb ? (size_t)(eb - b + 1) : strlen(b);
                if (la != lb || strncmp(a, b, la) != 0) {
                    same = false;
                    break;
                }
                a += la;
                b += lb;
            }
            if (same && ri->val_metric > g[k].best_val) {
                g[k].best_val = ri->val_metric;
                snprintf(g[k].best_id, sizeof g[k].best_id, "%s", ri->id);
            }
        }
    }
}

static int mkdir_p(const char *d)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", d);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "frost: %s: cannot create the folder: %s\n", d, strerror(errno));
        return -1;
    }
    return 0;
}

/* Plots for one model: data files, a gnuplot script, then gnuplot. */
static int plot_model(const char *dir, const char *model, const group *g, int64_t n, const char *metric, bool *made)
{
    char path[1200];
    double ref = NAN, ref_std = 0;
    int64_t pts = 0;
    snprintf(path, sizeof path, "%s/%s-points.dat", dir, model);
    frost__text f; /* written whole or not at all (frost__text_commit) */
    frost__text_init(&f);
    frost__text_printf(&f, "# model_kib test_mean test_std freeze sparsity prune_ratio lock_ratio\n");
    for (int64_t k = 0; k < n; k++) {
        const frost_summary_row *w = g[k].row;
        if (strcmp(w->model, model) != 0) continue;
        if (isnan(w->sparsity)) {
            if (strcmp(w->method, "trained") == 0) {
                ref = 100 * w->test_mean;
                ref_std = 100 * w->test_std;
            }
            continue;
        }
        frost__text_printf(&f, "%.6g %.6g %.6g %.6g %.6g %.6g %.6g\n", (double)w->model_bits / 8192.0, 100 * w->test_mean,
                100 * w->test_std, w->prune_ratio + w->lock_ratio, w->sparsity, w->prune_ratio, w->lock_ratio);
        pts++;
    }
    if (frost__text_commit(&f, path) < 0) {
        cli_fail();
        return -1;
    }
    if (pts == 0) return 0;
    snprintf(path, sizeof path, "%s/%s-plots.gp", dir, model);
    frost__text_init(&f);
    char ref_line[256] = "";
    if (!isnan(ref))
        snprintf(ref_line, sizeof ref_line,
                 ", %g with lines dt 2 lw 2 lc rgb '#444444' title 'weight-trained %s: %.2f +- %.2f'", ref, model, ref,
                 ref_std);
    frost__text_printf(&f,
            "# generated by frost report\nset datafile commentschars '#'\nset grid\nset key bottom right\n"
            "set ylabel 'test %s (%%)'\n",
            metric);
    const char *terms[2][2] = {{"pngcairo size 900,600 font ',11'", "png"}, {"svg size 900,600 dynamic", "svg"}};
    for (int t = 0; t < 2; t++) {
        frost__text_printf(&f, "set terminal %s\n", terms[t][0]);
        frost__text_printf(
            &f,
            "set output '%s/%s-test-vs-size.%s'\nset logscale x\nset xlabel 'model size to store (KiB, log scale)'\n"
            "set title 'strong lottery tickets: %s, test metric against size'\n"
            "plot '%s/%s-points.dat' using 1:2:3 with yerrorbars pt 7 lc rgb '#1f77b4' title 'tickets (mean +- std "
            "over seeds)'%s\n",
            dir, model, terms[t][1], model, dir, model, ref_line);
        frost__text_printf(
            &f,
            "unset logscale x\nset xlabel 'freezing ratio f = p + r'\n"
            "set output '%s/%s-test-vs-freezing.%s'\nset title 'strong lottery tickets: %s, test metric against "
            "freezing'\n"
            "plot for [s in system(\"awk '!/^#/ {print $5}' %s/%s-points.dat | sort -u | tr '\\\\n' ' '\")] "
            "'%s/%s-points.dat' using ($5 == s ? $4 : 1/0):2:3 with yerrorlines pt 7 title sprintf('s = %%s', s)%s\n",
            dir, model, terms[t][1], model, dir, model, dir, model, ref_line);
    }
    if (frost__text_commit(&f, path) < 0) {
        cli_fail();
        return -1;
    }
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", path);
    FILE *pp = popen(cmd, "r");
    if (!pp) {
        fprintf(stderr, "frost: cannot run gnuplot (apt-get install gnuplot-nox)\n");
        return -1;
    }
    char line[512], err[2048] = "";
    while (fgets(line, sizeof line, pp)) strncat(err, line, sizeof err - strlen(err) - 1);
    int rc = pclose(pp);
    if (rc != 0) {
        for (char *c = err; *c; c++)
            if (*c == '\n') *c = ' ';
        fprintf(stderr, "frost: gnuplot failed on %s: %s\n", path,
                err[0] ? err : "(gnuplot not installed? apt-get install gnuplot-nox)");
        return -1;
    }
    *made = true;
    printf("plots: %s/%s-test-vs-size.png  %s/%s-test-vs-freezing.png  (and .svg)\n", dir, model, dir, model);
    return 0;
}

static int load_table(const char *path, frost_results *r, frost_summary_row **rows, group **g, int64_t *n)
{
    if (frost_results_load(r, path) < 0) return -1;
    if (frost_results_summarize(r, rows, n) < 0) {
        frost_results_release(r);
        return -1;
    }
    *g = calloc((size_t)(*n ? *n : 1), sizeof **g);
    for (int64_t k = 0; k < *n; k++) (*g)[k].row = &(*rows)[k];
    fill_best(*g, *n, r);
    return 0;
}

/* Portable reward tuning: one row per method of the scenario, the gap each
 * closes between the new base and its fine-tuned oracle, and the cost of one
 * full-graph inference pass. */
static void print_prt_table(const char *path, const frost_results *r, const group *g, int64_t n)
{
    static const struct {
        const char *role, *label;
    } order[] = {{"base-new", "new base alone"},
                 {"prt", "new base + PRT reward"},
                 {"eft", "new base + EFT"},
                 {"ft-new", "new base fine-tuned (oracle)"},
                 {"ft-old", "old base fine-tuned"},
                 {"base-old", "old base alone"},
                 {"prt-old", "old base + PRT (training)"}};
    const frost_summary_row *by[7] = {NULL};
    for (int k = 0; k < 7; k++)
        for (int64_t q = 0; q < n; q++)
            if (strcmp(g[q].row->role, order[k].role) == 0 && !by[k]) by[k] = g[q].row;
    const double lo = by[0] ? by[0]->test_mean : (double)NAN, hi = by[3] ? by[3]->test_mean : (double)NAN;
    printf("%-29s %6s  %-16s %-16s %10s %12s %13s\n", "method", "models", "test mean+-std", "valid mean+-std",
           "gap closed", "inference s", "inference MiB");
    for (int k = 0; k < 7; k++) {
        const frost_summary_row *w = by[k];
        if (!w) continue;
        char t[32], v[32], gap[16] = "-", is[16] = "-", im[16] = "-";
        snprintf(t, sizeof t, "%.2f +- %.2f", 100 * w->test_mean, 100 * w->test_std);
        snprintf(v, sizeof v, "%.2f +- %.2f", 100 * w->val_mean, 100 * w->val_std);
        if (k < 6 && isfinite(lo) && isfinite(hi) && hi != lo)
            snprintf(gap, sizeof gap, "%.1f%%", 100 * (w->test_mean - lo) / (hi - lo));
        if (w->models_evaluated > 0) {
            snprintf(is, sizeof is, "%.4f", w->infer_seconds_mean);
            snprintf(im, sizeof im, "%.1f", (double)w->infer_bytes / 1048576.0);
        }
        printf("%-29s %6lld  %-16s %-16s %10s %12s %13s\n", order[k].label, (long long)w->models_evaluated, t, v, gap,
               is, im);
    }
    if (by[1] && by[2] && by[2]->infer_seconds_mean > 0)
        printf("PRT against EFT: inference time %.2fx, memory %.2fx (%lld against %lld models)\n",
               by[1]->infer_seconds_mean / by[2]->infer_seconds_mean,
               (double)by[1]->infer_bytes / (double)by[2]->infer_bytes, (long long)by[1]->models_evaluated,
               (long long)by[2]->models_evaluated);
    if (by[1])
        printf("reward: %s, %.1f KiB to store (%lld bits)%s\n", by[1]->model, (double)by[1]->model_bits / 8192.0,
               (long long)by[1]->model_bits, isnan(by[1]->sparsity) ? "" : ", a strong lottery ticket");
    printf("(%s: %s on the task's test nodes, %lld seeds; gap closed = (method - new) / (oracle - new); std is the "
           "sample standard deviation)\n",
           path, r->n ? r->runs[0].metric : "?", by[1] ? (long long)by[1]->runs : 0LL);
}

static void print_table(const char *path, const frost_results *r, const group *g, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        if (g[k].row->role[0]) {
            print_prt_table(path, r, g, n);
            return;
        }
    bool slt = false;
    for (int64_t k = 0; k < n; k++) slt |= !isnan(g[k].row->sparsity);
    printf("%-8s %-8s %-10s", "method", "model", "dataset");
    if (slt) printf(" %5s %5s %5s %5s", "p", "r", "s", "f");
    printf(" %4s  %-16s %-16s %10s %10s %11s %8s  %s\n", "runs", "test mean+-std", "valid mean+-std", "model KiB",
           "compr.full", "compr.paper", "s/run", "best run");
    bool any_degenerate = false;
    for (int64_t k = 0; k < n; k++) {
        const frost_summary_row *w = g[k].row;
        char t[32], v[32];
        snprintf(t, sizeof t, "%.2f +- %.2f", 100 * w->test_mean, 100 * w->test_std);
        snprintf(v, sizeof v, "%.2f +- %.2f", 100 * w->val_mean, 100 * w->val_std);
        printf("%-8s %-8s %-10.10s", w->method, w->model, w->dataset);
        if (slt && isnan(w->sparsity))
            printf(" %5s %5s %5s %5s", "-", "-", "-", "-");
        else if (slt)
            printf(" %5.2f %5.2f %5.2f %5.2f", w->prune_ratio, w->lock_ratio, w->sparsity,
                   w->prune_ratio + w->lock_ratio);
        char paper[24] = "-";
        if (w->paper_bits > 0) snprintf(paper, sizeof paper, "%.1fx", (double)w->dense_bits / (double)w->paper_bits);
        printf(" %4lld  %-16s %-16s %10.1f %9.1fx %11s %8.2f  %s%s\n", (long long)w->runs, t, v,
               (double)w->model_bits / 8192.0, (double)w->dense_bits / (double)w->model_bits, paper,
               w->train_seconds_mean, g[k].best_id, w->degenerate ? "  [degenerate]" : "");
        any_degenerate |= w->degenerate;
    }
    if (slt)
        printf("(compr.full: the weight-trained float32 model against everything a ticket stores: seed, mask bits, "
               "batch-norm statistics; compr.paper: the SLT paper's accounting, mask bits of the searched weights "
               "only)\n");
    if (any_degenerate)
        printf("([degenerate]: nothing was searched at that point, s <= p or s >= 1 - r; run with "
               "slt.allow_degenerate)\n");
    printf("(%s: %s, split %s; std is the sample standard deviation over seeds)\n", path,
           r->n ? r->runs[0].metric : "?", r->n ? r->runs[0].split : "?");
}

int cli_print_table(const char *path)
{
    frost_results r;
    frost_summary_row *rows;
    group *g;
    int64_t n;
    if (load_table(path, &r, &rows, &g, &n) < 0) return cli_fail();
    print_table(path, &r, g, n);
    free(g);
    frost_summary_release(rows, n);
    frost_results_release(&r);
    return 0;
}

/* One run's history as CSV on stdout. */
static int print_history(const char *path, const char *id)
{
    frost_epoch_record *h;
    int64_t n;
    if (frost_results_read_history(path, id, &h, &n) < 0) return cli_fail();
    printf("epoch,loss,train_metric,valid_metric,test_metric,lr,train_seconds,eval_seconds\n");
    for (int64_t e = 0; e < n; e++) {
        printf("%lld,%.9g", (long long)h[e].epoch, h[e].loss);
        const double m[3] = {h[e].train_metric, h[e].valid_metric, h[e].test_metric};
        for (int k = 0; k < 3; k++) isnan(m[k]) ? printf(",") : printf(",%.6f", m[k]);
        printf(",%.9g,%.6f,%.6f\n", h[e].lr, h[e].train_seconds, h[e].eval_seconds);
    }
    free(h);
    return 0;
}

int cli_report(int argc, char **argv)
{
    const char *path = NULL, *dir = NULL, *csv = NULL, *best_method = NULL, *history = NULL;
    bool plots = true;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_opt(argc, argv, &i, "-o", &v)) {
            if (!v) return cli_usage_error("report", "-o needs a folder");
            dir = v;
        } else if (cli_opt(argc, argv, &i, "--csv", &v)) {
            if (!v) return cli_usage_error("report", "--csv needs a file name");
            csv = v;
        } else if (cli_flag(argv, i, "--no-plots")) {
            plots = false;
        } else if (cli_opt(argc, argv, &i, "--best", &v)) {
            if (!v) return cli_usage_error("report", "--best needs a method (trained, slt, ...)");
            best_method = v;
        } else if (cli_opt(argc, argv, &i, "--history", &v)) {
            if (!v) return cli_usage_error("report", "--history needs a run id (frost report lists them)");
            history = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("report", "unknown option '%s'", argv[i]);
        } else if (path) {
            return cli_usage_error("report", "expected one results file");
        } else {
            path = argv[i];
        }
    }
    if (!path) return cli_usage_error("report", "expected: frost report RESULTS");
    if (history) return print_history(path, history);
    frost_results r;
    frost_summary_row *rows;
    group *g;
    int64_t n;
    if (load_table(path, &r, &rows, &g, &n) < 0) return cli_fail();
    if (best_method) {
        int64_t b = -1;
        for (int64_t k = 0; k < n; k++)
            if (strcmp(g[k].row->method, best_method) == 0 && (b < 0 || g[k].row->val_mean > g[b].row->val_mean)) b = k;
        int rc = 0;
        if (b < 0) {
            fprintf(stderr, "frost: %s: no finished run of method '%s'\n", path, best_method);
            rc = CLI_EXIT_RUNTIME;
        } else {
            printf("%s\n", g[b].best_id);
        }
        free(g);
        frost_summary_release(rows, n);
        frost_results_release(&r);
        return rc;
    }
    print_table(path, &r, g, n);
    const char *metric = r.n ? r.runs[0].metric : "metric";

    char dbuf[1100];
    if (!dir) {
        snprintf(dbuf, sizeof dbuf, "%s", path);
        size_t L = strlen(dbuf);
        if (L > 3 && strcmp(dbuf + L - 3, ".h5") == 0) dbuf[L - 3] = 0;
        strncat(dbuf, "-report", sizeof dbuf - strlen(dbuf) - 1);
        dir = dbuf;
    }
    int rc = 0;
    if (mkdir_p(dir) != 0) rc = CLI_EXIT_RUNTIME;
    char cbuf[1200];
    if (rc == 0) {
        if (!csv) {
            snprintf(cbuf, sizeof cbuf, "%s/summary.csv", dir);
            csv = cbuf;
        }
        frost__text f; /* written whole or not at all (frost__text_commit) */
        frost__text_init(&f);
        {
            frost__text_printf(&f, "method,model,dataset,split,prune_ratio,lock_ratio,sparsity,freeze,runs,test_mean,test_std,"
                       "val_mean,val_std,model_bits,dense_bits,model_kib,compression,best_run,paper_bits,"
                       "compression_paper,degenerate\n");
            for (int64_t k = 0; k < n; k++) {
                const frost_summary_row *w = g[k].row;
                frost__text_printf(&f, "%s,%s,%s,%s,%.9g,%.9g,%.9g,%.9g,%lld,%.9g,%.9g,%.9g,%.9g,%lld,%lld,%.6g,%.6g,%s,%lld,",
                        w->method, w->model, w->dataset, w->split, w->prune_ratio, w->lock_ratio, w->sparsity,
                        w->prune_ratio + w->lock_ratio, (long long)w->runs, w->test_mean, w->test_std, w->val_mean,
                        w->val_std, (long long)w->model_bits, (long long)w->dense_bits, (double)w->model_bits / 8192.0,
                        (double)w->dense_bits / (double)w->model_bits, g[k].best_id, (long long)w->paper_bits);
                if (w->paper_bits > 0) frost__text_printf(&f, "%.6g", (double)w->dense_bits / (double)w->paper_bits);
                frost__text_printf(&f, ",%d\n", w->degenerate ? 1 : 0);
            }
            if (frost__text_commit(&f, csv) < 0)
                rc = cli_fail();
            else
                printf("csv: %s\n", csv);
        }
    }
    if (rc == 0 && plots) {
        /* one pair of plots per model that has tickets */
        for (int64_t k = 0; k < n && rc == 0; k++) {
            bool seen = false;
            for (int64_t q = 0; q < k; q++) seen |= strcmp(g[q].row->model, g[k].row->model) == 0;
            if (seen) continue;
            bool made = false;
            if (plot_model(dir, g[k].row->model, g, n, metric, &made) != 0) rc = CLI_EXIT_RUNTIME;
        }
    }
    free(g);
    frost_summary_release(rows, n);
    frost_results_release(&r);
    return rc;
}

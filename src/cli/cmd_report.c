/*
 * cmd_report.c - `frost report RESULTS`: the sweep table (text and CSV) and
 * gnuplot plots of the test metric against model size and against the
 * freezing ratio, with the weight-trained counterpart as a reference line.
 */
#include "cli/cli.h"
#include "io/file_impl.h"
#include "io/io_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void help(void)
{
    printf("usage: frost report RESULTS [-o DIR] [--csv FILE] [--no-plots] [--force] [--json]\n\n"
           "Print one row per configuration (method, model, p, r, s, runs, test and validation\n"
           "mean +- sample std, model size in KiB, compression against the weight-trained float32\n"
           "counterpart, and the run with the best validation metric, ready for frost export).\n"
           "Writes the table as CSV and, with gnuplot, two plots per model (PNG and SVG): test\n"
           "metric against model size and against the freezing ratio f = p + r, the trained\n"
           "counterpart drawn as a horizontal reference line.\n\n"
           "  -o DIR        where plots and CSV go (default: RESULTS without .h5, plus -report)\n"
           "  --csv FILE    the CSV file (default: DIR/summary.csv)\n"
           "  --no-plots    table and CSV only\n"
           "  --force       replace a frost file (dataset, results, model) where the CSV or a plot goes\n"
           "  --best METHOD print only the id of the best run of METHOD (the configuration with the\n"
           "                best mean validation metric, its run with the best validation metric)\n"
           "  --history RUN print one run's per-epoch history as CSV (epoch, loss, train, valid,\n"
           "                test, lr, seconds); metrics are empty on epochs without evaluation;\n"
           "                with -o DIR also its learning curves as a plot (DIR/RUN-history.png)\n"
           "  --json        print the table (or with --history the epochs) as JSON on stdout and\n"
           "                write nothing else; NaN is null\n");
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

/* A CSV field: as it is, or in double quotes (quotes doubled) when it holds
 * a comma, a quote or a line break (a dataset named after a hostile folder). */
static void csv_field(frost__text *f, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        frost__text_printf(f, "%s", v);
        return;
    }
    frost__text_printf(f, "\"");
    for (; *v; v++) frost__text_printf(f, *v == '"' ? "\"\"" : "%c", *v);
    frost__text_printf(f, "\"");
}

/* A model name as part of a file name: letters, digits, '-', '_' and '.'
 * kept, anything else '_' (the name comes from the results file's content). */
static void safe_name(char *dst, size_t cap, const char *name)
{
    size_t o = 0;
    for (const char *c = name; *c && o + 1 < cap; c++) {
        const unsigned char u = (unsigned char)*c;
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
                        u == '_' || (u == '.' && o > 0);
        dst[o++] = ok ? (char)u : '_';
    }
    if (o == 0) dst[o++] = '_';
    dst[o] = 0;
}

/* Run gnuplot with `script` on its standard input, in folder `dir`, with no
 * shell in between: the script names its files relative to dir, so no path
 * (nor anything else from a file name) is ever parsed by gnuplot or a shell.
 * On failure prints one line (gnuplot's own message) and returns -1. */
static int run_gnuplot(const char *dir, const char *script, const char *script_path)
{
    int in[2], err[2];
    if (pipe(in) != 0) {
        fprintf(stderr, "frost: cannot run gnuplot: %s\n", strerror(errno));
        return -1;
    }
    if (pipe(err) != 0) {
        fprintf(stderr, "frost: cannot run gnuplot: %s\n", strerror(errno));
        close(in[0]);
        close(in[1]);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "frost: cannot run gnuplot: %s\n", strerror(errno));
        close(in[0]), close(in[1]), close(err[0]), close(err[1]);
        return -1;
    }
    if (pid == 0) {
        /* the child: only async-signal-safe calls until exec */
        dup2(in[0], STDIN_FILENO);
        dup2(err[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(in[0]), close(in[1]), close(err[0]), close(err[1]);
        if (chdir(dir) != 0) {
            static const char m[] = "cannot enter the report folder";
            (void)!write(STDERR_FILENO, m, sizeof m - 1);
            _exit(126);
        }
        char *const argv[] = {(char *)"gnuplot", NULL};
        execvp("gnuplot", argv);
        static const char m[] = "gnuplot not installed? apt-get install gnuplot-nox";
        (void)!write(STDERR_FILENO, m, sizeof m - 1);
        _exit(127);
    }
    close(in[0]);
    close(err[1]);
    /* gnuplot may exit before reading everything: no SIGPIPE, EPIPE instead */
    struct sigaction ign, old;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old);
    size_t len = strlen(script), off = 0;
    while (off < len) {
        ssize_t w = write(in[1], script + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(in[1]);
    char msg[2048];
    size_t n = 0;
    /* gnuplot's messages until it closes its end; a gnuplot that never does
     * (a hung one) is killed after GNUPLOT_SECONDS */
    const char *limit = getenv("FROST_GNUPLOT_SECONDS"); /* for tests; default 300 */
    const double seconds = limit && atof(limit) > 0 ? atof(limit) : 300.0;
    const double deadline = frost__now() + seconds;
    bool hung = false;
    for (;;) {
        struct pollfd pf = {.fd = err[0], .events = POLLIN};
        const double left = deadline - frost__now();
        if (left <= 0) {
            hung = true;
            break;
        }
        const int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) continue; /* the deadline is checked above */
        char sink[512];
        char *to = n < sizeof msg - 1 ? msg + n : sink;
        const size_t cap = n < sizeof msg - 1 ? sizeof msg - 1 - n : sizeof sink; /* keep draining */
        ssize_t r = pr < 0 ? -1 : read(err[0], to, cap);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (to == msg + n) n += (size_t)r;
    }
    msg[n] = 0;
    close(err[0]);
    if (hung) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (hung) {
        sigaction(SIGPIPE, &old, NULL);
        fprintf(stderr, "frost: gnuplot did not finish %s in %g s; stopped it\n", script_path, seconds);
        return -1;
    }
    sigaction(SIGPIPE, &old, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        for (char *c = msg; *c; c++)
            if (*c == '\n' || *c == '\r') *c = ' ';
        fprintf(stderr, "frost: gnuplot failed on %s: %s\n", script_path,
                msg[0] ? msg : "(gnuplot not installed? apt-get install gnuplot-nox)");
        return -1;
    }
    return 0;
}

/* Write DIR/DAT and DIR/GP (data and gnuplot script, each whole or not at
 * all; gp NULL: the data alone), then draw with gnuplot when it is there.
 * Every file, the images the script draws included, is checked as an
 * output first; an image gnuplot leaves missing or empty (it exits 0 when
 * the disk is full) is an error. Releases dat and gp. 0, or 1 after one line. */
static int emit_plot(const char *dir, const char *dat_name, const char *gp_name, frost__text *dat, frost__text *gp,
                     const char *const *images, int n_images, const char *results, bool force, bool gnuplot)
{
    int rc = 0;
    char *files[10] = {NULL};
    int nf = 0;
    files[nf++] = frost__asprintf("%s/%s", dir, dat_name);
    if (gp) files[nf++] = frost__asprintf("%s/%s", dir, gp_name);
    const int first_image = nf;
    for (int k = 0; k < n_images && nf < 10; k++) files[nf++] = frost__asprintf("%s/%s", dir, images[k]);
    for (int k = 0; k < nf && rc == 0; k++)
        if (!files[k] || cli_check_output(files[k], &results, 1, NULL, force, false)) rc = 1;
    if (rc == 0 && (dat->nomem || (gp && gp->nomem))) {
        fprintf(stderr, "frost: out of memory\n");
        rc = 1;
    }
    frost__text copy; /* the script is committed; gp is kept to feed gnuplot */
    frost__text_init(&copy);
    if (rc == 0 && gp) frost__text_printf(&copy, "%s", gp->buf ? gp->buf : "");
    if (rc == 0 && frost__text_commit(dat, files[0]) < 0) rc = cli_fail();
    else if (rc) frost__text_release(dat);
    if (rc == 0 && gp && frost__text_commit(&copy, files[1]) < 0) rc = cli_fail();
    else frost__text_release(&copy);
    if (rc == 0 && gp && gnuplot && run_gnuplot(dir, gp->buf, files[1]) != 0) rc = 1;
    for (int k = first_image; rc == 0 && gp && gnuplot && k < nf; k++) {
        struct stat sb;
        const bool missing = stat(files[k], &sb) != 0;
        if (missing || sb.st_size == 0) {
            fprintf(stderr, "frost: %s: gnuplot left it %s (disk full?)\n", files[k], missing ? "missing" : "empty");
            rc = 1;
        }
    }
    if (gp) frost__text_release(gp);
    for (int k = 0; k < nf; k++) free(files[k]);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Plots for one model: a data file and a gnuplot script in dir, then
 * gnuplot. Every file name is NAME-..., NAME the model's safe name. */
static int plot_model(const char *dir, const char *model, const group *g, int64_t n, const char *metric,
                      const char *results, bool force, bool gnuplot, bool *made)
{
    char name[64], smetric[32];
    safe_name(name, sizeof name, model);
    safe_name(smetric, sizeof smetric, metric);
    /* NAME-points.dat, NAME-plots.gp and the images it draws (emit_plot checks every one first) */
    char dat_name[96], gp_name[96], images[4][96];
    snprintf(dat_name, sizeof dat_name, "%s-points.dat", name);
    snprintf(gp_name, sizeof gp_name, "%s-plots.gp", name);
    static const char *const kinds[4] = {"test-vs-size.png", "test-vs-size.svg", "test-vs-freezing.png",
                                         "test-vs-freezing.svg"};
    const char *image_names[4];
    for (int k = 0; k < 4; k++) snprintf(images[k], sizeof images[k], "%s-%s", name, kinds[k]), image_names[k] = images[k];
    double ref = NAN, ref_std = 0;
    int64_t pts = 0;
    double *sp = calloc((size_t)(n ? n : 1), sizeof *sp);
    int rc = -1;
    frost__text f;  /* the data */
    frost__text sc; /* the gnuplot script */
    frost__text_init(&f);
    frost__text_init(&sc);
    if (!sp) {
        fprintf(stderr, "frost: out of memory\n");
        goto done;
    }
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
        frost__text_printf(&f, "%.6g %.6g %.6g %.6g %.6g %.6g %.6g\n", (double)w->model_bits / 8192.0,
                           100 * w->test_mean, 100 * w->test_std, w->prune_ratio + w->lock_ratio, w->sparsity,
                           w->prune_ratio, w->lock_ratio);
        sp[pts++] = w->sparsity;
    }
    if (pts == 0) { /* no tickets: the data alone */
        rc = emit_plot(dir, dat_name, NULL, &f, NULL, NULL, 0, results, force, gnuplot) ? -1 : 0;
        goto done;
    }
    /* the distinct sparsities, one line each on the freezing plot (as the data file writes them) */
    qsort(sp, (size_t)pts, sizeof *sp, cmp_double);
    char slist[2048] = "";
    for (int64_t k = 0; k < pts; k++) {
        if (k > 0 && sp[k] == sp[k - 1]) continue;
        char one[32];
        snprintf(one, sizeof one, "%s%.6g", slist[0] ? " " : "", sp[k]);
        strncat(slist, one, sizeof slist - strlen(slist) - 1);
    }
    char ref_line[256] = "";
    if (!isnan(ref))
        snprintf(ref_line, sizeof ref_line,
                 ", %g with lines dt 2 lw 2 lc rgb '#444444' title 'weight-trained %s: %.2f +- %.2f'", ref, name, ref,
                 ref_std);
    /* the script grows as needed (frost__text): a long sparsity list cannot overflow it */
    frost__text_printf(&sc,
                       "# generated by frost report; file names are relative to this folder:\n"
                       "#   cd to it, then gnuplot %s-plots.gp\n"
                       "set datafile commentschars '#'\nset grid\nset key bottom right\nset ylabel 'test %s (%%)'\n",
                       name, smetric);
    const char *terms[2][2] = {{"pngcairo size 900,600 font ',11'", "png"}, {"svg size 900,600 dynamic", "svg"}};
    for (int t = 0; t < 2; t++) {
        frost__text_printf(&sc, "set terminal %s\n", terms[t][0]);
        frost__text_printf(
            &sc,
            "set output '%s-test-vs-size.%s'\nset logscale x\nset xlabel 'model size to store (KiB, log scale)'\n"
            "set title 'strong lottery tickets: %s, test metric against size'\n"
            "plot '%s-points.dat' using 1:2:3 with yerrorbars pt 7 lc rgb '#1f77b4' title 'tickets (mean +- std "
            "over seeds)'%s\n",
            name, terms[t][1], name, name, ref_line);
        frost__text_printf(
            &sc,
            "unset logscale x\nset xlabel 'freezing ratio f = p + r'\n"
            "set output '%s-test-vs-freezing.%s'\nset title 'strong lottery tickets: %s, test metric against "
            "freezing'\n"
            "plot for [s in \"%s\"] '%s-points.dat' using ($5 == s ? $4 : 1/0):2:3 with yerrorlines pt 7 "
            "title sprintf('s = %%s', s)%s\n",
            name, terms[t][1], name, slist, name, ref_line);
    }
    if (emit_plot(dir, dat_name, gp_name, &f, &sc, image_names, 4, results, force, gnuplot) != 0) goto done;
    rc = 0;
    if (!gnuplot) goto done; /* the data and the script are there, to be drawn later */
    *made = true;
    printf("plots: %s/%s  %s/%s  (and .svg)\n", dir, images[0], dir, images[2]);
done:
    frost__text_release(&f);
    frost__text_release(&sc);
    free(sp);
    return rc;
}

/* Learning curves of one run: loss (right axis) and the train, valid and
 * test metric at every evaluated epoch (left axis). */
static int plot_history(const char *dir, const char *results, const char *id, const frost_epoch_record *h, int64_t n,
                        const char *metric, bool force, bool gnuplot)
{
    char base[200], sid[184], smetric[32];
    safe_name(sid, sizeof sid, id);
    snprintf(base, sizeof base, "%s-history", sid);
    safe_name(smetric, sizeof smetric, metric);
    frost__text dat, gp;
    frost__text_init(&dat);
    frost__text_init(&gp);
    frost__text_printf(&dat, "# epoch loss train valid test (%%; ? where not evaluated)\n");
    for (int64_t e = 0; e < n; e++) {
        frost__text_printf(&dat, "%lld %.9g", (long long)h[e].epoch, h[e].loss);
        const double m[3] = {h[e].train_metric, h[e].valid_metric, h[e].test_metric};
        for (int k = 0; k < 3; k++) isnan(m[k]) ? frost__text_printf(&dat, " ?") : frost__text_printf(&dat, " %.6g", 100 * m[k]);
        frost__text_printf(&dat, "\n");
    }
    char *images[2] = {frost__asprintf("%s.png", base), frost__asprintf("%s.svg", base)};
    frost__text_printf(&gp,
                       "# generated by frost report --history; file names are relative to this folder\n"
                       "set datafile missing '?'\nset grid\nset key bottom center\nset xlabel 'epoch'\n"
                       "set ylabel '%s (%%)'\nset y2label 'training loss'\nset y2tics\nset ytics nomirror\n"
                       "set title 'learning curves: run %s'\n",
                       smetric, sid);
    const char *terms[2][2] = {{"pngcairo size 900,600 font ',11'", "png"}, {"svg size 900,600 dynamic", "svg"}};
    for (int t = 0; t < 2; t++)
        frost__text_printf(&gp,
                           "set terminal %s\nset output '%s.%s'\n"
                           "plot '%s.dat' using 1:3 with linespoints pt 7 ps 0.4 title 'train', "
                           "'' using 1:4 with linespoints pt 7 ps 0.4 title 'valid', "
                           "'' using 1:5 with linespoints pt 7 ps 0.4 title 'test', "
                           "'' using 1:2 axes x1y2 with lines lc rgb '#888888' title 'loss'\n",
                           terms[t][0], base, terms[t][1], base);
    char dat_name[220], gp_name[220];
    snprintf(dat_name, sizeof dat_name, "%s.dat", base);
    snprintf(gp_name, sizeof gp_name, "%s.gp", base);
    const int rc = images[0] && images[1] ? emit_plot(dir, dat_name, gp_name, &dat, &gp, (const char *const *)images, 2,
                                                      results, force, gnuplot)
                                          : 1;
    if (rc == 0 && gnuplot) printf("plot: %s/%s (and .svg)\n", dir, images[0]);
    free(images[0]);
    free(images[1]);
    return rc;
}

/* Portable reward tuning: the test metric of each predictor (mean +- std
 * over seeds) as bars, in the order of the PRT table. */
static int plot_prt(const char *dir, const char *results, const group *g, int64_t n, const char *metric, bool force,
                    bool gnuplot)
{
    static const char *const roles[][2] = {{"base-new", "new base"},        {"prt", "new base + PRT"},
                                            {"eft", "new base + EFT"},    {"ft-new", "oracle (new, fine-tuned)"},
                                            {"ft-old", "old, fine-tuned"}, {"base-old", "old base"}};
    char smetric[32];
    safe_name(smetric, sizeof smetric, metric);
    frost__text dat, gp;
    frost__text_init(&dat);
    frost__text_init(&gp);
    frost__text_printf(&dat, "# predictor test_mean test_std (%%)\n");
    int bars = 0;
    for (int k = 0; k < 6; k++)
        for (int64_t q = 0; q < n; q++)
            if (strcmp(g[q].row->role, roles[k][0]) == 0) {
                frost__text_printf(&dat, "\"%s\" %.6g %.6g\n", roles[k][1], 100 * g[q].row->test_mean,
                                   100 * g[q].row->test_std);
                bars++;
                break;
            }
    if (bars == 0) {
        frost__text_release(&dat);
        return 0;
    }
    const char *images[2] = {"prt.png", "prt.svg"};
    frost__text_printf(&gp,
                       "# generated by frost report; file names are relative to this folder\n"
                       "set style fill solid 0.6 border -1\nset boxwidth 0.6\nset grid ytics\nunset key\n"
                       "set xtics rotate by -20\nset ylabel 'test %s (%%)'\nset yrange [0:*]\nset xrange [-0.6:%g]\n"
                       "set title 'portable reward tuning: the reward on the new base against its alternatives'\n",
                       smetric, bars - 0.4);
    const char *terms[2][2] = {{"pngcairo size 900,600 font ',11'", "png"}, {"svg size 900,600 dynamic", "svg"}};
    for (int t = 0; t < 2; t++)
        frost__text_printf(&gp,
                           "set terminal %s\nset output 'prt.%s'\n"
                           "plot 'prt.dat' using 0:2:3:xtic(1) with boxerrorbars lc rgb '#1f77b4'\n",
                           terms[t][0], terms[t][1]);
    const int rc = emit_plot(dir, "prt.dat", "prt.gp", &dat, &gp, images, 2, results, force, gnuplot);
    if (rc == 0 && gnuplot) printf("plot: %s/prt.png (and .svg)\n", dir);
    return rc;
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

/* The table as one JSON document on stdout: every column of the CSV, by name. */
static int print_json(const char *path, const frost_results *r, const group *g, int64_t n)
{
    frost__text t;
    frost__text_init(&t);
    frost__text_printf(&t, "{");
    frost__json_str(&t, "results", path);
    frost__json_str(&t, "metric", r->n ? r->runs[0].metric : "");
    frost__json_str(&t, "split", r->n ? r->runs[0].split : "");
    frost__json_key(&t, "rows");
    frost__text_printf(&t, "[");
    for (int64_t k = 0; k < n; k++) {
        const frost_summary_row *w = g[k].row;
        frost__json_key(&t, NULL);
        frost__text_printf(&t, "{");
        frost__json_str(&t, "method", w->method);
        frost__json_str(&t, "model", w->model);
        frost__json_str(&t, "dataset", w->dataset);
        frost__json_str(&t, "split", w->split);
        if (w->role[0]) frost__json_str(&t, "role", w->role);
        frost__json_num(&t, "prune_ratio", w->prune_ratio);
        frost__json_num(&t, "lock_ratio", w->lock_ratio);
        frost__json_num(&t, "sparsity", w->sparsity);
        frost__json_num(&t, "freeze", w->prune_ratio + w->lock_ratio);
        frost__json_int(&t, "runs", w->runs);
        frost__json_num(&t, "test_mean", w->test_mean);
        frost__json_num(&t, "test_std", w->test_std);
        frost__json_num(&t, "val_mean", w->val_mean);
        frost__json_num(&t, "val_std", w->val_std);
        frost__json_num(&t, "train_seconds_mean", w->train_seconds_mean);
        frost__json_int(&t, "model_bits", w->model_bits);
        frost__json_int(&t, "dense_bits", w->dense_bits);
        frost__json_num(&t, "compression", (double)w->dense_bits / (double)w->model_bits);
        frost__json_int(&t, "paper_bits", w->paper_bits);
        frost__json_num(&t, "compression_paper",
                        w->paper_bits > 0 ? (double)w->dense_bits / (double)w->paper_bits : (double)NAN);
        frost__json_bool(&t, "degenerate", w->degenerate);
        frost__json_str(&t, "best_run", g[k].best_id);
        frost__text_printf(&t, "}");
    }
    frost__text_printf(&t, "]}\n");
    return cli_put_text(&t);
}

int cli_print_json_table(const char *path)
{
    frost_results r;
    frost_summary_row *rows;
    group *g;
    int64_t n;
    if (load_table(path, &r, &rows, &g, &n) < 0) return cli_fail();
    const int rc = print_json(path, &r, g, n);
    free(g);
    frost_summary_release(rows, n);
    frost_results_release(&r);
    return rc;
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

/* One run's history as CSV (or JSON) on stdout. */
static int print_history(const char *path, const char *id, bool json)
{
    frost_epoch_record *h;
    int64_t n;
    if (frost_results_read_history(path, id, &h, &n) < 0) return cli_fail();
    if (json) {
        frost__text t;
        frost__text_init(&t);
        frost__text_printf(&t, "{");
        frost__json_str(&t, "results", path);
        frost__json_str(&t, "run", id);
        frost__json_key(&t, "epochs");
        frost__text_printf(&t, "[");
        for (int64_t e = 0; e < n; e++) {
            frost__json_key(&t, NULL);
            frost__text_printf(&t, "{");
            frost__json_int(&t, "epoch", h[e].epoch);
            frost__json_num(&t, "loss", h[e].loss);
            frost__json_num(&t, "train_metric", h[e].train_metric);
            frost__json_num(&t, "valid_metric", h[e].valid_metric);
            frost__json_num(&t, "test_metric", h[e].test_metric);
            frost__json_num(&t, "lr", h[e].lr);
            frost__json_num(&t, "train_seconds", h[e].train_seconds);
            frost__json_num(&t, "eval_seconds", h[e].eval_seconds);
            frost__text_printf(&t, "}");
        }
        frost__text_printf(&t, "]}\n");
        free(h);
        return cli_put_text(&t);
    }
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
    bool plots = true, force = false, json = false;
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
        } else if (cli_flag(argv, i, "--force")) {
            force = true;
        } else if (cli_flag(argv, i, "--json")) {
            json = true;
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
    if (json && (dir || csv || best_method))
        return cli_usage_error("report", "--json prints to stdout and writes nothing: without -o, --csv and --best");
    if (history) {
        if (dir && !json && frost__mkdirs(dir) < 0) return cli_fail(); /* -o is a folder: said before any output */
        const int hrc = print_history(path, history, json);
        if (hrc != 0 || !dir || json) return hrc;
        /* with -o DIR: the learning curves as a plot too */
        frost_epoch_record *h;
        int64_t nh;
        frost_results all;
        if (frost_results_read_history(path, history, &h, &nh) < 0) return cli_fail();
        if (frost_results_load(&all, path) < 0) {
            free(h);
            return cli_fail();
        }
        const frost_run_info *info = frost_results_find(&all, history);
        int prc = frost__mkdirs(dir) < 0 ? cli_fail() : 0;
        const bool gnuplot = cli_on_path("gnuplot");
        if (prc == 0) prc = plot_history(dir, path, history, h, nh, info ? info->metric : "metric", force, gnuplot);
        if (prc == 0 && !gnuplot)
            fprintf(stderr, "note: plot skipped, gnuplot is not on PATH (apt-get install gnuplot-nox); the data and "
                            "gnuplot script are in %s\n", dir);
        frost_results_release(&all);
        free(h);
        return prc;
    }
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
    if (json) {
        free(g);
        frost_summary_release(rows, n);
        frost_results_release(&r);
        return cli_print_json_table(path);
    }
    print_table(path, &r, g, n);
    const char *metric = r.n ? r.runs[0].metric : "metric";

    char *dbuf = NULL, *cbuf = NULL;
    int rc = 0;
    if (!dir) {
        const size_t L = strlen(path);
        const int keep = (int)(L > 3 && strcmp(path + L - 3, ".h5") == 0 ? L - 3 : L);
        dir = dbuf = frost__asprintf("%.*s-report", keep, path);
    }
    if (!csv && dir) csv = cbuf = frost__asprintf("%s/summary.csv", dir);
    if (!dir || !csv) {
        fprintf(stderr, "frost: out of memory\n");
        rc = CLI_EXIT_RUNTIME;
    }
    if (rc == 0 && frost__mkdirs(dir) < 0) rc = cli_fail();
    if (rc == 0 && cli_check_output(csv, &path, 1, NULL, force, false)) rc = CLI_EXIT_RUNTIME;
    if (rc == 0) {
        frost__text f; /* written whole or not at all (frost__text_commit) */
        frost__text_init(&f);
        {
            frost__text_printf(&f, "method,model,dataset,split,prune_ratio,lock_ratio,sparsity,freeze,runs,test_mean,test_std,"
                       "val_mean,val_std,model_bits,dense_bits,model_kib,compression,best_run,paper_bits,"
                       "compression_paper,degenerate\n");
            for (int64_t k = 0; k < n; k++) {
                const frost_summary_row *w = g[k].row;
                const char *text[4] = {w->method, w->model, w->dataset, w->split};
                for (int t = 0; t < 4; t++) {
                    csv_field(&f, text[t]);
                    frost__text_printf(&f, ",");
                }
                frost__text_printf(&f, "%.9g,%.9g,%.9g,%.9g,%lld,%.9g,%.9g,%.9g,%.9g,%lld,%lld,%.6g,%.6g,", w->prune_ratio,
                        w->lock_ratio, w->sparsity, w->prune_ratio + w->lock_ratio, (long long)w->runs, w->test_mean,
                        w->test_std, w->val_mean, w->val_std, (long long)w->model_bits, (long long)w->dense_bits,
                        (double)w->model_bits / 8192.0, (double)w->dense_bits / (double)w->model_bits);
                csv_field(&f, g[k].best_id);
                frost__text_printf(&f, ",%lld,", (long long)w->paper_bits);
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
        /* one pair of plots per model that has tickets; without gnuplot the
         * data and scripts only, and one note (the table and CSV are the report) */
        const bool gnuplot = cli_on_path("gnuplot");
        bool scripts = false;
        for (int64_t k = 0; k < n && rc == 0; k++) {
            bool seen = false;
            for (int64_t q = 0; q < k; q++) seen |= strcmp(g[q].row->model, g[k].row->model) == 0;
            if (seen) continue;
            bool made = false;
            if (plot_model(dir, g[k].row->model, g, n, metric, path, force, gnuplot, &made) != 0)
                rc = CLI_EXIT_RUNTIME;
        }
        for (int64_t k = 0; k < n; k++) scripts |= !isnan(g[k].row->sparsity) || g[k].row->role[0];
        bool prt = false;
        for (int64_t k = 0; k < n; k++) prt |= g[k].row->role[0] != 0;
        if (rc == 0 && prt && plot_prt(dir, path, g, n, metric, force, gnuplot) != 0) rc = CLI_EXIT_RUNTIME;
        if (rc == 0 && !gnuplot && scripts)
            fprintf(stderr, "note: plots skipped, gnuplot is not on PATH (apt-get install gnuplot-nox); the data and "
                            "gnuplot scripts are in %s (*.gp)\n",
                    dir);
    }
    free(dbuf);
    free(cbuf);
    free(g);
    frost_summary_release(rows, n);
    frost_results_release(&r);
    return rc;
}

/*
 * cmd_run.c - `frost run FILE [--set key=value]...`: an experiment from a
 * libconfig file, with progress on the terminal and a summary table.
 */
#include "cli/cli.h"
#include "frost/frost.h"
#include "io/file_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int stop_flag = 0;
static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void help(void)
{
    printf("usage: frost run FILE [--set key=value]... [--shard I/N] [options]\n\n"
           "Run the experiment FILE (libconfig, see experiments/README.md). Every run (sweep point x\n"
           "seed) is appended to the results file when it finishes; running the same command again\n"
           "skips finished runs. Ctrl-C (SIGINT), SIGTERM and SIGHUP stop after the current epoch\n"
           "(that run is not kept; one line names it).\n\n"
           "  --set key=value   override a setting, written as in the file: --set model.hidden=64,\n"
           "                    --set 'model.name=\"sage\"', --set 'slt.sparsity=[0.3, 0.5]'\n"
           "  --shard I/N       only the runs whose index i (0-based, in the order --dry-run lists\n"
           "                    them without --shard) has i mod N == I; I runs from 0 to N-1: a\n"
           "                    Slurm array --array=0-(N-1)\n"
           "                    passes --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\n"
           "  --dry-run         list the runs and print the effective configuration, train nothing\n"
           "  --list-keys       print every setting (markdown table) and exit\n"
           "  --quiet           no progress display (warnings are still said)\n"
           "  --log FILE        append one JSON line per evaluated epoch and per finished run to\n"
           "                    FILE (JSON Lines: run id, epoch, loss, metrics, seconds), flushed as\n"
           "                    written, for tail -f, TensorBoard or wandb (README.md)\n"
           "  --progress-every S  off a terminal, one plain progress line on stderr every S seconds\n"
           "                    (default 60; 0: none); on a terminal the line is redrawn in place\n\n"
           "Under mpirun (frost built with MPI) the processes share the work: every run trained\n"
           "by all of them on METIS parts of the graph (mpi.mode = \"graph\"), or the runs dealt\n"
           "out (mpi.mode = \"runs\"); process 0 writes the results (README.md, \"Mini-batches and several processes\"):\n"
           "  mpirun -np 4 frost run FILE [--set mpi.mode=runs]\n\n"
           "Several frost run processes may write one results file at once (shards, or the\n"
           "same command twice): each run is claimed before it is trained, so none is trained\n"
           "twice, and runs other processes are training are waited for at the end. frost merge\n"
           "joins results files written separately.\n");
}

typedef struct ui {
    bool tty, quiet;
    double t0, run_t0;
    int64_t total, done_before, index, epochs;
    int64_t epochs_done_total;   /* over this invocation */
    char id[160];
    double every, last_line;     /* off a terminal: a progress line every `every` seconds */
    int log_fd;                  /* --log FILE, or -1 */
    const char *log_path;
    bool log_failed;             /* said once; training goes on without the log */
} ui;

/* One JSON line to the --log file: a single write() on an O_APPEND file, so
 * lines from several processes never interleave. A failed write (disk full)
 * is said once and the log stops; the runs go on and are kept. */
static void log_line(ui *u, frost__text *t)
{
    if (u->log_fd < 0 || u->log_failed) {
        frost__text_release(t);
        return;
    }
    frost__text_printf(t, "}\n");
    int e = t->nomem ? ENOMEM : 0;
    for (size_t off = 0; !e && off < t->len;) {
        const ssize_t w = write(u->log_fd, t->buf + off, t->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) e = w < 0 ? errno : EIO;
        else off += (size_t)w;
    }
    frost__text_release(t);
    if (e) {
        u->log_failed = true;
        if (u->tty && !u->quiet) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "frost: warning: --log %s: %s; the log stops here, training goes on\n", u->log_path,
                strerror(e));
    }
}

static void log_open(frost__text *t, const char *event)
{
    frost__text_init(t);
    frost__text_printf(t, "{");
    frost__json_str(t, "event", event);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    frost__json_key(t, "time"); /* Unix seconds, to the millisecond */
    frost__text_printf(t, "%lld.%03ld", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
}

static void fmt_eta(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "--:--");
        return;
    }
    long t = lround(s);
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

static void ev_start(int64_t total, int64_t done, const char *output, void *user)
{
    ui *u = user;
    u->total = total;
    u->done_before = done;
    if (u->log_fd >= 0) {
        frost__text t;
        log_open(&t, "start");
        frost__json_str(&t, "output", output);
        frost__json_int(&t, "runs", total);
        frost__json_int(&t, "already_there", done);
        log_line(u, &t);
    }
    if (!u->quiet)
        fprintf(stderr, "%lld runs -> %s (%lld already there)\n", (long long)total, output, (long long)done);
}

static void ev_run_start(const char *id, int64_t index, int64_t total, int64_t epochs, void *user)
{
    ui *u = user;
    snprintf(u->id, sizeof u->id, "%s", id);
    u->index = index;
    u->epochs = epochs;
    u->run_t0 = frost__now();
}

static void ev_epoch(const char *id, const frost_epoch_record *r, void *user)
{
    ui *u = user;
    u->epochs_done_total++;
    if (u->log_fd >= 0 && !isnan(r->valid_metric)) {
        frost__text t;
        log_open(&t, "epoch");
        frost__json_str(&t, "run", id);
        frost__json_int(&t, "index", u->index);
        frost__json_int(&t, "epoch", r->epoch);
        frost__json_int(&t, "epochs", u->epochs);
        frost__json_num(&t, "loss", r->loss);
        frost__json_num(&t, "train_metric", r->train_metric);
        frost__json_num(&t, "valid_metric", r->valid_metric);
        frost__json_num(&t, "test_metric", r->test_metric);
        frost__json_num(&t, "lr", r->lr);
        frost__json_num(&t, "train_seconds", r->train_seconds);
        frost__json_num(&t, "eval_seconds", r->eval_seconds);
        log_line(u, &t);
    }
    if (u->quiet) return;
    double now = frost__now();
    if (!u->tty && (u->every <= 0 || now - u->last_line < u->every)) return;
    u->last_line = now;
    /* ETA over the whole sweep: mean seconds per epoch so far x epochs left */
    int64_t runs_left = u->total - u->index - 1;
    double per_epoch = (now - u->t0) / (double)u->epochs_done_total;
    double eta = per_epoch * (double)((u->epochs - r->epoch) + runs_left * u->epochs);
    char e[32];
    fmt_eta(eta, e, sizeof e);
    char v[64] = "";
    if (!isnan(r->valid_metric))
        snprintf(v, sizeof v, " valid %.4f test %.4f", r->valid_metric, r->test_metric);
    /* on a terminal redrawn in place; in a batch job's log one plain line */
    fprintf(stderr, "%srun %lld/%lld %s  epoch %lld/%lld  loss %.4f%s  %.1f ms/epoch  ETA %s%s", u->tty ? "\r\033[K" : "",
            (long long)(u->index + 1), (long long)u->total, id, (long long)r->epoch, (long long)u->epochs, r->loss, v,
            1e3 * r->train_seconds, e, u->tty ? "" : "\n");
    fflush(stderr);
}

static void ev_note(const char *msg, void *user)
{
    ui *u = user;
    /* warnings are said even with --quiet (process 0 alone sends them) */
    if (u->quiet && strncmp(msg, "warning:", 8) != 0) return;
    if (u->tty) fprintf(stderr, "\r\033[K");
    fprintf(stderr, "%s\n", msg);
}

static void ev_run_end(const frost_run_info *info, void *user)
{
    ui *u = user;
    if (u->log_fd >= 0) {
        frost__text t;
        log_open(&t, "run");
        frost__json_str(&t, "run", info->id);
        frost__json_int(&t, "index", u->index);
        frost__json_str(&t, "status", info->status);
        if (strcmp(info->status, "ok") != 0) frost__json_str(&t, "message", info->message);
        frost__json_int(&t, "seed", info->seed);
        frost__json_str(&t, "method", info->method);
        frost__json_str(&t, "model", info->model);
        frost__json_str(&t, "dataset", info->dataset);
        frost__json_str(&t, "metric", info->metric);
        frost__json_int(&t, "best_epoch", info->best_epoch);
        frost__json_int(&t, "epochs_run", info->epochs_run);
        frost__json_num(&t, "valid_metric", info->val_metric);
        frost__json_num(&t, "test_metric", info->test_metric);
        frost__json_num(&t, "seconds", frost__now() - u->run_t0);
        frost__json_int(&t, "model_bits", info->model_bits);
        log_line(u, &t);
    }
    if (u->quiet) return;
    if (u->tty) fprintf(stderr, "\r\033[K");
    fprintf(stderr, "run %lld/%lld %s: best epoch %lld, valid %.4f, test %.4f (%s), %.2f s%s%s\n",
            (long long)(u->index + 1), (long long)u->total, info->id, (long long)info->best_epoch, info->val_metric,
            info->test_metric, info->metric, frost__now() - u->run_t0, strcmp(info->status, "ok") ? " " : "",
            strcmp(info->status, "ok") ? info->message : "");
}

/* Under mpirun: MPI up for the whole command, process 0 alone talks. An
 * error stops every process (the others would wait for this one). */
static int run_main(int argc, char **argv);

int cli_run(int argc, char **argv)
{
    if (frost_dist_init(&argc, &argv) < 0) return cli_fail();
    int rc = run_main(argc, argv);
    if (rc != 0 && frost_dist_size() > 1) {
        fflush(stdout);
        fflush(stderr);
        frost_dist_abort(rc);
    }
    frost_dist_finalize();
    return rc;
}

/* "I/N" with 0 <= I < N. */
static bool parse_shard(const char *v, frost_run_opts *o)
{
    char *end;
    if (!v || !*v) return false;
    /* digits, one '/', digits: no signs, blanks or numbers beyond 64 bits */
    const char *slash = strchr(v, '/');
    if (!slash || slash == v || !slash[1] || strspn(v, "0123456789") != (size_t)(slash - v) ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1) || slash - v > 18 || strlen(slash + 1) > 18)
        return false;
    long long i = strtoll(v, &end, 10);
    if (end == v || *end != '/') return false;
    const char *n0 = end + 1;
    long long n = strtoll(n0, &end, 10);
    if (end == n0 || *end) return false;
    if (n < 1 || i < 0 || i >= n) return false;
    o->shard_index = i;
    o->shard_count = n;
    return true;
}

static int run_main(int argc, char **argv)
{
    const char *file = NULL, *log_path = NULL;
    double every = 60;
    bool quiet = false, dry = false;
    frost_run_opts opts = {0, 0};
    frost_config c;
    frost_config_default(&c);
    /* the file first, so --set applies on top wherever it is written */
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_flag(argv, i, "--list-keys")) {
            char *md = frost_config_keys_markdown();
            if (!md) return cli_fail();
            fputs(md, stdout);
            free(md);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--set", &v)) {
            if (!v) return cli_usage_error("run", "--set needs key=value");
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) return cli_usage_error("run", "--set '%s': expected key=value", v);
        } else if (cli_opt(argc, argv, &i, "--shard", &v)) {
            if (!parse_shard(v, &opts))
                return cli_usage_error("run", "--shard expects I/N with 0 <= I < N (I is 0-based: a Slurm "
                                              "array --array=0-(N-1)), got '%s'",
                                       v ? v : "");
        } else if (cli_opt(argc, argv, &i, "--log", &v)) {
            if (!v || !*v) return cli_usage_error("run", "--log needs a file name");
            log_path = v;
        } else if (cli_opt(argc, argv, &i, "--progress-every", &v)) {
            if (!v || !cli_f64("run", "--progress-every", v, &every)) return CLI_EXIT_USAGE;
            if (!(every >= 0) || every > 1e9)
                return cli_usage_error("run", "--progress-every expects seconds from 0 (none) up, got '%s'", v);
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = true;
        } else if (cli_flag(argv, i, "--dry-run")) {
            dry = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("run", "unknown option '%s'", argv[i]);
        } else if (file) {
            return cli_usage_error("run", "expected one experiment file");
        } else {
            file = argv[i];
        }
    }
    if (!file) return cli_usage_error("run", "expected: frost run FILE [--set key=value]...");
    if (frost_config_load(&c, file) < 0) return cli_fail();
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--set", &v) && frost_config_set_arg(&c, v) < 0) return cli_fail();
    }
    if (frost_config_check(&c) < 0) return cli_fail();

    if (dry) {
        char out[FROST_PATH_CAP + 64];
        frost_run_plan plan;
        frost_experiment_output(&c, out, sizeof out);
        if (frost_experiment_plan_ex(&c, &opts, &plan) < 0) return cli_fail();
        printf("# output: %s\n# %lld runs:\n", out, (long long)plan.n);
        for (int64_t q = 0; q < plan.n; q++) printf("#   %s\n", plan.runs[q].id);
        frost_run_plan_release(&plan);
        frost_config first;
        if (frost_config_point(&c, 0, &first) < 0) return cli_fail();
        char *text = frost_config_to_text(&first);
        printf("%s", text ? text : "");
        free(text);
        return 0;
    }

    ui u;
    memset(&u, 0, sizeof u);
    u.tty = isatty(STDERR_FILENO);
    u.quiet = quiet || frost_dist_rank() > 0;
    u.t0 = u.last_line = frost__now();
    u.every = every;
    u.log_fd = -1;
    u.log_path = log_path;
    if (log_path && frost_dist_rank() == 0) {
        /* the log is appended to, never replaced: not an input, not a frost file */
        char out[FROST_PATH_CAP + 64];
        frost_experiment_output(&c, out, sizeof out);
        const char *inputs[] = {file, out, c.dataset};
        if (cli_check_output(log_path, inputs, 3, NULL, false, false)) return CLI_EXIT_RUNTIME;
        /* O_NONBLOCK: a FIFO nobody reads is refused at once instead of blocking the run */
        u.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
        if (u.log_fd < 0) {
            fprintf(stderr, "frost: --log %s: cannot open for appending: %s\n", log_path,
                    errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
            return CLI_EXIT_RUNTIME;
        }
        const int fl = fcntl(u.log_fd, F_GETFL);
        if (fl >= 0) fcntl(u.log_fd, F_SETFL, fl & ~O_NONBLOCK);
        /* a FIFO whose reader goes away: EPIPE (said once, the runs go on), not a killed process */
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &ign, NULL);
    }
    frost_runner_events ev = {ev_start, ev_run_start, ev_epoch, ev_run_end, ev_note, &u, &stop_flag};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    /* Ctrl-C, kill (TERM) and a closed terminal or ssh session (HUP) all stop
     * after the current epoch: finished runs are kept, one line names the run
     * that was not saved */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    char out[FROST_PATH_CAP + 64] = ""; /* the output as configured, or results/NAME.h5 */
    frost_status st = frost_experiment_run_ex(&c, &opts, &ev, out, sizeof out);
    if (u.tty && !quiet) fprintf(stderr, "\r\033[K");
    if (u.log_fd >= 0) {
        frost__text t;
        log_open(&t, "end");
        frost__json_str(&t, "output", out);
        frost__json_str(&t, "status", st < 0 ? "error" : stop_flag ? "stopped" : "ok");
        if (st < 0) frost__json_str(&t, "message", frost_last_error());
        log_line(&u, &t);
        close(u.log_fd);
    }
    if (st < 0) return cli_fail();
    if (frost_dist_rank() > 0) return 0;
    if (u.total == 0 && access(out, F_OK) != 0) {
        /* a shard with no runs of its own (N larger than the sweep), into a file not made yet */
        if (!quiet) fprintf(stderr, "no runs in this shard; %s not created\n", out);
        return 0;
    }
    return cli_print_table(out);
}

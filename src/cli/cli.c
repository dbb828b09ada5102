/*
 * cli.c - helpers shared by the verbs of the `frost` program.
 */
#include "cli/cli.h"
#include "io/file_impl.h"
#include "io/io_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_fail(void)
{
    const char *m = frost_last_error();
    fprintf(stderr, "frost: %s\n", m && m[0] ? m : "unknown error");
    return CLI_EXIT_RUNTIME;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (verb)
        fprintf(stderr, "frost %s: %s (see 'frost %s --help')\n", verb, buf, verb);
    else
        fprintf(stderr, "frost: %s (see 'frost --help')\n", buf);
    return CLI_EXIT_USAGE;
}

int cli_check_output(const char *out, const char *const *inputs, int n_inputs, const char *kind, bool force,
                     bool make_parents)
{
    const unsigned flags = (force ? FROST__OUT_FORCE : 0u) | (make_parents ? FROST__OUT_MAKE_PARENTS : 0u);
    return frost__output_check(out, inputs, n_inputs, kind, flags) < 0 ? cli_fail() : 0;
}

bool cli_is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

bool cli_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return false;
    if (a[n] == '=') {
        *value = a + n + 1;
        return true;
    }
    if (a[n] != 0) return false;
    if (*i + 1 >= argc) {
        *value = NULL; /* caller reports the missing value */
        return true;
    }
    *value = argv[++*i];
    return true;
}

bool cli_i64(const char *verb, const char *opt, const char *s, int64_t *out)
{
    if (!s) {
        cli_usage_error(verb, "%s needs a value", opt);
        return false;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* allow 1e6-style and 1_000 style? keep it strict, but accept 1e6 */
    if (*end == 'e' || *end == 'E') {
        double d = strtod(s, &end);
        if (!*end && d == floor(d) && fabs(d) < 9e18) v = (long long)d;
    }
    if (errno || *end || end == s) {
        cli_usage_error(verb, "%s expects an integer, got '%s'", opt, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_f64(const char *verb, const char *opt, const char *s, double *out)
{
    if (!s) {
        cli_usage_error(verb, "%s needs a value", opt);
        return false;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v)) {
        cli_usage_error(verb, "%s expects a number, got '%s'", opt, s);
        return false;
    }
    *out = v;
    return true;
}

void cli_progress_init(cli_progress *p, bool quiet)
{
    memset(p, 0, sizeof *p);
    p->enabled = !quiet && isatty(STDERR_FILENO);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    p->t0 = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_cb(const char *stage, double fraction, void *user)
{
    cli_progress *p = user;
    if (!p || !p->enabled) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
    bool new_stage = strcmp(stage, p->stage) != 0;
    if (!new_stage && now - p->last < 0.2 && fraction < 1.0) return;
    if (new_stage) {
        strncpy(p->stage, stage, sizeof p->stage - 1);
        p->stage[sizeof p->stage - 1] = 0;
    }
    p->last = now;
    fprintf(stderr, "\r\033[K  %-10s %5.1f%%  %6.1f s", stage, 100.0 * fraction, now - p->t0);
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->enabled) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

int cli_put_text(frost__text *t)
{
    const bool nomem = t->nomem;
    const bool ok = !nomem && fwrite(t->buf, 1, t->len, stdout) == t->len && fflush(stdout) == 0;
    const int e = errno;
    frost__text_release(t);
    if (!ok) fprintf(stderr, "frost: cannot write to stdout: %s\n", nomem ? "out of memory" : strerror(e));
    return ok ? 0 : CLI_EXIT_RUNTIME;
}

bool cli_on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path) return false;
    for (const char *d = path;;) {
        const char *end = strchr(d, ':');
        const size_t L = end ? (size_t)(end - d) : strlen(d);
        /* an empty entry is the current folder, as for execvp */
        char *f = frost__asprintf("%.*s/%s", (int)(L ? L : 1), L ? d : ".", prog);
        struct stat st;
        const bool ok = f && stat(f, &st) == 0 && S_ISREG(st.st_mode) && access(f, X_OK) == 0;
        free(f);
        if (ok) return true;
        if (!end) return false;
        d = end + 1;
    }
}

const char *cli_bytes(double b, char *buf, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (b >= 1024.0 && k < 4) {
        b /= 1024.0;
        k++;
    }
    snprintf(buf, cap, k ? "%.1f %s" : "%.0f %s", b, u[k]);
    return buf;
}

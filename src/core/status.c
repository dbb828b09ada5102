/*
 * status.c - per-thread error messages, logging hook, assertion hook, and
 * small process helpers (clock, peak RSS, thread count).
 */
#include "core/core_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Room for a message naming two paths of PATH_MAX (4096) bytes each. */
#define FROST_ERRMSG_CAP 16384

static _Thread_local char err_msg[FROST_ERRMSG_CAP];
static _Thread_local char err_origin[256];

static frost_log_fn log_fn = NULL;
static void *log_user = NULL;

static void default_abort(const char *msg)
{
    fprintf(stderr, "frost: internal error: %s\n", msg);
    abort();
}
static frost__abort_fn abort_hook = default_abort;

const char *frost_version(void) { return FROST_VERSION_STRING; }

const char *frost_status_str(frost_status st)
{
    switch (st) {
    case FROST_OK: return "FROST_OK";
    case FROST_DONE: return "FROST_DONE";
    case FROST_ERR_NOMEM: return "FROST_ERR_NOMEM";
    case FROST_ERR_IO: return "FROST_ERR_IO";
    case FROST_ERR_SHAPE: return "FROST_ERR_SHAPE";
    case FROST_ERR_INVALID: return "FROST_ERR_INVALID";
    case FROST_ERR_CONFIG: return "FROST_ERR_CONFIG";
    case FROST_ERR_RANGE: return "FROST_ERR_RANGE";
    case FROST_ERR_HDF5: return "FROST_ERR_HDF5";
    case FROST_ERR_METIS: return "FROST_ERR_METIS";
    case FROST_ERR_FORMAT: return "FROST_ERR_FORMAT";
    case FROST_ERR_NUMERIC: return "FROST_ERR_NUMERIC";
    case FROST_ERR_MPI: return "FROST_ERR_MPI";
    case FROST_ERR_INTERRUPTED: return "FROST_ERR_INTERRUPTED";
    }
    return "FROST_ERR_UNKNOWN";
}

const char *frost_last_error(void) { return err_msg; }
const char *frost_last_error_origin(void) { return err_origin; }
void frost_clear_error(void)
{
    err_msg[0] = 0;
    err_origin[0] = 0;
}

frost_status frost__set_error(frost_status st, const char *func, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    /* Keep messages on one line whatever the caller formatted. */
    for (char *p = err_msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    snprintf(err_origin, sizeof err_origin, "%s (%s:%d)", func, file, line);
    return st;
}

void frost__error_prefix(const char *fmt, ...)
{
    char prefix[FROST_ERRMSG_CAP / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* "prefix: old": move the old message right, in place */
    const size_t lp = strlen(prefix), lo = strlen(err_msg);
    size_t keep = lo;
    if (lp + 2 + keep >= sizeof err_msg) keep = sizeof err_msg - lp - 3;
    memmove(err_msg + lp + 2, err_msg, keep);
    err_msg[lp + 2 + keep] = 0;
    memcpy(err_msg, prefix, lp);
    err_msg[lp] = ':';
    err_msg[lp + 1] = ' ';
    for (char *p = err_msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
}

char *frost__asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void frost_log_set(frost_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void frost__log(frost_log_level level, const char *fmt, ...)
{
    if (!log_fn) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char small[1024], *buf = n >= 0 && (size_t)n < sizeof small ? small : malloc(n >= 0 ? (size_t)n + 1 : 1);
    if (!buf) return;
    va_start(ap, fmt);
    vsnprintf(buf, n >= 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    log_fn(level, buf, log_user);
    if (buf != small) free(buf);
}

void frost__set_abort_hook(frost__abort_fn fn) { abort_hook = fn ? fn : default_abort; }

_Noreturn void frost__assert_fail(const char *expr, const char *file, int line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "assertion '%s' failed at %s:%d", expr, file, line);
    abort_hook(buf);
    abort(); /* the hook must not return; make sure */
}

double frost__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t frost__peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}

frost_status frost__path_copy(char *dst, size_t cap, const char *src, const char *what)
{
    const size_t n = strlen(src);
    if (n >= cap) {
        if (cap) dst[0] = 0;
        return frost__error(FROST_ERR_RANGE, "%s: the path %.160s... is %zu bytes long, at most %zu", what, src, n,
                            cap ? cap - 1 : 0);
    }
    memcpy(dst, src, n + 1);
    return FROST_OK;
}

/* The first number after `key` in a small text file (/proc/meminfo style),
 * or -1. */
static long long read_key(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long long v = -1;
    const size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0) {
            v = strtoll(line + kl, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* A file holding one number ("max" reads as no limit: -1). */
static long long read_number(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char buf[64] = "";
    const bool ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok || strncmp(buf, "max", 3) == 0) return -1;
    char *end;
    const long long v = strtoll(buf, &end, 10);
    return end == buf ? -1 : v;
}

static void take_min(size_t *best, char *why, size_t cap, long long room, const char *what)
{
    if (room < 0) room = 0;
    if ((unsigned long long)room < *best) {
        *best = (size_t)room;
        snprintf(why, cap, "%s", what);
    }
}

/* Room under the memory limits of this process's cgroup and its ancestors. */
static void cgroup_room(size_t *best, char *why, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        /* "0::/path" (v2), or "N:cpu,memory:/path" (v1, the memory controller listed) */
        const bool v2 = c2 == c1 + 1 && strncmp(line, "0:", 2) == 0;
        char ctl[256];
        snprintf(ctl, sizeof ctl, ",%.*s,", (int)(c2 - c1 - 1), c1 + 1);
        const bool v1 = !v2 && strstr(ctl, ",memory,") != NULL;
        if (!v1 && !v2) continue;
        const char *root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        const char *limf = v2 ? "memory.max" : "memory.limit_in_bytes";
        const char *usef = v2 ? "memory.current" : "memory.usage_in_bytes";
        /* from the group up to the root: every level's limit applies */
        char *grp = c2 + 1;
        for (;;) {
            char *lim = frost__asprintf("%s%s/%s", root, grp, limf), *use = frost__asprintf("%s%s/%s", root, grp, usef);
            const long long L = lim ? read_number(lim) : -1, U = use ? read_number(use) : -1;
            free(lim);
            free(use);
            /* v1 reports "no limit" as a huge page-rounded number */
            if (L > 0 && L < (1LL << 60)) take_min(best, why, cap, L - (U > 0 ? U : 0), v2 ? "cgroup memory.max" : "cgroup memory.limit_in_bytes");
            char *slash = strrchr(grp, '/');
            if (!slash || (slash == grp && grp[1] == 0)) break;
            if (slash == grp) grp[1] = 0;
            else *slash = 0;
        }
    }
    fclose(f);
}

size_t frost__memory_available(char *why, size_t cap)
{
    size_t best = SIZE_MAX;
    if (cap) why[0] = 0;
    const char *force = getenv("FROST_MEM_AVAILABLE");
    const long long kb = read_key("/proc/meminfo", "MemAvailable:");
    if (force && *force) take_min(&best, why, cap, strtoll(force, NULL, 10), "FROST_MEM_AVAILABLE");
    else if (kb >= 0) take_min(&best, why, cap, kb * 1024, "MemAvailable in /proc/meminfo");
    cgroup_room(&best, why, cap);
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* address space in use: the first number of /proc/self/statm, in pages */
        long long pages = -1;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) {
            if (fscanf(f, "%lld", &pages) != 1) pages = -1;
            fclose(f);
        }
        const long long used = pages > 0 ? pages * (long long)sysconf(_SC_PAGESIZE) : 0;
        take_min(&best, why, cap, (long long)rl.rlim_cur - used, "RLIMIT_AS, ulimit -v");
    }
    return best;
}

void frost__strlcpy(char *dst, const char *src, size_t cap)
{
    if (!cap) return;
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

int frost__threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void frost__thread_range(int64_t n, int64_t *lo, int64_t *hi)
{
#ifdef _OPENMP
    int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
#else
    int64_t t = 0, T = 1;
#endif
    *lo = n * t / T;
    *hi = n * (t + 1) / T;
}

void frost__thread_cols(int64_t H, int64_t *h0, int64_t *h1)
{
    int64_t g0, g1;
    frost__thread_range((H + 15) / 16, &g0, &g1);
    *h0 = g0 * 16 < H ? g0 * 16 : H;
    *h1 = g1 * 16 < H ? g1 * 16 : H;
}

static _Atomic int isa_in_use = -1; /* -1: not chosen yet (first asked maybe inside a parallel region) */

/* The best kernel path this CPU runs. */
static int cpu_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return FROST__ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return FROST__ISA_AVX2;
#endif
    return FROST__ISA_GENERIC;
}

static const char *const isa_names[] = {"generic", "avx2", "avx512"};

const char *frost_isa_name(void) { return isa_names[frost__isa(-1)]; }

/* FROST_ISA in the environment: the path it names, -1 when unset or empty,
 * -2 when it names none. */
static int isa_env(void)
{
    const char *v = getenv("FROST_ISA");
    if (!v || !*v) return -1;
    for (int k = 0; k < 3; k++)
        if (strcmp(v, isa_names[k]) == 0) return k;
    return -2;
}

frost_status frost_isa_from_env(void)
{
    const int want = isa_env(), have = cpu_isa();
    if (want == -2) {
        /* the value as printable text, at most 40 bytes of it */
        const char *v = getenv("FROST_ISA");
        char shown[48];
        size_t k = 0;
        for (; v[k] && k < 40; k++) shown[k] = v[k] >= 0x20 && v[k] < 0x7f ? v[k] : '?';
        shown[k] = 0;
        return frost__error(FROST_ERR_INVALID, "FROST_ISA=%s%s: expected generic, avx2 or avx512", shown,
                            v[k] ? "..." : "");
    }
    if (want > have)
        return frost__error(FROST_ERR_INVALID, "FROST_ISA=%s: this CPU runs at most the %s kernels", isa_names[want],
                            isa_names[have]);
    return FROST_OK;
}

/* FROST_ISA=generic|avx2|avx512 forces a path (capped at what the CPU
 * runs; frost_isa_from_env refuses the others): to measure one path, or to
 * reproduce another machine's numbers. */
int frost__isa(int want)
{
    const int have = cpu_isa();
    if (want >= FROST__ISA_GENERIC && want <= have) isa_in_use = want;
    if (isa_in_use < 0) {
        const int e = isa_env();
        isa_in_use = e >= 0 && e <= have ? e : have;
    }
    return isa_in_use;
}

_Atomic int frost__cost_on = 0;
/* a few dozen adds per epoch, and only while counting: a lock is cheap */
static pthread_mutex_t cost_lock = PTHREAD_MUTEX_INITIALIZER;
static double cost_flops, cost_bytes;

void frost__cost_switch(bool on)
{
    if (on) {
        pthread_mutex_lock(&cost_lock);
        cost_flops = cost_bytes = 0.0;
        pthread_mutex_unlock(&cost_lock);
    }
    frost__cost_on = on;
}

void frost__cost_read(double *flops, double *bytes)
{
    pthread_mutex_lock(&cost_lock);
    *flops = cost_flops;
    *bytes = cost_bytes;
    pthread_mutex_unlock(&cost_lock);
}

void frost__cost_add(double flops, double bytes)
{
    pthread_mutex_lock(&cost_lock);
    cost_flops += flops;
    cost_bytes += bytes;
    pthread_mutex_unlock(&cost_lock);
}

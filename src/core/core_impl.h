/*
 * core_impl.h - internals shared by every frost module: error reporting,
 * cleanup macros, assertions, logging and small helpers.
 */
#ifndef FROST_CORE_IMPL_H
#define FROST_CORE_IMPL_H

#include "frost/status.h"
#include "frost/rng.h"
#include "frost_config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

/* Record an error for the current thread and return its status.
 * The message is what a user sees: name the file, the line or field, and
 * what was expected. The source location is kept separately. */
#define frost__error(st, ...) \
    frost__set_error((st), __func__, __FILE__, __LINE__, __VA_ARGS__)

frost_status frost__set_error(frost_status st, const char *func, const char *file,
                              int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prefix the current error message with "prefix: " (used to add the file
 * name when an inner routine only knows the line). */
void frost__error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One cleanup path per function: FROST_TRY jumps to `fail` with `st` set. */
#define FROST_TRY(call)                   \
    do {                                  \
        st = (call);                      \
        if (st < 0) goto fail;            \
    } while (0)

#define FROST_FAIL(code, ...)                          \
    do {                                               \
        st = frost__error((code), __VA_ARGS__);        \
        goto fail;                                     \
    } while (0)

/* Jump to `fail` with a status whose message is already set. */
#define FROST_FAILED(expr)   \
    do {                     \
        st = (expr);         \
        goto fail;           \
    } while (0)

/* malloc and calloc for frost's arrays, released with free(): blocks of a
 * MiB and more start on a 2 MiB boundary (rows of any power-of-two width
 * stay cache-line aligned), and from 4 MiB on they ask the kernel for
 * transparent huge pages (madvise): the SpMM's gathers of random rows then
 * miss the TLB far less. NULL when out of memory. */
void *frost__malloc(size_t bytes);
void *frost__calloc(size_t n, size_t size);

/* Zero bytes [p, p + bytes) of a block from frost__malloc or
 * frost__calloc, handing the whole pages inside back to the kernel: they
 * read as zero and take no memory until written again (Linux's
 * MADV_DONTNEED on private anonymous memory; elsewhere a plain memset). For buffers whose rows are dead between
 * uses (the halo rows of a scratch buffer), so that they count in the
 * resident memory only while they are used. */
void frost__zero_release(void *p, size_t bytes);

/* Allocation that reports FROST_ERR_NOMEM with the size asked for. */
#define FROST_ALLOC(ptr, count)                                                   \
    do {                                                                          \
        size_t n__ = (size_t)(count);                                             \
        (ptr) = frost__malloc(n__ ? n__ * sizeof(*(ptr)) : 1);                    \
        if (!(ptr)) FROST_FAIL(FROST_ERR_NOMEM, "out of memory allocating %zu bytes", \
                               n__ * sizeof(*(ptr)));                             \
    } while (0)

#define FROST_CALLOC(ptr, count)                                                  \
    do {                                                                          \
        size_t n__ = (size_t)(count);                                             \
        (ptr) = frost__calloc(n__ ? n__ : 1, sizeof(*(ptr)));                     \
        if (!(ptr)) FROST_FAIL(FROST_ERR_NOMEM, "out of memory allocating %zu bytes", \
                               n__ * sizeof(*(ptr)));                             \
    } while (0)

/* One slab per lifetime (llm.c's malloc_and_point): a layout function takes
 * every array it needs from slabs in a fixed order, once with null bases to
 * measure (off = bytes needed), then again over the allocated blocks to
 * point. Arrays start on 64-byte boundaries. */
typedef struct frost__slab {
    char *base;
    size_t off;
} frost__slab;

static inline void *frost__slab_take(frost__slab *s, size_t bytes)
{
    size_t o = (s->off + 63) & ~(size_t)63; /* cache-line aligned */
    s->off = o + bytes;
    return s->base ? (void *)(s->base + o) : NULL;
}
#define FROST__TAKE(s, n, T) ((T *)frost__slab_take((s), (size_t)(n) * sizeof(T)))

/* Initialise the n = rows * cols values of a (rows, cols) matrix (fan_in =
 * rows, fan_out = cols) with a scheme (frost_init; DEFAULT is nn.Linear's):
 * value i is a function of (seed, stream, i) alone (init.c). */
void frost__init_values(float *v, int64_t rows, int64_t cols, frost_init how, uint64_t seed, uint64_t stream);

/* Internal invariants: always compiled in, kept out of inner loops. They
 * call a settable hook (default abort()); bad *input* never reaches them. */
typedef void (*frost__abort_fn)(const char *msg);
void frost__set_abort_hook(frost__abort_fn fn);
_Noreturn void frost__assert_fail(const char *expr, const char *file, int line);
#define FROST_ASSERT(x) \
    do { if (!(x)) frost__assert_fail(#x, __FILE__, __LINE__); } while (0)

void frost__log(frost_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic wall clock in seconds. */
double frost__now(void);

/* Peak resident set size of this process in bytes (getrusage). */
size_t frost__peak_rss(void);

/* Bytes this process may still allocate: the least of the system's
 * MemAvailable (/proc/meminfo), the room left under a cgroup v2 memory.max
 * or v1 memory.limit_in_bytes (this process's group and its ancestors), and
 * the room left under RLIMIT_AS. `why` names the one that binds. SIZE_MAX
 * when none can be read. FROST_MEM_AVAILABLE=BYTES in the environment
 * replaces MemAvailable (tests). */
size_t frost__memory_available(char *why, size_t cap);

/* printf into a new malloc'd string (free it); NULL when out of memory.
 * Paths are built with it: no fixed-size buffer cuts a long one. */
char *frost__asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy a path into a fixed buffer of `cap` bytes, or FROST_ERR_RANGE with a
 * one-line error ("WHAT: ... bytes long, at most ...") when it does not fit:
 * a path is never cut. */
frost_status frost__path_copy(char *dst, size_t cap, const char *src, const char *what);

/* snprintf into a fixed buffer, always terminated. */
void frost__strlcpy(char *dst, const char *src, size_t cap);

/* Hot kernels are compiled for several instruction sets and picked at load
 * time (GCC function multi-versioning), so one binary is fast on AVX-512 and
 * AVX2 machines and still runs anywhere. Off with -Dnative=true (then the
 * whole build targets this CPU) and on compilers without the feature. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(FROST_NATIVE) && \
    !defined(__SANITIZE_ADDRESS__)
#define FROST_KERNEL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FROST_KERNEL_CLONES
#endif

/* Worker threads for OpenMP regions: 0 = library default. */
int frost__threads(void);
/* openblas_set_num_threads(1), leaving OpenMP's thread count as it was (threads.c) */
void frost__blas_single_thread(void);
/* Whether OpenBLAS runs its AVX-512 kernels (its core SkylakeX, Cooperlake
 * or SapphireRapids): it then takes the wide weight gradients
 * (tensor/gemm_simd.c). */
FROST_API bool frost__blas_avx512(void);

/* Inside a parallel region: this thread's share [lo, hi) of n items, split
 * into equal contiguous ranges. */
void frost__thread_range(int64_t n, int64_t *lo, int64_t *hi);

/* Inside a parallel region: this thread's columns [h0, h1) of H, split in
 * groups of 16. A column sum that walks every row in order for its columns
 * does not depend on how the columns are split, hence on the thread count. */
void frost__thread_cols(int64_t H, int64_t *h0, int64_t *h1);

/* Column sums over rows, the same for any thread count and read in row
 * order (each thread streams whole blocks of rows). Rows [0, n) are cut into
 * blocks of FROST_SUM_ROWS; fn(ctx, i0, i1, c0, c1, acc) adds the terms of
 * rows [i0, i1) and columns [c0, c1) to acc: K arrays of FROST_SUM_COLS
 * doubles (column c0 + q at q), zeroed; whole vectors may run past c1 - c0
 * within an array. The blocks' sums are added to out (the same layout) in
 * block order. c1 - c0 <= FROST_SUM_COLS, K <= 2. */
#define FROST_SUM_ROWS 1024
#define FROST_SUM_COLS 512
typedef void (*frost__block_sum_fn)(void *ctx, int64_t i0, int64_t i1, int64_t c0, int64_t c1, double *acc);
void frost__block_sums(int64_t n, int64_t c0, int64_t c1, int K, double *out, frost__block_sum_fn fn, void *ctx);

/* A read prefetch `ahead` floats past p, which may lie past the end of the
 * array: the address is made as an integer (a pointer past the end would be
 * undefined), and a prefetch of any address is harmless. */
static inline void frost__prefetch_ahead(const float *p, int64_t ahead)
{
    __builtin_prefetch((const void *)((uintptr_t)p + (uintptr_t)(ahead * (int64_t)sizeof(float))));
}

/* Work counters behind frost bench's roofline floor: the dense-product
 * flops and the bytes the memory-bound kernels (SpMM, post block, column
 * sums, optimizer) read and write, each counted where the kernel is entered
 * (tools/bench/README.md explains every count). Off unless started; the
 * adds take a lock, so kernels entered from several threads count right. */
extern _Atomic int frost__cost_on;
/* on: counters zeroed and counting; off: counting stops (values kept) */
FROST_API void frost__cost_switch(bool on);
FROST_API void frost__cost_read(double *flops, double *bytes);
void frost__cost_add(double flops, double bytes);
static inline void frost__cost(double flops, double bytes)
{
    if (frost__cost_on) frost__cost_add(flops, bytes);
}

/* Hand-vectorised kernels (tall products, SpMM rows, the post block): want
 * = one of these to force a code path (tests compare them), -1 to query.
 * Returns the path in use; forcing one the CPU lacks keeps the current. The
 * default is the best the CPU runs, or the one FROST_ISA names
 * (frost_isa_from_env). */
enum { FROST__ISA_GENERIC = 0, FROST__ISA_AVX2 = 1, FROST__ISA_AVX512 = 2 };
FROST_API int frost__isa(int want);

#endif

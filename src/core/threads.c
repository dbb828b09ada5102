/*
 * threads.c - one knob for every source of parallelism: OpenMP regions in
 * frost's kernels and OpenBLAS's own thread pool.
 */
#include "frost/status.h"
#include "core/core_impl.h"

#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

void frost_set_threads(int n)
{
    if (n <= 0) return;
    /* OpenBLAS always runs single-threaded inside frost's own parallel blocks
     * (tensor/gemm.c): its results would otherwise depend on n */
    frost__blas_single_thread();
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

void frost__blas_single_thread(void)
{
    /* OpenBLAS's OpenMP build implements openblas_set_num_threads with
     * omp_set_num_threads, which would leave every later OpenMP region of
     * frost on one thread: OpenMP's count is kept as it was */
#ifdef _OPENMP
    const int T = omp_get_max_threads();
#endif
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(T);
#endif
}

int frost_get_threads(void) { return frost__threads(); }

/* "<OpenBLAS core>+avx512" (or "+avx2") while frost's own products
 * (tensor/gemm_simd.c) take the node-by-feature shapes: those round
 * differently from OpenBLAS's, so a result records which of the two made
 * it, and the path. The strings are made once; frost__isa picks one per
 * call. */
static pthread_once_t core_once = PTHREAD_ONCE_INIT;
static char core_plain[40], core_avx2[48], core_avx512[48];

static void core_names(void)
{
    snprintf(core_plain, sizeof core_plain, "%s", openblas_get_corename());
    snprintf(core_avx2, sizeof core_avx2, "%s+avx2", core_plain);
    snprintf(core_avx512, sizeof core_avx512, "%s+avx512", core_plain);
}

bool frost__blas_avx512(void)
{
    pthread_once(&core_once, core_names);
    static const char *const wide[] = {"skylakex", "cooperlake", "sapphirerapids"};
    for (size_t k = 0; k < sizeof wide / sizeof wide[0]; k++)
        if (strncasecmp(core_plain, wide[k], strlen(wide[k])) == 0) return true;
    return false;
}

const char *frost_blas_core(void)
{
    pthread_once(&core_once, core_names);
    const int isa = frost__isa(-1);
    return isa == FROST__ISA_AVX512 ? core_avx512 : isa == FROST__ISA_AVX2 ? core_avx2 : core_plain;
}

void frost__block_sums(int64_t n, int64_t c0, int64_t c1, int K, double *out, frost__block_sum_fn fn, void *ctx)
{
    const int64_t w = c1 - c0, nb = (n + FROST_SUM_ROWS - 1) / FROST_SUM_ROWS;
    FROST_ASSERT(w >= 0 && w <= FROST_SUM_COLS && K >= 1 && K <= 2);
    if (w == 0) return;
    /* static, 1: thread t takes blocks t, t + T, ...; while one adds its
     * block (in order), the others already sum their next ones */
#pragma omp parallel for ordered schedule(static, 1) if (n * w > 65536)
    for (int64_t b = 0; b < nb; b++) {
        double acc[2 * FROST_SUM_COLS] __attribute__((aligned(64)));
        memset(acc, 0, (size_t)K * FROST_SUM_COLS * sizeof(double));
        const int64_t i0 = b * FROST_SUM_ROWS, i1 = i0 + FROST_SUM_ROWS < n ? i0 + FROST_SUM_ROWS : n;
        fn(ctx, i0, i1, c0, c1, acc);
#pragma omp ordered
        for (int k = 0; k < K; k++)
            for (int64_t q = 0; q < w; q++) out[k * FROST_SUM_COLS + q] += acc[k * FROST_SUM_COLS + q];
    }
}

void *frost__malloc(size_t bytes)
{
    if (bytes < ((size_t)1 << 20)) return malloc(bytes ? bytes : 1);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= ((size_t)4 << 20)) (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    return p;
}

void frost__zero_release(void *p, size_t bytes)
{
    char *a = p, *e = a + bytes;
#if defined(__linux__) && defined(MADV_DONTNEED)
    const long ps = sysconf(_SC_PAGESIZE);
    const uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
    char *lo = (char *)(((uintptr_t)a + page - 1) & ~(page - 1)), *hi = (char *)((uintptr_t)e & ~(page - 1));
    if (hi > lo && madvise(lo, (size_t)(hi - lo), MADV_DONTNEED) == 0) {
        memset(a, 0, (size_t)(lo - a));
        memset(hi, 0, (size_t)(e - hi));
        return;
    }
#endif
    memset(a, 0, bytes);
}

void *frost__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    const size_t bytes = n * size;
    if (bytes < ((size_t)1 << 20)) return calloc(n ? n : 1, size ? size : 1);
    void *p = frost__malloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

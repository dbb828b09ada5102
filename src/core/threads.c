/*
 * threads.c - one knob for every source of parallelism: OpenMP regions in
 * frost's kernels and OpenBLAS's own thread pool.
 */
#include "frost/frost.h"
#include "core/core_impl.h"

#include <cblas.h>
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

const char *frost_blas_core(void) { return openblas_get_corename(); }

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
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    /* OpenBLAS always runs single-threaded inside frost's own parallel blocks
     * (tensor/gemm.c): its results would otherwise depend on n */
    openblas_set_num_threads(1);
}

int frost_get_threads(void) { return frost__threads(); }

const char *frost_blas_core(void) { return openblas_get_corename(); }

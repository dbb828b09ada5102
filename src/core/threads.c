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
    openblas_set_num_threads(n);
}

int frost_get_threads(void) { return frost__threads(); }

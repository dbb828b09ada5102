/*
 * frost/dist.h - frost on several processes with MPI (Debian's OpenMPI).
 *
 * `mpirun -np P frost run EXPERIMENT.cfg` starts P copies of frost that
 * share the work of the experiment in one of two ways (setting mpi.mode):
 *   - "graph": every run is trained by all P processes together; process r
 *     owns the nodes of part r of a METIS partition of the graph (plus a
 *     copy of its halo, the nodes its own aggregate from), halo features
 *     are exchanged in every layer's forward and backward pass, gradients
 *     are summed with an allreduce, and process 0 writes the results;
 *   - "runs": the runs of a sweep are dealt out round-robin, each trained
 *     by one process alone; process 0 collects and writes them.
 * Without mpirun (or with one process) frost runs as usual. README.md
 * ("Mini-batches and several processes") describes the design, the
 * equivalence with one process and the measured communication.
 *
 *     if (frost_dist_init(&argc, &argv) < 0) ...   // MPI_Init under mpirun
 *     ... frost_experiment_run(...) ...           // rank 0 writes results
 *     frost_dist_finalize();
 */
#ifndef FROST_DIST_H
#define FROST_DIST_H

#include "frost/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* True if this frost was built with MPI (meson option mpi). */
FROST_API bool frost_dist_available(void);

/* Start MPI if this process was launched by mpirun with more than one
 * process (OpenMPI's environment says so); otherwise nothing. Returns
 * FROST_ERR_MPI when launched that way by a frost without MPI. */
FROST_API frost_status frost_dist_init(int *argc, char ***argv);

/* MPI_Finalize if frost_dist_init started MPI. */
FROST_API void frost_dist_finalize(void);

/* Stop every process (MPI_Abort) after an error one of them cannot recover
 * from: the others would otherwise wait for it forever. Returns only when
 * MPI is not running. */
FROST_API void frost_dist_abort(int code);

/* This process's rank and the number of processes (0 and 1 without MPI). */
FROST_API int frost_dist_rank(void);
FROST_API int frost_dist_size(void);

/* Communication of a distributed training run (mpi.mode = "graph"): per
 * training epoch, the bytes all processes sent together, and the time of
 * an epoch split into halo exchange, allreduce and the rest (compute),
 * averaged over processes (time spent waiting for a slower process counts
 * as communication). Evaluation passes are not counted. */
#define FROST_DIST_MEM_RANKS 64
#define FROST_DIST_MEM_COLS 8
typedef struct frost_dist_stats {
    int32_t ranks;
    int64_t epochs;       /* training epochs measured */
    double halo_bytes;    /* per epoch: forward and backward halo exchanges */
    double reduce_bytes;  /* per epoch: gradients, batch statistics, loss, threshold selection */
    double epoch_seconds; /* per epoch: wall time of the slowest process */
    double halo_seconds, reduce_seconds, compute_seconds; /* per epoch, mean over processes */
    int64_t owned_min, owned_max;                         /* nodes per process */
    int64_t halo_min, halo_max;                           /* halo nodes per process */
    /* Memory per process (the first FROST_DIST_MEM_RANKS), bytes: what its
     * share holds and what it measured. The columns, in order: owned nodes,
     * halo nodes, the owned rows' features and labels, the halo rows' ones,
     * the local graph (rows and transpose), the model's buffers
     * (frost_model_bytes_for on the local rows), communication buffers
     * (halo messages and the gradient allreduce), peak RSS of the process. */
    int32_t mem_ranks;
    int64_t mem[FROST_DIST_MEM_RANKS][FROST_DIST_MEM_COLS];
} frost_dist_stats;

#ifdef __cplusplus
}
#endif
#endif

/*
 * comm.c - the MPI layer of distributed training: start-up, collectives
 * and the halo exchange, with counters of bytes and seconds. The only file
 * that includes mpi.h; without MPI (meson -Dmpi=disabled) every process is
 * alone and these functions are never reached with more than one.
 *
 * Only the main thread calls MPI (MPI_THREAD_FUNNELED): OpenMP regions run
 * between the calls. MPI errors are fatal (MPI's default handler): they
 * mean a broken launch or network, which no caller can repair.
 *
 * Bytes counted are bytes a process sends: halo rows exactly; for an
 * allreduce of b bytes, 2 (P-1)/P b, what a ring allreduce sends (OpenMPI's
 * choice for large vectors; for small ones latency dominates anyway).
 */
#include "dist/dist_impl.h"

#include <stdio.h>
#include <string.h>

#if FROST_HAVE_MPI
#include <mpi.h>
#endif

struct frost__comm {
    int rank, size;
#if FROST_HAVE_MPI
    MPI_Comm comm;
#endif
    frost__comm_counters cnt;
};

static frost__comm world;
static bool world_up, we_started;

bool frost_dist_available(void) { return FROST_HAVE_MPI != 0; }

/* Processes mpirun started, from its environment (OpenMPI, or MPICH's hydra). */
static int launched_size(void)
{
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!s) s = getenv("PMI_SIZE");
    return s ? atoi(s) : 0;
}

frost_status frost_dist_init(int *argc, char ***argv)
{
    const int n = launched_size();
    if (world_up || n <= 1) return FROST_OK;
#if FROST_HAVE_MPI
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return frost__error(FROST_ERR_MPI, "MPI_Init_thread failed");
        we_started = true;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &world.comm);
    MPI_Comm_rank(world.comm, &world.rank);
    MPI_Comm_size(world.comm, &world.size);
    world_up = world.size > 1;
    return FROST_OK;
#else
    (void)argc, (void)argv;
    return frost__error(FROST_ERR_MPI,
                        "started by mpirun as one of %d processes, but this frost was built without MPI "
                        "(install libopenmpi-dev and reconfigure: meson configure build -Dmpi=enabled)",
                        n);
#endif
}

void frost_dist_finalize(void)
{
#if FROST_HAVE_MPI
    if (world_up) MPI_Comm_free(&world.comm);
    world_up = false;
    if (we_started) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
        we_started = false;
    }
#endif
}

void frost_dist_abort(int code)
{
#if FROST_HAVE_MPI
    if (world_up) MPI_Abort(MPI_COMM_WORLD, code);
#else
    (void)code;
#endif
}

int frost_dist_rank(void) { return world_up ? world.rank : 0; }
int frost_dist_size(void) { return world_up ? world.size : 1; }

frost__comm *frost__comm_world(void) { return world_up ? &world : NULL; }
int frost__comm_rank(const frost__comm *c) { return c ? c->rank : 0; }
int frost__comm_size(const frost__comm *c) { return c ? c->size : 1; }

void frost__comm_counters_get(const frost__comm *c, frost__comm_counters *out)
{
    if (c)
        *out = c->cnt;
    else
        memset(out, 0, sizeof *out);
}

void frost__comm_counters_reset(frost__comm *c)
{
    if (c) memset(&c->cnt, 0, sizeof c->cnt);
}

#if FROST_HAVE_MPI

static void count_reduce(frost__comm *c, int64_t bytes, double t0)
{
    c->cnt.reduce_bytes += 2 * (int64_t)(c->size - 1) * bytes / c->size;
    c->cnt.reduce_seconds += frost__now() - t0;
}

/* In-place allreduce of n 8-byte values. */
static void allreduce8(frost__comm *c, void *v, int64_t n, MPI_Datatype type, MPI_Op op)
{
    if (!c || n == 0) return;
    const double t0 = frost__now();
    FROST_ASSERT(n <= INT32_MAX);
    MPI_Allreduce(MPI_IN_PLACE, v, (int)n, type, op, c->comm);
    count_reduce(c, n * 8, t0);
}

void frost__comm_sum_f64(frost__comm *c, double *v, int64_t n) { allreduce8(c, v, n, MPI_DOUBLE, MPI_SUM); }
void frost__comm_sum_i64(frost__comm *c, int64_t *v, int64_t n) { allreduce8(c, v, n, MPI_INT64_T, MPI_SUM); }
void frost__comm_max_i64(frost__comm *c, int64_t *v, int64_t n) { allreduce8(c, v, n, MPI_INT64_T, MPI_MAX); }

void frost__comm_bcast(frost__comm *c, void *buf, int64_t bytes, int root)
{
    if (!c) return;
    for (int64_t o = 0; o < bytes; o += INT32_MAX) {
        const int64_t b = bytes - o < INT32_MAX ? bytes - o : INT32_MAX;
        MPI_Bcast((char *)buf + o, (int)b, MPI_BYTE, root, c->comm);
    }
}

void frost__comm_barrier(frost__comm *c)
{
    if (c) MPI_Barrier(c->comm);
}

static frost_status gather_impl(frost__comm *c, const void *send, int64_t bytes, int root, void **out, int64_t *counts,
                                bool all)
{
    frost_status st = FROST_OK;
    int *cnt = NULL, *displ = NULL;
    int64_t my = bytes;
    *out = NULL;
    if (bytes > INT32_MAX)
        return frost__error(FROST_ERR_RANGE, "gathering %lld bytes from one process", (long long)bytes);
    FROST_ALLOC(cnt, c->size);
    FROST_ALLOC(displ, c->size);
    if (all)
        MPI_Allgather(&my, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, c->comm);
    else
        MPI_Gather(&my, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, root, c->comm);
    int64_t total = 0;
    const bool have = all || c->rank == root;
    if (have) {
        for (int q = 0; q < c->size; q++) {
            if (total > INT32_MAX) FROST_FAIL(FROST_ERR_RANGE, "gathering more than 2 GiB");
            cnt[q] = (int)counts[q];
            displ[q] = (int)total;
            total += counts[q];
        }
        if (total > INT32_MAX) FROST_FAIL(FROST_ERR_RANGE, "gathering more than 2 GiB");
        FROST_ALLOC(*(char **)out, total);
    }
    if (all)
        MPI_Allgatherv(send, (int)bytes, MPI_BYTE, *out, cnt, displ, MPI_BYTE, c->comm);
    else
        MPI_Gatherv(send, (int)bytes, MPI_BYTE, have ? *out : NULL, cnt, displ, MPI_BYTE, root, c->comm);
fail:
    free(cnt);
    free(displ);
    return st;
}

frost_status frost__comm_gather(frost__comm *c, const void *send, int64_t bytes, int root, void **out, int64_t *counts)
{
    return gather_impl(c, send, bytes, root, out, counts, false);
}

frost_status frost__comm_allgather(frost__comm *c, const void *send, int64_t bytes, void **out, int64_t *counts)
{
    return gather_impl(c, send, bytes, 0, out, counts, true);
}

/* ---- the halo exchange ---------------------------------------------------------- */

struct frost__halo {
    frost__comm *c;
    const frost__halo_plan *p;
    int64_t max_width;
    float *sbuf;      /* (send_off[P], max_width): rows packed for the other processes */
    float *rbuf;      /* (send_off[P], max_width): gradients of our rows coming back */
    MPI_Request *req; /* (2P) */
};

int64_t frost__halo_bytes(const frost__halo *h)
{
    return h ? h->p->send_off[h->p->size] * h->max_width * (int64_t)sizeof(float) : 0;
}

frost_status frost__halo_new(frost__halo **out, frost__comm *c, const frost__halo_plan *p, int64_t max_width)
{
    frost_status st = FROST_OK;
    frost__halo *h = NULL;
    FROST_CALLOC(h, 1);
    h->c = c, h->p = p, h->max_width = max_width;
    const int64_t rows = p->send_off[p->size];
    /* one buffer: the forward exchange packs the rows it sends into it and
     * receives straight into the halo rows; the backward exchange sends
     * straight from the halo rows and receives into it */
    FROST_ALLOC(h->sbuf, rows * max_width);
    h->rbuf = h->sbuf;
    FROST_ALLOC(h->req, 2 * p->size);
    *out = h;
    return FROST_OK;
fail:
    frost__halo_free(&h);
    return st;
}

void frost__halo_free(frost__halo **ph)
{
    if (!ph || !*ph) return;
    frost__halo *h = *ph;
    free(h->sbuf); /* rbuf is the same buffer */
    free(h->req);
    free(h);
    *ph = NULL;
}

enum { TAG_FORWARD = 71, TAG_BACKWARD = 72 };

/* Rows of F floats: from process q, roff[q + 1] - roff[q] rows into
 * rbase + roff[q] F; to process q, soff[q + 1] - soff[q] rows from
 * sbase + soff[q] F. Non-blocking, then wait for all. */
static void exchange(frost__halo *h, float *rbase, const int64_t *roff, float *sbase, const int64_t *soff, int64_t F,
                     int tag)
{
    const int P = h->p->size;
    MPI_Datatype row;
    MPI_Type_contiguous((int)F, MPI_FLOAT, &row);
    MPI_Type_commit(&row);
    int nr = 0;
    for (int q = 0; q < P; q++) {
        const int64_t cnt = roff[q + 1] - roff[q];
        if (cnt > 0) MPI_Irecv(rbase + roff[q] * F, (int)cnt, row, q, tag, h->c->comm, &h->req[nr++]);
    }
    for (int q = 0; q < P; q++) {
        const int64_t cnt = soff[q + 1] - soff[q];
        if (cnt > 0) MPI_Isend(sbase + soff[q] * F, (int)cnt, row, q, tag, h->c->comm, &h->req[nr++]);
    }
    MPI_Waitall(nr, h->req, MPI_STATUSES_IGNORE);
    MPI_Type_free(&row);
}

void frost__halo_forward(frost__halo *h, float *x, int64_t F)
{
    const frost__halo_plan *p = h->p;
    const double t0 = frost__now();
    FROST_ASSERT(F <= h->max_width);
    const int64_t ns = p->send_off[p->size];
#pragma omp parallel for schedule(static) if (ns * F > 65536)
    for (int64_t k = 0; k < ns; k++) memcpy(h->sbuf + k * F, x + p->send_rows[k] * F, (size_t)F * sizeof(float));
    exchange(h, x + p->n_owned * F, p->recv_off, h->sbuf, p->send_off, F, TAG_FORWARD);
    frost__zero_release(h->sbuf, (size_t)(ns * F) * sizeof(float)); /* resident only while it is used */
    h->c->cnt.halo_bytes += ns * F * (int64_t)sizeof(float);
    h->c->cnt.halo_seconds += frost__now() - t0;
}

void frost__halo_backward(frost__halo *h, float *g, int64_t F)
{
    const frost__halo_plan *p = h->p;
    const double t0 = frost__now();
    FROST_ASSERT(F <= h->max_width);
    exchange(h, h->rbuf, p->send_off, g + p->n_owned * F, p->recv_off, F, TAG_BACKWARD);
    const int64_t sent = p->recv_off[p->size];
    /* add in process order; a row may come back from several processes, so
     * threads split the columns, not the rows: no races, a fixed order */
    const int64_t ns = p->send_off[p->size];
#pragma omp parallel if (ns * F > 65536)
    {
        int64_t f0, f1;
        frost__thread_cols(F, &f0, &f1);
        for (int64_t k = 0; k < ns; k++) {
            float *dst = g + p->send_rows[k] * F;
            const float *src = h->rbuf + k * F;
            for (int64_t f = f0; f < f1; f++) dst[f] += src[f];
        }
    }
    frost__zero_release(h->rbuf, (size_t)(ns * F) * sizeof(float));
    h->c->cnt.halo_bytes += sent * F * (int64_t)sizeof(float);
    h->c->cnt.halo_seconds += frost__now() - t0;
}

#else /* no MPI: one process, never a communicator */

void frost__comm_sum_f64(frost__comm *c, double *v, int64_t n) { (void)c, (void)v, (void)n; }
void frost__comm_sum_i64(frost__comm *c, int64_t *v, int64_t n) { (void)c, (void)v, (void)n; }
void frost__comm_max_i64(frost__comm *c, int64_t *v, int64_t n) { (void)c, (void)v, (void)n; }
void frost__comm_bcast(frost__comm *c, void *buf, int64_t bytes, int root)
{
    (void)c, (void)buf, (void)bytes, (void)root;
}
void frost__comm_barrier(frost__comm *c) { (void)c; }

frost_status frost__comm_gather(frost__comm *c, const void *send, int64_t bytes, int root, void **out, int64_t *counts)
{
    (void)c, (void)root;
    *out = malloc(bytes ? (size_t)bytes : 1);
    if (!*out) return frost__error(FROST_ERR_NOMEM, "out of memory");
    memcpy(*out, send, (size_t)bytes);
    counts[0] = bytes;
    return FROST_OK;
}

frost_status frost__comm_allgather(frost__comm *c, const void *send, int64_t bytes, void **out, int64_t *counts)
{
    return frost__comm_gather(c, send, bytes, 0, out, counts);
}

frost_status frost__halo_new(frost__halo **out, frost__comm *c, const frost__halo_plan *p, int64_t max_width)
{
    (void)c, (void)p, (void)max_width;
    *out = NULL;
    return frost__error(FROST_ERR_MPI, "this frost was built without MPI");
}

void frost__halo_free(frost__halo **h)
{
    if (h) *h = NULL;
}
int64_t frost__halo_bytes(const frost__halo *h) { return (void)h, 0; }
void frost__halo_forward(frost__halo *h, float *x, int64_t F) { (void)h, (void)x, (void)F; }
void frost__halo_backward(frost__halo *h, float *g, int64_t F) { (void)h, (void)g, (void)F; }

#endif

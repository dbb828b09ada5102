/*
 * test_steps.c - a training step allocates nothing: after two warm-up epochs,
 * three full-batch epochs of frost_train (forward, loss, backward,
 * optimizer, supermask update, the trainer's bookkeeping) of a GCN with
 * batch norm and dropout and of the paper's supermask GIN make no call to
 * malloc and its relatives from frost's own code, on any thread. The
 * model's memory is its slabs, allocated once (issue 6: one slab per
 * lifetime).
 *
 * What is asserted is what frost controls. Each counted call is attributed
 * by walking its stack: frames in the C library are passed over (frost
 * calling qsort or fopen still counts as frost), and the first frame outside
 * it decides. Calls from frost's code (the object that holds frost_train:
 * this executable, or libfrost when linked shared) fail the test. Calls
 * from other libraries (OpenBLAS, which on some CPU families allocates
 * inside its small-matrix kernels, and GCC's OpenMP runtime, which makes a
 * team record for regions that run on one thread) are listed in the test's
 * output and do not fail it: which kernels a dependency picks depends on
 * the CPU and on OPENBLAS_CORETYPE, and must not decide whether the suite
 * passes. A call whose stack cannot be walked past the C library counts as
 * frost's.
 *
 * The allocator is interposed by defining malloc & co. here: the executable's
 * definitions take precedence over libc's for libfrost, libgomp and
 * OpenBLAS. AddressSanitizer replaces the same functions, so under it the
 * test is skipped.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/frost.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define STEPS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STEPS_SANITIZED 1
#endif
#endif

TestSuite(steps, .timeout = 120);

#if !defined(STEPS_SANITIZED) && defined(__GLIBC__)
static atomic_bool counting;
static atomic_long calls;
#define CAP 4096
#define DEPTH 16
static void *frames[CAP][DEPTH]; /* the stack of each counted call, frames[k][0] in the interposer */
static int depth[CAP];
static size_t asked[CAP];
static _Thread_local bool walking; /* backtrace's own allocations are not the program's */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

/* Inlined into each interposer, so that frame 0 is the interposer and frame
 * 1 its caller. */
__attribute__((always_inline)) static inline void note(size_t n)
{
    if (!atomic_load_explicit(&counting, memory_order_relaxed) || walking) return;
    const long k = atomic_fetch_add(&calls, 1);
    if (k >= CAP) return;
    walking = true;
    depth[k] = backtrace(frames[k], DEPTH);
    walking = false;
    asked[k] = n;
}

/* The object (executable or shared library) that holds frost's code. */
static void *frost_object(void)
{
    Dl_info in;
    return dladdr((void *)(uintptr_t)frost_train, &in) ? in.dli_fbase : NULL;
}

static bool in_libc(const Dl_info *in)
{
    const char *b = strrchr(in->dli_fname, '/');
    b = b ? b + 1 : in->dli_fname;
    return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0;
}

/* Split the counted calls into frost's own (returned; the first described
 * in where) and other libraries' (counted in *foreign, the first described
 * in other). */
static long own_calls(char *where, size_t cap, long *foreign, char *other, size_t ocap)
{
    const long n = atomic_load(&calls);
    cr_assert_leq(n, CAP, "%ld allocations: more than can be told apart", n);
    void *frost = frost_object();
    cr_assert_not_null(frost, "dladdr cannot place frost_train");
    long own = 0;
    *foreign = 0;
    where[0] = other[0] = 0;
    for (long i = 0; i < n; i++) {
        Dl_info in = {0};
        const char *lib = "?", *sym = "?";
        bool mine = true; /* a stack that cannot be walked past libc counts as frost's */
        for (int f = 1; f < depth[i]; f++) {
            if (!dladdr(frames[i][f], &in) || !in.dli_fname) break;
            if (in_libc(&in)) continue;
            mine = in.dli_fbase == frost;
            lib = in.dli_fname;
            sym = in.dli_sname ? in.dli_sname : "?";
            break;
        }
        if (mine) {
            if (!own++) snprintf(where, cap, "%zu bytes from %s (%s)", asked[i], lib, sym);
        } else if (!(*foreign)++) {
            snprintf(other, ocap, "%zu bytes from %s (%s)", asked[i], lib, sym);
        }
    }
    return own;
}

void *malloc(size_t n)
{
    note(n);
    return __libc_malloc(n);
}
void *calloc(size_t k, size_t n)
{
    note(k * n);
    return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n)
{
    note(n);
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n)
{
    note(n);
    return __libc_memalign(a, n);
}
void *memalign(size_t a, size_t n)
{
    note(n);
    return __libc_memalign(a, n);
}
int posix_memalign(void **out, size_t a, size_t n)
{
    note(n);
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

/* The trainer's epoch hook: count from the end of epoch 2 (OpenBLAS and
 * OpenMP are set up by then) to the end of epoch 5; the last epoch's
 * evaluation falls outside. */
static void window(const frost_epoch_record *rec, void *user)
{
    (void)user;
    if (rec->epoch == 2) atomic_store(&calls, 0);
    if (rec->epoch == 2 || rec->epoch == 5) atomic_store(&counting, rec->epoch == 2);
}

static void steps_allocate_nothing(const frost_model_spec *s, const frost_task_data *d, const frost_dataset *ds,
                                   const char *what)
{
    frost_model *m;
    cr_assert_eq(frost_model_new(&m, s, &ds->graph, &ds->graph, ds->num_nodes), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_model_init(m, 1), FROST_OK);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = 6;
    o.eval_every = 1000; /* only after the last epoch */
    o.optim.kind = FROST_OPTIM_ADAMW;
    o.on_epoch = window;
    frost_run_result r;
    cr_assert_eq(frost_train(m, d, &o, &r), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(r.epochs_run, 6);
    char first[512], other[512];
    long foreign;
    const long n = own_calls(first, sizeof first, &foreign, other, sizeof other);
    cr_assert_eq(n, 0, "%s: three training steps made %ld allocations in frost's code; the first: %s", what, n, first);
    if (foreign)
        fprintf(stderr, "%s: %ld allocations by other libraries during three steps (not frost's; not a failure); "
                        "the first: %s\n", what, foreign, other);
    frost_run_result_release(&r);
    /* the check can fail: an allocation from frost's object is seen, also
     * one made through the C library on its behalf */
    atomic_store(&calls, 0);
    atomic_store(&counting, true);
    void *volatile probe = malloc(64); /* volatile: the compiler may not drop the pair */
    free(probe);
    char *volatile dup = strdup("through libc");
    free(dup);
    atomic_store(&counting, false);
    cr_assert_eq(own_calls(first, sizeof first, &foreign, other, sizeof other), 2);
    frost_model_free(&m);
}

static frost_model_spec spec_of(frost_arch arch, int32_t layers, const frost_dataset *ds)
{
    frost_model_spec s = frost_model_spec_default();
    s.arch = arch;
    s.layers = layers;
    s.in_dim = ds->num_features;
    s.hidden = 64;
    s.out_dim = ds->num_classes;
    return s;
}

Test(steps, a_training_step_allocates_nothing)
{
    void *warm[4];
    backtrace(warm, 4); /* loads the unwinder (it allocates once) before anything is counted */
    frost_set_threads(2);
    char *dir = tu_tmpdir();
    /* 20000 nodes: large enough that every OpenMP region and blocked product runs on both threads */
    const frost_synth_opts so = tu_synth_opts(20000, 100000, 48, 6);
    frost_dataset ds;
    tu_synth_load(&ds, tu_path(dir, "s.h5"), &so);
    const frost_task_data d = tu_task(&ds, &ds.splits[0], NULL);

    frost_model_spec gcn = spec_of(FROST_ARCH_GCN, 3, &ds);
    gcn.norm = FROST_NORM_BATCH;
    gcn.dropout = 0.5f;
    gcn.input_dropout = 0.1f;
    steps_allocate_nothing(&gcn, &d, &ds, "GCN (memory plan: rebuilt activations)");
    gcn.keep_activations = true;
    steps_allocate_nothing(&gcn, &d, &ds, "GCN (kept activations)");

    frost_model_spec gin = spec_of(FROST_ARCH_GIN, 4, &ds); /* the paper's supermask GIN */
    gin.bias = false;
    gin.norm = FROST_NORM_BATCH_NONAFFINE;
    gin.norm_last = true;
    gin.skip_head = true;
    gin.keep_activations = true;
    gin.weights = FROST_WEIGHTS_SUPERMASK;
    gin.mask.sparsity = 0.5;
    steps_allocate_nothing(&gin, &d, &ds, "supermask GIN");
    frost_dataset_release(&ds);
    tu_rmtree(dir);
    free(dir);
}
#else
Test(steps, a_training_step_allocates_nothing)
{
    cr_skip_test("the allocator cannot be interposed under AddressSanitizer");
}
#endif

/*
 * test_steps.c - a training step allocates nothing: after two warm-up epochs
 * (OpenBLAS and OpenMP set up their buffers and threads on first use), three
 * full-batch epochs of frost_train (forward, loss, backward, optimizer,
 * supermask update, the trainer's bookkeeping) of
 * a GCN with batch norm and dropout and of the paper's supermask GIN run
 * without one call to malloc and its relatives from frost or OpenBLAS, on
 * any thread. The model's memory is its slabs, allocated once (issue 6: one
 * slab per lifetime). Not counted: GCC's OpenMP runtime, which makes a
 * small team record for every region that runs on one thread (a parallel
 * region below its size threshold) and frees it at the region's end; those
 * calls are identified by the library they come from.
 *
 * The allocator is interposed by defining malloc & co. here: the executable's
 * definitions take precedence over libc's for libfrost, libgomp and
 * OpenBLAS. AddressSanitizer replaces the same functions, so under it the
 * test is skipped.
 */
#include <criterion/criterion.h>
#include <dlfcn.h>
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
static void *caller[CAP]; /* where each counted call came from */
static size_t asked[CAP];

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define note(n) note_from(n, __builtin_return_address(0))
static void note_from(size_t n, void *from)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed)) {
        const long k = atomic_fetch_add(&calls, 1);
        if (k < CAP) caller[k] = from, asked[k] = n;
    }
}

/* Counted calls that did not come from the OpenMP runtime; the first one's
 * library and symbol in where. */
static long foreign_calls(char *where, size_t cap)
{
    const long n = atomic_load(&calls);
    cr_assert_leq(n, CAP, "%ld allocations: more than can be told apart", n);
    long k = 0;
    where[0] = 0;
    for (long i = 0; i < n; i++) {
        Dl_info in;
        const bool known = dladdr(caller[i], &in) && in.dli_fname;
        if (known && strstr(in.dli_fname, "libgomp")) continue;
        if (!k++)
            snprintf(where, cap, "%zu bytes from %s (%s)", asked[i], known ? in.dli_fname : "?",
                     known && in.dli_sname ? in.dli_sname : "?");
    }
    return k;
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
    char first[512];
    const long n = foreign_calls(first, sizeof first);
    cr_assert_eq(n, 0, "%s: three training steps made %ld allocations; the first: %s", what, n, first);
    frost_run_result_release(&r);
    /* the check can fail: an allocation from outside the OpenMP runtime is seen */
    atomic_store(&calls, 0);
    atomic_store(&counting, true);
    void *volatile probe = malloc(64); /* volatile: the compiler may not drop the pair */
    free(probe);
    atomic_store(&counting, false);
    cr_assert_eq(foreign_calls(first, sizeof first), 1);
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
    frost_set_threads(2);
    char *dir = tu_tmpdir();
    frost_synth_opts so = frost_synth_opts_default();
    so.num_nodes = 20000; /* large enough that every OpenMP region and blocked product runs on both threads */
    so.num_edges = 100000;
    so.num_features = 48;
    so.num_classes = 6;
    cr_assert_eq(frost_synth(tu_path(dir, "s.h5"), &so), FROST_OK, "%s", frost_last_error());
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, tu_path(dir, "s.h5")), FROST_OK, "%s", frost_last_error());
    const frost_split *sp = &ds.splits[0];
    const frost_task_data d = {ds.num_nodes, ds.num_features, ds.feat, ds.label, FROST_TASK_MULTICLASS,
                               FROST_METRIC_ACCURACY, ds.num_classes, sp->train, sp->valid, sp->test,
                               sp->n_train, sp->n_valid, sp->n_test, NULL};

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

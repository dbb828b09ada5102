/*
 * runner.c - experiments: expand the sweep, prepare the dataset once, train
 * each run, append it to the results file.
 *
 * Graph preparation: the dataset stores row i = targets of edges i -> j;
 * message passing needs row i = the nodes i aggregates from (sources of
 * edges into i), which is the transpose. With graph.undirected the graph is
 * symmetrised and both are the same. Stored self-loops are dropped by default
 * (graph.self_loops = "drop"): GCN's normalisation adds exactly one per node.
 */
#include "frost/frost.h"
#include "frost/runner.h"
#include "run/run_impl.h"
#include "dist/dist_impl.h"
#include "dataset/dataset_impl.h"
#include "frost/prt.h"
#include "frost/slt.h"
#include "core/core_impl.h"
#include "io/io_impl.h"
#include "results/results_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

frost_status frost_resolve_dataset(const char *name, const char *config_path, char *out, size_t cap)
{
    frost_status st = FROST_OK;
    char *tried[2] = {NULL, NULL};
    /* the experiment file's folder, for names relative to it */
    const char *slash = config_path ? strrchr(config_path, '/') : NULL;
    const int dl = slash ? (int)(slash - config_path) : 1;
    const char *dir = slash ? config_path : ".";
    size_t L = strlen(name);
    bool is_path = strchr(name, '/') || (L > 3 && strcmp(name + L - 3, ".h5") == 0);
    int nt = 0;
    if (is_path) {
        tried[nt++] = frost__asprintf("%s", name);
        if (name[0] != '/') tried[nt++] = frost__asprintf("%.*s/%s", dl, dir, name);
    } else {
        tried[nt++] = frost__asprintf("%.*s/../datasets/%s.h5", dl, dir, name);
        tried[nt++] = frost__asprintf("datasets/%s.h5", name);
    }
    for (int k = 0; k < nt; k++)
        if (!tried[k]) FROST_FAIL(FROST_ERR_NOMEM, "%s: out of memory", name);
    for (int k = 0; k < nt; k++)
        if (frost__file_exists(tried[k])) {
            st = frost__path_copy(out, cap, tried[k], config_path && config_path[0] ? config_path : "dataset");
            goto fail;
        }
    st = frost__error(FROST_ERR_IO,
                      "%s: dataset '%s' not found (tried %s%s%s); import it with tools/import-datasets or "
                      "frost import ogb",
                      config_path && config_path[0] ? config_path : "configuration", name, tried[0],
                      nt > 1 ? ", " : "", nt > 1 ? tried[1] : "");
fail:
    free(tried[0]);
    free(tried[1]);
    return st;
}

void frost_experiment_output(const frost_config *c, char *out, size_t cap)
{
    if (c->output[0]) {
        frost__strlcpy(out, c->output, cap);
        return;
    }
    const char *b = strrchr(c->path, '/');
    b = b ? b + 1 : (c->path[0] ? c->path : "experiment");
    char name[512];
    frost__strlcpy(name, b, sizeof name);
    char *dot = strrchr(name, '.');
    if (dot) *dot = 0;
    snprintf(out, cap, "results/%s.h5", name);
}

void frost_prepared_release(frost_prepared *p)
{
    if (!p) return;
    frost_dataset_release(&p->ds);
    frost_csr_release(&p->A);
    frost_csr_release(&p->AT);
    free(p->X);
    if (p->X_fd_open) close(p->X_fd);
    memset(p, 0, sizeof *p);
}

/* ds->feat becomes [feat | R], R (N, Fe) the edge features of each node's
 * stored out-edges reduced by `how` (a node without edges gets zeros). */
static frost_status features_from_edges(frost_dataset *ds, frost_edge_reduce how, const char *path)
{
    const int64_t N = ds->num_nodes, F = ds->num_features, Fe = ds->num_edge_features;
    if (Fe < 1 || !ds->edge_feat)
        return frost__error(FROST_ERR_CONFIG, "%s: features.from_edges needs edge features, and /graph/edge_feat is "
                                              "not there",
                            path);
    float *x = frost__malloc((size_t)N * (size_t)(F + Fe) * sizeof *x);
    if (!x) return frost__error(FROST_ERR_NOMEM, "%s: out of memory making node features from edge features", path);
    const frost_csr *g = &ds->graph;
    for (int64_t i = 0; i < N; i++) {
        float *row = x + i * (F + Fe);
        if (F) memcpy(row, ds->feat + i * F, (size_t)F * sizeof *row);
        float *r = row + F;
        const int64_t a = g->indptr[i], b = g->indptr[i + 1];
        for (int64_t f = 0; f < Fe; f++) {
            double acc = how == FROST_EDGE_FEAT_MAX ? -(double)INFINITY : 0.0;
            for (int64_t k = a; k < b; k++) {
                const double v = (double)ds->edge_feat[k * Fe + f];
                acc = how == FROST_EDGE_FEAT_MAX ? (v > acc ? v : acc) : acc + v;
            }
            if (b == a) acc = 0.0;
            else if (how == FROST_EDGE_FEAT_MEAN) acc /= (double)(b - a);
            r[f] = (float)acc;
        }
    }
    free(ds->feat);
    ds->feat = x;
    ds->num_features = F + Fe;
    return FROST_OK;
}

static frost_status prepare(frost_prepared *p, const frost_config *c, bool meta)
{
    frost_status st = FROST_OK;
    char *path = NULL;
    memset(p, 0, sizeof *p);
    FROST_ALLOC(path, FROST_PATH_CAP + 64);
    FROST_TRY(frost_resolve_dataset(c->dataset, c->path, path, FROST_PATH_CAP + 64));
    FROST_TRY(meta ? frost__dataset_load_meta(&p->ds, path) : frost_dataset_load(&p->ds, path));
    frost__strlcpy(p->path, path, sizeof p->path);
    p->meta_only = meta;
    p->row_norm = c->feature_norm == FROST_FEAT_ROW;
    p->self_loops = c->self_loops;
    p->undirected = c->undirected;
    frost_dataset *ds = &p->ds;
    if (c->split_optional && (c->split[0] ? !frost_dataset_split(ds, c->split) : ds->num_splits != 1)) {
        p->split = NULL; /* predicting on data without that split: outputs for every node, no metrics */
    } else if (c->split[0]) {
        p->split = frost_dataset_split(ds, c->split);
        if (!p->split) {
            char names[512] = "";
            for (int32_t k = 0; k < ds->num_splits && strlen(names) < 400; k++) {
                strncat(names, k ? ", " : "", sizeof names - strlen(names) - 1);
                strncat(names, ds->splits[k].name, sizeof names - strlen(names) - 1);
            }
            FROST_FAIL(FROST_ERR_CONFIG, "%s: split '%s' is not in %s (it has: %s)", c->path[0] ? c->path : "split",
                       c->split, path, names);
        }
    } else if (c->method != FROST_METHOD_PRT) { /* the PRT scenario makes its own splits */
        if (ds->num_splits != 1)
            FROST_FAIL(FROST_ERR_CONFIG, "%s: split is not set and %s has %d splits; name one",
                       c->path[0] ? c->path : "split", path, ds->num_splits);
        p->split = &ds->splits[0];
    }
    if (meta) { /* a distributed run reads its rows itself (frost__dist_share_load) */
        p->symmetric = ds->symmetric;
        free(path);
        return FROST_OK;
    }
    if (c->features_from_edges != FROST_EDGE_FEAT_NONE) FROST_TRY(features_from_edges(ds, c->features_from_edges, path));
    if (ds->num_features < 1)
        FROST_FAIL(FROST_ERR_CONFIG,
                   "%s: has no node features; frost's models need them%s", path,
                   ds->num_edge_features > 0 ? " (it has edge features: features.from_edges = \"mean\" makes node "
                                               "features from them, as OGB's ogbn-proteins example does)"
                                             : "");
    /* features: finite values only, then the normalisation; in place: the
     * dataset's features become X (one copy, not two) */
    p->X = ds->feat;
    ds->feat = NULL;
    FROST_TRY(frost__features_prepare(p->X, ds->num_nodes, ds->num_features, NULL, c->feature_norm == FROST_FEAT_ROW,
                                      path));
    /* the aggregation graph */
    frost_csr_build_opts o = frost_csr_build_opts_default();
    o.self_loops = (frost_self_loops)c->self_loops;
    if (c->undirected || ds->symmetric) {
        o.symmetrize = c->undirected;
        FROST_TRY(frost_csr_rebuild(&p->A, &ds->graph, &o));
        p->symmetric = true;
    } else {
        frost_csr cleaned;
        FROST_TRY(frost_csr_rebuild(&cleaned, &ds->graph, &o));
        st = frost_csr_transpose(&p->A, &cleaned); /* rows: in-neighbours */
        p->AT = cleaned;
        if (st < 0) goto fail;
        p->symmetric = false;
    }
    /* the stored graph was rebuilt into A (and AT): not needed any more */
    frost_csr_release(&ds->graph);
    if (c->features_from_edges == FROST_EDGE_FEAT_NONE) {
        /* (opened after the load: a file replaced in between fails the hash check) */
        p->X_fd = open(p->path, O_RDONLY | O_CLOEXEC);
        p->X_fd_open = p->X_reloadable = p->X_fd >= 0;
    }
    free(path);
    return FROST_OK;
fail:
    free(path);
    frost_prepared_release(p);
    return st;
}

frost_status frost_prepare(frost_prepared *p, const frost_config *c) { return prepare(p, c, false); }

/* The features' fingerprint: 8 bytes a step (frost_hash64 takes one). */
static uint64_t features_hash(const float *X, int64_t n)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)n;
    const unsigned char *b = (const unsigned char *)X;
    const size_t bytes = (size_t)n * sizeof(float);
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 29;
    }
    for (; i < bytes; i++) h = (h ^ b[i]) * UINT64_C(0xc4ceb9fe1a85ec53);
    return h;
}

void frost__prepared_features_hash(frost_prepared *p)
{
    if (p->X_hashed || !p->X) return;
    p->X_hash = features_hash(p->X, p->ds.num_nodes * p->ds.num_features);
    p->X_hashed = true;
}

void frost__prepared_features_spent(void *u)
{
    frost_prepared *p = u;
    FROST_ASSERT(p->X_hashed);
    free(p->X);
    p->X = NULL;
}

frost_status frost__prepared_features(frost_prepared *p)
{
    frost_status st = FROST_OK;
    float *X = NULL;
    if (p->X || p->meta_only) return FROST_OK;
    FROST_ASSERT(p->X_hashed && p->X_fd_open);
    const int64_t N = p->ds.num_nodes, F = p->ds.num_features;
    FROST_ALLOC(X, N * F);
    FROST_TRY(frost__dataset_read_features(p->X_fd, p->path, N, F, X)); /* the file opened at the start */
    FROST_TRY(frost__features_prepare(X, N, F, NULL, p->row_norm, p->path));
    if (features_hash(X, N * F) != p->X_hash) {
        free(X);
        return frost__error(FROST_ERR_FORMAT,
                            "%s: /node/feat was changed in place while the experiment ran (frost frees the "
                            "features during each run and reads them again for the next); the runs it stored before "
                            "were trained on the earlier features: remove them, or choose another output, before "
                            "running it again", p->path);
    }
    p->X = X;
    return FROST_OK;
fail:
    free(X);
    frost__error_prefix("reading the features again for this run (frost frees them during each run)");
    return st;
}

frost_status frost__prepare_meta(frost_prepared *p, const frost_config *c) { return prepare(p, c, true); }

frost_model_spec frost_prepared_spec(const frost_prepared *p, const frost_config *c)
{
    frost_model_spec s = c->model;
    s.in_dim = p->ds.num_features;
    s.out_dim = p->ds.task_type == FROST_TASK_BINARY ? p->ds.num_tasks : p->ds.num_classes;
    s.weights = c->method == FROST_METHOD_SLT ? FROST_WEIGHTS_SUPERMASK : FROST_WEIGHTS_TRAINED;
    return s;
}

frost_task_data frost_prepared_task(const frost_prepared *p)
{
    const frost_dataset *ds = &p->ds;
    frost_task_data d;
    memset(&d, 0, sizeof d);
    d.N = ds->num_nodes;
    d.F = ds->num_features;
    d.X = p->X;
    d.labels = ds->label;
    d.task = ds->task_type;
    d.metric = ds->metric;
    d.C = ds->task_type == FROST_TASK_BINARY ? ds->num_tasks : ds->num_classes;
    if (p->split) {
        d.train = p->split->train;
        d.valid = p->split->valid;
        d.test = p->split->test;
        d.n_train = p->split->n_train;
        d.n_valid = p->split->n_valid;
        d.n_test = p->split->n_test;
    }
    return d;
}

/* ---- the experiment ------------------------------------------------------------------ */

/* Whether the processes of a graph-mode run can each read only their part
 * of the file (frost__dist_share_load); if not, *why says what is missing. */
static bool local_ok(const frost_prepared *p, const frost_config *c, int P, char *why, size_t cap)
{
    char def[64];
    snprintf(def, sizeof def, "metis-k%d", P);
    const char *name = c->mpi.partition[0] ? c->mpi.partition : def;
    const frost_partitioning *pt = frost_dataset_partitioning(&p->ds, name);
    if (!pt) {
        snprintf(why, cap, "%s stores no partition '%s' (frost partition %s --parts %d%s%s)", p->path, name, p->path, P,
                 c->mpi.partition[0] ? " --name " : "", c->mpi.partition);
        return false;
    }
    if (pt->k != P) {
        snprintf(why, cap, "partition '%s' of %s has %d parts, not %d", name, p->path, pt->k, P);
        return false;
    }
    if (!p->ds.symmetric) {
        snprintf(why, cap, "the graph of %s is not stored symmetric (a process would need the rows of other "
                 "processes' nodes)", p->path);
        return false;
    }
    if (c->features_from_edges != FROST_EDGE_FEAT_NONE || p->ds.num_features < 1) {
        snprintf(why, cap, "node features are made from edge features or missing");
        return false;
    }
    return true;
}

/* the folders above file */
static frost_status mkdirs_for(const char *file)
{
    const char *s = strrchr(file, '/');
    if (!s || s == file) return FROST_OK;
    char *d = frost__asprintf("%.*s", (int)(s - file), file);
    if (!d) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", file);
    frost_status st = frost__mkdirs(d);
    free(d);
    return st;
}

void frost_run_plan_release(frost_run_plan *plan)
{
    if (!plan) return;
    free(plan->runs);
    plan->runs = NULL;
    plan->n = 0;
}

frost_status frost_experiment_plan(const frost_config *c, frost_run_plan *plan)
{
    frost_status st = FROST_OK;
    int64_t *seeds = NULL;
    plan->n = 0;
    plan->runs = NULL;
    const int64_t np = frost_config_num_points(c);
    FROST_ALLOC(seeds, FROST_MAX_SEEDS);
    const int32_t ns = frost_config_seeds(c, seeds, FROST_MAX_SEEDS);
    FROST_ALLOC(plan->runs, np * ns);
    for (int64_t k = 0; k < np; k++) {
        frost_config pt;
        FROST_TRY(frost_config_point(c, k, &pt));
        for (int32_t s = 0; s < ns; s++) {
            frost_run_item it = {.point = k, .seed = seeds[s]};
            char whole[1024]; /* longer than any id, to see one that would be cut */
            frost_config_run_id(&pt, c, seeds[s], whole, sizeof whole);
            if (strlen(whole) >= sizeof it.id)
                FROST_FAIL(FROST_ERR_CONFIG,
                           "%s: run id %.60s... is %zu characters long, at most %zu (cut, it would name other runs "
                           "too): sweep fewer keys, or shorter values",
                           c->path[0] ? c->path : "configuration", whole, strlen(whole), sizeof it.id - 1);
            memcpy(it.id, whole, strlen(whole) + 1);
            bool dup = false;
            for (int64_t q = 0; q < plan->n && !dup; q++) dup = strcmp(plan->runs[q].id, it.id) == 0;
            if (!dup) plan->runs[plan->n++] = it;
        }
    }
    free(seeds);
    return FROST_OK;
fail:
    free(seeds);
    frost_run_plan_release(plan);
    return st;
}

/* Before any run trains: the results file (and the statistics file) can be
 * written, and are neither the experiment file nor the dataset. An existing
 * results file is appended to, so another frost kind there is refused. */
static frost_status check_outputs(const frost_config *c, const char *output, bool probe)
{
    frost_status st = FROST_OK;
    char *ds = NULL;
    FROST_ALLOC(ds, FROST_PATH_CAP + 64);
    /* a dataset not found is said by frost_prepare, if any run is left to train */
    const bool found = frost_resolve_dataset(c->dataset, c->path, ds, FROST_PATH_CAP + 64) == FROST_OK;
    frost_clear_error();
    const char *inputs[2] = {c->path[0] ? c->path : NULL, found ? ds : NULL};
    const unsigned flags = probe ? 0u : FROST__OUT_NO_PROBE;
    const size_t room = frost__results_path_room(), len = strlen(output);
    if (len + room >= FROST_PATH_CAP)
        FROST_FAIL(FROST_ERR_RANGE,
                   "%s: the path is %zu bytes long; a results file's path may have at most %zu, to leave room for "
                   "the pending runs beside it",
                   output, len, FROST_PATH_CAP - 1 - room);
    FROST_TRY(frost__output_check(output, inputs, 2, FROST_RESULTS_FORMAT,
                                  flags | FROST__OUT_MAKE_PARENTS | FROST__OUT_APPEND));
    if (c->mpi.stats[0]) {
        const char *all[3] = {inputs[0], inputs[1], output};
        FROST_TRY(frost__output_check(c->mpi.stats, all, 3, NULL, flags | FROST__OUT_MAKE_PARENTS));
    }
fail:
    free(ds);
    return st;
}

/* Before the first run: every sweep point's model fits in the memory this
 * process may use (frost_model_new_ex checks each again; this names the
 * experiment file and refuses before anything trains). */
static frost_status check_model_sizes(const frost_config *c, const frost_prepared *p, const frost_run_item *items,
                                      int64_t n_items)
{
    int64_t last_point = -1;
    for (int64_t q = 0; q < n_items; q++) {
        if (items[q].point == last_point) continue;
        last_point = items[q].point;
        frost_config pt;
        frost_status st = frost_config_point(c, items[q].point, &pt);
        if (st < 0) return st;
        const frost_model_spec spec = frost_prepared_spec(p, &pt);
        size_t need = 0;
        if ((st = frost_model_bytes_for(&spec, p->ds.num_nodes, p->A.nnz, false, &need)) < 0) return st;
        char why[96];
        const size_t avail = frost__memory_available(why, sizeof why);
        if (need > avail)
            return frost__error(FROST_ERR_NOMEM,
                                "%s: run %s: its model (%s, %d layers, hidden %lld) on the %lld nodes of %s needs %.1f "
                                "GiB; this process may use %.1f GiB (%s)",
                                c->path[0] ? c->path : "configuration", items[q].id, frost_arch_name(spec.arch),
                                spec.layers, (long long)spec.hidden, (long long)p->ds.num_nodes, p->ds.name,
                                (double)need / 1073741824.0, (double)avail / 1073741824.0, why);
    }
    return FROST_OK;
}

/* The value of the top-level `dataset = "...";` line of a configuration
 * text (malloc'd), or NULL. */
static char *dataset_of(const char *text)
{
    for (const char *p = text; p && *p;) {
        if (strncmp(p, "dataset = \"", 11) == 0) {
            const char *v = p + 11, *e = strchr(v, '\n');
            size_t L = e ? (size_t)(e - v) : strlen(v);
            while (L > 0 && (v[L - 1] == ';' || v[L - 1] == '"' || v[L - 1] == ' ' || v[L - 1] == '\r')) L--;
            return strndup(v, L);
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NULL;
}

/* Do two dataset values name the same file (as the experiment resolves them)? */
static bool same_dataset(const char *a, const char *b, const char *config_path)
{
    if (!a || !b) return false;
    if (strcmp(a, b) == 0) return true;
    const size_t cap = FROST_PATH_CAP + 64;
    char *pa = malloc(cap), *pb = malloc(cap);
    bool same = false;
    if (pa && pb && frost_resolve_dataset(a, config_path, pa, cap) == FROST_OK &&
        frost_resolve_dataset(b, config_path, pb, cap) == FROST_OK)
        same = frost__same_file(pa, pb);
    frost_clear_error();
    free(pa);
    free(pb);
    return same;
}

frost_status frost__run_config_matches(const frost_config *c, const frost_run_item *it, const char *stored,
                                       bool *same)
{
    frost_status st = FROST_OK;
    char *text = NULL, *a = NULL, *b = NULL, *da = NULL, *db = NULL;
    frost_config pt;
    *same = false;
    FROST_TRY(frost_config_point(c, it->point, &pt));
    pt.seed = it->seed;
    pt.runs = 1;
    pt.n_seeds = 0;
    text = frost_config_to_text(&pt);
    /* by content: how output (or threads, ...) is spelled does not matter */
    a = text ? frost_config_canonical(text, 0) : NULL;
    b = frost_config_canonical(stored ? stored : "", 0);
    if (!a || !b) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    *same = strcmp(a, b) == 0;
    if (!*same) {
        /* the same dataset file named another way ("cora" and datasets/cora.h5) */
        free(a);
        free(b);
        a = frost_config_canonical(text, FROST_CANON_DATASET);
        b = frost_config_canonical(stored ? stored : "", FROST_CANON_DATASET);
        if (!a || !b) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        if (strcmp(a, b) == 0) {
            da = dataset_of(text);
            db = dataset_of(stored);
            *same = same_dataset(da, db, c->path);
        }
    }
fail:
    free(text);
    free(a);
    free(b);
    free(da);
    free(db);
    return st;
}

static frost_status different_config(const char *output, const char *id)
{
    return frost__error(FROST_ERR_CONFIG,
                        "%s: holds a run '%s' made with a different configuration; choose another output "
                        "(--set output=...) or remove the file",
                        output, id);
}

frost_status frost__run_claim(const char *output, const frost_config *c, const frost_run_item *it, bool wait,
                              const volatile int *stop, frost__flock *claim, frost__claim_result *what)
{
    frost_status st = FROST_OK;
    frost_run_info ri;
    bool found = false, same = false;
    char key[200];
    memset(&ri, 0, sizeof ri);
    *what = FROST__CLAIM_TRAIN;
    FROST_TRY(frost__results_claim(output, it->id, wait, stop, claim));
    if (st == FROST_DONE) {
        *what = FROST__CLAIM_BUSY;
        return FROST_OK;
    }
    /* claimed: did another process finish it while this one was not looking? */
    snprintf(key, sizeof key, c->method == FROST_METHOD_PRT ? "%s.prt" : "%s", it->id);
    FROST_TRY(frost__results_find_info(output, key, &ri, &found));
    if (found) {
        FROST_TRY(frost__run_config_matches(c, it, ri.config, &same));
        if (!same) FROST_FAILED(different_config(output, it->id));
        *what = FROST__CLAIM_STORED;
        frost__results_unclaim(claim);
    }
    free(ri.config);
    return FROST_OK;
fail:
    free(ri.config);
    frost__results_unclaim(claim);
    return st;
}

/* Runs of the plan in this shard: plan index i with i mod count == index. */
static void keep_shard(frost_run_plan *plan, const frost_run_opts *o)
{
    if (!o || o->shard_count <= 1) return;
    int64_t w = 0;
    for (int64_t q = 0; q < plan->n; q++)
        if (q % o->shard_count == o->shard_index) plan->runs[w++] = plan->runs[q];
    plan->n = w;
}

frost_status frost_experiment_plan_ex(const frost_config *c, const frost_run_opts *o, frost_run_plan *plan)
{
    if (o && (o->shard_count < 0 || (o->shard_count > 0 && (o->shard_index < 0 || o->shard_index >= o->shard_count))))
        return frost__error(FROST_ERR_INVALID, "shard %lld/%lld: the index runs from 0 to %lld",
                            (long long)o->shard_index, (long long)o->shard_count, (long long)o->shard_count - 1);
    frost_status st = frost_experiment_plan(c, plan);
    if (st == FROST_OK) keep_shard(plan, o);
    return st;
}

static void note(const frost_runner_events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const frost_runner_events *ev, const char *fmt, ...)
{
    if (!ev || !ev->note) return;
    va_list ap, aq;
    va_start(ap, fmt);
    va_copy(aq, ap);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL; /* whole: paths may be long */
    if (msg) vsnprintf(msg, (size_t)n + 1, fmt, aq);
    va_end(aq);
    if (msg) ev->note(msg, ev->user);
    free(msg);
}

frost_status frost_experiment_run(const frost_config *c, const frost_runner_events *ev, char *output, size_t cap)
{
    return frost_experiment_run_ex(c, NULL, ev, output, cap);
}

frost_status frost_experiment_run_ex(const frost_config *c, const frost_run_opts *opts, const frost_runner_events *ev,
                                     char *output, size_t cap)
{
    frost_status st = FROST_OK;
    frost_prepared prep;
    frost_results done = {0, NULL};
    frost_run_plan plan = {0, NULL};
    frost__prt_scenario scen;
    frost__run_env env;
    frost_run_item *todo = NULL, *later = NULL;
    frost__flock claim = {-1, NULL};
    bool wrote = false;
    char *models_dir = NULL, *scenario_path = NULL;
    memset(&scen, 0, sizeof scen);
    memset(&prep, 0, sizeof prep);
    memset(&env, 0, sizeof env);
    FROST_TRY(frost_config_check(c));
    /* under mpirun: all processes on each run, or the runs dealt out */
    frost__comm *world = frost__comm_world();
    const bool spread = world && c->mpi.mode == FROST_MPI_RUNS;
    const bool rank0 = frost__comm_rank(world) == 0;
    const volatile int *stop = ev ? ev->stop : NULL;
    if (world && !spread) env.comm = world;
    if (world && c->method == FROST_METHOD_PRT)
        FROST_FAIL(FROST_ERR_CONFIG, "%s: method prt runs in one process; start it without mpirun", c->path);
    frost_experiment_output(c, output, cap);
    for (int64_t k = 0; k < frost_config_num_points(c); k++) {
        frost_config pt;
        FROST_TRY(frost_config_point(c, k, &pt));
        if ((pt.method == FROST_METHOD_PRT) != (c->method == FROST_METHOD_PRT))
            FROST_FAIL(FROST_ERR_CONFIG, "%s: method prt cannot be swept together with other methods", c->path);
    }
    if (c->threads > 0) frost_set_threads((int)c->threads);
    FROST_TRY(check_outputs(c, output, false)); /* what it is; whether it can be written once there is work */

    FROST_TRY(frost_experiment_plan_ex(c, opts, &plan));
    const int64_t n_items = plan.n;
    frost_run_item *items = plan.runs;

    /* resume: runs already in the file are skipped, if their configuration
     * matches by content (a prt run is done when its ".prt" row is there) */
    const bool prt = c->method == FROST_METHOD_PRT;
    FROST_TRY(frost__results_load(&done, output, false));
    /* want[q]: run q is not in the file; want[n_items]: 1 + the first run
     * stored with another configuration, or 0. Under MPI the processes read
     * the file at different moments (another job may store a run in
     * between), so they take the union: every one takes the runs any of them
     * found missing and all refuse if any saw a differing run, so all enter
     * the same collectives; process 0's claim then skips a run stored
     * meanwhile, for all of them. */
    int64_t *want = NULL;
    FROST_ALLOC(todo, n_items);
    FROST_CALLOC(want, n_items + 1);
    for (int64_t q = 0; q < n_items; q++) {
        char key[200];
        snprintf(key, sizeof key, prt ? "%s.prt" : "%s", items[q].id);
        const frost_run_info *old = frost_results_find(&done, key);
        if (!old) {
            want[q] = 1;
            continue;
        }
        bool same = false;
        st = frost__run_config_matches(c, &items[q], old->config, &same);
        if (st < 0) {
            free(want);
            goto fail;
        }
        if (!same) {
            if (!want[n_items]) want[n_items] = q + 1;
        } else if (!prt) {
            frost__run_drop_checkpoint(output, items[q].id); /* stored: a checkpoint left by a kill after the store */
        }
    }
    if (env.comm) frost__comm_max_i64(env.comm, want, n_items + 1);
    const int64_t differs = want[n_items] - 1;
    int64_t n_todo = 0;
    for (int64_t q = 0; q < n_items; q++)
        if (want[q]) todo[n_todo++] = items[q];
    const int64_t n_done = n_items - n_todo;
    free(want);
    if (differs >= 0) FROST_FAILED(different_config(output, items[differs].id));
    if (n_done < n_items) FROST_TRY(check_outputs(c, output, true)); /* before the first run starts */
    if (ev && ev->start) ev->start(n_items, n_done, output, ev->user);
    if (n_todo == 0) goto done;

    if (rank0) FROST_TRY(mkdirs_for(output));
    if (env.comm && c->mpi.load != FROST_MPI_LOAD_WHOLE) {
        /* each process reads its part of the file when it can */
        char why[320];
        FROST_TRY(frost__prepare_meta(&prep, c));
        if (!local_ok(&prep, c, frost__comm_size(env.comm), why, sizeof why)) {
            if (c->mpi.load == FROST_MPI_LOAD_LOCAL)
                FROST_FAIL(FROST_ERR_CONFIG, "%s: mpi.load = \"local\", but %s", c->path[0] ? c->path : "configuration",
                           why);
            frost_prepared_release(&prep);
            FROST_TRY(frost_prepare(&prep, c));
            if (rank0) note(ev, "mpi: every process reads the whole dataset: %s", why);
        }
    } else {
        FROST_TRY(frost_prepare(&prep, c));
    }
    if (!env.comm && !prt) FROST_TRY(check_model_sizes(c, &prep, items, n_items));
    if (!prt && prep.split && prep.split->n_valid == 0 && frost__comm_rank(world) == 0)
        note(ev,
             "warning: %s: split %s of dataset %s has no validation nodes: every run reports its last epoch (valid "
             "metric nan), and says so in the results file's message",
             c->path[0] ? c->path : "configuration", prep.split->name, prep.ds.name);
    wrote = true;
    if (spread) {
        FROST_TRY(frost__run_spread(&prep, c, todo, n_todo, output, ev, world, &env));
        goto done;
    }
    if (prt) {
        /* the scenario once; its dataset file and the models of every run beside the results */
        const size_t L = strlen(output);
        models_dir = frost__asprintf("%.*s-models", (int)(L > 3 && strcmp(output + L - 3, ".h5") == 0 ? L - 3 : L),
                                     output);
        scenario_path = models_dir ? frost__asprintf("%s/scenario.h5", models_dir) : NULL;
        if (!models_dir || !scenario_path) FROST_FAIL(FROST_ERR_NOMEM, "%s: out of memory", output);
        FROST_TRY(frost__mkdirs(models_dir));
        FROST_TRY(frost__prt_scenario_build(&scen, &prep, c));
        FROST_TRY(frost__prt_scenario_save(&scen, c, scenario_path));
        note(ev,
             "scenario: %lld upstream and %lld task-domain nodes (label distributions %.3f apart in total variation); "
             "task train %lld / valid %lld / test %lld; %s",
             (long long)scen.n_upstream, (long long)scen.n_task_domain, scen.shift_tv, (long long)scen.split[2].n_train,
             (long long)scen.split[2].n_valid, (long long)scen.split[2].n_test, scenario_path);
    }
    /* Two passes. The first claims each run without waiting: a run another
     * process is training is left for later, a run another process stored
     * meanwhile is skipped. The second waits for each run left: stored by
     * then, skipped; its trainer died, trained here. So when this returns
     * FROST_OK every run of the plan is in the file, trained once. Under
     * mpi.mode "graph" process 0 claims and tells the others. */
    FROST_ALLOC(later, n_todo);
    int64_t n_later = 0, index = 0;
    const char *last_saved = NULL; /* the last run this process stored, for the message of a stop */
    for (int pass = 0; pass < 2; pass++) {
        const frost_run_item *list = pass == 0 ? todo : later;
        const int64_t n_list = pass == 0 ? n_todo : n_later;
        for (int64_t q = 0; q < n_list; q++) {
            const frost_run_item *it = &list[q];
            /* a stop asked for while skipping or waiting: nothing of this run started */
            int64_t asked = stop && *stop;
            frost__comm_max_i64(env.comm, &asked, 1);
            const int64_t left_here = pass == 0 ? (n_list - q) + n_later : n_list - q;
            if (asked) goto interrupted_before;
            frost_config pt;
            FROST_TRY(frost_config_point(c, it->point, &pt));
            frost__claim_result what = FROST__CLAIM_TRAIN;
            frost_status mine = FROST_OK;
            if (rank0) {
                if (pass == 1) note(ev, "run %s: waiting for the process that trains it", it->id);
                mine = frost__run_claim(output, c, it, pass == 1, stop, &claim, &what);
            }
            int64_t d[2] = {mine < 0 ? (mine == FROST_ERR_INTERRUPTED ? 2 : 1) : 0, (int64_t)what};
            frost__comm_max_i64(env.comm, d, 2); /* process 0's word (the others say 0, 0) */
            if (d[0] == 2) goto interrupted_before; /* a signal while waiting for the claim: nothing of it started */
            if (d[0]) FROST_FAILED(mine < 0 ? mine : frost__error(FROST_ERR_IO, "%s: process 0 could not claim run %s", output, it->id));
            what = (frost__claim_result)d[1];
            if (what == FROST__CLAIM_BUSY) {
                note(ev, "run %s: another process is training it; back to it at the end", it->id);
                later[n_later++] = *it;
                continue;
            }
            if (what == FROST__CLAIM_STORED) {
                note(ev, "run %s: stored by another process meanwhile, skipped", it->id);
                continue;
            }
            if (ev && ev->run_start) ev->run_start(it->id, n_done + index, n_items, pt.epochs, ev->user);
            if (prt) {
                frost_run_info row;
                st = frost__prt_run_seed(&prep, &scen, &pt, it->seed, it->id, output, models_dir, scenario_path, &row);
                if (st == FROST_OK && ev && ev->run_end) ev->run_end(&row, ev->user);
            } else {
                st = frost__run_one(&prep, &pt, it, output, ev, &env);
            }
            frost__results_unclaim(&claim);
            if (st < 0) {
                if (st != FROST_ERR_INTERRUPTED) frost__error_prefix("run %s", it->id);
                goto fail;
            }
            index++;
            last_saved = it->id;
            int64_t halt = stop && *stop;
            frost__comm_max_i64(env.comm, &halt, 1); /* every process stops, or none */
            if (halt) {
                /* the runs not started: the rest of this pass, and those left for the second */
                const int64_t left = pass == 0 ? (n_list - q - 1) + n_later : n_list - q - 1;
                const frost_run_item *next = q + 1 < n_list ? &list[q + 1] : (pass == 0 && n_later ? &later[0] : NULL);
                if (left == 0 || !next) goto done; /* nothing was left to do */
                FROST_FAIL(FROST_ERR_INTERRUPTED, "interrupted after run %s (saved); %lld run%s not started, the next %s",
                           it->id, (long long)left, left == 1 ? "" : "s", next->id);
            }
            continue;
        interrupted_before:
            /* stopped before run `it` started (while skipping, or waiting for its claim) */
            if (last_saved)
                FROST_FAIL(FROST_ERR_INTERRUPTED, "interrupted after run %s (saved); %lld run%s not started, the next %s",
                           last_saved, (long long)left_here, left_here == 1 ? "" : "s", it->id);
            FROST_FAIL(FROST_ERR_INTERRUPTED, "interrupted; %lld run%s not started, the next %s", (long long)left_here,
                       left_here == 1 ? "" : "s", it->id);
        }
    }
done:
    st = FROST_OK;
    /* everything into the main file, so that other HDF5 readers see it all */
    if (rank0 && (st = frost_results_compact(output)) < 0) {
        frost__error_prefix("every run is stored, some in %s.pending/, but folding them into the results file "
                            "failed",
                            output);
        wrote = false; /* tried once: not again below */
    }
fail:
    free(models_dir);
    free(scenario_path);
    frost__results_unclaim(&claim);
    if (st < 0 && wrote && rank0) {
        /* keep the first error; fold what was written if that still works */
        frost_status keep = st;
        char *first = strdup(frost_last_error());
        (void)frost_results_compact(output);
        st = frost__error(keep, "%s", first ? first : "out of memory");
        free(first);
    }
    free(todo);
    free(later);
    frost__run_env_release(&env);
    frost_run_plan_release(&plan);
    frost_results_release(&done);
    frost__prt_scenario_release(&scen);
    frost_prepared_release(&prep);
    return st;
}

/* ---- exported models ---------------------------------------------------------------- */

/* A ticket inside a trained network: load that network's model file (in the
 * ticket file's folder, checked by its logits hash) and take its weights. */
static frost_status ticket_base_from_file(frost_model *m, const frost_model_file *mf, const frost_prepared *p,
                                          const char *model_path)
{
    frost_status st = FROST_OK;
    frost_model_file bf;
    frost_model *b = NULL;
    char *path = NULL;
    memset(&bf, 0, sizeof bf);
    const char *slash = strrchr(model_path, '/');
    const int dl = slash ? (int)(slash - model_path) + 1 : 0;
    const size_t L = (size_t)dl + strlen(mf->base_weights) + 1;
    FROST_ALLOC(path, (int64_t)L);
    snprintf(path, L, "%.*s%s", dl, model_path, mf->base_weights);
    if ((st = frost_model_file_load(&bf, path)) < 0) {
        frost__error_prefix("%s: the ticket's weights come from %s", model_path, mf->base_weights);
        goto fail;
    }
    if (bf.base_weights[0] || strcmp(bf.method, "trained") != 0)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: the ticket's weights must come from a weight-trained model; %s is not one",
                   model_path, path);
    if (strcmp(bf.logits_hash, mf->base_weights_hash) != 0)
        FROST_FAIL(FROST_ERR_FORMAT, "%s: its weights come from %s with logits hash %s, but that file has %s (another "
                   "model)", model_path, path, mf->base_weights_hash, bf.logits_hash);
    FROST_TRY(frost_model_from_file_ex(&b, &bf, p, path, true));
    FROST_TRY(frost_slt_set_base_from(m, b));
fail:
    frost_model_free(&b);
    frost_model_file_release(&bf);
    free(path);
    return st;
}

frost_status frost_model_from_file(frost_model **out, const frost_model_file *mf, const frost_prepared *p,
                                   const char *model_path)
{
    return frost_model_from_file_ex(out, mf, p, model_path, true);
}

frost_status frost_model_from_file_ex(frost_model **out, const frost_model_file *mf, const frost_prepared *p,
                                      const char *model_path, bool inference)
{
    frost_status st = FROST_OK;
    frost_model *m = NULL;
    frost_config c;
    *out = NULL;
    frost_config_default(&c);
    FROST_TRY(frost_config_load_text(&c, mf->config, model_path));
    frost_model_spec spec = frost_prepared_spec(p, &c);
    if (spec.in_dim != mf->in_dim || spec.out_dim != mf->out_dim)
        FROST_FAIL(FROST_ERR_SHAPE,
                   "%s: the model takes %lld features and predicts %lld %s; dataset '%s' has %lld features and %lld "
                   "%s",
                   model_path, (long long)mf->in_dim, (long long)mf->out_dim,
                   p->ds.task_type == FROST_TASK_BINARY ? "tasks" : "classes", p->ds.name, (long long)spec.in_dim,
                   (long long)spec.out_dim, p->ds.task_type == FROST_TASK_BINARY ? "tasks" : "classes");
    st = frost_model_new_ex(&m, &spec, &p->A, p->symmetric ? &p->A : &p->AT, p->ds.num_nodes, inference);
    if (st < 0) {
        /* name the file that asked for it (a model too large for this process, ...) */
        frost__error_prefix("%s: the model it describes (%s, %d layers, hidden %lld)", model_path,
                            frost_arch_name(spec.arch), spec.layers, (long long)spec.hidden);
        goto fail;
    }
    FROST_TRY(frost_model_init(m, (uint64_t)mf->seed));
    frost_model_state_sizes sz = frost_model_state_counts(m);
    if (sz.params != mf->state.n_params || sz.bn != mf->state.n_bn || sz.mask != mf->state.mask_bits)
        FROST_FAIL(FROST_ERR_FORMAT,
                   "%s: the saved state (%lld floats, %lld statistics, %lld mask bits) does not fit the model it "
                   "describes (%lld, %lld, %lld)",
                   model_path, (long long)mf->state.n_params, (long long)mf->state.n_bn, (long long)mf->state.mask_bits,
                   (long long)sz.params, (long long)sz.bn, (long long)sz.mask);
    if (mf->base_weights[0]) FROST_TRY(ticket_base_from_file(m, mf, p, model_path));
    FROST_TRY(frost_model_state_import(m, mf->state.params, mf->state.bn, mf->state.mask));
    *out = m;
    return FROST_OK;
fail:
    frost_model_free(&m);
    return st;
}

void frost_prediction_release(frost_prediction *p)
{
    if (!p) return;
    free(p->logits);
    free(p->node_ids);
    p->logits = NULL;
    p->node_ids = NULL;
}

/* The task and node ids a prediction file reports (the dataset's original
 * ids when it was renumbered). */
static frost_status prediction_ids(frost_prediction *out, const frost_prepared *p)
{
    out->binary = p->ds.task_type == FROST_TASK_BINARY;
    if (!p->ds.original_id) return FROST_OK;
    out->node_ids = malloc((size_t)(p->ds.num_nodes ? p->ds.num_nodes : 1) * sizeof *out->node_ids);
    if (!out->node_ids) return frost__error(FROST_ERR_NOMEM, "out of memory");
    memcpy(out->node_ids, p->ds.original_id, (size_t)p->ds.num_nodes * sizeof *out->node_ids);
    return FROST_OK;
}

frost_status frost_predict(const char *model_path, const char *dataset, const char *split, frost_prediction *out)
{
    frost_status st = FROST_OK;
    frost_model_file mf;
    frost_prepared prep;
    frost_model *m = NULL;
    frost_config c;
    memset(out, 0, sizeof *out);
    memset(&prep, 0, sizeof prep);
    FROST_TRY(frost_model_file_load(&mf, model_path));
    frost_config_default(&c);
    st = frost_config_load_text(&c, mf.config, model_path);
    if (st < 0) goto fail_mf;
    if ((st = frost__path_copy(c.dataset, sizeof c.dataset, dataset, "dataset")) < 0) goto fail_mf;
    frost__strlcpy(c.split, split ? split : mf.split, sizeof c.split);
    c.split_optional = split == NULL;
    c.path[0] = 0;
    if ((st = frost_prepare(&prep, &c)) < 0) goto fail_mf;
    if ((st = frost_model_from_file(&m, &mf, &prep, model_path)) < 0) goto fail_mf;
    frost_task_data d = frost_prepared_task(&prep);
    if ((st = frost_evaluate(m, &d, &out->train, &out->valid, &out->test)) < 0) goto fail_mf;
    out->N = d.N;
    out->C = d.C;
    const size_t nl = (size_t)(d.N * d.C) * sizeof(float);
    out->logits = malloc(nl ? nl : 1);
    if (!out->logits) {
        st = frost__error(FROST_ERR_NOMEM, "out of memory");
        goto fail_mf;
    }
    memcpy(out->logits, frost_model_logits(m), nl);
    snprintf(out->logits_hash, sizeof out->logits_hash, "%016llx", (unsigned long long)frost_hash64(out->logits, nl));
    out->hash_matches = strcmp(out->logits_hash, mf.logits_hash) == 0;
    frost__strlcpy(out->run_blas_core, mf.blas_core, sizeof out->run_blas_core);
    if (prep.split) frost__strlcpy(out->split, prep.split->name, sizeof out->split);
    if ((st = prediction_ids(out, &prep)) < 0) goto fail_mf;
fail_mf:
    frost_model_free(&m);
    frost_prepared_release(&prep);
    frost_model_file_release(&mf);
fail:
    return st;
}

/* ---- combined inference (PRT, EFT) ---------------------------------------------------- */

/* Eval-mode outputs (N, C) of each model file on the dataset, each with the
 * preprocessing its own configuration asks for. */
static frost_status outputs_of(const char *const *paths, int n, const char *dataset, const char *split, float **outs,
                               frost_prepared *first, int64_t *C_out)
{
    frost_status st = FROST_OK;
    frost_model_file mf;
    frost_prepared other;
    frost_model *m = NULL;
    memset(&mf, 0, sizeof mf);
    memset(&other, 0, sizeof other);
    int64_t C = -1;
    for (int k = 0; k < n; k++) {
        frost_config c;
        frost_config_default(&c);
        FROST_TRY(frost_model_file_load(&mf, paths[k]));
        FROST_TRY(frost_config_load_text(&c, mf.config, paths[k]));
        FROST_TRY(frost__path_copy(c.dataset, sizeof c.dataset, dataset, "dataset"));
        frost__strlcpy(c.split, split ? split : mf.split, sizeof c.split);
        c.split_optional = split == NULL;
        c.path[0] = 0;
        frost_prepared *p = k == 0 ? first : &other;
        FROST_TRY(frost_prepare(p, &c));
        if (C >= 0) FROST_TRY(frost_prt_check_labels(C, mf.out_dim, 0, 0, paths[k]));
        C = mf.out_dim;
        FROST_TRY(frost_model_from_file(&m, &mf, p, paths[k]));
        frost_model_forward(m, p->X, false, 0, 0);
        const size_t nb = (size_t)(p->ds.num_nodes * C) * sizeof(float);
        outs[k] = malloc(nb ? nb : 1);
        if (!outs[k]) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        memcpy(outs[k], frost_model_logits(m), nb);
        frost_model_free(&m);
        frost_model_file_release(&mf);
        if (k > 0) frost_prepared_release(&other);
    }
    *C_out = C;
    return FROST_OK;
fail:
    frost_model_free(&m);
    frost_model_file_release(&mf);
    frost_prepared_release(&other);
    return st;
}

static frost_status finish_prediction(frost_prediction *out, frost_prepared *p, float *z, int64_t C)
{
    frost_task_data d = frost_prepared_task(p);
    const int64_t T = 1;
    frost_status st;
    out->N = p->ds.num_nodes;
    out->C = C;
    out->logits = z;
    if ((st = frost_metric_compute(&out->train, p->ds.metric, p->ds.task_type, z, p->ds.label, d.train, d.n_train, C, T)) < 0 ||
        (st = frost_metric_compute(&out->valid, p->ds.metric, p->ds.task_type, z, p->ds.label, d.valid, d.n_valid, C, T)) < 0 ||
        (st = frost_metric_compute(&out->test, p->ds.metric, p->ds.task_type, z, p->ds.label, d.test, d.n_test, C, T)) < 0)
        return st;
    snprintf(out->logits_hash, sizeof out->logits_hash, "%016llx",
             (unsigned long long)frost_hash64(z, (size_t)(out->N * C) * sizeof(float)));
    if (p->split) frost__strlcpy(out->split, p->split->name, sizeof out->split);
    return prediction_ids(out, p);
}

frost_status frost_predict_prt(const char *reward_path, const char *base_path, const char *dataset, const char *split,
                               frost_prediction *out)
{
    frost_status st = FROST_OK;
    frost_prepared p;
    float *o[2] = {NULL, NULL};
    int64_t C = 0;
    memset(out, 0, sizeof *out);
    memset(&p, 0, sizeof p);
    const char *paths[2] = {base_path, reward_path};
    char reward_split[64];
    if (!split) {
        /* the default split is the reward's (the model of `frost predict MODEL DATASET --base BASE`), as for a
         * model alone; the base was trained on another one (the upstream pool in a PRT scenario) */
        frost_model_file mf;
        FROST_TRY(frost_model_file_load(&mf, reward_path));
        frost__strlcpy(reward_split, mf.split, sizeof reward_split);
        frost_model_file_release(&mf);
        split = reward_split;
    }
    FROST_TRY(outputs_of(paths, 2, dataset, split, o, &p, &C));
    if (p.ds.task_type != FROST_TASK_MULTICLASS)
        FROST_FAIL(FROST_ERR_INVALID, "%s: reward tuning needs a multiclass dataset", dataset);
    frost_log_softmax_rows(o[0], o[0], p.ds.num_nodes, C);
    frost_prt_combine(o[0], o[0], o[1], p.ds.num_nodes * C);
    FROST_TRY(finish_prediction(out, &p, o[0], C));
    o[0] = NULL;
fail:
    free(o[0]);
    free(o[1]);
    frost_prepared_release(&p);
    return st;
}

frost_status frost_predict_eft(const char *new_path, const char *ft_path, const char *pt_path, double alpha,
                               const char *dataset, const char *split, frost_prediction *out)
{
    frost_status st = FROST_OK;
    frost_prepared p;
    float *o[3] = {NULL, NULL, NULL};
    int64_t C = 0;
    memset(out, 0, sizeof *out);
    memset(&p, 0, sizeof p);
    const char *paths[3] = {new_path, ft_path, pt_path};
    FROST_TRY(outputs_of(paths, 3, dataset, split, o, &p, &C));
    if (p.ds.task_type != FROST_TASK_MULTICLASS)
        FROST_FAIL(FROST_ERR_INVALID, "%s: EFT needs a multiclass dataset", dataset);
    for (int k = 0; k < 3; k++) frost_log_softmax_rows(o[k], o[k], p.ds.num_nodes, C);
    frost_eft_combine(o[0], o[0], o[1], o[2], alpha, p.ds.num_nodes * C);
    FROST_TRY(finish_prediction(out, &p, o[0], C));
    o[0] = NULL;
fail:
    for (int k = 0; k < 3; k++) free(o[k]);
    frost_prepared_release(&p);
    return st;
}

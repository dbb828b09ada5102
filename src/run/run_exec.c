/*
 * run_exec.c - training one run of an experiment and recording it: in one
 * process (full batch or Cluster-GCN batches), or on several MPI processes
 * (frost/dist.h): all of them on one run (mpi.mode "graph"), or runs dealt
 * out one per process (mpi.mode "runs").
 *
 * Process 0 writes the results file. In "graph" mode every process trains
 * every run and process 0 appends it; in "runs" mode the runs left to do go
 * out in rounds of P, run r of a round to process r (each claims its run
 * first: another job may be training it), and after each round process 0
 * gathers the finished runs (serialised: the run's row, its history and its
 * model state) and appends them one by one, each atomically. Process 0
 * tells the others whether writing worked, so that an error stops all of
 * them.
 */
#include "frost/frost.h"
#include "frost/dist.h"
#include "run/run_impl.h"
#include "dist/dist_impl.h"
#include "dataset/dataset_impl.h"
#include "results/results_impl.h"
#include "io/io_impl.h"
#include "io/file_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void frost__run_out_release(frost__run_out *o)
{
    if (!o) return;
    free(o->info.config);
    frost_run_result_release(&o->res);
    free(o->params);
    free(o->bn);
    free(o->mask);
    memset(o, 0, sizeof *o);
}

void frost__run_env_release(frost__run_env *env)
{
    if (!env) return;
    free(env->dist_part);
    frost__dist_share_release(env->dist_share);
    free(env->dist_share);
    free(env->cluster_part);
    memset(env, 0, sizeof *env);
}

typedef struct epoch_ctx {
    const frost_runner_events *ev;
    const char *id;
} epoch_ctx;

static void on_epoch(const frost_epoch_record *rec, void *user)
{
    epoch_ctx *e = user;
    if (e->ev && e->ev->epoch) e->ev->epoch(e->id, rec, e->ev->user);
}

/* ---- partitions ------------------------------------------------------------------ */

/* A partition into k parts: stored under `name` (checked), else the stored
 * metis-kK when try_default, else METIS on the aggregation graph (on
 * process 0 when comm is set, then shared). *how names the source. */
static frost_status get_partition(const frost_prepared *p, const char *name, bool try_default, int32_t k,
                                  double imbalance, frost__comm *comm, int32_t **out, char *how, size_t cap)
{
    frost_status st = FROST_OK;
    int32_t *part = NULL;
    const int64_t N = p->ds.num_nodes;
    char def[64];
    snprintf(def, sizeof def, "metis-k%d", k);
    const frost_partitioning *pt = frost_dataset_partitioning(&p->ds, name[0] ? name : def);
    if (name[0] && !pt)
        return frost__error(FROST_ERR_CONFIG, "%s: has no partition '%s' (frost partition %s --parts %d --name %s)",
                            p->ds.name, name, p->ds.name, k, name);
    if (pt && !name[0] && !try_default) pt = NULL;
    FROST_ALLOC(part, N);
    if (pt) {
        if (pt->k != k)
            FROST_FAIL(FROST_ERR_CONFIG, "%s: partition '%s' has %d parts; %d are needed", p->ds.name, pt->name, pt->k,
                       k);
        memcpy(part, pt->part, (size_t)N * sizeof *part);
        snprintf(how, cap, "partition %s stored in the dataset", pt->name);
    } else {
        frost_status mine = FROST_OK;
        if (frost__comm_rank(comm) == 0) mine = frost_graph_partition(&p->A, k, imbalance, 0, part);
        if (comm) {
            int64_t bad = mine < 0;
            frost__comm_max_i64(comm, &bad, 1);
            if (bad)
                FROST_FAIL(mine < 0 ? mine : FROST_ERR_METIS, "%s",
                           mine < 0 ? frost_last_error() : "METIS failed on process 0");
            frost__comm_bcast(comm, part, N * (int64_t)sizeof *part, 0);
        } else if (mine < 0) {
            FROST_FAILED(mine);
        }
        snprintf(how, cap, "METIS k-way partition into %d parts (imbalance %g)", k, imbalance);
    }
    *out = part;
    return FROST_OK;
fail:
    free(part);
    return st;
}

/* ---- one run ------------------------------------------------------------------------ */

/* What a run did with its checkpoint, said once. */
static void checkpoint_notes(const frost_runner_events *ev, const char *id, const frost_run_result *res)
{
    if (!ev || !ev->note) return;
    char msg[512];
    if (res->resumed_from > 0) {
        snprintf(msg, sizeof msg, "run %s: continued from its checkpoint after epoch %lld", id,
                 (long long)res->resumed_from);
        ev->note(msg, ev->user);
    }
    if (res->checkpoint_note[0]) {
        snprintf(msg, sizeof msg, "run %s: %s", id, res->checkpoint_note);
        ev->note(msg, ev->user);
    }
}

static void fill_info(frost__run_out *o, const frost_prepared *p, const frost_config *pt, const frost_run_item *it,
                      const frost_model_spec *spec)
{
    frost_run_info *ri = &o->info;
    const frost_run_result *res = &o->res;
    frost__strlcpy(ri->id, it->id, sizeof ri->id);
    frost__strlcpy(ri->dataset, p->ds.name, sizeof ri->dataset);
    frost__strlcpy(ri->split, p->split->name, sizeof ri->split);
    frost__strlcpy(ri->model, frost_arch_name(spec->arch), sizeof ri->model);
    frost__strlcpy(ri->method, frost_method_name(pt->method), sizeof ri->method);
    frost__strlcpy(ri->metric, frost_metric_name(p->ds.metric), sizeof ri->metric);
    ri->seed = it->seed;
    ri->sparsity = ri->prune_ratio = ri->lock_ratio = (double)NAN;
    if (pt->method == FROST_METHOD_SLT) {
        ri->sparsity = spec->mask.sparsity;
        ri->prune_ratio = spec->mask.prune_ratio;
        ri->lock_ratio = spec->mask.lock_ratio;
        ri->degenerate = frost_slt_degenerate(&spec->mask);
    }
    ri->best_epoch = res->best_epoch;
    ri->epochs_run = res->epochs_run;
    ri->val_metric = res->best_valid;
    ri->test_metric = res->test_at_best;
    ri->train_metric = res->train_at_best;
    ri->train_seconds = res->train_seconds;
    ri->eval_seconds = res->eval_seconds;
    ri->threads = frost_get_threads();
    frost__strlcpy(ri->blas_core, frost_blas_core(), sizeof ri->blas_core);
    ri->in_dim = spec->in_dim;
    ri->out_dim = spec->out_dim;
    frost__strlcpy(ri->status, res->diverged ? "diverged" : "ok", sizeof ri->status);
    frost__strlcpy(ri->message, res->message, sizeof ri->message);
    if (p->split && p->split->n_valid == 0) {
        /* nothing to choose the best epoch by: say which one this is */
        char note[200];
        snprintf(note, sizeof note, "%sno validation nodes in split %s: the last epoch (%lld) is reported",
                 ri->message[0] ? "; " : "", p->split->name, (long long)res->best_epoch);
        strncat(ri->message, note, sizeof ri->message - strlen(ri->message) - 1);
    }
}

frost_status frost__run_train(frost_prepared *p, const frost_config *pt, const frost_run_item *it,
                              const frost_runner_events *ev, frost__run_env *env, frost__run_out *out)
{
    frost_status st = FROST_OK;
    frost_model *m = NULL;
    memset(out, 0, sizeof *out);
    frost_config rc = *pt;
    rc.seed = it->seed;
    rc.runs = 1;
    rc.n_seeds = 0;
    out->info.config = frost_config_to_text(&rc);
    if (!out->info.config) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");

    /* (a run before this one may have freed the features) */
    FROST_TRY(frost__prepared_features(p));
    frost_model_spec spec = frost_prepared_spec(p, pt);
    frost_task_data d = frost_prepared_task(p);
    frost_train_opts o = frost_train_opts_default();
    o.epochs = pt->epochs;
    o.eval_every = pt->eval_every;
    o.patience = pt->patience;
    o.optim = pt->optim;
    o.optim.t_max = pt->epochs;
    o.seed = (uint64_t)it->seed;
    epoch_ctx ec = {ev, it->id};
    o.on_epoch = on_epoch;
    o.user = &ec;
    o.stop = ev ? ev->stop : NULL;
    if (env->checkpoint) {
        /* the run's id and everything that changes its numbers: the
         * configuration, the data as prepared, the kernels and the version */
        char *canon = frost_config_canonical(out->info.config, 0);
        if (!canon) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
        const int64_t lab = d.task == FROST_TASK_BINARY ? d.N * d.C : d.N;
        uint64_t key = frost_hash64(canon, strlen(canon));
        const bool whole = !env->comm; /* a distributed run adds its processes' shares below */
        const uint64_t parts[] = {frost_hash64(it->id, strlen(it->id)),
                                  frost_hash64(frost_blas_core(), strlen(frost_blas_core())),
                                  frost_hash64(frost_version(), strlen(frost_version())),
                                  whole ? frost_hash64(d.X, (size_t)(d.N * d.F) * sizeof(float)) : 0,
                                  whole && d.labels ? frost_hash64(d.labels, (size_t)lab * sizeof(int32_t)) : 0,
                                  frost_hash64(d.train, (size_t)d.n_train * sizeof(int64_t)),
                                  frost_hash64(d.valid, (size_t)d.n_valid * sizeof(int64_t)),
                                  frost_hash64(d.test, (size_t)d.n_test * sizeof(int64_t)),
                                  whole ? frost_hash64(p->A.indptr, (size_t)(p->A.n_rows + 1) * sizeof(int64_t)) : 0,
                                  whole ? frost_hash64(p->A.indices, (size_t)p->A.nnz * sizeof(int32_t)) : 0};
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) key = frost_hash64(&key, 8) ^ parts[k];
        free(canon);
        o.checkpoint = env->checkpoint;
        o.checkpoint_every = pt->checkpoint_every;
        o.checkpoint_key = key;
    }

    if (env->comm) {
        /* every process, one part of the graph each */
        const int P = frost__comm_size(env->comm);
        if (pt->batch.mode != FROST_BATCH_FULL)
            FROST_FAIL(FROST_ERR_CONFIG,
                       "%s: batch.mode \"%s\" runs in one process; under mpirun use "
                       "mpi.mode = \"runs\" (or batch.mode = \"full\")",
                       pt->path[0] ? pt->path : "configuration",
                       pt->batch.mode == FROST_BATCH_CLUSTER ? "cluster" : "neighbor");
        frost__dist_share own_share, *sh = &own_share;
        const frost_task_data task = frost_prepared_task(p);
        const int rank = frost__comm_rank(env->comm);
        char how[256] = "";
        if (p->meta_only) {
            /* every process reads its rows of the file, once per job (runner.c chose this) */
            char def[64];
            snprintf(def, sizeof def, "metis-k%d", P);
            const frost__dist_file df = {.path = p->path,
                                         .partition = pt->mpi.partition[0] ? pt->mpi.partition : def,
                                         .task = task,
                                         .symmetric = p->symmetric,
                                         .labelled = frost__dataset_has(p->path, "node/label"),
                                         .row_norm = p->row_norm,
                                         .self_loops = p->self_loops};
            snprintf(how, sizeof how, "partition %s stored in the dataset; each process reads only its part of the file",
                     df.partition);
            if (!env->dist_share) {
                env->dist_share = calloc(1, sizeof *env->dist_share);
                if (!env->dist_share) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
                if ((st = frost__dist_share_load(env->dist_share, &df, P, rank)) < 0) {
                    free(env->dist_share);
                    env->dist_share = NULL;
                    goto fail;
                }
            }
            sh = env->dist_share;
            FROST_TRY(frost__dist_share_coefficients(sh, &spec));
        } else {
            if (!env->dist_part)
                FROST_TRY(get_partition(p, pt->mpi.partition, true, P, pt->mpi.imbalance, env->comm, &env->dist_part,
                                        how, sizeof how));
            const frost__dist_job job = {.A = &p->A,
                                         .AT = p->symmetric ? &p->A : &p->AT,
                                         .X = p->X,
                                         .original_id = p->ds.original_id,
                                         .task = task,
                                         .spec = spec};
            FROST_TRY(frost__dist_share_global(&own_share, &job, env->dist_part, P, rank));
        }
        if (!env->dist_noted && rank == 0 && ev && ev->note) {
            char msg[512];
            snprintf(msg, sizeof msg, "mpi: %d processes train each run together; %s", P, how);
            ev->note(msg, ev->user);
        }
        env->dist_noted = true;
        if (o.checkpoint) {
            /* the key covers every process's share: each one's hash, gathered in process order */
            const frost__halo_plan *pl = &sh->plan;
            const int64_t T = task.task == FROST_TASK_BINARY ? task.C : 1;
            const uint64_t mine[] = {frost_hash64(sh->X, (size_t)(pl->n_local * task.F) * sizeof(float)),
                                     frost_hash64(sh->labels, (size_t)(pl->n_local * T) * sizeof(int32_t)),
                                     frost_hash64(pl->gid, (size_t)pl->n_local * sizeof(int64_t)),
                                     frost_hash64(pl->A.indptr, (size_t)(pl->n_owned + 1) * sizeof(int64_t)),
                                     frost_hash64(pl->A.indices, (size_t)pl->A.nnz * sizeof(int32_t)),
                                     frost_hash64(sh->train, (size_t)sh->n_train * sizeof(int64_t))};
            const uint64_t h = frost_hash64(mine, sizeof mine);
            void *all = NULL;
            int64_t *cnt = NULL;
            cnt = malloc((size_t)P * sizeof *cnt);
            st = cnt ? FROST_OK : frost__error(FROST_ERR_NOMEM, "out of memory");
            if (st >= 0) st = frost__comm_allgather(env->comm, &h, sizeof h, &all, cnt);
            if (st >= 0) o.checkpoint_key = frost_hash64(&o.checkpoint_key, 8) ^ frost_hash64(all, (size_t)P * sizeof h);
            free(all);
            free(cnt);
            if (st < 0) {
                if (sh == &own_share) frost__dist_share_release(&own_share);
                goto fail;
            }
        }
        frost__dist_outcome dout;
        st = frost__dist_train(env->comm, sh, &task, &spec, (uint64_t)it->seed, &o, &dout);
        if (sh == &own_share) frost__dist_share_release(&own_share);
        if (st < 0) goto fail;
        out->res = dout.res;
        if (rank == 0) checkpoint_notes(ev, it->id, &out->res);
        out->params = dout.params, out->bn = dout.bn, out->mask = dout.mask, out->sz = dout.sizes;
        fill_info(out, p, pt, it, &spec);
        out->info.model_bits = dout.model_bits;
        out->info.dense_bits = dout.dense_bits;
        out->info.paper_bits = spec.weights == FROST_WEIGHTS_SUPERMASK ? dout.sizes.mask : dout.model_bits;
        snprintf(out->info.logits_hash, sizeof out->info.logits_hash, "%016llx", (unsigned long long)dout.logits_hash);
        char note[96];
        snprintf(note, sizeof note, "%strained by %d MPI processes", out->info.message[0] ? "; " : "", P);
        strncat(out->info.message, note, sizeof out->info.message - strlen(out->info.message) - 1);
        env->stats = dout.stats;
        if (out->res.stopped) FROST_FAIL(FROST_ERR_INTERRUPTED, "interrupted during run %s; it was not saved", it->id);
        return FROST_OK;
    }

    FROST_TRY(frost_model_new(&m, &spec, &p->A, p->symmetric ? &p->A : &p->AT, p->ds.num_nodes));
    FROST_TRY(frost_model_init(m, (uint64_t)it->seed));
    /* a renumbered dataset (frost partition --reorder): every node keeps its dropout masks */
    FROST_TRY(frost_model_set_node_ids(m, p->ds.original_id));
    if (pt->batch.mode == FROST_BATCH_CLUSTER) {
        if (!env->cluster_part || env->cluster_k != pt->batch.parts || env->cluster_imbalance != pt->batch.imbalance ||
            strcmp(env->cluster_name, pt->batch.partition) != 0) {
            char how[256];
            free(env->cluster_part);
            env->cluster_part = NULL;
            FROST_TRY(get_partition(p, pt->batch.partition, false, pt->batch.parts, pt->batch.imbalance, NULL,
                                    &env->cluster_part, how, sizeof how));
            env->cluster_k = pt->batch.parts;
            env->cluster_imbalance = pt->batch.imbalance;
            frost__strlcpy(env->cluster_name, pt->batch.partition, sizeof env->cluster_name);
            if (ev && ev->note) {
                char msg[512];
                snprintf(msg, sizeof msg, "Cluster-GCN: %s, %d parts per batch", how, pt->batch.parts_per_batch);
                ev->note(msg, ev->user);
            }
        }
        /* a checkpoint belongs to the parts it was trained on, too */
        if (o.checkpoint)
            o.checkpoint_key = frost_hash64(&o.checkpoint_key, 8) ^
                               frost_hash64(env->cluster_part, (size_t)p->ds.num_nodes * sizeof(int32_t));
        frost_cluster_opts co = {&p->A, p->symmetric ? NULL : &p->AT, env->cluster_part, pt->batch.parts,
                                 pt->batch.parts_per_batch};
        FROST_TRY(frost_train_cluster(m, &d, &co, &o, &out->res));
    } else if (pt->batch.mode == FROST_BATCH_NEIGHBOR) {
        int32_t fan[FROST_MAX_FANOUT];
        for (int32_t l = 0; l < pt->model.layers; l++)
            fan[l] = pt->batch.fanout[pt->batch.n_fanout == 1 ? 0 : l];
        frost_sample_opts so = {&p->A, p->symmetric ? NULL : &p->AT, pt->batch.size, pt->model.layers, fan};
        FROST_TRY(frost_train_sample(m, &d, &so, &o, &out->res));
    } else {
        /* the features go once the model has made all it reads of them (an
         * aggregate-first first layer holds their aggregation): the peak
         * memory of a run is then the model's, not the model's and the
         * features' (frost__prepared_features reads them again) */
        if (p->X_reloadable) {
            frost__prepared_features_hash(p); /* (outside the timed epochs) */
            o.input_spent = frost__prepared_features_spent;
            o.input_spent_ctx = p;
        }
        FROST_TRY(frost_train(m, &d, &o, &out->res));
        /* mpi.stats of one process: its time and memory as a distributed run reports them */
        frost_dist_stats *ss = &env->stats;
        memset(ss, 0, sizeof *ss);
        const int64_t N = p->ds.num_nodes, T = d.task == FROST_TASK_BINARY ? d.C : 1, nnz = p->A.nnz;
        ss->ranks = 1;
        ss->epochs = out->res.epochs_run;
        ss->epoch_seconds = ss->compute_seconds = out->res.train_seconds / (double)(ss->epochs > 0 ? ss->epochs : 1);
        ss->owned_min = ss->owned_max = N;
        ss->mem_ranks = 1;
        const int64_t row[FROST_DIST_MEM_COLS] = {
            N, 0, N * (d.F * 4 + T * 4), 0, (p->symmetric ? 1 : 2) * ((N + 1) * 8 + nnz * 4), (int64_t)frost_model_bytes(m),
            0, (int64_t)frost__peak_rss()};
        memcpy(ss->mem[0], row, sizeof row);
    }
    checkpoint_notes(ev, it->id, &out->res);
    if (out->res.stopped) {
        const int64_t kept = out->res.checkpoint_epoch > 0 ? out->res.checkpoint_epoch : out->res.resumed_from;
        char tail[160] = "";
        if (o.checkpoint && kept > 0)
            snprintf(tail, sizeof tail, " (its checkpoint after epoch %lld was kept: the same command continues it)",
                     (long long)kept);
        FROST_FAIL(FROST_ERR_INTERRUPTED, "interrupted during run %s; it was not saved%s", it->id, tail);
    }

    out->sz = frost_model_state_counts(m);
    FROST_ALLOC(out->params, out->sz.params);
    FROST_ALLOC(out->bn, out->sz.bn);
    FROST_CALLOC(out->mask, (out->sz.mask + 7) / 8);
    frost_model_state_export(m, out->params, out->bn, out->mask);
    fill_info(out, p, pt, it, &spec);
    out->info.model_bits = frost_model_bits(m);
    out->info.dense_bits = frost_model_dense_bits(m);
    out->info.paper_bits = frost_model_paper_bits(m);
    const size_t nl = (size_t)(p->ds.num_nodes * spec.out_dim) * sizeof(float);
    snprintf(out->info.logits_hash, sizeof out->info.logits_hash, "%016llx",
             (unsigned long long)frost_hash64(frost_model_logits(m), nl));
    frost_model_free(&m);
    return FROST_OK;
fail:
    frost_model_free(&m);
    frost__run_out_release(out);
    return st;
}

static frost_status append_outs(const char *output, frost__run_out *outs, int64_t n, const frost_runner_events *ev)
{
    frost_status st = FROST_OK;
    frost_run_info *info = NULL;
    frost_run_payload *pay = NULL;
    if (n == 0) return FROST_OK;
    FROST_ALLOC(info, n);
    FROST_ALLOC(pay, n);
    for (int64_t k = 0; k < n; k++) {
        const frost__run_out *o = &outs[k];
        info[k] = o->info;
        pay[k] = (frost_run_payload){o->res.history, o->res.n_history, o->params, o->sz.params,
                                     o->bn,          o->sz.bn,         o->mask,   o->sz.mask};
    }
    FROST_TRY(n == 1 ? frost_results_append(output, info, pay) : frost_results_append_many(output, info, pay, n));
    if (ev && ev->run_end)
        for (int64_t k = 0; k < n; k++) ev->run_end(&info[k], ev->user);
fail:
    free(info);
    free(pay);
    return st;
}

/* The communication statistics line of a run (mpi.stats), appended with
 * one checked write. */
static frost_status write_stats(const char *path, const char *id, const frost_dist_stats *s)
{
    frost__text t;
    frost__text_init(&t);
    frost__text_printf(&t, "{\"run\": ");
    frost__text_json_string(&t, id);
    frost__text_printf(&t,
                       ", \"ranks\": %d, \"epochs\": %lld, \"halo_bytes_per_epoch\": %.0f, "
                       "\"allreduce_bytes_per_epoch\": %.0f, \"epoch_seconds\": %.6f, \"compute_seconds\": %.6f, "
                       "\"halo_seconds\": %.6f, \"allreduce_seconds\": %.6f, \"owned_nodes\": [%lld, %lld], "
                       "\"halo_nodes\": [%lld, %lld]",
                       s->ranks, (long long)s->epochs, s->halo_bytes, s->reduce_bytes, s->epoch_seconds,
                       s->compute_seconds, s->halo_seconds, s->reduce_seconds, (long long)s->owned_min,
                       (long long)s->owned_max, (long long)s->halo_min, (long long)s->halo_max);
    /* memory per process: one array per column of frost_dist_stats.mem */
    static const char *const cols[FROST_DIST_MEM_COLS] = {"owned",       "halo",        "own_rows_bytes",
                                                          "halo_rows_bytes", "graph_bytes", "model_bytes",
                                                          "comm_bytes",  "peak_rss_bytes"};
    frost__text_printf(&t, ", \"memory\": {");
    for (int k = 0; k < FROST_DIST_MEM_COLS; k++) {
        frost__text_printf(&t, "%s\"%s\": [", k ? ", " : "", cols[k]);
        for (int32_t r = 0; r < s->mem_ranks; r++) frost__text_printf(&t, "%s%lld", r ? ", " : "", (long long)s->mem[r][k]);
        frost__text_printf(&t, "]");
    }
    frost__text_printf(&t, "}}\n");
    return frost__text_append_to(&t, path);
}

/* OUTPUT.checkpoints/RUN.ckpt, its folder made: malloc'd, or NULL with the
 * error set. */
static char *checkpoint_path(const char *output, const char *id)
{
    char *dir = frost__asprintf("%s.checkpoints", output), *key = frost__results_run_key(id);
    char *path = dir && key ? frost__asprintf("%s/%s.ckpt", dir, key) : NULL;
    free(key);
    if (!dir || !path) {
        (void)frost__error(FROST_ERR_NOMEM, "out of memory");
    } else if (frost__mkdirs(dir) < 0) {
        free(path);
        path = NULL;
    } else {
        frost__remove_stale_temporaries(path); /* a kill during a checkpoint's write */
    }
    free(dir);
    return path;
}

/* Remove run `id`'s checkpoint (with the temporaries of killed writes) and
 * the checkpoint folder when that leaves it empty; errors ignored. */
static void drop_checkpoint_file(char *path, bool file)
{
    if (file) unlink(path);
    frost__remove_stale_temporaries(path);
    char *slash = strrchr(path, '/');
    if (slash) *slash = 0, (void)rmdir(path);
}

void frost__run_drop_checkpoint(const char *output, const char *id)
{
    char *key = frost__results_run_key(id);
    char *path = key ? frost__asprintf("%s.checkpoints/%s.ckpt", output, key) : NULL;
    if (path) drop_checkpoint_file(path, true);
    free(path);
    free(key);
}

frost_status frost__run_one(frost_prepared *p, const frost_config *pt, const frost_run_item *it,
                            const char *output, const frost_runner_events *ev, frost__run_env *env)
{
    frost__run_out o;
    /* checkpoints: full batch, Cluster-GCN, neighbour sampling; under
     * mpi.mode "graph" process 0 writes them and every process reads them */
    char *ckpt = NULL;
    if (pt->checkpoint_every > 0) {
        ckpt = checkpoint_path(output, it->id);
        if (!ckpt) return FROST_ERR_IO;
    }
    env->checkpoint = ckpt;
    frost_status st = frost__run_train(p, pt, it, ev, env, &o);
    env->checkpoint = NULL;
    if (st < 0) {
        free(ckpt);
        return st;
    }
    if (frost__comm_rank(env->comm) == 0) {
        st = append_outs(output, &o, 1, ev);
        if (st == FROST_OK && pt->mpi.stats[0] && env->stats.ranks > 0)
            st = write_stats(pt->mpi.stats, it->id, &env->stats);
        memset(&env->stats, 0, sizeof env->stats);
    }
    /* stored: its checkpoint has done its work, also one left by an
     * earlier attempt when checkpoints are off now (the folder goes when
     * empty); failed: an empty folder made for it goes too */
    if (ckpt && frost__comm_rank(env->comm) == 0) drop_checkpoint_file(ckpt, st == FROST_OK);
    else if (st == FROST_OK && frost__comm_rank(env->comm) == 0) frost__run_drop_checkpoint(output, it->id);
    free(ckpt);
    frost__run_out_release(&o);
    if (env->comm) {
        /* process 0 says whether the run was written */
        int64_t bad = st < 0;
        frost__comm_max_i64(env->comm, &bad, 1);
        if (bad && st == FROST_OK) st = frost__error(FROST_ERR_IO, "%s: process 0 could not write the run", output);
    }
    return st;
}

/* ---- runs dealt out over processes ------------------------------------------------------ */

/* A finished run as bytes: its row (config pointer aside), the config
 * text, the history and the model state. */
static frost_status pack(const frost__run_out *o, char **out, int64_t *bytes)
{
    const int64_t lc = (int64_t)strlen(o->info.config) + 1;
    const int64_t lh = o->res.n_history * (int64_t)sizeof(frost_epoch_record);
    const int64_t lp = o->sz.params * 4, lb = o->sz.bn * 4, lm = (o->sz.mask + 7) / 8;
    const int64_t n = (int64_t)sizeof o->info + (int64_t)sizeof o->res + (int64_t)sizeof o->sz + lc + lh + lp + lb + lm;
    char *b = malloc((size_t)n), *q = b;
    if (!b) return frost__error(FROST_ERR_NOMEM, "out of memory");
#define PUT(src, len)                                                                                                  \
    do {                                                                                                               \
        memcpy(q, (src), (size_t)(len));                                                                               \
        q += (len);                                                                                                    \
    } while (0)
    PUT(&o->info, sizeof o->info);
    PUT(&o->res, sizeof o->res);
    PUT(&o->sz, sizeof o->sz);
    PUT(o->info.config, lc);
    PUT(o->res.history, lh);
    PUT(o->params, lp);
    PUT(o->bn, lb);
    PUT(o->mask, lm);
#undef PUT
    *out = b;
    *bytes = n;
    return FROST_OK;
}

static frost_status unpack(frost__run_out *o, const char *b, int64_t bytes)
{
    frost_status st = FROST_OK;
    const char *q = b, *end = b + bytes;
    memset(o, 0, sizeof *o);
#define GET(dst, len)                                                                                                  \
    do {                                                                                                               \
        if (q + (len) > end) FROST_FAIL(FROST_ERR_FORMAT, "a run from another process is cut short");                  \
        memcpy((dst), q, (size_t)(len));                                                                               \
        q += (len);                                                                                                    \
    } while (0)
    GET(&o->info, sizeof o->info);
    GET(&o->res, sizeof o->res);
    GET(&o->sz, sizeof o->sz);
    o->info.config = NULL;
    o->res.history = NULL;
    const int64_t lc = (int64_t)strnlen(q, (size_t)(end - q)) + 1;
    FROST_ALLOC(o->info.config, lc);
    GET(o->info.config, lc);
    FROST_ALLOC(o->res.history, o->res.n_history > 0 ? o->res.n_history : 1);
    GET(o->res.history, o->res.n_history * (int64_t)sizeof(frost_epoch_record));
    FROST_ALLOC(o->params, o->sz.params);
    GET(o->params, o->sz.params * 4);
    FROST_ALLOC(o->bn, o->sz.bn);
    GET(o->bn, o->sz.bn * 4);
    FROST_CALLOC(o->mask, (o->sz.mask + 7) / 8);
    GET(o->mask, (o->sz.mask + 7) / 8);
#undef GET
    return FROST_OK;
fail:
    frost__run_out_release(o);
    return st;
}

/* One pass of rounds over list: run r0 + q of each round on process q,
 * claimed first (waiting for it when wait); process 0 appends each round.
 * Without wait, a run another process is training goes to later (indices
 * into list, this process's own; *n_later counts them). */
static frost_status spread_pass(frost_prepared *p, const frost_config *c, const frost_run_item *list, int64_t n,
                                const char *output, const frost_runner_events *ev, frost__comm *comm,
                                frost__run_env *env, bool wait, int64_t *later, int64_t *n_later)
{
    frost_status st = FROST_OK;
    const int P = frost__comm_size(comm), rank = frost__comm_rank(comm);
    const volatile int *stop = ev ? ev->stop : NULL;
    int64_t *counts = NULL;
    frost__run_out *outs = NULL;
    frost__flock claim = {-1, NULL};
    FROST_ALLOC(counts, P);
    FROST_CALLOC(outs, P);
    for (int64_t r0 = 0; r0 < n; r0 += P) {
        /* this round: run r0 + q on process q */
        char *mine = NULL, *all = NULL;
        int64_t bytes = 0;
        frost_status mst = FROST_OK;
        char err[512] = "";
        if (r0 + rank < n) {
            const frost_run_item *it = &list[r0 + rank];
            frost_config pt;
            frost__run_out o;
            frost__claim_result what = FROST__CLAIM_TRAIN;
            mst = frost_config_point(c, it->point, &pt);
            if (mst == FROST_OK) mst = frost__run_claim(output, c, it, wait, stop, &claim, &what);
            if (mst == FROST_OK && what == FROST__CLAIM_BUSY) later[(*n_later)++] = r0 + rank;
            if (mst == FROST_OK && what == FROST__CLAIM_TRAIN) {
                if (ev && ev->run_start) ev->run_start(it->id, r0 + rank, n, pt.epochs, ev->user);
                mst = frost__run_train(p, &pt, it, ev, env, &o);
                if (mst == FROST_OK) {
                    mst = pack(&o, &mine, &bytes);
                    frost__run_out_release(&o);
                }
            }
            if (mst < 0) snprintf(err, sizeof err, "process %d, run %s: %s", rank, it->id, frost_last_error());
        }
        /* a failed run stops every process, with the first failure's message */
        int64_t worst = mst < 0 ? -(int64_t)mst : 0;
        frost__comm_max_i64(comm, &worst, 1);
        if (worst > 0) {
            void *msgs = NULL;
            const char *first = NULL;
            if (frost__comm_allgather(comm, err, (int64_t)strlen(err) + 1, &msgs, counts) == FROST_OK) {
                const char *m = msgs;
                for (int q = 0; q < P; m += counts[q], q++)
                    if (m[0] && !first) first = m;
            }
            st = frost__error((frost_status)-worst, "%s", first ? first : "a run failed on another process");
            free(msgs);
            free(mine);
            goto fail;
        }
        FROST_TRY(frost__comm_gather(comm, mine, bytes, 0, (void **)&all, counts));
        free(mine);
        int64_t got = 0, wrote = 0;
        if (rank == 0) {
            const char *q = all;
            for (int r = 0; r < P; r++) {
                if (counts[r] > 0) {
                    st = unpack(&outs[got], q, counts[r]);
                    if (st < 0) break;
                    got++;
                }
                q += counts[r];
            }
            /* one run at a time: each is its own atomic append */
            for (int64_t k = 0; k < got && st == FROST_OK; k++) st = append_outs(output, &outs[k], 1, ev);
            for (int64_t k = 0; k < got; k++) frost__run_out_release(&outs[k]);
            wrote = st < 0;
        }
        free(all);
        frost__comm_max_i64(comm, &wrote, 1);
        frost__results_unclaim(&claim); /* stored (or failed): the claim has done its work */
        if (wrote && st == FROST_OK) st = frost__error(FROST_ERR_IO, "%s: process 0 could not write the runs", output);
        if (st < 0) goto fail;
        int64_t halt = stop && *stop;
        frost__comm_max_i64(comm, &halt, 1);
        if (halt) FROST_FAIL(FROST_ERR_INTERRUPTED, "interrupted after a round of runs");
    }
fail:
    frost__results_unclaim(&claim);
    free(counts);
    free(outs);
    return st;
}

frost_status frost__run_spread(frost_prepared *p, const frost_config *c, const frost_run_item *todo, int64_t n,
                               const char *output, const frost_runner_events *ev, frost__comm *comm,
                               frost__run_env *env)
{
    frost_status st = FROST_OK;
    const int P = frost__comm_size(comm);
    int64_t *later = NULL, n_later = 0, *counts = NULL;
    void *all = NULL;
    frost_run_item *back = NULL;
    FROST_ALLOC(later, n > 0 ? n : 1);
    FROST_ALLOC(counts, P);
    /* first without waiting: runs another job is training are left for the end */
    FROST_TRY(spread_pass(p, c, todo, n, output, ev, comm, env, false, later, &n_later));
    FROST_TRY(frost__comm_allgather(comm, later, n_later * (int64_t)sizeof *later, &all, counts));
    int64_t n_back = 0;
    for (int q = 0; q < P; q++) n_back += counts[q] / (int64_t)sizeof *later;
    if (n_back > 0) {
        FROST_ALLOC(back, n_back);
        const int64_t *ix = all;
        for (int64_t k = 0; k < n_back; k++) back[k] = todo[ix[k]];
        /* then waiting for each: stored by then (skipped), or its trainer died (trained here) */
        FROST_TRY(spread_pass(p, c, back, n_back, output, ev, comm, env, true, later, &n_later));
    }
fail:
    free(later);
    free(counts);
    free(all);
    free(back);
    return st;
}

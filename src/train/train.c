/*
 * train.c - the full-batch training loop (OGB leaderboard protocol).
 *
 * Per epoch e (0-based; records say e + 1):
 *   forward in train mode (dropout masks from (seed, e)), loss on the
 *   training nodes, backward, optimizer step with the schedule's lr for e,
 *   supermask threshold update; then, every eval_every epochs and at the
 *   last, an eval-mode forward and the metric on train / valid / test.
 * The state with the best validation metric is copied aside and restored at
 * the end, so the model leaves in the state whose test metric is reported.
 *
 * PRT: when d->prior is set, the loss and the metrics see prior + output
 * (log p_base + r); with entropy_alpha > 0 the loss subtracts alpha times
 * the mean entropy of softmax(r) over the training nodes (prt.md 1.6).
 */
#include "frost/train.h"
#include "frost/layers.h"
#include "frost/metrics.h"
#include "frost/prt.h"
#include "train/train_impl.h"
#include "io/file_impl.h"
#include "io/io_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

frost_train_opts frost_train_opts_default(void)
{
    frost_train_opts o;
    memset(&o, 0, sizeof o);
    o.epochs = 200;
    o.eval_every = 1;
    o.optim = frost_optim_spec_default();
    return o;
}

void frost_run_result_release(frost_run_result *r)
{
    if (!r) return;
    free(r->history);
    r->history = NULL;
    r->n_history = 0;
}

uint64_t frost_hash64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* The scores the loss and metrics see: output, or prior + output. */
static const float *combined(const frost_model *m, const frost_task_data *d, float *buf)
{
    const float *z = frost_model_logits(m);
    if (!d->prior) return z;
    const int64_t n = d->N * d->C;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t k = 0; k < n; k++) buf[k] = d->prior[k] + z[k];
    return buf;
}

static frost_status eval_metrics(frost_model *m, const frost_task_data *d, float *buf, double *tr, double *va,
                                 double *te)
{
    frost_model_forward(m, d->X, false, 0, 0);
    const float *s = combined(m, d, buf);
    const int64_t T = d->task == FROST_TASK_BINARY ? d->C : 1;
    frost_status st;
    if ((st = frost_metric_compute(tr, d->metric, d->task, s, d->labels, d->train, d->n_train, d->C, T)) < 0) return st;
    if ((st = frost_metric_compute(va, d->metric, d->task, s, d->labels, d->valid, d->n_valid, d->C, T)) < 0) return st;
    return frost_metric_compute(te, d->metric, d->task, s, d->labels, d->test, d->n_test, d->C, T);
}

frost_status frost_evaluate(frost_model *m, const frost_task_data *d, double *train, double *valid, double *test)
{
    float *buf = NULL;
    if (d->prior) {
        buf = malloc((size_t)(d->N * d->C) * sizeof *buf);
        if (!buf) return frost__error(FROST_ERR_NOMEM, "out of memory");
    }
    frost_status st = eval_metrics(m, d, buf, train, valid, test);
    free(buf);
    return st;
}

double frost__train_loss(float *dz, const float *scores, const float *out, const frost_task_data *d,
                         const int32_t *labels, const int64_t *idx, int64_t n_idx, double entropy_alpha)
{
    if (d->task == FROST_TASK_BINARY) return frost_bce_logits(dz, scores, labels, idx, n_idx, d->C);
    if (d->prior) return frost_prt_loss(dz, scores, out, labels, idx, n_idx, d->C, entropy_alpha);
    return frost_softmax_ce(dz, scores, labels, idx, n_idx, d->C);
}

/* One full-batch step: forward, loss on the training nodes, backward, update. */
static frost_status full_batch_epoch(frost_model *m, frost_optim *opt, const frost_task_data *d,
                                     const frost_train_opts *o, int64_t e, float *comb, double *loss_out)
{
    frost_model_forward(m, d->X, true, o->seed, e);
    frost_model_zero_grad(m);
    const float *z = combined(m, d, comb);
    float *dz = frost_model_dlogits(m);
    const double loss =
        frost__train_loss(dz, z, frost_model_logits(m), d, d->labels, d->train, d->n_train, o->entropy_alpha);
    *loss_out = loss;
    if (!isfinite(loss)) return FROST_OK;
    frost_model_backward(m, d->X, o->seed, e);
    frost_optim_step(opt, e);
    frost_model_after_step(m);
    return FROST_OK;
}

/* The first parameter (of np) holding NaN or Inf: its index, or -1; *at
 * the element. */
static int32_t nonfinite_param(const frost_param *params, int32_t np, int64_t *at)
{
    for (int32_t k = 0; k < np; k++) {
        const float *v = params[k].value;
        float acc = 0.0f;
        for (int64_t i = 0; i < params[k].n; i++) acc += v[i] * 0.0f; /* NaN iff some v[i] is NaN or Inf */
        if (acc == 0.0f) continue;
        for (int64_t i = 0; i < params[k].n; i++)
            if (!isfinite(v[i])) {
                *at = i;
                return k;
            }
    }
    return -1;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/* A checkpoint file: this head, the model state, the best state so far (both
 * frost_model_state_size bytes), the optimizer's floats, the history
 * records, and frost_hash64 of everything before it. Native byte order: a
 * checkpoint continues a run on the machine (or the kind of machine) that
 * wrote it. */
#define CKPT_MAGIC "FROSTCK1"
typedef struct {
    char magic[8];
    uint64_t key, model_bytes, optim_floats, record_bytes;
    int64_t epochs_done, optim_t, n_history, since_best, best_epoch;
    double best_valid, test_at_best, train_at_best, final_loss, train_seconds, eval_seconds;
} ckpt_head;

/* Write the training state after `done` epochs to path, atomically
 * (temporary name, fsync, rename). */
static frost_status ckpt_save(const char *path, uint64_t key, int64_t done, const frost_model *m,
                              const unsigned char *best, frost_optim *opt, const frost_run_result *res,
                              int64_t since_best)
{
    frost_status st = FROST_OK;
    int64_t *t;
    const float *os = frost__optim_state(opt, &t);
    ckpt_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CKPT_MAGIC, 8);
    h.key = key, h.model_bytes = frost_model_state_size(m), h.optim_floats = frost__optim_state_floats(opt);
    h.record_bytes = sizeof(frost_epoch_record);
    h.epochs_done = done, h.optim_t = *t, h.n_history = res->n_history, h.since_best = since_best;
    h.best_epoch = res->best_epoch, h.best_valid = res->best_valid, h.test_at_best = res->test_at_best;
    h.train_at_best = res->train_at_best, h.final_loss = res->final_loss, h.train_seconds = res->train_seconds;
    h.eval_seconds = res->eval_seconds;
    const size_t total = sizeof h + 2 * h.model_bytes + 4 * h.optim_floats + h.record_bytes * (size_t)h.n_history + 8;
    unsigned char *buf = NULL, *p;
    char *tmp = NULL;
    int fd = -1, err = 0;
    FROST_ALLOC(buf, total);
    p = buf;
    memcpy(p, &h, sizeof h), p += sizeof h;
    frost_model_state_save(m, p), p += h.model_bytes;
    memcpy(p, best, h.model_bytes), p += h.model_bytes;
    if (h.optim_floats) memcpy(p, os, 4 * h.optim_floats), p += 4 * h.optim_floats;
    if (h.n_history) memcpy(p, res->history, h.record_bytes * (size_t)h.n_history), p += h.record_bytes * (size_t)h.n_history;
    const uint64_t sum = frost_hash64(buf, total - 8);
    memcpy(p, &sum, 8);
    tmp = frost__tmp_name(path);
    if (!tmp) FROST_FAIL(FROST_ERR_NOMEM, "out of memory");
    err = frost__sys_create(&fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err == ENOENT) {
        /* the folder went (another process stored its last run and removed
         * it): make it again */
        char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash) *slash = 0, (void)frost__mkdirs(dir);
        free(dir);
        err = frost__sys_create(&fd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    if (err != 0 ||
        (err = frost__sys_write(fd, buf, total)) != 0 || (err = frost__sys_fsync(fd)) != 0) {
        st = frost__io_error(path, err, "cannot write the checkpoint");
        goto fail;
    }
    close(fd);
    fd = -1;
    if ((err = frost__sys_rename(tmp, path)) != 0) {
        st = frost__io_error(path, err, "cannot write the checkpoint");
        goto fail;
    }
    frost__fsync_dir_of(path);
fail:
    if (fd >= 0) close(fd);
    if (st < 0 && tmp) unlink(tmp);
    free(tmp);
    free(buf);
    return st;
}

/* The checkpoint at path, if it is whole and belongs to this run (key, the
 * model's and optimizer's sizes): its bytes (caller frees), else NULL with
 * *why saying why a file that is there was not used ("" when there is
 * none). Only a regular file is opened (a FIFO would block), and its size
 * is checked against what its head announces before it is read. */
static unsigned char *ckpt_read(const char *path, uint64_t key, const frost_model *m, frost_optim *opt, int64_t epochs,
                                const char **why)
{
    *why = "";
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    unsigned char *buf = NULL;
    ckpt_head h;
    size_t total = 0;
    *why = "damaged";
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
        goto bad;
    }
    if (sb.st_size < (off_t)(sizeof h + 8) || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h.magic, CKPT_MAGIC, 8) != 0)
        goto bad;
    if (h.key != key || h.model_bytes != frost_model_state_size(m) || h.optim_floats != frost__optim_state_floats(opt) ||
        h.record_bytes != sizeof(frost_epoch_record) || h.epochs_done < 1 || h.epochs_done > epochs ||
        h.n_history < 0 || h.n_history > h.epochs_done) {
        *why = "made by another run, configuration, dataset or kernel path";
        goto bad;
    }
    total = sizeof h + 2 * h.model_bytes + 4 * h.optim_floats + h.record_bytes * (size_t)h.n_history + 8;
    if ((off_t)total != sb.st_size) goto bad;
    buf = malloc(total);
    if (!buf) {
        *why = "out of memory";
        goto bad;
    }
    size_t got = 0;
    while (got < total) {
        const ssize_t r = pread(fd, buf + got, total - got, (off_t)got);
        if (r <= 0) goto bad;
        got += (size_t)r;
    }
    uint64_t sum;
    memcpy(&sum, buf + total - 8, 8);
    if (frost_hash64(buf, total - 8) != sum) goto bad;
    close(fd);
    *why = "";
    return buf;
bad:
    free(buf);
    close(fd);
    return NULL;
}

/* The size of a checkpoint that ckpt_read accepted. */
static size_t ckpt_bytes(const unsigned char *saved)
{
    ckpt_head h;
    memcpy(&h, saved, sizeof h);
    return sizeof h + 2 * h.model_bytes + 4 * h.optim_floats + h.record_bytes * (size_t)h.n_history + 8;
}

frost_status frost_train(frost_model *m, const frost_task_data *d, const frost_train_opts *o, frost_run_result *res)
{
    return frost__train(m, d, o, NULL, res);
}

/* The task as this run's passes see it, and whom to tell when the model has
 * done with its features (frost_train_opts.input_spent). */
typedef struct spent_ctx {
    frost_task_data d;
    const frost_train_opts *o;
} spent_ctx;

static void input_spent(void *u)
{
    spent_ctx *s = u;
    s->d.X = NULL; /* the held input from now on */
    s->o->input_spent(s->o->input_spent_ctx);
}

frost_status frost__train(frost_model *m, const frost_task_data *d_in, const frost_train_opts *o,
                          const frost__train_hooks *h, frost_run_result *res)
{
    frost_status st = FROST_OK;
    spent_ctx sc = {*d_in, o};
    const frost_task_data *d = &sc.d;
    frost_optim *opt = NULL;
    unsigned char *best_state = NULL;
    float *comb = NULL;
    frost_param *params;
    memset(res, 0, sizeof *res);
    res->best_valid = -INFINITY;
    res->test_at_best = res->train_at_best = (double)NAN;
    if (o->epochs < 0) return frost__error(FROST_ERR_CONFIG, "epochs is %lld, expected >= 0", (long long)o->epochs);
    const int64_t every = o->eval_every > 0 ? o->eval_every : 1;
    int32_t np = frost_model_params(m, &params);
    FROST_TRY(frost_optim_new(&opt, &o->optim, params, np));
    FROST_ALLOC(best_state, frost_model_state_size(m));
    FROST_CALLOC(res->history, o->epochs > 0 ? o->epochs : 1);
    if (d->prior) FROST_ALLOC(comb, d->N * d->C);
    frost_model_state_save(m, best_state);
    /* the features stay as they are for the whole run; in full batch, the
     * caller may free them once the model has made all it reads of them */
    if (!h && o->input_spent) frost_model_hold_input_ex(m, d->X, input_spent, &sc);
    else frost_model_hold_input(m, d->X);

    int64_t since_best = 0, e0 = 0;
    bool ckpt_off = false;
    const bool ckpt = o->checkpoint && o->checkpoint_every > 0 && (!h || h->resumable);
    const char *why = "";
    unsigned char *saved = ckpt ? ckpt_read(o->checkpoint, o->checkpoint_key, m, opt, o->epochs, &why) : NULL;
    if (*why) snprintf(res->checkpoint_note, sizeof res->checkpoint_note, "its checkpoint was not used (%s)", why);
    if (ckpt && h && h->same) {
        /* every process must continue from the same checkpoint (its checksum), or all start over together */
        uint64_t sum = 0;
        if (saved) memcpy(&sum, saved + ckpt_bytes(saved) - 8, 8);
        if (!h->same(h->ctx, sum)) {
            if (saved) snprintf(res->checkpoint_note, sizeof res->checkpoint_note, "its checkpoint was not used (the "
                                "processes did not all read the same one)");
            free(saved);
            saved = NULL;
        }
    }
    if (saved) {
        /* continue where the checkpoint left off */
        ckpt_head ch;
        memcpy(&ch, saved, sizeof ch);
        const unsigned char *q = saved + sizeof ch;
        int64_t *t;
        float *os = frost__optim_state(opt, &t);
        frost_model_state_load(m, q), q += ch.model_bytes;
        memcpy(best_state, q, ch.model_bytes), q += ch.model_bytes;
        if (ch.optim_floats) memcpy(os, q, 4 * ch.optim_floats), q += 4 * ch.optim_floats;
        *t = ch.optim_t;
        if (ch.n_history) memcpy(res->history, q, ch.record_bytes * (size_t)ch.n_history);
        res->n_history = ch.n_history, res->epochs_run = ch.epochs_done, res->best_epoch = ch.best_epoch;
        res->best_valid = ch.best_valid, res->test_at_best = ch.test_at_best, res->train_at_best = ch.train_at_best;
        res->final_loss = ch.final_loss, res->train_seconds = ch.train_seconds, res->eval_seconds = ch.eval_seconds;
        res->resumed_from = ch.epochs_done;
        since_best = ch.since_best, e0 = ch.epochs_done;
        free(saved);
    }
    for (int64_t e = e0; e < o->epochs; e++) {
        frost_epoch_record *rec = &res->history[res->n_history];
        memset(rec, 0, sizeof *rec);
        rec->epoch = e + 1;
        rec->lr = frost_optim_lr(&o->optim, e);
        rec->train_metric = rec->valid_metric = rec->test_metric = (double)NAN;

        double t0 = frost__now(), loss = 0;
        if (h && h->epoch)
            FROST_TRY(h->epoch(h->ctx, m, opt, d, o, e, &loss));
        else
            FROST_TRY(full_batch_epoch(m, opt, d, o, e, comb, &loss));
        rec->loss = loss;
        res->final_loss = loss;
        if (!isfinite(loss)) {
            res->diverged = true;
            snprintf(res->message, sizeof res->message, "epoch %lld: the training loss is %s; run stopped",
                     (long long)(e + 1), isnan(loss) ? "NaN" : "infinite");
            res->n_history++;
            res->epochs_run = e + 1;
            break;
        }
        /* a finite loss can still leave the update with NaN or Inf weights */
        int64_t at = 0;
        const int32_t bad = nonfinite_param(params, np, &at);
        if (bad >= 0) {
            res->diverged = true;
            snprintf(res->message, sizeof res->message,
                     "epoch %lld: parameter %s[%lld] is %s after the update; run stopped", (long long)(e + 1),
                     params[bad].name, (long long)at, isnan(params[bad].value[at]) ? "NaN" : "infinite");
            res->n_history++;
            res->epochs_run = e + 1;
            break;
        }
        double t1 = frost__now();
        rec->train_seconds = t1 - t0;
        res->train_seconds += rec->train_seconds;

        if ((e + 1) % every == 0 || e == o->epochs - 1) {
            if (h && h->evaluate)
                FROST_TRY(h->evaluate(h->ctx, m, d, &rec->train_metric, &rec->valid_metric, &rec->test_metric));
            else
                FROST_TRY(eval_metrics(m, d, comb, &rec->train_metric, &rec->valid_metric, &rec->test_metric));
            rec->eval_seconds = frost__now() - t1;
            res->eval_seconds += rec->eval_seconds;
            /* no validation nodes: the last evaluation is the one kept */
            double v = isnan(rec->valid_metric) ? (double)e : rec->valid_metric;
            if (!isfinite(rec->train_metric) && !isnan(rec->train_metric)) v = -INFINITY;
            if (v > res->best_valid) {
                res->best_valid = v;
                res->best_epoch = e + 1;
                res->test_at_best = rec->test_metric;
                res->train_at_best = rec->train_metric;
                frost_model_state_save(m, best_state);
                since_best = 0;
            } else if (++since_best >= o->patience && o->patience > 0) {
                res->n_history++;
                res->epochs_run = e + 1;
                snprintf(res->message, sizeof res->message, "early stop at epoch %lld (best %lld)", (long long)(e + 1),
                         (long long)res->best_epoch);
                if (o->on_epoch) o->on_epoch(rec, o->user);
                break;
            }
        }
        res->n_history++;
        res->epochs_run = e + 1;
        if (ckpt && !ckpt_off && !(h && h->ckpt_read_only) && (e + 1) % o->checkpoint_every == 0 && e + 1 < o->epochs) {
            /* a checkpoint that cannot be written (a full disk) is not worth
             * the run: say so once, and go on without */
            if (ckpt_save(o->checkpoint, o->checkpoint_key, e + 1, m, best_state, opt, res, since_best) < 0) {
                snprintf(res->checkpoint_note, sizeof res->checkpoint_note, "no more checkpoints after epoch %lld: %s",
                         (long long)(e + 1), frost_last_error());
                ckpt_off = true;
            } else {
                res->checkpoint_epoch = e + 1;
            }
        }
        if (o->on_epoch) o->on_epoch(rec, o->user);
        bool stop = o->stop && *o->stop;
        if (h && h->any) stop = h->any(h->ctx, stop);
        if (stop) {
            res->stopped = true;
            snprintf(res->message, sizeof res->message, "interrupted at epoch %lld", (long long)(e + 1));
            break;
        }
    }
    /* best_valid held a stand-in when there was no validation set: report the real value */
    if (res->best_epoch == 0) res->best_valid = (double)NAN;
    for (int64_t k = 0; k < res->n_history; k++)
        if (res->history[k].epoch == res->best_epoch) res->best_valid = res->history[k].valid_metric;
    /* leave the model in its best state, with its eval-mode output computed */
    frost_model_state_load(m, best_state);
    frost_model_forward(m, d->X, false, 0, 0);
fail:
    frost_model_hold_input(m, NULL);
    frost_optim_free(&opt);
    free(best_state);
    free(comb);
    if (st < 0) frost_run_result_release(res);
    return st;
}

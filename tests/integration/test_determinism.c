/*
 * test_determinism.c - the same configuration and seeds give the same results
 * file, timing fields aside, whether it runs on 1 or 2 threads: losses and
 * metrics of every epoch, logits fingerprints, trained floats and ticket
 * masks, bit for bit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "frost/frost.h"
#include "testutil.h"

TestSuite(determinism, .timeout = 600);

static void run(const char *dir, const char *out, int threads)
{
    char cfg[2048], name[64];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/d.h5\";\noutput = \"%s/%s\";\nmethod = [\"trained\", \"slt\"];\nepochs = 15;\nruns = 2;\n"
             "threads = %d;\nmodel = { name = \"gin\"; hidden = 96; norm = \"batch\"; dropout = 0.3; };\n"
             "slt = { sparsity = 0.5; freeze = 0.4; };\n",
             dir, dir, out, threads);
    snprintf(name, sizeof name, "%s.cfg", out);
    tu_writef(dir, name, cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(dir, name)), FROST_OK, "%s", frost_last_error());
    char o[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, o, sizeof o), FROST_OK, "%s", frost_last_error());
}

Test(determinism, same_seed_same_results_for_1_and_2_threads)
{
    char *d = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(4000, 30000, 48, 0);
    tu_synth(tu_path(d, "d.h5"), &o);
    run(d, "a.h5", 1);
    run(d, "b.h5", 2);
    frost_results a, b;
    cr_assert_eq(frost_results_load(&a, tu_path(d, "a.h5")), FROST_OK);
    cr_assert_eq(frost_results_load(&b, tu_path(d, "b.h5")), FROST_OK);
    cr_assert_eq(a.n, 4);
    cr_assert_eq(b.n, 4);
    for (int64_t k = 0; k < a.n; k++) {
        const frost_run_info *x = &a.runs[k], *y = frost_results_find(&b, x->id);
        cr_assert_not_null(y);
        cr_assert_eq(x->test_metric, y->test_metric, "%s", x->id);
        cr_assert_eq(x->val_metric, y->val_metric, "%s", x->id);
        cr_assert_eq(x->best_epoch, y->best_epoch, "%s", x->id);
        cr_assert_str_eq(x->logits_hash, y->logits_hash, "%s: logits differ between 1 and 2 threads", x->id);
        cr_assert_eq(x->model_bits, y->model_bits);
        frost_run_state sa, sb;
        cr_assert_eq(frost_results_read_state(tu_path(d, "a.h5"), x->id, &sa), FROST_OK);
        cr_assert_eq(frost_results_read_state(tu_path(d, "b.h5"), x->id, &sb), FROST_OK);
        cr_assert_eq(sa.n_params, sb.n_params);
        cr_assert(memcmp(sa.params, sb.params, (size_t)sa.n_params * 4) == 0, "%s: trained floats differ", x->id);
        cr_assert(memcmp(sa.bn, sb.bn, (size_t)sa.n_bn * 4) == 0, "%s: batch-norm statistics differ", x->id);
        cr_assert_eq(sa.mask_bits, sb.mask_bits);
        cr_assert(memcmp(sa.mask, sb.mask, (size_t)(sa.mask_bits + 7) / 8) == 0, "%s: the ticket differs", x->id);
        if (strncmp(x->id, "slt", 3) == 0) cr_assert_gt(sa.mask_bits, 0);
        frost_run_state_release(&sa);
        frost_run_state_release(&sb);
    }
    frost_results_release(&a);
    frost_results_release(&b);
    tu_rmtree(d);
    free(d);
}

/* A run frees the features once its model has made all it reads of them,
 * and the next run reads them again from the file (runner.c,
 * frost__prepared_features): the runs of one experiment are the same bits
 * as each seed run alone (where nothing is read again), for an
 * aggregate-first GCN and supermask GIN, row-normalised features too. */
static void run_seeds(const char *dir, const char *out, const char *seeds, const char *arch)
{
    char cfg[2048], name[64];
    snprintf(cfg, sizeof cfg,
             "dataset = \"%s/d.h5\";\noutput = \"%s/%s\";\nmethod = \"%s\";\nepochs = 6;\nseeds = [%s];\n"
             "threads = 2;\nfeatures = { normalize = \"row\"; };\n"
             "model = { name = \"%s\"; hidden = 64; norm = \"batch\"; dropout = 0.3; };\n"
             "slt = { sparsity = 0.5; };\n",
             dir, dir, out, strcmp(arch, "gin") == 0 ? "slt" : "trained", seeds, arch);
    snprintf(name, sizeof name, "%s.cfg", out);
    tu_writef(dir, name, cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(dir, name)), FROST_OK, "%s", frost_last_error());
    char o[1024];
    cr_assert_eq(frost_experiment_run(&c, NULL, o, sizeof o), FROST_OK, "%s", frost_last_error());
}

Test(determinism, features_read_again_for_each_run_give_the_same_runs)
{
    char *d = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(3000, 20000, 32, 0); /* 32 -> 64: aggregate first */
    tu_synth(tu_path(d, "d.h5"), &o);
    const char *arch[] = {"gcn", "gin"};
    for (int a = 0; a < 2; a++) {
        char all[32], one[32];
        snprintf(all, sizeof all, "all-%s.h5", arch[a]);
        run_seeds(d, all, "3, 4, 5", arch[a]);
        frost_results r;
        cr_assert_eq(frost_results_load(&r, tu_path(d, all)), FROST_OK);
        cr_assert_eq(r.n, 3);
        for (int s = 3; s <= 5; s++) {
            char seed[8];
            snprintf(one, sizeof one, "one-%s-%d.h5", arch[a], s);
            snprintf(seed, sizeof seed, "%d", s);
            run_seeds(d, one, seed, arch[a]);
            frost_results q;
            cr_assert_eq(frost_results_load(&q, tu_path(d, one)), FROST_OK);
            cr_assert_eq(q.n, 1);
            const frost_run_info *x = frost_results_find(&r, q.runs[0].id);
            cr_assert_not_null(x, "%s: %s not in the three-seed file", arch[a], q.runs[0].id);
            cr_assert_str_eq(x->logits_hash, q.runs[0].logits_hash, "%s seed %d: logits differ when run after others",
                             arch[a], s);
            cr_assert_eq(x->test_metric, q.runs[0].test_metric);
            frost_results_release(&q);
        }
        frost_results_release(&r);
    }
    tu_rmtree(d);
    free(d);
}

/* The dataset file touched between two runs. Renamed over or deleted: the
 * next run reads the features of the file the experiment opened (it holds
 * it open), so the same runs as on an untouched copy. Changed in place: the
 * next run refuses the features, naming the file and what to do; the run
 * before it stays stored. */
static const char *changed_path;
static int change_how, changes;
static void change_dataset(const frost_run_info *info, void *user)
{
    (void)info, (void)user;
    if (changes++) return; /* after the first run only */
    if (change_how == 2) {
        cr_assert_eq(unlink(changed_path), 0);
        return;
    }
    frost_dataset ds;
    cr_assert_eq(frost_dataset_load(&ds, changed_path), FROST_OK, "%s", frost_last_error());
    ds.feat[7] += 1.0f;
    if (change_how == 0) {
        cr_assert_eq(frost_dataset_save(&ds, changed_path, 0), FROST_OK, "%s", frost_last_error());
    } else {
        hid_t f = H5Fopen(changed_path, H5F_ACC_RDWR, H5P_DEFAULT);
        cr_assert_geq(f, 0);
        hid_t d = H5Dopen2(f, "node/feat", H5P_DEFAULT);
        cr_assert_geq(d, 0);
        cr_assert_geq(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds.feat), 0);
        H5Dclose(d);
        H5Fclose(f);
    }
    frost_dataset_release(&ds);
}

static frost_status run_changing(const char *d, const char *data, const char *out, int runs, bool change)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "dataset = \"%s/%s\";\noutput = \"%s/%s\";\nepochs = 3;\nruns = %d;\n"
             "model = { name = \"gcn\"; hidden = 32; };\n", d, data, d, out, runs);
    tu_writef(d, "c.cfg", cfg);
    frost_config c;
    frost_config_default(&c);
    cr_assert_eq(frost_config_load(&c, tu_path(d, "c.cfg")), FROST_OK, "%s", frost_last_error());
    frost_runner_events ev = {0};
    ev.run_end = change ? change_dataset : NULL;
    char o[1024];
    return frost_experiment_run_ex(&c, NULL, &ev, o, sizeof o);
}

Test(determinism, dataset_file_touched_between_runs)
{
    char *d = tu_tmpdir();
    const frost_synth_opts o = tu_synth_opts(500, 3000, 16, 0);
    tu_synth(tu_path(d, "orig.h5"), &o);
    cr_assert_eq(run_changing(d, "orig.h5", "ref.h5", 2, false), FROST_OK, "%s", frost_last_error());
    frost_results ref;
    cr_assert_eq(frost_results_load(&ref, tu_path(d, "ref.h5")), FROST_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s", tu_path(d, "d.h5"));
    changed_path = path;
    const char *outs[] = {"renamed.h5", "inplace.h5", "deleted.h5"};
    for (change_how = 0; change_how < 3; change_how++) {
        tu_synth(path, &o);
        changes = 0;
        const frost_status st = run_changing(d, "d.h5", outs[change_how], 2, true);
        frost_results r;
        cr_assert_eq(frost_results_load(&r, tu_path(d, outs[change_how])), FROST_OK);
        if (change_how == 1) {
            cr_assert_lt(st, 0);
            cr_assert(strstr(frost_last_error(), "d.h5: /node/feat was changed in place while the experiment ran"),
                      "%s", frost_last_error());
            cr_assert_eq(r.n, 1, "the first run is kept");
        } else {
            cr_assert_eq(st, FROST_OK, "case %d: %s", change_how, frost_last_error());
            cr_assert_eq(r.n, 2);
            for (int64_t k = 0; k < 2; k++) {
                const frost_run_info *x = frost_results_find(&ref, r.runs[k].id);
                cr_assert_not_null(x);
                cr_assert_str_eq(x->logits_hash, r.runs[k].logits_hash, "case %d, %s: not the untouched file's run",
                                 change_how, x->id);
            }
        }
        frost_results_release(&r);
    }
    frost_results_release(&ref);
    tu_rmtree(d);
    free(d);
}

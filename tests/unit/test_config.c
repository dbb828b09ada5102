/*
 * test_config.c - experiment files: every error names the file, the line and
 * the key; --set; sweeps and run ids; the effective text reads back the same;
 * experiments/README.md carries exactly the table the code generates.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost/config.h"
#include "testutil.h"

TestSuite(config, .timeout = 30);

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static frost_status load_text(frost_config *c, const char *text)
{
    tu_writef(dir, "x.cfg", text);
    frost_config_default(c);
    return frost_config_load(c, tu_path(dir, "x.cfg"));
}

#define EXPECT_ERR(text, frag)                                                                          \
    do {                                                                                                \
        frost_config c__;                                                                               \
        cr_assert_lt(load_text(&c__, text), 0, "accepted: %s", text);                                   \
        cr_assert(strstr(frost_last_error(), frag), "'%s' not in: %s", frag, frost_last_error());       \
        cr_assert(strstr(frost_last_error(), "x.cfg:"), "no file:line in: %s", frost_last_error());     \
    } while (0)

Test(config, values_of_every_type, .init = setup, .fini = teardown)
{
    frost_config c;
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nepochs = 123;\nmodel = { name = \"sage\"; hidden = 32;\n"
                               "  dropout = 0.25; residual = true; };\noptim = { lr = 1; };\n"
                               "slt = { sparsity = 0.7; };\nseeds = [3, 5];\n"),
                 FROST_OK, "%s", frost_last_error());
    cr_assert_str_eq(c.dataset, "cora");
    cr_assert_eq(c.epochs, 123);
    cr_assert_eq(c.model.arch, FROST_ARCH_SAGE);
    cr_assert_eq(c.model.hidden, 32);
    cr_assert_float_eq(c.model.dropout, 0.25f, 1e-7);
    cr_assert(c.model.residual);
    cr_assert_float_eq(c.optim.lr, 1.0, 1e-12); /* an integer where a float is expected */
    cr_assert_float_eq(c.model.mask.sparsity, 0.7, 1e-12);
    cr_assert_eq(c.n_seeds, 2);
    int64_t s[4];
    cr_assert_eq(frost_config_seeds(&c, s, 4), 2);
    cr_assert(s[0] == 3 && s[1] == 5);
}

Test(config, errors_name_file_line_and_key, .init = setup, .fini = teardown)
{
    EXPECT_ERR("dataset = \"cora\";\nmodel = { hiden = 3; };\n", "x.cfg:2: unknown key 'model.hiden' (did you mean 'model.hidden'?)");
    EXPECT_ERR("dataset = \"cora\";\n\nfoo = 1;\n", "x.cfg:3: unknown key 'foo'");
    EXPECT_ERR("model = { dropout = 1.5; };\n", "x.cfg:1: model.dropout = 1.5 is out of range, expected 0 .. 0.99");
    EXPECT_ERR("epochs = \"ten\";\n", "x.cfg:1: epochs: expected an integer, found a string");
    EXPECT_ERR("model = { name = \"gcm\"; };\n", "model.name = \"gcm\": expected one of mlp, gcn, sage, gin, gin_mlp");
    EXPECT_ERR("dataset = [\"a\", \"b\"];\n", "x.cfg:1: dataset: expected a single value, found a list");
    EXPECT_ERR("epochs = 10;\nruns = = 2;\n", "x.cfg:2: syntax error");
    EXPECT_ERR("nope = { x = 1; };\n", "unknown key 'nope'");
    EXPECT_ERR("model = { residual = 1; };\n", "model.residual: expected true or false, found an integer");
    EXPECT_ERR("slt = { sparsity = [\"a\", \"x\"]; };\n", "slt.sparsity: expected a number, found a string");
}

Test(config, set_overrides_and_sweeps, .init = setup, .fini = teardown)
{
    frost_config c;
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nmethod = \"slt\";\nslt = { sparsity = 0.5; };\n"), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "model.hidden=64"), FROST_OK);
    cr_assert_eq(c.model.hidden, 64);
    cr_assert_eq(frost_config_set_arg(&c, "model.name=gin"), FROST_OK, "%s", frost_last_error()); /* bare word */
    cr_assert_eq(c.model.arch, FROST_ARCH_GIN);
    cr_assert_eq(frost_config_set_arg(&c, "model.name=\"gcn\""), FROST_OK);
    cr_assert_eq(c.model.arch, FROST_ARCH_GCN);
    cr_assert_lt(frost_config_set_arg(&c, "model.hidden=abc"), 0);
    cr_assert(strstr(frost_last_error(), "--set model.hidden=abc: model.hidden: expected an integer"), "%s",
              frost_last_error());
    cr_assert_lt(frost_config_set_arg(&c, "hidden"), 0);
    cr_assert(strstr(frost_last_error(), "expected key=value"), "%s", frost_last_error());
    /* sweeps: 3 x 2 points; the last axis varies fastest */
    cr_assert_eq(frost_config_set_arg(&c, "slt.sparsity=[0.3, 0.5, 0.7]"), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_config_set_arg(&c, "slt.freeze=[0.0, 0.4]"), FROST_OK, "%s", frost_last_error());
    cr_assert_eq(frost_config_num_points(&c), 6);
    frost_config p;
    cr_assert_eq(frost_config_point(&c, 3, &p), FROST_OK);
    cr_assert_float_eq(p.model.mask.sparsity, 0.5, 1e-12);
    cr_assert_float_eq(p.model.mask.prune_ratio, 0.2, 1e-12); /* f = 0.4 split in half */
    cr_assert_float_eq(p.model.mask.lock_ratio, 0.2, 1e-12);
    char id[160];
    frost_config_run_id(&p, &c, 7, id, sizeof id);
    cr_assert_str_eq(id, "slt-gcn-s0.5-f0.4-seed7");
    cr_assert_eq(frost_config_check(&c), FROST_OK, "%s", frost_last_error());
    /* a scalar replaces the axis */
    cr_assert_eq(frost_config_set_arg(&c, "slt.sparsity=0.6"), FROST_OK);
    cr_assert_eq(frost_config_num_points(&c), 2);
}

Test(config, sparsity_must_lie_between_p_and_1_minus_r, .init = setup, .fini = teardown)
{
    frost_config c;
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nmethod = \"slt\";\n"
                               "slt = { sparsity = 0.3; prune_ratio = 0.4; };\n"),
                 FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "slt.sparsity 0.3 is below slt.prune_ratio 0.4"), "%s", frost_last_error());
    cr_assert_eq(frost_config_set_arg(&c, "slt.prune_ratio=0.1"), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "slt.lock_ratio=0.8"), FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "above 1 - slt.lock_ratio"), "%s", frost_last_error());
    /* a sweep is checked point by point, naming the point */
    cr_assert_eq(frost_config_set_arg(&c, "slt.lock_ratio=0.0"), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "slt.sparsity=[0.5, 0.05]"), FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_ERR_CONFIG);
    cr_assert(strstr(frost_last_error(), "sweep point slt-gcn-s0.05-seed0"), "%s", frost_last_error());
}

/* slt.freeze splits as the paper does, p = f s and r = f (1 - s), so the
 * searched part keeps sparsity s; slt.prune_share overrides the split. */
Test(config, freeze_splits_as_the_paper, .init = setup, .fini = teardown)
{
    frost_config c, pt;
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nmethod = \"slt\";\n"
                               "slt = { freeze = [0.2, 0.6]; sparsity = [0.3, 0.7]; };\n"),
                 FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_OK, "%s", frost_last_error());
    const int64_t np = frost_config_num_points(&c);
    cr_assert_eq(np, 4);
    for (int64_t k = 0; k < np; k++) {
        cr_assert_eq(frost_config_point(&c, k, &pt), FROST_OK);
        const double f = pt.slt_freeze, s = pt.model.mask.sparsity;
        const double p = pt.model.mask.prune_ratio, r = pt.model.mask.lock_ratio;
        cr_assert_float_eq(p, f * s, 1e-12, "point %lld: p %g, f %g, s %g", (long long)k, p, f, s);
        cr_assert_float_eq(r, f * (1 - s), 1e-12, "point %lld: r %g, f %g, s %g", (long long)k, r, f, s);
        /* the searched part, (1 - f) of the weights, holds (s - p) of them dropped: sparsity s inside it too */
        cr_assert_float_eq((s - p) / (1 - f), s, 1e-12);
        cr_assert(!frost_slt_degenerate(&pt.model.mask));
    }
    /* an explicit share: the old split p = f q */
    cr_assert_eq(frost_config_set_arg(&c, "slt.prune_share=0.25"), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "slt.freeze=0.4"), FROST_OK);
    cr_assert_eq(frost_config_set_arg(&c, "slt.sparsity=0.5"), FROST_OK);
    cr_assert_eq(frost_config_point(&c, 0, &pt), FROST_OK);
    cr_assert_float_eq(pt.model.mask.prune_ratio, 0.1, 1e-12);
    cr_assert_float_eq(pt.model.mask.lock_ratio, 0.3, 1e-12);
}

/* A point where nothing is searched (s <= p or s >= 1 - r, equality
 * included) is refused with one line naming it, unless allowed. */
Test(config, degenerate_points_are_refused_unless_allowed, .init = setup, .fini = teardown)
{
    frost_config c;
    const char *cases[][2] = {
        {"slt = { freeze = [0.2, 0.6]; prune_share = 0.5; sparsity = 0.3; };", "sweep point slt-gcn-f0.6-seed0"},
        {"slt = { freeze = [0.2, 0.6]; prune_share = 0.5; sparsity = 0.7; };", "sweep point slt-gcn-f0.6-seed0"},
        {"slt = { prune_ratio = 0.3; lock_ratio = 0.1; sparsity = 0.3; };", "s <= p"},
        {"slt = { prune_ratio = 0.1; lock_ratio = 0.3; sparsity = 0.7; };", "s >= 1 - r"},
        {"slt = { sparsity = 0.0; };", "s <= p"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char text[512];
        snprintf(text, sizeof text, "dataset = \"cora\";\nmethod = \"slt\";\n%s\n", cases[k][0]);
        cr_assert_eq(load_text(&c, text), FROST_OK, "%s", frost_last_error());
        cr_assert_eq(frost_config_check(&c), FROST_ERR_CONFIG, "case %zu: %s", k, cases[k][0]);
        const char *e = frost_last_error();
        cr_assert(strstr(e, "nothing is searched") && strstr(e, cases[k][1]), "case %zu: %s", k, e);
        cr_assert_null(strchr(e, '\n'), "one line: %s", e);
        cr_assert_eq(frost_config_set_arg(&c, "slt.allow_degenerate=true"), FROST_OK);
        cr_assert_eq(frost_config_check(&c), FROST_OK, "case %zu allowed: %s", k, frost_last_error());
    }
    /* just inside the bounds is a search */
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nmethod = \"slt\";\n"
                               "slt = { prune_ratio = 0.3; lock_ratio = 0.1; sparsity = 0.31; };\n"),
                 FROST_OK);
    cr_assert_eq(frost_config_check(&c), FROST_OK, "%s", frost_last_error());
}

Test(config, effective_text_reads_back_identically, .init = setup, .fini = teardown)
{
    frost_config c, d;
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nmethod = \"slt\";\nmodel = { name = \"gin\"; dropout = 0.1; };\n"
                               "optim = { lr = 0.003; schedule = \"cosine\"; };\nslt = { freeze = 0.3; };\n"),
                 FROST_OK);
    char *t1 = frost_config_to_text(&c);
    cr_assert_not_null(t1);
    cr_assert(strstr(t1, "sparsity = 0.5;"), "%s", t1);
    cr_assert(strstr(t1, "lr = 0.003;"), "%s", t1);
    cr_assert(strstr(t1, "prune_ratio = 0.15;"), "%s", t1);
    cr_assert_eq(load_text(&d, t1), FROST_OK, "%s\n%s", frost_last_error(), t1);
    char *t2 = frost_config_to_text(&d);
    cr_assert_str_eq(t1, t2);
    /* keys of other methods are left out */
    c.method = FROST_METHOD_TRAINED;
    char *t3 = frost_config_to_text(&c);
    cr_assert_null(strstr(t3, "slt"), "%s", t3);
    cr_assert_null(strstr(t3, "batch"), "full batch prints no batch keys: %s", t3);
    free(t1);
    free(t2);
    free(t3);
    /* a batch mode: the mode and its own keys, read back the same, and a run
     * id of its own (a sweep over the modes keeps every point) */
    const char *modes[] = {"batch = { mode = \"neighbor\"; size = 32; fanout = [15, 10]; };\n",
                           "batch = { mode = \"cluster\"; parts = 8; };\n"};
    for (int k = 0; k < 2; k++) {
        char text[512], id1[128], id2[128];
        snprintf(text, sizeof text, "dataset = \"cora\";\n%s", modes[k]);
        cr_assert_eq(load_text(&c, text), FROST_OK, "%s", frost_last_error());
        t1 = frost_config_to_text(&c);
        cr_assert(strstr(t1, k ? "mode = \"cluster\";" : "mode = \"neighbor\";"), "%s", t1);
        cr_assert(k || strstr(t1, "fanout = [15, 10];"), "%s", t1);
        cr_assert_null(strstr(t1, k ? "fanout" : "parts"), "the other mode's keys: %s", t1);
        cr_assert_eq(load_text(&d, t1), FROST_OK, "%s\n%s", frost_last_error(), t1);
        t2 = frost_config_to_text(&d);
        cr_assert_str_eq(t1, t2);
        frost_config_run_id(&c, &c, 0, id1, sizeof id1);
        frost_config_run_id(&d, &d, 0, id2, sizeof id2);
        cr_assert_str_eq(id1, id2);
        free(t1);
        free(t2);
    }
    cr_assert_eq(load_text(&c, "dataset = \"cora\";\nbatch = { mode = [\"full\", \"neighbor\", \"cluster\"]; };\n"),
                 FROST_OK);
    cr_assert_eq(frost_config_num_points(&c), 3);
    char ids[3][128];
    for (int k = 0; k < 3; k++) {
        frost_config pt;
        cr_assert_eq(frost_config_point(&c, k, &pt), FROST_OK);
        frost_config_run_id(&pt, &c, 0, ids[k], sizeof ids[k]);
        for (int j = 0; j < k; j++) cr_assert_str_neq(ids[j], ids[k], "two modes of a sweep share the run id %s", ids[k]);
    }
}

Test(config, readme_lists_exactly_the_keys_of_the_code)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/experiments/README.md", tu_source_root());
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "missing %s", path);
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    char *md = frost_config_keys_markdown();
    cr_assert(strstr(buf, md) != NULL,
              "experiments/README.md is out of date: regenerate its table with `frost run --list-keys`");
    free(md);
}

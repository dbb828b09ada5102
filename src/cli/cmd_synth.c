/*
 * cmd_synth.c - `frost synth OUT.h5`: a synthetic dataset file.
 */
#include "cli/cli.h"

#include <string.h>

static void help(void)
{
    printf("usage: frost synth OUT.h5 [options]\n\n"
           "Write a contextual stochastic block model with heavy-tailed degrees straight to a\n"
           "dataset file (split 'random').\n\n"
           "  --preset NAME           arxiv (169343 nodes, 1166243 edges, 128 features, 40 classes)\n"
           "                          products (2449029, 61859140, 100, 47) | small (10000, 50000, 64, 8)\n"
           "  --nodes N               nodes\n"
           "  --edges E               distinct undirected edges (stored twice unless --directed)\n"
           "  --features F            feature dimension\n"
           "  --classes C             classes\n"
           "  --homophily H           fraction of edges inside a class, 0..1 (default 0.7)\n"
           "  --communities K         plant K communities: every node in one of K random blocks\n"
           "                          (METIS can find them, so halos look like real graphs)\n"
           "  --mixing M              with --communities: fraction of edges between blocks, 0..1\n"
           "                          (default 0.1; independent of --homophily)\n"
           "  --signal S              class-mean norm in units of per-dimension noise (default 1)\n"
           "  --degree-exponent G     power-law exponent of expected degrees, > 2, or 0 = uniform (2.5)\n"
           "  --train F, --valid F    split fractions (default 0.6, 0.2; rest is test)\n"
           "  --directed              store each edge once (default: both directions)\n"
           "  --seed S                random seed (default 0)\n"
           "  --name NAME             dataset name (default: synth-PRESET or synth)\n"
           "  --compression L         deflate level 0..9 (default 1)\n"
           "  --force                 replace OUT.h5 even if it is a results or model file\n"
           "  --quiet                 no progress display\n");
}

int cli_synth(int argc, char **argv)
{
    frost_synth_opts o = frost_synth_opts_default();
    const char *out = NULL;
    bool quiet = false, force = false;
    char name[64] = "synth";
    /* presets first, so explicit sizes override them wherever they appear */
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_opt(argc, argv, &i, "--preset", &v)) {
            if (v && strcmp(v, "arxiv") == 0) {
                o.num_nodes = 169343, o.num_edges = 1166243, o.num_features = 128, o.num_classes = 40;
                o.train_fraction = 0.537, o.valid_fraction = 0.176; /* OGB's 90941/29799/48603 */
            } else if (v && strcmp(v, "products") == 0) {
                o.num_nodes = 2449029, o.num_edges = 61859140, o.num_features = 100, o.num_classes = 47;
                o.train_fraction = 0.08, o.valid_fraction = 0.016; /* OGB's 196615/39323/2213091 */
            } else if (v && strcmp(v, "small") == 0) {
                o.num_nodes = 10000, o.num_edges = 50000, o.num_features = 64, o.num_classes = 8;
            } else {
                return cli_usage_error("synth", "--preset expects arxiv, products or small");
            }
            snprintf(name, sizeof name, "synth-%s", v);
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        int64_t iv;
        if (cli_is_help(argv[i])) {
            help();
            return 0;
        } else if (cli_opt(argc, argv, &i, "--preset", &v)) {
            continue;
        } else if (cli_flag(argv, i, "--directed")) {
            o.symmetrize = false;
        } else if (cli_flag(argv, i, "--quiet")) {
            quiet = true;
        } else if (cli_flag(argv, i, "--force")) {
            force = true;
        } else if (cli_opt(argc, argv, &i, "--nodes", &v)) {
            if (!cli_i64("synth", "--nodes", v, &o.num_nodes)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--edges", &v)) {
            if (!cli_i64("synth", "--edges", v, &o.num_edges)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--features", &v)) {
            if (!cli_i64("synth", "--features", v, &o.num_features)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--classes", &v)) {
            if (!cli_i64("synth", "--classes", v, &iv)) return CLI_EXIT_USAGE;
            if (iv < 1 || iv > INT32_MAX) return cli_usage_error("synth", "--classes expects at least 1");
            o.num_classes = (int32_t)iv;
        } else if (cli_opt(argc, argv, &i, "--communities", &v)) {
            int64_t k;
            if (!cli_i64("synth", "--communities", v, &k)) return CLI_EXIT_USAGE;
            if (k < 0 || k > INT32_MAX) return cli_usage_error("synth", "--communities %s: expected 0 .. 2^31", v);
            o.communities = (int32_t)k;
        } else if (cli_opt(argc, argv, &i, "--mixing", &v)) {
            if (!cli_f64("synth", "--mixing", v, &o.mixing)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--homophily", &v)) {
            if (!cli_f64("synth", "--homophily", v, &o.homophily)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--signal", &v)) {
            if (!cli_f64("synth", "--signal", v, &o.feature_signal)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--degree-exponent", &v)) {
            if (!cli_f64("synth", "--degree-exponent", v, &o.degree_exponent)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--train", &v)) {
            if (!cli_f64("synth", "--train", v, &o.train_fraction)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--valid", &v)) {
            if (!cli_f64("synth", "--valid", v, &o.valid_fraction)) return CLI_EXIT_USAGE;
        } else if (cli_opt(argc, argv, &i, "--seed", &v)) {
            if (!cli_i64("synth", "--seed", v, &iv)) return CLI_EXIT_USAGE;
            if (iv < 0) return cli_usage_error("synth", "--seed expects a non-negative integer");
            o.seed = (uint64_t)iv;
        } else if (cli_opt(argc, argv, &i, "--name", &v)) {
            if (!v || !*v) return cli_usage_error("synth", "--name needs a value");
            snprintf(name, sizeof name, "%s", v);
        } else if (cli_opt(argc, argv, &i, "--compression", &v)) {
            if (!cli_i64("synth", "--compression", v, &iv)) return CLI_EXIT_USAGE;
            if (iv < 0 || iv > 9) return cli_usage_error("synth", "--compression expects 0 .. 9");
            o.compression = (int)iv;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("synth", "unknown option '%s'", argv[i]);
        } else {
            if (out) return cli_usage_error("synth", "expected one output file");
            out = argv[i];
        }
    }
    if (!out) return cli_usage_error("synth", "expected: frost synth OUT.h5 [options]");
    if (cli_check_output(out, NULL, 0, FROST_DATASET_FORMAT, force, false)) return CLI_EXIT_RUNTIME;
    o.name = name;
    cli_progress pr;
    cli_progress_init(&pr, quiet);
    o.progress = cli_progress_cb;
    o.progress_user = &pr;
    double t0 = frost__now();
    frost_status st = frost_synth(out, &o);
    cli_progress_done(&pr);
    if (st < 0) return cli_fail();
    if (!quiet) {
        char b[32];
        fprintf(stderr, "wrote %s: %lld nodes, %lld edges, %lld features, %d classes in %.2f s "
                        "(%d threads, peak memory %s)\n",
                out, (long long)o.num_nodes, (long long)o.num_edges, (long long)o.num_features,
                o.num_classes, frost__now() - t0, frost_get_threads(),
                cli_bytes((double)frost__peak_rss(), b, sizeof b));
    }
    return 0;
}

/*
 * config.c - the experiment configuration and its libconfig reader. This is
 * the only file that includes libconfig.h.
 *
 * Everything about a key lives in one row of `keys`: where its value goes,
 * its type and range, whether a list of values makes a sweep, for which
 * method it matters, and its meaning. Parsing, --set, checks, the effective
 * configuration text and the documentation all read that table.
 */
#include "frost/config.h"
#include "frost/slt.h"
#include "core/core_impl.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <sys/stat.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef enum ktype { KT_INT64, KT_INT32, KT_DOUBLE, KT_FLOAT, KT_BOOL, KT_STRING, KT_ENUM, KT_SEEDS, KT_FANOUT } ktype;

enum {
    K_SWEEP = 1,  /* a list of values makes a sweep axis */
    K_SLT = 2,    /* matters only for method slt */
    K_PRT = 4,    /* matters only for methods prt / eft */
    K_NOID = 8,   /* never part of a run id */
    K_BATCH = 16, /* matters only with batch.mode = "cluster" */
    K_EXEC = 32,  /* how to execute, not what: never in the effective configuration */
    K_SAME = 64,  /* in the effective configuration, but never changes a run's numbers */
    K_NEIGHBOR = 128 /* matters only with batch.mode = "neighbor" */
};

typedef struct key_def {
    const char *name;
    ktype type;
    size_t off;
    size_t cap;                 /* strings: buffer size */
    double lo, hi;              /* numbers: inclusive range */
    const char *const *names;   /* enums: names in value order */
    unsigned flags;
    const char *doc;
} key_def;

static const char *const method_names[] = {"trained", "slt", "prt", NULL};
static const char *const featnorm_names[] = {"none", "row", NULL};
static const char *const edgereduce_names[] = {"none", "mean", "sum", "max", NULL};
static const char *const loops_names[] = {"keep", "drop", NULL};
static const char *const arch_names[] = {"mlp", "gcn", "sage", "gin", "gin_mlp", "gat", NULL};
static const char *const norm_names[] = {"none", "batch", "batch_nonaffine", NULL};
static const char *const init_names[] = {"default", "glorot", "torch", "kaiming_uniform", "kaiming_normal",
                                         "signed_constant", NULL};
static const char *const optim_names[] = {"sgd", "adam", "adamw", NULL};
static const char *const sched_names[] = {"constant", "cosine", "step", NULL};
static const char *const dist_names[] = {"epl", "erk", "uniform", NULL};
static const char *const scope_names[] = {"global", "layer", NULL};
static const char *const scale_names[] = {"none", "static", "dynamic", NULL};
static const char *const gcnnorm_names[] = {"both", "right", "left", "none", NULL};
static const char *const prtinit_names[] = {"base", "zero", NULL};
static const char *const batch_names[] = {"full", "cluster", "neighbor", NULL};
static const char *const mpimode_names[] = {"graph", "runs", NULL};
static const char *const mpiload_names[] = {"auto", "local", "whole", NULL};

#define OFF(f) offsetof(frost_config, f)
#define BIG 9.0e15

static const key_def keys[] = {
    {"dataset", KT_STRING, OFF(dataset), FROST_PATH_CAP, 0, 0, NULL, K_NOID,
     "dataset file (.h5), or the name of a bundled dataset (datasets/NAME.h5)"},
    {"split", KT_STRING, OFF(split), 64, 0, 0, NULL, K_SWEEP,
     "split inside the dataset (empty: the dataset's only split)"},
    {"output", KT_STRING, OFF(output), FROST_PATH_CAP, 0, 0, NULL, K_NOID | K_SAME, "results file (empty: results/CONFIG-NAME.h5)"},
    {"method", KT_ENUM, OFF(method), 0, 0, 0, method_names, K_SWEEP,
     "trained (weights trained), slt (supermask search), prt (reward tuning), eft (baseline)"},
    {"epochs", KT_INT64, OFF(epochs), 0, 1, 1e7, NULL, K_SWEEP,
     "training epochs per run (full batch: one step each); at least 1 (frost predict evaluates without training)"},
    {"runs", KT_INT64, OFF(runs), 0, 1, FROST_MAX_SEEDS, NULL, K_NOID,
     "runs per configuration, seeds seed .. seed+runs-1"},
    {"seed", KT_INT64, OFF(seed), 0, 0, BIG, NULL, K_NOID, "first seed"},
    {"seeds", KT_SEEDS, OFF(seeds), 0, 0, BIG, NULL, K_NOID, "explicit list of seeds (replaces runs and seed)"},
    {"threads", KT_INT64, OFF(threads), 0, 0, 1024, NULL, K_NOID | K_SAME, "worker threads (0: all cores)"},
    {"eval_every", KT_INT64, OFF(eval_every), 0, 1, 1e7, NULL, 0, "evaluate every k epochs (and at the last)"},
    {"checkpoint_every", KT_INT64, OFF(checkpoint_every), 0, 0, 1e7, NULL, K_NOID | K_SAME,
     "save a run's training state every k epochs beside the results (0: never); a restarted frost run continues "
     "from it with the same numbers"},
    {"patience", KT_INT64, OFF(patience), 0, 0, 1e7, NULL, 0,
     "stop after this many evaluations without a better validation metric (0: never)"},
    {"features.normalize", KT_ENUM, OFF(feature_norm), 0, 0, 0, featnorm_names, 0,
     "none, or row (divide each feature row by its sum, as Kipf & Welling)"},
    {"features.from_edges", KT_ENUM, OFF(features_from_edges), 0, 0, 0, edgereduce_names, 0,
     "none, mean, sum or max: append to each node's features its stored edges' features reduced so (as OGB's "
     "ogbn-proteins example makes node features; needs /graph/edge_feat)"},
    {"graph.undirected", KT_BOOL, OFF(undirected), 0, 0, 0, NULL, 0,
     "add the reverse of every edge before building the aggregation"},
    {"graph.self_loops", KT_ENUM, OFF(self_loops), 0, 0, 0, loops_names, 0,
     "keep or drop stored self-loops (GCN adds exactly one per node in its normalisation)"},
    {"model.name", KT_ENUM, OFF(model.arch), 0, 0, 0, arch_names, K_SWEEP,
     "mlp, gcn, sage (mean + root weight), gin ((1+eps)x + mean, one linear), gin_mlp ((1+eps)x + sum, 2-layer MLP), "
     "gat (graph attention, ELU between layers)"},
    {"model.layers", KT_INT32, OFF(model.layers), 0, 1, 64, NULL, K_SWEEP, "graph layers"},
    {"model.hidden", KT_INT64, OFF(model.hidden), 0, 1, 1 << 20, NULL, K_SWEEP, "hidden width"},
    {"model.mlp_hidden", KT_INT64, OFF(model.mlp_hidden), 0, 0, 1 << 20, NULL, 0,
     "gin_mlp inner width (0: model.hidden)"},
    {"model.dropout", KT_FLOAT, OFF(model.dropout), 0, 0, 0.99, NULL, K_SWEEP, "dropout after each hidden layer"},
    {"model.input_dropout", KT_FLOAT, OFF(model.input_dropout), 0, 0, 0.99, NULL, 0, "dropout on the input features"},
    {"model.norm", KT_ENUM, OFF(model.norm), 0, 0, 0, norm_names, 0, "none, batch, batch_nonaffine"},
    {"model.norm_last", KT_BOOL, OFF(model.norm_last), 0, 0, 0, NULL, 0,
     "norm and ReLU after the last layer too (the SLT paper's GIN)"},
    {"model.skip_head", KT_BOOL, OFF(model.skip_head), 0, 0, 0, NULL, 0,
     "logits = (head(h_{L-1}) + h_L) / 2 (the SLT paper's GIN)"},
    {"model.residual", KT_BOOL, OFF(model.residual), 0, 0, 0, NULL, 0,
     "residual connections between hidden layers of equal width"},
    {"model.input_proj", KT_BOOL, OFF(model.input_proj), 0, 0, 0, NULL, 0,
     "a linear layer (features -> hidden, then the post block) before the graph layers"},
    {"model.root_weight", KT_BOOL, OFF(model.root_weight), 0, 0, 0, NULL, 0,
     "gcn and gin layers also add X W_root, a learned skip (SAGE's root weight; linear residual of tuned GNNs)"},
    {"model.keep_activations", KT_BOOL, OFF(model.keep_activations), 0, 0, 0, NULL, K_SAME,
     "keep hidden layers' outputs for backward instead of rebuilding them (faster, more memory)"},
    {"model.bias", KT_BOOL, OFF(model.bias), 0, 0, 0, NULL, 0, "biases in the layers"},
    {"model.gcn_norm", KT_ENUM, OFF(model.gcn_norm), 0, 0, 0, gcnnorm_names, 0,
     "GCN normalisation of A + I, as DGL's GraphConv: both (D^-1/2 (A+I) D^-1/2, Kipf & Welling), right (mean), "
     "left (by source degree), none"},
    {"model.heads", KT_INT32, OFF(model.heads), 0, 0, 64, NULL, K_SWEEP,
     "gat: attention heads of each hidden layer, concatenated (model.hidden = heads x per-head width; 0: 1)"},
    {"model.out_heads", KT_INT32, OFF(model.out_heads), 0, 0, 64, NULL, 0,
     "gat: heads of the output layer, averaged (0: 1)"},
    {"model.attn_dropout", KT_FLOAT, OFF(model.attn_dropout), 0, 0, 0.99, NULL, K_SWEEP,
     "gat: dropout on the attention coefficients in training"},
    {"model.gin_eps", KT_FLOAT, OFF(model.gin_eps), 0, -1, 100, NULL, 0, "GIN's eps (fixed)"},
    {"model.init", KT_ENUM, OFF(model.weight_init), 0, 0, 0, init_names, 0,
     "weight init of trained weights: default (glorot for gcn, torch's Linear otherwise), glorot, torch, "
     "kaiming_uniform, kaiming_normal, signed_constant"},
    {"model.bn_momentum", KT_FLOAT, OFF(model.bn_momentum), 0, 0, 1, NULL, 0, "batch-norm running-statistics momentum"},
    {"optim.name", KT_ENUM, OFF(optim.kind), 0, 0, 0, optim_names, K_SWEEP, "sgd, adam, adamw (PyTorch semantics)"},
    {"optim.lr", KT_DOUBLE, OFF(optim.lr), 0, 0, 10, NULL, K_SWEEP, "learning rate"},
    {"optim.weight_decay", KT_DOUBLE, OFF(optim.weight_decay), 0, 0, 1, NULL, K_SWEEP,
     "weight decay (coupled for sgd/adam, decoupled for adamw)"},
    {"optim.momentum", KT_DOUBLE, OFF(optim.momentum), 0, 0, 0.999, NULL, 0, "sgd momentum"},
    {"optim.nesterov", KT_BOOL, OFF(optim.nesterov), 0, 0, 0, NULL, 0, "sgd Nesterov momentum"},
    {"optim.schedule", KT_ENUM, OFF(optim.schedule), 0, 0, 0, sched_names, 0,
     "constant, cosine (period = epochs, floor optim.lr_min), step (optim.step_size, optim.gamma)"},
    {"optim.lr_min", KT_DOUBLE, OFF(optim.lr_min), 0, 0, 10, NULL, 0, "cosine schedule floor"},
    {"optim.step_size", KT_INT64, OFF(optim.step_size), 0, 1, 1e7, NULL, 0, "step schedule period (epochs)"},
    {"optim.gamma", KT_DOUBLE, OFF(optim.gamma), 0, 0, 1, NULL, 0, "step schedule factor"},
    {"slt.sparsity", KT_DOUBLE, OFF(model.mask.sparsity), 0, 0, 1, NULL, K_SWEEP | K_SLT,
     "s: fraction of all masked weights that are zero, frozen ones included"},
    {"slt.prune_ratio", KT_DOUBLE, OFF(model.mask.prune_ratio), 0, 0, 1, NULL, K_SWEEP | K_SLT,
     "p: fraction of weights frozen as pruned (p < s)"},
    {"slt.lock_ratio", KT_DOUBLE, OFF(model.mask.lock_ratio), 0, 0, 1, NULL, K_SWEEP | K_SLT,
     "r: fraction of weights frozen as kept (s < 1 - r)"},
    {"slt.freeze", KT_DOUBLE, OFF(slt_freeze), 0, -1, 1, NULL, K_SWEEP | K_SLT,
     "f = p + r; when >= 0 it replaces the two ratios: p = f * s and r = f * (1 - s), the paper's split, which "
     "keeps the searched part at sparsity s (or p = f * slt.prune_share when that is set; -1: unset)"},
    {"slt.prune_share", KT_DOUBLE, OFF(slt_prune_share), 0, -1, 1, NULL, K_SWEEP | K_SLT,
     "explicit share of f that is pruned (p = f * share, r = f - p); -1: the paper's split p = f * s"},
    {"slt.allow_degenerate", KT_BOOL, OFF(slt_allow_degenerate), 0, 0, 0, NULL, K_SLT,
     "run points where nothing is searched (s <= p or s >= 1 - r) instead of refusing them; the runs are "
     "flagged in the results and by frost report"},
    {"slt.distribution", KT_ENUM, OFF(model.mask.distribution), 0, 0, 0, dist_names, K_SLT,
     "layer-wise split of p and r: epl (equal survivors per layer), erk, uniform"},
    {"slt.threshold", KT_ENUM, OFF(model.mask.scope), 0, 0, 0, scope_names, K_SLT,
     "global (one threshold over all layers) or layer"},
    {"slt.weight_init", KT_ENUM, OFF(model.mask.weight_init), 0, 0, 0, init_names, K_SLT,
     "random weights: kaiming_uniform, kaiming_normal or signed_constant"},
    {"slt.score_init", KT_ENUM, OFF(model.mask.score_init), 0, 0, 0, init_names, K_SLT, "initial scores"},
    {"slt.scale", KT_ENUM, OFF(model.mask.scale), 0, 0, 0, scale_names, K_SLT,
     "kept weights times none, static (1/sqrt(1-s)) or dynamic (1/sqrt(layer density))"},
    {"batch.mode", KT_ENUM, OFF(batch.mode), 0, 0, 0, batch_names, K_SWEEP | K_BATCH,
     "full (one full-batch step per epoch), cluster (Cluster-GCN: METIS parts grouped into mini-batches) or "
     "neighbor (GraphSAGE neighbour sampling: mini-batches of training nodes with sampled in-neighbours per hop); "
     "evaluation on the full graph"},
    {"batch.parts", KT_INT32, OFF(batch.parts), 0, 1, 1e7, NULL, K_SWEEP | K_BATCH,
     "Cluster-GCN: METIS parts of the graph"},
    {"batch.parts_per_batch", KT_INT32, OFF(batch.parts_per_batch), 0, 1, 1e7, NULL, K_SWEEP | K_BATCH,
     "Cluster-GCN: parts per mini-batch (shuffled every epoch)"},
    {"batch.partition", KT_STRING, OFF(batch.partition), 64, 0, 0, NULL, K_BATCH,
     "Cluster-GCN: a partition stored in the dataset (frost partition) with batch.parts parts; empty: METIS "
     "on the aggregation graph at the start"},
    {"batch.imbalance", KT_DOUBLE, OFF(batch.imbalance), 0, 0, 10, NULL, K_BATCH,
     "Cluster-GCN: METIS balance constraint (allowed part size above the mean) when computing the partition"},
    {"batch.size", KT_INT32, OFF(batch.size), 0, 1, 1e9, NULL, K_SWEEP | K_NEIGHBOR,
     "neighbour sampling: training (seed) nodes per mini-batch, shuffled every epoch"},
    {"batch.fanout", KT_FANOUT, OFF(batch.fanout), 0, -1, 1e6, NULL, K_NEIGHBOR,
     "neighbour sampling: in-neighbours sampled per node at each hop, the seeds' hop first (PyG's num_neighbors); "
     "one value for every hop or one per layer; -1 takes all; not a sweep axis"},
    {"mpi.mode", KT_ENUM, OFF(mpi.mode), 0, 0, 0, mpimode_names, K_NOID | K_EXEC,
     "under mpirun: graph (every run trained by all processes, one METIS part each) or runs (runs dealt out, one "
     "process each)"},
    {"mpi.partition", KT_STRING, OFF(mpi.partition), 64, 0, 0, NULL, K_NOID | K_EXEC,
     "mpi.mode graph: a partition stored in the dataset with one part per process; empty: metis-kP if stored, "
     "else METIS at the start"},
    {"mpi.load", KT_ENUM, OFF(mpi.load), 0, 0, 0, mpiload_names, K_NOID | K_EXEC,
     "mpi.mode graph: local (each process reads only its part of the dataset file: needs the partition stored and a "
     "symmetric graph), whole (every process reads all of it), auto (local when it can)"},
    {"mpi.imbalance", KT_DOUBLE, OFF(mpi.imbalance), 0, 0, 10, NULL, K_NOID | K_EXEC,
     "mpi.mode graph: METIS balance constraint when computing the partition"},
    {"mpi.stats", KT_STRING, OFF(mpi.stats), FROST_PATH_CAP, 0, 0, NULL, K_NOID | K_EXEC,
     "mpi.mode graph: file that process 0 appends a line of communication and memory statistics to per run (a "
     "one-process full-batch run writes its line too; empty: none)"},
    {"prt.parts", KT_INT32, OFF(prt.parts), 0, 2, 4096, NULL, K_PRT,
     "METIS communities of the scenario (nodes of the highest prt.task_parts ids form the task's domain)"},
    {"prt.task_parts", KT_INT32, OFF(prt.task_parts), 0, 1, 4095, NULL, K_PRT, "communities of the task's domain"},
    {"prt.task_train_per_class", KT_INT64, OFF(prt.task_train_per_class), 0, 1, 1e6, NULL, K_PRT,
     "task training nodes per class (the reward and the fine-tunings learn from these)"},
    {"prt.task_valid_per_class", KT_INT64, OFF(prt.task_valid_per_class), 0, 0, 1e6, NULL, K_PRT,
     "task validation nodes per class; the rest of the task's domain is its test set"},
    {"prt.old_pool_fraction", KT_DOUBLE, OFF(prt.old_pool_fraction), 0, 0.01, 1, NULL, K_PRT,
     "share of the upstream training nodes the old base is trained on (knowledge update: < 1)"},
    {"prt.scenario_seed", KT_INT64, OFF(prt.scenario_seed), 0, 0, BIG, NULL, K_PRT,
     "seed of the communities and of the task sample (the same for every run)"},
    {"prt.old_model", KT_ENUM, OFF(prt.old_arch), 0, 0, 0, arch_names, K_PRT, "old base architecture"},
    {"prt.old_layers", KT_INT32, OFF(prt.old_layers), 0, 1, 64, NULL, K_PRT, "old base layers"},
    {"prt.old_hidden", KT_INT64, OFF(prt.old_hidden), 0, 1, 1 << 20, NULL, K_PRT, "old base width"},
    {"prt.new_model", KT_ENUM, OFF(prt.new_arch), 0, 0, 0, arch_names, K_PRT, "new base architecture"},
    {"prt.new_layers", KT_INT32, OFF(prt.new_layers), 0, 1, 64, NULL, K_PRT, "new base layers"},
    {"prt.new_hidden", KT_INT64, OFF(prt.new_hidden), 0, 1, 1 << 20, NULL, K_PRT, "new base width"},
    {"prt.base_epochs", KT_INT64, OFF(prt.base_epochs), 0, 1, 1e7, NULL, K_PRT, "epochs of the base models upstream"},
    {"prt.init", KT_ENUM, OFF(prt.init), 0, 0, 0, prtinit_names, K_PRT,
     "reward initialisation: base (the old base's weights, as the paper; needs its architecture) or zero "
     "(fresh, last layer zeroed: starts at the base's distribution)"},
    {"prt.reward_slt", KT_BOOL, OFF(prt.reward_slt), 0, 0, 0, NULL, K_PRT,
     "the reward network is a strong lottery ticket (slt.sparsity, slt.prune_ratio, slt.lock_ratio apply)"},
    {"prt.entropy_alpha", KT_DOUBLE, OFF(prt.entropy_alpha), 0, 0, 100, NULL, K_PRT | K_SWEEP,
     "entropy regulariser: loss - alpha * mean H(softmax(r))"},
    {"prt.eft_alpha", KT_DOUBLE, OFF(prt.eft_alpha), 0, 0, 100, NULL, K_PRT, "EFT strength alpha"},
    {"prt.infer_repeats", KT_INT64, OFF(prt.infer_repeats), 0, 1, 1000, NULL, K_PRT,
     "full-graph inference passes timed per method (median reported)"},
};
#define NKEYS ((int32_t)(sizeof keys / sizeof keys[0]))

const char *frost_method_name(frost_method m) { return (unsigned)m < 3 ? method_names[m] : "?"; }

void frost_config_default(frost_config *c)
{
    memset(c, 0, sizeof *c);
    c->method = FROST_METHOD_TRAINED;
    c->epochs = 200;
    c->runs = 1;
    c->eval_every = 1;
    c->feature_norm = FROST_FEAT_NONE;
    c->undirected = true;
    c->self_loops = FROST_SELF_LOOPS_DROP;
    c->model = frost_model_spec_default();
    c->optim = frost_optim_spec_default();
    c->prt.init = 0;
    c->prt.eft_alpha = 1.0;
    c->prt.parts = 8;
    c->prt.task_parts = 4;
    c->prt.task_train_per_class = 10;
    c->prt.task_valid_per_class = 10;
    c->prt.old_pool_fraction = 1.0;
    c->prt.old_arch = FROST_ARCH_MLP;
    c->prt.old_layers = 2;
    c->prt.old_hidden = 64;
    c->prt.new_arch = FROST_ARCH_GCN;
    c->prt.new_layers = 2;
    c->prt.new_hidden = 64;
    c->prt.base_epochs = 200;
    c->prt.infer_repeats = 5;
    c->slt_freeze = -1.0;
    c->slt_prune_share = -1.0;
    c->batch.mode = FROST_BATCH_FULL;
    c->batch.parts = 32;
    c->batch.parts_per_batch = 4;
    c->batch.imbalance = 0.03;
    c->batch.size = 1024;
    c->batch.n_fanout = 1;
    c->batch.fanout[0] = 10;
    c->mpi.mode = FROST_MPI_GRAPH;
    c->mpi.imbalance = 0.03;
}

static const key_def *find_key(const char *name, int32_t *idx)
{
    for (int32_t k = 0; k < NKEYS; k++)
        if (strcmp(keys[k].name, name) == 0) {
            if (idx) *idx = k;
            return &keys[k];
        }
    return NULL;
}

/* Edit distance for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

static frost_status unknown_key(const char *where, const char *name)
{
    int best = 99;
    const char *sug = NULL;
    for (int32_t k = 0; k < NKEYS; k++) {
        int d = edit_distance(name, keys[k].name);
        if (d < best) best = d, sug = keys[k].name;
    }
    if (sug && best <= 3)
        return frost__error(FROST_ERR_CONFIG, "%s: unknown key '%s' (did you mean '%s'?)", where, name, sug);
    return frost__error(FROST_ERR_CONFIG, "%s: unknown key '%s' (frost run --list-keys lists them)", where, name);
}

/* ---- values ------------------------------------------------------------------- */

static const char *type_word(int t)
{
    switch (t) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "true or false";
    case CONFIG_TYPE_GROUP: return "a group";
    default: return "a list";
    }
}

static const char *expect_word(const key_def *k)
{
    switch (k->type) {
    case KT_INT64:
    case KT_INT32: return "an integer";
    case KT_DOUBLE:
    case KT_FLOAT: return "a number";
    case KT_BOOL: return "true or false";
    case KT_STRING: return "a string in double quotes";
    case KT_ENUM: return "a string in double quotes";
    case KT_SEEDS: return "a list of integers";
    case KT_FANOUT: return "an integer or a list of integers";
    }
    return "?";
}

static frost_status apply_scalar(frost_config *c, const key_def *k, const config_setting_t *s, const char *where)
{
    int t = config_setting_type(s);
    char *base = (char *)c;
    if (k->type == KT_SEEDS) {
        if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            return frost__error(FROST_ERR_CONFIG, "%s: seeds: expected a list of integers, found %s", where,
                                type_word(t));
        int n = (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) ? 1 : config_setting_length(s);
        if (n < 1 || n > FROST_MAX_SEEDS)
            return frost__error(FROST_ERR_CONFIG, "%s: seeds: expected 1 .. %d seeds, found %d", where,
                                FROST_MAX_SEEDS, n);
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) ? s : config_setting_get_elem(s, (unsigned)i);
            int et = config_setting_type(e);
            if (et != CONFIG_TYPE_INT && et != CONFIG_TYPE_INT64)
                return frost__error(FROST_ERR_CONFIG, "%s: seeds: expected integers, found %s", where, type_word(et));
            long long v = config_setting_get_int64(e);
            if (v < 0) return frost__error(FROST_ERR_CONFIG, "%s: seeds: %lld is negative", where, v);
            c->seeds[i] = v;
        }
        c->n_seeds = n;
        return FROST_OK;
    }
    if (k->type == KT_FANOUT) {
        const bool one = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
        if (!one && t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected %s, found %s", where, k->name, expect_word(k),
                                type_word(t));
        int n = one ? 1 : config_setting_length(s);
        if (n < 1 || n > FROST_MAX_FANOUT)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected 1 .. %d values (one per hop), found %d", where,
                                k->name, FROST_MAX_FANOUT, n);
        int32_t v[FROST_MAX_FANOUT];
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = one ? s : config_setting_get_elem(s, (unsigned)i);
            int et = config_setting_type(e);
            if (et != CONFIG_TYPE_INT && et != CONFIG_TYPE_INT64)
                return frost__error(FROST_ERR_CONFIG, "%s: %s: expected integers, found %s (a fanout cannot be swept)",
                                    where, k->name, type_word(et));
            long long x = config_setting_get_int64(e);
            if (x != -1 && (x < 1 || x > (long long)k->hi))
                return frost__error(FROST_ERR_CONFIG, "%s: %s: %lld is out of range; expected -1 (all) or 1 .. %.0f",
                                    where, k->name, x, k->hi);
            v[i] = (int32_t)x;
        }
        memcpy(base + k->off, v, (size_t)n * sizeof *v);
        c->batch.n_fanout = n;
        return FROST_OK;
    }
    switch (k->type) {
    case KT_INT64:
    case KT_INT32: {
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected %s, found %s", where, k->name, expect_word(k),
                                type_word(t));
        long long v = config_setting_get_int64(s);
        if ((double)v < k->lo || (double)v > k->hi)
            return frost__error(FROST_ERR_CONFIG, "%s: %s = %lld is out of range, expected %.15g .. %.15g", where,
                                k->name, v, k->lo, k->hi);
        if (k->type == KT_INT64) *(int64_t *)(base + k->off) = v;
        else *(int32_t *)(base + k->off) = (int32_t)v;
        return FROST_OK;
    }
    case KT_DOUBLE:
    case KT_FLOAT: {
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected %s, found %s", where, k->name, expect_word(k),
                                type_word(t));
        double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
        if (!(v >= k->lo && v <= k->hi))
            return frost__error(FROST_ERR_CONFIG, "%s: %s = %g is out of range, expected %g .. %g", where, k->name, v,
                                k->lo, k->hi);
        if (k->type == KT_DOUBLE) {
            *(double *)(base + k->off) = v;
        } else {
            *(float *)(base + k->off) = (float)v;
        }
        return FROST_OK;
    }
    case KT_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected true or false, found %s", where, k->name,
                                type_word(t));
        *(bool *)(base + k->off) = config_setting_get_bool(s) != 0;
        return FROST_OK;
    case KT_STRING: {
        if (t != CONFIG_TYPE_STRING)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected %s, found %s", where, k->name, expect_word(k),
                                type_word(t));
        const char *v = config_setting_get_string(s);
        if (strlen(v) >= k->cap)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: longer than %zu characters", where, k->name, k->cap - 1);
        frost__strlcpy(base + k->off, v, k->cap);
        return FROST_OK;
    }
    case KT_ENUM: {
        if (t != CONFIG_TYPE_STRING)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected %s, found %s", where, k->name, expect_word(k),
                                type_word(t));
        const char *v = config_setting_get_string(s);
        for (int i = 0; k->names[i]; i++)
            if (strcmp(k->names[i], v) == 0) {
                *(int *)(base + k->off) = i;
                return FROST_OK;
            }
        char list[256] = "";
        for (int i = 0; k->names[i]; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, k->names[i], sizeof list - strlen(list) - 1);
        }
        return frost__error(FROST_ERR_CONFIG, "%s: %s = \"%s\": expected one of %s", where, k->name, v, list);
    }
    default: break;
    }
    return frost__error(FROST_ERR_CONFIG, "%s: %s: unsupported", where, k->name);
}

/* ---- text forms of values ---------------------------------------------------------- */

/* Shortest decimal that reads back as the same double, always with a '.' or
 * an exponent so libconfig reads it as a float. */
static void format_double(char *buf, size_t cap, double v)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".eEn")) strncat(buf, ".0", cap - strlen(buf) - 1);
}

/* A string as libconfig text: in double quotes, with '"' and '\\' escaped
 * and control characters (a newline in a file name) as \xNN, so any value
 * reads back as itself. Needs cap >= 4 * strlen(v) + 3 to hold it whole. */
static void quote_string(char *buf, size_t cap, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap < 3) {
        if (cap) buf[0] = 0;
        return;
    }
    buf[o++] = '"';
    for (; *v; v++) {
        const unsigned char u = (unsigned char)*v;
        const size_t need = u < 0x20 || u == 0x7f ? 4 : (u == '"' || u == '\\') ? 2 : 1;
        if (o + need + 2 > cap) break;
        if (need == 4) {
            buf[o++] = '\\', buf[o++] = 'x', buf[o++] = hex[u >> 4], buf[o++] = hex[u & 15];
        } else {
            if (need == 2) buf[o++] = '\\';
            buf[o++] = (char)u;
        }
    }
    buf[o++] = '"';
    buf[o] = 0;
}

static void format_setting(const config_setting_t *s, char *buf, size_t cap)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: snprintf(buf, cap, "%lld", config_setting_get_int64(s)); break;
    case CONFIG_TYPE_FLOAT: format_double(buf, cap, config_setting_get_float(s)); break;
    case CONFIG_TYPE_BOOL: snprintf(buf, cap, "%s", config_setting_get_bool(s) ? "true" : "false"); break;
    case CONFIG_TYPE_STRING: quote_string(buf, cap, config_setting_get_string(s)); break;
    default: snprintf(buf, cap, "?"); break;
    }
}

/* The current value of a key as config text. */
static void format_value(const frost_config *c, const key_def *k, char *buf, size_t cap)
{
    const char *base = (const char *)c;
    switch (k->type) {
    case KT_INT64: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)(base + k->off)); break;
    case KT_INT32: snprintf(buf, cap, "%d", *(const int32_t *)(base + k->off)); break;
    case KT_DOUBLE: format_double(buf, cap, *(const double *)(base + k->off)); break;
    case KT_FLOAT: format_double(buf, cap, (double)*(const float *)(base + k->off)); break;
    case KT_BOOL: snprintf(buf, cap, "%s", *(const bool *)(base + k->off) ? "true" : "false"); break;
    case KT_STRING: quote_string(buf, cap, base + k->off); break;
    case KT_ENUM: {
        int v = *(const int *)(base + k->off);
        snprintf(buf, cap, "\"%s\"", v >= 0 && k->names[v] ? k->names[v] : "?");
        for (int i = 0; i <= v; i++)
            if (!k->names[i]) snprintf(buf, cap, "\"?\"");
        break;
    }
    case KT_SEEDS: {
        size_t o = (size_t)snprintf(buf, cap, "[");
        for (int32_t i = 0; i < c->n_seeds && o + 24 < cap; i++)
            o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)c->seeds[i]);
        snprintf(buf + o, cap - o, "]");
        break;
    }
    case KT_FANOUT: {
        const int32_t *v = (const int32_t *)(base + k->off);
        size_t o = (size_t)snprintf(buf, cap, "[");
        for (int32_t i = 0; i < c->batch.n_fanout && o + 16 < cap; i++)
            o += (size_t)snprintf(buf + o, cap - o, "%s%d", i ? ", " : "", v[i]);
        snprintf(buf + o, cap - o, "]");
        break;
    }
    }
}

/* ---- reading ---------------------------------------------------------------------- */

static frost_status add_axis(frost_config *c, int32_t key, const config_setting_t *list, const char *where)
{
    const key_def *k = &keys[key];
    int n = config_setting_length(list);
    if (n < 1) return frost__error(FROST_ERR_CONFIG, "%s: %s: empty list", where, k->name);
    if (n > FROST_MAX_AXIS_VALUES)
        return frost__error(FROST_ERR_CONFIG, "%s: %s: %d values, at most %d", where, k->name, n, FROST_MAX_AXIS_VALUES);
    int32_t a;
    for (a = 0; a < c->n_axes; a++)
        if (c->axes[a].key == key) break;
    if (a == c->n_axes) {
        if (c->n_axes == FROST_MAX_AXES)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: at most %d swept keys", where, k->name, FROST_MAX_AXES);
        c->n_axes++;
    }
    frost_sweep_axis *ax = &c->axes[a];
    ax->key = key;
    ax->n = n;
    frost_config scratch = *c;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        int t = config_setting_type(e);
        if (t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY)
            return frost__error(FROST_ERR_CONFIG, "%s: %s: list element %d: expected %s", where, k->name, i + 1,
                                expect_word(k));
        frost_status st = apply_scalar(&scratch, k, e, where); /* type and range of every value */
        if (st < 0) return st;
        format_setting(e, ax->values[i], sizeof ax->values[i]);
    }
    /* the base value is the first one, so the struct is always valid */
    return apply_scalar(c, k, config_setting_get_elem(list, 0), where);
}

static void remove_axis(frost_config *c, int32_t key)
{
    for (int32_t a = 0; a < c->n_axes; a++)
        if (c->axes[a].key == key) {
            memmove(&c->axes[a], &c->axes[a + 1], (size_t)(c->n_axes - a - 1) * sizeof c->axes[0]);
            c->n_axes--;
            return;
        }
}

static bool is_group_prefix(const char *prefix)
{
    size_t n = strlen(prefix);
    for (int32_t k = 0; k < NKEYS; k++)
        if (strncmp(keys[k].name, prefix, n) == 0 && keys[k].name[n] == '.') return true;
    return false;
}

static frost_status apply_setting(frost_config *c, const char *name, const config_setting_t *s, const char *where)
{
    int32_t idx;
    const key_def *k = find_key(name, &idx);
    if (!k && is_group_prefix(name)) {
        const char *example = "";
        for (int32_t q = 0; q < NKEYS && !example[0]; q++)
            if (strncmp(keys[q].name, name, strlen(name)) == 0 && keys[q].name[strlen(name)] == '.')
                example = keys[q].name;
        return frost__error(FROST_ERR_CONFIG,
                            "%s: %s is a group of settings, not a value: write %s = { ... }; with its keys (%s, ...)",
                            where, name, name, example);
    }
    if (!k) return unknown_key(where, name);
    int t = config_setting_type(s);
    if ((t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY) && k->type != KT_SEEDS && k->type != KT_FANOUT) {
        if (!(k->flags & K_SWEEP))
            return frost__error(FROST_ERR_CONFIG, "%s: %s: expected a single value, found a list (this key cannot be swept)",
                                where, name);
        return add_axis(c, idx, s, where);
    }
    remove_axis(c, idx);
    return apply_scalar(c, k, s, where);
}


static frost_status walk(frost_config *c, const config_setting_t *g, const char *prefix, const char *file)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *nm = config_setting_name(s);
        char full[256];
        snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", nm ? nm : "?");
        char *where = frost__asprintf("%s:%u", file, config_setting_source_line(s));
        if (!where) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", file);
        frost_status st;
        if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
            st = is_group_prefix(full) ? walk(c, s, full, file) : unknown_key(where, full);
        } else {
            st = apply_setting(c, full, s, where);
        }
        free(where);
        if (st < 0) return st;
    }
    return FROST_OK;
}

/* libconfig 1.5 reads an integer without an L suffix as 32 bits, silently
 * wrapped (4294967296 -> 0, 99999999999999999999 -> -1). Before parsing,
 * integers beyond 32 bits get their L, and integers beyond 64 bits are an
 * error naming the line and key. Strings and comments are left alone; the
 * result has the same lines. *out is malloc'd. */
static frost_status widen_integers(const char *text, char **out, const char *name)
{
    const size_t n = strlen(text);
    size_t o = 0;
    char *r = malloc(2 * n + 1); /* at most one L per digit */
    if (!r) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", name);
    int line = 1;
    char key[64] = "";
    const char *p = text;
    while (*p) {
        const char c = *p;
        if (c == '\n') line++;
        if (c == '#' || (c == '/' && p[1] == '/')) { /* comment to the end of the line */
            while (*p && *p != '\n') r[o++] = *p++;
            continue;
        }
        if (c == '/' && p[1] == '*') {
            r[o++] = *p++;
            r[o++] = *p++;
            while (*p && !(p[0] == '*' && p[1] == '/')) {
                line += *p == '\n';
                r[o++] = *p++;
            }
            continue;
        }
        if (c == '"') {
            r[o++] = *p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) r[o++] = *p++;
                line += *p == '\n';
                r[o++] = *p++;
            }
            if (*p) r[o++] = *p++;
            continue;
        }
        if (isalpha((unsigned char)c) || c == '_' || c == '*') { /* a name, or true/false */
            size_t k = 0;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '*') {
                if (k + 1 < sizeof key) key[k++] = *p;
                r[o++] = *p++;
            }
            key[k] = 0;
            continue;
        }
        if (c == '.' && isdigit((unsigned char)p[1])) { /* .5 */
            while (isdigit((unsigned char)*p) || *p == '.' || ((*p == 'e' || *p == 'E') && p[1]) ||
                   ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
                r[o++] = *p++;
            continue;
        }
        if (!isdigit((unsigned char)c)) {
            r[o++] = *p++;
            continue;
        }
        const char *t = p;
        bool hex = c == '0' && (p[1] == 'x' || p[1] == 'X');
        if (hex) {
            p += 2;
            while (isxdigit((unsigned char)*p)) p++;
        } else {
            while (isdigit((unsigned char)*p)) p++;
            if (*p == '.' || *p == 'e' || *p == 'E') { /* a float */
                while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' ||
                       ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
                    p++;
                memcpy(r + o, t, (size_t)(p - t));
                o += (size_t)(p - t);
                continue;
            }
        }
        const bool suffixed = *p == 'L';
        /* the magnitude: skip leading zeros, then compare digit counts */
        const char *d = hex ? t + 2 : t;
        while (*d == '0' && d + 1 < p) d++;
        const size_t nd = (size_t)(p - d);
        bool wide, huge;
        if (hex) {
            wide = nd > 8;
            huge = nd > 16;
        } else {
            static const char i64max[] = "9223372036854775807", i32max[] = "2147483647";
            huge = nd > 19 || (nd == 19 && memcmp(d, i64max, 19) > 0);
            wide = nd > 10 || (nd == 10 && memcmp(d, i32max, 10) > 0);
        }
        if (huge) {
            free(r);
            return frost__error(FROST_ERR_CONFIG, "%s:%d: %s%s%.*s is out of range: integers are 64-bit (at most %s)",
                                name, line, key[0] ? key : "", key[0] ? " = " : "", (int)(p - t), t,
                                hex ? "0x7fffffffffffffff" : "9223372036854775807");
        }
        memcpy(r + o, t, (size_t)(p - t));
        o += (size_t)(p - t);
        if (wide && !suffixed) r[o++] = 'L';
    }
    r[o] = 0;
    *out = r;
    return FROST_OK;
}

/* Parse libconfig text (after widen_integers); on a syntax error, one line
 * "NAME:LINE: syntax error: ...". */
static frost_status parse_text(config_t *cfg, const char *text, const char *name)
{
    char *wide = NULL;
    frost_status st = widen_integers(text, &wide, name);
    if (st < 0) return st;
    if (!config_read_string(cfg, wide))
        st = frost__error(FROST_ERR_CONFIG, "%s:%d: syntax error: %s", name, config_error_line(cfg),
                          config_error_text(cfg));
    free(wide);
    return st;
}

/* An experiment file is small text: more than this is not one. */
#define CONFIG_MAX_BYTES (16u << 20)

frost_status frost_config_load(frost_config *c, const char *path)
{
    frost_status st = FROST_OK;
    config_t cfg;
    char *text = NULL;
    FILE *f = NULL;
    config_init(&cfg);
    if (strlen(path) >= sizeof c->path)
        FROST_FAIL(FROST_ERR_RANGE, "%.200s...: the experiment file's path is %zu bytes long, at most %zu", path,
                   strlen(path), sizeof c->path - 1);
    struct stat sb;
    if (stat(path, &sb) != 0)
        FROST_FAIL(FROST_ERR_IO, "%s: cannot open the experiment file: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        FROST_FAIL(FROST_ERR_IO, "%s: is a folder, expected an experiment file (libconfig text)", path);
    if (!S_ISREG(sb.st_mode) || sb.st_size > (off_t)CONFIG_MAX_BYTES)
        FROST_FAIL(FROST_ERR_IO, "%s: expected an experiment file (libconfig text of at most %u MiB)", path,
                   CONFIG_MAX_BYTES >> 20);
    if (!(f = fopen(path, "r"))) FROST_FAIL(FROST_ERR_IO, "%s: cannot open the experiment file: %s", path, strerror(errno));
    FROST_ALLOC(text, (size_t)sb.st_size + 1);
    const size_t got = fread(text, 1, (size_t)sb.st_size, f);
    if (ferror(f)) FROST_FAIL(FROST_ERR_IO, "%s: cannot read the experiment file: %s", path, strerror(errno));
    text[got] = 0;
    if (strlen(text) != got) FROST_FAIL(FROST_ERR_CONFIG, "%s: holds a NUL byte, expected libconfig text", path);
    FROST_TRY(parse_text(&cfg, text, path));
    frost__strlcpy(c->path, path, sizeof c->path);
    st = walk(c, config_root_setting(&cfg), "", path);
fail:
    if (f) fclose(f);
    free(text);
    config_destroy(&cfg);
    return st;
}

frost_status frost_config_load_text(frost_config *c, const char *text, const char *name)
{
    config_t cfg;
    config_init(&cfg);
    frost_status st = parse_text(&cfg, text, name);
    if (st == FROST_OK) st = walk(c, config_root_setting(&cfg), "", name);
    config_destroy(&cfg);
    return st;
}

frost_status frost_config_set(frost_config *c, const char *key, const char *value, const char *ctx)
{
    config_t cfg;
    config_init(&cfg);
    size_t n = strlen(value) + 18;
    char *text = malloc(n);
    if (!text) return frost__error(FROST_ERR_NOMEM, "out of memory");
    snprintf(text, n, "v = %s;", value);
    frost_status st;
    char *wide = NULL;
    if ((st = widen_integers(text, &wide, ctx)) < 0) {
        free(text);
        config_destroy(&cfg);
        return frost__error(st, "%s: %s = %s is out of range: integers are 64-bit (at most 9223372036854775807)", ctx,
                            key, value);
    }
    int ok = config_read_string(&cfg, wide);
    free(wide);
    if (!ok) {
        /* convenience: a bare word (gcn, row) is read as a string */
        bool word = value[0] && (isalpha((unsigned char)value[0]) || value[0] == '_' || value[0] == '/' || value[0] == '.');
        for (const char *q = value; *q && word; q++)
            word = isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.' || *q == '/';
        if (word) {
            config_destroy(&cfg);
            config_init(&cfg);
            snprintf(text, n, "v = \"%s\";", value);
            ok = config_read_string(&cfg, text);
        }
    }
    if (!ok) {
        st = frost__error(FROST_ERR_CONFIG, "%s: cannot read the value '%s' (strings need double quotes, lists [ ]): %s",
                          ctx, value, config_error_text(&cfg));
    } else {
        const config_setting_t *s = config_lookup(&cfg, "v");
        if (!s) st = frost__error(FROST_ERR_CONFIG, "%s: no value", ctx);
        else if (config_setting_length(config_root_setting(&cfg)) != 1)
            st = frost__error(FROST_ERR_CONFIG,
                              "%s: one key=value per --set; the value has more after a ';' (write --set a=1 --set b=2)",
                              ctx);
        else if (config_setting_type(s) == CONFIG_TYPE_GROUP)
            st = frost__error(FROST_ERR_CONFIG, "%s: a group is not a value; address its keys with dots", ctx);
        else st = apply_setting(c, key, s, ctx);
    }
    free(text);
    config_destroy(&cfg);
    return st;
}

frost_status frost_config_set_arg(frost_config *c, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return frost__error(FROST_ERR_CONFIG, "--set %s: expected key=value", arg);
    char key[256];
    size_t n = (size_t)(eq - arg);
    if (n >= sizeof key) return frost__error(FROST_ERR_CONFIG, "--set %.60s...: key too long", arg);
    memcpy(key, arg, n);
    key[n] = 0;
    while (n > 0 && isspace((unsigned char)key[n - 1])) key[--n] = 0;
    char *ctx = frost__asprintf("--set %s", arg);
    if (!ctx) return frost__error(FROST_ERR_NOMEM, "--set: out of memory");
    frost_status st = frost_config_set(c, key, eq + 1, ctx);
    free(ctx);
    return st;
}

/* ---- derived values and checks ----------------------------------------------------- */

void frost_config_finalize(frost_config *c)
{
    if (c->slt_freeze >= 0) {
        const double share = c->slt_prune_share >= 0 ? c->slt_prune_share : c->model.mask.sparsity;
        c->model.mask.prune_ratio = c->slt_freeze * share;
        c->model.mask.lock_ratio = c->slt_freeze - c->model.mask.prune_ratio;
    }
}

static frost_status check_point(const frost_config *pc, const char *where)
{
    frost_config c = *pc;
    frost_config_finalize(&c);
    if (c.method == FROST_METHOD_SLT) {
        frost_status st = frost_slt_check_ratios(&c.model.mask, c.slt_allow_degenerate);
        if (st < 0) {
            frost__error_prefix("%s", where);
            return st;
        }
    }
    if (c.method == FROST_METHOD_PRT) {
        if (c.prt.task_parts >= c.prt.parts)
            return frost__error(FROST_ERR_CONFIG, "%s: prt.task_parts %d must be below prt.parts %d", where,
                                c.prt.task_parts, c.prt.parts);
        frost_status st = c.prt.reward_slt ? frost_slt_check_ratios(&c.model.mask, c.slt_allow_degenerate) : FROST_OK;
        if (st < 0) {
            frost__error_prefix("%s: the reward ticket", where);
            return st;
        }
        if (c.prt.init == 0 && ((int32_t)c.model.arch != c.prt.old_arch || c.model.layers != c.prt.old_layers ||
                                c.model.hidden != c.prt.old_hidden))
            return frost__error(FROST_ERR_CONFIG,
                                "%s: prt.init = \"base\" copies the old base into the reward, so model.name, "
                                "model.layers and model.hidden must equal prt.old_model, prt.old_layers and "
                                "prt.old_hidden (or use prt.init = \"zero\")",
                                where);
    }
    if (c.batch.mode == FROST_BATCH_CLUSTER) {
        if (c.batch.parts_per_batch > c.batch.parts)
            return frost__error(FROST_ERR_CONFIG, "%s: batch.parts_per_batch %d is above batch.parts %d", where,
                                c.batch.parts_per_batch, c.batch.parts);
    }
    if (c.batch.mode != FROST_BATCH_FULL && c.method == FROST_METHOD_PRT)
        return frost__error(FROST_ERR_CONFIG, "%s: method prt trains full-batch; batch.mode must be \"full\"", where);
    if (c.batch.mode == FROST_BATCH_NEIGHBOR && c.batch.n_fanout != 1 && c.batch.n_fanout != c.model.layers)
        return frost__error(FROST_ERR_CONFIG,
                            "%s: batch.fanout has %d values for a model of %d layers; expected one value (every hop) "
                            "or %d (one per layer, the seeds' hop first)",
                            where, c.batch.n_fanout, c.model.layers, c.model.layers);
    if (c.model.skip_head && c.model.layers < 2)
        return frost__error(FROST_ERR_CONFIG, "%s: model.skip_head needs model.layers >= 2", where);
    if (!c.dataset[0]) return frost__error(FROST_ERR_CONFIG, "%s: dataset is not set", where);
    return FROST_OK;
}

frost_status frost_config_check(const frost_config *c)
{
    const char *where = c->path[0] ? c->path : "configuration";
    int64_t np = frost_config_num_points(c);
    for (int64_t k = 0; k < np; k++) {
        frost_config pt;
        frost_status st = frost_config_point(c, k, &pt);
        if (st < 0) return st;
        char id[256] = "";
        if (np > 1) frost_config_run_id(&pt, c, pt.n_seeds ? pt.seeds[0] : pt.seed, id, sizeof id);
        char *ctx = frost__asprintf("%s%s%s%s", where, np > 1 ? " (sweep point " : "", id, np > 1 ? ")" : "");
        if (!ctx) return frost__error(FROST_ERR_NOMEM, "%s: out of memory", where);
        st = check_point(&pt, ctx);
        free(ctx);
        if (st < 0) return st;
    }
    return FROST_OK;
}

/* ---- sweeps and run ids ----------------------------------------------------------- */

int64_t frost_config_num_points(const frost_config *c)
{
    int64_t n = 1;
    for (int32_t a = 0; a < c->n_axes; a++) n *= c->axes[a].n;
    return n;
}

frost_status frost_config_point(const frost_config *c, int64_t k, frost_config *out)
{
    *out = *c;
    out->n_axes = 0;
    /* mixed radix, the last axis fastest */
    for (int32_t a = c->n_axes - 1; a >= 0; a--) {
        const frost_sweep_axis *ax = &c->axes[a];
        int64_t i = k % ax->n;
        k /= ax->n;
        frost_status st = frost_config_set(out, keys[ax->key].name, ax->values[i], "sweep");
        if (st < 0) return st;
    }
    frost_config_finalize(out);
    return FROST_OK;
}

int32_t frost_config_seeds(const frost_config *c, int64_t *seeds, int32_t cap)
{
    int32_t n = 0;
    if (c->n_seeds > 0)
        for (int32_t i = 0; i < c->n_seeds && n < cap; i++) seeds[n++] = c->seeds[i];
    else
        for (int64_t i = 0; i < c->runs && n < cap; i++) seeds[n++] = c->seed + i;
    return n;
}

static bool relevant(const frost_config *c, const key_def *k)
{
    if (k->flags & K_EXEC) return false;
    /* the mode itself whenever it is not full batch (full-batch ids stay as they were) */
    if (k->type == KT_ENUM && k->off == offsetof(frost_config, batch.mode)) return c->batch.mode != FROST_BATCH_FULL;
    if ((k->flags & K_BATCH) && c->batch.mode != FROST_BATCH_CLUSTER) return false;
    if ((k->flags & K_NEIGHBOR) && c->batch.mode != FROST_BATCH_NEIGHBOR) return false;
    if ((k->flags & K_SLT) && c->method == FROST_METHOD_PRT && c->prt.reward_slt) return true;
    if ((k->flags & K_SLT) && c->method != FROST_METHOD_SLT) return false;
    if ((k->flags & K_PRT) && c->method != FROST_METHOD_PRT) return false;
    return true;
}

static const char *short_name(const char *name)
{
    if (strcmp(name, "slt.sparsity") == 0) return "s";
    if (strcmp(name, "slt.prune_ratio") == 0) return "p";
    if (strcmp(name, "slt.lock_ratio") == 0) return "r";
    if (strcmp(name, "slt.freeze") == 0) return "f";
    const char *d = strrchr(name, '.');
    return d ? d + 1 : name;
}

void frost_config_run_id(const frost_config *point, const frost_config *sweep, int64_t seed, char *buf, size_t cap)
{
    size_t o = (size_t)snprintf(buf, cap, "%s-%s", frost_method_name(point->method),
                                frost_arch_name(point->model.arch));
    for (int32_t a = 0; a < sweep->n_axes && o < cap; a++) {
        const key_def *k = &keys[sweep->axes[a].key];
        if (!relevant(point, k) || (k->flags & K_NOID)) continue;
        if (strcmp(k->name, "method") == 0 || strcmp(k->name, "model.name") == 0) continue;
        char v[64];
        format_value(point, k, v, sizeof v);
        /* strip quotes and a trailing ".0" for readability */
        char *p = v, *q = v;
        for (; *p; p++)
            if (*p != '"') *q++ = *p;
        *q = 0;
        size_t L = strlen(v);
        if (L > 2 && strcmp(v + L - 2, ".0") == 0) v[L - 2] = 0;
        o += (size_t)snprintf(buf + o, cap - o, "-%s%s", short_name(k->name), v);
    }
    if (o < cap) snprintf(buf + o, cap - o, "-seed%lld", (long long)seed);
}

/* ---- writing -------------------------------------------------------------------------- */

/* Room for any value as text: a path of FROST_PATH_CAP bytes with every
 * byte escaped (\xNN), or a list of FROST_MAX_SEEDS seeds. */
#define VALUE_CAP (4 * FROST_PATH_CAP + 64 > 24 * FROST_MAX_SEEDS + 64 ? 4 * FROST_PATH_CAP + 64 : 24 * FROST_MAX_SEEDS + 64)

char *frost_config_to_text(const frost_config *pc)
{
    frost_config c = *pc;
    frost_config_finalize(&c);
    size_t cap = 4 * VALUE_CAP, o = 0;
    char *out = malloc(cap), *v = malloc(VALUE_CAP);
    if (!out || !v) {
        free(out);
        free(v);
        return NULL;
    }
    char group[64] = "";
    for (int32_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        if (!relevant(&c, k)) continue;
        if (k->type == KT_SEEDS && c.n_seeds == 0) continue;
        if (strcmp(k->name, "slt.freeze") == 0 || strcmp(k->name, "slt.prune_share") == 0) continue;
        const char *dot = strchr(k->name, '.');
        char g[64] = "";
        if (dot) snprintf(g, sizeof g, "%.*s", (int)(dot - k->name), k->name);
        if (strcmp(g, group) != 0) {
            if (group[0]) o += (size_t)snprintf(out + o, cap - o, "};\n");
            if (g[0]) o += (size_t)snprintf(out + o, cap - o, "%s = {\n", g);
            snprintf(group, sizeof group, "%s", g);
        }
        format_value(&c, k, v, VALUE_CAP);
        o += (size_t)snprintf(out + o, cap - o, "%s%s = %s;\n", g[0] ? "  " : "", dot ? dot + 1 : k->name, v);
        if (o + VALUE_CAP + 256 > cap) {
            cap *= 2;
            char *n = realloc(out, cap);
            if (!n) {
                free(out);
                free(v);
                return NULL;
            }
            out = n;
        }
    }
    if (group[0]) snprintf(out + o, cap - o, "};\n");
    free(v);
    return out;
}

/* Is `name` (a full key, "model.hidden") dropped from the canonical text? */
static bool canon_drops(const char *name, unsigned drop)
{
    if ((drop & FROST_CANON_SEED) && strcmp(name, "seed") == 0) return true;
    if ((drop & FROST_CANON_DATASET) && strcmp(name, "dataset") == 0) return true;
    for (int32_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0) return (keys[i].flags & K_SAME) != 0;
    return false;
}

char *frost_config_canonical(const char *text, unsigned drop)
{
    /* the text is frost_config_to_text's: "key = value;" lines, groups as
     * "g = {" ... "};" with indented "key = value;" lines */
    size_t n = strlen(text);
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t w = 0;
    char group[64] = "";
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t L = e ? (size_t)(e - p + 1) : strlen(p);
        const char *q = p;
        while (q < p + L && (*q == ' ' || *q == '\t')) q++;
        size_t klen = 0;
        while (q + klen < p + L && (isalnum((unsigned char)q[klen]) || q[klen] == '_')) klen++;
        bool keep = true;
        if (klen > 0 && klen < 64) {
            const char *r = q + klen;
            while (*r == ' ') r++;
            if (*r == '=') {
                r++;
                while (*r == ' ') r++;
                if (*r == '{') {
                    snprintf(group, sizeof group, "%.*s", (int)klen, q);
                } else {
                    char full[160];
                    if (group[0] && q != p) snprintf(full, sizeof full, "%s.%.*s", group, (int)klen, q);
                    else snprintf(full, sizeof full, "%.*s", (int)klen, q);
                    keep = !canon_drops(full, drop);
                }
            }
        } else if (q[0] == '}') {
            group[0] = 0;
        }
        if (keep) {
            memcpy(o + w, p, L);
            w += L;
        }
        p += L;
    }
    o[w] = 0;
    return o;
}

char *frost_config_keys_markdown(void)
{
    frost_config d;
    frost_config_default(&d);
    size_t cap = 65536, o = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    o += (size_t)snprintf(out + o, cap - o,
                          "| key | type | default | range or values | sweep | meaning |\n"
                          "|---|---|---|---|---|---|\n");
    for (int32_t i = 0; i < NKEYS; i++) {
        const key_def *k = &keys[i];
        const char *tn = "";
        char range[512] = "";
        switch (k->type) {
        case KT_INT64:
        case KT_INT32:
            tn = "int";
            snprintf(range, sizeof range, "%.15g .. %.15g", k->lo, k->hi);
            break;
        case KT_DOUBLE:
        case KT_FLOAT:
            tn = "float";
            snprintf(range, sizeof range, "%g .. %g", k->lo, k->hi);
            break;
        case KT_BOOL: tn = "bool"; snprintf(range, sizeof range, "true, false"); break;
        case KT_STRING: tn = "string"; break;
        case KT_SEEDS: tn = "list of int"; snprintf(range, sizeof range, ">= 0"); break;
        case KT_FANOUT: tn = "int or list of int"; snprintf(range, sizeof range, "-1 or 1 .. %.0f", k->hi); break;
        case KT_ENUM:
            tn = "string";
            for (int j = 0; k->names[j]; j++) {
                strncat(range, j ? ", " : "", sizeof range - strlen(range) - 1);
                strncat(range, k->names[j], sizeof range - strlen(range) - 1);
            }
            break;
        }
        char def[1100];
        if (k->type == KT_SEEDS) snprintf(def, sizeof def, "(runs, seed)");
        else format_value(&d, k, def, sizeof def);
        o += (size_t)snprintf(out + o, cap - o, "| `%s` | %s | `%s` | %s | %s | %s |\n", k->name, tn, def, range,
                              (k->flags & K_SWEEP) ? "yes" : "", k->doc);
    }
    return out;
}

#!/usr/bin/python3
"""PyTorch CPU reference for frost: training benchmarks, and a training
reference to check frost's results against.

Two modes.

Timing (`--model`): trains one of two models full-batch on a frost dataset
file (HDF5) and times it, so that benchmark scripts (train_vs_torch.py) can
run it side by side with frost:

  gcn      the OGB ogbn-arxiv GCN recipe: 3 GCNConv layers F->256->256->C,
           BatchNorm1d + ReLU + dropout 0.5 after the hidden layers,
           D^-1/2 (A+I) D^-1/2 of the symmetrised graph precomputed once,
           X W then propagate, Adam lr 0.01.
  slt-gin  the supermask GIN of the strong-lottery-ticket paper: 4 layers of
           a_v = x_v + mean_{u in N(v)} x_u -> bias-free linear with weight
           W * 1[|S| > t] (W fixed, scores S trained, global threshold t over
           all 5 masked matrices at sparsity 0.5, straight-through gradient)
           -> BatchNorm1d(affine=False) -> ReLU; widths F->386->386->386->C,
           logits = (head(h3) + h4) / 2; AdamW lr 0.01 on the scores.

Training reference (`--config FILE`): trains the recipe of a frost
experiment file (libconfig; normally the effective configuration that
`frost run CFG --dry-run` prints) the way frost does, for each seed, with
frost's best-validation protocol, and reports the test metric per seed and
its mean and sample std. It mirrors frost's C code: data preparation
(src/run/runner.c), the operators (src/layers/aggr.c), the models
(src/model/model.c), initialisation, the supermask (src/slt/supermask.c),
the optimizers and schedules (src/train/optim.c) and the loop
(src/train/train.c). tools/bench/parity.py runs it against frost.

Only torch, numpy and h5py are used (Debian's python3-torch). Propagation is
torch.sparse.mm on CSR tensors built once; like torch_sparse's SparseTensor
(PyG's fast path), the transposed matrix is also built once and used for the
backward pass instead of transposing on every step.

Prints a summary to stderr and one JSON line to stdout.

Usage: tools/bench/torch_ref.py DATASET.h5 [--model gcn|slt-gin] [--epochs 10]
         [--warmup 2] [--threads 2] [--seed 0] [--split NAME]
       tools/bench/torch_ref.py --config FILE [DATASET.h5] [--seeds 0,1,2]
         [--epochs N] [--threads 2] [--split NAME] [--json OUT] [--describe]
         [--draws torch|frost] [--history]
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", nargs="?", default=None,
                   help="frost dataset file (.h5); with --config, default: the configuration's dataset")
    p.add_argument("--model", choices=("gcn", "slt-gin"), default="gcn", help="timing mode: the model")
    p.add_argument("--config", default=None,
                   help="training reference: a frost experiment (libconfig), one point, e.g. the output of "
                        "`frost run CFG --dry-run`")
    p.add_argument("--epochs", type=int, default=None,
                   help="timing mode: timed epochs (default 10); --config: replaces the configuration's epochs")
    p.add_argument("--warmup", type=int, default=2, help="timing mode: untimed epochs first (default 2)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--seed", type=int, default=0, help="timing mode: the seed")
    p.add_argument("--seeds", default=None,
                   help="--config: comma-separated seeds (default: the configuration's seeds, or runs from seed)")
    p.add_argument("--split", default=None,
                   help="split name (default: timing mode the first in the file, --config the configuration's)")
    p.add_argument("--json", default=None, help="--config: also write the JSON summary to this file")
    p.add_argument("--describe", action="store_true",
                   help="--config: print each masked matrix's pruned, locked and kept counts")
    p.add_argument("--quiet", action="store_true", help="--config: no per-epoch progress")
    p.add_argument("--draws", choices=("torch", "frost"), default="torch",
                   help="--config: where the random numbers come from: torch's generator (default; the same "
                        "distributions as frost, other draws) or frost's own Philox streams (the same initial "
                        "weights, scores, biases, frozen sets and dropout masks as frost's run of the same seed)")
    p.add_argument("--history", action="store_true",
                   help="--config: each run's JSON gets its per-epoch loss, lr, valid and test metric")
    p.add_argument("--check-frost", default=None, metavar="RESULTS",
                   help="evaluate the weights frost trained (each weight-trained run of a frost results file) "
                        "with the reference's forward pass and compare its metrics with frost's")
    a = p.parse_args()
    if a.config is None and a.check_frost is None:
        if a.dataset is None:
            p.error("the timing mode needs DATASET.h5 (or give --config FILE)")
        if a.epochs is None:
            a.epochs = 10
    if (a.epochs is not None and a.epochs < (0 if a.config else 1)) or a.warmup < 0 or a.threads < 1:
        p.error("need --epochs >= 1 (>= 0 with --config), --warmup >= 0, --threads >= 1")
    return a


ARGS = parse_args()
# Before torch is imported, so that OpenMP and the BLAS pool get the same count.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)
if ARGS.config is not None or ARGS.check_frost is not None:
    # The reference's small products on a shared machine: spinning OpenMP
    # workers made a cora run 30x slower under load. Speed only.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def current_rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_rss_bytes()


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


# ---------------------------------------------------------------- data


def load(path, split):
    with h5py.File(path, "r") as f:
        task = f.attrs.get("task_type", b"multiclass")
        task = task.decode() if isinstance(task, bytes) else str(task)
        if task != "multiclass":
            sys.exit(f"torch_ref: task_type {task!r} not supported (multiclass only)")
        n = int(f.attrs["num_nodes"])
        nclass = int(f.attrs["num_classes"])
        splits = list(f["split"].keys())
        if not splits:
            sys.exit("torch_ref: the file has no split")
        split = split or splits[0]
        if split not in f["split"]:
            sys.exit(f"torch_ref: no split {split!r} (have {', '.join(splits)})")
        d = {
            "indptr": torch.from_numpy(f["graph/indptr"][:].astype(np.int64, copy=False)),
            "indices": torch.from_numpy(f["graph/indices"][:].astype(np.int64)),
            "x": torch.from_numpy(f["node/feat"][:].astype(np.float32, copy=False)),
            "y": torch.from_numpy(f["node/label"][:].astype(np.int64)),
            "train": torch.from_numpy(f[f"split/{split}/train"][:].astype(np.int64, copy=False)),
            "n": n,
            "classes": nclass,
            "split": split,
        }
    assert d["indptr"].numel() == n + 1 and d["x"].shape[0] == n
    return d


def csr_from_coo(row, col, val, n):
    """CSR (n x n) from COO triplets without duplicates."""
    key = row * n + col
    key, order = torch.sort(key)
    row, col, val = key // n, key % n, val[order]
    crow = torch.zeros(n + 1, dtype=torch.int64)
    crow[1:] = torch.cumsum(torch.bincount(row, minlength=n), 0)
    return torch.sparse_csr_tensor(crow, col, val, (n, n))


def gcn_matrix(d):
    """D^-1/2 (A + I) D^-1/2 with A symmetrised (to_undirected) and the diagonal
    set to 1 for every node (PyG gcn_norm on a SparseTensor: fill_diag)."""
    n = d["n"]
    src = torch.repeat_interleave(torch.arange(n), d["indptr"].diff())
    dst = d["indices"]
    row, col = torch.cat([src, dst]), torch.cat([dst, src])
    key = torch.unique(row * n + col)  # to_undirected coalesces duplicates
    row, col = key // n, key % n
    off = row != col
    loop = torch.arange(n)
    row, col = torch.cat([row[off], loop]), torch.cat([col[off], loop])
    deg = torch.bincount(row, minlength=n).to(torch.float32)
    dis = deg.pow(-0.5)
    dis.masked_fill_(torch.isinf(dis), 0.0)
    a = csr_from_coo(row, col, dis[row] * dis[col], n)
    return a, a  # symmetric: the transpose is the matrix itself


def mean_matrix(d):
    """M[v, u] = 1/indeg(v) for each stored edge u -> v (no self loops added);
    returns M and its transpose, both CSR."""
    n, indptr, dst = d["n"], d["indptr"], d["indices"]
    src = torch.repeat_interleave(torch.arange(n), indptr.diff())
    indeg = torch.bincount(dst, minlength=n).to(torch.float32)
    val = 1.0 / indeg[dst]  # every dst has indeg >= 1
    m = csr_from_coo(dst, src, val, n)
    mt = csr_from_coo(src, dst, val, n)  # CSR wants sorted columns in each row
    return m, mt


class SpMM(torch.autograd.Function):
    """out = A @ x with a fixed sparse A (an aggregation, or sparse input
    features times W); backward uses a precomputed A^T (what torch_sparse's
    SparseTensor matmul does with its cached CSC); A gets no gradient."""

    @staticmethod
    def forward(ctx, a, at, x):
        ctx.at = at
        return torch.sparse.mm(a, x)

    @staticmethod
    def backward(ctx, g):
        return None, None, torch.sparse.mm(ctx.at, g)


def propagate(adj, x):
    return SpMM.apply(adj[0], adj[1], x)


# ---------------------------------------------------------------- GCN


class GCNConv(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fin, fout))
        self.bias = nn.Parameter(torch.zeros(fout))
        nn.init.xavier_uniform_(self.weight)  # glorot

    def forward(self, x, adj):
        return propagate(adj, x @ self.weight) + self.bias


class GCN(nn.Module):
    def __init__(self, fin, hidden, fout, layers=3, dropout=0.5):
        super().__init__()
        dims = [fin] + [hidden] * (layers - 1) + [fout]
        self.convs = nn.ModuleList(GCNConv(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers - 1))
        self.dropout = dropout

    def forward(self, x, adj):
        for conv, bn in zip(self.convs[:-1], self.bns):
            x = F.dropout(F.relu(bn(conv(x, adj))), self.dropout, self.training)
        return self.convs[-1](x, adj)

    def after_step(self):
        pass


# ---------------------------------------------------------------- SLT GIN


class MaskedWeight(torch.autograd.Function):
    """W * M in the forward pass (W the random weights, times the scale where
    there is one); straight-through to the scores (frost_slt_score_grad):
    dL/dS = sign(S) * dL/dW_eff * W."""

    @staticmethod
    def forward(ctx, scores, weight, mask):
        ctx.save_for_backward(scores, weight)
        return weight * mask

    @staticmethod
    def backward(ctx, g):
        scores, weight = ctx.saved_tensors
        return g * weight * torch.sign(scores), None, None


class MaskedLinear(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        w = torch.empty(fout, fin)
        nn.init.kaiming_uniform_(w, a=0.0, mode="fan_in", nonlinearity="relu")  # sqrt(6/fan_in)
        self.register_buffer("weight", w)
        self.scores = nn.Parameter(torch.empty(fout, fin))
        nn.init.kaiming_normal_(self.scores, mode="fan_in", nonlinearity="relu")  # sqrt(2/fan_in)
        self.register_buffer("mask", torch.ones(fout, fin))

    def forward(self, x):
        return F.linear(x, MaskedWeight.apply(self.scores, self.weight, self.mask))


class SLTGIN(nn.Module):
    def __init__(self, fin, hidden, fout, layers=4, sparsity=0.5):
        super().__init__()
        dims = [fin] + [hidden] * (layers - 1) + [fout]
        self.lins = nn.ModuleList(MaskedLinear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(b, affine=False) for b in dims[1:])
        self.head = MaskedLinear(hidden, fout)
        self.sparsity = sparsity
        self.after_step()

    def masked(self):
        return list(self.lins) + [self.head]

    @torch.no_grad()
    def after_step(self):
        """Global threshold: the floor(N*s) smallest |S| over all masked matrices
        are masked out."""
        layers = self.masked()
        abss = torch.cat([m.scores.abs().flatten() for m in layers])
        k = int(abss.numel() * self.sparsity)
        t = torch.kthvalue(abss, k).values if k > 0 else abss.new_tensor(-1.0)
        for m in layers:
            torch.gt(m.scores.abs(), t, out=m.mask)

    def forward(self, x, adj):
        h3 = None
        for i, (lin, bn) in enumerate(zip(self.lins, self.bns)):
            x = F.relu(bn(lin(x + propagate(adj, x))))
            if i == len(self.lins) - 2:
                h3 = x
        return (self.head(h3) + x) * 0.5


# ---------------------------------------------------------------- training reference
#
# `--config FILE`: frost's recipe, step for step, in PyTorch. FILE is a frost
# experiment in libconfig text, normally the effective configuration that
# `frost run CFG --dry-run` prints (every key spelled out). What follows
# mirrors frost's C code; the source of each rule is named where it is made.
# Random numbers come from torch.manual_seed(seed) by default: the
# distributions are frost's, the draws are not (compare over seeds, not
# bits). With --draws frost every draw is frost's own (class Draws below):
# then a seed starts both sides from the same point and drops the same
# units, and what is left between them is the order of floating-point
# operations.


class Draws:
    """frost's random numbers (src/core/rng.c, core/philox.h): Philox4x32-10
    keyed by the run's seed, the counter (block, stream); a stream is
    (purpose << 48) ^ sub (include/frost/rng.h). Used when mode is "frost"."""
    WEIGHT, SCORE, FREEZE, DROPOUT, BIAS = 1, 2, 3, 4, 8
    mode = "torch"
    seed = 0
    epoch = 0
    _M = np.uint64(0xFFFFFFFF)

    @classmethod
    def on(cls):
        return cls.mode == "frost"

    @staticmethod
    def stream(purpose, sub):
        return (purpose << 48) ^ sub

    @classmethod
    def philox(cls, stream, blocks):
        """The four 32-bit words (as uint64 arrays) of blocks `blocks`."""
        b = np.asarray(blocks, dtype=np.uint64)
        M = cls._M
        c0, c1 = b & M, b >> np.uint64(32)
        c2 = np.full(b.shape, stream & 0xFFFFFFFF, dtype=np.uint64)
        c3 = np.full(b.shape, (stream >> 32) & 0xFFFFFFFF, dtype=np.uint64)
        k0, k1 = cls.seed & 0xFFFFFFFF, (cls.seed >> 32) & 0xFFFFFFFF
        m0, m1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
        for _ in range(10):
            p0 = m0 * c0
            p1 = m1 * c2
            n0 = (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)
            n2 = (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)
            c1, c3, c0, c2 = p1 & M, p0 & M, n0, n2
            k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
            k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
        return c0, c1, c2, c3

    @classmethod
    def u32(cls, stream, n):
        """Elements 0 .. n-1 of a stream (frost_rng_u32): word i & 3 of block i >> 2."""
        nb = (n + 3) // 4
        w = cls.philox(stream, np.arange(nb, dtype=np.uint64))
        return np.stack(w, axis=1).reshape(-1)[:n]

    @classmethod
    def uniform(cls, stream, n):
        """frost_rng_uniform: 24 random bits in [0, 1), as float64 (exact)."""
        return (cls.u32(stream, n) >> np.uint64(8)).astype(np.float64) * (1.0 / 16777216.0)

    @classmethod
    def normal(cls, stream, n):
        """frost_rng_normal: Box-Muller on the four words of block i, rounded to float."""
        a, b, c, d = cls.philox(stream, np.arange(n, dtype=np.uint64))
        M53 = np.uint64((1 << 53) - 1)
        x = ((a << np.uint64(21)) ^ (b >> np.uint64(11))) & M53
        y = ((c << np.uint64(21)) ^ (d >> np.uint64(11))) & M53
        u1 = (x.astype(np.float64) + 1.0) * (1.0 / 9007199254740992.0)
        u2 = y.astype(np.float64) * (1.0 / 9007199254740992.0)
        return (np.sqrt(-2.0 * np.log(u1)) * np.cos(6.283185307179586 * u2)).astype(np.float32)

    @classmethod
    def init_values(cls, rows, cols, how, stream):
        """frost__init_values (src/core/init.c): bound from fan_in = rows, fan_out = cols."""
        n = rows * cols
        b = init_bound(rows, cols, how)
        if how == "kaiming_normal":
            v = b * cls.normal(stream, n).astype(np.float64)
        elif how == "signed_constant":
            v = np.where((cls.u32(stream, n) & np.uint64(1)) != 0, b, -b)
        else:
            v = b * (2.0 * cls.uniform(stream, n) - 1.0)
        return torch.from_numpy(v.astype(np.float32).reshape(rows, cols))

    @classmethod
    def bias(cls, n, fan_in, sub):
        """model.c init_bias: U(+-1/sqrt(fan_in)) on stream (BIAS, sub)."""
        v = (1.0 / math.sqrt(fan_in)) * (2.0 * cls.uniform(cls.stream(cls.BIAS, sub), n) - 1.0)
        return torch.from_numpy(v.astype(np.float32))

    @classmethod
    def freeze_order(cls, index, n):
        """supermask.c freeze_key: positions sorted by (u32 of (FREEZE, matrix), position)."""
        k = (cls.u32(cls.stream(cls.FREEZE, index), n) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        return torch.from_numpy(np.argsort(k, kind="stable").astype(np.int64))

    @classmethod
    def keep_mask(cls, stream, g, p, scale):
        """Dropout multipliers of flattened elements g (layers_impl.h
        frost__dropout_mask64): element 64 c + 8 q + j keeps when 16-bit half
        q & 1 of word q >> 1 of block 8 c + j is >= lrintf(p 65536)."""
        g = np.asarray(g, dtype=np.uint64)
        q = (g & np.uint64(63)) >> np.uint64(3)
        blocks = ((g >> np.uint64(6)) << np.uint64(3)) | (g & np.uint64(7))
        w = np.stack(cls.philox(stream, blocks))
        word = w[(q >> np.uint64(1)).astype(np.int64), np.arange(g.size)]
        half = (word >> (np.uint64(16) * (q & np.uint64(1)))) & np.uint64(0xFFFF)
        thr = np.uint64(int(np.rint(np.float32(p) * np.float32(65536.0))))
        return torch.from_numpy(np.where(half >= thr, np.float32(scale), np.float32(0.0)).astype(np.float32))

    @classmethod
    def dropout_stream(cls, layer, kind):
        """model.c dropout_stream: the epoch, the layer and the kind (0 the input, 1 a post block)."""
        return cls.stream(cls.DROPOUT, (cls.epoch << 20) | (layer << 1) | kind)


class RefError(Exception):
    pass


# Keys the reference implements; anything else set away from its default is
# refused rather than silently ignored.
_SUPPORTED = {
    "method": ("trained", "slt"),
    "model.name": ("gcn", "gin", "sage", "mlp"),
    "model.norm": ("none", "batch", "batch_nonaffine"),
    "model.gcn_norm": ("both", "right", "left", "none"),
    "model.init": ("default", "glorot", "torch", "kaiming_uniform", "kaiming_normal", "signed_constant"),
    "optim.name": ("sgd", "adam", "adamw"),
    "optim.schedule": ("constant", "cosine", "step"),
    "features.normalize": ("none", "row"),
    "graph.self_loops": ("keep", "drop"),
    "slt.distribution": ("epl", "erk", "uniform"),
    "slt.threshold": ("global", "layer"),
    "slt.weight_init": ("default", "glorot", "torch", "kaiming_uniform", "kaiming_normal", "signed_constant"),
    "slt.score_init": ("default", "glorot", "torch", "kaiming_uniform", "kaiming_normal", "signed_constant"),
    "slt.scale": ("none", "static", "dynamic"),
    "batch.mode": ("full",),
}
_UNSUPPORTED_TRUE = ("model.input_proj", "model.root_weight")


def cfg_get(cfg, key, default):
    import frostcfg
    return frostcfg.get(cfg, key, default)


def recipe_from_config(cfg):
    """The settings the reference needs, with frost's defaults (src/config/config.c,
    experiments/README.md) for absent keys; refuses what it does not implement."""
    g = lambda k, d: cfg_get(cfg, k, d)  # noqa: E731
    r = {
        "dataset": g("dataset", ""), "split": g("split", ""), "method": g("method", "trained"),
        "epochs": int(g("epochs", 200)), "eval_every": int(g("eval_every", 1)), "patience": int(g("patience", 0)),
        "normalize": g("features.normalize", "none"), "undirected": bool(g("graph.undirected", True)),
        "self_loops": g("graph.self_loops", "drop"),
        "arch": g("model.name", "gcn"), "layers": int(g("model.layers", 2)), "hidden": int(g("model.hidden", 64)),
        "dropout": float(g("model.dropout", 0.5)), "input_dropout": float(g("model.input_dropout", 0.0)),
        "norm": g("model.norm", "none"), "norm_last": bool(g("model.norm_last", False)),
        "skip_head": bool(g("model.skip_head", False)), "residual": bool(g("model.residual", False)),
        "bias": bool(g("model.bias", True)), "gcn_norm": g("model.gcn_norm", "both"),
        "gin_eps": float(g("model.gin_eps", 0.0)), "init": g("model.init", "default"),
        "bn_momentum": float(g("model.bn_momentum", 0.10000000149011612)),
        "optim": g("optim.name", "adam"), "lr": float(g("optim.lr", 0.01)),
        "weight_decay": float(g("optim.weight_decay", 0.0)), "momentum": float(g("optim.momentum", 0.0)),
        "nesterov": bool(g("optim.nesterov", False)), "schedule": g("optim.schedule", "constant"),
        "lr_min": float(g("optim.lr_min", 0.0)), "step_size": int(g("optim.step_size", 100)),
        "gamma": float(g("optim.gamma", 0.1)),
        "sparsity": g("slt.sparsity", 0.5), "prune_ratio": g("slt.prune_ratio", 0.0),
        "lock_ratio": g("slt.lock_ratio", 0.0), "freeze": g("slt.freeze", -1.0),
        "prune_share": g("slt.prune_share", 0.5), "distribution": g("slt.distribution", "epl"),
        "threshold": g("slt.threshold", "global"), "weight_init": g("slt.weight_init", "kaiming_uniform"),
        "score_init": g("slt.score_init", "kaiming_normal"), "scale": g("slt.scale", "none"),
    }
    for key in ("method", "sparsity", "prune_ratio", "lock_ratio", "freeze", "prune_share", "epochs"):
        if isinstance(r[key], list):
            raise RefError(f"{key} is a sweep {r[key]}: give the reference one point (frost run CFG --dry-run "
                           f"--set {key}=VALUE prints one)")
    for key, allowed in _SUPPORTED.items():
        v = cfg_get(cfg, key, allowed[0])
        if isinstance(v, list):
            raise RefError(f"{key} is a sweep {v}: give the reference one point")
        if v not in allowed:
            raise RefError(f"{key} = {v!r} is not implemented in the reference (it has {', '.join(allowed)})")
    for key in _UNSUPPORTED_TRUE:
        if cfg_get(cfg, key, False):
            raise RefError(f"{key} = true is not implemented in the reference")
    for key in ("model.layers", "model.hidden", "model.dropout", "optim.lr", "optim.weight_decay"):
        if isinstance(cfg_get(cfg, key, 0), list):
            raise RefError(f"{key} is a sweep: give the reference one point")
    # slt.freeze, when set, replaces the two ratios (config.c: p = f * share, r = f - p)
    f = float(r["freeze"])
    p, q = float(r["prune_ratio"]), float(r["lock_ratio"])
    if f >= 0:
        p = f * float(r["prune_share"])
        q = f - p
    r["prune_ratio"], r["lock_ratio"], r["sparsity"] = p, q, float(r["sparsity"])
    if r["skip_head"] and r["layers"] < 2:
        raise RefError("model.skip_head needs at least 2 layers")
    return r


def resolve_dataset(name, config_path):
    """frost_resolve_dataset (src/run/runner.c): a path, or a bundled name
    looked up as CONFIG_DIR/../datasets/NAME.h5, then datasets/NAME.h5."""
    cdir = os.path.dirname(config_path) if config_path else "."
    if "/" in name or name.endswith(".h5"):
        tried = [name] if os.path.isabs(name) else [name, os.path.join(cdir, name)]
    else:
        tried = [os.path.join(cdir, "..", "datasets", name + ".h5"), os.path.join("datasets", name + ".h5")]
    for t in tried:
        if os.path.isfile(t):
            return t
    raise RefError(f"dataset {name!r} not found (tried {', '.join(tried)})")


def load_task(path, split):
    """Everything training needs from a frost dataset file (datasets/README.md)."""
    with h5py.File(path, "r") as f:
        def attr(k, d=None):
            v = f.attrs.get(k, d)
            return v.decode() if isinstance(v, bytes) else v
        if attr("format") != "frost.dataset":
            raise RefError(f"{path}: not a frost dataset file")
        task = attr("task_type", "multiclass")
        if task != "multiclass":
            raise RefError(f"{path}: task_type {task!r} (the reference does multiclass accuracy only)")
        n = int(f.attrs["num_nodes"])
        splits = list(f["split"].keys())
        if not split:
            if len(splits) != 1:
                raise RefError(f"{path} has {len(splits)} splits; name one")
            split = splits[0]
        if split not in f["split"]:
            raise RefError(f"{path}: no split {split!r} (have {', '.join(splits)})")
        d = {
            "n": n,
            "classes": int(f.attrs["num_classes"]),
            "indptr": torch.from_numpy(f["graph/indptr"][:].astype(np.int64)),
            "indices": torch.from_numpy(f["graph/indices"][:].astype(np.int64)),
            "x": torch.from_numpy(f["node/feat"][:].astype(np.float32)),
            "y": torch.from_numpy(f["node/label"][:].astype(np.int64)),
            "split": split,
        }
        for part in ("train", "valid", "test"):
            d[part] = torch.from_numpy(f[f"split/{split}/{part}"][:].astype(np.int64))
    return d


def row_normalize(x):
    """features.normalize = "row" (src/run/runner.c): each row divided by its
    sum, rows summing to 0 left alone."""
    s = x.double().sum(1)
    inv = torch.where(s != 0, 1.0 / s, torch.ones_like(s)).float()
    return x * inv[:, None]


def aggregation_edges(d, undirected, self_loops):
    """Row i of the aggregation graph lists the nodes i aggregates from
    (src/run/runner.c frost_prepare): the file stores edges i -> j in row i,
    so node j aggregates from i (the transpose); with graph.undirected the
    reverse of every edge is added. Repeated pairs are merged, stored
    self-loops dropped unless graph.self_loops = "keep" (csr.c csr_clean).
    Returns (row, col) sorted by row, then col."""
    n = d["n"]
    src = torch.repeat_interleave(torch.arange(n), d["indptr"].diff())
    dst = d["indices"]
    row, col = dst, src
    if undirected:
        row, col = torch.cat([dst, src]), torch.cat([src, dst])
    key = torch.unique(row * n + col)
    row, col = key // n, key % n
    if self_loops == "drop":
        off = row != col
        row, col = row[off], col[off]
    return row, col


class Aggregation:
    """y_i = a_i sum_{j in row i} b_j x_j + c_i x_i (src/layers/aggr.c, the
    frost_aggr operator): a sparse matrix of a_i b_j with its transpose built
    once, and the self term c."""

    def __init__(self, n, row, col, a=None, b=None, c=None):
        val = torch.ones(row.numel())
        if a is not None:
            val = val * a[row]
        if b is not None:
            val = val * b[col]
        self.m = csr_from_coo(row, col, val, n)
        self.mt = csr_from_coo(col, row, val, n)
        self.c = c

    def __call__(self, x):
        y = SpMM.apply(self.m, self.mt, x)
        if self.c is not None:
            y = y + self.c[:, None] * x
        return y


def build_operator(r, n, row, col):
    """The architecture's operator (model.c frost__model_operator, aggr.c)."""
    deg = torch.bincount(row, minlength=n).double()  # row lengths: the in-degrees
    if r["arch"] == "gcn":
        if r["gcn_norm"] == "both":  # D^-1/2 (A + I) D^-1/2, d = deg + 1
            dis = (1.0 / torch.sqrt(deg + 1.0)).float()
            return Aggregation(n, row, col, a=dis, b=dis, c=(1.0 / (deg + 1.0)).float())
        if r["gcn_norm"] == "right":  # (x_i + sum_j x_j) / (deg_i + 1)
            v = (1.0 / (deg + 1.0)).float()
            return Aggregation(n, row, col, a=v, c=v)
        if r["gcn_norm"] == "left":  # x_i / (out_i + 1) + sum_j x_j / (out_j + 1)
            out = torch.bincount(col, minlength=n).double()
            v = (1.0 / (out + 1.0)).float()
            return Aggregation(n, row, col, b=v, c=v)
        return Aggregation(n, row, col, c=torch.ones(n))
    if r["arch"] in ("gin", "sage"):  # mean over the row; GIN adds (1 + eps) x
        inv = torch.where(deg > 0, 1.0 / deg.float().clamp(min=1), torch.zeros(n, dtype=torch.float32))
        c = torch.full((n,), 1.0 + r["gin_eps"]) if r["arch"] == "gin" and 1.0 + r["gin_eps"] != 0 else None
        return Aggregation(n, row, col, a=inv, c=c)
    return None


def init_bound(rows, cols, how):
    """The bound (the std for kaiming_normal) of frost__init_values
    (src/core/init.c) for a (rows = fan_in, cols = fan_out) matrix."""
    if how == "glorot":
        return math.sqrt(6.0 / (rows + cols))
    if how in ("torch", "default"):
        return 1.0 / math.sqrt(rows)
    if how == "kaiming_uniform":
        return math.sqrt(6.0 / rows)
    if how in ("kaiming_normal", "signed_constant"):
        return math.sqrt(2.0 / rows)
    raise RefError(f"init {how!r}")


def init_values(rows, cols, how):
    """frost__init_values's distributions, drawn from torch's generator."""
    b = init_bound(rows, cols, how)
    if how == "kaiming_normal":
        return torch.randn(rows, cols) * b
    if how == "signed_constant":
        return (torch.randint(0, 2, (rows, cols)).float() * 2 - 1) * b
    return (torch.rand(rows, cols, dtype=torch.float64) * 2 - 1).mul_(b).float()


def floor_frac(n, f):
    """floor(n f), robust to the decimal spelling of f (supermask.c)."""
    x = n * f
    r = math.floor(x + 1e-9 * (x if x > 1 else 1))
    return int(min(max(r, 0), n))


def layer_survivors(sizes, rows, cols, density, dist):
    """Weights per matrix that survive at overall density `density`
    (frost_slt_layer_survivors, src/slt/supermask.c; slt.md section 3)."""
    L = len(sizes)
    if density >= 1.0:
        return list(sizes)
    if density <= 0.0:
        return [0] * L
    total = sum(sizes) * density
    capped = [False] * L
    if dist == "uniform":
        return [floor_frac(s, density) for s in sizes]
    if dist == "epl":  # equal survivors per matrix; full ones capped, the rest shared again
        share = 0.0
        while True:
            rem = total - sum(s for s, c in zip(sizes, capped) if c)
            cnt = sum(1 for c in capped if not c)
            if cnt == 0:
                break
            share = rem / cnt
            changed = False
            for i in range(L):
                if not capped[i] and sizes[i] <= share:
                    capped[i] = changed = True
            if not changed:
                break
        s = int(math.floor(share + 1e-9))
        return [sizes[i] if capped[i] else min(s, sizes[i]) for i in range(L)]
    eps = 0.0  # erk: density_l = eps (rows + cols) / (rows cols), capped at 1
    while True:
        rem = total - sum(s for s, c in zip(sizes, capped) if c)
        denom = sum(rows[i] + cols[i] for i in range(L) if not capped[i])
        if denom <= 0:
            break
        eps = rem / denom
        changed = False
        for i in range(L):
            if not capped[i] and eps * (rows[i] + cols[i]) >= sizes[i]:
                capped[i] = changed = True
        if not changed:
            break
    return [sizes[i] if capped[i] else floor_frac(sizes[i], eps * (rows[i] + cols[i]) / sizes[i]) for i in range(L)]


class Matrix(nn.Module):
    """One maskable weight matrix (rows = fan_in, cols = fan_out), y = x W:
    trained, or a supermask over fixed random weights."""

    def __init__(self, rows, cols, supermask, init):
        super().__init__()
        self.rows, self.cols, self.n = rows, cols, rows * cols
        self.supermask = supermask
        self.index = 0  # frost's matrix number (RefModel.redraw)
        if supermask:
            self.register_buffer("base", init_values(rows, cols, init[0]))
            self.scores = nn.Parameter(init_values(rows, cols, init[1]))
            self.register_buffer("code", torch.zeros(rows * cols, dtype=torch.int8))
            self.register_buffer("keep", torch.ones(rows, cols))
            self.register_buffer("base_scaled", self.base.clone())
            self.n_pruned = self.n_locked = 0
        else:
            self.weight = nn.Parameter(init_values(rows, cols, init))

    def redraw(self, index, init):
        """frost's draws for frost's matrix `index`: the weights (or fixed
        weights) on stream (WEIGHT, index), the scores on (SCORE, index)."""
        self.index = index
        with torch.no_grad():
            if self.supermask:
                self.base.copy_(Draws.init_values(self.rows, self.cols, init[0], Draws.stream(Draws.WEIGHT, index)))
                self.scores.copy_(Draws.init_values(self.rows, self.cols, init[1], Draws.stream(Draws.SCORE, index)))
                self.base_scaled.copy_(self.base)
            else:
                self.weight.copy_(Draws.init_values(self.rows, self.cols, init, Draws.stream(Draws.WEIGHT, index)))

    def freeze(self, n_pruned, n_locked):
        """One random permutation: its first n_pruned positions pruned, the
        next n_locked locked (supermask.c freeze_matrix, slt.md section 3).
        With frost's draws the permutation is frost's order of keys."""
        perm = Draws.freeze_order(self.index, self.n) if Draws.on() else torch.randperm(self.n)
        self.code.zero_()
        self.code[perm[:n_pruned]] = -1
        self.code[perm[n_pruned:n_pruned + n_locked]] = 1
        self.n_pruned, self.n_locked = n_pruned, n_locked
        self.free_idx = (self.code == 0).nonzero().flatten()
        self.locked_idx = (self.code > 0).nonzero().flatten()

    def forward(self):
        if not self.supermask:
            return self.weight
        return MaskedWeight.apply(self.scores, self.base_scaled, self.keep)


def dropout(x, p, layer=None):
    """Inverted dropout: keep with probability 1 - p, scale by 1 / (1 - p)
    (frost's post block and input dropout; F.dropout's bernoulli_ is several
    times slower on this PyTorch build). With frost's draws, `layer` names
    the post block (its mask element i H + c as frost's, post.c)."""
    if Draws.on() and layer is not None:
        scale = float(np.float32(1.0 / (1.0 - float(np.float32(p)))))
        m = Draws.keep_mask(Draws.dropout_stream(layer, 1), np.arange(x.numel(), dtype=np.uint64), p, scale)
        return x * m.view_as(x)
    return x * ((torch.rand_like(x) >= p).to(x.dtype) * (1.0 / (1.0 - p)))


def input_mask(n, f, row, col, p):
    """frost's input dropout multipliers (activation.c frost__dropout_rows,
    stream kind 0) for entries (row, col) of the n x f features."""
    scale = float(np.float32(1.0) / (np.float32(1.0) - np.float32(p)))
    g = row.numpy().astype(np.uint64) * np.uint64(f) + col.numpy().astype(np.uint64)
    return Draws.keep_mask(Draws.dropout_stream(0, 0), g, p, scale)


class Features:
    """The input features of the first layer. Sparse features (most
    bag-of-words sets) are kept as CSR so that X W costs their nonzeros;
    input dropout is drawn for the nonzero entries only (a dropped zero stays
    zero: the same distribution)."""

    def __init__(self, x, sparse):
        self.x = x
        self.sparse = sparse
        if sparse:
            n, f = x.shape
            nz = x.nonzero()
            self.row, self.col = nz[:, 0], nz[:, 1]
            self.val = x[self.row, self.col]
            self.crow = torch.zeros(n + 1, dtype=torch.int64)
            self.crow[1:] = torch.cumsum(torch.bincount(self.row, minlength=n), 0)
            order = torch.argsort(self.col * n + self.row)  # the entries in column order: X^T's CSR
            self.t_perm = order
            self.t_col = self.row[order]
            self.t_crow = torch.zeros(f + 1, dtype=torch.int64)
            self.t_crow[1:] = torch.cumsum(torch.bincount(self.col, minlength=f), 0)
            self.cur = self.val

    def dropped(self, p):
        """A copy with inverted dropout p applied."""
        out = Features.__new__(Features)
        out.sparse = self.sparse
        if not self.sparse:
            if Draws.on():
                n, f = self.x.shape
                g = torch.arange(n * f)
                out.x = self.x * input_mask(n, f, g // f, g % f, p).view(n, f)
            else:
                out.x = dropout(self.x, p)
            return out
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("x", "cur")})
        if Draws.on():
            out.cur = self.val * input_mask(self.crow.numel() - 1, self.t_crow.numel() - 1, self.row, self.col, p)
        else:
            out.cur = self.val * ((torch.rand(self.val.numel()) >= p).float() * (1.0 / (1.0 - p)))
        out.x = None
        return out

    def dense(self):
        if self.x is None:
            self.x = torch.sparse_coo_tensor(torch.stack([self.row, self.col]), self.cur,
                                             (self.crow.numel() - 1, self.t_crow.numel() - 1)).to_dense()
        return self.x

    def matmul(self, w):
        if not self.sparse:
            return self.dense() @ w
        n, f = self.crow.numel() - 1, self.t_crow.numel() - 1
        x = torch.sparse_csr_tensor(self.crow, self.col, self.cur, (n, f))
        xt = torch.sparse_csr_tensor(self.t_crow, self.t_col, self.cur[self.t_perm], (f, n))
        return SpMM.apply(x, xt, w)


def as_dense(x):
    return x.dense() if isinstance(x, Features) else x


def matmul(x, w):
    return x.matmul(w) if isinstance(x, Features) else x @ w


class RefLayer(nn.Module):
    def __init__(self, arch, fin, fout, r, supermask, last):
        super().__init__()
        self.arch, self.fin, self.fout = arch, fin, fout
        if supermask:
            init = (r["weight_init"], r["score_init"])
        else:  # model.init "default": glorot for GCN layers (PyG GCNConv), nn.Linear's otherwise
            how = r["init"]
            init = ("glorot" if arch == "gcn" else "torch") if how == "default" else how
        self.init = init
        self.index = 0  # the layer's number (RefModel), for frost's dropout streams
        self.W0 = Matrix(fin, fout, supermask, init)
        if arch == "sage":  # W0 the neighbours' weight, W1 the root weight
            self.W1 = Matrix(fin, fout, supermask, init)
        self.bias = None
        if r["bias"]:  # zero for GCN (PyG GCNConv), nn.Linear's U(+-1/sqrt(fan_in)) otherwise
            b = torch.zeros(fout) if arch == "gcn" else (torch.rand(fout, dtype=torch.float64) * 2 - 1).div_(
                math.sqrt(fin)).float()
            self.bias = nn.Parameter(b)
        # the post block (model.c): norm, ReLU and dropout after hidden layers;
        # norm and ReLU, no dropout, after the last one when norm_last
        self.post = not last or r["norm_last"]
        self.drop = r["dropout"] if (not last and r["dropout"] > 0) else 0.0
        self.bn = None
        if self.post and r["norm"] != "none":
            self.bn = nn.BatchNorm1d(fout, eps=1e-5, momentum=r["bn_momentum"], affine=r["norm"] == "batch")
        self.residual = False

    def matrices(self):
        return [self.W0] + ([self.W1] if self.arch == "sage" else [])

    def conv(self, x, op):
        W = self.W0()
        if self.arch == "mlp":
            z = matmul(x, W)
        elif self.arch == "sage":  # mean(x) Wn + x Wr
            z = op(as_dense(x)) @ W + matmul(x, self.W1())
        elif self.fout <= self.fin:  # op (x W) = (op x) W; the narrower side aggregated, as frost
            z = op(matmul(x, W))
        else:
            z = op(as_dense(x)) @ W
        if self.bias is not None:
            z = z + self.bias
        return z

    def forward(self, x, op):
        z = self.conv(x, op)
        if not self.post:
            return z
        h = F.relu(self.bn(z) if self.bn is not None else z)
        if self.drop > 0 and self.training:
            h = dropout(h, self.drop, self.index)
        if self.residual:
            h = h + x
        return h


class RefModel(nn.Module):
    """frost_model (src/model/model.c) for gcn, gin, sage and mlp: layers,
    the post blocks, input dropout, residuals, the skip head; a supermask
    over every weight matrix for method slt."""

    def __init__(self, r, fin, classes):
        super().__init__()
        self.r = r
        self.supermask = r["method"] == "slt"
        L, H = r["layers"], r["hidden"]
        self.layers_ = nn.ModuleList()
        for l in range(L):
            a, b = (fin if l == 0 else H), (classes if l == L - 1 else H)
            ly = RefLayer(r["arch"], a, b, r, self.supermask, l == L - 1)
            ly.residual = r["residual"] and l > 0 and a == b and l != L - 1
            ly.index = l
            self.layers_.append(ly)
        self.head = self.head_bias = None
        if r["skip_head"]:  # logits = (head(h_{L-1}) + h_L) / 2 (slt.md section 5)
            init = (r["weight_init"], r["score_init"]) if self.supermask else (
                "torch" if r["init"] == "default" else r["init"])
            self.head = Matrix(H, classes, self.supermask, init)
            self.head_init = init
            if r["bias"]:
                self.head_bias = nn.Parameter((torch.rand(classes, dtype=torch.float64) * 2 - 1).div_(
                    math.sqrt(H)).float())
        if Draws.on():
            self.redraw()
        if self.supermask:
            self.freeze()
            self.after_step()

    def redraw(self):
        """frost_model_init's draws: matrix k of frost's order on streams
        (WEIGHT, k) and (SCORE, k); layer l's bias on (BIAS, 2 l), the head's
        on (BIAS, 1 << 20); GCN biases zero (the kind's rule)."""
        if self.r["arch"] not in ("gcn", "gin", "mlp"):
            raise RefError(f"--draws frost: model {self.r['arch']!r} is not mirrored (gcn, gin, mlp)")
        k = 0
        for ly in self.layers_:
            for m in ly.matrices():
                m.redraw(k, ly.init)
                k += 1
        if self.head is not None:
            self.head.redraw(k, self.head_init)
        with torch.no_grad():
            for l, ly in enumerate(self.layers_):
                if ly.bias is not None and ly.arch != "gcn":
                    ly.bias.copy_(Draws.bias(ly.fout, ly.fin, 2 * l))
            if self.head_bias is not None:
                self.head_bias.copy_(Draws.bias(self.head_bias.numel(), self.r["hidden"], 1 << 20))

    def matrices(self):
        """Every masked matrix in frost's order: the layers', then the head."""
        out = []
        for ly in self.layers_:
            out.extend(ly.matrices())
        if self.head is not None:
            out.append(self.head)
        return out

    def freeze(self):
        """Pruned and locked counts per matrix (frost__supermask_init):
        survivors at density 1 - p give the pruned, at 1 - (p + r) the frozen;
        locked = frozen - pruned."""
        r = self.r
        mats = self.matrices()
        sizes = [m.n for m in mats]
        rows = [m.rows for m in mats]
        cols = [m.cols for m in mats]
        keep_p = layer_survivors(sizes, rows, cols, 1.0 - r["prune_ratio"], r["distribution"])
        keep_f = layer_survivors(sizes, rows, cols, 1.0 - (r["prune_ratio"] + r["lock_ratio"]), r["distribution"])
        for m, n, kp, kf in zip(mats, sizes, keep_p, keep_f):
            n_pruned, n_frozen = n - kp, n - kf
            m.freeze(n_pruned, max(n_frozen - n_pruned, 0))

    @torch.no_grad()
    def after_step(self):
        """The mask from the scores (supermask.c mask_range): k weights masked,
        k = floor(N s) over all matrices (slt.threshold global) or per matrix;
        pruned ones first, then the smallest |score| of the free ones (ties at
        the threshold: the earliest positions are masked). Locked always kept."""
        if not self.supermask:
            return
        r = self.r
        mats = self.matrices()
        if r["threshold"] == "global":
            groups = [(mats, floor_frac(sum(m.n for m in mats), r["sparsity"]))]
        else:
            groups = [([m], floor_frac(m.n, r["sparsity"])) for m in mats]
        for grp, k in groups:
            keys = torch.cat([m.scores.detach().view(-1)[m.free_idx].abs() for m in grp])
            kf = k - sum(m.n_pruned for m in grp)
            nf = keys.numel()
            if kf <= 0:
                keep = torch.ones(nf, dtype=torch.bool)
            elif kf >= nf:
                keep = torch.zeros(nf, dtype=torch.bool)
            else:
                v = torch.kthvalue(keys, kf).values
                keep = keys > v
                eq = (keys == v).nonzero().flatten()
                budget = kf - int((keys < v).sum())
                keep[eq[budget:]] = True
            off = 0
            for m in grp:
                kv = m.keep.view(-1)
                kv.zero_()
                kv[m.locked_idx] = 1.0
                cnt = m.free_idx.numel()
                kv[m.free_idx] = keep[off:off + cnt].float()
                off += cnt
        for m in mats:  # slt.scale
            scale = 1.0
            if r["scale"] == "static" and r["sparsity"] < 1:
                scale = 1.0 / math.sqrt(1.0 - r["sparsity"])
            elif r["scale"] == "dynamic":
                kept = int(m.keep.sum())
                scale = math.sqrt(m.n / kept) if kept > 0 else 1.0
            m.base_scaled.copy_(m.base * scale)

    def describe(self):
        """Per matrix: shape, pruned, locked, kept now."""
        return [{"rows": m.rows, "cols": m.cols, "pruned": m.n_pruned, "locked": m.n_locked,
                 "kept": int(m.keep.sum())} for m in self.matrices()] if self.supermask else []

    def trainable(self):
        """What the optimizer updates (model.c's parameter list): scores of a
        ticket or weights, then biases and affine batch norm."""
        return [p for p in self.parameters() if p.requires_grad]

    def forward(self, x, op):
        """x: the input features (Features)."""
        r = self.r
        if self.training and r["input_dropout"] > 0:
            x = x.dropped(r["input_dropout"])
        head_out = None
        L = len(self.layers_)
        for l, ly in enumerate(self.layers_):
            if self.head is not None and l == L - 1:  # the head reads the last layer's input
                head_out = x @ self.head()
                if self.head_bias is not None:
                    head_out = head_out + self.head_bias
            x = ly(x, op)
        return 0.5 * (head_out + x) if self.head is not None else x


def lr_at(r, e, epochs):
    """frost_optim_lr (src/train/optim.c) for epoch e (0-based); the cosine
    period is the run's epochs (run_exec.c)."""
    if r["schedule"] == "cosine":
        T = epochs if epochs > 0 else 1
        return r["lr_min"] + (r["lr"] - r["lr_min"]) * (1.0 + math.cos(math.pi * e / T)) / 2.0
    if r["schedule"] == "step":
        return r["lr"] * r["gamma"] ** math.floor(e / max(r["step_size"], 1))
    return r["lr"]


def make_optimizer(r, params):
    """PyTorch's own optimizers: frost's optim.c follows them step for step
    (coupled weight decay for sgd/adam, decoupled for adamw; betas 0.9,
    0.999, eps 1e-8), on every trainable tensor."""
    if r["optim"] == "sgd":
        mom = r["momentum"]
        return torch.optim.SGD(params, lr=r["lr"], momentum=mom, nesterov=r["nesterov"] and mom > 0,
                               weight_decay=r["weight_decay"])
    cls = torch.optim.AdamW if r["optim"] == "adamw" else torch.optim.Adam
    return cls(params, lr=r["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=r["weight_decay"])


def accuracy(logits, y, idx):
    """OGB accuracy over the nodes of idx with a label (metrics.c)."""
    idx = idx[y[idx] >= 0]
    if idx.numel() == 0:
        return float("nan")
    return (logits[idx].argmax(1) == y[idx]).double().mean().item()


def train_one(r, data, op, seed, log, history=False):
    """One run of frost_train (src/train/train.c): per epoch a train-mode
    forward, cross-entropy on the training nodes, backward, the optimizer step
    with the schedule's lr, the supermask update; every eval_every epochs (and
    at the last) an eval-mode forward and the metrics. The test metric is
    reported at the epoch with the best validation metric (the first, on ties)."""
    torch.manual_seed(seed)
    Draws.seed, Draws.epoch = seed, 0
    x, y = data["x"], data["y"]
    model = RefModel(r, data["features"], data["classes"])
    opt = make_optimizer(r, model.trainable())
    tr = data["train"][y[data["train"]] >= 0]
    y_tr = y[tr]
    epochs, every = r["epochs"], max(r["eval_every"], 1)
    best = {"valid": -math.inf, "epoch": 0, "test": float("nan"), "train": float("nan")}
    since_best, loss_v, ran, status = 0, float("nan"), 0, "ok"
    hist = []
    t0 = time.perf_counter()
    for e in range(epochs):
        lr = lr_at(r, e, epochs)
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        Draws.epoch = e
        out = model(x, op)
        loss = F.cross_entropy(out[tr], y_tr)
        loss_v = loss.item()
        ran = e + 1
        if not math.isfinite(loss_v):
            status = "diverged"
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.after_step()
        if (e + 1) % every == 0 or e == epochs - 1:
            model.eval()
            with torch.no_grad():
                logits = model(x, op)
            va = accuracy(logits, y, data["valid"])
            if history:
                hist.append({"epoch": e + 1, "loss": loss_v, "lr": lr, "valid": va,
                             "test": accuracy(logits, y, data["test"])})
            v = float(e) if math.isnan(va) else va
            if v > best["valid"]:
                best = {"valid": v, "epoch": e + 1, "test": accuracy(logits, y, data["test"]),
                        "train": accuracy(logits, y, data["train"])}
                since_best = 0
            else:
                since_best += 1
                if r["patience"] > 0 and since_best >= r["patience"]:
                    break
        if log and (e + 1) % 50 == 0:
            print(f"    seed {seed} epoch {e + 1}: loss {loss_v:.4f}", file=sys.stderr, flush=True)
    return {"seed": seed, "best_epoch": best["epoch"], "valid": best["valid"], "test": best["test"],
            "train": best["train"], "final_loss": loss_v, "epochs_run": ran, "status": status,
            "seconds": time.perf_counter() - t0, "matrices": model.describe(), "history": hist}


def prepare(r, d):
    """Features, operator and split of a loaded dataset under recipe r."""
    x = d["x"]
    if r["normalize"] == "row":
        x = row_normalize(x)
    row, col = aggregation_edges(d, r["undirected"], r["self_loops"])
    op = build_operator(r, d["n"], row, col)
    density = float((x != 0).float().mean()) if x.numel() else 1.0
    data = {"x": Features(x, density < 0.1), "features": x.shape[1], "y": d["y"], "classes": d["classes"],
            "train": d["train"], "valid": d["valid"], "test": d["test"]}
    return data, op, row


def load_frost_state(model, params, bn):
    """A trained model's state as frost stores it (results/README.md; model.c
    parameter order, model_io.c): per layer its weight matrices (fin, fout)
    row-major, bias, affine batch norm; then the head's weight and bias;
    running mean and variance layer by layer."""
    params, bn = torch.from_numpy(params), torch.from_numpy(bn)
    o = 0

    def take(n):
        nonlocal o
        v = params[o:o + n]
        o += n
        return v

    with torch.no_grad():
        for ly in model.layers_:
            for m in ly.matrices():
                m.weight.copy_(take(m.n).view(m.rows, m.cols))
            if ly.bias is not None:
                ly.bias.copy_(take(ly.fout))
            if ly.bn is not None and ly.bn.affine:
                ly.bn.weight.copy_(take(ly.fout))
                ly.bn.bias.copy_(take(ly.fout))
        if model.head is not None:
            model.head.weight.copy_(take(model.head.n).view(model.head.rows, model.head.cols))
            if model.head_bias is not None:
                model.head_bias.copy_(take(model.head.cols))
        if o != params.numel():
            raise RefError(f"frost stored {params.numel()} parameter values, the reference model has {o}")
        o = 0
        for ly in model.layers_:
            if ly.bn is not None:
                ly.bn.running_mean.copy_(bn[o:o + ly.fout])
                ly.bn.running_var.copy_(bn[o + ly.fout:o + 2 * ly.fout])
                o += 2 * ly.fout
        if o != bn.numel():
            raise RefError(f"frost stored {bn.numel()} batch-norm values, the reference model has {o}")


def check_main(a):
    """--check-frost RESULTS: the reference's eval-mode forward with the
    weights frost trained (every weight-trained run of the results file, its
    own stored configuration) against the metrics frost recorded. Checks the
    data preparation, operators and forward pass without any randomness."""
    import frostcfg
    torch.set_num_threads(a.threads)
    out, cache = [], {}
    with h5py.File(a.check_frost, "r") as f:
        for rid, g in f["runs"].items():
            at = g.attrs
            dec = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731
            try:
                cfg = frostcfg.loads(dec(at["config"]))
                r = recipe_from_config(cfg)
                if r["method"] != "trained":
                    print(f"torch_ref: {rid}: method {r['method']}: only weight-trained runs can be checked "
                          f"(a ticket's random weights are frost's own draws)", file=sys.stderr)
                    continue
                path = a.dataset or resolve_dataset(r["dataset"], "")
                key = (path, r["split"], r["normalize"], r["undirected"], r["self_loops"], r["arch"],
                       r["gcn_norm"], r["gin_eps"])
                if key not in cache:
                    cache[key] = prepare(r, load_task(path, r["split"]))[:2]
                data, op = cache[key]
                torch.manual_seed(0)
                model = RefModel(r, data["features"], data["classes"])
                load_frost_state(model, g["state/params"][:], g["state/bn"][:] if "bn" in g["state"] else
                                 np.zeros(0, np.float32))
            except (RefError, frostcfg.ConfigError, OSError, KeyError) as err:
                sys.exit(f"torch_ref: {rid}: {err}")
            model.eval()
            with torch.no_grad():
                logits = model(data["x"], op)
            y = data["y"]
            mine = {k: accuracy(logits, y, data[k]) for k in ("train", "valid", "test")}
            theirs = {"train": float(at["train_metric"]), "valid": float(at["val_metric"]),
                      "test": float(at["test_metric"])}
            diff = max(abs(mine[k] - theirs[k]) for k in mine)
            out.append({"run": rid, "reference": mine, "frost": theirs, "max_abs_diff": diff})
            print(f"  {rid}: reference test {100 * mine['test']:.2f} valid {100 * mine['valid']:.2f} "
                  f"train {100 * mine['train']:.2f}; frost {100 * theirs['test']:.2f} {100 * theirs['valid']:.2f} "
                  f"{100 * theirs['train']:.2f}", file=sys.stderr)
    res = {"framework": "pytorch", "mode": "check", "results": a.check_frost, "runs": out,
           "max_abs_diff": max((q["max_abs_diff"] for q in out), default=float("nan"))}
    same = sum(1 for q in out if q["max_abs_diff"] == 0)
    print(f"torch_ref: {same} of {len(out)} runs give frost's train, valid and test metrics exactly",
          file=sys.stderr)
    text = json.dumps(res)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(text, flush=True)


def train_main(a):
    import frostcfg
    torch.set_num_threads(a.threads)
    Draws.mode = a.draws
    try:
        cfg = frostcfg.load(a.config)
        r = recipe_from_config(cfg)
        if a.epochs is not None:
            r["epochs"] = a.epochs
        path = a.dataset or resolve_dataset(r["dataset"], a.config)
        split = a.split or r["split"]
        t0 = time.perf_counter()
        d = load_task(path, split)
    except (RefError, frostcfg.ConfigError, OSError, KeyError) as err:
        sys.exit(f"torch_ref: {err}")
    data, op, row = prepare(r, d)
    n, x = d["n"], d["x"]
    prep_s = time.perf_counter() - t0
    if a.seeds:
        seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
    else:
        seeds = cfg_get(cfg, "seeds", None) or list(range(int(cfg_get(cfg, "seed", 0)),
                                                          int(cfg_get(cfg, "seed", 0)) + int(cfg_get(cfg, "runs", 1))))
    what = f"{r['method']} {r['arch']}"
    if r["method"] == "slt":
        what += f" s {r['sparsity']:g} p {r['prune_ratio']:g} r {r['lock_ratio']:g}"
    print(f"torch_ref: {what} on {path} (split {d['split']}), {r['epochs']} epochs, seeds "
          f"{','.join(map(str, seeds))}, torch {torch.__version__}, {a.threads} threads; "
          f"{n} nodes, {row.numel()} aggregation entries, {x.shape[1]} features, prepared in {prep_s:.2f} s",
          file=sys.stderr, flush=True)
    runs = []
    for s in seeds:
        res = train_one(r, data, op, s, not a.quiet, a.history)
        runs.append(res)
        if a.describe and res["matrices"]:
            for k, m in enumerate(res["matrices"]):
                print(f"    matrix {k}: {m['rows']} x {m['cols']}, pruned {m['pruned']}, locked {m['locked']}, "
                      f"kept {m['kept']}", file=sys.stderr)
        print(f"  seed {s}: test {100 * res['test']:.2f} at epoch {res['best_epoch']} (valid "
              f"{100 * res['valid']:.2f}), final loss {res['final_loss']:.4f}, {res['seconds']:.1f} s",
              file=sys.stderr, flush=True)
    tests = [100 * q["test"] for q in runs]
    summary = {"framework": "pytorch", "mode": "train", "torch_version": torch.__version__, "config": a.config,
               "dataset": path, "split": d["split"], "method": r["method"], "model": r["arch"],
               "epochs": r["epochs"], "threads": a.threads, "seeds": seeds, "runs": runs, "draws": a.draws,
               "test_mean": statistics.mean(tests),
               "test_std": statistics.stdev(tests) if len(tests) > 1 else 0.0,
               "seconds": sum(q["seconds"] for q in runs)}
    if r["method"] == "slt":
        summary.update(sparsity=r["sparsity"], prune_ratio=r["prune_ratio"], lock_ratio=r["lock_ratio"])
    print(f"torch_ref: test {summary['test_mean']:.2f} +- {summary['test_std']:.2f} over {len(runs)} seeds "
          f"(sample std), {summary['seconds']:.1f} s", file=sys.stderr, flush=True)
    text = json.dumps(summary)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(text, flush=True)


# ---------------------------------------------------------------- main


def main():
    a = ARGS
    if a.check_frost is not None:
        check_main(a)
        return
    if a.config is not None:
        train_main(a)
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)

    t0 = time.perf_counter()
    d = load(a.dataset, a.split)
    load_s = time.perf_counter() - t0
    load_rss = current_rss_bytes()

    x, y, train = d["x"], d["y"], d["train"]
    n, nfeat, ncls = d["n"], x.shape[1], d["classes"]
    t0 = time.perf_counter()
    if a.model == "gcn":
        adj = gcn_matrix(d)
        model = GCN(nfeat, 256, ncls)
        opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.0)
    else:
        adj = mean_matrix(d)
        model = SLTGIN(nfeat, 386, ncls)
        opt = torch.optim.AdamW([m.scores for m in model.masked()], lr=0.01, weight_decay=0.0)
    prep_s = time.perf_counter() - t0
    edges = adj[0]._nnz()
    split = d["split"]
    del d

    y_train = y[train]

    def step():
        model.train()
        opt.zero_grad(set_to_none=True)
        out = model(x, adj)
        loss = F.cross_entropy(out[train], y_train)
        loss.backward()
        opt.step()
        model.after_step()
        return loss.item()

    losses, times = [], []
    for e in range(a.warmup + a.epochs):
        t0 = time.perf_counter()
        loss = step()
        dt = time.perf_counter() - t0
        losses.append(loss)
        if e >= a.warmup:
            times.append(dt)
    peak_rss = peak_rss_bytes()

    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        out = model(x, adj)
        eval_s = time.perf_counter() - t0
        train_acc = (out[train].argmax(1) == y_train).float().mean().item()

    res = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "model": a.model,
        "dataset": a.dataset,
        "nodes": n,
        "edges": edges,
        "features": nfeat,
        "classes": ncls,
        "threads": a.threads,
        "epochs": a.epochs,
        "epoch_median_s": statistics.median(times),
        "epoch_min_s": min(times),
        "epoch_max_s": max(times),
        "eval_forward_s": eval_s,
        "peak_rss_bytes": peak_rss,
        "load_rss_bytes": load_rss,
        "final_loss": losses[-1],
        "train_acc": train_acc,
    }
    mib = 1 << 20
    print(f"torch_ref: {a.model} on {a.dataset} (split {split}), torch {torch.__version__}, "
          f"{a.threads} threads\n"
          f"  {n} nodes, {edges} matrix nnz, {nfeat} features, {ncls} classes, "
          f"{train.numel()} train nodes\n"
          f"  load {load_s:.2f} s (RSS {load_rss / mib:.0f} MiB), matrix+model {prep_s:.2f} s\n"
          f"  epoch median {res['epoch_median_s']:.3f} s, min {res['epoch_min_s']:.3f}, "
          f"max {res['epoch_max_s']:.3f} ({a.epochs} timed after {a.warmup} warm-up)\n"
          f"  eval forward {eval_s:.3f} s, train acc {train_acc:.4f}\n"
          f"  epoch s {' '.join(f'{v:.3f}' for v in times)}\n"
          f"  loss {' '.join(f'{v:.4f}' for v in losses)}\n"
          f"  peak RSS {peak_rss / mib:.0f} MiB", file=sys.stderr)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch CPU reference for frost's training benchmarks.

Trains one of two models full-batch on a frost dataset file (HDF5) and times
it, so that benchmark scripts can run it side by side with frost:

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

Only torch, numpy and h5py are used (Debian's python3-torch). Propagation is
torch.sparse.mm on CSR tensors built once; like torch_sparse's SparseTensor
(PyG's fast path), the transposed matrix is also built once and used for the
backward pass instead of transposing on every step.

Prints a summary to stderr and one JSON line to stdout.

Usage: tools/bench/torch_ref.py DATASET.h5 [--model gcn|slt-gin] [--epochs 10]
         [--warmup 2] [--threads 2] [--seed 0] [--split NAME]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", help="frost dataset file (.h5)")
    p.add_argument("--model", choices=("gcn", "slt-gin"), default="gcn")
    p.add_argument("--epochs", type=int, default=10, help="timed epochs (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed epochs first (default 2)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", default=None, help="split name (default: the first in the file)")
    a = p.parse_args()
    if a.epochs < 1 or a.warmup < 0 or a.threads < 1:
        p.error("need --epochs >= 1, --warmup >= 0, --threads >= 1")
    return a


ARGS = parse_args()
# Before torch is imported, so that OpenMP and the BLAS pool get the same count.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

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
    """out = A @ x with a fixed sparse A; backward uses a precomputed A^T
    (what torch_sparse's SparseTensor matmul does with its cached CSC)."""

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
    """W * M in the forward pass; straight-through to the scores:
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


# ---------------------------------------------------------------- main


def main():
    a = ARGS
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

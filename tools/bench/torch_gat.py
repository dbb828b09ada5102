#!/usr/bin/python3
"""PyTorch CPU reference GAT for frost's benchmark (gat_vs_torch.py).

The model of experiments/cora-gat.cfg (Velickovic et al.'s recipe), written
as PyG's GATConv computes it, with plain torch operations (Debian's
python3-torch 1.13 has no PyG): per layer h = x W viewed as (N, K, D);
per-head scores a_src . h_j + a_dst . h_i over the in-neighbours of i and i
itself (the graph symmetrised, stored self-loops dropped, one added per
node, as frost does), LeakyReLU(0.2), softmax per destination (the maximum
by scatter_reduce, detached, as PyG's softmax), dropout on the coefficients,
messages alpha h_j summed by index_add_; heads concatenated in the hidden
layer and averaged in the output layer; bias; ELU and dropout between the
layers; dropout on the input. Glorot init, Adam with weight decay,
cross-entropy on the training nodes.

Prints a summary to stderr and one JSON line to stdout (the fields of
torch_ref.py).

Usage: tools/bench/torch_gat.py DATASET.h5 [--epochs 10] [--warmup 2]
         [--threads 2] [--layers 2] [--hidden 64] [--heads 8] [--out-heads 1]
         [--dropout 0.6] [--lr 0.005] [--split NAME]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--out-heads", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.6)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", default=None)
    return p.parse_args()


ARGS = parse_args()
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load(path, split):
    with h5py.File(path, "r") as f:
        n = int(f.attrs["num_nodes"])
        nclass = int(f.attrs["num_classes"])
        split = split or list(f["split"].keys())[0]
        d = {
            "indptr": torch.from_numpy(f["graph/indptr"][:].astype(np.int64)),
            "indices": torch.from_numpy(f["graph/indices"][:].astype(np.int64)),
            "x": torch.from_numpy(f["node/feat"][:].astype(np.float32)),
            "y": torch.from_numpy(f["node/label"][:].astype(np.int64)),
            "train": torch.from_numpy(f[f"split/{split}/train"][:].astype(np.int64)),
            "n": n, "classes": nclass, "split": split,
        }
    return d


def edges(d):
    """(src, dst) of the symmetrised graph without stored self-loops, plus one
    self-loop per node: dst aggregates from src."""
    n = d["n"]
    a = torch.repeat_interleave(torch.arange(n), d["indptr"].diff())
    b = d["indices"]
    key = torch.unique(torch.cat([a * n + b, b * n + a]))
    src, dst = key // n, key % n
    off = src != dst
    loop = torch.arange(n)
    return torch.cat([src[off], loop]), torch.cat([dst[off], loop])


class GATConv(nn.Module):
    def __init__(self, fin, heads, d, concat, dropout):
        super().__init__()
        self.k, self.d, self.concat, self.dropout = heads, d, concat, dropout
        self.lin = nn.Parameter(torch.empty(fin, heads * d))
        self.att_src = nn.Parameter(torch.empty(1, heads, d))
        self.att_dst = nn.Parameter(torch.empty(1, heads, d))
        self.bias = nn.Parameter(torch.zeros(heads * d if concat else d))
        nn.init.xavier_uniform_(self.lin)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def forward(self, x, src, dst):
        n, k, d = x.shape[0], self.k, self.d
        h = (x @ self.lin).view(n, k, d)
        a_s = (h * self.att_src).sum(-1)
        a_d = (h * self.att_dst).sum(-1)
        e = F.leaky_relu(a_s[src] + a_d[dst], 0.2)  # (E, K)
        idx = dst.unsqueeze(-1).expand(-1, k)
        emax = torch.full((n, k), -float("inf")).scatter_reduce(0, idx, e.detach(), reduce="amax", include_self=True)
        ex = (e - emax[dst]).exp()
        den = torch.zeros(n, k).index_add_(0, dst, ex)
        alpha = F.dropout(ex / den[dst], self.dropout, self.training)
        out = torch.zeros(n, k, d).index_add_(0, dst, h[src] * alpha.unsqueeze(-1))
        out = out.reshape(n, k * d) if self.concat else out.mean(1)
        return out + self.bias


class GAT(nn.Module):
    def __init__(self, fin, hidden, fout, layers, heads, out_heads, dropout):
        super().__init__()
        convs = []
        for l in range(layers):
            last = l == layers - 1
            convs.append(GATConv(fin if l == 0 else hidden, out_heads if last else heads,
                                 fout if last else hidden // heads, not last, dropout))
        self.convs = nn.ModuleList(convs)
        self.dropout = dropout

    def forward(self, x, src, dst):
        x = F.dropout(x, self.dropout, self.training)
        for conv in self.convs[:-1]:
            x = F.dropout(F.elu(conv(x, src, dst)), self.dropout, self.training)
        return self.convs[-1](x, src, dst)


def main():
    a = ARGS
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d = load(a.dataset, a.split)
    x, y, train = d["x"], d["y"], d["train"]
    src, dst = edges(d)
    n, ncls = d["n"], d["classes"]
    del d
    model = GAT(x.shape[1], a.hidden, ncls, a.layers, a.heads, a.out_heads, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    y_train = y[train]
    times, losses = [], []
    for e in range(a.warmup + a.epochs):
        t0 = time.perf_counter()
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x, src, dst)[train], y_train)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        losses.append(loss.item())
        if e >= a.warmup:
            times.append(dt)
    peak = peak_rss_bytes()
    res = {
        "framework": "pytorch", "torch_version": torch.__version__, "model": "gat", "dataset": a.dataset,
        "nodes": n, "edges": int(src.numel()), "threads": a.threads, "epochs": a.epochs,
        "epoch_median_s": statistics.median(times), "epoch_min_s": min(times), "epoch_max_s": max(times),
        "peak_rss_bytes": peak, "final_loss": losses[-1],
    }
    print(f"torch_gat: {n} nodes, {src.numel()} entries with self-loops, {a.layers} layers, "
          f"{a.heads} heads x {a.hidden // a.heads}, out heads {a.out_heads}, torch {torch.__version__}, "
          f"{a.threads} threads\n  epoch s {' '.join(f'{v:.3f}' for v in times)}\n"
          f"  loss {' '.join(f'{v:.4f}' for v in losses)}\n  peak RSS {peak / 2**20:.0f} MiB", file=sys.stderr)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()

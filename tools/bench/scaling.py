#!/usr/bin/python3
"""Epoch time of the GCN arxiv recipe against graph size, with a linear fit.

Makes four synthetic graphs (`frost synth`, 128 features, 40 classes) whose
node and edge counts vary independently, times training epochs on each with
`frost bench --what gcn`, and fits  t = c0 + c1 * nodes + c2 * edges  by least
squares. Prints a markdown table (measured, fitted, residual) and the fit, and
writes them as JSON (--json) and markdown (--md).

Usage: tools/bench/scaling.py [--frost build/frost] [--dir /tmp/frost-scaling]
       [--repeat 3] [--warmup 1] [--threads 2] [--json FILE] [--md FILE]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (nodes, undirected edges): two degrees at two node counts, so that the node
# and edge terms of the fit are separable
SIZES = [(100_000, 1_000_000), (200_000, 2_000_000), (200_000, 8_000_000), (800_000, 8_000_000)]


def solve3(a, b):
    """Solve the 3x3 system a x = b (Gaussian elimination, partial pivoting)."""
    m = [row[:] + [bi] for row, bi in zip(a, b)]
    for c in range(3):
        p = max(range(c, 3), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, 3):
            f = m[r][c] / m[c][c]
            for k in range(c, 4):
                m[r][k] -= f * m[c][k]
    x = [0.0] * 3
    for r in (2, 1, 0):
        x[r] = (m[r][3] - sum(m[r][k] * x[k] for k in range(r + 1, 3))) / m[r][r]
    return x


def fit(points):
    """Least squares t = c0 + c1 n + c2 e through the normal equations."""
    rows = [(1.0, float(n), float(e)) for n, e, _ in points]
    ts = [t for _, _, t in points]
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(3)] for i in range(3)]
    atb = [sum(r[i] * t for r, t in zip(rows, ts)) for i in range(3)]
    return solve3(ata, atb)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frost", default=os.path.join(ROOT, "build", "frost"))
    ap.add_argument("--dir", default="/tmp/frost-scaling")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--md", default=None)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    points = []
    for n, e in SIZES:
        path = os.path.join(a.dir, f"synth-{n}-{e}.h5")
        if not os.path.exists(path):
            print(f"synth {n} nodes, {e} edges ...", file=sys.stderr, flush=True)
            subprocess.run([a.frost, "synth", path, "--nodes", str(n), "--edges", str(e), "--features", "128",
                            "--classes", "40", "--quiet"], check=True)
        js = os.path.join(a.dir, f"bench-{n}-{e}.json")
        print(f"bench {n} nodes, {e} edges ...", file=sys.stderr, flush=True)
        subprocess.run([a.frost, "bench", path, "--what", "gcn", "--repeat", str(a.repeat), "--warmup",
                        str(a.warmup), "--threads", str(a.threads), "--json", js], check=True,
                       stdout=subprocess.DEVNULL)
        with open(js) as f:
            r = json.load(f)
        points.append((n, 2 * e, r["epoch_gcn"]["median_s"]))  # edges stored in both directions
    c = fit(points)
    lines = ["| nodes | stored edges | epoch (s, median) | fit (s) | residual |", "|---:|---:|---:|---:|---:|"]
    rows = []
    for n, e, t in points:
        ft = c[0] + c[1] * n + c[2] * e
        lines.append(f"| {n:,} | {e:,} | {t:.3f} | {ft:.3f} | {t - ft:+.3f} |")
        rows.append({"nodes": n, "stored_edges": e, "epoch_median_s": t, "fit_s": ft})
    lines.append("")
    lines.append(f"fit: t = {c[0]:.3f} s + {c[1] * 1e6:.3f} us x nodes + {c[2] * 1e9:.2f} ns x stored edges "
                 f"({a.threads} threads; GCN 3 x 256, BatchNorm, dropout 0.5, Adam)")
    text = "\n".join(lines)
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write(text + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"points": rows, "fit": {"c0_s": c[0], "per_node_s": c[1], "per_edge_s": c[2]},
                       "threads": a.threads}, f, indent=2)


if __name__ == "__main__":
    main()

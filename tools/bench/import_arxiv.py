#!/usr/bin/python3
"""Import benchmark at ogbn-arxiv scale: `frost import ogb` against numpy.loadtxt.

Makes (once, cached) an OGB raw folder shaped like ogbn-arxiv: 169,343 nodes,
1,166,243 edges, 128 float features written with six decimals like OGB's
node-feat.csv.gz (about 85 MB gzipped), 40 classes, node_year and a split.
Then times `frost import ogb` (median of --repeat runs, with its peak RSS) and
numpy.loadtxt on the same node-feat.csv.gz, and prints the ratio.

Usage: tools/bench/import_arxiv.py [--frost build/frost] [--dir DIR] [--repeat 3]
"""
import argparse
import gzip
import os
import resource
import subprocess
import sys
import time

import numpy as np

N, E, F, C = 169343, 1166243, 128, 40


def make_raw(d):
    raw = os.path.join(d, "raw")
    if os.path.exists(os.path.join(raw, "node-feat.csv.gz")):
        return
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(0)
    t0 = time.time()

    def wgz(name, text):
        with gzip.open(os.path.join(raw, name), "wt", compresslevel=6) as f:
            f.write(text)

    wgz("num-node-list.csv.gz", f"{N}\n")
    wgz("num-edge-list.csv.gz", f"{E}\n")
    src = rng.integers(0, N, E)
    dst = rng.integers(0, N, E)
    with gzip.open(os.path.join(raw, "edge.csv.gz"), "wt", compresslevel=6) as f:
        np.savetxt(f, np.stack([src, dst], 1), fmt="%d", delimiter=",")
    with gzip.open(os.path.join(raw, "node-label.csv.gz"), "wt", compresslevel=6) as f:
        np.savetxt(f, rng.integers(0, C, N), fmt="%d")
    with gzip.open(os.path.join(raw, "node_year.csv.gz"), "wt", compresslevel=6) as f:
        np.savetxt(f, rng.integers(1971, 2021, N), fmt="%d")
    # arxiv's features are averaged word embeddings: roughly N(0, 0.1^2)
    x = rng.normal(0.0, 0.1, (N, F)).astype(np.float32)
    with gzip.open(os.path.join(raw, "node-feat.csv.gz"), "wt", compresslevel=6) as f:
        np.savetxt(f, x, fmt="%.6f", delimiter=",")
    perm = rng.permutation(N)
    parts = {"train": perm[:90941], "valid": perm[90941:90941 + 29799], "test": perm[90941 + 29799:]}
    sd = os.path.join(d, "split", "time")
    os.makedirs(sd, exist_ok=True)
    for k, v in parts.items():
        with gzip.open(os.path.join(sd, k + ".csv.gz"), "wt", compresslevel=6) as f:
            np.savetxt(f, np.sort(v), fmt="%d")
    print(f"made {d} in {time.time() - t0:.1f} s", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frost", default="build/frost")
    ap.add_argument("--dir", default="build/bench/arxiv-raw")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-numpy", action="store_true")
    a = ap.parse_args()
    make_raw(a.dir)
    feat = os.path.join(a.dir, "raw", "node-feat.csv.gz")
    out = os.path.join(os.path.dirname(a.dir.rstrip("/")), "arxiv-import.h5")
    times, rss = [], []
    for _ in range(a.repeat):
        t0 = time.time()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", a.frost, "import", "ogb", a.dir, out,
                            "--add-inverse-edges", "--quiet"], capture_output=True, text=True)
        dt = time.time() - t0
        if r.returncode != 0:
            sys.exit(f"frost import failed: {r.stderr}")
        times.append(dt)
        rss.append(int(r.stderr.strip().splitlines()[-1]) * 1024)
    times.sort()
    med = times[len(times) // 2]
    threads = os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))
    # the dataset held in memory: features + CSR + labels/year/split
    final = N * F * 4 + (N + 1) * 8 + 2 * E * 4 + N * 4 * 2 + N * 8
    print(f"node-feat.csv.gz: {os.path.getsize(feat) / 1e6:.1f} MB, {N} x {F}")
    print(f"frost import ogb: median {med:.2f} s (min {times[0]:.2f}, max {times[-1]:.2f}, {a.repeat} runs, "
          f"{threads} threads), peak RSS {max(rss) / 2**20:.0f} MiB = {max(rss) / final:.2f}x the "
          f"in-memory dataset ({final / 2**20:.0f} MiB)")
    if not a.skip_numpy:
        t0 = time.time()
        x = np.loadtxt(feat, delimiter=",", dtype=np.float32)
        tn = time.time() - t0
        assert x.shape == (N, F)
        print(f"numpy.loadtxt (node-feat only): {tn:.2f} s")
        print(f"ratio: frost import (whole folder) takes {med / tn:.2f}x the time of numpy.loadtxt of the features alone")


if __name__ == "__main__":
    main()

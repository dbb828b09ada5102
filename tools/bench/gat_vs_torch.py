#!/usr/bin/python3
"""One GAT training epoch, frost against PyTorch, on the same graph in one run.

The model is experiments/cora-gat.cfg's (2 layers, 8 heads of 8
concatenated, ELU, one output head; dropout 0.6 on the inputs and the
attention coefficients; Adam lr 0.005, weight decay 5e-4) on the
ogbn-arxiv-sized synthetic graph (`frost synth --preset arxiv`, made once
and cached), split "random":

  frost:   `frost run experiments/cora-gat.cfg` on that dataset (12 epochs,
           one evaluation at the end), epoch times from the results file
           (train_seconds: forward, backward, update), peak RSS from
           /usr/bin/time;
  PyTorch: tools/bench/torch_gat.py, the same model in plain torch.

Prints median / min / max seconds per epoch, peak RSS and the frost/PyTorch
ratios of each round (frost and PyTorch alternate), and writes JSON (--json).

Usage: tools/bench/gat_vs_torch.py [--threads 2] [--rounds N] [--epochs 10]
       [--frost build/frost] [--dataset build/bench/arxiv.h5] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import frostcfg  # noqa: E402


def run_frost(frost, dataset, threads, epochs, warmup):
    return frostcfg.time_frost_epochs(frost, os.path.join(ROOT, "experiments", "cora-gat.cfg"), dataset, threads,
                                      epochs, warmup, ["patience=0", 'features.normalize="none"'])


def run_torch(dataset, threads, epochs, warmup):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_gat.py"), dataset, "--threads", str(threads),
           "--epochs", str(epochs), "--warmup", str(warmup), "--split", "random"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"torch_gat.py failed: {r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--frost", default=os.path.join(ROOT, "build", "frost"))
    ap.add_argument("--dataset", default=os.path.join(ROOT, "build", "bench", "arxiv.h5"))
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if not os.path.exists(a.dataset):
        os.makedirs(os.path.dirname(a.dataset), exist_ok=True)
        subprocess.run([a.frost, "synth", a.dataset, "--preset", "arxiv", "--quiet"], check=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    report = {"dataset": a.dataset, "threads": a.threads, "load_before": load, "rounds": []}
    for k in range(a.rounds):
        fr = run_frost(a.frost, a.dataset, a.threads, a.epochs, a.warmup)
        to = run_torch(a.dataset, a.threads, a.epochs, a.warmup)
        rt = fr["epoch_median_s"] / to["epoch_median_s"]
        rm = fr["peak_rss_bytes"] / to["peak_rss_bytes"]
        report["rounds"].append({"frost": fr, "pytorch": to, "time_ratio": rt, "rss_ratio": rm})
        print(f"gat (round {k + 1} of {a.rounds}): frost {fr['epoch_median_s']:.3f} s/epoch (min "
              f"{fr['epoch_min_s']:.3f}, max {fr['epoch_max_s']:.3f}), peak RSS {fr['peak_rss_bytes'] / 2**20:.0f} MiB "
              f"| PyTorch {to['torch_version']} {to['epoch_median_s']:.3f} s/epoch, peak RSS "
              f"{to['peak_rss_bytes'] / 2**20:.0f} MiB | time ratio {rt:.3f}x, memory ratio {rm:.3f}x "
              f"({a.threads} threads, load {' '.join(load)})", flush=True)
    if a.rounds > 1:
        tr = [r["time_ratio"] for r in report["rounds"]]
        print(f"gat: {a.rounds} rounds: time ratio median {statistics.median(tr):.3f}x, max {max(tr):.3f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Plot a frost results file with matplotlib: test metric against model size
(one point per configuration, mean +- sample std over seeds, the
weight-trained model as a reference line) and the learning curves (validation
metric per evaluated epoch) of the runs.

Usage: tools/python/plot_results.py RESULTS.h5 [-o PREFIX] [--runs ID,ID,...]
Writes PREFIX-size.png and PREFIX-curves.png (PREFIX: RESULTS without .h5).
Needs python3-matplotlib, python3-h5py and python3-numpy (Debian).
"""
import argparse
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frost  # noqa: E402
import numpy as np  # noqa: E402


def configurations(runs):
    """Runs grouped by everything but their seed: (method, model, p, r, s) -> runs."""
    groups = defaultdict(list)
    for r in runs:
        if r.get("status") != "ok":
            continue
        # NaN (not a ticket) never equals itself: None groups the trained runs
        ratio = [None if v is None or np.isnan(v) else v for v in (r.get(k) for k in ("prune_ratio", "lock_ratio",
                                                                                       "sparsity"))]
        key = (r["method"], r["model"], *ratio)
        groups[key].append(r)
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("-o", "--output", help="file name prefix (default: RESULTS without .h5)")
    ap.add_argument("--runs", help="comma-separated run ids for the learning curves (default: every run, up to 12)")
    a = ap.parse_args()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_results.py: needs matplotlib (apt-get install python3-matplotlib)")
    prefix = a.output or (a.results[:-3] if a.results.endswith(".h5") else a.results)
    runs = frost.read_results(a.results)
    if not runs:
        sys.exit(f"{a.results}: no runs")
    metric = runs[0]["metric"]

    fig, ax = plt.subplots(figsize=(7, 4.5))
    groups = configurations(runs)
    for (method, model, p, r, s), rs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        t = 100 * np.array([x["test_metric"] for x in rs])
        kib = rs[0]["model_bits"] / 8192
        sd = t.std(ddof=1) if t.size > 1 else 0.0
        if method == "trained":
            ax.axhline(t.mean(), ls="--", c="0.3", label=f"weight-trained {model}: {t.mean():.2f} ± {sd:.2f}")
            ax.axvspan(kib * 0.97, kib * 1.03, color="0.85")
        else:
            ax.errorbar(kib, t.mean(), yerr=sd, fmt="o", capsize=3,
                        label=f"{method} {model} f={p + r:.2f} s={s:.2f}" if s is not None else f"{method} {model}")
    ax.set_xscale("log")
    ax.set_xlabel("model size to store (KiB, log scale)")
    ax.set_ylabel(f"test {metric} (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(prefix + "-size.png", dpi=120)
    print(prefix + "-size.png")

    chosen = a.runs.split(",") if a.runs else [r["id"] for r in runs][:12]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in runs:
        if r["id"] not in chosen or "history" not in r:
            continue
        h = r["history"]
        ok = ~np.isnan(h["valid_metric"])  # epochs without evaluation are NaN
        ax.plot(h["epoch"][ok], 100 * h["valid_metric"][ok], lw=1, label=r["id"])
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric} (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(prefix + "-curves.png", dpi=120)
    print(prefix + "-curves.png")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Choose the shipped strong-lottery-ticket recipes across every bundled
dataset with a standard split, by validation accuracy, and show the best
frozen ticket against its weight-trained counterpart on each.

  select   every candidate recipe (below) on every dataset: the weight-trained
           model and one ticket (f 0.2, s 0.5), 2 seeds each; a table of mean
           validation metric per recipe and dataset, and the recipe with the
           best mean over datasets (trained and ticket counted alike). Test
           metrics are printed too but never used to choose.
  final    the recipe the shipped experiment file now holds, per dataset:
           tickets at f in {0.2, 0.4} x s in {0.3, 0.5, 0.7} on seeds 0 and 1
           (screening; --screen-f, --screen-s, --screen-seeds), the point with the best mean validation metric then
           on seeds 0..4, against the weight-trained model on seeds 0..4
           (test mean +- sample std), with both compressions.

Recipes are `--set` overrides on the shipped experiment file
(experiments/cora-slt-gin.cfg or cora-slt-gcn.cfg), so the model, optimiser
and schedule are exactly those of the file. Results go to results/recipes/
and are resumed by frost itself: an interrupted stage continues where it
stopped.

Usage: tools/bench/slt_recipes.py select|final [--models gin,gcn] (final also: gat)
         [--datasets cora,...] [--frost build/frost] [--out results/recipes] [--threads N]
         [--screen-f "0.2, 0.4"] [--screen-s "0.3, 0.5, 0.7"] [--screen-seeds 2]
"""
import argparse
import math
import os
import statistics
import subprocess
import sys

import h5py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frostcfg import cfg_str  # noqa: E402

# every bundled dataset with a standard split (datasets/README.md)
DATASETS = {
    "cora": "public",
    "cora-ml": "random-0",
    "actor": "geom-gcn-0",
    "chameleon": "geom-gcn-0",
    "squirrel": "geom-gcn-0",
    "tolokers": "yandex-0",
}

# candidate recipes: the cora recipe (dropout 0.5 on input and hidden layers,
# row-normalised features), and without dropout on row-normalised or raw
# features (the paper's arxiv GIN has no dropout and raw features)
CANDIDATES = {
    "drop-row": ["model.dropout=0.5", "model.input_dropout=0.5", 'features.normalize="row"'],
    "nodrop-row": ["model.dropout=0.0", "model.input_dropout=0.0", 'features.normalize="row"'],
    "nodrop-raw": ["model.dropout=0.0", "model.input_dropout=0.0", 'features.normalize="none"'],
}

THREADS = 2
CFG = {"gin": "experiments/cora-slt-gin.cfg", "gcn": "experiments/cora-slt-gcn.cfg", "gat": "experiments/cora-slt-gat.cfg"}


def run_frost(frost, cfg, sets, out):
    cmd = [frost, "run", os.path.join(ROOT, cfg), "--quiet", "--set", f"output={cfg_str(out)}", "--set",
           f"threads={THREADS}"]
    for s in sets:
        cmd += ["--set", s]
    print("  $ " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"slt_recipes: frost failed on {out}: {r.stderr.strip()}")


def groups(path):
    """Runs of a results file grouped by configuration: key -> list of attrs."""
    g = {}
    with h5py.File(path, "r") as f:
        for rid, grp in f["runs"].items():
            a = grp.attrs
            method = a["method"].decode()
            key = (method,)
            if method == "slt":
                key = (method, round(float(a["prune_ratio"]) + float(a["lock_ratio"]), 6),
                       round(float(a["sparsity"]), 6))
            g.setdefault(key, []).append({
                "val": float(a["val_metric"]), "test": float(a["test_metric"]),
                "model_bits": int(a["model_bits"]), "dense_bits": int(a["dense_bits"]),
                "paper_bits": int(a["paper_bits"]) if "paper_bits" in a else -1,
            })
    return g


def ms(xs):
    m = statistics.mean(xs)
    s = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return 100 * m, 100 * s


def select(a):
    for model in a.models:
        rows = {}
        for rec, sets in CANDIDATES.items():
            for ds in a.datasets:
                out = os.path.join(a.out, f"select-{model}-{rec}-{ds}.h5")
                run_frost(a.frost, CFG[model], sets + [
                    f"dataset={cfg_str(ds)}", f"split={cfg_str(DATASETS[ds])}", "runs=2", 'method=["trained", "slt"]',
                    "slt.freeze=0.2", "slt.sparsity=0.5"], out)
                g = groups(out)
                tr = g[("trained",)]
                tk = next(v for k, v in g.items() if k[0] == "slt")
                rows[(rec, ds)] = (ms([r["val"] for r in tr]), ms([r["val"] for r in tk]),
                                   ms([r["test"] for r in tr]), ms([r["test"] for r in tk]))
        print(f"\n{model}: mean validation metric (2 seeds; trained / ticket f 0.2 s 0.5); test in brackets")
        print(f"{'recipe':<11}" + "".join(f"{ds:>22}" for ds in a.datasets) + f"{'mean':>16}")
        best = None
        for rec in CANDIDATES:
            cells, vals = [], []
            for ds in a.datasets:
                vt, vk, tt, tk = rows[(rec, ds)]
                cells.append(f"{vt[0]:5.1f}/{vk[0]:5.1f} [{tt[0]:4.1f}/{tk[0]:4.1f}]")
                vals += [vt[0], vk[0]]
            mean = statistics.mean(vals)
            print(f"{rec:<11}" + "".join(f"{c:>22}" for c in cells) + f"{mean:16.2f}")
            if best is None or mean > best[1]:
                best = (rec, mean)
        print(f"{model}: best recipe by mean validation over datasets: {best[0]} ({best[1]:.2f})")


def final(a):
    for model in a.models:
        print(f"\n{model} ({CFG[model]}): best frozen ticket (f >= 0.2, by mean validation) against the trained model,"
              f" 5 seeds, test mean +- sample std (screened: f in {{{a.screen_f}}} x s in {{{a.screen_s}}},"
              f" {a.screen_seeds} seed(s))")
        print(f"{'dataset':<10} {'trained':>14} {'ticket':>14} {'gap':>6} {'f':>4} {'s':>4} {'p':>5} {'r':>5}"
              f" {'compr.full':>10} {'compr.paper':>11} {'within 1.0 / >=35x':>19}")
        for ds in a.datasets:
            out = os.path.join(a.out, f"final-{model}-{ds}.h5")
            base = [f"dataset={cfg_str(ds)}", f"split={cfg_str(DATASETS[ds])}", 'method=["trained", "slt"]']
            # screening: every point on seeds 0 and 1, chosen by mean validation
            run_frost(a.frost, CFG[model], base + [f"runs={a.screen_seeds}", f"slt.freeze=[{a.screen_f}]",
                                                   f"slt.sparsity=[{a.screen_s}]"], out)
            g = groups(out)
            tickets = {k: v for k, v in g.items() if k[0] == "slt" and k[1] >= 0.2 - 1e-9}
            key = max(tickets, key=lambda k: statistics.mean(r["val"] for r in tickets[k]))
            f, s = key[1], key[2]
            # the chosen point and the trained model on seeds 0..4 (seeds 0 and 1 resumed)
            run_frost(a.frost, CFG[model], base + ["runs=5", f"slt.freeze=[{f}]", f"slt.sparsity=[{s}]"], out)
            g = groups(out)
            tr = g[("trained",)]
            tk = g[key]
            assert len(tr) == 5 and len(tk) == 5, (len(tr), len(tk))
            mt, st = ms([r["test"] for r in tr])
            mk, sk = ms([r["test"] for r in tk])
            full = tk[0]["dense_bits"] / tk[0]["model_bits"]
            paper = tk[0]["dense_bits"] / tk[0]["paper_bits"] if tk[0]["paper_bits"] > 0 else math.nan
            ok = (mk >= mt - 1.0) and full >= 35
            print(f"{ds:<10} {mt:6.2f} +- {st:4.2f} {mk:6.2f} +- {sk:4.2f} {mk - mt:+6.2f} {f:4.1f} {s:4.1f}"
                  f" {f * s:5.2f} {f * (1 - s):5.2f} {full:9.1f}x {paper:10.1f}x {'yes' if ok else 'NO':>19}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("stage", choices=("select", "final"))
    p.add_argument("--models", default="gin,gcn")
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--frost", default=os.path.join(ROOT, "build", "frost"))
    p.add_argument("--out", default=os.path.join(ROOT, "results", "recipes"))
    p.add_argument("--threads", type=int, default=2, help="frost threads per run (default 2)")
    p.add_argument("--screen-f", default="0.2, 0.4", help="final: freezing ratios screened (default 0.2, 0.4)")
    p.add_argument("--screen-s", default="0.3, 0.5, 0.7", help="final: sparsities screened (default 0.3, 0.5, 0.7)")
    p.add_argument("--screen-seeds", type=int, default=2, help="final: seeds of the screening (default 2)")
    a = p.parse_args()
    global THREADS
    THREADS = a.threads
    a.models = [m for m in a.models.split(",") if m]
    a.datasets = [d for d in a.datasets.split(",") if d]
    for m in a.models:
        if m not in CFG:
            p.error(f"unknown model {m}")
    for d in a.datasets:
        if d not in DATASETS:
            p.error(f"unknown dataset {d}")
    os.makedirs(a.out, exist_ok=True)
    (select if a.stage == "select" else final)(a)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Mini-batch modes against full batch, by accuracy, time and memory.

For each recipe it runs `frost run CFG` once per batch mode (full batch,
neighbour sampling, Cluster-GCN; --set overrides on the recipe file), each
in its own process, over the same seeds, and prints one row per recipe and
mode: test accuracy (mean +- sample std over seeds, at the best validation
epoch), the difference from full batch, training seconds per epoch (the
runs' train_seconds / epochs run, mean) and the process's peak RSS.

Recipes (--recipes, comma-separated):
  gcn          experiments/cora-gcn.cfg (Kipf & Welling's GCN)
  gin-ticket   experiments/cora-slt-gin.cfg as the ticket s 0.5, p 0.2, r 0.2
  FILE.cfg     any experiment file (one point)

Modes (--modes): full, neighbor (--fanout, --batch-size), cluster (--parts,
--parts-per-batch). The dataset and split are the recipe's unless --dataset /
--split replace them.

Usage: tools/bench/sampling.py [--recipes gcn,gin-ticket] [--modes full,neighbor]
         [--seeds 10] [--threads 1] [--fanout 10] [--batch-size 64] [--parts 8]
         [--parts-per-batch 2] [--epochs N] [--dataset D] [--split S]
         [--set KEY=VALUE ...] [--workdir DIR] [--json FILE] [--frost build/frost]
"""
import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import frostcfg  # noqa: E402

RECIPES = {
    "gcn": ("cora-gcn.cfg", []),
    "gin-ticket": ("cora-slt-gin.cfg", ['method="slt"', "slt.freeze=-1", "slt.sparsity=0.5", "slt.prune_ratio=0.2",
                                        "slt.lock_ratio=0.2"]),
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def mode_sets(a, mode, layers):
    if mode == "full":
        return ['batch.mode="full"']
    if mode == "neighbor":
        fan = [int(x) for x in a.fanout.split(",")]
        if len(fan) not in (1, layers):
            sys.exit(f"sampling: --fanout {a.fanout}: one value or {layers} (the recipe's layers)")
        return ['batch.mode="neighbor"', f"batch.size={a.batch_size}", f"batch.fanout=[{', '.join(map(str, fan))}]"]
    if mode == "cluster":
        return ['batch.mode="cluster"', f"batch.parts={a.parts}", f"batch.parts_per_batch={a.parts_per_batch}"]
    sys.exit(f"sampling: unknown mode {mode!r} (full, neighbor, cluster)")


def run_frost(a, cfg, sets, out_h5):
    """frost run in its own process; returns (runs, wall seconds, peak RSS MiB)."""
    cmd = [a.frost, "run", cfg, "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read()
    p.stderr.close()
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"sampling: {' '.join(cmd)} failed:\n{err.strip()}")
    runs = []
    with h5py.File(out_h5, "r") as f:
        for rid, g in f["runs"].items():
            at = g.attrs
            runs.append({"id": rid, "seed": int(at["seed"]), "test": float(at["test_metric"]),
                         "valid": float(at["val_metric"]), "best_epoch": int(at["best_epoch"]),
                         "epochs_run": int(at["epochs_run"]), "train_seconds": float(at["train_seconds"])})
    runs.sort(key=lambda q: q["seed"])
    return runs, wall, ru.ru_maxrss / 1024.0


def stats(vals):
    return statistics.mean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipes", default="gcn,gin-ticket")
    ap.add_argument("--modes", default="full,neighbor")
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fanout", default="10", help="in-neighbours per hop: one value or one per layer (default 10)")
    ap.add_argument("--batch-size", type=int, default=64, help="seed nodes per mini-batch (default 64)")
    ap.add_argument("--parts", type=int, default=8)
    ap.add_argument("--parts-per-batch", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=None, help="replace the recipes' epochs")
    ap.add_argument("--dataset", default=None, help="replace the recipes' dataset (name or .h5 path)")
    ap.add_argument("--split", default=None)
    ap.add_argument("--set", action="append", default=[], help="one more KEY=VALUE for every run")
    ap.add_argument("--frost", default=os.path.join(ROOT, "build", "frost"))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if a.seeds < 1 or a.threads < 1 or a.batch_size < 1:
        sys.exit("sampling: need --seeds, --threads and --batch-size >= 1")
    work, tmp = frostcfg.work_dir(a.workdir, "sampling-")
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    report = {"started": datetime.datetime.now().isoformat(timespec="seconds"), "cpu": frostcfg.cpu_name(),
              "cores": os.cpu_count(), "threads": a.threads, "seeds": a.seeds, "fanout": a.fanout,
              "batch_size": a.batch_size, "parts": a.parts, "parts_per_batch": a.parts_per_batch,
              "commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                                       text=True).stdout.strip(), "rows": []}
    t_all = time.perf_counter()
    for rname in [r.strip() for r in a.recipes.split(",") if r.strip()]:
        if rname in RECIPES:
            cfg = os.path.join(ROOT, "experiments", RECIPES[rname][0])
            rsets = list(RECIPES[rname][1])
        else:
            cfg, rsets = rname, []
        base = frostcfg.load(cfg)
        layers = int(frostcfg.get(base, "model.layers", 2))
        common = rsets + [f"seeds=[{', '.join(map(str, range(a.seeds)))}]", f"threads={a.threads}"] + a.set
        if a.epochs is not None:
            common.append(f"epochs={a.epochs}")
        if a.dataset:
            common.append(f"dataset={frostcfg.cfg_str(a.dataset)}")
        if a.split:
            common.append(f"split={frostcfg.cfg_str(a.split)}")
        full = None
        for mode in modes:
            tag = f"{os.path.basename(rname).removesuffix('.cfg')}-{mode}"
            out_h5 = os.path.join(work, tag + ".h5")
            if os.path.exists(out_h5):
                os.remove(out_h5)
            sets = common + mode_sets(a, mode, layers) + [f"output={frostcfg.cfg_str(out_h5)}"]
            log(f"{rname} {mode}: {a.seeds} seeds")
            runs, wall, rss = run_frost(a, cfg, sets, out_h5)
            m, s = stats([100 * q["test"] for q in runs])
            ep = statistics.mean(q["train_seconds"] / max(1, q["epochs_run"]) for q in runs)
            row = {"recipe": rname, "mode": mode, "sets": sets, "test_mean": m, "test_std": s,
                   "epoch_s": ep, "wall_s": wall, "peak_rss_mib": rss, "runs": runs}
            if mode == "full":
                full = row
            row["diff_vs_full"] = m - full["test_mean"] if full else None
            report["rows"].append(row)
            log(f"{rname} {mode}: test {m:.2f} +- {s:.2f}, {ep * 1000:.1f} ms/epoch, {rss:.0f} MiB, {wall:.0f} s")
            frostcfg.write_json(a.json, report)
    report["wall_s"] = time.perf_counter() - t_all
    frostcfg.write_json(a.json, report)
    hdr = ("recipe", "mode", "test", "vs full", "ms/epoch", "peak RSS MiB")
    rows = [(r["recipe"], r["mode"], f"{r['test_mean']:.2f} +- {r['test_std']:.2f}",
             "-" if r["diff_vs_full"] is None else f"{r['diff_vs_full']:+.2f}", f"{r['epoch_s'] * 1000:.1f}",
             f"{r['peak_rss_mib']:.0f}") for r in report["rows"]]
    frostcfg.print_table(hdr, rows)
    print(f"(test accuracy in %, mean +- sample std over seeds 0..{a.seeds - 1}, at the best validation epoch; "
          f"neighbor: batches of {a.batch_size} seeds, fanout {a.fanout}; cluster: {a.parts} parts, "
          f"{a.parts_per_batch} per batch; ms/epoch: training time per epoch (mean over runs); peak RSS of the "
          f"frost process; {a.threads} thread(s); {report['wall_s'] / 60:.1f} min on {report['cpu']}, "
          f"{report['cores']} cores)")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()

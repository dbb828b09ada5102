#!/usr/bin/python3
"""frost against its PyTorch training reference, recipe by recipe.

For each dataset and model it asks frost for the effective configuration of
the shipped recipe (`frost run CFG --dry-run` with --set overrides: dataset,
split, seeds, threads, output, and for the models below the method and the
ticket's s, p, r), writes it to a file, trains it with `frost run` and with
`torch_ref.py --config` (the same file), and compares the test metric at
the best validation epoch over the seeds. The recipes live only in the
experiment files: when they change, parity follows.

Models:
  gcn         the GCN recipe (default experiments/cora-gcn.cfg: Kipf & Welling)
  gin         the GIN recipe with method = "trained" (default experiments/cora-slt-gin.cfg)
  gin-ticket  the same GIN recipe with method = "slt", s 0.5, p 0.2, r 0.2
              (--sparsity, --prune-ratio, --lock-ratio)

A pair agrees when |frost mean - PyTorch mean| <= max(1.0 point, the larger
of the two sample standard deviations over seeds).

Progress goes to stderr, the table to stdout, everything to --json.

Usage: tools/bench/parity.py [--datasets cora:public,cora-ml:random-0,chameleon:geom-gcn-0]
         [--models gcn,gin,gin-ticket] [--seeds 5] [--threads 2] [--epochs N]
         [--gcn-cfg FILE] [--gin-cfg FILE] [--frost build/frost] [--workdir DIR] [--json FILE]
         [--draws torch|frost]
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import frostcfg  # noqa: E402

DEFAULT_SPLITS = {"cora": "public", "cora-ml": "random-0", "chameleon": "geom-gcn-0", "squirrel": "geom-gcn-0",
                  "actor": "geom-gcn-0", "tolokers": "yandex-0"}
MODELS = ("gcn", "gin", "gin-ticket")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def model_sets(a, model):
    """The --set overrides that turn the recipe file into this model's point."""
    if model == "gcn":
        return a.gcn_cfg, []
    if model == "gin":
        # one point: a sweep over slt keys means nothing to a trained model
        return a.gin_cfg, ["method=trained", "slt.freeze=-1", f"slt.sparsity={a.sparsity}",
                           f"slt.prune_ratio={a.prune_ratio}", f"slt.lock_ratio={a.lock_ratio}"]
    return a.gin_cfg, ["method=slt", "slt.freeze=-1", f"slt.sparsity={a.sparsity}",
                       f"slt.prune_ratio={a.prune_ratio}", f"slt.lock_ratio={a.lock_ratio}"]


def effective_config(a, model, dataset, split, seeds, out_h5):
    """frost's effective configuration of the point, as libconfig text."""
    cfg, sets = model_sets(a, model)
    sets = sets + [f'dataset="{dataset}"', f'split="{split}"', f"seeds=[{', '.join(map(str, seeds))}]",
                   f"threads={a.threads}", f'output="{out_h5}"']
    if a.epochs is not None:
        sets.append(f"epochs={a.epochs}")
    cmd = [a.frost, "run", cfg, "--dry-run"]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"parity: {' '.join(cmd)} failed:\n{r.stderr.strip()}")
    head = [ln for ln in r.stdout.splitlines() if ln.startswith("#")]
    runs = [ln for ln in head if ln.strip().endswith("runs:") or " runs" in ln]
    n_runs = None
    for ln in runs:
        w = ln.lstrip("# ").split()
        if len(w) >= 2 and w[0].isdigit() and w[1].startswith("run"):
            n_runs = int(w[0])
    if n_runs != len(seeds):
        ids = [ln.strip("# ").strip() for ln in head[2:]]
        sys.exit(f"parity: {cfg} with {' '.join(sets)} is still a sweep ({n_runs} runs for {len(seeds)} seeds: "
                 f"{', '.join(ids[:8])}...); name one point")
    text = "\n".join(ln for ln in r.stdout.splitlines() if not ln.startswith("#")) + "\n"
    return cfg, sets, text


def run_frost(a, cfg_path, out_h5):
    if os.path.exists(out_h5):
        os.remove(out_h5)  # a fresh run, not a resume
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # speed only, on a shared machine
    t0 = time.perf_counter()
    r = subprocess.run([a.frost, "run", cfg_path, "--quiet"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"parity: frost run {cfg_path} failed:\n{r.stderr.strip()}")
    runs = []
    with h5py.File(out_h5, "r") as f:
        for rid, g in f["runs"].items():
            at = g.attrs
            dec = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731
            runs.append({"id": rid, "seed": int(at["seed"]), "test": float(at["test_metric"]),
                         "valid": float(at["val_metric"]), "best_epoch": int(at["best_epoch"]),
                         "status": dec(at["status"]), "blas_core": dec(at.get("blas_core", "")),
                         "train_seconds": float(at["train_seconds"])})
    runs.sort(key=lambda q: q["seed"])
    bad = [q["id"] for q in runs if q["status"] != "ok"]
    if bad:
        log(f"warning: frost runs not ok: {', '.join(bad)}")
    return runs, wall


def run_torch(a, cfg_path, seeds, out_json):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_ref.py"), "--config", cfg_path,
           "--seeds", ",".join(map(str, seeds)), "--threads", str(a.threads), "--json", out_json, "--quiet",
           "--draws", a.draws]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env)  # its progress goes to our stderr
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"parity: {' '.join(cmd)} failed")
    with open(out_json) as f:
        res = json.load(f)
    return res["runs"], wall


def check_forward(a, out_h5, out_json):
    """torch_ref.py --check-frost: the reference's forward pass with the
    weights frost trained gives frost's metrics? (weight-trained models)"""
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_ref.py"), "--check-frost", out_h5,
           "--threads", str(a.threads), "--json", out_json]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"parity: {' '.join(cmd)} failed:\n{r.stderr.strip()}")
    with open(out_json) as f:
        res = json.load(f)
    return {"runs": len(res["runs"]), "same": sum(1 for q in res["runs"] if q["max_abs_diff"] == 0),
            "max_abs_diff": res["max_abs_diff"]}


def stats(vals):
    m = statistics.mean(vals)
    s = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return m, s


def parse_datasets(spec):
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, split = item.partition(":")
        if not split:
            if name not in DEFAULT_SPLITS:
                sys.exit(f"parity: no default split for {name!r}; write {name}:SPLIT")
            split = DEFAULT_SPLITS[name]
        out.append((name, split))
    return out


def dataset_path(name):
    if "/" in name or name.endswith(".h5"):
        return os.path.abspath(name)
    p = os.path.join(ROOT, "datasets", name + ".h5")
    if not os.path.exists(p):
        sys.exit(f"parity: {p} not found; run tools/import-datasets")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="cora:public,cora-ml:random-0,chameleon:geom-gcn-0",
                    help="comma-separated NAME[:SPLIT] (bundled names or .h5 paths)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, of " + ", ".join(MODELS))
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 on each side (default 5)")
    ap.add_argument("--threads", type=int, default=2, help="threads for frost and for PyTorch (default 2)")
    ap.add_argument("--epochs", type=int, default=None, help="replace the recipes' epochs (quick checks)")
    ap.add_argument("--gcn-cfg", default=os.path.join(ROOT, "experiments", "cora-gcn.cfg"))
    ap.add_argument("--gin-cfg", default=os.path.join(ROOT, "experiments", "cora-slt-gin.cfg"))
    ap.add_argument("--sparsity", type=float, default=0.5, help="gin-ticket s (default 0.5)")
    ap.add_argument("--prune-ratio", type=float, default=0.2, help="gin-ticket p (default 0.2)")
    ap.add_argument("--lock-ratio", type=float, default=0.2, help="gin-ticket r (default 0.2)")
    ap.add_argument("--frost", default=os.path.join(ROOT, "build", "frost"))
    ap.add_argument("--workdir", default=None, help="keep configurations and results here (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="write every number to this file")
    ap.add_argument("--draws", choices=("torch", "frost"), default="torch",
                    help="the reference's random numbers: torch's generator (default: independent draws) or "
                         "frost's Philox streams (common random numbers: seed k starts both sides from the same "
                         "weights and drops the same units; the per-seed differences are then paired)")
    a = ap.parse_args()
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            sys.exit(f"parity: unknown model {m!r} (have {', '.join(MODELS)})")
    if a.seeds < 1 or a.threads < 1:
        sys.exit("parity: need --seeds >= 1 and --threads >= 1")
    datasets = parse_datasets(a.datasets)
    seeds = list(range(a.seeds))
    work, tmp = frostcfg.work_dir(a.workdir, "parity-")
    cpu = frostcfg.cpu_name()
    started = datetime.datetime.now()
    frost_version = subprocess.run([a.frost, "--version"], capture_output=True, text=True).stdout.strip()
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    report = {"started": started.isoformat(timespec="seconds"), "cpu": cpu, "cores": os.cpu_count(),
              "threads": a.threads, "seeds": seeds, "draws": a.draws, "epochs_override": a.epochs, "frost": frost_version,
              "commit": git.stdout.strip(), "python": platform.python_version(),
              "gcn_cfg": a.gcn_cfg, "gin_cfg": a.gin_cfg,
              "ticket": {"sparsity": a.sparsity, "prune_ratio": a.prune_ratio, "lock_ratio": a.lock_ratio},
              "rule": "within when |frost mean - pytorch mean| <= max(1.0 point, larger of the two sample stds)",
              "pairs": []}
    t_all = time.perf_counter()
    for name, split in datasets:
        path = dataset_path(name)
        for model in models:
            tag = f"{os.path.basename(path)[:-3]}-{split}-{model}"
            out_h5 = os.path.join(work, tag + ".h5")
            cfg, sets, text = effective_config(a, model, path, split, seeds, out_h5)
            cfg_path = os.path.join(work, tag + ".cfg")
            with open(cfg_path, "w") as f:
                f.write(text)
            eff = frostcfg.loads(text)
            log(f"{name} {split} {model}: frost ({eff['method']} {frostcfg.get(eff, 'model.name')}, "
                f"{eff['epochs']} epochs, {len(seeds)} seeds)")
            fr, fw = run_frost(a, cfg_path, out_h5)
            fwd = check_forward(a, out_h5, os.path.join(work, tag + "-check.json")) if eff["method"] == "trained" \
                else None
            log(f"{name} {split} {model}: frost {len(fr)} runs in {fw:.0f} s; PyTorch reference")
            to, tw = run_torch(a, cfg_path, seeds, os.path.join(work, tag + "-torch.json"))
            fm, fs = stats([100 * q["test"] for q in fr])
            tm, ts = stats([100 * q["test"] for q in to])
            diff = fm - tm
            tol = max(1.0, fs, ts)
            by_seed = {q["seed"]: 100 * q["test"] for q in to}
            paired = [100 * q["test"] - by_seed[q["seed"]] for q in fr if q["seed"] in by_seed]
            pm, ps = stats(paired) if paired else (float("nan"), float("nan"))
            ok = abs(diff) <= tol
            pair = {"dataset": name, "split": split, "model": model, "recipe": cfg, "sets": sets,
                    "config": text, "frost": {"mean": fm, "std": fs, "wall_s": fw, "runs": fr},
                    "pytorch": {"mean": tm, "std": ts, "wall_s": tw,
                                "runs": [{k: q[k] for k in ("seed", "test", "valid", "best_epoch", "final_loss",
                                                             "status", "seconds", "matrices")} for q in to]},
                    "diff": diff, "tolerance": tol, "within": ok, "forward_check": fwd,
                    "paired": {"diffs": paired, "mean": pm, "std": ps,
                               "same": sum(1 for d in paired if abs(d) < 1e-9)}}
            report["pairs"].append(pair)
            log(f"{name} {split} {model}: frost {fm:.2f} +- {fs:.2f}, PyTorch {tm:.2f} +- {ts:.2f}, "
                f"diff {diff:+.2f} (tolerance {tol:.2f}): {'within' if ok else 'OUTSIDE'}; per seed "
                f"{' '.join(f'{d:+.1f}' for d in paired)}; PyTorch {tw:.0f} s")
            report["wall_s"] = time.perf_counter() - t_all
            frostcfg.write_json(a.json, report)  # after every pair: a long run leaves what it has
    report["wall_s"] = time.perf_counter() - t_all
    frostcfg.write_json(a.json, report)
    hdr = ("dataset", "split", "model", "frost test", "PyTorch test", "diff", "tol", "within", "forward",
           "per-seed diff", "same")
    fwd = lambda c: "-" if c is None else f"{c['same']}/{c['runs']}"  # noqa: E731
    rows = [(p["dataset"], p["split"], p["model"], f"{p['frost']['mean']:.2f} +- {p['frost']['std']:.2f}",
             f"{p['pytorch']['mean']:.2f} +- {p['pytorch']['std']:.2f}", f"{p['diff']:+.2f}",
             f"{p['tolerance']:.2f}", "yes" if p["within"] else "NO", fwd(p["forward_check"]),
             f"{p['paired']['mean']:+.2f} +- {p['paired']['std']:.2f}", f"{p['paired']['same']}/{len(p['paired']['diffs'])}")
            for p in report["pairs"]]
    frostcfg.print_table(hdr, rows)
    ep = f", epochs replaced by {a.epochs}" if a.epochs is not None else ""
    draws_text = ("frost's Philox streams (common random numbers)" if a.draws == "frost"
                  else "torch's generator (independent draws)")
    print(f"(test accuracy in %, mean +- sample std over seeds {seeds[0]}..{seeds[-1]}; diff = frost - PyTorch; "
          f"within: |diff| <= tol = max(1.0, the larger sample std); forward: frost's runs whose trained weights, "
          f"run through the reference's forward pass, give frost's train, valid and test accuracy exactly "
          f"(weight-trained models only); per-seed diff: mean +- sample std of frost - PyTorch seed by seed, same: "
          f"seeds with the same test accuracy on both sides; the reference drew its random numbers from "
          f"{draws_text}; "
          f"{a.threads} threads each{ep}; "
          f"{report['wall_s'] / 60:.1f} min on {cpu}, {os.cpu_count()} cores)")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()

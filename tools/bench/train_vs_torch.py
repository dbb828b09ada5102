#!/usr/bin/python3
"""One training epoch, frost against PyTorch, on the same graph in the same run.

Makes (once, cached) an ogbn-arxiv-sized synthetic dataset with `frost synth
--preset arxiv`, then for each model:

  frost:   `frost run` of the shipped experiment (12 epochs, evaluation only at
           the end), epoch times read back from the results file's history
           (train_seconds: forward, backward, update), peak RSS from /usr/bin/time;
  PyTorch: tools/bench/torch_ref.py, the same model (Debian's python3-torch);
  floor:   `frost bench --config` of the same experiment: the epoch's roofline
           floor on this machine (counted work at the measured GEMM rate and
           triad bandwidth).

Prints median/min/max seconds per epoch, peak RSS, the frost/PyTorch ratios
and frost's ratio to the floor, and writes them as JSON (--json). FROST_ISA
(generic, avx2, avx512) in the environment forces frost's kernel path.

Usage: tools/bench/train_vs_torch.py [--model gcn|slt-gin|both] [--threads 2]
       [--rounds N] [--frost build/frost] [--dataset build/bench/arxiv.h5] [--json FILE]
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

# frost settings of each model, on top of the experiment file
MODELS = {
    "gcn": ("experiments/arxiv-gcn.cfg", []),
    # torch_ref.py's supermask GIN: a dense source (nothing frozen), s = 0.5
    "slt-gin": ("experiments/arxiv-slt-gin.cfg", ["--set", "method=slt", "--set", "slt.sparsity=0.5",
                                                  "--set", "slt.lock_ratio=0", "--set", "slt.prune_ratio=0"]),
}
# the same GIN with the other memory plan than the experiment file's
MODELS["slt-gin-lean"] = (MODELS["slt-gin"][0], MODELS["slt-gin"][1] + ["--set", "model.keep_activations=false"])
MODELS["slt-gin-keep"] = (MODELS["slt-gin"][0], MODELS["slt-gin"][1] + ["--set", "model.keep_activations=true"])


def run_frost(frost, model, dataset, threads, epochs, warmup):
    cfg, extra = MODELS[model]
    sets = [x for x in extra if x != "--set"]
    r = frostcfg.time_frost_epochs(frost, os.path.join(ROOT, cfg), dataset, threads, epochs, warmup, sets)
    r["model"] = model
    del r["final_loss"]
    return r


def run_floor(frost, model, dataset, threads):
    """The model's roofline floor per epoch from `frost bench --config`: its
    dense-product flops at the best GEMM rate and its memory-bound bytes at
    the triad bandwidth, both measured by that command on this machine now
    (tools/bench/README.md, "Roofline floor")."""
    import tempfile
    cfg, extra = MODELS[model]
    sets = [x for x in extra if x != "--set"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [frost, "bench", dataset, "--config", os.path.join(ROOT, cfg), "--split", "random", "--repeat", "3",
               "--warmup", "1", "--threads", str(threads), "--json", out]
        for x in sets:
            cmd += ["--set", x]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            sys.exit(f"frost bench failed: {r.stderr}")
        with open(out) as f:
            b = json.load(f)
    e = b["epoch_config"]
    return {"floor_s": e["floor_s"], "flops": e["flops"], "bytes": e["bytes"], "gemm_gflops": e["gemm_gflops"],
            "triad_gbs": e["triad_gbs"], "blas_core": b["blas_core"]}


def run_torch(model, dataset, threads, epochs, warmup):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_ref.py"), dataset, "--model", model.split("-lean")[0].split("-keep")[0],
           "--threads", str(threads), "--epochs", str(epochs), "--warmup", str(warmup), "--split", "random"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"torch_ref.py failed: {r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gcn", choices=["gcn", "slt-gin", "slt-gin-lean", "slt-gin-keep", "both"],
                    help="slt-gin as experiments/arxiv-slt-gin.cfg; -lean and -keep force its memory plan "
                         "(model.keep_activations false or true)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--frost", default=os.path.join(ROOT, "build", "frost"))
    ap.add_argument("--dataset", default=os.path.join(ROOT, "build", "bench", "arxiv.h5"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--rounds", type=int, default=1,
                    help="run frost and PyTorch this many times, alternating, and print every round's "
                         "ratios with their median and maximum (the host's speed drifts between runs)")
    ap.add_argument("--blas-core", default="env",
                    help="OpenBLAS kernels for both frameworks (both link OpenBLAS): 'env' keeps "
                         "OPENBLAS_CORETYPE as inherited, 'auto' unsets it (OpenBLAS detects the CPU), "
                         "anything else is set as OPENBLAS_CORETYPE")
    a = ap.parse_args()
    if a.blas_core == "auto":
        os.environ.pop("OPENBLAS_CORETYPE", None)
    elif a.blas_core != "env":
        os.environ["OPENBLAS_CORETYPE"] = a.blas_core
    if not os.path.exists(a.dataset):
        os.makedirs(os.path.dirname(a.dataset), exist_ok=True)
        subprocess.run([a.frost, "synth", a.dataset, "--preset", "arxiv", "--quiet"], check=True)
    models = ["gcn", "slt-gin"] if a.model == "both" else [a.model]
    cpu = frostcfg.cpu_name()
    report = {"dataset": a.dataset, "cpu": cpu, "cores": os.cpu_count(), "threads": a.threads,
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(detected)"), "results": []}
    for m in models:
        rounds = []
        fl = run_floor(a.frost, m, a.dataset, a.threads)
        print(f"{m}: roofline floor {fl['floor_s']:.3f} s/epoch ({fl['flops'] / 1e9:.1f} GFLOP at "
              f"{fl['gemm_gflops']:.0f} GFLOP/s + {fl['bytes'] / 1e9:.2f} GB at {fl['triad_gbs']:.1f} GB/s; "
              f"frost kernels {fl['blas_core']})", flush=True)
        for k in range(a.rounds):
            fr = run_frost(a.frost, m, a.dataset, a.threads, a.epochs, a.warmup)
            to = run_torch(m, a.dataset, a.threads, a.epochs, a.warmup)
            ratio_t = fr["epoch_median_s"] / to["epoch_median_s"]
            ratio_m = fr["peak_rss_bytes"] / to["peak_rss_bytes"]
            ratio_f = fr["epoch_median_s"] / fl["floor_s"]
            rounds.append({"model": m, "round": k + 1, "frost": fr, "pytorch": to, "time_ratio": ratio_t,
                           "rss_ratio": ratio_m, "floor": fl, "floor_ratio": ratio_f})
            tag = f" (round {k + 1} of {a.rounds})" if a.rounds > 1 else ""
            print(f"{m}{tag}: frost {fr['epoch_median_s']:.3f} s/epoch (min {fr['epoch_min_s']:.3f}, max {fr['epoch_max_s']:.3f}), "
                  f"peak RSS {fr['peak_rss_bytes'] / 2**20:.0f} MiB | PyTorch {to['torch_version']} "
                  f"{to['epoch_median_s']:.3f} s/epoch, peak RSS {to['peak_rss_bytes'] / 2**20:.0f} MiB | "
                  f"time ratio {ratio_t:.3f}x, memory ratio {ratio_m:.3f}x, frost/floor {ratio_f:.2f}x "
                  f"({a.threads} threads, {cpu}, "
                  f"OpenBLAS core {report['openblas_coretype']})", flush=True)
        report["results"].extend(rounds)
        if a.rounds > 1:
            tr = [r["time_ratio"] for r in rounds]
            mr = [r["rss_ratio"] for r in rounds]
            print(f"{m}: {a.rounds} rounds: time ratio median {statistics.median(tr):.3f}x, max {max(tr):.3f}x; "
                  f"memory ratio median {statistics.median(mr):.3f}x, max {max(mr):.3f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()

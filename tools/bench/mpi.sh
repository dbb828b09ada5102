#!/bin/bash
# Distributed full-batch training benchmark: the OGB arxiv GCN recipe
# (3 x 256 by default, batch norm, dropout 0.5, Adam 0.01) on DATASET with 1 process
# and with P processes under mpirun, on this machine. Per run: the
# communication statistics frost writes (mpi.stats: bytes per epoch, time
# split into compute, halo exchange and allreduce) and every process's peak
# resident memory.
#
#   tools/bench/mpi.sh DATASET.h5 [--epochs N] [--np "1 2 4"] [--split NAME] [--hidden H] [--out FILE.jsonl]
#   tools/bench/mpi.sh --table FILE.jsonl      # the tables again, from a file it wrote
#
# P = 1 runs without mpirun (the ordinary single-process path). Store the
# partitions first (frost partition DATASET --parts P) or frost computes one
# at the start of the run. Output: one JSON line per P in FILE (default
# results/bench-mpi-NAME.jsonl) and a table on stdout.
set -euo pipefail
# A value as a quoted libconfig (or JSON) string: '"' and '\' escaped, newlines
# and tabs as escapes, so a path reaches frost (or the JSON reader) as itself.
cfgq() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\x0a}; s=${s//$'\t'/\\x09}; printf '"%s"' "$s"; }
jsonq() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; printf '"%s"' "$s"; }
table() {
/usr/bin/python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
G = 2**30
print(f"{'P':>2} {'epoch s':>8} {'compute':>8} {'halo':>8} {'allred':>8} {'halo MB/ep':>10} {'allred MB/ep':>12} {'max RSS GiB':>11} {'sum RSS GiB':>11}")
for r in rows:
    rss = [k / 2**20 for k in r["peak_rss_kib"]]
    print(f"{r['ranks']:>2} {r['epoch_seconds']:8.2f} {r['compute_seconds']:8.2f} {r['halo_seconds']:8.2f} {r['allreduce_seconds']:8.2f}"
          f" {r['halo_bytes_per_epoch']/1e6:10.1f} {r['allreduce_bytes_per_epoch']/1e6:12.1f} {max(rss):11.2f} {sum(rss):11.2f}")
# The memory model (README.md, "Memory per process"): a process without data
# (B), its rows' features and labels, its graph, the model's buffers for its
# owned rows (m bytes a row), and what lives only around an exchange: the
# halo rows of the one buffer being exchanged (4 w bytes a halo row, w the
# widest exchanged width) and the message buffer (comm). B was measured once
# (a one-process products-sized run, what its counted parts leave) and is
# not refitted here.
B = 0.064e9
print()
print("memory per process (GiB): what its share holds, as frost counts it, the model's prediction and the measured peak")
print(f"{'P':>2} {'rank':>4} {'owned':>9} {'halo':>9} {'own rows':>8} {'halo rows':>9} {'graph':>6} {'model':>6} {'comm':>6} {'predicted':>9} {'peak RSS':>8} {'error':>6}")
for r in rows:
    m = r["memory"]
    wid = r.get("width", 256)
    for k in range(len(m["owned"])):
        parts = [m[c][k] for c in ("own_rows_bytes", "halo_rows_bytes", "graph_bytes", "model_bytes", "comm_bytes")]
        no, nh, peak = m["owned"][k], m["halo"][k], m["peak_rss_bytes"][k]
        per_row = parts[3] / (no + nh)
        pred = B + parts[0] + parts[1] + parts[2] + parts[4] + per_row * no + 4 * wid * nh
        print(f"{r['ranks']:>2} {k:>4} {no:>9} {nh:>9} " + " ".join(f"{v / G:{w}.2f}" for v, w in zip(parts, (8, 9, 6, 6, 6)))
              + f" {pred / G:9.2f} {peak / G:8.2f} {100 * (pred - peak) / peak:+5.1f}%")
print(f"(written to {sys.argv[1]})")
PY
}
if [ "${1:-}" = "--table" ]; then table "${2:?usage: tools/bench/mpi.sh --table FILE.jsonl}"; exit 0; fi
here="$(cd "$(dirname "$0")/../.." && pwd)"
frost="${FROST:-$here/build/frost}"
ds="${1:?usage: tools/bench/mpi.sh DATASET.h5 [--epochs N] [--np \"1 2 4\"] [--out FILE]}"
shift
epochs=3
nps="1 2 4"
name="$(basename "$ds" .h5)"
out="$here/results/bench-mpi-$name.jsonl"
split=""
hidden=256
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --np) nps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --hidden) hidden="$2"; shift 2 ;;
    --split) split="split = $(cfgq "$2");"; shift 2 ;;
    *) echo "tools/bench/mpi.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -f "$ds" ] || { echo "tools/bench/mpi.sh: $ds: no such file" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/gcn.cfg" <<CFG
dataset = $(cfgq "$ds");
$split
method = "trained";
epochs = $epochs;
eval_every = $epochs;
runs = 1;
graph = { undirected = true; };
model = { name = "gcn"; layers = 3; hidden = $hidden; dropout = 0.5; norm = "batch"; };
optim = { name = "adam"; lr = 0.01; };
CFG
root=""
[ "$(id -u)" -eq 0 ] && root="--allow-run-as-root"
: > "$out.tmp"
for p in $nps; do
  echo "== $p process(es), $epochs epochs" >&2
  stats="$tmp/stats-$p.jsonl"
  launch=()
  [ "$p" -gt 1 ] && launch=(mpirun $root --oversubscribe -np "$p")
  t0=$(date +%s.%N)
  "${launch[@]}" bash -c 'exec /usr/bin/time -f "rss_kib %M" -o "$0.${OMPI_COMM_WORLD_RANK:-0}" "$@"' "$tmp/rss-$p" \
    "$frost" run "$tmp/gcn.cfg" --quiet --set "output=$(cfgq "$tmp/r-$p.h5")" --set "mpi.stats=$(cfgq "$stats")" \
    --set "threads=$(( $(nproc) / p > 0 ? $(nproc) / p : 1 ))" >&2
  t1=$(date +%s.%N)
  rss=$(cat "$tmp"/rss-"$p".* | awk '{print $2}' | paste -sd, -)
  line=$(tail -1 "$stats")
  printf '%s\n' "${line%\}}, \"wall_seconds\": $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'), \"peak_rss_kib\": [$rss], \"width\": $hidden, \"dataset\": $(jsonq "$ds")}" >> "$out.tmp"
done
mv "$out.tmp" "$out"
table "$out"

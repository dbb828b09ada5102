#!/bin/bash
# Distributed full-batch training benchmark: the OGB arxiv GCN recipe
# (3 x 256 by default, batch norm, dropout 0.5, Adam 0.01) on DATASET with 1 process
# and with P processes under mpirun, on this machine. Per run: the
# communication statistics frost writes (mpi.stats: bytes per epoch, time
# split into compute, halo exchange and allreduce) and every process's peak
# resident memory.
#
#   tools/bench/mpi.sh DATASET.h5 [--epochs N] [--np "1 2 4"] [--split NAME] [--hidden H] [--out FILE.jsonl]
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
  if [ "$p" -gt 1 ]; then
    line=$(tail -1 "$stats")
  else
    # one process: epoch time from the run's history, no communication
    sec=$("$frost" report "$tmp/r-$p.h5" --history trained-gcn-seed0 | awk -F, 'NR>1 {s+=$7; n++} END {printf "%.6f", s/n}')
    line="{\"run\": \"trained-gcn-seed0\", \"ranks\": 1, \"epochs\": $epochs, \"halo_bytes_per_epoch\": 0, \"allreduce_bytes_per_epoch\": 0, \"epoch_seconds\": $sec, \"compute_seconds\": $sec, \"halo_seconds\": 0, \"allreduce_seconds\": 0}"
  fi
  printf '%s\n' "${line%\}}, \"wall_seconds\": $(echo "$t1 - $t0" | bc), \"peak_rss_kib\": [$rss], \"dataset\": $(jsonq "$ds")}" >> "$out.tmp"
done
mv "$out.tmp" "$out"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'P':>2} {'epoch s':>8} {'compute':>8} {'halo':>8} {'allred':>8} {'halo MB/ep':>10} {'allred MB/ep':>12} {'max RSS GiB':>11} {'sum RSS GiB':>11}")
for r in rows:
    rss = [k / 2**20 for k in r["peak_rss_kib"]]
    print(f"{r['ranks']:>2} {r['epoch_seconds']:8.2f} {r['compute_seconds']:8.2f} {r['halo_seconds']:8.2f} {r['allreduce_seconds']:8.2f}"
          f" {r['halo_bytes_per_epoch']/1e6:10.1f} {r['allreduce_bytes_per_epoch']/1e6:12.1f} {max(rss):11.2f} {sum(rss):11.2f}")
print(f"(written to {sys.argv[1]})")
PY

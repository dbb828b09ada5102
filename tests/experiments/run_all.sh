#!/usr/bin/env bash
# Every shipped experiment file (experiments/*.cfg) runs for two epochs and
# one seed on its dataset, then `frost report` reads the results: a TAP test
# line per file. The bundled datasets are imported from datasets/NAME/ into a
# temporary tree laid out like the repository; the ogbn-arxiv and -products
# experiments run on small synthetic stand-ins (frost synth, split "random"),
# ogbn-proteins on a small folder of its shape. Everything
# else in each file (model, sweep, slt and prt keys) is used as shipped, so a
# file that stops running, or a sweep point the config check refuses, fails
# here.
set -uo pipefail
frost="${FROST_BIN:?FROST_BIN not set}"
root="${FROST_SOURCE_ROOT:?FROST_SOURCE_ROOT not set}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/experiments" "$tmp/datasets" "$tmp/results"
cp "$root"/experiments/*.cfg "$tmp/experiments/"

# datasets: the bundled folders, imported as tools/import-datasets does
for dir in "$root"/datasets/*/; do
  name=$(basename "$dir")
  [ -d "$dir/raw" ] || continue
  flags=()
  [ "$name" = tolokers ] && flags=(--add-inverse-edges --metric rocauc)
  if ! "$frost" import ogb "$dir" "$tmp/datasets/$name.h5" --quiet "${flags[@]}" 2>"$tmp/err"; then
    echo "Bail out! import of $name failed: $(head -c 300 "$tmp/err")"
    exit 1
  fi
done
if ! "$frost" synth "$tmp/datasets/ogbn-arxiv.h5" --nodes 3000 --edges 15000 --features 128 --classes 40 \
     --name ogbn-arxiv --quiet 2>"$tmp/err"; then
  echo "Bail out! synth failed: $(head -c 300 "$tmp/err")"
  exit 1
fi

"$frost" synth "$tmp/datasets/ogbn-products.h5" --nodes 3000 --edges 15000 --features 100 --classes 47 \
  --name ogbn-products --quiet 2>"$tmp/err" || { echo "Bail out! synth failed: $(head -c 300 "$tmp/err")"; exit 1; }
# an ogbn-proteins stand-in: 300 nodes, 8 edge features, 112 binary tasks, no
# node features, split "species", in a folder named so that frost import
# applies OGB's proteins settings by itself
pdir="$tmp/raw/ogbn_proteins"
mkdir -p "$pdir/raw" "$pdir/split/species"
awk -v d="$pdir" 'BEGIN {
  srand(7); n = 300; e = 1500
  print n > (d "/raw/num-node-list.csv"); print e > (d "/raw/num-edge-list.csv")
  for (k = 0; k < e; k++) {
    print int(rand() * n) "," int(rand() * n) > (d "/raw/edge.csv")
    l = ""; for (f = 0; f < 8; f++) l = l (f ? "," : "") sprintf("%.3f", rand()); print l > (d "/raw/edge-feat.csv")
  }
  for (i = 0; i < n; i++) {
    l = ""; for (t = 0; t < 112; t++) l = l (t ? "," : "") int(rand() * 2); print l > (d "/raw/node-label.csv")
    print i > (d "/split/species/" (i % 10 < 6 ? "train" : i % 10 < 8 ? "valid" : "test") ".csv")
  }
}'
"$frost" import ogb "$pdir" "$tmp/datasets/ogbn-proteins.h5" --quiet 2>"$tmp/err" ||
  { echo "Bail out! proteins stand-in import failed: $(head -c 300 "$tmp/err")"; exit 1; }

cfgs=("$tmp"/experiments/*.cfg)
echo "1..${#cfgs[@]}"
n=0 failed=0
for cfg in "${cfgs[@]}"; do
  n=$((n + 1))
  name=$(basename "$cfg" .cfg)
  out="$tmp/results/$name.h5"
  args=(--quiet --set epochs=2 --set runs=1 --set "output=\"$out\"")
  grep -q '^[[:space:]]*method[[:space:]]*=[[:space:]]*"prt"' "$cfg" && args+=(--set prt.base_epochs=2)
  grep -q '"ogbn-arxiv"\|"ogbn-products"' "$cfg" && args+=(--set 'split="random"')
  start=$(date +%s.%N)
  if ! "$frost" run "$cfg" "${args[@]}" >"$tmp/out" 2>"$tmp/err"; then
    echo "not ok $n - $name: frost run failed: $(tr '\n' ' ' <"$tmp/err" | head -c 400)"
    failed=$((failed + 1))
    continue
  fi
  if [ ! -s "$out" ]; then
    echo "not ok $n - $name: frost run exited 0 but wrote no results file"
    failed=$((failed + 1))
    continue
  fi
  if ! "$frost" report "$out" --no-plots -o "$tmp/report-$name" >"$tmp/out" 2>"$tmp/err"; then
    echo "not ok $n - $name: frost report failed: $(tr '\n' ' ' <"$tmp/err" | head -c 400)"
    failed=$((failed + 1))
    continue
  fi
  end=$(date +%s.%N)
  printf 'ok %d - %s (%.1f s)\n' "$n" "$name" "$(echo "$end - $start" | bc 2>/dev/null || echo 0)"
done
[ "$failed" -eq 0 ]

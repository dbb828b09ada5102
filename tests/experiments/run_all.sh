#!/usr/bin/env bash
# Every shipped experiment file (experiments/*.cfg) runs for two epochs and
# one seed on its dataset, then `frost report` reads the results: a TAP test
# line per file. The bundled datasets are imported from datasets/NAME/ into a
# temporary tree laid out like the repository; the ogbn-arxiv experiments run
# on a small synthetic stand-in (frost synth, split "random"). Everything
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

cfgs=("$tmp"/experiments/*.cfg)
echo "1..${#cfgs[@]}"
n=0 failed=0
for cfg in "${cfgs[@]}"; do
  n=$((n + 1))
  name=$(basename "$cfg" .cfg)
  out="$tmp/results/$name.h5"
  args=(--quiet --set epochs=2 --set runs=1 --set "output=\"$out\"")
  grep -q '^[[:space:]]*method[[:space:]]*=[[:space:]]*"prt"' "$cfg" && args+=(--set prt.base_epochs=2)
  grep -q '"ogbn-arxiv"' "$cfg" && args+=(--set 'split="random"')
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

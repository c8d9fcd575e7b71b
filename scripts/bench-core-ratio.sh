#!/usr/bin/env bash
# The HS256 ratio (jsonwebtoken::decode / approov-core verify) over several
# back-to-back criterion runs of the same pair, because this 2-vCPU VM's
# timings drift between runs: each run's ratio is measured side by side,
# and the median of the runs is reported.
#
# Usage: bash scripts/bench-core-ratio.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
filter='HS256/(approov_core_verify|jsonwebtoken_decode)$'
cargo bench -q -p approov-core --bench verify --all-features --no-run
to_ns() { awk '{ v = $1; u = $2; if (u == "µs") v *= 1000; else if (u == "ms") v *= 1e6; print v }'; }
ratios=()
printf '| run | approov-core verify | jsonwebtoken::decode | ratio |\n|---|---|---|---|\n'
for i in $(seq "$runs"); do
  out=$(cargo bench -q -p approov-core --bench verify --all-features -- "$filter" 2>/dev/null)
  # criterion prints "time: [low median high]"; take the median (2nd value).
  ours=$(echo "$out" | grep -A1 '^HS256/approov_core_verify$' | grep -o 'time:.*' | awk '{print $4, $5}' | to_ns)
  theirs=$(echo "$out" | grep -A1 '^HS256/jsonwebtoken_decode$' | grep -o 'time:.*' | awk '{print $4, $5}' | to_ns)
  ratio=$(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')
  ratios+=("$ratio")
  printf '| %s | %.0f ns | %.0f ns | %s× |\n' "$i" "$ours" "$theirs" "$ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo
echo "median ratio over $runs runs: ${median}× ($(nproc) cores, $(rustc --version))"

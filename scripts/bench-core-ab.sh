#!/usr/bin/env bash
# A/B benchmark of approov-core's verify: this checkout against an earlier
# commit, alternating run by run (criterion, in-process), because this
# 2-vCPU VM's timings drift between runs; the median ratio is reported.
#
# The earlier commit is checked out in a temporary git worktree and its
# benchmark built into target/ab-core-<commit>. Each run measures
# HS256/approov_core_verify (the hot path: a valid token, no cache) and
# ES256/approov_core_verify in both trees, one after the other.
#
# Usage: bash scripts/bench-core-ab.sh <commit> [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bash scripts/bench-core-ab.sh <commit> [rounds]}
rounds=${2:-5}
here=$(pwd)
short=$(git rev-parse --short "$base")
tree=$(mktemp -d "${TMPDIR:-/tmp}/approov-core-ab.XXXXXX")
trap 'git -C "$here" worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add -q --detach "$tree" "$base"
old_target="$here/target/ab-core-$short"
filter='^(HS256|ES256)/approov_core_verify$'
bench() { # dir target-dir
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench -q -p approov-core --bench verify --all-features -- "$filter" 2>/dev/null) |
    sed -E 's/^([A-Za-z0-9_]+\/[a-z0-9_]+) +time:/\1\n time:/'
}
to_ns() { awk '{ v = $1; u = $2; if (u == "µs") v *= 1000; else if (u == "ms") v *= 1e6; print v }'; }
time_of() { echo "$1" | grep -A1 "^$2\$" | grep -o 'time:.*' | awk '{print $4, $5}' | to_ns; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
(cd "$tree" && CARGO_TARGET_DIR="$old_target" cargo bench -q -p approov-core --bench verify --all-features --no-run)
cargo bench -q -p approov-core --bench verify --all-features --no-run
hs=(); es=()
printf '| round | HS256 %s | HS256 this | this/%s | ES256 %s | ES256 this | this/%s |\n' "$short" "$short" "$short" "$short"
printf '|---|---|---|---|---|---|---|\n'
for i in $(seq "$rounds"); do
  old=$(bench "$tree" "$old_target")
  new=$(bench "$here" "$here/target")
  h_old=$(time_of "$old" HS256/approov_core_verify); h_new=$(time_of "$new" HS256/approov_core_verify)
  e_old=$(time_of "$old" ES256/approov_core_verify); e_new=$(time_of "$new" ES256/approov_core_verify)
  hs+=("$(div "$h_new" "$h_old")"); es+=("$(div "$e_new" "$e_old")")
  printf '| %s | %.0f ns | %.0f ns | %s | %.1f µs | %.1f µs | %s |\n' "$i" "$h_old" "$h_new" "${hs[-1]}" \
    "$(awk -v v="$e_old" 'BEGIN{print v/1000}')" "$(awk -v v="$e_new" 'BEGIN{print v/1000}')" "${es[-1]}"
done
printf '| median | | | **%s** | | | **%s** |\n' \
  "$(printf '%s\n' "${hs[@]}" | median)" "$(printf '%s\n' "${es[@]}" | median)"
echo
echo "criterion, $rounds alternated rounds; ratio < 1 means this checkout is faster; $(nproc) cores; $(rustc --version)"

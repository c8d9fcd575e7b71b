#!/usr/bin/env bash
# A/B benchmark of approov-proxy: this checkout against an earlier commit,
# in one run on loopback, alternating round by round, same upstream.
#
# The earlier commit is checked out in a temporary git worktree and built
# (release) into target/ab-<commit>; both proxies then serve the same
# routes file in front of the same upstream (the earlier commit's
# axum-hello, so the upstream is the same for both), and wrk loads each in
# turn: `wrk -t1 -c32 -d<secs>s` with a valid token on `/api/health`.
# Prints each round's rates and ratio (this checkout / earlier) and the
# median ratio.
#
# Usage: bash scripts/bench-proxy-ab.sh <commit> [seconds-per-run] [rounds]
# Needs wrk (Debian: apt-get install wrk). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bash scripts/bench-proxy-ab.sh <commit> [seconds-per-run] [rounds]}
secs=${2:-5}
rounds=${3:-9}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
rev=$(git rev-parse --short "$base")

cargo build --release -q -p approov-examples -p approov-proxy --bins
new=target/release
old_tree=$(mktemp -d)
git worktree add -q --detach "$old_tree" "$rev"
old_target="$PWD/target/ab-$rev"
(cd "$old_tree" && CARGO_TARGET_DIR="$old_target" cargo build --release -q \
  -p approov-examples -p approov-proxy --bins)
git worktree remove --force "$old_tree"
old="$old_target/release"

secret=$(head -c 32 /dev/urandom | base64)
token=$(APPROOV_BASE64_SECRET="$secret" "$new/approov-token" --expires-in 3600)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

start() { # name, binary, then env assignments; sets $addr once it listens
  local name=$1 exe=$2; shift 2
  env "$@" APPROOV_BASE64_SECRET="$secret" LISTEN_ADDR=127.0.0.1:0 RUST_LOG=off \
    "$exe" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$work/$name.out" && break; sleep 0.1; done
  addr=$(awk '/^listening on / {print $3; exit}' "$work/$name.out")
  [ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$work/$name.err" >&2; exit 1; }
}

start upstream "$old/axum-hello"; upstream=$addr
cat >"$work/proxy.toml" <<TOML
[[route]]
name = "bench"
prefix = "/api"
upstream = "http://$upstream"
key_env = "BENCH_API_KEY"
key_header = "X-Api-Key"
rate_limit_per_device_per_minute = 4000000000
TOML
start old "$old/approov-proxy" PROXY_CONFIG="$work/proxy.toml" BENCH_API_KEY=bench-key; a=$addr
start new "$new/approov-proxy" PROXY_CONFIG="$work/proxy.toml" BENCH_API_KEY=bench-key; b=$addr

measure() { # url -> req/s
  local out
  out=$(wrk -t1 -c32 -d"${secs}s" -H "Approov-Token: $token" "$1")
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "errors from $1" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
# Warm-up: connection pools, caches, CPU frequency.
measure "http://$a/api/health" >/dev/null
measure "http://$b/api/health" >/dev/null

ratios=()
echo "| round | $rev req/s | this checkout req/s | ratio |"
echo "|---|---|---|---|"
for r in $(seq "$rounds"); do
  x=$(measure "http://$a/api/health")
  y=$(measure "http://$b/api/health")
  ratio=$(awk -v x="$x" -v y="$y" 'BEGIN {printf "%.3f", y / x}')
  ratios+=("$ratio")
  echo "| $r | $x | $y | $ratio |"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "| median | | | **$median** |"
echo
echo "wrk -t1 -c32 -d${secs}s, $rounds alternated rounds; upstream: axum-hello at $rev; $(nproc) cores; $(rustc --version)"

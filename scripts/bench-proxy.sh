#!/usr/bin/env bash
# HTTP benchmark of approov-proxy: wrk requests/s of `GET /health` on a local
# upstream (the axum-hello example) straight, beside the same request through
# the proxy (Approov token checked, key added, hop-by-hop headers removed,
# answer streamed back), alternated in one run on loopback, and the ratio.
#
# Usage: bash scripts/bench-proxy.sh [seconds-per-run] [rounds]
# Needs wrk (Debian: apt-get install wrk). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-3}
conns=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --release -q -p approov-examples -p approov-proxy --bins
bin=target/release
secret=$(head -c 32 /dev/urandom | base64)
token=$(APPROOV_BASE64_SECRET="$secret" "$bin/approov-token" --expires-in 3600)
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

start() { # name, then env assignments; sets $addr once it listens
  local name=$1; shift
  env "$@" APPROOV_BASE64_SECRET="$secret" LISTEN_ADDR=127.0.0.1:0 RUST_LOG=off \
    "$bin/$name" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$work/$name.out" && break; sleep 0.1; done
  addr=$(awk '/^listening on / {print $3; exit}' "$work/$name.out")
  [ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$work/$name.err" >&2; exit 1; }
}

start axum-hello; upstream=$addr
# The proxy's own /health would not reach the upstream: route /api instead.
cat >"$work/proxy.toml" <<EOF
[[route]]
name = "bench"
prefix = "/api"
upstream = "http://$upstream"
key_env = "BENCH_API_KEY"
key_header = "X-Api-Key"
EOF
start approov-proxy PROXY_CONFIG="$work/proxy.toml" BENCH_API_KEY=bench-key; proxy=$addr

rps() { # url [header]
  local out
  if [ $# -gt 1 ]; then out=$(wrk -t1 -c"$conns" -d"${secs}s" -H "$2" "$1"); else out=$(wrk -t1 -c"$conns" -d"${secs}s" "$1"); fi
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $1" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

direct=(); proxied=()
rps "http://$upstream/health" >/dev/null                                # warm-up
rps "http://$proxy/api/health" "Approov-Token: $token" >/dev/null      # warm-up (pool)
for _ in $(seq "$rounds"); do
  direct+=("$(rps "http://$upstream/health")")
  proxied+=("$(rps "http://$proxy/api/health" "Approov-Token: $token")")
done
d=$(printf '%s\n' "${direct[@]}" | median); p=$(printf '%s\n' "${proxied[@]}" | median)

printf '| path | req/s |\n|---|---|\n'
printf '| upstream straight: `GET /health` on axum-hello | %.0f |\n' "$d"
printf '| through api-key-proxy: `GET /api/health` with a token | %.0f |\n' "$p"
printf '| ratio (proxied / straight) | %.3f |\n' "$(awk -v p="$p" -v d="$d" 'BEGIN {print p / d}')"
echo
echo "wrk -t1 -c$conns -d${secs}s, $rounds alternated rounds, medians; wrk, proxy and upstream share $(nproc) cores; $(rustc --version)"

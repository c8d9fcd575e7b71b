#!/usr/bin/env bash
# HTTP benchmark of the example servers: wrk requests/s of `GET /` with a
# valid Approov token beside `GET /health` (no check) on the same server,
# alternated in one run on loopback, and the ratio.
#
# Each round measures, back to back on the same server:
#   health       GET /health without the token header
#   health+token GET /health with the same token header (ignored there)
#   protected    GET / with the token (the check runs)
# and the ratios protected/health+token (the cost of the check alone: both
# requests carry the same bytes) and protected/health (the check plus the
# token header's bytes). Ratios are taken per round, from runs seconds
# apart, and the median over rounds is reported, so drift of this shared
# 2-vCPU VM between rounds cancels out.
#
# When `taskset` is available the server runs on CPU 0 and wrk on CPU 1, so
# the load generator does not compete with the server for its core and the
# server's CPU time per request is what the rate measures.
#
# The example servers remember verified tokens (APPROOV_TOKEN_CACHE_SIZE,
# default 10000 there); the variable is passed through, so
# `APPROOV_TOKEN_CACHE_SIZE=0 bash scripts/bench-http.sh` measures every
# request verified in full.
#
# Usage: bash scripts/bench-http.sh [seconds-per-run] [rounds]
# Needs wrk (Debian: apt-get install wrk). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
rounds=${2:-7}
conns=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --release -q -p approov-examples --bins
bin=target/release
secret=$(head -c 32 /dev/urandom | base64)
token=$(APPROOV_BASE64_SECRET="$secret" "$bin/approov-token" --expires-in 3600)

server_cpu=() ; load_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0); load_cpu=(taskset -c 1)
fi

rps() { # url [header]
  local out
  if [ $# -gt 1 ]; then
    out=$("${load_cpu[@]}" wrk -t1 -c"$conns" -d"${secs}s" -H "$2" "$1")
  else
    out=$("${load_cpu[@]}" wrk -t1 -c"$conns" -d"${secs}s" "$1")
  fi
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $1" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a / b}'; }

rows=()
for server in axum-hello actix-hello warp-hello; do
  log=$(mktemp)
  APPROOV_BASE64_SECRET="$secret" LISTEN_ADDR=127.0.0.1:0 RUST_LOG=off \
    "${server_cpu[@]}" "$bin/$server" >"$log" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.1; done
  addr=$(awk '/^listening on / {print $3; exit}' "$log")
  [ -n "$addr" ] || { echo "$server did not start" >&2; kill $pid; exit 1; }
  rps "http://$addr/health" >/dev/null   # warm-up
  rps "http://$addr/" "Approov-Token: $token" >/dev/null
  h=(); ht=(); p=(); r_check=(); r_all=()
  for i in $(seq "$rounds"); do
    a=$(rps "http://$addr/health")
    b=$(rps "http://$addr/health" "Approov-Token: $token")
    c=$(rps "http://$addr/" "Approov-Token: $token")
    h+=("$a"); ht+=("$b"); p+=("$c")
    r_check+=("$(div "$c" "$b")"); r_all+=("$(div "$c" "$a")")
    echo "$server round $i: health $a, health+token $b, protected $c" >&2
  done
  kill $pid; wait $pid 2>/dev/null || true; rm -f "$log"
  rows+=("$(printf '| %s | %.0f | %.0f | %.0f | **%.3f** | %.3f |' "$server" \
    "$(printf '%s\n' "${h[@]}" | median)" "$(printf '%s\n' "${ht[@]}" | median)" \
    "$(printf '%s\n' "${p[@]}" | median)" \
    "$(printf '%s\n' "${r_check[@]}" | median)" "$(printf '%s\n' "${r_all[@]}" | median)")")
done
printf '| server | GET /health req/s | GET /health + token header req/s | GET / (token checked) req/s | ratio to health + token header | ratio to health |\n|---|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
echo
pin="unpinned"; [ ${#server_cpu[@]} -gt 0 ] && pin="server on CPU 0, wrk on CPU 1"
echo "wrk -t1 -c$conns -d${secs}s; $rounds rounds per server, medians of the rates and of the per-round ratios; $pin; $(nproc) cores, $(rustc --version)"

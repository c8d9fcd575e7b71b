#!/usr/bin/env bash
# HTTP benchmark of the example servers: wrk requests/s of `GET /` with a
# valid Approov token beside `GET /health` (no check) on the same server,
# alternated in one run on loopback, and the ratio.
#
# Usage: bash scripts/bench-http.sh [seconds-per-run] [rounds]
# Needs wrk (Debian: apt-get install wrk). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-3}
conns=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

cargo build --release -q -p approov-examples --bins
bin=target/release
secret=$(head -c 32 /dev/urandom | base64)
token=$("$bin/approov-token" --secret "$secret" --expires-in 3600)

rps() { # url [header]
  local out
  if [ $# -gt 1 ]; then out=$(wrk -t1 -c"$conns" -d"${secs}s" -H "$2" "$1"); else out=$(wrk -t1 -c"$conns" -d"${secs}s" "$1"); fi
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $1" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '| server | GET /health req/s | GET / (token) req/s | ratio |\n|---|---|---|---|\n'
for server in axum-hello actix-hello warp-hello; do
  log=$(mktemp)
  APPROOV_BASE64_SECRET="$secret" LISTEN_ADDR=127.0.0.1:0 RUST_LOG=off "$bin/$server" >"$log" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$log" && break; sleep 0.1; done
  addr=$(awk '/^listening on / {print $3; exit}' "$log")
  [ -n "$addr" ] || { echo "$server did not start" >&2; kill $pid; exit 1; }
  health=(); protected=()
  rps "http://$addr/health" >/dev/null   # warm-up
  for _ in $(seq "$rounds"); do
    health+=("$(rps "http://$addr/health")")
    protected+=("$(rps "http://$addr/" "Approov-Token: $token")")
  done
  kill $pid; wait $pid 2>/dev/null || true; rm -f "$log"
  h=$(printf '%s\n' "${health[@]}" | median); p=$(printf '%s\n' "${protected[@]}" | median)
  printf '| %s | %.0f | %.0f | %.3f |\n' "$server" "$h" "$p" "$(awk -v p="$p" -v h="$h" 'BEGIN {print p / h}')"
done
echo
echo "wrk -t1 -c$conns -d${secs}s, $rounds alternated rounds per server, medians; $(nproc) cores, $(rustc --version)"

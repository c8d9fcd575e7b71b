#!/usr/bin/env bash
# HTTP benchmark of approov-proxy beside nginx, in one run on loopback.
#
# The upstream is the axum-hello example's `GET /health` (UPSTREAM=axum, the
# default) or nginx's cheapest answer, `return 200` (UPSTREAM=static), where
# the proxies' own cost dominates. Three paths are measured with wrk,
# alternated round by round:
#   - straight to the upstream (the control);
#   - through nginx: `proxy_pass` over kept-alive upstream connections,
#     adding one key header (what a team would otherwise deploy);
#   - through approov-proxy: the Approov token verified on every request,
#     the key header added, the per-device rate limit on (high enough never
#     to refuse), hop-by-hop headers removed, the answer streamed back.
# With REDIS=on a fourth path joins the rounds: a second approov-proxy, the
# same in all but REDIS_URL, sharing its per-device limit through a
# redis-server started here on a free loopback port (leased slices of the
# budget, one device as in the other paths); the ratio
# approov-proxy+redis / approov-proxy (in-process limit) is printed too,
# and the script calls Redis ran against the requests that proxy answered.
# It prints the medians of requests/s and p99 latency and the ratio
# approov-proxy / nginx, with each round's figures.
#
# Usage: bash scripts/bench-proxy.sh [seconds-per-run] [rounds]
# Needs wrk and nginx, and redis-server with REDIS=on (Debian: apt-get
# install wrk nginx redis-server; installed here when missing and apt-get is
# usable). Talks only to 127.0.0.1.
# UPSTREAM=static answers from nginx `return 200` instead of axum-hello: an
# nginx of its own (two workers), not a server block of the measured nginx,
# whose worker could then answer its own upstream call without a switch to
# another process, which no deployed upstream allows.
# REDIS=on adds approov-proxy with REDIS_URL beside the in-process one.
# PINGORA=on adds the same gateway work on pingora's proxy framework
# (scripts/bench-pingora; building it needs cmake, installed here when
# missing), measured in the same rounds, and its ratio to nginx.
# FLOOR=on adds the floors of two HTTP engines as gateways
# (scripts/bench-floor), forwarding with nothing else to do (no token
# check, limit, timeouts or header filtering): hyper on both sides in
# approov-proxy's serving model, and actix-web with awc. Printed: each
# floor / nginx (how far the engine itself is from nginx) and
# approov-proxy / hyper floor (what approov-proxy's own work costs).
# LOGS=on keeps one log line per request in both proxies (to a file).
# WORKER_CPU_AFFINITY=off leaves approov-proxy's workers unpinned (its
# default pins one per CPU); NGINX_CPU_AFFINITY=auto pins nginx's
# (`worker_cpu_affinity auto`; nginx's default leaves them unpinned).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-5}
conns=${CONNECTIONS:-32}
logs=${LOGS:-off}
proxy_affinity=${WORKER_CPU_AFFINITY:-auto}
nginx_affinity=${NGINX_CPU_AFFINITY:-off}
upstream_mode=${UPSTREAM:-axum}
redis_mode=${REDIS:-off}
pingora_mode=${PINGORA:-off}
floor_mode=${FLOOR:-off}
case "$upstream_mode" in axum|static) ;; *) echo "UPSTREAM must be axum or static" >&2; exit 2;; esac
case "$redis_mode" in on|off) ;; *) echo "REDIS must be on or off" >&2; exit 2;; esac
case "$pingora_mode" in on|off) ;; *) echo "PINGORA must be on or off" >&2; exit 2;; esac
case "$floor_mode" in on|off) ;; *) echo "FLOOR must be on or off" >&2; exit 2;; esac

install() { # package
  command -v apt-get >/dev/null || { echo "$1 is not installed" >&2; exit 1; }
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}
command -v wrk >/dev/null || install wrk
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { install nginx; nginx=$(command -v nginx || echo /usr/sbin/nginx); }
if [ "$redis_mode" = on ]; then
  command -v redis-server >/dev/null || install redis-server
  command -v redis-cli >/dev/null || install redis-tools
fi

cargo build --release -q -p approov-examples -p approov-proxy --bins
if [ "$pingora_mode" = on ]; then
  command -v cmake >/dev/null || install cmake
  cargo build --release -q --manifest-path scripts/bench-pingora/Cargo.toml \
    --target-dir target/bench-pingora
fi
if [ "$floor_mode" = on ]; then
  cargo build --release -q --manifest-path scripts/bench-floor/Cargo.toml \
    --target-dir target/bench-floor
fi
bin=target/release
secret=$(head -c 32 /dev/urandom | base64)
token=$(APPROOV_BASE64_SECRET="$secret" "$bin/approov-token" --expires-in 3600)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/static.pid" ] && kill "$(cat "$work/static.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start() { # label, binary, then env assignments; sets $addr once it listens
  local name=$1 exe=$2; shift 2
  local rust_log=off; [ "$logs" = on ] && rust_log=info
  env "$@" APPROOV_BASE64_SECRET="$secret" LISTEN_ADDR=127.0.0.1:0 RUST_LOG="$rust_log" \
    "$bin/$exe" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$work/$name.out" && break; sleep 0.1; done
  addr=$(awk '/^listening on / {print $3; exit}' "$work/$name.out")
  [ -n "$addr" ] || { echo "$name did not start:" >&2; cat "$work/$name.err" >&2; exit 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

nginx_port=$(free_port)
if [ "$upstream_mode" = static ]; then
  static_port=$(free_port)
  upstream=127.0.0.1:$static_port
else
  start axum-hello axum-hello; upstream=$addr
fi

# UPSTREAM=static: the upstream, `return 200` from an nginx of its own.
if [ "$upstream_mode" = static ]; then
  cat >"$work/static.conf" <<EOF
worker_processes auto;
daemon on;
pid $work/static.pid;
error_log $work/static-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/static-body;
  proxy_temp_path $work/static-proxy;
  fastcgi_temp_path $work/static-fastcgi;
  uwsgi_temp_path $work/static-uwsgi;
  scgi_temp_path $work/static-scgi;
  server { listen $upstream; location / { return 200; } }
}
EOF
  "$nginx" -c "$work/static.conf" -p "$work" 2>"$work/static-start.err" \
    || { echo "the static nginx did not start:" >&2; cat "$work/static-start.err" >&2; exit 1; }
  for _ in $(seq 100); do [ -s "$work/static.pid" ] && break; sleep 0.1; done
fi

# nginx: the same route, one worker per core, upstream connections kept
# alive.
access_log="access_log off;"
[ "$logs" = on ] && access_log="access_log $work/nginx-access.log combined buffer=64k;"
cat >"$work/nginx.conf" <<EOF
worker_processes auto;
$([ "$nginx_affinity" = auto ] && echo "worker_cpu_affinity auto;")
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  $access_log
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  upstream backend { server $upstream; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location /api/ {
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Api-Key bench-key;
    }
  }
}
EOF
"$nginx" -c "$work/nginx.conf" -p "$work" 2>"$work/nginx-start.err" \
  || { echo "nginx did not start:" >&2; cat "$work/nginx-start.err" >&2; exit 1; }
for _ in $(seq 100); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done

# approov-proxy: /api routed to the upstream (its own /health would not reach it).
cat >"$work/proxy.toml" <<EOF
[[route]]
name = "bench"
prefix = "/api"
upstream = "http://$upstream"
key_env = "BENCH_API_KEY"
key_header = "X-Api-Key"
rate_limit_per_device_per_minute = 4000000000
EOF
start approov-proxy approov-proxy PROXY_CONFIG="$work/proxy.toml" BENCH_API_KEY=bench-key \
  WORKER_CPU_AFFINITY="$proxy_affinity"; proxy=$addr

# The same proxy sharing its limit through a redis-server of its own.
if [ "$redis_mode" = on ]; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize no >"$work/redis.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  redis-cli -p "$redis_port" ping | grep -q PONG \
    || { echo "redis-server did not start:" >&2; cat "$work/redis.out" >&2; exit 1; }
  start approov-proxy-redis approov-proxy PROXY_CONFIG="$work/proxy.toml" BENCH_API_KEY=bench-key \
    WORKER_CPU_AFFINITY="$proxy_affinity" REDIS_URL="redis://127.0.0.1:$redis_port"; proxy_redis=$addr
fi

# The same work on pingora's proxy framework, as many threads as workers.
if [ "$pingora_mode" = on ]; then
  pingora=127.0.0.1:$(free_port)
  env UPSTREAM="$upstream" LISTEN_ADDR="$pingora" APPROOV_BASE64_SECRET="$secret" THREADS="$(nproc)" \
    RUST_LOG=off target/bench-pingora/release/bench-pingora >"$work/pingora.out" 2>"$work/pingora.err" &
  pids+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://$pingora/" && break; sleep 0.1; done
fi

# The engines' floors: forwarding with nothing of approov-proxy's own.
if [ "$floor_mode" = on ]; then
  floor=127.0.0.1:$(free_port)
  env UPSTREAM="$upstream" LISTEN_ADDR="$floor" THREADS="$(nproc)" \
    target/bench-floor/release/hyper-floor >"$work/floor.out" 2>"$work/floor.err" &
  pids+=($!)
  actix=127.0.0.1:$(free_port)
  env UPSTREAM="$upstream" LISTEN_ADDR="$actix" THREADS="$(nproc)" \
    target/bench-floor/release/actix-floor >"$work/actix.out" 2>"$work/actix.err" &
  pids+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://$floor/" && curl -s -o /dev/null "http://$actix/" && break; sleep 0.1; done
fi

measure() { # url [header] -> "req/s p99-ms"
  local out
  if [ $# -gt 1 ]; then
    out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency -H "$2" "$1")
  else
    out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency "$1")
  fi
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "errors from $1" >&2; echo "$out" >&2; exit 1; fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}')
  echo "$rps $p99"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Warm-up: connection pools, caches, CPU frequency.
measure "http://$upstream/health" >/dev/null
measure "http://127.0.0.1:$nginx_port/api/health" >/dev/null
measure "http://$proxy/api/health" "Approov-Token: $token" >/dev/null
[ "$pingora_mode" = on ] && measure "http://$pingora/api/health" "Approov-Token: $token" >/dev/null
[ "$floor_mode" = on ] && measure "http://$floor/api/health" >/dev/null && measure "http://$actix/api/health" >/dev/null
redis_calls() { redis-cli -p "$redis_port" info commandstats | awk -F'[=,]' '/^cmdstat_eval(sha)?:/ {n += $2} END {print n + 0}'; }
if [ "$redis_mode" = on ]; then
  measure "http://$proxy_redis/api/health" "Approov-Token: $token" >/dev/null
  [ "$(redis_calls)" -gt 0 ] || { echo "approov-proxy did not call redis:" >&2; cat "$work/approov-proxy-redis.err" >&2; exit 1; }
fi

g_rps=(); g_ratios=(); f_rps=(); f_ratios=(); pf_ratios=(); a_rps=(); a_ratios=(); d_rps=(); n_rps=(); p_rps=(); r_rps=(); d_p99=(); n_p99=(); p_p99=(); r_p99=(); ratios=(); r_ratios=()
redis_head="" redis_rule=""
if [ "$redis_mode" = on ]; then
  redis_head=" approov-proxy+redis req/s | +redis / in-process | p99 ms +redis |"
  redis_rule="---|---|---|"
fi
pingora_head="" pingora_rule=""
if [ "$pingora_mode" = on ]; then
  pingora_head=" pingora req/s | pingora / nginx |"
  pingora_rule="---|---|"
fi
floor_head="" floor_rule=""
if [ "$floor_mode" = on ]; then
  floor_head=" hyper floor req/s | hyper floor / nginx | approov-proxy / hyper floor | actix floor req/s | actix floor / nginx |"
  floor_rule="---|---|---|---|---|"
fi
echo "| round | straight req/s | nginx req/s | approov-proxy req/s | approov-proxy / nginx | p99 ms straight / nginx / approov-proxy |$redis_head$pingora_head$floor_head"
echo "|---|---|---|---|---|---|$redis_rule$pingora_rule$floor_rule"
redis_requests=0
calls_before=0; [ "$redis_mode" = on ] && calls_before=$(redis_calls)
for r in $(seq "$rounds"); do
  read -r dr dp < <(measure "http://$upstream/health")
  read -r nr np < <(measure "http://127.0.0.1:$nginx_port/api/health")
  read -r pr pp < <(measure "http://$proxy/api/health" "Approov-Token: $token")
  d_rps+=("$dr"); n_rps+=("$nr"); p_rps+=("$pr"); d_p99+=("$dp"); n_p99+=("$np"); p_p99+=("$pp")
  ratio=$(awk -v p="$pr" -v n="$nr" 'BEGIN {printf "%.3f", p / n}')
  ratios+=("$ratio")
  redis_cells=""
  if [ "$redis_mode" = on ]; then
    read -r rr rp < <(measure "http://$proxy_redis/api/health" "Approov-Token: $token")
    r_rps+=("$rr"); r_p99+=("$rp")
    r_ratio=$(awk -v r="$rr" -v p="$pr" 'BEGIN {printf "%.3f", r / p}')
    r_ratios+=("$r_ratio")
    redis_requests=$(awk -v t="$redis_requests" -v r="$rr" -v s="$secs" 'BEGIN {printf "%.0f", t + r * s}')
    redis_cells=$(printf ' %.0f | %s | %s |' "$rr" "$r_ratio" "$rp")
  fi
  pingora_cells=""
  if [ "$pingora_mode" = on ]; then
    read -r gr _ < <(measure "http://$pingora/api/health" "Approov-Token: $token")
    g_ratio=$(awk -v g="$gr" -v n="$nr" 'BEGIN {printf "%.3f", g / n}')
    g_rps+=("$gr"); g_ratios+=("$g_ratio")
    pingora_cells=$(printf ' %.0f | %s |' "$gr" "$g_ratio")
  fi
  floor_cells=""
  if [ "$floor_mode" = on ]; then
    read -r fr _ < <(measure "http://$floor/api/health")
    f_ratio=$(awk -v f="$fr" -v n="$nr" 'BEGIN {printf "%.3f", f / n}')
    pf_ratio=$(awk -v p="$pr" -v f="$fr" 'BEGIN {printf "%.3f", p / f}')
    read -r ar _ < <(measure "http://$actix/api/health")
    a_ratio=$(awk -v a="$ar" -v n="$nr" 'BEGIN {printf "%.3f", a / n}')
    f_rps+=("$fr"); f_ratios+=("$f_ratio"); pf_ratios+=("$pf_ratio"); a_rps+=("$ar"); a_ratios+=("$a_ratio")
    floor_cells=$(printf ' %.0f | %s | %s | %.0f | %s |' "$fr" "$f_ratio" "$pf_ratio" "$ar" "$a_ratio")
  fi
  printf '| %d | %.0f | %.0f | %.0f | %s | %s / %s / %s |%s%s%s\n' "$r" "$dr" "$nr" "$pr" "$ratio" "$dp" "$np" "$pp" "$redis_cells" "$pingora_cells" "$floor_cells"
done
med() { printf '%s\n' "$@" | median; }
redis_cells=""
if [ "$redis_mode" = on ]; then
  redis_cells=$(printf ' %.0f | %s | %s |' "$(med "${r_rps[@]}")" "$(med "${r_ratios[@]}")" "$(med "${r_p99[@]}")")
fi
pingora_cells=""
if [ "$pingora_mode" = on ]; then
  pingora_cells=$(printf ' %.0f | %s |' "$(med "${g_rps[@]}")" "$(med "${g_ratios[@]}")")
fi
floor_cells=""
if [ "$floor_mode" = on ]; then
  floor_cells=$(printf ' %.0f | %s | %s | %.0f | %s |' "$(med "${f_rps[@]}")" "$(med "${f_ratios[@]}")" \
    "$(med "${pf_ratios[@]}")" "$(med "${a_rps[@]}")" "$(med "${a_ratios[@]}")")
fi
printf '| median | %.0f | %.0f | %.0f | %s | %s / %s / %s |%s%s%s\n' \
  "$(med "${d_rps[@]}")" "$(med "${n_rps[@]}")" "$(med "${p_rps[@]}")" "$(med "${ratios[@]}")" \
  "$(med "${d_p99[@]}")" "$(med "${n_p99[@]}")" "$(med "${p_p99[@]}")" "$redis_cells" "$pingora_cells" "$floor_cells"
echo
if [ "$redis_mode" = on ]; then
  calls=$(( $(redis_calls) - calls_before ))
  echo "approov-proxy+redis: $calls redis script calls for about $redis_requests requests in the rounds."
fi
echo "wrk -t1 -c$conns -d${secs}s --latency, $rounds alternated rounds, logs $logs," \
  "upstream $upstream_mode, redis $redis_mode, pingora $pingora_mode, floor $floor_mode," \
  "approov-proxy WORKER_CPU_AFFINITY=$proxy_affinity, nginx worker_cpu_affinity ${nginx_affinity/off/unset};" \
  "$("$nginx" -v 2>&1 | sed 's/.*: //');$([ "$redis_mode" = on ] && echo " redis $(redis-server --version | awk '{print $3}' | sed 's/v=//');") $(rustc --version); $(nproc) cores shared by wrk, the proxies and the upstream"

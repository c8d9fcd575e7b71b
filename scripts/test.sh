#!/usr/bin/env bash
# Every test in the workspace: unit, integration, property and doc tests.
# This is the test command README.md prints; .ci/run calls it. It needs
# Rust, this checkout, and two services approov-proxy's tests start
# themselves on free loopback ports: redis-server (the shared rate limit)
# and nginx (forward-auth). When either is missing it installs the Debian
# packages (as root, or with `sudo -n`, through apt-get), saying so, and
# otherwise stops at once naming the packages to install. cargo-nextest is
# used when installed (a process per test, the faster run), else
# `cargo test` runs the same tests.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      as_root=(none)
    fi
  fi
  if [ "${as_root[*]}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: not installed: ${missing[*]} (approov-proxy's tests run them)." >&2
    echo "test.sh: this script installs them with apt-get as root or with sudo -n, and can do neither here:" >&2
    echo "test.sh: install the Debian package(s) ${missing[*]}, then run it again." >&2
    exit 2
  fi
  echo "test.sh: installing ${missing[*]} (Debian packages; approov-proxy's tests run them)"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if cargo nextest --version >/dev/null 2>&1; then
  echo "test.sh: running the tests with cargo-nextest"
  cargo nextest run --workspace --all-features --no-fail-fast
else
  echo "test.sh: cargo-nextest is not installed (cargo install --locked cargo-nextest);"
  echo "test.sh: running the same tests with cargo test"
  cargo test --workspace --all-features --no-fail-fast --lib --bins --tests
fi
cargo test --workspace --all-features --doc

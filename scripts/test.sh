#!/usr/bin/env bash
# Every test in the workspace: unit, integration, property and doc tests.
# This is the test command README.md prints; .ci/run calls it. It needs
# only Rust and this checkout: cargo-nextest is used when installed
# (a process per test, the faster run), else `cargo test` runs the same
# tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if cargo nextest --version >/dev/null 2>&1; then
  echo "test.sh: running the tests with cargo-nextest"
  cargo nextest run --workspace --all-features --no-fail-fast
else
  echo "test.sh: cargo-nextest is not installed (cargo install --locked cargo-nextest);"
  echo "test.sh: running the same tests with cargo test"
  cargo test --workspace --all-features --no-fail-fast --lib --bins --tests
fi
cargo test --workspace --all-features --doc

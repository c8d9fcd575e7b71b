#!/usr/bin/env bash
# Every test in the workspace: unit, integration, property and doc tests.
# This is the test command README.md prints; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --workspace --all-features --no-fail-fast
cargo test --workspace --all-features --doc

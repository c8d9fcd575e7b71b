#!/usr/bin/env bash
# The example servers are meant to be copied into a team's own API as they
# are. This copies each one, as src/main.rs, into a new crate outside the
# workspace whose Cargo.toml has exactly the dependencies the file's header
# lists (the ```toml block of its first doc comment; the approov crates by
# path, to this checkout), and builds it. It fails when a file has no such
# header, uses the workspace-only `approov_examples` crate, or does not build
# that way: a dependency or feature the header forgot, hidden in the
# workspace by feature unification, fails here.
#
# The workspace's Cargo.lock is copied into each crate, so the versions are
# the ones tested; the three builds share one target directory
# ($CARGO_TARGET_DIR/examples-copy, or target/examples-copy).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}/examples-copy"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/approov-examples-copy.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

failed=()
for name in axum-hello actix-hello warp-hello; do
  file="$repo/examples/src/bin/$name.rs"
  echo "== $name: a copy in a crate of its own"
  if grep -n 'approov_examples' "$file" >&2; then
    echo "$file uses approov_examples, which a team copying it does not have" >&2
    failed+=("$name")
    continue
  fi
  # The lines between "//! ```toml" and the next "//! ```", without "//! ".
  deps="$(sed -n '/^\/\/! ```toml$/,/^\/\/! ```$/{/^\/\/! ```/d;s|^//! \{0,1\}||;p;}' "$file")"
  if [[ "$(printf '%s\n' "$deps" | head -n 1)" != "[dependencies]" ]] \
    || [[ "$(printf '%s\n' "$deps" | wc -l)" -lt 2 ]]; then
    echo "$file has no dependency header: a \`//! \`\`\`toml\` block starting with [dependencies]" >&2
    failed+=("$name")
    continue
  fi
  # approov-x = { version = ... }  ->  approov-x = { path = "<repo>/approov-x", version = ... }
  # approov-x = "0.1"              ->  approov-x = { path = "<repo>/approov-x", version = "0.1" }
  deps="$(printf '%s\n' "$deps" | sed -E \
    -e "s#^(approov-[a-z]+) = \\{ #\\1 = { path = \"$repo/\\1\", #" \
    -e "s#^(approov-[a-z]+) = (\"[^\"]*\")\$#\\1 = { path = \"$repo/\\1\", version = \\2 }#")"
  crate="$scratch/$name"
  mkdir -p "$crate/src"
  cp "$file" "$crate/src/main.rs"
  cp "$repo/Cargo.lock" "$crate/Cargo.lock"
  cat >"$crate/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

# A workspace of its own, whatever directory it is in.
[workspace]

$deps
EOF
  if ! CARGO_TARGET_DIR="$target" cargo build --quiet --manifest-path "$crate/Cargo.toml"; then
    echo "$name does not build from its file and header alone; its Cargo.toml was:" >&2
    cat "$crate/Cargo.toml" >&2
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "check-examples-copy: not usable as copied: ${failed[*]}" >&2
  exit 1
fi
echo "check-examples-copy: every example server builds on its own"

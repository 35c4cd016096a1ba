#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Rust toolchain:
# installs what is missing, then runs formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# ring (used by rustls-webpki) compiles C and assembly: it needs a C compiler.
need=()
command -v cc >/dev/null || need+=(gcc libc6-dev)
if ((${#need[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}"
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

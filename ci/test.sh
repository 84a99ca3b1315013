#!/usr/bin/env bash
# The project's test command (README.md): installs what the tests need when it is missing, then
# runs formatting, lints, unit and integration tests, and a short fuzzing pass over every parser.
# Safe to run again; installs only once.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=ci/deps.sh
. ci/deps.sh
ensure_debian_packages
ensure_traefik

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test"
cargo test --locked -- --test-threads=2

step "fuzz (short)"
ci/fuzz.sh

step "size budget (stripped aarch64 musl release, runs under qemu)"
ci/size-check.sh

step "own memcpy/memmove/memcmp in the x86_64 musl build"
ci/memops-check.sh

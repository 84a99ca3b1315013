#!/usr/bin/env bash
# The project's test command (README.md): installs what the tests need when it is missing, then
# runs formatting, lints, unit and integration tests. Safe to run again; installs only once.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=ci/deps.sh
. ci/deps.sh
ensure_debian_packages
ensure_traefik

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo build --locked"
cargo build --locked --all-targets

step "cargo test --locked"
cargo test --locked -- --test-threads=2

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

step() { printf '\n== %s (%s free)\n' "$*" "$(df -h --output=avail . | tail -n 1 | tr -d ' ')"; }

# TOLLGATE_CI_PRUNE=1 (set by .ci/run) removes each stage's build products once the stage is
# done, so the run's peak disk use is its largest stage rather than their sum. A CI run once
# failed when the linker died of SIGBUS on a disk with ~1 GiB free; a developer's own run keeps
# its target directories.
prune() {
    if [ "${TOLLGATE_CI_PRUNE:-0}" = 1 ]; then rm -rf "$@"; fi
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

# The musl-allocator build README.md offers (`--no-default-features`) must keep compiling.
step "cargo check --no-default-features"
cargo check --locked --no-default-features

step "cargo test"
cargo test --locked -- --test-threads=2
prune target/debug

step "fuzz (short)"
ci/fuzz.sh
prune fuzz/target

step "size budget (stripped aarch64 musl release, runs under qemu)"
ci/size-check.sh

step "own memcpy/memmove/memcmp in the x86_64 musl build"
ci/memops-check.sh

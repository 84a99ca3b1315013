#!/usr/bin/env bash
# Runs every cargo-fuzz target for a few seconds (FUZZ_SECONDS, default 10): parsers must not
# panic on arbitrary input. Installs the nightly toolchain and cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-10}"
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cd fuzz
for target in $(cargo +nightly fuzz list); do
    echo "== fuzz $target (${seconds}s)"
    # Seeds kept in the repository (fuzz/seeds/TARGET) start the search where ten seconds would
    # not reach alone; new finds go to the (ignored) corpus directory.
    corpus=(corpus/"$target")
    if [ -d seeds/"$target" ]; then corpus+=(seeds/"$target"); fi
    mkdir -p corpus/"$target"
    cargo +nightly fuzz run "$target" "${corpus[@]}" -- -max_total_time="$seconds" -print_final_stats=0 2>&1 | tail -n 3
done

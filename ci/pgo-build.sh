#!/usr/bin/env bash
# The shipping build, guided by a profile: build tollgate instrumented, run it on a training mix
# (ci/pgo-train.sh; under qemu-user for aarch64), merge the profile, and build the release
# binary again with it. LLVM then lays out and inlines for the paths that ran and keeps the rest
# small. docs/PERFORMANCE.md ("Profile-guided build") has what it measured: 13% fewer
# instructions per proxied request, half the instruction-cache misses, and a smaller binary.
#
# The profile is made here, from this source, every time: a profile from other source would
# match fewer functions and quietly guide less. It cannot be shared between targets either
# (symbol names carry a hash of the target), so aarch64 trains its own build under qemu.
#
# RUSTFLAGS replaces the target's rustflags in .cargo/config.toml, so the static-CRT flag is
# repeated here.
#
# Both builds keep their symbols, and the shipping binary is a stripped copy. Any other cargo
# profile setting for the second build (`strip`, `debug`) changes every symbol's hash, and the
# profile then matches nothing: a build with symbols made apart from this one measured 30,042
# instructions per request, the plain build's count, where this one measures 24,610. The copy
# with symbols is what size breakdowns and profilers should read.
#
# usage: ci/pgo-build.sh [--target TRIPLE] [cargo build options...]
#   TRIPLE: x86_64-unknown-linux-musl (default) or aarch64-unknown-linux-musl
# prints the stripped binary's path on stdout: target/pgo/TRIPLE/tollgate; with symbols:
# target/pgo/TRIPLE/release/tollgate; the profile: target/pgo-profile/TRIPLE.profdata
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/deps.sh
. ci/deps.sh

TARGET=x86_64-unknown-linux-musl
if [ "${1:-}" = --target ]; then
    TARGET="$2"
    shift 2
fi
case "$TARGET" in
    x86_64-unknown-linux-musl) RUNNER=() ;;
    aarch64-unknown-linux-musl)
        # The C parts (mimalloc, ring) need aarch64 libc headers: only a Recommends of the
        # cross compiler, which apt_install does not take.
        apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
        RUNNER=(qemu-aarch64-static)
        ;;
    *)
        echo "ci/pgo-build.sh: no training set up for $TARGET" >&2
        exit 64
        ;;
esac
apt_install musl-tools
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || rustup target add "$TARGET" >&2
PROFDATA="$(find "$(rustc --print sysroot)" -name llvm-profdata -type f 2>/dev/null | head -n 1)"
if [ -z "$PROFDATA" ]; then
    rustup component add llvm-tools >&2
    PROFDATA="$(find "$(rustc --print sysroot)" -name llvm-profdata -type f | head -n 1)"
fi
[ -x "$PROFDATA" ] || { echo "ci/pgo-build.sh: no llvm-profdata after adding llvm-tools" >&2; exit 1; }
STRIP="$(dirname "$PROFDATA")/llvm-strip"
export CARGO_PROFILE_RELEASE_STRIP=none

BASE_FLAGS="-C target-feature=+crt-static"
RAW="$PWD/target/pgo-profile/$TARGET.raw"
PROFILE="$PWD/target/pgo-profile/$TARGET.profdata"
rm -rf "$RAW" "$PROFILE"
mkdir -p "$RAW"

echo "ci/pgo-build.sh: instrumented build for $TARGET" >&2
CARGO_TARGET_DIR=target/pgo-instrumented RUSTFLAGS="$BASE_FLAGS -C profile-generate=$RAW" \
    cargo build --release --locked --target "$TARGET" "$@" >&2
ci/pgo-train.sh "target/pgo-instrumented/$TARGET/release/tollgate" "${RUNNER[@]}" >&2
"$PROFDATA" merge -o "$PROFILE" "$RAW"
rm -rf "$RAW"
# The instrumented build is only needed once per profile (~1 GiB).
if [ "${TOLLGATE_CI_PRUNE:-0}" = 1 ]; then rm -rf target/pgo-instrumented; fi

echo "ci/pgo-build.sh: release build for $TARGET guided by $PROFILE" >&2
CARGO_TARGET_DIR=target/pgo RUSTFLAGS="$BASE_FLAGS -C profile-use=$PROFILE" \
    cargo build --release --locked --target "$TARGET" "$@" >&2
BIN="target/pgo/$TARGET/tollgate"
"$STRIP" --strip-all -o "$BIN" "target/pgo/$TARGET/release/tollgate"
if ! out="$("${RUNNER[@]}" "$BIN" version 2>&1)"; then
    echo "ci/pgo-build.sh: $BIN does not start: $out" >&2
    exit 1
fi
echo "ci/pgo-build.sh: $BIN starts: $out" >&2
echo "$BIN"

#!/usr/bin/env bash
# Cross-build the shipping binary: static aarch64-unknown-linux-musl, release profile from
# Cargo.toml (stripped), and prove it starts (`tollgate version` under qemu-user).
# .cargo/config.toml names the linker (aarch64-linux-gnu-gcc) and the C compiler for ring and
# mimalloc (CC_aarch64_unknown_linux_musl). Installs the cross toolchain and qemu when missing.
#
# usage: ci/build-cross.sh [cargo build options...]   e.g. --no-default-features
# prints the binary's path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/deps.sh
. ci/deps.sh

TARGET=aarch64-unknown-linux-musl
apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || rustup target add "$TARGET" >&2

cargo build --release --locked --target "$TARGET" "$@" >&2
BIN="${CARGO_TARGET_DIR:-target}/$TARGET/release/tollgate"
if ! out="$(qemu-aarch64-static "$BIN" version 2>&1)"; then
    echo "ci/build-cross.sh: $BIN does not start under qemu-aarch64-static: $out" >&2
    exit 1
fi
echo "ci/build-cross.sh: $BIN starts under qemu: $out" >&2
echo "$BIN"

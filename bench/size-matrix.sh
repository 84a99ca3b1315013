#!/usr/bin/env bash
# Binary size across release-profile settings: builds tollgate once per configuration (overriding
# [profile.release] through CARGO_PROFILE_RELEASE_* variables, so Cargo.toml is left alone),
# records the stripped size, proves each aarch64 binary starts (`tollgate version` under qemu),
# and keeps the binaries for throughput runs (bench/proxy.sh --tollgate NAME=PATH).
#
# A configuration is OPT:LTO:PANIC:CGU[:FEATURES], FEATURES being "default" or "nodefault"
# (without mimalloc). Each build takes minutes: every crate is rebuilt under the new settings.
#
# usage: bench/size-matrix.sh [TARGET] [CONFIG...]
#   TARGET  aarch64-unknown-linux-musl (default) or x86_64-unknown-linux-musl
# environment: BENCH_OUT (bench/out/size-TARGET-DATE)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

TARGET="${1:-aarch64-unknown-linux-musl}"
[ $# -gt 0 ] && shift
CONFIGS=("$@")
if [ ${#CONFIGS[@]} -eq 0 ]; then
    CONFIGS=(3:fat:unwind:1 3:fat:abort:1 s:fat:unwind:1 s:fat:abort:1 z:fat:unwind:1
        z:fat:abort:1 s:thin:unwind:1 s:fat:unwind:16 s:fat:unwind:1:nodefault)
fi
OUT="${BENCH_OUT:-$BENCH_DIR/out/size-$TARGET-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
RUNNER=()
if [ "$TARGET" = aarch64-unknown-linux-musl ]; then
    apt_install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
    RUNNER=(qemu-aarch64-static)
fi
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || rustup target add "$TARGET"

TABLE="$OUT/sizes.md"
{
    echo "| opt-level | lto | panic | codegen-units | features | bytes | MiB | starts |"
    echo "| --- | --- | --- | ---: | --- | ---: | ---: | --- |"
} >"$TABLE"
for config in "${CONFIGS[@]}"; do
    IFS=: read -r opt lto panic cgu features <<<"$config"
    features="${features:-default}"
    name="o${opt}-${lto}-${panic}-cgu${cgu}-${features}"
    flags=()
    [ "$features" = nodefault ] && flags+=(--no-default-features)
    log "building $name for $TARGET"
    start=$SECONDS
    (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target/size" \
        CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" CARGO_PROFILE_RELEASE_LTO="$lto" \
        CARGO_PROFILE_RELEASE_PANIC="$panic" CARGO_PROFILE_RELEASE_CODEGEN_UNITS="$cgu" \
        CARGO_PROFILE_RELEASE_STRIP=symbols \
        cargo build --release --locked --target "$TARGET" "${flags[@]}" >"$OUT/$name.log" 2>&1) \
        || { tail -20 "$OUT/$name.log" >&2; die "build $name failed"; }
    cp "$ROOT/target/size/$TARGET/release/tollgate" "$OUT/$name"
    bytes=$(stat -c %s "$OUT/$name")
    starts=no
    "${RUNNER[@]}" "$OUT/$name" version >/dev/null 2>&1 && starts=yes
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$opt" "$lto" "$panic" "$cgu" \
        "$features" "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')" \
        "$starts" >>"$TABLE"
    log "$name: $bytes bytes ($((SECONDS - start)) s)"
done
cat "$TABLE"
log "binaries and table in $OUT"

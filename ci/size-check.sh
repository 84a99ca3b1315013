#!/usr/bin/env bash
# The size budget: the stripped static aarch64 musl release binary must stay at or under 4 MiB.
# Builds the shipping binary, guided by a profile (ci/pgo-build.sh; PGO=0 builds without one,
# ci/build-cross.sh), prints its size and the biggest contributors, and fails above the budget.
#
# Contributors come from the same build before it was stripped (without the profile: a second
# build without `strip`, in its own target directory, target/size-check): symbols grouped by the
# crate that defines them (a generic function counts for the crate it comes from, as
# cargo-bloat does), C code by library (musl, mimalloc), then the largest single symbols.
# Symbol sizes cover code and read-only data; section sizes are printed beside them.
#
# usage: ci/size-check.sh [cargo build options...]
# environment: SIZE_BUDGET (bytes, 4194304); SIZE_BREAKDOWN=0 skips the breakdown; PGO (1)
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET="${SIZE_BUDGET:-4194304}"
TARGET=aarch64-unknown-linux-musl
if [ "${PGO:-1}" = 1 ]; then
    BIN="$(ci/pgo-build.sh --target "$TARGET" "$@")"
    # The same build with its symbols (ci/pgo-build.sh strips a copy).
    FULL="target/pgo/$TARGET/release/tollgate"
else
    BIN="$(ci/build-cross.sh "$@")"
    FULL=""
fi
SIZE="$(stat -c %s "$BIN")"

echo "== sections (aarch64-linux-gnu-size -A, stripped binary)"
aarch64-linux-gnu-size -A "$BIN" | awk 'NR > 2 && $2 > 4096 { printf "  %-22s %10d\n", $1, $2 }'
echo
breakdown() {
    if [ -z "$FULL" ]; then
        CARGO_TARGET_DIR=target/size-check CARGO_PROFILE_RELEASE_STRIP=none \
            cargo build --release --locked --target "$TARGET" "$@" >&2
        FULL=target/size-check/$TARGET/release/tollgate
    fi
    aarch64-linux-gnu-nm --size-sort -S -C "$FULL" | python3 -c '
import re, sys
by_crate, symbols = {}, []
for line in sys.stdin:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4 or parts[2].lower() not in ("t", "r", "w", "v", "d"):
        continue
    size, name = int(parts[1], 16), parts[3]
    symbols.append((size, name))
    # The crate: the first path segment, looking inside "<impl X as Y>" at X.
    path = name.lstrip("<&*").removeprefix("mut ").removeprefix("dyn ").lstrip("(<&*")
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", path)
    if m:
        crate = m.group(1)
    elif name.startswith(("mi_", "_mi_", "mi_")):
        crate = "[C] mimalloc"
    elif name.startswith(("ring_core", "GFp", "aes_", "gcm_", "sha", "ChaCha", "x25519")):
        crate = "[C] ring"
    else:
        crate = "[C] musl and other C"
    by_crate[crate] = by_crate.get(crate, 0) + size
total = sum(by_crate.values())
print(f"== biggest contributors by crate (symbols, {total / 1024:.0f} KiB in all)")
for crate, size in sorted(by_crate.items(), key=lambda kv: -kv[1])[:20]:
    print(f"  {size / 1024:8.1f} KiB  {100 * size / total:5.1f}%  {crate}")
print()
print("== biggest symbols")
for size, name in sorted(symbols, reverse=True)[:15]:
    print(f"  {size / 1024:8.1f} KiB  {name[:110]}")
    '
}
[ "${SIZE_BREAKDOWN:-1}" = 0 ] || breakdown "$@"
echo
MIB="$(awk -v b="$SIZE" 'BEGIN { printf "%.2f", b / 1048576 }')"
BUDGET_MIB="$(awk -v b="$BUDGET" 'BEGIN { printf "%.2f", b / 1048576 }')"
if [ "$SIZE" -gt "$BUDGET" ]; then
    echo "size-check: FAIL: $BIN is $SIZE bytes ($MIB MiB), over the budget of $BUDGET bytes ($BUDGET_MIB MiB)"
    exit 1
fi
echo "size-check: ok: $BIN is $SIZE bytes ($MIB MiB), budget $BUDGET bytes ($BUDGET_MIB MiB), $((BUDGET - SIZE)) bytes to spare"

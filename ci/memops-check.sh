#!/usr/bin/env bash
# tollgate's own memcpy, memmove, memcmp and bcmp (src/memops.rs) in the static x86_64 musl
# build, the one bench/ measures: checks they are the ones linked (musl's memcpy.o, which also
# defines __memcpy_fwd, must be absent), that none of them calls itself or another of them (a
# compiler turning a copy loop back into a memcpy call would recurse forever), and that the
# binary serves requests with them: start on the embedded default configuration with its ports
# moved, /ping answers OK, the report page renders, a request with no router gets 404.
#
# The build keeps its symbols, in its own target directory (the shipping build stays stripped).
# usage: ci/memops-check.sh
# environment: MEMOPS_BIN checks that binary (built with symbols) instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=ci/deps.sh
. ci/deps.sh
apt_install musl-tools curl binutils

TARGET=x86_64-unknown-linux-musl
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" || rustup target add "$TARGET"
BIN="${MEMOPS_BIN:-}"
if [ -z "$BIN" ]; then
    CARGO_TARGET_DIR=target/memops-check CARGO_PROFILE_RELEASE_STRIP=none \
        cargo build --release --locked --target "$TARGET"
    BIN="target/memops-check/$TARGET/release/tollgate"
fi
BIN="$(realpath "$BIN")"

fail() {
    echo "memops-check: FAIL: $*" >&2
    exit 1
}

SYMBOLS="$(nm "$BIN")"
grep -q ' __memcpy_fwd$' <<<"$SYMBOLS" && fail "musl's memcpy.o is linked (__memcpy_fwd is there)"
for fn in memcpy memmove memcmp bcmp; do
    grep -qE " T $fn\$" <<<"$SYMBOLS" || fail "$fn is not defined in $BIN"
    body="$(objdump -d --no-show-raw-insn --disassemble="$fn" "$BIN" | sed -n "/<$fn>:/,/^\$/p")"
    [ -n "$body" ] || fail "no code for $fn"
    # A call, or a jump out to another function (a tail call), names its target `<name>`; a jump
    # inside the function names it `<fn+0x..>`. None may leave, but bcmp may hand over to memcmp,
    # which is checked in its own turn.
    calls="$(grep -E '\b(call|jmp)\b' <<<"$body" | grep -vE "<$fn\+0x[0-9a-f]+>" | grep '<' || true)"
    [ "$fn" = bcmp ] && calls="$(grep -v '<memcmp>' <<<"$calls" || true)"
    [ -z "$calls" ] || fail "$fn calls out of itself: $calls"
    echo "memops-check: $fn is tollgate's ($(grep -c . <<<"$body") lines of code, no calls out)"
done

# Serve with them: the embedded default (no files), its two ports moved to free ones.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WEB="$(free_port)"
ADMIN="$(free_port)"
WORK="$(mktemp -d)"
(cd "$WORK" && exec "$BIN" --entryPoints.web.address="127.0.0.1:$WEB" \
    --entryPoints.traefik.address="127.0.0.1:$ADMIN" --providers.file.directory="$WORK/dynamic" \
    >"$WORK/out.log" 2>&1) &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$ADMIN/ping" >/dev/null 2>&1 && break
    sleep 0.1
done
[ "$(curl -fsS "http://127.0.0.1:$ADMIN/ping")" = OK ] || { cat "$WORK/out.log"; fail "/ping did not answer OK"; }
curl -fsS "http://127.0.0.1:$ADMIN/report" | grep -qi '<html' || fail "/report is not a page"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB/nothing/here")"
[ "$code" = 404 ] || fail "a request with no router got $code, not 404"
kill -TERM "$PID"
wait "$PID" || fail "tollgate exited $? after SIGTERM"
echo "memops-check: ok: the musl build links and serves with its own memcpy, memmove, memcmp, bcmp"

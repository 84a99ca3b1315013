#!/usr/bin/env bash
# tollgate's own memcpy, memmove, memcmp and bcmp (src/memops.rs) in the static x86_64 musl
# build, the one bench/ measures, and memcmp and bcmp in the aarch64 one: checks they are the
# ones linked (musl's memcpy.o, which also defines __memcpy_fwd, must be absent), that none of
# them branches out of itself (a compiler turning a copy loop back into a memcpy call would
# recurse forever), and that the x86_64 binary serves requests with them: start on the embedded
# default configuration with its ports moved, /ping answers OK, the report page renders, a
# request with no router gets 404.
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

# Every branch in FN's code (disassembled by OBJDUMP from BINARY) must stay inside FN: its
# target written `<FN+0x..>`. A call elsewhere, a tail call (`jmp other`, `b other`, or a
# conditional one) or an indirect branch (`jmp *...` through the GOT, `br x16`) fails.
stays_inside() {
    local objdump="$1" binary="$2" fn="$3" body out
    body="$("$objdump" -d --no-show-raw-insn --disassemble="$fn" "$binary" | sed -n "/<$fn>:/,/^\$/p")"
    [ -n "$body" ] || fail "no code for $fn in $binary"
    out="$(grep -E '\s(call[a-z]*|j[a-z]+|b|bl|blr|br|b\.[a-z]+|cbn?z|tbn?z)\s' <<<"$body" \
        | grep -vE "[0-9a-f]+ <$fn\+0x[0-9a-f]+>(\s*//.*)?\$" || true)"
    [ -z "$out" ] || fail "$fn in $binary branches out of itself: $out"
    echo "memops-check: $fn in $binary is tollgate's ($(grep -c . <<<"$body") lines of code, no calls out)"
}

SYMBOLS="$(nm "$BIN")"
grep -q ' __memcpy_fwd$' <<<"$SYMBOLS" && fail "musl's memcpy.o is linked (__memcpy_fwd is there)"
for fn in memcpy memmove memcmp bcmp; do
    grep -qE " T $fn\$" <<<"$SYMBOLS" || fail "$fn is not defined in $BIN"
    stays_inside objdump "$BIN" "$fn"
done
# The aarch64 build keeps musl's memcpy and memmove (tuned assembly) and takes tollgate's memcmp
# and bcmp; musl's bcmp would branch to memcmp. Checked when ci/size-check.sh left a build with
# symbols: the profile-guided one, or its own without the profile.
ARM=target/pgo/aarch64-unknown-linux-musl/release/tollgate
[ -x "$ARM" ] || ARM=target/size-check/aarch64-unknown-linux-musl/release/tollgate
if [ -z "${MEMOPS_BIN:-}" ] && [ -x "$ARM" ] && command -v aarch64-linux-gnu-objdump >/dev/null; then
    for fn in memcmp bcmp; do
        stays_inside aarch64-linux-gnu-objdump "$ARM" "$fn"
    done
fi

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

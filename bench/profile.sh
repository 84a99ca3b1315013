#!/usr/bin/env bash
# Where tollgate spends its CPU under the proxy benchmark's load: one tollgate binary (built with
# symbols: see docs/PERFORMANCE.md, "Profiling") pinned to one core with one worker in front of
# the benchmark's backend, wrk on the other core, `perf record -g` on tollgate for DURATION
# seconds; prints the top of `perf report` (self and children) and keeps perf.data.
#
# usage: bench/profile.sh BINARY
# environment: DURATION (10 s) CONNS (64) PROXY_CPUS (0) LOAD_CPUS (1) TOLLGATE_WORKERS (1)
#              CALLGRAPH (dwarf; "fp" is lighter but Rust release builds keep no frame pointers)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
if [ $# -ne 1 ] || [ ! -x "$1" ]; then die "usage: bench/profile.sh BINARY"; fi
BIN="$1"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
PROXY_CPUS="${PROXY_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
TOLLGATE_WORKERS="${TOLLGATE_WORKERS:-1}"
CALLGRAPH="${CALLGRAPH:-dwarf}"
command -v perf >/dev/null || apt_install linux-perf
ensure_bench_tools
OUT="${BENCH_OUT:-$BENCH_DIR/out/profile-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT/tollgate"
trap stop_all EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/peers.sh
. "$BENCH_DIR/peers.sh"

start_backend
port="$(free_port)"
start_tollgate "$OUT/tollgate" "$port" "$BIN"
started "$PROXY_PID"
wait_http_ok "$port" "$PROXY_PID" 30 || die "tollgate did not start: $(cat "$OUT/tollgate/stderr.log")"
timeout 40 taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$port/" >/dev/null
timeout $((DURATION + 30)) taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" \
    "http://127.0.0.1:$port/" >"$OUT/wrk.txt" &
WRK=$!
started "$WRK"
perf record -q --call-graph "$CALLGRAPH" -F 499 -p "$PROXY_PID" -o "$OUT/perf.data" -- sleep "$DURATION" 2>/dev/null
wait "$WRK" || true
grep -E 'Requests/sec' "$OUT/wrk.txt"
echo "-- self"
perf report -i "$OUT/perf.data" --no-children --percent-limit 0.7 --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -40
echo "-- inclusive (user-space symbols)"
perf report -i "$OUT/perf.data" --children --percent-limit 2 --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | grep -v '\[k\]' | head -60
log "perf data: $OUT/perf.data (perf report -i ... --children for inclusive times)"

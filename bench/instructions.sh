#!/usr/bin/env bash
# Instructions per proxied request, counted by callgrind: a figure that does not move when other
# work shares the machine, unlike req/s (STYLE.md: instruction counts beat wall time on a noisy
# machine). It counts tollgate's own user-space instructions (allocator included), not the
# kernel's; use it to compare builds (allocators, profiles, code changes), and bench/proxy.sh for
# what a client sees.
#
# For each BINARY: tollgate under callgrind (one worker) in front of the benchmark's backend,
# a warm-up, counters zeroed, wrk for DURATION seconds, counters dumped; instructions divided by
# the requests wrk completed. The dump is kept for `callgrind_annotate --inclusive=yes FILE`.
#
# CACHE_SIM=1 also simulates the data caches and adds misses per request: first-level (32 KiB)
# and a last level of CACHE_LL ("SIZE,WAYS,LINE"; default 512 KiB, 8-way: this machine's
# per-core L2, since the shared L3 is whatever other guests leave us). Still user space only: the
# kernel's copies into tollgate's buffers are not simulated, the parser's reads of them are.
#
# usage: bench/instructions.sh NAME=BINARY...
# environment: DURATION (10 s) CONNS (64) PROXY_CPUS (0) LOAD_CPUS (1) CACHE_SIM (0) CACHE_LL
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] || die "usage: bench/instructions.sh NAME=BINARY..."
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
PROXY_CPUS="${PROXY_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
TOLLGATE_WORKERS=1
command -v valgrind >/dev/null || apt_install valgrind
ensure_bench_tools
OUT="${BENCH_OUT:-$BENCH_DIR/out/instructions-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
trap stop_all EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/peers.sh
. "$BENCH_DIR/peers.sh"

CACHE_SIM="${CACHE_SIM:-0}"
CACHE_LL="${CACHE_LL:-524288,8,64}"
SIM=""
if [ "$CACHE_SIM" = 1 ]; then SIM="--cache-sim=yes --D1=32768,8,64 --LL=$CACHE_LL"; fi

start_backend
if [ "$CACHE_SIM" = 1 ]; then
    echo "| build | requests | instructions/request | L1 data misses/request | LL data misses/request |"
    echo "| --- | ---: | ---: | ---: | ---: |"
else
    echo "| build | requests | instructions/request |"
    echo "| --- | ---: | ---: |"
fi
for spec in "$@"; do
    name="${spec%%=*}" bin="${spec#*=}"
    [ -x "$bin" ] || die "no binary at $bin"
    dir="$OUT/$name"
    mkdir -p "$dir"
    # A wrapper that becomes valgrind (exec keeps the pid that start_tollgate reports).
    cat >"$dir/under-callgrind" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind $SIM --callgrind-out-file="$dir/callgrind.out" "$bin" "\$@"
EOF
    chmod +x "$dir/under-callgrind"
    port="$(free_port)"
    start_tollgate "$dir" "$port" "$dir/under-callgrind"
    pid="$PROXY_PID"
    started "$pid"
    wait_http_ok "$port" "$pid" 60 || die "$name did not start under callgrind: $(tail -5 "$dir/stderr.log")"
    timeout 60 taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$port/" >/dev/null
    callgrind_control -z "$pid" >/dev/null 2>&1
    timeout $((DURATION + 60)) taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" \
        "http://127.0.0.1:$port/" >"$dir/wrk.txt"
    callgrind_control -d "$pid" >/dev/null 2>&1
    # The newest dump is the one just requested (callgrind.out.1 after the zeroing).
    dump="$(ls -t "$dir"/callgrind.out* | head -1)"
    requests="$(awk '/requests in/ { print $1 }' "$dir/wrk.txt")"
    ir="$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")"
    stop_pid "$pid"
    per() { awk -v i="$1" -v n="$requests" 'BEGIN { printf "%.0f", n ? i / n : 0 }'; }
    if [ "$CACHE_SIM" = 1 ]; then
        # Columns named by the dump's "events:" line: D1mr D1mw (first level), DLmr DLmw (last).
        read -r d1 ll < <(awk '/^events:/ { for (i = 2; i <= NF; i++) col[$i] = i }
            /^(summary|totals):/ { print $col["D1mr"] + $col["D1mw"], $col["DLmr"] + $col["DLmw"]; exit }' "$dump")
        printf '| %s | %s | %s | %s | %s |\n' "$name" "$requests" "$(per "$ir")" "$(per "$d1")" "$(per "$ll")"
    else
        printf '| %s | %s | %s |\n' "$name" "$requests" "$(per "$ir")"
    fi
    log "$name: dump $dump"
done

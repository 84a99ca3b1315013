#!/usr/bin/env bash
# System calls and TCP segments per proxied request, tollgate beside nginx and HAProxy: counts
# that do not move when other work shares the machine, unlike req/s. About four fifths of each
# proxy's CPU time in bench/proxy.sh is the kernel's (the loopback TCP path); this shows whether
# a proxy makes the kernel do more for each request than its peers do.
#
# For each peer: started as bench/proxy.sh starts it (one core, one worker, access log on, the
# same backend), a warm-up, then wrk at full speed for DURATION seconds under `perf stat`, which
# counts the proxy's processes' entries into each system call (tracepoints
# syscalls:sys_enter_*). TCP segments are the machine's `OutSegs` (/proc/net/snmp) over the same
# run, so they count wrk's and the backend's segments too, and any other TCP traffic on the
# machine: a proxied request is at least four (request in, request out, answer in, answer out).
#
# usage: bench/syscalls.sh [--no-build] [--tollgate NAME=BINARY]... [--peers "nginx haproxy"]
# environment: DURATION (5 s) CONNS (64) PROXY_CPUS (0) LOAD_CPUS (1) BENCH_OUT
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-5}"
CONNS="${CONNS:-64}"
PROXY_CPUS="${PROXY_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
TOLLGATE_WORKERS=1
PEERS="nginx haproxy"
parse_proxy_args "$@"
ensure_bench_tools
apt_install linux-perf
resolve_tollgates
OUT="${BENCH_OUT:-$BENCH_DIR/out/syscalls-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
trap stop_all EXIT
trap 'exit 130' INT TERM
# shellcheck source=bench/peers.sh
. "$BENCH_DIR/peers.sh"

out_segs() { awk '/^Tcp:/ { if (seen) print $12; seen = 1 }' /proc/net/snmp; }

start_backend
echo "| proxy | requests | system calls/request | the calls, per request | TCP segments/request |"
echo "| --- | ---: | ---: | --- | ---: |"
for name in "${TOLLGATE_NAMES[@]}" $PEERS; do
    dir="$OUT/$name"
    mkdir -p "$dir"
    port="$(free_port)"
    case "$name" in
        nginx) start_nginx "$dir" "$port" ;;
        haproxy) start_haproxy "$dir" "$port" ;;
        *) start_tollgate "$dir" "$port" "${TOLLGATES[$name]}" ;;
    esac
    pid="$PROXY_PID"
    started "$pid"
    wait_http_ok "$port" "$pid" || die "$name did not start: $(tail -5 "$dir/stderr.log")"
    url="http://127.0.0.1:$port/"
    timeout 60 taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d2s "$url" >/dev/null
    # nginx's master and workers, HAProxy's and tollgate's single process: all of the tree.
    pids="$(tree_pids "$pid" | paste -sd, -)"
    before="$(out_segs)"
    # With -p, perf counts those processes for as long as the command (wrk) runs.
    perf stat -x $'\t' -e 'syscalls:sys_enter_*' -p "$pids" -o "$dir/perf.tsv" -- \
        timeout $((DURATION + 30)) taskset -c "$LOAD_CPUS" \
        wrk -t1 -c"$CONNS" -d"${DURATION}s" "$url" >"$dir/wrk.txt"
    after="$(out_segs)"
    stop_pid "$pid"
    requests="$(awk '/requests in/ { print $1 }' "$dir/wrk.txt")"
    [ "${requests:-0}" -gt 0 ] || die "$name: wrk completed no request"
    # perf's CSV: count, unit, event, ...; "<not counted>" and zeros left out.
    read -r total calls < <(awk -F'\t' -v n="$requests" '
        $1 ~ /^[0-9]+$/ && $1 > 0 {
            sub(/^syscalls:sys_enter_/, "", $3); total += $1; c[$3] = $1 }
        END {
            line = ""
            for (k in c) if (c[k] / n >= 0.005) line = line sprintf("%s %.2f, ", k, c[k] / n)
            printf "%.2f %s\n", total / n, line }' "$dir/perf.tsv")
    # The calls, largest first.
    calls="$(echo "$calls" | tr ',' '\n' | sed 's/^ //; /^$/d' | sort -k2 -n -r | paste -sd, - | sed 's/,/, /g')"
    segs="$(awk -v a="$before" -v b="$after" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) / n }')"
    printf '| %s | %s | %s | %s | %s |\n' "$name" "$requests" "$total" "$calls" "$segs"
done

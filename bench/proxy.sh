#!/usr/bin/env bash
# Proxy benchmark: tollgate beside nginx, HAProxy and Traefik in one run.
#
# Each proxy runs alone, pinned to one core (PROXY_CPUS) with one worker (tollgate: one tokio
# worker thread through TOKIO_WORKER_THREADS; nginx: worker_processes 1; HAProxy: nbthread 1;
# Traefik: GOMAXPROCS=1), access logging on to a file, in front of the same backend: an nginx
# worker answering a fixed 13-byte body, pinned with wrk to the other core (LOAD_CPUS). wrk holds
# CONNS keep-alive connections for DURATION seconds after a WARMUP run; ROUNDS rounds rotate the
# order of the peers so that drift on a shared machine spreads over all of them. Every round
# also measures the backend directly (row "backend direct"): that is what the load core can do at
# most, so a proxy well below it is not held back by the backend or by wrk.
#
# Reported per peer: median req/s, p50 and p99 latency over the rounds, peak RSS (the largest
# VmHWM of the proxy's processes summed, over the rounds), proxy CPU time per request (steadier
# than req/s when other work shares the machine), and the ratios to nginx.
#
# Then, on the same proxy process, a paced run: the same connections sending on a schedule of
# PACED_RATE requests a second (bench/latency.lua), so that every peer is offered the same load.
# Its p50 and p99 compare latency at equal load; the full-speed run's latency also holds the
# queueing in wrk and the backend, which grows with the proxy's rate.
#
# usage: bench/proxy.sh [--tollgate NAME=BINARY]... [--no-build] [--peers "nginx haproxy traefik"]
#   --peers                 any of nginx, haproxy, traefik and relay (HAProxy relaying TCP without
#                           parsing HTTP: the most any proxy can reach on this pair of cores)
#   --tollgate NAME=BINARY  measure this tollgate binary under NAME (repeatable); without it the
#                           shipping build (x86_64 musl release, profile-guided by
#                           ci/pgo-build.sh) is built and measured as "tollgate"
# environment: ROUNDS (3) DURATION (10 s) WARMUP (2 s) CONNS (64) PROXY_CPUS (0) LOAD_CPUS (1)
#              TOLLGATE_WORKERS (1) BENCH_OUT (bench/out/proxy-DATE) PGO (1; 0 builds without
#              the profile) PACED_RATE (30000 req/s; 0 skips the paced run) PACED_DURATION
#              (DURATION)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONNS="${CONNS:-64}"
PROXY_CPUS="${PROXY_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
TOLLGATE_WORKERS="${TOLLGATE_WORKERS:-1}"
PACED_RATE="${PACED_RATE:-30000}"
PACED_DURATION="${PACED_DURATION:-$DURATION}"
PEERS="nginx haproxy traefik"
parse_proxy_args "$@"

ensure_bench_tools
resolve_tollgates
TRAEFIK=""
case " $PEERS " in *" traefik "*) TRAEFIK="$(find_traefik)" ;; esac

OUT="${BENCH_OUT:-$BENCH_DIR/out/proxy-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
RESULTS="$OUT/results.tsv"
printf 'round\tname\trps\tp50_ms\tp99_ms\tpeak_rss_kib\tcpu_us_per_req\trequests\terrors\tnon2xx\tlog_lines\tproxy_core_busy\tload_core_busy\tcpu_sys_pct\tproxy_core_steal_pct\tpaced_rps\tpaced_p50_ms\tpaced_p99_ms\tpaced_rate\n' >"$RESULTS"
trap stop_all EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/peers.sh
. "$BENCH_DIR/peers.sh"

# wrk's latency figure in milliseconds ("626.00us", "1.23ms", "2.00s").
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

# One percentile ("50%", "99%") of wrk's --latency output, in milliseconds.
wrk_percentile_ms() {
    to_ms "$(awk -v p="$2" '/Latency Distribution/ { d = 1 } d && $1 == p { print $2; exit }' "$1")"
}

first_cpu() { echo "${1%%[,-]*}"; }

# One measurement of NAME in ROUND; appends a line to results.tsv.
measure() {
    local name="$1" round="$2" dir port pid
    dir="$OUT/$name/round$round"
    mkdir -p "$dir"
    if [ "$name" = direct ]; then
        port="$BACKEND_PORT"
        pid=""
    else
        port="$(free_port)"
        case "$name" in
            nginx) start_nginx "$dir" "$port" ;;
            haproxy) start_haproxy "$dir" "$port" ;;
            traefik) start_traefik "$dir" "$port" ;;
            relay) start_relay "$dir" "$port" ;;
            *) start_tollgate "$dir" "$port" "${TOLLGATES[$name]}" ;;
        esac
        pid="$PROXY_PID"
        started "$pid"
        if ! wait_http_ok "$port" "$pid" 30; then
            log "$name did not answer 200 on 127.0.0.1:$port; its stderr:"
            cat "$dir"/stderr.log "$dir"/error.log 2>/dev/null | tail -20 >&2
            die "$name did not start"
        fi
    fi
    local url="http://127.0.0.1:$port/"
    timeout $((WARMUP + 30)) taskset -c "$LOAD_CPUS" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
    local cpu_before="0 0" pc lc p0 p1 l0 l1
    [ -n "$pid" ] && cpu_before="$(tree_cpu_ticks "$pid")"
    pc="$(first_cpu "$PROXY_CPUS")"
    lc="$(first_cpu "$LOAD_CPUS")"
    p0="$(cpu_jiffies "$pc")"
    l0="$(cpu_jiffies "$lc")"
    WRK_HISTOGRAM="$dir/latency.tsv" timeout $((DURATION + 30)) taskset -c "$LOAD_CPUS" \
        wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency -s "$BENCH_DIR/latency.lua" \
        "$url" >"$dir/wrk.txt"
    p1="$(cpu_jiffies "$pc")"
    l1="$(cpu_jiffies "$lc")"
    local cpu_after="0 0"
    [ -n "$pid" ] && cpu_after="$(tree_cpu_ticks "$pid")"
    local paced_rps="-" paced_p50="-" paced_p99="-"
    if [ "$PACED_RATE" -gt 0 ]; then
        WRK_RATE="$PACED_RATE" WRK_HISTOGRAM="$dir/paced.tsv" \
            timeout $((PACED_DURATION + 30)) taskset -c "$LOAD_CPUS" \
            wrk -t1 -c"$CONNS" -d"${PACED_DURATION}s" --timeout 5s --latency \
            -s "$BENCH_DIR/latency.lua" "$url" >"$dir/wrk-paced.txt"
        paced_rps="$(wrk_rps "$dir/wrk-paced.txt")"
        paced_p50="$(wrk_percentile_ms "$dir/wrk-paced.txt" 50%)"
        paced_p99="$(wrk_percentile_ms "$dir/wrk-paced.txt" 99%)"
    fi
    local cpu_ticks=0 sys_ticks=0 hwm=0 log_lines="-" u0 s0 u1 s1
    if [ -n "$pid" ]; then
        read -r u0 s0 <<<"$cpu_before"
        read -r u1 s1 <<<"$cpu_after"
        sys_ticks=$((s1 - s0))
        cpu_ticks=$((u1 - u0 + sys_ticks))
        hwm="$(tree_status_kib "$pid" VmHWM)"
        stop_pid "$pid"
        if [ -s "$dir/access.log" ]; then
            log_lines="$(wc -l <"$dir/access.log")"
        else
            log_lines=0
        fi
    fi
    local busy_p busy_l steal_p
    busy_p="$(echo "$p0 $p1" | awk '{ t = $5 - $2; printf "%.0f", t ? 100 * ($4 - $1) / t : 0 }')"
    busy_l="$(echo "$l0 $l1" | awk '{ t = $5 - $2; printf "%.0f", t ? 100 * ($4 - $1) / t : 0 }')"
    steal_p="$(echo "$p0 $p1" | awk '{ s = $6 - $3; t = $5 - $2 + s; printf "%.1f", t ? 100 * s / t : 0 }')"
    local requests rps p50 p99 errors non2xx cpu_us sys_pct
    requests="$(awk '/requests in/ { print $1 }' "$dir/wrk.txt")"
    rps="$(wrk_rps "$dir/wrk.txt")"
    p50="$(wrk_percentile_ms "$dir/wrk.txt" 50%)"
    p99="$(wrk_percentile_ms "$dir/wrk.txt" 99%)"
    errors="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$dir/wrk.txt")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$dir/wrk.txt")"
    cpu_us="$(awk -v t="$cpu_ticks" -v hz="$(getconf CLK_TCK)" -v n="${requests:-0}" \
        'BEGIN { printf "%.2f", n ? t * 1e6 / hz / n : 0 }')"
    # The kernel's share tells whether a gap is in the proxy's own code or in its syscalls.
    sys_pct="$(awk -v s="$sys_ticks" -v t="$cpu_ticks" 'BEGIN { printf "%.0f", t ? 100 * s / t : 0 }')"
    [ -n "$pid" ] || { cpu_us="-"; sys_pct="-"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" \
        "${rps:-0}" "$p50" "$p99" "$hwm" "$cpu_us" "${requests:-0}" "${errors:-0}" "${non2xx:-0}" \
        "$log_lines" "$busy_p" "$busy_l" "$sys_pct" "$steal_p" "${paced_rps:--}" "$paced_p50" \
        "$paced_p99" "$PACED_RATE" >>"$RESULTS"
    log "round $round $name: ${rps:-0} req/s, p50 ${p50} ms, p99 ${p99} ms, peak RSS ${hwm} KiB, ${cpu_us} CPU us/req (${sys_pct}% in the kernel), access-log lines ${log_lines}, busy proxy core ${busy_p}% (stolen ${steal_p}%) load core ${busy_l}%; paced: ${paced_rps} req/s, p50 ${paced_p50} ms, p99 ${paced_p99} ms"
}

start_backend
NAMES=("${TOLLGATE_NAMES[@]}")
for peer in $PEERS; do NAMES+=("$peer"); done
NAMES+=(direct)
log "proxies on cpus $PROXY_CPUS, wrk and backend on cpus $LOAD_CPUS; $ROUNDS rounds of ${DURATION}s (+${WARMUP}s warm-up), $CONNS connections; tollgate workers $TOLLGATE_WORKERS"
count=${#NAMES[@]}
for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((count - 1))); do
        measure "${NAMES[$(((i + round - 1) % count))]}" "$round"
    done
done

{
    echo "## Proxy benchmark ($(date -u +%Y-%m-%d), $(nproc) x $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo))"
    echo
    echo "One core per proxy (cpu $PROXY_CPUS), one worker, access log on; wrk -t1 -c$CONNS, ${DURATION}s x $ROUNDS rounds; backend and wrk on cpu $LOAD_CPUS."
    echo
    python3 "$BENCH_DIR/summarize.py" "$RESULTS"
} | tee "$OUT/table.md"
log "raw results: $RESULTS"

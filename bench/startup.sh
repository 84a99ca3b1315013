#!/usr/bin/env bash
# Start-to-READY time and idle RSS of tollgate (budgets: READY under 50 ms, idle RSS at most
# 4 MiB), measured on the shipping build (x86_64 musl release, profile-guided; PGO=0 without the
# profile) through a NOTIFY_SOCKET, as systemd sees them. See bench/startup.py for the method.
#
# usage: bench/startup.sh [--no-build] [BINARY] [-- startup.py options, e.g. --runs 50 --workers 1]
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=1
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) BIN="$1"; shift ;;
    esac
done
command -v python3 >/dev/null || apt_install python3
if [ -z "$BIN" ]; then
    if [ "$BUILD" -eq 1 ]; then
        ensure_bench_tools
        BIN="$(build_tollgate)"
    else
        BIN="$(built_tollgate)"
    fi
fi
[ -x "$BIN" ] || die "no tollgate binary at $BIN"
log "measuring $BIN"
python3 "$BENCH_DIR/startup.py" "$BIN" "$@"

#!/usr/bin/env bash
# tollgate report beside GoAccess on the same generated log: lines per second, peak RSS and the
# ratios, then tollgate's peak RSS at 1 and 10 million lines (it must stay flat).
#
#   bench/report.sh                 # 4M lines side by side, 1M/10M flatness
#   LINES=2000000 BIG=5000000 bench/report.sh
#
# Installs what it needs (goaccess, GNU time) through ci/deps.sh's apt helper. Output in bench/out.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=ci/deps.sh
. ci/deps.sh
apt_install goaccess time

LINES="${LINES:-4000000}"
SMALL="${SMALL:-1000000}"
BIG="${BIG:-10000000}"
OUT=bench/out
mkdir -p "$OUT"

cargo build --release --locked --bin tollgate --example genlog
TG=target/release/tollgate
GEN=target/release/examples/genlog

gen() { # lines file
    if [ ! -s "$2" ]; then
        echo "generating $1 lines into $2" >&2
        "$GEN" --lines "$1" --seed 42 --days 30 --pages 300000 --clients 400000 --agents 8000 > "$2"
    fi
}

# measure NAME FILE CMD... -> prints "seconds rss_kib". FILE is read once first, so every run
# starts with the log in the page cache and the disk does not decide the figures.
measure() {
    local log="$OUT/time-$1.txt"; shift
    cat "$1" > /dev/null; shift
    /usr/bin/time -v "$@" > /dev/null 2> "$log"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $rss"
}

MAIN="$OUT/gen-$LINES.log"
gen "$LINES" "$MAIN"
CORES=$(nproc)
echo
echo "== $LINES lines, $(du -h "$MAIN" | cut -f1), $CORES cores"
read -r tg_s tg_rss < <(measure tollgate "$MAIN" "$TG" report "$MAIN" --log-format COMBINED --format json -o "$OUT/tollgate.json" --no-progress)
read -r ga_s ga_rss < <(measure goaccess "$MAIN" goaccess "$MAIN" --log-format=COMBINED -o "$OUT/goaccess.json")
python3 - "$LINES" "$tg_s" "$tg_rss" "$ga_s" "$ga_rss" "$OUT" <<'PY'
import json, sys
lines, tg_s, tg_rss, ga_s, ga_rss, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
tg_rate, ga_rate = lines / max(tg_s, 1e-3), lines / max(ga_s, 1e-3)
print(f"{'':10} {'seconds':>9} {'lines/s':>12} {'peak RSS':>12}")
print(f"{'tollgate':10} {tg_s:9.2f} {tg_rate:12,.0f} {tg_rss/1024:10.1f} MiB")
print(f"{'goaccess':10} {ga_s:9.2f} {ga_rate:12,.0f} {ga_rss/1024:10.1f} MiB")
print(f"speed ratio {tg_rate/ga_rate:.1f}x (budget >= 10x), memory ratio {tg_rss/ga_rss:.3f} (budget <= 0.333)")
t = json.load(open(f"{out}/tollgate.json"))["general"]; g = json.load(open(f"{out}/goaccess.json"))["general"]
for k in ["total_requests", "valid_requests", "failed_requests", "bandwidth", "unique_visitors"]:
    print(f"  {k:16} tollgate {t[k]:>16} goaccess {g[k]:>16}")
PY

echo
echo "== tollgate peak RSS, $SMALL vs $BIG lines"
gen "$SMALL" "$OUT/gen-$SMALL.log"
gen "$BIG" "$OUT/gen-$BIG.log"
read -r s1 r1 < <(measure small "$OUT/gen-$SMALL.log" "$TG" report "$OUT/gen-$SMALL.log" --log-format COMBINED --format json -o "$OUT/small.json" --no-progress)
read -r s2 r2 < <(measure big "$OUT/gen-$BIG.log" "$TG" report "$OUT/gen-$BIG.log" --log-format COMBINED --format json -o "$OUT/big.json" --no-progress)
python3 - "$SMALL" "$s1" "$r1" "$BIG" "$s2" "$r2" <<'PY'
import sys
a, s1, r1, b, s2, r2 = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
print(f"{a:>10} lines: {s1:7.2f} s {a/max(s1,1e-3):12,.0f} lines/s {r1/1024:8.1f} MiB")
print(f"{b:>10} lines: {s2:7.2f} s {b/max(s2,1e-3):12,.0f} lines/s {r2/1024:8.1f} MiB")
print(f"peak RSS grows {100*(r2-r1)/r1:+.1f}% for {b/a:.0f}x the lines")
PY

#!/usr/bin/env bash
# Idle RSS of the shipping aarch64 binary on an emulated arm64 board. qemu-user cannot tell it
# (it reports qemu's own memory), so this boots a whole arm64 machine: qemu-system-aarch64
# (TCG, `virt`, Cortex-A72 like a Raspberry Pi 4, SMP CPUs, MEM MiB) on Debian's arm64 kernel
# (4 KiB pages, as Raspberry Pi OS on a Pi 4), with an initramfs of busybox and tollgate.
#
# Inside, for each worker count in WORKERS, RUNS times: tollgate starts on the embedded default
# configuration, the script waits for "configuration applied" in its log, leaves it idle for a
# second (as bench/startup.py does on the host) and reads its RSS and thread count; then
# /ping must answer OK, so a figure never comes from a tollgate that does not serve. Then LOAD
# requests on fresh connections (404s through the router, 50 distinct paths for the stats
# tables), the report in its four formats, another idle second and RSS again: what a little
# traffic leaves resident.
# Prints a markdown table of the medians. The guest's CPU time is emulated: only memory is
# read here, never time. RSS comes from smaps_rollup, a walk of the page tables: the guest's
# Linux 6.1 still batches VmRSS per thread (up to 64 pages late), which hid worker threads' pages.
#
# usage: bench/board-rss.sh [--no-build] [BINARY]
# environment: WORKERS ("1 2 4") RUNS (3) LOAD (200) SMP (4) MEM (1024) PGO (1: the profile-guided shipping build)
#              BENCH_OUT (bench/out/board-DATE)
#              KERNEL_ARGS (added to the guest's command line, e.g. transparent_hugepage=madvise)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

WORKERS="${WORKERS:-1 2 4}"
RUNS="${RUNS:-3}"
LOAD="${LOAD:-200}"
SMP="${SMP:-4}"
MEM="${MEM:-1024}"
BUILD=1
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) BIN="$1"; shift ;;
    esac
done
# The shipping build is profile-guided (ci/pgo-build.sh); PGO=0 measures the plain one.
if [ -z "$BIN" ]; then
    if [ "${PGO:-1}" = 1 ]; then
        BIN="$ROOT/target/pgo/aarch64-unknown-linux-musl/tollgate"
        [ "$BUILD" -eq 0 ] || BIN="$ROOT/$("$ROOT/ci/pgo-build.sh" --target aarch64-unknown-linux-musl)"
    else
        BIN="$ROOT/target/aarch64-unknown-linux-musl/release/tollgate"
        [ "$BUILD" -eq 0 ] || BIN="$("$ROOT/ci/build-cross.sh")"
    fi
fi
[ -x "$BIN" ] || die "no aarch64 tollgate binary at $BIN"
file -L "$BIN" 2>/dev/null | grep -q aarch64 || die "$BIN is not an aarch64 binary"

apt_install qemu-system-arm cpio file
# The guest's kernel and busybox are Debian's arm64 packages, fetched once into the tool cache.
CACHE="${TOLLGATE_TOOLS:-$HOME/.cache/tollgate-tools}/board"
mkdir -p "$CACHE"
if [ ! -f "$CACHE/vmlinuz" ] || [ ! -x "$CACHE/busybox" ]; then
    dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -q; }
    kernel_pkg="$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-/ { print $2; exit }')"
    [ -n "$kernel_pkg" ] || die "no arm64 kernel package in the apt sources"
    debs="$(mktemp -d)"
    (cd "$debs" && chmod 777 . && apt-get download "$kernel_pkg" busybox-static:arm64 >&2)
    dpkg-deb -x "$debs"/linux-image-*.deb "$debs/k"
    dpkg-deb -x "$debs"/busybox-static_*.deb "$debs/b"
    cp "$debs"/k/boot/vmlinuz-* "$CACHE/vmlinuz"
    cp "$debs/b/bin/busybox" "$CACHE/busybox"
    rm -rf "$debs"
fi

OUT="${BENCH_OUT:-$BENCH_DIR/out/board-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
root="$OUT/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc}
cp "$CACHE/busybox" "$root/bin/busybox"
cp "$BIN" "$root/tollgate"
# /init runs as PID 1 under busybox's sh: quoting below is for the guest, not this script.
cat >"$root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
ip link set lo up
echo "board: kernel \$(uname -r), \$(nproc) CPUs, THP \$(cat /sys/kernel/mm/transparent_hugepage/enabled), overcommit \$(cat /proc/sys/vm/overcommit_memory)"
echo "board: tollgate \$(/tollgate version 2>&1 | head -n 1)"
for w in $WORKERS; do
    for r in \$(seq $RUNS); do
        dir=\$(mktemp -d)
        cd "\$dir"
        TOKIO_WORKER_THREADS=\$w /tollgate run --entryPoints.web.address=127.0.0.1:8000 \\
            --entryPoints.traefik.address=127.0.0.1:8081 >log 2>&1 &
        pid=\$!
        n=0
        until grep -q "configuration applied" log; do
            n=\$((n + 1))
            if [ \$n -gt 600 ] || ! kill -0 \$pid; then
                echo "board-fail: no configuration applied"
                cat log
                break
            fi
            sleep 0.1
        done
        sleep 1
        rss=\$(awk '/^Rss:/ { print \$2 }' /proc/\$pid/smaps_rollup)
        threads=\$(awk '/^Threads:/ { print \$2 }' /proc/\$pid/status)
        ping=\$(wget -q -O - http://127.0.0.1:8081/ping 2>&1)
        i=0
        while [ \$i -lt $LOAD ]; do
            wget -q -O /dev/null "http://127.0.0.1:8000/page\$((i % 50))" 2>/dev/null || true
            i=\$((i + 1))
        done
        for page in report report.json report.csv report.txt; do
            wget -q -O /dev/null "http://127.0.0.1:8081/\$page" || echo "board-fail: /\$page"
        done
        sleep 1
        after=\$(awk '/^Rss:/ { print \$2 }' /proc/\$pid/smaps_rollup)
        echo "board-rss workers=\$w run=\$r rss_kib=\$rss threads=\$threads after_kib=\$after ping=\$ping"
        kill \$pid
        wait \$pid
        cd /
        rm -rf "\$dir"
    done
done
echo "board: done"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initramfs.cpio.gz"

log "booting an emulated arm64 board ($SMP CPUs, $MEM MiB) for $BIN; console in $OUT/console.log"
timeout 900 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp "$SMP" -m "$MEM" -nographic \
    -nic none -no-reboot -kernel "$CACHE/vmlinuz" -initrd "$OUT/initramfs.cpio.gz" \
    -append "console=ttyAMA0 rdinit=/init quiet panic=-1 ${KERNEL_ARGS:-}" </dev/null >"$OUT/console.log" 2>&1 ||
    die "qemu failed or timed out; see $OUT/console.log"
tr -d '\r' <"$OUT/console.log" | grep '^board' >"$OUT/results.txt" || true
grep -q '^board: done' "$OUT/results.txt" || die "the guest did not finish; see $OUT/console.log"
if grep -q '^board-fail' "$OUT/results.txt" || grep '^board-rss' "$OUT/results.txt" | grep -qv 'ping=OK'; then
    die "tollgate did not serve in the guest; see $OUT/console.log"
fi
grep '^board:' "$OUT/results.txt" | sed 's/^board: //'
echo
echo "| workers | runs | idle RSS KiB (median) | min | max | threads | RSS after load KiB (median) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
for w in $WORKERS; do
    rows="$(grep "^board-rss workers=$w " "$OUT/results.txt")" || continue
    # shellcheck disable=SC2001 # one number out of each of several lines
    field() { sed "s/.* $1=\([0-9]*\).*/\1/" <<<"$rows"; }
    idle="$(field rss_kib | sort -n)"
    printf '| %d | %d | %d | %d | %d | %d | %d |\n' "$w" "$(wc -l <<<"$idle")" "$(median <<<"$idle")" \
        "$(head -n 1 <<<"$idle")" "$(tail -n 1 <<<"$idle")" "$(field threads | tail -n 1)" \
        "$(field after_kib | median)"
done

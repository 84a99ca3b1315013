#!/usr/bin/env bash
# Checks systemd/: every unit with `systemd-analyze verify` (any output fails), the service's
# exposure with `systemd-analyze security` (at most 2.0, with and without the Docker drop-in),
# and the sysusers.d and tmpfiles.d entries applied to a scratch root.
#
# Usage: ci/systemd-check.sh [path/to/tollgate]   (default: target/debug/tollgate)
# TOLLGATE_SYSTEMD_DIR checks another copy of systemd/ (the tests break one on purpose).
# Run by the integration tests (tests/systemd_units.rs); needs the systemd package's tools
# (ci/deps.sh installs them) and root, or sudo, for tmpfiles' chown.
set -euo pipefail
cd "$(dirname "$0")/.."

max_exposure=2.0
bin="$(realpath "${1:-target/debug/tollgate}")"
src="$(realpath "${TOLLGATE_SYSTEMD_DIR:-systemd}")"
fail() { echo "systemd-check: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "no tollgate binary at $bin (build it first)"
for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
    command -v "$tool" >/dev/null || fail "$tool not found: install Debian's systemd package (ci/deps.sh)"
done
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@" || fail "needs root (or sudo) for: $*"; fi
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# `verify` checks that each Exec*= binary exists. The units name /usr/bin/tollgate, which only
# an installed system has, so the copies checked here name the binary just built instead.
units="$scratch/units"
mkdir -p "$units/tollgate.service.d" "$scratch/plain"
for unit in "$src"/*.service "$src"/*.socket; do
    sed "s|/usr/bin/tollgate|$bin|g" "$unit" >"$units/$(basename "$unit")"
done
cp "$src"/tollgate.service.d/*.conf "$units/tollgate.service.d/"
cp "$units/tollgate.service" "$scratch/plain/"

# With the drop-in beside the service, verify reads it too.
out="$(cd "$units" && systemd-analyze verify --man=no ./*.service ./*.socket 2>&1)" ||
    fail "systemd-analyze verify failed:"$'\n'"$out"
[ -z "$out" ] || fail "systemd-analyze verify complained:"$'\n'"$out"
echo "verify: clean ($(cd "$units" && echo ./*.service ./*.socket tollgate.service.d/*.conf))"

# `--threshold` counts tenths: 20 is 2.0.
threshold="$(awk -v m="$max_exposure" 'BEGIN { printf "%d", m * 10 }')"
for variant in plain units; do
    report="$(systemd-analyze security --offline=true --threshold="$threshold" \
        "$scratch/$variant/tollgate.service" 2>&1)" || {
        echo "$report" >&2
        fail "exposure of tollgate.service ($variant) above $max_exposure"
    }
    figure="$(sed -n 's/.*Overall exposure level for tollgate.service: \([0-9.]*\).*/\1/p' <<<"$report")"
    [ -n "$figure" ] || fail "no exposure figure in:"$'\n'"$report"
    label="tollgate.service"
    [ "$variant" = units ] && label="tollgate.service + tollgate.service.d/docker.conf"
    echo "security: $label exposure $figure (limit $max_exposure)"
done

# sysusers.d creates the user and group; tmpfiles.d then resolves them in the same root.
root="$scratch/root"
mkdir -p "$root/etc"
out="$(as_root systemd-sysusers --root="$root" "$src/tollgate.sysusers" 2>&1)" ||
    fail "systemd-sysusers failed:"$'\n'"$out"
grep -q '^tollgate:x:[0-9]*:[0-9]*:.*:/var/lib/tollgate:' "$root/etc/passwd" ||
    fail "sysusers.d did not create the tollgate user"
out="$(as_root systemd-tmpfiles --create --root="$root" "$src/tollgate.tmpfiles" 2>&1)" ||
    fail "systemd-tmpfiles failed:"$'\n'"$out"
for dir in etc/tollgate etc/tollgate/dynamic var/lib/tollgate var/log/tollgate; do
    [ -d "$root/$dir" ] || fail "tmpfiles.d did not create /$dir"
done
uid="$(awk -F: '$1 == "tollgate" { print $3 }' "$root/etc/passwd")"
[ "$(stat -c %u:%a "$root/var/lib/tollgate")" = "$uid:750" ] ||
    fail "/var/lib/tollgate is $(stat -c %u:%a "$root/var/lib/tollgate"), expected $uid:750"
as_root rm -rf "$root"
echo "sysusers.d, tmpfiles.d: applied to a scratch root"

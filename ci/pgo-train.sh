#!/usr/bin/env bash
# The training run of a profile-guided build (ci/pgo-build.sh): an instrumented tollgate serves
# a mix of traffic through real backends on 127.0.0.1, reloads once, reports on a log offline,
# and exits cleanly, which is when it writes its profile.
#
# What runs here is what LLVM optimises for speed; what never runs it optimises for size. So the
# mix covers what a deployment does often, each part bounded in time:
#   1. HTTP/1.1 keep-alive through several routers, middlewares, a weighted service, an h2c
#      server, 404s, /ping and the live report (wrk with ci/pgo-train.lua), access log and
#      stats on;
#   2. HTTP/2 from the client (h2c prior knowledge, h2load), GETs and POSTs to each router;
#   3. a SIGHUP reload in the middle of 1;
#   4. `tollgate report` over a varied combined-format log, to HTML and JSON.
# WebSocket relays, health checks and the error paths are not trained: they are rare, LLVM
# keeps them small, and the tests cover them.
#
# usage: ci/pgo-train.sh BINARY [RUNNER...]   e.g. ci/pgo-train.sh target/.../tollgate qemu-aarch64-static
# environment: PGO_SECONDS (6) length of the wrk phase; PGO_KEEP=1 keeps the run's directory
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: ci/pgo-train.sh BINARY [RUNNER...]" >&2; exit 64; }
BIN="$(realpath "$1")"
shift
RUNNER=("$@")
SECONDS_LOAD="${PGO_SECONDS:-6}"

# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=bench/peers.sh
. bench/peers.sh
apt_install nginx wrk curl python3 nghttp2-client
OUT="$(mktemp -d /tmp/tollgate-pgo-train.XXXXXX)"
trap 'stop_all; [ "${PGO_KEEP:-0}" = 1 ] || rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

# The servers: nginx answering HTTP/1.1 on one port and h2c (prior knowledge) on another, set
# up like the benchmark's backend (bench/peers.sh).
H1_PORT="$(free_port)" H2_PORT="$(free_port)" PORT="$(free_port)"
{
    nginx_common "$OUT"
    echo "http {"
    echo "    access_log off;"
    nginx_temp_paths "$OUT"
    cat <<EOF
    server {
        listen 127.0.0.1:$H1_PORT;
        listen 127.0.0.1:$H2_PORT http2;
        location / {
            default_type text/plain;
            return 200 "hello, world\n";
        }
    }
}
EOF
} >"$OUT/nginx.conf"
nginx -p "$OUT" -c "$OUT/nginx.conf" -e "$OUT/error.log" >/dev/null 2>&1 &
started $!
wait_http_ok "$H1_PORT" $! || die "training backend (nginx) did not start: $(cat "$OUT/error.log")"

cat >"$OUT/dynamic.yml" <<EOF
http:
  routers:
    app:
      rule: "Host(\`app.test\`) || Host(\`www.app.test\`)"
      service: app
    api:
      rule: "Host(\`api.test\`) && PathPrefix(\`/api\`) && !Method(\`DELETE\`)"
      middlewares: [strip-api, tag]
      service: split
    h2:
      rule: "HostRegexp(\`^h2\\\\.[a-z]+$\`)"
      service: over-h2c
  middlewares:
    strip-api:
      stripPrefix:
        prefixes: ["/api"]
    tag:
      headers:
        customRequestHeaders:
          X-Trained: "yes"
        customResponseHeaders:
          X-Served-By: "tollgate"
  services:
    app:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$H1_PORT"
    api-a:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$H1_PORT"
    api-b:
      loadBalancer:
        passHostHeader: false
        servers:
          - url: "http://127.0.0.1:$H1_PORT/"
    split:
      weighted:
        services:
          - name: api-a
            weight: 3
          - name: api-b
            weight: 1
    over-h2c:
      loadBalancer:
        servers:
          - url: "h2c://127.0.0.1:$H2_PORT"
EOF
cat >"$OUT/static.yml" <<EOF
entryPoints:
  web:
    address: "127.0.0.1:$PORT"
ping:
  entryPoint: web
report:
  entryPoint: web
providers:
  file:
    filename: "$OUT/dynamic.yml"
    watch: false
accessLog:
  filePath: "$OUT/access.log"
log:
  level: ERROR
EOF

"${RUNNER[@]}" "$BIN" run --config "$OUT/static.yml" >"$OUT/stdout.log" 2>"$OUT/stderr.log" &
TG=$!
started "$TG"
# /ping: the probe needs a 200 and no router takes a bare 127.0.0.1 request.
ready() {
    local deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$TG" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/ping")" = 200 ] && return 0
        sleep 0.1 # polling the real condition, bounded by the deadline
    done
    return 1
}
ready || die "instrumented tollgate did not start: $(cat "$OUT/stderr.log")"
# Each router answers as the mix expects, or the profile would learn a different program.
for want in app.test/p/1=200 api.test/api/v1/x=200 h2.test/h2=200 nowhere.test/=404; do
    url="${want%=*}" code="${want#*=}"
    got="$(curl -s -o /dev/null -m 10 -w '%{http_code}' -H "Host: ${url%%/*}" "http://127.0.0.1:$PORT/${url#*/}")"
    [ "$got" = "$code" ] || die "training: $url answered $got, expected $code"
done

log "training: wrk for ${SECONDS_LOAD}s with a reload half-way"
timeout $((SECONDS_LOAD + 60)) wrk -t1 -c32 -d"${SECONDS_LOAD}s" --timeout 10s \
    -s ci/pgo-train.lua "http://127.0.0.1:$PORT/" >"$OUT/wrk.txt" &
WRK=$!
sleep $((SECONDS_LOAD / 2)) # half-way through the load, by design
kill -HUP "$TG"
wait "$WRK" || die "wrk failed: $(cat "$OUT/wrk.txt")"
grep -E 'Requests/sec|Non-2xx' "$OUT/wrk.txt" >&2 || true

log "training: HTTP/2 (h2c) from the client"
head -c 4096 /dev/zero >"$OUT/post.bin"
for host in app.test api.test h2.test; do
    for method in get post; do
        data=()
        [ "$method" = post ] && data=(-d "$OUT/post.bin")
        timeout 120 h2load -n 1500 -c 4 -m 8 "${data[@]}" -H ":authority: $host" \
            "http://127.0.0.1:$PORT/api/v1/h2" "http://127.0.0.1:$PORT/api/v2/page" >"$OUT/h2load.txt" 2>&1 \
            || die "h2load failed: $(cat "$OUT/h2load.txt")"
        grep -q ' 0 failed, 0 errored' "$OUT/h2load.txt" || die "h2c requests failed: $(cat "$OUT/h2load.txt")"
    done
done

# The profile is written when the process exits on its own: a graceful stop, not a kill.
kill -TERM "$TG"
status=0
wait "$TG" || status=$?
[ "$status" = 0 ] || die "the instrumented tollgate exited with $status on SIGTERM: $(cat "$OUT/stderr.log")"
[ -s "$OUT/access.log" ] || die "the instrumented tollgate wrote no access log"

log "training: tollgate report on a generated log"
python3 - >"$OUT/combined.log" <<'EOF'
import random
random.seed(7)
agents = ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0",
          "curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)"]
for i in range(60000):
    ip = "10.%d.%d.%d" % (random.randrange(4), random.randrange(256), random.randrange(256))
    day = 1 + i * 28 // 60000
    t = "%02d/Oct/2026:%02d:%02d:%02d +0000" % (day, random.randrange(24), random.randrange(60), random.randrange(60))
    path = random.choice(["/", "/blog/%d" % random.randrange(2000), "/static/app.%d.js" % random.randrange(50),
                          "/img/%d.png" % random.randrange(400), "/wp-login.php", "/api/v1/items?page=%d" % random.randrange(9)])
    status = random.choice([200] * 12 + [304, 301, 404, 500])
    ref = random.choice(["-", "https://www.google.com/", "https://news.test/item?id=%d" % random.randrange(99)])
    print(f'{ip} - - [{t}] "GET {path} HTTP/1.1" {status} {random.randrange(50000)} "{ref}" "{random.choice(agents)}"')
EOF
for format in html json; do
    "${RUNNER[@]}" "$BIN" report "$OUT/combined.log" --log-format COMBINED --format "$format" \
        -o "$OUT/report.$format" --no-progress
    "${RUNNER[@]}" "$BIN" report "$OUT/access.log" --format "$format" -o "$OUT/live.$format" --no-progress
done
log "training done"

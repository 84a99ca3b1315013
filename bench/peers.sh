# shellcheck shell=bash disable=SC2034 # PROXY_PID and BACKEND_* are read by the sourcing script
# Sourced by bench/proxy.sh, profile.sh and instructions.sh: the backend and the four proxies, each started
# in a directory of its own with its configuration written there. Expects OUT, PROXY_CPUS,
# LOAD_CPUS, TOLLGATE_WORKERS and (for Traefik) TRAEFIK to be set; lib.sh sourced.

NGINX_USER=""
[ "$(id -u)" -eq 0 ] && NGINX_USER="user root;"

# nginx needs every path it writes under its own prefix, not /var/lib/nginx.
nginx_common() {
    local dir="$1"
    mkdir -p "$dir/tmp"
    cat <<EOF
worker_processes 1;
daemon off;
master_process on;
$NGINX_USER
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
EOF
}
nginx_temp_paths() {
    local dir="$1"
    cat <<EOF
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    # Keep client and upstream connections open as long as the run lasts (nginx's default
    # closes a connection after 1000 requests; the other peers do not).
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
EOF
}

BACKEND_PORT=""
BACKEND_PID=""
start_backend() {
    local dir="$OUT/backend"
    mkdir -p "$dir"
    BACKEND_PORT="$(free_port)"
    {
        nginx_common "$dir"
        echo "http {"
        echo "    access_log off;"
        nginx_temp_paths "$dir"
        cat <<EOF
    server {
        listen 127.0.0.1:$BACKEND_PORT;
        location / {
            default_type text/plain;
            return 200 "hello, world\n";
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    taskset -c "$LOAD_CPUS" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >"$dir/stdout.log" 2>&1 &
    BACKEND_PID=$!
    started "$BACKEND_PID"
    wait_http_ok "$BACKEND_PORT" "$BACKEND_PID" || die "backend nginx did not start: $(cat "$dir/error.log")"
    log "backend nginx on 127.0.0.1:$BACKEND_PORT (cpus $LOAD_CPUS)"
}

# The dynamic configuration tollgate and Traefik share.
write_dynamic() {
    cat >"$1/dynamic.yml" <<EOF
http:
  routers:
    app:
      rule: "PathPrefix(\`/\`)"
      entryPoints: [web]
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:$BACKEND_PORT"
EOF
}

# start_NAME DIR PORT: start one proxy in DIR listening on PORT; sets PROXY_PID.
PROXY_PID=""
start_tollgate() {
    local dir="$1" port="$2" bin="$3"
    write_dynamic "$dir"
    cat >"$dir/static.yml" <<EOF
entryPoints:
  web:
    address: "127.0.0.1:$port"
providers:
  file:
    filename: "$dir/dynamic.yml"
    watch: false
accessLog:
  filePath: "$dir/access.log"
log:
  level: ERROR
EOF
    TOKIO_WORKER_THREADS="$TOLLGATE_WORKERS" taskset -c "$PROXY_CPUS" \
        "$bin" run --config "$dir/static.yml" >"$dir/stdout.log" 2>"$dir/stderr.log" &
    PROXY_PID=$!
}

start_traefik() {
    local dir="$1" port="$2"
    write_dynamic "$dir"
    cat >"$dir/static.yml" <<EOF
global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: "127.0.0.1:$port"
providers:
  file:
    filename: "$dir/dynamic.yml"
    watch: false
accessLog:
  filePath: "$dir/access.log"
log:
  level: ERROR
EOF
    GOMAXPROCS=1 taskset -c "$PROXY_CPUS" "$TRAEFIK" --configFile="$dir/static.yml" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
    PROXY_PID=$!
}

start_nginx() {
    local dir="$1" port="$2"
    {
        nginx_common "$dir"
        echo "http {"
        echo "    access_log $dir/access.log combined;"
        nginx_temp_paths "$dir"
        cat <<EOF
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 128;
        keepalive_requests 1000000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The forwarding headers Traefik and tollgate add, so every peer does the same work.
            proxy_set_header Host \$http_host;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$http_host;
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    taskset -c "$PROXY_CPUS" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
        >"$dir/stdout.log" 2>"$dir/stderr.log" &
    PROXY_PID=$!
}

start_haproxy() {
    local dir="$1" port="$2"
    {
        cat <<EOF
global
    nbthread 1
    maxconn 4096
    # HTTP log lines to stdout, which goes to access.log.
    log stdout format raw local0 info
defaults
    mode http
    log global
    option httplog
    option http-keep-alive
    option forwardfor
    http-reuse always
EOF
        haproxy_routes "$port"
    } >"$dir/haproxy.cfg"
    run_haproxy "$dir" "$dir/access.log"
}

# Not a peer to beat: HAProxy relaying bytes (`mode tcp`), no HTTP parsing and no log. Each
# client connection gets its own server connection, so it makes the same reads and writes per
# request as an HTTP proxy with keep-alive and nothing else: what a proxy can reach at most on
# this proxy core with this load core (row "tcp relay").
start_relay() {
    local dir="$1" port="$2"
    {
        cat <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode tcp
EOF
        haproxy_routes "$port"
    } >"$dir/haproxy.cfg"
    run_haproxy "$dir" "$dir/stdout.log"
}

# The end of both HAProxy configurations: timeouts, PORT in front, the backend behind.
haproxy_routes() {
    cat <<EOF
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend web
    bind 127.0.0.1:$1
    default_backend app
backend app
    server s1 127.0.0.1:$BACKEND_PORT
EOF
}

# Start HAProxy on DIR/haproxy.cfg, pinned to the proxy core, its stdout to OUT.
run_haproxy() {
    taskset -c "$PROXY_CPUS" haproxy -db -f "$1/haproxy.cfg" >"$2" 2>"$1/stderr.log" &
    PROXY_PID=$!
}

#!/usr/bin/env python3
"""Start-to-READY time and idle memory of tollgate, as systemd would see them.

For each run: bind a NOTIFY_SOCKET, start tollgate, and time from just before the fork to the
READY=1 datagram. After READY the process is left idle for a second and its VmRSS read (idle
RSS). On the last run a small load follows (REQUESTS requests over keep-alive connections,
through the proxy to a backend in this script), then another idle second and VmRSS again (idle
after load: does memory come back?), and VmHWM (peak).

Configurations:
  default  the embedded default (no --config, empty working directory), its entry point moved to
           a free loopback port with a Traefik-style flag
  bench    a static file with one entry point and a file provider (one router, one service)

Only the standard library. Prints a markdown table; with --json, one JSON object per config.
"""

import argparse
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

READY_WITHIN = 10.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


class Backend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"hello, world\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_backend():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Backend)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_bench_config(directory, port, backend_port):
    dynamic = os.path.join(directory, "dynamic.yml")
    with open(dynamic, "w") as f:
        f.write(
            "http:\n  routers:\n    app:\n      rule: \"PathPrefix(`/`)\"\n      service: app\n"
            "  services:\n    app:\n      loadBalancer:\n        servers:\n"
            f"          - url: \"http://127.0.0.1:{backend_port}\"\n"
        )
    static = os.path.join(directory, "static.yml")
    with open(static, "w") as f:
        f.write(
            f"entryPoints:\n  web:\n    address: \"127.0.0.1:{port}\"\n"
            f"providers:\n  file:\n    filename: \"{dynamic}\"\n    watch: true\n"
            "log:\n  level: ERROR\n"
        )
    return ["run", "--config", static]


def load(port, requests, connections):
    """REQUESTS GETs over CONNECTIONS keep-alive connections; returns how many got a 200."""
    ok = 0
    per = requests // connections
    request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for _ in range(connections):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            reader = s.makefile("rb")
            for _ in range(per):
                s.sendall(request)
                status = reader.readline()
                length = 0
                while True:
                    line = reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                reader.read(length)
                ok += status.split()[1:2] == [b"200"]
    return ok


def run_once(binary, runner, config, backend_port, with_load, requests, workers):
    with tempfile.TemporaryDirectory(prefix="tollgate-startup-") as directory:
        port = free_port()
        if config == "default":
            args = ["run", f"--entryPoints.web.address=127.0.0.1:{port}"]
        else:
            args = write_bench_config(directory, port, backend_port)
        notify_path = os.path.join(directory, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        env.pop("LISTEN_FDS", None)
        if workers:
            env["TOKIO_WORKER_THREADS"] = str(workers)
        stderr = open(os.path.join(directory, "stderr.log"), "w+")
        started = time.monotonic()
        child = subprocess.Popen(
            runner + [binary] + args, cwd=directory, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        )
        try:
            ready_ms = None
            deadline = started + READY_WITHIN
            while time.monotonic() < deadline:
                notify.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    note = notify.recv(4096).decode(errors="replace")
                except socket.timeout:
                    break
                if "READY=1" in note.splitlines():
                    ready_ms = (time.monotonic() - started) * 1000
                    break
            if ready_ms is None:
                stderr.seek(0)
                sys.exit(f"tollgate ({config}) sent no READY=1 within {READY_WITHIN}s; "
                         f"stderr:\n{stderr.read()}")
            result = {"ready_ms": ready_ms}
            time.sleep(1.0)  # a measurement of idleness, not a wait for readiness
            result["idle_rss_kib"] = status_kib(child.pid, "VmRSS")
            result["threads"] = threads(child.pid)
            if with_load and config == "bench":
                result["load_ok"] = load(port, requests, 8)
                time.sleep(1.0)
                result["after_load_rss_kib"] = status_kib(child.pid, "VmRSS")
                result["peak_rss_kib"] = status_kib(child.pid, "VmHWM")
            return result
        finally:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            notify.close()
            stderr.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=0,
                        help="TOKIO_WORKER_THREADS (0: tokio's default, one per core)")
    parser.add_argument("--runner", default="", help="e.g. qemu-aarch64-static")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    runner = options.runner.split() if options.runner else []
    binary = os.path.abspath(options.binary)
    if os.path.exists("/etc/tollgate/tollgate.yml"):
        print("NOTE: /etc/tollgate/tollgate.yml exists; the `default` config reads it",
              file=sys.stderr)
    backend = start_backend()
    rows = []
    for config in ("default", "bench"):
        runs = [
            run_once(binary, runner, config, backend.server_address[1],
                     i == options.runs - 1, options.requests, options.workers)
            for i in range(options.runs)
        ]
        ready = [r["ready_ms"] for r in runs]
        idle = [r["idle_rss_kib"] for r in runs]
        row = {
            "config": config,
            "runs": len(runs),
            "ready_ms_median": statistics.median(ready),
            "ready_ms_max": max(ready),
            "idle_rss_kib_median": statistics.median(idle),
            "idle_rss_kib_max": max(idle),
            "threads": runs[-1]["threads"],
        }
        for key in ("after_load_rss_kib", "peak_rss_kib", "load_ok"):
            if key in runs[-1]:
                row[key] = runs[-1][key]
        rows.append(row)
    backend.shutdown()
    if options.json:
        for row in rows:
            print(json.dumps(row))
        return
    print("| config | runs | READY median ms | READY max ms | idle RSS median KiB | idle RSS max KiB "
          "| threads | idle RSS after load KiB | peak RSS KiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['config']} | {r['runs']} | {r['ready_ms_median']:.1f} | {r['ready_ms_max']:.1f} "
              f"| {r['idle_rss_kib_median']:.0f} | {r['idle_rss_kib_max']} | {r['threads']} "
              f"| {r.get('after_load_rss_kib', '-')} | {r.get('peak_rss_kib', '-')} |")
    for r in rows:
        if "load_ok" in r and r["load_ok"] != options.requests // 8 * 8:
            print(f"WARNING: {r['config']}: only {r['load_ok']} of the load's requests got a 200")
    budget_ready = all(r["ready_ms_max"] < 50 for r in rows)
    budget_rss = all(r["idle_rss_kib_max"] <= 4096 for r in rows)
    print()
    print(f"budget: READY under 50 ms: {'yes' if budget_ready else 'NO'}; "
          f"idle RSS at most 4 MiB: {'yes' if budget_rss else 'NO'}")


if __name__ == "__main__":
    main()

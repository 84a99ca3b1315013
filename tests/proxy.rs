//! The reverse proxy end to end: forwarding, headers, errors, balancing, health, upgrades,
//! streaming, reloads and drain.

use std::time::Duration;

use crate::util::backend::Backend;
use crate::util::http::{get, parse, raw, request};
use crate::util::{FILE_PROVIDER_STATIC as STATIC, Setup, Tollgate};

fn one_service(url: &str, extra_router: &str, extra_lb: &str) -> String {
    format!(
        r#"
http:
  routers:
    app:
      rule: "PathPrefix(`/`)"
      service: app
{extra_router}
  services:
    app:
      loadBalancer:
        servers:
          - url: "{url}"
{extra_lb}
"#
    )
}

fn start(dynamic: &str) -> Tollgate {
    Tollgate::start(Setup::new(STATIC, dynamic))
}

fn header<'a>(echo: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    echo["headers"]
        .as_array()
        .expect("headers array")
        .iter()
        .filter(|pair| pair[0].as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
        .filter_map(|pair| pair[1].as_str())
        .collect()
}

#[test]
fn forwards_with_traefik_forwarding_headers() {
    let backend = Backend::start("b1");
    let tg = start(&one_service(&backend.url(), "", ""));
    let resp = get(
        &tg.addr(),
        "/hello/world?x=1",
        &[
            ("Host", "Example.COM:8080"),
            ("X-Forwarded-For", "203.0.113.9"),
            ("X-Real-Ip", "6.6.6.6"),
            ("Connection", "close, X-Drop-Me"),
            ("X-Drop-Me", "1"),
            ("Keep-Alive", "timeout=5"),
            ("User-Agent", "test-agent"),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("x-backend"), Some("b1"));
    let echo = resp.json();
    assert_eq!(echo["uri"], "/hello/world?x=1");
    assert_eq!(header(&echo, "host"), vec!["Example.COM:8080"], "passHostHeader keeps Host");
    // 127.0.0.1 is not trusted: the client's forwarded headers are replaced, not appended to.
    assert_eq!(header(&echo, "x-forwarded-for"), vec!["127.0.0.1"]);
    assert_eq!(header(&echo, "x-real-ip"), vec!["127.0.0.1"]);
    assert_eq!(header(&echo, "x-forwarded-proto"), vec!["http"]);
    assert_eq!(header(&echo, "x-forwarded-host"), vec!["Example.COM:8080"]);
    assert_eq!(header(&echo, "x-forwarded-port"), vec!["8080"]);
    assert_eq!(header(&echo, "x-forwarded-server").len(), 1);
    assert_eq!(header(&echo, "user-agent"), vec!["test-agent"]);
    for hop in ["x-drop-me", "keep-alive"] {
        assert!(header(&echo, hop).is_empty(), "{hop} must not be forwarded");
    }
}

#[test]
fn trusted_proxies_keep_forwarded_for() {
    let backend = Backend::start("b1");
    let static_yaml = STATIC.replace(
        "    address: \"127.0.0.1:{port:web}\"",
        "    address: \"127.0.0.1:{port:web}\"\n    forwardedHeaders:\n      trustedIPs: [\"127.0.0.0/8\"]",
    );
    let tg = Tollgate::start(Setup::new(&static_yaml, &one_service(&backend.url(), "", "")));
    let resp = get(
        &tg.addr(),
        "/",
        &[
            ("Host", "example.com"),
            ("X-Forwarded-For", "203.0.113.9"),
            ("X-Forwarded-Proto", "https"),
        ],
    );
    let echo = resp.json();
    assert_eq!(header(&echo, "x-forwarded-for"), vec!["203.0.113.9, 127.0.0.1"]);
    assert_eq!(header(&echo, "x-forwarded-proto"), vec!["https"]);
    assert_eq!(header(&echo, "x-forwarded-port"), vec!["443"]);
}

#[test]
fn pass_host_header_false_sends_the_server_authority() {
    let backend = Backend::start("b1");
    let tg = start(&one_service(&backend.url(), "", "        passHostHeader: false"));
    let echo = get(&tg.addr(), "/", &[("Host", "public.example")]).json();
    assert_eq!(header(&echo, "host"), vec![backend.addr.to_string().as_str()]);
    assert_eq!(header(&echo, "x-forwarded-host"), vec!["public.example"]);
}

#[test]
fn no_router_is_404_like_traefik() {
    let backend = Backend::start("b1");
    let dynamic =
        one_service(&backend.url(), "", "").replace("PathPrefix(`/`)", "PathPrefix(`/only`)");
    let tg = start(&dynamic);
    let resp = get(&tg.addr(), "/elsewhere", &[]);
    assert_eq!(resp.status, 404);
    assert_eq!(resp.text(), "404 page not found\n");
    assert_eq!(resp.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(get(&tg.addr(), "/only/x", &[]).status, 200);
}

#[test]
fn upstream_errors_map_to_502_504_503() {
    // Refused: nothing listens on the port.
    let refused = format!("http://127.0.0.1:{}", crate::util::free_port());
    let slow = Backend::start("slow");
    let dynamic = format!(
        r#"
http:
  routers:
    refused:
      rule: "PathPrefix(`/refused`)"
      service: refused
    slow:
      rule: "PathPrefix(`/slow`)"
      service: slow
    empty:
      rule: "PathPrefix(`/empty`)"
      service: empty
  services:
    refused:
      loadBalancer:
        servers: [{{url: "{refused}"}}]
    slow:
      loadBalancer:
        serversTransport: quick
        servers: [{{url: "{slow}"}}]
    empty:
      loadBalancer:
        servers: []
  serversTransports:
    quick:
      forwardingTimeouts:
        responseHeaderTimeout: 300ms
"#,
        slow = slow.url()
    );
    let tg = start(&dynamic);
    let r = get(&tg.addr(), "/refused", &[]);
    assert_eq!((r.status, r.text().as_str()), (502, "Bad Gateway"));
    let r = get(&tg.addr(), "/slow/3000", &[]);
    assert_eq!((r.status, r.text().as_str()), (504, "Gateway Timeout"));
    let r = get(&tg.addr(), "/empty", &[]);
    assert_eq!((r.status, r.text().as_str()), (503, "no available server\n"));
}

#[test]
fn ambiguous_framing_is_refused() {
    let backend = Backend::start("b1");
    let tg = start(&one_service(&backend.url(), "", ""));
    let both = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n";
    assert_eq!(parse(&raw(&tg.addr(), both)).status, 400);
    let twice = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nab";
    let reply = raw(&tg.addr(), twice);
    assert!(reply.starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(
        backend.hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing ambiguous reached the server"
    );
}

#[test]
fn too_many_headers_and_oversized_headers_are_refused() {
    let backend = Backend::start("b1");
    let tg = start(&one_service(&backend.url(), "", ""));
    let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..600 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let reply = raw(&tg.addr(), many.as_bytes());
    assert!(
        reply.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(100)])
    );
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(2 << 20)
    );
    let reply = raw(&tg.addr(), huge.as_bytes());
    assert!(
        reply.is_empty() || reply.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&reply[..reply.len().min(100)])
    );
}

#[test]
fn weighted_round_robin_is_smooth_and_proportional() {
    let a = Backend::start("a");
    let b = Backend::start("b");
    let dynamic = format!(
        r#"
http:
  routers:
    app:
      rule: "PathPrefix(`/`)"
      service: app
  services:
    app:
      loadBalancer:
        servers:
          - url: "{}"
            weight: 3
          - url: "{}"
"#,
        a.url(),
        b.url()
    );
    let tg = start(&dynamic);
    let seq: String = (0..8)
        .map(|_| get(&tg.addr(), "/", &[]).header("x-backend").unwrap_or("?").to_owned())
        .collect();
    assert_eq!(seq, "aabaaaba");
}

#[test]
fn sticky_cookie_pins_the_client() {
    let a = Backend::start("a");
    let b = Backend::start("b");
    let dynamic = format!(
        r#"
http:
  routers:
    app:
      rule: "PathPrefix(`/`)"
      service: app
  services:
    app:
      loadBalancer:
        sticky:
          cookie:
            name: pin
            httpOnly: true
        servers:
          - url: "{}"
          - url: "{}"
"#,
        a.url(),
        b.url()
    );
    let tg = start(&dynamic);
    let first = get(&tg.addr(), "/", &[]);
    let cookie = first.header("set-cookie").expect("sticky cookie set").to_owned();
    assert!(cookie.starts_with("pin=") && cookie.ends_with("; Path=/; HttpOnly"), "{cookie}");
    let pair = cookie.split(';').next().expect("name=value").to_owned();
    let backend = first.header("x-backend").expect("backend").to_owned();
    for _ in 0..5 {
        let again = get(&tg.addr(), "/", &[("Cookie", &pair)]);
        assert_eq!(again.header("x-backend"), Some(backend.as_str()));
        assert_eq!(again.header("set-cookie"), None, "a valid cookie is not set again");
    }
}

#[test]
fn health_check_takes_a_server_out_and_back() {
    let a = Backend::start("a");
    let b = Backend::start("b");
    let dynamic = format!(
        r#"
http:
  routers:
    app:
      rule: "PathPrefix(`/`)"
      service: app
  services:
    app:
      loadBalancer:
        healthCheck:
          path: /health
          interval: 100ms
          timeout: 1s
        servers:
          - url: "{}"
          - url: "{}"
"#,
        a.url(),
        b.url()
    );
    let tg = start(&dynamic);
    let served = |n: usize| -> Vec<String> {
        (0..n)
            .map(|_| get(&tg.addr(), "/", &[]).header("x-backend").unwrap_or("none").to_owned())
            .collect()
    };
    assert!(served(4).contains(&"a".to_owned()));
    a.healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    wait_until(Duration::from_secs(10), || served(4).iter().all(|s| s == "b"));
    b.healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    wait_until(Duration::from_secs(10), || get(&tg.addr(), "/", &[]).status == 503);
    a.healthy.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_until(Duration::from_secs(10), || served(4).iter().all(|s| s == "a"));
}

/// Poll `check` until it holds or panic after `limit`.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("condition not met within {limit:?}");
}

#[test]
fn middlewares_edit_request_and_response() {
    let backend = Backend::start("b1");
    let dynamic = format!(
        r#"
http:
  routers:
    api:
      rule: "PathPrefix(`/api`)"
      service: app
      middlewares: [strip, add, hdr]
    redirect:
      rule: "PathPrefix(`/secure`)"
      service: app
      middlewares: [tohttps]
  middlewares:
    strip:
      stripPrefix:
        prefixes: ["/api"]
    add:
      addPrefix:
        prefix: /v2
    hdr:
      headers:
        customRequestHeaders:
          X-Env: prod
          User-Agent: ""
        customResponseHeaders:
          X-Served-By: tollgate
          X-Backend: ""
    tohttps:
      redirectScheme:
        scheme: https
        permanent: true
  services:
    app:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        backend.url()
    );
    let tg = start(&dynamic);
    let resp = get(&tg.addr(), "/api/users?id=7", &[("User-Agent", "curl")]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-served-by"), Some("tollgate"));
    assert_eq!(resp.header("x-backend"), None, "empty value removes a response header");
    let echo = resp.json();
    assert_eq!(echo["uri"], "/v2/users?id=7");
    assert_eq!(header(&echo, "x-forwarded-prefix"), vec!["/api"]);
    assert_eq!(header(&echo, "x-env"), vec!["prod"]);
    assert!(header(&echo, "user-agent").is_empty());
    let resp = get(&tg.addr(), "/secure/page?q=1", &[("Host", "example.com:8000")]);
    assert_eq!(resp.status, 301);
    assert_eq!(resp.header("location"), Some("https://example.com/secure/page?q=1"));
    let resp = request(&tg.addr(), "POST", "/secure", &[("Host", "example.com")], b"x");
    assert_eq!(resp.status, 308);
}

#[test]
fn bad_router_is_left_out_and_the_rest_serves() {
    let backend = Backend::start("b1");
    let dynamic = format!(
        r#"
http:
  routers:
    good:
      rule: "PathPrefix(`/good`)"
      service: app
    bad-rule:
      rule: "Hots(`x`)"
      service: app
    bad-service:
      rule: "PathPrefix(`/bad`)"
      service: missing
    bad-middleware:
      rule: "PathPrefix(`/mw`)"
      service: app
      middlewares: [nope]
  services:
    app:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        backend.url()
    );
    let tg = start(&dynamic);
    assert_eq!(get(&tg.addr(), "/good", &[]).status, 200);
    assert_eq!(get(&tg.addr(), "/bad", &[]).status, 404);
    assert_eq!(get(&tg.addr(), "/mw", &[]).status, 404);
    let log = tg.stderr();
    assert!(log.contains("router `bad-rule@file`: rule:"), "{log}");
    assert!(
        log.contains("router `bad-service@file`: the service `missing@file` does not exist"),
        "{log}"
    );
    assert!(
        log.contains("router `bad-middleware@file`: the middleware `nope@file` does not exist"),
        "{log}"
    );
}

#[test]
fn weighted_services_split_and_stick() {
    let a = Backend::start("a");
    let b = Backend::start("b");
    let dynamic = format!(
        r#"
http:
  routers:
    split:
      rule: "PathPrefix(`/split`)"
      service: split
    pinned:
      rule: "PathPrefix(`/pinned`)"
      service: pinned
  services:
    split:
      weighted:
        services:
          - name: svc-a
            weight: 2
          - name: svc-b
            weight: 1
    pinned:
      weighted:
        sticky:
          cookie:
            name: lane
        services:
          - name: svc-a
          - name: svc-b
    svc-a:
      loadBalancer:
        servers: [{{url: "{}"}}]
    svc-b:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        a.url(),
        b.url()
    );
    let tg = start(&dynamic);
    let seq: String = (0..6)
        .map(|_| get(&tg.addr(), "/split", &[]).header("x-backend").unwrap_or("?").to_owned())
        .collect();
    assert_eq!(seq, "abaaba");
    let first = get(&tg.addr(), "/pinned", &[]);
    let cookie = first
        .header("set-cookie")
        .expect("weighted sticky cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    assert!(cookie.starts_with("lane="), "{cookie}");
    let chosen = first.header("x-backend").expect("backend").to_owned();
    for _ in 0..4 {
        assert_eq!(
            get(&tg.addr(), "/pinned", &[("Cookie", &cookie)]).header("x-backend"),
            Some(chosen.as_str())
        );
    }
}

#[test]
fn mirroring_copies_a_share_of_requests() {
    let main = Backend::start("main");
    let mirror = Backend::start("mirror");
    let dynamic = format!(
        r#"
http:
  routers:
    app:
      rule: "PathPrefix(`/`)"
      service: mirrored
  services:
    mirrored:
      mirroring:
        service: main
        mirrors:
          - name: shadow
            percent: 50
    main:
      loadBalancer:
        servers: [{{url: "{}"}}]
    shadow:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        main.url(),
        mirror.url()
    );
    let tg = start(&dynamic);
    for _ in 0..10 {
        let resp = get(&tg.addr(), "/copy-me", &[]);
        assert_eq!(resp.header("x-backend"), Some("main"), "the main service answers");
    }
    wait_until(Duration::from_secs(5), || {
        mirror.hits.load(std::sync::atomic::Ordering::SeqCst) == 5
    });
    assert_eq!(main.hits.load(std::sync::atomic::Ordering::SeqCst), 10);
}

#[test]
fn default_rule_syntax_v2_applies_to_routers_without_their_own() {
    let backend = Backend::start("b1");
    let static_yaml = format!("{STATIC}core:\n  defaultRuleSyntax: v2\n");
    let dynamic = format!(
        r#"
http:
  routers:
    legacy:
      rule: "Host(`a.example`, `b.example`) && PathPrefix(`/x`, `/y`)"
      service: app
    modern:
      ruleSyntax: v3
      rule: "Host(`c.example`) && !Path(`/blocked`)"
      service: app
  services:
    app:
      loadBalancer:
        servers: [{{url: "{}"}}]
"#,
        backend.url()
    );
    let tg = Tollgate::start(Setup::new(&static_yaml, &dynamic));
    assert_eq!(get(&tg.addr(), "/y/1", &[("Host", "b.example")]).status, 200);
    assert_eq!(get(&tg.addr(), "/z", &[("Host", "a.example")]).status, 404);
    assert_eq!(get(&tg.addr(), "/ok", &[("Host", "c.example")]).status, 200);
    assert_eq!(get(&tg.addr(), "/blocked", &[("Host", "c.example")]).status, 404);
}

/// A raw backend that answers exactly one request per connection and then closes it, after
/// `linger`. With `announce` the response says `Connection: close`; without it the proxy
/// believes the connection reusable and finds it closed when it comes back. Returns the address
/// and the number of connections accepted.
fn one_shot_backend(
    announce: bool,
    linger: Duration,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind one-shot backend");
    let addr = listener.local_addr().expect("addr").to_string();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let close = if announce { "Connection: close\r\n" } else { "" };
                let response = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n{close}\r\nok");
                let _ = stream.write_all(response.as_bytes());
                std::thread::sleep(linger);
            });
        }
    });
    (addr, accepted)
}

#[test]
fn servers_closing_connections_do_not_fail_requests() {
    // A server that says `Connection: close`, and one that closes silently 20 ms after each
    // response: the pooled connection is dead when the next request comes 50 ms later. Every
    // request must still succeed, each on a connection of its own.
    for announce in [true, false] {
        let (addr, accepted) = one_shot_backend(announce, Duration::from_millis(20));
        let tg = start(&one_service(&format!("http://{addr}"), "", ""));
        for i in 0..20 {
            let resp = get(&tg.addr(), &format!("/n/{i}"), &[]);
            assert_eq!(
                (resp.status, resp.text().as_str()),
                (200, "ok"),
                "request {i} (announce close: {announce})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 20);
    }
}

#[test]
fn keep_alive_connections_to_servers_are_reused() {
    // Twenty sequential requests to the echo backend travel over one pooled connection: the
    // backend reports the client port each request came from.
    let backend = Backend::start("b1");
    let tg = start(&one_service(&backend.url(), "", ""));
    let mut peers = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let echo = get(&tg.addr(), "/", &[]).json();
        peers.insert(echo["peer"].as_str().expect("peer in echo").to_owned());
    }
    assert_eq!(peers.len(), 1, "one upstream connection carried every request: {peers:?}");
}

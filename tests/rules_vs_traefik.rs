//! Differential test: tollgate's rule language against the real Traefik.
//!
//! One dynamic configuration with many routers (every matcher, operators, priorities, v2 rules,
//! case and port variations, encoded paths, a second provider for precedence ties) is loaded
//! into Traefik. Each router marks requests with a `headers` middleware (`X-Router: <name>`),
//! and one small backend written here echoes that header back. A table of raw HTTP requests is
//! sent to Traefik over TCP, and for each one tollgate's `RuleSet::first_match` must pick the
//! same router (Traefik's 404 is no match, its 400 a path `routing_path` rejects).
//!
//! A second part checks that the rules Traefik refuses (its API shows them disabled with an
//! error) are exactly the rules `rule::parse` refuses.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Value, json};
use tollgate::rule::{self, RequestView, RuleSetBuilder, Syntax};

use crate::traefik::{Options, Traefik};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Provider {
    File,
    Http,
}

/// One router of the shared configuration.
struct Router {
    name: &'static str,
    provider: Provider,
    /// `ruleSyntax`, when set.
    syntax: Option<&'static str>,
    /// 0: unset (Traefik then uses the rule's length).
    priority: i64,
    rule: &'static str,
    /// Built never to match (a documented Traefik behaviour); exempt from the coverage check.
    never: bool,
}

const fn r(name: &'static str, priority: i64, rule: &'static str) -> Router {
    Router { name, provider: Provider::File, syntax: None, priority, rule, never: false }
}

const fn v2(name: &'static str, priority: i64, rule: &'static str) -> Router {
    Router { name, provider: Provider::File, syntax: Some("v2"), priority, rule, never: false }
}

const fn never(name: &'static str, priority: i64, rule: &'static str) -> Router {
    Router { name, provider: Provider::File, syntax: None, priority, rule, never: true }
}

const fn http(name: &'static str, priority: i64, rule: &'static str) -> Router {
    Router { name, provider: Provider::Http, syntax: None, priority, rule, never: false }
}

/// An http-provider router that loses every tie to its file twin.
const fn http_shadowed(name: &'static str, priority: i64, rule: &'static str) -> Router {
    Router { name, provider: Provider::Http, syntax: None, priority, rule, never: true }
}

/// The routers requests are routed through. Priorities are chosen so that no request is decided
/// by a tie Traefik leaves unordered (the test checks that).
const ROUTERS: &[Router] = &[
    r("probe", 9000, "Header(`X-Probe`, `tollgate-probe`)"),
    // Hosts.
    r("host-exact", 100, "Host(`exact.test`)"),
    r("host-wild", 100, "Host(`*.wild.test`)"),
    r("host-trailing", 100, "Host(`dot.test.`)"),
    r("host-any", 100, "Host(`*`) && Path(`/any-host`)"),
    r("host-v6", 100, "Host(`::1`) && Path(`/v6`)"),
    never("host-with-port", 100, "Host(`port.test:8080`)"),
    r("host-port-plain", 50, "Host(`port.test`)"),
    r("hostre", 100, r"HostRegexp(`^re-[0-9]+\.test$`)"),
    never("hostre-upper", 100, r"HostRegexp(`^[A-Z]+\.upper\.test$`)"),
    r("hostre-unanchored", 90, "HostRegexp(`anchor`)"),
    r("hostre-empty-match", 100, r"HostRegexp(`^(em\.test)?$`) && Path(`/em`)"),
    // Paths, all on p.test.
    r("path-exact", 200, "Host(`p.test`) && Path(`/exact`)"),
    r("path-prefix", 150, "Host(`p.test`) && PathPrefix(`/pre`)"),
    r("path-regexp", 160, "Host(`p.test`) && PathRegexp(`^/re/[a-z]+$`)"),
    r("path-space", 200, "Host(`p.test`) && Path(`/foo bar`)"),
    r("path-encslash", 200, "Host(`p.test`) && Path(`/a%2Fb`)"),
    r("path-slash", 200, "Host(`p.test`) && Path(`/a/b`)"),
    r("path-bang", 200, "Host(`p.test`) && Path(`/r!b`)"),
    r("path-bang-enc", 200, "Host(`p.test`) && Path(`/r%21b`)"),
    r("path-bang-reencoded", 190, "Host(`p.test`) && PathPrefix(`/r%21b|`)"),
    r("path-utf8", 200, "Host(`p.test`) && Path(`/café`)"),
    r("path-braces", 200, "Host(`p.test`) && PathRegexp(`^/x{foo}$`)"),
    r("path-percent", 200, "Host(`p.test`) && Path(`/100%25`)"),
    r("path-ascii-digit", 200, r"Host(`p.test`) && PathRegexp(`^/d/\d$`)"),
    r("path-ascii-word", 200, r"Host(`p.test`) && PathRegexp(`^/w/\w+$`)"),
    r("path-word-boundary", 200, r"Host(`p.test`) && PathRegexp(`^/wb/a\b`)"),
    r("path-fold", 200, "Host(`p.test`) && PathRegexp(`(?i)^/fold/k$`)"),
    r("path-any-char", 200, "Host(`p.test`) && PathRegexp(`^/dot/.$`)"),
    r("path-dotdot-literal", 200, "Host(`p.test`) && Path(`/a/..`)"),
    r("path-triple-dot", 200, "Host(`p.test`) && Path(`/.../x`)"),
    // Methods.
    r("method-post", 100, "Host(`m.test`) && Method(`post`)"),
    // Headers.
    r("header", 100, "Host(`h.test`) && Header(`x-mode`, `a`)"),
    r("header-re", 90, "Host(`h.test`) && HeaderRegexp(`X-Mode`, `^b+$`)"),
    r("header-empty", 80, "Host(`h.test`) && HeaderRegexp(`X-Empty`, `^$`)"),
    never("header-host", 120, "Host(`h.test`) && Header(`Host`, `h.test`)"),
    never("header-te", 125, "Host(`h.test`) && Header(`Transfer-Encoding`, `chunked`)"),
    // Queries.
    r("query", 100, "Host(`q.test`) && Query(`k`, `v`)"),
    r("query-flag", 95, "Host(`q.test`) && Query(`flag`)"),
    r("query-re", 90, "Host(`q.test`) && QueryRegexp(`n`, `^[0-9]+$`)"),
    r("query-space", 85, "Host(`q.test`) && Query(`s`, `a b`)"),
    // Client IP (the test connects from 127.0.0.1).
    r("clientip", 100, "Host(`ip.test`) && ClientIP(`127.0.0.0/8`)"),
    never("clientip-v6", 110, "Host(`ip.test`) && ClientIP(`::1`)"),
    r("clientip-not", 105, "Host(`ip2.test`) && !ClientIP(`10.0.0.0/8`, )"),
    // Operators.
    r("ops", 100, "Host(`o.test`) && (PathPrefix(`/x`) || PathPrefix(`/y`)) && !Path(`/x/no`)"),
    r("ops-or-and", 100, "Host(`o2.test`) || Host(`o3.test`) && Path(`/only`)"),
    // Spelling and lexical variations.
    r("case-mix", 100, "HOST(`case.test`) && pathprefix(`/c`) && Pathregexp(`c`)"),
    r("double-quoted", 100, "Host(\"dq.test\") && Path(\"/d\\x41\\u00e9\")"),
    r("multi-line", 100, "Host(`ml.test`) &&\n  PathPrefix(`/m`) // trailing comment\n"),
    r("trailing-comma", 100, "Host(`tc.test`,) && Path(`/`...)"),
    r("regex-go-syntax", 100, r"Host(`rx.test`) && PathRegexp(`^/\Qa.b\E/\101/[a[b]$`)"),
    // Default priorities: the rule's length.
    r("len-short", 0, "Host(`len.test`) && PathPrefix(`/a`)"),
    r("len-long", 0, "Host(`len.test`) && PathPrefix(`/a/b`)"),
    // Provider precedence on equal priority (the test sets `providers.precedence: [file, http]`).
    // Several pairs: Traefik orders routers randomly when precedence does not decide, so one
    // pair could agree by chance.
    r("tie1", 100, "Host(`tie1.test`)"),
    http_shadowed("tie1", 100, "Host(`tie1.test`)"),
    r("tie2", 100, "Host(`tie2.test`)"),
    http_shadowed("tie2", 100, "Host(`tie2.test`)"),
    r("tie3", 100, "Host(`tie3.test`)"),
    http_shadowed("tie3", 100, "Host(`tie3.test`)"),
    r("tie4", 100, "Host(`tie4.test`)"),
    http_shadowed("tie4", 100, "Host(`tie4.test`)"),
    r("tie5", 100, "Host(`tie5.test`)"),
    http_shadowed("tie5", 100, "Host(`tie5.test`)"),
    http("http-only", 200, "Host(`tie1.test`) && Path(`/http`)"),
    // v2 syntax.
    v2("v2-host", 100, "Host(`v2a.test`, `v2b.test`)"),
    v2("v2-hostre", 100, "HostRegexp(`{sub:[a-z]+}.v2re.test`)"),
    v2("v2-path", 100, "Host(`v2p.test`) && Path(`/users/{id:[0-9]+}`)"),
    v2("v2-prefix", 90, "Host(`v2p.test`) && PathPrefix(`/static/`, `/assets/`)"),
    v2("v2-headers", 100, "Host(`v2h.test`) && Headers(`X-A`, `1`)"),
    v2("v2-headers-re", 90, "Host(`v2h.test`) && HeadersRegexp(`X-B`, `^[0-9]+$`)"),
    v2("v2-query", 100, "Host(`v2q.test`) && Query(`a=1`, `b={b:[a-z]+}`)"),
    v2("v2-method", 100, "Host(`v2m.test`) && Method(`PUT`, `delete`)"),
    v2("v2-hostheader", 100, "HostHeader(`v2hh.test`) && ClientIP(`127.0.0.1`, `::1`)"),
    v2("v2-hostre-ipv6", 100, r"HostRegexp(`{ip:\[[0-9a-f:]+\]}`) && Path(`/v2ip`)"),
    v2("v2-path-encoded", 100, "Host(`v2p.test`) && Path(`/enc/{rest:.+}`)"),
    // Fallback for the test hosts above, so that "matched nothing else" is visible.
    r("fallback", 1, r"HostRegexp(`^(p|m|h|q|ip|ip2|o|v2p|v2h|v2q|v2m|rx)\.test$`)"),
];

/// A deliberate difference (docs/RULES.md): Traefik accepts Unicode classes in regular
/// expressions; tollgate's small engine (regex-lite, for the size budget) refuses them at load
/// time with a message naming the class, never matching them differently.
#[test]
fn unicode_classes_are_refused_not_mismatched() {
    let err = rule::parse(r"PathRegexp(`\p{Greek}`)", rule::Syntax::V3).expect_err("refused");
    assert!(err.to_string().contains(r"Unicode class `\p{Greek}` is not supported"), "{err}");
}

/// Rules for the error-parity check: Traefik and tollgate must agree on which are invalid.
const PARITY: &[(&str, &str)] = &[
    // Invalid in v3.
    ("v3", "Hots(`a`)"),
    ("v3", "pathPrefix(`/x`)"),
    ("v3", "Host(`a`, `b`)"),
    ("v3", "Host()"),
    ("v3", "Host(``)"),
    ("v3", "Path(`x`)"),
    ("v3", "PathPrefix(`x`)"),
    ("v3", "Method()"),
    ("v3", "Header(`X`)"),
    ("v3", "Header(`X`, ``)"),
    ("v3", "Query()"),
    ("v3", "Query(`a`, `b`, `c`)"),
    ("v3", "ClientIP(`1`)"),
    ("v3", "ClientIP(`1.2.3.4/33`)"),
    ("v3", "ClientIP(`fe80::1%eth0`)"),
    ("v3", "ClientIP(`01.2.3.4`)"),
    ("v3", "Headers(`a`, `b`)"),
    ("v3", "Host(`🦭.com`)"),
    ("v3", "HostRegexp(`é`)"),
    ("v3", "Host(a)"),
    ("v3", "Host('a')"),
    ("v3", "Host(1)"),
    ("v3", "Host(`a` + `b`)"),
    ("v3", "Host(`a`)\n&& Path(`/`)"),
    ("v3", "Host(`a`) & Path(`/`)"),
    ("v3", "Host(`a`);"),
    ("v3", "Host(`a`) ||"),
    ("v3", "!Host"),
    ("v3", "Host(`a`)(`b`)"),
    ("v3", "Host(\"a\\q\")"),
    ("v3", "PathRegexp(`(`)"),
    ("v3", "PathRegexp(`a)`)"),
    ("v3", "HostRegexp(`a**`)"),
    ("v3", "PathRegexp(`a{1001}`)"),
    ("v3", "PathRegexp(`x{2}{3}`)"),
    ("v3", "PathRegexp(`*`)"),
    ("v3", "PathRegexp(`(?x)a`)"),
    ("v3", "PathRegexp(`(?i-)a`)"),
    ("v3", r"PathRegexp(`\1`)"),
    ("v3", r"PathRegexp(`\C`)"),
    ("v3", r"PathRegexp(`\Z`)"),
    ("v3", r"PathRegexp(`\x{110000}`)"),
    ("v3", "PathRegexp(`[z-a]`)"),
    ("v3", "PathRegexp(`[[:foo:]]`)"),
    ("v3", "PathRegexp(`(?P<a>x)(?P<a>y)`)"),
    ("v3", "HeaderRegexp(`X`, `[`)"),
    ("v3", "QueryRegexp(`q`, `(`)"),
    // Valid in v3, however odd.
    ("v3", "Host(`a`,)"),
    ("v3", "Host(`a`...)"),
    ("v3", "Host ( `a` )"),
    ("v3", "Host(`a`) &&\nPath(`/`)"),
    ("v3", "Host(`a`)\n"),
    ("v3", "Host(`a`) // c"),
    ("v3", "Host(`a`) /* c */"),
    ("v3", "!!Host(`a`)"),
    ("v3", "Header(`a b`, `c`)"),
    ("v3", "Path(\"/\\u00e9\")"),
    ("v3", "Host(`*.`)"),
    ("v3", "Method(`get`)"),
    ("v3", "Query(`a`)"),
    ("v3", "QueryRegexp(`a`)"),
    ("v3", "ClientIP(`::ffff:1.2.3.4`)"),
    ("v3", "ClientIP(`10.0.0.0/008`)"),
    ("v3", "pathprefix(`/x`) && PATHPREFIX(`/x`) && Pathprefix(`/x`)"),
    ("v3", "PathRegexp(`x{foo}`)"),
    ("v3", "PathRegexp(`[a[b]`)"),
    ("v3", r"PathRegexp(`\Qa.b\E`)"),
    ("v3", "PathRegexp(`(?)a`)"),
    ("v3", r"PathRegexp(`\101`)"),
    ("v3", "PathRegexp(`(?P<1a>x)`)"),
    ("v3", r"PathRegexp(`\<`)"),
    ("v3", "PathRegexp(`a{,3}`)"),
    ("v3", "PathRegexp(`^*`)"),
    ("v3", "PathRegexp(`[[:alpha:]]`)"),
    ("v3", r"PathRegexp(`\x{41}`)"),
    // v2.
    ("v2", "PathRegexp(`/a`)"),
    ("v2", "Header(`a`, `b`)"),
    ("v2", "Path(`x`)"),
    ("v2", "Path(`/{x`)"),
    ("v2", "Path(`/{x:(}`)"),
    ("v2", "Headers(`a`)"),
    ("v2", "HeadersRegexp(`a`, `(`)"),
    ("v2", "Query(`a`)"),
    ("v2", "Query(`a={x}`, `b={x}`)"),
    ("v2", "HostRegexp(`{:x}`)"),
    ("v2", "Host(`é`)"),
    ("v2", "HostRegexp(`(example.com`)"),
    ("v2", "Query(`a`, `b`)"),
    ("v2", "Headers(`a`, `b`, `a`, `c`)"),
    ("v2", "Path(`/{x:a}{y:b}`)"),
    ("v2", "Method(`get`, `post`)"),
    ("v2", "HostHeader(`a`)"),
    ("v2", "Query(`a=`)"),
];

/// A raw request and a label for the report.
struct Probe {
    label: String,
    raw: Vec<u8>,
}

fn get(host: &str, target: &str) -> Probe {
    send("GET", host, target, &[])
}

fn send(method: &str, host: &str, target: &str, headers: &[(&str, &str)]) -> Probe {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    let extra: Vec<String> = headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
    let label = format!("{method} {host}{target} {}", extra.join(" | "));
    Probe { label: label.trim_end().to_owned(), raw: raw.into_bytes() }
}

fn raw(label: &str, raw: &str) -> Probe {
    Probe { label: label.to_owned(), raw: raw.as_bytes().to_vec() }
}

fn requests() -> Vec<Probe> {
    let mut v = vec![
        get("exact.test", "/"),
        get("EXACT.TEST:8080", "/"),
        get("exact.test.", "/x"),
        get("a.wild.test", "/"),
        get("A.Wild.Test:99", "/"),
        get("a.b.wild.test", "/"),
        get("wild.test", "/"),
        get("dot.test", "/"),
        get("dot.test.", "/"),
        get("whatever.test", "/any-host"),
        raw("HTTP/1.0 without Host", "GET /any-host HTTP/1.0\r\n\r\n"),
        raw("HTTP/1.0 without Host, other path", "GET /other HTTP/1.0\r\n\r\n"),
        raw(
            "absolute-form wins over Host",
            "GET http://exact.test/ HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n",
        ),
        raw(
            "absolute-form with empty host uses Host",
            "GET http://@/ HTTP/1.1\r\nHost: exact.test\r\nConnection: close\r\n\r\n",
        ),
        raw(
            "absolute-form without path",
            "GET http://p.test HTTP/1.1\r\nHost: p.test\r\nConnection: close\r\n\r\n",
        ),
        get("[::1]:8080", "/v6"),
        get("[::1]", "/v6"),
        get("port.test:8080", "/"),
        get("re-42.test", "/"),
        get("RE-42.TEST:1", "/"),
        get("re-x.test", "/"),
        get("ABC.upper.test", "/"),
        get("unanchored.test", "/"),
        get("em.test", "/em"),
        get("other.test", "/em"),
        // Paths.
        get("p.test", "/exact"),
        get("p.test", "/exact/"),
        get("p.test", "/EXACT"),
        get("p.test", "/pre"),
        get("p.test", "/prefix/x"),
        get("p.test", "/re/abc"),
        get("p.test", "/re/ABC"),
        get("p.test", "/foo%20bar"),
        get("p.test", "/a%2Fb"),
        get("p.test", "/a%2fb"),
        get("p.test", "/a/b"),
        get("p.test", "//a//b"),
        get("p.test", "/x/../a/b"),
        get("p.test", "/a/./b"),
        get("p.test", "/a/%2e%2e/a/b"),
        get("p.test", "/a/%2E/b"),
        get("p.test", "/%61/%62"),
        get("p.test", "/a/b%2F..%2Fc"),
        get("p.test", "/../../a/b"),
        get("p.test", "/r!b"),
        get("p.test", "/r%21b"),
        get("p.test", "/r!b|c"),
        get("p.test", "/café"),
        get("p.test", "/caf%C3%A9"),
        get("p.test", "/caf%c3%a9"),
        get("p.test", "/x{foo}"),
        get("p.test", "/x%7Bfoo%7D"),
        get("p.test", "/100%25"),
        get("p.test", "/100%"),
        get("p.test", "/%FF"),
        get("p.test", "/d/7"),
        get("p.test", "/d/%D9%A3"),
        get("p.test", "/a#b"),
        get("p.test", "/a%zz"),
        get("p.test", "/exact?x=1"),
        get("p.test", "/w/abc_1"),
        get("p.test", "/w/caf%C3%A9"),
        get("p.test", "/wb/a%C3%A9"),
        get("p.test", "/wb/ab"),
        get("p.test", "/fold/K"),
        // Not compared: Go's (?i) folds the Kelvin sign (U+212A) to k, tollgate's ASCII engine
        // does not (docs/RULES.md, "Differences").
        get("p.test", "/dot/%FF"),
        get("p.test", "/dot/%C3%A9"),
        get("p.test", "/dot/%F0%9F%98"),
        get("p.test", "/a/.."),
        get("p.test", "/a/.%2e"),
        get("p.test", "/.../x"),
        get("p.test", "/a/b/.."),
        // Methods.
        send("POST", "m.test", "/", &[("Content-Length", "0")]),
        get("m.test", "/"),
        send("post", "m.test", "/", &[("Content-Length", "0")]),
        send("HEAD", "m.test", "/", &[]),
        // Headers.
        send("GET", "h.test", "/", &[("X-Mode", "a")]),
        send("GET", "h.test", "/", &[("x-mode", "a")]),
        send("GET", "h.test", "/", &[("X-Mode", "bbb")]),
        send("GET", "h.test", "/", &[("X-Mode", "c")]),
        send("GET", "h.test", "/", &[("X-Mode", "c"), ("X-Mode", "a")]),
        send("GET", "h.test", "/", &[("X-Mode", "a, b")]),
        send("GET", "h.test", "/", &[("X-Mode", "   a   ")]),
        send("GET", "h.test", "/", &[("X-Mode", "A")]),
        raw(
            "empty header value",
            "GET / HTTP/1.1\r\nHost: h.test\r\nX-Empty:\r\nConnection: close\r\n\r\n",
        ),
        raw(
            "chunked body (Go hides Transfer-Encoding)",
            "POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\na\r\n0\r\n\r\n",
        ),
        // Queries.
        get("q.test", "/?k=v"),
        get("q.test", "/?x=1&k=v"),
        get("q.test", "/?k=w&k=v"),
        get("q.test", "/?k=V"),
        get("q.test", "/?K=v"),
        get("q.test", "/?k=%76"),
        get("q.test", "/?%6B=v"),
        get("q.test", "/?x=1;k=v"),
        get("q.test", "/?k=v%zz"),
        get("q.test", "/?k=v&x=%zz"),
        get("q.test", "/?flag"),
        get("q.test", "/?flag="),
        get("q.test", "/?flag=1"),
        get("q.test", "/?n=123"),
        get("q.test", "/?n=12a"),
        get("q.test", "/?n=1+2"),
        get("q.test", "/?s=a+b"),
        get("q.test", "/?s=a%20b"),
        get("q.test", "/?"),
        get("q.test", "/?&&"),
        get("q.test", "/?k=v#frag"),
        get("q.test", "/?%6b=v"),
        get("q.test", "/?k+=v"),
        // Client IP.
        get("ip.test", "/"),
        get("ip2.test", "/"),
        // Operators.
        get("o.test", "/x"),
        get("o.test", "/y/z"),
        get("o.test", "/x/no"),
        get("o.test", "/z"),
        get("o2.test", "/anything"),
        get("o3.test", "/only"),
        get("o3.test", "/other"),
        // Spelling and lexical variations.
        get("case.test", "/c"),
        get("dq.test", "/dAé"),
        get("dq.test", "/dA%C3%A9"),
        get("ml.test", "/m"),
        get("tc.test", "/"),
        get("rx.test", "/a.b/A/["),
        get("rx.test", "/axb/A/a"),
        // Default priorities.
        get("len.test", "/a/b/c"),
        get("len.test", "/a/x"),
        // Provider precedence.
        get("tie1.test", "/"),
        get("tie2.test", "/"),
        get("tie3.test", "/"),
        get("tie4.test", "/"),
        get("tie5.test", "/"),
        get("tie1.test", "/http"),
        // v2.
        get("v2a.test", "/"),
        get("V2B.TEST:81", "/"),
        get("abc.v2re.test", "/"),
        get("ABC.v2re.test", "/"),
        get("a.b.v2re.test", "/"),
        get("v2p.test", "/users/42"),
        get("v2p.test", "/users/x"),
        get("v2p.test", "/users/42/"),
        get("v2p.test", "/static/app.js"),
        get("v2p.test", "/assets/"),
        get("v2p.test", "/assets"),
        send("GET", "v2h.test", "/", &[("X-A", "1")]),
        send("GET", "v2h.test", "/", &[("x-b", "123")]),
        send("GET", "v2h.test", "/", &[("X-A", "2")]),
        get("v2q.test", "/?a=1&b=xyz"),
        get("v2q.test", "/?b=x&a=1"),
        get("v2q.test", "/?a=1&b=XYZ"),
        get("v2q.test", "/?a=2&a=1&b=x"),
        get("v2q.test", "/?a=1&a=2&b=x"),
        send("PUT", "v2m.test", "/", &[("Content-Length", "0")]),
        send("DELETE", "v2m.test", "/", &[]),
        get("v2m.test", "/"),
        get("v2hh.test", "/"),
        get("[::1]", "/v2ip"),
        get("[::1]:80", "/v2ip"),
        get("v2p.test", "/enc/a%2Fb"),
        get("v2p.test", "/enc/a%20b"),
        raw(
            "absolute-form with userinfo and port",
            "GET http://user@EXACT.test:8080/ HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n",
        ),
        get("EXACT.TEST.:80", "/"),
        // Nothing at all.
        get("nothing.test", "/"),
    ];
    // Go caps how many query parameters it parses: past the cap, Query sees nothing.
    for (count, sep) in [(9_999, "&"), (10_000, "&"), (10_000, ";")] {
        let target = format!("/?k=v{}", format!("{sep}x").repeat(count));
        let mut p = get("q.test", &target);
        p.label = format!("GET q.test/?k=v{sep}x{sep}x… ({count} separators)");
        v.push(p);
    }
    v
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Router(String),
    NotFound,
    BadRequest,
    Other(String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Router(n) => write!(f, "{n}"),
            Outcome::NotFound => write!(f, "404 (no router)"),
            Outcome::BadRequest => write!(f, "400"),
            Outcome::Other(s) => write!(f, "{s}"),
        }
    }
}

fn qualified(r: &Router) -> String {
    match r.provider {
        Provider::File => format!("{}@file", r.name),
        Provider::Http => format!("{}@http", r.name),
    }
}

fn router_json(r: &Router, service: &str) -> Value {
    let mut v = json!({
        "rule": r.rule,
        "service": service,
        "entryPoints": ["web", "unsanitized"],
        "middlewares": [format!("mark-{}", r.name)],
    });
    if r.priority != 0 {
        v["priority"] = json!(r.priority);
    }
    if let Some(s) = r.syntax {
        v["ruleSyntax"] = json!(s);
    }
    v
}

fn config_json(provider: Provider, backend: SocketAddr) -> Value {
    let mut routers = serde_json::Map::new();
    let mut middlewares = serde_json::Map::new();
    for r in ROUTERS.iter().filter(|r| r.provider == provider) {
        routers.insert(r.name.to_owned(), router_json(r, "echo"));
        middlewares.insert(
            format!("mark-{}", r.name),
            json!({"headers": {"customRequestHeaders": {"X-Router": qualified(r)}}}),
        );
    }
    if provider == Provider::File {
        for (i, (syntax, rule)) in PARITY.iter().enumerate() {
            routers.insert(
                format!("parity-{i}"),
                json!({"rule": rule, "ruleSyntax": syntax, "service": "echo", "entryPoints": ["parity"]}),
            );
        }
    }
    json!({"http": {
        "routers": routers,
        "middlewares": middlewares,
        "services": {"echo": {"loadBalancer": {"servers": [{"url": format!("http://{backend}")}]}}},
    }})
}

#[test]
fn rules_route_like_traefik() {
    let backend = Backend::start();
    let dynamic = config_json(Provider::File, backend.addr).to_string();
    *backend.http_config.lock().expect("config lock") =
        config_json(Provider::Http, backend.addr).to_string();

    let names: Vec<String> = ROUTERS.iter().map(qualified).collect();
    let parity_names: Vec<String> = (0..PARITY.len()).map(|i| format!("parity-{i}@file")).collect();
    let wait: Vec<&str> = names.iter().chain(&parity_names).map(String::as_str).collect();
    let probe =
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Probe: tollgate-probe\r\nConnection: close\r\n\r\n";
    let providers_extra = format!(
        "  precedence:\n    - file\n    - http\n  http:\n    endpoint: \"http://{}/__config\"\n    pollInterval: \"1s\"\n",
        backend.addr
    );
    let traefik = Traefik::start(&Options {
        dynamic: &dynamic,
        static_extra: "",
        providers_extra: &providers_extra,
        // Parity routers get an entry point of their own: some of them match everything.
        extra_entry_points: &[
            ("parity", ""),
            ("unsanitized", "    http:\n      sanitizePath: false\n"),
        ],
        wait_for_routers: &wait,
        probe: Some(probe),
    });

    // tollgate's view of the same routers.
    let mut builder = RuleSetBuilder::with_provider_precedence(["file", "http"]);
    for r in ROUTERS {
        let syntax = Syntax::for_router(r.syntax, Syntax::V3);
        let rule = rule::parse(r.rule, syntax)
            .unwrap_or_else(|e| panic!("router {}: rule {:?}: {e}", r.name, r.rule));
        let priority = if r.priority == 0 { rule.default_priority() } else { r.priority };
        builder.add(&qualified(r), r.priority, rule, (qualified(r), priority)).expect("add router");
    }
    let set = builder.build();

    let mut mismatches = Vec::new();
    let mut hit = BTreeSet::new();
    let probes = requests();
    let unsanitized = traefik.entry_point("unsanitized");
    for p in &probes {
        // Every request goes to the default entry point and to one with `sanitizePath: false`.
        for (addr, sanitize) in [(traefik.web, true), (unsanitized, false)] {
            let theirs = match crate::traefik::request(addr, &p.raw) {
                Ok(resp) => match (resp.status, resp.header("X-Router")) {
                    (200, Some(name)) => Outcome::Router(name.to_owned()),
                    (404, _) => Outcome::NotFound,
                    (400, _) => Outcome::BadRequest,
                    (s, h) => Outcome::Other(format!("status {s}, X-Router {h:?}")),
                },
                Err(e) => Outcome::Other(format!("I/O error: {e}")),
            };
            let ours = route(&set, &p.raw, sanitize);
            if let Outcome::Router(name) = &theirs {
                hit.insert(name.clone());
            }
            if theirs != ours {
                let label =
                    if sanitize { p.label.clone() } else { format!("{} [unsanitized]", p.label) };
                mismatches.push(format!("  {label:<52} traefik: {theirs:<28} tollgate: {ours}"));
            }
        }
    }

    let unhit: Vec<String> = ROUTERS
        .iter()
        .filter(|r| !r.never && r.name != "probe")
        .map(qualified)
        .filter(|n| !hit.contains(n))
        .collect();

    // Routers built never to match document a Traefik behaviour: it must still hold.
    let never_hit: Vec<String> =
        ROUTERS.iter().filter(|r| r.never).map(qualified).filter(|n| hit.contains(n)).collect();

    let parity = parity_mismatches(&traefik);

    let mut report = String::new();
    if !mismatches.is_empty() {
        report.push_str(&format!(
            "{} of {} requests routed differently:\n{}\n",
            mismatches.len(),
            2 * probes.len(),
            mismatches.join("\n")
        ));
    }
    if !parity.is_empty() {
        report.push_str(&format!("rule validity differs:\n{}\n", parity.join("\n")));
    }
    if !unhit.is_empty() {
        report.push_str(&format!(
            "routers no request reached in Traefik (the table misses them): {unhit:?}\n"
        ));
    }
    if !never_hit.is_empty() {
        report.push_str(&format!("routers meant never to match were reached: {never_hit:?}\n"));
    }
    assert!(report.is_empty(), "\n{report}");
}

/// The error-parity part: Traefik's API against `rule::parse`.
fn parity_mismatches(traefik: &Traefik) -> Vec<String> {
    let routers = traefik.routers().expect("Traefik API");
    let mut out = Vec::new();
    for (i, (syntax, text)) in PARITY.iter().enumerate() {
        let name = format!("parity-{i}@file");
        let Some(status) = routers.iter().find(|r| r.name == name) else {
            out.push(format!("  {text:?}: not listed by Traefik's API"));
            continue;
        };
        let syntax = Syntax::for_router(Some(syntax), Syntax::V3);
        let ours = rule::parse(text, syntax);
        // Traefik disables a router for other reasons too; only rule errors count here.
        let theirs_bad = status.errors.iter().any(|e| e.contains("rule"));
        match (theirs_bad, &ours) {
            (true, Ok(_)) => out.push(format!(
                "  {syntax} {text:?}: Traefik rejects it ({}), tollgate accepts it",
                status.errors.join("; ")
            )),
            (false, Err(e)) => out.push(format!(
                "  {syntax} {text:?}: Traefik accepts it (status {}), tollgate rejects it: {e}",
                if status.enabled { "enabled" } else { "disabled" }
            )),
            _ => {}
        }
    }
    out
}

/// What tollgate decides for raw request bytes: parsed here as Go's server parses them.
fn route(set: &rule::RuleSet<(String, i64)>, raw: &[u8], sanitize: bool) -> Outcome {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Outcome::Other("unparsable request line".into());
    };
    let mut headers = HeaderMap::new();
    let mut host_header = String::new();
    for line in lines {
        let Some((n, v)) = line.split_once(':') else { continue };
        let v = v.trim();
        if n.eq_ignore_ascii_case("host") {
            host_header = v.to_owned();
        }
        headers.append(
            HeaderName::from_bytes(n.as_bytes()).expect("test header name"),
            HeaderValue::from_str(v).expect("test header value"),
        );
    }
    // Absolute-form targets carry the host; Go uses it unless it is empty.
    let (uri_host, rest) = match target.split_once("://") {
        Some((_, after)) => {
            let end = after.find(['/', '?']).unwrap_or(after.len());
            let authority = &after[..end];
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            (host.to_owned(), &after[end..])
        }
        None => (String::new(), target),
    };
    let host = if uri_host.is_empty() { host_header } else { uri_host };
    let (raw_path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let Ok(path) = rule::routing_path_with(raw_path, sanitize) else {
        return Outcome::BadRequest;
    };
    let method = Method::from_bytes(method.as_bytes()).expect("test method");
    let view = RequestView {
        method: &method,
        host: &host,
        path: &path,
        query,
        headers: &headers,
        client_ip: Some([127, 0, 0, 1].into()),
    };
    // A decision by a tie Traefik leaves unordered would make the comparison meaningless.
    let provider = |name: &str| name.rsplit('@').next().map(str::to_owned);
    let mut matching = set.matching(&view);
    let first = matching.next();
    if let (Some((_, a)), Some((_, b))) = (first, matching.next()) {
        assert!(
            a.1 != b.1 || provider(&a.0) != provider(&b.0),
            "request {request_line:?} is decided by a tie between {} and {}: fix the table",
            a.0,
            b.0
        );
    }
    match first {
        Some((_, (name, _))) => Outcome::Router(name.clone()),
        None => Outcome::NotFound,
    }
}

/// The upstream: echoes `X-Router` of each request in its response, and serves the http
/// provider's configuration at `/__config`.
struct Backend {
    addr: SocketAddr,
    http_config: Arc<std::sync::Mutex<String>>,
    stop: Arc<AtomicBool>,
}

impl Backend {
    fn start() -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind backend");
        let addr = listener.local_addr().expect("backend addr");
        let http_config = Arc::new(std::sync::Mutex::new(String::from("{}")));
        let stop = Arc::new(AtomicBool::new(false));
        let (cfg, stopped) = (http_config.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let cfg = cfg.clone();
                std::thread::spawn(move || serve(conn, &cfg));
            }
        });
        Backend { addr, http_config, stop }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop so it sees the flag
    }
}

fn serve(mut conn: TcpStream, cfg: &std::sync::Mutex<String>) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    // Read the body so the proxy never sees a reset while still sending it.
    let mut body = buf[head_end + 4..].to_vec();
    if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        while body.len() < len {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        while !body.ends_with(b"0\r\n\r\n") {
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
    }
    let response = if head.starts_with("GET /__config ") {
        let json = cfg.lock().map(|c| c.clone()).unwrap_or_default();
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
    } else {
        let router = header("x-router").unwrap_or_default();
        format!(
            "HTTP/1.1 200 OK\r\nX-Router: {router}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    };
    let _ = conn.write_all(response.as_bytes());
}

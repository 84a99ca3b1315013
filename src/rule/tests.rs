//! Behaviour of whole rules: every matcher and operator in both syntaxes (cases taken from
//! Traefik's own `matcher_test.go`, `matcher_v2_test.go` and `mux_test.go` tables), and the
//! wording of every error.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::*;

/// A request as a test writes it: `GET https://example.com:8080/path?q=1`.
struct Req {
    method: Method,
    host: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    ip: Option<IpAddr>,
}

impl Req {
    fn url(url: &str) -> Req {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let (authority, target) = match rest.find('/') {
            Some(i) if !rest[..i].contains('?') => (&rest[..i], &rest[i..]),
            _ => match rest.find('?') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            },
        };
        let (raw_path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (target, None),
        };
        let path = routing_path(raw_path).unwrap().into_owned();
        Req {
            method: Method::GET,
            host: authority.to_owned(),
            path,
            query,
            headers: HeaderMap::new(),
            ip: Some("10.0.0.1".parse().unwrap()),
        }
    }

    fn method(mut self, m: &str) -> Req {
        self.method = Method::from_bytes(m.as_bytes()).unwrap();
        self
    }

    fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
        self
    }

    fn ip(mut self, ip: Option<&str>) -> Req {
        self.ip = ip.map(|i| i.parse().unwrap());
        self
    }

    fn view(&self) -> RequestView<'_> {
        RequestView {
            method: &self.method,
            host: &self.host,
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            client_ip: self.ip,
        }
    }
}

fn rule(text: &str, syntax: Syntax) -> Rule {
    parse(text, syntax).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Asserts the rule matches exactly the URLs marked true.
fn check(text: &str, syntax: Syntax, cases: &[(&str, bool)]) {
    let r = rule(text, syntax);
    for (url, want) in cases {
        assert_eq!(r.matches(&Req::url(url).view()), *want, "{syntax} rule {text} on {url}");
    }
}

fn check_req(text: &str, syntax: Syntax, cases: Vec<(Req, bool)>) {
    let r = rule(text, syntax);
    for (i, (req, want)) in cases.iter().enumerate() {
        assert_eq!(r.matches(&req.view()), *want, "{syntax} rule {text}, case {i}");
    }
}

fn err(text: &str, syntax: Syntax) -> String {
    match parse(text, syntax) {
        Ok(_) => panic!("{syntax} rule {text} compiled"),
        Err(e) => e.to_string(),
    }
}

use Syntax::{V2, V3};

#[test]
fn host_v3() {
    let cases = [
        ("https://example.com", true),
        ("https://example.com:8080", true),
        ("https://example.com/path", true),
        ("https://EXAMPLE.COM/path", true),
        ("https://example.com./path", true),
        ("https://example.org", false),
    ];
    check("Host(`example.com`)", V3, &cases);
    check("Host(`EXAMPLE.COM`)", V3, &cases);
    check("Host(`example.com.`)", V3, &cases);
    check("Host(`127.0.0.1`)", V3, &[("http://127.0.0.1/foo", true), ("http://127.0.0.2", false)]);
    check("Host(`10::10`)", V3, &[("http://[10::10]/foo", true), ("http://[10::10]:80/", true)]);
    check(
        "Host(`*.example.com`)",
        V3,
        &[
            ("https://test.example.com", true),
            ("https://other.example.com:443", true),
            ("https://example.com", false),
            ("https://a.b.example.com", false),
            ("https://test.otherexample.com", false),
        ],
    );
    check(
        "Host(`*`)",
        V3,
        &[("https://localhost", true), ("https://a.b.c", true), ("http:///", true)],
    );
    check("Host(`xn--9t9h.com`)", V3, &[("https://xn--9t9h.com", true), ("https://🦭.com", false)]);
    check("Host(`example.com`)", V3, &[("http:///x", false)]);
    check("HOST(`a`) || host(`b`) || Host(`c`)", V3, &[("http://b", true), ("http://c", true)]);
}

#[test]
fn host_regexp_v3_is_unanchored_and_sees_the_lowercased_host() {
    let re = r"^[a-zA-Z-]+\.com$";
    check(
        &format!("HostRegexp(`{re}`)"),
        V3,
        &[
            ("https://example.com", true),
            ("https://example.com:8080", true),
            ("https://example.org", false),
        ],
    );
    check(
        r"HostRegexp(`^[A-Z]+\.com$`)",
        V3,
        &[("https://example.com", false), ("https://EXAMPLE.com", false)],
    );
    // The v2 template syntax is plain regex in v3: braces are literal.
    check(r"HostRegexp(`{domain:[a-zA-Z-]+\.com}`)", V3, &[("https://example.com", false)]);
    check("HostRegexp(`example`)", V3, &[("https://www.example.com", true)]);
    check("HostRegexp(`.*`)", V3, &[("http:///", true)]);
    // Traefik also matches the regex against the (empty) CNAME-flattened host.
    check(r"HostRegexp(`^(a\.test)?$`)", V3, &[("http://other.test", true)]);
}

#[test]
fn path_matchers_v3() {
    check(
        "Path(`/css`)",
        V3,
        &[
            ("https://example.com", false),
            ("https://example.com/css", true),
            ("https://example.com/css/", false),
            ("https://example.com/css/main.css", false),
            ("https://example.com/css?x=1", true),
            ("https://example.com//css", true),
            ("https://example.com/a/../css", true),
            ("https://example.com/%63ss", true),
        ],
    );
    check(
        r#"PathPrefix("/css")"#,
        V3,
        &[
            ("https://example.com", false),
            ("https://example.com/html", false),
            ("https://example.com/css", true),
            ("https://example.com/css/main.css", true),
            ("https://example.com/cssx", true),
        ],
    );
    check(
        "PathRegexp(`^/(css|js)`)",
        V3,
        &[
            ("https://example.com/CSS", false),
            ("https://example.com/css/", true),
            ("https://example.com/js/main.js", true),
            ("https://example.com/html", false),
        ],
    );
    check(
        r#"PathRegexp("/{path:(css|js)}")"#,
        V3,
        &[
            ("https://example.com/css", false),
            ("https://example.com/{path:css}", true),
            ("https://example.com/%7Bpath:js%7D/", true),
        ],
    );
    check(
        "PathPrefix(`/foo bar`)",
        V3,
        &[("http://h/foo%20bar/x", true), ("http://h/foo+bar", false)],
    );
    check("Path(`/a%2Fb`)", V3, &[("http://h/a%2fb", true), ("http://h/a/b", false)]);
}

#[test]
fn method_v3_is_exact_after_uppercasing_the_rule() {
    check_req(
        "Method(`get`)",
        V3,
        vec![
            (Req::url("http://h/"), true),
            (Req::url("http://h/").method("POST"), false),
            (Req::url("http://h/").method("get"), false),
            (Req::url("http://h/").method("HEAD"), false),
        ],
    );
    check_req("Method(`PURGE`)", V3, vec![(Req::url("http://h/").method("PURGE"), true)]);
}

#[test]
fn header_matchers_v3() {
    let u = || Req::url("http://h/");
    check_req(
        "Header(`x-forwarded-proto`, `https`)",
        V3,
        vec![
            (u().header("X-Forwarded-Proto", "https"), true),
            (u().header("X-Forwarded-Proto", "http").header("x-forwarded-proto", "https"), true),
            (u().header("X-Forwarded-Proto", "http, https"), false),
            (u().header("X-Forwarded-Proto", "HTTPS"), false),
            (u().header("X-Forwarded-Host", "https"), false),
            (u(), false),
        ],
    );
    check_req(
        "HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)",
        V3,
        vec![
            (u().header("x-forwarded-proto", "http"), true),
            (u().header("X-Forwarded-Proto", "HTTPS"), false),
            (u().header("X-Forwarded-Proto", "ws").header("X-Forwarded-Proto", "https"), true),
            (u(), false),
        ],
    );
    check_req(
        "HeaderRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)",
        V3,
        vec![
            (u().header("X-Forwarded-Proto", "http{secure:}"), true),
            (u().header("X-Forwarded-Proto", "https"), false),
        ],
    );
    // Go keeps Host and Transfer-Encoding out of the header map.
    check_req("Header(`Host`, `h`)", V3, vec![(u().header("Host", "h"), false)]);
    check_req("HeaderRegexp(`host`, `.*`)", V3, vec![(u().header("Host", "h"), false)]);
    check_req(
        "Header(`Transfer-Encoding`, `chunked`)",
        V3,
        vec![(u().header("Transfer-Encoding", "chunked"), false)],
    );
    // A name no request can carry never matches (and is no error, as in Traefik).
    check_req("!Header(`a b`, `c`)", V3, vec![(u(), true)]);
    // Bytes that are not UTF-8 are matched as Go reads them.
    check_req("HeaderRegexp(`X-A`, `^a.b$`)", V3, vec![(u().header("X-A", "a\u{e9}b"), true)]);
    let mut raw = u();
    raw.headers.append("x-a", HeaderValue::from_bytes(b"a\xffb").unwrap());
    check_req("HeaderRegexp(`X-A`, `^a.b$`)", V3, vec![(raw, true)]);
}

#[test]
fn query_matchers_v3() {
    let traefik = [
        ("https://example.com", false),
        ("https://example.com?q=traefik", true),
        ("https://example.com?rel=ddg&q=traefik", true),
        ("https://example.com?q=traefik&q=proxy", true),
        ("https://example.com?q=awesome&q=traefik", true),
        ("https://example.com?q=nginx", false),
        ("https://example.com?q=TRAEFIK", false),
        ("https://example.com?Q=traefik", false),
        ("https://example.com?rel=traefik", false),
        ("https://example.com?q=tr%61efik", true),
        ("https://example.com?q%3D=traefik", false),
        ("https://example.com?a=1;q=traefik", true),
        ("https://example.com?q=traefik%zz", false),
    ];
    check("Query(`q`, `traefik`)", V3, &traefik);
    check("QueryRegexp(`q`, `^traefik$`)", V3, &traefik);
    check(
        "Query(`mobile`)",
        V3,
        &[
            ("https://example.com", false),
            ("https://example.com?mobile", true),
            ("https://example.com?mobile=", true),
            ("https://example.com?mobile=true", false),
        ],
    );
    check(
        "QueryRegexp(`mobile`)",
        V3,
        &[("https://e.com?mobile", true), ("https://e.com?mobile=1", false)],
    );
    check("Query(`a b`, `c d`)", V3, &[("http://h/?a+b=c%20d", true)]);
    check(
        "QueryRegexp(`q`, `^.*$`)",
        V3,
        &[("https://example.com?q=TRAEFIK", true), ("https://example.com?Q=x", false)],
    );
    check(
        "QueryRegexp(`q`, `{value:(traefik|nginx)}`)",
        V3,
        &[("https://e.com?q=traefik", false), ("https://e.com?q={value:traefik}", true)],
    );
    let long = format!("http://h/?q={}", "x".repeat(3000));
    check("QueryRegexp(`q`, `^x{1000}`)", V3, &[(&long, true)]);
}

#[test]
fn client_ip_compares_the_peer_address() {
    let u = |ip: Option<&str>| Req::url("http://h/").ip(ip);
    check_req(
        "ClientIP(`192.168.1.0/24`)",
        V3,
        vec![
            (u(Some("192.168.1.1")), true),
            (u(Some("192.168.1.100")), true),
            (u(Some("::ffff:192.168.1.7")), true),
            (u(Some("192.168.2.1")), false),
            (u(None), false),
        ],
    );
    check_req("ClientIP(`::1`)", V3, vec![(u(Some("::1")), true), (u(Some("127.0.0.1")), false)]);
    check_req("ClientIP(`2001:db8::/32`)", V3, vec![(u(Some("2001:db8:1::5")), true)]);
    check_req("!ClientIP(`127.0.0.1`)", V3, vec![(u(None), true)]);
}

#[test]
fn operators_and_precedence() {
    check(
        r#"Host("example.com") || Host("example.org") && Path("/css")"#,
        V3,
        &[
            ("https://example.com/js", true),
            ("https://example.org/css", true),
            ("https://example.org/js", false),
            ("https://example.eu/css", false),
        ],
    );
    check(
        r#"(Host("example.com") || Host("example.org")) && Path("/css")"#,
        V3,
        &[("https://example.com/js", false), ("https://example.org/css", true)],
    );
    check(
        r#"!(Host("example.com") && !Path("/css"))"#,
        V3,
        &[
            ("https://example.com/css", true),
            ("https://example.org/css", true),
            ("https://example.com/js", false),
        ],
    );
    check(
        r#"!(!(Host("example.com") && Pathprefix("/css")))"#,
        V3,
        &[("https://example.com/css", true), ("https://example.com/js", false)],
    );
    check(
        "Host(`a`) /* a comment */ && // another\n PathPrefix(`/x`)\n",
        V3,
        &[("http://a/x", true), ("http://a/y", false)],
    );
    check("PATHPREFIX(`/css`) && pathprefix(`/c`)", V3, &[("https://e/css", true)]);
}

#[test]
fn v2_matchers() {
    check(
        "Host(`example.com`, `example.org`)",
        V2,
        &[
            ("https://example.com:8080", true),
            ("https://EXAMPLE.COM/path", true),
            ("https://example.org", true),
            ("https://example.org.", true),
            ("https://example.net", false),
        ],
    );
    check("HostHeader(`localhost`)", V2, &[("http://localhost/foo", true), ("http://bar", false)]);
    check("Host(`*.example.com`)", V2, &[("http://a.example.com", false)]);
    check(
        r"HostRegexp(`{subdomain:(foo\.)?bar\.com}`)",
        V2,
        &[
            ("http://foo.bar.com", true),
            ("http://FOO.bar.com", true),
            ("http://bar.com:81", true),
            ("http://fooubar.com", false),
            ("http://barcom", false),
        ],
    );
    check("HostRegexp(`(example.com`)", V2, &[("http://example.com", false)]);
    check(
        "HostRegexp(`example.com`, `{x}.org`)",
        V2,
        &[("http://a.org", true), ("http://a.b.org", false)],
    );
    check(
        "Path(`/css{path:(/.*)?}`)",
        V2,
        &[("https://e/css/main.css", true), ("https://e/css.css", false), ("https://e/css", true)],
    );
    check("Path(`/css`, `/js`)", V2, &[("https://e/js", true), ("https://e/js/", false)]);
    check(
        "PathPrefix(`/css-{name:[0-9]?}`)",
        V2,
        &[
            ("https://e/css-1/main.css", true),
            ("https://e/css-222/x", true),
            ("https://e/css.css", false),
        ],
    );
    check(
        "PathPrefix(`/css`, `/js`)",
        V2,
        &[("https://e/js/main.js", true), ("https://e/html", false)],
    );
    check_req(
        "Method(`GET`, `post`)",
        V2,
        vec![
            (Req::url("http://h/"), true),
            (Req::url("http://h/").method("POST"), true),
            (Req::url("http://h/").method("PUT"), false),
        ],
    );
    check_req(
        "ClientIP(`127.0.0.1`, `192.168.1.0/24`)",
        V2,
        vec![
            (Req::url("http://h/").ip(Some("127.0.0.1")), true),
            (Req::url("http://h/").ip(Some("192.168.1.1")), true),
            (Req::url("http://h/").ip(Some("10.1.1.1")), false),
        ],
    );
}

#[test]
fn v2_header_and_query_matchers() {
    let u = || Req::url("http://h/");
    check_req(
        "Headers(`Content-Type`, `application/json`, `X-A`, ``)"
            .replace(", `X-A`, ``", "")
            .as_str(),
        V2,
        vec![
            (u().header("content-type", "application/json"), true),
            (
                u().header("content-type", "text/plain").header("Content-Type", "application/json"),
                true,
            ),
            (u().header("content-type", "application/foo"), false),
        ],
    );
    check_req(
        "Headers(`X-A`, `1`, `X-A`, `2`)",
        V2,
        vec![(u().header("x-a", "2"), true), (u().header("x-a", "1"), false)],
    );
    check_req(
        "HeadersRegexp(`Content-Type`, `application/(text|json)`, `X-B`, `^b`)",
        V2,
        vec![
            (u().header("Content-Type", "application/json").header("x-b", "bee"), true),
            (u().header("Content-Type", "application/json"), false),
            (u().header("Content-Type", "image/png").header("x-b", "b"), false),
        ],
    );
    check(
        "Query(`foo=bar`, `bar=baz`)",
        V2,
        &[("http://h/foo?foo=bar&bar=baz", true), ("http://h/foo?bar=baz", false)],
    );
    check("Query(`foo=b=ar`)", V2, &[("http://h/?foo=b=ar", true), ("http://h/?foo=bar", false)]);
    // Only the first value of a repeated key counts in v2.
    check("Query(`q=b`)", V2, &[("http://h/?q=a&q=b", false), ("http://h/?q=b&q=a", true)]);
    check(
        "Query(`q=`)",
        V2,
        &[("http://h/?q=x", true), ("http://h/?q", true), ("http://h/?r", false)],
    );
    check("Query(`id={id:[0-9]+}`)", V2, &[("http://h/?id=42", true), ("http://h/?id=x", false)]);
    // Two arguments without `=` make one pair, as Traefik pairs them up.
    check("Query(`a`, `b`)", V2, &[("http://h/?a=b", true)]);
}

#[test]
fn v2_and_v3_rules_combine_the_same_way() {
    check(
        r#"Host("tchouk","pouet") && Path("/powpow", "/titi")"#,
        V2,
        &[
            ("http://tchouk/toto", false),
            ("http://tchouk/powpow", true),
            ("http://pouet/titi", true),
            ("http://plopi/a", false),
        ],
    );
    check(
        r#"(HOST("tchouk") && PATHPREFIX("/titi"))"#,
        V2,
        &[("http://tchouk/titi", true), ("http://tchouk/powpow", false)],
    );
}

#[test]
fn rule_priority_is_its_length_in_bytes() {
    assert_eq!(rule("Host(`example.org`)", V3).default_priority(), 19);
    assert_eq!(rule("Path(`/é`)", V2).default_priority(), 11);
}

#[test]
fn syntax_selection_follows_traefik() {
    assert_eq!(Syntax::for_router(None, V3), V3);
    assert_eq!(Syntax::for_router(Some(""), V2), V2);
    assert_eq!(Syntax::for_router(Some("v2"), V3), V2);
    assert_eq!(Syntax::for_router(Some("v3"), V2), V3);
    assert_eq!(Syntax::for_router(Some("V2"), V2), V3);
    assert_eq!("v2".parse::<Syntax>(), Ok(V2));
    assert_eq!(
        "v4".parse::<Syntax>().unwrap_err().to_string(),
        "unsupported rule syntax `v4` (expected v2 or v3)"
    );
}

#[test]
fn argument_errors() {
    assert_eq!(err("Host()", V3), "column 1: Host needs at least one argument");
    assert_eq!(err("Path(`/a`) && Host(``)", V3), "column 20: Host: argument 1 is empty");
    assert_eq!(err("Header(`X`, ``)", V3), "column 13: Header: argument 2 is empty");
    assert_eq!(err("Header(`X`, ``, `c`)", V3), "column 13: Header: argument 2 is empty");
    assert_eq!(err("Host(`a`, `b`)", V3), "column 1: Host takes 1 argument, got 2");
    assert_eq!(err("Header(`X-A`)", V3), "column 1: Header takes 2 arguments, got 1");
    assert_eq!(err("Query(`q`, `a`, `b`)", V3), "column 1: Query takes 1 or 2 arguments, got 3");
    assert_eq!(
        err("  ClientIP(`1`)", V3),
        "column 12: ClientIP: `1` is not an IP address or CIDR range"
    );
    assert_eq!(
        err("ClientIP(`::1`, `1.2.3.4/33`)", V2),
        "column 17: ClientIP: `1.2.3.4/33` is not an IP address or CIDR range"
    );
    assert_eq!(
        err("Host(`🦭.com`)", V3),
        "column 6: Host: `🦭.com` has non-ASCII characters (use punycode, e.g. xn--…)"
    );
    assert_eq!(
        err("HostRegexp(`locàlhost`)", V2),
        "column 12: HostRegexp: `locàlhost` has non-ASCII characters (use punycode, e.g. xn--…)"
    );
    assert_eq!(err("Path(`css`)", V3), "column 6: Path: path `css` does not start with `/`");
    assert_eq!(
        err("PathPrefix(`/a`, `css`)", V2),
        "column 18: PathPrefix: path `css` does not start with `/`"
    );
    assert_eq!(
        err("PathRegexp(`/(css`)", V3),
        "column 12: PathRegexp: invalid regular expression `/(css`: missing closing ): `/(css`"
    );
    assert_eq!(
        err("HeaderRegexp(`X`, `a**`)", V3),
        "column 19: HeaderRegexp: invalid regular expression `a**`: invalid nested repetition operator: `**`"
    );
    assert_eq!(
        err("HeadersRegexp(`X`, `(a`)", V2),
        "column 20: HeadersRegexp: invalid regular expression `(a`: missing closing ): `(a`"
    );
    assert_eq!(err("Headers(`titi`)", V2), "column 1: Headers takes key/value pairs, got 1 string");
    assert_eq!(
        err("HeadersRegexp(`a`, `b`, `c`)", V2),
        "column 1: HeadersRegexp takes key/value pairs, got 3 strings"
    );
    assert_eq!(
        err(r#"HostRegexp("{test")"#, V2),
        "column 12: HostRegexp: invalid template `{test`: unbalanced braces"
    );
    assert_eq!(
        err("Path(`/{x:(}`)", V2),
        "column 6: Path: invalid template `/{x:(}`: variable `x`: invalid pattern `(`: missing closing ): `^($`"
    );
    assert_eq!(
        err(r#"Query("titi")"#, V2),
        "column 7: Query: invalid template `titi`: expected key=value (v2 Query takes key=value pairs)"
    );
    assert_eq!(
        err(r#"Query("titi={test")"#, V2),
        "column 7: Query: invalid template `titi={test`: unbalanced braces"
    );
    assert_eq!(
        err("Query(`a={x}`, `b={x}`)", V2),
        "column 16: Query: invalid template `b={x}`: duplicated route variable `x`"
    );
}

#[test]
fn matcher_name_errors() {
    assert_eq!(
        err("Host(`a`) && Hots(`b`)", V3),
        "column 14: unknown matcher `Hots` (expected Host, HostRegexp, Path, PathPrefix, PathRegexp, \
         Method, Header, HeaderRegexp, Query, QueryRegexp, ClientIP); did you mean `Host`?"
    );
    assert_eq!(
        err("Headers(`a`, `b`)", V3),
        "column 1: unknown matcher `Headers` (expected Host, HostRegexp, Path, PathPrefix, \
         PathRegexp, Method, Header, HeaderRegexp, Query, QueryRegexp, ClientIP); `Headers` is v2 \
         syntax: set the router's ruleSyntax to v2, or use the v3 matchers"
    );
    assert_eq!(
        err("PathRegexp(`/a`)", V2),
        "column 1: unknown matcher `PathRegexp` (expected Host, HostHeader, HostRegexp, Path, \
         PathPrefix, Method, Headers, HeadersRegexp, Query, ClientIP); `PathRegexp` is v3 syntax, \
         but this router's rule uses the v2 syntax"
    );
    assert_eq!(
        err("rulewithnotmatcher(`x`)", V3),
        "column 1: unknown matcher `rulewithnotmatcher` (expected Host, HostRegexp, Path, \
         PathPrefix, PathRegexp, Method, Header, HeaderRegexp, Query, QueryRegexp, ClientIP)"
    );
    // Only Traefik's four spellings are accepted.
    assert!(err("hostRegexp(`x`)", V3).starts_with("column 1: unknown matcher `hostRegexp`"));
    assert!(parse("Hostregexp(`x`) && HOSTREGEXP(`x`) && hostregexp(`x`)", V3).is_ok());
    // Unknown names are found before argument problems, wherever they are (as in Traefik).
    assert!(err("Host() && Nope(`x`)", V3).starts_with("column 11: unknown matcher `Nope`"));
}

#[test]
fn lexical_and_syntax_errors_in_whole_rules() {
    assert_eq!(
        err("", V3),
        "column 1: empty rule (expected a matcher such as Host(`example.com`))"
    );
    assert_eq!(
        err("Host(`a`) && Path(`/", V3),
        "column 19: string not terminated (missing closing `)"
    );
    assert_eq!(
        err("Host(\"a\\z\")", V3),
        "column 8: invalid escape `\\z` in double-quoted string (unknown escape)"
    );
    assert_eq!(err("Host(\"\\xff\")", V3), "column 6: string is not valid UTF-8 after unescaping");
    assert_eq!(err("Host(`a`) /* x", V3), "column 11: comment not terminated (missing `*/`)");
    assert_eq!(
        err("Host(`a`) ^ Path(`/`)", V3),
        "column 11: expected `&&`, `||` or the end of the rule, found `^`"
    );
    assert_eq!(err("Host(`a`) @", V3), "column 11: unexpected character `@`");
    let deep = format!("{}Host(`a`){}", "(".repeat(65), ")".repeat(65));
    assert_eq!(
        err(&deep, V3),
        "column 65: rule nested too deeply (more than 64 levels of `(` and `!`)"
    );
}

#[test]
fn every_error_column_lies_in_the_text() {
    for text in [
        "",
        "Host(",
        "Host(`a`) &&",
        "Host(`a",
        "Hots(`a`)",
        "Path(`x`)",
        "Host(`a`)\n&& Host(`b`)",
        "é(`x`) && Hoçt(`y`)",
    ] {
        let e = parse(text, V3).unwrap_err();
        let chars = u32::try_from(text.chars().count()).unwrap();
        assert!(e.col() >= 1 && e.col() <= chars + 1, "{text}: {e}");
    }
}

#[test]
fn rule_set_orders_like_traefik() {
    let mut b = RuleSetBuilder::new();
    let add = |b: &mut RuleSetBuilder<&'static str>, name: &'static str, prio: i64, text: &str| {
        b.add(name, prio, rule(text, V3), name).unwrap();
    };
    add(&mut b, "short@file", 0, "PathPrefix(`/my`)");
    add(&mut b, "long@file", 0, "PathPrefix(`/mypath`)");
    add(&mut b, "explicit@file", 1, "PathPrefix(`/`)");
    add(&mut b, "crd@kubernetescrd", 0, "PathPrefix(`/my`)");
    add(&mut b, "ing@kubernetes", 0, "PathPrefix(`/my`)");
    add(&mut b, "unknown@elsewhere", 0, "PathPrefix(`/my`)");
    add(&mut b, "b@file", 50, "PathPrefix(`/tie`)");
    add(&mut b, "a@file", 50, "PathPrefix(`/tie`)");
    let set = b.build();
    let order: Vec<&str> = set.iter().map(|(n, _, _)| n).collect();
    assert_eq!(
        order,
        [
            "a@file",
            "b@file",
            "long@file",
            "crd@kubernetescrd",
            "ing@kubernetes",
            "short@file",
            "unknown@elsewhere",
            "explicit@file"
        ]
    );
    let first = |url: &str| set.first_match(&Req::url(url).view()).copied();
    assert_eq!(first("http://h/mypath"), Some("long@file"));
    assert_eq!(first("http://h/my"), Some("crd@kubernetescrd"));
    assert_eq!(first("http://h/tie"), Some("a@file"));
    assert_eq!(first("http://h/other"), Some("explicit@file"));
    let req = Req::url("http://h/my");
    let view = req.view();
    let all: Vec<&str> = set.matching(&view).map(|(n, _)| n).collect();
    assert_eq!(
        all,
        ["crd@kubernetescrd", "ing@kubernetes", "short@file", "unknown@elsewhere", "explicit@file"]
    );

    let empty: RuleSet<()> = RuleSetBuilder::new().build();
    assert!(empty.is_empty());
    assert_eq!(empty.first_match(&Req::url("http://h/").view()), None);
}

#[test]
fn rule_set_priorities() {
    let mut b = RuleSetBuilder::with_provider_precedence(["File", "docker"]);
    b.add("x@docker", 10, rule("Path(`/`)", V3), 1).unwrap();
    b.add("y@file", 10, rule("Path(`/`)", V3), 2).unwrap();
    b.add("neg@file", -5, rule("PathPrefix(`/`)", V3), 3).unwrap();
    assert_eq!(
        b.add("big@file", MAX_USER_PRIORITY + 1, rule("Path(`/`)", V3), 4).unwrap_err().to_string(),
        format!(
            "router priority {} exceeds the maximum user-defined priority {MAX_USER_PRIORITY}",
            MAX_USER_PRIORITY + 1
        )
    );
    b.add("big@internal", i64::MAX, rule("Path(`/x`)", V3), 5).unwrap();
    let set = b.build();
    assert_eq!(set.len(), 4);
    assert_eq!(set.first_match(&Req::url("http://h/").view()), Some(&2));
    assert_eq!(set.first_match(&Req::url("http://h/x").view()), Some(&5));
    assert_eq!(set.first_match(&Req::url("http://h/y").view()), Some(&3));
}

#[test]
fn matching_allocates_nothing_for_ordinary_requests() {
    // Not a timing test: counts heap allocations made by this thread while matching.
    let r = rule(
        "Host(`Example.com`) && PathPrefix(`/api`) && HostRegexp(`^ex`) && \
         QueryRegexp(`q`, `^a b$`) && HeaderRegexp(`X-A`, `^1`) && !ClientIP(`10.9.0.0/16`) && \
         Method(`GET`) && Query(`k`, `v`)",
        V3,
    );
    let req = Req::url("http://EXAMPLE.com:80/api/x?q=a+b&k=v").header("x-a", "12");
    let view = req.view();
    // The regex crate builds its per-thread search cache on first use: warm up once.
    assert!(r.matches(&view));
    let before = alloc_count::get();
    let matched = r.matches(&view);
    let after = alloc_count::get();
    assert!(matched);
    assert_eq!(after - before, 0, "allocations while matching");
}

/// A counting global allocator for the allocation test (per thread, so parallel tests do not
/// interfere).
mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn get() -> u64 {
        COUNT.with(Cell::get)
    }

    struct Counting;

    // SAFETY: forwards to the system allocator unchanged; only counts calls.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}

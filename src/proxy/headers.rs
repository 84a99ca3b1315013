//! Header work the proxy does on every request: the entry point's forwarded headers (Traefik's
//! `forwardedHeaders` step) and hop-by-hop removal both ways (as Go's reverse proxy, which
//! Traefik uses, does it).

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::ipnet::{IpNet, canonical};

pub(crate) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub(crate) static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
pub(crate) static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub(crate) static X_FORWARDED_SERVER: HeaderName = HeaderName::from_static("x-forwarded-server");
pub(crate) static X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
pub(crate) static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// The X- headers Traefik manages: removed from untrusted clients, never removable through
/// `Connection`. Lowercase, as `http` stores names.
const MANAGED: &[&str] = &[
    "x-forwarded-proto",
    "x-forwarded-scheme",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-server",
    "x-forwarded-uri",
    "x-forwarded-method",
    "x-forwarded-prefix",
    "x-forwarded-tls-client-cert",
    "x-forwarded-tls-client-cert-info",
    "x-scheme",
    "x-real-ip",
];

/// Headers that describe one hop and are never forwarded (RFC 9110 §7.6.1, plus the legacy
/// ones Go's reverse proxy also drops).
static HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// One of the hop-by-hop headers every hop removes (RFC 9110 §7.6.1, Go's list).
pub(crate) fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name)
}

/// Whether `name` is one of Traefik's X- headers, also in the underscore spelling
/// (`x_forwarded_for`) that some servers read as the same header.
fn is_managed(name: &str) -> bool {
    if !name.starts_with('x') {
        return false;
    }
    if MANAGED.contains(&name) {
        return true;
    }
    name.contains('_') && MANAGED.iter().any(|m| same_but_underscores(m, name))
}

fn same_but_underscores(managed: &str, name: &str) -> bool {
    managed.len() == name.len()
        && managed.bytes().zip(name.bytes()).all(|(m, n)| m == n || (m == b'-' && n == b'_'))
}

/// An entry point's `forwardedHeaders`, compiled.
#[derive(Debug, Clone)]
pub struct ForwardedPolicy {
    insecure: bool,
    trusted: Box<[IpNet]>,
    /// `X-Forwarded-Server`: this machine's host name.
    server: HeaderValue,
}

/// What the forwarded-headers step needs to know about the request.
pub struct Origin<'a> {
    pub peer: IpAddr,
    /// `peer` as a header value (canonical: IPv4-mapped addresses as IPv4).
    pub peer_value: &'a HeaderValue,
    pub tls: bool,
    /// Host header (or HTTP/2 authority) as received.
    pub host: &'a str,
    pub websocket: bool,
}

impl ForwardedPolicy {
    pub fn new(insecure: bool, trusted: Vec<IpNet>, hostname: &str) -> Self {
        let server =
            HeaderValue::from_str(hostname).unwrap_or(HeaderValue::from_static("localhost"));
        ForwardedPolicy { insecure, trusted: trusted.into(), server }
    }

    fn trusts(&self, peer: IpAddr) -> bool {
        self.insecure || self.trusted.iter().any(|net| net.contains(peer))
    }

    /// Traefik's entry-point step: drop forwarded headers an untrusted client sent, fill in the
    /// ones the next hop expects, and apply the client's `Connection` options.
    ///
    /// One pass over the headers learns what is there; the map is only looked up by name for
    /// what must change (each lookup hashes the name, and these were 6% of a proxied request).
    pub fn apply(&self, headers: &mut HeaderMap, origin: &Origin<'_>) {
        let seen = Seen::scan(headers, !self.trusts(origin.peer));
        // Up to six headers are added here and in the forwarding step: one growth of the map
        // instead of one per doubling.
        headers.reserve(6);
        for name in &seen.spoofed {
            headers.remove(name);
        }
        if !seen.real_ip.filled() {
            headers.insert(X_REAL_IP.clone(), origin.peer_value.clone());
        }
        let secure_proto = if seen.proto.filled() {
            seen.proto_secure
        } else {
            let proto = match (origin.websocket, origin.tls) {
                (true, true) => "wss",
                (true, false) => "ws",
                (false, true) => "https",
                (false, false) => "http",
            };
            headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(proto));
            origin.tls
        };
        if !seen.port.filled() {
            headers.insert(X_FORWARDED_PORT.clone(), forwarded_port(origin, secure_proto));
        }
        if !seen.host.filled()
            && !origin.host.is_empty()
            && let Ok(value) = HeaderValue::from_str(origin.host)
        {
            headers.insert(X_FORWARDED_HOST.clone(), value);
        }
        if seen.forwarded_for > 1 {
            fold_values(headers, &X_FORWARDED_FOR);
        }
        headers.insert(X_FORWARDED_SERVER.clone(), self.server.clone());
        if seen.connection {
            apply_connection_options(headers);
        }
    }
}

/// Whether a header's first value is there and not empty (what `HeaderMap::get` would see).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum First {
    #[default]
    Absent,
    Empty,
    Filled,
}

impl First {
    fn see(&mut self, value: &HeaderValue) {
        if *self == First::Absent {
            *self = if value.is_empty() { First::Empty } else { First::Filled };
        }
    }

    fn filled(self) -> bool {
        self == First::Filled
    }
}

/// What one pass over a request's headers found, for `ForwardedPolicy::apply`.
#[derive(Default)]
struct Seen {
    /// Forwarded headers from an untrusted client, to drop (each name once).
    spoofed: Vec<HeaderName>,
    real_ip: First,
    proto: First,
    /// The first `X-Forwarded-Proto` says https or wss.
    proto_secure: bool,
    port: First,
    host: First,
    forwarded_for: usize,
    connection: bool,
}

impl Seen {
    fn scan(headers: &HeaderMap, untrusted: bool) -> Seen {
        let mut seen = Seen::default();
        for (name, value) in headers {
            if *name == header::CONNECTION {
                seen.connection = true;
                continue;
            }
            let text = name.as_str();
            if !text.starts_with('x') {
                continue;
            }
            if untrusted && is_managed(text) {
                if !seen.spoofed.contains(name) {
                    seen.spoofed.push(name.clone());
                }
                continue;
            }
            match text {
                "x-real-ip" => seen.real_ip.see(value),
                "x-forwarded-proto" => {
                    if seen.proto == First::Absent {
                        seen.proto_secure = matches!(value.as_bytes(), b"https" | b"wss");
                    }
                    seen.proto.see(value);
                }
                "x-forwarded-port" => seen.port.see(value),
                "x-forwarded-host" => seen.host.see(value),
                "x-forwarded-for" => seen.forwarded_for += 1,
                _ => {}
            }
        }
        seen
    }
}

/// A client address as a header value, made once per connection (formatting an address per
/// request showed in profiles).
pub fn ip_value(ip: IpAddr) -> HeaderValue {
    HeaderValue::try_from(canonical(ip).to_string()).expect("an IP address is a valid header value")
}

/// The port the client connected to, as Traefik derives it: from the Host header, else from the
/// scheme (`secure_proto`: the `X-Forwarded-Proto` in force says https or wss).
fn forwarded_port(origin: &Origin<'_>, secure_proto: bool) -> HeaderValue {
    if let Some(port) = host_port(origin.host)
        && let Ok(value) = HeaderValue::from_str(port)
    {
        return value;
    }
    if origin.tls || secure_proto {
        HeaderValue::from_static("443")
    } else {
        HeaderValue::from_static("80")
    }
}

/// The port of `host:port` or `[v6]:port`, if any.
pub fn host_port(host: &str) -> Option<&str> {
    // One backward pass over the bytes (three `str` searches cost more on every request): the
    // last `:` after any `]`; without brackets, a second `:` means an IPv6 address, no port.
    let (mut colon, mut colons, mut bracketed) = (None, 0, false);
    for (i, &b) in host.as_bytes().iter().enumerate().rev() {
        match b {
            b']' => {
                bracketed = true;
                break;
            }
            b':' => {
                colons += 1;
                colon.get_or_insert(i);
            }
            _ => {}
        }
    }
    let port = &host[colon? + 1..];
    (!port.is_empty() && (bracketed || colons == 1)).then_some(port)
}

/// Several `X-Forwarded-For` lines become one, comma separated, in order.
fn fold_values(headers: &mut HeaderMap, name: &HeaderName) {
    let mut values = headers.get_all(name).iter();
    let (Some(_), Some(_)) = (values.next(), values.next()) else {
        return;
    };
    let joined = join_values(headers.get_all(name).iter());
    headers.insert(name.clone(), joined);
}

fn join_values<'a>(values: impl Iterator<Item = &'a HeaderValue>) -> HeaderValue {
    let mut joined = Vec::new();
    for value in values {
        if !joined.is_empty() {
            joined.extend_from_slice(b", ");
        }
        joined.extend_from_slice(value.as_bytes());
    }
    HeaderValue::from_bytes(&joined).expect("joined valid header values stay valid")
}

/// The tokens of every `Connection` line, trimmed, as written (compare without case).
fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether a `Connection` token names another header (not a plain connection option, which is
/// the common case and costs nothing).
fn names_a_header(token: &str) -> bool {
    !["close", "keep-alive", "upgrade"].iter().any(|o| token.eq_ignore_ascii_case(o))
}

/// The headers the `Connection` lines name, except those `keep` says to leave.
fn named_by_connection(headers: &HeaderMap, keep: impl Fn(&str) -> bool) -> Vec<HeaderName> {
    connection_tokens(headers)
        .filter(|t| names_a_header(t) && !keep(t))
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok())
        .collect()
}

fn asks_upgrade(headers: &HeaderMap) -> bool {
    connection_tokens(headers).any(|t| t.eq_ignore_ascii_case("upgrade"))
}

/// The client's `Connection: a, b` removes headers `a` and `b` (never the managed X- ones); an
/// upgrade survives as `Connection: Upgrade` + `Upgrade`.
fn apply_connection_options(headers: &mut HeaderMap) {
    if !headers.contains_key(header::CONNECTION) {
        return;
    }
    let upgrade = asks_upgrade(headers);
    for name in named_by_connection(headers, |t| is_managed(&t.to_ascii_lowercase())) {
        headers.remove(name);
    }
    if upgrade && headers.contains_key(header::UPGRADE) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    } else {
        headers.remove(header::CONNECTION);
    }
}

/// Remove hop-by-hop headers and those named in `Connection`. Returns the `Upgrade` value when
/// the message asks to switch protocols, for the caller to put back on the next hop.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) -> Option<HeaderValue> {
    // Most requests carry none of them (and responses often just `Connection`): one pass over
    // the names spares the lookups below.
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        return None;
    }
    let upgrade = if asks_upgrade(headers) { headers.get(header::UPGRADE).cloned() } else { None };
    for name in named_by_connection(headers, |_| false) {
        headers.remove(name);
    }
    // `TE: trailers` says the client accepts trailers; Go's proxy keeps exactly that much.
    let te_trailers = headers
        .get_all(header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("trailers")));
    // Find the few present by scanning names (cheap comparisons) rather than nine hashed removes.
    let present: Vec<HeaderName> =
        headers.keys().filter(|name| HOP_BY_HOP.contains(name)).cloned().collect();
    for name in present {
        headers.remove(name);
    }
    if te_trailers {
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
    upgrade
}

/// Put an upgrade request back after `strip_hop_by_hop`.
pub fn restore_upgrade(headers: &mut HeaderMap, upgrade: HeaderValue) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, upgrade);
}

/// Append the client address to `X-Forwarded-For` ("prior, client"), as the forwarding step
/// does for every request.
pub fn append_forwarded_for(headers: &mut HeaderMap, client: &HeaderValue) {
    let value = match headers.get(&X_FORWARDED_FOR) {
        Some(prior) if !prior.is_empty() => {
            let mut v = prior.as_bytes().to_vec();
            v.extend_from_slice(b", ");
            v.extend_from_slice(client.as_bytes());
            HeaderValue::from_bytes(&v).ok()
        }
        _ => Some(client.clone()),
    };
    if let Some(value) = value {
        headers.insert(X_FORWARDED_FOR.clone(), value);
    }
}

/// Whether the request is a WebSocket handshake (`Connection: upgrade` + `Upgrade: websocket`).
pub fn is_websocket(headers: &HeaderMap) -> bool {
    asks_upgrade(headers)
        && headers
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("websocket")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    /// Test origins live for the whole test run; leaking one small value each keeps them simple.
    fn origin(peer: &str) -> Origin<'static> {
        let ip: IpAddr = peer.parse().unwrap();
        Origin {
            peer: ip,
            peer_value: Box::leak(Box::new(ip_value(ip))),
            tls: false,
            host: "example.com:8080",
            websocket: false,
        }
    }

    #[test]
    fn untrusted_client_loses_spoofed_headers() {
        let policy = ForwardedPolicy::new(false, vec!["10.0.0.0/8".parse().unwrap()], "edge");
        let mut h = map(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-real-ip", "6.6.6.6"),
            ("x_forwarded_proto", "https"),
        ]);
        policy.apply(&mut h, &origin("192.168.1.9"));
        assert_eq!(h.get("x-forwarded-for"), None);
        assert_eq!(h.get("x_forwarded_proto"), None);
        assert_eq!(h["x-real-ip"], "192.168.1.9");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-port"], "8080");
        assert_eq!(h["x-forwarded-host"], "example.com:8080");
        assert_eq!(h["x-forwarded-server"], "edge");
    }

    #[test]
    fn trusted_client_keeps_and_folds() {
        let policy = ForwardedPolicy::new(false, vec!["10.0.0.0/8".parse().unwrap()], "edge");
        let mut h = map(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "2.2.2.2"),
            ("x-forwarded-proto", "https"),
        ]);
        policy.apply(&mut h, &origin("10.1.1.1"));
        assert_eq!(h["x-forwarded-for"], "1.1.1.1, 2.2.2.2");
        assert_eq!(h["x-forwarded-proto"], "https");
        append_forwarded_for(&mut h, &ip_value("10.1.1.1".parse().unwrap()));
        assert_eq!(h["x-forwarded-for"], "1.1.1.1, 2.2.2.2, 10.1.1.1");
    }

    #[test]
    fn connection_options_remove_named_headers_but_not_managed_ones() {
        let policy = ForwardedPolicy::new(true, vec![], "edge");
        let mut h = map(&[
            ("connection", "foo, X-Forwarded-Host"),
            ("foo", "1"),
            ("x-forwarded-host", "h"),
        ]);
        policy.apply(&mut h, &origin("1.2.3.4"));
        assert_eq!(h.get("foo"), None);
        assert_eq!(h.get("connection"), None);
        assert_eq!(h["x-forwarded-host"], "h");
    }

    #[test]
    fn hop_by_hop_stripped_upgrade_reported() {
        let mut h = map(&[
            ("connection", "keep-alive, Upgrade, x-custom"),
            ("upgrade", "websocket"),
            ("keep-alive", "timeout=5"),
            ("x-custom", "1"),
            ("te", "trailers, deflate"),
            ("transfer-encoding", "chunked"),
            ("x-kept", "yes"),
        ]);
        let up = strip_hop_by_hop(&mut h);
        assert_eq!(up.as_ref().map(|v| v.as_bytes()), Some(&b"websocket"[..]));
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(h["te"], "trailers");
        assert_eq!(h["x-kept"], "yes");
    }

    #[test]
    fn ports_from_host() {
        assert_eq!(host_port("a:80"), Some("80"));
        assert_eq!(host_port("[::1]:443"), Some("443"));
        assert_eq!(host_port("[::1]"), None);
        assert_eq!(host_port("a"), None);
        assert_eq!(host_port("::1"), None);
    }
}

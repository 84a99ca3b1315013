//! Compiled matchers and what they read from a request.
//!
//! Everything a matcher needs is prepared when the rule compiles (lowercased hosts, header names,
//! compiled regexes, parsed networks); matching only reads the request, and allocates nothing
//! except in the rare cases [`super::scratch`] describes.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, Method};
use regex_lite::Regex;

use super::host;
use super::ip::Net;
use super::query;
use super::scratch::{Scratch, with_ascii_lowercase};

/// What a rule can see of a request. The proxy fills one per request.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The method as received (`get` is not `GET`).
    pub method: &'a Method,
    /// The host as Go's server sets `Request.Host`: the authority of an absolute-form request
    /// target (`GET http://a.example/ HTTP/1.1`) when it has a host, else the `Host` header; for
    /// HTTP/2 the `:authority`. With its port, as received: matchers remove ports themselves.
    pub host: &'a str,
    /// The routing path: [`super::routing_path`] of the request path.
    pub path: &'a str,
    /// The raw query string, without `?`; None when the target had no `?`.
    pub query: Option<&'a str>,
    /// The request headers as Traefik's router sees them: after the entry point's forwarded-
    /// headers step (untrusted `X-Forwarded-*` removed and Traefik's own set, headers named in
    /// `Connection` removed). `Host` and `Transfer-Encoding`, which Go keeps out of its header
    /// map, are ignored here whether present or not.
    pub headers: &'a HeaderMap,
    /// The TCP peer address (not `X-Forwarded-For`): what Traefik's ClientIP compares.
    pub client_ip: Option<IpAddr>,
}

/// A header name as Go looks it up, or nothing when Go could never find it (`Host`, which Go
/// moves out of the header map, or a name no valid request can carry).
pub(crate) type HeaderKey = Option<HeaderName>;

pub(crate) fn header_key(name: &str) -> HeaderKey {
    let key = HeaderName::from_bytes(name.as_bytes()).ok()?;
    if key == http::header::HOST || key == http::header::TRANSFER_ENCODING {
        return None;
    }
    Some(key)
}

#[derive(Debug)]
pub(crate) enum Matcher {
    /// v3 `Host(`*`)`: every request, even without a host.
    AnyHost,
    /// v3 `Host`: lowercased expression, `*.` wildcards.
    Host(Box<str>),
    /// v2 `Host`/`HostHeader`: any of the lowercased hosts, exactly.
    HostsV2(Box<[Box<str>]>),
    /// v3 `HostRegexp`, on the canonical (lowercased) host. Traefik also tries the regex on the
    /// CNAME-flattened host, which is the empty string unless CNAME flattening is configured: so
    /// a regex that matches "" matches every request (`^(a\.test)?$` included).
    HostRegexp {
        regex: Regex,
        matches_empty: bool,
    },
    /// v2 `HostRegexp` templates, on the host with its port removed (case folded in the regex).
    HostRegexpV2(Box<[Regex]>),
    Path(Box<str>),
    PathPrefix(Box<str>),
    PathRegexp(Regex),
    /// v2 `Path`/`PathPrefix` templates: any of them.
    PathsV2(Box<[PathTemplate]>),
    Method(Box<str>),
    MethodsV2(Box<[Box<str>]>),
    Header {
        key: HeaderKey,
        value: Box<str>,
    },
    HeaderRegexp {
        key: HeaderKey,
        regex: Regex,
    },
    /// v2 `Headers(k, v, …)`: every key present; a non-empty value must be among its values.
    HeadersV2(Box<[(HeaderKey, Box<str>)]>),
    /// v2 `HeadersRegexp(k, re, …)`: every key present with a value matching its regex.
    HeadersRegexpV2(Box<[(HeaderKey, Regex)]>),
    /// v3 `Query(k)` / `Query(k, v)`: some value of `k` equals `v` (empty when not given).
    Query {
        key: Box<str>,
        value: Box<str>,
    },
    QueryRegexp {
        key: Box<str>,
        regex: Regex,
    },
    /// v2 `Query(`k=v`, …)`: for every template, the first value of its key matches.
    QueriesV2(Box<[QueryTemplate]>),
    ClientIp(Box<[Net]>),
}

#[derive(Debug)]
pub(crate) enum PathTemplate {
    Exact(Box<str>),
    Prefix(Box<str>),
    Regex(Regex),
}

#[derive(Debug)]
pub(crate) struct QueryTemplate {
    /// The template up to its first `=`, compared literally with decoded keys (as mux does).
    pub(crate) key: Box<str>,
    /// `^key=value$` in regex form, matched against `key=` + the key's first value.
    pub(crate) regex: Regex,
}

impl Matcher {
    pub(crate) fn matches(&self, req: &RequestView<'_>) -> bool {
        match self {
            Matcher::AnyHost => true,
            Matcher::Host(expr) => host::host_v3_matches(host::canonical_host(req.host), expr),
            Matcher::HostsV2(hosts) => {
                let h = host::canonical_host(req.host);
                hosts.iter().any(|e| host::host_v2_matches(h, e))
            }
            Matcher::HostRegexp { regex, matches_empty } => {
                *matches_empty
                    || with_ascii_lowercase(host::canonical_host(req.host), |h| regex.is_match(h))
            }
            Matcher::HostRegexpV2(res) => {
                let h = host::mux_host(req.host);
                res.iter().any(|re| re.is_match(h))
            }
            Matcher::Path(p) => req.path == &**p,
            Matcher::PathPrefix(p) => req.path.starts_with(&**p),
            Matcher::PathRegexp(re) => re.is_match(req.path),
            Matcher::PathsV2(templates) => templates.iter().any(|t| match t {
                PathTemplate::Exact(p) => req.path == &**p,
                PathTemplate::Prefix(p) => req.path.starts_with(&**p),
                PathTemplate::Regex(re) => re.is_match(req.path),
            }),
            Matcher::Method(m) => req.method.as_str() == &**m,
            Matcher::MethodsV2(ms) => ms.iter().any(|m| req.method.as_str() == &**m),
            Matcher::Header { key, value } => {
                header_values(req, key).any(|v| v == value.as_bytes())
            }
            Matcher::HeaderRegexp { key, regex } => {
                header_values(req, key).any(|v| text_matches(regex, v))
            }
            Matcher::HeadersV2(pairs) => pairs.iter().all(|(key, value)| {
                let mut values = header_values(req, key).peekable();
                values.peek().is_some()
                    && (value.is_empty() || values.any(|v| v == value.as_bytes()))
            }),
            Matcher::HeadersRegexpV2(pairs) => pairs
                .iter()
                .all(|(key, regex)| header_values(req, key).any(|v| text_matches(regex, v))),
            Matcher::Query { key, value } => {
                query_values(req, key).any(|v| query::decodes_to(v, value.as_bytes()))
            }
            Matcher::QueryRegexp { key, regex } => query_values(req, key).any(|v| {
                let mut buf = Scratch::new();
                query::decode_into(v, &mut buf);
                buf.with_str(|s| regex.is_match(s))
            }),
            Matcher::QueriesV2(templates) => templates.iter().all(|t| {
                let mut buf = Scratch::new();
                if let Some(first) = query_values(req, &t.key).next() {
                    buf.extend(t.key.as_bytes());
                    buf.push(b'=');
                    query::decode_into(first, &mut buf);
                }
                buf.with_str(|s| t.regex.is_match(s))
            }),
            Matcher::ClientIp(nets) => {
                req.client_ip.is_some_and(|ip| nets.iter().any(|n| n.contains(ip)))
            }
        }
    }
}

/// The values of a header as Go's `Header[key]` holds them: one per field line, surrounding
/// spaces and tabs removed.
fn header_values<'r>(
    req: &RequestView<'r>,
    key: &HeaderKey,
) -> impl Iterator<Item = &'r [u8]> + use<'r> {
    let values = key.as_ref().map(|k| req.headers.get_all(k).iter());
    values.into_iter().flatten().map(|v| trim_ows(v.as_bytes()))
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(start, |i| i + 1);
    &v[start..end]
}

/// Regex on bytes the way Go matches a string holding them.
fn text_matches(regex: &Regex, v: &[u8]) -> bool {
    match std::str::from_utf8(v) {
        Ok(s) => regex.is_match(s),
        Err(_) => {
            let mut buf = Scratch::new();
            buf.extend(v);
            buf.with_str(|s| regex.is_match(s))
        }
    }
}

/// The encoded values of every pair whose decoded key is `key`, in order.
fn query_values<'r, 'k>(
    req: &RequestView<'r>,
    key: &'k str,
) -> impl Iterator<Item = &'r [u8]> + use<'r, 'k> {
    req.query
        .into_iter()
        .flat_map(query::pairs)
        .filter(move |p| query::decodes_to(p.key, key.as_bytes()))
        .map(|p| p.value)
}

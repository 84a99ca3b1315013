//! JSON access logs: Traefik's (`accessLog.format: json`) and Caddy's (`http.log.access`).
//! Borrowed deserialisation: a line whose strings have no escapes allocates nothing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::LineError;
use super::date::{self, Parts};
use crate::stats::{Hit, MS_PER_DAY, Method, Protocol, TlsVersion, fill};

#[derive(Deserialize)]
struct Traefik<'a> {
    #[serde(rename = "ClientHost", borrow)]
    client_host: Option<Cow<'a, str>>,
    #[serde(rename = "StartLocal", borrow)]
    start_local: Option<Cow<'a, str>>,
    #[serde(rename = "StartUTC", borrow)]
    start_utc: Option<Cow<'a, str>>,
    #[serde(rename = "time", borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(rename = "RequestMethod", borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(rename = "RequestPath", borrow)]
    path: Option<Cow<'a, str>>,
    #[serde(rename = "RequestProtocol", borrow)]
    protocol: Option<Cow<'a, str>>,
    #[serde(rename = "RequestHost", borrow)]
    host: Option<Cow<'a, str>>,
    #[serde(rename = "DownstreamStatus")]
    status: Option<u16>,
    #[serde(rename = "DownstreamContentSize")]
    size: Option<u64>,
    #[serde(rename = "Duration")]
    duration_ns: Option<u64>,
    #[serde(rename = "RouterName", borrow)]
    router: Option<Cow<'a, str>>,
    #[serde(rename = "ServiceName", borrow)]
    service: Option<Cow<'a, str>>,
    #[serde(rename = "TLSVersion", borrow)]
    tls: Option<Cow<'a, str>>,
    #[serde(rename = "request_Referer", borrow)]
    referer: Option<Cow<'a, str>>,
    #[serde(rename = "request_User-Agent", borrow)]
    agent: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Caddy<'a> {
    ts: Option<f64>,
    #[serde(borrow)]
    request: Option<CaddyRequest<'a>>,
    status: Option<u16>,
    size: Option<u64>,
    duration: Option<f64>,
}

#[derive(Deserialize)]
struct CaddyRequest<'a> {
    #[serde(borrow)]
    remote_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    client_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    proto: Option<Cow<'a, str>>,
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    host: Option<Cow<'a, str>>,
    #[serde(borrow)]
    uri: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    headers: HashMap<Cow<'a, str>, Vec<Cow<'a, str>>>,
    tls: Option<CaddyTls>,
}

#[derive(Deserialize)]
struct CaddyTls {
    version: Option<u16>,
}

fn method(m: &str) -> Method {
    match m {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        _ => Method::Other,
    }
}

fn protocol(p: &str) -> Protocol {
    match p {
        "HTTP/1.0" => Protocol::Http10,
        "HTTP/1.1" => Protocol::Http11,
        "HTTP/2.0" | "HTTP/2" => Protocol::Http2,
        "HTTP/3.0" | "HTTP/3" => Protocol::Http3,
        _ => Protocol::Other,
    }
}

fn ip(s: Option<&str>) -> Result<IpAddr, LineError> {
    let s = s.ok_or(LineError::Missing { what: "client address" })?;
    let s = s.trim_start_matches('[').trim_end_matches(']');
    s.parse().map_err(|_| LineError::Token {
        col: 1,
        what: "IP address",
        token: s.chars().take(80).collect(),
    })
}

/// `2026-11-25T17:59:21.333137403Z` (or with an offset) as the wall-clock time written.
fn rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let mut p = Parts::default();
    date::parse(&b[..10], b"%Y-%m-%d", &mut p)?;
    date::parse(&b[11..19], b"%H:%M:%S", &mut p)?;
    let day = u64::try_from(p.days()?).ok()?;
    let mut ms = day * MS_PER_DAY + p.time_ms();
    if b.get(19) == Some(&b'.') {
        let frac: Vec<u8> =
            b[20..].iter().take_while(|c| c.is_ascii_digit()).take(3).copied().collect();
        let mut v = 0u64;
        for (i, d) in frac.iter().enumerate() {
            v += u64::from(d - b'0') * [100, 10, 1][i];
        }
        ms += v;
    }
    Some(ms)
}

pub(crate) fn parse_traefik(line: &[u8], hit: &mut Hit) -> Result<(), LineError> {
    let t: Traefik<'_> = serde_json::from_slice(line)
        .map_err(|e| LineError::Json { col: e.column(), msg: e.to_string() })?;
    let when = t.start_local.as_deref().or(t.start_utc.as_deref()).or(t.time.as_deref());
    let at =
        when.and_then(rfc3339).ok_or(LineError::Missing { what: "StartLocal/StartUTC time" })?;
    let path = t.path.as_deref().ok_or(LineError::Missing { what: "RequestPath" })?;
    *hit = Hit {
        at_unix_ms: at,
        client: Some(ip(t.client_host.as_deref())?),
        method: method(t.method.as_deref().unwrap_or("")),
        protocol: protocol(t.protocol.as_deref().unwrap_or("")),
        tls: match t.tls.as_deref() {
            Some("1.3") => TlsVersion::Tls13,
            Some("1.2") => TlsVersion::Tls12,
            Some(_) => TlsVersion::Other,
            None => TlsVersion::None,
        },
        status: t.status.ok_or(LineError::Missing { what: "DownstreamStatus" })?,
        duration_us: (t.duration_ns.unwrap_or(0) / 1000).min(u64::from(u32::MAX)) as u32,
        bytes_out: t.size.unwrap_or(0),
        ..Hit::default()
    };
    hit.set_target(path);
    fill(&mut hit.host, t.host.as_deref().unwrap_or(""));
    fill(&mut hit.referrer, t.referer.as_deref().unwrap_or("-"));
    hit.set_user_agent(t.agent.as_deref().unwrap_or("-"));
    fill(&mut hit.router, t.router.as_deref().unwrap_or(""));
    fill(&mut hit.service, t.service.as_deref().unwrap_or(""));
    Ok(())
}

pub(crate) fn parse_caddy(line: &[u8], hit: &mut Hit) -> Result<(), LineError> {
    let c: Caddy<'_> = serde_json::from_slice(line)
        .map_err(|e| LineError::Json { col: e.column(), msg: e.to_string() })?;
    let r = c.request.ok_or(LineError::Missing { what: "request" })?;
    let ts = c.ts.ok_or(LineError::Missing { what: "ts" })?;
    if !(0.0..1e11).contains(&ts) {
        return Err(LineError::Missing { what: "ts in range" });
    }
    let header = |name: &str| r.headers.get(name).and_then(|v| v.first()).map(|s| s.as_ref());
    *hit = Hit {
        at_unix_ms: (ts * 1000.0) as u64,
        client: Some(ip(r.client_ip.as_deref().or(r.remote_ip.as_deref()))?),
        method: method(r.method.as_deref().unwrap_or("")),
        protocol: protocol(r.proto.as_deref().unwrap_or("")),
        tls: match r.tls.and_then(|t| t.version) {
            Some(0x0304) => TlsVersion::Tls13,
            Some(0x0303) => TlsVersion::Tls12,
            Some(_) => TlsVersion::Other,
            None => TlsVersion::None,
        },
        status: c.status.ok_or(LineError::Missing { what: "status" })?,
        duration_us: (c.duration.unwrap_or(0.0) * 1e6).clamp(0.0, f64::from(u32::MAX)) as u32,
        bytes_out: c.size.unwrap_or(0),
        ..Hit::default()
    };
    hit.set_target(r.uri.as_deref().ok_or(LineError::Missing { what: "request.uri" })?);
    let host = r.host.as_deref().unwrap_or("");
    fill(
        &mut hit.host,
        host.rsplit_once(':')
            .map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host }),
    );
    fill(&mut hit.referrer, header("Referer").unwrap_or("-"));
    hit.set_user_agent(header("User-Agent").unwrap_or("-"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_json_line() {
        let line = br#"{"ClientHost":"127.0.0.1","DownstreamContentSize":197,"DownstreamStatus":200,"Duration":1101031,"RequestHost":"example.com","RequestMethod":"GET","RequestPath":"/dyn.yml?x=1","RequestProtocol":"HTTP/1.1","RouterName":"r1@file","ServiceName":"s1@file","StartLocal":"2026-11-25T17:59:21.342811934Z","StartUTC":"2026-11-25T17:59:21.342811934Z","request_Referer":"http://ex.com/a\"b","request_User-Agent":"Mozilla/5.0 \"q\"","level":"info","msg":"","time":"2026-11-25T17:59:21Z"}"#;
        let mut h = Hit::default();
        parse_traefik(line, &mut h).expect("parses");
        assert_eq!(h.status, 200);
        assert_eq!(h.path.as_str(), "/dyn.yml");
        assert!(h.has_query);
        assert_eq!(h.duration_us, 1101);
        assert_eq!(h.router.as_str(), "r1@file");
        assert_eq!(h.service.as_str(), "s1@file");
        assert_eq!(h.user_agent.as_str(), "Mozilla/5.0 \"q\"");
        assert_eq!(h.at_unix_ms % 1000, 342);
        assert!(matches!(parse_traefik(b"{\"ClientHost\":", &mut h), Err(LineError::Json { .. })));
    }

    #[test]
    fn caddy_json_line() {
        let line = br#"{"level":"info","ts":1646861401.5241024,"logger":"http.log.access","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"41342","client_ip":"10.1.2.3","proto":"HTTP/2.0","method":"GET","host":"localhost:443","uri":"/a.css","headers":{"User-Agent":["curl/7.82.0"],"Referer":["https://x.org/"]},"tls":{"version":772}},"bytes_read":0,"user_id":"","duration":0.000929675,"size":10900,"status":200,"resp_headers":{}}"#;
        let mut h = Hit::default();
        parse_caddy(line, &mut h).expect("parses");
        assert_eq!(h.client, Some("10.1.2.3".parse().expect("ip")));
        assert_eq!(h.protocol, Protocol::Http2);
        assert_eq!(h.tls, TlsVersion::Tls13);
        assert!(h.is_static);
        assert_eq!(h.host.as_str(), "localhost");
        assert_eq!(h.duration_us, 929);
        assert_eq!(h.bytes_out, 10_900);
    }
}

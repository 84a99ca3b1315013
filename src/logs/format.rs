//! GoAccess-style log-format strings (`%h %^[%d:%t %^] "%r" %s %b "%R" "%u"`), compiled once and
//! applied to lines without allocating.
//!
//! The reading follows GoAccess 1.7's parser closely, because its totals (valid, failed) are the
//! reference: a specifier reads up to the next character of the format (the first unescaped
//! occurrence; a backslash escapes), a literal character in the format skips exactly one
//! character of the line whatever it is, `%^` skips to the next delimiter, `%~` skips spaces, and
//! a line that ends early is fine if the host, date and request were read. A line fails when the
//! host is not an IP address, the date or time does not match its format, the status is not a
//! number in 100..=599, a method or protocol specifier holds neither, or a required field is
//! missing.
//!
//! tollgate adds `%N` (router name) and `%S` (service or server URL) for Traefik's CLF.

use std::borrow::Cow;
use std::net::IpAddr;

use super::LineError;
use super::date::{self, Parts};
use crate::stats::{Hit, Method, Protocol, TlsVersion, fill};

pub const COMBINED: &str = r#"%h %^[%d:%t %^] "%r" %s %b "%R" "%u""#;
pub const VCOMBINED: &str = r#"%v:%^ %h %^[%d:%t %^] "%r" %s %b "%R" "%u""#;
pub const COMMON: &str = r#"%h %^[%d:%t %^] "%r" %s %b"#;
pub const VCOMMON: &str = r#"%v:%^ %h %^[%d:%t %^] "%r" %s %b"#;
/// Traefik's `common` access log: CLF plus request count, "router", "server URL", duration.
pub const TRAEFIKCLF: &str = r#"%h - %e [%d:%t %^] "%r" %s %b "%R" "%u" %^ "%N" "%S" %Lms"#;
pub(crate) const APACHE_DATE: &str = "%d/%b/%Y";
pub(crate) const APACHE_TIME: &str = "%H:%M:%S";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// `%c`, read up to `delim` (none: to the end of the line).
    Spec { c: u8, delim: Option<u8> },
    /// A literal format character: skip one character of the line.
    Skip,
}

/// A compiled format string with its date and time formats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFormat {
    ops: Vec<Op>,
    date_fmt: Vec<u8>,
    time_fmt: Vec<u8>,
}

/// A format string that cannot be used, with the column of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFormat {
    #[error(
        "log format column {col}: unknown specifier `%{spec}` (expected one of d t x v e C h m r U q H s b R u L T D n k K M N S ^ ~)"
    )]
    UnknownSpecifier { col: usize, spec: char },
    #[error("log format column {col}: `%` at the end of the format")]
    Dangling { col: usize },
    #[error("log format has no {what} specifier (`{spec}`): every line would fail")]
    Missing { what: &'static str, spec: &'static str },
}

const KNOWN: &[u8] = b"dtxveChmrUqHsbRuLTDnkKMNS^~";

impl LogFormat {
    /// Compile `fmt` (a predefined name such as `COMBINED` or a format string).
    pub fn new(fmt: &str, date_fmt: &str, time_fmt: &str) -> Result<LogFormat, InvalidFormat> {
        let fmt = match fmt.to_ascii_uppercase().as_str() {
            "COMBINED" => COMBINED,
            "VCOMBINED" => VCOMBINED,
            "COMMON" => COMMON,
            "VCOMMON" => VCOMMON,
            "TRAEFIKCLF" => TRAEFIKCLF,
            _ => fmt,
        };
        let b = fmt.replace("\\t", "\t").into_bytes();
        let mut ops = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let Some(&c) = b.get(i + 1) else {
                    return Err(InvalidFormat::Dangling { col: i + 1 });
                };
                if !KNOWN.contains(&c) {
                    return Err(InvalidFormat::UnknownSpecifier {
                        col: i + 2,
                        spec: char::from(c),
                    });
                }
                ops.push(Op::Spec { c, delim: b.get(i + 2).copied() });
                i += 2;
            } else {
                ops.push(Op::Skip);
                i += 1;
            }
        }
        let has =
            |set: &[u8]| ops.iter().any(|o| matches!(o, Op::Spec { c, .. } if set.contains(c)));
        if !has(b"h") {
            return Err(InvalidFormat::Missing { what: "client address", spec: "%h" });
        }
        if !has(b"dx") {
            return Err(InvalidFormat::Missing { what: "date", spec: "%d or %x" });
        }
        if !has(b"rU") {
            return Err(InvalidFormat::Missing { what: "request", spec: "%r or %U" });
        }
        Ok(LogFormat {
            ops,
            date_fmt: date_fmt.as_bytes().to_vec(),
            time_fmt: time_fmt.as_bytes().to_vec(),
        })
    }

    /// A predefined CLF-family format with Apache's date and time formats.
    pub fn predefined(name: &str) -> Result<LogFormat, InvalidFormat> {
        LogFormat::new(name, APACHE_DATE, APACHE_TIME)
    }

    /// Read `line` (without its newline) into `hit`. `complete` tells whether every specifier of
    /// the format was reached, which format detection wants and GoAccess does not.
    pub fn parse(
        &self,
        line: &[u8],
        hit: &mut Hit,
        scratch: &mut Vec<u8>,
    ) -> Result<bool, LineError> {
        let mut f = Fields::default();
        let mut pos = 0usize;
        let mut complete = true;
        for op in &self.ops {
            if pos >= line.len() {
                complete = false;
                break;
            }
            match *op {
                Op::Skip => pos += 1,
                Op::Spec { c, delim } => self.spec(c, delim, line, &mut pos, &mut f)?,
            }
        }
        let Some(client) = f.host else {
            return Err(LineError::Missing { what: "client address (%h)" });
        };
        let Some(day) = f.date.and_then(|d| d.days()) else {
            return Err(LineError::Missing { what: "date (%d)" });
        };
        let target: Cow<'_, [u8]> = match (f.url, f.req) {
            (Some(u), _) => match f.query {
                Some(q) => {
                    let mut v = u.to_vec();
                    v.push(b'?');
                    v.extend_from_slice(q);
                    Cow::Owned(v)
                }
                None => Cow::Borrowed(u),
            },
            (None, Some(r)) => Cow::Borrowed(r),
            (None, None) => return Err(LineError::Missing { what: "request (%r)" }),
        };
        if day < 0 || day > i64::from(u32::MAX - 1) {
            return Err(LineError::Missing { what: "date after 1970 (%d)" });
        }
        let time = f.time.map_or(0, |t| t.time_ms());
        let date_time = f.date.map_or(0, |d| if d.epoch_ms.is_some() { d.time_ms() } else { 0 });
        *hit = Hit {
            at_unix_ms: day as u64 * crate::stats::MS_PER_DAY + time.max(date_time),
            client: Some(client),
            method: f.method.unwrap_or(Method::Other),
            protocol: f.protocol.unwrap_or(Protocol::Other),
            tls: f.tls,
            status: f.status.unwrap_or(0),
            duration_us: f.duration_us,
            bytes_out: f.bytes,
            ..Hit::default()
        };
        decode_into(&target, scratch);
        let t = if scratch.is_empty() {
            String::from_utf8_lossy(&target)
        } else {
            String::from_utf8_lossy(scratch)
        };
        hit.set_target(&t);
        if let Some(v) = f.vhost {
            fill(&mut hit.host, &String::from_utf8_lossy(v));
        }
        if let Some(r) = f.referrer {
            fill(&mut hit.referrer, &String::from_utf8_lossy(r));
        }
        hit.set_user_agent(&String::from_utf8_lossy(f.agent.unwrap_or(b"-")));
        if let Some(r) = f.router.filter(|r| *r != b"-") {
            fill(&mut hit.router, &String::from_utf8_lossy(r));
        }
        if let Some(s) = f.server.filter(|s| *s != b"-") {
            fill(&mut hit.service, &String::from_utf8_lossy(s));
        }
        Ok(complete)
    }

    fn spec<'a>(
        &self,
        c: u8,
        delim: Option<u8>,
        line: &'a [u8],
        pos: &mut usize,
        f: &mut Fields<'a>,
    ) -> Result<(), LineError> {
        let col = *pos + 1;
        let bad = |what: &'static str, tok: &[u8]| LineError::Token {
            col,
            what,
            token: String::from_utf8_lossy(&tok[..tok.len().min(80)]).into_owned(),
        };
        match c {
            b'd' | b't' | b'x' => {
                let done = match c {
                    b'd' => f.date.is_some(),
                    b't' => f.time.is_some(),
                    _ => f.date.is_some() && f.time.is_some(),
                };
                if done {
                    return Ok(());
                }
                let tok =
                    token(line, pos, delim).ok_or(LineError::Ended { col, spec: char::from(c) })?;
                let fmt = if c == b'd' { &self.date_fmt } else { &self.time_fmt };
                let mut p = Parts::default();
                date::parse(tok, fmt, &mut p)
                    .ok_or_else(|| bad(if c == b't' { "time" } else { "date" }, tok))?;
                match c {
                    b'd' => f.date = Some(p),
                    b't' => f.time = Some(p),
                    _ => {
                        f.date = Some(p);
                        f.time = Some(p);
                    }
                }
            }
            b'h' => {
                if f.host.is_some() {
                    return Ok(());
                }
                let mut d = delim;
                if line.get(*pos) == Some(&b'[') && *pos + 1 < line.len() {
                    *pos += 1;
                    d = Some(b']');
                }
                let tok = token(line, pos, d).ok_or(LineError::Ended { col, spec: 'h' })?;
                let ip = std::str::from_utf8(tok).ok().and_then(|s| s.parse::<IpAddr>().ok());
                f.host = Some(ip.ok_or_else(|| bad("IP address", tok))?);
            }
            b'v' | b'e' | b'C' | b'k' | b'M' | b'N' | b'S' | b'R' | b'u' | b'K' => {
                let slot = match c {
                    b'v' => &mut f.vhost,
                    b'R' => &mut f.referrer,
                    b'u' => &mut f.agent,
                    b'N' => &mut f.router,
                    b'S' => &mut f.server,
                    b'K' => &mut f.tls_text,
                    _ => &mut f.ignored,
                };
                if slot.is_some() && c != b'e' && c != b'C' && c != b'k' && c != b'M' {
                    return Ok(());
                }
                match token(line, pos, delim) {
                    Some(t) => *slot = Some(t),
                    // Referrer and agent fall back to "-" (GoAccess); the others need a token.
                    None if matches!(c, b'R' | b'u') => *slot = Some(b"-"),
                    None => return Err(LineError::Ended { col, spec: char::from(c) }),
                }
                if c == b'K' {
                    f.tls = match f.tls_text {
                        Some(t) if t.ends_with(b"1.3") => TlsVersion::Tls13,
                        Some(t) if t.ends_with(b"1.2") => TlsVersion::Tls12,
                        Some(b"-") | Some(b"") | None => TlsVersion::None,
                        Some(_) => TlsVersion::Other,
                    };
                }
            }
            b'm' => {
                if f.method.is_some() {
                    return Ok(());
                }
                let tok = token(line, pos, delim).ok_or(LineError::Ended { col, spec: 'm' })?;
                let (m, _) = method_prefix(tok).ok_or_else(|| bad("HTTP method", tok))?;
                f.method = Some(m);
            }
            b'H' => {
                if f.protocol.is_some() {
                    return Ok(());
                }
                let tok = token(line, pos, delim).ok_or(LineError::Ended { col, spec: 'H' })?;
                f.protocol = Some(protocol_prefix(tok).ok_or_else(|| bad("HTTP protocol", tok))?);
            }
            b'U' => {
                if f.url.is_some() || f.req.is_some() {
                    return Ok(());
                }
                match token(line, pos, delim) {
                    Some(t) if !t.is_empty() => f.url = Some(t),
                    _ => return Err(LineError::Ended { col, spec: 'U' }),
                }
            }
            b'q' => {
                if f.query.is_none() {
                    f.query = token(line, pos, delim).filter(|t| !t.is_empty());
                }
            }
            b'r' => {
                if f.req.is_some() || f.url.is_some() {
                    return Ok(());
                }
                let tok = token(line, pos, delim).ok_or(LineError::Ended { col, spec: 'r' })?;
                let (m, target, p) = split_request(tok);
                f.method = f.method.or(Some(m));
                f.protocol = f.protocol.or(Some(p));
                f.req = Some(target);
            }
            b's' => {
                if f.status.is_some() {
                    return Ok(());
                }
                let tok = token(line, pos, delim).ok_or(LineError::Ended { col, spec: 's' })?;
                let s = std::str::from_utf8(tok).ok().and_then(|s| s.parse::<u16>().ok());
                f.status = Some(
                    s.filter(|s| (100..=599).contains(s)).ok_or_else(|| bad("status code", tok))?,
                );
            }
            b'b' => {
                if f.bytes_seen {
                    return Ok(());
                }
                let tok = token(line, pos, delim).ok_or(LineError::Ended { col, spec: 'b' })?;
                f.bytes = digits(tok).unwrap_or(0);
                f.bytes_seen = true;
            }
            b'L' | b'T' | b'D' | b'n' => {
                if f.duration_seen {
                    return Ok(());
                }
                let tok =
                    token(line, pos, delim).ok_or(LineError::Ended { col, spec: char::from(c) })?;
                let us: f64 = match c {
                    b'L' => digits(tok).unwrap_or(0) as f64 * 1000.0,
                    b'T' => {
                        std::str::from_utf8(tok)
                            .ok()
                            .and_then(|s| s.parse::<f64>().ok())
                            .unwrap_or(0.0)
                            * 1e6
                    }
                    b'D' => digits(tok).unwrap_or(0) as f64,
                    _ => digits(tok).unwrap_or(0) as f64 / 1000.0,
                };
                f.duration_us = us.clamp(0.0, f64::from(u32::MAX)) as u32;
                f.duration_seen = true;
            }
            b'~' => {
                while *pos < line.len() && line[*pos].is_ascii_whitespace() {
                    *pos += 1;
                }
            }
            _ => {
                // `%^` and the like: skip to the next delimiter, if there is one.
                match delim {
                    Some(d) => {
                        if let Some(i) = memchr::memchr(d, &line[*pos..]) {
                            *pos += i;
                        }
                    }
                    None => *pos = line.len(),
                }
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct Fields<'a> {
    date: Option<Parts>,
    time: Option<Parts>,
    host: Option<IpAddr>,
    vhost: Option<&'a [u8]>,
    method: Option<Method>,
    protocol: Option<Protocol>,
    req: Option<&'a [u8]>,
    url: Option<&'a [u8]>,
    query: Option<&'a [u8]>,
    status: Option<u16>,
    bytes: u64,
    bytes_seen: bool,
    referrer: Option<&'a [u8]>,
    agent: Option<&'a [u8]>,
    duration_us: u32,
    duration_seen: bool,
    tls_text: Option<&'a [u8]>,
    tls: TlsVersion,
    router: Option<&'a [u8]>,
    server: Option<&'a [u8]>,
    ignored: Option<&'a [u8]>,
}

fn trim(mut t: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = t {
        if first.is_ascii_whitespace() {
            t = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = t {
        if last.is_ascii_whitespace() {
            t = rest;
        } else {
            break;
        }
    }
    t
}

/// GoAccess's `parse_string`: the text up to the first unescaped `delim` (or the end of the line
/// when there is none after a delimiter was seen at all), trimmed; `None` if `delim` does not
/// occur in the rest of the line.
fn token<'a>(line: &'a [u8], pos: &mut usize, delim: Option<u8>) -> Option<&'a [u8]> {
    let rest = &line[*pos..];
    let Some(d) = delim else {
        *pos = line.len();
        return Some(trim(rest));
    };
    memchr::memchr(d, rest)?;
    let mut i = 0;
    loop {
        match memchr::memchr2(d, b'\\', &rest[i..]) {
            None => {
                i = rest.len();
                break;
            }
            Some(j) if rest[i + j] == d => {
                i += j;
                break;
            }
            Some(j) => i += j + 2,
        }
        if i >= rest.len() {
            i = rest.len();
            break;
        }
    }
    *pos += i;
    Some(trim(&rest[..i]))
}

fn digits(t: &[u8]) -> Option<u64> {
    if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    t.iter().try_fold(0u64, |a, &b| a.checked_mul(10)?.checked_add(u64::from(b - b'0')))
}

const METHOD_NAMES: &[(&str, Method)] = &[
    ("OPTIONS", Method::Options),
    ("GET", Method::Get),
    ("HEAD", Method::Head),
    ("POST", Method::Post),
    ("PUT", Method::Put),
    ("DELETE", Method::Delete),
    ("TRACE", Method::Trace),
    ("CONNECT", Method::Connect),
    ("PATCH", Method::Patch),
    ("PROPFIND", Method::Other),
    ("PROPPATCH", Method::Other),
    ("MKCOL", Method::Other),
    ("COPY", Method::Other),
    ("MOVE", Method::Other),
    ("LOCK", Method::Other),
    ("UNLOCK", Method::Other),
    ("VERSION-CONTROL", Method::Other),
    ("REPORT", Method::Other),
    ("CHECKOUT", Method::Other),
    ("CHECKIN", Method::Other),
    ("UNCHECKOUT", Method::Other),
    ("MKWORKSPACE", Method::Other),
    ("UPDATE", Method::Other),
    ("LABEL", Method::Other),
    ("MERGE", Method::Other),
    ("BASELINE-CONTROL", Method::Other),
    ("MKACTIVITY", Method::Other),
    ("ORDERPATCH", Method::Other),
];

/// The method a token starts with (GoAccess compares prefixes, without case).
fn method_prefix(t: &[u8]) -> Option<(Method, usize)> {
    METHOD_NAMES
        .iter()
        .find(|(n, _)| t.len() >= n.len() && t[..n.len()].eq_ignore_ascii_case(n.as_bytes()))
        .map(|(n, m)| (*m, n.len()))
}

fn protocol_prefix(t: &[u8]) -> Option<Protocol> {
    const P: &[(&str, Protocol)] = &[
        ("HTTP/1.0", Protocol::Http10),
        ("HTTP/1.1", Protocol::Http11),
        ("HTTP/2", Protocol::Http2),
        ("HTTP/3", Protocol::Http3),
    ];
    P.iter()
        .find(|(n, _)| t.len() >= n.len() && t[..n.len()].eq_ignore_ascii_case(n.as_bytes()))
        .map(|(_, p)| *p)
}

/// Split `GET /path HTTP/1.1` as GoAccess does: no known method makes the whole line the target;
/// a method without a protocol after the last space makes the target `-`.
fn split_request(t: &[u8]) -> (Method, &[u8], Protocol) {
    let Some((m, n)) = method_prefix(t) else {
        return (Method::Other, t, Protocol::Other);
    };
    let rest = &t[n..];
    let Some(sp) = memchr::memrchr(b' ', rest) else {
        return (m, b"-", Protocol::Other);
    };
    let Some(p) = protocol_prefix(&rest[sp + 1..]) else {
        return (m, b"-", Protocol::Other);
    };
    if sp < 1 {
        return (m, b"-", Protocol::Other);
    }
    let target = trim(&rest[1..sp + 1]);
    (m, target, p)
}

/// Percent-decode into `out` (GoAccess decodes requests before classifying them); leaves `out`
/// empty when there is nothing to decode, so the caller can borrow the original.
fn decode_into(t: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if memchr::memchr(b'%', t).is_none() {
        return;
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < t.len() {
        if t[i] == b'%'
            && i + 2 < t.len()
            && let (Some(a), Some(b)) = (hex(t[i + 1]), hex(t[i + 2]))
        {
            out.push(a * 16 + b);
            i += 3;
            continue;
        }
        out.push(t[i]);
        i += 1;
    }
    out.retain(|&b| b != b'\n' && b != b'\r');
    let lead = out.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let tail = out[lead..].iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
    let end = out.len() - tail;
    out.copy_within(lead..end, 0);
    out.truncate(end - lead);
    if out.is_empty() {
        out.extend_from_slice(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(fmt: &str, line: &str) -> Result<Hit, LineError> {
        let f = LogFormat::predefined(fmt).expect("valid format");
        let mut h = Hit::default();
        let mut s = Vec::new();
        f.parse(line.as_bytes(), &mut h, &mut s).map(|_| h)
    }

    #[test]
    fn combined_line() {
        let h = parse(
            "COMBINED",
            r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36""#,
        )
        .expect("parses");
        assert_eq!(h.client, Some("83.149.9.216".parse().expect("ip")));
        assert_eq!(h.at_unix_ms, 16_572 * 86_400_000 + 36_303_000);
        assert_eq!(h.status, 200);
        assert_eq!(h.bytes_out, 203_023);
        assert!(h.is_static);
        assert_eq!(h.method, Method::Get);
        assert_eq!(h.protocol, Protocol::Http11);
        assert!(h.referrer.starts_with("http://semicomplete.com/"));
        assert!(h.user_agent.starts_with("Mozilla/5.0 (Macintosh"));
    }

    #[test]
    fn goaccess_failures_and_leniencies() {
        // Bad IP, bad status, bad date fail.
        assert!(matches!(
            parse("COMMON", r#"nope - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1"#),
            Err(LineError::Token { col: 1, .. })
        ));
        assert!(
            parse("COMMON", r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 700 1"#)
                .is_err()
        );
        assert!(
            parse("COMMON", r#"1.2.3.4 - - [17/Foo/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1"#)
                .is_err()
        );
        // Bytes "-" is 0; a missing agent is "-"; an unclosed quote still parses.
        let h = parse(
            "COMBINED",
            r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /x HTTP/1.1" 200 - "-" "broken"#,
        )
        .expect("parses");
        assert_eq!(h.bytes_out, 0);
        assert_eq!(h.user_agent.as_str(), "-");
        // No protocol: target "-". Garbage request: the whole token is the target.
        let h = parse("COMMON", r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /x" 200 5"#)
            .expect("parses");
        assert_eq!(h.path.as_str(), "-");
        let h = parse("COMMON", r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "\x16\x03" 400 5"#)
            .expect("parses");
        assert_eq!(h.path.as_str(), r"\x16\x03");
        // Percent-decoding before the static test.
        let h = parse(
            "COMMON",
            r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a%2Ecss HTTP/1.1" 200 5"#,
        )
        .expect("parses");
        assert!(h.is_static);
        assert_eq!(h.path.as_str(), "/a.css");
    }

    #[test]
    fn traefik_clf_line() {
        let h = parse(
            "TRAEFIKCLF",
            r#"127.0.0.1 - - [25/Nov/2026:17:59:19 +0000] "GET /nope HTTP/1.1" 404 335 "-" "curl/7.88.1" 3 "r1@file" "http://127.0.0.1:18931" 5ms"#,
        )
        .expect("parses");
        assert_eq!(h.router.as_str(), "r1@file");
        assert_eq!(h.service.as_str(), "http://127.0.0.1:18931");
        assert_eq!(h.duration_us, 5000);
        assert_eq!(h.status, 404);
    }

    #[test]
    fn custom_format_and_errors() {
        let f = LogFormat::new(r#"%h %^[%d:%t %^] "%r" %s %b"#, "%d/%b/%Y", "%T").expect("valid");
        let mut h = Hit::default();
        let mut s = Vec::new();
        assert!(
            f.parse(
                br#"::1 - - [01/Jan/2024:00:00:01 +0000] "POST /api HTTP/2.0" 201 7"#,
                &mut h,
                &mut s
            )
            .is_ok()
        );
        assert_eq!(h.protocol, Protocol::Http2);
        assert_eq!(
            LogFormat::new("%h %Q", "%d", "%T").expect_err("bad").to_string(),
            "log format column 5: unknown specifier `%Q` (expected one of d t x v e C h m r U q H s b R u L T D n k K M N S ^ ~)"
        );
        assert!(matches!(LogFormat::new("%h %r", "%d", "%T"), Err(InvalidFormat::Missing { .. })));
    }
}

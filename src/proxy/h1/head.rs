//! Message heads on a connection to a server: the request head written the way Go's client
//! (Traefik's) writes it, the response head parsed and its body's framing decided as RFC 9112
//! §6.3 orders it.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version, response};

use super::chunked::Chunked;
use super::interim::InterimRelay;
use crate::proxy::headers::is_hop_by_hop;

/// The most a response head may take, 1xx heads before it included: hyper's default read
/// buffer limit, what tollgate accepted before it spoke HTTP/1.1 to servers itself.
pub(crate) const MAX_HEAD: usize = 8192 + 4096 * 100;

/// Header lines parsed on the stack before falling back to the heap.
const INLINE_HEADERS: usize = 64;

/// Header lines accepted in a response (and in a chunked body's trailers).
pub(crate) const MAX_HEADERS: usize = 1024;

/// Why a server's response head was refused (the client gets a 502).
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("malformed response head: {0}")]
    Syntax(httparse::Error),
    #[error("response head larger than {MAX_HEAD} bytes")]
    TooLarge,
    #[error("response status {0} is not a valid status")]
    Status(u16),
    #[error("invalid header in the response: {0}")]
    Header(String),
    #[error("invalid Content-Length in the response: {0:?}")]
    ContentLength(String),
    #[error("the server switched protocols unasked")]
    UnaskedSwitch,
    #[error("unsupported transfer coding {0:?}")]
    TransferCoding(String),
}

/// How the response body ends.
#[derive(Debug)]
pub enum Framing {
    /// This many bytes (0: no body at all: HEAD, 204, 304, `Content-Length: 0`).
    Length(u64),
    Chunked(Chunked),
    /// When the server closes the connection (no length given, or a transfer coding other than
    /// chunked last).
    UntilClose,
}

/// A response head, parsed.
#[derive(Debug)]
pub struct Head {
    pub parts: response::Parts,
    pub framing: Framing,
    /// The connection may carry another request once this response's body has ended.
    pub keep_alive: bool,
}

/// Write the request head into `out` (cleared first): request line, headers with Go's
/// canonical names (`x-forwarded-for` → `X-Forwarded-For`, as old HTTP/1 servers expect from
/// Traefik), blank line. The request has no body (callers send bodies through hyper), so a
/// `Transfer-Encoding` is not written.
pub(crate) fn encode_request(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    out: &mut Vec<u8>,
) {
    out.clear();
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if name == header::TRANSFER_ENCODING {
            continue;
        }
        push_title_case(out, name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// `content-type` → `Content-Type`: upper case at the start and after each dash.
pub(crate) fn push_title_case(out: &mut Vec<u8>, name: &[u8]) {
    let start = out.len();
    out.extend_from_slice(name);
    let mut upper = true;
    for b in &mut out[start..] {
        if upper {
            b.make_ascii_uppercase();
        }
        upper = *b == b'-';
    }
}

/// Parse the response head at the front of `buf`, past interim 1xx responses (handed to the
/// relay, if the exchange has one). `None`: the head is not complete yet (read more). On
/// success the head's bytes leave `buf` (header values keep sharing them) and what follows, the
/// body's start, stays. `spans` is scratch space, kept by the connection so that a response
/// costs no allocation for it.
pub(crate) fn parse_response(
    buf: &mut BytesMut,
    request_was_head: bool,
    spans: &mut Vec<Span>,
    interim: &mut Interim<'_>,
) -> Result<Option<Head>, HeadError> {
    loop {
        // Left uninitialised: httparse fills only the lines it finds (filling 64 empty ones
        // first was ~170 instructions a response, measured).
        let mut inline = [MaybeUninit::<httparse::Header<'_>>::uninit(); INLINE_HEADERS];
        let parsed = match parse_with(buf, &mut inline, spans) {
            Err(HeadError::Syntax(httparse::Error::TooManyHeaders)) => {
                let mut heap = vec![MaybeUninit::<httparse::Header<'_>>::uninit(); MAX_HEADERS];
                parse_with(buf, &mut heap, spans)?
            }
            other => other?,
        };
        let Some(raw) = parsed else {
            return if interim.bytes + buf.len() > MAX_HEAD {
                Err(HeadError::TooLarge)
            } else {
                Ok(None)
            };
        };
        // A head may also arrive whole in one read larger than the limit.
        if interim.bytes + raw.len > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        match raw.status {
            101 => return Err(HeadError::UnaskedSwitch),
            // 100 Continue, 103 Early Hints...: interim, the real answer follows. As many as
            // fit in the head limit, as Go's client (Traefik's) now takes any number of them
            // within its own.
            100..=199 => {
                interim.bytes += raw.len;
                if let Some(relay) = interim.relay {
                    relay.push(raw.status, &buf[..raw.len], spans);
                }
                buf.advance(raw.len);
            }
            _ => return build(buf, raw, spans, request_was_head).map(Some),
        }
    }
}

/// Interim (1xx) answers seen before the final one, across reads, and where they go.
#[derive(Debug, Default)]
pub(crate) struct Interim<'r> {
    bytes: usize,
    relay: Option<&'r InterimRelay>,
}

impl<'r> Interim<'r> {
    pub(crate) fn relaying(relay: Option<&'r InterimRelay>) -> Interim<'r> {
        Interim { bytes: 0, relay }
    }
}

/// Where one header line's name and value lie in the buffer (name start, name end, value start,
/// value end), so that the buffer can be split off and the values share it instead of copying.
pub(crate) type Span = [usize; 4];

/// A parsed head's status line and length; its header lines are in the spans.
struct RawHead {
    len: usize,
    status: u16,
    http10: bool,
}

fn parse_with<'b>(
    buf: &'b [u8],
    headers: &mut [MaybeUninit<httparse::Header<'b>>],
    spans: &mut Vec<Span>,
) -> Result<Option<RawHead>, HeadError> {
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        headers,
    );
    let len = match parsed.map_err(HeadError::Syntax)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Ok(None),
    };
    let base = buf.as_ptr() as usize;
    let offset = |s: &[u8]| s.as_ptr() as usize - base;
    spans.clear();
    spans.extend(response.headers.iter().map(|h| {
        let (name, value) = (offset(h.name.as_bytes()), offset(h.value));
        [name, name + h.name.len(), value, value + h.value.len()]
    }));
    Ok(Some(RawHead {
        len,
        status: response.code.unwrap_or(0),
        http10: response.version == Some(0),
    }))
}

fn build(
    buf: &mut BytesMut,
    raw: RawHead,
    spans: &[Span],
    request_was_head: bool,
) -> Result<Head, HeadError> {
    let status = StatusCode::from_u16(raw.status).map_err(|_| HeadError::Status(raw.status))?;
    let bytes: Bytes = buf.split_to(raw.len).freeze();
    let lines = Lines { bytes: &bytes, spans };
    let framing = framing(&lines, status, raw.http10, request_was_head)?;
    // Go's client drops `Content-Length` beside `chunked` (RFC 9112 §6.3): passed on, it would
    // contradict the body the client gets. Ignored (HTTP/1.0) codings keep it.
    let has_coding = matches!(framing, Framing::Chunked(_));
    let keep_alive = !matches!(framing, Framing::UntilClose)
        && if raw.http10 {
            lines.tokens(b"connection").any(|t| t.eq_ignore_ascii_case(b"keep-alive"))
        } else {
            !lines.tokens(b"connection").any(|t| t.eq_ignore_ascii_case(b"close"))
        };
    // Headers `Connection` names besides these two are hop-by-hop too.
    let names_more = lines.tokens(b"connection").any(|t| {
        !t.is_empty() && !t.eq_ignore_ascii_case(b"close") && !t.eq_ignore_ascii_case(b"keep-alive")
    });
    let mut headers = HeaderMap::with_capacity(spans.len());
    for &[ns, ne, vs, ve] in spans {
        let raw_name = &bytes[ns..ne];
        let name = HeaderName::from_bytes(raw_name)
            .map_err(|_| HeadError::Header(String::from_utf8_lossy(raw_name).into_owned()))?;
        // Hop-by-hop headers were for this connection: read above, never forwarded, so the
        // forwarding step's own stripping finds nothing to do.
        // `Trailer` stays for the forwarding step, which announces the trailers again as Go's
        // proxy does.
        if (is_hop_by_hop(&name) && name != header::TRAILER)
            || (has_coding && name == header::CONTENT_LENGTH)
            || (names_more && lines.tokens(b"connection").any(|t| t.eq_ignore_ascii_case(raw_name)))
        {
            continue;
        }
        let value = HeaderValue::from_maybe_shared(bytes.slice(vs..ve))
            .map_err(|_| HeadError::Header(name.as_str().to_owned()))?;
        headers.append(name, value);
    }
    let mut parts = http::Response::new(()).into_parts().0;
    parts.status = status;
    parts.version = if raw.http10 { Version::HTTP_10 } else { Version::HTTP_11 };
    parts.headers = headers;
    Ok(Head { parts, framing, keep_alive })
}

/// A head's header lines still as bytes, for what the connection itself needs to know.
struct Lines<'a> {
    bytes: &'a [u8],
    spans: &'a [Span],
}

impl<'a> Lines<'a> {
    /// The values of the header `name` (lower case), in order.
    fn values(&self, name: &'static [u8]) -> impl DoubleEndedIterator<Item = &'a [u8]> + 'a {
        let bytes = self.bytes;
        self.spans
            .iter()
            .filter(move |s| bytes[s[0]..s[1]].eq_ignore_ascii_case(name))
            .map(move |s| &bytes[s[2]..s[3]])
    }

    /// The comma-separated elements of every `name` header.
    fn tokens(&self, name: &'static [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.values(name).flat_map(|v| v.split(|&b| b == b',').map(<[u8]>::trim_ascii))
    }
}

/// No body, whatever the head says: the answer to a HEAD, a 204 or a 304.
pub(crate) fn bodiless(status: StatusCode, request_was_head: bool) -> bool {
    request_was_head || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}

/// The `Transfer-Encoding` lines (`values()` yields them) as Go's client takes them on
/// HTTP/1.1: `false` when there are none, `true` when the coding is exactly `chunked`, an error
/// for anything else.
pub(crate) fn chunked<'a, I>(values: impl Fn() -> I) -> Result<bool, HeadError>
where
    I: Iterator<Item = &'a [u8]>,
{
    let mut codings = values().flat_map(|v| v.split(|&b| b == b',')).map(<[u8]>::trim_ascii);
    match (codings.next(), codings.next()) {
        (None, _) => Ok(false),
        (Some(coding), None) if coding.eq_ignore_ascii_case(b"chunked") => Ok(true),
        _ => {
            let all: Vec<&[u8]> = values().collect();
            Err(HeadError::TransferCoding(
                String::from_utf8_lossy(&all.join(&b","[..])).into_owned(),
            ))
        }
    }
}

/// RFC 9112 §6.3 as Go's client reads it: no body after HEAD, 204 and 304; chunked when that is
/// the transfer coding (any other is refused; HTTP/1.0 has none); else `Content-Length` (every
/// copy the same); else until close.
fn framing(
    lines: &Lines<'_>,
    status: StatusCode,
    http10: bool,
    request_was_head: bool,
) -> Result<Framing, HeadError> {
    if bodiless(status, request_was_head) {
        return Ok(Framing::Length(0));
    }
    if !http10 && chunked(|| lines.values(b"transfer-encoding"))? {
        return Ok(Framing::Chunked(Chunked::default()));
    }
    let mut length = None;
    for value in lines.values(b"content-length") {
        let text = value.trim_ascii();
        let bad = || HeadError::ContentLength(String::from_utf8_lossy(value).into_owned());
        if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n: u64 = std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
        if length.is_some_and(|seen| seen != n) {
            return Err(bad());
        }
        length = Some(n);
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

/// Parse `input` as response heads fed `piece` bytes at a time, as reads would bring them: a
/// summary of the outcome (the interim answers as relayed, then the head, an error, or not
/// complete), for the fuzz target, which checks that it does not depend on `piece`.
#[doc(hidden)]
pub fn parse_in_pieces(input: &[u8], request_was_head: bool, piece: usize) -> String {
    let relay = InterimRelay::default();
    let (mut buf, mut spans) = (BytesMut::new(), Vec::new());
    let mut interim = Interim::relaying(Some(&relay));
    let relayed = || {
        let mut out = Vec::new();
        relay.take(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    let mut fed = 0;
    loop {
        let end = (fed + piece.max(1)).min(input.len());
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        match parse_response(&mut buf, request_was_head, &mut spans, &mut interim) {
            Ok(Some(head)) => {
                return format!(
                    "{:?} {} {:?} {:?} keep-alive {} rest {}",
                    relayed(),
                    head.parts.status,
                    head.parts.headers,
                    head.framing,
                    head.keep_alive,
                    buf.len() + input.len() - fed
                );
            }
            Err(err) => return format!("{:?} error: {err}", relayed()),
            Ok(None) if fed == input.len() => return format!("{:?} incomplete", relayed()),
            Ok(None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, head: bool) -> Result<Option<Head>, HeadError> {
        parse_response(&mut BytesMut::from(text), head, &mut Vec::new(), &mut Interim::default())
    }

    #[test]
    fn request_head_has_canonical_names_and_no_transfer_encoding() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("example.com"));
        headers.append("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        headers.append("x-forwarded-for", HeaderValue::from_static("5.6.7.8"));
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        let mut out = Vec::new();
        encode_request(&Method::GET, "/a?b=c", &headers, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.2.3.4\r\n\
             X-Forwarded-For: 5.6.7.8\r\n\r\n"
        );
    }

    #[test]
    fn response_head_with_length_keeps_the_body_start() {
        let mut buf = BytesMut::from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhel");
        let head = parse_response(&mut buf, false, &mut Vec::new(), &mut Interim::default())
            .expect("valid")
            .expect("complete");
        assert_eq!(head.parts.status, StatusCode::OK);
        assert_eq!(head.parts.headers["x-a"], "b");
        assert!(matches!(head.framing, Framing::Length(5)));
        assert!(head.keep_alive);
        assert_eq!(&buf[..], b"hel");
    }

    #[test]
    fn partial_heads_wait_and_interim_answers_are_skipped() {
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Le", false).expect("valid").is_none());
        let head = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n", false)
            .expect("valid")
            .expect("complete");
        assert_eq!(head.parts.status, StatusCode::NOT_FOUND);
        assert!(head.parts.headers.get("link").is_none());
        assert!(matches!(head.framing, Framing::UntilClose));
        assert!(!head.keep_alive);
    }

    #[test]
    fn interim_answers_are_bounded_in_size() {
        let many = "HTTP/1.1 103 Early Hints\r\n\r\n".repeat(50);
        let head = parse(&format!("{many}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), false);
        assert_eq!(head.expect("valid").expect("complete").parts.status, StatusCode::OK);
        // Interim heads count toward the head limit, also across reads.
        let big = format!("HTTP/1.1 103 Early Hints\r\nLink: {}\r\n\r\n", "x".repeat(MAX_HEAD / 2));
        let (mut spans, mut interim) = (Vec::new(), Interim::default());
        let mut buf = BytesMut::from(big.as_str());
        assert!(matches!(parse_response(&mut buf, false, &mut spans, &mut interim), Ok(None)));
        buf.extend_from_slice(big.as_bytes());
        buf.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
        let over = parse_response(&mut buf, false, &mut spans, &mut interim);
        assert!(matches!(over, Err(HeadError::TooLarge)));
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let framing =
            |text: &str, head: bool| parse(text, head).expect("valid").expect("complete").framing;
        assert!(matches!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true),
            Framing::Length(0)
        ));
        assert!(matches!(framing("HTTP/1.1 204 No Content\r\n\r\n", false), Framing::Length(0)));
        assert!(matches!(
            framing("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", false),
            Framing::Length(0)
        ));
        assert!(matches!(
            framing(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 9\r\n\r\n",
                false
            ),
            Framing::Chunked(_)
        ));
        for coding in ["gzip, chunked", "gzip", "chunked, chunked"] {
            let text = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {coding}\r\n\r\n");
            assert!(matches!(parse(&text, false), Err(HeadError::TransferCoding(_))), "{coding}");
        }
        // HTTP/1.0 has no transfer codings: the header is ignored.
        assert!(matches!(
            framing(
                "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n",
                false
            ),
            Framing::Length(4)
        ));
        assert!(matches!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", false),
            Framing::Length(7)
        ));
        for bad in ["7, 8", "+7", "-1", "", "0x10", "99999999999999999999999"] {
            let text = format!("HTTP/1.1 200 OK\r\nContent-Length: {bad}\r\n\r\n");
            assert!(matches!(parse(&text, false), Err(HeadError::ContentLength(_))), "{bad}");
        }
        assert!(matches!(
            parse("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n", false),
            Err(HeadError::ContentLength(_))
        ));
    }

    #[test]
    fn connection_reuse_follows_version_and_connection_header() {
        let keep = |text: &str| parse(text, false).expect("valid").expect("complete").keep_alive;
        assert!(keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!keep("HTTP/1.1 200 OK\r\nConnection: x, Close\r\nContent-Length: 0\r\n\r\n"));
        assert!(!keep("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
    }

    #[test]
    fn hop_by_hop_headers_stay_with_the_connection() {
        let head = parse(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Private\r\nKeep-Alive: timeout=5\r\n\
             X-Private: 1\r\nTransfer-Encoding: chunked\r\nUpgrade: h2c\r\nX-Public: 2\r\n\r\n",
            false,
        )
        .expect("valid")
        .expect("complete");
        let names: Vec<&str> = head.parts.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["x-public"]);
        assert!(matches!(head.framing, Framing::Chunked(_)));
        assert!(head.keep_alive);
    }

    #[test]
    fn a_transfer_coding_drops_the_content_length() {
        let head = parse(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n",
            false,
        )
        .expect("valid")
        .expect("complete");
        assert!(head.parts.headers.get(header::CONTENT_LENGTH).is_none());
        assert!(matches!(head.framing, Framing::Chunked(_)));
    }

    #[test]
    fn bad_heads_are_refused() {
        assert!(matches!(
            parse("HTTP/1.1 101 Switching\r\n\r\n", false),
            Err(HeadError::UnaskedSwitch)
        ));
        assert!(matches!(parse("HTTP/1.1 2000 OK\r\n\r\n", false), Err(HeadError::Syntax(_))));
        assert!(matches!(parse("HTTP/1.1 099 OK\r\n\r\n", false), Err(HeadError::Status(99))));
        assert!(matches!(parse("NOPE\r\n\r\n", false), Err(HeadError::Syntax(_))));
        let many: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
        let head = parse(&format!("HTTP/1.1 200 OK\r\n{many}Content-Length: 0\r\n\r\n"), false)
            .expect("200 headers are within the limit")
            .expect("complete");
        assert_eq!(head.parts.headers.len(), 201);
        let huge = "X: ".to_owned() + &"y".repeat(MAX_HEAD);
        assert!(matches!(
            parse(&format!("HTTP/1.1 200 OK\r\n{huge}"), false),
            Err(HeadError::TooLarge)
        ));
        // The same head complete in one buffer.
        let whole = format!("HTTP/1.1 200 OK\r\n{huge}\r\n\r\n");
        assert!(matches!(parse(&whole, false), Err(HeadError::TooLarge)));
    }
}

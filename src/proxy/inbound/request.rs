//! Reading a client's request head, and deciding whether it is one this server takes itself.
//!
//! Only the plain case is taken: HTTP/1.1, an origin-form target, no body, no upgrade, nothing
//! that asks for anything but a response. The rest, and anything malformed, is handed to hyper
//! with the bytes read so far (`Parsed::HandOver`), so every error answer and every rarer
//! feature keeps the behaviour the tests have pinned down on hyper's server.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri, Version, request};

/// Header lines parsed on the stack; a head with more is hyper's (it takes up to 512).
const MAX_HEADERS: usize = 64;

/// The longest head taken here; a longer one goes to hyper, which enforces the real limit.
pub(super) const MAX_HEAD: usize = 16 * 1024;

/// What the bytes at the front of a connection's buffer hold.
pub(super) enum Parsed {
    /// A request this server answers; its head has left the buffer.
    Request(Box<Simple>),
    /// The head is not complete yet: read more.
    Partial,
    /// Not for this server: hyper takes the connection from here.
    HandOver,
}

/// A plain request's head.
pub(super) struct Simple {
    pub parts: request::Parts,
    /// The client wants the connection kept open afterwards (no `Connection: close`).
    pub keep_alive: bool,
}

/// Where one header line's name and value lie in the head (name start, end, value start, end).
type Span = [usize; 4];

/// Parse the request head at the front of `buf`. `spans` is scratch kept by the connection.
pub(super) fn parse(buf: &mut BytesMut, spans: &mut Vec<Span>) -> Parsed {
    // Left uninitialised: httparse fills only the lines it finds, and filling 64 empty ones
    // first was ~225 instructions a request, measured.
    let mut headers = [MaybeUninit::<httparse::Header<'_>>::uninit(); MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut headers) {
        // The limit holds however the head arrived, in one read or many.
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Parsed::Partial,
        // Too long, too many headers, HTTP/2's preface, or malformed: hyper's to answer.
        _ => return Parsed::HandOver,
    };
    if req.version != Some(1) {
        return Parsed::HandOver;
    }
    let (Some(method), Some(path)) = (req.method, req.path) else { return Parsed::HandOver };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else { return Parsed::HandOver };
    if method == Method::CONNECT || !path.starts_with('/') {
        return Parsed::HandOver;
    }
    let base = buf.as_ptr() as usize;
    let offset = |s: &[u8]| s.as_ptr() as usize - base;
    let path = [offset(path.as_bytes()), offset(path.as_bytes()) + path.len()];
    spans.clear();
    spans.extend(req.headers.iter().map(|h| {
        let (name, value) = (offset(h.name.as_bytes()), offset(h.value));
        [name, name + h.name.len(), value, value + h.value.len()]
    }));
    let head = buf.split_to(len).freeze();
    match build(&head, method, path, spans) {
        Some(simple) => Parsed::Request(Box::new(simple)),
        None => {
            // Put the head back in front: hyper reads it from the start. Rare (a body, an
            // upgrade), so the copy does not matter.
            let rest = buf.split();
            buf.extend_from_slice(&head);
            buf.extend_from_slice(&rest);
            Parsed::HandOver
        }
    }
}

/// The request's parts, or `None` when it is not a plain request.
fn build(head: &Bytes, method: Method, path: [usize; 2], spans: &[Span]) -> Option<Simple> {
    let uri = Uri::from_maybe_shared(head.slice(path[0]..path[1])).ok()?;
    // Room for the forwarded headers the entry point adds (`ForwardedPolicy::apply` reserves
    // six): made large enough now, the map is not grown and rehashed for them.
    let mut headers = HeaderMap::with_capacity(spans.len() + 6);
    let mut keep_alive = true;
    for &[ns, ne, vs, ve] in spans {
        let name = HeaderName::from_bytes(&head[ns..ne]).ok()?;
        let value = &head[vs..ve];
        if !plain_header(&name, value, &mut keep_alive) {
            return None;
        }
        // httparse checked the value's bytes, as hyper relies on.
        let value = HeaderValue::from_maybe_shared(head.slice(vs..ve)).ok()?;
        headers.append(name, value);
    }
    let mut parts = http::Request::new(()).into_parts().0;
    parts.method = method;
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    parts.headers = headers;
    Some(Simple { parts, keep_alive })
}

/// Whether a header leaves the request plain; notes `Connection: close`.
fn plain_header(name: &HeaderName, value: &[u8], keep_alive: &mut bool) -> bool {
    use http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TE, TRANSFER_ENCODING, UPGRADE};
    if *name == CONNECTION {
        for token in value.split(|&b| b == b',') {
            let token = token.trim_ascii();
            if token.eq_ignore_ascii_case(b"close") {
                *keep_alive = false;
            } else if token.eq_ignore_ascii_case(b"upgrade") {
                return false;
            }
        }
        return true;
    }
    // A body (or a framing to refuse), an upgrade, `100-continue`, trailers asked for.
    !(*name == CONTENT_LENGTH
        || *name == TRANSFER_ENCODING
        || *name == UPGRADE
        || *name == EXPECT
        || *name == TE)
}

/// For the fuzz target (`fuzz/fuzz_targets/inbound_request.rs`); not an API. Feeds `input` to
/// the parser `piece` bytes at a time, as reads would bring it. Returns a description of every
/// request taken and of how the input ended (`hand-over`, `partial` with the bytes waiting, or
/// `end`), and the bytes handed over, if it came to that.
#[doc(hidden)]
pub fn parse_in_pieces(input: &[u8], piece: usize) -> (String, Option<Vec<u8>>) {
    use std::fmt::Write;
    let mut out = String::new();
    let mut buf = BytesMut::new();
    let mut spans = Vec::new();
    let mut fed = 0;
    loop {
        match parse(&mut buf, &mut spans) {
            Parsed::Request(simple) => {
                let p = &simple.parts;
                let _ = writeln!(out, "{} {} keep-alive={}", p.method, p.uri, simple.keep_alive);
                for (name, value) in &p.headers {
                    let _ = writeln!(out, "  {name}: {value:?}");
                }
            }
            Parsed::HandOver => {
                // What a later read would have brought goes to hyper too.
                buf.extend_from_slice(&input[fed..]);
                out.push_str("hand-over");
                return (out, Some(buf.to_vec()));
            }
            Parsed::Partial if fed == input.len() => {
                let _ = write!(out, "partial {}", buf.len());
                return (out, None);
            }
            Parsed::Partial => {
                let end = (fed + piece.max(1)).min(input.len());
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            }
        }
        if buf.is_empty() && fed == input.len() {
            out.push_str("end");
            return (out, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (Parsed, BytesMut) {
        let mut buf = BytesMut::from(text.as_bytes());
        let parsed = parse(&mut buf, &mut Vec::new());
        (parsed, buf)
    }

    #[test]
    fn a_plain_get_is_taken_and_leaves_what_follows() {
        let (parsed, rest) = parse_text(
            "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nx-Custom: 1\r\nX-Custom: 2\r\n\r\nGET /next",
        );
        let Parsed::Request(simple) = parsed else { panic!("not taken") };
        assert_eq!(simple.parts.method, Method::GET);
        assert_eq!(simple.parts.uri, "/a/b?c=d");
        assert_eq!(simple.parts.headers["host"], "example.com");
        let custom: Vec<_> = simple.parts.headers.get_all("x-custom").iter().collect();
        assert_eq!(custom, ["1", "2"]);
        assert!(simple.keep_alive);
        assert_eq!(&rest[..], b"GET /next");
    }

    #[test]
    fn connection_close_is_noted() {
        let (parsed, _) = parse_text("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
        let Parsed::Request(simple) = parsed else { panic!("not taken") };
        assert!(!simple.keep_alive);
    }

    #[test]
    fn a_partial_head_waits() {
        assert!(matches!(parse_text("GET / HTTP/1.1\r\nHost: a\r\n").0, Parsed::Partial));
    }

    #[test]
    fn everything_else_is_handed_over_whole() {
        for text in [
            "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nTE: trailers\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
            "GET http://example.com/ HTTP/1.1\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
            "G\0T / HTTP/1.1\r\n\r\n",
        ] {
            let (parsed, rest) = parse_text(text);
            assert!(matches!(parsed, Parsed::HandOver), "{text:?} was not handed over");
            assert_eq!(&rest[..], text.as_bytes(), "{text:?} was not left whole");
        }
    }

    #[test]
    fn long_or_crowded_heads_are_handed_over() {
        let crowded: String = (0..MAX_HEADERS + 1).map(|i| format!("X-{i}: v\r\n")).collect();
        let (parsed, _) = parse_text(&format!("GET / HTTP/1.1\r\n{crowded}\r\n"));
        assert!(matches!(parsed, Parsed::HandOver));
        let long = format!("GET / HTTP/1.1\r\nX-Long: {}", "a".repeat(MAX_HEAD));
        assert!(matches!(parse_text(&long).0, Parsed::HandOver));
    }
}

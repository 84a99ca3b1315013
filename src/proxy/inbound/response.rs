//! Writing a response head to a client, with the framing rules hyper's HTTP/1.1 server follows
//! (it answered every request before this server existed, and the tests pin its behaviour):
//! `Content-Length` trusted from the headers or the body's exact size, chunked otherwise, no body
//! after HEAD, 204 or 304, `Connection: close` added when the connection ends, a `Date`, and
//! header names in Go's canonical case as Traefik writes them.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderValue};
use http::{StatusCode, response};
use http_body::SizeHint;

use crate::logs::push_u64;
use crate::proxy::h1::head::push_title_case;
use crate::stats::civil_from_days;

/// How the body follows the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// Exactly this many bytes (0: nothing is written, whatever the body holds).
    Length(u64),
    Chunked,
}

/// What the body says about itself before it is read.
#[derive(Debug, Clone, Copy)]
pub(super) enum BodyLength {
    /// Already at its end.
    Empty,
    Known(u64),
    Unknown,
}

impl BodyLength {
    pub(super) fn of(end_stream: bool, hint: SizeHint) -> BodyLength {
        match (end_stream, hint.exact()) {
            (true, _) => BodyLength::Empty,
            (false, Some(len)) => BodyLength::Known(len),
            (false, None) => BodyLength::Unknown,
        }
    }
}

/// The head written, and what it decided.
pub(super) struct Encoded {
    pub framing: Framing,
    /// The connection ends after this response (it said `Connection: close`).
    pub last: bool,
}

/// Append the head of `parts` to `out`. `keep_alive`: the connection may carry another request
/// (the client did not ask to close, and no shutdown has begun).
pub(super) fn encode_head(
    parts: &response::Parts,
    body: BodyLength,
    request_was_head: bool,
    keep_alive: bool,
    out: &mut Vec<u8>,
) -> Encoded {
    // A final answer cannot be interim; hyper answers an empty 500 to such a handler bug.
    let (status, headers, body) = if parts.status.is_informational() {
        (StatusCode::INTERNAL_SERVER_ERROR, None, BodyLength::Empty)
    } else {
        (parts.status, Some(&parts.headers), body)
    };
    if status == StatusCode::OK {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(status.canonical_reason().unwrap_or("<none>").as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let no_body =
        request_was_head || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
    let may_have_length = status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED;

    let mut framing = None;
    let mut last = !keep_alive;
    let mut said_close = false;
    let mut wrote_date = false;
    for (name, value) in headers.into_iter().flatten() {
        match *name {
            header::CONTENT_LENGTH => {
                // As hyper: the header is trusted when the body has a length, and kept on a HEAD
                // answer; with no body to send it is dropped (its `0` is written below).
                let keep = match body {
                    BodyLength::Known(len) => {
                        framing.get_or_insert(Framing::Length(len));
                        true
                    }
                    BodyLength::Unknown => match parse_length(value) {
                        Some(len) => {
                            framing.get_or_insert(Framing::Length(len));
                            true
                        }
                        None => continue,
                    },
                    BodyLength::Empty => request_was_head,
                };
                if !keep {
                    continue;
                }
                framing.get_or_insert(Framing::Length(0));
            }
            // Hop-by-hop: the forwarding step removed the server's; this connection frames the
            // body itself.
            header::TRANSFER_ENCODING => continue,
            header::TRAILER if no_body => continue,
            header::CONNECTION => {
                said_close |= has_token(value, b"close");
            }
            header::DATE => wrote_date = true,
            _ => {}
        }
        push_title_case(out, name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    last |= said_close;
    if last && !said_close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    let framing = match framing {
        Some(framing) => framing,
        None => match body {
            BodyLength::Unknown if !no_body => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                Framing::Chunked
            }
            BodyLength::Unknown => Framing::Length(0),
            BodyLength::Empty | BodyLength::Known(0) => {
                if may_have_length && !request_was_head {
                    out.extend_from_slice(b"Content-Length: 0\r\n");
                }
                Framing::Length(0)
            }
            BodyLength::Known(len) => {
                if may_have_length {
                    out.extend_from_slice(b"Content-Length: ");
                    push_u64(out, len);
                    out.extend_from_slice(b"\r\n");
                }
                Framing::Length(len)
            }
        },
    };
    if !wrote_date {
        out.extend_from_slice(b"Date: ");
        push_http_date(out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Encoded { framing: if no_body { Framing::Length(0) } else { framing }, last }
}

fn parse_length(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Whether a comma-separated header value holds `token` (any case).
fn has_token(value: &HeaderValue, token: &[u8]) -> bool {
    value.as_bytes().split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// The start of a chunk of `len` bytes.
pub(super) fn push_chunk_size(out: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut digits = [0u8; 16];
    let (mut at, mut n) = (digits.len(), len);
    loop {
        at -= 1;
        digits[at] = HEX[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

thread_local! {
    /// The second last formatted and its text: a busy server formats each second once.
    static DATE: RefCell<(u64, [u8; 29])> = const { RefCell::new((u64::MAX, [0; 29])) };
}

/// Now as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), from a per-second cache.
pub(super) fn push_http_date(out: &mut Vec<u8>) {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != secs {
            *cache = (secs, http_date(secs));
        }
        out.extend_from_slice(&cache.1);
    });
}

fn http_date(secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = secs / 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let s = secs % 86_400;
    let mut text = [0u8; 29];
    let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
    text[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    text[3..5].copy_from_slice(b", ");
    text[5..7].copy_from_slice(&two(u64::from(d)));
    text[7] = b' ';
    text[8..11].copy_from_slice(MONTHS[(m - 1) as usize % 12]);
    text[11] = b' ';
    let y = y.clamp(0, 9999) as u64;
    text[12..14].copy_from_slice(&two(y / 100));
    text[14..16].copy_from_slice(&two(y));
    text[16] = b' ';
    text[17..19].copy_from_slice(&two(s / 3600));
    text[19] = b':';
    text[20..22].copy_from_slice(&two(s / 60 % 60));
    text[22] = b':';
    text[23..25].copy_from_slice(&two(s % 60));
    text[25..].copy_from_slice(b" GMT");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(
        status: u16,
        headers: &[(&str, &str)],
        body: BodyLength,
        request_was_head: bool,
        keep_alive: bool,
    ) -> (String, Encoded) {
        let mut parts = http::Response::new(()).into_parts().0;
        parts.status = StatusCode::from_u16(status).expect("status");
        for (name, value) in headers {
            parts.headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        let mut out = Vec::new();
        let encoded = encode_head(&parts, body, request_was_head, keep_alive, &mut out);
        let text = String::from_utf8(out).expect("ascii");
        // The date changes; everything else is compared exactly.
        let text = text
            .lines()
            .filter(|l| !l.starts_with("Date: "))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        (text, encoded)
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(&http_date(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&http_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&http_date(1_798_680_000), b"Thu, 31 Dec 2026 01:20:00 GMT");
    }

    #[test]
    fn lengths_come_from_the_header_or_the_body() {
        let (text, enc) = head(
            200,
            &[("content-type", "text/plain"), ("content-length", "5")],
            BodyLength::Unknown,
            false,
            true,
        );
        assert_eq!(text, "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 5\n\n");
        assert_eq!(enc.framing, Framing::Length(5));
        assert!(!enc.last);
        let (text, enc) = head(404, &[], BodyLength::Known(3), false, true);
        assert_eq!(text, "HTTP/1.1 404 Not Found\nContent-Length: 3\n\n");
        assert_eq!(enc.framing, Framing::Length(3));
        let (text, enc) = head(200, &[], BodyLength::Empty, false, true);
        assert_eq!(text, "HTTP/1.1 200 OK\nContent-Length: 0\n\n");
        assert_eq!(enc.framing, Framing::Length(0));
    }

    #[test]
    fn unknown_lengths_are_chunked() {
        let (text, enc) = head(200, &[("trailer", "x-sum")], BodyLength::Unknown, false, true);
        assert_eq!(text, "HTTP/1.1 200 OK\nTrailer: x-sum\nTransfer-Encoding: chunked\n\n");
        assert_eq!(enc.framing, Framing::Chunked);
    }

    #[test]
    fn head_204_and_304_have_no_body() {
        let (text, enc) = head(200, &[("content-length", "42")], BodyLength::Empty, true, true);
        assert_eq!(text, "HTTP/1.1 200 OK\nContent-Length: 42\n\n");
        assert_eq!(enc.framing, Framing::Length(0));
        let (text, enc) = head(204, &[("content-length", "0")], BodyLength::Empty, false, true);
        assert_eq!(text, "HTTP/1.1 204 No Content\n\n");
        assert_eq!(enc.framing, Framing::Length(0));
        let (text, _) = head(304, &[("etag", "\"x\"")], BodyLength::Unknown, false, true);
        assert_eq!(text, "HTTP/1.1 304 Not Modified\nEtag: \"x\"\n\n");
    }

    #[test]
    fn a_closing_connection_says_so_once() {
        let (text, enc) = head(200, &[], BodyLength::Known(1), false, false);
        assert_eq!(text, "HTTP/1.1 200 OK\nConnection: close\nContent-Length: 1\n\n");
        assert!(enc.last);
        let (text, enc) = head(400, &[("connection", "close")], BodyLength::Known(1), false, true);
        assert_eq!(text, "HTTP/1.1 400 Bad Request\nConnection: close\nContent-Length: 1\n\n");
        assert!(enc.last);
    }

    #[test]
    fn chunk_sizes_are_hex() {
        let mut out = Vec::new();
        push_chunk_size(&mut out, 0x1a2b);
        push_chunk_size(&mut out, 0);
        assert_eq!(out, b"1A2B\r\n0\r\n");
    }
}

//! Interim (1xx) answers of a server passed on to the client, as Traefik passes them.
//!
//! Go's reverse proxy (Traefik's) writes every interim answer it reads, 100 Continue and
//! 103 Early Hints alike, to the client as it comes, before the final one: a status line with
//! Go's reason phrase, the answer's header lines sorted by name in Go's canonical case, without
//! `Content-Length` and `Transfer-Encoding`, and a blank line. Nothing else is filtered (a
//! `Connection` line stays). The real Traefik's bytes are compared in
//! `answers_from_servers_reach_the_client_as_through_traefik`.
//!
//! Only tollgate's own client and server take part: the server side (`inbound`) serves HTTP/1.1
//! requests without a body, whose answers come through `h1`. hyper's server has no way to send
//! an interim answer, so requests it serves (bodies, HTTP/2, HTTP/1.0, which must get none
//! anyway: RFC 9110 §15.2) still get the final answer only.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::head::{Span, push_title_case};

/// The interim answers of the request in flight on one client connection, formatted, waiting
/// for the connection's task to write them. The exchange fills it and the server side empties
/// it, both on the connection's task: the lock is never contended.
#[derive(Debug, Default)]
pub struct InterimRelay {
    /// The client's side can write interim answers for the request in flight.
    enabled: AtomicBool,
    /// `bytes` has something to write.
    queued: AtomicBool,
    bytes: Mutex<Vec<u8>>,
}

impl InterimRelay {
    /// Whether the connection serving the request in flight passes interim answers on.
    pub(crate) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn queued(&self) -> bool {
        self.queued.load(Ordering::Relaxed)
    }

    /// Move what waits into `out` (cleared first).
    pub(crate) fn take(&self, out: &mut Vec<u8>) {
        out.clear();
        if let Ok(mut bytes) = self.bytes.lock() {
            std::mem::swap(&mut *bytes, out);
        }
        self.queued.store(false, Ordering::Relaxed);
    }

    /// Queue one interim answer: `status`, and the header lines of `head` that `spans` locate.
    /// The server's head counts toward the head limit, so the copy is bounded too.
    pub(crate) fn push(&self, status: u16, head: &[u8], spans: &[Span]) {
        if let Ok(mut bytes) = self.bytes.lock() {
            encode(status, head, spans, &mut bytes);
            self.queued.store(true, Ordering::Relaxed);
        }
    }
}

/// Go's reason phrase for the interim statuses it knows (`net/http.StatusText`).
fn reason(status: u16) -> Option<&'static str> {
    match status {
        100 => Some("Continue"),
        102 => Some("Processing"),
        103 => Some("Early Hints"),
        _ => None,
    }
}

/// Append the interim answer as Go's server writes it (`response.WriteHeader` for 1xx).
fn encode(status: u16, head: &[u8], spans: &[Span], out: &mut Vec<u8>) {
    out.extend_from_slice(b"HTTP/1.1 ");
    match reason(status) {
        Some(text) => {
            out.extend_from_slice(status.to_string().as_bytes());
            out.push(b' ');
            out.extend_from_slice(text.as_bytes());
        }
        None => out.extend_from_slice(format!("{status:03} status code {status}").as_bytes()),
    }
    out.extend_from_slice(b"\r\n");
    // Go keeps headers in a map by canonical name and writes them sorted by it, each name's
    // values in the order they came.
    let mut lines: Vec<(Vec<u8>, &[u8])> = spans
        .iter()
        .filter_map(|&[ns, ne, vs, ve]| {
            let name = head.get(ns..ne)?;
            let value = head.get(vs..ve)?.trim_ascii();
            let skip = name.eq_ignore_ascii_case(b"content-length")
                || name.eq_ignore_ascii_case(b"transfer-encoding");
            (!skip).then(|| {
                let mut canonical = Vec::with_capacity(name.len());
                push_title_case(&mut canonical, &name.to_ascii_lowercase());
                (canonical, value)
            })
        })
        .collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in lines {
        out.extend_from_slice(&name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans_of(head: &[u8]) -> Vec<Span> {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut r = httparse::Response::new(&mut headers);
        assert!(r.parse(head).expect("valid head").is_complete());
        let base = head.as_ptr() as usize;
        r.headers
            .iter()
            .map(|h| {
                let n = h.name.as_ptr() as usize - base;
                let v = h.value.as_ptr() as usize - base;
                [n, n + h.name.len(), v, v + h.value.len()]
            })
            .collect()
    }

    #[test]
    fn interim_answers_are_written_as_go_writes_them() {
        let relay = InterimRelay::default();
        let hints: &[u8] = b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\nx-ZED: 1\r\n\
            Link: </b.js>\r\nContent-Length: 7\r\nConnection: x-hop\r\n\r\n";
        relay.push(103, hints, &spans_of(hints));
        let other: &[u8] = b"HTTP/1.1 199 Whatever\r\nA: b\r\n\r\n";
        relay.push(199, other, &spans_of(other));
        assert!(relay.queued());
        let mut out = Vec::new();
        relay.take(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "HTTP/1.1 103 Early Hints\r\nConnection: x-hop\r\nLink: </a.css>\r\nLink: </b.js>\r\n\
             X-Zed: 1\r\n\r\nHTTP/1.1 199 status code 199\r\nA: b\r\n\r\n"
        );
        assert!(!relay.queued());
        relay.take(&mut out);
        assert!(out.is_empty());
    }
}

//! HTTP/1.1 from clients for the plain request, served on the connection's own task.
//!
//! hyper's server costs about 40% of the proxy's instructions per request: a dispatcher
//! generic over every feature, a service call through a boxed future, a body channel per
//! request. Most requests an edge router sees are plain GETs without a body. This server reads
//! those itself (httparse, as hyper does), calls the same handler, and writes the answer with the
//! framing rules hyper's server follows (`response.rs`).
//!
//! Anything else - a body, an upgrade, `Expect`, HTTP/1.0, HTTP/2's preface, a malformed or very
//! large head - hands the connection over to hyper with the bytes already read, and hyper serves
//! the rest of it (`entrypoint.rs`). Every error answer and every rarer feature therefore keeps
//! the behaviour it had, and the framing guard still sees every request that carries a body.

pub(super) mod request;
mod response;

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::Request;
use http_body::Body;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::body::RequestBody;
use super::finish::{Tracked, monotonic_ms};
use super::h1::InterimRelay;
use super::handler::{ConnInfo, Shared, handle};
use request::Parsed;
use response::{BodyLength, Framing};

/// Read buffer reserved at a time.
const READ_SIZE: usize = 8192;

/// Buffered response bytes that are written out even while the body has more ready.
const WRITE_AT: usize = 64 * 1024;

/// Write buffer capacity a connection keeps between requests.
const KEEP_WRITE: usize = 16 * 1024;

/// How a connection left this server.
pub(super) enum Ended {
    /// Closed (by either side, or after an answer that ends it).
    Closed,
    /// hyper serves the rest; these bytes were read and not used.
    HandOver(BytesMut),
}

/// What the connection's watchdog and this server share.
#[derive(Default)]
pub(super) struct Control {
    /// Finish the request in flight, if any, with `Connection: close`, and take no other.
    closing: AtomicBool,
    /// A request has been read and its answer is not all written. The request's own end
    /// (`ConnState`) comes earlier, with the body's last frame, before that frame is written.
    answering: AtomicBool,
}

impl Control {
    pub(super) fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    pub(super) fn closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    /// Nothing to answer and nothing being written: the connection can be dropped as it is.
    pub(super) fn between_requests(&self) -> bool {
        !self.answering.load(Ordering::Relaxed)
    }
}

/// Serve plain requests on `io` until it closes, a request needs hyper, or `control` asks it to
/// close.
pub(super) async fn serve(
    io: &mut TcpStream,
    conn: &ConnInfo,
    shared: &Shared,
    control: &Control,
) -> Ended {
    let mut read = BytesMut::new();
    let mut write = Vec::new();
    let mut spans = Vec::new();
    let mut interim = Interim::default();
    loop {
        let simple = loop {
            if !read.is_empty() {
                match request::parse(&mut read, &mut spans) {
                    Parsed::Request(simple) => break simple,
                    Parsed::HandOver => {
                        note_head(conn, false);
                        return Ended::HandOver(read);
                    }
                    Parsed::Partial => {}
                }
            }
            if control.closing() {
                return Ended::Closed;
            }
            // Blank lines before a request are allowed (RFC 9112 §2.2) and are no head yet.
            note_head(conn, read.iter().any(|&b| b != b'\r' && b != b'\n'));
            super::h1::make_room(&mut read, READ_SIZE);
            match io.read_buf(&mut read).await {
                Ok(0) | Err(_) => return Ended::Closed,
                Ok(_) => {}
            }
        };
        note_head(conn, false);
        control.answering.store(true, Ordering::Relaxed);
        let request_was_head = simple.parts.method == http::Method::HEAD;
        let request = Request::from_parts(simple.parts, RequestBody::Empty);
        conn.interim.set_enabled(true);
        // Boxed: the handler's future (~3.5 KB), kept in this connection's task, is written there
        // for every request, in memory that with tens of connections taking turns is rarely
        // still in cache; a box comes from the allocator's recently freed blocks. Callgrind's
        // cache simulation: 17 fewer last-level misses per request (docs/PERFORMANCE.md).
        let mut handling = Box::pin(handle(request, conn, shared));
        let mut held = None;
        let response =
            poll_fn(|cx| answer(cx, io, &conn.interim, &mut interim, &mut held, handling.as_mut()))
                .await;
        conn.interim.set_enabled(false);
        let keep_alive = simple.keep_alive && !control.closing();
        let (parts, body) = response.into_parts();
        let length = BodyLength::of(body.is_end_stream(), body.size_hint());
        write.clear();
        let head = response::encode_head(&parts, length, request_was_head, keep_alive, &mut write);
        drop(parts);
        let written = send_body(io, body, head.framing, &mut write).await;
        control.answering.store(false, Ordering::Relaxed);
        if write.capacity() > KEEP_WRITE {
            // A large body passed through: an idle connection keeps only a head's worth.
            write = Vec::new();
        }
        if !written || head.last {
            let _ = io.shutdown().await;
            return Ended::Closed;
        }
    }
}

/// Interim answers taken from the relay and not yet all written.
#[derive(Default)]
struct Interim {
    bytes: Vec<u8>,
    written: usize,
}

/// Poll the handler for its answer, writing the server's interim (1xx) answers to the client as
/// they come, as Traefik does (`h1::InterimRelay`); every one is out before the final answer is
/// returned (`held` keeps it meanwhile). A write that fails drops the rest of them; the final
/// answer's write then fails the same way. A poll function, not an `async fn` taking the
/// handler's future: awaiting that moved the future and its answer once more per request (~300
/// instructions of `memcpy`, callgrind).
fn answer<F: Future>(
    cx: &mut Context<'_>,
    io: &mut TcpStream,
    relay: &InterimRelay,
    interim: &mut Interim,
    held: &mut Option<F::Output>,
    mut handling: Pin<&mut F>,
) -> Poll<F::Output> {
    loop {
        if interim.written == interim.bytes.len() && relay.queued() {
            relay.take(&mut interim.bytes);
            interim.written = 0;
        }
        while interim.written < interim.bytes.len() {
            match Pin::new(&mut *io).poll_write(cx, &interim.bytes[interim.written..]) {
                Poll::Ready(Ok(n)) if n > 0 => interim.written += n,
                Poll::Ready(_) => interim.written = interim.bytes.len(),
                Poll::Pending => return Poll::Pending,
            }
        }
        if let Some(response) = held.take() {
            return Poll::Ready(response);
        }
        match handling.as_mut().poll(cx) {
            Poll::Ready(response) if !relay.queued() => return Poll::Ready(response),
            Poll::Ready(response) => *held = Some(response),
            Poll::Pending if relay.queued() => {}
            Poll::Pending => return Poll::Pending,
        }
    }
}

/// Tell the watchdog whether a request head is arriving (slowloris is its to catch).
fn note_head(conn: &ConnInfo, arriving: bool) {
    let started = &conn.state.head_started_ms;
    match (arriving, started.load(Ordering::Relaxed)) {
        (true, 0) => started.store(monotonic_ms().max(1), Ordering::Relaxed),
        (false, s) if s != 0 => started.store(0, Ordering::Relaxed),
        _ => {}
    }
}

/// Write the body after the head already in `out`, frame by frame as it comes: whatever is ready
/// goes out in one write, and a body that waits (a stream, server-sent events) has what came so
/// far sent first. `false`: the connection cannot carry another request (a write failed, the
/// body failed or ended short of its length).
async fn send_body(io: &mut TcpStream, body: Tracked, framing: Framing, out: &mut Vec<u8>) -> bool {
    let mut left = match framing {
        Framing::Length(0) => return io.write_all(out).await.is_ok(),
        Framing::Length(len) => Some(len),
        Framing::Chunked => None,
    };
    let mut body = std::pin::pin!(body);
    loop {
        let step = poll_fn(|cx| gather(body.as_mut(), cx, &mut left, out)).await;
        if io.write_all(out).await.is_err() {
            return false;
        }
        out.clear();
        match step {
            Gathered::More => {}
            Gathered::End => return left.is_none_or(|l| l == 0),
            Gathered::Failed => return false,
        }
    }
}

enum Gathered {
    /// Bytes to write; the body has more to come.
    More,
    End,
    Failed,
}

/// Poll the body for what it has ready and append it to `out`, framed. `left`: bytes still due
/// under a `Content-Length`, `None` for chunked.
fn gather(
    mut body: Pin<&mut Tracked>,
    cx: &mut std::task::Context<'_>,
    left: &mut Option<u64>,
    out: &mut Vec<u8>,
) -> Poll<Gathered> {
    loop {
        match body.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                // Trailers are dropped: they reach only clients that ask with `TE: trailers`,
                // and those requests are hyper's.
                if let Ok(data) = frame.into_data() {
                    push_data(data, left, out);
                }
                if left == &Some(0) || body.is_end_stream() {
                    end_body(left, out);
                    return Poll::Ready(Gathered::End);
                }
                if out.len() >= WRITE_AT {
                    return Poll::Ready(Gathered::More);
                }
            }
            Poll::Ready(None) => {
                end_body(left, out);
                return Poll::Ready(Gathered::End);
            }
            Poll::Ready(Some(Err(err))) => {
                tracing::debug!(error = %err, "response body failed; closing the connection");
                return Poll::Ready(Gathered::Failed);
            }
            Poll::Pending if out.is_empty() => return Poll::Pending,
            Poll::Pending => return Poll::Ready(Gathered::More),
        }
    }
}

fn push_data(data: Bytes, left: &mut Option<u64>, out: &mut Vec<u8>) {
    match left {
        Some(left) => {
            // A body longer than its announced length is cut there, as hyper does.
            let take = data.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
            out.extend_from_slice(&data[..take]);
            *left -= take as u64;
        }
        None if data.is_empty() => {}
        None => {
            response::push_chunk_size(out, data.len());
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn end_body(left: &Option<u64>, out: &mut Vec<u8>) {
    if left.is_none() {
        out.extend_from_slice(b"0\r\n\r\n");
    }
}

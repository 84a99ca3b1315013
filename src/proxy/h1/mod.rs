//! HTTP/1.1 to servers for requests without a body, spoken on the request's own task.
//!
//! hyper's client runs each connection as a task of its own and hands requests, responses and
//! body chunks across channels; a proxied GET then wakes two tasks several times. Here the
//! request's task writes the head, reads the response head and, through [`ServerBody`], the body
//! straight from the socket; at the body's end the connection goes back to its server's pool.
//! That was a third of the proxy's instructions per request (docs/PERFORMANCE.md).
//!
//! Requests with a body and protocol upgrades keep hyper's client (`client.rs`): streaming a
//! request body while the response streams back, and handing the socket to an upgrade, are what
//! its connection task is for.

mod body;
pub(crate) mod chunked;
pub(crate) mod head;
mod interim;

use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use http::request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) use body::{Home, ServerBody};
pub(crate) use head::{Head, HeadError};
pub(crate) use interim::InterimRelay;

/// Read buffer reserved at a time: most heads and small bodies arrive in one read.
const READ_SIZE: usize = 8192;

/// An idle or busy connection to a server, with what it has read and not yet used.
#[derive(Debug)]
pub struct Conn {
    io: TcpStream,
    read: BytesMut,
    /// The request head being written; kept to spare an allocation per request.
    write: Vec<u8>,
    /// Scratch for parsing response heads, kept for the same reason.
    spans: Vec<head::Span>,
}

/// Why an exchange failed (the client gets a 502).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("writing the request: {0}")]
    Write(io::Error),
    #[error("the server closed the connection before answering")]
    ClosedBeforeAnswer,
    #[error("reading the response: {0}")]
    Read(io::Error),
    #[error("the server closed the connection in the middle of the response head")]
    ClosedInHead,
    #[error("{0}")]
    Head(#[from] HeadError),
}

impl ExchangeError {
    /// Traefik's answer (its `ComputeStatusCode`): 502 for an EOF before any answer or a
    /// network error, 500 for every failure Go's client names itself: a head cut short (an
    /// unexpected EOF), a malformed or oversized head, a bad `Content-Length`, a transfer coding
    /// it does not know, a switch nobody asked for. Compared with the real Traefik by
    /// `answers_from_servers_reach_the_client_as_through_traefik`.
    pub fn status(&self) -> http::StatusCode {
        match self {
            ExchangeError::ClosedInHead | ExchangeError::Head(_) => {
                http::StatusCode::INTERNAL_SERVER_ERROR
            }
            ExchangeError::Write(_)
            | ExchangeError::ClosedBeforeAnswer
            | ExchangeError::Read(_) => http::StatusCode::BAD_GATEWAY,
        }
    }

    /// The server had closed the connection, or closes it now, without reading the request:
    /// what a kept-alive connection meets when the server's idle timeout ended it just before.
    /// Nothing was answered, so a request that may be repeated is, on a fresh connection.
    pub fn server_went_away(&self) -> bool {
        match self {
            ExchangeError::ClosedBeforeAnswer => true,
            ExchangeError::Write(err) | ExchangeError::Read(err) => matches!(
                err.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
}

impl Conn {
    pub fn new(io: TcpStream) -> Conn {
        Conn { io, read: BytesMut::new(), write: Vec::new(), spans: Vec::new() }
    }

    /// Still usable after lying idle: the server has neither closed it nor sent anything
    /// unasked. Costs no system call unless the socket was reported readable since its last
    /// read (tokio keeps that readiness).
    pub fn is_open(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.io.try_read(&mut probe), Err(err) if err.kind() == io::ErrorKind::WouldBlock)
    }

    /// Send a body-less request and read the response head; the body's start may stay in the
    /// connection's buffer for [`ServerBody`]. Interim answers before it go to `relay`, if any.
    pub async fn exchange(
        &mut self,
        req: &request::Parts,
        target: &str,
        relay: Option<&InterimRelay>,
    ) -> Result<Head, ExchangeError> {
        head::encode_request(&req.method, target, &req.headers, &mut self.write);
        self.io.write_all(&self.write).await.map_err(ExchangeError::Write)?;
        let request_was_head = req.method == http::Method::HEAD;
        let mut interim = head::Interim::relaying(relay);
        loop {
            if !self.read.is_empty()
                && let Some(head) = head::parse_response(
                    &mut self.read,
                    request_was_head,
                    &mut self.spans,
                    &mut interim,
                )?
            {
                return Ok(head);
            }
            let received = !self.read.is_empty();
            self.reserve();
            match self.io.read_buf(&mut self.read).await {
                Ok(0) if received => return Err(ExchangeError::ClosedInHead),
                Ok(0) => return Err(ExchangeError::ClosedBeforeAnswer),
                Ok(_) => {}
                Err(err) => return Err(ExchangeError::Read(err)),
            }
        }
    }

    /// Read more into the buffer from a poll (the body); `Ok(0)` at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.reserve();
        // `read_buf`'s future holds no state between polls: a fresh one per poll is one read.
        pin!(self.io.read_buf(&mut self.read)).poll(cx)
    }

    fn reserve(&mut self) {
        make_room(&mut self.read, READ_SIZE);
    }
}

/// Room for the next read into a connection's buffer of `size` bytes.
///
/// An empty buffer starts again at the front of its allocation when nothing else still points
/// into it (the last message's head and body are gone). Without that, each message lands past
/// the previous one and a buffer cycles through all its lines: with 64 connections, two buffers
/// each, that is ~1 MiB of cold cache lines written by the kernel and read back by the parser,
/// where reading at the front keeps a few hot lines per connection.
pub(crate) fn make_room(buf: &mut BytesMut, size: usize) {
    if buf.is_empty() && buf.try_reclaim(size) {
        return;
    }
    if buf.capacity() - buf.len() < size / 4 {
        buf.reserve(size);
    }
}

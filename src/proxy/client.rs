//! Upstream transports: keep-alive connections to the servers, one transport per
//! `serversTransport`. HTTP/1.1 connections are pooled per server (`pool::Pool`); `h2c://`
//! servers get one multiplexed HTTP/2 connection each.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::body::{ClientBodyError, RequestBody};
use super::h1::{self, ExchangeError, ServerBody};
use super::pool::{HyperConn, Lease, Limits, Pool, Senders};
use crate::config::dynamic::ServersTransport;

/// Traefik's default `maxIdleConnsPerHost`.
const DEFAULT_MAX_IDLE_PER_HOST: usize = 200;

/// How long a pooled connection may take to become ready for its next request (it is ready as
/// soon as its connection task has seen the previous response end, which is immediate).
const READY_WAIT: Duration = Duration::from_secs(1);

/// Header lines accepted in a server's response.
const MAX_RESPONSE_HEADERS: usize = 1024;

/// One `serversTransport`, built.
///
/// h2c does not share the HTTP/1 pool's shape: HTTP/2 carries the client's Host in the request
/// URI's authority (`:authority`), and one connection per server carries every concurrent
/// request.
pub struct Transport {
    http1: hyper::client::conn::http1::Builder,
    limits: Limits,
    h2c: std::sync::Mutex<std::collections::HashMap<String, SendRequest<RequestBody>>>,
    dial_timeout: Option<Duration>,
    response_header_timeout: Option<Duration>,
    /// The configuration it was built from: a reload with the same settings keeps the transport
    /// and its pooled connections.
    pub(crate) config: ServersTransport,
}

/// Why a request to a server failed, classified the way Traefik answers the client.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("no response headers within {0:?}")]
    ResponseHeaderTimeout(Duration),
    #[error("connecting timed out after {0:?}")]
    DialTimeout(Duration),
    #[error("connecting failed: {0}")]
    Dial(std::io::Error),
    #[error("{0}")]
    Http(hyper::Error),
    #[error("the server closed the connection in the middle of its answer: {0}")]
    CutShort(hyper::Error),
    #[error("{0}")]
    Exchange(ExchangeError),
    #[error("{0}")]
    ClientBody(String),
}

impl UpstreamError {
    /// 504 for timeouts, 502 for a refused, reset or closed connection, 500 for an answer the
    /// client cannot read and when the client's own body failed (Traefik's `ComputeStatusCode`).
    pub fn status(&self) -> StatusCode {
        match self {
            UpstreamError::ResponseHeaderTimeout(_) | UpstreamError::DialTimeout(_) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            // hyper's own verdict on a malformed head is what Go's client reports as an
            // error of its own: Traefik answers 500 (see `h1::ExchangeError::status`), as for
            // a head cut short (an "incomplete message" after some of the answer was read).
            UpstreamError::Http(err) if err.is_parse() => StatusCode::INTERNAL_SERVER_ERROR,
            UpstreamError::CutShort(_) => StatusCode::INTERNAL_SERVER_ERROR,
            UpstreamError::Dial(_) | UpstreamError::Http(_) => StatusCode::BAD_GATEWAY,
            UpstreamError::Exchange(err) => err.status(),
            // Traefik's answer when the client's own body fails mid-forward.
            UpstreamError::ClientBody(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `answer_begun`: bytes of the answer had arrived (hyper reports a close before any
    /// answer and one in the middle of the head alike).
    fn from_hyper(err: hyper::Error, answer_begun: bool) -> UpstreamError {
        match find_cause::<ClientBodyError>(&err) {
            Some(body) => UpstreamError::ClientBody(body.to_string()),
            None if answer_begun && err.is_incomplete_message() => UpstreamError::CutShort(err),
            None => UpstreamError::Http(err),
        }
    }
}

impl Transport {
    pub fn new(config: &ServersTransport) -> Transport {
        let timeouts = &config.forwarding_timeouts;
        let max_idle = match config.max_idle_conns_per_host {
            None | Some(0) => DEFAULT_MAX_IDLE_PER_HOST,
            Some(n) if n < 0 => 0,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let mut http1 = hyper::client::conn::http1::Builder::new();
        http1
            .max_headers(MAX_RESPONSE_HEADERS)
            // Servers see canonical header names, as from Traefik (Go's client).
            .title_case_headers(true);
        Transport {
            http1,
            limits: Limits { max_idle, idle_timeout: timeouts.idle_conn_timeout.non_zero() },
            h2c: Default::default(),
            dial_timeout: timeouts.dial_timeout.non_zero(),
            response_header_timeout: timeouts.response_header_timeout.non_zero(),
            config: config.clone(),
        }
    }

    /// Send one request over HTTP/1.1 to `server` (host:port), on an idle connection of `pool`
    /// or a new one. The request URI is sent as is (origin form). The lease returns the
    /// connection to the pool once the response body has been read to its end.
    pub async fn send(
        &self,
        pool: &Arc<Senders>,
        server: &str,
        req: Request<RequestBody>,
    ) -> Result<(Response<Incoming>, Lease), UpstreamError> {
        let request_was_head = req.method() == http::Method::HEAD;
        let (mut response, lease) = self.send_on_pool(pool, server, req).await?;
        // hyper reads a body under any transfer coding until the connection closes; Go's client
        // (Traefik's) refuses every coding but chunked, as `h1` does while parsing.
        if response.version() != http::Version::HTTP_10
            && !h1::head::bodiless(response.status(), request_was_head)
        {
            let codings = response.headers().get_all(header::TRANSFER_ENCODING);
            h1::head::chunked(|| codings.iter().map(|v| v.as_bytes()))
                .map_err(|err| UpstreamError::Exchange(ExchangeError::Head(err)))?;
        }
        // hyper decodes `chunked` but leaves a `Content-Length` beside it, which would contradict
        // the body the client gets; Go's client drops it, as `h1` does while parsing.
        let headers = response.headers_mut();
        if headers.contains_key(header::TRANSFER_ENCODING) {
            headers.remove(header::CONTENT_LENGTH);
        }
        Ok((response, lease))
    }

    async fn send_on_pool(
        &self,
        pool: &Arc<Senders>,
        server: &str,
        req: Request<RequestBody>,
    ) -> Result<(Response<Incoming>, Lease), UpstreamError> {
        self.within_header_timeout(async {
            let mut req = req;
            if let Some(mut conn) = pool.checkout(self.limits) {
                let ready = tokio::time::timeout(READY_WAIT, conn.sender.ready()).await;
                if let Ok(Ok(())) = ready {
                    let mark = conn.read.load(Ordering::Relaxed);
                    match conn.sender.try_send_request(req).await {
                        Ok(response) => {
                            return Ok((response, Lease::new(conn, pool.clone(), self.limits)));
                        }
                        // The server closed the idle connection just before: the request was
                        // not sent, so it goes out again on a fresh connection.
                        Err(mut err) => match err.take_message() {
                            Some(unsent) => req = unsent,
                            None => {
                                let begun = conn.read.load(Ordering::Relaxed) > mark;
                                return Err(UpstreamError::from_hyper(err.into_error(), begun));
                            }
                        },
                    }
                }
            }
            let mut conn = self.dial_http1(server).await?;
            let response = match conn.sender.send_request(req).await {
                Ok(response) => response,
                Err(err) => {
                    let begun = conn.read.load(Ordering::Relaxed) > 0;
                    return Err(UpstreamError::from_hyper(err, begun));
                }
            };
            Ok((response, Lease::new(conn, pool.clone(), self.limits)))
        })
        .await
    }

    /// Send one request without a body over HTTP/1.1 to `server` (host:port) on tollgate's own
    /// connection (`h1`): an idle one of `pool`, or a new one. `target` is the request line's
    /// (origin form); the request's URI is not looked at. The body returns the connection to
    /// `pool` when it has been read to its end. Interim answers go to `relay`, if any.
    pub async fn send_plain(
        &self,
        pool: &Arc<Pool<h1::Conn>>,
        server: &str,
        req: &http::request::Parts,
        target: &str,
        relay: Option<&h1::InterimRelay>,
    ) -> Result<Response<ServerBody>, UpstreamError> {
        self.within_header_timeout(async {
            while let Some(mut conn) = pool.checkout(self.limits) {
                match conn.exchange(req, target, relay).await {
                    Ok(head) => return Ok(self.respond(conn, head, pool)),
                    // A connection the server closed while it lay idle: tried again on the next
                    // one, as Go's client does for requests that may be repeated.
                    Err(err) if err.server_went_away() && may_repeat(req) => {
                        tracing::debug!(server, error = %err, "idle connection was closed by the server");
                    }
                    Err(err) => return Err(UpstreamError::Exchange(err)),
                }
            }
            let mut conn = h1::Conn::new(self.dial(server).await?);
            let head = conn.exchange(req, target, relay).await.map_err(UpstreamError::Exchange)?;
            Ok(self.respond(conn, head, pool))
        })
        .await
    }

    fn respond(
        &self,
        conn: h1::Conn,
        mut head: h1::Head,
        pool: &Arc<Pool<h1::Conn>>,
    ) -> Response<ServerBody> {
        let home = h1::Home { pool: pool.clone(), limits: self.limits };
        let body = ServerBody::new(conn, &mut head, home);
        Response::from_parts(head.parts, body)
    }

    /// A new HTTP/1.1 connection to `server`, its connection task running.
    async fn dial_http1(&self, server: &str) -> Result<HyperConn, UpstreamError> {
        let read = Arc::new(AtomicU64::new(0));
        let stream = Counted { io: self.dial(server).await?, read: read.clone() };
        let (sender, connection) =
            self.http1.handshake(TokioIo::new(stream)).await.map_err(UpstreamError::Http)?;
        let server_name = server.to_owned();
        tokio::spawn(async move {
            // with_upgrades: a 101 hands the connection over to the relay instead of closing it.
            if let Err(err) = connection.with_upgrades().await {
                tracing::debug!(server = %server_name, error = %err, "connection to server ended");
            }
        });
        Ok(HyperConn { sender, read })
    }

    /// A TCP connection to `server` within `dialTimeout`, with Go's dialer options.
    async fn dial(&self, server: &str) -> Result<TcpStream, UpstreamError> {
        let dial = TcpStream::connect(server);
        let stream = match self.dial_timeout {
            Some(limit) => tokio::time::timeout(limit, dial)
                .await
                .map_err(|_| UpstreamError::DialTimeout(limit))?,
            None => dial.await,
        }
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::TimedOut => UpstreamError::DialTimeout(Duration::ZERO),
            _ => UpstreamError::Dial(err),
        })?;
        let _ = stream.set_nodelay(true);
        // Go's dialer keeps TCP keep-alive probes on at 15 s; dead servers are noticed the same way.
        let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(15));
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        Ok(stream)
    }

    /// Send one request over HTTP/2 to `server` (host:port); the URI's authority is only the
    /// `:authority` the server sees.
    pub async fn send_h2c(
        &self,
        server: &str,
        req: Request<RequestBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        self.within_header_timeout(async {
            let mut sender = self.h2c_sender(server).await?;
            // HTTP/2 reports a stream cut short as a reset: no byte count needed.
            sender.send_request(req).await.map_err(|err| UpstreamError::from_hyper(err, false))
        })
        .await
    }

    async fn within_header_timeout<T>(
        &self,
        pending: impl Future<Output = Result<T, UpstreamError>>,
    ) -> Result<T, UpstreamError> {
        match self.response_header_timeout {
            Some(limit) => tokio::time::timeout(limit, pending)
                .await
                .unwrap_or(Err(UpstreamError::ResponseHeaderTimeout(limit))),
            None => pending.await,
        }
    }

    /// The live HTTP/2 connection to `server`, dialled when there is none.
    async fn h2c_sender(&self, server: &str) -> Result<SendRequest<RequestBody>, UpstreamError> {
        let existing = self
            .h2c
            .lock()
            .ok()
            .and_then(|map| map.get(server).filter(|s| !s.is_closed()).cloned());
        if let Some(sender) = existing {
            return Ok(sender);
        }
        let stream = self.dial(server).await?;
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(TokioIo::new(stream))
            .await
            .map_err(UpstreamError::Http)?;
        let server_name = server.to_owned();
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(server = %server_name, error = %err, "h2c connection to server ended");
            }
        });
        if let Ok(mut map) = self.h2c.lock() {
            map.insert(server.to_owned(), sender.clone());
        }
        Ok(sender)
    }
}

/// A connection to a server that counts the bytes read from it (see `HyperConn`).
struct Counted {
    io: TcpStream,
    read: Arc<AtomicU64>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.read.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Go's `Request.isReplayable`: methods that change nothing, or a request carrying an
/// idempotency key.
fn may_repeat(req: &http::request::Parts) -> bool {
    use http::Method;
    matches!(req.method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
        || req.headers.contains_key("idempotency-key")
        || req.headers.contains_key("x-idempotency-key")
}

fn find_cause<'a, E: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

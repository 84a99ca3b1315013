//! A server's response body read from the connection by whoever polls it (hyper's server,
//! writing to the client), and the connection's way back to its pool.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::Conn;
use super::chunked::Step;
use super::head::{Framing, Head};
use crate::proxy::pool::{Limits, Pool};

/// Where a connection goes when its response has been read to the end.
pub struct Home {
    pub pool: Arc<Pool<Conn>>,
    pub limits: Limits,
}

pub struct ServerBody {
    /// `None` once the body has ended (the connection is back in the pool, or closed).
    conn: Option<Conn>,
    framing: Framing,
    keep_alive: bool,
    home: Home,
}

impl std::fmt::Debug for ServerBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBody").field("framing", &self.framing).finish_non_exhaustive()
    }
}

impl ServerBody {
    /// The body of the response whose head was just read on `conn`. One without content (HEAD,
    /// 204, 304, length 0) frees the connection at once, even if nobody polls it.
    pub fn new(conn: Conn, head: &mut Head, home: Home) -> ServerBody {
        let framing = std::mem::replace(&mut head.framing, Framing::Length(0));
        let mut body = ServerBody { conn: Some(conn), framing, keep_alive: head.keep_alive, home };
        if matches!(body.framing, Framing::Length(0)) {
            body.release();
        }
        body
    }

    /// The body ended: the connection serves the next request, unless the server asked to
    /// close it or sent more than the body (which would be read as the next response).
    fn release(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.keep_alive
            && conn.read.is_empty()
        {
            self.home.pool.checkin(conn, self.home.limits);
        }
    }

    /// The next piece of the body from what is buffered; `None`: read more first.
    fn next_buffered(&mut self) -> Option<Result<Option<Frame<Bytes>>, io::Error>> {
        let conn = self.conn.as_mut()?;
        let frame = match &mut self.framing {
            Framing::Length(0) => None,
            Framing::Length(left) => {
                if conn.read.is_empty() {
                    return None;
                }
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(conn.read.len());
                *left -= n as u64;
                Some(Frame::data(conn.read.split_to(n).freeze()))
            }
            Framing::Chunked(decoder) => match decoder.step(&mut conn.read) {
                Ok(Step::Data(data)) => Some(Frame::data(data)),
                Ok(Step::End(trailers)) => trailers.map(Frame::trailers),
                Ok(Step::NeedMore) => return None,
                Err(err) => return Some(Err(io::Error::new(io::ErrorKind::InvalidData, err))),
            },
            Framing::UntilClose => {
                if conn.read.is_empty() {
                    return None;
                }
                Some(Frame::data(conn.read.split().freeze()))
            }
        };
        if self.at_end() {
            self.release();
        }
        Some(Ok(frame))
    }

    fn at_end(&self) -> bool {
        match &self.framing {
            Framing::Length(left) => *left == 0,
            Framing::Chunked(decoder) => matches!(decoder, super::chunked::Chunked::Done),
            Framing::UntilClose => false,
        }
    }
}

impl Body for ServerBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        loop {
            match this.next_buffered() {
                Some(Ok(Some(frame))) => return Poll::Ready(Some(Ok(frame))),
                Some(Ok(None)) => return Poll::Ready(None),
                Some(Err(err)) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(err)));
                }
                None => {}
            }
            let Some(conn) = this.conn.as_mut() else { return Poll::Ready(None) };
            match ready!(conn.poll_fill(cx)) {
                Ok(0) if matches!(this.framing, Framing::UntilClose) => {
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection before the end of the body",
                    ))));
                }
                Ok(_) => {}
                Err(err) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none() || self.at_end()
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.conn, &self.framing) {
            (None, _) => SizeHint::with_exact(0),
            (Some(_), Framing::Length(left)) => SizeHint::with_exact(*left),
            _ => SizeHint::default(),
        }
    }
}

//! Message bodies. Both directions stream frame by frame, never buffered whole: memory per
//! request stays at one frame whatever the body's size.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use super::h1::ServerBody;
use super::pool::Lease;

/// Errors a body can end with: the peer's, passed through.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A request body on its way to a server: the client's stream, or none (health checks, requests
/// without a body).
pub enum RequestBody {
    Empty,
    Incoming(Incoming),
}

/// The client's request body broke off or was malformed while being forwarded. Kept apart from
/// server failures so the answer blames the right side (Traefik answers 500, not 502).
#[derive(Debug, thiserror::Error)]
#[error("reading the client's request body: {0}")]
pub struct ClientBodyError(#[source] pub hyper::Error);

impl Body for RequestBody {
    type Data = Bytes;
    type Error = ClientBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ClientBodyError>>> {
        match self.get_mut() {
            RequestBody::Empty => Poll::Ready(None),
            RequestBody::Incoming(body) => Pin::new(body).poll_frame(cx).map_err(ClientBodyError),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Empty => true,
            RequestBody::Incoming(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Empty => SizeHint::with_exact(0),
            RequestBody::Incoming(body) => body.size_hint(),
        }
    }
}

/// A response body on its way to the client: a server's stream, or bytes tollgate made (errors,
/// redirects). `Done` callbacks (stats, access log) live in `finish::Tracked` around it.
pub enum ResponseBody {
    Empty,
    Full(Option<Bytes>),
    /// A server's body through hyper's client; the lease gives the connection back to its pool
    /// once the body ended.
    Incoming(Incoming, Option<Lease>),
    /// A server's body on tollgate's own connection, which goes back to its pool by itself.
    Server(ServerBody),
}

impl ResponseBody {
    pub fn text(text: &'static str) -> ResponseBody {
        ResponseBody::Full(Some(Bytes::from_static(text.as_bytes())))
    }

    /// A server's body on a pooled connection.
    pub fn from_server(body: Incoming, mut lease: Option<Lease>) -> ResponseBody {
        if body.is_end_stream() {
            // Nothing to read (204, HEAD, an empty body): the connection is free already, even
            // if the body is never polled.
            if let Some(lease) = lease.as_mut() {
                lease.complete();
            }
        }
        ResponseBody::Incoming(body, lease)
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            ResponseBody::Empty => Poll::Ready(None),
            ResponseBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ResponseBody::Incoming(body, lease) => {
                let polled = Pin::new(&mut *body).poll_frame(cx);
                // The end shows either as `None` or, for a body of known length, as the last
                // frame leaving the body at its end: hyper's server stops polling there and
                // never asks for the `None`.
                let ended = match &polled {
                    Poll::Ready(None) => true,
                    Poll::Ready(Some(Ok(_))) => body.is_end_stream(),
                    _ => false,
                };
                if let (true, Some(lease)) = (ended, lease.as_mut()) {
                    lease.complete();
                }
                polled.map_err(BodyError::from)
            }
            ResponseBody::Server(body) => Pin::new(body).poll_frame(cx).map_err(BodyError::from),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Empty => true,
            ResponseBody::Full(bytes) => bytes.is_none(),
            ResponseBody::Incoming(body, _) => body.is_end_stream(),
            ResponseBody::Server(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Empty => SizeHint::with_exact(0),
            ResponseBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            ResponseBody::Full(None) => SizeHint::with_exact(0),
            ResponseBody::Incoming(body, _) => body.size_hint(),
            ResponseBody::Server(body) => body.size_hint(),
        }
    }
}

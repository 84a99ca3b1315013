//! Upstream transports: pooled keep-alive clients to the servers, one per `serversTransport`.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::body::RequestBody;
use crate::config::dynamic::ServersTransport;

/// Traefik's default `maxIdleConnsPerHost`.
const DEFAULT_MAX_IDLE_PER_HOST: usize = 200;

/// One `serversTransport`, built: a pooled HTTP/1.1 client, and one multiplexed HTTP/2 (prior
/// knowledge) connection per `h2c://` server.
///
/// h2c does not go through hyper-util's pooled client because that client picks the connection
/// from the request URI's authority, while HTTP/2 carries the client's Host in that same
/// authority (`:authority`); with `passHostHeader` the two differ. One HTTP/2 connection per
/// server carries every concurrent request anyway.
pub struct Transport {
    http1: Client<HttpConnector, RequestBody>,
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
    #[error("connecting timed out: {0}")]
    ConnectTimeout(hyper_util::client::legacy::Error),
    #[error("{0}")]
    Failed(hyper_util::client::legacy::Error),
    #[error("connecting timed out after {0:?}")]
    DialTimeout(Duration),
    #[error("connecting failed: {0}")]
    Dial(std::io::Error),
    #[error("{0}")]
    Http2(hyper::Error),
    #[error("{0}")]
    ClientBody(String),
}

impl UpstreamError {
    /// 504 for timeouts, 502 for every other failure (refused, reset, bad response).
    pub fn status(&self) -> StatusCode {
        match self {
            UpstreamError::ResponseHeaderTimeout(_)
            | UpstreamError::ConnectTimeout(_)
            | UpstreamError::DialTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            UpstreamError::Failed(_) | UpstreamError::Dial(_) | UpstreamError::Http2(_) => {
                StatusCode::BAD_GATEWAY
            }
            // Traefik's answer when the client's own body fails mid-forward.
            UpstreamError::ClientBody(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl Transport {
    pub fn new(config: &ServersTransport) -> Transport {
        let timeouts = &config.forwarding_timeouts;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(timeouts.dial_timeout.non_zero());
        // Go's dialer keeps TCP keep-alive probes on at 15 s; dead servers are noticed the same way.
        connector.set_keepalive(Some(Duration::from_secs(15)));
        let max_idle = match config.max_idle_conns_per_host {
            None | Some(0) => DEFAULT_MAX_IDLE_PER_HOST,
            Some(n) if n < 0 => 0,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(timeouts.idle_conn_timeout.non_zero())
            .pool_max_idle_per_host(max_idle)
            // The Host header is always set by the forwarding step (passHostHeader decides which).
            .set_host(false)
            .http1_max_headers(1024)
            // Servers see canonical header names, as from Traefik (Go's client).
            .http1_title_case_headers(true);
        let http1 = builder.build(connector);
        Transport {
            http1,
            h2c: Default::default(),
            dial_timeout: timeouts.dial_timeout.non_zero(),
            response_header_timeout: timeouts.response_header_timeout.non_zero(),
            config: config.clone(),
        }
    }

    /// Send one request over HTTP/1.1 to the URI's authority; the response body streams.
    pub async fn send(
        &self,
        req: Request<RequestBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let pending = self.http1.request(req);
        self.within_header_timeout(async { pending.await.map_err(classify) }).await
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
            sender.send_request(req).await.map_err(|err| {
                match find_cause::<super::body::ClientBodyError>(&err) {
                    Some(body) => UpstreamError::ClientBody(body.to_string()),
                    None => UpstreamError::Http2(err),
                }
            })
        })
        .await
    }

    async fn within_header_timeout(
        &self,
        pending: impl Future<Output = Result<Response<Incoming>, UpstreamError>>,
    ) -> Result<Response<Incoming>, UpstreamError> {
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
        let dial = TcpStream::connect(server);
        let stream = match self.dial_timeout {
            Some(limit) => tokio::time::timeout(limit, dial)
                .await
                .map_err(|_| UpstreamError::DialTimeout(limit))?,
            None => dial.await,
        }
        .map_err(UpstreamError::Dial)?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(TokioIo::new(stream))
            .await
            .map_err(UpstreamError::Http2)?;
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

fn classify(err: hyper_util::client::legacy::Error) -> UpstreamError {
    if let Some(body) = find_cause::<super::body::ClientBodyError>(&err) {
        return UpstreamError::ClientBody(body.to_string());
    }
    if err.is_connect() && caused_by_timeout(&err) {
        UpstreamError::ConnectTimeout(err)
    } else {
        UpstreamError::Failed(err)
    }
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

fn caused_by_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        if e.to_string().contains("timed out") {
            return true;
        }
        cause = e.source();
    }
    false
}

//! Upstream transports: pooled keep-alive clients to the servers, one per `serversTransport`.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::body::RequestBody;
use crate::config::dynamic::ServersTransport;

/// Traefik's default `maxIdleConnsPerHost`.
const DEFAULT_MAX_IDLE_PER_HOST: usize = 200;

/// One `serversTransport`, built: an HTTP/1.1 client and an h2c (HTTP/2 prior knowledge) client
/// for `h2c://` servers, with the same timeouts and pool limits.
pub struct Transport {
    http1: Client<HttpConnector, RequestBody>,
    h2c: Client<HttpConnector, RequestBody>,
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
}

impl UpstreamError {
    /// 504 for timeouts, 502 for every other failure (refused, reset, bad response).
    pub fn status(&self) -> StatusCode {
        match self {
            UpstreamError::ResponseHeaderTimeout(_) | UpstreamError::ConnectTimeout(_) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            UpstreamError::Failed(_) => StatusCode::BAD_GATEWAY,
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
        let http1 = builder.build(connector.clone());
        builder.http2_only(true);
        let h2c = builder.build(connector);
        Transport {
            http1,
            h2c,
            response_header_timeout: timeouts.response_header_timeout.non_zero(),
            config: config.clone(),
        }
    }

    /// Send one request; the response body streams from the server.
    pub async fn send(
        &self,
        req: Request<RequestBody>,
        h2c: bool,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let client = if h2c { &self.h2c } else { &self.http1 };
        let pending = client.request(req);
        let result = match self.response_header_timeout {
            Some(limit) => match tokio::time::timeout(limit, pending).await {
                Ok(result) => result,
                Err(_) => return Err(UpstreamError::ResponseHeaderTimeout(limit)),
            },
            None => pending.await,
        };
        result.map_err(classify)
    }
}

fn classify(err: hyper_util::client::legacy::Error) -> UpstreamError {
    if err.is_connect() && caused_by_timeout(&err) {
        UpstreamError::ConnectTimeout(err)
    } else {
        UpstreamError::Failed(err)
    }
}

fn caused_by_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
            }
        }
        if e.to_string().contains("timed out") {
            return true;
        }
        cause = e.source();
    }
    false
}

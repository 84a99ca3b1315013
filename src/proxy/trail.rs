//! What the request path learns on its way (router, service, server, the server's answer) and
//! what the access log needs from the start of the request. Filled by the handler, read once by
//! `finish` when the response ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Request, Version};

use crate::logs::{AccessLog, AccessRecord, Header};

/// Names and outcomes picked up along the request path. `Arc<str>` clones from the compiled table:
/// no allocation.
#[derive(Default)]
pub(super) struct Trail {
    pub router: Option<Arc<str>>,
    pub service: Option<Arc<str>>,
    pub server: Option<Arc<str>>,
    pub server_addr: Option<Box<str>>,
    /// Status and time to headers of the server's answer, when one came; for the answers
    /// tollgate makes in the server's place, what Traefik records for them: the error's status
    /// when a server failed, 0 (and 0 bytes) when no router matched.
    pub origin_status: Option<u16>,
    pub origin_duration: Option<Duration>,
    /// Response headers, kept only when the access log logs headers.
    pub response_headers: Option<HeaderMap>,
}

/// The request as it arrived, copied only when an access log is on.
pub(super) struct AccessStart {
    log: Arc<AccessLog>,
    at: SystemTime,
    peer: SocketAddr,
    entry_point: Arc<str>,
    method: http::Method,
    // `Uri` and `HeaderValue` clones share the request's bytes: no copy, no allocation.
    uri: http::Uri,
    protocol: &'static str,
    host: Option<http::HeaderValue>,
    request_bytes: u64,
    request_count: u64,
    forwarded_for: Option<http::HeaderValue>,
    request_headers: Option<HeaderMap>,
}

impl AccessStart {
    pub(super) fn capture<B>(
        log: Arc<AccessLog>,
        req: &Request<B>,
        at: SystemTime,
        peer: SocketAddr,
        entry_point: Arc<str>,
        request_count: u64,
        request_bytes: u64,
    ) -> Box<AccessStart> {
        let headers = req.headers();
        let host = headers.get(http::header::HOST).cloned();
        let wants_headers = log.wants_headers();
        Box::new(AccessStart {
            at,
            peer,
            entry_point,
            method: req.method().clone(),
            uri: req.uri().clone(),
            protocol: match req.version() {
                Version::HTTP_10 => "HTTP/1.0",
                Version::HTTP_2 => "HTTP/2.0",
                Version::HTTP_3 => "HTTP/3.0",
                _ => "HTTP/1.1",
            },
            host,
            request_bytes,
            request_count,
            forwarded_for: headers.get(&super::headers::X_FORWARDED_FOR).cloned(),
            request_headers: wants_headers.then(|| headers.clone()),
            log,
        })
    }

    /// Write the access-log line for the finished request.
    pub(super) fn record(&self, trail: &Trail, status: u16, bytes: u64, duration: Duration) {
        let request_headers = header_list(self.request_headers.as_ref());
        let response_headers = header_list(trail.response_headers.as_ref());
        // HTTP/2 carries the host in the URI, HTTP/1 in the Host header.
        let host = match self.uri.authority() {
            Some(authority) => authority.as_str(),
            None => self.host.as_ref().and_then(|h| h.to_str().ok()).unwrap_or(""),
        };
        self.log.record(&AccessRecord {
            client: Some(self.peer),
            forwarded_for: self.forwarded_for.as_ref().and_then(|v| v.to_str().ok()),
            user: None,
            start: self.at,
            method: self.method.as_str(),
            path: self.uri.path_and_query().map_or("/", |pq| pq.as_str()),
            protocol: self.protocol,
            host,
            scheme: "http",
            entry_point: &self.entry_point,
            status,
            bytes,
            request_bytes: self.request_bytes,
            request_count: self.request_count,
            router: trail.router.as_deref(),
            service: trail.service.as_deref(),
            service_url: trail.server.as_deref(),
            service_addr: trail.server_addr.as_deref(),
            duration,
            origin_duration: trail.origin_duration,
            origin_status: trail.origin_status,
            // Traefik's not-found handler records an empty origin.
            origin_bytes: trail.origin_status.map(|status| if status == 0 { 0 } else { bytes }),
            retry_attempts: 0,
            tls_version: None,
            tls_cipher: None,
            request_headers: &request_headers,
            origin_headers: &response_headers,
            response_headers: &response_headers,
        });
    }
}

fn header_list(headers: Option<&HeaderMap>) -> Vec<Header<'_>> {
    headers
        .into_iter()
        .flat_map(|h| h.iter())
        .filter_map(|(name, value)| {
            Some(Header { name: name.as_str(), value: value.to_str().ok()? })
        })
        .collect()
}

//! Forwarding one request to one server: the outbound request as Go's reverse proxy (Traefik's)
//! builds it, the response with hop-by-hop headers removed, and protocol upgrades relayed.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode, Version, request};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::body::{RequestBody, ResponseBody};
use super::client::{Transport, UpstreamError};
use super::h1::ServerBody;
use super::headers::{append_forwarded_for, restore_upgrade, strip_hop_by_hop};
use super::pool::Lease;
use super::target::Target;
use super::trail::Trail;

/// The client side of a request, as forwarding needs it.
#[derive(Clone, Copy)]
pub(super) struct Client<'a> {
    /// The client address as a header value (for `X-Forwarded-For`).
    pub address: &'a HeaderValue,
    /// Where the server's interim (1xx) answers go, when the client's connection passes them
    /// on (`None` for mirrors and for requests hyper's server serves).
    pub interim: Option<&'a super::h1::InterimRelay>,
}

/// What the forwarding step needs besides the request itself.
pub(super) struct Outbound<'a> {
    pub target: &'a Target,
    pub transport: &'a Transport,
    pub pass_host_header: bool,
    pub client: Client<'a>,
}

/// Send the request to the server and turn the answer (or failure) into the client's response.
pub(super) async fn forward(
    mut parts: request::Parts,
    body: RequestBody,
    out: Outbound<'_>,
    trail: &mut Trail,
) -> Response<ResponseBody> {
    let client_upgrade = parts.extensions.remove::<OnUpgrade>();
    let upgrade = strip_hop_by_hop(&mut parts.headers);
    if let Some(kind) = upgrade.clone() {
        restore_upgrade(&mut parts.headers, kind);
    }
    append_forwarded_for(&mut parts.headers, out.client.address);

    let pq = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    // Go's proxy sends `;` in the query as `&` (Traefik keeps that behaviour).
    let pq =
        if pq.contains(';') { std::borrow::Cow::Owned(pq.replace(';', "&")) } else { pq.into() };
    if !out.pass_host_header || !parts.headers.contains_key(header::HOST) {
        // HTTP/2 clients send no Host header: the authority they asked for becomes it, unless
        // passHostHeader is off, when the server's own authority does.
        let host = match (out.pass_host_header, parts.uri.authority()) {
            (true, Some(authority)) => authority.as_str().to_owned(),
            _ => out.target.authority.as_str().to_owned(),
        };
        if let Ok(value) = HeaderValue::from_str(&host) {
            parts.headers.insert(header::HOST, value);
        }
    }

    let sent_at = std::time::Instant::now();
    // Requests without a body go on tollgate's own HTTP/1.1 connections (`h1`); bodies,
    // upgrades and h2c through hyper's client.
    let plain = !out.target.h2c && upgrade.is_none() && matches!(body, RequestBody::Empty);
    let sent = if plain {
        // The path and query came from a parsed URI: written as they are, not parsed again.
        let target = out.target.request_target(&pq);
        let (pool, server) = (&out.target.plain, out.target.authority.as_str());
        let relay = out.client.interim;
        out.transport.send_plain(pool, server, &parts, &target, relay).await.map(Sent::Plain)
    } else {
        let Some(uri) = out.target.uri_for(&pq) else {
            return error_response(StatusCode::BAD_REQUEST);
        };
        parts.uri = uri;
        // Boxed: hyper's client future is four kilobytes, and every future that awaits this one
        // would carry (and move, request after request) room for it.
        Box::pin(send_through_hyper(parts, body, &out)).await
    };
    // Traefik's access log records its error answer as the origin's.
    let sent = sent.map_err(|err| upstream_failed(&err, out.target));
    let origin_status = match &sent {
        Ok(sent) => sent.status(),
        Err(answer) => answer.status(),
    };
    trail.origin_status = Some(origin_status.as_u16());
    trail.origin_duration = Some(sent_at.elapsed());
    let sent = match sent {
        Ok(sent) => sent,
        Err(answer) => return answer,
    };
    let mut response = match sent {
        Sent::Hyper(response, _) if response.status() == StatusCode::SWITCHING_PROTOCOLS => {
            return relay_upgrade(response, client_upgrade, upgrade.is_some());
        }
        Sent::Hyper(response, lease) => response.map(|body| ResponseBody::from_server(body, lease)),
        Sent::Plain(response) => response.map(ResponseBody::Server),
    };
    // Go's proxy strips `Trailer` with the hop-by-hop headers, then announces the server's
    // trailers again (hyper's server only writes trailers a `Trailer` header announced).
    let trailers = announced_trailers(response.headers_mut());
    strip_hop_by_hop(response.headers_mut());
    for value in trailers {
        response.headers_mut().append(header::TRAILER, value);
    }
    // The client gets our HTTP version, not the server's (an HTTP/1.0 server behind us must not
    // turn the client's connection into HTTP/1.0).
    *response.version_mut() = Version::HTTP_11;
    response
}

/// A server's answer, from either client.
enum Sent {
    Plain(Response<ServerBody>),
    Hyper(Response<Incoming>, Option<Lease>),
}

impl Sent {
    fn status(&self) -> StatusCode {
        match self {
            Sent::Plain(response) => response.status(),
            Sent::Hyper(response, _) => response.status(),
        }
    }
}

async fn send_through_hyper(
    parts: request::Parts,
    body: RequestBody,
    out: &Outbound<'_>,
) -> Result<Sent, UpstreamError> {
    let mut outbound = Request::new(body);
    *outbound.method_mut() = parts.method;
    *outbound.uri_mut() = parts.uri;
    *outbound.headers_mut() = parts.headers;
    *outbound.version_mut() = if out.target.h2c { Version::HTTP_2 } else { Version::HTTP_11 };
    let server = out.target.authority.as_str();
    if out.target.h2c {
        // HTTP/2 carries the authority in the URI, and forbids a Host that disagrees with it.
        if let Some(host) = outbound.headers().get(header::HOST).and_then(|h| h.to_str().ok())
            && let Some(uri) = with_authority(outbound.uri(), host)
        {
            *outbound.uri_mut() = uri;
        }
        outbound.headers_mut().remove(header::HOST);
        let response = out.transport.send_h2c(server, outbound).await?;
        return Ok(Sent::Hyper(response, None));
    }
    let (response, lease) = out.transport.send(&out.target.pool, server, outbound).await?;
    Ok(Sent::Hyper(response, Some(lease)))
}

/// The response's `Trailer` values, taken out of it.
fn announced_trailers(headers: &mut HeaderMap) -> Vec<HeaderValue> {
    match headers.entry(header::TRAILER) {
        http::header::Entry::Occupied(entry) => entry.remove_entry_mult().1.collect(),
        http::header::Entry::Vacant(_) => Vec::new(),
    }
}

fn with_authority(uri: &http::Uri, host: &str) -> Option<http::Uri> {
    let mut parts = uri.clone().into_parts();
    parts.authority = Some(host.parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

fn upstream_failed(err: &UpstreamError, target: &Target) -> Response<ResponseBody> {
    let status = err.status();
    tracing::debug!(server = %target.url, error = %err, status = status.as_u16(), "request to server failed");
    error_response(status)
}

/// A 101 from the server: answer the client with it, then splice the two connections once both
/// sides have switched.
fn relay_upgrade(
    mut response: Response<Incoming>,
    client_upgrade: Option<OnUpgrade>,
    requested: bool,
) -> Response<ResponseBody> {
    let (Some(client_upgrade), true) = (client_upgrade, requested) else {
        // A server may not switch protocols the client never asked for (Traefik: 500).
        return error_response(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let server_upgrade = hyper::upgrade::on(&mut response);
    tokio::spawn(async move {
        let (client, server) = match tokio::try_join!(client_upgrade, server_upgrade) {
            Ok(both) => both,
            Err(err) => {
                tracing::debug!(error = %err, "protocol upgrade failed");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut server = TokioIo::new(server);
        if let Err(err) = tokio::io::copy_bidirectional(&mut client, &mut server).await {
            tracing::debug!(error = %err, "upgraded connection ended with an error");
        }
    });
    let (mut parts, _) = response.into_parts();
    // Keep Connection/Upgrade on a 101: they are what the client is waiting for.
    let kind = parts.headers.get(header::UPGRADE).cloned();
    strip_hop_by_hop(&mut parts.headers);
    if let Some(kind) = kind {
        restore_upgrade(&mut parts.headers, kind);
    }
    Response::from_parts(parts, ResponseBody::Empty)
}

/// Traefik's error answer: the status and Go's status text as the body, no content type
/// (Traefik turns Go's content sniffing off).
pub(super) fn error_response(status: StatusCode) -> Response<ResponseBody> {
    let text = status.canonical_reason().unwrap_or("");
    let mut response = Response::new(ResponseBody::text(text));
    *response.status_mut() = status;
    response
}

//! The request path, in the order a request meets it:
//!
//! 1. framing checks (ambiguous lengths are refused before anything reads them),
//! 2. the entry point's path normalisation and forwarded headers (rules see what Traefik's see),
//! 3. routing on the table in force when the request arrived,
//! 4. the router's middlewares, request phase,
//! 5. the service (load balancer → server, weighted → child, mirroring → main + mirrors),
//! 6. the middlewares' response phase, in reverse,
//! 7. `finish`: the `Hit` when the response body ends.
//!
//! Steps 1-5 up to the server are plain functions (`route`, `pick`); `handle` awaits only the
//! forwarding itself. Each `async fn` level copies its arguments into its future (and again into
//! its locals) and holds its callee's future inline: with routing and the service walk as levels
//! of their own, every request copied its parts two levels more into connection state that is
//! rarely still in cache (callgrind's cache simulation, docs/PERFORMANCE.md).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version, request};
use hyper::body::Incoming;

use super::body::{RequestBody, ResponseBody};
use super::finish::{ConnState, Finish, HitSink, Tracked};
use super::forward::{Client, Outbound, error_response, forward};
use super::h1::InterimRelay;
use super::headers::{ForwardedPolicy, Origin, is_websocket};
use super::service::{LoadBalancer, ServiceId, ServiceRt, add_cookies, choose};
use super::table::{Internal, RouteTable, RouterId};
use super::target::Target;
use super::trail::{AccessStart, Trail};
use crate::logs::AccessLog;
use crate::middleware::{Reply, RequestCx, Step};
use crate::rule::{self, RequestView};
use crate::stats::{self, Hit};
use std::sync::atomic::{AtomicU64, Ordering};

/// One entry point's fixed settings (from the static configuration).
pub struct EntryPointRt {
    pub name: Arc<str>,
    pub forwarded: ForwardedPolicy,
}

/// State every request on every entry point shares.
pub struct Shared {
    pub routes: ArcSwap<RouteTable>,
    pub entrypoints: Box<[EntryPointRt]>,
    pub hits: Option<Arc<dyn HitSink>>,
    /// Reads the stats engine's figures for `report@internal`; `None` when stats are off.
    pub stats: Option<crate::stats::StatsReader>,
    /// `accessLog`, when configured.
    pub access_log: Option<Arc<AccessLog>>,
    /// Requests received since start (the access log's RequestCount, the status line).
    pub requests: AtomicU64,
    /// Shutdown has begun (ping answers its terminating status).
    pub stopping: std::sync::atomic::AtomicBool,
}

/// The connection a request arrived on.
pub(super) struct ConnInfo {
    /// The peer's address as a header value, made once per connection.
    pub peer_value: HeaderValue,
    /// The entry point's `respondingTimeouts.writeTimeout`, if any.
    pub write_timeout: Option<std::time::Duration>,
    pub peer: SocketAddr,
    pub entrypoint: usize,
    pub tls: bool,
    pub state: Arc<ConnState>,
    /// Interim answers on their way to this client (`inbound` enables it per request).
    pub interim: InterimRelay,
}

/// Serve one request. Never fails: every error becomes a response here.
pub(super) async fn handle(
    req: Request<RequestBody>,
    conn: &ConnInfo,
    shared: &Shared,
) -> Response<Tracked> {
    // The two clocks are read once here and once at the end (`Finish::complete`): each read is
    // a vDSO call, and the request's steps read them about ten times before.
    let started = Instant::now();
    let wall = SystemTime::now();
    conn.state.begin();
    let count = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    // Made in its box, before routing: the record is most of a kilobyte, and as a local of
    // this future it would be held, and moved with the future, for every request.
    let mut finish = Box::new(Finish {
        hit: Box::default(),
        started,
        sink: shared.hits.clone(),
        conn: conn.state.clone(),
        trail: Trail::default(),
        access: None,
    });
    // Filled where it lies: returned by value, the record was copied once more into its box.
    start_hit(&mut finish.hit, &req, conn, wall);
    finish.access = shared.access_log.as_ref().map(|log| {
        let entry_point = shared.entrypoints[conn.entrypoint].name.clone();
        let (peer, bytes_in) = (conn.peer, finish.hit.bytes_in);
        AccessStart::capture(log.clone(), &req, wall, peer, entry_point, count, bytes_in)
    });
    let Finish { hit, trail, .. } = &mut *finish;
    let routed = route(req, conn, shared, hit, trail);
    let response = match routed {
        Routed::Answer(response) => response,
        Routed::Internal { internal, parts, ran } => {
            // Boxed: a rare path, whose future should not widen every request's.
            let response = Box::pin(serve_internal(internal, &parts, shared)).await;
            ran.respond_through(response)
        }
        Routed::Service { service, parts, body, ran } => {
            let interim = conn.interim.enabled().then_some(&conn.interim);
            let client = Client { address: &conn.peer_value, interim };
            let picked = pick(&ran.table, service, &parts, &body, client.address, trail);
            let response = match picked {
                Ok(picked) => {
                    let mut response = forward(parts, body, picked.outbound(client), trail).await;
                    add_cookies(response.headers_mut(), &picked.cookies);
                    response
                }
                Err(status) => no_server(status),
            };
            ran.respond_through(response)
        }
    };
    finish.hit.status = response.status().as_u16();
    if let Some(service) = &finish.trail.service {
        stats::fill(&mut finish.hit.service, service);
    }
    if finish.access.is_some() && shared.access_log.as_ref().is_some_and(|l| l.wants_headers()) {
        finish.trail.response_headers = Some(response.headers().clone());
    }
    response.map(|body| Tracked::new(body, finish, conn.write_timeout))
}

/// Where routing sent a request.
enum Routed {
    /// Answered already: no router, a middleware's reply, a request that cannot be routed.
    Answer(Response<ResponseBody>),
    /// One of tollgate's own endpoints.
    Internal { internal: Internal, parts: request::Parts, ran: Ran },
    /// To a service, the request as the middlewares left it.
    Service { service: ServiceId, parts: request::Parts, body: RequestBody, ran: Ran },
}

/// The router a request took and how many of its middlewares ran: their response phase is owed.
struct Ran {
    table: Arc<RouteTable>,
    router: RouterId,
    middlewares: usize,
}

impl Ran {
    /// Run the response phase of the middlewares that ran, last first.
    fn respond_through(&self, response: Response<ResponseBody>) -> Response<ResponseBody> {
        let ran = &self.table.router(self.router).middlewares[..self.middlewares];
        if ran.is_empty() {
            return response;
        }
        let (mut parts, body) = response.into_parts();
        for middleware in ran.iter().rev() {
            middleware.on_response(&mut parts);
        }
        Response::from_parts(parts, body)
    }
}

/// The entry point's steps, routing, and the router's middlewares (request phase): nothing here
/// waits.
fn route(
    req: Request<RequestBody>,
    conn: &ConnInfo,
    shared: &Shared,
    hit: &mut Hit,
    trail: &mut Trail,
) -> Routed {
    let (mut parts, body) = req.into_parts();
    if let Err(status) = check_framing(&parts) {
        return Routed::Answer(error_response(status));
    }
    let Ok(paths) = rule::request_paths(parts.uri.path(), true) else {
        return Routed::Answer(malformed());
    };
    let routing_path = paths.routing.into_owned();
    if paths.forwarded != parts.uri.path() {
        match crate::middleware::with_path(&parts.uri, &paths.forwarded) {
            Some(uri) => parts.uri = uri,
            None => return Routed::Answer(error_response(StatusCode::BAD_REQUEST)),
        }
    }
    let ep = &shared.entrypoints[conn.entrypoint];
    let host = request_host(&parts);
    if !host.is_ascii() {
        return Routed::Answer(malformed());
    }
    let websocket = is_websocket(&parts.headers);
    ep.forwarded.apply(
        &mut parts.headers,
        &Origin {
            peer: conn.peer.ip(),
            peer_value: &conn.peer_value,
            tls: conn.tls,
            host: &host,
            websocket,
        },
    );

    let table = shared.routes.load_full();
    let view = RequestView {
        method: &parts.method,
        host: &host,
        path: &routing_path,
        query: parts.uri.query(),
        headers: &parts.headers,
        client_ip: Some(conn.peer.ip()),
    };
    let Some(&router_id) = table.entrypoints[conn.entrypoint].routes.first_match(&view) else {
        // What Traefik's access log records for its not-found handler: an origin of status 0.
        trail.origin_status = Some(0);
        trail.origin_duration = Some(std::time::Duration::ZERO);
        return Routed::Answer(not_found());
    };
    let router = table.router(router_id);
    stats::fill(&mut hit.router, &router.name);
    trail.router = Some(router.name.clone());

    let cx = RequestCx { tls: conn.tls };
    let mut reply = None;
    let mut ran = 0;
    for middleware in router.middlewares.iter() {
        ran += 1;
        if let Step::Respond(answer) = middleware.on_request(&mut parts, &cx) {
            reply = Some(answer);
            break;
        }
    }
    let (internal, service) = (router.internal, router.service);
    let ran = Ran { table, router: router_id, middlewares: ran };
    if let Some(reply) = reply {
        return Routed::Answer(ran.respond_through(reply_response(reply)));
    }
    match (internal, service) {
        (Some(internal), _) => Routed::Internal { internal, parts, ran },
        (None, Some(service)) => Routed::Service { service, parts, body, ran },
        (None, None) => Routed::Answer(not_found()),
    }
}

/// The server a request goes to, and the sticky cookies the choices along the way set.
struct Picked<'t> {
    lb: &'t LoadBalancer,
    target: &'t Target,
    cookies: Vec<HeaderValue>,
}

impl<'t> Picked<'t> {
    fn outbound<'a>(&self, client: Client<'a>) -> Outbound<'a>
    where
        't: 'a,
    {
        Outbound {
            target: self.target,
            transport: &self.lb.transport,
            pass_host_header: self.lb.pass_host_header,
            client,
        }
    }
}

/// Walk weighted and mirroring services down to a load balancer and choose one of its servers;
/// mirrors get their copies on the way. `Err`: the status when no server can be had.
fn pick<'t>(
    table: &'t Arc<RouteTable>,
    mut id: ServiceId,
    parts: &request::Parts,
    body: &RequestBody,
    client: &HeaderValue,
    trail: &mut Trail,
) -> Result<Picked<'t>, StatusCode> {
    let mut cookies: Vec<HeaderValue> = Vec::new();
    // Bounded: compile refuses cycles, so each step goes one level down a finite tree.
    loop {
        match table.service(id) {
            ServiceRt::Weighted(w) => {
                let choice = choose(&w.balancer, w.sticky.as_ref(), &parts.headers)?;
                cookies.extend(choice.set_cookie);
                id = w.children[choice.child];
            }
            ServiceRt::Mirroring(m) => {
                let has_body = matches!(body, RequestBody::Incoming(_));
                if !has_body || !m.mirror_body {
                    for mirror in m.mirrors_for_next() {
                        spawn_mirror(table.clone(), mirror, parts, client);
                    }
                }
                id = m.main;
            }
            ServiceRt::LoadBalancer(lb) => {
                trail.service = Some(lb.name.clone());
                let choice = choose(&lb.balancer, lb.sticky.as_ref(), &parts.headers)?;
                cookies.extend(choice.set_cookie);
                let target = &lb.targets[choice.child];
                trail.server = Some(target.url.clone());
                trail.server_addr = Some(target.authority.as_str().into());
                return Ok(Picked { lb, target, cookies });
            }
        }
    }
}

/// tollgate's own answers.
async fn serve_internal(
    internal: Internal,
    parts: &request::Parts,
    shared: &Shared,
) -> Response<ResponseBody> {
    match internal {
        Internal::Ping { terminating } => {
            let stopping = shared.stopping.load(std::sync::atomic::Ordering::Relaxed);
            let status = if stopping { terminating } else { StatusCode::OK };
            // Traefik writes the status text and no content type.
            let mut response =
                Response::new(ResponseBody::text(status.canonical_reason().unwrap_or("")));
            *response.status_mut() = status;
            response
        }
        Internal::Report => {
            if parts.method != http::Method::GET && parts.method != http::Method::HEAD {
                return go_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            }
            let answer = crate::web::report(parts.uri.path(), shared.stats.as_ref()).await;
            let mut response = Response::new(ResponseBody::Full(Some(answer.body.into())));
            *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}

/// Send a body-less copy of the request to a mirror; its answer is read and dropped.
fn spawn_mirror(
    table: Arc<RouteTable>,
    mirror: ServiceId,
    parts: &request::Parts,
    client: &HeaderValue,
) {
    let client = client.clone();
    let mut copy = Request::new(());
    *copy.method_mut() = parts.method.clone();
    *copy.uri_mut() = parts.uri.clone();
    *copy.headers_mut() = parts.headers.clone();
    let (copy, ()) = copy.into_parts();
    tokio::spawn(async move {
        let mut scratch = Trail::default();
        let body = RequestBody::Empty;
        let Ok(picked) = pick(&table, mirror, &copy, &body, &client, &mut scratch) else {
            return;
        };
        // A mirror's interim answers go nowhere, as its final one.
        let out = picked.outbound(Client { address: &client, interim: None });
        let response = forward(copy, body, out, &mut scratch).await;
        let _ = http_body_util::BodyExt::collect(response.into_body()).await;
    });
}

/// Fill a fresh (default) record with what the request says. Field by field: a whole `Hit`
/// assigned would be built aside and copied in.
fn start_hit<B>(hit: &mut Hit, req: &Request<B>, conn: &ConnInfo, wall: SystemTime) {
    hit.at_unix_ms = wall.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    hit.client = Some(super::ipnet::canonical(conn.peer.ip()));
    hit.method = method_id(req.method());
    hit.protocol = match req.version() {
        Version::HTTP_10 => stats::Protocol::Http10,
        Version::HTTP_11 => stats::Protocol::Http11,
        Version::HTTP_2 => stats::Protocol::Http2,
        Version::HTTP_3 => stats::Protocol::Http3,
        _ => stats::Protocol::Other,
    };
    hit.tls = if conn.tls { stats::TlsVersion::Other } else { stats::TlsVersion::None };
    // One pass over the headers instead of four lookups, each hashing its name; the first
    // value of a name is what `get` would return.
    let (mut length, mut host_header, mut referrer, mut agent) = (None, None, None, None);
    for (name, value) in req.headers() {
        let slot = match *name {
            header::CONTENT_LENGTH => &mut length,
            header::HOST => &mut host_header,
            header::REFERER => &mut referrer,
            header::USER_AGENT => &mut agent,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    hit.bytes_in = length.and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0);
    let host = host_header.and_then(|h| h.to_str().ok()).or(req.uri().host()).unwrap_or("");
    let host = host
        .rsplit_once(':')
        .filter(|(h, _)| !h.ends_with(']') || h.starts_with('['))
        .map_or(host, |(h, _)| h);
    stats::fill(&mut hit.host, host);
    hit.host.make_ascii_lowercase();
    hit.set_target(req.uri().path_and_query().map_or("/", |pq| pq.as_str()));
    if let Some(referrer) = referrer.and_then(|v| v.to_str().ok()) {
        stats::fill(&mut hit.referrer, referrer);
    }
    if let Some(agent) = agent.and_then(|v| v.to_str().ok()) {
        hit.set_user_agent(agent);
    }
}

fn method_id(method: &http::Method) -> stats::Method {
    use http::Method as M;
    match *method {
        M::GET => stats::Method::Get,
        M::HEAD => stats::Method::Head,
        M::POST => stats::Method::Post,
        M::PUT => stats::Method::Put,
        M::DELETE => stats::Method::Delete,
        M::CONNECT => stats::Method::Connect,
        M::OPTIONS => stats::Method::Options,
        M::TRACE => stats::Method::Trace,
        M::PATCH => stats::Method::Patch,
        _ => stats::Method::Other,
    }
}

/// Refuse messages whose length is ambiguous (request smuggling): `Content-Length` together with
/// `Transfer-Encoding`, or `Content-Length` given more than once.
fn check_framing(parts: &request::Parts) -> Result<(), StatusCode> {
    let lengths = parts.headers.get_all(header::CONTENT_LENGTH).iter().count();
    if lengths > 1 || (lengths == 1 && parts.headers.contains_key(header::TRANSFER_ENCODING)) {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(())
}

/// A request as hyper's server read it, its body left out when there is none to forward.
pub(super) fn from_hyper(req: Request<Incoming>) -> Request<RequestBody> {
    let (parts, body) = req.into_parts();
    let empty = http_body::Body::is_end_stream(&body)
        || parts.headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0");
    let body = if empty { RequestBody::Empty } else { RequestBody::Incoming(body) };
    Request::from_parts(parts, body)
}

/// The host the client asked for, as Go's server sets `Request.Host`: the authority of an
/// absolute-form target (or HTTP/2's `:authority`) when present, else the Host header.
fn request_host(parts: &request::Parts) -> String {
    parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .filter(|a| !a.is_empty())
        .or_else(|| {
            parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Go's `http.Error`: the text, a newline, plain text, no sniffing.
fn go_error(status: StatusCode, text: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Go's server answer to a request it cannot parse (a bad escape, a non-ASCII host).
fn malformed() -> Response<ResponseBody> {
    let mut response = go_error(StatusCode::BAD_REQUEST, "400 Bad Request");
    response.headers_mut().remove(header::X_CONTENT_TYPE_OPTIONS);
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn not_found() -> Response<ResponseBody> {
    go_error(StatusCode::NOT_FOUND, "404 page not found\n")
}

fn no_server(status: StatusCode) -> Response<ResponseBody> {
    go_error(status, "no available server\n")
}

fn reply_response(reply: Reply) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::Full(Some(reply.body)));
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    response
}

//! Entry points: listening sockets, the accept loop, and serving each connection with HTTP/1.1 or
//! HTTP/2 (prior knowledge) under the entry point's timeouts and limits.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use super::finish::{ConnState, monotonic_ms};
use super::framing::Guarded;
use super::handler::{ConnInfo, Shared, from_hyper, handle};
use super::inbound;
use crate::config::ListenAddress;
use crate::config::static_config::EntryPoint;

/// Go's `http.DefaultMaxHeaderBytes`, Traefik's default `maxHeaderBytes`.
const MAX_HEADER_BYTES: usize = 1 << 20;
/// Header lines accepted in one request; more is answered with 431.
const MAX_HEADERS: usize = 512;
/// Traefik's HTTP/2 default.
const MAX_CONCURRENT_STREAMS: u32 = 250;
/// How often a connection checks whether it has been idle too long.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Why an entry point could not listen.
#[derive(Debug, thiserror::Error)]
#[error("entry point `{name}`: cannot listen on {addr}: {source}")]
pub struct ListenError {
    name: String,
    addr: SocketAddr,
    source: std::io::Error,
}

/// Bind an entry point's socket. An all-interfaces address (`:80`) binds `[::]` dual-stack,
/// falling back to `0.0.0.0` on machines without IPv6, as Go does.
pub fn bind(name: &str, address: &ListenAddress) -> Result<StdListener, ListenError> {
    let bind_err = |addr, source| ListenError { name: name.to_owned(), addr, source };
    match bind_socket(address.socket, address.all_interfaces) {
        Ok(listener) => Ok(listener),
        Err(err) => match address.ipv4_fallback() {
            Some(v4) if is_no_ipv6(&err) => bind_socket(v4, false).map_err(|e| bind_err(v4, e)),
            _ => Err(bind_err(address.socket, err)),
        },
    }
}

/// The errors a kernel without IPv6 gives for an IPv6 socket.
fn is_no_ipv6(err: &std::io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL | libc::EPROTONOSUPPORT)
    )
}

fn bind_socket(addr: SocketAddr, dual_stack: bool) -> std::io::Result<StdListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    if dual_stack {
        socket.set_only_v6(false)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Open connections of all entry points, for the drain at shutdown.
#[derive(Default)]
pub struct Connections {
    open: AtomicUsize,
    closed: Notify,
}

impl Connections {
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Wait until every connection has closed.
    pub async fn drained(&self) {
        loop {
            let notified = self.closed.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct OpenGuard(Arc<Connections>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if self.0.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.closed.notify_waiters();
        }
    }
}

/// Per-entry-point connection settings.
pub struct ConnSettings {
    builder: auto::Builder<TokioExecutor>,
    idle_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Before the first request, a connection gets the shorter of this and the idle timeout.
    read_timeout: Option<Duration>,
}

impl ConnSettings {
    pub fn new(ep: &EntryPoint) -> ConnSettings {
        let timeouts = &ep.transport.responding_timeouts;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            // Slowloris is the watchdog's (`watch`): readTimeout from a head's first byte, as
            // Go counts it. hyper's own timeout (30 s unless disabled) would also arm a timer
            // for every request on every keep-alive connection.
            .header_read_timeout(None)
            .max_buf_size(MAX_HEADER_BYTES + 4096)
            .max_headers(MAX_HEADERS)
            // Go writes canonical header names (`Content-Type`); some HTTP/1 clients rely on it.
            .title_case_headers(true)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
            .max_header_list_size(MAX_HEADER_BYTES as u32);
        ConnSettings {
            builder,
            idle_timeout: timeouts.idle_timeout.non_zero(),
            write_timeout: timeouts.write_timeout.non_zero(),
            read_timeout: timeouts.read_timeout.non_zero(),
        }
    }
}

/// Accept connections until `stop` turns true; each connection is served on its own task and
/// told to finish its current requests and close when `stop` fires.
pub async fn serve(
    listener: TcpListener,
    entrypoint: usize,
    settings: Arc<ConnSettings>,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                connections.open.fetch_add(1, Ordering::AcqRel);
                let guard = OpenGuard(connections.clone());
                let (settings, shared, stop) = (settings.clone(), shared.clone(), stop.clone());
                tokio::spawn(async move {
                    serve_connection(stream, peer, entrypoint, settings, shared, stop).await;
                    drop(guard);
                });
            }
            Err(err) => {
                // Out of file descriptors or a connection reset before accept: the listener
                // itself is fine. Back off briefly so an fd shortage does not spin.
                tracing::warn!(error = %err, entrypoint = %shared.entrypoints[entrypoint].name, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    entrypoint: usize,
    settings: Arc<ConnSettings>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let state = Arc::new(ConnState::default());
    let opened_ms = monotonic_ms();
    let info = Arc::new(ConnInfo {
        peer_value: super::headers::ip_value(peer.ip()),
        write_timeout: settings.write_timeout,
        peer,
        entrypoint,
        tls: false,
        state: state.clone(),
        interim: Default::default(),
    });
    let mut ticker = tokio::time::interval(IDLE_CHECK);

    // Plain requests first, on tollgate's own HTTP/1.1 server (`inbound`).
    let control = inbound::Control::default();
    let read = {
        let plain = inbound::serve(&mut stream, &info, &shared, &control);
        tokio::pin!(plain);
        loop {
            tokio::select! {
                ended = plain.as_mut() => match ended {
                    inbound::Ended::Closed => return,
                    inbound::Ended::HandOver(read) => break read,
                },
                _ = stop.wait_for(|s| *s), if !control.closing() => {
                    if control.between_requests() {
                        return;
                    }
                    control.close();
                }
                _ = ticker.tick(), if !control.closing() => {
                    match watch(&state, opened_ms, &settings) {
                        Watch::Fine => {}
                        // Nothing in flight: close at once, as Go's ReadHeaderTimeout does.
                        _ if control.between_requests() => return,
                        Watch::SlowHead | Watch::Idle => control.close(),
                    }
                }
            }
        }
    };
    if control.closing() {
        return;
    }

    // Everything else (bodies, upgrades, HTTP/2, errors) on hyper's, for the rest of the
    // connection.
    let service = service_fn(move |req| {
        let (info, shared) = (info.clone(), shared.clone());
        async move { Ok::<_, std::convert::Infallible>(handle(from_hyper(req), &info, &shared).await) }
    });
    let io = TokioIo::new(Guarded::resume(
        stream,
        read.into(),
        MAX_HEADER_BYTES + 4096,
        state.head_started_ms.clone(),
    ));
    let conn = settings.builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, client.addr = %peer, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = ticker.tick(), if !closing => match watch(&state, opened_ms, &settings) {
                Watch::Fine => {}
                // Nothing in flight: close at once, as Go's ReadHeaderTimeout does (hyper's
                // graceful shutdown would wait for the head to end).
                Watch::SlowHead if state.idle_since_ms().is_some() => return,
                Watch::SlowHead | Watch::Idle => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            },
        }
    }
}

/// What the watchdog found on a connection.
enum Watch {
    Fine,
    /// A head has been trickling in for `readTimeout` (slowloris).
    SlowHead,
    /// No request in flight for `idleTimeout` (or, before any request, for the shorter of
    /// `readTimeout` and `idleTimeout`, so connections that never speak do not pile up).
    Idle,
}

fn watch(state: &ConnState, opened_ms: u64, settings: &ConnSettings) -> Watch {
    let now = monotonic_ms();
    if let (Some(started), Some(limit)) = (state.head_started_ms(), settings.read_timeout)
        && now.saturating_sub(started) >= limit.as_millis() as u64
    {
        return Watch::SlowHead;
    }
    if idle_too_long(state, opened_ms, settings, now) { Watch::Idle } else { Watch::Fine }
}

fn idle_too_long(state: &ConnState, opened_ms: u64, settings: &ConnSettings, now: u64) -> bool {
    let Some(since) = state.idle_since_ms() else { return false };
    let limit = if state.requests() == 0 {
        match (settings.read_timeout, settings.idle_timeout) {
            (Some(r), Some(i)) => Some(r.min(i)),
            (r, i) => r.or(i),
        }
    } else {
        settings.idle_timeout
    };
    let Some(limit) = limit else { return false };
    let since = since.max(opened_ms);
    now.saturating_sub(since) >= limit.as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_all_interfaces_dual_stack() {
        let any = crate::config::parse_address(":0").expect("valid");
        let listener = bind("web", &any).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::net::TcpStream::connect(("127.0.0.1", port))
            .expect("IPv4 reaches the dual-stack socket");
    }
}

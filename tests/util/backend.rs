//! Real HTTP servers on 127.0.0.1 for tollgate to proxy to, each with a named behaviour.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::wrappers::ReceiverStream;

type Body = BoxBody<Bytes, Infallible>;

/// A backend: its address, a switch for its health endpoint, and a request counter.
pub struct Backend {
    pub addr: SocketAddr,
    pub name: String,
    pub healthy: Arc<AtomicBool>,
    pub hits: Arc<AtomicUsize>,
    /// `/sse` sends its first event, then waits for this before the rest.
    pub release: Arc<tokio::sync::Notify>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Backend {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Start an echo backend: every request is answered `200` with a JSON description of what
    /// arrived (method, URI, headers, body size, the peer address) and `X-Backend: <name>`.
    /// Special paths: `/health` (200 or 503 as `healthy` says), `/status/N`, `/slow/MS` (waits
    /// before answering), `/sse` (three events 100 ms apart), `/bytes/N` (N bytes, streamed),
    /// `/ws` (WebSocket echo), `/reset` (closes without answering).
    pub fn start(name: &str) -> Backend {
        Self::start_on("127.0.0.1:0", name, false)
    }

    /// The same behaviours over HTTP/2 with prior knowledge (h2c).
    pub fn start_h2c(name: &str) -> Backend {
        Self::start_on("127.0.0.1:0", name, true)
    }

    fn start_on(bind: &str, name: &str, h2: bool) -> Backend {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("backend runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind(bind)).expect("bind backend");
        let addr = listener.local_addr().expect("backend addr");
        let release = Arc::new(tokio::sync::Notify::new());
        let healthy = Arc::new(AtomicBool::new(true));
        let hits = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(State {
            name: name.to_owned(),
            healthy: healthy.clone(),
            hits: hits.clone(),
            release: release.clone(),
        });
        runtime.spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let io = TokioIo::new(stream);
                    let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                        let state = state.clone();
                        req.extensions_mut().insert(peer);
                        async move { Ok::<_, Infallible>(state.answer(req).await) }
                    });
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, svc)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, svc)
                            .with_upgrades()
                            .await;
                    }
                });
            }
        });
        Backend { addr, name: name.to_owned(), healthy, hits, release, runtime: Some(runtime) }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct State {
    name: String,
    healthy: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
    release: Arc<tokio::sync::Notify>,
}

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    r
}

impl State {
    async fn answer(&self, mut req: Request<Incoming>) -> Response<Body> {
        self.hits.fetch_add(1, Ordering::SeqCst);
        let path = req.uri().path().to_owned();
        let mut response = if path == "/health" {
            if self.healthy.load(Ordering::SeqCst) {
                full(StatusCode::OK, "ok")
            } else {
                full(StatusCode::SERVICE_UNAVAILABLE, "down")
            }
        } else if let Some(code) = path.strip_prefix("/status/") {
            full(
                StatusCode::from_u16(code.parse().unwrap_or(500))
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "",
            )
        } else if let Some(ms) = path.strip_prefix("/slow/") {
            tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(1000))).await;
            full(StatusCode::OK, "slow")
        } else if path == "/sse" {
            let stream = events(3, self.release.clone());
            let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
            r.headers_mut().insert("content-type", "text/event-stream".parse().expect("valid"));
            r
        } else if let Some(n) = path.strip_prefix("/bytes/") {
            let total: usize = n.parse().unwrap_or(0);
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
            tokio::spawn(async move {
                let mut left = total;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if tx.send(Ok(Frame::data(chunk.slice(..n)))).await.is_err() {
                        return;
                    }
                    left -= n;
                }
            });
            let stream = ReceiverStream::new(rx);
            Response::new(BodyExt::boxed(StreamBody::new(stream)))
        } else if path == "/ws" {
            return websocket_echo(req);
        } else {
            let method = req.method().to_string();
            let uri = req.uri().to_string();
            let version = format!("{:?}", req.version());
            let headers: Vec<(String, String)> = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            let mut body_len = 0usize;
            let body = req.body_mut();
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => body_len += f.data_ref().map_or(0, |d| d.len()),
                    Err(_) => break,
                }
            }
            let peer = req.extensions().get::<SocketAddr>().map(ToString::to_string);
            let echo = serde_json::json!({
                "name": self.name, "peer": peer, "method": method, "uri": uri, "version": version,
                "headers": headers, "body_len": body_len,
            });
            full(StatusCode::OK, echo.to_string())
        };
        response
            .headers_mut()
            .insert("x-backend", self.name.parse().expect("backend name is a header value"));
        response
    }
}

/// `n` server-sent events: the first at once, the rest once `release` is notified.
fn events(
    n: usize,
    release: Arc<tokio::sync::Notify>,
) -> ReceiverStream<Result<Frame<Bytes>, Infallible>> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        for i in 0..n {
            if i == 1 {
                release.notified().await;
            }
            let event = Bytes::from(format!("data: event {i}\n\n"));
            if tx.send(Ok(Frame::data(event))).await.is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}

/// Answer a WebSocket handshake, then echo every text or binary frame back (unmasked, as a
/// server must send it) until the client closes.
fn websocket_echo(mut req: Request<Incoming>) -> Response<Body> {
    let Some(key) =
        req.headers().get("sec-websocket-key").and_then(|k| k.to_str().ok()).map(str::to_owned)
    else {
        return full(StatusCode::BAD_REQUEST, "not a websocket handshake");
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut io = TokioIo::new(upgraded);
        loop {
            let mut head = [0u8; 2];
            if io.read_exact(&mut head).await.is_err() {
                return;
            }
            let opcode = head[0] & 0x0f;
            let masked = head[1] & 0x80 != 0;
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                if io.read_exact(&mut b).await.is_err() {
                    return;
                }
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                if io.read_exact(&mut b).await.is_err() {
                    return;
                }
                len = u64::from_be_bytes(b);
            }
            let mut mask = [0u8; 4];
            if masked && io.read_exact(&mut mask).await.is_err() {
                return;
            }
            let mut payload = vec![0u8; len as usize];
            if io.read_exact(&mut payload).await.is_err() {
                return;
            }
            if masked {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= mask[i % 4];
                }
            }
            if opcode == 0x8 {
                let _ = io.write_all(&[0x88, 0]).await;
                return;
            }
            let mut frame = vec![0x80 | opcode];
            if payload.len() < 126 {
                frame.push(payload.len() as u8);
            } else {
                frame.push(126);
                frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            }
            frame.extend_from_slice(&payload);
            if io.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    let accept = websocket_accept(&key);
    let mut r = full(StatusCode::SWITCHING_PROTOCOLS, "");
    r.headers_mut().insert("upgrade", "websocket".parse().expect("valid"));
    r.headers_mut().insert("connection", "Upgrade".parse().expect("valid"));
    r.headers_mut().insert("sec-websocket-accept", accept.parse().expect("valid"));
    r
}

/// `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2).
pub fn websocket_accept(key: &str) -> String {
    let digest = sha1_smol(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
    base64(&digest)
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-1, for the WebSocket handshake only.
fn sha1_smol(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut buf = data.to_vec();
    buf.push(0x80);
    while buf.len() % 64 != 56 {
        buf.push(0);
    }
    buf.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in buf.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t =
                a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

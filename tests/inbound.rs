//! tollgate's own HTTP/1.1 server for plain requests (`src/proxy/inbound`), end to end over raw
//! client sockets: pipelining, the hand-over to hyper in the middle of a connection (a body, an
//! ambiguous length, an upgrade), `Connection: close`, HEAD, heads trickling in, header case and
//! `Date`, streamed and large bodies, and a shutdown that lands during a request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::util::backend::Backend;
use crate::util::http::{Resp, parse};
use crate::util::{FILE_PROVIDER_STATIC as STATIC, Setup, Tollgate};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn start(backend: &Backend) -> Tollgate {
    start_with(backend, STATIC)
}

fn start_with(backend: &Backend, static_yaml: &str) -> Tollgate {
    let dynamic = format!(
        "http:\n  routers:\n    all:\n      rule: \"PathPrefix(`/`)\"\n      service: echo\n  services:\n    echo:\n      loadBalancer:\n        servers:\n          - url: \"{}\"\n",
        backend.url()
    );
    Tollgate::start(Setup::new(static_yaml, &dynamic))
}

/// An echo backend, tollgate in front of it, and a connection to tollgate.
fn open() -> (Backend, Tollgate, Responses) {
    let backend = Backend::start("echo");
    let tg = start(&backend);
    let conn = Responses::new(connect(&tg));
    (backend, tg, conn)
}

fn connect(tg: &Tollgate) -> TcpStream {
    let stream = TcpStream::connect(tg.addr()).expect("connect to tollgate");
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("read timeout");
    stream
}

/// Reads responses one at a time off a kept-alive connection, framed by their heads.
struct Responses {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Responses {
    fn new(stream: TcpStream) -> Responses {
        Responses { stream, buf: Vec::new() }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// The next response; `after_head` says whether it has a body (false after HEAD).
    fn next(&mut self, with_body: bool) -> Resp {
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(self.fill(), "connection ended before a response head: {:?}", self.text());
        };
        let head = parse(&self.buf[..head_end]);
        let body_end = if !with_body {
            head_end
        } else if let Some(len) = head.header("content-length") {
            head_end + len.parse::<usize>().expect("numeric length")
        } else if head.header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                if let Some(at) = self.buf[head_end..].windows(5).position(|w| w == b"0\r\n\r\n") {
                    break head_end + at + 5;
                }
                assert!(self.fill(), "connection ended inside a chunked body");
            }
        } else {
            while self.fill() {}
            self.buf.len()
        };
        while self.buf.len() < body_end {
            assert!(self.fill(), "connection ended inside a body");
        }
        let resp = parse(&self.buf[..body_end]);
        self.buf.drain(..body_end);
        resp
    }

    /// Whether the server closed the connection (nothing more arrives).
    fn closed(&mut self) -> bool {
        self.buf.is_empty() && !self.fill()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }
}

fn uri(resp: &Resp) -> String {
    resp.json()["uri"].as_str().expect("uri").to_owned()
}

#[test]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let (_backend, _tg, mut conn) = open();
    conn.send(
        b"GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two?x=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    for expected in ["/one", "/two?x=1", "/three"] {
        let resp = conn.next(true);
        assert_eq!(resp.status, 200);
        assert_eq!(uri(&resp), expected);
        assert_eq!(resp.header("connection"), None, "kept alive without saying so");
    }
}

#[test]
fn a_request_with_a_body_moves_the_connection_to_hyper_which_keeps_serving() {
    let (backend, _tg, mut conn) = open();
    conn.send(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(uri(&conn.next(true)), "/first");
    // The body's head and the body arrive with a plain request behind them, in one write.
    conn.send(
        b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /after HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    let upload = conn.next(true);
    assert_eq!(upload.json()["body_len"], 5);
    assert_eq!(uri(&upload), "/upload");
    assert_eq!(uri(&conn.next(true)), "/after");
    // hyper's side still refuses an ambiguous length, behind the framing guard.
    conn.send(
        b"POST /smuggle HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(conn.next(true).status, 400);
    assert_eq!(backend.hits.load(Ordering::SeqCst), 3, "the ambiguous request never reached it");
}

#[test]
fn an_ambiguous_length_on_a_fresh_connection_is_refused() {
    let (backend, _tg, mut conn) = open();
    conn.send(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    assert_eq!(conn.next(true).status, 400);
    assert_eq!(backend.hits.load(Ordering::SeqCst), 0);
}

#[test]
fn a_websocket_upgrade_after_plain_requests_is_relayed() {
    let (_backend, _tg, mut conn) = open();
    conn.send(b"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(conn.next(true).status, 200);
    conn.send(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    let switched = conn.next(false);
    assert_eq!(switched.status, 101);
    assert_eq!(
        switched.header("sec-websocket-accept"),
        Some(crate::util::backend::websocket_accept("dGhlIHNhbXBsZSBub25jZQ==").as_str())
    );
}

#[test]
fn connection_close_is_answered_with_close_and_the_socket_ends() {
    let (backend, _tg, mut conn) = open();
    conn.send(
        b"GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n",
    );
    let resp = conn.next(true);
    assert_eq!(uri(&resp), "/bye");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(conn.closed(), "the connection stayed open: {:?}", conn.text());
    assert_eq!(backend.hits.load(Ordering::SeqCst), 1, "the request after close was served");
}

#[test]
fn head_answers_carry_the_length_and_no_body() {
    let (_backend, _tg, mut conn) = open();
    conn.send(b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n");
    let head = conn.next(false);
    assert_eq!(head.status, 200);
    let length: usize = head.header("content-length").expect("length").parse().expect("number");
    assert!(length > 0);
    // Had the HEAD answer carried a body, this would parse its bytes as the next response.
    assert_eq!(uri(&conn.next(true)), "/g");
}

#[test]
fn a_head_trickling_in_byte_by_byte_is_served() {
    let backend = Backend::start("echo");
    let tg = start(&backend);
    let mut stream = connect(&tg);
    stream.set_nodelay(true).expect("nodelay");
    for byte in b"GET /slowly HTTP/1.1\r\nHost: a\r\nX-Long: abcdefghij\r\n\r\n" {
        stream.write_all(&[*byte]).expect("write");
        std::thread::sleep(Duration::from_millis(2));
    }
    let resp = Responses::new(stream).next(true);
    assert_eq!(uri(&resp), "/slowly");
}

#[test]
fn header_names_are_canonical_and_the_answer_is_dated() {
    let (_backend, _tg, mut conn) = open();
    conn.send(b"GET /case HTTP/1.1\r\nHost: a\r\n\r\n");
    let resp = conn.next(true);
    // The backend (hyper) writes `x-backend` and `content-type` in lower case.
    assert!(resp.head.contains("\r\nX-Backend: echo"), "{}", resp.head);
    assert!(resp.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", resp.head);
    let date = resp.header("date").expect("a Date header");
    // IMF-fixdate: `Thu, 26 Nov 2026 02:31:41 GMT`.
    assert_eq!(date.len(), 29, "{date}");
    assert!(date.ends_with(" GMT") && date.as_bytes()[3] == b',', "{date}");
}

#[test]
fn bodies_of_unknown_length_are_chunked_and_large_ones_arrive_whole() {
    let (backend, _tg, mut conn) = open();
    // 3 MiB streamed by the backend in pieces, with a length.
    conn.send(b"GET /bytes/3145728 HTTP/1.1\r\nHost: a\r\n\r\n");
    let big = conn.next(true);
    assert_eq!(big.body.len(), 3 * 1024 * 1024);
    // Server-sent events: no length, so chunked to the client; the first event comes before the
    // backend is told to send the rest.
    conn.send(b"GET /sse HTTP/1.1\r\nHost: a\r\n\r\n");
    let started = Instant::now();
    while !conn.text().contains("event 0") {
        assert!(conn.fill(), "connection ended before the first event");
        assert!(started.elapsed() < IO_TIMEOUT, "the first event was held back");
    }
    assert!(conn.text().contains("Transfer-Encoding: chunked"), "{}", conn.text());
    assert!(!conn.text().contains("event 1"));
    backend.release.notify_one();
    let events = conn.next(true);
    assert_eq!(events.text(), "data: event 0\n\ndata: event 1\n\ndata: event 2\n\n");
    conn.send(b"GET /last HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(uri(&conn.next(true)), "/last");
}

#[test]
fn a_shutdown_during_a_request_finishes_it_with_connection_close() {
    let (backend, tg, mut conn) = open();
    conn.send(b"GET /slow/800 HTTP/1.1\r\nHost: a\r\n\r\n");
    let started = Instant::now();
    while backend.hits.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < IO_TIMEOUT, "the request never reached the backend");
        std::thread::sleep(Duration::from_millis(10));
    }
    tg.signal(libc::SIGTERM);
    let resp = conn.next(true);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "slow");
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(conn.closed());
}

#[test]
fn blank_lines_after_a_request_are_not_a_slow_head() {
    let backend = Backend::start("echo");
    let static_yaml = STATIC.replace(
        "    address: \"127.0.0.1:{port:web}\"\n",
        "    address: \"127.0.0.1:{port:web}\"\n    transport:\n      respondingTimeouts:\n        readTimeout: 1s\n        idleTimeout: 10s\n",
    );
    let tg = start_with(&backend, &static_yaml);
    let mut conn = Responses::new(connect(&tg));
    // A blank line after the request (old clients send one after a body) starts no head, so
    // readTimeout does not run on it; idleTimeout does.
    conn.send(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n\r\n");
    assert_eq!(uri(&conn.next(true)), "/first");
    std::thread::sleep(Duration::from_millis(2500));
    conn.send(b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(uri(&conn.next(true)), "/second");
}

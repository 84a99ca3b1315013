//! Bodies and connections that are not one small request and response: upgrades, server-sent
//! events, large streamed bodies, HTTP/2.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::util::backend::{Backend, websocket_accept};
use crate::util::{FILE_PROVIDER_STATIC as STATIC, Setup, Tollgate};

fn route_all_to(url: &str) -> String {
    format!(
        r#"
http:
  routers:
    app:
      rule: "PathPrefix(`/`)"
      service: app
  services:
    app:
      loadBalancer:
        servers: [{{url: "{url}"}}]
"#
    )
}

fn start(url: &str) -> Tollgate {
    Tollgate::start(Setup::new(STATIC, &route_all_to(url)))
}

/// Read from `stream` until `needle` appears (or panic after the stream's timeout).
fn read_until(stream: &mut TcpStream, needle: &[u8]) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(needle.len()).any(|w| w == needle) {
        let n = stream.read(&mut buf).unwrap_or_else(|e| {
            panic!(
                "waiting for {:?}: {e}; got {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(&seen)
            )
        });
        assert!(
            n > 0,
            "closed before {:?}; got {:?}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    seen
}

#[test]
fn websocket_echo_through_the_proxy() {
    let backend = Backend::start("ws");
    let tg = start(&backend.url());
    let mut stream = TcpStream::connect(tg.addr()).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    write!(
        stream,
        "GET /ws HTTP/1.1\r\nHost: chat.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("handshake");
    let head = String::from_utf8_lossy(&read_until(&mut stream, b"\r\n\r\n")).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains(
            &format!("sec-websocket-accept: {}", websocket_accept(key)).to_ascii_lowercase()
        ),
        "{head}"
    );
    for message in ["hello", "second message through the tunnel"] {
        // A masked text frame, as a client must send it.
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x81, 0x80 | message.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(message.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        stream.write_all(&frame).expect("send frame");
        let mut reply = vec![0u8; 2 + message.len()];
        stream.read_exact(&mut reply).expect("echo");
        assert_eq!(reply[0], 0x81);
        assert_eq!(&reply[2..], message.as_bytes());
    }
}

#[test]
fn server_sent_events_arrive_as_they_are_sent() {
    let backend = Backend::start("sse");
    let tg = start(&backend.url());
    let mut stream = TcpStream::connect(tg.addr()).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET /sse HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .expect("request");
    // The backend holds the second event until released: the first must come through alone.
    let first = read_until(&mut stream, b"data: event 0\n\n");
    assert!(!first.windows(7).any(|w| w == b"event 1"));
    backend.release.notify_one();
    read_until(&mut stream, b"data: event 2\n\n");
}

#[test]
fn large_bodies_stream_both_ways_with_flat_memory() {
    let backend = Backend::start("big");
    let tg = start(&backend.url());
    let baseline = tg.rss_kib();
    const GIB: usize = 1 << 30;
    // Upload 1 GiB in chunks while watching tollgate's memory.
    let addr = tg.addr();
    let upload = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
        write!(
            stream,
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {GIB}\r\nConnection: close\r\n\r\n"
        )
        .expect("head");
        let chunk = vec![b'u'; 1 << 20];
        for _ in 0..GIB / chunk.len() {
            stream.write_all(&chunk).expect("upload chunk");
        }
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).expect("reply");
        crate::util::http::parse(&reply)
    });
    let mut peak = 0;
    while !upload.is_finished() {
        peak = peak.max(tg.rss_kib());
        std::thread::sleep(Duration::from_millis(20));
    }
    let reply = upload.join().expect("upload thread");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["body_len"], GIB);
    // Download 1 GiB.
    let mut stream = TcpStream::connect(tg.addr()).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
    write!(stream, "GET /bytes/{GIB} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("request");
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let mut reads = 0u64;
    loop {
        let n = stream.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n;
        reads += 1;
        if reads.is_multiple_of(512) {
            peak = peak.max(tg.rss_kib());
        }
    }
    assert!(total > GIB, "got {total} bytes");
    let grown = peak.saturating_sub(baseline);
    assert!(
        grown < 48 * 1024,
        "resident memory grew by {grown} KiB moving 2 GiB (baseline {baseline} KiB, peak {peak} KiB)"
    );
}

#[test]
fn http2_both_sides_prior_knowledge() {
    let backend = Backend::start_h2c("h2");
    let tg = start(&format!("h2c://{}", backend.addr));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let client: Client<_, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).http2_only(true).build_http();
        for i in 0..3 {
            let uri: hyper::Uri = format!("http://{}/h2/{i}", tg.addr()).parse().expect("uri");
            let response = client.get(uri).await.expect("h2c request");
            assert_eq!(response.status(), 200);
            assert_eq!(response.version(), hyper::Version::HTTP_2);
            let body = response.into_body().collect().await.expect("body").to_bytes();
            let echo: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(echo["version"], "HTTP/2.0", "{echo}");
            assert_eq!(
                echo["uri"].as_str().map(|u| u.ends_with(&format!("/h2/{i}"))),
                Some(true),
                "{echo}"
            );
        }
    });
    // HTTP/1.1 clients reach the h2c server too.
    let resp = crate::util::http::get(&tg.addr(), "/from-h1", &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["version"], "HTTP/2.0");
    let _ = Full::new(Bytes::new());
}

//! Any bytes from a client through the request-smuggling guard (`src/proxy/framing.rs`):
//! it never panics; what hyper receives does not depend on how the bytes were split into reads;
//! and wherever hyper's parser (httparse) accepts a head, the guard reads the same framing from
//! it as httparse's headers say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::proxy::framing_fuzzing::{replay, verdict};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size; the rest is what the client sent.
    let Some((&step, input)) = data.split_first() else { return };
    let whole = replay(input, input.len().max(1));
    let split = replay(input, usize::from(step % 16) + 1);
    assert_eq!(whole, split, "the guard's output depends on the read size");
    if let Some(expected) = reference(input) {
        assert_eq!(verdict(input), expected, "{:?}", String::from_utf8_lossy(input));
    }
});

/// The framing of `head` by httparse's reading of it, when httparse accepts it whole.
fn reference(head: &[u8]) -> Option<String> {
    // The guard skips blank lines before a head and steps aside for HTTP/2 before judging.
    if head.starts_with(b"PRI * HTTP/2.0") || head.first().is_some_and(|&b| b == b'\r' || b == b'\n') {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        // Only a head that ends where the input ends: the guard judges exactly one head.
        Ok(httparse::Status::Complete(n)) if n == head.len() => {}
        _ => return None,
    }
    if req.method == Some("CONNECT") {
        return Some("aside".into());
    }
    let named = |name: &str| -> Vec<&[u8]> {
        req.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value).collect()
    };
    let lengths = named("content-length");
    let encodings = named("transfer-encoding");
    Some(if lengths.len() > 1 || (!lengths.is_empty() && !encodings.is_empty()) {
        "ambiguous".into()
    } else if !named("upgrade").is_empty() {
        "aside".into()
    } else if let Some(last) = encodings.last() {
        let chunked = last
            .rsplit(|&b| b == b',')
            .next()
            .is_some_and(|l| l.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        if chunked { "chunked".into() } else { "aside".into() }
    } else if let Some(value) = lengths.first() {
        match std::str::from_utf8(value).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
            Some(n) => format!("body {n}"),
            None => "aside".into(),
        }
    } else {
        "none".into()
    })
}

//! Any bytes as a server's chunked response body, through the decoder of tollgate's own
//! HTTP/1.1 client (`src/proxy/h1/chunked.rs`): it never panics; the data and the ending
//! (trailers, or which error) do not depend on how the bytes were split into reads; a body it
//! accepts, encoded again, decodes to the same data and trailers; and any data, chunked the way a
//! server might (sizes in either case, leading zeros, extensions), decodes back to itself.
//!
//! Input starting with `HTTP/` is a whole response as it arrives on the connection: the response
//! head parser (`src/proxy/h1/head.rs`) reads it in pieces of 1, 7 and all bytes and must come to
//! the same head, error or need for more; then its heads (interim ones included, each up to a
//! blank line) are skipped and what follows is decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::proxy::chunked_fuzzing as decode;
use tollgate::proxy::head_fuzzing as parse_head;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"HTTP/") {
        let request_was_head = data.len() % 2 == 1;
        let whole = parse_head(data, request_was_head, data.len());
        for piece in [1, 7] {
            let split = parse_head(data, request_was_head, piece);
            assert_eq!(whole, split, "parsing the head in pieces of {piece} differs");
        }
    }
    let mut body = data;
    while body.starts_with(b"HTTP/") {
        match body.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(end) => body = &body[end + 4..],
            None => return,
        }
    }

    // The read sizes do not matter. ChunkError is a fieldless enum, so `==` compares variants.
    let whole = decode(body, body.len());
    for piece in [1, 3] {
        let split = decode(body, piece);
        assert_eq!(whole, split, "decoding in pieces of {piece} differs from decoding at once");
    }
    let (decoded, ending) = whole;
    assert!(decoded.len() <= body.len(), "more data out than bytes in");

    // Accepted: the same data and trailers, encoded again in one chunk, decode the same. Lines
    // are written no longer than they arrived (`name:value`), so no limit is crossed anew.
    if let Ok(trailers) = &ending {
        let mut again = Vec::new();
        if !decoded.is_empty() {
            again.extend_from_slice(format!("{:x}\r\n", decoded.len()).as_bytes());
            again.extend_from_slice(&decoded);
            again.extend_from_slice(b"\r\n");
        }
        again.extend_from_slice(b"0\r\n");
        for (name, value) in trailers.iter().flatten() {
            again.extend_from_slice(name.as_str().as_bytes());
            again.push(b':');
            again.extend_from_slice(value.as_bytes());
            again.extend_from_slice(b"\r\n");
        }
        again.extend_from_slice(b"\r\n");
        let (data2, ending2) = decode(&again, 7);
        assert_eq!(data2, decoded, "re-encoded body decodes to other data");
        assert_eq!(ending2, ending, "re-encoded body ends otherwise");
    }

    // The input as data, chunked by a server: every valid encoding is accepted.
    let mut encoded = Vec::new();
    let mut rest = data;
    let mut i = 0usize;
    while !rest.is_empty() {
        let size = (usize::from(rest[0]) % 37 + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        let line = match i % 4 {
            0 => format!("{size:x}\r\n"),
            1 => format!("{size:X};name=value;q=\"a b\"\r\n"),
            2 => format!("000{size:x} ;ext\r\n"),
            // A bare LF ends the line too (as Go's reader accepts).
            _ => format!("{size:x}\n"),
        };
        encoded.extend_from_slice(line.as_bytes());
        encoded.extend_from_slice(chunk);
        encoded.extend_from_slice(b"\r\n");
        rest = tail;
        i += 1;
    }
    encoded.extend_from_slice(b"0\r\nX-Sum: 1\r\n\r\n");
    let (data3, ending3) =
        decode(&encoded, usize::from(data.first().copied().unwrap_or(0) % 9) + 1);
    assert_eq!(data3, data, "a valid encoding of the input does not decode to it");
    let trailers = ending3.expect("a valid encoding is accepted").expect("its trailer");
    assert_eq!(trailers.len(), 1);
    assert_eq!(trailers["x-sum"], "1");
});

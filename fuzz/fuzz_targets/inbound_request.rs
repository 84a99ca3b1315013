//! Any bytes as what a client sends on a connection, through the request head parser of
//! tollgate's own HTTP/1.1 server (`src/proxy/inbound/request.rs`): it never panics; the requests
//! it takes, and where it hands the connection to hyper, do not depend on how the bytes were
//! split into reads; what it hands over is the input from the first request it did not take,
//! unchanged (hyper must read exactly what the client sent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::proxy::inbound_fuzzing as parse;

fuzz_target!(|data: &[u8]| {
    let whole = parse(data, data.len());
    for piece in [1, 5, 64] {
        assert_eq!(whole, parse(data, piece), "reading in pieces of {piece} differs");
    }
    if let (_, Some(left)) = &whole {
        assert!(data.ends_with(left), "handed over bytes that are not the input's end");
    }
});

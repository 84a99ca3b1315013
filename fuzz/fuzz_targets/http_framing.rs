//! Any bytes from a client through the request-smuggling guard (`src/proxy/framing.rs`):
//! it never panics; what hyper receives does not depend on how the bytes were split into reads;
//! and wherever hyper's parser (httparse) accepts a head, the guard reads the same framing from
//! it as httparse's headers say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::proxy::framing_fuzzing::{reference, replay, verdict};

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

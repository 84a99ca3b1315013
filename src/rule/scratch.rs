//! Small stack buffers so that matching allocates nothing in the common case.
//!
//! Some matchers need a string the request does not hold as such: HostRegexp wants the host
//! lowercased, QueryRegexp a decoded query value, v2 Query `key=value`. Those strings are built
//! in a fixed buffer on the stack; only when one is longer than [`STACK_BYTES`] (or not valid
//! UTF-8 and so needs replacement characters) does building it allocate, once, for that call.

/// Bytes built on the stack before spilling to the heap.
pub(crate) const STACK_BYTES: usize = 512;

/// A byte string under construction: on the stack while it fits.
pub(crate) struct Scratch {
    stack: [u8; STACK_BYTES],
    len: usize,
    heap: Option<Vec<u8>>,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Scratch { stack: [0; STACK_BYTES], len: 0, heap: None }
    }

    pub(crate) fn push(&mut self, b: u8) {
        self.extend(&[b]);
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        if let Some(heap) = &mut self.heap {
            heap.extend_from_slice(bytes);
            return;
        }
        let end = self.len + bytes.len();
        if end <= STACK_BYTES {
            self.stack[self.len..end].copy_from_slice(bytes);
            self.len = end;
        } else {
            let mut heap = Vec::with_capacity(end.max(2 * STACK_BYTES));
            heap.extend_from_slice(&self.stack[..self.len]);
            heap.extend_from_slice(bytes);
            self.heap = Some(heap);
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.heap {
            Some(heap) => heap,
            None => &self.stack[..self.len],
        }
    }

    /// Calls `f` with the contents as text, invalid UTF-8 replaced as Go's regexp reads it (one
    /// U+FFFD per bad byte).
    pub(crate) fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match std::str::from_utf8(self.bytes()) {
            Ok(s) => f(s),
            Err(_) => f(&go_string(self.bytes().to_vec())),
        }
    }
}

/// Calls `f` with `s` lowercased (ASCII letters only: hosts are ASCII once Go has accepted them;
/// Go's Unicode lowercasing agrees on ASCII). Borrows `s` when it has no uppercase letter.
pub(crate) fn with_ascii_lowercase<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(s);
    }
    let mut buf = Scratch::new();
    for b in s.bytes() {
        buf.push(b.to_ascii_lowercase());
    }
    buf.with_str(f)
}

/// Bytes to text the way Go's regexp and `range` read a string: each byte that does not start a
/// valid UTF-8 sequence is one U+FFFD.
pub(crate) fn go_string(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 8);
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                match std::str::from_utf8(rest) {
                    Ok(s) => {
                        out.push_str(s);
                        break;
                    }
                    Err(e) => {
                        let (good, bad) = rest.split_at(e.valid_up_to());
                        out.push_str(std::str::from_utf8(good).unwrap_or_default());
                        out.push('\u{fffd}');
                        rest = &bad[1..];
                    }
                }
            }
            out
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn spills_to_the_heap_only_when_full() {
        let mut s = Scratch::new();
        s.extend(&[b'a'; STACK_BYTES]);
        assert!(s.heap.is_none());
        s.push(b'b');
        assert!(s.heap.is_some());
        assert_eq!(s.bytes().len(), STACK_BYTES + 1);
        assert_eq!(s.bytes()[STACK_BYTES], b'b');
    }

    #[test]
    fn lowercasing_borrows_when_it_can() {
        with_ascii_lowercase("abc", |s| assert_eq!(s, "abc"));
        with_ascii_lowercase("AbC.Com", |s| assert_eq!(s, "abc.com"));
        let long = "X".repeat(2000);
        with_ascii_lowercase(&long, |s| assert_eq!(s, "x".repeat(2000)));
        with_ascii_lowercase("ÉA", |s| assert_eq!(s, "Éa"));
    }

    #[test]
    fn invalid_utf8_is_replaced_per_byte() {
        assert_eq!(go_string(b"a\xffb".to_vec()), "a\u{fffd}b");
        assert_eq!(go_string(b"\xf0\x9f\x98".to_vec()), "\u{fffd}\u{fffd}\u{fffd}");
        assert_eq!(go_string("é".as_bytes().to_vec()), "é");
        let mut s = Scratch::new();
        s.extend(b"x\xc3");
        s.with_str(|t| assert_eq!(t, "x\u{fffd}"));
    }
}

//! Hashing: a fast unkeyed hash for table lookups, and the keyed hash behind visitor counting.

use std::hash::{BuildHasher, Hasher};

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Final avalanche (MurmurHash3's fmix64): every input bit flips each output bit with
/// probability close to 1/2, which the sketch tables rely on.
#[inline]
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A fast 64-bit hash of bytes for in-memory tables. Not keyed and not for anything an
/// attacker could exploit beyond slowing one table down (tables are fixed-size, so a flood of
/// collisions costs probe time, never memory).
#[inline]
pub fn fast_hash(b: &[u8]) -> u64 {
    let mut h = (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    fmix64(h)
}

/// Mix two words into one hash (used for composite keys such as client + agent).
#[inline]
pub fn mix2(a: u64, b: u64) -> u64 {
    fmix64(a ^ b.wrapping_mul(K).rotate_left(31))
}

/// The secret key of the visitor hash. It lives only in memory: it is never written to a
/// snapshot, so nobody holding the stored sketches can test whether a given address visited.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VisitorKey {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for VisitorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorKey(..)")
    }
}

impl VisitorKey {
    /// A fresh key from the operating system's randomness (through std's `RandomState`, whose
    /// keys come from `getrandom`), so no extra dependency is needed.
    pub fn random() -> VisitorKey {
        let s = std::collections::hash_map::RandomState::new();
        let mut a = s.build_hasher();
        a.write_u64(0x746f_6c6c);
        let mut b = s.build_hasher();
        b.write_u64(0x6761_7465);
        VisitorKey { k0: a.finish(), k1: b.finish() }
    }

    /// A fixed key, for tests that must be reproducible.
    pub fn from_parts(k0: u64, k1: u64) -> VisitorKey {
        VisitorKey { k0, k1 }
    }

    /// SipHash-2-4 of (client address, agent hash) under this key. SipHash is a keyed PRF, so
    /// without the key the output says nothing about the input. std's `SipHasher` is deprecated
    /// only in favour of `DefaultHasher`, which cannot be keyed; the algorithm itself is sound.
    #[allow(deprecated)]
    pub fn visitor(&self, client: &[u8; 16], agent_hash: u64) -> u64 {
        let mut h = std::hash::SipHasher::new_with_keys(self.k0, self.k1);
        h.write(client);
        h.write_u64(agent_hash);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_hash_depends_on_every_byte_and_length() {
        let a = fast_hash(b"/index.html");
        assert_ne!(a, fast_hash(b"/index.htm"));
        assert_ne!(a, fast_hash(b"/index.htmk"));
        assert_ne!(fast_hash(b""), fast_hash(b"\0"));
        assert_eq!(a, fast_hash(b"/index.html"));
    }

    #[test]
    fn visitor_hash_depends_on_key() {
        let c = [7u8; 16];
        let k1 = VisitorKey::from_parts(1, 2);
        let k2 = VisitorKey::from_parts(1, 3);
        assert_eq!(k1.visitor(&c, 9), k1.visitor(&c, 9));
        assert_ne!(k1.visitor(&c, 9), k2.visitor(&c, 9));
        assert_ne!(VisitorKey::random(), VisitorKey::random());
    }
}

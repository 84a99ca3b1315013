//! Time series in fixed rings: one bucket per minute, hour or day, the oldest overwritten.

/// Hits and bytes of one period. `tag` is the period number since the Unix epoch (minute, hour or
/// day).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub tag: u32,
    pub hits: u32,
    pub bytes: u64,
    pub errors: u32,
}

/// A ring of `len` buckets of `period_ms` each. A hit for a period older than the ring keeps is
/// counted in `late` and otherwise dropped; a newer one recycles the bucket it maps to.
///
/// Inside the ring a bucket's `tag` is its period + 1 and 0 marks an unused bucket, so the
/// buckets are allocated zeroed: a ring of 2,880 minutes costs no resident memory for the
/// minutes that have not come yet. [`Ring::buckets`] gives the periods themselves.
#[derive(Clone, Debug)]
pub struct Ring {
    period_ms: u64,
    buckets: Box<[Bucket]>,
    pub late: u64,
}

impl Ring {
    pub fn new(period_ms: u64, len: usize) -> Ring {
        Ring { period_ms: period_ms.max(1), buckets: super::zeroed::boxed(len.max(1)), late: 0 }
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.iter().all(|b| b.tag == 0)
    }

    pub fn period_ms(&self) -> u64 {
        self.period_ms
    }

    pub fn heap_bytes(&self) -> usize {
        self.buckets.len() * std::mem::size_of::<Bucket>()
    }

    fn tag_of(&self, at_ms: u64) -> u32 {
        (at_ms / self.period_ms).min(u64::from(u32::MAX - 1)) as u32
    }

    /// The bucket for `tag`, recycled if it held an older period (or none); `None` when `tag`
    /// is older than the period the slot already holds.
    fn slot(&mut self, tag: u32) -> Option<&mut Bucket> {
        let n = self.buckets.len();
        let stored = tag + 1;
        let b = &mut self.buckets[tag as usize % n];
        if b.tag == stored {
            return Some(b);
        }
        if b.tag < stored {
            *b = Bucket { tag: stored, hits: 0, bytes: 0, errors: 0 };
            return Some(b);
        }
        None
    }

    #[inline]
    pub fn add(&mut self, at_ms: u64, hits: u32, bytes: u64, errors: u32) {
        let tag = self.tag_of(at_ms);
        self.add_tag(tag, hits, bytes, errors);
    }

    fn add_tag(&mut self, tag: u32, hits: u32, bytes: u64, errors: u32) {
        match self.slot(tag) {
            Some(b) => {
                b.hits = b.hits.saturating_add(hits);
                b.bytes = b.bytes.saturating_add(bytes);
                b.errors = b.errors.saturating_add(errors);
            }
            None => self.late += u64::from(hits),
        }
    }

    pub fn merge(&mut self, other: &Ring) {
        for b in other.buckets() {
            self.add_tag(b.tag, b.hits, b.bytes, b.errors);
        }
        self.late = self.late.saturating_add(other.late);
    }

    /// Used buckets, oldest first.
    pub fn buckets(&self) -> Vec<Bucket> {
        let mut v: Vec<Bucket> = self
            .buckets
            .iter()
            .filter(|b| b.tag != 0)
            .map(|b| Bucket { tag: b.tag - 1, ..*b })
            .collect();
        v.sort_by_key(|b| b.tag);
        v
    }

    /// Restore one bucket from a snapshot.
    pub fn restore(&mut self, b: Bucket) {
        if b.tag < u32::MAX {
            self.add_tag(b.tag, b.hits, b.bytes, b.errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest_periods() {
        let mut r = Ring::new(60_000, 3);
        for minute in 0..10u64 {
            r.add(minute * 60_000 + 5, 1, 10, 0);
        }
        let tags: Vec<u32> = r.buckets().iter().map(|b| b.tag).collect();
        assert_eq!(tags, vec![7, 8, 9]);
        r.add(60_000, 1, 0, 0); // minute 1: long gone
        assert_eq!(r.late, 1);
        assert_eq!(r.heap_bytes(), 3 * std::mem::size_of::<Bucket>());
    }

    #[test]
    fn the_first_period_and_the_last_are_buckets_like_any() {
        // Stored tags are period + 1 (0 marks an unused bucket): both ends must round-trip.
        let mut r = Ring::new(1, 4);
        r.add(0, 1, 1, 0);
        r.add(u64::MAX, 2, 2, 1);
        let v = r.buckets();
        assert_eq!(
            v.iter().map(|b| (b.tag, b.hits)).collect::<Vec<_>>(),
            [(0, 1), (u32::MAX - 1, 2)]
        );
        let mut copy = Ring::new(1, 4);
        for b in v {
            copy.restore(b);
        }
        copy.restore(Bucket { tag: u32::MAX, hits: 9, bytes: 0, errors: 0 });
        assert_eq!(copy.buckets(), r.buckets());
    }

    #[test]
    fn merge_sums_same_periods() {
        let mut a = Ring::new(1000, 4);
        let mut b = Ring::new(1000, 4);
        a.add(1500, 1, 5, 0);
        b.add(1999, 2, 7, 1);
        b.add(3000, 1, 1, 0);
        a.merge(&b);
        let v = a.buckets();
        assert_eq!((v[0].tag, v[0].hits, v[0].bytes, v[0].errors), (1, 3, 12, 1));
        assert_eq!(v[1].tag, 3);
    }
}

//! Top-k heavy hitters in fixed memory: Space-Saving (Metwally, Agrawal, El Abbadi 2005).
//!
//! `capacity` slots hold a key (cut to `key_max` bytes), its count and the count's maximum
//! overestimate `err`. A new key that finds no free slot replaces the slot with the smallest count
//! `min` and starts at `min + weight` with `err = min`.
//!
//! Error bound: with N hits in total, every kept count is at most N / capacity too high
//! (`count - err <= true count <= count`), and every key whose true count exceeds N / capacity is
//! kept. Merging two summaries (reinsertion of the smaller into the larger, counts as weights)
//! keeps the bound at (N1 + N2) / capacity.
//!
//! Layout: keys in one byte arena, an open-addressed index (linear probing, backward-shift
//! delete) sized at twice the capacity, and a binary min-heap of slot numbers by count. An update
//! costs one hash, a probe or two and a short sift; nothing allocates after `new`.

use crate::stats::hash::fast_hash;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    pub count: u64,
    pub err: u64,
    pub bytes: u64,
    /// Per-panel extra (requests panels: method and protocol of the last hit).
    pub extra: u32,
    hash: u64,
    len: u16,
}

#[derive(Clone, Debug)]
pub struct TopK {
    key_max: usize,
    slots: Vec<Slot>,
    keys: Box<[u8]>,
    index: Box<[u32]>,
    heap: Vec<u32>,
    pos: Box<[u32]>,
    capacity: usize,
    /// Every hit offered, kept or not: the exact panel total.
    pub total_hits: u64,
    pub total_bytes: u64,
}

/// One kept key, as the report reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub key: &'a [u8],
    pub count: u64,
    pub err: u64,
    pub bytes: u64,
    pub extra: u32,
}

/// An index entry holds slot + 1, so that a free entry is 0: the index is allocated zeroed and
/// its pages stay unresident until keys land in them (a small site touches a few).
const EMPTY: u32 = 0;

impl TopK {
    pub fn new(capacity: usize, key_max: usize) -> TopK {
        let capacity = capacity.clamp(1, (u32::MAX / 4) as usize);
        let key_max = key_max.clamp(1, u16::MAX as usize);
        let index_len = (capacity * 2).next_power_of_two();
        TopK {
            key_max,
            slots: Vec::with_capacity(capacity),
            keys: vec![0u8; capacity * key_max].into_boxed_slice(),
            index: vec![EMPTY; index_len].into_boxed_slice(),
            heap: Vec::with_capacity(capacity),
            pos: vec![0u32; capacity].into_boxed_slice(),
            capacity,
            total_hits: 0,
            total_bytes: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn key_max(&self) -> usize {
        self.key_max
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Bytes this summary owns on the heap: fixed at `new`, whatever is offered.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.keys.len()
            + self.index.len() * 4
            + self.heap.capacity() * 4
            + self.pos.len() * 4
    }

    fn key_of(&self, slot: usize) -> &[u8] {
        let off = slot * self.key_max;
        &self.keys[off..off + self.slots[slot].len as usize]
    }

    fn find(&self, key: &[u8], hash: u64) -> Result<usize, usize> {
        let mask = self.index.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let s = self.index[i];
            if s == EMPTY {
                return Err(i);
            }
            let s = s as usize - 1;
            let slot = &self.slots[s];
            if slot.hash == hash && self.key_of(s) == key {
                return Ok(s);
            }
            i = (i + 1) & mask;
        }
    }

    /// Remove `slot` from the index (backward-shift deletion keeps probe chains whole).
    fn unindex(&mut self, slot: usize) {
        let mask = self.index.len() - 1;
        let mut i = (self.slots[slot].hash as usize) & mask;
        while self.index[i] as usize != slot + 1 {
            i = (i + 1) & mask;
        }
        let mut hole = i;
        let mut j = (hole + 1) & mask;
        loop {
            let s = self.index[j];
            if s == EMPTY {
                break;
            }
            let home = (self.slots[s as usize - 1].hash as usize) & mask;
            // Move `s` into the hole when its home is not in (hole, j] cyclically.
            let dist_j = j.wrapping_sub(home) & mask;
            let dist_hole = hole.wrapping_sub(home) & mask;
            if dist_hole < dist_j {
                self.index[hole] = s;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.index[hole] = EMPTY;
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let mut m = l;
            if r < n
                && self.slots[self.heap[r] as usize].count < self.slots[self.heap[l] as usize].count
            {
                m = r;
            }
            if self.slots[self.heap[m] as usize].count >= self.slots[self.heap[i] as usize].count {
                break;
            }
            self.heap.swap(i, m);
            self.pos[self.heap[i] as usize] = i as u32;
            self.pos[self.heap[m] as usize] = m as u32;
            i = m;
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if self.slots[self.heap[p] as usize].count <= self.slots[self.heap[i] as usize].count {
                break;
            }
            self.heap.swap(i, p);
            self.pos[self.heap[i] as usize] = i as u32;
            self.pos[self.heap[p] as usize] = p as u32;
            i = p;
        }
    }

    /// Count one hit of `key` carrying `bytes`.
    #[inline]
    pub fn offer(&mut self, key: &[u8], bytes: u64, extra: u32) {
        self.add(key, 1, 0, bytes, extra);
    }

    /// Count `weight` hits of `key` (with `err` already uncertain, from a merged summary).
    pub fn add(&mut self, key: &[u8], weight: u64, err: u64, bytes: u64, extra: u32) {
        self.total_hits = self.total_hits.saturating_add(weight);
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        self.add_kept(key, weight, err, bytes, extra);
    }

    fn add_kept(&mut self, key: &[u8], weight: u64, err: u64, bytes: u64, extra: u32) {
        let key = &key[..key.len().min(self.key_max)];
        let hash = fast_hash(key);
        match self.find(key, hash) {
            Ok(s) => {
                let slot = &mut self.slots[s];
                slot.count = slot.count.saturating_add(weight);
                slot.err = slot.err.saturating_add(err);
                slot.bytes = slot.bytes.saturating_add(bytes);
                slot.extra = extra;
                let p = self.pos[s] as usize;
                self.sift_down(p);
            }
            Err(free) if self.slots.len() < self.capacity => {
                let s = self.slots.len();
                self.slots.push(Slot {
                    count: weight,
                    err,
                    bytes,
                    extra,
                    hash,
                    len: key.len() as u16,
                });
                let off = s * self.key_max;
                self.keys[off..off + key.len()].copy_from_slice(key);
                self.index[free] = s as u32 + 1;
                self.heap.push(s as u32);
                self.pos[s] = (self.heap.len() - 1) as u32;
                let p = self.heap.len() - 1;
                self.sift_up(p);
            }
            Err(_) => {
                let s = self.heap[0] as usize;
                let min = self.slots[s].count;
                self.unindex(s);
                self.slots[s] = Slot {
                    count: min + weight,
                    err: min + err,
                    bytes,
                    extra,
                    hash,
                    len: key.len() as u16,
                };
                let off = s * self.key_max;
                self.keys[off..off + key.len()].copy_from_slice(key);
                let free = match self.find(key, hash) {
                    Err(free) => free,
                    Ok(_) => unreachable!("key was absent before the eviction"),
                };
                self.index[free] = s as u32 + 1;
                self.sift_down(0);
            }
        }
    }

    /// Fold `other` in; see the module doc for the error bound.
    pub fn merge(&mut self, other: &TopK) {
        self.total_hits = self.total_hits.saturating_add(other.total_hits);
        self.total_bytes = self.total_bytes.saturating_add(other.total_bytes);
        let mut order: Vec<usize> = (0..other.slots.len()).collect();
        order.sort_by_key(|&s| other.slots[s].count);
        for s in order {
            let e = &other.slots[s];
            self.add_kept(other.key_of(s), e.count, e.err, e.bytes, e.extra);
        }
    }

    /// Kept entries, highest count first (ties by key, so output is deterministic).
    pub fn top(&self, n: usize) -> Vec<Entry<'_>> {
        let mut v: Vec<Entry<'_>> = (0..self.slots.len())
            .map(|s| Entry {
                key: self.key_of(s),
                count: self.slots[s].count,
                err: self.slots[s].err,
                bytes: self.slots[s].bytes,
                extra: self.slots[s].extra,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(b.key)));
        v.truncate(n);
        v
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.heap.clear();
        self.index.fill(EMPTY);
        self.total_hits = 0;
        self.total_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_while_under_capacity() {
        let mut t = TopK::new(8, 16);
        for (k, n) in [("a", 5), ("b", 3), ("c", 7)] {
            for _ in 0..n {
                t.offer(k.as_bytes(), 10, 0);
            }
        }
        let top = t.top(10);
        let got: Vec<(&[u8], u64, u64)> = top.iter().map(|e| (e.key, e.count, e.err)).collect();
        assert_eq!(got, vec![(&b"c"[..], 7, 0), (&b"a"[..], 5, 0), (&b"b"[..], 3, 0)]);
        assert_eq!(t.total_hits, 15);
        assert_eq!(t.total_bytes, 150);
    }

    #[test]
    fn heavy_hitters_survive_a_flood_and_bound_holds() {
        let mut t = TopK::new(64, 24);
        let before = t.heap_bytes();
        let mut n = 0u64;
        for i in 0..200_000u64 {
            // Every 10th hit is "hot", the rest are all distinct.
            if i % 10 == 0 {
                t.offer(b"hot", 1, 0);
            } else {
                t.offer(format!("cold-{i}").as_bytes(), 1, 0);
            }
            n += 1;
        }
        assert_eq!(t.heap_bytes(), before);
        let top = t.top(1);
        assert_eq!(top[0].key, b"hot");
        let truth = 20_000;
        assert!(top[0].count >= truth && top[0].count - top[0].err <= truth);
        assert!(top[0].count - truth <= n / 64);
        // The index stays consistent through evictions: every kept key is found again.
        for s in 0..t.len() {
            let k = t.key_of(s).to_vec();
            assert_eq!(t.find(&k, fast_hash(&k)), Ok(s));
        }
    }

    #[test]
    fn keys_are_cut_to_key_max() {
        let mut t = TopK::new(4, 4);
        t.offer(b"abcdef", 0, 0);
        t.offer(b"abcdXX", 0, 0);
        assert_eq!(t.top(4)[0].key, b"abcd");
        assert_eq!(t.top(4)[0].count, 2);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = TopK::new(4, 8);
        let mut b = TopK::new(4, 8);
        a.offer(b"x", 1, 0);
        b.offer(b"x", 2, 0);
        b.offer(b"y", 3, 0);
        a.merge(&b);
        let top = a.top(4);
        assert_eq!((top[0].key, top[0].count, top[0].bytes), (&b"x"[..], 2, 3));
        assert_eq!(a.total_hits, 3);
    }
}

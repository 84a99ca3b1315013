//! Latency histogram in fixed memory: log-linear buckets over microseconds.
//!
//! Values below 16 us have a bucket each; above, every power of two is split into 8 buckets, so
//! a percentile read from a bucket is within 12.5 % of the true value (the bucket's upper bound
//! is reported). 240 buckets cover 0 us to 2^32 us (71 minutes); the maximum is kept exactly.

pub(crate) const BUCKETS: usize = 16 + 28 * 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    counts: Box<[u32; BUCKETS]>,
    pub count: u64,
    pub sum_us: u64,
    pub max_us: u32,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: Box::new([0; BUCKETS]), count: 0, sum_us: 0, max_us: 0 }
    }
}

#[inline]
fn index(v: u32) -> usize {
    if v < 16 {
        return v as usize;
    }
    let e = 31 - v.leading_zeros() as usize; // 4..=31
    let sub = ((v >> (e - 3)) & 7) as usize;
    16 + (e - 4) * 8 + sub
}

/// Largest value that lands in bucket `i`.
fn upper(i: usize) -> u32 {
    if i < 16 {
        return i as u32;
    }
    let e = (i - 16) / 8 + 4;
    let sub = ((i - 16) % 8) as u64;
    let lo = (1u64 << e) + (sub << (e - 3));
    (lo + (1u64 << (e - 3)) - 1).min(u64::from(u32::MAX)) as u32
}

impl Histogram {
    #[inline]
    pub fn record(&mut self, us: u32) {
        let c = &mut self.counts[index(us)];
        *c = c.saturating_add(1);
        self.count += 1;
        self.sum_us += u64::from(us);
        self.max_us = self.max_us.max(us);
    }

    pub fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(o.counts.iter()) {
            *a = a.saturating_add(*b);
        }
        self.count += o.count;
        self.sum_us += o.sum_us;
        self.max_us = self.max_us.max(o.max_us);
    }

    /// The value at quantile `q` (0..=1), as the upper bound of its bucket, capped at the max.
    pub fn quantile(&self, q: f64) -> u32 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return upper(i).min(self.max_us);
            }
        }
        self.max_us
    }

    pub fn mean_us(&self) -> u64 {
        self.sum_us.checked_div(self.count).unwrap_or(0)
    }

    pub fn counts(&self) -> &[u32; BUCKETS] {
        &self.counts
    }

    /// Restore from a snapshot: counts, then the sums the counts cannot tell.
    pub fn from_parts(counts: [u32; BUCKETS], sum_us: u64, max_us: u32) -> Histogram {
        let count = counts.iter().map(|&c| u64::from(c)).sum();
        Histogram { counts: Box::new(counts), count, sum_us, max_us }
    }

    pub const HEAP_BYTES: usize = BUCKETS * 4;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_u32() {
        for i in 1..BUCKETS {
            assert!(upper(i) > upper(i - 1), "{i}");
            assert_eq!(index(upper(i)), i);
            assert_eq!(index(upper(i - 1) + 1), i);
        }
        assert_eq!(index(u32::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_within_an_eighth() {
        let mut h = Histogram::default();
        for v in 1..=10_000u32 {
            h.record(v * 100);
        }
        for (q, truth) in [(0.5, 500_000.0), (0.9, 900_000.0), (0.99, 990_000.0)] {
            let got = f64::from(h.quantile(q));
            assert!(got >= truth && got <= truth * 1.125, "q={q} got={got}");
        }
        assert_eq!(h.quantile(1.0), 1_000_000);
        assert_eq!(h.max_us, 1_000_000);
        assert_eq!(h.mean_us(), 500_050);
    }
}

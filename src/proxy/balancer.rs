//! Weighted round robin over a fixed set of children (servers, or services of a `weighted`
//! service), skipping those a health check took out.
//!
//! The schedule is smooth weighted round robin (nginx's): every turn each child gains its weight
//! in credit, the richest child goes and pays back the total. It interleaves children evenly:
//! weights 5,1,1 give `a a b a c a a`, where Traefik's earliest-deadline order gives
//! `a a a a a b c`. It is computed once per configuration for one period
//! (the sum of the weights) and then walked with an atomic counter, so picking a child takes no
//! lock. Periods longer than `MAX_PERIOD` are scaled down proportionally, which keeps every
//! weight's share within 1/`MAX_PERIOD` of exact.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const MAX_PERIOD: u64 = 4096;

pub struct Balancer {
    /// Child indices in schedule order, one period long.
    schedule: Box<[u32]>,
    next: AtomicUsize,
    up: Box<[AtomicBool]>,
}

impl Balancer {
    /// `weights[i]` is child i's weight; children of weight 0 are never picked (Traefik drops them).
    pub fn new(weights: &[u32]) -> Balancer {
        Balancer {
            schedule: schedule(weights).into(),
            next: AtomicUsize::new(0),
            up: weights.iter().map(|_| AtomicBool::new(true)).collect(),
        }
    }

    /// The next child that is up, or `None` when every child is down (the caller answers 503).
    pub fn pick(&self) -> Option<usize> {
        let len = self.schedule.len();
        if len == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..len)
            .map(|step| self.schedule[(start + step) % len] as usize)
            .find(|&child| self.is_up(child))
    }

    pub fn is_up(&self, child: usize) -> bool {
        self.up.get(child).is_some_and(|up| up.load(Ordering::Relaxed))
    }

    /// Mark a child up or down; returns whether that changed anything.
    pub fn set_up(&self, child: usize, up: bool) -> bool {
        self.up.get(child).is_some_and(|flag| flag.swap(up, Ordering::Relaxed) != up)
    }

    pub fn any_up(&self) -> bool {
        self.up.iter().any(|u| u.load(Ordering::Relaxed))
    }

    pub fn len(&self) -> usize {
        self.up.len()
    }
}

/// One period of the smooth weighted round robin schedule; ties go to the lower index.
fn schedule(weights: &[u32]) -> Vec<u32> {
    let weights = scaled(weights);
    let total: i64 = weights.iter().sum::<u64>() as i64;
    let mut credit = vec![0i64; weights.len()];
    let mut order = Vec::with_capacity(total as usize);
    for _ in 0..total {
        let mut best: Option<usize> = None;
        for (i, &w) in weights.iter().enumerate() {
            if w == 0 {
                continue;
            }
            credit[i] += w as i64;
            if best.is_none_or(|b| credit[i] > credit[b]) {
                best = Some(i);
            }
        }
        let Some(child) = best else { break };
        credit[child] -= total;
        order.push(child as u32);
    }
    order
}

/// Weights divided by their common divisor, then scaled down if the period is still too long.
fn scaled(weights: &[u32]) -> Vec<u64> {
    let divisor = weights.iter().copied().filter(|&w| w > 0).fold(0u32, gcd).max(1);
    let mut out: Vec<u64> = weights.iter().map(|&w| u64::from(w / divisor)).collect();
    let period: u64 = out.iter().sum();
    if period > MAX_PERIOD {
        for w in out.iter_mut().filter(|w| **w > 0) {
            *w = (*w * MAX_PERIOD / period).max(1);
        }
    }
    out
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(b: &Balancer, n: usize) -> Vec<usize> {
        (0..n).map(|_| b.pick().expect("a child is up")).collect()
    }

    #[test]
    fn interleaves_by_weight() {
        let b = Balancer::new(&[5, 1, 1]);
        let seq = picks(&b, 7);
        assert_eq!(seq.iter().filter(|&&c| c == 0).count(), 5);
        assert_eq!(seq, vec![0, 0, 1, 0, 2, 0, 0]);
        let b = Balancer::new(&[1, 1, 1]);
        assert_eq!(picks(&b, 6), vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn skips_down_children_and_reports_none_when_all_down() {
        let b = Balancer::new(&[1, 1]);
        assert!(b.set_up(0, false));
        assert!(!b.set_up(0, false));
        assert_eq!(picks(&b, 3), vec![1, 1, 1]);
        b.set_up(1, false);
        assert_eq!(b.pick(), None);
        b.set_up(0, true);
        assert_eq!(b.pick(), Some(0));
    }

    #[test]
    fn zero_weight_never_picked_and_huge_weights_bounded() {
        let b = Balancer::new(&[0, 3]);
        assert_eq!(picks(&b, 4), vec![1, 1, 1, 1]);
        let b = Balancer::new(&[1_000_000, 999_999, 1]);
        assert!(b.schedule.len() as u64 <= MAX_PERIOD + 3);
        assert!(b.schedule.contains(&2));
        assert!(Balancer::new(&[]).pick().is_none());
    }
}

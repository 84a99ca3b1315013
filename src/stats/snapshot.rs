//! Snapshots: the engine's state in a small versioned binary file, written atomically (temp
//! file, fsync, rename, fsync of the directory) and read back at start.
//!
//! Layout: magic `TGSTATS\0`, format version (u32), body, then a 64-bit checksum of the body.
//! The body lists entries (buckets, top-k rows, sketch registers) rather than raw memory, so a
//! snapshot restores into an engine whose capacities changed since: what fits is kept. The
//! visitor key is never written; after a restart the current day continues under a new key.
//!
//! A file that is not ours, of another version, cut short or failing its checksum is moved aside
//! (`stats.snapshot.corrupt-<unix seconds>`) and counting starts fresh, with a warning.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::engine::{Count, DaySketch, Engine, Frozen, LatencyTable};
use super::hash::fast_hash;
use super::histogram::{BUCKETS, Histogram};
use super::hll::Hll;
use super::series::{Bucket, Ring};
use super::topk::TopK;

pub const MAGIC: &[u8; 8] = b"TGSTATS\0";
pub const VERSION: u32 = 1;
pub const FILE_NAME: &str = "stats.snapshot";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("not a tollgate stats snapshot (bad magic)")]
    Foreign,
    #[error("snapshot format version {found}, this tollgate reads version {VERSION}")]
    Version { found: u32 },
    #[error("snapshot is corrupt at byte {offset}: {what}")]
    Corrupt { offset: usize, what: &'static str },
}

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn count(&mut self, c: &Count) {
        self.u64(c.hits);
        self.u64(c.bytes);
    }
    fn counts(&mut self, cs: &[Count]) {
        self.u32(cs.len() as u32);
        cs.iter().for_each(|c| self.count(c));
    }
    fn ring(&mut self, r: &Ring) {
        let b = r.buckets();
        self.u32(b.len() as u32);
        for x in b {
            self.u32(x.tag);
            self.u32(x.hits);
            self.u64(x.bytes);
            self.u32(x.errors);
        }
        self.u64(r.late);
    }
    fn hll(&mut self, h: &Hll) {
        self.bytes(&h.registers());
    }
    fn topk(&mut self, t: &TopK) {
        self.u64(t.total_hits);
        self.u64(t.total_bytes);
        let top = t.top(usize::MAX);
        self.u32(top.len() as u32);
        for e in top {
            self.bytes(e.key);
            self.u64(e.count);
            self.u64(e.err);
            self.u64(e.bytes);
            self.u32(e.extra);
        }
    }
    fn histogram(&mut self, h: &Histogram) {
        h.counts().iter().for_each(|&c| self.u32(c));
        self.u64(h.sum_us);
        self.u32(h.max_us);
    }
    fn table(&mut self, t: &LatencyTable) {
        self.u32(t.rows.len() as u32);
        for r in &t.rows {
            self.bytes(r.name.as_bytes());
            self.u64(r.hits);
            self.u64(r.errors);
            self.u64(r.bytes);
            self.histogram(&r.histogram);
        }
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

type Res<T> = Result<T, SnapshotError>;

impl<'a> R<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Res<&'a [u8]> {
        if self.b.len() - self.at < n {
            return Err(SnapshotError::Corrupt { offset: self.at, what });
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1, "byte")?[0])
    }
    fn u32(&mut self) -> Res<u32> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4, "u32")?);
        Ok(u32::from_le_bytes(a))
    }
    fn u64(&mut self) -> Res<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, "u64")?);
        Ok(u64::from_le_bytes(a))
    }
    fn len(&mut self, max: usize, what: &'static str) -> Res<usize> {
        let at = self.at;
        let n = self.u32()? as usize;
        if n > max {
            return Err(SnapshotError::Corrupt { offset: at, what });
        }
        Ok(n)
    }
    fn bytes(&mut self, max: usize, what: &'static str) -> Res<&'a [u8]> {
        let n = self.len(max, what)?;
        self.take(n, what)
    }
    fn count(&mut self) -> Res<Count> {
        Ok(Count { hits: self.u64()?, bytes: self.u64()? })
    }
    fn counts_into(&mut self, dst: &mut [Count]) -> Res<()> {
        let n = self.len(1 << 16, "counter list length")?;
        for i in 0..n {
            let c = self.count()?;
            if let Some(d) = dst.get_mut(i) {
                *d = c;
            }
        }
        Ok(())
    }
    fn ring_into(&mut self, r: &mut Ring) -> Res<()> {
        let n = self.len(1 << 24, "ring length")?;
        for _ in 0..n {
            let b = Bucket {
                tag: self.u32()?,
                hits: self.u32()?,
                bytes: self.u64()?,
                errors: self.u32()?,
            };
            r.restore(b);
        }
        r.late = self.u64()?;
        Ok(())
    }
    fn hll(&mut self) -> Res<Option<Hll>> {
        let at = self.at;
        let regs = self.bytes(1 << 18, "sketch length")?;
        if regs.is_empty() {
            return Ok(None);
        }
        Hll::from_registers(regs)
            .map(Some)
            .ok_or(SnapshotError::Corrupt { offset: at, what: "sketch registers" })
    }
    fn topk_into(&mut self, t: &mut TopK) -> Res<()> {
        let total_hits = self.u64()?;
        let total_bytes = self.u64()?;
        let n = self.len(1 << 24, "top-k length")?;
        let mut rows = Vec::with_capacity(n.min(t.capacity()));
        for _ in 0..n {
            let key = self.bytes(u16::MAX as usize, "top-k key")?;
            let (count, err, bytes, extra) = (self.u64()?, self.u64()?, self.u64()?, self.u32()?);
            if rows.len() < t.capacity() {
                rows.push((key, count, err, bytes, extra));
            }
        }
        // Lowest counts first, so a smaller capacity keeps the heaviest keys.
        for (key, count, err, bytes, extra) in rows.into_iter().rev() {
            t.add(key, count, err, bytes, extra);
        }
        t.total_hits = total_hits;
        t.total_bytes = total_bytes;
        Ok(())
    }
    fn histogram(&mut self) -> Res<Histogram> {
        let mut counts = [0u32; BUCKETS];
        for c in counts.iter_mut() {
            *c = self.u32()?;
        }
        let sum = self.u64()?;
        let max = self.u32()?;
        Ok(Histogram::from_parts(counts, sum, max))
    }
    fn table_into(&mut self, t: &mut LatencyTable) -> Res<()> {
        let n = self.len(1 << 16, "latency table length")?;
        for _ in 0..n {
            let name = String::from_utf8_lossy(self.bytes(256, "latency row name")?).into_owned();
            let (hits, errors, bytes) = (self.u64()?, self.u64()?, self.u64()?);
            let h = self.histogram()?;
            let row = t.row(&name);
            row.hits = row.hits.saturating_add(hits);
            row.errors = row.errors.saturating_add(errors);
            row.bytes = row.bytes.saturating_add(bytes);
            row.histogram.merge(&h);
        }
        Ok(())
    }
}

/// The engine as snapshot bytes.
pub fn encode(e: &Engine) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(256 * 1024));
    w.0.extend_from_slice(MAGIC);
    w.u32(VERSION);
    let body_start = w.0.len();
    w.u64(e.outside.failed);
    w.u64(e.outside.dropped);
    w.u64(e.outside.log_bytes);
    w.count(&e.total);
    w.u64(e.first_ms);
    w.u64(e.last_ms);
    w.ring(&e.minutes);
    w.ring(&e.hours);
    w.ring(&e.days);
    let live: Vec<&DaySketch> = e.sketches.iter().filter(|s| s.day != u32::MAX).collect();
    w.u32(live.len() as u32);
    for s in live {
        w.u32(s.day);
        w.hll(&s.hll);
    }
    let frozen: Vec<&Frozen> = e.frozen.iter().filter(|f| f.day != u32::MAX).collect();
    w.u32(frozen.len() as u32);
    for f in frozen {
        w.u32(f.day);
        w.u64(f.visitors);
    }
    w.hll(&e.period);
    w.u64(e.visitor_late);
    w.counts(&e.visit_hour);
    w.counts(&e.status[..]);
    w.count(&e.status_other);
    w.counts(&e.methods);
    w.counts(&e.protocols);
    w.counts(&e.tls);
    for t in [
        &e.requests,
        &e.statics,
        &e.not_found,
        &e.hosts,
        &e.browsers,
        &e.oses,
        &e.crawlers,
        &e.vhosts,
        &e.referrers,
        &e.referring_sites,
    ] {
        w.topk(t);
    }
    w.counts(&e.browser_families);
    w.counts(&e.os_families);
    w.table(&e.routers);
    w.table(&e.services);
    w.histogram(&e.latency);
    w.u8(0xEE);
    let sum = fast_hash(&w.0[body_start..]);
    w.u64(sum);
    w.0
}

/// Restore `bytes` into `e` (a fresh engine with the current capacities).
pub fn decode_into(bytes: &[u8], e: &mut Engine) -> Result<(), SnapshotError> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(SnapshotError::Foreign);
    }
    let mut r = R { b: bytes, at: 8 };
    let version = r.u32()?;
    if version != VERSION {
        return Err(SnapshotError::Version { found: version });
    }
    if bytes.len() < 12 + 8 {
        return Err(SnapshotError::Corrupt { offset: bytes.len(), what: "file too short" });
    }
    let body = &bytes[12..bytes.len() - 8];
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&bytes[bytes.len() - 8..]);
    if fast_hash(body) != u64::from_le_bytes(sum) {
        return Err(SnapshotError::Corrupt { offset: bytes.len() - 8, what: "checksum mismatch" });
    }
    r.b = &bytes[..bytes.len() - 8];
    e.outside.failed = r.u64()?;
    e.outside.dropped = r.u64()?;
    e.outside.log_bytes = r.u64()?;
    e.total = r.count()?;
    e.first_ms = r.u64()?;
    e.last_ms = r.u64()?;
    r.ring_into(&mut e.minutes)?;
    r.ring_into(&mut e.hours)?;
    r.ring_into(&mut e.days)?;
    let n = r.len(1 << 16, "sketch count")?;
    for _ in 0..n {
        let day = r.u32()?;
        let h = r.hll()?;
        let n = e.sketches.len();
        let slot = &mut e.sketches[day as usize % n];
        if let Some(h) = h.filter(|h| h.precision() == slot.hll.precision())
            && (slot.day == u32::MAX || slot.day < day)
        {
            slot.day = day;
            slot.hll = h;
        }
    }
    let n = r.len(1 << 16, "frozen day count")?;
    for _ in 0..n {
        let day = r.u32()?;
        let visitors = r.u64()?;
        let m = e.frozen.len();
        e.frozen[day as usize % m] = Frozen { day, visitors };
    }
    if let Some(h) = r.hll()? {
        e.period.merge(&h);
    }
    e.visitor_late = r.u64()?;
    r.counts_into(&mut e.visit_hour)?;
    r.counts_into(&mut e.status[..])?;
    e.status_other = r.count()?;
    r.counts_into(&mut e.methods)?;
    r.counts_into(&mut e.protocols)?;
    r.counts_into(&mut e.tls)?;
    for t in [
        &mut e.requests,
        &mut e.statics,
        &mut e.not_found,
        &mut e.hosts,
        &mut e.browsers,
        &mut e.oses,
        &mut e.crawlers,
        &mut e.vhosts,
        &mut e.referrers,
        &mut e.referring_sites,
    ] {
        r.topk_into(t)?;
    }
    r.counts_into(&mut e.browser_families)?;
    r.counts_into(&mut e.os_families)?;
    r.table_into(&mut e.routers)?;
    r.table_into(&mut e.services)?;
    e.latency = r.histogram()?;
    if r.u8()? != 0xEE || r.at != r.b.len() {
        return Err(SnapshotError::Corrupt { offset: r.at, what: "trailing data" });
    }
    Ok(())
}

/// Write `bytes` to `dir/stats.snapshot` atomically.
pub fn write_atomic(dir: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SnapshotError::Io { path: p, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(io(&path))?;
    // The rename is durable only once the directory entry is.
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(())
}

/// What `restore` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Restored {
    Fresh,
    Restored,
    /// The bad file was moved here.
    MovedAside(PathBuf),
}

/// Load `dir/stats.snapshot` into `e`. A bad file is moved aside with a warning; this never
/// fails the caller, and never loses a file silently.
pub fn restore(dir: &Path, e: &mut Engine) -> Restored {
    let path = dir.join(FILE_NAME);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Restored::Fresh,
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "stats snapshot unreadable; counting starts fresh");
            return Restored::Fresh;
        }
    };
    let mut fresh = e.clone();
    match decode_into(&bytes, &mut fresh) {
        Ok(()) => {
            *e = fresh;
            tracing::info!(path = %path.display(), hits = e.total.hits, "stats snapshot restored");
            Restored::Restored
        }
        Err(err) => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let aside = dir.join(format!("{FILE_NAME}.corrupt-{secs}"));
            match fs::rename(&path, &aside) {
                Ok(()) => {
                    tracing::warn!(path = %path.display(), moved_to = %aside.display(), error = %err, "stats snapshot rejected and moved aside; counting starts fresh");
                    Restored::MovedAside(aside)
                }
                Err(mv) => {
                    tracing::warn!(path = %path.display(), error = %err, rename_error = %mv, "stats snapshot rejected and could not be moved aside; counting starts fresh");
                    Restored::Fresh
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Hit, KeyMode, StatsConfig, VisitorKey};

    /// Found by the `log_snapshot` fuzz target: ring buckets whose byte counts overflow when
    /// added. Counters saturate instead of panicking.
    #[test]
    fn overflowing_counts_in_a_snapshot_saturate() {
        let mut bytes: Vec<u8> = vec![
            84, 71, 83, 84, 65, 84, 83, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 246, 0, 134, 134, 134,
            134, 134, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            246, 0, 134, 134, 134, 134, 134, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0,
            10, 0, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 2, 0, 0, 0, 134, 232, 232, 232,
            232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232,
            232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232,
            232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232,
            232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232, 232,
            232, 232, 130,
        ];
        let n = bytes.len();
        let sum = crate::stats::hash::fast_hash(&bytes[12..n - 8]);
        bytes[n - 8..].copy_from_slice(&sum.to_le_bytes());
        let cfg = StatsConfig {
            top_k: 8,
            minutes: 8,
            hours: 8,
            days: 8,
            visitor_days: 2,
            visitor_precision: 6,
            routers: 2,
            services: 2,
            agent_cache: 2,
            ..StatsConfig::default()
        };
        let mut e = Engine::with_key(&cfg, KeyMode::Fixed(VisitorKey::from_parts(1, 2)));
        let _ = decode_into(&bytes, &mut e);
    }

    fn engine_with_traffic() -> Engine {
        let mut e =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(1, 1)));
        for i in 0..5000u64 {
            let mut h = Hit {
                at_unix_ms: 1_700_000_000_000 + i * 60_000,
                client: Some(std::net::IpAddr::from([192, 0, 2, (i % 200) as u8])),
                status: if i % 10 == 0 { 404 } else { 200 },
                bytes_out: i,
                duration_us: (i * 37 % 100_000) as u32,
                ..Hit::default()
            };
            h.set_target(&format!("/p/{}", i % 700));
            h.set_user_agent(&format!("agent {}", i % 30));
            crate::stats::fill(&mut h.router, if i % 2 == 0 { "a@file" } else { "b@file" });
            e.record(&h);
        }
        e
    }

    #[test]
    fn round_trip_keeps_the_report() {
        let e = engine_with_traffic();
        let bytes = encode(&e);
        let mut back =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(9, 9)));
        decode_into(&bytes, &mut back).expect("decodes");
        assert_eq!(e.report(&[], 0), back.report(&[], 0));
    }

    #[test]
    fn damage_is_detected_never_panics() {
        let bytes = encode(&engine_with_traffic());
        let fresh = || {
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(1, 1)))
        };
        assert!(matches!(decode_into(b"hello", &mut fresh()), Err(SnapshotError::Foreign)));
        let mut v2 = bytes.clone();
        v2[8] = 2;
        assert!(matches!(decode_into(&v2, &mut fresh()), Err(SnapshotError::Version { found: 2 })));
        for cut in [12, 100, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode_into(&bytes[..cut], &mut fresh()).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes;
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(matches!(
            decode_into(&flipped, &mut fresh()),
            Err(SnapshotError::Corrupt { what: "checksum mismatch", .. })
        ));
    }

    #[test]
    fn restores_into_smaller_capacities() {
        let bytes = encode(&engine_with_traffic());
        let small = StatsConfig { top_k: 8, minutes: 10, routers: 2, ..StatsConfig::default() };
        let mut e = Engine::with_key(&small, KeyMode::Fixed(VisitorKey::from_parts(1, 1)));
        let before = e.heap_bytes();
        decode_into(&bytes, &mut e).expect("decodes");
        assert_eq!(e.heap_bytes(), before);
        assert_eq!(e.requests.len(), 8);
        assert_eq!(e.total.hits, 5000);
    }

    #[test]
    fn restore_moves_bad_files_aside() {
        let dir = std::env::temp_dir().join(format!("tollgate-snap-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut e =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(1, 1)));
        assert_eq!(restore(&dir, &mut e), Restored::Fresh);
        write_atomic(&dir, &encode(&engine_with_traffic())).expect("writes");
        assert_eq!(restore(&dir, &mut e), Restored::Restored);
        assert_eq!(e.total.hits, 5000);
        fs::write(dir.join(FILE_NAME), b"PK\x03\x04 not ours").expect("writes");
        let mut f =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(1, 1)));
        match restore(&dir, &mut f) {
            Restored::MovedAside(p) => {
                assert_eq!(fs::read(p).expect("kept"), b"PK\x03\x04 not ours")
            }
            other => panic!("expected the file moved aside, got {other:?}"),
        }
        assert!(!dir.join(FILE_NAME).exists());
        assert_eq!(f.total.hits, 0);
        let _ = fs::remove_dir_all(&dir);
    }
}

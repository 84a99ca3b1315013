//! The stats engine: every finished request (`Hit`) folded into fixed-size counters, rings and
//! sketches. One owner, no locks: the live path runs it on its own task, the offline report runs
//! one per thread and merges them.

use super::anon;
use super::classify::{self, AGENT_TEXT, Agent, BROWSER_FAMILIES, OS_FAMILIES};
use super::config::StatsConfig;
use super::hash::{VisitorKey, fast_hash};
use super::histogram::Histogram;
use super::hit::{Hit, Text, fill};
use super::hll::Hll;
use super::series::Ring;
use super::time::MS_PER_DAY;
use super::topk::TopK;

/// Key bytes per panel (longer keys are cut).
pub(crate) const PATH_KEY: usize = 128;
pub(crate) const HOST_KEY: usize = 64;
pub(crate) const AGENT_KEY: usize = 48;

/// Whose visitor key: the offline report keeps one per run, so the union of its days is a true
/// distinct count; the live engine draws a new one each day (privacy: no link between days).
#[derive(Clone, Debug)]
pub enum KeyMode {
    Fixed(VisitorKey),
    Daily { day: u32, key: VisitorKey },
}

#[derive(Clone, Debug)]
pub(crate) struct DaySketch {
    pub(crate) day: u32,
    pub(crate) hll: Hll,
}

/// A day's visitor estimate after its sketch was recycled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frozen {
    pub(crate) day: u32,
    pub(crate) visitors: u64,
}

/// Hits, bytes, errors and latency of one router or service.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub name: Text<64>,
    pub hits: u64,
    pub errors: u64,
    pub bytes: u64,
    pub histogram: Histogram,
}

/// A fixed table of named latency rows; names past capacity share the last row, "(other)".
#[derive(Clone, Debug)]
pub(crate) struct LatencyTable {
    pub(crate) rows: Vec<Latency>,
    capacity: usize,
}

impl LatencyTable {
    fn new(capacity: usize) -> LatencyTable {
        LatencyTable { rows: Vec::with_capacity(capacity.max(1)), capacity: capacity.max(1) }
    }

    pub(crate) fn row(&mut self, name: &str) -> &mut Latency {
        // Compare as stored: cut to the row's 64 bytes at a character boundary.
        let mut cut: Text<64> = Text::new();
        fill(&mut cut, name);
        let name = cut.as_str();
        let i = match self.rows.iter().position(|r| r.name.as_str() == name) {
            Some(i) => i,
            None if self.rows.len() + 1 < self.capacity => {
                let mut r = Latency::default();
                fill(&mut r.name, name);
                self.rows.push(r);
                self.rows.len() - 1
            }
            None => match self.rows.iter().position(|r| r.name.as_str() == "(other)") {
                Some(i) => i,
                None => {
                    let mut r = Latency::default();
                    fill(&mut r.name, "(other)");
                    self.rows.push(r);
                    self.rows.len() - 1
                }
            },
        };
        &mut self.rows[i]
    }

    fn merge(&mut self, other: &LatencyTable) {
        for o in &other.rows {
            let r = self.row(o.name.as_str());
            r.hits = r.hits.saturating_add(o.hits);
            r.errors = r.errors.saturating_add(o.errors);
            r.bytes = r.bytes.saturating_add(o.bytes);
            r.histogram.merge(&o.histogram);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.capacity * (std::mem::size_of::<Latency>() + Histogram::HEAP_BYTES)
    }
}

/// A classified agent in the cache, as plain bytes so that the cache is allocated zeroed (hash 0:
/// an empty slot) and only the slots agents land in become resident.
#[derive(Clone, Copy, Debug)]
pub(super) struct CachedAgent {
    hash: u64,
    browser_family: u8,
    os_family: u8,
    browser_len: u8,
    os_len: u8,
    browser: [u8; AGENT_TEXT],
    os: [u8; AGENT_TEXT],
}

impl CachedAgent {
    fn new(hash: u64, a: &Agent) -> CachedAgent {
        let mut c = CachedAgent {
            hash,
            browser_family: a.browser_family,
            os_family: a.os_family,
            browser_len: a.browser.len() as u8,
            os_len: a.os.len() as u8,
            browser: [0; AGENT_TEXT],
            os: [0; AGENT_TEXT],
        };
        c.browser[..a.browser.len()].copy_from_slice(a.browser.as_bytes());
        c.os[..a.os.len()].copy_from_slice(a.os.as_bytes());
        c
    }

    fn agent(&self) -> Agent {
        fn text(b: &[u8]) -> &str {
            // Copied from a `str` cut at a character boundary: always UTF-8.
            std::str::from_utf8(b).unwrap_or_default()
        }
        let mut a = Agent {
            browser_family: self.browser_family,
            os_family: self.os_family,
            ..Agent::default()
        };
        fill(&mut a.browser, text(&self.browser[..usize::from(self.browser_len)]));
        fill(&mut a.os, text(&self.os[..usize::from(self.os_len)]));
        a
    }
}

/// Exact hit and byte counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub hits: u64,
    pub bytes: u64,
}

impl Count {
    #[inline]
    fn add(&mut self, bytes: u64) {
        self.hits = self.hits.saturating_add(1);
        self.bytes = self.bytes.saturating_add(bytes);
    }
    fn merge(&mut self, o: &Count) {
        self.hits = self.hits.saturating_add(o.hits);
        self.bytes = self.bytes.saturating_add(o.bytes);
    }
}

pub const METHODS: [&str; 10] =
    ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER"];
pub const PROTOCOLS: [&str; 5] = ["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3", "-"];
pub const TLS_VERSIONS: [&str; 4] = ["none", "TLSv1.2", "TLSv1.3", "other"];

/// Counters the engine cannot see itself, kept beside it: lines that did not parse, hits the
/// channel dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outside {
    pub failed: u64,
    pub dropped: u64,
    pub log_bytes: u64,
}

#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) cfg: StatsConfig,
    pub(crate) key: KeyMode,
    pub(crate) outside: Outside,
    pub(crate) total: Count,
    pub(crate) first_ms: u64,
    pub(crate) last_ms: u64,
    pub(crate) minutes: Ring,
    pub(crate) hours: Ring,
    pub(crate) days: Ring,
    pub(crate) sketches: Vec<DaySketch>,
    pub(crate) frozen: Box<[Frozen]>,
    pub(crate) period: Hll,
    pub(crate) visitor_late: u64,
    pub(crate) visit_hour: [Count; 24],
    pub(crate) status: Box<[Count; 500]>,
    pub(crate) status_other: Count,
    pub(crate) methods: [Count; 10],
    pub(crate) protocols: [Count; 5],
    pub(crate) tls: [Count; 4],
    pub(crate) requests: TopK,
    pub(crate) statics: TopK,
    pub(crate) not_found: TopK,
    pub(crate) hosts: TopK,
    pub(crate) browsers: TopK,
    pub(crate) oses: TopK,
    pub(crate) crawlers: TopK,
    pub(crate) vhosts: TopK,
    pub(crate) referrers: TopK,
    pub(crate) referring_sites: TopK,
    pub(crate) browser_families: [Count; BROWSER_FAMILIES.len()],
    pub(crate) os_families: [Count; OS_FAMILIES.len()],
    pub(crate) routers: LatencyTable,
    pub(crate) services: LatencyTable,
    pub(crate) latency: Histogram,
    agent_cache: Box<[CachedAgent]>,
}

impl Engine {
    /// An engine whose visitor key rotates daily (the live proxy).
    pub fn new(cfg: &StatsConfig) -> Engine {
        Engine::with_key(cfg, KeyMode::Daily { day: 0, key: VisitorKey::random() })
    }

    pub fn with_key(cfg: &StatsConfig, key: KeyMode) -> Engine {
        let k = cfg.top_k;
        let vd = cfg.visitor_days.max(1);
        Engine {
            cfg: cfg.clone(),
            key,
            outside: Outside::default(),
            total: Count::default(),
            first_ms: u64::MAX,
            last_ms: 0,
            minutes: Ring::new(60_000, cfg.minutes),
            hours: Ring::new(3_600_000, cfg.hours),
            days: Ring::new(MS_PER_DAY, cfg.days),
            sketches: (0..vd)
                .map(|_| DaySketch { day: u32::MAX, hll: Hll::new(cfg.visitor_precision) })
                .collect(),
            frozen: vec![Frozen { day: u32::MAX, visitors: 0 }; cfg.days.max(1)].into_boxed_slice(),
            period: Hll::new(cfg.visitor_precision),
            visitor_late: 0,
            visit_hour: [Count::default(); 24],
            status: Box::new([Count::default(); 500]),
            status_other: Count::default(),
            methods: Default::default(),
            protocols: Default::default(),
            tls: Default::default(),
            requests: TopK::new(k, PATH_KEY),
            statics: TopK::new(k, PATH_KEY),
            not_found: TopK::new(k, PATH_KEY),
            hosts: TopK::new(k, 16),
            browsers: TopK::new(k, AGENT_KEY),
            oses: TopK::new(k, AGENT_KEY),
            crawlers: TopK::new(k, AGENT_KEY),
            vhosts: TopK::new(k, HOST_KEY),
            referrers: TopK::new(k, PATH_KEY),
            referring_sites: TopK::new(k, HOST_KEY),
            browser_families: Default::default(),
            os_families: Default::default(),
            routers: LatencyTable::new(cfg.routers),
            services: LatencyTable::new(cfg.services),
            latency: Histogram::default(),
            agent_cache: super::zeroed::boxed(cfg.agent_cache.max(1)),
        }
    }

    pub fn config(&self) -> &StatsConfig {
        &self.cfg
    }

    /// Heap bytes owned, from the capacities alone: the number a test compares before and after
    /// a flood. Every structure is allocated whole in `with_key` and never grows.
    pub fn heap_bytes(&self) -> usize {
        self.minutes.heap_bytes()
            + self.hours.heap_bytes()
            + self.days.heap_bytes()
            + self.sketches.capacity() * std::mem::size_of::<DaySketch>()
            + self.sketches.iter().map(|s| s.hll.heap_bytes()).sum::<usize>()
            + self.frozen.len() * std::mem::size_of::<Frozen>()
            + self.period.heap_bytes()
            + std::mem::size_of::<[Count; 500]>()
            + [
                &self.requests,
                &self.statics,
                &self.not_found,
                &self.hosts,
                &self.browsers,
                &self.oses,
                &self.crawlers,
                &self.vhosts,
                &self.referrers,
                &self.referring_sites,
            ]
            .iter()
            .map(|t| t.heap_bytes())
            .sum::<usize>()
            + self.routers.heap_bytes()
            + self.services.heap_bytes()
            + Histogram::HEAP_BYTES
            + self.agent_cache.len() * std::mem::size_of::<CachedAgent>()
    }

    pub fn outside_mut(&mut self) -> &mut Outside {
        &mut self.outside
    }

    pub fn outside(&self) -> Outside {
        self.outside
    }

    pub fn total_hits(&self) -> u64 {
        self.total.hits
    }

    fn agent(&mut self, hit: &Hit) -> Agent {
        let hash =
            if hit.agent_hash != 0 { hit.agent_hash } else { fast_hash(hit.user_agent.as_bytes()) };
        let n = self.agent_cache.len();
        let slot = &mut self.agent_cache[(hash as usize) % n];
        if slot.hash == hash && hash != 0 {
            return slot.agent();
        }
        let a = classify::classify(hit.user_agent.as_str());
        *slot = CachedAgent::new(hash, &a);
        a
    }

    fn visitor_key(&mut self, day: u32) -> VisitorKey {
        match &mut self.key {
            KeyMode::Fixed(k) => *k,
            KeyMode::Daily { day: d, key } => {
                // A new day draws a new key; a late hit for an older day uses today's key.
                if day > *d {
                    *d = day;
                    *key = VisitorKey::random();
                }
                *key
            }
        }
    }

    fn freeze(&mut self, i: usize) {
        let s = &self.sketches[i];
        if s.day == u32::MAX {
            return;
        }
        let est = s.hll.estimate();
        let n = self.frozen.len();
        let f = &mut self.frozen[s.day as usize % n];
        if f.day != s.day {
            *f = Frozen { day: s.day, visitors: 0 };
        }
        f.visitors += est;
    }

    /// The sketch for `day`, recycling the oldest slot; `None` if `day` is older than it.
    fn sketch(&mut self, day: u32) -> Option<&mut Hll> {
        let n = self.sketches.len();
        let i = day as usize % n;
        let cur = self.sketches[i].day;
        if cur == day {
            return Some(&mut self.sketches[i].hll);
        }
        if cur != u32::MAX && cur > day {
            return None;
        }
        self.freeze(i);
        let s = &mut self.sketches[i];
        s.day = day;
        s.hll.clear();
        Some(&mut s.hll)
    }

    /// Fold one finished request in. Never allocates once the agent cache is warm, except for
    /// the rare agent label that needs formatting.
    pub fn record(&mut self, hit: &Hit) {
        let at = hit.at_unix_ms;
        let bytes = hit.bytes_out;
        let day = (at / MS_PER_DAY) as u32;
        self.total.add(bytes);
        self.first_ms = self.first_ms.min(at);
        self.last_ms = self.last_ms.max(at);
        let err = u32::from(hit.status >= 500);
        self.minutes.add(at, 1, bytes, err);
        self.hours.add(at, 1, bytes, err);
        self.days.add(at, 1, bytes, err);
        self.visit_hour[((at % MS_PER_DAY) / 3_600_000) as usize].add(bytes);
        match hit.status {
            100..=599 => self.status[(hit.status - 100) as usize].add(bytes),
            _ => self.status_other.add(bytes),
        }
        self.methods[hit.method as usize].add(bytes);
        self.protocols[hit.protocol as usize].add(bytes);
        self.tls[hit.tls as usize].add(bytes);
        self.latency.record(hit.duration_us);

        // Every valid hit lands in exactly one of requests, static requests and not found.
        let extra = u32::from(hit.method as u8) | (u32::from(hit.protocol as u8) << 8);
        let path = hit.path.as_bytes();
        if hit.status == 404 {
            self.not_found.offer(path, bytes, extra);
        } else if hit.is_static {
            self.statics.offer(path, bytes, extra);
        } else {
            self.requests.offer(path, bytes, extra);
        }

        // Visitors: GoAccess counts distinct (client, day, agent) over hits that are not 4xx.
        let client = anon::to_bytes(hit.client);
        if hit.status / 100 != 4 {
            let h = self.visitor_key(day).visitor(&client, hit.agent_hash);
            self.period.insert(h);
            match self.sketch(day) {
                Some(s) => s.insert(h),
                None => self.visitor_late += 1,
            }
        }

        if let Some(ip) = hit.client {
            let shown = if self.cfg.anonymize_ip { anon::anonymize(ip) } else { ip };
            let mut kb = [0u8; 16];
            let n = anon::key_bytes(shown, &mut kb);
            self.hosts.offer(&kb[..n], bytes, 0);
        }

        let agent = self.agent(hit);
        self.browser_families[agent.browser_family as usize].add(bytes);
        self.os_families[agent.os_family as usize].add(bytes);
        self.browsers.offer(agent.browser.as_bytes(), bytes, u32::from(agent.browser_family));
        self.oses.offer(agent.os.as_bytes(), bytes, u32::from(agent.os_family));
        if agent.is_crawler() {
            self.crawlers.offer(agent.browser.as_bytes(), bytes, 0);
        }

        if !hit.host.is_empty() {
            self.vhosts.offer(hit.host.as_bytes(), bytes, 0);
        }
        let r = hit.referrer.as_str();
        if !r.is_empty() && r != "-" {
            self.referrers.offer(r.as_bytes(), bytes, 0);
            if let Some(site) = referring_site(r) {
                self.referring_sites.offer(site.as_bytes(), bytes, 0);
            }
        }
        let error = u64::from(hit.status >= 500);
        if !hit.router.is_empty() {
            let row = self.routers.row(hit.router.as_str());
            row.hits = row.hits.saturating_add(1);
            row.errors = row.errors.saturating_add(error);
            row.bytes = row.bytes.saturating_add(bytes);
            row.histogram.record(hit.duration_us);
        }
        if !hit.service.is_empty() {
            let row = self.services.row(hit.service.as_str());
            row.hits = row.hits.saturating_add(1);
            row.errors = row.errors.saturating_add(error);
            row.bytes = row.bytes.saturating_add(bytes);
            row.histogram.record(hit.duration_us);
        }
    }

    /// Fold another engine in (per-thread engines of one offline run, same key and capacities).
    pub fn merge(&mut self, o: &Engine) {
        self.outside.failed = self.outside.failed.saturating_add(o.outside.failed);
        self.outside.dropped = self.outside.dropped.saturating_add(o.outside.dropped);
        self.outside.log_bytes = self.outside.log_bytes.saturating_add(o.outside.log_bytes);
        self.total.merge(&o.total);
        self.first_ms = self.first_ms.min(o.first_ms);
        self.last_ms = self.last_ms.max(o.last_ms);
        self.minutes.merge(&o.minutes);
        self.hours.merge(&o.hours);
        self.days.merge(&o.days);
        for s in o.sketches.iter().filter(|s| s.day != u32::MAX) {
            match self.sketch(s.day) {
                Some(h) => {
                    h.merge(&s.hll);
                }
                None => {
                    // Older than our window: keep its estimate beside ours. A day split across
                    // two engines this way counts visitors seen on both sides twice.
                    let n = self.frozen.len();
                    let f = &mut self.frozen[s.day as usize % n];
                    if f.day != s.day {
                        *f = Frozen { day: s.day, visitors: 0 };
                    }
                    f.visitors += s.hll.estimate();
                }
            }
        }
        for f in o.frozen.iter().filter(|f| f.day != u32::MAX) {
            let n = self.frozen.len();
            let mine = &mut self.frozen[f.day as usize % n];
            if mine.day != f.day {
                *mine = Frozen { day: f.day, visitors: 0 };
            }
            mine.visitors += f.visitors;
        }
        self.period.merge(&o.period);
        self.visitor_late = self.visitor_late.saturating_add(o.visitor_late);
        for (a, b) in self.visit_hour.iter_mut().zip(o.visit_hour.iter()) {
            a.merge(b);
        }
        for (a, b) in self.status.iter_mut().zip(o.status.iter()) {
            a.merge(b);
        }
        self.status_other.merge(&o.status_other);
        for (a, b) in self.methods.iter_mut().zip(o.methods.iter()) {
            a.merge(b);
        }
        for (a, b) in self.protocols.iter_mut().zip(o.protocols.iter()) {
            a.merge(b);
        }
        for (a, b) in self.tls.iter_mut().zip(o.tls.iter()) {
            a.merge(b);
        }
        self.requests.merge(&o.requests);
        self.statics.merge(&o.statics);
        self.not_found.merge(&o.not_found);
        self.hosts.merge(&o.hosts);
        self.browsers.merge(&o.browsers);
        self.oses.merge(&o.oses);
        self.crawlers.merge(&o.crawlers);
        self.vhosts.merge(&o.vhosts);
        self.referrers.merge(&o.referrers);
        self.referring_sites.merge(&o.referring_sites);
        for (a, b) in self.browser_families.iter_mut().zip(o.browser_families.iter()) {
            a.merge(b);
        }
        for (a, b) in self.os_families.iter_mut().zip(o.os_families.iter()) {
            a.merge(b);
        }
        self.routers.merge(&o.routers);
        self.services.merge(&o.services);
        self.latency.merge(&o.latency);
    }

    /// Visitors of `day`: its live sketch, else its frozen estimate, else 0.
    pub fn day_visitors(&self, day: u32) -> u64 {
        let n = self.sketches.len();
        let s = &self.sketches[day as usize % n];
        let live = if s.day == day { s.hll.estimate() } else { 0 };
        let m = self.frozen.len();
        let f = &self.frozen[day as usize % m];
        live + if f.day == day { f.visitors } else { 0 }
    }

    pub fn period_visitors(&self) -> u64 {
        self.period.estimate()
    }
}

/// The host part of a referrer URL (`http://www.example.com/x` → `www.example.com`), as
/// GoAccess's referring-sites panel keys it.
pub fn referring_site(r: &str) -> Option<&str> {
    let at = r.find("//")? + 2;
    let rest = &r[at..];
    let end = rest.find('/').unwrap_or(rest.len());
    if end == 0 { None } else { Some(&rest[..end]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::hit::Method;

    fn hit(i: u64, status: u16, target: &str) -> Hit {
        let mut h = Hit {
            at_unix_ms: 1_431_856_000_000 + i * 1000,
            client: Some(std::net::IpAddr::from([10, 0, (i % 7) as u8, (i % 250) as u8])),
            status,
            bytes_out: 100,
            method: Method::Get,
            ..Hit::default()
        };
        h.set_target(target);
        h.set_user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:27.0) Gecko/20100101 Firefox/27.0");
        h
    }

    #[test]
    fn partitions_requests_static_and_not_found() {
        let mut e =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(1, 2)));
        e.record(&hit(1, 200, "/a"));
        e.record(&hit(2, 200, "/a.css"));
        e.record(&hit(3, 404, "/a.css"));
        e.record(&hit(4, 200, "/a.css?v=1"));
        assert_eq!(e.requests.total_hits, 2);
        assert_eq!(e.statics.total_hits, 1);
        assert_eq!(e.not_found.total_hits, 1);
        assert_eq!(e.total.hits, 4);
        assert_eq!(e.total.bytes, 400);
        assert_eq!(e.status[100].hits, 3);
    }

    #[test]
    fn visitors_skip_4xx_and_count_per_day() {
        let mut e =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(3, 4)));
        // 250 distinct clients (i % 250 varies, i % 7 too), one agent, all on one day.
        for i in 0..1750 {
            e.record(&hit(i, 200, "/"));
        }
        let day = (1_431_856_000_000 / MS_PER_DAY) as u32;
        let v = e.day_visitors(day);
        assert!((1715..=1785).contains(&v), "{v}");
        let mut only_4xx =
            Engine::with_key(&StatsConfig::default(), KeyMode::Fixed(VisitorKey::from_parts(3, 4)));
        only_4xx.record(&hit(1, 403, "/"));
        assert_eq!(only_4xx.day_visitors(day), 0);
    }

    #[test]
    fn referring_site_takes_the_host() {
        assert_eq!(referring_site("http://www.example.com/x?y"), Some("www.example.com"));
        assert_eq!(referring_site("https://a.b"), Some("a.b"));
        assert_eq!(referring_site("-"), None);
    }
}

#[cfg(test)]
mod flood {
    use super::*;

    /// The invariant behind "memory bounded by configuration": ten million hits with distinct
    /// paths, clients, agents, hosts and referrers, and the engine owns exactly the heap it had.
    #[test]
    fn ten_million_distinct_hits_leave_the_engine_size_unchanged() {
        let cfg = StatsConfig::default();
        let mut e = Engine::with_key(&cfg, KeyMode::Fixed(VisitorKey::from_parts(5, 6)));
        let before = e.heap_bytes();
        let mut h = Hit { status: 200, bytes_out: 10, ..Hit::default() };
        let mut buf = String::with_capacity(160);
        for i in 0..10_000_000u64 {
            h.at_unix_ms = 1_700_000_000_000 + i * 250;
            h.client = Some(std::net::IpAddr::from(((i as u128 + 1) << 80).to_be_bytes()));
            buf.clear();
            use std::fmt::Write as _;
            let _ = write!(buf, "/p/{i}");
            fill(&mut h.path, &buf);
            h.is_static = i % 3 == 0;
            h.status = if i % 11 == 0 { 404 } else { 200 };
            let _ = write!(buf, " Mozilla/5.0 Agent{i}");
            h.agent_hash = fast_hash(buf.as_bytes());
            fill(&mut h.user_agent, &buf);
            fill(&mut h.host, &buf[..buf.len().min(20)]);
            fill(&mut h.referrer, &buf);
            fill(&mut h.router, if i % 2 == 0 { &buf } else { "r@file" });
            e.record(&h);
        }
        assert_eq!(e.heap_bytes(), before);
        assert_eq!(e.total_hits(), 10_000_000);
        // And the structures really are full, so the equality above is not vacuous.
        assert_eq!(e.requests.len(), cfg.top_k);
        assert_eq!(e.hosts.len(), cfg.top_k);
        assert_eq!(e.routers.rows.len(), cfg.routers);
    }
}

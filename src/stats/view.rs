//! `ReportData`: what the renderers read. Plain owned data, built from an engine in one pass, so
//! a live report is a copy taken on the engine's task and rendered anywhere.

use super::anon;
use super::classify::{BROWSER_FAMILIES, OS_FAMILIES};
use super::engine::{Count, Engine, METHODS, PROTOCOLS, TLS_VERSIONS};
use super::series::Bucket;
use super::time::MS_PER_DAY;
use super::topk::TopK;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct General {
    /// First and last hit, Unix ms (0 when empty).
    pub start_ms: u64,
    pub end_ms: u64,
    /// Lines or requests seen: valid + failed.
    pub total_requests: u64,
    pub valid_requests: u64,
    pub failed_requests: u64,
    /// GoAccess's figure: the sum over days of each day's distinct visitors.
    pub unique_visitors: u64,
    /// Distinct visitors over the whole period (a union of the daily sketches).
    pub unique_visitors_period: u64,
    pub bandwidth: u64,
    pub log_size: u64,
    pub log_paths: Vec<String>,
    pub unique_files: u64,
    pub unique_static_files: u64,
    pub unique_not_found: u64,
    pub unique_referrers: u64,
    /// Hits the live channel dropped under overload.
    pub dropped_hits: u64,
    /// Hits older than the rings keep.
    pub late_hits: u64,
    pub generated_at_ms: u64,
    /// Top-k slots per panel and the resulting count error bound (hits / slots).
    pub top_k: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    pub data: String,
    pub hits: u64,
    /// How far `hits` may be above the truth (Space-Saving); 0 for exact rows.
    pub err: u64,
    pub bytes: u64,
    pub visitors: Option<u64>,
    pub method: Option<&'static str>,
    pub protocol: Option<&'static str>,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Panel {
    /// Exact totals of the panel, whatever the top-k kept.
    pub total_hits: u64,
    pub total_bytes: u64,
    /// Distinct keys kept (at most the capacity).
    pub kept: usize,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyRow {
    pub name: String,
    pub hits: u64,
    pub errors: u64,
    pub bytes: u64,
    pub p50_us: u32,
    pub p90_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
    pub mean_us: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportData {
    pub general: General,
    /// One row per day: hits, bytes, visitors. Newest first, as GoAccess lists them.
    pub visitors: Panel,
    pub requests: Panel,
    pub static_requests: Panel,
    pub not_found: Panel,
    pub hosts: Panel,
    pub os: Panel,
    pub browsers: Panel,
    pub crawlers: Panel,
    pub visit_time: Panel,
    pub vhosts: Panel,
    pub referrers: Panel,
    pub referring_sites: Panel,
    pub status_codes: Panel,
    pub methods: Panel,
    pub protocols: Panel,
    pub tls: Panel,
    pub routers: Vec<LatencyRow>,
    pub services: Vec<LatencyRow>,
    pub latency: LatencyRow,
    pub minutes: Vec<Bucket>,
    pub hours: Vec<Bucket>,
}

/// Rows shown per panel.
pub const SHOWN: usize = 100;

fn panel_from(
    t: &TopK,
    label: impl Fn(&[u8], u32) -> (String, Option<&'static str>, Option<&'static str>),
) -> Panel {
    Panel {
        total_hits: t.total_hits,
        total_bytes: t.total_bytes,
        kept: t.len(),
        items: t
            .top(SHOWN)
            .into_iter()
            .map(|e| {
                let (data, method, protocol) = label(e.key, e.extra);
                Item {
                    data,
                    hits: e.count,
                    err: e.err,
                    bytes: e.bytes,
                    method,
                    protocol,
                    ..Item::default()
                }
            })
            .collect(),
    }
}

fn text(k: &[u8]) -> String {
    String::from_utf8_lossy(k).into_owned()
}

fn plain(t: &TopK) -> Panel {
    panel_from(t, |k, _| (text(k), None, None))
}

fn req(t: &TopK) -> Panel {
    panel_from(t, |k, x| {
        let m = METHODS.get((x & 0xff) as usize).copied();
        let p = PROTOCOLS.get(((x >> 8) & 0xff) as usize).copied();
        (text(k), m, p)
    })
}

fn exact(rows: impl Iterator<Item = (String, Count)>) -> Panel {
    let mut items: Vec<Item> = rows
        .filter(|(_, c)| c.hits > 0)
        .map(|(data, c)| Item { data, hits: c.hits, bytes: c.bytes, ..Item::default() })
        .collect();
    items.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.data.cmp(&b.data)));
    let total_hits = items.iter().map(|i| i.hits).sum();
    let total_bytes = items.iter().map(|i| i.bytes).sum();
    Panel { total_hits, total_bytes, kept: items.len(), items }
}

/// Families with their versions as children (GoAccess's browsers and OS panels).
fn grouped(families: &[Count], names: &[&str], versions: &TopK) -> Panel {
    let mut p = exact(names.iter().zip(families.iter()).map(|(n, c)| ((*n).to_string(), *c)));
    for fam in p.items.iter_mut() {
        let id = names.iter().position(|n| *n == fam.data).unwrap_or(0) as u32;
        fam.items = versions
            .top(usize::MAX)
            .into_iter()
            .filter(|e| e.extra == id)
            .take(SHOWN)
            .map(|e| Item {
                data: text(e.key),
                hits: e.count,
                err: e.err,
                bytes: e.bytes,
                ..Item::default()
            })
            .collect();
    }
    p
}

fn latency_row(
    name: &str,
    hits: u64,
    errors: u64,
    bytes: u64,
    h: &super::histogram::Histogram,
) -> LatencyRow {
    LatencyRow {
        name: name.to_string(),
        hits,
        errors,
        bytes,
        p50_us: h.quantile(0.5),
        p90_us: h.quantile(0.9),
        p99_us: h.quantile(0.99),
        max_us: h.max_us,
        mean_us: h.mean_us(),
    }
}

pub(crate) fn status_text(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        499 => "Client Closed Request",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn class_name(c: u16) -> &'static str {
    match c {
        1 => "1xx Informational",
        2 => "2xx Success",
        3 => "3xx Redirection",
        4 => "4xx Client Errors",
        5 => "5xx Server Errors",
        _ => "Unknown",
    }
}

impl Engine {
    /// Everything the renderers show. `paths` are the log files read (empty for a live report).
    pub fn report(&self, paths: &[String], now_ms: u64) -> ReportData {
        let o = self.outside;
        let days: Vec<Bucket> = self.days.buckets();
        let mut visitors = Panel::default();
        let mut visitors_sum = 0;
        for b in days.iter().rev() {
            let v = self.day_visitors(b.tag);
            visitors_sum += v;
            visitors.items.push(Item {
                data: super::time::day_key(b.tag),
                hits: u64::from(b.hits),
                bytes: b.bytes,
                visitors: Some(v),
                ..Item::default()
            });
        }
        visitors.total_hits = visitors.items.iter().map(|i| i.hits).sum();
        visitors.total_bytes = visitors.items.iter().map(|i| i.bytes).sum();
        visitors.kept = visitors.items.len();

        let hosts = panel_from(&self.hosts, |k, _| {
            (anon::from_key_bytes(k).map_or_else(|| text(k), |ip| ip.to_string()), None, None)
        });

        let mut status_codes = Panel::default();
        for class in 1..=5u16 {
            let mut group = Item { data: class_name(class).to_string(), ..Item::default() };
            for code in class * 100..class * 100 + 100 {
                let c = self.status[(code - 100) as usize];
                if c.hits == 0 {
                    continue;
                }
                group.hits += c.hits;
                group.bytes += c.bytes;
                group.items.push(Item {
                    data: format!("{code} - {}", status_text(code)),
                    hits: c.hits,
                    bytes: c.bytes,
                    ..Item::default()
                });
            }
            if group.hits > 0 {
                group.items.sort_by_key(|i| std::cmp::Reverse(i.hits));
                status_codes.total_hits += group.hits;
                status_codes.total_bytes += group.bytes;
                status_codes.items.push(group);
            }
        }
        status_codes.items.sort_by_key(|i| std::cmp::Reverse(i.hits));
        status_codes.kept = status_codes.items.len();

        let visit_time = {
            let mut p = exact((0..24).map(|h| (format!("{h:02}"), self.visit_hour[h])));
            p.items.sort_by(|a, b| a.data.cmp(&b.data));
            p
        };

        let rows = |t: &super::engine::LatencyTable| -> Vec<LatencyRow> {
            let mut v: Vec<LatencyRow> = t
                .rows
                .iter()
                .map(|r| latency_row(r.name.as_str(), r.hits, r.errors, r.bytes, &r.histogram))
                .collect();
            v.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.name.cmp(&b.name)));
            v
        };

        ReportData {
            general: General {
                start_ms: if self.total.hits == 0 { 0 } else { self.first_ms },
                end_ms: self.last_ms,
                total_requests: self.total.hits + o.failed,
                valid_requests: self.total.hits,
                failed_requests: o.failed,
                unique_visitors: visitors_sum,
                unique_visitors_period: self.period_visitors(),
                bandwidth: self.total.bytes,
                log_size: o.log_bytes,
                log_paths: paths.to_vec(),
                unique_files: self.requests.len() as u64,
                unique_static_files: self.statics.len() as u64,
                unique_not_found: self.not_found.len() as u64,
                unique_referrers: self.referrers.len() as u64,
                dropped_hits: o.dropped,
                late_hits: self.days.late,
                generated_at_ms: now_ms,
                top_k: self.cfg.top_k,
            },
            visitors,
            requests: req(&self.requests),
            static_requests: req(&self.statics),
            not_found: req(&self.not_found),
            hosts,
            os: grouped(&self.os_families, OS_FAMILIES, &self.oses),
            browsers: grouped(&self.browser_families, BROWSER_FAMILIES, &self.browsers),
            crawlers: plain(&self.crawlers),
            visit_time,
            vhosts: plain(&self.vhosts),
            referrers: plain(&self.referrers),
            referring_sites: plain(&self.referring_sites),
            status_codes,
            methods: exact(
                METHODS.iter().zip(self.methods.iter()).map(|(n, c)| ((*n).to_string(), *c)),
            ),
            protocols: exact(
                PROTOCOLS.iter().zip(self.protocols.iter()).map(|(n, c)| ((*n).to_string(), *c)),
            ),
            tls: exact(
                TLS_VERSIONS.iter().zip(self.tls.iter()).map(|(n, c)| ((*n).to_string(), *c)),
            ),
            routers: rows(&self.routers),
            services: rows(&self.services),
            latency: latency_row("all", self.latency.count, 0, self.total.bytes, &self.latency),
            minutes: self.minutes.buckets(),
            hours: self.hours.buckets(),
        }
    }
}

/// Unused-day helper for renderers: the day number of a Unix-ms instant.
pub fn day_of(ms: u64) -> u32 {
    (ms / MS_PER_DAY) as u32
}

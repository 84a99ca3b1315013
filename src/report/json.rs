//! `--format json`: GoAccess's JSON layout (a `general` object with its key names, then one
//! object per panel with `metadata` and `data`; status codes grouped by class with `items`), so
//! tools written for GoAccess read it. tollgate's extras (period visitors, routers, services,
//! crawlers, methods, protocols, top-k error bounds) are extra keys those tools ignore.

use serde_json::{Map, Value, json};

use crate::stats::{Item, LatencyRow, Panel, ReportData, datetime, day_clf};

pub(crate) fn pct(part: u64, total: u64) -> String {
    let p = if total == 0 { 0.0 } else { part as f64 * 100.0 / total as f64 };
    format!("{p:05.2}")
}

fn item(i: &Item, total_hits: u64, total_bytes: u64, total_visitors: u64) -> Value {
    let mut m = Map::new();
    m.insert("hits".into(), json!({"count": i.hits, "percent": pct(i.hits, total_hits)}));
    if let Some(v) = i.visitors {
        m.insert("visitors".into(), json!({"count": v, "percent": pct(v, total_visitors)}));
    }
    m.insert("bytes".into(), json!({"count": i.bytes, "percent": pct(i.bytes, total_bytes)}));
    if i.err > 0 {
        m.insert("hits_max_overcount".into(), json!(i.err));
    }
    if let Some(x) = i.method {
        m.insert("method".into(), json!(x));
    }
    if let Some(x) = i.protocol {
        m.insert("protocol".into(), json!(x));
    }
    m.insert("data".into(), json!(i.data));
    if !i.items.is_empty() {
        let kids: Vec<Value> =
            i.items.iter().map(|c| item(c, total_hits, total_bytes, total_visitors)).collect();
        m.insert("items".into(), Value::Array(kids));
    }
    Value::Object(m)
}

/// GoAccess's total/avg/max/min block. `n` is the number of distinct keys (kept, not only shown),
/// so the average is per key as GoAccess computes it.
fn stat(values: impl Iterator<Item = u64> + Clone, total: u64, n: u64) -> Value {
    let max = values.clone().max().unwrap_or(0);
    let min = values.min().unwrap_or(0);
    let avg = total.checked_div(n).unwrap_or(0);
    json!({
        "total": {"value": total},
        "avg": {"value": avg, "percent": pct(avg, total)},
        "max": {"value": max, "percent": pct(max, total)},
        "min": {"value": min, "percent": pct(min, total)},
    })
}

pub(crate) fn panel(p: &Panel, top_k: usize) -> Value {
    let visitors_total: u64 = p.items.iter().filter_map(|i| i.visitors).sum();
    let mut meta = Map::new();
    let n = p.kept.max(p.items.len()) as u64;
    meta.insert("bytes".into(), stat(p.items.iter().map(|i| i.bytes), p.total_bytes, n));
    if p.items.iter().any(|i| i.visitors.is_some()) {
        meta.insert(
            "visitors".into(),
            stat(p.items.iter().filter_map(|i| i.visitors), visitors_total, n),
        );
    }
    meta.insert("hits".into(), stat(p.items.iter().map(|i| i.hits), p.total_hits, n));
    meta.insert("data".into(), json!({"total": {"value": p.kept}}));
    if top_k > 0 {
        // Space-Saving: no shown count is more than this above the truth.
        meta.insert("hits_error_bound".into(), json!(p.total_hits / top_k as u64));
    }
    let data: Vec<Value> =
        p.items.iter().map(|i| item(i, p.total_hits, p.total_bytes, visitors_total)).collect();
    json!({"metadata": Value::Object(meta), "data": data})
}

fn latency(rows: &[LatencyRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "data": r.name, "hits": r.hits, "errors": r.errors, "bytes": r.bytes,
                    "error_rate": pct(r.errors, r.hits),
                    "p50_us": r.p50_us, "p90_us": r.p90_us, "p99_us": r.p99_us, "max_us": r.max_us, "avg_us": r.mean_us,
                })
            })
            .collect(),
    )
}

pub(super) fn render(r: &ReportData) -> String {
    let g = &r.general;
    let general = json!({
        "start_date": if g.valid_requests > 0 { day_clf((g.start_ms / 86_400_000) as u32) } else { String::new() },
        "end_date": if g.valid_requests > 0 { day_clf((g.end_ms / 86_400_000) as u32) } else { String::new() },
        "date_time": format!("{} +0000", datetime(g.generated_at_ms)),
        "total_requests": g.total_requests,
        "valid_requests": g.valid_requests,
        "failed_requests": g.failed_requests,
        "generation_time": 0,
        "unique_visitors": g.unique_visitors,
        "unique_visitors_period": g.unique_visitors_period,
        "unique_files": g.unique_files,
        "excluded_hits": 0,
        "unique_referrers": g.unique_referrers,
        "unique_not_found": g.unique_not_found,
        "unique_static_files": g.unique_static_files,
        "log_size": g.log_size,
        "bandwidth": g.bandwidth,
        "log_path": g.log_paths,
        "dropped_hits": g.dropped_hits,
        "late_hits": g.late_hits,
        "top_k": g.top_k,
    });
    let k = g.top_k;
    let mut out = Map::new();
    out.insert("general".into(), general);
    out.insert("visitors".into(), panel(&r.visitors, 0));
    out.insert("requests".into(), panel(&r.requests, k));
    out.insert("static_requests".into(), panel(&r.static_requests, k));
    out.insert("not_found".into(), panel(&r.not_found, k));
    out.insert("hosts".into(), panel(&r.hosts, k));
    out.insert("os".into(), panel(&r.os, 0));
    out.insert("browsers".into(), panel(&r.browsers, 0));
    out.insert("visit_time".into(), panel(&r.visit_time, 0));
    out.insert("vhosts".into(), panel(&r.vhosts, k));
    out.insert("referrers".into(), panel(&r.referrers, k));
    out.insert("referring_sites".into(), panel(&r.referring_sites, k));
    out.insert("status_codes".into(), panel(&r.status_codes, 0));
    out.insert("tls_type".into(), panel(&r.tls, 0));
    out.insert("crawlers".into(), panel(&r.crawlers, k));
    out.insert("methods".into(), panel(&r.methods, 0));
    out.insert("protocols".into(), panel(&r.protocols, 0));
    out.insert("routers".into(), latency(&r.routers));
    out.insert("services".into(), latency(&r.services));
    let mut s = serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

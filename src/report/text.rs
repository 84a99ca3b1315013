//! `--format text`: a readable terminal summary, widths fixed so it fits 80 columns.

use std::fmt::Write;

use crate::stats::{LatencyRow, Panel, ReportData, datetime};

/// `1.2 MiB`-style sizes.
pub(crate) fn bytes(b: u64) -> String {
    const U: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < U.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{v:.1} {}", U[u]) }
}

/// Microseconds as `850 us`, `12.3 ms`, `1.20 s`.
pub(crate) fn micros(us: u64) -> String {
    if us < 1000 {
        format!("{us} us")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn panel(out: &mut String, title: &str, p: &Panel, rows: usize) {
    if p.items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({} hits, {})", p.total_hits, bytes(p.total_bytes));
    for i in p.items.iter().take(rows) {
        let share =
            if p.total_hits == 0 { 0.0 } else { i.hits as f64 * 100.0 / p.total_hits as f64 };
        let _ = writeln!(
            out,
            "  {:>9} {:>6.2}% {:>10}  {}",
            i.hits,
            share,
            bytes(i.bytes),
            cut(&i.data, 48)
        );
    }
}

fn latency(out: &mut String, title: &str, rows: &[LatencyRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{title}\n  {:<24} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "name", "hits", "errors", "p50", "p90", "p99", "max"
    );
    for r in rows {
        let rate = if r.hits == 0 { 0.0 } else { r.errors as f64 * 100.0 / r.hits as f64 };
        let _ = writeln!(
            out,
            "  {:<24} {:>8} {:>6.2}% {:>9} {:>9} {:>9} {:>9}",
            cut(&r.name, 24),
            r.hits,
            rate,
            micros(u64::from(r.p50_us)),
            micros(u64::from(r.p90_us)),
            micros(u64::from(r.p99_us)),
            micros(u64::from(r.max_us))
        );
    }
}

pub(super) fn render(r: &ReportData) -> String {
    let g = &r.general;
    let mut out = String::new();
    let _ = writeln!(out, "tollgate traffic report");
    if g.valid_requests > 0 {
        let _ =
            writeln!(out, "  period          {} .. {}", datetime(g.start_ms), datetime(g.end_ms));
    }
    let _ = writeln!(out, "  total requests  {}", g.total_requests);
    let _ = writeln!(out, "  valid requests  {}", g.valid_requests);
    let _ = writeln!(out, "  failed requests {}", g.failed_requests);
    let _ = writeln!(
        out,
        "  unique visitors {} (daily, summed)  {} (whole period)",
        g.unique_visitors, g.unique_visitors_period
    );
    let _ = writeln!(out, "  bandwidth       {}", bytes(g.bandwidth));
    let _ = writeln!(out, "  log size        {}", bytes(g.log_size));
    if g.dropped_hits > 0 {
        let _ = writeln!(out, "  dropped hits    {} (stats channel full)", g.dropped_hits);
    }
    panel(&mut out, "Visitors per day", &r.visitors, 14);
    panel(&mut out, "Requested files", &r.requests, 10);
    panel(&mut out, "Static requests", &r.static_requests, 10);
    panel(&mut out, "Not found", &r.not_found, 10);
    panel(&mut out, "Visitor hostnames and IPs", &r.hosts, 10);
    panel(&mut out, "Operating systems", &r.os, 10);
    panel(&mut out, "Browsers", &r.browsers, 10);
    panel(&mut out, "Crawlers", &r.crawlers, 10);
    panel(&mut out, "Virtual hosts", &r.vhosts, 10);
    panel(&mut out, "Referring sites", &r.referring_sites, 10);
    panel(&mut out, "Status codes", &r.status_codes, 10);
    panel(&mut out, "Methods", &r.methods, 10);
    panel(&mut out, "Protocols", &r.protocols, 10);
    latency(&mut out, "Routers", &r.routers);
    latency(&mut out, "Services", &r.services);
    out
}

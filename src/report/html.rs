//! `--format html`: one self-contained page. Inline CSS and server-drawn SVG, no script, no
//! external fetch (a `Content-Security-Policy` meta tag forbids any), readable on a phone
//! (fluid layout, tables scroll sideways in their own box).

use std::fmt::Write;

use super::text::{bytes, micros};
use crate::stats::{Bucket, LatencyRow, Panel, ReportData, datetime};

pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#222}\
header{background:#1f2a44;color:#fff;padding:12px 16px}h1{font-size:18px;margin:0}\
main{padding:8px;display:grid;gap:10px;grid-template-columns:repeat(auto-fit,minmax(320px,1fr))}\
section{background:#fff;border-radius:6px;padding:10px;box-shadow:0 1px 2px #0002;min-width:0}\
h2{font-size:15px;margin:0 0 6px}.wide{grid-column:1/-1}.scroll{overflow-x:auto}\
table{border-collapse:collapse;width:100%;font-size:13px}td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}\
td.k,th.k{text-align:left;white-space:normal;word-break:break-all}.g{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:6px}\
.g div{background:#eef1f7;border-radius:4px;padding:6px}.g b{display:block;font-size:17px}.note{color:#666;font-size:12px}\
svg{width:100%;height:auto}.bar{fill:#4a78c2}.err{fill:#d0513a}";

fn general(out: &mut String, r: &ReportData) {
    let g = &r.general;
    let cells = [
        ("Total requests", g.total_requests.to_string()),
        ("Valid requests", g.valid_requests.to_string()),
        ("Failed requests", g.failed_requests.to_string()),
        ("Unique visitors (daily sum)", g.unique_visitors.to_string()),
        ("Unique visitors (period)", g.unique_visitors_period.to_string()),
        ("Requested files", g.unique_files.to_string()),
        ("Static files", g.unique_static_files.to_string()),
        ("Not found", g.unique_not_found.to_string()),
        ("Bandwidth", bytes(g.bandwidth)),
        ("Log size", bytes(g.log_size)),
        ("Dropped hits", g.dropped_hits.to_string()),
    ];
    let _ =
        write!(out, "<section class=\"wide\" id=\"general\"><h2>Overview</h2><div class=\"g\">");
    for (k, v) in cells {
        let _ = write!(out, "<div>{}<b>{}</b></div>", esc(k), esc(&v));
    }
    let _ = write!(out, "</div>");
    if g.valid_requests > 0 {
        let _ = write!(
            out,
            "<p class=\"note\">{} – {}",
            esc(&datetime(g.start_ms)),
            esc(&datetime(g.end_ms))
        );
        if !g.log_paths.is_empty() {
            let _ = write!(out, " · {}", esc(&g.log_paths.join(", ")));
        }
        let _ = write!(out, "</p>");
    }
    let _ = write!(out, "</section>");
}

/// A bar chart of hits per bucket, errors (5xx) stacked in red.
fn chart(out: &mut String, id: &str, title: &str, buckets: &[(String, u64, u64)]) {
    if buckets.is_empty() {
        return;
    }
    let max = buckets.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    let w = 600.0;
    let h = 160.0;
    let bw = w / buckets.len() as f64;
    let _ = write!(
        out,
        "<section class=\"wide\" id=\"{id}\"><h2>{}</h2><svg viewBox=\"0 0 {w} {}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        h + 16.0,
        esc(title)
    );
    for (i, (label, hits, errs)) in buckets.iter().enumerate() {
        let bh = *hits as f64 / max as f64 * h;
        let eh = *errs as f64 / max as f64 * h;
        let x = i as f64 * bw;
        let _ = write!(
            out,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\"><title>{}: {hits}</title></rect>",
            h - bh,
            (bw - 1.0).max(0.5),
            esc(label)
        );
        if eh > 0.0 {
            let _ = write!(
                out,
                "<rect class=\"err\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{eh:.1}\"/>",
                h - eh,
                (bw - 1.0).max(0.5)
            );
        }
    }
    if let (Some(first), Some(last)) = (buckets.first(), buckets.last()) {
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"11\">{}</text><text x=\"{w}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            h + 13.0,
            esc(&first.0),
            h + 13.0,
            esc(&last.0)
        );
    }
    let _ = write!(out, "</svg></section>");
}

fn table(out: &mut String, id: &str, title: &str, p: &Panel, with_visitors: bool) {
    let _ = write!(out, "<section id=\"{id}\"><h2>{}</h2>", esc(title));
    if p.items.is_empty() {
        let _ = write!(out, "<p class=\"note\">No data.</p></section>");
        return;
    }
    let _ = write!(out, "<div class=\"scroll\"><table><tr><th>Hits</th><th>%</th>");
    if with_visitors {
        let _ = write!(out, "<th>Visitors</th>");
    }
    let _ = write!(out, "<th>Bytes</th><th class=\"k\">Data</th></tr>");
    for i in &p.items {
        let share =
            if p.total_hits == 0 { 0.0 } else { i.hits as f64 * 100.0 / p.total_hits as f64 };
        let _ = write!(out, "<tr><td>{}</td><td>{share:.2}</td>", i.hits);
        if with_visitors {
            let _ = write!(out, "<td>{}</td>", i.visitors.unwrap_or(0));
        }
        let _ = write!(
            out,
            "<td>{}</td><td class=\"k\">{}</td></tr>",
            esc(&bytes(i.bytes)),
            esc(&i.data)
        );
        for c in &i.items {
            let _ = write!(
                out,
                "<tr><td>{}</td><td></td>{}<td>{}</td><td class=\"k\">&nbsp;&nbsp;{}</td></tr>",
                c.hits,
                if with_visitors { "<td></td>" } else { "" },
                esc(&bytes(c.bytes)),
                esc(&c.data)
            );
        }
    }
    let _ = write!(out, "</table></div><p class=\"note\">{} hits in total", p.total_hits);
    if p.items.iter().any(|i| i.err > 0) {
        let _ = write!(
            out,
            "; counts are top-k estimates, each at most {} above the truth",
            p.items.iter().map(|i| i.err).max().unwrap_or(0)
        );
    }
    let _ = write!(out, ".</p></section>");
}

fn latency(out: &mut String, id: &str, title: &str, rows: &[LatencyRow]) {
    let _ = write!(out, "<section class=\"wide\" id=\"{id}\"><h2>{}</h2>", esc(title));
    if rows.is_empty() {
        let _ = write!(out, "<p class=\"note\">No data.</p></section>");
        return;
    }
    let _ = write!(
        out,
        "<div class=\"scroll\"><table><tr><th class=\"k\">Name</th><th>Hits</th><th>Errors</th><th>Error rate</th><th>p50</th><th>p90</th><th>p99</th><th>Max</th></tr>"
    );
    for r in rows {
        let rate = if r.hits == 0 { 0.0 } else { r.errors as f64 * 100.0 / r.hits as f64 };
        let _ = write!(
            out,
            "<tr><td class=\"k\">{}</td><td>{}</td><td>{}</td><td>{rate:.2}%</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.name),
            r.hits,
            r.errors,
            micros(u64::from(r.p50_us)),
            micros(u64::from(r.p90_us)),
            micros(u64::from(r.p99_us)),
            micros(u64::from(r.max_us))
        );
    }
    let _ = write!(
        out,
        "</table></div><p class=\"note\">Percentiles within 12.5 % (log-scale buckets); errors are 5xx.</p></section>"
    );
}

fn series(b: &[Bucket], label: impl Fn(u32) -> String) -> Vec<(String, u64, u64)> {
    b.iter().map(|b| (label(b.tag), u64::from(b.hits), u64::from(b.errors))).collect()
}

pub(super) fn render(r: &ReportData) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>tollgate traffic report</title><style>{CSS}</style></head><body>\
<header><h1>tollgate traffic report</h1></header><main>"
    );
    general(&mut out, r);
    let days: Vec<(String, u64, u64)> =
        r.visitors.items.iter().rev().map(|i| (i.data.clone(), i.hits, 0)).collect();
    chart(&mut out, "chart-days", "Hits per day", &days);
    let hours = if r.hours.len() > 1 {
        series(&r.hours, |t| datetime(u64::from(t) * 3_600_000))
    } else {
        Vec::new()
    };
    chart(&mut out, "chart-hours", "Hits per hour (last 60 days; 5xx in red)", &hours);
    let minutes = if r.minutes.len() > 1 {
        series(&r.minutes, |t| datetime(u64::from(t) * 60_000))
    } else {
        Vec::new()
    };
    chart(&mut out, "chart-minutes", "Hits per minute (last 48 hours; 5xx in red)", &minutes);
    table(&mut out, "visitors", "Unique visitors per day", &r.visitors, true);
    table(&mut out, "requests", "Requested files (URLs)", &r.requests, false);
    table(&mut out, "static_requests", "Static requests", &r.static_requests, false);
    table(&mut out, "not_found", "Not found URLs (404s)", &r.not_found, false);
    table(&mut out, "hosts", "Visitor hostnames and IPs", &r.hosts, false);
    table(&mut out, "os", "Operating systems", &r.os, false);
    table(&mut out, "browsers", "Browsers", &r.browsers, false);
    table(&mut out, "crawlers", "Crawlers", &r.crawlers, false);
    table(&mut out, "visit_time", "Time distribution", &r.visit_time, false);
    table(&mut out, "vhosts", "Virtual hosts", &r.vhosts, false);
    table(&mut out, "referrers", "Referrer URLs", &r.referrers, false);
    table(&mut out, "referring_sites", "Referring sites", &r.referring_sites, false);
    table(&mut out, "status_codes", "HTTP status codes", &r.status_codes, false);
    table(&mut out, "methods", "Methods", &r.methods, false);
    table(&mut out, "protocols", "Protocols", &r.protocols, false);
    table(&mut out, "tls_type", "TLS versions", &r.tls, false);
    latency(&mut out, "routers", "Routers: latency and errors", &r.routers);
    latency(&mut out, "services", "Services: latency and errors", &r.services);
    let _ = writeln!(
        out,
        "</main><footer class=\"note\" style=\"padding:8px 16px\">Generated {} UTC by tollgate</footer></body></html>",
        esc(&datetime(r.general.generated_at_ms))
    );
    out
}

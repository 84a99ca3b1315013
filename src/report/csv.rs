//! `--format csv`: GoAccess's CSV layout. One row per item:
//! `"idx","parent idx","panel","hits","hits%","visitors","visitors%","bytes","bytes%","method","protocol","data"`,
//! the general figures first as `"idx",,"general",,,,,,,,"value","key"`.

use std::fmt::Write;

use crate::stats::{Item, Panel, ReportData, datetime};

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn pct(part: u64, total: u64) -> String {
    let p = if total == 0 { 0.0 } else { part as f64 * 100.0 / total as f64 };
    format!("{p:.2}%")
}

fn row(
    out: &mut String,
    idx: usize,
    parent: Option<usize>,
    name: &str,
    i: &Item,
    p: &Panel,
    vtotal: u64,
) {
    let (v, vp) = match i.visitors {
        Some(v) => (q(&v.to_string()), q(&pct(v, vtotal))),
        None => (q("0"), q(&pct(0, vtotal))),
    };
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        q(&idx.to_string()),
        parent.map(|p| q(&p.to_string())).unwrap_or_default(),
        q(name),
        q(&i.hits.to_string()),
        q(&pct(i.hits, p.total_hits)),
        v,
        vp,
        q(&i.bytes.to_string()),
        q(&pct(i.bytes, p.total_bytes)),
        i.method.map(q).unwrap_or_default(),
        i.protocol.map(q).unwrap_or_default(),
        q(&i.data)
    );
}

pub(super) fn render(r: &ReportData) -> String {
    let g = &r.general;
    let mut out = String::new();
    let general: [(&str, String); 14] = [
        ("date_time", format!("{} +0000", datetime(g.generated_at_ms))),
        ("total_requests", g.total_requests.to_string()),
        ("valid_requests", g.valid_requests.to_string()),
        ("failed_requests", g.failed_requests.to_string()),
        ("generation_time", "0".into()),
        ("unique_visitors", g.unique_visitors.to_string()),
        ("unique_files", g.unique_files.to_string()),
        ("excluded_hits", "0".into()),
        ("unique_referrers", g.unique_referrers.to_string()),
        ("unique_not_found", g.unique_not_found.to_string()),
        ("unique_static_files", g.unique_static_files.to_string()),
        ("log_size", g.log_size.to_string()),
        ("bandwidth", g.bandwidth.to_string()),
        ("log_path", g.log_paths.join(",")),
    ];
    for (i, (k, v)) in general.iter().enumerate() {
        let _ = writeln!(out, "{},,\"general\",,,,,,,,{},{}", q(&i.to_string()), q(v), q(k));
    }
    let _ = writeln!(
        out,
        "\"14\",,\"general\",,,,,,,,{},\"unique_visitors_period\"",
        q(&g.unique_visitors_period.to_string())
    );
    let panels: [(&str, &Panel); 15] = [
        ("visitors", &r.visitors),
        ("requests", &r.requests),
        ("static_requests", &r.static_requests),
        ("not_found", &r.not_found),
        ("hosts", &r.hosts),
        ("os", &r.os),
        ("browsers", &r.browsers),
        ("visit_time", &r.visit_time),
        ("vhosts", &r.vhosts),
        ("referrers", &r.referrers),
        ("referring_sites", &r.referring_sites),
        ("status_codes", &r.status_codes),
        ("tls_type", &r.tls),
        ("crawlers", &r.crawlers),
        ("methods", &r.methods),
    ];
    for (name, p) in panels {
        let vtotal: u64 = p.items.iter().filter_map(|i| i.visitors).sum();
        for (idx, i) in p.items.iter().enumerate() {
            row(&mut out, idx, None, name, i, p, vtotal);
            for (cidx, c) in i.items.iter().enumerate() {
                row(&mut out, cidx, Some(idx), name, c, p, vtotal);
            }
        }
    }
    out
}

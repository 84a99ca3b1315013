//! `tollgate report` against Debian's GoAccess on the same logs: the totals the issue names must
//! be equal, unique visitors within 2 %.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::report_util::{TempDir, goaccess_json, tollgate_json};

fn hits_total(v: &Value, panel: &str) -> u64 {
    v[panel]["metadata"]["hits"]["total"]["value"]
        .as_u64()
        .unwrap_or_else(|| panic!("no hits total in panel {panel}"))
}

/// Hits per status code, from the grouped `status_codes` panel.
fn status_hits(v: &Value) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for class in v["status_codes"]["data"].as_array().expect("status data") {
        for item in class["items"].as_array().expect("status items") {
            let code = item["data"].as_str().expect("code text")[..3].to_string();
            m.insert(code, item["hits"]["count"].as_u64().expect("hits"));
        }
    }
    m
}

fn compare(t: &Value, g: &Value) {
    for key in ["total_requests", "valid_requests", "failed_requests", "bandwidth", "log_size"] {
        assert_eq!(t["general"][key], g["general"][key], "general.{key}");
    }
    for panel in ["requests", "static_requests", "not_found", "visitors", "status_codes"] {
        assert_eq!(hits_total(t, panel), hits_total(g, panel), "hits in panel {panel}");
    }
    assert_eq!(status_hits(t), status_hits(g), "hits per status code");
    let tv = t["general"]["unique_visitors"].as_f64().expect("visitors");
    let gv = g["general"]["unique_visitors"].as_f64().expect("visitors");
    assert!(
        (tv - gv).abs() <= gv * 0.02,
        "unique visitors {tv} vs GoAccess {gv}: more than 2 % apart"
    );
    // The whole-period count is a union of days: never more than the daily sum.
    let period = t["general"]["unique_visitors_period"].as_f64().expect("period visitors");
    assert!(period > 0.0 && period <= tv * 1.02, "period visitors {period} vs daily sum {tv}");
}

#[test]
fn real_apache_log_matches_goaccess() {
    let dir = TempDir::new("fixture");
    let log =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/apache_logs");
    let log = if log.exists() {
        log
    } else {
        std::path::PathBuf::from("/work/shared/fixtures/apache_logs")
    };
    assert!(log.exists(), "fixture {} missing", log.display());
    let t = tollgate_json(&dir, &[log.to_str().expect("utf8 path")]);
    let g = goaccess_json(&dir, &log, "COMBINED");
    assert_eq!(g["general"]["total_requests"], 10_000);
    compare(&t, &g);
}

#[test]
fn generated_log_matches_goaccess() {
    let dir = TempDir::new("generated");
    let log = dir.path("gen.log");
    let spec = tollgate::logs::generate::Spec {
        lines: 200_000,
        seed: 7,
        days: 9,
        pages: 30_000,
        clients: 40_000,
        agents: 3_000,
        ..Default::default()
    };
    let mut f = std::fs::File::create(&log).expect("create");
    tollgate::logs::generate::write_combined(&spec, &mut f).expect("generate");
    drop(f);
    let t = tollgate_json(&dir, &[log.to_str().expect("utf8 path"), "--log-format", "COMBINED"]);
    let g = goaccess_json(&dir, &log, "COMBINED");
    assert!(
        g["general"]["failed_requests"].as_u64().expect("failed") > 0,
        "the generator damages some lines"
    );
    compare(&t, &g);
}

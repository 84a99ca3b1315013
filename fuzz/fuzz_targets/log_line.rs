//! Any bytes as a log line in any known format: parsing never panics, and a parsed hit folds
//! into the engine without panicking and within the hit's fixed sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::logs::Format;
use tollgate::stats::{Engine, Hit, KeyMode, StatsConfig, VisitorKey};

const FORMATS: [&str; 7] = ["COMBINED", "VCOMBINED", "COMMON", "VCOMMON", "TRAEFIKCLF", "TRAEFIKJSON", "CADDY"];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, line)) = data.split_first() else { return };
    let format = Format::named(FORMATS[sel as usize % FORMATS.len()], "%d/%b/%Y", "%H:%M:%S").expect("predefined formats compile");
    let mut hit = Hit::default();
    let mut scratch = Vec::new();
    if format.parse(line, &mut hit, &mut scratch).is_ok() {
        assert!(hit.path.len() <= 128 && hit.user_agent.len() <= 160);
        let cfg = StatsConfig { top_k: 4, minutes: 4, hours: 4, days: 4, visitor_days: 2, visitor_precision: 4, agent_cache: 2, ..StatsConfig::default() };
        let mut e = Engine::with_key(&cfg, KeyMode::Fixed(VisitorKey::from_parts(1, 2)));
        e.record(&hit);
        let _ = e.report(&[], 0);
    }
    let _ = tollgate::logs::detect(line);
});

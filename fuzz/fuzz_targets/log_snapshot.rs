//! Any bytes as a stats snapshot: decoding rejects or restores, never panics, and a restore
//! never grows the engine past its configured size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::stats::snapshot::decode_into;
use tollgate::stats::{Engine, KeyMode, StatsConfig, VisitorKey};

fuzz_target!(|data: &[u8]| {
    let cfg = StatsConfig { top_k: 8, minutes: 8, hours: 8, days: 8, visitor_days: 2, visitor_precision: 6, routers: 2, services: 2, agent_cache: 2, ..StatsConfig::default() };
    let mut e = Engine::with_key(&cfg, KeyMode::Fixed(VisitorKey::from_parts(1, 2)));
    let before = e.heap_bytes();
    // Snapshots carry a checksum; fuzz the body too by fixing it up when the header is ours.
    let mut bytes = data.to_vec();
    if bytes.len() >= 20 && &bytes[..8] == tollgate::stats::snapshot::MAGIC {
        let n = bytes.len();
        let sum = tollgate::stats::hash::fast_hash(&bytes[12..n - 8]);
        bytes[n - 8..].copy_from_slice(&sum.to_le_bytes());
    }
    if decode_into(&bytes, &mut e).is_ok() {
        assert_eq!(e.heap_bytes(), before);
        let _ = e.report(&[], 0);
    }
});

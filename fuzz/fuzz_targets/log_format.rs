//! A GoAccess-style format string (first line), date and time formats (second and third) and
//! log lines (the rest): compiling rejects or accepts cleanly, parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::logs::LogFormat;
use tollgate::stats::Hit;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |&b| b == b'\n');
    let (Some(f), Some(d), Some(t)) = (parts.next(), parts.next(), parts.next()) else { return };
    let (Ok(f), Ok(d), Ok(t)) = (std::str::from_utf8(f), std::str::from_utf8(d), std::str::from_utf8(t)) else { return };
    let Ok(format) = LogFormat::new(f, d, t) else { return };
    let mut hit = Hit::default();
    let mut scratch = Vec::new();
    for line in parts.next().unwrap_or_default().split(|&b| b == b'\n') {
        let _ = format.parse(line, &mut hit, &mut scratch);
    }
});

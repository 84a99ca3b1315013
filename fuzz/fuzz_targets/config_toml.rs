//! Arbitrary text as a static and as a dynamic TOML file: loading never panics, and every
//! error's and warning's line:col lies inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::config::{Origin, parse_dynamic, parse_static};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name = "fuzz.toml";
    let mut origins: Vec<Option<Origin>> = Vec::new();
    match parse_static(text, name) {
        Ok((_, warnings)) => origins.extend(warnings.into_iter().map(|w| w.origin)),
        Err(errors) => origins.extend(errors.0.into_iter().map(|e| e.origin)),
    }
    match parse_dynamic(text, name) {
        Ok(loaded) => origins.extend(loaded.warnings.into_iter().map(|w| w.origin)),
        Err(errors) => origins.extend(errors.0.into_iter().map(|e| e.origin)),
    }
    for origin in origins.into_iter().flatten() {
        let Some((line, col)) = origin.line_col() else { continue };
        assert_eq!(origin.file_name(), Some(name), "{origin}");
        assert!(inside(text, line, col), "{origin} is outside the input");
    }
});

/// Line and column (from 1, columns in characters) point into the text or just past a line's
/// end (where "unexpected end" errors sit).
fn inside(text: &str, line: u32, col: u32) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(content) = (line as usize).checked_sub(1).and_then(|i| lines.get(i)) else {
        return false;
    };
    col >= 1 && (col as usize) <= content.chars().count() + 1
}

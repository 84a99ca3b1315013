//! Which format a log is in, from its first lines.

use super::format::LogFormat;
use super::{LineError, json};
use crate::stats::Hit;

/// A log format, ready to parse lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// A GoAccess-style format string (the CLF family and custom ones).
    Text {
        name: String,
        format: LogFormat,
    },
    TraefikJson,
    CaddyJson,
}

impl Format {
    pub fn name(&self) -> &str {
        match self {
            Format::Text { name, .. } => name,
            Format::TraefikJson => "TRAEFIKJSON",
            Format::CaddyJson => "CADDY",
        }
    }

    /// A named format: COMBINED, VCOMBINED, COMMON, VCOMMON, TRAEFIKCLF, TRAEFIKJSON, CADDY; or a
    /// format string with the given date and time formats.
    pub fn named(
        name: &str,
        date_fmt: &str,
        time_fmt: &str,
    ) -> Result<Format, super::InvalidFormat> {
        Ok(match name.to_ascii_uppercase().as_str() {
            "TRAEFIKJSON" | "TRAEFIK_JSON" | "JSON" => Format::TraefikJson,
            "CADDY" | "CADDYJSON" => Format::CaddyJson,
            upper @ ("COMBINED" | "VCOMBINED" | "COMMON" | "VCOMMON" | "TRAEFIKCLF") => {
                Format::Text { name: upper.to_string(), format: LogFormat::predefined(upper)? }
            }
            _ => Format::Text {
                name: "custom".into(),
                format: LogFormat::new(name, date_fmt, time_fmt)?,
            },
        })
    }

    /// Parse one line (no newline) into `hit`.
    #[inline]
    pub fn parse(
        &self,
        line: &[u8],
        hit: &mut Hit,
        scratch: &mut Vec<u8>,
    ) -> Result<(), LineError> {
        match self {
            Format::Text { format, .. } => format.parse(line, hit, scratch).map(|_| ()),
            Format::TraefikJson => json::parse_traefik(line, hit),
            Format::CaddyJson => json::parse_caddy(line, hit),
        }
    }
}

/// Guess the format from sample lines: JSON by its keys, the CLF family by the first format
/// (most specific first) that reads every specifier of most lines. `None` when nothing fits.
pub fn detect(sample: &[u8]) -> Option<Format> {
    let lines: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .take(20)
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut hit = Hit::default();
    let mut scratch = Vec::new();
    let first = lines[0];
    if first.first() == Some(&b'{') {
        for f in [Format::TraefikJson, Format::CaddyJson] {
            let ok = lines.iter().filter(|l| f.parse(l, &mut hit, &mut scratch).is_ok()).count();
            if ok * 2 > lines.len() {
                return Some(f);
            }
        }
        return None;
    }
    for name in ["TRAEFIKCLF", "VCOMBINED", "COMBINED", "VCOMMON", "COMMON"] {
        let Ok(format) = LogFormat::predefined(name) else { continue };
        let ok = lines
            .iter()
            .filter(|l| matches!(format.parse(l, &mut hit, &mut scratch), Ok(true)))
            .count();
        if ok * 2 > lines.len() {
            return Some(Format::Text { name: name.to_string(), format });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_family() {
        let combined =
            br#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
        let common = br#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5"#;
        let vcombined = br#"example.com:443 1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#;
        let traefik = br#"127.0.0.1 - - [25/Nov/2026:17:59:19 +0000] "GET / HTTP/1.1" 404 19 "-" "-" 1 "-" "-" 0ms"#;
        let tjson = br#"{"ClientHost":"1.2.3.4","DownstreamStatus":200,"RequestPath":"/","StartUTC":"2026-11-25T17:59:21Z"}"#;
        let caddy =
            br#"{"ts":1646861401.5,"request":{"remote_ip":"1.2.3.4","uri":"/"},"status":200}"#;
        assert_eq!(detect(combined).map(|f| f.name().to_string()).as_deref(), Some("COMBINED"));
        assert_eq!(detect(common).map(|f| f.name().to_string()).as_deref(), Some("COMMON"));
        assert_eq!(detect(vcombined).map(|f| f.name().to_string()).as_deref(), Some("VCOMBINED"));
        assert_eq!(detect(traefik).map(|f| f.name().to_string()).as_deref(), Some("TRAEFIKCLF"));
        assert_eq!(detect(tjson), Some(Format::TraefikJson));
        assert_eq!(detect(caddy), Some(Format::CaddyJson));
        assert_eq!(detect(b"hello world\n"), None);
    }
}

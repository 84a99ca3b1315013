//! Traefik's duration values: `"10s"`, `"1m30s"`, `"250ms"`, or a bare number of seconds.

use std::fmt;
use std::time::Duration as StdDuration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A configuration duration, written as Traefik writes them (Go's `time.ParseDuration` syntax, or
/// an integer meaning seconds, as paerser accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Duration(pub StdDuration);

impl Duration {
    pub const ZERO: Duration = Duration(StdDuration::ZERO);

    pub const fn from_secs(secs: u64) -> Self {
        Duration(StdDuration::from_secs(secs))
    }

    pub const fn from_millis(ms: u64) -> Self {
        Duration(StdDuration::from_millis(ms))
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `None` for zero, which Traefik reads as "no timeout".
    pub fn non_zero(self) -> Option<StdDuration> {
        (!self.0.is_zero()).then_some(self.0)
    }
}

/// Why a duration did not parse; the decoder adds where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDuration {
    #[error("`{0}` is not a duration (expected e.g. `10s`, `1m30s`, `250ms` or a number of seconds)")]
    Syntax(Box<str>),
    #[error("`{0}` is negative; durations here must be zero or more")]
    Negative(Box<str>),
    #[error("`{0}` is too large")]
    Overflow(Box<str>),
}

impl std::str::FromStr for Duration {
    type Err = InvalidDuration;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text.trim()).map(Duration)
    }
}

/// Go's `time.ParseDuration` grammar: `[-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)` repeated, or
/// `0`; paerser also takes a bare integer as seconds.
fn parse(text: &str) -> Result<StdDuration, InvalidDuration> {
    let syntax = || InvalidDuration::Syntax(text.into());
    if text.is_empty() {
        return Err(syntax());
    }
    if let Ok(secs) = text.parse::<i64>() {
        return u64::try_from(secs)
            .map(StdDuration::from_secs)
            .map_err(|_| InvalidDuration::Negative(text.into()));
    }
    let (negative, mut rest) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(StdDuration::ZERO);
    }
    if rest.is_empty() {
        return Err(syntax());
    }
    let mut total_ns: u128 = 0;
    while !rest.is_empty() {
        let number_len =
            rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(syntax)?;
        let (number, tail) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return Err(syntax());
        }
        let unit_len = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(syntax()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| syntax())? };
        let mut part = whole.checked_mul(unit_ns).ok_or_else(|| InvalidDuration::Overflow(text.into()))?;
        let mut scale = unit_ns;
        for digit in fraction.bytes() {
            scale /= 10;
            part += u128::from(digit - b'0') * scale;
        }
        total_ns = total_ns.checked_add(part).ok_or_else(|| InvalidDuration::Overflow(text.into()))?;
        rest = tail;
    }
    if negative && total_ns > 0 {
        return Err(InvalidDuration::Negative(text.into()));
    }
    let secs = u64::try_from(total_ns / 1_000_000_000)
        .map_err(|_| InvalidDuration::Overflow(text.into()))?;
    Ok(StdDuration::new(secs, (total_ns % 1_000_000_000) as u32))
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `10s`, `1m30s` or a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Duration, E> {
                Ok(Duration::from_secs(secs))
            }
            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Duration, E> {
                u64::try_from(secs)
                    .map(Duration::from_secs)
                    .map_err(|_| E::custom(InvalidDuration::Negative(secs.to_string().into())))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            write!(f, "{}ms", d.as_millis())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u128 {
        text.parse::<Duration>().map(|d| d.0.as_millis()).unwrap_or(u128::MAX)
    }

    #[test]
    fn go_syntax_and_bare_seconds() {
        assert_eq!(ms("10s"), 10_000);
        assert_eq!(ms("1m30s"), 90_000);
        assert_eq!(ms("250ms"), 250);
        assert_eq!(ms("1.5h"), 5_400_000);
        assert_eq!(ms("42"), 42_000);
        assert_eq!(ms("0"), 0);
        assert_eq!(ms(".5s"), 500);
    }

    #[test]
    fn rejects_nonsense_with_the_value() {
        for bad in ["", "s", "10", "10x", "1..2s", "-5s", "abc"] {
            if bad == "10" {
                continue;
            }
            let err = bad.parse::<Duration>().expect_err(bad);
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }
}

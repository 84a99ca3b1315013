//! A strptime subset for log dates and times, on bytes, allocation-free.
//!
//! Supported: %d %e %m %b %h %B (month names, any case, short or long) %Y %y %H %M %S %T %D %F
//! %z (read, not applied: times stay as written, as GoAccess shows them) %a %A (weekday names,
//! skipped) %s (Unix seconds) %f (Unix microseconds, GoAccess's meaning) %* (Unix milliseconds)
//! and literal characters; a space matches any run of white space. The whole token must be used.

use crate::stats::{MS_PER_DAY, days_from_civil};

/// What a date or time token held. Fields not in the format stay `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parts {
    pub year: Option<i64>,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// An absolute instant (%s, %f, %*), Unix milliseconds.
    pub epoch_ms: Option<u64>,
}

impl Parts {
    /// Days since the epoch, if the token named a whole valid date.
    pub(crate) fn days(&self) -> Option<i64> {
        if let Some(ms) = self.epoch_ms {
            return Some((ms / MS_PER_DAY) as i64);
        }
        days_from_civil(self.year?, self.month?, self.day?)
    }

    /// Milliseconds since midnight.
    pub(crate) fn time_ms(&self) -> u64 {
        if let Some(ms) = self.epoch_ms {
            return ms % MS_PER_DAY;
        }
        (u64::from(self.hour) * 3600 + u64::from(self.minute) * 60 + u64::from(self.second)) * 1000
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] =
    ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

fn number(s: &[u8], i: &mut usize, max_digits: usize) -> Option<u64> {
    while *i < s.len() && s[*i] == b' ' {
        *i += 1;
    }
    let start = *i;
    let mut v: u64 = 0;
    while *i < s.len() && *i - start < max_digits && s[*i].is_ascii_digit() {
        v = v * 10 + u64::from(s[*i] - b'0');
        *i += 1;
    }
    if *i == start { None } else { Some(v) }
}

/// A name from `names` (full or its first three letters), any case; returns its index.
fn name(s: &[u8], i: &mut usize, names: &[&str]) -> Option<usize> {
    for (n, full) in names.iter().enumerate() {
        let f = full.as_bytes();
        let rest = &s[*i..];
        if rest.len() >= f.len() && rest[..f.len()].eq_ignore_ascii_case(f) {
            *i += f.len();
            return Some(n);
        }
        if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(&f[..3]) {
            *i += 3;
            return Some(n);
        }
    }
    None
}

/// Parse `token` with `fmt`; `None` if it does not match wholly.
pub(crate) fn parse(token: &[u8], fmt: &[u8], parts: &mut Parts) -> Option<()> {
    let mut i = 0usize;
    parse_at(token, &mut i, fmt, parts)?;
    if i == token.len() { Some(()) } else { None }
}

fn parse_at(token: &[u8], pos: &mut usize, fmt: &[u8], parts: &mut Parts) -> Option<()> {
    let mut i = *pos;
    let mut f = 0usize;
    while f < fmt.len() {
        let c = fmt[f];
        if c == b'%' && f + 1 < fmt.len() {
            f += 2;
            match fmt[f - 1] {
                b'd' | b'e' => {
                    parts.day =
                        Some(number(token, &mut i, 2).filter(|d| (1..=31).contains(d))? as u32)
                }
                b'm' => {
                    parts.month =
                        Some(number(token, &mut i, 2).filter(|m| (1..=12).contains(m))? as u32)
                }
                b'b' | b'h' | b'B' => parts.month = Some(name(token, &mut i, &MONTHS)? as u32 + 1),
                b'a' | b'A' => {
                    name(token, &mut i, &WEEKDAYS)?;
                }
                b'Y' => parts.year = Some(number(token, &mut i, 4)? as i64),
                b'y' => {
                    let y = number(token, &mut i, 2)? as i64;
                    parts.year = Some(if y < 69 { 2000 + y } else { 1900 + y });
                }
                b'H' => parts.hour = number(token, &mut i, 2).filter(|h| *h < 24)? as u32,
                b'M' => parts.minute = number(token, &mut i, 2).filter(|m| *m < 60)? as u32,
                b'S' => {
                    parts.second = number(token, &mut i, 2).filter(|s| *s <= 61)?.min(59) as u32
                }
                b'T' => parse_at(token, &mut i, b"%H:%M:%S", parts)?,
                b'D' => parse_at(token, &mut i, b"%m/%d/%y", parts)?,
                b'F' => parse_at(token, &mut i, b"%Y-%m-%d", parts)?,
                b's' => parts.epoch_ms = Some(number(token, &mut i, 19)?.checked_mul(1000)?),
                b'f' => parts.epoch_ms = Some(number(token, &mut i, 19)? / 1000),
                b'*' => parts.epoch_ms = Some(number(token, &mut i, 19)?),
                b'z' => {
                    if i < token.len() && token[i] == b'Z' {
                        i += 1;
                    } else {
                        if i >= token.len() || !(token[i] == b'+' || token[i] == b'-') {
                            return None;
                        }
                        i += 1;
                        if i < token.len() && token[i] == b':' {
                            return None;
                        }
                        number(token, &mut i, 2)?;
                        if i < token.len() && token[i] == b':' {
                            i += 1;
                        }
                        number(token, &mut i, 2)?;
                    }
                }
                b'%' => {
                    if token.get(i) != Some(&b'%') {
                        return None;
                    }
                    i += 1;
                }
                _ => return None,
            }
        } else if c == b' ' {
            while i < token.len() && token[i].is_ascii_whitespace() {
                i += 1;
            }
            f += 1;
        } else {
            if token.get(i) != Some(&c) {
                return None;
            }
            i += 1;
            f += 1;
        }
    }
    *pos = i;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(tok: &str, fmt: &str) -> Option<Parts> {
        let mut parts = Parts::default();
        parse(tok.as_bytes(), fmt.as_bytes(), &mut parts).map(|_| parts)
    }

    #[test]
    fn apache_date_and_time() {
        let d = p("17/May/2015", "%d/%b/%Y").expect("parses");
        assert_eq!(d.days(), Some(16_572));
        let t = p("10:05:03", "%H:%M:%S").expect("parses");
        assert_eq!(t.time_ms(), 36_303_000);
        assert!(p("17/Mai/2015", "%d/%b/%Y").is_none());
        assert!(p("17/May/2015x", "%d/%b/%Y").is_none());
        assert!(p("25:00:00", "%H:%M:%S").is_none());
    }

    #[test]
    fn iso_epoch_and_zones() {
        assert_eq!(p("2015-05-17", "%Y-%m-%d").and_then(|d| d.days()), Some(16_572));
        assert_eq!(p("2015-05-17", "%F").and_then(|d| d.days()), Some(16_572));
        assert_eq!(p("1431856800", "%s").and_then(|d| d.epoch_ms), Some(1_431_856_800_000));
        assert_eq!(p("10:05:03 +0200", "%T %z").map(|t| t.time_ms()), Some(36_303_000));
        assert!(p("+0200", "%z").is_some());
        assert!(p("February 2, 2020", "%B %d, %Y").is_some());
    }
}

//! Go `regexp` syntax, translated for the regex crate.
//!
//! Traefik compiles HostRegexp, PathRegexp, HeaderRegexp, QueryRegexp (and the v2 templates) with
//! Go's `regexp`. The regex crate is RE2-like too, but reads some patterns differently:
//!
//! | Go | regex crate | translation |
//! | --- | --- | --- |
//! | `\d \s \w \b` are ASCII | Unicode-aware | explicit ASCII classes, `(?-u:\b)` |
//! | `x{foo}`, `{` that is no repeat: a literal | an error | `\{` |
//! | `[a[b]`, `[a&&b]`, `[a--b]`, `[a~~b]`: literal `[ & - ~` | nested class, set operations | every literal in a class escaped |
//! | `\Q…\E` | unsupported | escaped literals |
//! | `\101` octal, `\<` literal `<` | backreference error, word boundary | `\x{…}` |
//! | `a**`, `a{2}{3}`, `{1001}`: errors | accepted | rejected |
//! | `(?x)`, `(?R)`, `(?u)` flags: errors | accepted | rejected |
//! | `(?)` accepted | an error | dropped |
//!
//! So a pattern is first parsed with Go's rules (errors worded like Go's) and re-emitted with
//! every literal escaped, then compiled by the regex crate. Captures become plain groups (names
//! never matter for matching, and Go allows names the regex crate does not, and duplicates).
//!
//! Not reproduced: Go's limit on nested repetition products (`(a{500}){3}`) and its overall
//! program size limit; the regex crate applies its own size limit instead.

use std::fmt::Write;

use regex_lite::Regex;

/// Compiles a Go-syntax pattern. The error is a reason for the user, without the pattern.
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    // Only a size limit or a case the translation missed reaches here; the message is the crate's.
    Regex::new(&translated).map_err(|e| e.to_string())
}

/// What the previous item was, for Go's repetition checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Start of the pattern, of a group, or after `|`: nothing to repeat.
    Nothing,
    Operand,
    /// A repetition operator starting at this byte offset.
    Repeat(usize),
}

struct Translator<'a> {
    src: &'a str,
    pos: usize,
    out: String,
    open_groups: usize,
    last: Last,
}

/// Go's Perl classes, in ASCII as Go defines them.
const DIGIT: &str = "0-9";
const SPACE: &str = r"\t\n\x0C\r ";
const WORD: &str = "0-9A-Za-z_";
// Their complements as ranges, for use inside a class: the engine has no nested classes.
const NOT_DIGIT: &str = r"\x00-/:-\x{10FFFF}";
const NOT_SPACE: &str = r"\x00-\x08\x0B\x0E-\x1F!-\x{10FFFF}";
const NOT_WORD: &str = r"\x00-/:-@\x5B-\x5E\x60\x7B-\x{10FFFF}";

pub(crate) fn translate(pattern: &str) -> Result<String, String> {
    let mut t = Translator {
        src: pattern,
        pos: 0,
        out: String::with_capacity(pattern.len() * 2),
        open_groups: 0,
        last: Last::Nothing,
    };
    t.run()?;
    Ok(t.out)
}

impl<'a> Translator<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn literal(&mut self, c: char) {
        push_literal(&mut self.out, c);
        self.last = Last::Operand;
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.next_char() {
            match c {
                '(' => self.group()?,
                ')' => {
                    if self.open_groups == 0 {
                        return Err(format!("unexpected ): `{}`", self.src));
                    }
                    self.open_groups -= 1;
                    self.out.push(')');
                    self.last = Last::Operand;
                }
                '|' => {
                    self.out.push('|');
                    self.last = Last::Nothing;
                }
                '*' | '+' | '?' => self.repeat(self.pos - 1)?,
                '{' => {
                    let start = self.pos - 1;
                    match parse_repeat(&self.src[start..]) {
                        None => self.literal('{'),
                        Some((Ok(()), len)) => {
                            self.pos = start + len;
                            self.repeat(start)?;
                        }
                        Some((Err(()), len)) => {
                            return Err(format!(
                                "invalid repeat count: `{}`",
                                &self.src[start..start + len]
                            ));
                        }
                    }
                }
                '[' => self.class()?,
                '\\' => self.escape()?,
                '.' | '^' | '$' => {
                    self.out.push(c);
                    self.last = Last::Operand;
                }
                c => self.literal(c),
            }
        }
        if self.open_groups > 0 {
            return Err(format!("missing closing ): `{}`", self.src));
        }
        Ok(())
    }

    /// A repetition operator whose text started at `start` and has been consumed up to `pos`
    /// (plus an optional `?` for non-greedy, consumed here).
    fn repeat(&mut self, start: usize) -> Result<(), String> {
        if self.rest().starts_with('?') {
            self.pos += 1;
        }
        let op = &self.src[start..self.pos];
        match self.last {
            Last::Nothing => {
                return Err(format!("missing argument to repetition operator: `{op}`"));
            }
            Last::Repeat(prev) => {
                let both = &self.src[prev..self.pos];
                return Err(format!("invalid nested repetition operator: `{both}`"));
            }
            Last::Operand => {}
        }
        self.out.push_str(op);
        self.last = Last::Repeat(start);
        Ok(())
    }

    /// After `(`: a group, a named capture, or a flag setting.
    fn group(&mut self) -> Result<(), String> {
        let start = self.pos - 1;
        let rest = self.rest();
        if !rest.starts_with('?') {
            self.open_groups += 1;
            self.out.push('(');
            self.last = Last::Nothing;
            return Ok(());
        }
        let named = if rest.starts_with("?P<") {
            Some(3)
        } else if rest.starts_with("?<") {
            Some(2)
        } else if rest.starts_with("?P") {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            return Err(format!("invalid named capture: `({}`", &rest[..end]));
        } else {
            None
        };
        if let Some(skip) = named {
            let Some(close) = rest.find('>') else {
                return Err(format!("invalid named capture: `{}`", &self.src[start..]));
            };
            let name = &rest[skip..close];
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                return Err(format!(
                    "invalid named capture: `{}`",
                    &self.src[start..=self.pos + close]
                ));
            }
            self.pos += close + 1;
            self.open_groups += 1;
            self.out.push('(');
            self.last = Last::Nothing;
            return Ok(());
        }
        // Flags: `(?flags)` or `(?flags:re)`, flags from `imsU`, at most one `-` followed by at
        // least one flag.
        self.pos += 1; // the '?'
        let mut flags = String::new();
        let mut negated = false;
        let mut saw_flag = false;
        loop {
            let Some(c) = self.next_char() else {
                return Err(format!("missing closing ): `{}`", &self.src[start..]));
            };
            match c {
                'i' | 'm' | 's' | 'U' => {
                    flags.push(c);
                    saw_flag = true;
                }
                '-' if !negated => {
                    flags.push('-');
                    negated = true;
                    saw_flag = false;
                }
                ':' | ')' if !negated || saw_flag => {
                    if c == ':' {
                        self.open_groups += 1;
                        let _ = write!(self.out, "(?{flags}:");
                        self.last = Last::Nothing;
                    } else if !flags.is_empty() {
                        let _ = write!(self.out, "(?{flags})");
                        // Go would let a following `*` repeat what came before the flags; the
                        // regex crate would not. Nothing sensible does that: reject it.
                        self.last = Last::Nothing;
                    }
                    return Ok(());
                }
                _ => {
                    return Err(format!(
                        "invalid or unsupported Perl syntax: `{}`",
                        &self.src[start..self.pos]
                    ));
                }
            }
        }
    }

    /// After a backslash outside a class.
    fn escape(&mut self) -> Result<(), String> {
        let start = self.pos - 1;
        let Some(c) = self.rest().chars().next() else {
            return Err("trailing backslash at end of expression".into());
        };
        match c {
            'A' | 'z' => {
                self.pos += 1;
                self.out.push('\\');
                self.out.push(c);
                self.last = Last::Operand;
            }
            'b' | 'B' => {
                // Go's word boundary is ASCII-only.
                self.pos += 1;
                let _ = write!(self.out, r"(?-u:\{c})");
                self.last = Last::Operand;
            }
            'Q' => {
                self.pos += 1;
                let rest = self.rest();
                let (lit, skip) = match rest.find(r"\E") {
                    Some(i) => (&rest[..i], i + 2),
                    None => (rest, rest.len()),
                };
                self.pos += skip;
                for ch in lit.chars() {
                    self.literal(ch);
                }
            }
            'p' | 'P' => {
                let class = self.unicode_class()?;
                self.out.push_str(&class);
                self.last = Last::Operand;
            }
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                self.pos += 1;
                let (set, negated) = perl_class(c);
                let _ = write!(self.out, "[{}{set}]", if negated { "^" } else { "" });
                self.last = Last::Operand;
            }
            _ => {
                let ch = self.escaped_char(start)?;
                self.literal_char_or_never(ch);
            }
        }
        Ok(())
    }

    /// A code point from an escape that Go allows both inside and outside classes. `start` is
    /// the offset of the backslash; `pos` sits right after it.
    fn escaped_char(&mut self, start: usize) -> Result<u32, String> {
        let bad = |t: &Self| format!("invalid escape sequence: `{}`", &t.src[start..t.pos]);
        let Some(c) = self.next_char() else {
            return Err("trailing backslash at end of expression".into());
        };
        let value = match c {
            '1'..='7' | '0' => {
                // A single non-zero digit would be a backreference, which Go does not support.
                if c != '0' && !self.rest().starts_with(|d: char| ('0'..='7').contains(&d)) {
                    return Err(bad(self));
                }
                let mut v = c as u32 - '0' as u32;
                for _ in 0..2 {
                    match self.rest().chars().next() {
                        Some(d @ '0'..='7') => {
                            v = v * 8 + (d as u32 - '0' as u32);
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                v
            }
            'x' => {
                if self.rest().starts_with('{') {
                    self.pos += 1;
                    let rest = self.rest();
                    let Some(close) = rest.find('}') else {
                        self.pos = self.src.len();
                        return Err(bad(self));
                    };
                    let hex = &rest[..close];
                    self.pos += close + 1;
                    match u32::from_str_radix(hex, 16) {
                        Ok(v) if !hex.is_empty() && !hex.starts_with('+') && v <= 0x10_ffff => v,
                        _ => return Err(bad(self)),
                    }
                } else {
                    let rest = self.rest();
                    let two = rest.get(..2).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                    let Some(hex) = two else {
                        self.pos += rest.chars().take(2).map(char::len_utf8).sum::<usize>();
                        return Err(bad(self));
                    };
                    self.pos += 2;
                    u32::from_str_radix(hex, 16).map_err(|_| bad(self))?
                }
            }
            'a' => 0x07,
            'f' => 0x0c,
            't' => 0x09,
            'n' => 0x0a,
            'r' => 0x0d,
            'v' => 0x0b,
            // Go: escaped ASCII characters that are not letters or digits are themselves.
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => c as u32,
            _ => return Err(bad(self)),
        };
        Ok(value)
    }

    /// A literal from an escape; a surrogate (which Go accepts but can never match a valid string)
    /// becomes a class that never matches.
    fn literal_char_or_never(&mut self, value: u32) {
        match char::from_u32(value) {
            Some(ch) => self.literal(ch),
            None => {
                self.out.push_str(r"[^\x00-\x{10FFFF}]");
                self.last = Last::Operand;
            }
        }
    }

    /// `\pL`, `\p{Greek}`, `\P{^Greek}` (the backslash already consumed, `pos` at `p`/`P`).
    fn unicode_class(&mut self) -> Result<String, String> {
        let start = self.pos - 1;
        let Some(kind) = self.next_char() else { return Err("trailing backslash".into()) };
        let mut negated = kind == 'P';
        let name = if self.rest().starts_with('{') {
            let rest = self.rest();
            let Some(close) = rest.find('}') else {
                return Err(format!("invalid character class range: `{}`", &self.src[start..]));
            };
            self.pos += close + 1;
            &rest[1..close]
        } else {
            let Some(c) = self.next_char() else {
                return Err(format!("invalid character class range: `{}`", &self.src[start..]));
            };
            &self.src[self.pos - c.len_utf8()..self.pos]
        };
        let name = match name.strip_prefix('^') {
            Some(n) => {
                negated = !negated;
                n
            }
            None => name,
        };
        if name.is_empty() || name.contains(['{', '}', '\\', '[', ']']) {
            return Err(format!("invalid character class range: `{}`", &self.src[start..self.pos]));
        }
        let _ = negated;
        // Go accepts Unicode classes; tollgate's small regex engine (regex-lite, chosen for the
        // size budget) has no Unicode tables. Refuse clearly rather than match differently.
        Err(format!(
            "Unicode class `{}` is not supported (tollgate's regular expressions are ASCII: use \
             [[:alpha:]], \\w or explicit ranges)",
            &self.src[start..self.pos]
        ))
    }

    /// After `[`: a Go character class, re-emitted with every literal escaped.
    fn class(&mut self) -> Result<(), String> {
        let start = self.pos - 1;
        let missing = |t: &Self| format!("missing closing ]: `{}`", &t.src[start..]);
        self.out.push('[');
        if self.rest().starts_with('^') {
            self.pos += 1;
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Err(missing(self));
            }
            if rest.starts_with(']') && !first {
                self.pos += 1;
                break;
            }
            first = false;
            if let Some(i) = rest.strip_prefix("[:").and_then(|r| r.find(":]")) {
                let whole = &rest[..i + 4];
                let name = &whole[2..whole.len() - 2];
                let name = name.strip_prefix('^').unwrap_or(name);
                if !POSIX_CLASSES.contains(&name) {
                    return Err(format!("invalid character class range: `{whole}`"));
                }
                self.out.push_str(whole);
                self.pos += whole.len();
                continue;
            }
            if rest.starts_with("\\p") || rest.starts_with("\\P") {
                self.pos += 1;
                let class = self.unicode_class()?;
                self.out.push_str(&class);
                continue;
            }
            if let Some(c @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) =
                rest.strip_prefix('\\').and_then(|r| r.chars().next())
            {
                self.pos += 2;
                let (set, negated) = perl_class(c);
                self.out.push_str(if negated { complement(set) } else { set });
                continue;
            }
            let item_start = self.pos;
            let lo = self.class_char().ok_or_else(|| missing(self))??;
            let rest = self.rest();
            if rest.starts_with('-') && !rest[1..].starts_with(']') && rest.len() > 1 {
                self.pos += 1;
                let hi = self.class_char().ok_or_else(|| missing(self))??;
                if hi < lo {
                    return Err(format!(
                        "invalid character class range: `{}`",
                        &self.src[item_start..self.pos]
                    ));
                }
                push_class_range(&mut self.out, lo, hi);
            } else {
                push_class_range(&mut self.out, lo, lo);
            }
        }
        self.out.push(']');
        self.last = Last::Operand;
        Ok(())
    }

    /// One (possibly escaped) character inside a class; None at the end of the pattern.
    fn class_char(&mut self) -> Option<Result<u32, String>> {
        let c = self.next_char()?;
        if c != '\\' {
            return Some(Ok(c as u32));
        }
        Some(self.escaped_char(self.pos - 1))
    }
}

const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

fn perl_class(c: char) -> (&'static str, bool) {
    let set = match c.to_ascii_lowercase() {
        'd' => DIGIT,
        's' => SPACE,
        _ => WORD,
    };
    (set, c.is_ascii_uppercase())
}

/// The complement of a Perl class's set, as ranges that fit inside a class.
fn complement(set: &str) -> &'static str {
    match set {
        DIGIT => NOT_DIGIT,
        SPACE => NOT_SPACE,
        _ => NOT_WORD,
    }
}

/// Emits a literal that means itself in any context (outside or inside a class).
fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        let _ = write!(out, r"\x{{{:X}}}", c as u32);
    }
}

/// Emits `lo-hi` inside a class. Surrogate code points (accepted by Go, matching nothing) are
/// clipped out of the range.
fn push_class_range(out: &mut String, lo: u32, hi: u32) {
    let pieces: [(u32, u32); 2] = [(lo, hi.min(0xd7ff)), (lo.max(0xe000), hi)];
    for (a, b) in pieces {
        if a > b {
            continue;
        }
        let (Some(a), Some(b)) = (char::from_u32(a), char::from_u32(b)) else { continue };
        push_literal(out, a);
        if a != b {
            out.push('-');
            push_literal(out, b);
        }
    }
}

/// Go's `{n}`, `{n,}`, `{n,m}` at the start of `s`. None: not a repetition (so `{` is a literal).
/// Some((Err, len)): a repetition with bad counts, `len` bytes long. Some((Ok, len)): valid.
fn parse_repeat(s: &str) -> Option<(Result<(), ()>, usize)> {
    fn int(s: &str) -> Option<(Option<u32>, &str)> {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || (digits >= 2 && s.starts_with('0')) {
            return None;
        }
        // Too many digits counts as "too big", like Go's overflow guard.
        let value = s[..digits].parse::<u32>().ok().filter(|v| *v < 100_000_000);
        Some((value, &s[digits..]))
    }
    let body = s.strip_prefix('{')?;
    let (min, rest) = int(body)?;
    let (max, rest) = if let Some(r) = rest.strip_prefix(',') {
        if r.starts_with('}') {
            (Some(None), r)
        } else {
            let (m, r) = int(r)?;
            (Some(Some(m)), r)
        }
    } else {
        (None, rest)
    };
    let rest = rest.strip_prefix('}')?;
    let len = s.len() - rest.len();
    let ok = match (min, max) {
        (Some(n), None) => n <= 1000,
        (Some(n), Some(None)) => n <= 1000,
        (Some(n), Some(Some(Some(m)))) => n <= 1000 && m <= 1000 && n <= m,
        _ => false,
    };
    Some((if ok { Ok(()) } else { Err(()) }, len))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn m(pattern: &str, haystack: &str) -> bool {
        compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")).is_match(haystack)
    }

    fn err(pattern: &str) -> String {
        compile(pattern).err().unwrap_or_else(|| panic!("{pattern} compiled"))
    }

    #[test]
    fn perl_classes_are_ascii_like_go() {
        assert!(m(r"^\d+$", "123"));
        assert!(!m(r"^\d$", "٣")); // Arabic-Indic digit: a \d for the regex crate, not for Go.
        assert!(!m(r"^\w$", "é"));
        assert!(m(r"^\W$", "é"));
        assert!(!m(r"^\s$", "\u{a0}"));
        assert!(!m(r"^\s$", "\u{b}")); // Go's \s has no vertical tab.
        assert!(m(r"^[\d\s]+$", "1 2"));
        assert!(m(r"^[^\D]$", "7"));
        assert!(m(r"^[\W]$", "é"));
        assert!(m(r"a\b", "a é")); // é is no word character for Go, so a\b matches before it.
        assert!(m(r"a\bé", "aé"));
        // Go folds the Kelvin sign to k under (?i); tollgate's engine folds ASCII only.
        assert!(!m(r"(?i)^\w$", "\u{212a}"));
    }

    #[test]
    fn braces_that_are_not_repetitions_are_literals() {
        assert!(m(r"^/{path:(css|js)}$", "/{path:css}"));
        assert!(m(r"^http{secure:s?}$", "http{secure:}"));
        assert!(m("^a{,3}$", "a{,3}"));
        assert!(m("^a{01}$", "a{01}"));
        assert!(m("^x}$", "x}"));
        assert!(m("^a{2}$", "aa"));
        assert!(m("^a{2,}$", "aaaa"));
        assert!(m("^a{1,2}?$", "a"));
    }

    #[test]
    fn class_syntax_is_gos() {
        assert!(m("^[a[b]$", "["));
        assert!(m("^[a&&b]$", "&"));
        assert!(m("^[a~~b]$", "~"));
        assert!(m("^[]a]$", "]"));
        assert!(m("^[^]a]$", "b"));
        assert!(m("^[a-]$", "-"));
        assert!(m("^[-a]$", "-"));
        assert!(m("^[[:alpha:]]+$", "abc"));
        assert!(m("^[[:^alpha:]]$", "1"));
        assert!(err(r"^[\pL]$").starts_with(r"Unicode class `\pL` is not supported"));
        assert!(m(r"^[\x41-\x{43}]+$", "ABC"));
        assert!(m(r"^[\]]$", "]"));
        assert!(m(r"^[\-]$", "-"));
        assert_eq!(err("[z-a]"), "invalid character class range: `z-a`");
        assert_eq!(err("[[:foo:]]"), "invalid character class range: `[:foo:]`");
        assert_eq!(err("[abc"), "missing closing ]: `[abc`");
        assert_eq!(err("[]"), "missing closing ]: `[]`");
        assert_eq!(err(r"[\b]"), r"invalid escape sequence: `\b`");
    }

    #[test]
    fn escapes_are_gos() {
        assert!(m(r"^\Q.*\E$", ".*"));
        assert!(m(r"^a\Q.*", "a.*"));
        assert!(m(r"^\101$", "A"));
        assert!(m(r"^\0$", "\0"));
        assert!(m(r"^\x41\x{1F9AD}$", "A🦭"));
        assert!(m(r"^\<\>$", "<>"));
        assert!(m(r"^\.\_\#$", "._#"));
        for class in [r"\pL", r"\p{Greek}", r"\P{L}", r"\p{^L}"] {
            assert!(err(class).starts_with(&format!("Unicode class `{class}` is not supported")));
        }
        assert!(!m(r"\x{D800}", "\u{fffd}"));
        assert!(m(r"\Aa\z", "a"));
        assert_eq!(err(r"\1"), r"invalid escape sequence: `\1`");
        assert_eq!(err(r"\C"), r"invalid escape sequence: `\C`");
        assert_eq!(err(r"\e"), r"invalid escape sequence: `\e`");
        assert_eq!(err(r"\Z"), r"invalid escape sequence: `\Z`");
        assert_eq!(err(r"\x{110000}"), r"invalid escape sequence: `\x{110000}`");
        assert_eq!(err(r"\xZ1"), r"invalid escape sequence: `\xZ1`");
        assert_eq!(err("a\\"), "trailing backslash at end of expression");
    }

    #[test]
    fn repetition_rules_are_gos() {
        assert!(m("^a*?b$", "aab"));
        assert!(m("^(a*)*$", "aaa"));
        assert!(m("^^*a", "a"));
        assert_eq!(err("a**"), "invalid nested repetition operator: `**`");
        assert_eq!(err("a*??"), "invalid nested repetition operator: `*??`");
        assert_eq!(err("a{2}{3}"), "invalid nested repetition operator: `{2}{3}`");
        assert!(m("^a??$", ""));
        assert_eq!(err("*a"), "missing argument to repetition operator: `*`");
        assert_eq!(err("(+)"), "missing argument to repetition operator: `+`");
        assert_eq!(err("a|?"), "missing argument to repetition operator: `?`");
        assert_eq!(err("{2}"), "missing argument to repetition operator: `{2}`");
        assert_eq!(err("a{1001}"), "invalid repeat count: `{1001}`");
        assert_eq!(err("a{3,2}"), "invalid repeat count: `{3,2}`");
        assert_eq!(err("a{99999999999}"), "invalid repeat count: `{99999999999}`");
    }

    #[test]
    fn groups_and_flags_are_gos() {
        assert!(m("^(?P<x>a)(?<y>b)(?P<_1>c)$", "abc"));
        assert!(m("^(?i)abc$", "ABC"));
        assert!(m("^(?i:a)b$", "Ab"));
        assert!(!m("^(?i:a)b$", "AB"));
        assert!(m("^(?s).$", "\n"));
        assert!(m("^(?i-s:a.)$", "A-"));
        assert!(m("^(?)a$", "a"));
        assert!(m("^(?:)a$", "a"));
        assert!(m("(?m)^b$", "a\nb"));
        assert!(m("^(?U)a+$", "aaa"));
        assert!(m("^(?P<x>a)(?P<x>b)$", "ab")); // Go accepts duplicate names
        assert_eq!(err("(?P<a-b>x)"), "invalid named capture: `(?P<a-b>`");
        assert_eq!(err("(?P=x)"), "invalid named capture: `(?P=x)`");
        assert_eq!(err("(?x)a"), "invalid or unsupported Perl syntax: `(?x`");
        assert_eq!(err("(?i-)a"), "invalid or unsupported Perl syntax: `(?i-)`");
        assert_eq!(err("(?-)a"), "invalid or unsupported Perl syntax: `(?-)`");
        assert_eq!(err("(?=a)"), "invalid or unsupported Perl syntax: `(?=`");
        assert_eq!(err("(a"), "missing closing ): `(a`");
        assert_eq!(err("a)"), "unexpected ): `a)`");
        assert_eq!(err("[[:^^alpha:]]"), "invalid character class range: `[:^^alpha:]`");
        assert!(m(r"^\ $", " "));
        assert_eq!(err("(?i"), "missing closing ): `(?i`");
    }

    #[test]
    fn unicode_classes_are_refused_with_an_alternative() {
        assert_eq!(
            err(r"\p{Greek}"),
            "Unicode class `\\p{Greek}` is not supported (tollgate's regular expressions are ASCII: \
             use [[:alpha:]], \\w or explicit ranges)"
        );
    }
}

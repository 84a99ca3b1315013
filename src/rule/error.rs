//! What can be wrong with a rule, always with the 1-based column (in characters) of the rule text
//! where it went wrong. The config layer prefixes router name and file position.

use std::fmt;

/// Why a rule does not compile. Every variant carries the column of the offending token or
/// argument (1-based, counted in characters of the rule text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The rule is empty or only whitespace and comments.
    #[error("column {col}: empty rule (expected a matcher such as Host(`example.com`))")]
    Empty { col: u32 },

    /// More nested parentheses and `!` than any sensible rule needs.
    #[error("column {col}: rule nested too deeply (more than {max} levels of `(` and `!`)")]
    TooDeep { col: u32, max: usize },

    /// A token that cannot stand where it stands.
    #[error("column {col}: expected {expected}, found {found}")]
    Unexpected { col: u32, expected: &'static str, found: Box<str> },

    /// A character that is no part of the rule language (`@`, `#`, `;`, `'`, …).
    #[error("column {col}: unexpected character {}{hint}", show_char(*ch))]
    BadChar { col: u32, ch: char, hint: &'static str },

    /// `"…` or `` `… `` without its closing quote.
    #[error("column {col}: string not terminated (missing closing {quote})")]
    Unterminated { col: u32, quote: char },

    /// A `/* …` comment without `*/`.
    #[error("column {col}: comment not terminated (missing `*/`)")]
    UnterminatedComment { col: u32 },

    /// A bad backslash escape inside a double-quoted string.
    #[error("column {col}: invalid escape `{escape}` in double-quoted string ({why})")]
    BadEscape { col: u32, escape: Box<str>, why: &'static str },

    /// A double-quoted string whose `\x`/octal escapes do not form UTF-8.
    #[error("column {col}: string is not valid UTF-8 after unescaping")]
    NotUtf8 { col: u32 },

    /// A matcher name that the selected syntax does not know.
    #[error("column {col}: unknown matcher `{name}` (expected {expected}){hint}")]
    UnknownMatcher { col: u32, name: Box<str>, expected: &'static str, hint: Box<str> },

    /// `Host()`: Traefik requires at least one argument.
    #[error("column {col}: {matcher} needs at least one argument")]
    NoArgs { col: u32, matcher: &'static str },

    /// An argument that is the empty string.
    #[error("column {col}: {matcher}: argument {index} is empty")]
    EmptyArg { col: u32, matcher: &'static str, index: usize },

    /// Wrong number of arguments for a v3 matcher.
    #[error("column {col}: {matcher} takes {expected} argument{plural}, got {got}",
        plural = if *expected == "1" { "" } else { "s" })]
    ArgCount { col: u32, matcher: &'static str, expected: &'static str, got: usize },

    /// A v2 matcher taking key/value pairs got an odd number of strings.
    #[error("column {col}: {matcher} takes key/value pairs, got {got} string{plural}",
        plural = if *got == 1 { "" } else { "s" })]
    OddPairs { col: u32, matcher: &'static str, got: usize },

    /// A host argument with characters outside ASCII (Traefik wants punycode).
    #[error(
        "column {col}: {matcher}: `{value}` has non-ASCII characters (use punycode, e.g. xn--…)"
    )]
    NonAscii { col: u32, matcher: &'static str, value: Box<str> },

    /// Path and PathPrefix arguments must start with `/`.
    #[error("column {col}: {matcher}: path `{value}` does not start with `/`")]
    NoLeadingSlash { col: u32, matcher: &'static str, value: Box<str> },

    /// A regular expression Go's `regexp` (and so Traefik) rejects, or that the regex crate
    /// cannot build.
    #[error("column {col}: {matcher}: invalid regular expression `{pattern}`: {reason}")]
    Regex { col: u32, matcher: &'static str, pattern: Box<str>, reason: Box<str> },

    /// A v2 `{name:pattern}` template that gorilla/mux rejects.
    #[error("column {col}: {matcher}: invalid template `{template}`: {reason}")]
    Template { col: u32, matcher: &'static str, template: Box<str>, reason: Box<str> },

    /// A ClientIP argument that is neither an IP address nor a CIDR range.
    #[error("column {col}: {matcher}: `{value}` is not an IP address or CIDR range")]
    BadIp { col: u32, matcher: &'static str, value: Box<str> },
}

impl RuleError {
    /// The 1-based column (in characters of the rule text) the error points at.
    pub fn col(&self) -> u32 {
        match self {
            Self::Empty { col }
            | Self::TooDeep { col, .. }
            | Self::Unexpected { col, .. }
            | Self::BadChar { col, .. }
            | Self::Unterminated { col, .. }
            | Self::UnterminatedComment { col }
            | Self::BadEscape { col, .. }
            | Self::NotUtf8 { col }
            | Self::UnknownMatcher { col, .. }
            | Self::NoArgs { col, .. }
            | Self::EmptyArg { col, .. }
            | Self::ArgCount { col, .. }
            | Self::OddPairs { col, .. }
            | Self::NonAscii { col, .. }
            | Self::NoLeadingSlash { col, .. }
            | Self::Regex { col, .. }
            | Self::Template { col, .. }
            | Self::BadIp { col, .. } => *col,
        }
    }
}

/// A request path Traefik answers with 400 Bad Request before any router sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// `%` not followed by two hexadecimal digits (Go's URL parser rejects the request).
    #[error("invalid percent-encoding at byte {at} of the request path")]
    BadPercent { at: usize },
    /// A control byte (below 0x20, or 0x7f) in the request target.
    #[error("control character at byte {at} of the request path")]
    Control { at: usize },
    /// A raw `#`: Traefik refuses fragments in the request target.
    #[error("fragment (`#`) at byte {at} of the request path")]
    Fragment { at: usize },
    /// Neither origin form (`/…`), nor `*`, nor empty.
    #[error("request path does not start with `/`")]
    NotOrigin,
}

/// Converts a byte offset of `text` into a 1-based character column.
pub(crate) fn column(text: &str, byte_offset: usize) -> u32 {
    let end = byte_offset.min(text.len());
    // Offsets always sit on char boundaries (they come from the lexer); stay safe if not.
    let prefix = text.get(..end).unwrap_or(text);
    u32::try_from(prefix.chars().count()).unwrap_or(u32::MAX).saturating_add(1)
}

/// A character as shown in error messages: quoted, or as U+XXXX when it would be invisible.
fn show_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() || c == '\u{feff}' {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("`{c}`")
    }
}

/// A token as shown in error messages: short, quoted, newlines made visible.
pub(crate) struct Shown<'a>(pub(crate) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 40;
        let mut out = String::new();
        for (i, c) in self.0.chars().enumerate() {
            if i == MAX {
                out.push('…');
                break;
            }
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        if out.contains('`') { write!(f, "`` {out} ``") } else { write!(f, "`{out}`") }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(column("abc", 0), 1);
        assert_eq!(column("abc", 2), 3);
        assert_eq!(column("é(x", 2), 2);
        assert_eq!(column("abc", 3), 4);
        assert_eq!(column("abc", 99), 4);
    }

    #[test]
    fn shown_tokens_are_short_and_visible() {
        assert_eq!(Shown("a\nb").to_string(), "`a\\nb`");
        assert_eq!(Shown("`b`").to_string(), "`` `b` ``");
        let long = "x".repeat(60);
        assert_eq!(Shown(&long).to_string(), format!("`{}…`", "x".repeat(40)));
    }
}

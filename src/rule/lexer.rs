//! Tokens of the rule language.
//!
//! Traefik hands the rule to `vulcand/predicate`, which parses it with Go's own expression parser
//! (`go/parser.ParseExpr`). So the lexical rules are Go's: backquoted raw strings, double-quoted
//! strings with Go escapes, `//` and `/* */` comments, and Go's automatic semicolon: a newline
//! right after an identifier, a string or `)` ends the expression, so
//! "Host(`a`)\n&& Path(`/`)" is an error in Traefik while "Host(`a`) &&\nPath(`/`)" is not.
//! We reproduce that instead of being more lenient, so a rule accepted here also loads there.

use super::error::RuleError;

/// One token and the byte range of the rule text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub(crate) kind: Kind<'a>,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    Ident(&'a str),
    /// A string literal, already unquoted.
    Str(String),
    AndAnd,
    OrOr,
    Not,
    LParen,
    RParen,
    Comma,
    Ellipsis,
    /// Go's automatic semicolon: a newline (or a comment holding one) after an operand.
    Newline,
    /// Any other Go token (a number, `==`, `+`, `.`, `;`, `[`, …): valid Go, never a valid rule.
    Other(&'a str),
    Eof,
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    /// Whether a newline here would end the expression (Go's `insertSemi`).
    semi: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        // Go skips one byte-order mark at the very start of the source.
        let pos = if src.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        Lexer { src, pos, semi: false }
    }

    fn err_col(&self, at: usize) -> u32 {
        super::error::column(self.src, at)
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// The next token, or the first lexical error.
    pub(crate) fn next_token(&mut self) -> Result<Token<'a>, RuleError> {
        if let Some(nl) = self.skip_space()? {
            self.semi = false;
            return Ok(Token { kind: Kind::Newline, start: nl, end: nl + 1 });
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token { kind: Kind::Eof, start, end: start });
        };
        let kind = if c.is_alphabetic() || c == '_' {
            let len = self
                .rest()
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(self.rest().len());
            self.pos += len;
            Kind::Ident(&self.src[start..self.pos])
        } else if c.is_ascii_digit()
            || (c == '.' && self.rest().as_bytes().get(1).is_some_and(u8::is_ascii_digit))
        {
            // A Go number: never a valid argument, but lexed whole so the error shows all of it.
            let len = self
                .rest()
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(self.rest().len());
            self.pos += len;
            Kind::Other(&self.src[start..self.pos])
        } else if c == '`' {
            Kind::Str(self.raw_string()?)
        } else if c == '"' {
            Kind::Str(self.interpreted_string()?)
        } else {
            self.operator(c)?
        };
        self.semi = match &kind {
            Kind::Ident(_) | Kind::Str(_) | Kind::RParen => true,
            // Numbers (`1`, `.5`) and closing brackets end a Go operand too.
            Kind::Other(s) => {
                *s == "]"
                    || *s == "}"
                    || s.starts_with(|c: char| c.is_ascii_digit())
                    || s.len() > 1 && s.starts_with('.')
            }
            _ => false,
        };
        Ok(Token { kind, start, end: self.pos })
    }

    /// Skips blanks and comments. Returns the byte offset of a newline that ends the expression.
    fn skip_space(&mut self) -> Result<Option<usize>, RuleError> {
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else { return Ok(None) };
            match c {
                '\n' if self.semi => return Ok(Some(self.pos)),
                ' ' | '\t' | '\r' | '\n' => self.pos += 1,
                '/' if rest.starts_with("//") => {
                    if self.semi {
                        return Ok(Some(self.pos));
                    }
                    self.pos += rest.find('\n').unwrap_or(rest.len());
                }
                '/' if rest.starts_with("/*") => {
                    let Some(len) = rest[2..].find("*/") else {
                        return Err(RuleError::UnterminatedComment { col: self.err_col(self.pos) });
                    };
                    let body = &rest[2..2 + len];
                    if self.semi && body.contains('\n') {
                        return Ok(Some(self.pos));
                    }
                    self.pos += 2 + len + 2;
                }
                _ => return Ok(None),
            }
        }
    }

    fn operator(&mut self, c: char) -> Result<Kind<'a>, RuleError> {
        const MULTI: [&str; 14] =
            ["...", "&&", "||", "!=", "==", "<=", ">=", "<<", ">>", "&^", "<-", "++", "--", ":="];
        let rest = self.rest();
        if let Some(op) = MULTI.iter().find(|op| rest.starts_with(**op)) {
            self.pos += op.len();
            return Ok(match *op {
                "..." => Kind::Ellipsis,
                "&&" => Kind::AndAnd,
                "||" => Kind::OrOr,
                _ => Kind::Other(op),
            });
        }
        let kind = match c {
            '!' => Kind::Not,
            '(' => Kind::LParen,
            ')' => Kind::RParen,
            ',' => Kind::Comma,
            '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<' | '>' | '=' | '~' | '[' | ']'
            | '{' | '}' | '.' | ':' | ';' => Kind::Other(&rest[..1]),
            _ => {
                let hint = match c {
                    '\'' => " (single quotes do not make a string: use `…` or \"…\")",
                    _ => "",
                };
                return Err(RuleError::BadChar { col: self.err_col(self.pos), ch: c, hint });
            }
        };
        self.pos += c.len_utf8();
        Ok(kind)
    }

    /// `` `…` ``: no escapes; Go drops carriage returns from raw strings.
    fn raw_string(&mut self) -> Result<String, RuleError> {
        let open = self.pos;
        let body = &self.src[open + 1..];
        let Some(len) = body.find('`') else {
            return Err(RuleError::Unterminated { col: self.err_col(open), quote: '`' });
        };
        self.pos = open + 1 + len + 1;
        Ok(body[..len].chars().filter(|&c| c != '\r').collect())
    }

    /// `"…"` with Go's escapes. `\x` and octal escapes give bytes, so the result is checked to be
    /// UTF-8 at the end (Go would accept arbitrary bytes; no sensible rule needs them).
    fn interpreted_string(&mut self) -> Result<String, RuleError> {
        let open = self.pos;
        let bytes = self.src.as_bytes();
        let mut out = Vec::new();
        let mut i = open + 1;
        loop {
            match bytes.get(i) {
                None | Some(b'\n') => {
                    return Err(RuleError::Unterminated { col: self.err_col(open), quote: '"' });
                }
                Some(b'"') => break,
                Some(b'\\') => i = self.escape(i, &mut out)?,
                Some(&b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        self.pos = i + 1;
        String::from_utf8(out).map_err(|_| RuleError::NotUtf8 { col: self.err_col(open) })
    }

    /// Decodes the escape starting at the backslash at `at`; returns the offset after it.
    fn escape(&self, at: usize, out: &mut Vec<u8>) -> Result<usize, RuleError> {
        let bytes = self.src.as_bytes();
        let bad = |len: usize, why: &'static str| {
            let end = (at + len).min(self.src.len());
            let text = self.src.get(at..end).unwrap_or("\\");
            RuleError::BadEscape { col: self.err_col(at), escape: text.into(), why }
        };
        let Some(&c) = bytes.get(at + 1) else {
            return Err(bad(1, "string not terminated"));
        };
        let simple = match c {
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(0x0b),
            b'\\' => Some(b'\\'),
            b'"' => Some(b'"'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            return Ok(at + 2);
        }
        let (digits, radix, max): (usize, u32, u32) = match c {
            b'0'..=b'7' => (3, 8, 255),
            b'x' => (2, 16, 255),
            b'u' => (4, 16, 0x10ffff),
            b'U' => (8, 16, 0x10ffff),
            b'\'' => return Err(bad(2, "`\\'` is only valid in character literals")),
            _ => return Err(bad(2, "unknown escape")),
        };
        let first = if radix == 8 { at + 1 } else { at + 2 };
        let mut value: u32 = 0;
        for k in 0..digits {
            let Some(d) = bytes.get(first + k).and_then(|&b| char::from(b).to_digit(radix)) else {
                return Err(bad(first + k - at + 1, "too few digits"));
            };
            value = value * radix + d;
        }
        let end = first + digits;
        if value > max {
            return Err(bad(end - at, "value out of range"));
        }
        if c == b'u' || c == b'U' {
            let Some(ch) = char::from_u32(value) else {
                return Err(bad(end - at, "not a Unicode scalar value"));
            };
            let mut buf = [0; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        } else {
            // `max` is 255 for octal and \x escapes, so this always fits.
            out.push(u8::try_from(value).unwrap_or(u8::MAX));
        }
        Ok(end)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn kinds(src: &str) -> Result<Vec<Kind<'_>>, RuleError> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token()?;
            if t.kind == Kind::Eof {
                return Ok(out);
            }
            out.push(t.kind);
        }
    }

    fn string(src: &str) -> Result<String, RuleError> {
        match kinds(src)?.into_iter().next() {
            Some(Kind::Str(s)) => Ok(s),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn tokens_of_a_rule() {
        let k = kinds("Host(`a`) && !Path(\"/b\", ) || (x)...").unwrap();
        use Kind::*;
        assert_eq!(
            k,
            vec![
                Ident("Host"),
                LParen,
                Str("a".into()),
                RParen,
                AndAnd,
                Not,
                Ident("Path"),
                LParen,
                Str("/b".into()),
                Comma,
                RParen,
                OrOr,
                LParen,
                Ident("x"),
                RParen,
                Ellipsis
            ]
        );
    }

    #[test]
    fn other_go_tokens_are_kept_for_errors() {
        use Kind::*;
        assert_eq!(
            kinds("== != & | + 1.5 ; . [").unwrap(),
            vec![
                Other("=="),
                Other("!="),
                Other("&"),
                Other("|"),
                Other("+"),
                Other("1.5"),
                Other(";"),
                Other("."),
                Other("[")
            ]
        );
    }

    #[test]
    fn raw_strings_keep_backslashes_and_drop_cr() {
        assert_eq!(string(r"`a\nb`").unwrap(), r"a\nb");
        assert_eq!(string("`a\r\nb`").unwrap(), "a\nb");
    }

    #[test]
    fn interpreted_strings_follow_go() {
        assert_eq!(string(r#""a\tb\"c\\""#).unwrap(), "a\tb\"c\\");
        assert_eq!(string(r#""\x41\101\u00e9\U0001F9AD""#).unwrap(), "AAé🦭");
        let e = string(r#""\q""#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "column 2: invalid escape `\\q` in double-quoted string (unknown escape)"
        );
        let e = string(r#""\'""#).unwrap_err();
        assert!(e.to_string().contains("only valid in character literals"), "{e}");
        let e = string(r#""\x4""#).unwrap_err();
        assert!(e.to_string().contains("too few digits"), "{e}");
        let e = string(r#""\400""#).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = string(r#""\uD800""#).unwrap_err();
        assert!(e.to_string().contains("not a Unicode scalar value"), "{e}");
        assert_eq!(string(r#""\xff""#).unwrap_err(), RuleError::NotUtf8 { col: 1 });
    }

    #[test]
    fn unterminated_things_point_at_their_start() {
        assert_eq!(kinds("Host(`abc").unwrap_err(), RuleError::Unterminated { col: 6, quote: '`' });
        assert_eq!(
            kinds("Host(\"ab\nc\")").unwrap_err(),
            RuleError::Unterminated { col: 6, quote: '"' }
        );
        assert_eq!(kinds("a /* b").unwrap_err(), RuleError::UnterminatedComment { col: 3 });
    }

    #[test]
    fn newline_after_an_operand_ends_the_expression() {
        use Kind::*;
        assert_eq!(kinds("a\n&& b").unwrap(), vec![Ident("a"), Newline, AndAnd, Ident("b")]);
        assert_eq!(kinds("a &&\n b").unwrap(), vec![Ident("a"), AndAnd, Ident("b")]);
        assert_eq!(kinds("a // c\n").unwrap(), vec![Ident("a"), Newline]);
        assert_eq!(kinds("a /* x\n */ b").unwrap(), vec![Ident("a"), Newline, Ident("b")]);
        assert_eq!(kinds("a /* x */ b").unwrap(), vec![Ident("a"), Ident("b")]);
        assert_eq!(kinds("(\n`a`,\n)").unwrap(), vec![LParen, Str("a".into()), Comma, RParen]);
    }

    #[test]
    fn stray_characters_are_reported_with_their_column() {
        assert_eq!(
            kinds("Host('a')").unwrap_err().to_string(),
            "column 6: unexpected character `'` (single quotes do not make a string: use `…` or \"…\")"
        );
        assert_eq!(kinds("a @ b").unwrap_err(), RuleError::BadChar { col: 3, ch: '@', hint: "" });
        assert_eq!(
            kinds("é\u{a0}").unwrap_err(),
            RuleError::BadChar { col: 2, ch: '\u{a0}', hint: "" }
        );
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        assert_eq!(kinds("\u{feff}a").unwrap(), vec![Kind::Ident("a")]);
    }
}

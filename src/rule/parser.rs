//! The expression grammar: matcher calls joined by `&&`, `||`, `!` and parentheses, with Go's
//! precedence (`!` binds tightest, then `&&`, then `||`).
//!
//! Chains of `&&`/`||` are collected into flat lists while parsing, so only parentheses and `!`
//! nest, and those are capped at [`MAX_DEPTH`]: parsing, compiling and matching recurse no deeper.

use super::error::{RuleError, Shown, column};
use super::lexer::{Kind, Lexer, Token};

/// Maximum nesting of `(` and `!`. Go's parser allows far more; no real rule needs more than a few.
pub(crate) const MAX_DEPTH: usize = 64;

/// The parsed, not yet compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    All(Vec<Expr>),
    Any(Vec<Expr>),
    Not(Box<Expr>),
    Call(Call),
}

/// `Name(arg, …)` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) name: String,
    /// Byte offset of the name in the rule text.
    pub(crate) at: usize,
    pub(crate) args: Vec<Arg>,
}

/// One string argument, unquoted, and the byte offset of its opening quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Arg {
    pub(crate) value: String,
    pub(crate) at: usize,
}

pub(crate) fn parse(src: &str) -> Result<Expr, RuleError> {
    // Go's scanner refuses NUL and a byte-order mark past the start anywhere, even in strings.
    if let Some((at, ch)) =
        src.char_indices().find(|&(i, c)| c == '\0' || (c == '\u{feff}' && i > 0))
    {
        return Err(RuleError::BadChar { col: column(src, at), ch, hint: "" });
    }
    let mut p = Parser { src, lexer: Lexer::new(src), tok: None, depth: 0 };
    let first = p.peek()?;
    if matches!(first.kind, Kind::Eof | Kind::Newline) {
        return Err(RuleError::Empty { col: column(src, first.start) });
    }
    let expr = p.or()?;
    // Go's ParseExpr accepts one automatic semicolon (a trailing newline) before the end.
    let mut end = p.bump()?;
    if end.kind == Kind::Newline {
        let newline = end;
        end = p.bump()?;
        if end.kind != Kind::Eof {
            // Blame the line break, whose message explains Go's rule, not what follows it.
            return Err(p.unexpected(&newline, "`&&`, `||` or the end of the rule"));
        }
    }
    if end.kind != Kind::Eof {
        return Err(p.unexpected(&end, "`&&`, `||` or the end of the rule"));
    }
    Ok(expr)
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    tok: Option<Token<'a>>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<Token<'a>, RuleError> {
        if self.tok.is_none() {
            self.tok = Some(self.lexer.next_token()?);
        }
        Ok(self.tok.clone().expect("just filled"))
    }

    fn bump(&mut self) -> Result<Token<'a>, RuleError> {
        let t = self.peek()?;
        self.tok = None;
        Ok(t)
    }

    fn unexpected(&self, t: &Token<'_>, expected: &'static str) -> RuleError {
        let found: Box<str> = match &t.kind {
            Kind::Eof => "the end of the rule".into(),
            Kind::Newline => {
                "a line break (in Traefik a line break right after a matcher or `)` ends the rule; \
                 put `&&` or `||` at the end of the line instead)"
                    .into()
            }
            _ => Shown(&self.src[t.start..t.end]).to_string().into(),
        };
        RuleError::Unexpected { col: column(self.src, t.start), expected, found }
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut items = vec![self.and()?];
        while self.peek()?.kind == Kind::OrOr {
            self.bump()?;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Expr::Any(items) })
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut items = vec![self.unary()?];
        while self.peek()?.kind == Kind::AndAnd {
            self.bump()?;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one item") } else { Expr::All(items) })
    }

    fn enter(&mut self, t: &Token<'_>) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::TooDeep { col: column(self.src, t.start), max: MAX_DEPTH });
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        let t = self.bump()?;
        match t.kind {
            Kind::Not => {
                self.enter(&t)?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Kind::LParen => {
                self.enter(&t)?;
                let inner = self.or()?;
                let close = self.bump()?;
                if close.kind != Kind::RParen {
                    return Err(self.unexpected(&close, "`)`, `&&` or `||`"));
                }
                self.depth -= 1;
                self.after_operand()?;
                Ok(inner)
            }
            Kind::Ident(name) => {
                let open = self.bump()?;
                if open.kind != Kind::LParen {
                    return Err(self.unexpected(&open, "`(` after the matcher name"));
                }
                let args = self.args()?;
                self.after_operand()?;
                Ok(Expr::Call(Call { name: name.to_owned(), at: t.start, args }))
            }
            _ => Err(self.unexpected(&t, "a matcher such as Host(`…`), `!` or `(`")),
        }
    }

    /// Go would parse `Host(`a`)(`b`)`, `x.y` or `x[0]` as expressions; none is a rule.
    fn after_operand(&mut self) -> Result<(), RuleError> {
        let t = self.peek()?;
        match &t.kind {
            Kind::LParen => Err(self.unexpected(&t, "`&&`, `||`, `)` or the end of the rule")),
            Kind::Other(s) if matches!(*s, "." | "[") => {
                Err(self.unexpected(&t, "`&&`, `||`, `)` or the end of the rule"))
            }
            _ => Ok(()),
        }
    }

    /// After `(`: Go's argument list, `"a", "b",` with an optional trailing comma and an
    /// optional `...` after the last argument (Go accepts it and it changes nothing).
    fn args(&mut self) -> Result<Vec<Arg>, RuleError> {
        let mut args = Vec::new();
        loop {
            let t = self.bump()?;
            match t.kind {
                Kind::RParen => return Ok(args),
                Kind::Str(value) => args.push(Arg { value, at: t.start }),
                _ => return Err(self.unexpected(&t, "a quoted string (`…` or \"…\") or `)`")),
            }
            let mut sep = self.bump()?;
            if sep.kind == Kind::Ellipsis {
                sep = self.bump()?;
                if sep.kind == Kind::Comma {
                    sep = self.bump()?;
                }
                if sep.kind != Kind::RParen {
                    return Err(self.unexpected(&sep, "`)` after `...`"));
                }
                return Ok(args);
            }
            match sep.kind {
                Kind::RParen => return Ok(args),
                Kind::Comma => {}
                _ => return Err(self.unexpected(&sep, "`,` or `)` after an argument")),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn call(name: &str, at: usize, args: &[(&str, usize)]) -> Expr {
        Expr::Call(Call {
            name: name.into(),
            at,
            args: args.iter().map(|(v, a)| Arg { value: (*v).into(), at: *a }).collect(),
        })
    }

    #[test]
    fn precedence_is_gos() {
        let e = parse("A(`1`) || B(`2`) && !C(`3`)").unwrap();
        assert_eq!(
            e,
            Expr::Any(vec![
                call("A", 0, &[("1", 2)]),
                Expr::All(vec![
                    call("B", 10, &[("2", 12)]),
                    Expr::Not(Box::new(call("C", 21, &[("3", 23)])))
                ])
            ])
        );
    }

    #[test]
    fn chains_are_flat() {
        let e = parse("A(`1`) && A(`2`) && A(`3`)").unwrap();
        assert!(matches!(e, Expr::All(v) if v.len() == 3));
        let e = parse("(A(`1`) || A(`2`)) && A(`3`)").unwrap();
        assert!(matches!(&e, Expr::All(v) if matches!(&v[0], Expr::Any(w) if w.len() == 2)));
    }

    #[test]
    fn argument_lists_follow_go() {
        assert_eq!(parse("A()").unwrap(), call("A", 0, &[]));
        assert_eq!(parse("A(`x`,)").unwrap(), call("A", 0, &[("x", 2)]));
        assert_eq!(parse("A(`x`, \"y\"...)").unwrap(), call("A", 0, &[("x", 2), ("y", 7)]));
        assert_eq!(parse("A(`x`...,)").unwrap(), call("A", 0, &[("x", 2)]));
        assert_eq!(parse("A ( `x` )").unwrap(), call("A", 0, &[("x", 4)]));
        // A line break after an operator is fine, as is one at the very end.
        let e = parse("A(`x`) &&\n B(`y`)\n").unwrap();
        assert_eq!(e, Expr::All(vec![call("A", 0, &[("x", 2)]), call("B", 11, &[("y", 13)])]));
    }

    fn err(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    #[test]
    fn syntax_errors_name_the_column_and_what_was_expected() {
        assert_eq!(
            err(""),
            "column 1: empty rule (expected a matcher such as Host(`example.com`))"
        );
        assert_eq!(
            err("  // nothing"),
            "column 13: empty rule (expected a matcher such as Host(`example.com`))"
        );
        assert_eq!(
            err("Host(example.com)"),
            "column 6: expected a quoted string (`…` or \"…\") or `)`, found `example`"
        );
        assert_eq!(
            err("Host(`a` `b`)"),
            "column 10: expected `,` or `)` after an argument, found `` `b` ``"
        );
        assert_eq!(
            err("Host"),
            "column 5: expected `(` after the matcher name, found the end of the rule"
        );
        assert_eq!(
            err("Host(`a`) &&"),
            "column 13: expected a matcher such as Host(`…`), `!` or `(`, found the end of the rule"
        );
        assert_eq!(
            err("(Host(`a`)"),
            "column 11: expected `)`, `&&` or `||`, found the end of the rule"
        );
        assert_eq!(
            err("Host(`a`) Path(`/`)"),
            "column 11: expected `&&`, `||` or the end of the rule, found `Path`"
        );
        assert_eq!(
            err("Host(`a`) == Path(`/`)"),
            "column 11: expected `&&`, `||` or the end of the rule, found `==`"
        );
        assert_eq!(
            err("Host(`a`) & Path(`/`)"),
            "column 11: expected `&&`, `||` or the end of the rule, found `&`"
        );
        assert_eq!(
            err("Host(1)"),
            "column 6: expected a quoted string (`…` or \"…\") or `)`, found `1`"
        );
        assert_eq!(
            err("`a`"),
            "column 1: expected a matcher such as Host(`…`), `!` or `(`, found `` `a` ``"
        );
        assert_eq!(
            err("Host(`a`)(`b`)"),
            "column 10: expected `&&`, `||`, `)` or the end of the rule, found `(`"
        );
        assert_eq!(err("a.Host(`b`)"), "column 2: expected `(` after the matcher name, found `.`");
        assert_eq!(
            err("Host(`a`);"),
            "column 10: expected `&&`, `||` or the end of the rule, found `;`"
        );
        assert_eq!(err("Host(`a`...`b`)"), "column 12: expected `)` after `...`, found `` `b` ``");
        assert!(err("Host(`a`)\n&& Path(`/`)").starts_with(
            "column 10: expected `&&`, `||` or the end of the rule, found a line break"
        ));
        assert!(
            err("Host(\n`a`\n)").starts_with(
                "column 10: expected `,` or `)` after an argument, found a line break"
            )
        );
    }

    #[test]
    fn nul_and_stray_byte_order_marks_are_refused_even_in_strings() {
        assert_eq!(err("Path(`/\0`)"), "column 8: unexpected character U+0000");
        assert_eq!(err("Path(`/\u{feff}`)"), "column 8: unexpected character U+FEFF");
        assert!(parse("\u{feff}Path(`/`)").is_ok());
    }

    #[test]
    fn nesting_is_capped() {
        let deep = format!("{}A(`x`){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&deep).is_ok());
        let deeper = format!("{}A(`x`){}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(
            err(&deeper),
            format!(
                "column {}: rule nested too deeply (more than {MAX_DEPTH} levels of `(` and `!`)",
                MAX_DEPTH + 1
            )
        );
        let nots = format!("{}A(`x`)", "!".repeat(MAX_DEPTH + 1));
        assert!(err(&nots).contains("nested too deeply"));
        // Long flat chains are fine: they do not nest.
        let chain = vec!["A(`x`)"; 10_000].join(" && ");
        assert!(parse(&chain).is_ok());
    }
}

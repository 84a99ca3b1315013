//! A rule compiled once: the matcher tree requests are tested against.

use std::fmt;
use std::str::FromStr;

use super::error::{RuleError, column};
use super::matchers::{Matcher, RequestView};
use super::parser::{self, Call, Expr};
use super::{v2, v3};

/// Which rule language a router uses. Traefik v3 defaults to v3; `ruleSyntax: v2` on a router
/// or `core.defaultRuleSyntax: v2` selects the v2 language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Syntax {
    V2,
    #[default]
    V3,
}

impl Syntax {
    /// The syntax Traefik parses a router's rule with: the router's `ruleSyntax` when set,
    /// else the default (`core.defaultRuleSyntax`). Like Traefik, any value but `v2` means v3.
    pub fn for_router(rule_syntax: Option<&str>, default: Syntax) -> Syntax {
        match rule_syntax {
            None | Some("") => default,
            Some("v2") => Syntax::V2,
            Some(_) => Syntax::V3,
        }
    }
}

impl FromStr for Syntax {
    type Err = InvalidSyntax;

    /// `core.defaultRuleSyntax`: exactly `v2` or `v3`, as Traefik checks it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v2" => Ok(Syntax::V2),
            "v3" => Ok(Syntax::V3),
            other => Err(InvalidSyntax(other.into())),
        }
    }
}

impl fmt::Display for Syntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Syntax::V2 => "v2",
            Syntax::V3 => "v3",
        })
    }
}

/// A rule syntax name other than `v2` or `v3`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported rule syntax `{0}` (expected v2 or v3)")]
pub struct InvalidSyntax(pub Box<str>);

/// A compiled router rule.
pub struct Rule {
    root: Node,
    syntax: Syntax,
    text_len: usize,
}

#[derive(Debug)]
enum Node {
    All(Box<[Node]>),
    Any(Box<[Node]>),
    Not(Box<Node>),
    Leaf(Matcher),
}

impl Node {
    fn matches(&self, req: &RequestView<'_>) -> bool {
        match self {
            Node::All(items) => items.iter().all(|n| n.matches(req)),
            Node::Any(items) => items.iter().any(|n| n.matches(req)),
            Node::Not(inner) => !inner.matches(req),
            Node::Leaf(m) => m.matches(req),
        }
    }
}

impl Rule {
    /// Whether the request satisfies the rule. Never panics; allocates nothing in the common
    /// case (see the module docs of `scratch`).
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        self.root.matches(req)
    }

    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// Traefik's default router priority: the length of the rule text in bytes.
    pub fn default_priority(&self) -> i64 {
        i64::try_from(self.text_len).unwrap_or(i64::MAX)
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule").field("syntax", &self.syntax).field("root", &self.root).finish()
    }
}

/// Compiles a rule in the given syntax. The error names the column of the rule text.
pub fn parse(rule: &str, syntax: Syntax) -> Result<Rule, RuleError> {
    let expr = parser::parse(rule)?;
    // Traefik resolves every matcher name while parsing, before it checks any arguments, so an
    // unknown name is reported even when an earlier matcher has bad arguments.
    resolve_all(&expr, rule, syntax)?;
    let root = compile(&expr, rule, syntax)?;
    Ok(Rule { root, syntax, text_len: rule.len() })
}

fn resolve_all(expr: &Expr, src: &str, syntax: Syntax) -> Result<(), RuleError> {
    match expr {
        Expr::All(items) | Expr::Any(items) => {
            items.iter().try_for_each(|e| resolve_all(e, src, syntax))
        }
        Expr::Not(inner) => resolve_all(inner, src, syntax),
        Expr::Call(call) => resolve(call, src, syntax).map(|_| ()),
    }
}

fn compile(expr: &Expr, src: &str, syntax: Syntax) -> Result<Node, RuleError> {
    Ok(match expr {
        Expr::All(items) => Node::All(compile_list(items, src, syntax)?),
        Expr::Any(items) => Node::Any(compile_list(items, src, syntax)?),
        Expr::Not(inner) => Node::Not(Box::new(compile(inner, src, syntax)?)),
        Expr::Call(call) => Node::Leaf(compile_call(call, src, syntax)?),
    })
}

fn compile_list(items: &[Expr], src: &str, syntax: Syntax) -> Result<Box<[Node]>, RuleError> {
    items.iter().map(|e| compile(e, src, syntax)).collect()
}

const V3_NAMES: [&str; 11] = [
    "Host",
    "HostRegexp",
    "Path",
    "PathPrefix",
    "PathRegexp",
    "Method",
    "Header",
    "HeaderRegexp",
    "Query",
    "QueryRegexp",
    "ClientIP",
];
const V3_LIST: &str = "Host, HostRegexp, Path, PathPrefix, PathRegexp, Method, Header, HeaderRegexp, Query, QueryRegexp, ClientIP";
const V2_NAMES: [&str; 10] = [
    "Host",
    "HostHeader",
    "HostRegexp",
    "Path",
    "PathPrefix",
    "Method",
    "Headers",
    "HeadersRegexp",
    "Query",
    "ClientIP",
];
const V2_LIST: &str = "Host, HostHeader, HostRegexp, Path, PathPrefix, Method, Headers, HeadersRegexp, Query, ClientIP";

/// Traefik registers each matcher under four spellings: as documented, lowercase, uppercase, and
/// title case of the lowercase (`Pathprefix`). Nothing else is accepted.
fn spelled_as(written: &str, name: &str) -> bool {
    if written == name {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    if written == lower || written == name.to_ascii_uppercase() {
        return true;
    }
    let mut title = lower;
    title[..1].make_ascii_uppercase();
    written == title
}

fn lookup(written: &str, names: &[&'static str]) -> Option<&'static str> {
    names.iter().copied().find(|n| spelled_as(written, n))
}

fn resolve(call: &Call, src: &str, syntax: Syntax) -> Result<&'static str, RuleError> {
    let (names, list, other_names, other) = match syntax {
        Syntax::V3 => (&V3_NAMES[..], V3_LIST, &V2_NAMES[..], Syntax::V2),
        Syntax::V2 => (&V2_NAMES[..], V2_LIST, &V3_NAMES[..], Syntax::V3),
    };
    if let Some(name) = lookup(&call.name, names) {
        return Ok(name);
    }
    let hint: Box<str> = if let Some(name) = lookup(&call.name, other_names) {
        match syntax {
            Syntax::V3 => format!(
                "; `{name}` is {other} syntax: set the router's ruleSyntax to v2, or use the v3 \
                 matchers"
            ),
            Syntax::V2 => {
                format!("; `{name}` is {other} syntax, but this router's rule uses the v2 syntax")
            }
        }
        .into()
    } else if let Some(near) = nearest(&call.name, names) {
        format!("; did you mean `{near}`?").into()
    } else {
        "".into()
    };
    Err(RuleError::UnknownMatcher {
        col: column(src, call.at),
        name: call.name.as_str().into(),
        expected: list,
        hint,
    })
}

/// The known name within edit distance 2 of `written` (ignoring case), if any.
fn nearest(written: &str, names: &[&'static str]) -> Option<&'static str> {
    let w: Vec<char> = written.to_lowercase().chars().collect();
    if w.len() > 32 {
        return None;
    }
    names
        .iter()
        .map(|n| (edit_distance(&w, &n.to_lowercase().chars().collect::<Vec<_>>()), *n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn compile_call(call: &Call, src: &str, syntax: Syntax) -> Result<Matcher, RuleError> {
    let name = resolve(call, src, syntax)?;
    // Traefik's CheckRule, before any matcher-specific check.
    if call.args.is_empty() {
        return Err(RuleError::NoArgs { col: column(src, call.at), matcher: name });
    }
    if let Some((i, arg)) = call.args.iter().enumerate().find(|(_, a)| a.value.is_empty()) {
        return Err(RuleError::EmptyArg { col: column(src, arg.at), matcher: name, index: i + 1 });
    }
    match syntax {
        Syntax::V3 => v3::build(name, call, src),
        Syntax::V2 => v2::build(name, call, src),
    }
}

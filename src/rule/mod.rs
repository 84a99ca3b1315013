//! The router rule language (Traefik v3, and v2 on request): parsing and compiled matchers.
//!
//! Depends on nothing else in the crate.
//!
//! TEMPORARY: a minimal subset (Host, Path, PathPrefix, &&) so the proxy can be built and tested
//! while the full language is written on its own branch; replaced wholesale by that work.

use std::borrow::Cow;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    V2,
    V3,
}

#[derive(Debug, thiserror::Error)]
#[error("column {col}: {msg}")]
pub struct RuleError {
    pub col: u32,
    pub msg: String,
}

pub struct RequestView<'a> {
    pub method: &'a http::Method,
    pub host: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub client_ip: Option<IpAddr>,
}

#[derive(Debug)]
enum M {
    Host(String),
    Path(String),
    PathPrefix(String),
}

#[derive(Debug)]
pub struct Rule(Vec<M>);

pub fn parse(text: &str, _syntax: Syntax) -> Result<Rule, RuleError> {
    let mut out = Vec::new();
    for part in text.split("&&") {
        let part = part.trim();
        let open = part.find('(').ok_or(RuleError { col: 1, msg: "expected (".into() })?;
        let name = &part[..open];
        let arg = part[open + 1..].trim_end_matches(')').trim_matches(|c| c == '`' || c == '"');
        out.push(match name {
            "Host" => M::Host(arg.to_ascii_lowercase()),
            "Path" => M::Path(arg.into()),
            "PathPrefix" => M::PathPrefix(arg.into()),
            _ => return Err(RuleError { col: 1, msg: format!("unknown matcher `{name}`") }),
        });
    }
    Ok(Rule(out))
}

impl Rule {
    pub fn matches(&self, req: &RequestView<'_>) -> bool {
        let host = req.host.rsplit_once(':').map_or(req.host, |(h, _)| h);
        self.0.iter().all(|m| match m {
            M::Host(h) => host.eq_ignore_ascii_case(h),
            M::Path(p) => req.path == p,
            M::PathPrefix(p) => req.path.starts_with(p.as_str()),
        })
    }
}

pub fn routing_path(raw: &str) -> Result<Cow<'_, str>, RuleError> {
    Ok(Cow::Borrowed(raw))
}

pub struct RuleSet<T> {
    entries: Vec<(i64, String, Rule, T)>,
}

impl<T> RuleSet<T> {
    pub fn new(mut entries: Vec<(i64, String, Rule, T)>) -> Self {
        entries.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        RuleSet { entries }
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().map(|e| &e.3)
    }

    pub fn first_match(&self, req: &RequestView<'_>) -> Option<&T> {
        self.entries.iter().find(|e| e.2.matches(req)).map(|e| &e.3)
    }
}

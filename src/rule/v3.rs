//! The v3 matchers (Traefik's `pkg/muxer/http/matcher.go`): one argument each, except Header
//! and HeaderRegexp (two) and Query and QueryRegexp (one or two).

use super::error::{RuleError, column};
use super::goregex;
use super::ip::Net;
use super::matchers::{Matcher, header_key};
use super::parser::{Arg, Call};

pub(crate) fn build(name: &'static str, call: &Call, src: &str) -> Result<Matcher, RuleError> {
    let args = &call.args;
    let (allowed, text): (&[usize], &'static str) = match name {
        "Header" | "HeaderRegexp" => (&[2], "2"),
        "Query" | "QueryRegexp" => (&[1, 2], "1 or 2"),
        _ => (&[1], "1"),
    };
    if !allowed.contains(&args.len()) {
        return Err(RuleError::ArgCount {
            col: column(src, call.at),
            matcher: name,
            expected: text,
            got: args.len(),
        });
    }
    let first = &args[0];
    let regex = |arg: &Arg| {
        goregex::compile(&arg.value).map_err(|reason| RuleError::Regex {
            col: column(src, arg.at),
            matcher: name,
            pattern: arg.value.as_str().into(),
            reason: reason.into(),
        })
    };
    let ascii = |arg: &Arg| {
        if arg.value.is_ascii() {
            Ok(())
        } else {
            Err(RuleError::NonAscii {
                col: column(src, arg.at),
                matcher: name,
                value: arg.value.as_str().into(),
            })
        }
    };
    let path = |arg: &Arg| {
        if arg.value.starts_with('/') {
            Ok(arg.value.as_str().into())
        } else {
            Err(RuleError::NoLeadingSlash {
                col: column(src, arg.at),
                matcher: name,
                value: arg.value.as_str().into(),
            })
        }
    };
    Ok(match name {
        "Host" if first.value == "*" => Matcher::AnyHost,
        "Host" => {
            ascii(first)?;
            Matcher::Host(first.value.to_ascii_lowercase().into())
        }
        "HostRegexp" => {
            ascii(first)?;
            let regex = regex(first)?;
            Matcher::HostRegexp { matches_empty: regex.is_match(""), regex }
        }
        "Path" => Matcher::Path(path(first)?),
        "PathPrefix" => Matcher::PathPrefix(path(first)?),
        "PathRegexp" => Matcher::PathRegexp(regex(first)?),
        "Method" => Matcher::Method(go_to_upper(&first.value).into()),
        "Header" => {
            Matcher::Header { key: header_key(&first.value), value: args[1].value.as_str().into() }
        }
        "HeaderRegexp" => {
            Matcher::HeaderRegexp { key: header_key(&first.value), regex: regex(&args[1])? }
        }
        "Query" | "QueryRegexp" if args.len() == 1 => {
            Matcher::Query { key: first.value.as_str().into(), value: "".into() }
        }
        "Query" => Matcher::Query {
            key: first.value.as_str().into(),
            value: args[1].value.as_str().into(),
        },
        "QueryRegexp" => {
            Matcher::QueryRegexp { key: first.value.as_str().into(), regex: regex(&args[1])? }
        }
        "ClientIP" => Matcher::ClientIp(Box::new([client_ip(name, first, src)?])),
        _ => unreachable!("resolve() only returns v3 names here"),
    })
}

pub(crate) fn client_ip(name: &'static str, arg: &Arg, src: &str) -> Result<Net, RuleError> {
    Net::parse(&arg.value).ok_or_else(|| RuleError::BadIp {
        col: column(src, arg.at),
        matcher: name,
        value: arg.value.as_str().into(),
    })
}

/// Go's `strings.ToUpper`: per-character simple mapping (a character whose uppercase is
/// several characters, like `ß`, stays as it is).
pub(crate) fn go_to_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

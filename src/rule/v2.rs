//! The v2 matchers (Traefik's `matcher_v2.go`, built on gorilla/mux): several arguments each,
//! any of which may match (Host, HostRegexp, Path, PathPrefix, Method, ClientIP), or key/value
//! pairs that must all match (Headers, HeadersRegexp, Query).

use std::collections::HashSet;

use super::error::{RuleError, column};
use super::goregex;
use super::matchers::{Matcher, PathTemplate, QueryTemplate, header_key};
use super::parser::{Arg, Call};
use super::template::{self, Part};
use super::v3::{client_ip, go_to_upper};

pub(crate) fn build(name: &'static str, call: &Call, src: &str) -> Result<Matcher, RuleError> {
    let args = &call.args;
    let col = |arg: &Arg| column(src, arg.at);
    let template_err = |arg: &Arg, text: &str, reason: String| RuleError::Template {
        col: col(arg),
        matcher: name,
        template: text.into(),
        reason: reason.into(),
    };
    let ascii = |arg: &Arg| {
        if arg.value.is_ascii() {
            Ok(())
        } else {
            Err(RuleError::NonAscii {
                col: col(arg),
                matcher: name,
                value: arg.value.as_str().into(),
            })
        }
    };
    Ok(match name {
        "Host" | "HostHeader" => {
            let mut hosts = Vec::with_capacity(args.len());
            for arg in args {
                ascii(arg)?;
                hosts.push(arg.value.to_ascii_lowercase().into_boxed_str());
            }
            Matcher::HostsV2(hosts.into())
        }
        "HostRegexp" => {
            let mut res = Vec::with_capacity(args.len());
            for arg in args {
                ascii(arg)?;
                let t = template::compile(&arg.value, Part::Host)
                    .map_err(|e| template_err(arg, &arg.value, e))?;
                res.push(t.regex);
            }
            Matcher::HostRegexpV2(res.into())
        }
        "Path" | "PathPrefix" => {
            let prefix = name == "PathPrefix";
            let mut templates = Vec::with_capacity(args.len());
            for arg in args {
                if !arg.value.starts_with('/') {
                    return Err(RuleError::NoLeadingSlash {
                        col: col(arg),
                        matcher: name,
                        value: arg.value.as_str().into(),
                    });
                }
                let part = if prefix { Part::PathPrefix } else { Part::Path };
                let t = template::compile(&arg.value, part)
                    .map_err(|e| template_err(arg, &arg.value, e))?;
                let value: Box<str> = arg.value.as_str().into();
                templates.push(match (t.literal, prefix) {
                    (true, false) => PathTemplate::Exact(value),
                    (true, true) => PathTemplate::Prefix(value),
                    (false, _) => PathTemplate::Regex(t.regex),
                });
            }
            Matcher::PathsV2(templates.into())
        }
        "Method" => Matcher::MethodsV2(args.iter().map(|a| go_to_upper(&a.value).into()).collect()),
        "ClientIP" => {
            let nets: Result<Vec<_>, _> = args.iter().map(|a| client_ip(name, a, src)).collect();
            Matcher::ClientIp(nets?.into())
        }
        "Headers" => {
            let pairs = pairs(name, call, src)?;
            Matcher::HeadersV2(
                pairs
                    .into_iter()
                    .map(|(k, v)| (header_key(&k.value), v.value.as_str().into()))
                    .collect(),
            )
        }
        "HeadersRegexp" => {
            // mux checks the count, compiles every value in order (the first bad one is the
            // error), then keeps the last value for a repeated key.
            pairs(name, call, src)?;
            let mut compiled = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                if let [k, v] = pair {
                    let re = goregex::compile(&v.value).map_err(|reason| RuleError::Regex {
                        col: col(v),
                        matcher: name,
                        pattern: v.value.as_str().into(),
                        reason: reason.into(),
                    })?;
                    compiled.push((k, re));
                }
            }
            let mut out: Vec<(&Arg, regex_lite::Regex)> = Vec::new();
            for (k, re) in compiled {
                match out.iter_mut().find(|(seen, _)| seen.value == k.value) {
                    Some(slot) => slot.1 = re,
                    None => out.push((k, re)),
                }
            }
            Matcher::HeadersRegexpV2(
                out.into_iter().map(|(k, re)| (header_key(&k.value), re)).collect(),
            )
        }
        "Query" => Matcher::QueriesV2(queries(call, src)?.into()),
        _ => unreachable!("resolve() only returns v2 names here"),
    })
}

/// mux's key/value pairs: an even number of strings, a repeated key keeping its last value.
fn pairs<'c>(
    name: &'static str,
    call: &'c Call,
    src: &str,
) -> Result<Vec<(&'c Arg, &'c Arg)>, RuleError> {
    if !call.args.len().is_multiple_of(2) {
        return Err(RuleError::OddPairs {
            col: column(src, call.at),
            matcher: name,
            got: call.args.len(),
        });
    }
    let mut out: Vec<(&Arg, &Arg)> = Vec::new();
    for pair in call.args.chunks(2) {
        if let [k, v] = pair {
            match out.iter_mut().find(|(seen, _)| seen.value == k.value) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
    }
    Ok(out)
}

/// v2 Query: each argument split at its first `=`, the pieces paired up again (so `a`, `b` is
/// the pair `a=b`, as in Traefik), each pair a mux query template.
fn queries(call: &Call, src: &str) -> Result<Vec<QueryTemplate>, RuleError> {
    let mut pieces: Vec<(&str, &Arg)> = Vec::new();
    for arg in &call.args {
        match arg.value.split_once('=') {
            Some((k, v)) => {
                pieces.push((k, arg));
                pieces.push((v, arg));
            }
            None => pieces.push((&arg.value, arg)),
        }
    }
    if !pieces.len().is_multiple_of(2) {
        let lone = call.args.iter().find(|a| !a.value.contains('=')).unwrap_or(&call.args[0]);
        return Err(RuleError::Template {
            col: column(src, lone.at),
            matcher: "Query",
            template: lone.value.as_str().into(),
            reason: "expected key=value (v2 Query takes key=value pairs)".into(),
        });
    }
    let mut seen_vars: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(pieces.len() / 2);
    for pair in pieces.chunks(2) {
        let [(key, arg), (value, _)] = pair else { continue };
        let text = format!("{key}={value}");
        let err = |reason: String| RuleError::Template {
            col: column(src, arg.at),
            matcher: "Query",
            template: text.as_str().into(),
            reason: reason.into(),
        };
        let t = template::compile(&text, Part::Query).map_err(err)?;
        for var in &t.vars {
            if seen_vars.contains(var) {
                return Err(err(format!("duplicated route variable `{var}`")));
            }
        }
        seen_vars.extend(t.vars.iter().cloned());
        out.push(QueryTemplate { key: (*key).into(), regex: t.regex });
    }
    Ok(out)
}

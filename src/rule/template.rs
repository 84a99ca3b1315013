//! gorilla/mux route templates, as Traefik's v2 syntax uses them: `/users/{id:[0-9]+}`,
//! `{sub:[a-z]+}.example.com`, `id={id}`.
//!
//! A template becomes one anchored Go regex: literal parts quoted, each `{name}` or
//! `{name:pattern}` a group with the pattern (default: `[^/]+` in paths, `[^.]+` in hosts, `.*`
//! in queries). Host templates match without case. Path templates are anchored at both ends,
//! prefixes only at the start. Built as Go syntax, then translated like any Go regex.

use regex_lite::Regex;

use super::goregex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Host,
    Path,
    PathPrefix,
    /// `key=value` of v2 Query.
    Query,
}

/// A compiled template and its variable names (for mux's duplicate-variable check).
pub(crate) struct Template {
    pub(crate) regex: Regex,
    pub(crate) vars: Vec<String>,
    /// The template had no variables: a literal (path templates then compare directly).
    pub(crate) literal: bool,
}

/// mux's `newRouteRegexp`. The error is gorilla/mux's reason, reworded.
pub(crate) fn compile(tpl: &str, part: Part) -> Result<Template, String> {
    let braces = brace_indices(tpl)?;
    let default = match part {
        Part::Query => ".*",
        Part::Host => "[^.]+",
        Part::Path | Part::PathPrefix => "[^/]+",
    };
    let mut pattern = String::new();
    if part == Part::Host {
        pattern.push_str("(?i)");
    }
    pattern.push('^');
    let mut vars = Vec::new();
    let mut end = 0;
    for &(open, close) in &braces {
        pattern.push_str(&quote_meta(&tpl[end..open]));
        end = close + 1;
        let inner = &tpl[open + 1..close];
        let (name, patt) = match inner.split_once(':') {
            Some((n, p)) => (n, p),
            None => (inner, default),
        };
        if name.is_empty() || patt.is_empty() {
            return Err(format!("missing name or pattern in `{}`", &tpl[open..=close]));
        }
        // mux also compiles each variable's pattern alone, anchored, to validate it.
        goregex::translate(&format!("^{patt}$"))
            .map_err(|e| format!("variable `{name}`: invalid pattern `{patt}`: {e}"))?;
        pattern.push_str("(?P<v");
        pattern.push_str(&vars.len().to_string());
        pattern.push('>');
        pattern.push_str(patt);
        pattern.push(')');
        vars.push(name.to_owned());
    }
    pattern.push_str(&quote_meta(&tpl[end..]));
    if part == Part::Query && tpl.split_once('=').is_some_and(|(_, v)| v.is_empty()) {
        pattern.push_str(default);
    }
    if part != Part::PathPrefix {
        pattern.push('$');
    }
    let regex =
        goregex::compile(&pattern).map_err(|e| format!("invalid regular expression: {e}"))?;
    Ok(Template { regex, literal: vars.is_empty(), vars })
}

/// mux's `braceIndices`: top-level `{…}` pairs as (open, close) byte offsets.
fn brace_indices(s: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut level = 0usize;
    let mut open = 0;
    let mut out = Vec::new();
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => {
                level += 1;
                if level == 1 {
                    open = i;
                }
            }
            b'}' => {
                if level == 0 {
                    return Err("unbalanced braces".into());
                }
                level -= 1;
                if level == 0 {
                    out.push((open, i));
                }
            }
            _ => {}
        }
    }
    if level != 0 {
        return Err("unbalanced braces".into());
    }
    Ok(out)
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn m(tpl: &str, part: Part, s: &str) -> bool {
        compile(tpl, part).unwrap_or_else(|e| panic!("{tpl}: {e}")).regex.is_match(s)
    }

    #[test]
    fn paths() {
        assert!(m("/css", Part::Path, "/css"));
        assert!(!m("/css", Part::Path, "/css/"));
        assert!(m("/css", Part::PathPrefix, "/css/x"));
        assert!(m("/a.b", Part::Path, "/a.b"));
        assert!(!m("/a.b", Part::Path, "/aXb"));
        assert!(m("/users/{id}", Part::Path, "/users/42"));
        assert!(!m("/users/{id}", Part::Path, "/users/42/x"));
        assert!(m("/users/{id:[0-9]+}", Part::Path, "/users/42"));
        assert!(!m("/users/{id:[0-9]+}", Part::Path, "/users/x"));
        assert!(m("/css{path:(/.*)?}", Part::Path, "/css/a/b.css"));
        assert!(!m("/css{path:(/.*)?}", Part::Path, "/css.css"));
        assert!(m("/css-{name:[0-9]?}", Part::PathPrefix, "/css-333/x"));
        assert!(compile("/x", Part::Path).unwrap().literal);
        assert!(!compile("/{x}", Part::Path).unwrap().literal);
    }

    #[test]
    fn hosts_fold_case() {
        assert!(m("{sub:[a-z]+}.example.com", Part::Host, "API.example.com"));
        assert!(!m("{sub}.example.com", Part::Host, "a.b.example.com"));
        assert!(m("{subdomain:(foo\\.)?bar\\.com}", Part::Host, "foo.bar.com"));
        assert!(!m("{subdomain:(foo\\.)?bar\\.com}", Part::Host, "fooubar.com"));
        // Without braces everything is literal, even regex syntax.
        assert!(m("(example.com", Part::Host, "(EXAMPLE.com"));
    }

    #[test]
    fn queries() {
        assert!(m("foo=bar", Part::Query, "foo=bar"));
        assert!(!m("foo=bar", Part::Query, "foo=barx"));
        assert!(m("foo=", Part::Query, "foo=anything"));
        assert!(!m("foo=", Part::Query, "foo=a\nb"));
        assert!(m("id={id:[0-9]+}", Part::Query, "id=12"));
        assert!(m("foo=b=ar", Part::Query, "foo=b=ar"));
    }

    #[test]
    fn errors() {
        let e = |t: &str| compile(t, Part::Path).err().unwrap();
        assert_eq!(e("/{test"), "unbalanced braces");
        assert_eq!(e("/a}"), "unbalanced braces");
        assert_eq!(e("/{:x}"), "missing name or pattern in `{:x}`");
        assert_eq!(e("/{x:}"), "missing name or pattern in `{x:}`");
        assert_eq!(e("/{x:(}"), "variable `x`: invalid pattern `(`: missing closing ): `^($`");
        assert_eq!(e("/{x:a)(b}"), "variable `x`: invalid pattern `a)(b`: unexpected ): `^a)(b$`");
        assert_eq!(
            compile("{x:a{2}{3}}", Part::Host).err().unwrap().split(':').next(),
            Some("variable `x`")
        );
    }
}

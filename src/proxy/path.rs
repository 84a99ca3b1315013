//! The request path as Traefik's entry point hands it on: percent-escapes normalised, then the
//! path cleaned of `.`/`..` segments and repeated slashes (Traefik's `sanitizePath`, on by
//! default). Routers match, middlewares edit and servers receive this form.

use std::borrow::Cow;

/// Why a request path was refused (answered with 400, as Go's server and Traefik do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadPath {
    #[error("invalid percent-encoding in the request path")]
    Escape,
    #[error("fragment in the request path")]
    Fragment,
}

/// Normalise, then sanitise: the two entry-point steps Traefik applies before routing.
pub fn entry_path(raw: &str) -> Result<Cow<'_, str>, BadPath> {
    if raw.contains('#') {
        return Err(BadPath::Fragment);
    }
    let normalized = normalize(raw)?;
    Ok(match clean(&normalized) {
        Cow::Borrowed(_) => normalized,
        Cow::Owned(cleaned) => Cow::Owned(cleaned),
    })
}

/// Upper-case every percent-escape and decode the unreserved ones (RFC 3986 §6.2.2.2):
/// `%7e` becomes `~`, `%2f` becomes `%2F`. Refuses a malformed escape.
pub fn normalize(raw: &str) -> Result<Cow<'_, str>, BadPath> {
    let bytes = raw.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'%') else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            // Copy the run up to the next escape in one go, keeping UTF-8 intact.
            let next = bytes[i..].iter().position(|&c| c == b'%').map_or(bytes.len(), |p| i + p);
            out.push_str(&raw[i..next]);
            i = next;
            continue;
        }
        let (hi, lo) = match (bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(&hi), Some(&lo)) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => (hi, lo),
            _ => return Err(BadPath::Escape),
        };
        let value = hex(hi) << 4 | hex(lo);
        if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(value));
        } else {
            out.push('%');
            out.push(char::from(hi.to_ascii_uppercase()));
            out.push(char::from(lo.to_ascii_uppercase()));
        }
        i += 3;
    }
    Ok(if out == raw { Cow::Borrowed(raw) } else { Cow::Owned(out) })
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// Go's `path.Join`/`path.Clean` on the escaped path, keeping a trailing slash as
/// `url.JoinPath` does: `//a/./b/../c/` becomes `/a/c/`.
pub fn clean(path: &str) -> Cow<'_, str> {
    if is_clean(path) {
        return Cow::Borrowed(path);
    }
    let rooted = path.starts_with('/');
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.last().is_some_and(|s| *s != "..") {
                    segments.pop();
                } else if !rooted {
                    segments.push("..");
                }
            }
            _ => segments.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len());
    if rooted {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if out.is_empty() {
        out.push(if rooted { '/' } else { '.' });
    }
    if path.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    Cow::Owned(out)
}

/// True when `clean` would change nothing: no empty, `.` or `..` segment before the end.
fn is_clean(path: &str) -> bool {
    let inner = path.strip_prefix('/').unwrap_or(path);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    if inner.is_empty() {
        return path.len() <= 1;
    }
    inner.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_escapes_like_traefik() {
        assert_eq!(normalize("/a%7eb%2fc").as_deref(), Ok("/a~b%2Fc"));
        assert_eq!(normalize("/plain").as_deref(), Ok("/plain"));
        assert_eq!(normalize("/%41%42"), Ok(Cow::Owned("/AB".into())));
        assert_eq!(normalize("/bad%4"), Err(BadPath::Escape));
        assert_eq!(normalize("/bad%zz"), Err(BadPath::Escape));
        assert_eq!(normalize("/é%20"), Ok(Cow::Owned("/é%20".into())));
    }

    #[test]
    fn cleans_like_go_join_path() {
        for (input, want) in [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("//a//b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../a", "/a"),
            ("/a/b/..", "/a"),
            ("/a/b/../", "/a/"),
            ("/./", "/"),
            ("/..", "/"),
            ("/a/.", "/a"),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn entry_path_decodes_dots_before_cleaning() {
        assert_eq!(entry_path("/a/%2e%2e/b").as_deref(), Ok("/b"));
        assert_eq!(entry_path("/a%2fb").as_deref(), Ok("/a%2Fb"));
        assert_eq!(entry_path("/a#b"), Err(BadPath::Fragment));
    }
}

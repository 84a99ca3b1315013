//! The routing path: what Path, PathPrefix and PathRegexp (and v2 Path/PathPrefix) compare with.
//!
//! Traefik does not route on the raw request path. Before its router runs, a request goes through
//! (outermost first, all in Traefik's entry point, `server_entrypoint_tcp.go`, and `mux.go`):
//!
//! 1. Go's URL parser: control bytes and bad `%` escapes are a 400; `Path` is the decoded path,
//!    `RawPath` the path as sent if that differs from Go's own encoding of `Path`.
//! 2. `denyFragment`: a raw `#` in the path is a 400.
//! 3. `normalizePath`: in `RawPath`, escapes of unreserved characters (`%41` → `A`, `%2e` → `.`)
//!    are decoded and the other escapes upper-cased (`%2f` → `%2F`).
//! 4. `sanitizePath` (entry point option `http.sanitizePath`, default true): `URL.JoinPath()`,
//!    which runs `path.Clean` on the escaped path (`//`, `/./`, `/../` resolved; a trailing `/`
//!    kept).
//! 5. `withRoutingPath`: the escaped path with every escape decoded except those of reserved
//!    characters (`: / ? # [ ] @ ! $ & ' ( ) * + , ; = %`), so `/a%20b` routes as `/a b` while
//!    `/a%2Fb` stays `/a%2Fb`.
//!
//! Go's "escaped path" is the raw path when it is a valid encoding, else Go's re-encoding of the
//! decoded path, which turns `!`, `*`, `(`, … into reserved escapes: `/a!b|c` routes as
//! `/a%21b|c` (the `|` makes the raw form invalid). [`routing_path`] reproduces all of it.
//! Go's HTTP server itself does not clean or redirect paths for Traefik (no `ServeMux`).

use std::borrow::Cow;

use super::error::PathError;
use super::scratch::go_string;

/// Traefik's routing path for a raw request path (the request target up to `?`, as received),
/// with `http.sanitizePath` at its default (true). Borrows when nothing changes, which is the
/// common case. An error means Traefik answers 400 Bad Request.
pub fn routing_path(raw_path: &str) -> Result<Cow<'_, str>, PathError> {
    routing_path_with(raw_path, true)
}

/// [`routing_path`] with the entry point's `http.sanitizePath` given.
pub fn routing_path_with(raw_path: &str, sanitize: bool) -> Result<Cow<'_, str>, PathError> {
    Ok(request_paths(raw_path, sanitize)?.routing)
}

/// The two forms of a request path after Traefik's entry point: what routers match, and what
/// the server receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPaths<'a> {
    /// The escaped path as forwarded (`RequestURI` after normalisation and sanitising).
    pub forwarded: Cow<'a, str>,
    /// The routing path rules see: `forwarded` with every escape decoded except reserved ones.
    pub routing: Cow<'a, str>,
}

/// Both paths for a raw request path; an error means Traefik answers 400 Bad Request.
pub fn request_paths(raw_path: &str, sanitize: bool) -> Result<RequestPaths<'_>, PathError> {
    validate(raw_path)?;
    let plain = raw_path.bytes().all(|b| !should_escape(b));
    if (plain && (!sanitize || is_clean(raw_path))) || raw_path == "*" {
        // No escapes and nothing Go would re-encode: every step above is the identity.
        return Ok(RequestPaths {
            forwarded: Cow::Borrowed(raw_path),
            routing: Cow::Borrowed(raw_path),
        });
    }
    let path = unescape(raw_path.as_bytes());
    let default = escape(&path);
    let escaped = if default == raw_path {
        default
    } else {
        let normalized = normalize(raw_path);
        if valid_encoded(&normalized) {
            normalized
        } else if path == b"*" {
            "*".to_owned()
        } else {
            default
        }
    };
    let cleaned = if sanitize { join_path(&escaped) } else { escaped };
    let routing = go_string(decode_unreserved(&cleaned));
    Ok(RequestPaths { forwarded: Cow::Owned(cleaned), routing: Cow::Owned(routing) })
}

/// Go's `URL.JoinPath()` cleaning of an escaped path (`//a/./b/` to `/a/b/`), for middlewares
/// that must refuse a path that cleaning would change.
pub fn clean_path(escaped: &str) -> Cow<'_, str> {
    if escaped.starts_with('/') && is_clean(escaped) {
        Cow::Borrowed(escaped)
    } else {
        Cow::Owned(join_path(escaped))
    }
}

/// What Go's request parsing and Traefik's `denyFragment` reject.
fn validate(raw: &str) -> Result<(), PathError> {
    if !(raw.is_empty() || raw.starts_with('/') || raw == "*") {
        return Err(PathError::NotOrigin);
    }
    let bytes = raw.as_bytes();
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            0..=0x1f | 0x7f => return Err(PathError::Control { at }),
            b'%' => {
                let hex = bytes.get(at + 1..at + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Err(PathError::BadPercent { at });
                }
            }
            _ => {}
        }
    }
    if let Some(at) = raw.find('#') {
        return Err(PathError::Fragment { at });
    }
    Ok(())
}

/// True when `path.Clean` plus JoinPath's trailing-slash rule would not change a rooted path.
fn is_clean(p: &str) -> bool {
    let Some(rest) = p.strip_prefix('/') else { return p == "*" };
    let segments = rest.split('/').count();
    !rest
        .split('/')
        .enumerate()
        .any(|(i, seg)| (seg.is_empty() && i + 1 != segments) || seg == "." || seg == "..")
}

fn unhex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Go's `shouldEscape(c, encodePath)`.
pub(crate) fn should_escape(c: u8) -> bool {
    !(c.is_ascii_alphanumeric()
        || matches!(c, b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';')
        || matches!(c, b'=' | b'@'))
}

/// Go's `unescape(s, encodePath)` on an already validated path: every `%XX` decoded.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            out.push(unhex(s[i + 1]) << 4 | unhex(s[i + 2]));
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Go's `escape(s, encodePath)`.
fn escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if should_escape(b) {
            out.push('%');
            out.push(char::from(UPPER_HEX[usize::from(b >> 4)]));
            out.push(char::from(UPPER_HEX[usize::from(b & 15)]));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Go's `validEncoded(s, encodePath)`.
fn valid_encoded(s: &str) -> bool {
    s.bytes().all(|b| {
        matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';')
            || matches!(b, b'=' | b':' | b'@' | b'[' | b']' | b'%')
            || !should_escape(b)
    })
}

/// Traefik's `normalizePath` on a raw path: unreserved escapes decoded, other escapes
/// upper-cased. Non-ASCII bytes are copied through unchanged.
fn normalize(raw: &str) -> String {
    let s = raw.as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let b = unhex(s[i + 1]) << 4 | unhex(s[i + 2]);
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b);
            } else {
                out.push(b'%');
                out.push(s[i + 1].to_ascii_uppercase());
                out.push(s[i + 2].to_ascii_uppercase());
            }
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes: still the UTF-8 the input was.
    String::from_utf8(out).unwrap_or_else(|e| go_string(e.into_bytes()))
}

/// Go's `URL.JoinPath()` with no elements, on an escaped path.
fn join_path(escaped: &str) -> String {
    let relative = !escaped.starts_with('/');
    let rooted: Cow<'_, str> =
        if relative { Cow::Owned(format!("/{escaped}")) } else { Cow::Borrowed(escaped) };
    let mut p = clean(&rooted);
    if relative {
        p.remove(0);
    }
    if rooted.ends_with('/') && !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// Go's `path.Clean`.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let p = path.as_bytes();
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            // An empty element or `.`.
            r += 1;
        } else if p[r] == b'.' && p.get(r + 1) == Some(&b'.') && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                out.pop();
                while out.len() > dotdot && out.last() != Some(&b'/') {
                    out.pop();
                }
                // Drop the separator too, as Go's lazybuf rewinds to it.
                if out.len() > dotdot && out.last() == Some(&b'/') {
                    out.pop();
                }
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return ".".to_owned();
    }
    String::from_utf8(out).unwrap_or_else(|e| go_string(e.into_bytes()))
}

/// Traefik's `withRoutingPath`: every `%XX` decoded except the reserved characters' escapes
/// (matched upper-case, as Traefik's table is; earlier steps upper-cased them all).
fn decode_unreserved(escaped: &str) -> Vec<u8> {
    const RESERVED: [&[u8; 2]; 19] = [
        b"3A", b"2F", b"3F", b"23", b"5B", b"5D", b"40", b"21", b"24", b"26", b"27", b"28", b"29",
        b"2A", b"2B", b"2C", b"3B", b"3D", b"25",
    ];
    let s = escaped.as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            let pair = [s[i + 1], s[i + 2]];
            if RESERVED.contains(&&pair) {
                out.extend_from_slice(&s[i..i + 3]);
            } else {
                out.push(unhex(pair[0]) << 4 | unhex(pair[1]));
            }
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn rp(raw: &str) -> String {
        routing_path(raw).unwrap_or_else(|e| panic!("{raw}: {e}")).into_owned()
    }

    #[test]
    fn plain_paths_are_borrowed() {
        for p in ["/", "/a/b", "/a/b/", "/a-b_c.d~e", "/a:b@c;d=e,f&g+h$i", "*", "/.a/..b"] {
            assert!(matches!(routing_path(p), Ok(Cow::Borrowed(_))), "{p}");
        }
        assert!(matches!(routing_path_with("//a/../b", false), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn escapes_of_unreserved_characters_are_decoded_reserved_ones_kept() {
        assert_eq!(rp("/foo%20bar"), "/foo bar");
        assert_eq!(rp("/foo%2Fbar"), "/foo%2Fbar");
        assert_eq!(rp("/foo%2fbar"), "/foo%2Fbar");
        assert_eq!(rp("/foo%20bar%2Fbaz%23qux"), "/foo bar%2Fbaz%23qux");
        assert_eq!(rp("/%41%62"), "/Ab");
        assert_eq!(rp("/a%3fb"), "/a%3Fb");
        assert_eq!(rp("/a%25b"), "/a%25b");
        assert_eq!(rp("/caf%C3%A9"), "/café");
        assert_eq!(rp("/café"), "/café");
        assert_eq!(rp("/%7Bx%7D"), "/{x}");
        assert_eq!(rp("/{x}"), "/{x}");
    }

    #[test]
    fn raw_reserved_characters_depend_on_the_rest_of_the_path() {
        // Valid raw form: kept as sent.
        assert_eq!(rp("/a!b"), "/a!b");
        assert_eq!(rp("/a%21b"), "/a%21b");
        // `|` is not valid in an escaped path, so Go re-encodes the whole path and `!` becomes
        // the reserved escape %21, which routing keeps.
        assert_eq!(rp("/a!b|c"), "/a%21b|c");
        assert_eq!(rp("/a|b%2Fc"), "/a|b/c");
    }

    #[test]
    fn sanitizing_resolves_dots_and_double_slashes() {
        assert_eq!(rp("//a"), "/a");
        assert_eq!(rp("/a/../b"), "/b");
        assert_eq!(rp("/a/./b/"), "/a/b/");
        assert_eq!(rp("/a/."), "/a");
        assert_eq!(rp("/a/.."), "/");
        assert_eq!(rp("/.."), "/");
        assert_eq!(rp("/../../x"), "/x");
        assert_eq!(rp("/a/%2e%2e/b"), "/b");
        assert_eq!(rp("/a/%2E/b"), "/a/b");
        assert_eq!(rp("/a/%2F/../b"), "/a/b");
        assert_eq!(rp("/a//b//"), "/a/b/");
        assert_eq!(rp(""), "/");
        assert_eq!(rp("*"), "*");
        assert_eq!(routing_path_with("/a/%2e%2e/b", false).unwrap(), "/a/../b");
        assert_eq!(routing_path_with("", false).unwrap(), "");
    }

    #[test]
    fn invalid_utf8_becomes_one_replacement_per_byte() {
        assert_eq!(rp("/%FF%C3"), "/\u{fffd}\u{fffd}");
        assert_eq!(rp("/%F0%9F%98"), "/\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn bad_requests() {
        assert_eq!(routing_path("/a%2"), Err(PathError::BadPercent { at: 2 }));
        assert_eq!(routing_path("/a%zz"), Err(PathError::BadPercent { at: 2 }));
        assert_eq!(routing_path("/a#b"), Err(PathError::Fragment { at: 2 }));
        assert_eq!(routing_path("/a\x01"), Err(PathError::Control { at: 2 }));
        assert_eq!(routing_path("/a\x7f"), Err(PathError::Control { at: 2 }));
        assert_eq!(routing_path("a"), Err(PathError::NotOrigin));
        assert_eq!(
            routing_path("/a%2").unwrap_err().to_string(),
            "invalid percent-encoding at byte 2 of the request path"
        );
    }

    #[test]
    fn clean_is_gos() {
        for (input, want) in [
            ("", "."),
            ("/", "/"),
            ("abc", "abc"),
            ("abc/def/", "abc/def"),
            ("a/b/c/..", "a/b"),
            ("../../a", "../../a"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("/a/b/../../c", "/c"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("./x", "x"),
            ("..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/./../def", "def"),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }
}

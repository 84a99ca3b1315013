//! The query string as Traefik's Query matchers see it, read in place without allocating.
//!
//! Traefik wraps its handler in Go's `http.AllowQuerySemicolons` (entry point option
//! `http.encodeQuerySemicolons` off, the default), which turns `;` into `&`; then `URL.Query()`
//! splits on `&`, skips empty pieces, splits each at the first `=`, and drops a pair whose key or
//! value has a bad `%` escape. Keys and values are decoded with `+` as space. Since Go 1.24.12
//! and 1.25.6, a query of more than [`MAX_PARAMS`] pieces yields no parameters at all.

use super::scratch::Scratch;

/// One `key=value` piece with valid escapes, still encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pair<'a> {
    pub(crate) key: &'a [u8],
    pub(crate) value: &'a [u8],
}

/// Go's default `urlmaxqueryparams`: more `&`-separated pieces than this, and `URL.Query()` is
/// empty (Traefik still routes the request; Query matchers just see no parameters).
pub(crate) const MAX_PARAMS: usize = 10_000;

/// The pairs of a raw query (without the `?`), in order, as Go's `ParseQuery` keeps them.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = Pair<'_>> {
    let separators = query.bytes().filter(|&b| b == b'&' || b == b';').count();
    let query = if separators < MAX_PARAMS { query } else { "" };
    query.as_bytes().split(|&b| b == b'&' || b == b';').filter_map(|piece| {
        if piece.is_empty() {
            return None;
        }
        let (key, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        (valid(key) && valid(value)).then_some(Pair { key, value })
    })
}

fn valid(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let ok = s.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Decoded bytes of a validated component, one at a time.
fn decoded(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *s.get(i)?;
        Some(match b {
            b'%' if i + 2 < s.len() => {
                i += 3;
                hex(s[i - 2]) << 4 | hex(s[i - 1])
            }
            b'+' => {
                i += 1;
                b' '
            }
            b => {
                i += 1;
                b
            }
        })
    })
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Whether the encoded component decodes to exactly `want`.
pub(crate) fn decodes_to(encoded: &[u8], want: &[u8]) -> bool {
    decoded(encoded).eq(want.iter().copied())
}

/// Appends the decoded component to `out`.
pub(crate) fn decode_into(encoded: &[u8], out: &mut Scratch) {
    for b in decoded(encoded) {
        out.push(b);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn decoded_pairs(q: &str) -> Vec<(String, String)> {
        pairs(q)
            .map(|p| {
                let k: Vec<u8> = decoded(p.key).collect();
                let v: Vec<u8> = decoded(p.value).collect();
                (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())
            })
            .collect()
    }

    #[test]
    fn parses_like_go_with_semicolons_allowed() {
        assert_eq!(
            decoded_pairs("a=1&b=2;c=3&&a=4&d&e=&=f&g=h=i"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("c".into(), "3".into()),
                ("a".into(), "4".into()),
                ("d".into(), "".into()),
                ("e".into(), "".into()),
                ("".into(), "f".into()),
                ("g".into(), "h=i".into()),
            ]
        );
        assert_eq!(decoded_pairs("q=a+b%20c%2Bd"), vec![("q".into(), "a b c+d".into())]);
        assert_eq!(decoded_pairs("a%zz=1&b=%2&c=ok"), vec![("c".into(), "ok".into())]);
        assert_eq!(decoded_pairs(""), vec![]);
        let at_limit = format!("k=v{}", "&".repeat(MAX_PARAMS - 1));
        assert_eq!(decoded_pairs(&at_limit).len(), 1);
        let over = format!("k=v{}", ";".repeat(MAX_PARAMS));
        assert_eq!(decoded_pairs(&over).len(), 0);
    }

    #[test]
    fn compares_without_decoding_into_memory() {
        assert!(decodes_to(b"a%20b+c", b"a b c"));
        assert!(!decodes_to(b"a%20b", b"a b c"));
        assert!(decodes_to(b"", b""));
        let mut s = Scratch::new();
        decode_into(b"%C3%A9+x", &mut s);
        assert_eq!(s.bytes(), "é x".as_bytes());
    }
}

//! Host handling as Traefik does it: which part of `Host` a matcher sees, and how Host compares.
//!
//! Traefik's request decorator stores a canonical host per request: the port removed with Go's
//! `net.SplitHostPort` (brackets of a bare IPv6 literal stripped too), surrounding whitespace
//! trimmed, lowercased. Host, v2 Host and v3 HostRegexp see that. v2 HostRegexp (gorilla/mux)
//! sees the raw host with only the port removed, and folds case in its regex instead.

/// Go's `net.SplitHostPort`: `Some(host)` when `addr` is `host:port` or `[host]:port` (port may be
/// empty), `None` when Go reports an error.
pub(crate) fn split_host_port(addr: &str) -> Option<&str> {
    let colon = addr.rfind(':')?;
    let (host, inner_start, after_bracket) = if addr.starts_with('[') {
        let end = addr.find(']')?;
        // Go wants the first ']' right before the last ':'.
        if end + 1 != colon {
            return None;
        }
        (&addr[1..end], 1, end + 1)
    } else {
        let host = &addr[..colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if addr[inner_start..].contains('[') || addr[after_bracket..].contains(']') {
        return None;
    }
    Some(host)
}

/// The host part Traefik's request decorator keeps (before trimming and lowercasing).
pub(crate) fn decorator_host(addr: &str) -> &str {
    if !addr.contains(':') {
        return addr;
    }
    match split_host_port(addr) {
        Some(h) => h,
        None => {
            if addr.len() >= 2 && addr.starts_with('[') && addr.ends_with(']') {
                &addr[1..addr.len() - 1]
            } else {
                addr
            }
        }
    }
}

/// The host part gorilla/mux matches v2 HostRegexp against.
pub(crate) fn mux_host(addr: &str) -> &str {
    if !addr.contains(':') {
        return addr;
    }
    split_host_port(addr).unwrap_or(addr)
}

/// Traefik's canonical host without the lowercasing (callers compare ignoring ASCII case, or
/// lowercase into a scratch buffer): port removed, then whitespace trimmed as Go's TrimSpace.
pub(crate) fn canonical_host(addr: &str) -> &str {
    decorator_host(addr).trim()
}

/// Go's `DomainMatchHostExpression` for an ASCII, lowercased expression: `*.example.com` matches
/// exactly one label in front of `example.com`; anything else compares without case.
pub(crate) fn domain_matches(domain: &str, expr: &str) -> bool {
    match expr.strip_prefix('*') {
        Some(rest) => {
            // Go replaces the first label with `*` and compares the whole.
            let tail = domain.find('.').map_or("", |i| &domain[i..]);
            tail.eq_ignore_ascii_case(rest)
        }
        None => domain.eq_ignore_ascii_case(expr),
    }
}

/// Traefik v3 `Host(expr)` on a canonical host, including its trailing-dot leniency.
pub(crate) fn host_v3_matches(host: &str, expr: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    if domain_matches(host, expr) {
        return true;
    }
    // Traefik's leniency about a trailing dot, on either side.
    expr.strip_suffix('.').is_some_and(|e| domain_matches(host, e))
        || host.strip_suffix('.').is_some_and(|h| domain_matches(h, expr))
}

/// Traefik v2 `Host(a, b, …)`: exact comparison (no wildcards), same trailing-dot leniency.
pub(crate) fn host_v2_matches(host: &str, expr: &str) -> bool {
    if host.is_empty() {
        return false;
    }
    if host.eq_ignore_ascii_case(expr) {
        return true;
    }
    if expr.strip_suffix('.').is_some_and(|e| host.eq_ignore_ascii_case(e)) {
        return true;
    }
    host.strip_suffix('.').is_some_and(|h| h.eq_ignore_ascii_case(expr))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn split_host_port_is_gos() {
        assert_eq!(split_host_port("example.com:80"), Some("example.com"));
        assert_eq!(split_host_port("example.com:"), Some("example.com"));
        assert_eq!(split_host_port("[::1]:80"), Some("::1"));
        assert_eq!(split_host_port(":80"), Some(""));
        assert_eq!(split_host_port("example.com"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("a:b:c"), None);
        assert_eq!(split_host_port("[::1]x:80"), None);
        assert_eq!(split_host_port("[a[b]:80"), None);
        assert_eq!(split_host_port("a]:80"), None);
        assert_eq!(split_host_port("[::1"), None);
    }

    #[test]
    fn canonical_host_strips_port_brackets_and_space() {
        assert_eq!(canonical_host("Example.COM:8080"), "Example.COM");
        assert_eq!(canonical_host("[10::10]:80"), "10::10");
        assert_eq!(canonical_host("[10::10]"), "10::10");
        assert_eq!(canonical_host("10::10"), "10::10");
        assert_eq!(canonical_host(" a.b "), "a.b");
        assert_eq!(canonical_host(""), "");
        assert_eq!(mux_host("[10::10]"), "[10::10]");
        assert_eq!(mux_host("a.b:1"), "a.b");
    }

    #[test]
    fn v3_host_matching() {
        assert!(host_v3_matches("example.com", "example.com"));
        assert!(host_v3_matches("EXAMPLE.com", "example.com"));
        assert!(host_v3_matches("example.com.", "example.com"));
        assert!(host_v3_matches("example.com", "example.com."));
        assert!(!host_v3_matches("example.org", "example.com"));
        assert!(!host_v3_matches("", "example.com"));
        assert!(host_v3_matches("a.example.com", "*.example.com"));
        assert!(host_v3_matches("a.example.com.", "*.example.com"));
        assert!(!host_v3_matches("a.b.example.com", "*.example.com"));
        assert!(!host_v3_matches("example.com", "*.example.com"));
        assert!(!host_v3_matches("xexample.com", "*example.com"));
        assert!(host_v3_matches("localhost", "*."));
    }

    #[test]
    fn v2_host_matching_has_no_wildcards() {
        assert!(host_v2_matches("example.com", "example.com"));
        assert!(host_v2_matches("example.com.", "example.com"));
        assert!(host_v2_matches("example.com", "example.com."));
        assert!(!host_v2_matches("a.example.com", "*.example.com"));
        assert!(!host_v2_matches("", "."));
    }
}

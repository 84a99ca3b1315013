//! `Hit`: one finished request as the stats engine and the access log see it.

use std::net::IpAddr;

/// Text copied out of a request into fixed room: pushing truncates at a character boundary and
/// never allocates, so building a `Hit` on the request path costs no heap.
pub type Text<const N: usize> = heapless::String<N>;

/// Copy `src` into `dst`, cutting at the last character boundary that fits.
pub fn fill<const N: usize>(dst: &mut Text<N>, src: &str) {
    dst.clear();
    let mut end = src.len().min(N);
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    // Cannot fail: `end <= N` bytes were checked above.
    let _ = dst.push_str(&src[..end]);
}

/// HTTP method, as a byte. `Other` keeps unusual methods countable without a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Method {
    #[default]
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

/// Request protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Protocol {
    Http10,
    #[default]
    Http11,
    Http2,
    Http3,
    Other,
}

/// TLS version of the client connection, `None` for plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum TlsVersion {
    #[default]
    None,
    Tls12,
    Tls13,
    Other,
}

/// One finished request. Fixed size, no heap: sending it never allocates; strings truncate, never
/// grow. The proxy fills one per request (served or failed) and offers it to a bounded channel;
/// the offline report fills them from log lines.
#[derive(Debug, Clone, Default)]
pub struct Hit {
    /// When the request arrived, Unix milliseconds.
    pub at_unix_ms: u64,
    /// The client address as the proxy saw it (after trusted forwarded headers); the engine
    /// anonymises before keeping anything.
    pub client: Option<IpAddr>,
    pub method: Method,
    pub protocol: Protocol,
    pub tls: TlsVersion,
    pub status: u16,
    /// Time from request start to the end of the response body.
    pub duration_us: u32,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The path had a query string (GoAccess counts such requests as dynamic, never static).
    pub has_query: bool,
    /// The full (untruncated) target ends with a static-file extension (GoAccess's test, which a
    /// query string usually defeats); set by [`Hit::set_target`] before `path` is cut to size.
    pub is_static: bool,
    /// Host header without port, lowercase.
    pub host: Text<64>,
    /// Path without the query string.
    pub path: Text<128>,
    pub referrer: Text<128>,
    pub user_agent: Text<160>,
    /// 64-bit hash of the whole `User-Agent`, so that two agents cut to the same 160 bytes still
    /// count as two visitors; set by [`Hit::set_user_agent`]. Not keyed: the engine keys it.
    pub agent_hash: u64,
    /// `name@provider` of the router that served it; empty when none matched.
    pub router: Text<64>,
    /// `name@provider` of the service; empty when none.
    pub service: Text<64>,
}

impl Hit {
    /// Fill `path`, `has_query` and `is_static` from a request target as sent (`/a/b.css?x=1`).
    /// The static test runs on the whole target, so a long path cut to 128 bytes keeps its class.
    pub fn set_target(&mut self, target: &str) {
        let (path, query) = match target.find('?') {
            Some(i) => (&target[..i], true),
            None => (target, false),
        };
        self.has_query = query;
        // GoAccess tests the end of the whole target, query included: `/x?f=a.css` is static there.
        self.is_static = crate::stats::is_static_path(target.as_bytes());
        fill(&mut self.path, path);
    }

    /// Fill `user_agent` and `agent_hash` from the whole header value.
    pub fn set_user_agent(&mut self, agent: &str) {
        self.agent_hash = crate::stats::hash::fast_hash(agent.as_bytes());
        fill(&mut self.user_agent, agent);
    }
}

const _: () = assert!(std::mem::size_of::<Hit>() <= 768);

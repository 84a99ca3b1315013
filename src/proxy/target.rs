//! A server URL from `loadBalancer.servers[].url`, parsed once: where to connect, which protocol,
//! and the path to keep in front of the request's when `preservePath` is set.

use std::borrow::Cow;
use std::sync::Arc;

use http::uri::{Authority, PathAndQuery, Scheme, Uri};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidServerUrl {
    #[error("`{0}` is not a URL (expected e.g. `http://127.0.0.1:8080`)")]
    Syntax(Box<str>),
    #[error("`{0}`: scheme must be http or h2c (https needs TLS, which this build lacks)")]
    Scheme(Box<str>),
    #[error("`{0}` has no host")]
    NoHost(Box<str>),
}

#[derive(Debug)]
pub struct Target {
    /// The URL as configured, for logs and the access log's ServiceURL.
    pub url: Arc<str>,
    pub authority: Authority,
    /// HTTP/2 with prior knowledge (`h2c://`).
    pub h2c: bool,
    /// The URL's path without a trailing slash; used only with `preservePath`.
    pub base_path: Box<str>,
    pub preserve_path: bool,
    /// Idle HTTP/1.1 connections to this server for requests with a body (hyper's client).
    pub pool: Arc<super::pool::Senders>,
    /// Idle HTTP/1.1 connections to this server for requests without one (`h1`).
    pub plain: Arc<super::pool::Pool<super::h1::Conn>>,
}

impl Target {
    pub fn parse(url: &str, preserve_path: bool) -> Result<Target, InvalidServerUrl> {
        let uri: Uri = url.trim().parse().map_err(|_| InvalidServerUrl::Syntax(url.into()))?;
        let h2c = match uri.scheme_str() {
            Some("http") => false,
            Some("h2c") => true,
            Some(_) => return Err(InvalidServerUrl::Scheme(url.into())),
            None => return Err(InvalidServerUrl::Syntax(url.into())),
        };
        let authority =
            uri.authority().cloned().ok_or_else(|| InvalidServerUrl::NoHost(url.into()))?;
        if authority.host().is_empty() {
            return Err(InvalidServerUrl::NoHost(url.into()));
        }
        let base_path = uri.path().trim_end_matches('/').into();
        Ok(Target {
            url: url.trim().into(),
            authority,
            h2c,
            base_path,
            preserve_path,
            pool: Default::default(),
            plain: Default::default(),
        })
    }

    /// The request's path and query behind the server's own path when `preservePath`.
    pub fn request_target<'a>(&self, path_and_query: &'a str) -> Cow<'a, str> {
        if self.preserve_path && !self.base_path.is_empty() {
            Cow::Owned(format!("{}{}", self.base_path, path_and_query))
        } else {
            Cow::Borrowed(path_and_query)
        }
    }

    /// The URI to send: the request's path and query (behind the server's own path when
    /// `preservePath`), with this server's authority for HTTP/2, origin form for HTTP/1.1.
    pub fn uri_for(&self, path_and_query: &str) -> Option<Uri> {
        let pq: PathAndQuery = self.request_target(path_and_query).parse().ok()?;
        if !self.h2c {
            return Some(Uri::from(pq));
        }
        Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_builds() {
        let t = Target::parse("http://127.0.0.1:8080/base/", true).expect("valid");
        assert_eq!(t.uri_for("/x?y=1").map(|u| u.to_string()), Some("/base/x?y=1".into()));
        let t = Target::parse("http://127.0.0.1:8080/base", false).expect("valid");
        assert_eq!(t.uri_for("/x").map(|u| u.to_string()), Some("/x".into()));
        let t = Target::parse("h2c://backend:9000", false).expect("valid");
        assert!(t.h2c);
        assert_eq!(t.uri_for("/").map(|u| u.to_string()), Some("http://backend:9000/".into()));
    }

    #[test]
    fn refuses_with_the_url() {
        assert_eq!(
            Target::parse("ftp://x", false).unwrap_err().to_string(),
            "`ftp://x`: scheme must be http or h2c (https needs TLS, which this build lacks)"
        );
        assert!(Target::parse("not a url", false).is_err());
        assert!(Target::parse("/just/a/path", false).is_err());
    }
}

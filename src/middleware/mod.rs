//! Middlewares: one file per kind, each compiled once from its configuration and run by the
//! proxy as plain data in a loop (`on_request` in order, `on_response` in reverse).
//!
//! A middleware edits the request or answers it; it never does I/O and never waits. Kinds that
//! would (forwardAuth, retry) come with their own issue and an async hook.

mod add_prefix;
mod headers;
mod redirect_scheme;
mod strip_prefix;

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri, request, response};

use crate::config::dynamic;

pub use add_prefix::AddPrefix;
pub use headers::Headers;
pub use redirect_scheme::RedirectScheme;
pub use strip_prefix::StripPrefix;

/// One compiled middleware.
#[derive(Debug)]
pub enum Middleware {
    StripPrefix(StripPrefix),
    AddPrefix(AddPrefix),
    Headers(Headers),
    RedirectScheme(RedirectScheme),
}

/// What a middleware decided about the request.
pub enum Step {
    /// Carry on down the chain.
    Next,
    /// Answer now; the rest of the chain and the service are skipped.
    Respond(Reply),
}

/// A response made by a middleware (redirects, refusals).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// A status with Go's `http.StatusText` as a plain-text body, as Traefik answers.
    pub fn status(status: StatusCode) -> Reply {
        let text = status.canonical_reason().unwrap_or("");
        Reply { status, headers: HeaderMap::new(), body: Bytes::from_static(text.as_bytes()) }
    }
}

/// Marks a request whose path a middleware emptied (`/api` stripped of `/api`). `http::Uri`
/// cannot hold an empty path, so it carries `/` and this marker; Go keeps the empty path, which
/// matters to the next middleware that prepends to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EmptyPath;

/// Facts about the request that middlewares read but do not change.
pub struct RequestCx {
    /// The client connection is TLS.
    pub tls: bool,
}

/// Why a middleware configuration was refused; the caller adds the middleware's name and origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMiddleware {
    #[error("no middleware kind is set")]
    Empty,
    #[error("more than one middleware kind is set ({0})")]
    Several(Box<str>),
    #[error("`{0}` is a Traefik middleware tollgate does not implement yet")]
    Unsupported(Box<str>),
    #[error("{kind}: {message}")]
    Value { kind: &'static str, message: Box<str> },
}

impl Middleware {
    /// Compile one `http.middlewares.<name>` entry.
    pub fn compile(model: &dynamic::Middleware) -> Result<Middleware, InvalidMiddleware> {
        // A kind (or option) tollgate lacks is refused, never skipped: skipping an auth or
        // security-header middleware would expose what it protects.
        if let Some(kind) = &model.unsupported {
            return Err(InvalidMiddleware::Unsupported(kind.as_str().into()));
        }
        if let Some(option) = model.headers.as_ref().and_then(|h| h.unsupported.as_ref()) {
            return Err(InvalidMiddleware::Unsupported(format!("headers.{option}").into()));
        }
        let mut kinds = Vec::new();
        let mut built = None;
        if let Some(cfg) = &model.strip_prefix {
            kinds.push("stripPrefix");
            built = Some(StripPrefix::compile(cfg).map(Middleware::StripPrefix));
        }
        if let Some(cfg) = &model.add_prefix {
            kinds.push("addPrefix");
            built = Some(AddPrefix::compile(cfg).map(Middleware::AddPrefix));
        }
        if let Some(cfg) = &model.headers {
            kinds.push("headers");
            built = Some(Headers::compile(cfg).map(Middleware::Headers));
        }
        if let Some(cfg) = &model.redirect_scheme {
            kinds.push("redirectScheme");
            built = Some(RedirectScheme::compile(cfg).map(Middleware::RedirectScheme));
        }
        if kinds.len() > 1 {
            return Err(InvalidMiddleware::Several(kinds.join(", ").into()));
        }
        built.unwrap_or(Err(InvalidMiddleware::Empty))
    }

    /// Request phase: edit the request, or answer it.
    pub fn on_request(&self, req: &mut request::Parts, cx: &RequestCx) -> Step {
        match self {
            Middleware::StripPrefix(m) => m.on_request(req),
            Middleware::AddPrefix(m) => m.on_request(req),
            Middleware::Headers(m) => m.on_request(req),
            Middleware::RedirectScheme(m) => m.on_request(req, cx),
        }
    }

    /// Response phase, run in reverse order for the middlewares whose request phase ran.
    pub fn on_response(&self, rsp: &mut response::Parts) {
        if let Middleware::Headers(m) = self {
            m.on_response(rsp);
        }
    }
}

/// The request URI with its path replaced and its query kept.
pub(crate) fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let mut parts = uri.clone().into_parts();
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    parts.path_and_query = Some(pq.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
pub(crate) mod test_support {
    use http::Request;

    pub(crate) fn parts(uri: &str) -> http::request::Parts {
        Request::builder().uri(uri).body(()).expect("test URI is valid").into_parts().0
    }
}

//! `redirectScheme`: sends the client to the same URL on another scheme (and port).

use http::header::{HOST, HeaderValue, LOCATION};
use http::{HeaderMap, Method, StatusCode, request};

use super::{InvalidMiddleware, Reply, RequestCx, Step};
use crate::config::dynamic;
use crate::proxy::headers::{X_FORWARDED_PROTO, host_port};

#[derive(Debug)]
pub struct RedirectScheme {
    scheme: Box<str>,
    /// `:port`, or empty when the port is the scheme's default or not given.
    port: Box<str>,
    permanent: bool,
}

impl RedirectScheme {
    pub(super) fn compile(
        cfg: &dynamic::RedirectScheme,
    ) -> Result<RedirectScheme, InvalidMiddleware> {
        if cfg.scheme.is_empty() {
            return Err(InvalidMiddleware::Value {
                kind: "redirectScheme",
                message: "you must provide a target scheme".into(),
            });
        }
        let port = match cfg.port.as_deref() {
            None | Some("") => String::new(),
            Some(p) if p.parse::<u16>().is_err() => {
                return Err(InvalidMiddleware::Value {
                    kind: "redirectScheme",
                    message: format!("port `{p}` is not a port number").into(),
                });
            }
            Some("80") if cfg.scheme == "http" => String::new(),
            Some("443") if cfg.scheme == "https" => String::new(),
            Some(p) => format!(":{p}"),
        };
        Ok(RedirectScheme {
            scheme: cfg.scheme.as_str().into(),
            port: port.into(),
            permanent: cfg.permanent,
        })
    }

    pub(super) fn on_request(&self, req: &mut request::Parts, cx: &RequestCx) -> Step {
        let host_header = request_host(req);
        let (host, port) = match host_port(&host_header) {
            Some(port) => (&host_header[..host_header.len() - port.len() - 1], format!(":{port}")),
            None => (host_header.as_str(), String::new()),
        };
        let scheme = client_scheme(&req.headers, cx.tls);
        let port = match (scheme, port.as_str()) {
            ("http", ":80") | ("https", ":443") => "",
            _ => port.as_str(),
        };
        let uri = req.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let old = format!("{scheme}://{host}{port}{uri}");
        let new = format!("{}://{host}{}{uri}", self.scheme, self.port);
        if old == new {
            return Step::Next;
        }
        let Ok(location) = HeaderValue::from_str(&new) else {
            return Step::Respond(Reply::status(StatusCode::BAD_REQUEST));
        };
        let get = req.method == Method::GET;
        let status = match (self.permanent, get) {
            (true, true) => StatusCode::MOVED_PERMANENTLY,
            (true, false) => StatusCode::PERMANENT_REDIRECT,
            (false, true) => StatusCode::FOUND,
            (false, false) => StatusCode::TEMPORARY_REDIRECT,
        };
        let mut reply = Reply::status(status);
        reply.headers.insert(LOCATION, location);
        Step::Respond(reply)
    }
}

/// The Host the client asked for: the Host header, else the HTTP/2 authority.
fn request_host(req: &request::Parts) -> String {
    req.headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default()
}

/// The scheme the client used, as far as this hop knows: TLS, or a (trusted, by now)
/// `X-Forwarded-Proto`.
fn client_scheme(headers: &HeaderMap, tls: bool) -> &'static str {
    let forwarded = headers.get(&X_FORWARDED_PROTO).and_then(|v| v.to_str().ok()).unwrap_or("");
    if forwarded.eq_ignore_ascii_case("https") || forwarded.eq_ignore_ascii_case("wss") {
        "https"
    } else if forwarded.eq_ignore_ascii_case("http") || forwarded.eq_ignore_ascii_case("ws") {
        "http"
    } else if tls {
        "https"
    } else {
        "http"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::test_support::parts;

    fn redirect(
        scheme: &str,
        port: Option<&str>,
        permanent: bool,
        host: &str,
        method: Method,
    ) -> Option<(u16, String)> {
        let m = RedirectScheme::compile(&dynamic::RedirectScheme {
            scheme: scheme.into(),
            port: port.map(str::to_owned),
            permanent,
        })
        .expect("valid");
        let mut req = parts("/a?b=c");
        req.method = method;
        req.headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        match m.on_request(&mut req, &RequestCx { tls: false }) {
            Step::Next => None,
            Step::Respond(r) => {
                Some((r.status.as_u16(), r.headers[LOCATION].to_str().unwrap().to_owned()))
            }
        }
    }

    #[test]
    fn redirects_like_traefik() {
        assert_eq!(
            redirect("https", None, true, "example.com", Method::GET),
            Some((301, "https://example.com/a?b=c".into()))
        );
        assert_eq!(
            redirect("https", None, true, "example.com:8080", Method::POST),
            Some((308, "https://example.com/a?b=c".into()))
        );
        assert_eq!(
            redirect("https", Some("8443"), false, "example.com", Method::GET),
            Some((302, "https://example.com:8443/a?b=c".into()))
        );
        assert_eq!(
            redirect("https", Some("443"), false, "[::1]:80", Method::PUT),
            Some((307, "https://[::1]/a?b=c".into()))
        );
        assert_eq!(redirect("http", None, false, "example.com", Method::GET), None);
    }
}

//! `headers`: custom request and response headers (an empty value removes the header). The
//! security-header options arrive with the full middleware issue.

use http::header::{HOST, HeaderName, HeaderValue};
use http::{request, response};

use super::{InvalidMiddleware, Step};
use crate::config::dynamic;

/// One header edit: set to a value, or remove (Traefik's empty value).
type Edit = (HeaderName, Option<HeaderValue>);

#[derive(Debug)]
pub struct Headers {
    request: Box<[Edit]>,
    response: Box<[Edit]>,
}

impl Headers {
    pub(super) fn compile(cfg: &dynamic::Headers) -> Result<Headers, InvalidMiddleware> {
        Ok(Headers {
            request: compile_edits("customRequestHeaders", &cfg.custom_request_headers)?,
            response: compile_edits("customResponseHeaders", &cfg.custom_response_headers)?,
        })
    }

    pub(super) fn on_request(&self, req: &mut request::Parts) -> Step {
        apply(&self.request, &mut req.headers);
        // A custom Host also becomes the authority the request is forwarded with.
        Step::Next
    }

    pub(super) fn on_response(&self, rsp: &mut response::Parts) {
        apply(&self.response, &mut rsp.headers);
    }
}

fn compile_edits(
    key: &'static str,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<Box<[Edit]>, InvalidMiddleware> {
    let invalid =
        |message: String| InvalidMiddleware::Value { kind: "headers", message: message.into() };
    headers
        .iter()
        .map(|(name, value)| {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("{key}: `{name}` is not a valid header name")))?;
            let value = if value.is_empty() {
                None
            } else {
                Some(HeaderValue::from_str(value).map_err(|_| {
                    invalid(format!("{key}: the value of `{name}` is not a valid header value"))
                })?)
            };
            Ok((header, value))
        })
        .collect()
}

fn apply(edits: &[Edit], headers: &mut http::HeaderMap) {
    for (name, value) in edits {
        match value {
            Some(value) => {
                headers.insert(name.clone(), value.clone());
            }
            None if *name == HOST => {}
            None => {
                headers.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::test_support::parts;

    #[test]
    fn sets_and_removes() {
        let cfg = dynamic::Headers {
            custom_request_headers: [
                ("X-Env".to_string(), "prod".to_string()),
                ("X-Drop".to_string(), String::new()),
            ]
            .into(),
            custom_response_headers: [("X-Served-By".to_string(), "edge".to_string())].into(),
            unsupported: None,
        };
        let m = Headers::compile(&cfg).expect("valid");
        let mut req = parts("/");
        req.headers.insert("x-drop", HeaderValue::from_static("1"));
        m.on_request(&mut req);
        assert_eq!(req.headers["x-env"], "prod");
        assert!(!req.headers.contains_key("x-drop"));
        let (mut rsp, ()) = http::Response::new(()).into_parts();
        m.on_response(&mut rsp);
        assert_eq!(rsp.headers["x-served-by"], "edge");
    }

    #[test]
    fn refuses_bad_names() {
        let cfg = dynamic::Headers {
            custom_request_headers: [("Bad Name".to_string(), "x".to_string())].into(),
            ..Default::default()
        };
        let err = Headers::compile(&cfg).expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "headers: customRequestHeaders: `Bad Name` is not a valid header name"
        );
    }
}

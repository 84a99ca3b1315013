//! `stripPrefix`: removes the first matching prefix from the path and records it in
//! `X-Forwarded-Prefix`.

use http::HeaderValue;
use http::request;

use super::{InvalidMiddleware, Reply, Step, with_path};
use crate::config::dynamic;

#[derive(Debug)]
pub struct StripPrefix {
    prefixes: Box<[Box<str>]>,
    force_slash: bool,
}

impl StripPrefix {
    pub(super) fn compile(cfg: &dynamic::StripPrefix) -> Result<StripPrefix, InvalidMiddleware> {
        if cfg.prefixes.is_empty() {
            return Err(InvalidMiddleware::Value {
                kind: "stripPrefix",
                message: "prefixes is empty".into(),
            });
        }
        Ok(StripPrefix {
            prefixes: cfg.prefixes.iter().map(|p| p.trim().into()).collect(),
            force_slash: cfg.force_slash.unwrap_or(false),
        })
    }

    pub(super) fn on_request(&self, req: &mut request::Parts) -> Step {
        let raw = req.uri.path();
        for prefix in self.prefixes.iter() {
            let Some(rest) = strip_decoded(raw, prefix) else { continue };
            let stripped = if self.force_slash {
                format!("/{}", rest.trim_start_matches('/'))
            } else if rest.is_empty() || rest.starts_with('/') {
                rest.to_owned()
            } else {
                format!("/{rest}")
            };
            // Traefik refuses a result that cleaning would change (`/api//x` stripped of `/api`
            // is `//x`): the backend would see a path the router never matched.
            if stripped.is_empty() {
                // Go keeps an empty path (sent as `/`); a later addPrefix must see it empty.
                req.extensions.insert(super::EmptyPath);
            }
            let stripped = if stripped.is_empty() { "/".to_owned() } else { stripped };
            if crate::rule::clean_path(&stripped) != stripped.as_str() {
                return Step::Respond(Reply::status(http::StatusCode::BAD_REQUEST));
            }
            let Some(uri) = with_path(&req.uri, &stripped) else {
                return Step::Respond(Reply::status(http::StatusCode::BAD_REQUEST));
            };
            req.uri = uri;
            if let Ok(value) = HeaderValue::from_str(prefix) {
                req.headers.append(crate::proxy::headers::X_FORWARDED_PREFIX.clone(), value);
            }
            break;
        }
        Step::Next
    }
}

/// `raw` (percent-encoded) without `prefix` (compared decoded, as Traefik compares against the
/// decoded path), or `None` when it does not start with it.
fn strip_decoded<'a>(raw: &'a str, prefix: &str) -> Option<&'a str> {
    let raw_bytes = raw.as_bytes();
    let mut i = 0;
    for &want in prefix.as_bytes() {
        let (byte, width) = match raw_bytes.get(i)? {
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                (u8::from_str_radix(hex, 16).ok()?, 3)
            }
            &b => (b, 1),
        };
        if byte != want {
            return None;
        }
        i += width;
    }
    Some(&raw[i..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::test_support::parts;

    fn strip(prefixes: &[&str], uri: &str) -> (String, Option<String>, bool) {
        let m = StripPrefix::compile(&dynamic::StripPrefix {
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
            force_slash: None,
        })
        .expect("valid");
        let mut req = parts(uri);
        let refused = matches!(m.on_request(&mut req), Step::Respond(_));
        let prefix = req.headers.get("x-forwarded-prefix").map(|v| v.to_str().unwrap().to_owned());
        (req.uri.to_string(), prefix, refused)
    }

    #[test]
    fn strips_first_matching_prefix() {
        assert_eq!(
            strip(&["/api", "/a"], "/api/users?x=1"),
            ("/users?x=1".into(), Some("/api".into()), false)
        );
        assert_eq!(strip(&["/api"], "/api"), ("/".into(), Some("/api".into()), false));
        assert_eq!(strip(&["/api"], "/apiv2"), ("/v2".into(), Some("/api".into()), false));
        assert_eq!(strip(&["/api"], "/other"), ("/other".into(), None, false));
        assert_eq!(strip(&["/a b"], "/a%20b/c"), ("/c".into(), Some("/a b".into()), false));
    }

    #[test]
    fn refuses_a_result_that_is_not_clean() {
        assert!(strip(&["/api"], "/api//x").2);
    }
}

//! `addPrefix`: puts a prefix in front of the path.

use http::request;

use super::{InvalidMiddleware, Reply, Step, with_path};
use crate::config::dynamic;

#[derive(Debug)]
pub struct AddPrefix {
    prefix: Box<str>,
}

impl AddPrefix {
    pub(super) fn compile(cfg: &dynamic::AddPrefix) -> Result<AddPrefix, InvalidMiddleware> {
        if cfg.prefix.is_empty() {
            return Err(InvalidMiddleware::Value {
                kind: "addPrefix",
                message: "prefix cannot be empty".into(),
            });
        }
        Ok(AddPrefix { prefix: cfg.prefix.as_str().into() })
    }

    pub(super) fn on_request(&self, req: &mut request::Parts) -> Step {
        let path =
            if req.extensions.remove::<super::EmptyPath>().is_some() { "" } else { req.uri.path() };
        let joined = format!("{}{}", self.prefix, path);
        let path = if joined.starts_with('/') { joined } else { format!("/{joined}") };
        match with_path(&req.uri, &path) {
            Some(uri) => {
                req.uri = uri;
                Step::Next
            }
            None => Step::Respond(Reply::status(http::StatusCode::BAD_REQUEST)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::test_support::parts;

    #[test]
    fn prefixes_the_path_and_keeps_the_query() {
        let m = AddPrefix::compile(&dynamic::AddPrefix { prefix: "/v1".into() }).expect("valid");
        let mut req = parts("/users?id=2");
        assert!(matches!(m.on_request(&mut req), Step::Next));
        assert_eq!(req.uri, "/v1/users?id=2");
        let m = AddPrefix::compile(&dynamic::AddPrefix { prefix: "v1".into() }).expect("valid");
        let mut req = parts("/x");
        m.on_request(&mut req);
        assert_eq!(req.uri, "/v1/x");
        assert!(AddPrefix::compile(&dynamic::AddPrefix { prefix: String::new() }).is_err());
    }
}

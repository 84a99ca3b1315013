//! Configuration errors and warnings. Each says where (`file:line:col` or the flag), the key path,
//! and what is wrong, on one line; the wording is user interface and is tested.

use std::fmt;

use super::origin::Origin;

/// One configuration problem: where, which key, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where it was written; `None` when nothing was written (a required key is missing in a
    /// source without positions) or for whole-file problems, which name the file in `kind`.
    pub origin: Option<Origin>,
    /// Key path such as `entryPoints.web.address`; empty at the top.
    pub path: Box<str>,
    pub kind: ConfigErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigErrorKind {
    /// The YAML or TOML text itself does not parse.
    #[error("{0}")]
    Syntax(Box<str>),
    /// A key neither tollgate nor Traefik v3 has.
    #[error("unknown key `{key}`{}", did_you_mean(suggestion.as_deref()))]
    UnknownKey { key: Box<str>, suggestion: Option<Box<str>> },
    /// A value the model cannot take (`1x` for a duration, a list where text is wanted).
    #[error("{0}")]
    Value(Box<str>),
    /// A value of the right type that is still wrong (an address without a port, …).
    #[error("{0}")]
    Invalid(Box<str>),
    /// Command-line flag syntax.
    #[error("{0}")]
    Flag(Box<str>),
    /// A file or directory that cannot be read.
    #[error("cannot read `{path}`: {reason}")]
    Read { path: Box<str>, reason: Box<str> },
    /// Nesting or alias expansion past the fixed limits.
    #[error("{0}")]
    Limit(Box<str>),
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

impl ConfigError {
    pub(crate) fn new(
        origin: Option<Origin>,
        path: impl Into<Box<str>>,
        kind: ConfigErrorKind,
    ) -> Self {
        ConfigError { origin, path: path.into(), kind }
    }

    pub(crate) fn at(origin: &Origin, path: &str, kind: ConfigErrorKind) -> Self {
        ConfigError { origin: Some(origin.clone()), path: path.into(), kind }
    }

    pub(crate) fn read(path: &std::path::Path, error: &std::io::Error) -> Self {
        let kind = ConfigErrorKind::Read {
            path: path.display().to_string().into(),
            reason: error.to_string().into(),
        };
        ConfigError { origin: None, path: "".into(), kind }
    }

    /// Fills in where, unless an inner layer already did (the innermost knows best).
    pub(crate) fn locate(mut self, origin: &Origin, path: &str) -> Self {
        if self.origin.is_none() {
            self.origin = Some(origin.clone());
            if self.path.is_empty() {
                self.path = path.into();
            }
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "{origin}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ConfigError {}

/// The serde side: messages from models' `Deserialize` impls arrive without a place; the decoder
/// adds it with [`ConfigError::locate`].
impl serde::de::Error for ConfigError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ConfigError::new(None, "", ConfigErrorKind::Value(msg.to_string().into()))
    }
}

/// Every problem found in one load, in the order found. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Something accepted but worth telling the operator, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub origin: Option<Origin>,
    /// Key path; empty at the top or for whole-file warnings.
    pub path: Box<str>,
    pub kind: WarningKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarningKind {
    /// A Traefik v3 key tollgate does not implement yet; the whole subtree is ignored.
    #[error("`{key}` is a Traefik option tollgate does not implement yet; ignored")]
    NotImplemented { key: Box<str> },
    /// A Traefik key that changes what a middleware or service does, not implemented yet: the
    /// model records it (`unsupported`) so whatever uses that middleware or service is rejected.
    #[error("`{key}` is not implemented by tollgate yet; routers using this {what} are rejected")]
    Unsupported { key: Box<str>, what: &'static str },
    /// A top-level key no one knows; Traefik ignores those, so tollgate does too.
    #[error("unknown top-level key `{key}` ignored{}", did_you_mean(suggestion.as_deref()))]
    UnknownTopLevel { key: Box<str>, suggestion: Option<Box<str>> },
    /// The same router/service/middleware name in two files of one provider: the first one
    /// (in Traefik's file order) is kept, as Traefik does.
    #[error("{what} `{name}` is already defined at {first}; this definition is skipped")]
    Duplicate { what: &'static str, name: Box<str>, first: Origin },
    /// The file provider's directory does not exist (yet): no dynamic configuration from it.
    #[error("directory `{path}` does not exist; no dynamic configuration read from it")]
    MissingDirectory { path: Box<str> },
    /// Go templates in dynamic files are not rendered.
    #[error("`{{{{` found: Go templates in dynamic files are not rendered by tollgate")]
    Template,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "{origin}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_reads_origin_path_message() {
        let origin = Origin::File { file: "traefik.yml".into(), line: 12, col: 7 };
        let e = ConfigError::at(
            &origin,
            "entryPoints.web.transport.respondingTimeouts.readTimeout",
            ConfigErrorKind::Value("`1x` is not a duration".into()),
        );
        assert_eq!(
            e.to_string(),
            "traefik.yml:12:7: entryPoints.web.transport.respondingTimeouts.readTimeout: \
             `1x` is not a duration"
        );
        let e = ConfigError::new(
            Some(origin),
            "log",
            ConfigErrorKind::UnknownKey { key: "lvel".into(), suggestion: Some("level".into()) },
        );
        assert_eq!(
            e.to_string(),
            "traefik.yml:12:7: log: unknown key `lvel` (did you mean `level`?)"
        );
    }

    #[test]
    fn locate_keeps_the_innermost_place() {
        let inner = Origin::Flag("--a=1".into());
        let outer = Origin::Flag("--b=2".into());
        let e = <ConfigError as serde::de::Error>::custom("bad")
            .locate(&inner, "a")
            .locate(&outer, "b");
        assert_eq!(e.to_string(), "flag `--a=1`: a: bad");
    }
}

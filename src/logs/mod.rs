//! Access logs: writing Traefik-format lines for the proxy, and reading existing logs (Traefik,
//! nginx, Apache, Caddy, custom GoAccess-style formats) into `Hit`s for the offline report.
//!
//! Reading never allocates per line on the CLF path and never panics on input: a line that does
//! not parse becomes a `LineError` naming the column and what was wrong; callers add the file and
//! line number.

mod date;
mod detect;
mod format;
pub mod generate;
mod json;
mod writer;

pub use detect::{Format, detect};
pub use format::{COMBINED, COMMON, InvalidFormat, LogFormat, TRAEFIKCLF, VCOMBINED, VCOMMON};
pub(crate) use writer::push_u64;
pub use writer::{AccessLog, AccessLogError, AccessRecord, DEFAULT_QUEUE, Header};

/// Why one log line did not parse. The wording is shown to users: see the tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("column {col}: line ended before `%{spec}`")]
    Ended { col: usize, spec: char },
    #[error("column {col}: `{token}` is not a valid {what}")]
    Token { col: usize, what: &'static str, token: String },
    #[error("no {what}")]
    Missing { what: &'static str },
    #[error("column {col}: invalid JSON: {msg}")]
    Json { col: usize, msg: String },
}

//! tollgate's own log (not the access log), at `log.level`, to one of:
//!
//! - **journald**, natively (structured fields, `SYSLOG_IDENTIFIER=tollgate`), when
//!   `$JOURNAL_STREAM` names our standard error (systemd connected it to the journal) or
//!   `log.format` is `journald`;
//! - **JSON lines** with `log.format: json`;
//! - **readable lines** otherwise (`log.format: common`, Traefik's default);
//!
//! on standard error, or appended to `log.filePath` when set (a file path wins over
//! `$JOURNAL_STREAM`: the operator asked for a file). If the journal socket cannot be reached,
//! lines go to standard error and one warning says why.
//!
//! Dependencies' logs are kept at WARN so DEBUG shows tollgate's decisions, not hyper's. Nothing
//! logs per request at INFO (the access log and the stats engine are for that), so neither the
//! journal nor an SD card fills with traffic.
//!
//! Journal fields: a tracing field `router`, `service`, `entrypoint`, `provider`, `error` becomes
//! `ROUTER`, `SERVICE`, `ENTRYPOINT`, `PROVIDER`, `ERROR` (tracing-journald upper-cases names,
//! turns `.` into `_`, and would prefix `F_`, which is switched off so that
//! `journalctl ROUTER=api@file` works). Field names must therefore not collide with journald's
//! own (`MESSAGE`, `PRIORITY`, `SYSLOG_*`, `CODE_*`, `TARGET`, `ERRNO`).

pub(crate) mod json;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd as _;
use std::os::unix::fs::MetadataExt as _;
use std::sync::Mutex;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::static_config::Log;

pub use json::JsonLines;

/// The journal's `SYSLOG_IDENTIFIER`.
pub const SYSLOG_IDENTIFIER: &str = "tollgate";

/// Where the log went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Journald,
    Stderr,
    File(String),
}

/// Traefik's level names (FATAL and PANIC log errors only).
pub fn level(name: &str) -> LevelFilter {
    match name.to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" | "WARNING" => LevelFilter::WARN,
        _ => LevelFilter::ERROR,
    }
}

/// Install the subscriber. Call once, before anything logs. Returns where the log goes.
///
/// The subscriber is the registry, one global filter, and three optional layers of which exactly
/// one is present: static types, so nothing is dispatched through a vtable, and a global filter
/// rather than per-layer filters (smaller; there is only one output).
pub fn init(log: &Log) -> Destination {
    let level = level(&log.level);
    let filter =
        Targets::new().with_default(level.min(LevelFilter::WARN)).with_target("tollgate", level);
    let format = log.format.to_ascii_lowercase();
    let path = log.file_path.as_deref().filter(|p| !p.is_empty());
    let mut trouble: Option<String> = None;

    let mut journal = None;
    if format == "journald" || (path.is_none() && stderr_is_journal()) {
        match journald() {
            Ok(layer) => journal = Some(layer),
            Err(err) => {
                trouble =
                    Some(format!("cannot reach the journal ({err}); logging to standard error"))
            }
        }
    }
    let (mut json, mut readable, mut destination) = (None, None, Destination::Journald);
    if journal.is_none() {
        let writer = match path.map(open_append) {
            Some(Ok(file)) => {
                destination = Destination::File(path.unwrap_or_default().to_owned());
                BoxMakeWriter::new(Mutex::new(file))
            }
            Some(Err(err)) => {
                trouble = Some(format!(
                    "cannot open log.filePath {}: {err}; logging to standard error",
                    path.unwrap_or_default()
                ));
                destination = Destination::Stderr;
                BoxMakeWriter::new(io::stderr)
            }
            None => {
                destination = Destination::Stderr;
                BoxMakeWriter::new(io::stderr)
            }
        };
        if format == "json" {
            json = Some(JsonLines::new(writer));
        } else {
            readable = Some(tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false));
        }
    }
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(journal)
        .with(json)
        .with(readable)
        .try_init();
    if let Some(trouble) = trouble {
        tracing::warn!("{trouble}");
    }
    destination
}

/// The native journal protocol, with tollgate's field names.
fn journald() -> io::Result<tracing_journald::Layer> {
    Ok(tracing_journald::layer()?
        .with_field_prefix(None)
        .with_syslog_identifier(SYSLOG_IDENTIFIER.to_owned()))
}

fn open_append(path: &str) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Whether systemd connected our standard error to the journal: `$JOURNAL_STREAM` is
/// `DEVICE:INODE` of that stream, and it is inherited by children whose stderr may since have
/// been redirected, so it counts only when it matches what fd 2 is now (`systemd.exec(5)`).
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = parse_journal_stream(&value.to_string_lossy()) else { return false };
    // fstat of a duplicate of fd 2: std offers no safe fstat on a borrowed descriptor.
    let meta = io::stderr().as_fd().try_clone_to_owned().and_then(|fd| File::from(fd).metadata());
    matches!(meta, Ok(m) if m.dev() == dev && m.ino() == ino)
}

/// `$JOURNAL_STREAM`: `DEVICE:INODE`, both decimal.
pub fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_device_colon_inode() {
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("0:0"), Some((0, 0)));
        assert_eq!(parse_journal_stream("8-12345"), None);
        assert_eq!(parse_journal_stream("8:"), None);
        assert_eq!(parse_journal_stream(":1"), None);
        assert_eq!(parse_journal_stream("x:1"), None);
    }

    #[test]
    fn traefik_level_names() {
        assert_eq!(level("debug"), LevelFilter::DEBUG);
        assert_eq!(level("WARNING"), LevelFilter::WARN);
        assert_eq!(level("PANIC"), LevelFilter::ERROR);
        assert_eq!(level("Info"), LevelFilter::INFO);
    }
}

//! tollgate's own log (not the access log): readable lines on standard error at `log.level`.
//! Dependencies' logs are kept at WARN so DEBUG shows tollgate's decisions, not hyper's.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::static_config::Log;

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

/// Install the subscriber. Call once, before anything logs.
pub fn init(log: &Log) {
    let level = level(&log.level);
    let filter =
        Targets::new().with_default(level.min(LevelFilter::WARN)).with_target("tollgate", level);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false);
    let _ = tracing_subscriber::registry().with(filter).with(fmt).try_init();
}

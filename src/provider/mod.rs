//! Providers: where dynamic configuration comes from at run time, and how the configurations of
//! several providers are merged. Each provider emits its whole configuration (never a diff) as a
//! [`ProviderUpdate`] on a bounded tokio channel; the aggregator keeps each provider's last good
//! configuration and decides what runs.
//!
//! A provider never touches the running router, and never sends a half-read configuration: a
//! file that fails to parse is sent as an error, and the receiver keeps the last good one.

pub mod aggregate;
mod file;

pub use aggregate::{Aggregate, qualify_config};
pub use file::{FileProviderHandle, PROVIDER_NAME as FILE_PROVIDER, spawn_file_provider};

use crate::config::{ConfigErrors, Loaded};

/// One provider's news: a whole new configuration, or why the newest one was rejected.
#[derive(Debug, Clone)]
pub struct ProviderUpdate {
    /// The provider's name, as in `name@provider` (`"file"`).
    pub provider: &'static str,
    /// `Ok`: this is the provider's configuration now. `Err`: the files changed but do not load
    /// (each error has file:line:col); keep serving the provider's last good configuration.
    pub result: Result<Loaded, ConfigErrors>,
}

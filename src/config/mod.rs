//! Configuration: the static model (entry points, providers, log, …), the dynamic model
//! (routers, services, middlewares) and loading both from YAML, TOML and Traefik-style flags with
//! errors that name file, line and column.
//!
//! This module reads and checks input; it never binds a port, compiles a rule or touches a
//! running router. Compiled forms live with the code that uses them (`proxy`, `rule`).
//!
//! How loading works (docs/CONFIG.md has the reasons): each source becomes a tree of positioned
//! nodes (`node`, from `yaml`, `toml_file`, `flags`); a serde deserializer over that tree (`de`)
//! fills the plain `Deserialize` models with Traefik's rules (case-insensitive field names,
//! text-to-type conversion, comma lists), consulting `known` for Traefik keys not implemented.

mod address;
mod de;
mod duration;
pub mod dynamic;
mod error;
mod files;
mod flags;
mod known;
mod load;
mod node;
mod origin;
mod source;
pub mod static_config;
mod toml_file;
mod yaml;

pub use address::{InvalidAddress, ListenAddress, parse_address};
pub use duration::{Duration, InvalidDuration};
pub use dynamic::DynamicConfig;
pub use error::{ConfigError, ConfigErrorKind, ConfigErrors, Warning, WarningKind};
pub use files::{
    Loaded, Origins, load_dynamic_dir, load_dynamic_file, load_file_provider, parse_dynamic,
};
pub use load::{
    DEFAULT_STATIC, DEFAULT_STATIC_NAME, SEARCH_PATHS, StaticMeta, StaticSource, load_static,
    load_static_with, parse_static,
};
pub use origin::Origin;
pub use static_config::StaticConfig;

#[cfg(test)]
mod tests;

//! Configuration: the static model (entry points, providers, log, …), the dynamic model
//! (routers, services, middlewares) and loading both from YAML, TOML and Traefik-style flags with
//! errors that name file, line and column.
//!
//! This module reads and checks input; it never binds a port, compiles a rule or touches a
//! running router. Compiled forms live with the code that uses them (`proxy`, `rule`).

mod duration;
pub mod dynamic;
pub mod static_config;

pub use duration::{Duration, InvalidDuration};
pub use dynamic::DynamicConfig;
pub use static_config::StaticConfig;

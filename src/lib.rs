//! tollgate: a Traefik-compatible edge router with a built-in GoAccess-style traffic report, in
//! one static binary for small boards. `docs/ARCHITECTURE.md` maps the modules to the data flow.

pub mod config;
pub mod logs;
pub mod report;
pub mod rule;
pub mod stats;

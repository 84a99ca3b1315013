//! tollgate: a Traefik-compatible edge router with a built-in GoAccess-style traffic report, in
//! one static binary for small boards. `docs/ARCHITECTURE.md` maps the modules to the data flow.

#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)] // FFI into mimalloc; src/allocator.rs says why each call is sound.
pub mod allocator;
pub mod check;
pub mod config;
#[allow(unsafe_code)] // one prctl call with integer arguments.
pub mod hugepages;
pub mod logging;
pub mod logs;
#[allow(unsafe_code)] // raw copies and compares; each unsafe block says why it is sound.
pub mod memops;
pub mod middleware;
pub mod provider;
pub mod proxy;
pub mod report;
pub mod rule;
pub mod runtime;
pub mod stats;
pub mod systemd;
pub mod web;

//! The router rule language: Traefik v3 rules, and v2 rules for routers that ask for them.
//!
//! Owns parsing (`parse`), compiled matchers (`Rule`), the per-request view they read
//! (`RequestView`), Traefik's routing path (`routing_path`) and the ordered routers of an entry
//! point (`RuleSet`). Everything is compiled once per configuration; matching only reads.
//!
//! Depends on nothing else in the crate, and never does I/O.
//!
//! The reference is Traefik itself (`pkg/rules`, `pkg/muxer/http`, gorilla/mux for v2, Go's
//! `regexp` and `net/url`); each file says which part it follows. docs/RULES.md has the overview.

mod compiled;
mod error;
mod goregex;
mod host;
mod ip;
mod lexer;
mod matchers;
mod parser;
mod path;
mod query;
mod scratch;
mod set;
mod template;
mod v2;
mod v3;

#[cfg(test)]
mod tests;

pub use compiled::{InvalidSyntax, Rule, Syntax, parse};
pub use error::{PathError, RuleError};
pub use matchers::RequestView;
pub use path::{RequestPaths, clean_path, request_paths, routing_path, routing_path_with};
pub use set::{
    DEFAULT_PROVIDER_PRECEDENCE, MAX_USER_PRIORITY, RuleSet, RuleSetBuilder, RuleSetError,
};

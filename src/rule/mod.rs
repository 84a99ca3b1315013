//! The router rule language (Traefik v3, and v2 on request): parsing and compiled matchers.
//!
//! Depends on nothing else in the crate.

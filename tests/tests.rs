//! Integration tests: the real binary on loopback with real backends.

mod rules_vs_traefik;
mod traefik;

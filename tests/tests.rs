//! Integration tests: the real binary on loopback with real backends.

mod config_traefik;

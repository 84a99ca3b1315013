// Test helpers are `pub` so every test module can reach them; nothing is exported.
#![allow(unreachable_pub)]

//! Integration tests: the real binary on loopback with real backends. One test binary, so the
//! crate links once; each area is a module.

mod util;

mod check;
mod config_traefik;
mod inbound;
mod lifecycle;
mod live_stats;
mod proxy;
mod proxy_h1;
mod proxy_vs_traefik;
mod report_cli;
mod report_goaccess;
mod report_html;
mod report_util;
mod rules_vs_traefik;
mod streams;
mod systemd_activation;
mod systemd_journal;
mod systemd_notify;
mod systemd_units;
mod traefik;

//! Integration tests: the real binary on loopback with real backends.

mod report_cli;
mod report_goaccess;
mod report_html;
mod report_util;

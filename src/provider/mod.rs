//! Providers: where dynamic configuration comes from (the file provider; Docker comes with its
//! own issue), and how the configurations of several providers are merged.
//!
//! A provider emits whole configurations; it never touches the route table itself.

pub mod aggregate;

pub use aggregate::{Aggregate, qualify_config};

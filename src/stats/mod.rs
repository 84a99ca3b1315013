//! Bounded-memory traffic statistics. Depends on nothing else in the crate.

mod hit;

pub use hit::{Hit, Method, Protocol, Text, TlsVersion, fill};

//! The proxy: entry points, the compiled route table, forwarding, load balancing, health checks
//! and upgrades.
//!
//! Owns the request path. It reads a published `RouteTable` and never waits on providers, stats
//! or disk: finished requests leave through a `HitSink` that never blocks.

mod balancer;
pub mod body;
pub mod client;
pub mod entrypoint;
mod finish;
mod forward;
mod framing;
#[doc(hidden)]
pub use framing::fuzzing as framing_fuzzing;
mod h1;
#[doc(hidden)]
pub use h1::chunked::decode_in_pieces as chunked_fuzzing;
#[doc(hidden)]
pub use h1::head::parse_in_pieces as head_fuzzing;
mod handler;
mod hash;
pub mod headers;
mod health;
mod inbound;
#[doc(hidden)]
pub use inbound::request::parse_in_pieces as inbound_fuzzing;
pub mod ipnet;
mod pool;
mod service;
mod sticky;
mod table;
mod target;
mod trail;

pub use entrypoint::{ConnSettings, Connections, ListenError, bind, serve};
pub use finish::HitSink;
pub use handler::{EntryPointRt, Shared};
pub use table::{
    CompileError, CompileInput, Compiled, Element, EntryPointSpec, Locate, Nowhere, RouteTable,
    compile, entrypoint_specs, qualify,
};

//! Bounded-memory traffic statistics: the engine that counts finished requests (`Hit`s) in
//! fixed-size rings, top-k summaries, HyperLogLog sketches and histograms, its snapshots, the
//! live task the proxy feeds, and the plain `ReportData` the renderers read.
//!
//! Depends on nothing else in the crate. Never grows with traffic: every structure's size comes
//! from `StatsConfig` when the engine is built.

mod anon;
mod classify;
mod config;
mod engine;
pub mod hash;
mod histogram;
mod hit;
mod hll;
mod live;
mod series;
pub mod snapshot;
mod time;
mod topk;
mod view;
#[allow(unsafe_code)] // one zeroed allocation; zeroed.rs says why it is sound.
mod zeroed;

pub use anon::anonymize;
pub use classify::{
    Agent, BROWSER_FAMILIES, OS_FAMILIES, STATIC_EXTENSIONS, classify, is_static_path,
};
pub use config::StatsConfig;
pub use engine::{
    Count, Engine, KeyMode, Latency, METHODS, Outside, PROTOCOLS, TLS_VERSIONS, referring_site,
};
pub use hash::VisitorKey;
pub use histogram::Histogram;
pub use hit::{Hit, Method, Protocol, Text, TlsVersion, fill};
pub use hll::Hll;
pub use live::{HitSender, StatsHandle, StatsReader, spawn};
pub use series::{Bucket, Ring};
pub use time::{MS_PER_DAY, civil_from_days, datetime, day_clf, day_key, days_from_civil};
pub use topk::{Entry, TopK};
pub use view::{General, Item, LatencyRow, Panel, ReportData, SHOWN, day_of};

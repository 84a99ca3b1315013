//! `StatsConfig`: the engine's capacities. Every structure's size comes from here, so the
//! engine's memory is fixed when it is built, whatever the traffic.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct StatsConfig {
    /// Keep only the network part of client addresses (IPv4 /24, IPv6 /48). Default true.
    pub anonymize_ip: bool,
    /// Hits queued between the proxy and the engine before new ones are dropped. Default 4096
    /// (a boxed 720-byte record per queued hit: 2.8 MiB at worst under overload).
    pub channel_capacity: usize,
    /// Slots per top-k panel (requests, static, 404, hosts, browsers, OS, crawlers, virtual hosts,
    /// referrers, referring sites). Default 512; the count error is at most hits / topK.
    pub top_k: usize,
    /// Per-minute buckets (default 2880 = 48 h), per-hour (1440 = 60 days), per-day (366).
    pub minutes: usize,
    pub hours: usize,
    pub days: usize,
    /// Days whose visitor sketch is kept whole (older days keep only their estimate). Default 31.
    pub visitor_days: usize,
    /// HyperLogLog precision p: 2^p bytes per day, standard error 1.04/sqrt(2^p). Default 14
    /// (16 KiB, 0.81 %).
    pub visitor_precision: u8,
    /// Routers and services with their own latency histogram; later ones share "(other)".
    /// Default 64 each.
    pub routers: usize,
    pub services: usize,
    /// Classified user agents remembered (direct-mapped by hash). Default 1024.
    pub agent_cache: usize,
    /// How often the live engine writes its snapshot. Default 60 s.
    pub snapshot_interval: Duration,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            anonymize_ip: true,
            channel_capacity: 4096,
            top_k: 512,
            minutes: 2880,
            hours: 1440,
            days: 366,
            visitor_days: 31,
            visitor_precision: 14,
            routers: 64,
            services: 64,
            agent_cache: 1024,
            snapshot_interval: Duration::from_secs(60),
        }
    }
}

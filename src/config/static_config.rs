//! The static configuration as written: Traefik v3 key names, nothing compiled, no I/O.
//!
//! Field docs name the Traefik key and its default. Defaults are applied by `Default` impls and
//! `#[serde(default)]`, so a missing key behaves exactly as in Traefik.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Duration;

/// The whole static configuration (Traefik's `traefik.yml`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct StaticConfig {
    /// `entryPoints.<name>`: the listeners. Traefik's default with none is `http` on `:80`;
    /// tollgate's embedded default (see `config::DEFAULT_STATIC`) binds unprivileged ports.
    pub entry_points: BTreeMap<String, EntryPoint>,
    /// `providers`: where dynamic configuration comes from.
    pub providers: Providers,
    /// `log`: tollgate's own log (not the access log).
    pub log: Log,
    /// `core`
    pub core: Core,
    /// `ping`: present (even empty) serves `/ping` on its entry point, as in Traefik.
    pub ping: Option<Ping>,
    /// `report`: tollgate's own key. Present (even empty), the live traffic report is served
    /// at `/report` (HTML), `/report.json`, `/report.csv` and `/report.txt` on its entry point.
    pub report: Option<ReportEndpoint>,
    /// `accessLog`: present (even empty) turns the access log on, as in Traefik.
    pub access_log: Option<AccessLog>,
    /// `stats`: tollgate's own section, the bounded-memory traffic statistics.
    pub stats: StatsSection,
    /// `stateDirectory`: tollgate's own key, where snapshots live. Default: `$STATE_DIRECTORY`
    /// (set by systemd's `StateDirectory=`), else `/var/lib/tollgate`.
    pub state_directory: Option<String>,
}

/// `stats`: tollgate's own section (Traefik has none). Capacities bound the engine's memory:
/// nothing in it grows with traffic. `docs/STATS.md` gives the memory each one costs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct StatsSection {
    /// `enabled`, default `true`.
    pub enabled: bool,
    /// `anonymizeIP`: keep only /24 of IPv4 and /48 of IPv6 clients. Default `true`.
    #[serde(rename = "anonymizeIP")]
    pub anonymize_ip: bool,
    /// `channelCapacity`: finished requests queued for the engine before drops. Default 4096.
    pub channel_capacity: usize,
    /// `topK`: slots per top-k panel; counts are at most hits/topK too high. Default 512.
    pub top_k: usize,
    /// `minutes`, `hours`, `days`: buckets kept per resolution. Defaults 2880 (48 h), 1440
    /// (60 days), 366 (a year).
    pub minutes: usize,
    pub hours: usize,
    pub days: usize,
    /// `visitorDays`: days whose visitor sketch is kept whole. Default 31.
    pub visitor_days: usize,
    /// `visitorPrecision`: HyperLogLog precision, 2^p bytes per day. Default 14 (0.81 % error).
    pub visitor_precision: u8,
    /// `routers`, `services`: rows with their own latency histogram. Default 64 each.
    pub routers: usize,
    pub services: usize,
    /// `agentCache`: classified user agents remembered. Default 1024.
    pub agent_cache: usize,
    /// `snapshotInterval`: how often the stats are written to the state directory. Default `60s`.
    pub snapshot_interval: Duration,
}

impl Default for StatsSection {
    fn default() -> Self {
        let d = crate::stats::StatsConfig::default();
        StatsSection {
            enabled: true,
            anonymize_ip: d.anonymize_ip,
            channel_capacity: d.channel_capacity,
            top_k: d.top_k,
            minutes: d.minutes,
            hours: d.hours,
            days: d.days,
            visitor_days: d.visitor_days,
            visitor_precision: d.visitor_precision,
            routers: d.routers,
            services: d.services,
            agent_cache: d.agent_cache,
            snapshot_interval: Duration(d.snapshot_interval),
        }
    }
}

impl StatsSection {
    /// The engine's configuration. Zero capacities are raised to 1 and the precision clamped to
    /// 4..=18 by the engine itself, so any value here is safe.
    pub fn to_stats_config(&self) -> crate::stats::StatsConfig {
        crate::stats::StatsConfig {
            anonymize_ip: self.anonymize_ip,
            channel_capacity: self.channel_capacity,
            top_k: self.top_k,
            minutes: self.minutes,
            hours: self.hours,
            days: self.days,
            visitor_days: self.visitor_days,
            visitor_precision: self.visitor_precision,
            routers: self.routers,
            services: self.services,
            agent_cache: self.agent_cache,
            snapshot_interval: self.snapshot_interval.0,
        }
    }
}

/// `ping`: a health endpoint for load balancers and orchestrators.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Ping {
    /// `entryPoint`: where `/ping` answers. Default `traefik`.
    pub entry_point: String,
    /// `manualRouting`: no generated router; route to `ping@internal` yourself.
    pub manual_routing: bool,
    /// `terminatingStatusCode`: the answer while shutting down. Default 503.
    pub terminating_status_code: u16,
}

impl Default for Ping {
    fn default() -> Self {
        Ping { entry_point: "traefik".into(), manual_routing: false, terminating_status_code: 503 }
    }
}

/// `report`: where the live traffic report is served.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ReportEndpoint {
    /// `entryPoint`: default `traefik`, as Traefik's dashboard.
    pub entry_point: String,
}

impl Default for ReportEndpoint {
    fn default() -> Self {
        ReportEndpoint { entry_point: "traefik".into() }
    }
}

/// `entryPoints.<name>`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EntryPoint {
    /// `address`: `":80"`, `"127.0.0.1:8080"`, `"[::]:80"`; a `/tcp` suffix is accepted.
    pub address: String,
    /// `http`
    pub http: EntryPointHttp,
    /// `forwardedHeaders`
    pub forwarded_headers: ForwardedHeaders,
    /// `transport`
    pub transport: EntryPointTransport,
}

/// `entryPoints.<name>.http`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EntryPointHttp {
    /// `redirections`
    pub redirections: Option<Redirections>,
    /// `middlewares`: prepended to every router on this entry point.
    pub middlewares: Vec<String>,
}

/// `entryPoints.<name>.http.redirections`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Redirections {
    /// `entryPoint`
    pub entry_point: Option<RedirectEntryPoint>,
}

/// `entryPoints.<name>.http.redirections.entryPoint`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RedirectEntryPoint {
    /// `to`: the target entry point name (its port is used), or a literal port such as `":443"`.
    pub to: String,
    /// `scheme`, default `https`.
    pub scheme: String,
    /// `permanent`, default `true` (308/301 rather than 307/302).
    pub permanent: bool,
    /// `priority` of the generated catch-all router, default `i32::MAX - 1`.
    pub priority: i64,
}

impl Default for RedirectEntryPoint {
    fn default() -> Self {
        RedirectEntryPoint {
            to: String::new(),
            scheme: "https".into(),
            permanent: true,
            priority: i64::from(i32::MAX) - 1,
        }
    }
}

/// `entryPoints.<name>.forwardedHeaders`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ForwardedHeaders {
    /// `trustedIPs`: IPs or CIDRs whose `X-Forwarded-*` headers are kept. Default none.
    #[serde(rename = "trustedIPs")]
    pub trusted_ips: Vec<String>,
    /// `insecure`: trust every client's forwarded headers. Default `false`.
    pub insecure: bool,
}

/// `entryPoints.<name>.transport`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EntryPointTransport {
    /// `respondingTimeouts`
    pub responding_timeouts: RespondingTimeouts,
    /// `lifeCycle`
    pub life_cycle: LifeCycle,
}

/// `entryPoints.<name>.transport.respondingTimeouts`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RespondingTimeouts {
    /// `readTimeout`: whole request read, headers and body. Default `60s`; `0` is none.
    pub read_timeout: Duration,
    /// `writeTimeout`: response write. Default `0` (none).
    pub write_timeout: Duration,
    /// `idleTimeout`: keep-alive wait between requests. Default `180s`.
    pub idle_timeout: Duration,
}

impl Default for RespondingTimeouts {
    fn default() -> Self {
        RespondingTimeouts {
            read_timeout: Duration::from_secs(60),
            write_timeout: Duration::ZERO,
            idle_timeout: Duration::from_secs(180),
        }
    }
}

/// `entryPoints.<name>.transport.lifeCycle`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LifeCycle {
    /// `requestAcceptGraceTimeout`: keep accepting this long after SIGTERM. Default `0`.
    pub request_accept_grace_timeout: Duration,
    /// `graceTimeOut`: how long in-flight requests may finish after SIGTERM. Default `10s`.
    pub grace_time_out: Duration,
}

impl Default for LifeCycle {
    fn default() -> Self {
        LifeCycle {
            request_accept_grace_timeout: Duration::ZERO,
            grace_time_out: Duration::from_secs(10),
        }
    }
}

/// `providers`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Providers {
    /// `providersThrottleDuration`: wait after a change before applying the next. Default `2s`.
    pub providers_throttle_duration: Duration,
    /// `file`
    pub file: Option<FileProvider>,
}

impl Default for Providers {
    fn default() -> Self {
        Providers { providers_throttle_duration: Duration::from_secs(2), file: None }
    }
}

/// `providers.file`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FileProvider {
    /// `filename`: one dynamic configuration file.
    pub filename: Option<String>,
    /// `directory`: every `.yml`, `.yaml` and `.toml` file in it, merged.
    pub directory: Option<String>,
    /// `watch`: reload on change. Default `true`.
    pub watch: bool,
}

impl Default for FileProvider {
    fn default() -> Self {
        FileProvider { filename: None, directory: None, watch: true }
    }
}

/// `log`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Log {
    /// `level`: TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC. Default `ERROR`.
    pub level: String,
    /// `format`: `common` (readable lines), `json`, or tollgate's `journald`. Default `common`.
    pub format: String,
    /// `filePath`: write here instead of standard error.
    pub file_path: Option<String>,
    /// `noColor`
    pub no_color: bool,
}

impl Default for Log {
    fn default() -> Self {
        Log { level: "ERROR".into(), format: "common".into(), file_path: None, no_color: false }
    }
}

/// `core`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Core {
    /// `defaultRuleSyntax`: `v3` (default) or `v2`.
    pub default_rule_syntax: String,
}

impl Default for Core {
    fn default() -> Self {
        Core { default_rule_syntax: "v3".into() }
    }
}

/// `accessLog`: the keys Traefik has; their behaviour lives in `logs`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLog {
    /// `filePath`: where to write; empty means standard output.
    pub file_path: Option<String>,
    /// `format`: `common` (default) or `json`.
    pub format: String,
    /// `bufferingSize`: lines held before a write. Default `0`.
    pub buffering_size: u64,
    /// `filters`
    pub filters: AccessLogFilters,
    /// `fields`
    pub fields: AccessLogFields,
}

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog {
            file_path: None,
            format: "common".into(),
            buffering_size: 0,
            filters: AccessLogFilters::default(),
            fields: AccessLogFields::default(),
        }
    }
}

/// `accessLog.filters`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogFilters {
    /// `statusCodes`: `"200"`, `"300-302"`, …
    pub status_codes: Vec<String>,
    /// `retryAttempts`
    pub retry_attempts: bool,
    /// `minDuration`
    pub min_duration: Duration,
}

/// `accessLog.fields`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogFields {
    /// `defaultMode`: `keep` (default), `drop` or `redact`.
    pub default_mode: Option<String>,
    /// `names`: per-field mode.
    pub names: BTreeMap<String, String>,
    /// `headers`
    pub headers: AccessLogHeaders,
}

/// `accessLog.fields.headers`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogHeaders {
    /// `defaultMode`: `drop` (default), `keep` or `redact`.
    pub default_mode: Option<String>,
    /// `names`
    pub names: BTreeMap<String, String>,
}

#[cfg(test)]
mod stats_section_tests {
    use super::*;

    #[test]
    fn stats_section_reads_capacities_and_defaults_the_rest() {
        let yaml = "entryPoints:\n  web:\n    address: \":80\"\nstats:\n  topK: 64\n  anonymizeIP: false\n  snapshotInterval: 5m\n";
        let (config, _) = crate::config::parse_static(yaml, "t.yml").expect("parses");
        let s = config.stats;
        let c = s.to_stats_config();
        assert_eq!(c.top_k, 64);
        assert!(!c.anonymize_ip);
        assert_eq!(c.snapshot_interval, std::time::Duration::from_secs(300));
        assert_eq!(c.minutes, 2880);
        assert_eq!(StatsSection::default().to_stats_config(), crate::stats::StatsConfig::default());
    }
}

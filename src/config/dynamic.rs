//! The dynamic configuration as written (Traefik's `http` section): routers, services,
//! middlewares, servers transports. Plain data; compiling it into a route table is `proxy`'s job.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Duration;

/// One provider's dynamic configuration, or the merge of all of them.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct DynamicConfig {
    /// `http`
    pub http: HttpConfig,
}

/// `http`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpConfig {
    /// `http.routers.<name>`
    pub routers: BTreeMap<String, Router>,
    /// `http.services.<name>`
    pub services: BTreeMap<String, Service>,
    /// `http.middlewares.<name>`
    pub middlewares: BTreeMap<String, Middleware>,
    /// `http.serversTransports.<name>`
    pub servers_transports: BTreeMap<String, ServersTransport>,
}

/// `http.routers.<name>`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Router {
    /// `entryPoints`: default every entry point.
    pub entry_points: Vec<String>,
    /// `middlewares`, applied in order.
    pub middlewares: Vec<String>,
    /// `service`
    pub service: String,
    /// `rule`
    pub rule: String,
    /// `ruleSyntax`: `v3` or `v2`; default `core.defaultRuleSyntax`.
    pub rule_syntax: Option<String>,
    /// `priority`: default the rule's length in bytes.
    pub priority: Option<i64>,
    /// `tls`: present (even empty) means the router serves HTTPS only.
    pub tls: Option<RouterTls>,
}

/// `http.routers.<name>.tls`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RouterTls {
    /// `options`
    pub options: Option<String>,
    /// `certResolver`
    pub cert_resolver: Option<String>,
    /// `domains`
    pub domains: Vec<TlsDomain>,
}

/// `http.routers.<name>.tls.domains[]`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsDomain {
    /// `main`
    pub main: String,
    /// `sans`
    pub sans: Vec<String>,
}

/// `http.services.<name>`: exactly one kind must be set.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Service {
    /// `loadBalancer`
    pub load_balancer: Option<LoadBalancer>,
    /// `weighted`
    pub weighted: Option<Weighted>,
    /// `mirroring`
    pub mirroring: Option<Mirroring>,
}

/// `http.services.<name>.loadBalancer`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LoadBalancer {
    /// `servers`
    pub servers: Vec<Server>,
    /// `sticky`
    pub sticky: Option<Sticky>,
    /// `healthCheck`
    pub health_check: Option<HealthCheck>,
    /// `passHostHeader`: default `true`.
    pub pass_host_header: Option<bool>,
    /// `responseForwarding`
    pub response_forwarding: Option<ResponseForwarding>,
    /// `serversTransport`: name of an `http.serversTransports` entry.
    pub servers_transport: Option<String>,
}

/// `http.services.<name>.loadBalancer.servers[]`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Server {
    /// `url`: `http://host:port[/path]` or `h2c://host:port`.
    pub url: String,
    /// `weight`: default 1.
    pub weight: Option<u32>,
    /// `preservePath`: keep the URL's path as a prefix (Traefik keeps it only with this set).
    pub preserve_path: bool,
}

/// `…sticky`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Sticky {
    /// `cookie`
    pub cookie: Option<StickyCookie>,
}

/// `…sticky.cookie`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct StickyCookie {
    /// `name`: default a name derived from the service, as Traefik does.
    pub name: Option<String>,
    /// `secure`
    pub secure: bool,
    /// `httpOnly`
    pub http_only: bool,
    /// `sameSite`: `none`, `lax`, `strict` or empty.
    pub same_site: Option<String>,
    /// `maxAge`: seconds; 0 is a session cookie.
    pub max_age: i64,
    /// `path`: default `/`.
    pub path: Option<String>,
    /// `domain`
    pub domain: Option<String>,
}

/// `…loadBalancer.healthCheck`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HealthCheck {
    /// `path`
    pub path: String,
    /// `scheme`: replaces the server URL's scheme.
    pub scheme: Option<String>,
    /// `method`: default `GET`.
    pub method: Option<String>,
    /// `port`: replaces the server URL's port.
    pub port: Option<u16>,
    /// `hostname`: the Host header sent.
    pub hostname: Option<String>,
    /// `headers`
    pub headers: BTreeMap<String, String>,
    /// `status`: expected status; default any 2xx or 3xx.
    pub status: Option<u16>,
    /// `interval`: default `30s`.
    pub interval: Duration,
    /// `unhealthyInterval`: default `interval`.
    pub unhealthy_interval: Option<Duration>,
    /// `timeout`: default `5s`.
    pub timeout: Duration,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: String::new(),
            scheme: None,
            method: None,
            port: None,
            hostname: None,
            headers: BTreeMap::new(),
            status: None,
            interval: Duration::from_secs(30),
            unhealthy_interval: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// `…loadBalancer.responseForwarding`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ResponseForwarding {
    /// `flushInterval`: default `100ms`; tollgate flushes each chunk as it arrives, which is
    /// never later than any interval.
    pub flush_interval: Duration,
}

impl Default for ResponseForwarding {
    fn default() -> Self {
        ResponseForwarding { flush_interval: Duration::from_millis(100) }
    }
}

/// `http.services.<name>.weighted`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Weighted {
    /// `services`
    pub services: Vec<WeightedService>,
    /// `sticky`
    pub sticky: Option<Sticky>,
}

/// `…weighted.services[]`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WeightedService {
    /// `name`
    pub name: String,
    /// `weight`: default 1.
    pub weight: Option<u32>,
}

/// `http.services.<name>.mirroring`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Mirroring {
    /// `service`: the main service, whose response is returned.
    pub service: String,
    /// `mirrorBody`: default `true`.
    pub mirror_body: bool,
    /// `maxBodySize`: default -1 (no limit).
    pub max_body_size: i64,
    /// `mirrors`
    pub mirrors: Vec<MirrorService>,
}

impl Default for Mirroring {
    fn default() -> Self {
        Mirroring { service: String::new(), mirror_body: true, max_body_size: -1, mirrors: Vec::new() }
    }
}

/// `…mirroring.mirrors[]`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MirrorService {
    /// `name`
    pub name: String,
    /// `percent`: 0 to 100.
    pub percent: u32,
}

/// `http.middlewares.<name>`: exactly one kind must be set.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Middleware {
    /// `stripPrefix`
    pub strip_prefix: Option<StripPrefix>,
    /// `addPrefix`
    pub add_prefix: Option<AddPrefix>,
    /// `headers`
    pub headers: Option<Headers>,
    /// `redirectScheme`
    pub redirect_scheme: Option<RedirectScheme>,
}

/// `…stripPrefix`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct StripPrefix {
    /// `prefixes`
    pub prefixes: Vec<String>,
    /// `forceSlash` (deprecated in Traefik; default `true`).
    pub force_slash: Option<bool>,
}

/// `…addPrefix`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AddPrefix {
    /// `prefix`
    pub prefix: String,
}

/// `…headers` (the custom header part; the security headers come with the middleware issue).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Headers {
    /// `customRequestHeaders`: an empty value removes the header.
    pub custom_request_headers: BTreeMap<String, String>,
    /// `customResponseHeaders`: an empty value removes the header.
    pub custom_response_headers: BTreeMap<String, String>,
}

/// `…redirectScheme`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RedirectScheme {
    /// `scheme`
    pub scheme: String,
    /// `port`
    pub port: Option<String>,
    /// `permanent`: 301/308 instead of 302/307.
    pub permanent: bool,
}

/// `http.serversTransports.<name>`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServersTransport {
    /// `maxIdleConnsPerHost`: default 200 in Traefik; negative disables reuse.
    pub max_idle_conns_per_host: Option<i64>,
    /// `forwardingTimeouts`
    pub forwarding_timeouts: ForwardingTimeouts,
    /// `disableHTTP2`
    #[serde(rename = "disableHTTP2")]
    pub disable_http2: bool,
}

/// `http.serversTransports.<name>.forwardingTimeouts`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ForwardingTimeouts {
    /// `dialTimeout`: default `30s`.
    pub dial_timeout: Duration,
    /// `responseHeaderTimeout`: default `0` (none).
    pub response_header_timeout: Duration,
    /// `idleConnTimeout`: default `90s`.
    pub idle_conn_timeout: Duration,
}

impl Default for ForwardingTimeouts {
    fn default() -> Self {
        ForwardingTimeouts {
            dial_timeout: Duration::from_secs(30),
            response_header_timeout: Duration::ZERO,
            idle_conn_timeout: Duration::from_secs(90),
        }
    }
}

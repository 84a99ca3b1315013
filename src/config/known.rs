//! Traefik v3 keys tollgate does not implement yet, per model struct.
//!
//! A key written in a config file is, in order: a field of the model struct (decoded), a key in
//! this table (a warning naming it, and its whole subtree ignored), or an error with a "did you
//! mean" suggestion. The table was built from the json tags in Traefik's source
//! (pkg/config/static/*.go, pkg/config/dynamic/*.go, pkg/provider/file, pkg/observability/types,
//! Traefik v3.7): for each model struct, the Traefik keys its model does not have.
//!
//! To add a key: append it to its struct's line. To implement one: add the field to the model
//! (the decoder looks at fields first) and delete it here.
//!
//! Structs whose `fields` include `unsupported` (see `dynamic::Middleware`) get the first
//! unimplemented key's name in that field, so whatever uses them can be rejected rather than run
//! without, say, its authentication.

/// (model struct name as serde reports it, Traefik keys its model lacks)
const NOT_IMPLEMENTED: &[(&str, &[&str])] = &[
    // ---- static configuration (pkg/config/static) ----
    (
        "StaticConfig",
        &[
            "global",
            "serversTransport",
            "tcpServersTransport",
            "api",
            "metrics",
            "tracing",
            "hostResolver",
            "certificatesResolvers",
            "experimental",
            "spiffe",
            "ocsp",
        ],
    ),
    (
        "EntryPoint",
        &[
            "allowACMEByPass",
            "reusePort",
            "asDefault",
            "proxyProtocol",
            "http2",
            "http3",
            "udp",
            "observability",
        ],
    ),
    (
        "EntryPointHttp",
        &[
            "tls",
            "encodedCharacters",
            "encodeQuerySemicolons",
            "sanitizePath",
            "maxHeaderBytes",
            "underscoreHeadersStrategy",
        ],
    ),
    ("ForwardedHeaders", &["connection", "notAppendXForwardedFor", "addXForwardedSchemeHeaders"]),
    ("EntryPointTransport", &["keepAliveMaxTime", "keepAliveMaxRequests"]),
    (
        "Providers",
        &[
            "precedence",
            "docker",
            "swarm",
            "kubernetesIngress",
            "kubernetesIngressNGINX",
            "kubernetesCRD",
            "kubernetesGateway",
            "knative",
            "rest",
            "consulCatalog",
            "nomad",
            "ecs",
            "consul",
            "etcd",
            "zooKeeper",
            "redis",
            "http",
            "plugin",
        ],
    ),
    ("FileProvider", &["debugLogGeneratedTemplate"]),
    ("Log", &["maxSize", "maxAge", "maxBackups", "compress", "otlp"]),
    ("AccessLog", &["addInternals", "dualOutput", "otlp"]),
    ("AccessLogFields", &["queryParameters"]),
    // ---- dynamic configuration (pkg/config/dynamic) ----
    ("DynamicConfig", &["tcp", "udp", "tls"]),
    ("HttpConfig", &["models"]),
    ("Router", &["parentRefs", "observability"]),
    ("Service", &["middlewares", "highestRandomWeight", "failover"]),
    ("LoadBalancer", &["strategy", "passiveHealthCheck", "nginxUpstreamHashBy"]),
    ("Server", &["fenced"]),
    ("HealthCheck", &["mode", "followRedirects"]),
    ("Weighted", &["healthCheck"]),
    ("Mirroring", &["healthCheck"]),
    (
        "Middleware",
        &[
            "stripPrefixRegex",
            "replacePath",
            "replacePathRegex",
            "chain",
            "ipWhiteList",
            "ipAllowList",
            "encodedCharacters",
            "errors",
            "rateLimit",
            "redirectRegex",
            "basicAuth",
            "digestAuth",
            "forwardAuth",
            "inFlightReq",
            "buffering",
            "circuitBreaker",
            "compress",
            "passTLSClientCert",
            "retry",
            "contentType",
            "grpcWeb",
            "plugin",
            "requestHeaderModifier",
            "responseHeaderModifier",
            "requestRedirect",
            "URLRewrite",
            "authTLSPassCertificateToUpstream",
            "snippet",
            "rewriteTarget",
            "upstreamVHost",
            "appRoot",
        ],
    ),
    (
        "Headers",
        &[
            "accessControlAllowCredentials",
            "accessControlAllowHeaders",
            "accessControlAllowMethods",
            "accessControlAllowOriginList",
            "accessControlAllowOriginListRegex",
            "accessControlExposeHeaders",
            "accessControlMaxAge",
            "addVaryHeader",
            "allowedHosts",
            "hostsProxyHeaders",
            "sslProxyHeaders",
            "stsSeconds",
            "stsIncludeSubdomains",
            "stsPreload",
            "forceSTSHeader",
            "frameDeny",
            "customFrameOptionsValue",
            "contentTypeNosniff",
            "browserXssFilter",
            "customBrowserXSSValue",
            "contentSecurityPolicy",
            "contentSecurityPolicyReportOnly",
            "publicKey",
            "referrerPolicy",
            "permissionsPolicy",
            "isDevelopment",
            "featurePolicy",
            "sslRedirect",
            "sslTemporaryRedirect",
            "sslHost",
            "sslForceHost",
        ],
    ),
    (
        "ServersTransport",
        &[
            "serverName",
            "insecureSkipVerify",
            "rootCAs",
            "certificates",
            "cipherSuites",
            "minVersion",
            "maxVersion",
            "peerCertURI",
            "peerCertSANs",
            "spiffe",
        ],
    ),
    ("ForwardingTimeouts", &["readIdleTimeout", "pingTimeout"]),
];

/// Top-level structs: Traefik's loader skips unknown top-level keys without a word (people keep
/// YAML anchors under `x-…` keys there), so tollgate warns instead of failing.
const LENIENT: &[&str] = &["StaticConfig", "DynamicConfig"];

/// The Traefik spelling of `key` if it is a Traefik key `model` does not implement.
pub(crate) fn not_implemented(model: &str, key: &str) -> Option<&'static str> {
    keys_of(model).iter().copied().find(|k| k.eq_ignore_ascii_case(key))
}

pub(crate) fn keys_of(model: &str) -> &'static [&'static str] {
    NOT_IMPLEMENTED.iter().find(|(m, _)| *m == model).map_or(&[], |(_, keys)| keys)
}

pub(crate) fn is_lenient(model: &str) -> bool {
    LENIENT.contains(&model)
}

/// The closest candidate to `key`, if close enough to be a likely typo.
pub(crate) fn suggest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    let limit = (key.chars().count() / 3).max(1);
    candidates
        .filter(|c| *c != "unsupported")
        .map(|c| (distance(&key, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance over characters where swapping two neighbours counts one (optimal string
/// alignment), so `levle` is as close to `level` as `lvel` is.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 {
                j
            } else if j == 0 {
                i
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case_and_return_traefik_spelling() {
        assert_eq!(not_implemented("StaticConfig", "METRICS"), Some("metrics"));
        assert_eq!(not_implemented("Middleware", "basicauth"), Some("basicAuth"));
        assert_eq!(not_implemented("Middleware", "stripPrefix"), None);
        assert_eq!(not_implemented("NoSuchModel", "x"), None);
    }

    #[test]
    fn each_model_appears_once() {
        for (i, (model, _)) in NOT_IMPLEMENTED.iter().enumerate() {
            assert!(!NOT_IMPLEMENTED[i + 1..].iter().any(|(m, _)| m == model), "{model} twice");
        }
    }

    #[test]
    fn suggestions_are_close_matches_only() {
        let fields = ["level", "format", "filePath", "noColor"];
        assert_eq!(suggest("lvel", fields.iter().copied()), Some("level"));
        assert_eq!(suggest("filepth", fields.iter().copied()), Some("filePath"));
        assert_eq!(suggest("entirely", fields.iter().copied()), None);
        assert_eq!(suggest("levle", fields.iter().copied()), Some("level"));
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ab", "ba"), 1);
    }
}

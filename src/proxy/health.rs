//! Active health checks: each server of a load balancer with `healthCheck` is probed on its own
//! timer (every `interval`, or `unhealthyInterval` while down); a failed probe takes the server
//! out of the rotation, a good one puts it back. Servers start up, as in Traefik.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HOST, HeaderName, HeaderValue, LOCATION};
use http::{Method, Request, StatusCode, Uri};
use tokio::task::JoinHandle;

use super::balancer::Balancer;
use super::body::RequestBody;
use super::client::Transport;
use super::target::Target;
use crate::config::dynamic::HealthCheck;

/// Redirects followed before a probe counts as failed (Go's client stops at ten).
const MAX_REDIRECTS: usize = 10;

/// A probe compiled from `healthCheck`: everything but the server.
#[derive(Debug)]
pub(super) struct Probe {
    path: Box<str>,
    scheme_h2c: Option<bool>,
    port: Option<u16>,
    method: Method,
    hostname: Option<HeaderValue>,
    headers: Box<[(HeaderName, HeaderValue)]>,
    status: Option<StatusCode>,
    interval: Duration,
    unhealthy_interval: Duration,
    timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum InvalidHealthCheck {
    #[error("healthCheck.path `{0}` must be a path such as `/health`, not a URL")]
    Path(Box<str>),
    #[error("healthCheck.scheme `{0}` must be http or h2c")]
    Scheme(Box<str>),
    #[error("healthCheck.method `{0}` is not an HTTP method")]
    Method(Box<str>),
    #[error("healthCheck.status {0} is not an HTTP status code")]
    Status(u16),
    #[error("healthCheck.headers: `{0}` is not a valid header")]
    Header(Box<str>),
    #[error("healthCheck.hostname `{0}` is not a valid host")]
    Hostname(Box<str>),
}

impl Probe {
    pub(super) fn compile(cfg: &HealthCheck) -> Result<Probe, InvalidHealthCheck> {
        if cfg.path.contains("://") {
            return Err(InvalidHealthCheck::Path(cfg.path.as_str().into()));
        }
        let scheme_h2c = match cfg.scheme.as_deref() {
            None | Some("") => None,
            Some("http") => Some(false),
            Some("h2c") => Some(true),
            Some(other) => return Err(InvalidHealthCheck::Scheme(other.into())),
        };
        let method = match cfg.method.as_deref() {
            None | Some("") => Method::GET,
            Some(m) => Method::from_bytes(m.as_bytes())
                .map_err(|_| InvalidHealthCheck::Method(m.into()))?,
        };
        let status = match cfg.status {
            None | Some(0) => None,
            Some(code) => {
                Some(StatusCode::from_u16(code).map_err(|_| InvalidHealthCheck::Status(code))?)
            }
        };
        let hostname = match cfg.hostname.as_deref() {
            None | Some("") => None,
            Some(h) => {
                Some(HeaderValue::from_str(h).map_err(|_| InvalidHealthCheck::Hostname(h.into()))?)
            }
        };
        let headers = cfg
            .headers
            .iter()
            .map(|(k, v)| {
                let name = HeaderName::from_bytes(k.as_bytes())
                    .map_err(|_| InvalidHealthCheck::Header(k.as_str().into()))?;
                let value = HeaderValue::from_str(v)
                    .map_err(|_| InvalidHealthCheck::Header(k.as_str().into()))?;
                Ok((name, value))
            })
            .collect::<Result<_, _>>()?;
        // Traefik falls back to its defaults for non-positive durations.
        let or_default =
            |d: Duration, default: u64| if d.is_zero() { Duration::from_secs(default) } else { d };
        let interval = or_default(cfg.interval.0, 30);
        Ok(Probe {
            path: cfg.path.as_str().into(),
            scheme_h2c,
            port: cfg.port.filter(|&p| p != 0),
            method,
            hostname,
            headers,
            status,
            interval,
            unhealthy_interval: cfg.unhealthy_interval.map_or(interval, |d| or_default(d.0, 30)),
            timeout: or_default(cfg.timeout.0, 5),
        })
    }

    /// The probe URI for one server: the configured path resolved against the server URL.
    fn uri(&self, target: &Target) -> Option<Uri> {
        let authority = match self.port {
            Some(port) => format!("{}:{port}", target.authority.host()).parse().ok()?,
            None => target.authority.clone(),
        };
        let path = if self.path.starts_with('/') {
            self.path.to_string()
        } else {
            // A relative path resolves against the server URL's directory, as a URL reference does.
            format!("{}/{}", target.base_path, self.path)
        };
        Uri::builder().scheme("http").authority(authority).path_and_query(path).build().ok()
    }

    async fn check(&self, target: &Target, transport: &Transport) -> Result<(), String> {
        let mut uri = self.uri(target).ok_or("cannot build the probe URL")?;
        let h2c = self.scheme_h2c.unwrap_or(target.h2c);
        for _ in 0..=MAX_REDIRECTS {
            let mut req = Request::new(RequestBody::Empty);
            *req.method_mut() = self.method.clone();
            *req.uri_mut() = uri.clone();
            let host = self
                .hostname
                .clone()
                .or_else(|| uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()));
            if let Some(host) = host {
                if h2c {
                    if let Some(with_host) = host.to_str().ok().and_then(|h| {
                        Uri::builder()
                            .scheme("http")
                            .authority(h)
                            .path_and_query(uri.path_and_query()?.as_str())
                            .build()
                            .ok()
                    }) {
                        *req.uri_mut() = with_host;
                    }
                } else {
                    req.headers_mut().insert(HOST, host);
                }
            }
            if !h2c && let Some(pq) = uri.path_and_query() {
                // HTTP/1.1 sends the origin form; the authority picks the connection.
                *req.uri_mut() = Uri::from(pq.clone());
            }
            for (name, value) in self.headers.iter() {
                req.headers_mut().insert(name.clone(), value.clone());
            }
            let authority = uri.authority().map_or(String::new(), |a| a.to_string());
            let sending = async {
                if h2c {
                    transport.send_h2c(&authority, req).await.map(|r| r.into_parts().0)
                } else {
                    // Probes are rare: each takes a connection of its own, closed after it.
                    let pool = Arc::default();
                    let (parts, _) = req.into_parts();
                    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
                    let sent = transport.send_plain(&pool, &authority, &parts, target, None).await;
                    sent.map(|r| r.into_parts().0)
                }
            };
            let response = tokio::time::timeout(self.timeout, sending)
                .await
                .map_err(|_| format!("no response within {:?}", self.timeout))?
                .map_err(|err| err.to_string())?;
            let status = response.status;
            if status.is_redirection()
                && let Some(next) = response.headers.get(LOCATION).and_then(|l| resolve(&uri, l))
            {
                uri = next;
                continue;
            }
            return match self.status {
                Some(want) if want == status => Ok(()),
                Some(want) => Err(format!(
                    "received status {} where {} was expected",
                    status.as_u16(),
                    want.as_u16()
                )),
                None if status.as_u16() >= 200 && status.as_u16() < 400 => Ok(()),
                None => Err(format!("received error status {}", status.as_u16())),
            };
        }
        Err("too many redirects".into())
    }
}

/// A `Location` resolved against the URI that answered with it.
fn resolve(base: &Uri, location: &HeaderValue) -> Option<Uri> {
    let location = location.to_str().ok()?;
    if location.starts_with("http://") {
        return location.parse().ok();
    }
    if location.starts_with('/') {
        let authority = base.authority()?.clone();
        return Uri::builder()
            .scheme("http")
            .authority(authority)
            .path_and_query(location)
            .build()
            .ok();
    }
    None
}

/// The probe tasks of one load balancer; dropping it stops them (the table that owned the
/// balancer is gone).
pub(super) struct HealthTasks(Vec<JoinHandle<()>>);

impl Drop for HealthTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Start one probing task per server.
pub(super) fn spawn(
    service: Arc<str>,
    probe: Arc<Probe>,
    targets: Arc<[Target]>,
    transport: Arc<Transport>,
    balancer: Arc<Balancer>,
) -> HealthTasks {
    let tasks = (0..targets.len())
        .map(|i| {
            let (service, probe, targets, transport, balancer) =
                (service.clone(), probe.clone(), targets.clone(), transport.clone(), balancer.clone());
            tokio::spawn(async move {
                loop {
                    let wait = if balancer.is_up(i) { probe.interval } else { probe.unhealthy_interval };
                    tokio::time::sleep(wait).await;
                    let target = &targets[i];
                    match probe.check(target, &transport).await {
                        Ok(()) => {
                            if balancer.set_up(i, true) {
                                tracing::info!(service = %service, server = %target.url, "server is healthy again");
                            }
                        }
                        Err(reason) => {
                            if balancer.set_up(i, false) {
                                tracing::warn!(service = %service, server = %target.url, reason = %reason, "health check failed; server taken out");
                            }
                        }
                    }
                }
            })
        })
        .collect();
    HealthTasks(tasks)
}

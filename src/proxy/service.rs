//! Services at run time: load balancers over servers, weighted sets of services, mirrors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::header::{HeaderValue, SET_COOKIE};
use http::{HeaderMap, StatusCode};

use super::balancer::Balancer;
use super::client::Transport;
use super::health::{HealthTasks, Probe};
use super::sticky::Sticky;
use super::target::Target;
use crate::config::dynamic;

/// Index of a service in the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceId(pub u32);

pub enum ServiceRt {
    LoadBalancer(Arc<LoadBalancer>),
    Weighted(Arc<Weighted>),
    Mirroring(Arc<Mirroring>),
}

impl ServiceRt {
    pub fn name(&self) -> &Arc<str> {
        match self {
            ServiceRt::LoadBalancer(s) => &s.name,
            ServiceRt::Weighted(s) => &s.name,
            ServiceRt::Mirroring(s) => &s.name,
        }
    }
}

/// `loadBalancer`: servers, their health, stickiness and the transport that reaches them.
pub struct LoadBalancer {
    pub name: Arc<str>,
    pub targets: Arc<[Target]>,
    pub balancer: Arc<Balancer>,
    pub sticky: Option<Sticky>,
    pub pass_host_header: bool,
    pub transport: Arc<Transport>,
    /// What it was built from: a reload with an equal configuration keeps this balancer (its
    /// health state, rotation and probes).
    pub config: dynamic::LoadBalancer,
    /// The health check, if configured; its probe tasks start once the table is published.
    pub(super) probe: Option<Arc<Probe>>,
    pub(super) health: std::sync::OnceLock<HealthTasks>,
}

impl LoadBalancer {
    /// Start the probe tasks (once; a balancer reused by a reload keeps its running probes).
    pub fn start_health_checks(&self) {
        if let Some(probe) = &self.probe {
            self.health.get_or_init(|| {
                super::health::spawn(
                    self.name.clone(),
                    probe.clone(),
                    self.targets.clone(),
                    self.transport.clone(),
                    self.balancer.clone(),
                )
            });
        }
    }
}

/// The outcome of choosing a child: its index, and a cookie to set when stickiness chose anew.
pub(super) struct Choice {
    pub child: usize,
    pub set_cookie: Option<HeaderValue>,
}

/// Pick a child of `balancer`, honouring a sticky cookie that names a child still up.
pub(super) fn choose(
    balancer: &Balancer,
    sticky: Option<&Sticky>,
    headers: &HeaderMap,
) -> Result<Choice, StatusCode> {
    if let Some(sticky) = sticky
        && let Some((child, rewrite)) = sticky.chosen(headers)
        && balancer.is_up(child)
    {
        let set_cookie = if rewrite { sticky.set_cookie(child) } else { None };
        return Ok(Choice { child, set_cookie });
    }
    let child = balancer.pick().ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Choice { child, set_cookie: sticky.and_then(|s| s.set_cookie(child)) })
}

/// `weighted`: a weighted choice among other services.
pub struct Weighted {
    pub name: Arc<str>,
    pub children: Box<[ServiceId]>,
    pub balancer: Balancer,
    pub sticky: Option<Sticky>,
}

/// `mirroring`: the main service answers; mirrors get a copy of a share of the requests.
pub struct Mirroring {
    pub name: Arc<str>,
    pub main: ServiceId,
    pub mirrors: Box<[Mirror]>,
    pub mirror_body: bool,
    pub max_body_size: i64,
    pub requests: AtomicU64,
}

pub struct Mirror {
    pub service: ServiceId,
    pub percent: u32,
}

impl Mirroring {
    /// The mirrors that get this request: each receives `percent` of requests, spread evenly.
    pub fn mirrors_for_next(&self) -> impl Iterator<Item = ServiceId> + '_ {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        self.mirrors
            .iter()
            .filter(move |m| {
                (n * u64::from(m.percent)) / 100 != ((n + 1) * u64::from(m.percent)) / 100
            })
            .map(|m| m.service)
    }
}

/// Add `Set-Cookie` values chosen on the way down to the response.
pub(super) fn add_cookies(headers: &mut HeaderMap, cookies: &[HeaderValue]) {
    for cookie in cookies {
        headers.append(SET_COOKIE, cookie.clone());
    }
}

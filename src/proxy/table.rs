//! The route table: the dynamic configuration compiled into what requests read. Built whole off
//! the request path, published with one atomic swap; a request keeps the table it started with.
//!
//! Compiling collects every error (per router, service and middleware), leaves the broken
//! entries out, and keeps everything else serving.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use super::balancer::Balancer;
use super::client::Transport;
use super::health::Probe;
use super::service::{LoadBalancer, Mirror, Mirroring, ServiceId, ServiceRt, Weighted};
use super::sticky::Sticky;
use super::target::Target;
use crate::config::dynamic::{self, DynamicConfig};
use crate::middleware::Middleware;
use crate::rule::{self, RuleSet, RuleSetBuilder, Syntax};

/// Index of a compiled router (one per router and entry point) in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterId(pub u32);

/// One router as one entry point runs it.
pub struct RouterRt {
    pub name: Arc<str>,
    /// `None` for generated routers whose middleware always answers (entry point redirections).
    pub service: Option<ServiceId>,
    /// The entry point's default middlewares, then the router's own.
    pub middlewares: Box<[Arc<Middleware>]>,
    pub rule: Box<str>,
    pub priority: i64,
    /// The middleware names, for `tollgate check` and the API.
    pub middleware_names: Box<[Box<str>]>,
    /// Answered by tollgate itself (`ping@internal`) instead of a service.
    pub internal: Option<Internal>,
}

/// The routers of one entry point, ordered as Traefik orders them.
pub struct EntryRoutes {
    pub routes: RuleSet<RouterId>,
}

pub struct RouteTable {
    pub entrypoints: Box<[EntryRoutes]>,
    pub routers: Box<[RouterRt]>,
    pub services: Box<[ServiceRt]>,
}

impl RouteTable {
    /// A table that routes nothing: every request gets 404 until a configuration arrives.
    pub fn empty(entrypoints: usize) -> RouteTable {
        RouteTable {
            entrypoints: (0..entrypoints)
                .map(|_| EntryRoutes { routes: RuleSetBuilder::new().build() })
                .collect(),
            routers: Box::new([]),
            services: Box::new([]),
        }
    }

    pub fn service(&self, id: ServiceId) -> &ServiceRt {
        &self.services[id.0 as usize]
    }

    pub fn router(&self, id: RouterId) -> &RouterRt {
        &self.routers[id.0 as usize]
    }

    /// The routers of entry point `index`, in no particular order.
    pub fn routers_of(&self, index: usize) -> impl Iterator<Item = &RouterRt> {
        let ids: Vec<RouterId> = self
            .entrypoints
            .get(index)
            .map(|e| e.routes.iter().map(|(_, _, id)| *id).collect())
            .unwrap_or_default();
        ids.into_iter().map(|id| self.router(id))
    }

    /// Start the health checks of load balancers new in this table. Call after publishing it,
    /// inside the runtime; compiling itself has no side effects (`tollgate check` compiles too).
    pub fn start_health_checks(&self) {
        for service in self.services.iter() {
            if let ServiceRt::LoadBalancer(lb) = service {
                lb.start_health_checks();
            }
        }
    }
}

/// What the compiler needs to know of one entry point (from the static configuration).
pub struct EntryPointSpec {
    pub name: String,
    /// `http.middlewares`, applied before every router's own.
    pub middlewares: Vec<String>,
    /// `http.redirections.entryPoint`, compiled to a catch-all redirect router.
    pub redirect: Option<dynamic::RedirectScheme>,
    pub redirect_priority: i64,
    /// `ping` on this entry point: the status to answer while shutting down.
    pub ping: Option<http::StatusCode>,
    /// `report` on this entry point.
    pub report: bool,
}

/// Answers tollgate gives itself, without a service (Traefik's `…@internal` services).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Internal {
    /// `ping@internal`: 200 `OK`, or the terminating status while shutting down.
    Ping { terminating: http::StatusCode },
    /// `report@internal`: the live traffic report.
    Report,
}

/// Which kind of element an issue is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    Router,
    Service,
    Middleware,
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Element::Router => "router",
            Element::Service => "service",
            Element::Middleware => "middleware",
        })
    }
}

/// One element left out of the table, and why: `dynamic.yml:14:7: router `api@file`: rule: …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub origin: Option<String>,
    pub element: Element,
    pub name: String,
    pub message: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(origin) = &self.origin {
            write!(f, "{origin}: ")?;
        }
        write!(f, "{} `{}`: {}", self.element, self.name, self.message)
    }
}

impl std::error::Error for CompileError {}

/// Where an element was defined, for error messages (`file:line:col`); providers supply it.
pub trait Locate {
    fn locate(&self, element: Element, name: &str) -> Option<String>;
}

/// No locations known (tests, generated configurations).
pub struct Nowhere;

impl Locate for Nowhere {
    fn locate(&self, _: Element, _: &str) -> Option<String> {
        None
    }
}

/// Everything a compile needs besides the dynamic configuration.
pub struct CompileInput<'a> {
    pub entrypoints: &'a [EntryPointSpec],
    pub default_syntax: Syntax,
    pub locate: &'a dyn Locate,
    /// The table in force: load balancers and transports with unchanged configuration are reused.
    pub previous: Option<&'a RouteTable>,
    /// Transports in force, by name, for reuse.
    pub transports: &'a HashMap<String, Arc<Transport>>,
}

/// The result: the table, the transports it uses (kept for the next compile) and the errors.
pub struct Compiled {
    pub table: RouteTable,
    pub transports: HashMap<String, Arc<Transport>>,
    pub errors: Vec<CompileError>,
}

/// Name of the transport used when a load balancer names none.
pub(super) const DEFAULT_TRANSPORT: &str = "default@internal";

/// Compile a merged dynamic configuration whose names are all qualified (`name@provider`).
pub fn compile(config: &DynamicConfig, input: &CompileInput<'_>) -> Compiled {
    let mut c = Compiler {
        config,
        input,
        errors: Vec::new(),
        services: Vec::new(),
        service_ids: HashMap::new(),
        in_progress: Vec::new(),
        middlewares: HashMap::new(),
        transports: HashMap::new(),
    };
    c.compile_transports();
    // Every service is compiled, used or not, so each one's errors are reported.
    for name in config.http.services.keys() {
        let _ = c.service(name);
    }
    let mut routers = Vec::new();
    let mut entrypoints = Vec::new();
    for ep in input.entrypoints {
        let mut entries = RuleSetBuilder::new();
        c.redirect_router(ep, &mut routers, &mut entries);
        c.ping_router(ep, &mut routers, &mut entries);
        c.report_router(ep, &mut routers, &mut entries);
        for (name, router) in &config.http.routers {
            if !router_on(router, ep) {
                continue;
            }
            if let Some((compiled, priority, rule)) = c.router(name, router, ep) {
                let id = RouterId(routers.len() as u32);
                match entries.add(name, priority, rule, id) {
                    Ok(()) => routers.push(compiled),
                    Err(err) => c.error(Element::Router, name, format!("priority: {err}")),
                }
            }
        }
        entrypoints.push(EntryRoutes { routes: entries.build() });
    }
    c.check_entrypoint_names();
    let mut errors = c.errors;
    errors.dedup();
    Compiled {
        table: RouteTable {
            entrypoints: entrypoints.into(),
            routers: routers.into(),
            services: c
                .services
                .into_iter()
                .map(|s| s.expect("every started service is finished or removed"))
                .collect(),
        },
        transports: c.transports,
        errors,
    }
}

/// Whether `router` runs on entry point `ep`: its `entryPoints`, or all of them when empty.
fn router_on(router: &dynamic::Router, ep: &EntryPointSpec) -> bool {
    router.entry_points.is_empty() || router.entry_points.contains(&ep.name)
}

struct Compiler<'a> {
    config: &'a DynamicConfig,
    input: &'a CompileInput<'a>,
    errors: Vec<CompileError>,
    /// `None` while a service is being compiled (its children first).
    services: Vec<Option<ServiceRt>>,
    /// Finished services by name; `Err` for the ones that failed.
    service_ids: HashMap<String, Result<ServiceId, ()>>,
    in_progress: Vec<String>,
    middlewares: HashMap<String, Result<Arc<Middleware>, ()>>,
    transports: HashMap<String, Arc<Transport>>,
}

impl Compiler<'_> {
    fn error(&mut self, element: Element, name: &str, message: impl Into<String>) {
        self.errors.push(CompileError {
            origin: self.input.locate.locate(element, name),
            element,
            name: name.to_owned(),
            message: message.into(),
        });
    }

    fn compile_transports(&mut self) {
        let default = dynamic::ServersTransport::default();
        let reuse =
            |name: &str, cfg: &dynamic::ServersTransport| match self.input.transports.get(name) {
                Some(t) if t.config == *cfg => t.clone(),
                _ => Arc::new(Transport::new(cfg)),
            };
        let mut built = HashMap::new();
        built.insert(DEFAULT_TRANSPORT.to_owned(), reuse(DEFAULT_TRANSPORT, &default));
        for (name, cfg) in &self.config.http.servers_transports {
            built.insert(name.clone(), reuse(name, cfg));
        }
        self.transports = built;
    }

    /// The id of service `name`, compiling it (and its children) on first use.
    fn service(&mut self, name: &str) -> Result<ServiceId, String> {
        if let Some(done) = self.service_ids.get(name) {
            return done.map_err(|()| format!("service `{name}` is not served (see its error)"));
        }
        if self.in_progress.iter().any(|n| n == name) {
            let cycle = format!("{} -> {name}", self.in_progress.join(" -> "));
            return Err(format!("services refer to each other in a cycle: {cycle}"));
        }
        let Some(model) = self.config.http.services.get(name) else {
            return Err(format!("the service `{name}` does not exist"));
        };
        self.in_progress.push(name.to_owned());
        let slot = self.services.len();
        self.services.push(None);
        let built = self.build_service(name, model);
        self.in_progress.pop();
        match built {
            Ok(service) => {
                self.services[slot] = Some(service);
                let id = ServiceId(slot as u32);
                self.service_ids.insert(name.to_owned(), Ok(id));
                Ok(id)
            }
            Err(message) => {
                // Children compiled after the slot keep their indices; the slot is filled with a
                // service that answers 503 so indices stay dense.
                self.services[slot] = Some(unavailable(name));
                self.service_ids.insert(name.to_owned(), Err(()));
                self.error(Element::Service, name, message);
                Err(format!("service `{name}` is not served (see its error)"))
            }
        }
    }

    fn build_service(&mut self, name: &str, model: &dynamic::Service) -> Result<ServiceRt, String> {
        if let Some(kind) = &model.unsupported {
            return Err(format!(
                "`{kind}` is a Traefik service option tollgate does not implement yet"
            ));
        }
        match (&model.load_balancer, &model.weighted, &model.mirroring) {
            (Some(lb), None, None) => self.load_balancer(name, lb).map(ServiceRt::LoadBalancer),
            (None, Some(w), None) => self.weighted(name, w).map(ServiceRt::Weighted),
            (None, None, Some(m)) => self.mirroring(name, m).map(ServiceRt::Mirroring),
            (None, None, None) => {
                Err("no service kind is set (expected loadBalancer, weighted or mirroring)".into())
            }
            _ => Err("more than one service kind is set".into()),
        }
    }

    fn load_balancer(
        &mut self,
        name: &str,
        cfg: &dynamic::LoadBalancer,
    ) -> Result<Arc<LoadBalancer>, String> {
        let transport_name =
            cfg.servers_transport.clone().unwrap_or_else(|| DEFAULT_TRANSPORT.to_owned());
        let transport = self
            .transports
            .get(&transport_name)
            .cloned()
            .ok_or_else(|| format!("serversTransport `{transport_name}` does not exist"))?;
        if let Some(previous) = self.input.previous.and_then(|t| find_lb(t, name))
            && previous.config == *cfg
            && Arc::ptr_eq(&previous.transport, &transport)
        {
            return Ok(previous);
        }
        let targets: Vec<Target> = cfg
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Target::parse(&s.url, s.preserve_path).map_err(|e| format!("servers[{i}].url: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let weights: Vec<u32> = cfg.servers.iter().map(|s| s.weight.unwrap_or(1)).collect();
        let balancer = Arc::new(Balancer::new(&weights));
        let name: Arc<str> = name.into();
        let sticky = cfg.sticky.as_ref().and_then(|s| s.cookie.as_ref()).map(|cookie| {
            let urls: Vec<&str> = targets.iter().map(|t| &*t.url).collect();
            Sticky::new(cookie, &name, &urls)
        });
        let targets: Arc<[Target]> = targets.into();
        let probe = match &cfg.health_check {
            Some(hc) => Some(Arc::new(Probe::compile(hc).map_err(|e| e.to_string())?)),
            None => None,
        };
        Ok(Arc::new(LoadBalancer {
            name,
            targets,
            balancer,
            sticky,
            pass_host_header: cfg.pass_host_header.unwrap_or(true),
            transport,
            config: cfg.clone(),
            probe,
            health: std::sync::OnceLock::new(),
        }))
    }

    fn weighted(&mut self, name: &str, cfg: &dynamic::Weighted) -> Result<Arc<Weighted>, String> {
        let mut children = Vec::new();
        let mut weights = Vec::new();
        for (i, child) in cfg.services.iter().enumerate() {
            let id = self.service(&child.name).map_err(|e| format!("services[{i}]: {e}"))?;
            children.push(id);
            weights.push(child.weight.unwrap_or(1));
        }
        let sticky = cfg.sticky.as_ref().and_then(|s| s.cookie.as_ref()).map(|cookie| {
            let names: Vec<&str> = cfg.services.iter().map(|s| s.name.as_str()).collect();
            Sticky::new(cookie, name, &names)
        });
        Ok(Arc::new(Weighted {
            name: name.into(),
            children: children.into(),
            balancer: Balancer::new(&weights),
            sticky,
        }))
    }

    fn mirroring(
        &mut self,
        name: &str,
        cfg: &dynamic::Mirroring,
    ) -> Result<Arc<Mirroring>, String> {
        let main = self.service(&cfg.service).map_err(|e| format!("service: {e}"))?;
        let mut mirrors = Vec::new();
        for (i, m) in cfg.mirrors.iter().enumerate() {
            if m.percent > 100 {
                return Err(format!("mirrors[{i}].percent {} is above 100", m.percent));
            }
            let service = self.service(&m.name).map_err(|e| format!("mirrors[{i}]: {e}"))?;
            mirrors.push(Mirror { service, percent: m.percent });
        }
        Ok(Arc::new(Mirroring {
            name: name.into(),
            main,
            mirrors: mirrors.into(),
            mirror_body: cfg.mirror_body,
            max_body_size: cfg.max_body_size,
            requests: AtomicU64::new(0),
        }))
    }

    fn middleware(&mut self, name: &str) -> Result<Arc<Middleware>, String> {
        if let Some(done) = self.middlewares.get(name) {
            return done
                .clone()
                .map_err(|()| format!("middleware `{name}` is not usable (see its error)"));
        }
        let Some(model) = self.config.http.middlewares.get(name) else {
            return Err(format!("the middleware `{name}` does not exist"));
        };
        match Middleware::compile(model) {
            Ok(m) => {
                let m = Arc::new(m);
                self.middlewares.insert(name.to_owned(), Ok(m.clone()));
                Ok(m)
            }
            Err(err) => {
                self.middlewares.insert(name.to_owned(), Err(()));
                self.error(Element::Middleware, name, err.to_string());
                Err(format!("middleware `{name}` is not usable (see its error)"))
            }
        }
    }

    /// Compile `name` for entry point `ep`: the router, its priority and its rule.
    fn router(
        &mut self,
        name: &str,
        router: &dynamic::Router,
        ep: &EntryPointSpec,
    ) -> Option<(RouterRt, i64, rule::Rule)> {
        match self.try_router(name, router, ep) {
            Ok(compiled) => Some(compiled),
            Err(message) => {
                self.error(Element::Router, name, message);
                None
            }
        }
    }

    fn try_router(
        &mut self,
        name: &str,
        router: &dynamic::Router,
        ep: &EntryPointSpec,
    ) -> Result<(RouterRt, i64, rule::Rule), String> {
        if router.tls.is_some() {
            return Err("tls: HTTPS routers need TLS support, which this build lacks; the router is not served".into());
        }
        if router.rule.trim().is_empty() {
            return Err("rule is empty".into());
        }
        let syntax = match router.rule_syntax.as_deref() {
            None | Some("") => self.input.default_syntax,
            Some("v3") => Syntax::V3,
            Some("v2") => Syntax::V2,
            Some(other) => return Err(format!("ruleSyntax `{other}` is not v2 or v3")),
        };
        let rule = rule::parse(&router.rule, syntax).map_err(|e| format!("rule: {e}"))?;
        if router.service.is_empty() {
            return Err("service is empty".into());
        }
        let service = self.service(&router.service)?;
        let provider = name.rsplit_once('@').map(|(_, p)| p);
        let mut middlewares = Vec::new();
        let mut middleware_names = Vec::new();
        let own = router.middlewares.iter().cloned();
        for m in ep.middlewares.iter().map(|m| qualify(m, provider)).chain(own) {
            middlewares.push(self.middleware(&m)?);
            middleware_names.push(m.into_boxed_str());
        }
        let priority = match router.priority {
            Some(p) if p != 0 => p,
            _ => rule.default_priority(),
        };
        Ok((
            RouterRt {
                name: name.into(),
                service: Some(service),
                middlewares: middlewares.into(),
                rule: router.rule.as_str().into(),
                priority,
                middleware_names: middleware_names.into(),
                internal: None,
            },
            priority,
            rule,
        ))
    }

    /// `entryPoints.<ep>.http.redirections.entryPoint`: a catch-all router that redirects.
    fn redirect_router(
        &mut self,
        ep: &EntryPointSpec,
        routers: &mut Vec<RouterRt>,
        entries: &mut RuleSetBuilder<RouterId>,
    ) {
        let Some(redirect) = &ep.redirect else { return };
        let name = format!("{}-redirect@internal", ep.name);
        let middleware = match Middleware::compile(&dynamic::Middleware {
            redirect_scheme: Some(redirect.clone()),
            ..Default::default()
        }) {
            Ok(m) => Arc::new(m),
            Err(err) => {
                self.error(Element::Router, &name, err.to_string());
                return;
            }
        };
        let rule_text = "PathPrefix(`/`)";
        let Ok(rule) = rule::parse(rule_text, Syntax::V3) else { return };
        let id = RouterId(routers.len() as u32);
        routers.push(RouterRt {
            name: name.as_str().into(),
            service: None,
            middlewares: Box::new([middleware]),
            rule: rule_text.into(),
            priority: ep.redirect_priority,
            middleware_names: Box::new([format!("{}-redirectscheme@internal", ep.name).into()]),
            internal: None,
        });
        if let Err(err) = entries.add(&name, ep.redirect_priority, rule, id) {
            self.error(Element::Router, &name, format!("priority: {err}"));
            routers.pop();
        }
    }

    /// `ping`: Traefik's `ping@internal` router, `PathPrefix(`/ping`)` above every user router.
    fn ping_router(
        &mut self,
        ep: &EntryPointSpec,
        routers: &mut Vec<RouterRt>,
        entries: &mut RuleSetBuilder<RouterId>,
    ) {
        let Some(terminating) = ep.ping else { return };
        let ping = Internal::Ping { terminating };
        self.internal_router("ping@internal", "PathPrefix(`/ping`)", ping, routers, entries);
    }

    /// `report`: `report@internal` at `PathPrefix(`/report`)`, above every user router.
    fn report_router(
        &mut self,
        ep: &EntryPointSpec,
        routers: &mut Vec<RouterRt>,
        entries: &mut RuleSetBuilder<RouterId>,
    ) {
        if ep.report {
            let rule = "PathPrefix(`/report`)";
            self.internal_router("report@internal", rule, Internal::Report, routers, entries);
        }
    }

    fn internal_router(
        &mut self,
        name: &str,
        rule_text: &str,
        internal: Internal,
        routers: &mut Vec<RouterRt>,
        entries: &mut RuleSetBuilder<RouterId>,
    ) {
        let Ok(rule) = rule::parse(rule_text, Syntax::V3) else { return };
        let priority = i64::from(i32::MAX);
        let id = RouterId(routers.len() as u32);
        routers.push(RouterRt {
            name: name.into(),
            service: None,
            middlewares: Box::new([]),
            rule: rule_text.into(),
            priority,
            middleware_names: Box::new([]),
            internal: Some(internal),
        });
        if let Err(err) = entries.add(name, priority, rule, id) {
            self.error(Element::Router, name, format!("priority: {err}"));
            routers.pop();
        }
    }

    /// Routers naming an entry point that does not exist are errors, as in Traefik.
    fn check_entrypoint_names(&mut self) {
        let known: Vec<&str> = self.input.entrypoints.iter().map(|e| e.name.as_str()).collect();
        let bad: Vec<(String, String)> = self
            .config
            .http
            .routers
            .iter()
            .flat_map(|(name, r)| {
                r.entry_points
                    .iter()
                    .filter(|e| !known.contains(&e.as_str()))
                    .map(move |e| (name.clone(), e.clone()))
            })
            .collect();
        for (router, ep) in bad {
            self.error(
                Element::Router,
                &router,
                format!("entry point `{ep}` does not exist (known: {})", known.join(", ")),
            );
        }
    }
}

/// `name` with `@provider` added when it has none.
pub fn qualify(name: &str, provider: Option<&str>) -> String {
    match provider {
        Some(p) if !name.contains('@') => format!("{name}@{p}"),
        _ => name.to_owned(),
    }
}

fn find_lb(table: &RouteTable, name: &str) -> Option<Arc<LoadBalancer>> {
    table.services.iter().find_map(|s| match s {
        ServiceRt::LoadBalancer(lb) if &*lb.name == name => Some(lb.clone()),
        _ => None,
    })
}

/// A placeholder for a service that failed to compile: a load balancer with no servers, which
/// answers 503. Routers that use the failed service are refused anyway.
fn unavailable(name: &str) -> ServiceRt {
    ServiceRt::Weighted(Arc::new(Weighted {
        name: name.into(),
        children: Box::new([]),
        balancer: Balancer::new(&[]),
        sticky: None,
    }))
}

/// Entry point specs from a static configuration, in the order the table indexes them.
pub fn entrypoint_specs(config: &crate::config::StaticConfig) -> Vec<EntryPointSpec> {
    config
        .entry_points
        .iter()
        .map(|(name, ep)| {
            let redirect = ep.http.redirections.as_ref().and_then(|r| r.entry_point.as_ref());
            EntryPointSpec {
                name: name.clone(),
                middlewares: ep.http.middlewares.clone(),
                redirect: redirect.map(|r| dynamic::RedirectScheme {
                    scheme: r.scheme.clone(),
                    port: Some(target_port(&r.to, &config.entry_points)),
                    permanent: r.permanent,
                }),
                redirect_priority: redirect.map_or(0, |r| r.priority),
                ping: config
                    .ping
                    .as_ref()
                    .filter(|p| !p.manual_routing && p.entry_point == *name)
                    .map(|p| {
                        http::StatusCode::from_u16(p.terminating_status_code)
                            .unwrap_or(http::StatusCode::SERVICE_UNAVAILABLE)
                    }),
                report: config.report.as_ref().is_some_and(|r| r.entry_point == *name),
            }
        })
        .collect()
}

/// The port a redirection targets: the named entry point's port, or a literal `:port`.
fn target_port(
    to: &str,
    entry_points: &BTreeMap<String, crate::config::static_config::EntryPoint>,
) -> String {
    let address = entry_points.get(to).map_or(to, |ep| ep.address.as_str());
    let address = address.split('/').next().unwrap_or(address);
    address.rsplit_once(':').map_or(address, |(_, port)| port).to_owned()
}

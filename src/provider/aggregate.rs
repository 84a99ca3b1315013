//! Aggregation: each provider's last good configuration, with names qualified by provider
//! (`site` from the file provider is `site@file`), merged into the one configuration the proxy
//! compiles.

use std::collections::BTreeMap;

use crate::config::dynamic::Router;
use crate::config::{DynamicConfig, Loaded, Origins};
use crate::proxy::{Element, Locate, qualify};

/// Qualify every name a provider defines and every reference without `@`.
pub fn qualify_config(config: &DynamicConfig, provider: &str) -> DynamicConfig {
    let p = Some(provider);
    let q = |name: &str| qualify(name, p);
    let mut out = DynamicConfig::default();
    for (name, router) in &config.http.routers {
        let router = Router {
            service: if router.service.is_empty() { String::new() } else { q(&router.service) },
            middlewares: router.middlewares.iter().map(|m| q(m)).collect(),
            ..router.clone()
        };
        out.http.routers.insert(q(name), router);
    }
    for (name, service) in &config.http.services {
        let mut service = service.clone();
        if let Some(lb) = &mut service.load_balancer {
            lb.servers_transport = lb.servers_transport.as_deref().map(q);
        }
        if let Some(w) = &mut service.weighted {
            for child in &mut w.services {
                child.name = q(&child.name);
            }
        }
        if let Some(m) = &mut service.mirroring {
            m.service = q(&m.service);
            for mirror in &mut m.mirrors {
                mirror.name = q(&mirror.name);
            }
        }
        out.http.services.insert(q(name), service);
    }
    for (name, middleware) in &config.http.middlewares {
        out.http.middlewares.insert(q(name), middleware.clone());
    }
    for (name, transport) in &config.http.servers_transports {
        out.http.servers_transports.insert(q(name), transport.clone());
    }
    out
}

/// Every provider's configuration in force (qualified), and where its elements were written.
#[derive(Default)]
pub struct Aggregate {
    providers: BTreeMap<String, (DynamicConfig, Origins)>,
}

impl Aggregate {
    /// Replace one provider's configuration.
    pub fn set(&mut self, provider: &str, loaded: Loaded) {
        let config = qualify_config(&loaded.config, provider);
        self.providers.insert(provider.to_owned(), (config, loaded.origins));
    }

    /// All providers merged. Qualified names cannot collide across providers.
    pub fn merged(&self) -> DynamicConfig {
        let mut out = DynamicConfig::default();
        for (config, _) in self.providers.values() {
            let http = &config.http;
            out.http.routers.extend(http.routers.iter().map(|(k, v)| (k.clone(), v.clone())));
            out.http.services.extend(http.services.iter().map(|(k, v)| (k.clone(), v.clone())));
            out.http
                .middlewares
                .extend(http.middlewares.iter().map(|(k, v)| (k.clone(), v.clone())));
            out.http
                .servers_transports
                .extend(http.servers_transports.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }
}

/// Error messages name the file, line and column an element was written at.
impl Locate for Aggregate {
    fn locate(&self, element: Element, qualified: &str) -> Option<String> {
        let (name, provider) = qualified.rsplit_once('@')?;
        let (_, origins) = self.providers.get(provider)?;
        let origin = match element {
            Element::Router => origins.router(name),
            Element::Service => origins.service(name),
            Element::Middleware => origins.middleware(name),
        };
        origin.map(ToString::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::{Service, Weighted, WeightedService};

    #[test]
    fn qualifies_names_and_local_references_only() {
        let mut cfg = DynamicConfig::default();
        cfg.http.routers.insert(
            "site".into(),
            Router {
                service: "web".into(),
                middlewares: vec!["auth".into(), "strip@docker".into()],
                ..Default::default()
            },
        );
        cfg.http.services.insert(
            "split".into(),
            Service {
                weighted: Some(Weighted {
                    services: vec![WeightedService { name: "web".into(), weight: None }],
                    sticky: None,
                }),
                ..Default::default()
            },
        );
        let q = qualify_config(&cfg, "file");
        let router = &q.http.routers["site@file"];
        assert_eq!(router.service, "web@file");
        assert_eq!(router.middlewares, vec!["auth@file", "strip@docker"]);
        assert_eq!(
            q.http.services["split@file"].weighted.as_ref().unwrap().services[0].name,
            "web@file"
        );
    }
}

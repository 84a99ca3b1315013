//! The routers of one entry point, in the order Traefik tries them.
//!
//! Traefik sorts an entry point's routes by priority (highest first; a router without a priority,
//! or with 0, gets the length of its rule), then by provider precedence (`providers.precedence`,
//! default: kubernetesgateway first … rest last; a provider not in the list, such as `internal`,
//! comes after all listed ones). Traefik leaves the order of routers equal on both counts
//! unspecified (Go map order and an unstable sort): it differs between runs. tollgate sorts
//! those by router name, so the same configuration always routes the same way.

use std::fmt;

use super::compiled::Rule;
use super::matchers::RequestView;

/// Traefik's default `providers.precedence`.
pub const DEFAULT_PROVIDER_PRECEDENCE: [&str; 17] = [
    "kubernetesgateway",
    "kubernetescrd",
    "kubernetes",
    "kubernetesingressnginx",
    "swarm",
    "docker",
    "file",
    "redis",
    "knative",
    "consul",
    "consulcatalog",
    "nomad",
    "etcd",
    "ecs",
    "http",
    "zookeeper",
    "rest",
];

/// The highest priority a router outside `@internal` may have (Go's `math.MaxInt - 1000`).
pub const MAX_USER_PRIORITY: i64 = i64::MAX - 1000;

/// A router that cannot join the set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    #[error("router priority {priority} exceeds the maximum user-defined priority {max}", max = MAX_USER_PRIORITY)]
    PriorityTooHigh { priority: i64 },
}

struct Entry<T> {
    name: Box<str>,
    priority: i64,
    provider_rank: i64,
    rule: Rule,
    value: T,
}

/// Collects the routers of one entry point; [`RuleSetBuilder::build`] sorts them.
pub struct RuleSetBuilder<T> {
    /// Provider names, highest precedence first.
    precedence: Vec<Box<str>>,
    entries: Vec<Entry<T>>,
}

impl<T> Default for RuleSetBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RuleSetBuilder<T> {
    /// A builder with Traefik's default provider precedence.
    pub fn new() -> Self {
        Self::with_provider_precedence(DEFAULT_PROVIDER_PRECEDENCE)
    }

    /// A builder with the given `providers.precedence` (highest first; lowercased as Traefik does).
    pub fn with_provider_precedence<I, S>(precedence: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        RuleSetBuilder {
            precedence: precedence.into_iter().map(|p| p.as_ref().to_lowercase().into()).collect(),
            entries: Vec::new(),
        }
    }

    /// Adds router `name` (qualified, `web@file`) with its configured `priority` (0 when unset:
    /// then the rule's length, as in Traefik), its compiled rule and what a match should yield.
    pub fn add(
        &mut self,
        name: &str,
        priority: i64,
        rule: Rule,
        value: T,
    ) -> Result<(), RuleSetError> {
        let priority = if priority == 0 { rule.default_priority() } else { priority };
        if priority > MAX_USER_PRIORITY && !name.ends_with("@internal") {
            return Err(RuleSetError::PriorityTooHigh { priority });
        }
        let provider_rank = self.provider_rank(name);
        self.entries.push(Entry { name: name.into(), priority, provider_rank, rule, value });
        Ok(())
    }

    /// Traefik's `providerPriority`: the provider's index in the reversed precedence list, -1
    /// when it is not listed. The provider is what follows the only `@` of the name.
    fn provider_rank(&self, name: &str) -> i64 {
        let mut parts = name.split('@');
        let provider = match (parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(p), None) => p,
            _ => "",
        };
        match self.precedence.iter().position(|p| &**p == provider) {
            Some(i) => i64::try_from(self.precedence.len() - 1 - i).unwrap_or(i64::MAX),
            None => -1,
        }
    }

    pub fn build(mut self) -> RuleSet<T> {
        self.entries.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(b.provider_rank.cmp(&a.provider_rank))
                .then_with(|| a.name.cmp(&b.name))
        });
        RuleSet { entries: self.entries.into() }
    }
}

/// The compiled, ordered routers of one entry point.
pub struct RuleSet<T> {
    entries: Box<[Entry<T>]>,
}

impl<T> RuleSet<T> {
    /// What the first router (in Traefik's order) whose rule matches yields; None is Traefik's 404.
    pub fn first_match(&self, req: &RequestView<'_>) -> Option<&T> {
        self.entries.iter().find(|e| e.rule.matches(req)).map(|e| &e.value)
    }

    /// Every matching router, in order, with its name: for diagnostics and tests.
    pub fn matching<'s>(
        &'s self,
        req: &'s RequestView<'s>,
    ) -> impl Iterator<Item = (&'s str, &'s T)> + 's {
        self.entries.iter().filter(|e| e.rule.matches(req)).map(|e| (&*e.name, &e.value))
    }

    /// The routers in order: name, effective priority, value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64, &T)> {
        self.entries.iter().map(|e| (&*e.name, e.priority, &e.value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<T: fmt::Debug> fmt::Debug for RuleSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| (&e.name, e.priority, &e.value)))
            .finish()
    }
}

// A compiled table is shared by every connection task: it must be Send + Sync.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Rule>();
    shareable::<RuleSet<()>>();
};

//! `tollgate run`: binds the entry points, starts the providers, applies each new configuration
//! with one atomic table swap, and shuts down gracefully.
//!
//! Life cycle: bind every entry point, or take the socket systemd passed for it (a port in use
//! fails the start) → first dynamic configuration applied → accept connections → ready.
//! Connections that arrive before the first configuration wait in the listen queue instead of
//! getting a 404 from an empty table: after a restart under socket activation, the requests
//! queued meanwhile are answered by the configuration, not refused by its absence. SIGHUP
//! re-reads the providers; SIGTERM (or SIGINT) stops accepting after `requestAcceptGraceTimeout`,
//! lets requests in flight finish for up to `graceTimeOut`, then exits 0. The service manager
//! hears of each step through `crate::systemd::Supervisor`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::config::{StaticConfig, StaticMeta};
use crate::logs::AccessLog;
use crate::provider::{Aggregate, FileProviderHandle, ProviderUpdate, spawn_file_provider};
use crate::proxy::{
    self, CompileInput, ConnSettings, Connections, EntryPointRt, EntryPointSpec, RouteTable, Shared,
};
use crate::rule::Syntax;
use crate::stats;

/// Run until SIGTERM; returns once the drain is over.
pub fn run(config: StaticConfig, meta: StaticMeta) -> anyhow::Result<()> {
    // Before any thread exists: taking the passed sockets clears LISTEN_* from the environment.
    let inherited = crate::systemd::Inherited::take_from_env()?;
    let mut builder = if worker_threads() == 1 {
        // One worker: tokio's single-threaded scheduler does the same work without the
        // multi-threaded one's atomics, work-stealing checks and wake-up hand-offs.
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder
        .enable_all()
        .thread_name("tollgate")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config, meta, inherited))
}

/// The workers the multi-threaded runtime would start: `TOKIO_WORKER_THREADS` (tokio's own
/// setting) when it is a positive number, else the CPUs this process may run on (affinity and
/// cgroup quota included).
fn worker_threads() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

async fn serve(
    config: StaticConfig,
    meta: StaticMeta,
    mut inherited: crate::systemd::Inherited,
) -> anyhow::Result<()> {
    for warning in &meta.warnings {
        tracing::warn!(warning = %warning, "static configuration");
    }
    let specs = proxy::entrypoint_specs(&config);
    let hostname = hostname();
    let mut listeners = Vec::new();
    let mut entrypoints = Vec::new();
    let mut settings = Vec::new();
    for (name, ep) in &config.entry_points {
        let address = meta
            .addresses
            .get(name)
            .with_context(|| format!("entry point `{name}` has no address"))?;
        // A socket passed by systemd under this entry point's name, else our own.
        let std_listener = match inherited.take(name) {
            Some(passed) => passed,
            None => proxy::bind(name, address)?,
        };
        let listener =
            TcpListener::from_std(std_listener).with_context(|| format!("entry point `{name}`"))?;
        tracing::info!(entrypoint = %name, address = %listener.local_addr()?, "listening");
        listeners.push(listener);
        let trusted = ep
            .forwarded_headers
            .trusted_ips
            .iter()
            .map(|ip| ip.parse())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("entryPoints.{name}.forwardedHeaders.trustedIPs"))?;
        entrypoints.push(EntryPointRt {
            name: name.as_str().into(),
            forwarded: proxy::headers::ForwardedPolicy::new(
                ep.forwarded_headers.insecure,
                trusted,
                &hostname,
            ),
        });
        settings.push(Arc::new(ConnSettings::new(ep)));
    }
    for name in inherited.unclaimed() {
        tracing::warn!(entrypoint = %name, "socket activation: passed socket matches no entry point; closed");
    }
    drop(inherited);
    // The stats engine and the access log: fed from every finished request without ever making
    // it wait (bounded queues; full means dropped and counted).
    let (hits, stats) = if config.stats.enabled {
        let dir = state_directory(&config);
        if dir.is_none() {
            tracing::info!("no state directory: traffic statistics are kept in memory only");
        }
        let (sender, handle) = stats::spawn(&config.stats.to_stats_config(), dir);
        (Some(Arc::new(sender) as Arc<dyn proxy::HitSink>), Some(handle))
    } else {
        (None, None)
    };
    let access_log = match &config.access_log {
        Some(model) => Some(Arc::new(AccessLog::new(model).context("cannot open the access log")?)),
        None => None,
    };
    let shared = Arc::new(Shared {
        routes: ArcSwap::from_pointee(RouteTable::empty(entrypoints.len())),
        entrypoints: entrypoints.into(),
        hits,
        stats: stats.as_ref().map(stats::StatsHandle::reader),
        access_log: access_log.clone(),
        requests: Default::default(),
        stopping: Default::default(),
    });
    let notifier = crate::systemd::Notifier::from_env().unwrap_or_else(|err| {
        tracing::warn!(error = %err, "not notifying the service manager");
        crate::systemd::Notifier::disabled()
    });
    let mut supervisor = crate::systemd::Supervisor::new(
        notifier,
        shared.clone(),
        crate::systemd::watchdog_from_env(),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let connections = Arc::new(Connections::default());
    let (serving_tx, serving_rx) = watch::channel(false);
    for (index, listener) in listeners.into_iter().enumerate() {
        let serve = proxy::serve(
            listener,
            index,
            settings[index].clone(),
            shared.clone(),
            connections.clone(),
            stop_rx.clone(),
        );
        let mut serving = serving_rx.clone();
        let accept_loop = tokio::spawn(async move {
            if serving.wait_for(|s| *s).await.is_ok() {
                serve.await;
            }
        });
        supervisor.watch_accept_loop(&shared.entrypoints[index].name, accept_loop);
    }

    let (updates_tx, mut updates) = mpsc::channel::<ProviderUpdate>(16);
    let providers = Providers::start(&config, updates_tx);
    let mut applier = Applier {
        shared: shared.clone(),
        specs,
        default_syntax: if config.core.default_rule_syntax == "v2" {
            Syntax::V2
        } else {
            Syntax::V3
        },
        aggregate: Aggregate::default(),
        transports: HashMap::new(),
    };
    let throttle = config.providers.providers_throttle_duration.0;

    let mut hangup = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut user1 = signal(SignalKind::user_defined1()).context("cannot listen for SIGUSR1")?;
    let mut last_apply: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            Some(update) = updates.recv() => {
                // providersThrottleDuration: at most one apply per period; later news within
                // the period is folded into the next apply.
                if let Some(last) = last_apply {
                    tokio::time::sleep_until(last + throttle).await;
                }
                applier.take(update);
                while let Ok(more) = updates.try_recv() {
                    applier.take(more);
                }
                let errors = applier.apply();
                serving_tx.send_replace(true);
                supervisor.applied(errors);
                last_apply = Some(tokio::time::Instant::now());
            }
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the dynamic configuration");
                supervisor.reloading(providers.reload());
            }
            () = supervisor.tick() => {}
            _ = user1.recv() => {
                // logrotate moved the file: write to a new one at the configured path.
                if let Some(log) = &access_log {
                    tracing::info!("SIGUSR1: reopening the access log");
                    log.reopen();
                }
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }

    let accept_grace = config
        .entry_points
        .values()
        .map(|ep| ep.transport.life_cycle.request_accept_grace_timeout.0)
        .max()
        .unwrap_or_default();
    let grace = config
        .entry_points
        .values()
        .map(|ep| ep.transport.life_cycle.grace_time_out.0)
        .max()
        .unwrap_or(Duration::from_secs(10));
    shared.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(open_connections = connections.open(), "stopping");
    let drain = async {
        if !accept_grace.is_zero() {
            tokio::time::sleep(accept_grace).await;
        }
        let _ = stop_tx.send(true);
        if tokio::time::timeout(grace, connections.drained()).await.is_err() {
            tracing::warn!(open_connections = connections.open(), grace = ?grace, "grace period over; closing remaining connections");
        }
        if let Some(stats) = stats {
            // The final snapshot: nothing counted is lost across a restart.
            stats.shutdown().await;
        }
    };
    // Something to wait for: the drain may outlast TimeoutStopSec=, so it is extended.
    let waits = !accept_grace.is_zero() || connections.open() > 0;
    let bound = if waits { accept_grace + grace } else { Duration::ZERO };
    supervisor.stopping(connections.open(), bound, drain).await;
    // The supervisor holds `shared` too: the access log below is closed only when it is the last.
    drop(supervisor);
    drop(shared);
    if let Some(log) = access_log.and_then(|log| Arc::try_unwrap(log).ok()) {
        log.close();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Compiles and publishes configurations.
struct Applier {
    shared: Arc<Shared>,
    specs: Vec<EntryPointSpec>,
    default_syntax: Syntax,
    aggregate: Aggregate,
    transports: HashMap<String, Arc<proxy::client::Transport>>,
}

impl Applier {
    fn take(&mut self, update: ProviderUpdate) {
        match update.result {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    tracing::warn!(provider = update.provider, warning = %warning, "dynamic configuration");
                }
                self.aggregate.set(update.provider, loaded);
            }
            Err(errors) => {
                for error in errors.iter() {
                    tracing::error!(provider = update.provider, error = %error, "configuration refused; the last good one stays in force");
                }
            }
        }
    }

    /// Returns how many configuration elements were left out.
    fn apply(&mut self) -> usize {
        let merged = self.aggregate.merged();
        let previous = self.shared.routes.load_full();
        let compiled = proxy::compile(
            &merged,
            &CompileInput {
                entrypoints: &self.specs,
                default_syntax: self.default_syntax,
                locate: &self.aggregate,
                previous: Some(&previous),
                transports: &self.transports,
            },
        );
        for error in &compiled.errors {
            // The element's name as its own field: a journal field (ROUTER=, SERVICE=) to
            // filter on with journalctl.
            let name = error.name.as_str();
            match error.element {
                proxy::Element::Router => {
                    tracing::error!(router = name, error = %error, "configuration element left out")
                }
                proxy::Element::Service => {
                    tracing::error!(service = name, error = %error, "configuration element left out")
                }
                proxy::Element::Middleware => {
                    tracing::error!(middleware = name, error = %error, "configuration element left out")
                }
            }
        }
        let routers = compiled.table.routers.len();
        let services = compiled.table.services.len();
        self.transports = compiled.transports;
        let table = Arc::new(compiled.table);
        self.shared.routes.store(table.clone());
        table.start_health_checks();
        tracing::info!(routers, services, errors = compiled.errors.len(), "configuration applied");
        compiled.errors.len()
    }
}

/// The running providers.
struct Providers {
    file: Option<FileProviderHandle>,
}

impl Providers {
    fn start(config: &StaticConfig, updates: mpsc::Sender<ProviderUpdate>) -> Providers {
        match &config.providers.file {
            Some(file) => Providers { file: Some(spawn_file_provider(file, updates)) },
            None => {
                // No provider at all: an empty configuration is the first one, and the router
                // is ready (it answers 404 until a provider is configured).
                let empty = crate::config::Loaded {
                    config: Default::default(),
                    origins: Default::default(),
                    warnings: Vec::new(),
                };
                let _ = updates.try_send(ProviderUpdate { provider: "file", result: Ok(empty) });
                Providers { file: None }
            }
        }
    }

    /// Re-read every provider; whether any will answer with a configuration (the reload ends
    /// with the next apply).
    fn reload(&self) -> bool {
        if let Some(file) = &self.file {
            file.reload();
        }
        self.file.is_some()
    }
}

/// Where stats snapshots live: `stateDirectory`, else systemd's `$STATE_DIRECTORY` (first entry),
/// else `/var/lib/tollgate` if it exists. `None`: keep statistics in memory only.
fn state_directory(config: &StaticConfig) -> Option<std::path::PathBuf> {
    if let Some(dir) = config.state_directory.as_deref().filter(|d| !d.is_empty()) {
        return Some(dir.into());
    }
    if let Some(dirs) = std::env::var_os("STATE_DIRECTORY") {
        let first = dirs.to_string_lossy().split(':').next().unwrap_or("").to_owned();
        if !first.is_empty() {
            return Some(first.into());
        }
    }
    let default = std::path::Path::new("/var/lib/tollgate");
    default.is_dir().then(|| default.to_path_buf())
}

/// This machine's name, for `X-Forwarded-Server`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

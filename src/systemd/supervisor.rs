//! The life cycle as the service manager sees it, driven from the runtime's main loop:
//! READY=1 after the first configuration, RELOADING=1/READY=1 around SIGHUP, STATUS= every few
//! seconds, WATCHDOG=1 at half of `WATCHDOG_USEC`, STOPPING=1 and EXTEND_TIMEOUT_USEC= during
//! the drain.
//!
//! Why the watchdog ping comes from the main loop and not from a timer thread of its own: a ping
//! must prove that tollgate still serves. The main loop is the task that applies configurations
//! and answers signals; when it turns, the runtime's scheduler and timers work. Before each ping
//! the supervisor also checks that every entry point's accept loop is still running (a panic in
//! one ends its task while the rest of the process looks healthy). A wedged main loop, a
//! runtime whose threads are all blocked, or a dead accept loop each stop the pings, and
//! systemd restarts tollgate after `WatchdogSec=`. What this does not catch: an accept loop that
//! is alive but stuck inside one poll (docs/SYSTEMD.md, "Known gaps").

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::notify::{Notifier, monotonic_usec};
use crate::proxy::Shared;

/// How often STATUS= is refreshed.
pub const STATUS_PERIOD: Duration = Duration::from_secs(5);

/// How often EXTEND_TIMEOUT_USEC= is renewed while a drain runs; each renewal grants three
/// periods, so one late tick does not get tollgate killed, and a wedged drain stops renewing.
pub const EXTEND_PERIOD: Duration = Duration::from_secs(5);

/// The watchdog interval systemd asks for (`WATCHDOG_USEC`, honoured only when `WATCHDOG_PID`
/// is unset or ours). `None` outside systemd or when the value is 0.
pub fn watchdog_from_env() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first configuration.
    Starting,
    Ready,
    /// SIGHUP received; READY=1 follows the next applied configuration.
    Reloading,
}

/// Sends the life-cycle notifications. One per runtime, owned by the main loop.
pub struct Supervisor {
    notifier: Notifier,
    shared: Arc<Shared>,
    accept_loops: Vec<(Box<str>, JoinHandle<()>)>,
    phase: Phase,
    watchdog: Option<Duration>,
    watchdog_tick: Option<Interval>,
    status_tick: Option<Interval>,
    /// Configuration elements left out by the last apply.
    errors: usize,
    /// The request counter and the time at the last status line, for requests per second.
    last_requests: u64,
    last_at: Instant,
    /// The entry point whose accept loop ended; pings are withheld from then on.
    dead: Option<Box<str>>,
}

impl Supervisor {
    /// `watchdog`: the interval systemd expects pings within ([`watchdog_from_env`]); pings go
    /// out at half of it. Call inside the runtime (the timers belong to it).
    pub fn new(notifier: Notifier, shared: Arc<Shared>, watchdog: Option<Duration>) -> Supervisor {
        let enabled = notifier.is_enabled();
        let watchdog = watchdog.filter(|_| enabled);
        // The first tick one period from now: READY=1 carries the first status line, and the
        // first ping is due half a watchdog interval after start at the earliest.
        let ticker = |period: Duration| {
            let mut interval = tokio::time::interval_at(Instant::now() + period, period);
            // After a stall, one ping, not a burst of the missed ones.
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        };
        Supervisor {
            watchdog_tick: watchdog.map(|w| ticker((w / 2).max(Duration::from_millis(1)))),
            status_tick: enabled.then(|| ticker(STATUS_PERIOD)),
            notifier,
            last_requests: shared.requests.load(Ordering::Relaxed),
            shared,
            accept_loops: Vec::new(),
            phase: Phase::Starting,
            watchdog,
            errors: 0,
            last_at: Instant::now(),
            dead: None,
        }
    }

    /// Watch an entry point's accept loop: if its task ever ends before shutdown, the watchdog
    /// pings stop.
    pub fn watch_accept_loop(&mut self, entrypoint: &str, task: JoinHandle<()>) {
        self.accept_loops.push((entrypoint.into(), task));
    }

    /// A configuration was applied with `errors` elements left out. The first one makes the
    /// service ready; one after SIGHUP ends the reload.
    pub fn applied(&mut self, errors: usize) {
        self.errors = errors;
        match self.phase {
            Phase::Starting | Phase::Reloading => {
                self.phase = Phase::Ready;
                let status = self.status_line();
                self.notifier.send(&format!("READY=1\nSTATUS={status}\n"));
            }
            Phase::Ready => self.send_status(),
        }
    }

    /// SIGHUP: tell the manager a reload runs. `answered`: whether a provider will send a
    /// configuration in reply; if none will, the reload is over at once.
    pub fn reloading(&mut self, answered: bool) {
        if self.phase == Phase::Starting {
            return; // READY=1 comes with the first configuration anyway
        }
        self.phase = Phase::Reloading;
        let mut message = String::from("RELOADING=1\n");
        if let Some(usec) = monotonic_usec() {
            // systemd 253+ (Type=notify-reload) refuses a reload without it.
            message.push_str(&format!("MONOTONIC_USEC={usec}\n"));
        }
        message.push_str("STATUS=reloading the configuration\n");
        self.notifier.send(&message);
        if !answered {
            self.applied(self.errors);
        }
    }

    /// Wait for the next watchdog or status tick and send it. Cancel-safe (for `select!`);
    /// pending forever outside systemd.
    pub async fn tick(&mut self) {
        tokio::select! {
            () = next(&mut self.watchdog_tick) => self.ping(),
            () = next(&mut self.status_tick) => self.send_status(),
        }
    }

    fn ping(&mut self) {
        if self.dead.is_none() {
            self.dead = self
                .accept_loops
                .iter()
                .find(|(_, task)| task.is_finished())
                .map(|(name, _)| name.clone());
            if let Some(name) = &self.dead {
                tracing::error!(entrypoint = %name, "entry point stopped accepting connections; withholding the watchdog so the service manager restarts tollgate");
                self.send_status();
            }
        }
        if self.dead.is_none() {
            self.notifier.send("WATCHDOG=1\n");
        }
    }

    fn send_status(&mut self) {
        let status = self.status_line();
        self.notifier.send(&format!("STATUS={status}\n"));
    }

    /// One line for `systemctl status`.
    fn status_line(&mut self) -> String {
        if let Some(name) = &self.dead {
            return format!(
                "entry point {name} stopped accepting connections; waiting for the watchdog"
            );
        }
        let now = Instant::now();
        let requests = self.shared.requests.load(Ordering::Relaxed);
        let seconds = now.duration_since(self.last_at).as_secs_f64();
        let rate = if seconds > 0.0 {
            requests.saturating_sub(self.last_requests) as f64 / seconds
        } else {
            0.0
        };
        self.last_requests = requests;
        self.last_at = now;
        let table = self.shared.routes.load();
        let summary = summary(table.routers.len(), table.services.len(), rate, self.errors);
        match self.phase {
            Phase::Starting => "starting: waiting for the first configuration".to_owned(),
            Phase::Ready => summary,
            Phase::Reloading => format!("reloading; {summary}"),
        }
    }

    /// STOPPING=1, then run `drain` (at most `bound` long). While a drain that has something to
    /// wait for runs, EXTEND_TIMEOUT_USEC= is renewed (a drain longer than `TimeoutStopSec=` is
    /// not killed while it progresses) and the watchdog keeps being fed.
    pub async fn stopping<F: Future>(
        &mut self,
        open_connections: usize,
        bound: Duration,
        drain: F,
    ) -> F::Output {
        self.notifier.send(&format!(
            "STOPPING=1\nSTATUS=stopping: draining {open_connections} connection(s)\n"
        ));
        if bound.is_zero() || !self.notifier.is_enabled() {
            return drain.await;
        }
        let period = match self.watchdog {
            Some(w) => EXTEND_PERIOD.min(w / 2).max(Duration::from_millis(1)),
            None => EXTEND_PERIOD,
        };
        let extend_usec = (3 * EXTEND_PERIOD).as_micros().max(3 * period.as_micros());
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tokio::pin!(drain);
        loop {
            tokio::select! {
                out = &mut drain => return out,
                _ = ticker.tick() => {
                    let mut message = format!("EXTEND_TIMEOUT_USEC={extend_usec}\n");
                    if self.watchdog.is_some() {
                        message.push_str("WATCHDOG=1\n");
                    }
                    self.notifier.send(&message);
                }
            }
        }
    }
}

/// `12 routers, 3 services, 4.2 req/s, 0 configuration errors`
fn summary(routers: usize, services: usize, rate: f64, errors: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{routers} router{}, {services} service{}, {rate:.1} req/s, {errors} configuration error{}",
        plural(routers),
        plural(services),
        plural(errors)
    )
}

async fn next(ticker: &mut Option<Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;

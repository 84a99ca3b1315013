//! systemd integration: readiness, reload, status, watchdog and stop notifications
//! (`sd_notify(3)`), and socket activation (`sd_listen_fds(3)`). Journald logging lives in
//! `crate::logging`.
//!
//! Outside systemd (no `NOTIFY_SOCKET`, no `LISTEN_FDS`) all of it is silent and tollgate binds
//! its entry points itself. This module never decides anything about routing: the runtime tells
//! it what happened and it tells the service manager.
//!
//! Life cycle, as the runtime drives it:
//! 1. [`Inherited::take_from_env`] before the async runtime starts (it clears `LISTEN_*`);
//! 2. each entry point takes its passed socket with [`Inherited::take`] or binds its address;
//! 3. [`Supervisor::applied`] after each applied configuration (READY=1 the first time);
//! 4. [`Supervisor::tick`] in the main loop's `select!` (WATCHDOG=1, STATUS=);
//! 5. [`Supervisor::reloading`] on SIGHUP (RELOADING=1, then READY=1 with the next apply);
//! 6. [`Supervisor::stopping`] around the drain (STOPPING=1, EXTEND_TIMEOUT_USEC=).

mod activation;
mod notify;
mod supervisor;

pub use activation::{ActivationError, Inherited};
pub use notify::{Notifier, NotifySocketError, monotonic_usec};
pub use supervisor::{EXTEND_PERIOD, STATUS_PERIOD, Supervisor, watchdog_from_env};

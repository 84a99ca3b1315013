//! systemd integration: readiness and life-cycle notifications. Outside systemd (no
//! `NOTIFY_SOCKET`) every call is silent.

use sd_notify::NotifyState;

/// READY=1: every entry point listens and the first configuration is applied.
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// STOPPING=1: shutdown has begun.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(err) = sd_notify::notify(states) {
        tracing::warn!(error = %err, "cannot notify systemd");
    }
}

//! The service manager's notification socket (`$NOTIFY_SOCKET`): one datagram per state change,
//! `KEY=value` lines, as `sd_notify(3)` describes.
//!
//! The socket is opened once and every message is addressed anew (`send_to`), so a manager that
//! re-creates its socket (`systemctl daemon-reexec`) still hears us. A send waits at most
//! [`SEND_TIMEOUT`]: a unix datagram socket blocks while the receiver's queue is full, and the
//! caller is the runtime's main loop, which must not stall behind a slow manager. A message lost
//! that way is logged; the next watchdog ping or status line follows a few seconds later.

use std::io;
use std::os::linux::net::SocketAddrExt as _;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest a notification may wait for room in the manager's queue.
const SEND_TIMEOUT: Duration = Duration::from_millis(250);

/// A connection to the service manager, or nothing outside systemd (every send is then silent).
#[derive(Debug, Default)]
pub struct Notifier {
    target: Option<Target>,
    /// A failed send is logged at WARN once, then at DEBUG: a vanished manager must not fill
    /// the log with one line per watchdog ping.
    warned: AtomicBool,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    addr: SocketAddr,
    /// `$NOTIFY_SOCKET` as given, for messages.
    shown: Box<str>,
}

/// Why `$NOTIFY_SOCKET` cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("NOTIFY_SOCKET=`{value}`: {reason}")]
pub struct NotifySocketError {
    value: String,
    reason: String,
}

impl Notifier {
    /// The manager named by `$NOTIFY_SOCKET`; silent when it is unset or empty.
    pub fn from_env() -> Result<Notifier, NotifySocketError> {
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(value) if !value.is_empty() => Notifier::connect(&value.to_string_lossy()),
            _ => Ok(Notifier::disabled()),
        }
    }

    /// Notifications to the socket at `path`: an absolute path, or `@name` for an abstract
    /// socket (systemd's convention).
    pub fn connect(path: &str) -> Result<Notifier, NotifySocketError> {
        let fail = |reason: String| NotifySocketError { value: path.to_owned(), reason };
        let addr = if let Some(name) = path.strip_prefix('@') {
            SocketAddr::from_abstract_name(name.as_bytes())
        } else if path.starts_with('/') {
            SocketAddr::from_pathname(path)
        } else {
            return Err(fail("not an absolute path or an @abstract name".into()));
        }
        .map_err(|e| fail(e.to_string()))?;
        let socket = UnixDatagram::unbound().map_err(|e| fail(e.to_string()))?;
        socket.set_write_timeout(Some(SEND_TIMEOUT)).map_err(|e| fail(e.to_string()))?;
        Ok(Notifier {
            target: Some(Target { socket, addr, shown: path.into() }),
            warned: AtomicBool::new(false),
        })
    }

    /// A notifier that never sends (outside systemd).
    pub fn disabled() -> Notifier {
        Notifier::default()
    }

    /// Whether a service manager listens.
    pub fn is_enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Send one message: `KEY=value` lines. Failures are logged, never returned: the service
    /// manager's absence must not stop the router.
    pub fn send(&self, message: &str) {
        let Some(target) = &self.target else { return };
        if let Err(err) = send_all(target, message.as_bytes()) {
            if self.warned.swap(true, Ordering::Relaxed) {
                tracing::debug!(error = %err, socket = %target.shown, "cannot notify the service manager");
            } else {
                tracing::warn!(error = %err, socket = %target.shown, "cannot notify the service manager");
            }
        }
    }
}

fn send_all(target: &Target, message: &[u8]) -> io::Result<()> {
    let sent = target.socket.send_to_addr(message, &target.addr)?;
    if sent != message.len() {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "notification cut short"));
    }
    Ok(())
}

/// The current `CLOCK_MONOTONIC` time in microseconds, for `MONOTONIC_USEC=` (systemd compares
/// it with its own clock to tell this reload from an earlier one).
pub fn monotonic_usec() -> Option<i128> {
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(sd_notify::NotifyState::MonotonicUsec(usec)) => Some(usec),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener() -> (tempfile::TempDir, UnixDatagram, String) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        (dir, socket, path.display().to_string())
    }

    fn recv(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 1024];
        let n = socket.recv(&mut buf).expect("a datagram");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn sends_one_datagram_per_message_to_a_path() {
        let (_dir, socket, path) = listener();
        let notifier = Notifier::connect(&path).expect("valid path");
        assert!(notifier.is_enabled());
        notifier.send("READY=1\nSTATUS=up\n");
        notifier.send("STOPPING=1\n");
        assert_eq!(recv(&socket), "READY=1\nSTATUS=up\n");
        assert_eq!(recv(&socket), "STOPPING=1\n");
    }

    #[test]
    fn reaches_an_abstract_socket() {
        let name = format!("tollgate-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract name");
        let socket = UnixDatagram::bind_addr(&addr).expect("bind abstract");
        socket.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let notifier = Notifier::connect(&format!("@{name}")).expect("valid name");
        notifier.send("WATCHDOG=1\n");
        assert_eq!(recv(&socket), "WATCHDOG=1\n");
    }

    #[test]
    fn relative_path_is_refused_with_its_value() {
        let err = Notifier::connect("run/notify").expect_err("relative");
        assert_eq!(
            err.to_string(),
            "NOTIFY_SOCKET=`run/notify`: not an absolute path or an @abstract name"
        );
    }

    #[test]
    fn a_missing_manager_is_not_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let notifier =
            Notifier::connect(&dir.path().join("gone.sock").display().to_string()).expect("path");
        notifier.send("READY=1\n"); // logged, not fatal
        Notifier::disabled().send("READY=1\n");
        assert!(!Notifier::disabled().is_enabled());
    }

    #[test]
    fn monotonic_clock_is_read() {
        let a = monotonic_usec().expect("CLOCK_MONOTONIC");
        let b = monotonic_usec().expect("CLOCK_MONOTONIC");
        assert!(a > 0 && b >= a);
    }
}

//! Socket activation: listening sockets handed over by systemd (`LISTEN_PID`, `LISTEN_FDS`,
//! `LISTEN_FDNAMES`, descriptors from 3 on), matched to entry points by name.
//!
//! A `.socket` unit's `FileDescriptorName=` is the entry point's name; an entry point without a
//! passed socket binds its own address, as Traefik does. The socket stays with systemd across
//! restarts, so tollgate can own :80 without a capability and a restart refuses no connection.
//!
//! Every passed descriptor is checked before it is used: it must be a listening TCP socket
//! (IPv4 or IPv6). Anything else (a datagram socket, a unix socket, a file, a socket that does
//! not listen) is reported and left alone: not adopted, so not closed either, since a descriptor
//! this process did not receive from systemd may belong to someone else here. Two passed sockets
//! with one name: the first is used and the second reported, as Traefik does.

use std::net::TcpListener;
use std::os::fd::{BorrowedFd, FromRawFd as _, OwnedFd, RawFd};

use socket2::{Domain, SockRef, Type};

/// Listening sockets passed by the service manager, not yet claimed by an entry point.
#[derive(Debug, Default)]
pub struct Inherited {
    sockets: Vec<Passed>,
    /// Whether the service manager passed anything at all (for Traefik's warning when an entry
    /// point finds no socket of its name).
    active: bool,
}

#[derive(Debug)]
struct Passed {
    name: String,
    fd: RawFd,
    listener: TcpListener,
}

/// A malformed socket-activation environment, with the variables as they were.
#[derive(Debug, thiserror::Error)]
#[error("socket activation: {reason} (LISTEN_PID={pid}, LISTEN_FDS={fds}, LISTEN_FDNAMES={names})")]
pub struct ActivationError {
    reason: String,
    pid: String,
    fds: String,
    names: String,
}

impl Inherited {
    /// Take the sockets passed through `LISTEN_*` and clear those variables, so nothing this
    /// process starts inherits them. Sockets meant for another process (`LISTEN_PID` is not
    /// ours) are ignored, as `sd_listen_fds(3)` does.
    ///
    /// Call before any other thread exists (clearing the environment is only sound then): at the
    /// top of `runtime::run`, before the async runtime starts.
    #[allow(unsafe_code)]
    pub fn take_from_env() -> Result<Inherited, ActivationError> {
        let var = |name| std::env::var(name).unwrap_or_else(|_| "(unset)".to_owned());
        let (pid, fds, names) = (var("LISTEN_PID"), var("LISTEN_FDS"), var("LISTEN_FDNAMES"));
        // SAFETY: `remove_var` races with any other thread reading or writing the environment.
        // Our caller runs on the only thread of the process (before the tokio runtime and
        // before anything spawns a thread), so there is none.
        let passed = unsafe { sd_notify::listen_fds_with_names_and_unset_env() };
        let passed = match passed {
            Ok(passed) => passed,
            // sd-notify 0.5 reports a LISTEN_FDNAMES mismatch when LISTEN_PID is someone
            // else's (it counts no descriptors, then compares with the names). Those sockets
            // are not ours whatever the names say; sd_listen_fds(3) returns none, and so do we.
            Err(_) if pid.parse::<u32>().is_ok_and(|p| p != std::process::id()) => {
                return Ok(Inherited::default());
            }
            Err(err) => return Err(ActivationError { reason: err.to_string(), pid, fds, names }),
        };
        let mut inherited = Inherited::default();
        for (fd, name) in passed {
            inherited.active = true;
            match adopt(fd) {
                Ok(listener) => inherited.add(name, fd, listener),
                Err(what) => tracing::warn!(
                    entrypoint = %name,
                    fd,
                    "socket activation: passed descriptor is {what}, not a listening TCP socket; ignored"
                ),
            }
        }
        Ok(inherited)
    }

    /// Build from sockets already owned (tests, and callers that got them elsewhere).
    pub fn from_listeners(listeners: Vec<(String, TcpListener)>) -> Inherited {
        let mut inherited = Inherited { sockets: Vec::new(), active: !listeners.is_empty() };
        for (name, listener) in listeners {
            use std::os::fd::AsRawFd as _;
            let fd = listener.as_raw_fd();
            inherited.add(name, fd, listener);
        }
        inherited
    }

    fn add(&mut self, name: String, fd: RawFd, listener: TcpListener) {
        if self.sockets.iter().any(|p| p.name == name) {
            tracing::error!(entrypoint = %name, fd, "socket activation: one listening socket per entry point name; this one is ignored");
            return;
        }
        self.sockets.push(Passed { name, fd, listener });
    }

    /// Whether the service manager passed any socket.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The socket passed for `entrypoint`, ready for tokio (non-blocking). `None`: bind as
    /// usual (a warning says so when other sockets were passed, as Traefik's does).
    pub fn take(&mut self, entrypoint: &str) -> Option<TcpListener> {
        let Some(at) = self.sockets.iter().position(|p| p.name == entrypoint) else {
            if self.active {
                tracing::warn!(
                    entrypoint = %entrypoint,
                    "socket activation: no socket passed for this entry point; binding its address"
                );
            }
            return None;
        };
        let passed = self.sockets.swap_remove(at);
        // systemd passes blocking sockets unless the unit says `NonBlocking=yes`.
        if let Err(err) = passed.listener.set_nonblocking(true) {
            tracing::warn!(entrypoint = %entrypoint, fd = passed.fd, error = %err, "socket activation: cannot make the socket non-blocking; binding its address");
            return None;
        }
        Some(passed.listener)
    }

    /// Names of passed sockets no entry point claimed. They are closed when `self` drops.
    pub fn unclaimed(&self) -> impl Iterator<Item = &str> {
        self.sockets.iter().map(|p| p.name.as_str())
    }
}

/// Own `fd` as a listener if it is a listening TCP socket; otherwise say what it is and leave
/// it open.
#[allow(unsafe_code)]
fn adopt(fd: RawFd) -> Result<TcpListener, String> {
    // SAFETY (both blocks): the sd_listen_fds(3) contract: descriptors 3 .. 3+LISTEN_FDS are
    // passed to the process LISTEN_PID names, for it to own, and `sd_notify::listen_fds*`
    // returned `fd` only when LISTEN_PID is this process and after `fcntl(F_SETFD)` succeeded on
    // it, so it is open. What this process opened itself before this point (configuration
    // files, already closed; the journald logging socket) is never a listening TCP socket, so
    // the check below keeps us from taking one of our own even if LISTEN_FDS overstates the
    // count. The borrow ends before ownership is taken, and each number is taken once: the
    // variables are cleared by the caller's same call.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    if let Some(what) = describe_unusable(&SockRef::from(&borrowed)) {
        return Err(what);
    }
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(TcpListener::from(owned))
}

/// `None` for a listening TCP socket, else a description of what the descriptor is.
fn describe_unusable(socket: &SockRef<'_>) -> Option<String> {
    let domain = match socket.domain() {
        Ok(domain) => domain,
        Err(err) if err.raw_os_error() == Some(libc::ENOTSOCK) => {
            return Some("not a socket".into());
        }
        Err(err) => return Some(format!("unreadable ({err})")),
    };
    if domain != Domain::IPV4 && domain != Domain::IPV6 {
        let family = if domain == Domain::UNIX {
            "a unix socket".into()
        } else {
            format!("a {domain:?} socket")
        };
        return Some(family);
    }
    match socket.r#type() {
        Ok(ty) if ty == Type::STREAM => {}
        Ok(ty) if ty == Type::DGRAM => return Some("a datagram (UDP) socket".into()),
        Ok(ty) => return Some(format!("a {ty:?} socket")),
        Err(err) => return Some(format!("unreadable ({err})")),
    }
    match socket.is_listener() {
        Ok(true) => None,
        Ok(false) => Some("a TCP socket that does not listen".into()),
        Err(err) => Some(format!("unreadable ({err})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd as _;

    #[test]
    fn listening_tcp_sockets_are_usable() {
        let v4 = TcpListener::bind("127.0.0.1:0").expect("bind v4");
        assert_eq!(describe_unusable(&SockRef::from(&v4)), None);
        if let Ok(v6) = TcpListener::bind("[::1]:0") {
            assert_eq!(describe_unusable(&SockRef::from(&v6)), None);
        }
    }

    #[test]
    fn other_descriptors_are_described() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        assert_eq!(
            describe_unusable(&SockRef::from(&udp)).as_deref(),
            Some("a datagram (UDP) socket")
        );
        let unix = std::os::unix::net::UnixDatagram::unbound().expect("unix");
        assert_eq!(describe_unusable(&SockRef::from(&unix)).as_deref(), Some("a unix socket"));
        let file = tempfile::tempfile().expect("file");
        assert_eq!(
            describe_unusable(&SockRef::from(&file.as_fd())).as_deref(),
            Some("not a socket")
        );
        let connecting = socket2::Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        assert_eq!(
            describe_unusable(&SockRef::from(&connecting)).as_deref(),
            Some("a TCP socket that does not listen")
        );
    }

    #[test]
    fn sockets_are_matched_by_name_and_duplicates_ignored() {
        let web = TcpListener::bind("127.0.0.1:0").expect("bind");
        let web_addr = web.local_addr().expect("addr");
        let twin = TcpListener::bind("127.0.0.1:0").expect("bind");
        let admin = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut inherited = Inherited::from_listeners(vec![
            ("web".into(), web),
            ("web".into(), twin),
            ("admin".into(), admin),
        ]);
        assert!(inherited.is_active());
        assert!(inherited.take("websecure").is_none());
        let taken = inherited.take("web").expect("passed for web");
        assert_eq!(taken.local_addr().expect("addr"), web_addr);
        assert!(inherited.take("web").is_none(), "taken once");
        assert_eq!(inherited.unclaimed().collect::<Vec<_>>(), ["admin"]);
    }

    #[test]
    fn nothing_passed_is_inactive() {
        let mut inherited = Inherited::default();
        assert!(!inherited.is_active());
        assert!(inherited.take("web").is_none());
    }
}

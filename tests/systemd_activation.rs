//! Socket activation with descriptors passed the way systemd passes them: listening sockets at
//! fd 3, 4, …, `LISTEN_FDS`, `LISTEN_FDNAMES`, and `LISTEN_PID` set to tollgate's own pid (by a
//! shell that `exec`s tollgate, so the pid is the same).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use crate::util::backend::Backend;
use crate::util::http::{get, parse};
use crate::util::{Setup, Tollgate};

const LIMIT: Duration = Duration::from_secs(20);

fn static_config() -> String {
    r#"
entryPoints:
  web:
    address: "127.0.0.1:{port:web}"
  admin:
    address: "127.0.0.1:{port:admin}"
providers:
  file:
    filename: "{dir}/dynamic.yml"
log:
  level: INFO
"#
    .to_owned()
}

fn catch_all(url: &str) -> String {
    format!(
        "http:\n  routers:\n    all:\n      rule: \"PathPrefix(`/`)\"\n      service: all\n  services:\n    all:\n      loadBalancer:\n        servers: [{{url: \"{url}\"}}]\n"
    )
}

/// Hand `fds` (in order, from fd 3) to tollgate with their names. `ours`: LISTEN_PID is
/// tollgate's pid (else 1, someone else's).
fn pass(setup: &mut Setup<'_>, fds: Vec<RawFd>, names: &[&str], ours: bool) {
    setup.env.push(("LISTEN_FDS", fds.len().to_string()));
    setup.env.push(("LISTEN_FDNAMES", names.join(":")));
    if ours {
        // systemd sets LISTEN_PID after fork; a shell that execs tollgate knows the pid.
        setup.wrapper =
            ["sh", "-c", "export LISTEN_PID=$$; exec \"$@\"", "sh"].map(String::from).to_vec();
    } else {
        setup.env.push(("LISTEN_PID", "1".into()));
    }
    setup.customize = Some(Box::new(move |cmd: &mut Command| {
        assert!(fds.len() <= 8);
        // The test suite may use libc freely; only the crate denies unsafe code.
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(move || {
                // In the child between fork and exec: no allocation. First move every source to
                // a high number, so placing them at 3, 4, … never overwrites a later source.
                let mut high = [0; 8];
                for (i, fd) in fds.iter().enumerate() {
                    high[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 100);
                    if high[i] < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (i, fd) in high[..fds.len()].iter().enumerate() {
                    // dup2 leaves the new descriptor without FD_CLOEXEC: it survives exec.
                    if libc::dup2(*fd, 3 + i as RawFd) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }));
}

fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("addr").port()
}

#[test]
fn passed_sockets_serve_their_entry_points_by_name() {
    let backend = Backend::start("a");
    let web = listener();
    let spare = listener();
    let (static_yaml, dynamic_yaml) = (static_config(), catch_all(&backend.url()));
    let mut setup = Setup::new(&static_yaml, &dynamic_yaml);
    setup.entrypoints = &["web", "admin"];
    pass(&mut setup, vec![web.as_raw_fd(), spare.as_raw_fd()], &["web", "spare"], true);
    let tg = Tollgate::start(setup);

    // `web` serves on the passed socket, not on its configured address; `admin`, passed
    // nothing, binds its own.
    let passed = format!("127.0.0.1:{}", port_of(&web));
    assert_eq!(get(&passed, "/x", &[]).status, 200);
    let admin = format!("127.0.0.1:{}", tg.port("admin"));
    assert_eq!(get(&admin, "/x", &[]).status, 200);
    assert!(
        TcpStream::connect(tg.addr()).is_err(),
        "web's configured address is not bound when a socket was passed"
    );
    let stderr = tg.stderr();
    assert!(stderr.contains(&format!("listening entrypoint=web address={passed}")), "{stderr}");
    assert!(
        stderr.contains(
            "no socket passed for this entry point; binding its address entrypoint=admin"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("passed socket matches no entry point; closed entrypoint=spare"),
        "{stderr}"
    );
}

#[test]
fn restart_refuses_no_connection() {
    let backend = Backend::start("a");
    // The test plays systemd: it holds the listening socket across tollgate's restart.
    let web = listener();
    let addr = format!("127.0.0.1:{}", port_of(&web));
    let (static_yaml, dynamic_yaml) = (static_config(), catch_all(&backend.url()));
    let start = || {
        let mut setup = Setup::new(&static_yaml, &dynamic_yaml);
        setup.entrypoints = &["web", "admin"];
        pass(&mut setup, vec![web.as_raw_fd()], &["web"], true);
        Tollgate::start(setup)
    };

    let first = start();
    assert_eq!(get(&addr, "/before", &[]).status, 200);
    assert_eq!(first.stop(LIMIT).code(), Some(0));

    // No tollgate runs now. The connection is accepted into the socket's queue, not refused,
    // and its request waits there.
    let mut waiting = TcpStream::connect(&addr).expect("connect while tollgate is down");
    waiting
        .write_all(
            format!("GET /during HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .expect("request while tollgate is down");

    let second = start();
    waiting.set_read_timeout(Some(LIMIT)).expect("timeout");
    let mut reply = Vec::new();
    waiting.read_to_end(&mut reply).expect("reply after the restart");
    let reply = parse(&reply);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("/during"), "{}", reply.text());
    assert_eq!(second.stop(LIMIT).code(), Some(0));
}

#[test]
fn a_descriptor_that_is_not_a_listening_tcp_socket_is_left_alone() {
    let backend = Backend::start("a");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let (static_yaml, dynamic_yaml) = (static_config(), catch_all(&backend.url()));
    let mut setup = Setup::new(&static_yaml, &dynamic_yaml);
    setup.entrypoints = &["web", "admin"];
    pass(&mut setup, vec![udp.as_raw_fd()], &["web"], true);
    let tg = Tollgate::start(setup);
    // Reported, and the entry point binds its configured address instead.
    assert_eq!(get(&tg.addr(), "/x", &[]).status, 200);
    let stderr = tg.stderr();
    assert!(
        stderr.contains("socket activation: passed descriptor is a datagram (UDP) socket, not a listening TCP socket; ignored entrypoint=web fd=3"),
        "{stderr}"
    );
}

#[test]
fn sockets_meant_for_another_process_are_ignored() {
    let backend = Backend::start("a");
    let web = listener();
    let (static_yaml, dynamic_yaml) = (static_config(), catch_all(&backend.url()));
    let mut setup = Setup::new(&static_yaml, &dynamic_yaml);
    setup.entrypoints = &["web", "admin"];
    pass(&mut setup, vec![web.as_raw_fd()], &["web"], false);
    let tg = Tollgate::start(setup);
    assert_eq!(get(&tg.addr(), "/x", &[]).status, 200, "configured address bound");
    assert!(!tg.stderr().contains("socket activation"), "{}", tg.stderr());
}

#[test]
fn malformed_activation_environment_fails_the_start_with_its_values() {
    let web = listener();
    let static_yaml = static_config();
    let mut setup = Setup::new(&static_yaml, "");
    setup.entrypoints = &["web", "admin"];
    pass(&mut setup, vec![web.as_raw_fd()], &["web"], true);
    // Two descriptors announced, one name given.
    setup.env.retain(|(k, _)| *k != "LISTEN_FDS");
    setup.env.push(("LISTEN_FDS", "2".into()));
    let mut tg = Tollgate::spawn(setup);
    let status = tg.wait_exit(LIMIT);
    assert_eq!(status.code(), Some(1));
    let stderr = tg.stderr();
    assert!(stderr.contains("socket activation: "), "{stderr}");
    assert!(stderr.contains(", LISTEN_FDS=2, LISTEN_FDNAMES=web)"), "{stderr}");
}

#[test]
fn started_by_systemd_socket_activate_on_the_first_connection() {
    // systemd's own tool: it listens, and on the first connection execs tollgate with the socket
    // at fd 3, LISTEN_FDS=1, LISTEN_FDNAMES=web and LISTEN_PID set; the environment is only what
    // it passes (-E). That first connection's request is answered.
    let tool = "systemd-socket-activate";
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} not found: install Debian's systemd package (ci/deps.sh does)");
    let backend = Backend::start("a");
    let port = crate::util::free_port();
    let addr = format!("127.0.0.1:{port}");
    // The configured address is the same port: binding it would fail while the tool holds it,
    // so a start at all shows the passed socket was used.
    let static_yaml = format!(
        "entryPoints:\n  web:\n    address: \"{addr}\"\nproviders:\n  file:\n    filename: \"{{dir}}/dynamic.yml\"\nlog:\n  level: INFO\n"
    );
    let dynamic_yaml = catch_all(&backend.url());
    let mut setup = Setup::new(&static_yaml, &dynamic_yaml);
    setup.wrapper =
        [tool, "--listen", &addr, "--fdname=web", "-E", "NOTIFY_SOCKET"].map(String::from).to_vec();
    let mut tg = Tollgate::spawn(setup);
    crate::proxy::wait_until(LIMIT, || tg.stderr().contains("Listening on"));

    let first = get(&addr, "/first", &[]);
    assert_eq!(first.status, 200, "{}", tg.stderr());
    assert!(first.text().contains("/first"), "{}", first.text());
    tg.wait_for_note("READY=1", LIMIT);
    let stderr = tg.stderr();
    assert!(stderr.contains(&format!("listening entrypoint=web address={addr}")), "{stderr}");
    assert_eq!(tg.stop(LIMIT).code(), Some(0));
}

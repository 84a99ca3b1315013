//! sd_notify life cycle against a real NOTIFY_SOCKET owned by the test: READY only once the
//! port accepts and the first configuration serves, WATCHDOG at half of WATCHDOG_USEC, the
//! RELOADING/READY pair with MONOTONIC_USEC on SIGHUP, STATUS lines, STOPPING with
//! EXTEND_TIMEOUT_USEC during a long drain, exit 0; and silence outside systemd.

use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::proxy::wait_until;
use crate::util::backend::Backend;
use crate::util::http::get;
use crate::util::{Setup, Tollgate};

const LIMIT: Duration = Duration::from_secs(20);

fn static_config(level: &str) -> String {
    format!(
        r#"
entryPoints:
  web:
    address: "127.0.0.1:{{port:web}}"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "{{dir}}/dynamic.yml"
    watch: false
log:
  level: {level}
"#
    )
}

fn route(prefix: &str, url: &str) -> String {
    let name = prefix.trim_matches('/');
    format!(
        "http:\n  routers:\n    {name}:\n      rule: \"PathPrefix(`{prefix}`)\"\n      service: {name}\n  services:\n    {name}:\n      loadBalancer:\n        servers: [{{url: \"{url}\"}}]\n"
    )
}

/// CLOCK_MONOTONIC in microseconds, the clock MONOTONIC_USEC= is read from.
fn monotonic_usec() -> i128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // The test suite may use libc freely; only the crate denies unsafe code.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as i128 * 1_000_000 + ts.tv_nsec as i128 / 1000
}

#[test]
fn ready_only_once_the_port_accepts_and_the_first_configuration_serves() {
    let backend = Backend::start("a");
    let mut tg = Tollgate::spawn(Setup::new(&static_config("INFO"), &route("/a", &backend.url())));
    let ready = tg.wait_for_note("READY=1", LIMIT);
    // The moment READY arrives, the port accepts and the route of the first configuration
    // answers: no retry, no wait.
    TcpStream::connect(tg.addr()).expect("the port accepts at READY");
    let reply = get(&tg.addr(), "/a/x", &[]);
    assert_eq!(reply.status, 200, "the first configuration serves at READY");
    assert_eq!(reply.header("X-Backend"), Some("a"));
    assert!(
        ready.contains("STATUS=1 router, 1 service, "),
        "READY carries the status line: {ready:?}"
    );
}

#[test]
fn watchdog_pings_arrive_repeatedly_at_half_the_interval() {
    let static_yaml = static_config("ERROR");
    let mut setup = Setup::new(&static_yaml, "");
    // 400 ms: pings every ~200 ms. Generous bounds only: five pings within the limit.
    setup.env.push(("WATCHDOG_USEC", "400000".into()));
    let mut tg = Tollgate::start(setup);
    let started = Instant::now();
    for _ in 0..5 {
        tg.wait_for_note("WATCHDOG=1", LIMIT);
    }
    assert!(started.elapsed() < LIMIT);
    assert!(tg.stop(LIMIT).success());
}

#[test]
fn watchdog_for_another_process_is_not_fed() {
    // WATCHDOG_PID names someone else: the watchdog is not ours (sd_watchdog_enabled(3)).
    // Status lines still flow; by the first refresh after READY (five seconds, 50 ping
    // intervals) no WATCHDOG=1 may have come.
    let static_yaml = static_config("ERROR");
    let mut setup = Setup::new(&static_yaml, "");
    setup.env.push(("WATCHDOG_USEC", "200000".into()));
    setup.env.push(("WATCHDOG_PID", "1".into()));
    let mut tg = Tollgate::start(setup);
    tg.wait_for_note("STATUS=", LIMIT);
    assert!(
        tg.notes.iter().all(|n| !n.contains("WATCHDOG=1")),
        "pinged a watchdog that is not ours: {:?}",
        tg.notes
    );
}

#[test]
fn sighup_sends_reloading_with_monotonic_usec_then_ready_once_applied() {
    let a = Backend::start("a");
    let b = Backend::start("b");
    let mut tg = Tollgate::start(Setup::new(&static_config("INFO"), &route("/a", &a.url())));
    assert_eq!(get(&tg.addr(), "/b", &[]).status, 404);

    // Not watched: the edit is applied on SIGHUP only, and READY=1 means it is in force.
    tg.write_dynamic(&route("/b", &b.url()));
    let before = monotonic_usec();
    tg.signal(libc::SIGHUP);
    let reloading = tg.wait_for_note("RELOADING=1", LIMIT);
    let after = monotonic_usec();
    let usec: i128 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .expect("MONOTONIC_USEC with RELOADING=1")
        .parse()
        .expect("a number");
    assert!(before <= usec && usec <= after, "{before} <= {usec} <= {after}");
    tg.wait_for_note("READY=1", LIMIT);
    assert_eq!(get(&tg.addr(), "/b", &[]).status, 200, "new configuration in force at READY");
    assert_eq!(get(&tg.addr(), "/a", &[]).status, 404);

    // A broken file: the reload still ends with READY=1, the last good configuration serving.
    tg.write_dynamic("http:\n  routers: [not, a, map\n");
    tg.signal(libc::SIGHUP);
    tg.wait_for_note("RELOADING=1", LIMIT);
    tg.wait_for_note("READY=1", LIMIT);
    assert_eq!(get(&tg.addr(), "/b", &[]).status, 200, "old configuration kept");
    assert!(tg.stderr().contains("configuration refused"), "{}", tg.stderr());
}

#[test]
fn status_line_reports_routers_services_and_requests_per_second() {
    let a = Backend::start("a");
    let mut tg = Tollgate::start(Setup::new(&static_config("ERROR"), &route("/a", &a.url())));
    for _ in 0..20 {
        assert_eq!(get(&tg.addr(), "/a", &[]).status, 200);
    }
    // The next refresh (every five seconds) counts them.
    let deadline = Instant::now() + LIMIT;
    loop {
        let note = tg.wait_for_note("STATUS=", deadline.saturating_duration_since(Instant::now()));
        let status = note.lines().find_map(|l| l.strip_prefix("STATUS=")).expect("status");
        assert!(status.starts_with("1 router, 1 service, "), "{status}");
        assert!(status.ends_with(" req/s, 0 configuration errors"), "{status}");
        if !status.contains(" 0.0 req/s") {
            break;
        }
    }
}

#[test]
fn sigterm_sends_stopping_and_exits_zero() {
    let mut tg = Tollgate::start(Setup::new(&static_config("ERROR"), ""));
    tg.signal(libc::SIGTERM);
    let stopping = tg.wait_for_note("STOPPING=1", LIMIT);
    assert!(stopping.contains("STATUS=stopping: draining 0 connection(s)"), "{stopping}");
    let status = tg.wait_exit(LIMIT);
    assert_eq!(status.code(), Some(0), "{}", tg.stderr());
}

#[test]
fn long_drain_extends_the_stop_timeout_and_finishes_the_request() {
    let a = Backend::start("a");
    let mut tg = Tollgate::start(Setup::new(&static_config("ERROR"), &route("/slow", &a.url())));
    let addr = tg.addr();
    let slow = std::thread::spawn(move || get(&addr, "/slow/2000", &[]));
    wait_until(LIMIT, || a.hits.load(Ordering::SeqCst) == 1);
    tg.signal(libc::SIGTERM);
    let stopping = tg.wait_for_note("STOPPING=1", LIMIT);
    assert!(stopping.contains("draining 1 connection(s)"), "{stopping}");
    let extend = tg.wait_for_note("EXTEND_TIMEOUT_USEC=", LIMIT);
    let usec: u64 = extend
        .lines()
        .find_map(|l| l.strip_prefix("EXTEND_TIMEOUT_USEC="))
        .expect("value")
        .parse()
        .expect("a number");
    assert!(usec >= 1_000_000, "extension of {usec} µs");
    let reply = slow.join().expect("client");
    assert_eq!(reply.status, 200, "the request in flight finished");
    assert_eq!(tg.wait_exit(LIMIT).code(), Some(0), "{}", tg.stderr());
}

#[test]
fn outside_systemd_everything_is_silent() {
    let a = Backend::start("a");
    let (static_yaml, dynamic_yaml) = (static_config("INFO"), route("/a", &a.url()));
    let mut setup = Setup::new(&static_yaml, &dynamic_yaml);
    setup.env.push(("WATCHDOG_USEC", "200000".into()));
    setup.customize = Some(Box::new(|cmd: &mut std::process::Command| {
        cmd.env_remove("NOTIFY_SOCKET");
    }));
    let mut tg = Tollgate::spawn(setup);
    let addr = tg.addr();
    wait_until(LIMIT, || TcpStream::connect(&addr).is_ok() && get(&addr, "/a", &[]).status == 200);
    tg.signal(libc::SIGHUP);
    wait_until(LIMIT, || tg.stderr().matches("configuration applied").count() >= 2);
    tg.signal(libc::SIGTERM);
    assert_eq!(tg.wait_exit(LIMIT).code(), Some(0));
    let stderr = tg.stderr();
    assert!(!stderr.contains("notify"), "no complaint about a missing manager: {stderr}");
}

#[test]
fn no_log_line_per_request_at_info() {
    let a = Backend::start("a");
    let tg = Tollgate::start(Setup::new(&static_config("INFO"), &route("/a", &a.url())));
    // "configuration applied" is logged after READY is sent; wait for it before counting.
    wait_until(LIMIT, || tg.stderr().contains("configuration applied"));
    let before = tg.stderr().lines().count();
    for _ in 0..50 {
        assert_eq!(get(&tg.addr(), "/a", &[]).status, 200);
    }
    assert_eq!(get(&tg.addr(), "/missing", &[]).status, 404);
    assert_eq!(tg.stderr().lines().count(), before, "{}", tg.stderr());
}

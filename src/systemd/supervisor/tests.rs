//! The supervisor against a real notification socket and a real tokio runtime.

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::AtomicU64;
use std::time::Instant as StdInstant;

use arc_swap::ArcSwap;

use super::*;
use crate::proxy::RouteTable;

/// A notification socket the test reads, and a notifier pointing at it.
struct Manager {
    _dir: tempfile::TempDir,
    socket: UnixDatagram,
    path: String,
}

impl Manager {
    fn new() -> Manager {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).expect("bind notify socket");
        socket.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        Manager { _dir: dir, socket, path: path.display().to_string() }
    }

    fn notifier(&self) -> Notifier {
        Notifier::connect(&self.path).expect("notify path")
    }

    /// Next notification within `limit`.
    fn next(&self, limit: Duration) -> Option<String> {
        let deadline = StdInstant::now() + limit;
        let mut buf = [0u8; 4096];
        while StdInstant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                return Some(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        None
    }

    /// Notifications until one has a line starting with `prefix`; panics after `limit`.
    fn wait_for(&self, prefix: &str, limit: Duration) -> String {
        let deadline = StdInstant::now() + limit;
        while let Some(note) = self.next(deadline.saturating_duration_since(StdInstant::now())) {
            if note.lines().any(|l| l.starts_with(prefix)) {
                return note;
            }
        }
        panic!("no `{prefix}` within {limit:?}");
    }

    /// Everything already queued, without waiting.
    fn drain(&self) -> Vec<String> {
        self.socket.set_nonblocking(true).expect("nonblocking");
        let mut buf = [0u8; 4096];
        let mut notes = Vec::new();
        while let Ok(n) = self.socket.recv(&mut buf) {
            notes.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        self.socket.set_nonblocking(false).expect("blocking");
        notes
    }
}

fn shared() -> Arc<Shared> {
    Arc::new(Shared {
        routes: ArcSwap::from_pointee(RouteTable::empty(0)),
        entrypoints: Box::new([]),
        hits: None,
        stats: None,
        access_log: None,
        requests: AtomicU64::new(0),
        stopping: Default::default(),
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn ready_after_the_first_configuration_and_after_each_reload() {
    let manager = Manager::new();
    let rt = runtime();
    let _guard = rt.enter();
    let mut sup = Supervisor::new(manager.notifier(), shared(), None);

    sup.reloading(true); // before READY: nothing to report
    sup.applied(0);
    let ready = manager.next(LIMIT).expect("READY");
    assert_eq!(ready, "READY=1\nSTATUS=0 routers, 0 services, 0.0 req/s, 0 configuration errors\n");

    sup.reloading(true);
    let reloading = manager.next(LIMIT).expect("RELOADING");
    let lines: Vec<&str> = reloading.lines().collect();
    assert_eq!(lines[0], "RELOADING=1");
    let usec: i128 =
        lines[1].strip_prefix("MONOTONIC_USEC=").expect("MONOTONIC_USEC").parse().expect("number");
    assert!(usec > 0);
    assert_eq!(lines[2], "STATUS=reloading the configuration");

    sup.applied(2);
    let again = manager.next(LIMIT).expect("READY again");
    assert!(again.starts_with("READY=1\nSTATUS="), "{again}");
    assert!(again.contains("2 configuration errors"), "{again}");

    // No provider will answer: the reload is over at once.
    sup.reloading(false);
    assert!(manager.next(LIMIT).expect("RELOADING").starts_with("RELOADING=1\n"));
    assert!(manager.next(LIMIT).expect("READY").starts_with("READY=1\n"));

    // A configuration applied outside a reload refreshes the status only.
    sup.applied(0);
    assert!(manager.next(LIMIT).expect("STATUS").starts_with("STATUS=0 routers"));
}

#[test]
fn status_line_counts_requests_per_second() {
    assert_eq!(summary(1, 2, 4.26, 1), "1 router, 2 services, 4.3 req/s, 1 configuration error");
    assert_eq!(summary(0, 0, 0.0, 3), "0 routers, 0 services, 0.0 req/s, 3 configuration errors");

    let manager = Manager::new();
    let rt = runtime();
    let _guard = rt.enter();
    let shared = shared();
    let mut sup = Supervisor::new(manager.notifier(), shared.clone(), None);
    sup.applied(0);
    shared.requests.fetch_add(1000, Ordering::Relaxed);
    let line = sup.status_line();
    let rate: f64 = line
        .split(", ")
        .nth(2)
        .and_then(|r| r.strip_suffix(" req/s"))
        .expect("rate")
        .parse()
        .expect("number");
    assert!(rate > 0.0, "{line}");
    // The next line counts only what came since.
    let line = sup.status_line();
    assert!(line.contains(" 0.0 req/s"), "{line}");
}

#[test]
fn status_is_refreshed_periodically() {
    let manager = Manager::new();
    let rt = runtime();
    let handle = rt.spawn({
        let notifier = manager.notifier();
        async move {
            let mut sup = Supervisor::new(notifier, shared(), None);
            sup.applied(0);
            loop {
                sup.tick().await;
            }
        }
    });
    manager.wait_for("READY=1", LIMIT);
    // READY carries the first status line; refreshes follow every STATUS_PERIOD.
    manager.wait_for("STATUS=", STATUS_PERIOD + LIMIT);
    manager.wait_for("STATUS=", STATUS_PERIOD + LIMIT);
    handle.abort();
}

/// The main loop of these tests: ticks, and on command blocks its thread (a wedged loop)
/// until released.
async fn main_loop(
    mut sup: Supervisor,
    mut wedge: tokio::sync::mpsc::Receiver<()>,
    wedged: std::sync::mpsc::Sender<()>,
    release: std::sync::mpsc::Receiver<()>,
) {
    sup.applied(0);
    loop {
        tokio::select! {
            () = sup.tick() => {}
            Some(()) = wedge.recv() => {
                wedged.send(()).expect("test listens");
                // Deliberately blocking: this is the wedge under test.
                release.recv().expect("test releases");
            }
        }
    }
}

#[test]
fn watchdog_pings_stop_while_the_main_loop_is_wedged() {
    let manager = Manager::new();
    let rt = runtime();
    let (wedge_tx, wedge_rx) = tokio::sync::mpsc::channel(1);
    let (wedged_tx, wedged_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let watchdog = Duration::from_millis(100);
    let task = {
        let _guard = rt.enter();
        let sup = Supervisor::new(manager.notifier(), shared(), Some(watchdog));
        rt.spawn(main_loop(sup, wedge_rx, wedged_tx, release_rx))
    };
    for _ in 0..3 {
        manager.wait_for("WATCHDOG=1", LIMIT);
    }

    wedge_tx.blocking_send(()).expect("loop runs");
    wedged_rx.recv().expect("loop wedged");
    manager.drain(); // pings sent before the wedge
    // Ten ping intervals with the loop blocked: none may arrive. (A wedged loop cannot send,
    // so this window can only pass; it is the observation, not a readiness wait.)
    let mut seen = Vec::new();
    let deadline = StdInstant::now() + watchdog * 5;
    while let Some(note) = manager.next(deadline.saturating_duration_since(StdInstant::now())) {
        seen.push(note);
    }
    assert!(seen.iter().all(|n| !n.contains("WATCHDOG=1")), "pinged while wedged: {seen:?}");

    release_tx.send(()).expect("loop waits");
    manager.wait_for("WATCHDOG=1", LIMIT);
    task.abort();
}

#[test]
fn watchdog_pings_stop_when_an_accept_loop_dies() {
    let manager = Manager::new();
    let rt = runtime();
    let (die_tx, die_rx) = tokio::sync::oneshot::channel::<()>();
    let (_wedge_tx, wedge_rx) = tokio::sync::mpsc::channel(1);
    let (wedged_tx, _wedged_rx) = std::sync::mpsc::channel();
    let (_release_tx, release_rx) = std::sync::mpsc::channel();
    let task = {
        let _guard = rt.enter();
        let mut sup =
            Supervisor::new(manager.notifier(), shared(), Some(Duration::from_millis(100)));
        // Stands in for an accept loop that panics.
        let accept = rt.spawn(async move {
            let _ = die_rx.await;
            panic!("accept loop bug (expected by this test)");
        });
        sup.watch_accept_loop("web", accept);
        rt.spawn(main_loop(sup, wedge_rx, wedged_tx, release_rx))
    };
    manager.wait_for("WATCHDOG=1", LIMIT);
    manager.wait_for("WATCHDOG=1", LIMIT);

    die_tx.send(()).expect("accept loop waits");
    let status = manager.wait_for("STATUS=entry point web stopped accepting", LIMIT);
    assert!(!status.contains("WATCHDOG=1"), "{status}");
    // From now on the loop turns but never pings: watch ten intervals of it.
    let deadline = StdInstant::now() + Duration::from_millis(1000);
    let mut notes = Vec::new();
    while let Some(note) = manager.next(deadline.saturating_duration_since(StdInstant::now())) {
        notes.push(note);
    }
    assert!(
        notes.iter().all(|n| !n.contains("WATCHDOG=1")),
        "pinged after the accept loop died: {notes:?}"
    );
    task.abort();
}

#[test]
fn stopping_extends_the_timeout_while_the_drain_runs() {
    let manager = Manager::new();
    let rt = runtime();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<u8>();
    let result = rt.spawn({
        let notifier = manager.notifier();
        async move {
            let mut sup = Supervisor::new(notifier, shared(), None);
            sup.stopping(3, Duration::from_secs(60), async {
                done_rx.await.expect("test ends the drain")
            })
            .await
        }
    });
    assert_eq!(
        manager.next(LIMIT).expect("STOPPING"),
        "STOPPING=1\nSTATUS=stopping: draining 3 connection(s)\n"
    );
    let extend = manager.wait_for("EXTEND_TIMEOUT_USEC=", LIMIT);
    assert_eq!(extend, format!("EXTEND_TIMEOUT_USEC={}\n", (3 * EXTEND_PERIOD).as_micros()));
    done_tx.send(7).expect("drain waits");
    assert_eq!(rt.block_on(result).expect("drain task"), 7);
}

#[test]
fn outside_systemd_nothing_ticks() {
    let rt = runtime();
    rt.block_on(async {
        let mut sup =
            Supervisor::new(Notifier::disabled(), shared(), Some(Duration::from_millis(10)));
        sup.applied(0);
        // `tick` never completes without a manager: the select arm in the main loop stays quiet.
        assert!(tokio::time::timeout(Duration::from_millis(50), sup.tick()).await.is_err());
        assert_eq!(sup.stopping(0, Duration::from_secs(1), async { 5 }).await, 5);
    });
}

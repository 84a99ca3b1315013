//! The proxy feeding its own traffic report: every finished request reaches the stats engine and
//! the access log; the live report is served on its entry point; counts survive a restart;
//! SIGUSR1 reopens the access log for logrotate.

use std::time::Duration;

use crate::proxy::wait_until;
use crate::util::backend::Backend;
use crate::util::http::get;
use crate::util::{Setup, Tollgate};

fn static_yaml(state: &str) -> String {
    format!(
        r#"
entryPoints:
  web:
    address: "127.0.0.1:{{port:web}}"
  traefik:
    address: "127.0.0.1:{{port:traefik}}"
providers:
  file:
    filename: "{{dir}}/dynamic.yml"
report:
  entryPoint: traefik
stateDirectory: "{state}"
accessLog:
  filePath: "{{dir}}/access.log"
"#
    )
}

fn dynamic(url: &str) -> String {
    format!(
        r#"
http:
  routers:
    site:
      rule: "PathPrefix(`/`)"
      service: app
  services:
    app:
      loadBalancer:
        servers: [{{url: "{url}"}}]
"#
    )
}

fn start(state: &std::path::Path, backend: &Backend) -> Tollgate {
    let s = static_yaml(&state.display().to_string());
    let d = dynamic(&backend.url());
    let mut setup = Setup::new(&s, &d);
    setup.entrypoints = &["web", "traefik"];
    Tollgate::start(setup)
}

fn report(tg: &Tollgate) -> serde_json::Value {
    let resp = get(&format!("127.0.0.1:{}", tg.port("traefik")), "/report.json", &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type").map(|c| c.starts_with("application/json")), Some(true));
    resp.json()
}

/// Requests on the web entry point as the report counts them (report requests are counted too,
/// under router `report@internal`).
fn web_hits(report: &serde_json::Value) -> u64 {
    report["routers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["data"] == "site@file")
        .filter_map(|r| r["hits"].as_u64())
        .sum()
}

#[test]
fn live_feed_report_access_log_and_restart() {
    let backend = Backend::start("app");
    let state = tempfile::tempdir().expect("state dir");
    let tg = start(state.path(), &backend);
    for i in 0..10 {
        let resp = get(
            &tg.addr(),
            &format!("/page/{i}.html"),
            &[
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"),
                ("Referer", "https://search.example/q"),
            ],
        );
        assert_eq!(resp.status, 200);
    }
    for _ in 0..3 {
        get(&tg.addr(), "/style.css", &[("User-Agent", "curl/8.0")]);
    }
    wait_until(Duration::from_secs(10), || web_hits(&report(&tg)) == 13);
    let r = report(&tg);
    assert_eq!(
        r["static_requests"]["metadata"]["hits"]["total"]["value"], 3,
        "{}",
        r["static_requests"]
    );
    let codes = r["status_codes"].to_string();
    assert!(codes.contains("2xx"), "{codes}");

    // The HTML report is one self-contained page.
    let html = get(&format!("127.0.0.1:{}", tg.port("traefik")), "/report", &[]);
    assert_eq!(html.status, 200);
    assert!(html.text().contains("<html"), "{}", &html.text()[..200.min(html.text().len())]);
    assert!(
        !html.text().contains("http://") || !html.text().contains("<script src"),
        "no external fetches"
    );

    // The access log: one Traefik common line per request, with router and server.
    let log_path = tg.path("access.log");
    wait_until(Duration::from_secs(10), || {
        crate::util::read(&log_path).lines().filter(|l| l.contains("\"site@file\"")).count() == 13
    });
    let log = crate::util::read(&log_path);
    let line = log.lines().find(|l| l.contains("/page/0.html")).expect("logged");
    assert!(line.contains("\"GET /page/0.html HTTP/1.1\" 200"), "{line}");
    assert!(line.contains(&format!("\"site@file\" \"{}\"", backend.url())), "{line}");

    // SIGUSR1 after logrotate's move: new lines go to a new file at the configured path.
    let rotated = tg.path("access.log.1");
    std::fs::rename(&log_path, &rotated).expect("rotate");
    tg.signal(libc::SIGUSR1);
    wait_until(Duration::from_secs(10), || {
        get(&tg.addr(), "/after-rotate", &[]);
        crate::util::read(&log_path).contains("/after-rotate")
    });

    // Restart: counts come back from the snapshot written at shutdown.
    // Every request the access logs hold has reached the engine before the stop.
    let logged = |p: &std::path::Path| {
        crate::util::read(p).lines().filter(|l| l.contains("\"site@file\"")).count() as u64
    };
    // Both are written in batches: wait until the two agree.
    let mut before = 0;
    wait_until(Duration::from_secs(10), || {
        before = logged(&log_path) + logged(&rotated);
        web_hits(&report(&tg)) == before
    });
    assert!(tg.stop(Duration::from_secs(15)).success());
    let tg = start(state.path(), &backend);
    let after = web_hits(&report(&tg));
    assert_eq!(after, before, "counts survive the restart");
    get(&tg.addr(), "/one-more", &[]);
    wait_until(Duration::from_secs(10), || web_hits(&report(&tg)) == before + 1);
}

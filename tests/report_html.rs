//! The HTML report in a real browser (Debian's Chromium, headless): every panel renders, and the
//! page fetches nothing. The browser's only proxy is a listener here that records each request
//! line; Chromium's own service calls (time, component updates, accounts: Google hosts the page
//! never names) are set aside, anything else fails the test.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use crate::report_util::{TempDir, find_tool, run_ok, tollgate};

#[test]
fn html_report_renders_every_panel_offline_in_chromium() {
    let chromium = find_tool(
        "CHROMIUM_BIN",
        &["chromium", "chromium-browser", "/usr/bin/chromium"],
        "apt-get install chromium",
    );
    let dir = TempDir::new("html");
    let log = dir.path("gen.log");
    let spec =
        tollgate::logs::generate::Spec { lines: 5_000, seed: 3, days: 3, ..Default::default() };
    let mut f = std::fs::File::create(&log).expect("create");
    tollgate::logs::generate::write_combined(&spec, &mut f).expect("generate");
    let html = dir.path("report.html");
    run_ok(tollgate().arg("report").arg(&log).args(["--no-progress", "-o"]).arg(&html));
    let page = std::fs::read_to_string(&html).expect("html written");
    for needle in ["http://", "https://", "src=", "@import", "url("] {
        assert!(
            !page.contains(needle)
                || needle.starts_with("http") && !page.contains(&format!("=\"{needle}")),
            "page references `{needle}`"
        );
    }

    let proxy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = proxy.local_addr().expect("addr").port();
    proxy.set_nonblocking(true).expect("nonblocking");
    let profile = dir.path("profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=390,844",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{port}"))
        .arg("--proxy-bypass-list=<-loopback>")
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let mut page_requests = Vec::new();
    while let Ok((conn, _)) = proxy.accept() {
        let _ = conn.set_nonblocking(false);
        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
        let mut first = String::new();
        let _ = BufReader::new(conn).read_line(&mut first);
        let target = first.split_whitespace().nth(1).unwrap_or("").to_string();
        let host =
            target.trim_start_matches("http://").split(['/', ':']).next().unwrap_or("").to_string();
        let browser_service = ["google.com", "googleapis.com", "gstatic.com", "gvt1.com"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")));
        if !browser_service {
            page_requests.push(first.trim().to_string());
        }
    }
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    for id in [
        "general",
        "chart-days",
        "visitors",
        "requests",
        "static_requests",
        "not_found",
        "hosts",
        "os",
        "browsers",
        "crawlers",
        "visit_time",
        "referring_sites",
        "status_codes",
        "routers",
        "services",
    ] {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "panel `{id}` missing from the rendered page"
        );
    }
    assert!(dom.contains("<svg"), "charts render as SVG");
    assert!(dom.contains("Total requests"), "general header rendered");
    assert!(page_requests.is_empty(), "the page made network requests: {page_requests:?}");
}

//! The units in systemd/: `systemd-analyze verify` and `security` through ci/systemd-check.sh
//! (which also applies sysusers.d and tmpfiles.d to a scratch root), the settings the project
//! promises, and `tollgate check` behaving as the unit's ExecStartPre= needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The exposure `systemd-analyze security` may give tollgate.service at most.
const MAX_EXPOSURE: f64 = 2.0;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run ci/systemd-check.sh on `units` (a copy of systemd/, or the real one).
fn check(units: &Path) -> Output {
    let script = repo().join("ci/systemd-check.sh");
    Command::new(&script)
        .arg(env!("CARGO_BIN_EXE_tollgate"))
        .env("TOLLGATE_SYSTEMD_DIR", units)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A scratch copy of systemd/ for breaking on purpose.
fn copy_of_units() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new("cp")
        .arg("-R")
        .arg(repo().join("systemd/."))
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(status.success());
    dir
}

#[test]
fn units_pass_systemd_analyze_with_exposure_at_most_two() {
    let output = check(&repo().join("systemd"));
    let report = text(&output);
    assert!(output.status.success(), "ci/systemd-check.sh failed:\n{report}");
    assert!(report.contains("verify: clean"), "{report}");
    let figures: Vec<f64> = report
        .lines()
        .filter_map(|l| l.split(" exposure ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(figures.len(), 2, "with and without the Docker drop-in: {report}");
    assert!(figures.iter().all(|&f| f <= MAX_EXPOSURE), "{report}");
    assert!(report.contains("sysusers.d, tmpfiles.d: applied"), "{report}");
    // Shown with `cargo test -- --nocapture`, and quoted in docs/SYSTEMD.md.
    println!("{report}");
}

#[test]
fn a_unit_error_fails_the_check() {
    let units = copy_of_units();
    let service = units.path().join("tollgate.service");
    let text_before = std::fs::read_to_string(&service).expect("unit");
    // verify only warns about an unknown key (exit 0); the check fails on any output.
    std::fs::write(&service, text_before.replace("[Service]\n", "[Service]\nWatchdogSecs=30s\n"))
        .expect("write");
    let output = check(units.path());
    let report = text(&output);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains("Unknown key 'WatchdogSecs'"), "{report}");
}

#[test]
fn dropping_the_hardening_fails_the_exposure_limit() {
    let units = copy_of_units();
    let service = units.path().join("tollgate.service");
    let weakened: String = std::fs::read_to_string(&service)
        .expect("unit")
        .lines()
        .filter(|l| {
            ![
                "ProtectSystem=",
                "SystemCallFilter=",
                "CapabilityBoundingSet=",
                "PrivateDevices=",
                "RestrictAddressFamilies=",
                "ProtectKernel",
                "PrivateTmp=",
                "ProtectHome=",
                "RestrictNamespaces=",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&service, weakened).expect("write");
    let output = check(units.path());
    let report = text(&output);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains("exposure of tollgate.service (plain) above 2.0"), "{report}");
}

/// `key` → values, over all sections (systemd's list settings may repeat a key).
fn settings(path: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with('[') || line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not key=value: {line}"));
        out.entry(key.to_owned()).or_default().push(value.to_owned());
    }
    out
}

#[test]
fn service_has_the_promised_settings() {
    let unit = settings(&repo().join("systemd/tollgate.service"));
    let one = |key: &str| -> &str {
        let values = unit.get(key).unwrap_or_else(|| panic!("tollgate.service has no {key}="));
        values.last().expect("a value")
    };
    assert_eq!(one("Type"), "notify");
    assert_eq!(one("NotifyAccess"), "main");
    assert_eq!(one("Restart"), "on-failure");
    assert_eq!(one("ExecStartPre"), "/usr/bin/tollgate check");
    assert_eq!(one("ExecStart"), "/usr/bin/tollgate run");
    assert_eq!(one("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(one("User"), "tollgate");
    assert_eq!(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
    assert_eq!(one("RestrictAddressFamilies"), "AF_UNIX AF_INET AF_INET6");
    assert_eq!(one("SystemCallArchitectures"), "native");
    assert_eq!(unit["SystemCallFilter"][0], "@system-service");
    assert_eq!(one("ProtectSystem"), "strict");
    assert!(one("WatchdogSec").ends_with('s'));
    assert!(one("MemoryMax").ends_with('M'));
    for key in ["ConfigurationDirectory", "StateDirectory", "LogsDirectory"] {
        assert!(one(key).starts_with("tollgate"), "{key}");
    }
    for key in [
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "RestrictNamespaces",
        "LockPersonality",
        "MemoryDenyWriteExecute",
    ] {
        assert_eq!(one(key), "yes", "{key}");
    }
}

#[test]
fn each_socket_unit_names_its_entry_point() {
    for (file, name, port) in
        [("tollgate.socket", "web", "80"), ("tollgate-websecure.socket", "websecure", "443")]
    {
        let unit = settings(&repo().join("systemd").join(file));
        assert_eq!(unit["FileDescriptorName"], [name], "{file}");
        assert_eq!(unit["ListenStream"], [port], "{file}");
        assert_eq!(unit["Service"], ["tollgate.service"], "{file}");
    }
    let docker = settings(&repo().join("systemd/tollgate.service.d/docker.conf"));
    assert_eq!(docker["SupplementaryGroups"], ["docker"]);
}

#[test]
fn exec_start_pre_check_fails_a_broken_configuration_with_its_place() {
    // The unit runs `tollgate check` with no arguments: ./tollgate.yml, then
    // /etc/tollgate/tollgate.yml. Here the working directory holds the configuration.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("tollgate.yml"),
        "entryPoints:\n  web:\n    address: \":8080\"\nproviders:\n  file:\n    filename: dynamic.yml\n",
    )
    .expect("static");
    let dynamic = dir.path().join("dynamic.yml");
    let run_check =
        || crate::util::command().arg("check").current_dir(dir.path()).output().expect("run check");

    std::fs::write(&dynamic, "http:\n  routers:\n    r:\n      rule: \"Path(`/`)\"\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: \"http://127.0.0.1:9\"}]\n").expect("dynamic");
    let good = run_check();
    assert!(good.status.success(), "{}", text(&good));

    std::fs::write(
        &dynamic,
        "http:\n  routers:\n    r:\n      rule: \"Path(`/`\"\n      service: s\n",
    )
    .expect("dynamic");
    let bad = run_check();
    assert_eq!(bad.status.code(), Some(1), "a non-zero exit fails the start");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("dynamic.yml:3:5: router `r@file`: rule: column 9:"),
        "the journal gets the place: {stderr}"
    );
}

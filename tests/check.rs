//! `tollgate check` and the command line: exit codes, the router table, errors with places.

use std::process::Output;

use crate::util::command;

fn run(args: &[&str], dir: &std::path::Path) -> Output {
    command()
        .args(args)
        .current_dir(dir)
        .env_remove("NOTIFY_SOCKET")
        .output()
        .expect("run tollgate")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &std::path::Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write file");
    path.display().to_string()
}

const STATIC: &str = "entryPoints:\n  web:\n    address: \"127.0.0.1:0\"\nproviders:\n  file:\n    filename: dynamic.yml\n";

#[test]
fn check_prints_the_router_table_and_passes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(dir.path(), "tollgate.yml", STATIC);
    write(
        dir.path(),
        "dynamic.yml",
        "http:\n  routers:\n    site:\n      rule: \"Host(`example.com`) && PathPrefix(`/app`)\"\n      service: app\n      middlewares: [strip]\n  middlewares:\n    strip:\n      stripPrefix:\n        prefixes: [/app]\n  services:\n    app:\n      loadBalancer:\n        servers: [{url: \"http://127.0.0.1:9\"}]\n",
    );
    let out = run(&["check", "--config", &config], dir.path());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let row =
        stdout.lines().find(|l| l.starts_with("site@file")).unwrap_or_else(|| panic!("{stdout}"));
    let cells: Vec<&str> = row.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(
        cells,
        [
            "site@file",
            "web",
            "41",
            "Host(`example.com`) && PathPrefix(`/app`)",
            "app@file",
            "strip@file"
        ],
        "{stdout}"
    );
    assert!(stdout.contains("1 router(s) ok, 0 left out; 1 service(s); 0 error(s)"), "{stdout}");
}

#[test]
fn check_fails_with_file_line_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(dir.path(), "tollgate.yml", STATIC);
    write(
        dir.path(),
        "dynamic.yml",
        "http:\n  routers:\n    good:\n      rule: \"PathPrefix(`/`)\"\n      service: app\n    typo:\n      rule: \"Hots(`x`)\"\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers: [{url: \"http://127.0.0.1:9\"}]\n",
    );
    let out = run(&["check", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "dynamic.yml:6:5: router `typo@file`: rule: column 1: unknown matcher `Hots`"
        ),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("good@file"), "the good router is still listed");
}

#[test]
fn bad_static_configuration_is_refused_with_its_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write(dir.path(), "tollgate.yml", "entryPoints:\n  web:\n    adress: \":80\"\n");
    let out = run(&["check", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tollgate.yml:3:5"), "{stderr}");
    assert!(stderr.contains("did you mean `address`"), "{stderr}");
    // `run` refuses it too, with EX_CONFIG, before binding anything.
    let out = run(&["run", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out.stderr));
}

#[test]
fn embedded_default_is_printable_and_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&["check", "--print-default"], dir.path());
    assert!(out.status.success());
    let default = text(&out.stdout);
    assert!(default.contains(":8080"), "{default}");
    let config = write(dir.path(), "default.yml", &default);
    let out = run(&["check", "--config", &config], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn version_and_usage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(&["version"], dir.path());
    assert_eq!(text(&out.stdout), format!("tollgate {}\n", env!("CARGO_PKG_VERSION")));
    let out = run(&["--help"], dir.path());
    assert!(text(&out.stdout).starts_with("usage: tollgate"));
}

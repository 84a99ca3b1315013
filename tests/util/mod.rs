//! Test helpers: the real `tollgate` binary started on loopback with files the test writes,
//! readiness through a NOTIFY_SOCKET the test owns (no sleeps), and real backends.

#![allow(dead_code)]

pub mod backend;
pub mod http;

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that was free a moment ago.
/// One entry point `web` on loopback and the file provider reading `{dir}/dynamic.yml`, not
/// watched: the static configuration of the proxy tests, which write their own routes.
pub const FILE_PROVIDER_STATIC: &str = r#"
entryPoints:
  web:
    address: "127.0.0.1:{port:web}"
providers:
  file:
    filename: "{dir}/dynamic.yml"
    watch: false
log:
  level: DEBUG
"#;

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// The binary under test, run under `$CROSS_RUNNER` (e.g. qemu) when cross-testing.
pub fn command() -> Command {
    let bin = env!("CARGO_BIN_EXE_tollgate");
    match std::env::var("CROSS_RUNNER").ok().filter(|r| !r.is_empty()) {
        Some(runner) => {
            let mut cmd = Command::new(runner);
            cmd.arg(bin);
            cmd
        }
        None => Command::new(bin),
    }
}

/// A running tollgate with its own directory, ports and notify socket.
pub struct Tollgate {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    notify: UnixDatagram,
    /// Entry point name → port.
    pub ports: HashMap<String, u16>,
    stderr_path: PathBuf,
    /// Notifications received so far, in order.
    pub notes: Vec<String>,
}

/// A last change to tollgate's command before it starts.
pub type Customize<'a> = Box<dyn FnOnce(&mut Command) + 'a>;

/// What to start tollgate with. `{port:NAME}` in the texts becomes the port chosen for entry
/// point NAME, `{dir}` the test's directory.
pub struct Setup<'a> {
    pub static_yaml: &'a str,
    pub dynamic_yaml: &'a str,
    pub entrypoints: &'a [&'a str],
    pub env: Vec<(&'a str, String)>,
    pub args: Vec<String>,
    /// A program and its arguments tollgate runs under (`sh -c '… exec "$@"' sh`, `unshare …`);
    /// it must `exec` tollgate, so the pid stays tollgate's.
    pub wrapper: Vec<String>,
    /// Last changes to the command before it starts (descriptors, `pre_exec`, stderr).
    pub customize: Option<Customize<'a>>,
}

impl<'a> Setup<'a> {
    pub fn new(static_yaml: &'a str, dynamic_yaml: &'a str) -> Self {
        Setup {
            static_yaml,
            dynamic_yaml,
            entrypoints: &["web"],
            env: Vec::new(),
            args: Vec::new(),
            wrapper: Vec::new(),
            customize: None,
        }
    }
}

impl Tollgate {
    /// Start and wait for READY=1 (panics with tollgate's stderr if it never comes).
    pub fn start(setup: Setup<'_>) -> Tollgate {
        let mut t = Tollgate::spawn(setup);
        t.wait_for_note("READY=1", Duration::from_secs(20));
        t
    }

    /// Start without waiting.
    pub fn spawn(setup: Setup<'_>) -> Tollgate {
        let dir = tempfile::tempdir().expect("temp dir");
        let ports: HashMap<String, u16> =
            setup.entrypoints.iter().map(|n| (n.to_string(), free_port())).collect();
        let expand = |text: &str| {
            let mut out = text.replace("{dir}", &dir.path().display().to_string());
            for (name, port) in &ports {
                out = out.replace(&format!("{{port:{name}}}"), &port.to_string());
            }
            out
        };
        let static_path = dir.path().join("tollgate.yml");
        std::fs::write(&static_path, expand(setup.static_yaml)).expect("write static config");
        std::fs::write(dir.path().join("dynamic.yml"), expand(setup.dynamic_yaml))
            .expect("write dynamic config");
        let notify_path = dir.path().join("notify.sock");
        let notify = UnixDatagram::bind(&notify_path).expect("bind notify socket");
        notify.set_read_timeout(Some(Duration::from_millis(100))).expect("socket timeout");
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = match setup.wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                let inner = command();
                cmd.arg(inner.get_program()).args(inner.get_args());
                cmd
            }
            None => command(),
        };
        cmd.arg("run")
            .arg("--config")
            .arg(&static_path)
            .args(setup.args.iter().map(|a| expand(a)))
            .current_dir(dir.path())
            .env("NOTIFY_SOCKET", &notify_path)
            .env_remove("JOURNAL_STREAM")
            .env_remove("LISTEN_FDS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in &setup.env {
            cmd.env(k, v);
        }
        if let Some(customize) = setup.customize {
            customize(&mut cmd);
        }
        let child = cmd.spawn().expect("start tollgate");
        Tollgate { child: Some(child), dir, notify, ports, stderr_path, notes: Vec::new() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn port(&self, entrypoint: &str) -> u16 {
        self.ports[entrypoint]
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port("web"))
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).expect("running")
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Read notifications until one contains `needle` (counting only ones after those already
    /// seen), or panic after `limit`.
    pub fn wait_for_note(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match self.notify.recv(&mut buf) {
                Ok(n) => {
                    let note = String::from_utf8_lossy(&buf[..n]).into_owned();
                    self.notes.push(note.clone());
                    if note.lines().any(|l| l == needle || l.starts_with(needle)) {
                        return note;
                    }
                }
                Err(_) => {
                    if let Some(status) =
                        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
                    {
                        panic!(
                            "tollgate exited ({status}) before `{needle}`; stderr:\n{}",
                            self.stderr()
                        );
                    }
                }
            }
        }
        panic!("no `{needle}` from tollgate within {limit:?}; stderr:\n{}", self.stderr());
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY-free: libc::kill with a pid we own.
        let rc = unsafe_kill(self.pid(), sig);
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    /// Rewrite the dynamic configuration file.
    pub fn write_dynamic(&self, yaml: &str) {
        write_atomic(&self.path("dynamic.yml"), yaml);
    }

    /// SIGTERM, then wait for the exit (panics after `limit`).
    pub fn stop(mut self, limit: Duration) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit(limit)
    }

    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                panic!("tollgate did not exit within {limit:?}; stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A field of the process's `/proc/PID/status` (`"Threads"`, `"VmRSS"`...), trimmed; `None`
    /// when the process or the field is gone.
    pub fn status(&self, field: &str) -> Option<String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let prefix = format!("{field}:");
        status.lines().find_map(|l| Some(l.strip_prefix(prefix.as_str())?.trim().to_owned()))
    }

    /// Resident memory of the process in KiB (VmRSS).
    pub fn rss_kib(&self) -> u64 {
        self.status("VmRSS").and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0)
    }
}

impl Drop for Tollgate {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Write through a temporary file and rename, as editors and config tools do.
pub fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).expect("write temp");
    std::fs::rename(&tmp, path).expect("rename");
}

fn unsafe_kill(pid: i32, sig: i32) -> i32 {
    // The test suite may use libc freely; only the crate itself denies unsafe code.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, sig)
    }
}

/// Read a whole file, for assertions on logs.
pub fn read(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

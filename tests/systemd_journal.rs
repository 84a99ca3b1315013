//! tollgate's own log: journald's native protocol received on a real datagram socket, JSON
//! lines, readable lines.
//!
//! The journal socket path is fixed (`/run/systemd/journal/socket`), so tollgate runs in a
//! private mount namespace (`unshare --mount`, or `--user --map-root-user --mount` without
//! root) where a directory of the test's is bind-mounted over the journal's directory; the test
//! listens on `socket` in it and parses the datagrams tollgate sends.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::proxy::wait_until;
use crate::util::{Setup, Tollgate};

const LIMIT: Duration = Duration::from_secs(20);

/// `unshare` arguments that give a private mount namespace here, or a clear failure.
fn unshare() -> &'static [&'static str] {
    static CHOICE: OnceLock<&'static [&'static str]> = OnceLock::new();
    CHOICE.get_or_init(|| {
        let candidates: [&'static [&'static str]; 2] =
            [&["unshare", "--mount"], &["unshare", "--user", "--map-root-user", "--mount"]];
        for args in candidates {
            let works = Command::new(args[0])
                .args(&args[1..])
                .arg("true")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if works {
                return args;
            }
        }
        panic!(
            "the journald tests need a private mount namespace: neither `unshare --mount` (root) \
             nor `unshare --user --map-root-user --mount` (user namespaces) works here"
        );
    })
}

/// A fake journald: a datagram socket that appears as `/run/systemd/journal/socket` to
/// tollgate.
struct Journal {
    _dir: tempfile::TempDir,
    socket: Option<UnixDatagram>,
    /// What to bind-mount, and where.
    source: PathBuf,
    target: &'static str,
}

/// One journal entry: field name → values (a field may repeat).
type Entry = BTreeMap<String, Vec<String>>;

impl Journal {
    /// `listening: false` leaves the directory without a socket (journald not running).
    fn new(listening: bool) -> Journal {
        let dir = tempfile::tempdir().expect("temp dir");
        // Mount over the deepest of these that exists, with the same layout below it.
        let (target, below) = if Path::new("/run/systemd/journal").is_dir() {
            ("/run/systemd/journal", "")
        } else if Path::new("/run/systemd").is_dir() {
            ("/run/systemd", "journal")
        } else {
            ("/run", "systemd/journal")
        };
        let source = dir.path().join("mnt");
        let socket_dir = source.join(below);
        std::fs::create_dir_all(&socket_dir).expect("journal dir");
        let socket = listening.then(|| {
            let socket =
                UnixDatagram::bind(socket_dir.join("socket")).expect("bind journal socket");
            socket.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
            socket
        });
        Journal { _dir: dir, socket, source, target }
    }

    /// Run tollgate with this journal in place.
    fn wrap(&self, setup: &mut Setup<'_>) {
        let mut wrapper: Vec<String> = unshare().iter().map(|s| s.to_string()).collect();
        wrapper.extend(
            [
                "sh",
                "-c",
                "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"",
                "sh",
                &self.source.display().to_string(),
                self.target,
            ]
            .map(String::from),
        );
        setup.wrapper = wrapper;
    }

    /// Entries until one satisfies `want`; panics after `limit` with what came.
    fn wait_for(
        &self,
        seen: &mut Vec<Entry>,
        limit: Duration,
        want: impl Fn(&Entry) -> bool,
    ) -> Entry {
        if let Some(entry) = seen.iter().find(|e| want(e)) {
            return entry.clone();
        }
        let socket = self.socket.as_ref().expect("listening journal");
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < deadline {
            let Ok(n) = socket.recv(&mut buf) else { continue };
            if n == 0 {
                continue; // tracing-journald's connectivity probe
            }
            let entry = parse_entry(&buf[..n]);
            seen.push(entry.clone());
            if want(&entry) {
                return entry;
            }
        }
        panic!("no such journal entry within {limit:?}; received: {seen:#?}");
    }
}

/// The native journal protocol: `NAME=value\n`, or `NAME\n` + 64-bit little-endian length +
/// value + `\n` for values that may hold newlines.
fn parse_entry(mut data: &[u8]) -> Entry {
    let mut entry = Entry::new();
    while !data.is_empty() {
        let nl = data.iter().position(|&b| b == b'\n').expect("a field ends with a newline");
        let line = &data[..nl];
        let (name, value) = match line.iter().position(|&b| b == b'=') {
            Some(eq) => {
                data = &data[nl + 1..];
                (&line[..eq], line[eq + 1..].to_vec())
            }
            None => {
                let len_bytes: [u8; 8] = data[nl + 1..nl + 9].try_into().expect("length");
                let len = u64::from_le_bytes(len_bytes) as usize;
                let start = nl + 9;
                let value = data[start..start + len].to_vec();
                assert_eq!(data[start + len], b'\n', "binary field ends with a newline");
                data = &data[start + len + 1..];
                (line, value)
            }
        };
        let name = String::from_utf8(name.to_vec()).expect("field name");
        assert!(
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && !name.starts_with('_'),
            "journald would drop field name {name:?}"
        );
        entry.entry(name).or_default().push(String::from_utf8_lossy(&value).into_owned());
    }
    entry
}

fn field<'a>(entry: &'a Entry, name: &str) -> &'a str {
    entry.get(name).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
}

fn static_config(format: &str) -> String {
    format!(
        r#"
entryPoints:
  web:
    address: "127.0.0.1:{{port:web}}"
providers:
  providersThrottleDuration: 10ms
  file:
    filename: "{{dir}}/dynamic.yml"
log:
  level: INFO
  format: {format}
"#
    )
}

/// A bad router and a broken service beside a good route.
const DYNAMIC: &str = r#"
http:
  routers:
    bad:
      rule: "Hots(`x`)"
      service: ok
    good:
      rule: "PathPrefix(`/`)"
      service: ok
  services:
    ok:
      loadBalancer:
        servers: [{url: "http://127.0.0.1:1"}]
    broken:
      loadBalancer:
        servers: [{url: "::not a url"}]
"#;

#[test]
fn journald_format_sends_native_entries_with_structured_fields() {
    let journal = Journal::new(true);
    let static_yaml = static_config("journald");
    let mut setup = Setup::new(&static_yaml, DYNAMIC);
    journal.wrap(&mut setup);
    let tg = Tollgate::start(setup);
    let mut seen = Vec::new();

    let listening = journal.wait_for(&mut seen, LIMIT, |e| field(e, "MESSAGE") == "listening");
    assert_eq!(field(&listening, "ENTRYPOINT"), "web");
    assert_eq!(field(&listening, "ADDRESS"), tg.addr());
    assert_eq!(field(&listening, "SYSLOG_IDENTIFIER"), "tollgate");
    assert_eq!(field(&listening, "PRIORITY"), "5", "INFO is notice");
    assert_eq!(field(&listening, "TARGET"), "tollgate::runtime");

    let router = journal.wait_for(&mut seen, LIMIT, |e| e.contains_key("ROUTER"));
    assert_eq!(field(&router, "ROUTER"), "bad@file");
    assert_eq!(field(&router, "PRIORITY"), "3");
    assert!(
        field(&router, "ERROR")
            .contains("dynamic.yml:4:5: router `bad@file`: rule: column 1: unknown matcher `Hots`"),
        "{router:?}"
    );
    let service = journal.wait_for(&mut seen, LIMIT, |e| e.contains_key("SERVICE"));
    assert_eq!(field(&service, "SERVICE"), "broken@file");

    // A configuration that does not load names its provider.
    tg.write_dynamic("http:\n  routers: [not, a, map\n");
    tg.signal(libc::SIGHUP);
    let refused = journal.wait_for(&mut seen, LIMIT, |e| e.contains_key("PROVIDER"));
    assert_eq!(field(&refused, "PROVIDER"), "file");
    assert_eq!(
        field(&refused, "MESSAGE"),
        "configuration refused; the last good one stays in force"
    );
    assert!(field(&refused, "ERROR").contains("dynamic.yml:"), "{refused:?}");

    assert!(
        seen.iter().all(|e| e.keys().all(|k| !k.starts_with("F_"))),
        "fields carry their own names, no F_ prefix: {seen:#?}"
    );
    assert!(!tg.stderr().contains("listening"), "the journal, not stderr: {}", tg.stderr());
}

/// A file to stand in as tollgate's standard error, and its `DEVICE:INODE`.
fn stderr_file(dir: &Path) -> (std::fs::File, String) {
    let file = std::fs::File::create(dir.join("stream")).expect("stderr file");
    let meta = file.metadata().expect("stat");
    (file, format!("{}:{}", meta.dev(), meta.ino()))
}

#[test]
fn journal_stream_naming_our_stderr_selects_journald() {
    let journal = Journal::new(true);
    let static_yaml = static_config("common");
    let mut setup = Setup::new(&static_yaml, DYNAMIC);
    journal.wrap(&mut setup);
    let dir = tempfile::tempdir().expect("temp dir");
    let (stream, id) = stderr_file(dir.path());
    setup.customize = Some(Box::new(move |cmd: &mut Command| {
        cmd.env("JOURNAL_STREAM", id).stderr(stream);
    }));
    let _tg = Tollgate::start(setup);
    let mut seen = Vec::new();
    let listening = journal.wait_for(&mut seen, LIMIT, |e| field(e, "MESSAGE") == "listening");
    assert_eq!(field(&listening, "ENTRYPOINT"), "web");
    let stream = std::fs::read_to_string(dir.path().join("stream")).expect("stream");
    assert!(!stream.contains("listening"), "{stream}");
}

#[test]
fn journal_stream_of_another_stream_keeps_readable_lines() {
    // Inherited from a parent whose stderr was the journal, but ours is a file now.
    let journal = Journal::new(true);
    let static_yaml = static_config("common");
    let mut setup = Setup::new(&static_yaml, DYNAMIC);
    journal.wrap(&mut setup);
    let dir = tempfile::tempdir().expect("temp dir");
    let (_other, id) = stderr_file(dir.path());
    setup.env.push(("JOURNAL_STREAM", id));
    let tg = Tollgate::start(setup);
    wait_until(LIMIT, || tg.stderr().contains("configuration applied"));
    let stderr = tg.stderr();
    assert!(stderr.contains(" INFO tollgate::runtime: listening entrypoint=web"), "{stderr}");
}

#[test]
fn unreachable_journal_falls_back_to_stderr_with_a_warning() {
    let journal = Journal::new(false);
    let static_yaml = static_config("journald");
    let mut setup = Setup::new(&static_yaml, DYNAMIC);
    journal.wrap(&mut setup);
    let tg = Tollgate::start(setup);
    wait_until(LIMIT, || tg.stderr().contains("configuration applied"));
    let stderr = tg.stderr();
    assert!(stderr.contains("cannot reach the journal"), "{stderr}");
    assert!(stderr.contains("logging to standard error"), "{stderr}");
    assert!(stderr.contains("listening entrypoint=web"), "{stderr}");
}

#[test]
fn json_format_writes_one_object_per_line() {
    let static_yaml = static_config("json");
    let tg = Tollgate::start(Setup::new(&static_yaml, DYNAMIC));
    wait_until(LIMIT, || tg.stderr().contains("configuration applied"));
    let lines: Vec<serde_json::Value> = tg
        .stderr()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let listening = lines.iter().find(|l| l["message"] == "listening").expect("listening line");
    assert_eq!(listening["level"], "info");
    assert_eq!(listening["entrypoint"], "web");
    assert_eq!(listening["address"], tg.addr());
    let router = lines.iter().find(|l| l["router"] == "bad@file").expect("router error line");
    assert_eq!(router["level"], "error");
    assert!(router["error"].as_str().expect("error").contains("unknown matcher `Hots`"));
    let applied =
        lines.iter().find(|l| l["message"] == "configuration applied").expect("applied line");
    assert_eq!(applied["errors"], 2, "the bad router and the broken service");
}

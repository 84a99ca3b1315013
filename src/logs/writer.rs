//! The access-log writer: Traefik's `common` and `json` lines, written by a thread of its own.
//!
//! The request path calls [`AccessLog::record`] with a borrowed [`AccessRecord`]; the line is
//! formatted there into a per-thread scratch buffer (no allocation) and appended to a shared
//! batch under a lock held for one copy. A batch already at its cap drops the line and counts
//! it: the request path never waits on the disk. The writer thread is woken when a batch starts,
//! lets it fill for a moment (`LINGER`) or until it holds `FLUSH_BYTES`, swaps it for an empty
//! one and writes it in one call, so a busy proxy costs one wake-up and one write(2) per batch,
//! not per line.
//! [`AccessLog::reopen`] (SIGUSR1) makes the thread reopen the file for logrotate.
//!
//! Formats follow Traefik v3 exactly (pkg/middlewares/accesslog and its real output): the
//! common line is CLF plus request count, "router", "server URL" and the duration in ms; JSON
//! has Traefik's field names in Go's sorted-key order. `fields.defaultMode`/`names` drop fields
//! (shown as `-` in the common line), `fields.headers` keep, drop (Traefik's default) or redact
//! headers, which is why the common line's referrer and agent are `"-"` unless headers are kept.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::static_config::AccessLog as AccessLogModel;
use crate::stats::{MS_PER_DAY, civil_from_days};

/// Lines queued for the writer when `bufferingSize` is 0 (Traefik then writes synchronously;
/// tollgate never does, so it needs some room).
pub const DEFAULT_QUEUE: usize = 1024;

/// Room per queued line in the batch (lines are usually 150-300 bytes).
const BYTES_PER_LINE: usize = 512;

/// How long the writer lets a batch fill after the first line wakes it.
const LINGER: Duration = Duration::from_millis(20);

/// A batch this big is written at once, lingering or not. The write(2) copies the batch into
/// the page cache on whatever core the writer runs, and on a one-core board (or a proxy pinned
/// to one core) the workers wait that long: at 80,000 requests a second a 20 ms batch is ~250 KB,
/// which stalled every request in flight. Cut at 32 KB (~2 ms at that rate), the p99 at equal
/// load went from 1.02x nginx's to 0.93x (docs/PERFORMANCE.md, "The access log's write"). A
/// quiet proxy still writes at most once per LINGER.
const FLUSH_BYTES: usize = 32 * 1024;

/// A request/response header as the proxy saw it.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// One finished request, borrowed from the request path's own data.
#[derive(Clone, Debug)]
pub struct AccessRecord<'a> {
    /// The TCP peer (`ClientAddr`, `ClientHost`, `ClientPort`).
    pub client: Option<SocketAddr>,
    /// `X-Forwarded-For` as received: Traefik logs it as `ClientHost` when present.
    pub forwarded_for: Option<&'a str>,
    /// User from the URL's userinfo (`ClientUsername`), `None` for `-`.
    pub user: Option<&'a str>,
    pub start: SystemTime,
    pub method: &'a str,
    /// Path and query as received (`RequestPath`).
    pub path: &'a str,
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: &'a str,
    /// Host header, with port if any (`RequestAddr`).
    pub host: &'a str,
    /// `http` or `https`.
    pub scheme: &'a str,
    pub entry_point: &'a str,
    pub status: u16,
    pub bytes: u64,
    pub request_bytes: u64,
    /// Requests since start (`RequestCount`).
    pub request_count: u64,
    pub router: Option<&'a str>,
    pub service: Option<&'a str>,
    pub service_url: Option<&'a str>,
    pub service_addr: Option<&'a str>,
    pub duration: Duration,
    pub origin_duration: Option<Duration>,
    pub origin_status: Option<u16>,
    pub origin_bytes: Option<u64>,
    pub retry_attempts: u32,
    /// `1.2`, `1.3` (`TLSVersion`), cipher name (`TLSCipher`).
    pub tls_version: Option<&'a str>,
    pub tls_cipher: Option<&'a str>,
    pub request_headers: &'a [Header<'a>],
    pub origin_headers: &'a [Header<'a>],
    pub response_headers: &'a [Header<'a>],
}

#[derive(Debug, thiserror::Error)]
pub enum AccessLogError {
    #[error("accessLog.filePath `{path}`: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("accessLog.format: `{0}` is not common, genericCLF or json")]
    Format(String),
    #[error(
        "accessLog.filters.statusCodes: `{0}` is not a status code or range such as 200 or 300-302"
    )]
    StatusRange(String),
    #[error("accessLog.{key}: `{value}` is not keep, drop or redact")]
    Mode { key: String, value: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LineFormat {
    Common,
    GenericClf,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Keep,
    Drop,
    Redact,
}

fn mode(key: &str, v: &str) -> Result<Mode, AccessLogError> {
    match v {
        "keep" => Ok(Mode::Keep),
        "drop" => Ok(Mode::Drop),
        "redact" => Ok(Mode::Redact),
        _ => Err(AccessLogError::Mode { key: key.to_string(), value: v.to_string() }),
    }
}

/// Canonical MIME header form (`user-agent` → `User-Agent`), as Go writes header names.
fn canonical(name: &str) -> String {
    let mut up = true;
    name.chars()
        .map(|c| {
            let o = if up { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
            up = c == '-';
            o
        })
        .collect()
}

/// The compiled `accessLog` options.
#[derive(Clone, Debug)]
struct Options {
    format: LineFormat,
    status_ranges: Vec<(u16, u16)>,
    retry_attempts: bool,
    min_duration: Duration,
    field_default: bool,
    field_names: Vec<(String, bool)>,
    header_default: Mode,
    header_names: Vec<(String, Mode)>,
    /// The common line's fields, looked up once.
    common: CommonFields,
}

/// Which fields the common line keeps (`fields.names`), and the two header modes it reads.
#[derive(Clone, Copy, Debug, Default)]
struct CommonFields {
    client_host: bool,
    username: bool,
    start: bool,
    method: bool,
    path: bool,
    protocol: bool,
    status: bool,
    size: bool,
    count: bool,
    router: bool,
    service_url: bool,
    duration: bool,
    referer: Option<Mode>,
    user_agent: Option<Mode>,
}

impl Options {
    fn new(m: &AccessLogModel) -> Result<Options, AccessLogError> {
        let format = match m.format.as_str() {
            "" | "common" => LineFormat::Common,
            "genericCLF" => LineFormat::GenericClf,
            "json" => LineFormat::Json,
            other => return Err(AccessLogError::Format(other.to_string())),
        };
        let mut status_ranges = Vec::new();
        for s in &m.filters.status_codes {
            let bad = || AccessLogError::StatusRange(s.clone());
            let (a, b) = s.split_once('-').unwrap_or((s, s));
            let a: u16 = a.trim().parse().map_err(|_| bad())?;
            let b: u16 = b.trim().parse().map_err(|_| bad())?;
            if a > b {
                return Err(bad());
            }
            status_ranges.push((a, b));
        }
        let keep = |key: &str, v: &str| -> Result<bool, AccessLogError> {
            Ok(mode(key, v)? != Mode::Drop)
        };
        let field_default = match m.fields.default_mode.as_deref() {
            Some(v) => keep("fields.defaultMode", v)?,
            None => true,
        };
        let mut field_names = Vec::new();
        for (k, v) in &m.fields.names {
            field_names.push((k.to_ascii_lowercase(), keep(&format!("fields.names.{k}"), v)?));
        }
        let header_default = match m.fields.headers.default_mode.as_deref() {
            Some(v) => mode("fields.headers.defaultMode", v)?,
            None => Mode::Drop,
        };
        let mut header_names = Vec::new();
        for (k, v) in &m.fields.headers.names {
            header_names.push((canonical(k), mode(&format!("fields.headers.names.{k}"), v)?));
        }
        let mut opts = Options {
            format,
            status_ranges,
            retry_attempts: m.filters.retry_attempts,
            min_duration: m.filters.min_duration.0,
            field_default,
            field_names,
            header_default,
            header_names,
            common: CommonFields::default(),
        };
        let keep = |name: &str| opts.keep_field(name);
        let header = |name: &str| Some(opts.header_mode(name)).filter(|m| *m != Mode::Drop);
        opts.common = CommonFields {
            client_host: keep("ClientHost"),
            username: keep("ClientUsername"),
            start: keep("StartUTC") || keep("StartLocal"),
            method: keep("RequestMethod"),
            path: keep("RequestPath"),
            protocol: keep("RequestProtocol"),
            status: keep("DownstreamStatus"),
            size: keep("DownstreamContentSize"),
            count: keep("RequestCount"),
            router: keep("RouterName"),
            service_url: keep("ServiceURL"),
            duration: keep("Duration"),
            referer: header("Referer"),
            user_agent: header("User-Agent"),
        };
        Ok(opts)
    }

    /// Traefik's `keepAccessLog`: no filters keep everything; otherwise any filter that matches.
    fn keep_line(&self, r: &AccessRecord<'_>) -> bool {
        if self.status_ranges.is_empty() && !self.retry_attempts && self.min_duration.is_zero() {
            return true;
        }
        self.status_ranges.iter().any(|&(a, b)| (a..=b).contains(&r.status))
            || (self.retry_attempts && r.retry_attempts > 0)
            || (!self.min_duration.is_zero() && r.duration > self.min_duration)
    }

    fn keep_field(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.field_names.iter().find(|(n, _)| *n == lower).map_or(self.field_default, |(_, k)| *k)
    }

    fn header_mode(&self, canonical_name: &str) -> Mode {
        self.header_names
            .iter()
            .find(|(n, _)| n == canonical_name)
            .map_or(self.header_default, |(_, m)| *m)
    }
}

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    dropped: AtomicU64,
    errors: AtomicU64,
}

/// Lines waiting for the writer thread.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    lines: u64,
    reopen: bool,
    closed: bool,
}

/// What the request path and the writer thread share.
struct Queue {
    batch: Mutex<Batch>,
    wake: Condvar,
    counters: Counters,
    /// The batch's cap in bytes: `bufferingSize` (or `DEFAULT_QUEUE`) lines.
    cap: usize,
    /// Write without lingering from this size: `FLUSH_BYTES`, or half the cap when a small
    /// `bufferingSize` would drop lines before the batch got there.
    flush: usize,
    /// `LINGER`; longer in a test that must see a batch written for its size alone.
    linger: Duration,
}

impl Queue {
    /// The batch, even if a thread panicked while holding it (the data is plain bytes).
    fn lock(&self) -> MutexGuard<'_, Batch> {
        self.batch.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The access-log handle the proxy holds. Cheap to share behind an `Arc`.
pub struct AccessLog {
    opts: Options,
    queue: Arc<Queue>,
    thread: Option<JoinHandle<()>>,
}

enum Sink {
    File { path: PathBuf, out: File },
    Stdout(io::Stdout),
}

fn open(path: &PathBuf) -> Result<File, AccessLogError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|source| AccessLogError::Open { path: path.clone(), source })?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| AccessLogError::Open { path: path.clone(), source })
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::File { out, .. } => out.write_all(bytes),
            Sink::Stdout(o) => {
                let mut o = o.lock();
                o.write_all(bytes)?;
                o.flush()
            }
        }
    }

    /// logrotate moved the file: open a new one at the configured path.
    fn reopen(&mut self) {
        if let Sink::File { path, out } = self {
            match open(path) {
                Ok(f) => *out = f,
                Err(error) => {
                    tracing::warn!(error = %error, "access log could not be reopened; still writing to the old file")
                }
            }
        }
    }
}

/// The writer thread: wait for a batch, let it fill, swap it out, write it.
fn run(queue: Arc<Queue>, mut sink: Sink) {
    let mut writing = Vec::new();
    loop {
        let mut batch = queue.lock();
        while batch.buf.is_empty() && !batch.reopen && !batch.closed {
            batch = queue.wake.wait(batch).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        let until = Instant::now() + queue.linger;
        while !batch.closed && !batch.reopen && batch.buf.len() < queue.flush {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            batch = queue.wake.wait_timeout(batch, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        std::mem::swap(&mut batch.buf, &mut writing);
        let lines = std::mem::take(&mut batch.lines);
        let reopen = std::mem::take(&mut batch.reopen);
        let closed = batch.closed;
        drop(batch);
        if reopen {
            sink.reopen();
        }
        if !writing.is_empty() {
            match sink.write(&writing) {
                Ok(()) => queue.counters.written.fetch_add(lines, Ordering::Relaxed),
                Err(_) => queue.counters.errors.fetch_add(lines, Ordering::Relaxed),
            };
            writing.clear();
        }
        if closed && queue.lock().buf.is_empty() {
            return;
        }
    }
}

thread_local! {
    /// Each worker formats its lines here, so formatting allocates nothing once warm.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl AccessLog {
    /// Open the file (or standard output) and start the writer thread.
    pub fn new(model: &AccessLogModel) -> Result<AccessLog, AccessLogError> {
        AccessLog::with_linger(model, LINGER)
    }

    fn with_linger(model: &AccessLogModel, linger: Duration) -> Result<AccessLog, AccessLogError> {
        let opts = Options::new(model)?;
        let sink = match model.file_path.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => {
                let path = PathBuf::from(p);
                let out = open(&path)?;
                Sink::File { path, out }
            }
            None => Sink::Stdout(io::stdout()),
        };
        let lines = if model.buffering_size > 0 {
            model.buffering_size.min(1 << 20) as usize
        } else {
            DEFAULT_QUEUE
        };
        let queue = Arc::new(Queue {
            batch: Mutex::new(Batch::default()),
            wake: Condvar::new(),
            counters: Counters::default(),
            cap: lines * BYTES_PER_LINE,
            flush: FLUSH_BYTES.min(lines * BYTES_PER_LINE / 2),
            linger,
        });
        let for_thread = Arc::clone(&queue);
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || run(for_thread, sink))
            .map_err(|source| AccessLogError::Open {
                path: PathBuf::from("<access-log thread>"),
                source,
            })?;
        Ok(AccessLog { opts, queue, thread: Some(thread) })
    }

    /// Log one request if the filters keep it. Never blocks on the disk: a full batch drops the
    /// line and counts it.
    pub fn record(&self, r: &AccessRecord<'_>) {
        if !self.opts.keep_line(r) {
            return;
        }
        LINE.with(|line| {
            let Ok(mut line) = line.try_borrow_mut() else { return };
            line.clear();
            self.format_into(r, &mut line);
            let mut batch = self.queue.lock();
            if batch.closed || batch.buf.len() + line.len() > self.queue.cap {
                drop(batch);
                self.queue.counters.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let before = batch.buf.len();
            batch.buf.extend_from_slice(&line);
            batch.lines += 1;
            // Wake the writer when a batch starts (it waits for one) and when it reaches
            // `flush` bytes (it lingers until then): twice per batch at most.
            let flush = self.queue.flush;
            let wake = before == 0 || (before < flush && batch.buf.len() >= flush);
            drop(batch);
            if wake {
                self.queue.wake.notify_one();
            }
        });
    }

    /// Whether any header can appear in a line (a header mode other than drop): when false the
    /// request path can pass empty header slices and skip collecting them.
    pub fn wants_headers(&self) -> bool {
        self.opts.header_default != Mode::Drop
            || self.opts.header_names.iter().any(|(_, m)| *m != Mode::Drop)
    }

    /// Reopen the file (SIGUSR1, after logrotate moved it). Never blocks on the disk.
    pub fn reopen(&self) {
        self.queue.lock().reopen = true;
        self.queue.wake.notify_one();
    }

    /// Lines written, dropped because the queue was full, and failed writes.
    pub fn counts(&self) -> (u64, u64, u64) {
        let c = &self.queue.counters;
        (
            c.written.load(Ordering::Relaxed),
            c.dropped.load(Ordering::Relaxed),
            c.errors.load(Ordering::Relaxed),
        )
    }

    /// Write what is queued and stop the thread.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.queue.lock().closed = true;
        self.queue.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// The line `record` would queue (without its filters), for tests and tools.
    pub fn format(&self, r: &AccessRecord<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        self.format_into(r, &mut out);
        out
    }

    fn format_into(&self, r: &AccessRecord<'_>, out: &mut Vec<u8>) {
        match self.opts.format {
            LineFormat::Common => common(&self.opts, r, true, out),
            LineFormat::GenericClf => common(&self.opts, r, false, out),
            LineFormat::Json => out.extend_from_slice(&json(&self.opts, r)),
        }
    }
}

impl Drop for AccessLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn split_host_port(s: &str) -> (&str, &str) {
    if let Some(rest) = s.strip_prefix('[')
        && let Some((h, p)) = rest.split_once("]:")
    {
        return (h, p);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && !p.is_empty() => (h, p),
        _ => (s, "-"),
    }
}

thread_local! {
    /// The last second formatted, and its text: a busy proxy formats each second once.
    static CLF_SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `clf_time` of `t` appended to `out`, from a per-second cache.
fn clf_time_into(t: SystemTime, out: &mut Vec<u8>) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CLF_SECOND.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            out.extend_from_slice(clf_time(t).as_bytes());
            return;
        };
        if cache.0 != secs {
            *cache = (secs, clf_time(t));
        }
        out.extend_from_slice(cache.1.as_bytes());
    });
}

/// `02/Jan/2006:15:04:05 -0700` in UTC.
fn clf_time(t: SystemTime) -> String {
    let ms = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let (y, m, d) = civil_from_days((ms / MS_PER_DAY) as i64);
    let s = (ms % MS_PER_DAY) / 1000;
    const MON: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{d:02}/{}/{y:04}:{:02}:{:02}:{:02} +0000",
        MON[(m - 1) as usize],
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// RFC 3339 with nanoseconds, as Go marshals a UTC `time.Time`.
fn rfc3339_nano(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    let mut out =
        format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

fn client_host<'a>(r: &'a AccessRecord<'a>, host_buf: &'a str) -> &'a str {
    r.forwarded_for.filter(|f| !f.is_empty()).unwrap_or(host_buf)
}

fn header_value(opts: &Options, headers: &[Header<'_>], name: &str) -> Option<String> {
    let canon = canonical(name);
    match opts.header_mode(&canon) {
        Mode::Drop => None,
        Mode::Redact => headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
            .then(|| "REDACTED".to_string()),
        Mode::Keep => {
            let v: Vec<&str> = headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
                .collect();
            if v.is_empty() { None } else { Some(v.join(",")) }
        }
    }
}

/// Traefik's common line (CLF, then request count, "router", "server URL" and duration),
/// written straight into `out`: this runs once per request.
fn common(opts: &Options, r: &AccessRecord<'_>, traefik: bool, out: &mut Vec<u8>) {
    let f = &opts.common;
    let text = |out: &mut Vec<u8>, keep: bool, v: &str| {
        out.extend_from_slice(if keep && !v.is_empty() { v.as_bytes() } else { b"-" });
    };
    match r.forwarded_for.filter(|x| !x.is_empty()) {
        Some(forwarded) => text(out, f.client_host, forwarded),
        None if f.client_host => match r.client {
            Some(addr) => push_ip(out, addr.ip()),
            None => out.push(b'-'),
        },
        None => out.push(b'-'),
    }
    out.extend_from_slice(b" - ");
    text(out, f.username, r.user.unwrap_or("-"));
    out.extend_from_slice(b" [");
    if f.start {
        clf_time_into(r.start, out);
    } else {
        out.push(b'-');
    }
    out.extend_from_slice(b"] \"");
    text(out, f.method, r.method);
    out.push(b' ');
    text(out, f.path, r.path);
    out.push(b' ');
    text(out, f.protocol, r.protocol);
    out.extend_from_slice(b"\" ");
    if f.status {
        push_u64(out, u64::from(r.status))
    } else {
        out.push(b'-')
    }
    out.push(b' ');
    if f.size {
        push_u64(out, r.bytes)
    } else {
        out.push(b'-')
    }
    out.push(b' ');
    header_into(out, f.referer, r.request_headers, "Referer");
    out.push(b' ');
    header_into(out, f.user_agent, r.request_headers, "User-Agent");
    if traefik {
        out.push(b' ');
        if f.count {
            push_u64(out, r.request_count)
        } else {
            out.push(b'-')
        }
        out.push(b' ');
        quoted_into(out, if f.router { r.router } else { None });
        out.push(b' ');
        quoted_into(out, if f.service_url { r.service_url } else { None });
        out.push(b' ');
        push_u64(out, if f.duration { r.duration.as_millis() as u64 } else { 0 });
        out.extend_from_slice(b"ms");
    }
    out.push(b'\n');
}

/// A decimal number without the formatting machinery.
/// `n` in decimal (the proxy's response heads use it too).
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `"value"` with inner quotes escaped, or `"-"`.
fn quoted_into(out: &mut Vec<u8>, v: Option<&str>) {
    match v.filter(|s| !s.is_empty()) {
        Some(s) => {
            out.push(b'"');
            let mut rest = s.as_bytes();
            while let Some(quote) = memchr::memchr(b'"', rest) {
                out.extend_from_slice(&rest[..quote]);
                out.extend_from_slice(b"\\\"");
                rest = &rest[quote + 1..];
            }
            out.extend_from_slice(rest);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"\"-\""),
    }
}

/// An address as `Display` writes it; IPv4 (every client of a small site, near enough) without
/// the formatting machinery.
fn push_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, u64::from(octet));
            }
        }
        std::net::IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// A request header for the common line, as its mode says (absent or dropped: `"-"`).
fn header_into(out: &mut Vec<u8>, mode: Option<Mode>, headers: &[Header<'_>], name: &str) {
    if !matches!(mode, Some(Mode::Redact | Mode::Keep)) {
        return quoted_into(out, None);
    }
    let mut values = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name));
    match (mode, values.next()) {
        (Some(Mode::Redact), Some(_)) => quoted_into(out, Some("REDACTED")),
        (Some(Mode::Keep), Some(first)) => {
            let rest: Vec<&str> = values.map(|h| h.value).collect();
            if rest.is_empty() {
                quoted_into(out, Some(first.value));
            } else {
                let joined = std::iter::once(first.value).chain(rest).collect::<Vec<_>>().join(",");
                quoted_into(out, Some(&joined));
            }
        }
        _ => quoted_into(out, None),
    }
}

fn json_str(out: &mut String, s: &str) {
    crate::logging::json::push_json_string(out, s, true);
}

enum V<'a> {
    S(&'a str),
    O(String),
    N(u64),
    /// A ratio; finite (Go's encoding and Rust's `Display` agree on such values' shortest form).
    F(f64),
}

fn json(opts: &Options, r: &AccessRecord<'_>) -> Vec<u8> {
    let addr = r.client.map(|a| a.to_string()).unwrap_or_default();
    let ip = r.client.map(|a| a.ip().to_string()).unwrap_or_default();
    let port = r.client.map(|a| a.port().to_string()).unwrap_or_else(|| "-".into());
    let (rhost, rport) = split_host_port(r.host);
    let start = rfc3339_nano(r.start);
    let dur = r.duration.as_nanos().min(u128::from(u64::MAX)) as u64;
    let mut core: Vec<(String, V<'_>)> = vec![
        ("ClientAddr".into(), V::O(addr)),
        ("ClientHost".into(), V::O(client_host(r, &ip).to_string())),
        ("ClientPort".into(), V::O(port)),
        ("ClientUsername".into(), V::S(r.user.unwrap_or("-"))),
        ("DownstreamContentSize".into(), V::N(r.bytes)),
        ("DownstreamStatus".into(), V::N(u64::from(r.status))),
        ("Duration".into(), V::N(dur)),
        (
            "Overhead".into(),
            V::N(dur.saturating_sub(r.origin_duration.map_or(0, |d| d.as_nanos() as u64))),
        ),
        ("RequestAddr".into(), V::S(r.host)),
        ("RequestContentSize".into(), V::N(r.request_bytes)),
        ("RequestCount".into(), V::N(r.request_count)),
        ("RequestHost".into(), V::S(rhost)),
        ("RequestMethod".into(), V::S(r.method)),
        ("RequestPath".into(), V::S(r.path)),
        ("RequestPort".into(), V::S(rport)),
        ("RequestProtocol".into(), V::S(r.protocol)),
        ("RequestScheme".into(), V::S(r.scheme)),
        ("RetryAttempts".into(), V::N(u64::from(r.retry_attempts))),
        ("StartLocal".into(), V::O(start.clone())),
        ("StartUTC".into(), V::O(start)),
    ];
    if let Some(d) = r.origin_duration {
        core.push(("OriginDuration".into(), V::N(d.as_nanos() as u64)));
    }
    if let Some(s) = r.origin_status {
        core.push(("OriginStatus".into(), V::N(u64::from(s))));
    }
    if let Some(b) = r.origin_bytes {
        core.push(("OriginContentSize".into(), V::N(b)));
        // Traefik's name for origin size over downstream size, written when they differ
        // (its not-found answer: an origin of 0 bytes).
        if b != r.bytes && r.bytes != 0 {
            core.push(("GzipRatio".into(), V::F(b as f64 / r.bytes as f64)));
        }
    }
    for (k, v) in [
        ("RouterName", r.router),
        ("ServiceName", r.service),
        ("ServiceURL", r.service_url),
        ("ServiceAddr", r.service_addr),
        ("TLSVersion", r.tls_version),
        ("TLSCipher", r.tls_cipher),
    ] {
        if let Some(v) = v {
            core.push((k.into(), V::S(v)));
        }
    }
    let mut all: Vec<(String, V<'_>)> =
        core.into_iter().filter(|(k, _)| opts.keep_field(k)).collect();
    for (prefix, headers) in [
        ("request_", r.request_headers),
        ("origin_", r.origin_headers),
        ("downstream_", r.response_headers),
    ] {
        let mut seen: Vec<String> = Vec::new();
        for h in headers {
            let canon = canonical(h.name);
            if seen.contains(&canon) {
                continue;
            }
            if let Some(v) = header_value(opts, headers, h.name) {
                all.push((format!("{prefix}{canon}"), V::O(v)));
            }
            seen.push(canon);
        }
    }
    all.push(("entryPointName".into(), V::S(r.entry_point)));
    all.push(("level".into(), V::S("info")));
    all.push(("msg".into(), V::S("")));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    all.push(("time".into(), V::O(rfc3339_nano(UNIX_EPOCH + Duration::from_secs(now)))));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::with_capacity(1024);
    out.push('{');
    for (i, (k, v)) in all.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(&mut out, k);
        out.push(':');
        match v {
            V::S(s) => json_str(&mut out, s),
            V::O(s) => json_str(&mut out, s),
            V::N(n) => out.push_str(&n.to_string()),
            V::F(f) => out.push_str(&f.to_string()),
        }
    }
    out.push_str("}\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::static_config::AccessLog as Model;

    fn record<'a>(h: &'a [Header<'a>]) -> AccessRecord<'a> {
        AccessRecord {
            client: Some("127.0.0.1:51764".parse().expect("addr")),
            forwarded_for: None,
            user: None,
            start: UNIX_EPOCH + Duration::from_millis(1_795_629_559_000),
            method: "GET",
            path: "/dyn.yml?x=1",
            protocol: "HTTP/1.1",
            host: "127.0.0.1:18930",
            scheme: "http",
            entry_point: "web",
            status: 404,
            bytes: 335,
            request_bytes: 0,
            request_count: 3,
            router: Some("r1@file"),
            service: Some("s1@file"),
            service_url: Some("http://127.0.0.1:18931"),
            service_addr: Some("127.0.0.1:18931"),
            duration: Duration::from_micros(5_400),
            origin_duration: None,
            origin_status: None,
            origin_bytes: None,
            retry_attempts: 0,
            tls_version: None,
            tls_cipher: None,
            request_headers: h,
            origin_headers: &[],
            response_headers: &[],
        }
    }

    fn log(m: &Model) -> AccessLog {
        let mut m = m.clone();
        m.file_path = Some(
            std::env::temp_dir()
                .join(format!("tollgate-writer-{}.log", std::process::id()))
                .display()
                .to_string(),
        );
        AccessLog::new(&m).expect("opens")
    }

    const H: &[Header<'static>] = &[
        Header { name: "user-agent", value: "Mozilla/5.0 \"q\"" },
        Header { name: "referer", value: "http://ex.com/a\"b" },
    ];

    #[test]
    fn addresses_print_as_display_does() {
        for ip in ["0.0.0.0", "255.255.255.255", "10.0.20.3", "::1", "2001:db8::8:1"] {
            let ip: std::net::IpAddr = ip.parse().expect("address");
            let mut out = Vec::new();
            push_ip(&mut out, ip);
            assert_eq!(String::from_utf8(out).expect("utf8"), ip.to_string());
        }
    }

    #[test]
    fn common_line_matches_traefik() {
        let l = log(&Model::default());
        let line = String::from_utf8(l.format(&record(H))).expect("utf8");
        // Traefik's default drops headers: referrer and agent print as "-".
        assert_eq!(
            line,
            "127.0.0.1 - - [25/Nov/2026:17:59:19 +0000] \"GET /dyn.yml?x=1 HTTP/1.1\" 404 335 \"-\" \"-\" 3 \"r1@file\" \"http://127.0.0.1:18931\" 5ms\n"
        );
        let mut m = Model::default();
        m.fields.headers.default_mode = Some("keep".into());
        let line = String::from_utf8(log(&m).format(&record(H))).expect("utf8");
        assert!(line.contains(r#" 404 335 "http://ex.com/a\"b" "Mozilla/5.0 \"q\"" 3 "#), "{line}");
    }

    #[test]
    fn json_line_has_traefik_names_in_sorted_order() {
        let mut m = Model { format: "json".into(), ..Model::default() };
        m.fields.headers.names.insert("User-Agent".into(), "redact".into());
        let line = String::from_utf8(log(&m).format(&record(H))).expect("utf8");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["DownstreamStatus"], 404);
        assert_eq!(v["Duration"], 5_400_000);
        assert_eq!(v["RouterName"], "r1@file");
        assert_eq!(v["ServiceName"], "s1@file");
        assert_eq!(v["RequestHost"], "127.0.0.1");
        assert_eq!(v["request_User-Agent"], "REDACTED");
        assert!(v.get("request_Referer").is_none());
        assert!(line.find("\"ClientAddr\"") < line.find("\"DownstreamStatus\""));
        assert!(line.find("\"StartUTC\"") < line.find("\"entryPointName\""));
    }

    #[test]
    fn json_gzip_ratio_only_when_origin_and_downstream_sizes_differ() {
        let l = log(&Model { format: "json".into(), ..Model::default() });
        let bytes = record(H).bytes;
        let field = |origin: Option<u64>| {
            let r = AccessRecord { origin_bytes: origin, ..record(H) };
            let v: serde_json::Value = serde_json::from_slice(&l.format(&r)).expect("json");
            v.get("GzipRatio").and_then(serde_json::Value::as_f64)
        };
        // Traefik's not-found answer: an origin of 0 bytes under a longer answer.
        assert_eq!(field(Some(0)), Some(0.0));
        assert_eq!(field(Some(2 * bytes)), Some(2.0));
        assert_eq!(field(Some(bytes)), None, "same size as the answer");
        assert_eq!(field(None), None, "no origin");
    }

    #[test]
    fn filters_and_bad_options() {
        let mut m = Model::default();
        m.filters.status_codes = vec!["500-599".into()];
        let o = Options::new(&m).expect("valid");
        assert!(!o.keep_line(&record(&[])));
        m.filters.min_duration = crate::config::Duration::from_millis(1);
        assert!(Options::new(&m).expect("valid").keep_line(&record(&[])));
        m.filters.status_codes = vec!["5xx".into()];
        assert_eq!(
            Options::new(&m).expect_err("bad").to_string(),
            "accessLog.filters.statusCodes: `5xx` is not a status code or range such as 200 or 300-302"
        );
        let mut m = Model::default();
        m.fields.names.insert("ClientHost".into(), "hide".into());
        assert_eq!(
            Options::new(&m).expect_err("bad").to_string(),
            "accessLog.fields.names.ClientHost: `hide` is not keep, drop or redact"
        );
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use crate::config::static_config::AccessLog as Model;

    fn wait_for(path: &std::path::Path, lines: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if text.lines().count() >= lines {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{} never reached {lines} lines: {text:?}",
                path.display()
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn writes_in_the_background_and_reopens_after_rotation() {
        let dir = std::env::temp_dir().join(format!("tollgate-accesslog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/access.log");
        let m = Model { file_path: Some(path.display().to_string()), ..Model::default() };
        let log = AccessLog::new(&m).expect("opens, creating the directory");
        let mut r = super::tests_support::record();
        for i in 0..5 {
            r.request_count = i;
            log.record(&r);
        }
        wait_for(&path, 5);
        // logrotate: move the file away, then SIGUSR1.
        let rotated = dir.join("sub/access.log.1");
        std::fs::rename(&path, &rotated).expect("rotate");
        log.reopen();
        // The reopen is handled before the next line is written.
        log.record(&r);
        let fresh = wait_for(&path, 1);
        assert_eq!(fresh.lines().count(), 1);
        assert_eq!(std::fs::read_to_string(&rotated).expect("rotated").lines().count(), 5);
        let (written, dropped, errors) = log.counts();
        assert_eq!((written, dropped, errors), (6, 0, 0));
        log.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_batch_of_flush_size_is_written_without_lingering() {
        // With an hour's linger only the size can get lines to the file: the first lines stay
        // queued, and the line that takes the batch to FLUSH_BYTES sends all of them.
        let dir =
            std::env::temp_dir().join(format!("tollgate-accesslog-size-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("access.log");
        let m = Model { file_path: Some(path.display().to_string()), ..Model::default() };
        let log = AccessLog::with_linger(&m, Duration::from_secs(3600)).expect("opens");
        let r = super::tests_support::record();
        let mut line = Vec::new();
        log.format_into(&r, &mut line);
        let needed = FLUSH_BYTES.div_ceil(line.len());
        for _ in 0..needed - 1 {
            log.record(&r);
        }
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            std::fs::read_to_string(&path).expect("created").len(),
            0,
            "a small batch lingers"
        );
        log.record(&r);
        let text = wait_for(&path, needed);
        assert_eq!(text.lines().count(), needed);
        assert_eq!(log.counts().1, 0, "nothing dropped");
        log.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_queue_drops_instead_of_blocking() {
        // The log is a FIFO nobody reads yet: once the pipe's buffer is full the writer thread
        // is stuck in write(2), exactly like a stalled SD card, and the queue must overflow.
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let dir =
            std::env::temp_dir().join(format!("tollgate-accesslog-full-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("stalled.log");
        let made = std::process::Command::new("mkfifo").arg(&path).status().expect("mkfifo runs");
        assert!(made.success());
        let mut reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .expect("read end");
        let m = Model {
            file_path: Some(path.display().to_string()),
            buffering_size: 16,
            ..Model::default()
        };
        let log = AccessLog::new(&m).expect("opens");
        let r = super::tests_support::record();
        let offered = 20_000u64;
        for _ in 0..offered {
            log.record(&r);
        }
        let (_, dropped, _) = log.counts();
        assert!(dropped > 0, "a stalled disk must cost drops, not waiting");
        // Drain the pipe so the thread can finish, then every offer is accounted for.
        let drain = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 65536];
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => all.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "writer never closed the pipe");
                        std::thread::yield_now();
                    }
                    Err(e) => panic!("read: {e}"),
                }
            }
            all
        });
        log.close();
        let lines =
            drain.join().expect("drained").split(|&b| b == b'\n').filter(|l| !l.is_empty()).count()
                as u64;
        assert_eq!(lines + dropped, offered);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;

    pub(super) fn record() -> AccessRecord<'static> {
        AccessRecord {
            client: Some("192.0.2.7:40000".parse().expect("addr")),
            forwarded_for: None,
            user: None,
            start: SystemTime::now(),
            method: "GET",
            path: "/",
            protocol: "HTTP/1.1",
            host: "example.test",
            scheme: "http",
            entry_point: "web",
            status: 200,
            bytes: 5,
            request_bytes: 0,
            request_count: 1,
            router: None,
            service: None,
            service_url: None,
            service_addr: None,
            duration: Duration::from_millis(1),
            origin_duration: None,
            origin_status: None,
            origin_bytes: None,
            retry_attempts: 0,
            tls_version: None,
            tls_cipher: None,
            request_headers: &[],
            origin_headers: &[],
            response_headers: &[],
        }
    }
}

//! Reading logs for `tollgate report`: one reader thread cuts the input into chunks at line
//! ends, worker threads (one per core) parse lines into `Hit`s and fold them into engines of
//! their own, and the engines are merged at the end. Memory is the engines (fixed by
//! `StatsConfig`) plus a fixed number of chunk buffers: it does not grow with the log.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;

use crate::logs::{Format, LineError, detect};
use crate::stats::{Engine, Hit, KeyMode, StatsConfig, VisitorKey};

/// Bytes per chunk; also the longest line read whole (longer ones fail, and are skipped).
pub const CHUNK: usize = 256 * 1024;
/// Failed lines kept for display.
pub(super) const SHOWN_FAILURES: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(std::path::PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub inputs: Vec<Input>,
    /// `None`: detect per input.
    pub format: Option<Format>,
    pub stats: StatsConfig,
    pub threads: usize,
    pub progress: bool,
}

/// A line that did not parse, for the first few shown on stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub input: String,
    pub line: u64,
    pub error: LineError,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.input, self.line, self.error)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{input}: {source}")]
    Io { input: String, source: io::Error },
    #[error(
        "{input}: cannot tell the log format from its first lines; pass --log-format (COMBINED, VCOMBINED, COMMON, VCOMMON, TRAEFIKCLF, TRAEFIKJSON, CADDY or a format string)"
    )]
    Undetected { input: String },
}

struct Chunk {
    buf: Vec<u8>,
    len: usize,
    format: Arc<Format>,
    input: usize,
    first_line: u64,
}

/// What the workers produce.
pub struct Analysis {
    pub engine: Engine,
    pub failures: Vec<Failure>,
    pub lines: u64,
    pub formats: Vec<String>,
}

fn open(input: &Input) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    let (raw, size): (Box<dyn Read + Send>, Option<u64>) = match input {
        Input::Stdin => (Box::new(io::stdin()), None),
        Input::File(p) => {
            let f = File::open(p)?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        }
    };
    let mut r = BufReader::with_capacity(64 * 1024, raw);
    let gz = {
        let head = r.fill_buf()?;
        head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
    };
    if gz { Ok((Box::new(MultiGzDecoder::new(r)), size)) } else { Ok((Box::new(r), size)) }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

struct Progress {
    on: bool,
    started: Instant,
    last: Instant,
    total: Option<u64>,
}

impl Progress {
    fn show(&mut self, bytes: u64, lines: u64, done: bool) {
        if !self.on || (!done && self.last.elapsed() < Duration::from_millis(250)) {
            return;
        }
        self.last = Instant::now();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = lines as f64 / secs;
        let mut e = io::stderr().lock();
        let _ = match self.total.filter(|t| *t > 0) {
            Some(t) => {
                let frac = (bytes as f64 / t as f64).min(1.0);
                let filled = (frac * 30.0) as usize;
                write!(
                    e,
                    "\r[{}{}] {:5.1}% {} lines {:.0} lines/s ",
                    "#".repeat(filled),
                    " ".repeat(30 - filled),
                    frac * 100.0,
                    lines,
                    rate
                )
            }
            None => write!(e, "\r{} MiB {} lines {:.0} lines/s ", bytes >> 20, lines, rate),
        };
        if done {
            let _ = writeln!(e);
        }
    }
}

fn worker(
    rx: Arc<Mutex<Receiver<Chunk>>>,
    back: SyncSender<Vec<u8>>,
    cfg: StatsConfig,
    key: VisitorKey,
    names: Arc<Vec<String>>,
) -> (Engine, Vec<Failure>, u64) {
    let mut engine = Engine::with_key(&cfg, KeyMode::Fixed(key));
    let mut failures = Vec::new();
    let mut hit = Hit::default();
    let mut scratch = Vec::with_capacity(1024);
    let mut lines = 0u64;
    loop {
        let chunk = {
            let Ok(guard) = rx.lock() else { break };
            match guard.recv() {
                Ok(c) => c,
                Err(_) => break,
            }
        };
        let data = &chunk.buf[..chunk.len];
        for (line_no, raw) in (chunk.first_line + 1..).zip(data.split(|&b| b == b'\n')) {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            // GoAccess skips empty lines and comments without counting them.
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            lines += 1;
            match chunk.format.parse(line, &mut hit, &mut scratch) {
                Ok(()) => engine.record(&hit),
                Err(error) => {
                    engine.outside_mut().failed += 1;
                    if failures.len() < SHOWN_FAILURES {
                        failures.push(Failure {
                            input: names[chunk.input].clone(),
                            line: line_no,
                            error,
                        });
                    }
                }
            }
        }
        let _ = back.try_send(chunk.buf);
    }
    (engine, failures, lines)
}

/// Read every input and fold it into one engine.
pub fn analyse(opts: &Options) -> Result<Analysis, ReadError> {
    let threads = opts.threads.max(1);
    let key = VisitorKey::random();
    let names: Arc<Vec<String>> = Arc::new(opts.inputs.iter().map(Input::name).collect());
    let (tx, rx) = sync_channel::<Chunk>(threads * 2);
    let rx = Arc::new(Mutex::new(rx));
    let (back_tx, back_rx) = sync_channel::<Vec<u8>>(threads * 3 + 2);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let rx = Arc::clone(&rx);
            let back = back_tx.clone();
            let cfg = opts.stats.clone();
            let names = Arc::clone(&names);
            std::thread::spawn(move || worker(rx, back, cfg, key, names))
        })
        .collect();
    drop(back_tx);

    let mut formats = Vec::new();
    let mut log_bytes = 0u64;
    let mut oversized = Vec::new();
    let mut oversized_count = 0u64;
    let total_size: Option<u64> = opts
        .inputs
        .iter()
        .map(|i| match i {
            Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Stdin => None,
        })
        .sum();
    let mut progress = Progress {
        on: opts.progress && io::stderr().is_terminal(),
        started: Instant::now(),
        last: Instant::now(),
        total: total_size,
    };
    let mut read_bytes = 0u64;
    let mut read_lines = 0u64;
    let result = (|| -> Result<(), ReadError> {
        for (idx, input) in opts.inputs.iter().enumerate() {
            let io_err = |source| ReadError::Io { input: input.name(), source };
            let (mut r, size) = open(input).map_err(io_err)?;
            let mut format: Option<Arc<Format>> = opts.format.clone().map(Arc::new);
            let mut carry: Vec<u8> = Vec::new();
            let mut line = 0u64;
            let mut skipping = false;
            let mut input_bytes = 0u64;
            loop {
                let mut buf = back_rx.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
                buf.resize(CHUNK, 0);
                let start = carry.len();
                buf[..start].copy_from_slice(&carry);
                carry.clear();
                let n = read_full(&mut *r, &mut buf[start..]).map_err(io_err)?;
                input_bytes += n as u64;
                read_bytes += n as u64;
                let filled = start + n;
                if filled == 0 {
                    break;
                }
                let eof = n == 0 || filled < CHUNK;
                let mut data_start = 0;
                if skipping {
                    // The rest of a line longer than a chunk: drop up to its end.
                    match memchr::memchr(b'\n', &buf[..filled]) {
                        Some(i) => {
                            data_start = i + 1;
                            skipping = false;
                        }
                        None => {
                            if eof {
                                break;
                            }
                            continue;
                        }
                    }
                }
                let end = if eof {
                    filled
                } else {
                    match memchr::memrchr(b'\n', &buf[data_start..filled]) {
                        Some(i) => data_start + i + 1,
                        None => {
                            // No line end in a whole chunk: the line is too long to keep.
                            line += 1;
                            oversized_count += 1;
                            if oversized.len() < SHOWN_FAILURES {
                                oversized.push(Failure {
                                    input: input.name(),
                                    line,
                                    error: LineError::Missing { what: "line end within 256 KiB" },
                                });
                            }
                            skipping = true;
                            continue;
                        }
                    }
                };
                carry.extend_from_slice(&buf[end..filled]);
                if data_start > 0 {
                    buf.copy_within(data_start..end, 0);
                }
                let len = end - data_start;
                let f = match &format {
                    Some(f) => Arc::clone(f),
                    None => {
                        let f = Arc::new(
                            detect(&buf[..len.min(64 * 1024)])
                                .ok_or(ReadError::Undetected { input: input.name() })?,
                        );
                        formats.push(format!("{}: {}", input.name(), f.name()));
                        format = Some(Arc::clone(&f));
                        f
                    }
                };
                let nl = memchr::memchr_iter(b'\n', &buf[..len]).count() as u64;
                let chunk = Chunk { buf, len, format: f, input: idx, first_line: line };
                line += nl;
                read_lines += nl;
                if tx.send(chunk).is_err() {
                    break;
                }
                progress.show(read_bytes, read_lines, false);
                if eof && carry.is_empty() {
                    break;
                }
            }
            log_bytes += size.unwrap_or(input_bytes);
        }
        Ok(())
    })();
    drop(tx);
    let mut engines = Vec::new();
    let mut failures = oversized;
    let mut lines = 0;
    for h in handles {
        match h.join() {
            Ok((e, f, n)) => {
                engines.push(e);
                failures.extend(f);
                lines += n;
            }
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    progress.show(read_bytes, read_lines, true);
    result?;
    let mut engine =
        engines.pop().unwrap_or_else(|| Engine::with_key(&opts.stats, KeyMode::Fixed(key)));
    for e in &engines {
        engine.merge(e);
    }
    engine.outside_mut().failed += oversized_count;
    engine.outside_mut().log_bytes = log_bytes;
    failures.sort_by(|a, b| {
        (names.iter().position(|n| *n == a.input), a.line)
            .cmp(&(names.iter().position(|n| *n == b.input), b.line))
    });
    failures.truncate(SHOWN_FAILURES);
    Ok(Analysis { engine, failures, lines: lines + oversized_count, formats })
}

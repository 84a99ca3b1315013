//! Reports: the renderers (HTML, JSON, CSV, text) over `stats::ReportData`, and the
//! `tollgate report` command that analyses existing logs with the same engine the proxy uses.
//!
//! Owns presentation and the offline pipeline; never touches a running router. The live report
//! is rendered from `StatsHandle::report()` by the same functions.

mod csv;
mod html;
mod json;
mod pipeline;
mod text;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

pub use pipeline::{Analysis, CHUNK, Failure, Input, Options, ReadError, analyse};

use crate::logs::{Format, InvalidFormat};
use crate::stats::{ReportData, StatsConfig};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Html,
    Json,
    Csv,
    Text,
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<OutputFormat> {
        match s.to_ascii_lowercase().as_str() {
            "html" | "htm" => Some(OutputFormat::Html),
            "json" => Some(OutputFormat::Json),
            "csv" => Some(OutputFormat::Csv),
            "text" | "txt" | "terminal" => Some(OutputFormat::Text),
            _ => None,
        }
    }

    /// The media type a web server should send.
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Html => "text/html; charset=utf-8",
            OutputFormat::Json => "application/json",
            OutputFormat::Csv => "text/csv; charset=utf-8",
            OutputFormat::Text => "text/plain; charset=utf-8",
        }
    }
}

/// Render `data` in `format`.
pub fn render(data: &ReportData, format: OutputFormat) -> String {
    match format {
        OutputFormat::Html => html::render(data),
        OutputFormat::Json => json::render(data),
        OutputFormat::Csv => csv::render(data),
        OutputFormat::Text => text::render(data),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    #[error("--log-format: {0}")]
    Format(#[from] InvalidFormat),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

pub const USAGE: &str =
    "usage: tollgate report [FILE...|-] [--log-format FMT] [--date-format FMT] [--time-format FMT]
                       [--format html|json|csv|text] [-o FILE] [--threads N] [--top-k N]
                       [--keep-ip] [--no-progress]
  FILE        access logs (plain or .gz); - or none reads standard input
  FMT         COMBINED, VCOMBINED, COMMON, VCOMMON, TRAEFIKCLF, TRAEFIKJSON, CADDY, or a GoAccess
              format string such as '%h %^[%d:%t %^] \"%r\" %s %b'; detected when not given
  --format    output format; default from -o's extension, else text";

/// Parsed `tollgate report` arguments.
#[derive(Clone, Debug)]
pub struct Command {
    pub options: Options,
    pub output: Option<PathBuf>,
    pub format: OutputFormat,
}

fn value(args: &[String], i: &mut usize, flag: &str) -> Result<String, ReportError> {
    let a = &args[*i];
    if let Some((_, v)) = a.split_once('=') {
        return Ok(v.to_string());
    }
    *i += 1;
    args.get(*i).cloned().ok_or_else(|| ReportError::Usage(format!("{flag} needs a value")))
}

/// Parse the arguments after `report`.
pub fn parse_args(args: &[String]) -> Result<Command, ReportError> {
    let mut inputs = Vec::new();
    let mut log_format = None;
    let mut date_format = "%d/%b/%Y".to_string();
    let mut time_format = "%H:%M:%S".to_string();
    let mut format = None;
    let mut output = None;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut stats = StatsConfig {
        top_k: 1024,
        visitor_days: 366,
        agent_cache: 16384,
        ..StatsConfig::default()
    };
    let mut progress = true;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let flag = a.split_once('=').map_or(a, |(f, _)| f);
        match flag {
            "-h" | "--help" => {
                return Err(ReportError::Usage("tollgate report: analyse access logs".into()));
            }
            "--log-format" => log_format = Some(value(args, &mut i, flag)?),
            "--date-format" => date_format = value(args, &mut i, flag)?,
            "--time-format" => time_format = value(args, &mut i, flag)?,
            "--format" | "-f" => {
                let v = value(args, &mut i, flag)?;
                format = Some(OutputFormat::parse(&v).ok_or_else(|| {
                    ReportError::Usage(format!("--format: `{v}` is not html, json, csv or text"))
                })?);
            }
            "-o" | "--output" => output = Some(PathBuf::from(value(args, &mut i, flag)?)),
            "--threads" | "--top-k" => {
                let v = value(args, &mut i, flag)?;
                let n: usize = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ReportError::Usage(format!("{flag}: `{v}` is not a positive number"))
                })?;
                if flag == "--threads" {
                    threads = n.min(256);
                } else {
                    stats.top_k = n.min(1 << 20);
                }
            }
            "--keep-ip" => stats.anonymize_ip = false,
            "--no-progress" => progress = false,
            "-" => inputs.push(Input::Stdin),
            _ if a.starts_with('-') => {
                return Err(ReportError::Usage(format!("unknown option `{a}`")));
            }
            _ => inputs.push(Input::File(PathBuf::from(a))),
        }
        i += 1;
    }
    if inputs.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(ReportError::Usage(
                "no log file given and standard input is a terminal".into(),
            ));
        }
        inputs.push(Input::Stdin);
    }
    let format = format.unwrap_or_else(|| {
        output
            .as_ref()
            .and_then(|p| p.extension())
            .and_then(|e| OutputFormat::parse(&e.to_string_lossy()))
            .unwrap_or(OutputFormat::Text)
    });
    let log_format = match log_format {
        Some(f) => Some(Format::named(&f, &date_format, &time_format)?),
        None => None,
    };
    Ok(Command {
        options: Options { inputs, format: log_format, stats, threads, progress },
        output,
        format,
    })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Run a parsed command: analyse, print the first failed lines, write the report.
pub fn run(cmd: &Command) -> Result<ReportData, ReportError> {
    let a = analyse(&cmd.options)?;
    let paths: Vec<String> = cmd.options.inputs.iter().map(Input::name).collect();
    let data = a.engine.report(&paths, now_ms());
    if data.general.failed_requests > 0 {
        let mut e = std::io::stderr().lock();
        let _ = writeln!(
            e,
            "tollgate report: {} of {} lines did not parse; the first ones:",
            data.general.failed_requests, data.general.total_requests
        );
        for f in &a.failures {
            let _ = writeln!(e, "  {f}");
        }
    }
    let out = render(&data, cmd.format);
    match &cmd.output {
        Some(p) => std::fs::write(p, out)
            .map_err(|source| ReportError::Write { path: p.clone(), source })?,
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(out.as_bytes())
                .and_then(|_| o.flush())
                .map_err(|source| ReportError::Write { path: "<stdout>".into(), source })?;
        }
    }
    Ok(data)
}

/// `tollgate report ARGS...`: the exit code (0 done, 1 could not read or write, 2 usage).
pub fn main(args: &[String]) -> i32 {
    let cmd = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tollgate report: {e}");
            return 2;
        }
    };
    match run(&cmd) {
        Ok(_) => 0,
        Err(e @ (ReportError::Usage(_) | ReportError::Format(_))) => {
            eprintln!("tollgate report: {e}");
            2
        }
        Err(e) => {
            eprintln!("tollgate report: {e}");
            1
        }
    }
}

#[cfg(test)]
mod golden {
    use super::*;
    use crate::stats::{Engine, Hit, KeyMode, Method, VisitorKey, fill};

    /// A small, fixed day of traffic: every renderer's output is compared byte for byte with
    /// `src/report/golden/*`. `UPDATE_GOLDEN=1 cargo test --lib report::golden` rewrites them
    /// after an intended change (review the diff).
    fn data() -> ReportData {
        let cfg = StatsConfig { top_k: 16, ..StatsConfig::default() };
        let mut e = Engine::with_key(&cfg, KeyMode::Fixed(VisitorKey::from_parts(11, 22)));
        let agents = [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "curl/8.5.0",
        ];
        for i in 0..60u64 {
            let mut h = Hit {
                at_unix_ms: 1_700_000_000_000 + i * 1_500_000,
                client: Some(std::net::IpAddr::from([203, 0, 113, (i % 9) as u8 + 1])),
                method: if i % 7 == 0 { Method::Post } else { Method::Get },
                status: match i % 10 {
                    0 => 404,
                    1 => 500,
                    2 => 304,
                    _ => 200,
                },
                duration_us: (i * 997 % 50_000) as u32,
                bytes_out: 100 + i * 10,
                ..Hit::default()
            };
            h.set_target(match i % 4 {
                0 => "/",
                1 => "/app.css",
                2 => "/blog/a<b>&c.html",
                _ => "/api/items?page=2",
            });
            h.set_user_agent(agents[(i % 3) as usize]);
            fill(&mut h.host, "example.test");
            fill(
                &mut h.referrer,
                if i % 5 == 0 { "https://search.example/?q=tollgate" } else { "-" },
            );
            fill(&mut h.router, if i % 2 == 0 { "web@file" } else { "api@file" });
            fill(&mut h.service, "app@file");
            e.record(&h);
        }
        e.outside_mut().failed = 2;
        e.outside_mut().log_bytes = 12_345;
        e.report(&["access.log".to_string()], 1_700_200_000_000)
    }

    fn check(name: &str, got: &str) {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report/golden").join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, got).expect("golden written");
            return;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
        if want != got {
            let line = want.lines().zip(got.lines()).position(|(a, b)| a != b).unwrap_or(0);
            panic!(
                "{name} differs from its golden file at line {}:\n  want: {}\n  got:  {}",
                line + 1,
                want.lines().nth(line).unwrap_or(""),
                got.lines().nth(line).unwrap_or("")
            );
        }
    }

    #[test]
    fn renderers_match_their_golden_files() {
        let d = data();
        check("report.txt", &render(&d, OutputFormat::Text));
        check("report.csv", &render(&d, OutputFormat::Csv));
        check("report.json", &render(&d, OutputFormat::Json));
        check("report.html", &render(&d, OutputFormat::Html));
    }

    #[test]
    fn html_escapes_and_json_parses() {
        let d = data();
        let html = render(&d, OutputFormat::Html);
        assert!(html.contains("/blog/a&lt;b&gt;&amp;c.html"));
        assert!(!html.contains("a<b>"));
        let v: serde_json::Value =
            serde_json::from_str(&render(&d, OutputFormat::Json)).expect("valid JSON");
        assert_eq!(v["general"]["total_requests"], 62);
        assert_eq!(v["general"]["failed_requests"], 2);
        // Every 500 (i % 10 == 1) is odd, so api@file has them all: 6 of its 30 hits.
        assert_eq!(v["routers"][0]["data"], "api@file");
        assert_eq!(v["routers"][0]["error_rate"], "20.00");
        assert_eq!(v["routers"][1]["error_rate"], "00.00");
    }
}

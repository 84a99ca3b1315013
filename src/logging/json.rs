//! `log.format: json`: one JSON object per line, Traefik's keys (`time`, `level`, `message`) plus
//! `target` and every field of the event and its spans.
//!
//! Our own ~100 lines instead of tracing-subscriber's `json` feature: that feature pulls
//! tracing-serde and serde's derive machinery into the fmt layer; the measured size cost of each
//! is in docs/SYSTEMD.md.
//!
//! ```text
//! {"time":"2025-05-01T12:00:00.000000Z","level":"info","target":"tollgate::runtime","message":"listening","entrypoint":"web","address":"0.0.0.0:80"}
//! ```

use std::fmt::{self, Write as _};
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// A layer writing JSON lines to `W`.
pub struct JsonLines<W> {
    writer: W,
}

impl<W> JsonLines<W> {
    pub fn new(writer: W) -> JsonLines<W> {
        JsonLines { writer }
    }
}

/// A span's fields, already rendered as `,"key":value` pairs.
struct SpanFields(String);

impl<S, W> tracing_subscriber::Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanFields(fields.rest));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(rendered)) = extensions.get_mut::<SpanFields>() {
            let mut fields = Fields { rest: std::mem::take(rendered), message: None };
            values.record(&mut fields);
            *rendered = fields.rest;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let line = render(event, |out| {
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope.from_root() {
                    if let Some(SpanFields(rendered)) = span.extensions().get::<SpanFields>() {
                        out.push_str(rendered);
                    }
                }
            }
        });
        // Nothing sensible to do when the log itself cannot be written.
        let _ = self.writer.make_writer_for(event.metadata()).write_all(line.as_bytes());
    }
}

/// One line: time, level, target, message, the span fields (`spans` appends them), then the
/// event's own fields.
fn render(event: &Event<'_>, spans: impl FnOnce(&mut String)) -> String {
    let meta = event.metadata();
    let mut fields = Fields::default();
    event.record(&mut fields);
    let mut out = String::with_capacity(128 + fields.rest.len());
    out.push_str("{\"time\":\"");
    let _ = SystemTime.format_time(&mut Writer::new(&mut out));
    out.push_str("\",\"level\":\"");
    out.push_str(level_name(meta.level()));
    out.push_str("\",\"target\":");
    push_json_string(&mut out, meta.target(), false);
    out.push_str(",\"message\":");
    push_json_string(&mut out, fields.message.as_deref().unwrap_or(""), false);
    spans(&mut out);
    out.push_str(&fields.rest);
    out.push_str("}\n");
    out
}

/// zerolog's level names, as Traefik writes them.
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Collects an event's `message` and renders the other fields as `,"key":value`.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: String,
}

impl Fields {
    fn key(&mut self, field: &Field) {
        self.rest.push(',');
        push_json_string(&mut self.rest, field.name(), false);
        self.rest.push(':');
    }

    fn raw(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        self.key(field);
        let _ = self.rest.write_fmt(value);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
            return;
        }
        self.key(field);
        push_json_string(&mut self.rest, value, false);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.record_str(field, &text);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, format_args!("{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field, format_args!("{value}"));
        } else {
            // JSON has no NaN or infinity.
            self.record_str(field, &value.to_string());
        }
    }
}

/// `value` as a JSON string (RFC 8259 escapes; everything else passes as UTF-8). `go_html`: also
/// escape `<`, `>` and `&` as Go's encoder does for HTML safety (Traefik's JSON access-log lines
/// carry them so).
pub(crate) fn push_json_string(out: &mut String, value: &str, go_html: bool) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' if go_html => out.push_str("\\u003c"),
            '>' if go_html => out.push_str("\\u003e"),
            '&' if go_html => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_escape_as_json_and_as_go_for_html() {
        let mut plain = String::new();
        super::push_json_string(&mut plain, "a\"b\\c\n<&>\u{1}", false);
        assert_eq!(plain, r#""a\"b\\c\n<&>\u0001""#);
        let mut go = String::new();
        super::push_json_string(&mut go, "<a&b>", true);
        assert_eq!(go, r#""\u003ca\u0026b\u003e""#);
    }

    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// Lines written by the layer, shared with the test.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn capture(log: impl FnOnce()) -> Vec<serde_json::Value> {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(JsonLines::new(buffer.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let bytes = buffer.0.lock().expect("buffer").clone();
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert!(text.ends_with('\n'), "{text:?}");
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    #[test]
    fn one_object_per_event_with_traefik_keys_and_typed_fields() {
        let lines = capture(|| {
            tracing::info!(
                entrypoint = "web",
                routers = 3u64,
                delta = -2i64,
                ok = true,
                ratio = 0.5,
                "configuration applied"
            );
            tracing::warn!(error = %"bad \"quote\"\n\tnext", "refused");
        });
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first["level"], "info");
        assert_eq!(first["message"], "configuration applied");
        assert_eq!(first["entrypoint"], "web");
        assert_eq!(first["routers"], 3);
        assert_eq!(first["delta"], -2);
        assert_eq!(first["ok"], true);
        assert_eq!(first["ratio"], 0.5);
        assert!(first["target"].as_str().expect("target").starts_with("tollgate::logging"));
        let time = first["time"].as_str().expect("time");
        assert!(
            time.len() >= 20 && time.ends_with('Z') && &time[4..5] == "-" && &time[10..11] == "T",
            "{time}"
        );
        assert_eq!(lines[1]["level"], "warn");
        assert_eq!(lines[1]["error"], "bad \"quote\"\n\tnext");
    }

    #[test]
    fn control_characters_and_unicode_survive() {
        let odd = "nul\u{0} bell\u{7} esc\u{1b} del\u{7f} snow\u{2603} back\\slash";
        let lines = capture(|| tracing::error!(path = odd, "odd {}", "message"));
        assert_eq!(lines[0]["path"], odd);
        assert_eq!(lines[0]["message"], "odd message");
        assert_eq!(lines[0]["level"], "error");
    }

    #[test]
    fn span_fields_are_included() {
        let lines = capture(|| {
            let span =
                tracing::info_span!("conn", client = "192.0.2.1", requests = tracing::field::Empty);
            let _entered = span.enter();
            span.record("requests", 2u64);
            tracing::info!(router = "api@file", "served");
        });
        assert_eq!(lines[0]["client"], "192.0.2.1");
        assert_eq!(lines[0]["requests"], 2);
        assert_eq!(lines[0]["router"], "api@file");
    }

    #[test]
    fn non_finite_numbers_become_strings() {
        let lines = capture(|| tracing::info!(rate = f64::NAN, big = f64::INFINITY, "x"));
        assert_eq!(lines[0]["rate"], "NaN");
        assert_eq!(lines[0]["big"], "inf");
    }
}

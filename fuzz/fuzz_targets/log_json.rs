//! Arbitrary text as a log message and as field values, through the real `log.format: json`
//! layer: every event is exactly one line, that line is valid JSON, and message and values come
//! back unchanged.
#![no_main]

use std::io::Write;
use std::sync::{Arc, Mutex};

use libfuzzer_sys::fuzz_target;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
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

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1}');
    let message = parts.next().unwrap_or("");
    let value = parts.next().unwrap_or("");
    let shown = parts.next().unwrap_or("");
    let buffer = Buffer::default();
    let subscriber =
        tracing_subscriber::registry().with(tollgate::logging::JsonLines::new(buffer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::warn!(router = value, error = %value, detail = ?shown, "{message}");
    });
    let bytes = buffer.0.lock().expect("buffer").clone();
    let line = String::from_utf8(bytes).expect("UTF-8 out");
    assert!(line.ends_with('\n'), "{line:?}");
    assert_eq!(line.matches('\n').count(), 1, "one event, one line: {line:?}");
    let object: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
    assert_eq!(object["message"], message);
    assert_eq!(object["router"], value);
    assert_eq!(object["error"], value);
    assert_eq!(object["detail"], format!("{shown:?}"));
    assert_eq!(object["level"], "warn");
});

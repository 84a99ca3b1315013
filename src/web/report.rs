//! `report@internal`: the live traffic report, rendered by the same renderers as
//! `tollgate report`, so a live report and an offline report of the same traffic agree.

use crate::report::{OutputFormat, render};
use crate::stats::StatsReader;

/// An internal answer: status, content type, body.
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// Serve `/report` (HTML), `/report.json`, `/report.csv`, `/report.txt`.
pub async fn report(path: &str, stats: Option<&StatsReader>) -> Answer {
    let format = match path.trim_end_matches('/') {
        "/report" | "/report.html" => OutputFormat::Html,
        "/report.json" => OutputFormat::Json,
        "/report.csv" => OutputFormat::Csv,
        "/report.txt" => OutputFormat::Text,
        _ => {
            return Answer {
                status: 404,
                content_type: "text/plain; charset=utf-8",
                body: "404 page not found\n".into(),
            };
        }
    };
    let Some(stats) = stats else {
        return Answer {
            status: 503,
            content_type: "text/plain; charset=utf-8",
            body: "traffic statistics are off (stats.enabled: false)\n".into(),
        };
    };
    let data = stats.report().await;
    let body = render(&data, format);
    drop(data);
    // The copy of the figures and the renderer's scratch (~0.4 MiB) are free now; without this
    // their pages stay resident until the allocator's next purge on this thread.
    #[cfg(feature = "mimalloc")]
    crate::allocator::release_free_memory();
    Answer { status: 200, content_type: format.content_type(), body }
}

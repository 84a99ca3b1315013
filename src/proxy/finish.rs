//! The one place every request ends: when its response body is done (or dropped because the
//! client went away) the `Hit` is completed and offered to the stats engine, and the connection
//! learns the request is over (idle timeout).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::body::{BodyError, ResponseBody};
use super::trail::{AccessStart, Trail};
use crate::stats::Hit;

/// Where finished requests go. Implementations never block: a full queue drops and counts.
pub trait HitSink: Send + Sync {
    fn offer(&self, hit: Box<Hit>);
}

/// What a connection knows about its requests, for the idle timeout.
#[derive(Debug, Default)]
pub(super) struct ConnState {
    in_flight: AtomicU32,
    /// Milliseconds since `epoch` when the last request ended (or the connection opened).
    last_done_ms: AtomicU64,
    requests: AtomicU64,
    /// When the request head now arriving began (`monotonic_ms`), 0 when none is arriving; set
    /// by the framing guard, read by the watchdog (`readTimeout` for heads).
    pub(super) head_started_ms: Arc<AtomicU64>,
}

impl ConnState {
    pub(super) fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn end(&self, now_ms: u64) {
        self.last_done_ms.store(now_ms, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// `Some(ms)`: idle since that time; `None`: a request is in flight.
    pub(super) fn idle_since_ms(&self) -> Option<u64> {
        (self.in_flight.load(Ordering::Relaxed) == 0)
            .then(|| self.last_done_ms.load(Ordering::Relaxed))
    }

    pub(super) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Since when a request head has been arriving, if one is.
    pub(super) fn head_started_ms(&self) -> Option<u64> {
        let started = self.head_started_ms.load(Ordering::Relaxed);
        (started != 0).then_some(started)
    }
}

/// Milliseconds on a monotonic clock shared by connections and the idle watchdog.
pub(super) fn monotonic_ms() -> u64 {
    monotonic_ms_at(Instant::now())
}

/// `monotonic_ms` for an instant already read.
fn monotonic_ms_at(at: Instant) -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    at.saturating_duration_since(*EPOCH.get_or_init(Instant::now)).as_millis() as u64
}

/// The end-of-request work, carried by the response body until it is done.
pub(super) struct Finish {
    pub hit: Box<Hit>,
    pub started: Instant,
    pub sink: Option<Arc<dyn HitSink>>,
    pub conn: Arc<ConnState>,
    pub trail: Trail,
    /// Set only when an access log is on.
    pub access: Option<Box<AccessStart>>,
}

impl Finish {
    fn complete(mut self: Box<Self>, bytes_out: u64) {
        // One clock read for the record, the access log and the idle watchdog.
        let now = Instant::now();
        let duration = now.saturating_duration_since(self.started);
        self.hit.bytes_out = bytes_out;
        self.hit.duration_us = u32::try_from(duration.as_micros()).unwrap_or(u32::MAX);
        self.conn.end(monotonic_ms_at(now));
        if let Some(access) = &self.access {
            access.record(&self.trail, self.hit.status, bytes_out, duration);
        }
        if let Some(sink) = &self.sink {
            sink.offer(self.hit);
        }
    }
}

/// The stats engine's channel: a full queue drops the hit and counts it.
impl HitSink for crate::stats::HitSender {
    fn offer(&self, hit: Box<Hit>) {
        crate::stats::HitSender::offer(self, hit);
    }
}

pin_project_lite::pin_project! {
    /// A response body that counts what it sends and runs `Finish` at its end or drop.
    pub struct Tracked {
        #[pin]
        body: ResponseBody,
        bytes: u64,
        // Boxed: the `Hit` inside is most of a kilobyte, and hyper moves the body several times.
        finish: Option<Box<Finish>>,
        // `writeTimeout`: the response must be written by then; boxed, and only when configured.
        deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    }

    impl PinnedDrop for Tracked {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(finish) = this.finish.take() {
                finish.complete(*this.bytes);
            }
        }
    }
}

impl Tracked {
    pub(super) fn new(
        body: ResponseBody,
        finish: Box<Finish>,
        write_timeout: Option<std::time::Duration>,
    ) -> Tracked {
        let deadline = write_timeout
            .map(|limit| Box::pin(tokio::time::sleep_until((finish.started + limit).into())));
        Tracked { body, bytes: 0, finish: Some(finish), deadline }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.project();
        if let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            // Go's WriteTimeout: past it the connection is cut, whatever is left unsent.
            if let Some(finish) = this.finish.take() {
                finish.complete(*this.bytes);
            }
            return Poll::Ready(Some(Err(
                "writeTimeout elapsed before the response was written".into()
            )));
        }
        let mut body = this.body;
        let polled = body.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    *this.bytes += data.len() as u64;
                }
                // A body of known length ends with its last frame; servers stop polling there.
                if body.is_end_stream()
                    && let Some(finish) = this.finish.take()
                {
                    finish.complete(*this.bytes);
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                if let Some(finish) = this.finish.take() {
                    finish.complete(*this.bytes);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

//! Request smuggling guard for HTTP/1 connections.
//!
//! hyper resolves an ambiguous message length the way RFC 9112 allows (`Transfer-Encoding`
//! wins over `Content-Length`, repeated equal lengths fold into one), and so does Go's server in
//! front of Traefik. tollgate goes further and refuses such requests outright: a proxy that
//! tolerates them can still be desynchronised from a server or cache that resolves them the
//! other way. hyper exposes no hook on raw header lines, so this guard reads the client's bytes
//! first: it holds each request head back until it is complete, and hands hyper either the head
//! as it came or, when it is ambiguous, a head hyper cannot parse - hyper then answers
//! `400 Bad Request` and closes.
//!
//! To find where each head starts it follows the message bodies (`Content-Length` bytes, or the
//! chunked encoding); bodies pass through after one copy, never held. It steps aside for good
//! (passthrough) on anything that is not plain HTTP/1 afterwards: the HTTP/2 preface, a CONNECT,
//! an `Upgrade` request, or a head larger than hyper accepts (hyper answers that one itself).
//!
//! While a head is held, hyper sees nothing and its own header timer may not run; the guard
//! records when the head began (`head_started_ms`) so the connection's watchdog enforces
//! `readTimeout` on it instead.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Header lines we parse per head; more and hyper answers 431 on its own.
const MAX_HEADERS: usize = 512;

#[derive(Debug)]
enum State {
    /// Expecting a request head.
    Head,
    /// Skipping `n` more body bytes.
    Body(u64),
    Chunked(Chunk),
    /// Not watching any more.
    Passthrough,
    /// An ambiguous head was replaced: the stream ends after it, however the bytes arrived.
    Spoiled,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// Reading the hex size (and extensions) of the next chunk.
    Size {
        size: u64,
        digits: u32,
        in_ext: bool,
    },
    /// Expect `\n` after the size line's `\r`.
    SizeLf {
        size: u64,
    },
    Data(u64),
    /// `\r\n` after chunk data.
    DataCr,
    DataLf,
    /// Trailer section after the last chunk: `at_line_start` tracks an empty line.
    Trailers {
        at_line_start: bool,
        seen_cr: bool,
    },
}

/// What the head scan decided.
enum Verdict {
    Ambiguous,
    Body(u64),
    Chunked,
    NoBody,
    StepAside,
}

/// Stands in for an ambiguous head: a request hyper refuses with 400 (a NUL in a header name).
/// Shorter than any ambiguous head (which holds at least two length lines), so it is written in
/// the head's place without moving anything.
const SPOILED_HEAD: &[u8] = b"GET / HTTP/1.1\r\nX\0:\r\n\r\n";

/// Read size while a head is held (heads are small; reads then go to a stack buffer).
const HELD_READ: usize = 4096;

/// What a scan decided about the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scanned {
    /// Bytes (from the scan's start) that may go to hyper now; the rest is a head to hold.
    release: usize,
    /// An ambiguous head was replaced: everything after `release` is to be dropped.
    truncate: bool,
}

impl Scanned {
    fn release(release: usize) -> Scanned {
        Scanned { release, truncate: false }
    }
}

/// The guard's state over one connection's inbound bytes.
pub(super) struct Guard {
    state: State,
    max_head: usize,
}

impl Guard {
    pub(super) fn new(max_head: usize) -> Guard {
        Guard { state: State::Head, max_head }
    }

    /// Decide about the bytes of `buf` from `from` on. Returns how many bytes (from `from`) can
    /// go to hyper now; the rest is an incomplete head to hold. May replace a complete ambiguous
    /// head inside `buf` (changing its length).
    fn scan(&mut self, buf: &mut [u8], from: usize) -> Scanned {
        let mut i = from;
        while i < buf.len() {
            match &mut self.state {
                State::Passthrough => return Scanned::release(buf.len() - from),
                State::Spoiled => return Scanned { release: i - from, truncate: true },
                State::Body(left) => {
                    let take = (*left).min((buf.len() - i) as u64);
                    *left -= take;
                    i += take as usize;
                    if *left == 0 {
                        self.state = State::Head;
                    }
                }
                State::Chunked(chunk) => {
                    let (used, done) = step_chunked(chunk, &buf[i..]);
                    i += used;
                    match done {
                        Some(true) => self.state = State::Head,
                        Some(false) => self.state = State::Passthrough,
                        None => {}
                    }
                }
                State::Head => {
                    // Leading blank lines between messages are allowed (RFC 9112 §2.2).
                    while i < buf.len() && (buf[i] == b'\r' || buf[i] == b'\n') {
                        i += 1;
                    }
                    if i == buf.len() {
                        return Scanned::release(i - from);
                    }
                    let Some(end) = find_head_end(&buf[i..]) else {
                        if buf.len() - i > self.max_head {
                            self.state = State::Passthrough;
                            return Scanned::release(buf.len() - from);
                        }
                        // Hold the partial head (and nothing after it exists yet).
                        return Scanned::release(i - from);
                    };
                    let head_end = i + end;
                    let verdict = judge(&buf[i..head_end]);
                    if let Verdict::Ambiguous = verdict {
                        // hyper answers 400 to the stand-in and closes; nothing after it matters.
                        let spoiled_end = i + SPOILED_HEAD.len().min(head_end - i);
                        buf[i..spoiled_end].copy_from_slice(&SPOILED_HEAD[..spoiled_end - i]);
                        self.state = State::Spoiled;
                        return Scanned { release: spoiled_end - from, truncate: true };
                    }
                    self.state = match verdict {
                        Verdict::Body(0) | Verdict::NoBody => State::Head,
                        Verdict::Body(n) => State::Body(n),
                        Verdict::Chunked => {
                            State::Chunked(Chunk::Size { size: 0, digits: 0, in_ext: false })
                        }
                        // Ambiguous returned above.
                        Verdict::Ambiguous | Verdict::StepAside => State::Passthrough,
                    };
                    i = head_end;
                }
            }
        }
        Scanned::release(i - from)
    }

    /// An ambiguous head was replaced: nothing after it reaches hyper.
    fn spoiled(&self) -> bool {
        matches!(self.state, State::Spoiled)
    }

    /// A head is being held (for the watchdog's read timeout).
    fn holding(&self) -> bool {
        matches!(self.state, State::Head)
    }
}

/// Where a head starting at `bytes[0]` ends: the index just past `\r\n\r\n` (or `\n\n`).
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', bytes).filter(|&j| j >= 1).find_map(|j| {
        let ends = match bytes[j - 1] {
            b'\n' => true,
            b'\r' => j >= 2 && bytes[j - 2] == b'\n',
            _ => false,
        };
        ends.then_some(j + 1)
    })
}

/// The framing a complete head announces. Only heads that hyper accepts need the right answer
/// (hyper refuses the others with 400 and closes, and nothing after them is read), so this
/// reads lines the way httparse splits them - `\n` or `\r\n` endings, the name up to the first
/// colon, the value trimmed - and steps aside on what httparse would refuse anyway (a folded
/// line, a line without a colon). A full parse here cost a 16 KiB header array per request.
fn judge(head: &[u8]) -> Verdict {
    if head.starts_with(b"PRI * HTTP/2.0") {
        return Verdict::StepAside;
    }
    let mut lines =
        head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    match lines.next() {
        Some(request_line) if !request_line.starts_with(b"CONNECT ") => {}
        _ => return Verdict::StepAside,
    }
    let mut first_length: Option<&[u8]> = None;
    let mut length_count = 0usize;
    let mut chunked = false;
    let mut transfer_encoding = false;
    let mut upgrade = false;
    for (count, line) in lines.enumerate() {
        if line.is_empty() {
            break;
        }
        if count >= MAX_HEADERS || line.starts_with(b" ") || line.starts_with(b"\t") {
            return Verdict::StepAside;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return Verdict::StepAside;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            first_length.get_or_insert(value);
            length_count += 1;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            transfer_encoding = true;
            chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            upgrade = true;
        }
    }
    if length_count > 1 || (length_count == 1 && transfer_encoding) {
        return Verdict::Ambiguous;
    }
    if upgrade {
        return Verdict::StepAside;
    }
    if transfer_encoding {
        return if chunked { Verdict::Chunked } else { Verdict::StepAside };
    }
    match first_length {
        Some(value) => {
            match std::str::from_utf8(value).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
                Some(n) => Verdict::Body(n),
                None => Verdict::StepAside,
            }
        }
        None => Verdict::NoBody,
    }
}

/// Advance the chunked-body machine over `bytes`. Returns bytes used and `Some(true)` at the
/// body's end, `Some(false)` on malformed input (hyper will refuse it; stop watching).
fn step_chunked(chunk: &mut Chunk, bytes: &[u8]) -> (usize, Option<bool>) {
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match chunk {
            Chunk::Data(left) => {
                let take = (*left).min((bytes.len() - i) as u64);
                *left -= take;
                i += take as usize;
                if *left == 0 {
                    *chunk = Chunk::DataCr;
                }
                continue;
            }
            Chunk::Size { size, digits, in_ext } => {
                if b == b'\r' {
                    *chunk = Chunk::SizeLf { size: *size };
                } else if *in_ext {
                    // Skip chunk extensions.
                } else if b == b';' || b == b' ' || b == b'\t' {
                    *in_ext = true;
                } else if let Some(d) = (b as char).to_digit(16) {
                    if *digits >= 16 {
                        return (i, Some(false));
                    }
                    *size = *size * 16 + u64::from(d);
                    *digits += 1;
                } else {
                    return (i, Some(false));
                }
            }
            Chunk::SizeLf { size } => {
                if b != b'\n' {
                    return (i, Some(false));
                }
                *chunk = if *size == 0 {
                    Chunk::Trailers { at_line_start: true, seen_cr: false }
                } else {
                    Chunk::Data(*size)
                };
            }
            Chunk::DataCr => {
                if b != b'\r' {
                    return (i, Some(false));
                }
                *chunk = Chunk::DataLf;
            }
            Chunk::DataLf => {
                if b != b'\n' {
                    return (i, Some(false));
                }
                *chunk = Chunk::Size { size: 0, digits: 0, in_ext: false };
            }
            Chunk::Trailers { at_line_start, seen_cr } => {
                if b == b'\n' {
                    if *at_line_start {
                        return (i + 1, Some(true));
                    }
                    *at_line_start = true;
                    *seen_cr = false;
                } else if b == b'\r' {
                    *seen_cr = true;
                } else {
                    *at_line_start = false;
                    *seen_cr = false;
                }
            }
        }
        i += 1;
    }
    (i, None)
}

/// A connection whose inbound bytes pass through a `Guard`.
pub(super) struct Guarded<T> {
    inner: T,
    guard: Guard,
    /// Bytes read from the client: `[..released]` may go to hyper (from `sent` on), the rest is
    /// a head being held.
    buf: Vec<u8>,
    sent: usize,
    released: usize,
    eof: bool,
    /// When the held head began, as `monotonic_ms`, or 0 when no head is held.
    head_started_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<T> Guarded<T> {
    pub(super) fn new(
        inner: T,
        max_head: usize,
        head_started_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    ) -> Guarded<T> {
        Guarded {
            inner,
            guard: Guard::new(max_head),
            buf: Vec::new(),
            sent: 0,
            released: 0,
            eof: false,
            head_started_ms,
        }
    }
}

impl<T> Guarded<T> {
    /// Guard a connection from a request head on, with `read` already read from it (what
    /// tollgate's own server read before handing the connection to hyper).
    pub(super) fn resume(
        inner: T,
        read: Vec<u8>,
        max_head: usize,
        head_started_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    ) -> Guarded<T> {
        let mut guarded = Guarded::new(inner, max_head, head_started_ms);
        guarded.buf = read;
        let scanned = guarded.guard.scan(&mut guarded.buf, 0);
        guarded.released = scanned.release;
        if scanned.truncate {
            guarded.buf.truncate(guarded.released);
        }
        guarded.note_holding();
        guarded
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.sent < this.released {
                let n = (this.released - this.sent).min(out.remaining());
                out.put_slice(&this.buf[this.sent..this.sent + n]);
                this.sent += n;
                if this.sent == this.buf.len() {
                    this.buf.clear();
                    (this.sent, this.released) = (0, 0);
                }
                return Poll::Ready(Ok(()));
            }
            if this.guard.spoiled() {
                // hyper answers the stand-in head with 400 and closes; to it the stream ends
                // there, whether the bytes after the head came in the same read or later.
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                // Whatever is still held goes to hyper, which sees a truncated head and an end.
                if this.released < this.buf.len() {
                    this.released = this.buf.len();
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            if this.buf.is_empty() {
                // The common case: nothing held. Read straight into hyper's buffer, scan the new
                // bytes there, and take back only the start of a head that is not complete yet.
                let before = out.filled().len();
                match Pin::new(&mut this.inner).poll_read(cx, out) {
                    Poll::Ready(Ok(())) => {}
                    other => return other,
                }
                let new = &mut out.filled_mut()[before..];
                if new.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                let scanned = this.guard.scan(new, 0);
                if !scanned.truncate && scanned.release < new.len() {
                    this.buf.extend_from_slice(&new[scanned.release..]);
                }
                out.set_filled(before + scanned.release);
                this.note_holding();
                if scanned.release > 0 {
                    return Poll::Ready(Ok(()));
                }
                // Nothing to hand over yet (an empty read would mean end of stream): read more.
                continue;
            }
            // A head is held: read behind it until it completes.
            this.buf.drain(..this.sent);
            this.released -= this.sent;
            this.sent = 0;
            let mut chunk = [0u8; HELD_READ];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => this.eof = true,
                Poll::Ready(Ok(())) => {
                    this.buf.extend_from_slice(read.filled());
                    let from = this.released;
                    let scanned = this.guard.scan(&mut this.buf, from);
                    this.released = from + scanned.release;
                    if scanned.truncate {
                        this.buf.truncate(this.released);
                    }
                    this.note_holding();
                }
            }
        }
    }
}

impl<T> Guarded<T> {
    /// Tell the watchdog whether a head is being held, and since when.
    fn note_holding(&mut self) {
        use std::sync::atomic::Ordering;
        let holding = self.guard.holding() && self.released < self.buf.len();
        let started = self.head_started_ms.load(Ordering::Relaxed);
        if holding && started == 0 {
            self.head_started_ms.store(super::finish::monotonic_ms().max(1), Ordering::Relaxed);
        } else if !holding && started != 0 {
            self.head_started_ms.store(0, Ordering::Relaxed);
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Entry points for the fuzz targets (`fuzz/fuzz_targets/http_framing.rs`) and the unit tests;
/// not an API.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// Feed `input` in pieces of `step` bytes through a real `Guarded` reader; return what
    /// hyper would receive.
    pub fn replay(input: &[u8], step: usize) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let pieces: Vec<Vec<u8>> = input.chunks(step.max(1)).map(<[u8]>::to_vec).collect();
        let mut guarded = Guarded::new(Pieces(pieces.into()), 1 << 20, Default::default());
        let mut out = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        rt.block_on(guarded.read_to_end(&mut out)).expect("reading from memory");
        out
    }

    /// The framing the guard reads from one complete head: `ambiguous`, `body N`, `chunked`,
    /// `none` or `aside`.
    pub fn verdict(head: &[u8]) -> String {
        match judge(head) {
            Verdict::Ambiguous => "ambiguous".into(),
            Verdict::Body(n) => format!("body {n}"),
            Verdict::Chunked => "chunked".into(),
            Verdict::NoBody => "none".into(),
            Verdict::StepAside => "aside".into(),
        }
    }

    /// The framing of `head` as httparse (hyper's parser) reads it, when httparse accepts it
    /// whole: the reference `verdict` must agree with.
    pub fn reference(head: &[u8]) -> Option<String> {
        // The guard skips blank lines before a head and steps aside for HTTP/2 before judging.
        if head.starts_with(b"PRI * HTTP/2.0")
            || head.first().is_some_and(|&b| b == b'\r' || b == b'\n')
        {
            return None;
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(head) {
            // Only a head that ends where the input ends: the guard judges exactly one head.
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            _ => return None,
        }
        if req.method == Some("CONNECT") {
            return Some("aside".into());
        }
        let named = |name: &str| -> Vec<&[u8]> {
            req.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
                .collect()
        };
        let lengths = named("content-length");
        let encodings = named("transfer-encoding");
        Some(if lengths.len() > 1 || (!lengths.is_empty() && !encodings.is_empty()) {
            "ambiguous".into()
        } else if !named("upgrade").is_empty() {
            "aside".into()
        } else if let Some(last) = encodings.last() {
            let chunked = last
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|l| l.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            if chunked { "chunked".into() } else { "aside".into() }
        } else if let Some(value) = lengths.first() {
            match std::str::from_utf8(value).ok().and_then(|v| v.trim().parse::<u64>().ok()) {
                Some(n) => format!("body {n}"),
                None => "aside".into(),
            }
        } else {
            "none".into()
        })
    }

    /// A reader that returns one piece per read.
    struct Pieces(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Pieces {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let pieces = &mut self.get_mut().0;
            if let Some(mut piece) = pieces.pop_front() {
                let n = piece.len().min(buf.remaining());
                buf.put_slice(&piece[..n]);
                if n < piece.len() {
                    pieces.push_front(piece.split_off(n));
                }
            }
            Poll::Ready(Ok(()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::fuzzing::replay as feed;

    fn spoiled(input: &[u8]) -> bool {
        (1..=input.len()).all(|step| feed(input, step) != input)
    }

    fn untouched(input: &[u8]) -> bool {
        (1..=input.len()).all(|step| feed(input, step) == input)
    }

    #[test]
    fn spoiled_head_is_what_hyper_refuses() {
        let out = feed(b"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 7);
        assert_eq!(out, SPOILED_HEAD);
        // Nothing after an ambiguous head reaches hyper, however the bytes were split.
        let smuggled = b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\naGET /x HTTP/1.1\r\n\r\n";
        for step in 1..=smuggled.len() {
            assert_eq!(feed(smuggled, step), SPOILED_HEAD, "step {step}");
        }
    }

    #[test]
    fn ambiguous_heads_are_spoiled_at_any_split() {
        assert!(spoiled(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
        assert!(spoiled(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na"
        ));
    }

    #[test]
    fn pipelined_clean_requests_pass_and_a_later_ambiguous_one_is_caught() {
        let clean = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbodyPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(untouched(clean));
        let mut smuggle = clean.to_vec();
        smuggle.extend_from_slice(
            b"GET /d HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        );
        for step in 1..smuggle.len() {
            let out = feed(&smuggle, step);
            assert_eq!(&out[..clean.len()], &clean[..], "step {step}");
            assert_ne!(out, smuggle, "step {step}");
        }
    }

    #[test]
    fn steps_aside_for_upgrades_and_h2() {
        let ws = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85Content-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert!(untouched(ws));
        assert!(untouched(
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
        ));
    }

    /// Wherever hyper's parser accepts a head, the guard's line reader reads the same framing
    /// from it: every combination of line endings, header name case, spacing and the framing
    /// headers, one and two of each.
    #[test]
    fn line_reader_agrees_with_hypers_parser() {
        let fields: &[&[u8]] = &[
            b"Content-Length: 12",
            b"content-length:7",
            b"CONTENT-LENGTH: \t 0 ",
            b"Content-Length: x1",
            b"Transfer-Encoding: chunked",
            b"transfer-encoding: gzip, CHUNKED",
            b"Transfer-Encoding: gzip",
            b"Upgrade: websocket",
            b"X-Content-Length: 5",
            b"Host: a:b",
            b"Content-Length : 3",
            b" folded",
            b"NoColon",
        ];
        let mut checked = 0;
        for line_end in [&b"\r\n"[..], b"\n"] {
            for method in [&b"GET"[..], b"POST", b"CONNECT"] {
                for a in 0..=fields.len() {
                    for b in 0..=fields.len() {
                        let mut head = Vec::new();
                        head.extend_from_slice(method);
                        head.extend_from_slice(b" /p HTTP/1.1");
                        head.extend_from_slice(line_end);
                        for i in [a, b] {
                            if let Some(field) = fields.get(i) {
                                head.extend_from_slice(field);
                                head.extend_from_slice(line_end);
                            }
                        }
                        head.extend_from_slice(line_end);
                        if let Some(expected) = super::fuzzing::reference(&head) {
                            let text = String::from_utf8_lossy(&head);
                            assert_eq!(super::fuzzing::verdict(&head), expected, "{text:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 300, "only {checked} heads were accepted by httparse");
    }
}

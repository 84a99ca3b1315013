//! Idle HTTP/1.1 connections to one server, ready for the next request.
//!
//! Each server (`Target`) owns its pool, so a request finds its connections without hashing a
//! key into a shared map (hyper-util's pooled client did that, and it showed in profiles). A
//! connection goes back into the pool when its response body has been read to the end; one
//! whose response was cut short, or that switched protocols, is dropped and so closed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;

use super::body::RequestBody;

/// Idle connections of one server, the longest idle first.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<VecDeque<Idle>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool({} idle)", self.lock().len())
    }
}

struct Idle {
    sender: SendRequest<RequestBody>,
    since: Instant,
}

/// How a transport keeps its idle connections (`maxIdleConnsPerHost`, `idleConnTimeout`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_idle: usize,
    pub idle_timeout: Option<Duration>,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Idle>> {
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The most recently used connection still open and young enough, if any.
    pub fn checkout(&self, limits: Limits) -> Option<SendRequest<RequestBody>> {
        let mut idle = self.lock();
        while let Some(entry) = idle.pop_back() {
            if limits.idle_timeout.is_some_and(|t| entry.since.elapsed() >= t) {
                // The most recent is too old: so are all the others.
                idle.clear();
                return None;
            }
            if !entry.sender.is_closed() {
                return Some(entry.sender);
            }
        }
        None
    }

    /// Keep a connection whose exchange finished, unless the pool is full or it closed.
    pub fn checkin(&self, sender: SendRequest<RequestBody>, limits: Limits) {
        if sender.is_closed() {
            return;
        }
        let now = Instant::now();
        let mut idle = self.lock();
        // Only the oldest can have timed out; one clock reading per check-in, not per entry.
        if let Some(timeout) = limits.idle_timeout {
            while idle.front().is_some_and(|entry| now.duration_since(entry.since) >= timeout) {
                idle.pop_front();
            }
        }
        if idle.len() < limits.max_idle {
            idle.push_back(Idle { sender, since: now });
        }
    }
}

/// A connection lent to one exchange; it returns to its pool if the exchange completed.
pub struct Lease {
    sender: Option<SendRequest<RequestBody>>,
    pool: Arc<Pool>,
    limits: Limits,
    complete: bool,
}

impl Lease {
    pub fn new(sender: SendRequest<RequestBody>, pool: Arc<Pool>, limits: Limits) -> Lease {
        Lease { sender: Some(sender), pool, limits, complete: false }
    }

    /// The response body was read to its end: the connection can serve another request.
    pub fn complete(&mut self) {
        self.complete = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let (true, Some(sender)) = (self.complete, self.sender.take()) {
            self.pool.checkin(sender, self.limits);
        }
    }
}

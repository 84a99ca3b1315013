//! Idle HTTP/1.1 connections to one server, ready for the next request: tollgate's own
//! (`h1::Conn`, requests without a body) and hyper's (`SendRequest`, the others).
//!
//! Each server (`Target`) owns its pools, so a request finds its connections without hashing a
//! key into a shared map (hyper-util's pooled client did that, and it showed in profiles). A
//! connection goes back into the pool when its response body has been read to the end; one
//! whose response was cut short, or that switched protocols, is dropped and so closed.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;

use super::body::RequestBody;
use super::h1::Conn;

/// A connection that can wait in a pool.
pub trait Reusable {
    /// Neither side has closed it.
    fn is_open(&self) -> bool;
}

/// hyper's HTTP/1.1 connection to a server, with the count of bytes read from it: when an
/// exchange fails, hyper does not say whether the answer had begun, and Traefik's status
/// depends on it (502 for a close before any answer, 500 for a head cut short).
pub struct HyperConn {
    pub sender: SendRequest<RequestBody>,
    pub read: Arc<AtomicU64>,
}

impl Reusable for HyperConn {
    fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }
}

impl Reusable for Conn {
    fn is_open(&self) -> bool {
        Conn::is_open(self)
    }
}

/// hyper's connections, for requests with a body and upgrades.
pub(crate) type Senders = Pool<HyperConn>;

/// Idle connections of one server, the longest idle first.
pub struct Pool<C> {
    idle: Mutex<VecDeque<Idle<C>>>,
}

impl<C> Default for Pool<C> {
    fn default() -> Self {
        Pool { idle: Mutex::new(VecDeque::new()) }
    }
}

impl<C> std::fmt::Debug for Pool<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pool({} idle)", self.lock().len())
    }
}

struct Idle<C> {
    conn: C,
    since: Instant,
}

/// How a transport keeps its idle connections (`maxIdleConnsPerHost`, `idleConnTimeout`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_idle: usize,
    pub idle_timeout: Option<Duration>,
}

impl<C: Reusable> Pool<C> {
    /// The most recently used connection still open and young enough, if any.
    pub fn checkout(&self, limits: Limits) -> Option<C> {
        let mut idle = self.lock();
        while let Some(entry) = idle.pop_back() {
            if limits.idle_timeout.is_some_and(|t| entry.since.elapsed() >= t) {
                // The most recent is too old: so are all the others.
                idle.clear();
                return None;
            }
            if entry.conn.is_open() {
                return Some(entry.conn);
            }
        }
        None
    }

    /// Keep a connection whose exchange finished, unless the pool is full or it closed.
    pub fn checkin(&self, conn: C, limits: Limits) {
        if !conn.is_open() {
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
            idle.push_back(Idle { conn, since: now });
        }
    }
}

impl<C> Pool<C> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Idle<C>>> {
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A connection lent to one exchange; it returns to its pool if the exchange completed.
pub struct Lease {
    conn: Option<HyperConn>,
    pool: Arc<Senders>,
    limits: Limits,
    complete: bool,
}

impl Lease {
    pub fn new(conn: HyperConn, pool: Arc<Senders>, limits: Limits) -> Lease {
        Lease { conn: Some(conn), pool, limits, complete: false }
    }

    /// The response body was read to its end: the connection can serve another request.
    pub fn complete(&mut self) {
        self.complete = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let (true, Some(conn)) = (self.complete, self.conn.take()) {
            self.pool.checkin(conn, self.limits);
        }
    }
}

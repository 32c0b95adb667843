//! State shared between one connection's driver and its handles: the
//! counters behind `stats()` and the flags callers read before queuing.
//!
//! Only the driver writes the counters, a few times per batch rather than per
//! command, so they cost little on the hot path.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use crate::config::Endpoint;

pub(crate) struct Shared {
    pub(crate) endpoint: Endpoint,
    /// Set by `close()`: new commands are refused.
    pub(crate) closed: AtomicBool,
    connected: AtomicBool,
    pub(crate) stats: Counters,
}

impl Shared {
    pub(crate) fn new(endpoint: Endpoint) -> Shared {
        Shared {
            endpoint,
            closed: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            stats: Counters::default(),
        }
    }

    pub(crate) fn set_connected(&self, up: bool) {
        self.connected.store(up, Relaxed);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Relaxed)
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    commands_written: AtomicU64,
    replies_received: AtomicU64,
    flushes: AtomicU64,
    bytes_out: AtomicU64,
    bytes_in: AtomicU64,
    in_flight: AtomicU64,
    queued: AtomicU64,
    disconnects: AtomicU64,
}

impl Counters {
    pub(crate) fn add_commands_written(&self, n: u64) {
        self.commands_written.fetch_add(n, Relaxed);
    }
    pub(crate) fn add_replies(&self, n: u64) {
        if n > 0 {
            self.replies_received.fetch_add(n, Relaxed);
        }
    }
    pub(crate) fn add_flush(&self, bytes: u64) {
        self.flushes.fetch_add(1, Relaxed);
        self.bytes_out.fetch_add(bytes, Relaxed);
    }
    pub(crate) fn add_bytes_in(&self, bytes: u64) {
        self.bytes_in.fetch_add(bytes, Relaxed);
    }
    pub(crate) fn add_disconnect(&self) {
        self.disconnects.fetch_add(1, Relaxed);
    }
    pub(crate) fn set_gauges(&self, in_flight: usize, queued: usize) {
        self.in_flight.store(in_flight as u64, Relaxed);
        self.queued.store(queued as u64, Relaxed);
    }
    pub(crate) fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Relaxed)
    }
    pub(crate) fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Relaxed)
    }

    pub(crate) fn snapshot(&self, connected: bool) -> crate::Stats {
        crate::Stats {
            commands_written: self.commands_written.load(Relaxed),
            replies_received: self.replies_received.load(Relaxed),
            flushes: self.flushes.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            queued: self.queued.load(Relaxed),
            disconnects: self.disconnects.load(Relaxed),
            connected,
        }
    }
}

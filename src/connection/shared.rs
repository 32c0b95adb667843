//! State shared between one connection's driver and its handles: the
//! counters behind `stats()`, the flags callers read before queuing, and
//! the event channel.
//!
//! Only the driver writes the counters, a few times per batch rather than per
//! command, so they cost little on the hot path.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use tokio::sync::broadcast;

use crate::config::Endpoint;
use crate::events::{ConnectionEvent, EVENT_BUFFER};

pub(crate) struct Shared {
    pub(crate) endpoint: Endpoint,
    /// Set by `close()`: new commands are refused.
    pub(crate) closed: AtomicBool,
    connected: AtomicBool,
    pub(crate) stats: Counters,
    events: broadcast::Sender<ConnectionEvent>,
    /// Subscribed before the driver starts and handed to the first listener,
    /// so it also sees what happened before it asked (with
    /// `abortConnect=false` the first attempt can fail before `connect` returns).
    first_listener: Mutex<Option<broadcast::Receiver<ConnectionEvent>>>,
}

impl Shared {
    pub(crate) fn new(endpoint: Endpoint) -> Shared {
        let (events, first) = broadcast::channel(EVENT_BUFFER);
        Shared {
            endpoint,
            closed: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            stats: Counters::default(),
            events,
            first_listener: Mutex::new(Some(first)),
        }
    }

    pub(crate) fn set_connected(&self, up: bool) {
        self.connected.store(up, Relaxed);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Relaxed)
    }

    pub(crate) fn emit(&self, event: ConnectionEvent) {
        let _ = self.events.send(event); // no listener is fine
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ConnectionEvent> {
        // A poisoned lock only means another listener panicked mid-take; the
        // Option inside is still valid.
        let mut first = self
            .first_listener
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        first.take().unwrap_or_else(|| self.events.subscribe())
    }
}

/// Counters; each is documented on the public [`Stats`](crate::Stats) field of the same name.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) commands_written: AtomicU64,
    pub(crate) replies_received: AtomicU64,
    pub(crate) flushes: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) lost_may_have_run: AtomicU64,
    pub(crate) retried_not_executed: AtomicU64,
    pub(crate) fire_and_forget_acknowledged: AtomicU64,
    pub(crate) fire_and_forget_unknown: AtomicU64,
    pub(crate) fire_and_forget_dropped: AtomicU64,
    pub(crate) keepalive_pings: AtomicU64,
    pub(crate) stalls: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Relaxed);
        }
    }

    pub(crate) fn set_gauges(&self, in_flight: usize, queued: usize) {
        self.in_flight.store(in_flight as u64, Relaxed);
        self.queued.store(queued as u64, Relaxed);
    }

    pub(crate) fn snapshot(&self, connected: bool) -> crate::Stats {
        let get = |c: &AtomicU64| c.load(Relaxed);
        crate::Stats {
            commands_written: get(&self.commands_written),
            replies_received: get(&self.replies_received),
            flushes: get(&self.flushes),
            bytes_out: get(&self.bytes_out),
            bytes_in: get(&self.bytes_in),
            in_flight: get(&self.in_flight),
            queued: get(&self.queued),
            disconnects: get(&self.disconnects),
            reconnects: get(&self.reconnects),
            timeouts: get(&self.timeouts),
            lost_may_have_run: get(&self.lost_may_have_run),
            retried_not_executed: get(&self.retried_not_executed),
            fire_and_forget_acknowledged: get(&self.fire_and_forget_acknowledged),
            fire_and_forget_unknown: get(&self.fire_and_forget_unknown),
            fire_and_forget_dropped: get(&self.fire_and_forget_dropped),
            keepalive_pings: get(&self.keepalive_pings),
            stalls: get(&self.stalls),
            connected,
        }
    }
}

//! State shared between one connection's driver and its handle: the
//! counters behind `stats()`, the flags callers read before queuing, and
//! the multiplexer's event sink.
//!
//! Only the driver writes the counters, a few times per batch rather than
//! per command, so they cost little on the hot path.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use crate::config::Endpoint;
use crate::events::{ConnectionEvent, EventSink};
use crate::stats::Counters;

pub(crate) struct Shared {
    /// The server this connection talks to; changed only where each
    /// connect resolves the address anew (Sentinel), so never on the hot
    /// path.
    endpoint: RwLock<Endpoint>,
    /// Set by `close()`: new commands are refused.
    pub(crate) closed: AtomicBool,
    connected: AtomicBool,
    pub(crate) stats: Counters,
    events: Arc<EventSink>,
}

impl Shared {
    pub(crate) fn new(endpoint: Endpoint, events: Arc<EventSink>) -> Shared {
        Shared {
            endpoint: RwLock::new(endpoint),
            closed: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            stats: Counters::default(),
            events,
        }
    }

    pub(crate) fn endpoint(&self) -> Endpoint {
        self.endpoint
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_endpoint(&self, endpoint: Endpoint) {
        *self.endpoint.write().unwrap_or_else(|e| e.into_inner()) = endpoint;
    }

    pub(crate) fn set_connected(&self, up: bool) {
        self.connected.store(up, Relaxed);
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Relaxed)
    }

    pub(crate) fn emit(&self, event: ConnectionEvent) {
        self.events.emit(event);
    }
}

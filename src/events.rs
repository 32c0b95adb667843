//! Connection events: what the drivers tell anyone who listens about their
//! connections' lives (connecting, connected, failed, restored, stalls,
//! protocol errors).
//!
//! The multiplexer owns one [`EventSink`] and hands it to every connection
//! it opens, so [`Multiplexer::events`](crate::Multiplexer::events) sees the
//! events of all of them, each naming its endpoint. Every event is also
//! emitted through `tracing` (target `redmux`), which a tokio service
//! usually collects already. A listener that falls behind skips the events
//! it missed rather than slowing a driver down. No event carries a password:
//! reasons are built from errors, which never contain one.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::broadcast;

/// Room for events not yet read by a slow listener before it starts to skip.
pub(crate) const EVENT_BUFFER: usize = 256;

/// Something that happened to a connection.
///
/// A failure is reported once per outage ([`ConnectionEvent::Failed`]); the
/// attempts that follow are reported as [`ConnectionEvent::Connecting`] and
/// the outage ends with [`ConnectionEvent::Restored`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// A connection attempt started (`attempt` counts from 1 within an outage).
    Connecting {
        /// The server's address.
        endpoint: String,
        /// Attempt number within this outage.
        attempt: u32,
    },
    /// The first connection is up (handshake done).
    Connected {
        /// The server's address.
        endpoint: String,
    },
    /// The connection failed or could not be made; once per outage.
    Failed {
        /// The server's address.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// A connection is up again after an outage.
    Restored {
        /// The server's address.
        endpoint: String,
        /// How long the outage lasted.
        outage: Duration,
    },
    /// The server sent something that is not valid RESP or broke a limit;
    /// the connection was torn down.
    ProtocolError {
        /// The server's address.
        endpoint: String,
        /// What was wrong.
        message: String,
    },
    /// Commands awaited replies and nothing was read for `stallTimeout`;
    /// the connection was torn down (a `Failed` event follows).
    Stalled {
        /// The server's address.
        endpoint: String,
        /// How long nothing was read.
        silent_for: Duration,
        /// Commands awaiting replies at that moment.
        awaiting: usize,
    },
    /// The primary moved (a Sentinel failover, or a cluster slot range
    /// whose primary changed); the client now sends there.
    PrimaryChanged {
        /// The new primary's address.
        endpoint: String,
        /// The old primary's address.
        from: String,
        /// What said so.
        reason: String,
    },
}

impl ConnectionEvent {
    /// The endpoint the event is about.
    pub fn endpoint(&self) -> &str {
        match self {
            ConnectionEvent::Connecting { endpoint, .. }
            | ConnectionEvent::Connected { endpoint }
            | ConnectionEvent::Failed { endpoint, .. }
            | ConnectionEvent::Restored { endpoint, .. }
            | ConnectionEvent::ProtocolError { endpoint, .. }
            | ConnectionEvent::Stalled { endpoint, .. }
            | ConnectionEvent::PrimaryChanged { endpoint, .. } => endpoint,
        }
    }

    /// Writes the event to `tracing`: failures and stalls as warnings,
    /// protocol errors as errors, the rest as info or debug.
    fn trace(&self) {
        match self {
            ConnectionEvent::Connecting { endpoint, attempt } => {
                tracing::debug!(target: "redmux", %endpoint, attempt, "connecting")
            }
            ConnectionEvent::Connected { endpoint } => {
                tracing::info!(target: "redmux", %endpoint, "connected")
            }
            ConnectionEvent::Failed { endpoint, reason } => {
                tracing::warn!(target: "redmux", %endpoint, %reason, "connection failed")
            }
            ConnectionEvent::Restored { endpoint, outage } => {
                let outage_ms = outage.as_millis() as u64;
                tracing::info!(target: "redmux", %endpoint, outage_ms, "connection restored")
            }
            ConnectionEvent::ProtocolError { endpoint, message } => {
                tracing::error!(target: "redmux", %endpoint, %message, "protocol error; connection closed")
            }
            ConnectionEvent::Stalled {
                endpoint,
                silent_for,
                awaiting,
            } => {
                let silent_ms = silent_for.as_millis() as u64;
                tracing::warn!(target: "redmux", %endpoint, silent_ms, awaiting, "connection stalled; reconnecting")
            }
            ConnectionEvent::PrimaryChanged {
                endpoint,
                from,
                reason,
            } => {
                tracing::warn!(target: "redmux", %endpoint, %from, %reason, "primary changed")
            }
        }
    }
}

/// Where the drivers of one multiplexer send their events: a broadcast
/// channel for [`Events`] listeners, and `tracing`.
pub(crate) struct EventSink {
    tx: broadcast::Sender<ConnectionEvent>,
    /// Subscribed before any driver starts and handed to the first listener,
    /// so it also sees what happened before it asked (with
    /// `abortConnect=false` the first attempt can fail before `connect` returns).
    first_listener: Mutex<Option<broadcast::Receiver<ConnectionEvent>>>,
}

impl EventSink {
    pub(crate) fn new() -> EventSink {
        let (tx, first) = broadcast::channel(EVENT_BUFFER);
        EventSink {
            tx,
            first_listener: Mutex::new(Some(first)),
        }
    }

    pub(crate) fn emit(&self, event: ConnectionEvent) {
        event.trace();
        let _ = self.tx.send(event); // no listener is fine
    }

    /// A receiver for the crate's own use (the cluster router watching for
    /// failed nodes): it never takes the replay kept for the user's first
    /// listener.
    pub(crate) fn listen(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.tx.subscribe()
    }

    pub(crate) fn subscribe(&self) -> Events {
        // A poisoned lock only means another listener panicked mid-take; the
        // Option inside is still valid.
        let mut first = self
            .first_listener
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Events::new(first.take().unwrap_or_else(|| self.tx.subscribe()))
    }
}

/// A stream of [`ConnectionEvent`]s, from [`Multiplexer::events`](crate::Multiplexer::events).
///
/// ```no_run
/// # async fn demo(mux: redmux::Multiplexer) {
/// let mut events = mux.events();
/// tokio::spawn(async move {
///     while let Some(event) = events.recv().await {
///         eprintln!("redis: {event:?}");
///     }
/// });
/// # }
/// ```
pub struct Events {
    rx: broadcast::Receiver<ConnectionEvent>,
    skipped: u64,
}

impl Events {
    fn new(rx: broadcast::Receiver<ConnectionEvent>) -> Events {
        Events { rx, skipped: 0 }
    }

    /// The next event; `None` once the multiplexer and all its connections' drivers have ended.
    ///
    /// # Cancel safety
    /// Cancel safe: an event is either returned or left for the next call.
    pub async fn recv(&mut self) -> Option<ConnectionEvent> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => self.skipped += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<ConnectionEvent> {
        loop {
            match self.rx.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.skipped += n,
                Err(_) => return None,
            }
        }
    }

    /// How many events this listener missed by falling behind.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("skipped", &self.skipped)
            .finish()
    }
}

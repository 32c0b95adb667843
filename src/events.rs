//! Connection events: what the driver tells anyone who listens about the
//! connection's life (connecting, connected, failed, restored, protocol
//! errors).
//!
//! Events go out on a broadcast channel; [`Multiplexer::events`](crate::Multiplexer::events)
//! subscribes. A listener that falls behind skips the events it missed
//! rather than slowing the driver down.

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
    pub(crate) fn new(rx: broadcast::Receiver<ConnectionEvent>) -> Events {
        Events { rx, skipped: 0 }
    }

    /// The next event; `None` once the connection's driver has ended.
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

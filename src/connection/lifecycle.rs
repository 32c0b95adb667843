//! A connection's lifecycle: connect over a transport, run the handshake,
//! lose the connection, wait out the back-off, connect again.
//!
//! It owns the link and nothing of the pipeline: the driver asks it for the
//! stream while it is up, tells it when the connection was lost, and hears
//! back when a new one is established. It emits the lifecycle's events
//! (`Connecting`, `Connected`, `Failed` once per outage, `Restored`).
//!
//! | state        | leaves when                                   | to                   |
//! |--------------|-----------------------------------------------|----------------------|
//! | `Up`         | the driver reports a loss ([`Lifecycle::lost`]) | `Waiting`          |
//! | `Waiting`    | the back-off delay elapsed (not closing)       | `Connecting`        |
//! | `Connecting` | handshake done / failed                        | `Up` / `Waiting`    |

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use super::handshake::{Established, Session};
use super::shared::Shared;
use super::transport::Stream;
use crate::config::RetryPolicy;
use crate::error::Result;
use crate::events::ConnectionEvent;
use crate::stats::Counters;

/// Opens one connection and runs its handshake: a transport to the
/// endpoint in production, an in-memory pipe in tests.
pub(crate) type Connect =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Established>> + Send>> + Send + Sync>;

enum Link {
    Up(Stream),
    Connecting(Pin<Box<dyn Future<Output = Result<Established>> + Send>>),
    Waiting(Pin<Box<Sleep>>),
}

/// What happened to the link in one poll.
pub(super) enum Transition {
    /// A connection passed its handshake; the stream is now the link's.
    Up(Session),
    /// A connect attempt failed; the link waits for the next one.
    AttemptFailed,
}

pub(super) struct Lifecycle {
    link: Link,
    connect: Connect,
    retry: RetryPolicy,
    shared: Arc<Shared>,
    /// Connect attempts in the current outage.
    attempts: u32,
    /// When the current outage began; `None` while connected.
    outage_since: Option<Instant>,
    ever_connected: bool,
    /// Why the last connection or attempt failed (for messages); empty if none did.
    last_error: String,
}

impl Lifecycle {
    /// A lifecycle with no link yet: next, [`adopt`](Lifecycle::adopt) a
    /// first connection or [`start_connecting`](Lifecycle::start_connecting).
    pub(super) fn new(connect: Connect, retry: RetryPolicy, shared: Arc<Shared>) -> Lifecycle {
        Lifecycle {
            link: Link::Waiting(Box::pin(tokio::time::sleep(Duration::ZERO))),
            connect,
            retry,
            shared,
            attempts: 0,
            outage_since: None,
            ever_connected: false,
            last_error: String::new(),
        }
    }

    /// Begins by connecting in the background (`abortConnect=false`).
    pub(super) fn start_connecting(&mut self) {
        self.attempts = self.attempts.saturating_add(1);
        self.shared.emit(ConnectionEvent::Connecting {
            endpoint: self.endpoint(),
            attempt: self.attempts,
        });
        self.link = Link::Connecting((self.connect)());
    }

    pub(super) fn is_up(&self) -> bool {
        matches!(self.link, Link::Up(_))
    }

    /// The stream while the link is up.
    pub(super) fn stream(&mut self) -> Option<&mut Stream> {
        match &mut self.link {
            Link::Up(stream) => Some(stream),
            _ => None,
        }
    }

    pub(super) fn last_error(&self) -> &str {
        &self.last_error
    }

    fn endpoint(&self) -> String {
        self.shared.endpoint().to_string()
    }

    /// Drives `Connecting` and `Waiting`; `closing` stops new attempts.
    pub(super) fn poll(&mut self, cx: &mut Context<'_>, closing: bool) -> Option<Transition> {
        match &mut self.link {
            Link::Up(_) => None,
            Link::Waiting(sleep) => {
                if sleep.as_mut().poll(cx).is_ready() && !closing {
                    self.start_connecting();
                    // Poll the new attempt once so it registers its wake-up.
                    return self.poll(cx, closing);
                }
                None
            }
            Link::Connecting(fut) => match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(Established { stream, session })) => {
                    self.link = Link::Up(stream);
                    self.on_up();
                    Some(Transition::Up(session))
                }
                Poll::Ready(Err(e)) => {
                    self.failed(e.to_string());
                    Some(Transition::AttemptFailed)
                }
                Poll::Pending => None,
            },
        }
    }

    /// Adopts a connection made before the driver started (`abortConnect=true`).
    pub(super) fn adopt(&mut self, stream: Stream) {
        self.link = Link::Up(stream);
        self.on_up();
    }

    fn on_up(&mut self) {
        self.attempts = 0;
        self.shared.set_connected(true);
        let endpoint = self.endpoint();
        match self.outage_since.take() {
            Some(since) => {
                Counters::add(&self.shared.stats.reconnects, 1);
                self.shared.emit(ConnectionEvent::Restored {
                    endpoint,
                    outage: since.elapsed(),
                });
            }
            None if !self.ever_connected => {
                self.shared.emit(ConnectionEvent::Connected { endpoint })
            }
            None => {}
        }
        self.ever_connected = true;
    }

    /// The connection broke (read/write error, EOF, protocol error, stall):
    /// drop the stream and wait for the next attempt.
    pub(super) fn lost(&mut self, reason: String) {
        self.shared.set_connected(false);
        Counters::add(&self.shared.stats.disconnects, 1);
        self.failed(reason);
    }

    /// Records a failure (once per outage as an event) and schedules the next attempt.
    fn failed(&mut self, reason: String) {
        if self.outage_since.is_none() {
            self.outage_since = Some(Instant::now());
            self.shared.emit(ConnectionEvent::Failed {
                endpoint: self.endpoint(),
                reason: reason.clone(),
            });
        }
        self.last_error = reason;
        let delay = self.retry.delay(self.attempts.saturating_sub(1), jitter());
        self.link = Link::Waiting(Box::pin(tokio::time::sleep(delay)));
    }
}

/// A number in `[0, 1)` for back-off jitter, from the clock's nanoseconds:
/// clients that lost the same server at the same moment still differ here.
pub(crate) fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_a_fraction() {
        let j = jitter();
        assert!((0.0..1.0).contains(&j), "{j}");
    }
}

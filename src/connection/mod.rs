//! One connection to one endpoint: the handle callers use, and the driver
//! task behind it.
//!
//! Routing (which endpoint a command goes to) sits above this module; a
//! [`ConnectionHandle`] only knows its own endpoint. Opening one connects
//! (with `connectRetry` attempts, or not at all when `abortConnect=false`)
//! and spawns the [`driver`] that owns the socket from then on.

mod driver;
mod handshake;
mod shared;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use driver::Driver;
pub(crate) use driver::{command_name, Message, Request};
use shared::Shared;

use crate::config::{Config, Endpoint};
use crate::error::{Error, Result};
use crate::resp::Limits;
use crate::Stats;

/// The caller's side of one connection: cheap to share, lock-free to use.
pub(crate) struct ConnectionHandle {
    tx: mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
}

impl ConnectionHandle {
    /// Connects to `endpoint` and starts its driver.
    ///
    /// With `abortConnect=true` (the default) this tries `connectRetry`
    /// times and fails if no attempt succeeds; with `false` it returns at
    /// once and the driver keeps trying in the background while commands wait
    /// in the backlog.
    pub(crate) async fn open(
        endpoint: Endpoint,
        config: Arc<Config>,
        limits: Limits,
    ) -> Result<ConnectionHandle> {
        let established = if config.abort_connect {
            let attempts = config.connect_retry.max(1);
            let mut last = None;
            let mut found = None;
            for attempt in 0..attempts {
                match handshake::connect(endpoint.clone(), config.clone(), limits).await {
                    Ok(est) => {
                        found = Some(est);
                        break;
                    }
                    // A rejected password will not get better by retrying.
                    Err(e) if e.kind() == crate::ErrorKind::Auth => return Err(e),
                    Err(e) => last = Some(e),
                }
                if attempt + 1 < attempts {
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
                }
            }
            match found {
                Some(est) => Some(est),
                None => {
                    return Err(last
                        .unwrap_or_else(|| Error::connect(&endpoint, "no attempt was made", None)))
                }
            }
        } else {
            None
        };
        let shared = Arc::new(Shared::new(endpoint));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(Driver::new(rx, shared.clone(), config, limits, established));
        Ok(ConnectionHandle { tx, shared })
    }

    /// Queues a request for the driver; fails if the multiplexer is closed.
    pub(crate) fn send(&self, req: Request) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::closed(&command_name(&req.bytes)));
        }
        self.tx.send(Message::Request(req)).map_err(|e| match e.0 {
            Message::Request(req) => Error::closed(&command_name(&req.bytes)),
            Message::Close { .. } => Error::closed("?"),
        })
    }

    /// Stops new commands, lets in-flight ones finish within `grace`, then ends the driver.
    pub(crate) async fn close(&self, grace: Duration) {
        self.shared.closed.store(true, Ordering::Release);
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Close { grace, done }).is_ok() {
            let _ = wait.await; // an error means the driver already ended
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        self.shared.stats.snapshot(self.shared.is_connected())
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.shared.endpoint
    }
}

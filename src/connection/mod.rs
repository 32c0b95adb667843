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
mod transport;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use driver::Driver;
pub(crate) use driver::{command_name, Message, ReplySender, Request};
use handshake::Established;
use shared::Shared;

use crate::config::{Config, Endpoint};
use crate::error::{Error, Result};
use crate::events::Events;
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
    pub(crate) async fn open(endpoint: Endpoint, config: Arc<Config>) -> Result<ConnectionHandle> {
        let established = if config.abort_connect {
            Some(first_connection(&endpoint, &config).await?)
        } else {
            None
        };
        let shared = Arc::new(Shared::new(endpoint));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(Driver::new(rx, shared.clone(), config, established));
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

    pub(crate) fn events(&self) -> Events {
        Events::new(self.shared.subscribe())
    }
}

/// `abortConnect=true`: up to `connectRetry` attempts (at least one), spaced
/// by the retry policy; the last error if none succeeds. A rejected password
/// is final: retrying cannot fix it.
async fn first_connection(endpoint: &Endpoint, config: &Arc<Config>) -> Result<Established> {
    let attempts = config.connect_retry.max(1);
    let mut attempt = 0;
    loop {
        match handshake::connect(endpoint.clone(), config.clone()).await {
            Ok(est) => return Ok(est),
            Err(e) if e.kind() == crate::ErrorKind::Auth => return Err(e),
            Err(e) if attempt + 1 >= attempts => return Err(e),
            Err(_) => {}
        }
        tokio::time::sleep(config.retry_policy.delay(attempt, 0.5)).await;
        attempt += 1;
    }
}

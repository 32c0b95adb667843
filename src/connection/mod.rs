//! One connection to one endpoint: the handle routing uses, and the driver
//! task behind it.
//!
//! ```text
//!  routing ──Request──▶ ConnectionHandle ──channel──▶ Driver
//!                                                      ├─ Pipeline   backlog, FIFO, flush rule, delivery
//!                                                      ├─ Lifecycle  transport + handshake, back-off
//!                                                      ├─ Deadlines  one timer for every request
//!                                                      └─ Heartbeat  stalls, keep-alive, pauses
//! ```
//!
//! Routing (which endpoint a request goes to) sits above this module; a
//! [`ConnectionHandle`] only knows its own endpoint. The contract between
//! the two is in [`request`]. Opening a handle connects (with `connectRetry`
//! attempts, or not at all when `abortConnect=false`) and spawns the driver
//! that owns the transport from then on.

mod deadlines;
mod driver;
mod handshake;
mod heartbeat;
mod lifecycle;
mod pipeline;
pub(crate) mod reply;
pub(crate) mod request;
mod shared;
mod timer;
mod transport;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use driver::{Driver, Message};
pub(crate) use handshake::{connect as open_connection, Established, Role};
pub(crate) use lifecycle::jitter;
use lifecycle::Connect;
use request::{HandBack, Request};
use shared::Shared;
pub(crate) use transport::Stream;

use crate::config::{Config, Endpoint};
use crate::error::{Error, Result};
use crate::events::EventSink;
use crate::resp::Value;
use crate::stats::Stats;

/// Finds the address to dial before each connect (see
/// [`ConnectionHandle::open_resolved`]).
pub(crate) type Resolve = Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Endpoint>> + Send>>
        + Send
        + Sync,
>;

/// Says, without waiting, which server the connections beside the
/// command connection (the subscriber's, dedicated ones) should dial now:
/// the primary the command connection last reached (it follows a
/// Sentinel failover), or a cluster primary that is up.
pub(crate) type Locate = Arc<dyn Fn() -> Endpoint + Send + Sync>;

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
    /// in the backlog. Events go to `events`; requests the driver gives back
    /// go to `hand_back` (without one, none are given back).
    pub(crate) async fn open(
        endpoint: Endpoint,
        config: Arc<Config>,
        events: Arc<EventSink>,
        hand_back: Option<HandBack>,
    ) -> Result<ConnectionHandle> {
        let connect: Connect = {
            let (endpoint, config) = (endpoint.clone(), config.clone());
            Arc::new(move || {
                Box::pin(handshake::connect(
                    endpoint.clone(),
                    config.clone(),
                    Role::Multiplexed,
                ))
            })
        };
        let shared = Arc::new(Shared::new(endpoint, events));
        ConnectionHandle::start(shared, config, connect, hand_back).await
    }

    /// A connection made in the background (a cluster node's, opened when
    /// a command first needs it): returns at once; commands wait in the
    /// backlog until the handshake is done, as with `abortConnect=false`.
    pub(crate) fn open_lazy(
        endpoint: Endpoint,
        role: Role,
        config: Arc<Config>,
        events: Arc<EventSink>,
        hand_back: Option<HandBack>,
    ) -> ConnectionHandle {
        let connect: Connect = {
            let (endpoint, config) = (endpoint.clone(), config.clone());
            Arc::new(move || Box::pin(handshake::connect(endpoint.clone(), config.clone(), role)))
        };
        let shared = Arc::new(Shared::new(endpoint, events));
        ConnectionHandle::spawn(shared, config, connect, None, hand_back)
    }

    /// A connection whose address is asked anew before every connect
    /// (Sentinel): `resolve` names the server, then the handshake runs as
    /// for any connection. `abortConnect` applies as in
    /// [`open`](Self::open); `label` names the connection until the first
    /// address is known.
    pub(crate) async fn open_resolved(
        label: Endpoint,
        resolve: Resolve,
        config: Arc<Config>,
        events: Arc<EventSink>,
    ) -> Result<ConnectionHandle> {
        let shared = Arc::new(Shared::new(label, events));
        let connect: Connect = {
            let weak = Arc::downgrade(&shared);
            let config = config.clone();
            Arc::new(move || {
                let (weak, config, resolve) = (weak.clone(), config.clone(), resolve.clone());
                Box::pin(async move {
                    let endpoint = resolve().await?;
                    if let Some(shared) = weak.upgrade() {
                        shared.set_endpoint(endpoint.clone());
                    }
                    handshake::connect(endpoint, config, Role::Multiplexed).await
                })
            })
        };
        ConnectionHandle::start(shared, config, connect, None).await
    }

    /// With `abortConnect=true`, makes the first connection (failing after
    /// `connectRetry` attempts), then starts the driver; with `false`,
    /// starts it at once and it connects in the background.
    async fn start(
        shared: Arc<Shared>,
        config: Arc<Config>,
        connect: Connect,
        hand_back: Option<HandBack>,
    ) -> Result<ConnectionHandle> {
        let established = if config.abort_connect {
            Some(first_connection(&connect, &config).await?)
        } else {
            None
        };
        Ok(ConnectionHandle::spawn(
            shared,
            config,
            connect,
            established,
            hand_back,
        ))
    }

    /// Starts a driver over `connect` (a transport in production, an
    /// in-memory pipe in tests).
    fn spawn(
        shared: Arc<Shared>,
        config: Arc<Config>,
        connect: Connect,
        established: Option<Established>,
        hand_back: Option<HandBack>,
    ) -> ConnectionHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(Driver::new(
            rx,
            shared.clone(),
            config,
            connect,
            established,
            hand_back,
        ));
        ConnectionHandle { tx, shared }
    }

    /// Queues a request for the driver; fails if the connection is closed.
    pub(crate) fn send(&self, req: Request) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::closed(&req.name()));
        }
        self.tx.send(Message::Request(req)).map_err(|e| match e.0 {
            Message::Request(req) => Error::closed(&req.name()),
            _ => Error::closed("?"),
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

    /// Whether the connection is up now (one atomic load, unlike `stats`).
    pub(crate) fn is_connected(&self) -> bool {
        self.shared.is_connected()
    }

    /// The server it talks to (for a Sentinel-resolved connection, the
    /// address its last connect dialled).
    pub(crate) fn endpoint(&self) -> Endpoint {
        self.shared.endpoint()
    }

    /// Drops the current connection as if it had been lost (commands
    /// written and unanswered fail as "may have run"; waiting ones stay in
    /// the backlog) and connects again: Sentinel saw the primary move
    /// while the old one is still up (and now a replica).
    pub(crate) fn reconnect(&self, reason: String) {
        let _ = self.tx.send(Message::Reconnect { reason });
    }

    /// Sends one command and waits for its reply (topology questions,
    /// off the hot path).
    pub(crate) async fn ask(&self, cmd: crate::cmd::Cmd, timeout: Duration) -> Result<Value> {
        let (slot, receiver) = reply::channel();
        let (bytes, _) = cmd.into_encoded();
        let name = request::command_name(&bytes);
        self.send(Request::single(bytes, 0, Some(slot), timeout))?;
        match receiver.await {
            Ok(Ok(request::Answer::One(value))) => Ok(value),
            Ok(Ok(request::Answer::Group(values))) => Ok(Value::Array(values)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::closed(&name)),
        }
    }
}

/// `abortConnect=true`: up to `connectRetry` attempts (at least one), spaced
/// by the retry policy; the last error if none succeeds. A rejected password
/// and a configuration error (an unreadable certificate file, TLS compiled
/// out) are final: retrying cannot fix them.
async fn first_connection(connect: &Connect, config: &Config) -> Result<Established> {
    let attempts = config.connect_retry.max(1);
    let mut attempt = 0;
    loop {
        match connect().await {
            Ok(est) => return Ok(est),
            Err(e) if matches!(e.kind(), crate::ErrorKind::Auth | crate::ErrorKind::Config) => {
                return Err(e)
            }
            Err(e) if attempt + 1 >= attempts => return Err(e),
            Err(_) => {}
        }
        tokio::time::sleep(config.retry_policy.delay(attempt, 0.5)).await;
        attempt += 1;
    }
}

//! The shared, cloneable handle: connect once, share everywhere.
//!
//! A [`Multiplexer`] owns the connection handle(s) and the configuration;
//! [`Multiplexer::database`] gives cheap [`Database`] handles through which
//! commands are issued. Routing (today: the first endpoint) happens here,
//! above the per-endpoint connection, so replicas and cluster slots can be
//! added without touching the driver.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::connection::{ConnectionHandle, Request};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::events::Events;

/// Something that can become a [`Config`]: a configuration string, a URL, or a `Config`.
pub trait IntoConfig {
    /// Parses or passes through the configuration.
    ///
    /// # Errors
    /// Kind `Config` if the string is invalid.
    fn into_config(self) -> Result<Config>;
}

impl IntoConfig for Config {
    fn into_config(self) -> Result<Config> {
        Ok(self)
    }
}

impl IntoConfig for &str {
    fn into_config(self) -> Result<Config> {
        Ok(Config::parse(self)?)
    }
}

impl IntoConfig for String {
    fn into_config(self) -> Result<Config> {
        self.as_str().into_config()
    }
}

impl IntoConfig for &String {
    fn into_config(self) -> Result<Config> {
        self.as_str().into_config()
    }
}

/// Counters of one multiplexer, from [`Multiplexer::stats`].
///
/// ```no_run
/// # async fn demo(mux: redmux::Multiplexer) {
/// let s = mux.stats();
/// println!("{} commands in {} writes: {:.1} per write", s.commands_written, s.flushes, s.commands_per_flush());
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Commands moved into the write buffer (sent, or about to be).
    pub commands_written: u64,
    /// Replies decoded and matched to a command.
    pub replies_received: u64,
    /// Write calls on the socket; `commands_written / flushes` is the batching factor.
    pub flushes: u64,
    /// Bytes written to the socket.
    pub bytes_out: u64,
    /// Bytes read from the socket.
    pub bytes_in: u64,
    /// Commands written and awaiting their reply, as of the driver's last turn.
    pub in_flight: u64,
    /// Commands accepted but not yet written, as of the driver's last turn.
    pub queued: u64,
    /// How many times a connection was lost.
    pub disconnects: u64,
    /// How many times a connection was made again after a loss.
    pub reconnects: u64,
    /// Awaited commands that ended with a timeout.
    pub timeouts: u64,
    /// Commands (awaited or fire-and-forget) written before a connection
    /// loss, whose outcome is unknown: they may or may not have run.
    pub lost_may_have_run: u64,
    /// Commands the server refused without running them (LOADING, BUSY,
    /// MASTERDOWN, TRYAGAIN) and that were sent again.
    pub retried_not_executed: u64,
    /// Fire-and-forget commands whose reply arrived: they ran (the reply may
    /// still have been an error).
    pub fire_and_forget_acknowledged: u64,
    /// Fire-and-forget commands written before a connection loss, without a
    /// reply: they may or may not have run.
    pub fire_and_forget_unknown: u64,
    /// Fire-and-forget commands dropped without being sent (backlog full,
    /// fail-fast policy, or closed): they did not run.
    pub fire_and_forget_dropped: u64,
    /// PINGs sent because the connection was idle for `keepAlive`.
    pub keepalive_pings: u64,
    /// Connections torn down because nothing was read for `stallTimeout`
    /// while commands awaited replies.
    pub stalls: u64,
    /// Whether the connection is up now.
    pub connected: bool,
}

impl Stats {
    /// Average commands per socket write (0 before the first write).
    pub fn commands_per_flush(&self) -> f64 {
        if self.flushes == 0 {
            0.0
        } else {
            self.commands_written as f64 / self.flushes as f64
        }
    }
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    connection: ConnectionHandle,
}

impl Inner {
    /// Picks the connection for a request; one endpoint for now.
    pub(crate) fn route(&self, req: Request) -> Result<()> {
        self.connection.send(req)
    }
}

/// One shared, multiplexed connection to Redis. Cheap to clone; `Send + Sync`.
///
/// Every clone and every [`Database`] from it share the same connection and
/// driver task. The driver ends once [`close`](Multiplexer::close) is called
/// or the last handle is dropped (after answering what is in flight).
///
/// ```no_run
/// # async fn demo() -> redmux::Result<()> {
/// use std::time::Duration;
/// use redmux::Multiplexer;
///
/// let mux = Multiplexer::connect("127.0.0.1:6379,name=web,syncTimeout=5000").await?;
/// let db = mux.database(0);
/// db.set("k", "v").await?;
/// let v: Option<String> = db.get("k").await?;
/// let (a, b) = tokio::join!(db.get::<Option<String>>("a"), db.get::<Option<String>>("b"));
/// db.expire("session:1", Duration::from_secs(300)).fire_and_forget()?;
/// let raw: redmux::Value = db.execute("OBJECT", ["ENCODING", "k"]).await?;
/// mux.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Multiplexer {
    pub(crate) inner: Arc<Inner>,
}

impl Multiplexer {
    /// Connects using a StackExchange.Redis-style string, a `redis://` URL, or a [`Config`].
    ///
    /// Uses the first endpoint. With `abortConnect=true` (default) it fails
    /// if no connection could be made in `connectRetry` attempts; with
    /// `abortConnect=false` it returns at once and connects in the
    /// background, commands waiting in the backlog meanwhile.
    ///
    /// # Errors
    /// Kind `Config` for a bad configuration, `Connect` if the server cannot
    /// be reached, `Auth` if it rejects the credentials.
    ///
    /// # Cancel safety
    /// Dropping the future abandons the attempt; nothing is left running.
    pub async fn connect(config: impl IntoConfig) -> Result<Multiplexer> {
        let config = config.into_config()?;
        let Some(endpoint) = config.endpoints.first().cloned() else {
            return Err(crate::config::ConfigError {
                key: None,
                message: "no endpoint given; add host:port, e.g. 127.0.0.1:6379".to_owned(),
            }
            .into());
        };
        let shared_config = Arc::new(config.clone());
        let connection = ConnectionHandle::open(endpoint, shared_config).await?;
        Ok(Multiplexer {
            inner: Arc::new(Inner { config, connection }),
        })
    }

    /// A handle for database `index` (SELECT is sent by the driver when the
    /// connection is in another database; the switch is tracked per connection).
    pub fn database(&self, index: u32) -> Database {
        Database::new(self.clone(), index)
    }

    /// A handle for the configured `defaultDatabase`.
    pub fn default_database(&self) -> Database {
        self.database(self.inner.config.default_database)
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Current counters.
    pub fn stats(&self) -> Stats {
        self.inner.connection.stats()
    }

    /// A stream of connection events (connecting, connected, failed,
    /// restored, protocol errors). The first listener also receives the
    /// events since the connection started (up to 256); later ones see
    /// events from the moment they subscribe.
    pub fn events(&self) -> Events {
        self.inner.connection.events()
    }

    /// Whether the connection is up now.
    pub fn is_connected(&self) -> bool {
        self.stats().connected
    }

    /// Closes gracefully: new commands fail with kind `Closed`, commands
    /// already accepted are written and their replies awaited for up to the
    /// command timeout, then the connection closes.
    pub async fn close(&self) {
        self.close_within(self.inner.config.command_timeout()).await
    }

    /// Like [`close`](Multiplexer::close) with an explicit grace period;
    /// replies still missing after `grace` fail with kind `ConnectionLost`.
    pub async fn close_within(&self, grace: Duration) {
        self.inner.connection.close(grace).await
    }

    pub(crate) fn refuse_if_needed(&self, name: &str, args: &[&[u8]]) -> Result<(), Error> {
        crate::cmd::policy::check(name, args, self.inner.config.allow_admin)
    }
}

impl fmt::Debug for Multiplexer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multiplexer")
            .field("endpoint", self.inner.connection.endpoint())
            .field("config", &self.inner.config)
            .finish()
    }
}

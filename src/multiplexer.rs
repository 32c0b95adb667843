//! The shared, cloneable handle: connect once, share everywhere.
//!
//! A [`Multiplexer`] owns the configuration and the router (which owns the
//! connections); [`Multiplexer::database`] gives cheap [`Database`] handles
//! through which commands are issued. Routing (today: the first endpoint)
//! happens in `router`, above the per-endpoint connections, so replicas and
//! cluster slots can be added without touching the driver.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, Endpoint};
use crate::database::Database;
use crate::dedicated::Dedicated;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::pubsub::Subscriber;
use crate::router::Router;
use crate::stats::Stats;

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

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) router: Router,
    /// The subscriber connection's task, started by the first subscription.
    pubsub: Arc<crate::pubsub::Core>,
    /// On a cluster: the shard channels' subscriber connections, one per primary.
    shards: Option<Arc<crate::pubsub::Shards>>,
    /// Exclusive connections leased by `dedicated()`.
    dedicated: Arc<crate::dedicated::Pool>,
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
/// use redmux::prelude::*;
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
        let shared_config = Arc::new(config.clone());
        let router = Router::open(shared_config.clone()).await?;
        let endpoint = router.endpoint();
        let pubsub = Arc::new(
            crate::pubsub::Core::new(shared_config.clone(), endpoint.clone(), router.event_sink())
                .locating(router.locator()),
        );
        let shards = router
            .shard_map()
            .map(|map| crate::pubsub::Shards::new(map, shared_config.clone(), router.event_sink()));
        let dedicated = Arc::new(crate::dedicated::Pool::new(shared_config, router.locator()));
        Ok(Multiplexer {
            inner: Arc::new(Inner {
                config,
                router,
                pubsub,
                shards,
                dedicated,
            }),
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

    /// The subscriber: subscriptions to channels, patterns, shard channels
    /// and keyspace notifications, all carried by one subscriber connection
    /// (opened on the first subscription, separate from the command
    /// connection; see [`Subscriber`]).
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
    /// let mut orders = mux.subscriber().subscribe(["orders"]).await?;
    /// while let Some(msg) = orders.next_message().await {
    ///     println!("{}", msg.payload_str());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn subscriber(&self) -> Subscriber {
        Subscriber::new(self.inner.pubsub.clone()).with_shards(self.inner.shards.clone())
    }

    /// Leases an exclusive connection for blocking commands (BLPOP, BLMOVE,
    /// XREAD … BLOCK, WAIT), a hand-written WATCH/MULTI/EXEC, or SELECT:
    /// what the shared connection refuses. See [`Dedicated`].
    ///
    /// At most `maxDedicated` (default 8) are leased at once; a lease past
    /// that waits up to `connectTimeout` for one to come back. A returned
    /// connection is reused if it is healthy and in its initial state;
    /// otherwise it is closed.
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// let mut conn = mux.dedicated().await?;
    /// let job: Option<(String, String)> = conn.blpop(["jobs"], Duration::from_secs(5)).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Kind `PoolExhausted` when none is free in time (or `maxDedicated=0`),
    /// `Connect`/`Auth` if a new connection cannot be made, `Closed` after
    /// [`close`](Multiplexer::close).
    pub async fn dedicated(&self) -> Result<Dedicated> {
        self.inner.dedicated.lease().await
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Current counters: totals over every connection this multiplexer owns.
    pub fn stats(&self) -> Stats {
        self.inner.router.stats()
    }

    /// Whether this multiplexer talks to a Redis Cluster (the server
    /// answered `CLUSTER SHARDS` at connect), with the cluster layer's
    /// counters: redirects followed, topology refreshes, slots covered.
    /// `None` for a standalone server.
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) {
    /// if let Some(cluster) = mux.cluster_stats() {
    ///     println!("{} primaries, {} MOVED followed", cluster.primaries, cluster.moved);
    /// }
    /// # }
    /// ```
    pub fn cluster_stats(&self) -> Option<crate::cluster::ClusterStats> {
        self.inner.router.cluster_stats()
    }

    /// The cluster primaries serving slots now; `None` on a standalone server.
    pub(crate) fn cluster_primaries(&self) -> Option<Vec<Endpoint>> {
        self.inner.router.cluster_primaries()
    }

    /// Current counters of each connection, by endpoint.
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) {
    /// for (endpoint, stats) in mux.stats_by_endpoint() {
    ///     println!("{endpoint}: {} in flight, connected: {}", stats.in_flight, stats.connected);
    /// }
    /// # }
    /// ```
    pub fn stats_by_endpoint(&self) -> Vec<(Endpoint, Stats)> {
        self.inner.router.stats_by_endpoint()
    }

    /// A stream of connection events (connecting, connected, failed,
    /// restored, stalled, protocol errors) of every connection, each naming
    /// its endpoint. The first listener also receives the events since the
    /// multiplexer started (up to 256); later ones see events from the
    /// moment they subscribe. The same events go to `tracing` (target
    /// `redmux`) whether or not anyone listens.
    pub fn events(&self) -> Events {
        self.inner.router.events()
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
        self.inner.dedicated.close();
        self.inner.pubsub.close().await;
        if let Some(shards) = &self.inner.shards {
            shards.close().await;
        }
        self.inner.router.close(grace).await
    }

    pub(crate) fn refuse_if_needed(&self, name: &str, args: &[&[u8]]) -> Result<(), Error> {
        crate::cmd::policy::check(name, args, self.inner.config.allow_admin)
    }
}

impl fmt::Debug for Multiplexer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multiplexer")
            .field("endpoint", &self.inner.router.endpoint())
            .field("config", &self.inner.config)
            .finish()
    }
}

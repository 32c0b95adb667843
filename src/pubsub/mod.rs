//! Pub/sub: [`Subscriber`] (from [`Multiplexer::subscriber`]) and the
//! [`Subscription`] streams it gives out.
//!
//! ```text
//!  mux.subscriber() ── subscribe(["news"]) ──Control──▶ subscriber task ──▶ its own connection
//!        Subscription (Stream<Item = Delivery>) ◀── Buffer ◀── messages ◀──┘
//! ```
//!
//! **One subscriber connection per multiplexer**, separate from the
//! command connection, under RESP2 and RESP3 alike. RESP3 would let both
//! share a socket (messages arrive as push frames), but a separate
//! connection keeps three things simple and safe: a burst of messages never
//! delays another caller's reply; a command connection that reconnects does
//! not take subscriptions with it (and the other way round); and the
//! subscribed state, which RESP2 requires to be exclusive, never touches
//! the connection everyone shares. It is opened on the first subscription
//! and shared by all of them; a channel wanted by two subscriptions is
//! subscribed on the server once.
//!
//! **Restored after every reconnect**: the task subscribes again to every
//! channel, pattern and shard channel that any live subscription wants, in
//! one write, and each subscription confirmed before the loss reads a
//! [`Gap::Reconnected`] before the first message after it: Redis does not
//! keep messages for absent subscribers.
//!
//! **Bounded per subscription**: each holds at most `subscriptionBuffer`
//! unread messages (default 1,024); a consumer that falls behind loses the
//! oldest ones, counted in a [`Gap::Dropped`] (`subscriptionOverflow=dropOldest`,
//! the default), or ends its subscription with an error
//! (`subscriptionOverflow=close`). The task never waits for a consumer, so
//! one slow consumer cannot stall the other subscriptions or any command.
//!
//! **Per-channel order** is kept: one connection, one task, one queue per
//! subscription.
//!
//! **On a Redis Cluster**, shard channels (SSUBSCRIBE) go to the primary
//! serving their slot instead, one subscriber connection per primary, and
//! follow the slot when it moves (`shards`).

mod buffer;
mod message;
mod shards;
mod task;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use tokio::sync::{mpsc, oneshot};

pub use message::{Delivery, Gap, KeyspaceEvent, Message};

use buffer::Buffer;
pub(crate) use shards::{ShardMap, Shards};
use task::{Control, HandedOff, Kind, Shared, Task};

use crate::config::{Config, Endpoint, Overflow};
use crate::error::{ConnectionState, Error, Result};
use crate::events::EventSink;

/// The subscriber of a multiplexer: subscribes to channels, patterns and
/// shard channels on the multiplexer's one subscriber connection. Cheap to
/// clone; every clone shares that connection.
///
/// ```no_run
/// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
/// use redmux::prelude::*;
/// use redmux::Delivery;
///
/// let mut news = mux.subscriber().subscribe(["news"]).await?;
/// mux.database(0).publish("news", "hello").await?;
/// while let Some(item) = news.recv().await {
///     match item {
///         Delivery::Message(msg) => println!("{}: {}", msg.channel_str(), msg.payload_str()),
///         Delivery::Gap(gap) => eprintln!("missed messages: {gap}"),
///         Delivery::Closed(e) => { eprintln!("{e}"); break }
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Subscriber {
    core: Arc<Core>,
    /// On a cluster: shard channels go to their slot's primary.
    shards: Option<Arc<Shards>>,
    capacity: usize,
    overflow: Overflow,
}

/// Shared by every clone: the task's channel, started on first use.
pub(crate) struct Core {
    tx: mpsc::UnboundedSender<Control>,
    /// The task, until the first subscription starts it.
    idle: Mutex<Option<Task>>,
    shared: Arc<Shared>,
    config: Arc<Config>,
    endpoint: Endpoint,
    next_id: AtomicU64,
}

impl Core {
    pub(crate) fn new(config: Arc<Config>, endpoint: Endpoint, events: Arc<EventSink>) -> Core {
        Core::with_task(config, endpoint, events, None)
    }

    /// The same core, its connection dialing wherever `locate` says before
    /// each connect (the multiplexer's subscriber follows a failover).
    pub(crate) fn locating(self, locate: crate::connection::Locate) -> Core {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = idle.take() {
            *idle = Some(task.locating(locate));
        }
        drop(idle);
        self
    }

    /// The server its connection dials now.
    fn endpoint(&self) -> Endpoint {
        let moved = self
            .shared
            .endpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        moved.clone().unwrap_or_else(|| self.endpoint.clone())
    }

    /// A core for a cluster primary's shard channels: those whose slot
    /// moves are handed to `hand_off`.
    fn handing_off(
        config: Arc<Config>,
        endpoint: Endpoint,
        events: Arc<EventSink>,
        hand_off: mpsc::UnboundedSender<HandedOff>,
    ) -> Core {
        Core::with_task(config, endpoint, events, Some(hand_off))
    }

    fn with_task(
        config: Arc<Config>,
        endpoint: Endpoint,
        events: Arc<EventSink>,
        hand_off: Option<mpsc::UnboundedSender<HandedOff>>,
    ) -> Core {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let mut task = Task::new(rx, config.clone(), endpoint.clone(), events, shared.clone());
        if let Some(sink) = hand_off {
            task = task.handing_off(sink);
        }
        Core {
            tx,
            idle: Mutex::new(Some(task)),
            shared,
            config,
            endpoint,
            next_id: AtomicU64::new(1),
        }
    }

    /// Starts the task if it has not started (needs a tokio runtime, which
    /// every async caller has).
    fn start(&self) {
        let task = self.idle.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            tokio::spawn(task.run());
        }
    }

    /// Ends every subscription (`mux.close()`); waits for the task.
    pub(crate) async fn close(&self) {
        let never_started = self
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .is_some();
        if never_started {
            return;
        }
        let (done, wait) = oneshot::channel();
        if self.tx.send(Control::Close { done }).is_ok() {
            let _ = wait.await;
        }
    }
}

impl Subscriber {
    pub(crate) fn new(core: Arc<Core>) -> Subscriber {
        let (capacity, overflow) = (
            core.config.subscription_buffer,
            core.config.subscription_overflow,
        );
        Subscriber {
            core,
            shards: None,
            capacity,
            overflow,
        }
    }

    /// The same subscriber, sending shard channels to their cluster slot's
    /// primary.
    pub(crate) fn with_shards(mut self, shards: Option<Arc<Shards>>) -> Subscriber {
        self.shards = shards;
        self
    }

    /// A handle whose new subscriptions hold up to `capacity` unread
    /// messages and apply `overflow` past that, instead of the
    /// configuration's `subscriptionBuffer` and `subscriptionOverflow`.
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
    /// use redmux::Overflow;
    /// let audit = mux.subscriber().with_buffer(100_000, Overflow::Close);
    /// let log = audit.subscribe(["audit"]).await?;
    /// # Ok(()) }
    /// ```
    pub fn with_buffer(&self, capacity: usize, overflow: Overflow) -> Subscriber {
        Subscriber {
            core: self.core.clone(),
            shards: self.shards.clone(),
            capacity: capacity.max(1),
            overflow,
        }
    }

    /// [SUBSCRIBE](https://redis.io/commands/subscribe/) to `channels`
    /// (each with `channelPrefix` in front, if configured); returns once the
    /// server confirmed every one.
    ///
    /// # Errors
    /// Kind `Timeout` if the confirmation does not come within the command
    /// timeout (the subscriber connection is down; the subscription is
    /// dropped), `Server` if the server refused (e.g. ACL), `Closed` after
    /// `mux.close()`, `Refused` for an empty list.
    ///
    /// # Cancel safety
    /// Dropping the future before it completes leaves nothing subscribed.
    pub async fn subscribe<C: AsRef<[u8]>>(
        &self,
        channels: impl IntoIterator<Item = C>,
    ) -> Result<Subscription> {
        self.open(Kind::Channel, channels, true).await
    }

    /// [PSUBSCRIBE](https://redis.io/commands/psubscribe/) to glob
    /// `patterns` (`news.*`); each message says which pattern matched.
    /// `channelPrefix` is put before each pattern. Errors as
    /// [`subscribe`](Self::subscribe).
    pub async fn psubscribe<C: AsRef<[u8]>>(
        &self,
        patterns: impl IntoIterator<Item = C>,
    ) -> Result<Subscription> {
        self.open(Kind::Pattern, patterns, true).await
    }

    /// [SSUBSCRIBE](https://redis.io/commands/ssubscribe/) to shard
    /// channels (Redis 7.0+; published with `SPUBLISH`). Errors as
    /// [`subscribe`](Self::subscribe).
    ///
    /// On a Redis Cluster each channel is subscribed on the primary
    /// serving its slot (one subscriber connection per primary, shared by
    /// every subscription), and follows the slot when it moves (a
    /// resharding, a failover): the subscription then reads a
    /// [`Gap::Resubscribed`] and goes on. A channel whose slot has no
    /// known owner yet is refused (kind `Refused`).
    pub async fn ssubscribe<C: AsRef<[u8]>>(
        &self,
        channels: impl IntoIterator<Item = C>,
    ) -> Result<Subscription> {
        self.open(Kind::Shard, channels, true).await
    }

    /// Keyspace notifications for keys matching `key_pattern` in database
    /// `db`: a pattern subscription to `__keyspace@<db>__:<key_pattern>`
    /// (no `channelPrefix`: these are the server's channels). Read each
    /// message's [`Message::keyspace_event`]. The server sends them only
    /// once `notify-keyspace-events` enables them (e.g. `KEA`).
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
    /// use redmux::Delivery;
    /// let mut carts = mux.subscriber().keyspace(0, "cart:*").await?;
    /// if let Some(Delivery::Message(msg)) = carts.recv().await {
    ///     if let Some(event) = msg.keyspace_event() {
    ///         println!("{:?} {}", event.key, event.event); // "cart:7" "expired"
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn keyspace(&self, db: u32, key_pattern: impl AsRef<[u8]>) -> Result<Subscription> {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key_pattern.as_ref());
        self.open(Kind::Pattern, [channel], false).await
    }

    /// Keyevent notifications for events matching `event_pattern` (`expired`,
    /// `del`, `*`) in database `db`: a pattern subscription to
    /// `__keyevent@<db>__:<event_pattern>`; each message's payload is the
    /// key. As [`keyspace`](Self::keyspace), needs `notify-keyspace-events`.
    pub async fn keyevent(&self, db: u32, event_pattern: &str) -> Result<Subscription> {
        let channel = format!("__keyevent@{db}__:{event_pattern}");
        self.open(Kind::Pattern, [channel], false).await
    }

    /// The subscriber connection's counters.
    /// On a cluster, the shard channels' connections (one per primary)
    /// are counted in too; `connected` is the first connection's.
    pub fn stats(&self) -> SubscriberStats {
        let mut stats = SubscriberStats::of(&self.core.shared);
        if let Some(shards) = &self.shards {
            for core in shards.cores() {
                let more = SubscriberStats::of(&core.shared);
                stats.subscriptions += more.subscriptions;
                stats.subscribed_names += more.subscribed_names;
                stats.messages_received += more.messages_received;
                stats.messages_dropped += more.messages_dropped;
                stats.reconnects += more.reconnects;
                stats.disconnects += more.disconnects;
            }
            stats.shard_moves = shards.moves.load(Relaxed);
        }
        stats
    }

    async fn open<C: AsRef<[u8]>>(
        &self,
        kind: Kind,
        names: impl IntoIterator<Item = C>,
        prefixed: bool,
    ) -> Result<Subscription> {
        let command = match kind {
            Kind::Channel => "SUBSCRIBE",
            Kind::Pattern => "PSUBSCRIBE",
            Kind::Shard => "SSUBSCRIBE",
        };
        let prefix = match (&self.core.config.channel_prefix, prefixed) {
            (Some(p), true) => p.as_bytes(),
            _ => &[],
        };
        // Before a pattern, the prefix's own glob characters are escaped so
        // that it matches only itself (as key prefixes do in KEYS/SCAN).
        let sent_prefix = match kind {
            Kind::Pattern => crate::prefix::escape_glob(prefix),
            _ => prefix.to_vec(),
        };
        let mut wire: Vec<Bytes> = Vec::new();
        for name in names {
            let mut full = sent_prefix.clone();
            full.extend_from_slice(name.as_ref());
            let full = Bytes::from(full);
            if !wire.contains(&full) {
                wire.push(full);
            }
        }
        if wire.is_empty() {
            return Err(Error::refused(format!(
                "{command} needs at least one name; pass e.g. [\"news\"]"
            )));
        }
        if self.core.shared.closed.load(Relaxed) {
            return Err(Error::closed(command));
        }
        // Unique across every core of this multiplexer: a shard
        // subscription keeps its id on each node its channels are on.
        let id = self.core.next_id.fetch_add(1, Relaxed);
        let buffer = Arc::new(Buffer::new(self.capacity, self.overflow));
        let names: Vec<String> = wire
            .iter()
            .map(|n| String::from_utf8_lossy(n.get(sent_prefix.len()..).unwrap_or(n)).into_owned())
            .collect();
        let (parts, targets) = match (&self.shards, kind) {
            (Some(shards), Kind::Shard) => (shards.by_node(wire)?, Targets::Shards(shards.clone())),
            _ => {
                self.core.start();
                let one = Targets::One(self.core.tx.clone());
                (vec![(self.core.clone(), wire)], one)
            }
        };
        let mut confirmations = Vec::with_capacity(parts.len());
        for (core, names) in parts {
            let (done, confirmed) = oneshot::channel();
            core.tx
                .send(Control::Subscribe {
                    id,
                    kind,
                    names,
                    prefix_len: prefix.len(),
                    sent_prefix_len: sent_prefix.len(),
                    buffer: buffer.clone(),
                    done,
                    gap: None,
                })
                .map_err(|_| Error::closed(command))?;
            confirmations.push(confirmed);
        }
        // From here on, dropping the subscription unsubscribes (also if
        // this future is dropped or times out).
        let subscription = Subscription {
            id,
            buffer,
            targets,
            names,
            timeout: self.core.config.command_timeout(),
            left: false,
        };
        let timeout = self.core.config.command_timeout();
        let started = tokio::time::Instant::now();
        let every = async {
            for confirmed in confirmations {
                match confirmed.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Err(Error::closed(command)),
                }
            }
            Ok(())
        };
        match tokio::time::timeout(timeout, every).await {
            Ok(Ok(())) => Ok(subscription),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::timeout(
                command,
                started.elapsed(),
                timeout,
                false,
                self.state(),
            )),
        }
    }

    /// What a timeout error says about the subscriber connection.
    fn state(&self) -> ConnectionState {
        ConnectionState::of_single(
            format!("{} (subscriber)", self.core.endpoint()),
            self.core.config.client_name.clone(),
            self.core.shared.connected.load(Relaxed),
            0,
        )
    }
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("endpoint", &self.core.endpoint())
            .field("capacity", &self.capacity)
            .field("overflow", &self.overflow)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Counters of the subscriber connection ([`Subscriber::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriberStats {
    /// Whether the subscriber connection is up.
    pub connected: bool,
    /// Live subscriptions.
    pub subscriptions: u64,
    /// Channels, patterns and shard channels subscribed on the server (a
    /// name two subscriptions want counts once).
    pub subscribed_names: u64,
    /// Messages received from the server.
    pub messages_received: u64,
    /// Messages dropped because a subscription's buffer was full.
    pub messages_dropped: u64,
    /// Times the subscriber connection was made again after a loss.
    pub reconnects: u64,
    /// Times the subscriber connection was lost.
    pub disconnects: u64,
    /// Shard channels moved to another cluster primary with their slot.
    pub shard_moves: u64,
}

impl SubscriberStats {
    fn of(s: &Shared) -> SubscriberStats {
        SubscriberStats {
            connected: s.connected.load(Relaxed),
            subscriptions: s.subscriptions.load(Relaxed),
            subscribed_names: s.names.load(Relaxed),
            messages_received: s.messages.load(Relaxed),
            messages_dropped: s.dropped.load(Relaxed),
            reconnects: s.reconnects.load(Relaxed),
            disconnects: s.disconnects.load(Relaxed),
            shard_moves: 0,
        }
    }
}

/// One subscription's messages, in order: a
/// [`Stream`](futures_core::Stream) of [`Delivery`] items (messages, gaps,
/// and a final `Closed` if it ends with an error).
///
/// Dropping it unsubscribes (from the channels no other subscription
/// wants); [`unsubscribe`](Self::unsubscribe) does the same and waits for
/// the server's confirmation.
pub struct Subscription {
    id: u64,
    buffer: Arc<Buffer>,
    targets: Targets,
    names: Vec<String>,
    timeout: Duration,
    /// Already unsubscribed (`unsubscribe` ran).
    left: bool,
}

/// Where a subscription's channels are subscribed.
enum Targets {
    /// The multiplexer's subscriber connection.
    One(mpsc::UnboundedSender<Control>),
    /// Shard channels on a cluster: on any primary's subscriber connection.
    Shards(Arc<Shards>),
}

impl Targets {
    /// Asks every connection the subscription may be on to drop it; the
    /// confirmations to wait for, if `confirm`.
    fn unsubscribe(&self, id: u64, confirm: bool) -> Vec<oneshot::Receiver<()>> {
        let mut waits = Vec::new();
        let mut control = || {
            let done = confirm.then(|| {
                let (done, wait) = oneshot::channel();
                waits.push(wait);
                done
            });
            Control::Unsubscribe { id, done }
        };
        match self {
            Targets::One(tx) => {
                let _ = tx.send(control());
            }
            Targets::Shards(shards) => shards.to_every_core(control),
        }
        waits
    }
}

impl Subscription {
    /// The next item; `None` once the subscription has ended and its
    /// final item was read.
    ///
    /// # Cancel safety
    /// Cancel safe: an item is either returned or stays for the next call.
    pub async fn recv(&mut self) -> Option<Delivery> {
        std::future::poll_fn(|cx| self.buffer.poll_next(cx)).await
    }

    /// The next message, skipping gaps; `None` once the subscription ended.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`recv`](Self::recv).
    pub async fn next_message(&mut self) -> Option<Message> {
        loop {
            match self.recv().await? {
                Delivery::Message(m) => return Some(m),
                Delivery::Gap(_) => continue,
                _ => return None,
            }
        }
    }

    /// The names subscribed (channels or patterns, without `channelPrefix`).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Messages waiting to be read.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Drops the items waiting to be read (a consumer that only needs to
    /// know "something happened", like a work-queue nudge); how many. The
    /// subscription's end, if it came, is still read afterwards.
    pub fn discard_buffered(&mut self) -> usize {
        self.buffer.clear()
    }

    /// Whether the subscription has ended (closed, or fell behind with
    /// `subscriptionOverflow=close`); buffered items can still be read.
    pub fn is_ended(&self) -> bool {
        self.buffer.is_ended()
    }

    /// Calls `handler` with every message on a task of its own, until the
    /// subscription ends; gaps are logged to `tracing` (target `redmux`).
    /// The task's result is the error that ended the subscription, if any.
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
    /// let sub = mux.subscriber().subscribe(["invalidate"]).await?;
    /// let task = sub.on_message(|msg| println!("drop {}", msg.payload_str()));
    /// # let _ = task;
    /// # Ok(()) }
    /// ```
    pub fn on_message<F>(mut self, mut handler: F) -> tokio::task::JoinHandle<Option<Error>>
    where
        F: FnMut(Message) + Send + 'static,
    {
        tokio::spawn(async move {
            while let Some(item) = self.recv().await {
                match item {
                    Delivery::Message(m) => handler(m),
                    Delivery::Gap(gap) => {
                        tracing::warn!(target: "redmux", channels = ?self.names, %gap, "subscription gap")
                    }
                    Delivery::Closed(e) => return Some(e),
                }
            }
            None
        })
    }

    /// Unsubscribes and waits (up to the command timeout) for the server to
    /// confirm; messages already buffered are discarded.
    ///
    /// # Errors
    /// None today: an unconfirmed unsubscription still stops delivery.
    pub async fn unsubscribe(mut self) -> Result<()> {
        self.left = true;
        self.buffer.end(Error::closed("UNSUBSCRIBE"));
        let waits = self.targets.unsubscribe(self.id, true);
        let _ = tokio::time::timeout(self.timeout, async {
            for wait in waits {
                let _ = wait.await;
            }
        })
        .await;
        Ok(())
    }
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.buffer.poll_next(cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if !self.left {
            // Ended first: a shard channel on its way to another node is
            // then not subscribed there for nobody.
            self.buffer.end(Error::closed("UNSUBSCRIBE"));
            self.targets.unsubscribe(self.id, false);
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("names", &self.names)
            .field("buffered", &self.buffer.len())
            .field("ended", &self.buffer.is_ended())
            .finish()
    }
}

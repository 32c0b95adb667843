//! Shard channels on a Redis Cluster: SSUBSCRIBE goes to the primary
//! serving the channel's slot, over one subscriber connection per primary,
//! and a shard channel follows its slot when it moves.
//!
//! ```text
//!  ssubscribe(["{a}x", "{b}y"]) ─ by slot owner ─▶ Core of node A ─ SSUBSCRIBE {a}x
//!                                              └▶ Core of node B ─ SSUBSCRIBE {b}y
//!        one Subscription (one id, one Buffer) ◀── messages of both ──┘
//!
//!  slot of {a}x moves to C:  server SUNSUBSCRIBE, or the slot map changes
//!        Core A hands {a}x off ──▶ mover: Gap::Resubscribed, SSUBSCRIBE {a}x on C
//! ```
//!
//! The subscription keeps its id on every node, so one `Unsubscribe` sent
//! to every core ends it wherever its channels are. A channel handed off
//! waits (polling the slot map and asking for topology reads) until a node
//! other than the one it left serves its slot, for at most the command
//! timeout; then the subscription ends with an error naming the channel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use super::message::Gap;
use super::task::{Control, HandedOff, Kind};
use super::Core;
use crate::config::{Config, Endpoint};
use crate::error::{Error, Result};
use crate::events::EventSink;

/// What the shard subscriber needs of the cluster router.
pub(crate) trait ShardMap: Send + Sync {
    /// The primary serving the slot of shard channel `channel` now.
    fn owner(&self, channel: &[u8]) -> Option<Endpoint>;
    /// Asks for a topology read (a channel's slot moved, the map may lag).
    fn refresh(&self);
    /// Ticks whenever a slot's primary changes in the map.
    fn changes(&self) -> watch::Receiver<u64>;
    /// Whether `node` is a primary in the map now.
    fn is_primary(&self, node: &Endpoint) -> bool;
}

/// How long after a slot map change a subscriber connection to a node
/// that is no longer a primary, and holds nothing, is closed (its shard
/// channels are handed off in the meantime).
const RETIRE_AFTER: Duration = Duration::from_secs(1);

/// How often a handed-off channel looks for its slot's new owner.
const LOOK_AGAIN: Duration = Duration::from_millis(100);

/// The per-primary subscriber cores of one multiplexer.
pub(crate) struct Shards {
    map: Arc<dyn ShardMap>,
    config: Arc<Config>,
    events: Arc<EventSink>,
    cores: Mutex<HashMap<Endpoint, Arc<Core>>>,
    hand_off: mpsc::UnboundedSender<HandedOff>,
    /// The mover task, until the first core starts it.
    idle: Mutex<Option<mpsc::UnboundedReceiver<HandedOff>>>,
    /// Shard channels moved to another node (`SubscriberStats::shard_moves`).
    pub(crate) moves: AtomicU64,
    closed: AtomicBool,
}

impl Shards {
    pub(crate) fn new(
        map: Arc<dyn ShardMap>,
        config: Arc<Config>,
        events: Arc<EventSink>,
    ) -> Arc<Shards> {
        let (hand_off, handed) = mpsc::unbounded_channel();
        Arc::new(Shards {
            map,
            config,
            events,
            cores: Mutex::new(HashMap::new()),
            hand_off,
            idle: Mutex::new(Some(handed)),
            moves: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// The subscriber core of primary `node`, made (and its task started)
    /// on first use.
    fn core(self: &Arc<Self>, node: &Endpoint) -> Arc<Core> {
        self.start_mover();
        let mut cores = lock(&self.cores);
        let core = cores
            .entry(node.clone())
            .or_insert_with(|| {
                Arc::new(Core::handing_off(
                    self.config.clone(),
                    node.clone(),
                    self.events.clone(),
                    self.hand_off.clone(),
                ))
            })
            .clone();
        core.start();
        core
    }

    /// Every core made so far.
    pub(crate) fn cores(&self) -> Vec<Arc<Core>> {
        lock(&self.cores).values().cloned().collect()
    }

    /// Groups shard channels by the primary serving their slot; an error
    /// naming the first channel whose slot has no known owner.
    pub(crate) fn by_node(
        self: &Arc<Self>,
        names: Vec<Bytes>,
    ) -> Result<Vec<(Arc<Core>, Vec<Bytes>)>> {
        if self.closed.load(Relaxed) {
            return Err(Error::closed("SSUBSCRIBE"));
        }
        let mut groups: Vec<(Endpoint, Vec<Bytes>)> = Vec::new();
        for name in names {
            let Some(node) = self.map.owner(&name) else {
                self.map.refresh();
                return Err(Error::refused(format!(
                    "SSUBSCRIBE {}: no cluster node is known to serve the channel's slot yet; \
                     retry once the cluster has an owner for it",
                    String::from_utf8_lossy(&name)
                )));
            };
            match groups.iter_mut().find(|(n, _)| *n == node) {
                Some((_, group)) => group.push(name),
                None => groups.push((node, vec![name])),
            }
        }
        Ok(groups
            .into_iter()
            .map(|(node, names)| (self.core(&node), names))
            .collect())
    }

    /// Sends `control(core)` to every core (an unsubscription: the
    /// subscription's channels may be on any of them).
    pub(crate) fn to_every_core(&self, mut control: impl FnMut() -> Control) {
        for core in self.cores() {
            let _ = core.tx.send(control());
        }
    }

    /// Starts the task that moves handed-off channels and tells the cores
    /// when the slot map changes.
    fn start_mover(self: &Arc<Self>) {
        let Some(mut handed) = lock(&self.idle).take() else {
            return;
        };
        let weak = Arc::downgrade(self);
        let mut changes = self.map.changes();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    moved = handed.recv() => {
                        let Some(moved) = moved else { return };
                        let Some(shards) = weak.upgrade() else { return };
                        tokio::spawn(shards.rehome(moved));
                    }
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let Some(shards) = weak.upgrade() else { return };
                        shards.evict_moved();
                    }
                }
            }
        });
    }

    /// Asks every core to hand off the channels whose slot another node
    /// serves now (a failover: the old node cannot say so itself).
    fn evict_moved(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(RETIRE_AFTER).await;
            if let Some(shards) = weak.upgrade() {
                shards.retire_idle().await;
            }
        });
        for (node, core) in lock(&self.cores).iter() {
            let map = self.map.clone();
            let node = node.clone();
            let moved_away =
                Arc::new(move |name: &[u8]| map.owner(name).is_some_and(|owner| owner != node));
            let _ = core.tx.send(Control::Evict { moved_away });
        }
    }

    /// Subscribes a handed-off channel on the node serving its slot now,
    /// trying again (after a topology read) while the node it finds still
    /// redirects (the map can lag behind the move), until the command
    /// timeout; then the subscription ends with an error naming the channel.
    async fn rehome(self: Arc<Self>, moved: HandedOff) {
        let HandedOff {
            id,
            name,
            prefix_len,
            sent_prefix_len,
            buffer,
            from,
            caller,
        } = moved;
        let channel = String::from_utf8_lossy(name.get(prefix_len..).unwrap_or(&name)).into_owned();
        let give_up = tokio::time::Instant::now() + self.config.command_timeout();
        let mut last_error: Option<Error> = None;
        let outcome: Result<()> = loop {
            if buffer.is_ended() {
                return; // the subscription was dropped meanwhile
            }
            if self.closed.load(Relaxed) {
                break Err(Error::closed("SSUBSCRIBE"));
            }
            if tokio::time::Instant::now() >= give_up {
                let why = last_error.take().map_or_else(
                    || "no other node was found serving it".to_owned(),
                    |e| format!("the node serving it refused the subscription ({e})"),
                );
                break Err(Error::connection_lost(
                    "SSUBSCRIBE",
                    &format!("{from} (subscriber)"),
                    &format!(
                        "the slot of shard channel {channel} moved and {why} within the \
                         command timeout; subscribe again"
                    ),
                    false,
                ));
            }
            let owner = match self.map.owner(&name) {
                Some(owner) if owner != from || last_error.is_some() => owner,
                _ => {
                    self.map.refresh();
                    tokio::time::sleep(LOOK_AGAIN).await;
                    continue;
                }
            };
            let (done, confirmed) = oneshot::channel();
            let sent = self.core(&owner).tx.send(Control::Subscribe {
                id,
                kind: Kind::Shard,
                names: vec![name.clone()],
                prefix_len,
                sent_prefix_len,
                buffer: buffer.clone(),
                done,
                gap: Some(Gap::Resubscribed {
                    channel: channel.clone(),
                    from: from.to_string(),
                    to: owner.to_string(),
                }),
            });
            if sent.is_err() {
                break Err(Error::closed("SSUBSCRIBE"));
            }
            let left = give_up.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, confirmed).await {
                Ok(Ok(Ok(()))) => {
                    self.moves.fetch_add(1, Relaxed);
                    break Ok(());
                }
                // MOVED: that node does not serve the slot yet (or any
                // more); look again.
                Ok(Ok(Err(e))) if e.server_code() == Some("MOVED") => {
                    last_error = Some(e);
                    self.map.refresh();
                    tokio::time::sleep(LOOK_AGAIN).await;
                }
                Ok(Ok(Err(e))) => break Err(e.with_command("SSUBSCRIBE")),
                Ok(Err(_)) => break Err(Error::closed("SSUBSCRIBE")),
                Err(_) => {
                    break Err(Error::connection_lost(
                        "SSUBSCRIBE",
                        &format!("{owner} (subscriber)"),
                        &format!(
                            "shard channel {channel} moved with its slot to this node and its \
                             subscription here was not confirmed within the command timeout; \
                             subscribe again"
                        ),
                        false,
                    ))
                }
            }
        };
        match (outcome, caller) {
            (Ok(()), Some(caller)) => {
                let _ = caller.send(Ok(()));
            }
            (Ok(()), None) => {}
            (Err(e), caller) => {
                tracing::warn!(target: "redmux", %channel, %e, "a shard channel could not follow its slot");
                match caller {
                    Some(caller) => {
                        let _ = caller.send(Err(e));
                    }
                    None => buffer.end(e),
                }
            }
        }
    }

    /// Closes the connections to nodes that are no longer primaries and
    /// hold no subscription (a failed-over node would otherwise be dialed
    /// for ever).
    async fn retire_idle(&self) {
        let retired: Vec<(Endpoint, Arc<Core>)> = {
            let mut cores = lock(&self.cores);
            let gone: Vec<Endpoint> = cores
                .iter()
                .filter(|(node, core)| {
                    !self.map.is_primary(node) && core.shared.subscriptions.load(Relaxed) == 0
                })
                .map(|(node, _)| node.clone())
                .collect();
            gone.into_iter()
                .filter_map(|node| cores.remove(&node).map(|core| (node, core)))
                .collect()
        };
        for (node, core) in retired {
            tracing::info!(target: "redmux", endpoint = %node, "shard subscriber connection to a former primary closed");
            core.close().await;
        }
    }

    /// Ends every core's subscriptions and task.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Relaxed);
        for core in self.cores() {
            core.close().await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

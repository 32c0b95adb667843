//! Keeping the slot map right: the topology read at connect (`detect`),
//! `MOVED` patches (`learn`), topology reads (`refresh`, coalesced; after a
//! `MOVED`, a failed node connection, while commands wait for a slot's
//! owner, and every `configCheckSeconds`), the events each change of a
//! slot range's primary gives, and the connections retired when a node is
//! no longer a primary.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{lock, parked, topology, Shard, SlotMap, State};
use crate::cmd::Cmd;
use crate::config::Endpoint;
use crate::connection::{ConnectionHandle, Role};
use crate::resp::Value;

impl State {
    /// A `MOVED` says `slot` is served by `node` now.
    pub(super) fn learn(self: &Arc<Self>, slot: u16, node: &Endpoint) {
        {
            // The owners' memory first, then the map: changes are reported
            // in the order they are made.
            let mut last = lock(&self.last_owner);
            let (old, new) = {
                let mut guard = self.map.write().unwrap_or_else(|e| e.into_inner());
                if guard.owner(slot) == Some(node) {
                    return; // another request's MOVED said so already
                }
                let mut next = SlotMap {
                    owner: guard.owner.clone(),
                    primaries: guard.primaries.clone(),
                    replicas: guard.replicas.clone(),
                };
                let index = next.index_of(node);
                if let Some(owner) = next.owner.get_mut(usize::from(slot)) {
                    *owner = Some(index);
                }
                let new = Arc::new(next);
                (std::mem::replace(&mut *guard, new.clone()), new)
            };
            self.report_changes(&mut last, &old, &new, "a MOVED redirect");
        }
        self.release_parked();
    }

    /// Puts a freshly read slot map in place.
    pub(super) fn install(self: &Arc<Self>, map: Arc<SlotMap>) {
        {
            let mut last = lock(&self.last_owner);
            let old = std::mem::replace(
                &mut *self.map.write().unwrap_or_else(|e| e.into_inner()),
                map.clone(),
            );
            self.report_changes(&mut last, &old, &map, "a topology read");
        }
        self.release_parked();
    }

    /// One `PrimaryChanged` event per (old primary, new primary) pair of
    /// the slots whose owner changed (a failover, a migrated slot, a
    /// slot assigned for the first time), and a tick for shard channels;
    /// `last` (the `last_owner` guard, held by the caller across the map
    /// swap) remembers each slot's owner.
    pub(super) fn report_changes(
        &self,
        last: &mut [Option<Endpoint>],
        old: &SlotMap,
        new: &SlotMap,
        why: &str,
    ) {
        let changes = topology::owner_changes(
            |slot| old.owner(slot).or(last[usize::from(slot)].as_ref()),
            |slot| new.owner(slot),
        );
        if changes.is_empty() {
            return;
        }
        for change in &changes {
            for &(start, end) in &change.slots {
                for slot in start..=end {
                    last[usize::from(slot)] = new.owner(slot).cloned();
                }
            }
        }
        self.changes.send_modify(|n| *n += 1);
        for change in changes {
            self.events
                .emit(crate::events::ConnectionEvent::PrimaryChanged {
                    from: change.from.clone().unwrap_or_else(|| "no node".to_owned()),
                    reason: format!("{change} (seen in {why})"),
                    endpoint: change.to,
                });
        }
    }

    /// Reads the topology again from a primary, unless a refresh is already
    /// running (concurrent ones coalesce).
    pub(super) fn refresh(self: Arc<Self>) {
        if self.refreshing.swap(true, Relaxed) {
            return;
        }
        tokio::spawn(async move {
            let mut again = false;
            if let Some(shards) = self.read_topology().await {
                let map = Arc::new(SlotMap::from_shards(&shards));
                self.install(map.clone());
                self.counters.refreshes.fetch_add(1, Relaxed);
                self.retire_all_but(&map);
                // A primary still unreachable: its replica may be about to
                // take over (after cluster-node-timeout); look again soon.
                again = map.primaries.iter().any(|p| !self.node(p).is_connected());
            }
            self.refreshing.store(false, Relaxed);
            let rechecks = if again {
                self.rechecks.fetch_add(1, Relaxed) + 1
            } else {
                self.rechecks.store(0, Relaxed);
                0
            };
            if again && rechecks <= MAX_RECHECKS && !self.closed.load(Relaxed) {
                // Not holding the state across the sleep: a multiplexer
                // dropped meanwhile is freed.
                let weak = Arc::downgrade(&self);
                drop(self);
                tokio::time::sleep(FAILOVER_RECHECK).await;
                if let Some(state) = weak.upgrade() {
                    state.refresh();
                }
            }
        });
    }

    /// Closes the connections to nodes that are no longer primaries (a
    /// failed-over or removed node): what waits in their backlogs comes
    /// back (`Unsent`) and is routed again with the new map.
    pub(super) fn retire_all_but(&self, map: &SlotMap) {
        let replicas: Vec<Endpoint> = map.replicas.iter().flatten().cloned().collect();
        let retired: Vec<Arc<ConnectionHandle>> = {
            let mut nodes = lock(&self.nodes);
            let gone: Vec<(Endpoint, Role)> = nodes
                .keys()
                .filter(|(e, role)| match role {
                    Role::Replica => !replicas.contains(e),
                    _ => !map.primaries.contains(e),
                })
                .cloned()
                .collect();
            gone.iter().filter_map(|e| nodes.remove(e)).collect()
        };
        for conn in retired {
            tracing::info!(target: "redmux", endpoint = %conn.endpoint(), "cluster node is no longer a primary; its connection is retired");
            // With a grace period, replies still coming (MOVED from a
            // demoted primary) are handed back rather than failed.
            let grace = self.config.command_timeout();
            tokio::spawn(async move { conn.close(grace).await });
        }
    }

    /// The topology from the first primary that answers (see [`detect`]),
    /// over its multiplexed connection.
    async fn read_topology(&self) -> Option<Vec<Shard>> {
        let mut candidates = self.map().primaries.clone();
        // Nodes whose connection is up first: a dead one would hold the
        // question in its backlog for the whole command timeout. The seeds
        // only when no primary answers (a connection to one that is not a
        // primary would be retired again at once).
        candidates.sort_by_key(|node| !self.node(node).is_connected());
        let seeds: Vec<Endpoint> = self
            .seeds
            .iter()
            .filter(|s| !candidates.contains(s))
            .cloned()
            .collect();
        candidates.extend(seeds);
        for node in candidates {
            let timeout = self.config.command_timeout();
            if let Some(shards) = detect(&self.node(&node), timeout).await {
                return Some(shards);
            }
        }
        None
    }
}

/// Whether the server behind `conn` is a cluster node, and if so the
/// topology it reports: `CLUSTER SHARDS`, or `CLUSTER SLOTS` on servers
/// older than 7.0. A server without cluster support (or a user without
/// the right to ask) answers with an error: `None`, standalone.
pub(crate) async fn detect(conn: &ConnectionHandle, timeout: Duration) -> Option<Vec<Shard>> {
    for sub in ["SHARDS", "SLOTS"] {
        match conn.ask(Cmd::new("CLUSTER").arg(sub), timeout).await {
            Ok(Value::Error(text)) => {
                let text = String::from_utf8_lossy(&text).to_ascii_lowercase();
                if text.contains("unknown subcommand") || text.contains("unknown command") {
                    continue;
                }
                return None;
            }
            Ok(value) => {
                let parsed = if sub == "SHARDS" {
                    topology::parse_shards(value)
                } else {
                    topology::parse_slots(value)
                };
                match parsed {
                    Ok(shards) if !shards.is_empty() => return Some(shards),
                    // A reply this client cannot read: try the older form.
                    _ if sub == "SHARDS" => continue,
                    _ => return None,
                }
            }
            Err(_) => return None,
        }
    }
    None
}

/// How soon the topology is read again while a primary is unreachable:
/// Redis promotes a replica after `cluster-node-timeout` (15 s by default,
/// often set to a few seconds), and until the map shows it, commands for
/// that primary's slots wait in its connection's backlog.
const FAILOVER_RECHECK: Duration = Duration::from_millis(500);

/// Re-checks in a row (one minute) before waiting for the next failure
/// event or `configCheckSeconds`: a primary the client cannot reach at all
/// must not cost a topology read twice a second for ever.
const MAX_RECHECKS: u64 = 120;

/// A node connection that fails starts a topology read: the node may have
/// failed over, and the map should follow without waiting for a `MOVED`.
pub(super) fn spawn_failure_watch(
    state: Weak<State>,
    mut events: tokio::sync::broadcast::Receiver<crate::events::ConnectionEvent>,
) {
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            };
            let Some(state) = state.upgrade() else { return };
            if state.closed.load(Relaxed) {
                return;
            }
            if matches!(event, crate::events::ConnectionEvent::Failed { .. }) {
                state.refresh();
            }
        }
    });
}

/// While requests wait for their slot's owner: reads the topology every
/// [`parked::OWNER_RECHECK`] and fails the ones whose time is up.
pub(super) fn spawn_owner_watch(state: Weak<State>, parked: Arc<parked::Parked>) {
    tokio::spawn(async move {
        let mut next: Option<tokio::time::Instant> = None;
        loop {
            let recheck = tokio::time::Instant::now() + parked::OWNER_RECHECK;
            let wake = next.map_or(recheck, |d| d.min(recheck));
            parked.wake_at(wake);
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                // A request whose deadline comes before `wake`.
                _ = parked.arrived.notified() => {}
            }
            let Some(state) = state.upgrade() else { return };
            if state.closed.load(Relaxed) {
                state.parked.fail_all();
            }
            let now = tokio::time::Instant::now();
            next = state
                .parked
                .expire(now, state.config.client_name.as_deref());
            if state.parked.stop_watch_if_empty() {
                return;
            }
            state.refresh();
        }
    });
}

/// Every `configCheckSeconds`, while the router lives.
pub(super) fn spawn_periodic_refresh(state: Weak<State>) {
    let every = match state.upgrade() {
        Some(s) => s.config.config_check,
        None => return,
    };
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await; // the first tick is immediate
        loop {
            tick.tick().await;
            match state.upgrade() {
                Some(s) if !s.closed.load(Relaxed) => s.refresh(),
                _ => return,
            }
        }
    });
}

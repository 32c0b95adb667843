//! Redis Cluster: the slot map, one multiplexed connection per node, and
//! the redirects that keep the map right.
//!
//! ```text
//!  Database ── Request ──▶ ClusterRouter::route: slot of the request's keys (CRC16, {tags})
//!                              │ slot map: slot → primary (from CLUSTER SHARDS / SLOTS)
//!                              ▼
//!                  node connection (lazily opened, one driver each, hand-back sink)
//!                              │ MOVED: the driver hands the request back ──▶ map updated,
//!                              │        refresh started, sent to the named node
//!                              │ ASK:   handed back ──▶ sent once to the named node with
//!                              ▼        ASKING written just before it
//!                           server
//! ```
//!
//! A request keeps its reply slot and its running deadline through every
//! redirect, so the caller never notices one; at most [`MAX_REDIRECTS`]
//! are followed, then the caller gets the last redirect as an error.
//! `CommandFlags::NO_REDIRECT` gives the caller the first redirect instead.
//! Topology is read at connect, after every `MOVED` (concurrent refreshes
//! coalesce into one), after a node connection fails, while commands wait
//! for a slot's owner, and every `configCheckSeconds` (`refresh`).
//!
//! MGET, MSET, DEL, UNLINK, EXISTS and TOUCH whose keys span slots are
//! split per slot and merged (`split`); any other command whose keys span
//! slots fails before anything is sent, as the server would.
//!
//! DBSIZE, KEYS, FLUSHALL, FLUSHDB and the script/function loads and
//! flushes go to every primary and are merged (`fanout`); a SCAN stream
//! sends each page to the primary it is walking (`Call::send_to_node`); other
//! keyless commands go to one primary. Reads with a
//! replica preference go to the slot's replicas over READONLY connections.
//!
//! Batches whose keys span slots go as one group per slot (`batch`).
//!
//! A command for a slot without a known owner waits in the router until a
//! topology read names one (`parked`); every change of a slot range's
//! primary is reported as a `PrimaryChanged` event.
//! Shard channels follow the same map: `shard_map` gives the subscriber
//! the owner of a channel's slot and a tick on every change.

mod batch;
mod fanout;
mod parked;
mod refresh;
mod slot;
mod split;
mod topology;

pub use slot::{key_slot, SLOTS};

pub(crate) use refresh::detect;
use refresh::{spawn_failure_watch, spawn_owner_watch, spawn_periodic_refresh};
pub(crate) use topology::Shard;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use crate::cmd::{CommandFlags, ReplicaPreference};
use crate::config::{Config, Endpoint};
use crate::connection::request::{
    command_end, HandBack, Redirect, Request, ReturnReason, Returned,
};
use crate::connection::{ConnectionHandle, Role};
use crate::error::{Error, Result};
use crate::events::EventSink;
use crate::stats::Stats;
use crate::table::KeySearch;

/// Redirects one request follows before its caller gets the last one as an
/// error: a slot moves once per resharding step, and an `ASK` is followed
/// by at most one `MOVED` when the migration completes, so more means the
/// cluster is changing faster than the map can follow.
pub const MAX_REDIRECTS: u8 = 5;

/// The slot map: which primary serves each slot, and its replicas.
struct SlotMap {
    /// Index into `primaries` for each slot; `None`: no known owner.
    owner: Vec<Option<u16>>,
    primaries: Vec<Endpoint>,
    /// The replicas of each primary (same index).
    replicas: Vec<Vec<Endpoint>>,
}

impl SlotMap {
    fn from_shards(shards: &[Shard]) -> SlotMap {
        let mut map = SlotMap {
            owner: vec![None; usize::from(SLOTS)],
            primaries: Vec::new(),
            replicas: Vec::new(),
        };
        for shard in shards {
            let index = map.index_of(&shard.primary);
            map.replicas[usize::from(index)] = shard.replicas.clone();
            for &(start, end) in &shard.ranges {
                for slot in start..=end.min(SLOTS - 1) {
                    map.owner[usize::from(slot)] = Some(index);
                }
            }
        }
        map
    }

    fn index_of(&mut self, node: &Endpoint) -> u16 {
        match self.primaries.iter().position(|p| p == node) {
            Some(i) => i as u16,
            None => {
                self.primaries.push(node.clone());
                self.replicas.push(Vec::new());
                (self.primaries.len() - 1) as u16
            }
        }
    }

    fn owner(&self, slot: u16) -> Option<&Endpoint> {
        let index = (*self.owner.get(usize::from(slot))?)?;
        self.primaries.get(usize::from(index))
    }

    /// The replicas of the primary serving `slot`.
    fn replicas_of(&self, slot: u16) -> &[Endpoint] {
        self.owner
            .get(usize::from(slot))
            .copied()
            .flatten()
            .and_then(|i| self.replicas.get(usize::from(i)))
            .map_or(&[], Vec::as_slice)
    }
}

/// What the cluster layer has done ([`Multiplexer::cluster_stats`](crate::Multiplexer::cluster_stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterStats {
    /// `MOVED` redirects followed (each also updates the slot map).
    pub moved: u64,
    /// `ASK` redirects followed (each with `ASKING` first).
    pub asked: u64,
    /// Topology reads after the first (after `MOVED`, or periodic).
    pub refreshes: u64,
    /// Primaries in the slot map.
    pub primaries: usize,
    /// Slots with a known owner (16,384 when the cluster is whole).
    pub slots_covered: usize,
    /// Commands that waited for their slot to have a known owner.
    pub waited_for_owner: u64,
}

/// Counters of the cluster layer.
#[derive(Default)]
struct Counters {
    /// Round robin over a slot's replicas.
    replica_turn: AtomicU64,
    moved: AtomicU64,
    asked: AtomicU64,
    refreshes: AtomicU64,
}

/// What the router and its hand-back sinks share.
struct State {
    config: Arc<Config>,
    events: Arc<EventSink>,
    seeds: Vec<Endpoint>,
    map: RwLock<Arc<SlotMap>>,
    /// Connections by node and role (a node can have both: a replica
    /// promoted to primary keeps its READONLY connection until retired).
    nodes: Mutex<HashMap<(Endpoint, Role), Arc<ConnectionHandle>>>,
    refreshing: AtomicBool,
    /// Re-checks in a row while a primary stays unreachable.
    rechecks: AtomicU64,
    closed: AtomicBool,
    counters: Counters,
    /// Requests for slots without a known owner.
    parked: Arc<parked::Parked>,
    /// The last primary known to serve each slot, kept while the slot has
    /// none (a failed primary before its replica takes over), so the
    /// event for the takeover names both.
    last_owner: Mutex<Vec<Option<Endpoint>>>,
    /// Ticks when a slot's primary changes (shard channels follow).
    changes: tokio::sync::watch::Sender<u64>,
    /// Where every node connection hands requests back (a weak link to
    /// this state).
    hand_back: Mutex<Option<HandBack>>,
}

/// Routes requests over the nodes of a Redis Cluster.
pub(crate) struct ClusterRouter {
    state: Arc<State>,
}

impl ClusterRouter {
    /// A router over the topology `shards` (read at connect by
    /// [`discover`]); node connections open as commands need them, and the
    /// topology is checked every `configCheckSeconds`.
    pub(crate) fn new(
        config: Arc<Config>,
        events: Arc<EventSink>,
        shards: &[Shard],
    ) -> ClusterRouter {
        let map = SlotMap::from_shards(shards);
        let last_owner = (0..SLOTS).map(|slot| map.owner(slot).cloned()).collect();
        let state = Arc::new(State {
            seeds: config.endpoints.clone(),
            config,
            events,
            map: RwLock::new(Arc::new(map)),
            nodes: Mutex::new(HashMap::new()),
            refreshing: AtomicBool::new(false),
            rechecks: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            counters: Counters::default(),
            parked: Arc::new(parked::Parked::default()),
            last_owner: Mutex::new(last_owner),
            changes: tokio::sync::watch::Sender::new(0),
            hand_back: Mutex::new(None),
        });
        let weak = Arc::downgrade(&state);
        let sink: HandBack = Arc::new(move |returned: Returned| match weak.upgrade() {
            Some(state) => state.on_returned(returned),
            None => returned.request.fail(Error::closed("?")),
        });
        *lock(&state.hand_back) = Some(sink);
        // Open every primary's connection now: the first commands do not
        // pay for the handshakes, and a dead node shows in events at once.
        let primaries = state.map().primaries.clone();
        for node in primaries {
            state.node(&node);
        }
        // Replicas' connections open with the first read that prefers one.
        spawn_periodic_refresh(Arc::downgrade(&state));
        spawn_failure_watch(Arc::downgrade(&state), state.events.listen());
        ClusterRouter { state }
    }

    /// Sends `req` to the primary serving its keys' slot (any primary for a
    /// keyless command).
    pub(crate) fn route(&self, flags: CommandFlags, req: Request) -> Result<()> {
        let follow = !flags.contains(CommandFlags::NO_REDIRECT);
        let slot = match request_slot(&req) {
            Ok(slot) => slot,
            // MGET, MSET, DEL, UNLINK, EXISTS, TOUCH: one part per slot.
            Err(cross_slot) => {
                let req = match split::Split::of(req) {
                    Ok(split) => return self.send_split(split, follow),
                    Err(req) => req,
                };
                // A batch: one group per slot.
                return match batch::BatchSplit::of(req)? {
                    Some(split) => self.send_batch(split, follow, flags.replica_preference()),
                    None => Err(cross_slot),
                };
            }
        };
        let req = if follow {
            req.handing_back_redirects()
        } else {
            req
        };
        // DBSIZE, KEYS, FLUSHALL, FLUSHDB: every primary, merged.
        let req = if slot.is_none() {
            match fanout::FanOut::of(req, &self.state.map().primaries) {
                Ok((fan, parts)) => {
                    for (node, part) in parts {
                        if let Err(e) = self.state.node(&node).send(part) {
                            tracing::debug!(target: "redmux", %e, "part of a fanned-out command refused");
                        }
                    }
                    tokio::spawn(fan.answer());
                    return Ok(());
                }
                Err(req) => req,
            }
        } else {
            req
        };
        match flags.replica_preference() {
            ReplicaPreference::PreferMaster | ReplicaPreference::DemandMaster => {
                self.state.send_to_slot(slot, req)
            }
            preference => self.state.send_to_replica(slot, req, preference),
        }
    }

    /// Sends each part of a split command; a task merges their replies.
    fn send_split(&self, mut split: split::Split, follow: bool) -> Result<()> {
        for (slot, part) in split.requests() {
            let part = if follow {
                part.handing_back_redirects()
            } else {
                part
            };
            // A part refused here (closed) answers its own slot with the
            // error, which the merge reports.
            if let Err(e) = self.state.send_to_slot(Some(slot), part) {
                tracing::debug!(target: "redmux", %e, "part of a split command refused");
            }
        }
        tokio::spawn(split.answer());
        Ok(())
    }

    /// Sends each slot's group of a split batch; a task puts the replies
    /// back in batch order.
    fn send_batch(
        &self,
        mut split: batch::BatchSplit,
        follow: bool,
        preference: ReplicaPreference,
    ) -> Result<()> {
        for (slot, part) in split.requests() {
            let part = if follow {
                part.handing_back_redirects()
            } else {
                part
            };
            let sent = match preference {
                ReplicaPreference::PreferMaster | ReplicaPreference::DemandMaster => {
                    self.state.send_to_slot(Some(slot), part)
                }
                preference => self.state.send_to_replica(Some(slot), part, preference),
            };
            if let Err(e) = sent {
                tracing::debug!(target: "redmux", %e, "part of a split batch refused");
            }
        }
        tokio::spawn(split.answer());
        Ok(())
    }

    /// Sends `req` to primary `node` as it is: a page of a cluster-wide
    /// SCAN, whose cursor only that node understands.
    pub(crate) fn send_to_node(&self, node: &Endpoint, req: Request) -> Result<()> {
        if self.state.closed.load(Relaxed) {
            return Err(Error::closed(&req.name()));
        }
        if !self.state.map().primaries.contains(node) {
            return Err(node_retired(&req.name(), node));
        }
        self.state.node(node).send(req)
    }

    /// A node for the subscriber and dedicated connections: the first
    /// primary whose connection is up (classic PUBLISH reaches every
    /// node), else the first primary, else the first seed.
    pub(crate) fn locator(&self) -> crate::connection::Locate {
        let state = Arc::downgrade(&self.state);
        let seed = self.state.seeds[0].clone();
        Arc::new(move || {
            let Some(state) = state.upgrade() else {
                return seed.clone();
            };
            let map = state.map();
            let up = map.primaries.iter().find(|p| {
                lock(&state.nodes)
                    .get(&((*p).clone(), Role::Multiplexed))
                    .is_some_and(|c| c.is_connected())
            });
            up.or(map.primaries.first()).unwrap_or(&seed).clone()
        })
    }

    /// What the subscriber needs to route shard channels.
    pub(crate) fn shard_map(&self) -> Arc<dyn crate::pubsub::ShardMap> {
        Arc::new(ShardView(Arc::downgrade(&self.state)))
    }

    /// The primaries in the slot map now.
    /// (A primary left without slots holds no keys and is left out.)
    pub(crate) fn primaries(&self) -> Vec<Endpoint> {
        let map = self.state.map();
        let mut serving = vec![false; map.primaries.len()];
        for index in map.owner.iter().flatten() {
            if let Some(s) = serving.get_mut(usize::from(*index)) {
                *s = true;
            }
        }
        map.primaries
            .iter()
            .zip(serving)
            .filter(|(_, serving)| *serving)
            .map(|(node, _)| node.clone())
            .collect()
    }

    pub(crate) fn stats_by_endpoint(&self) -> Vec<(Endpoint, Stats)> {
        let mut all: Vec<(Endpoint, Stats)> = lock(&self.state.nodes)
            .iter()
            .map(|((e, _), c)| (e.clone(), c.stats()))
            .collect();
        all.sort_by_key(|(endpoint, _)| endpoint.to_string());
        all
    }

    pub(crate) fn stats(&self) -> ClusterStats {
        let c = &self.state.counters;
        let map = self.state.map();
        ClusterStats {
            moved: c.moved.load(Relaxed),
            asked: c.asked.load(Relaxed),
            refreshes: c.refreshes.load(Relaxed),
            primaries: map.primaries.len(),
            slots_covered: map.owner.iter().filter(|o| o.is_some()).count(),
            waited_for_owner: self.state.parked.total(),
        }
    }

    /// The first seed (for messages and the subscriber connection).
    pub(crate) fn endpoint(&self) -> Endpoint {
        self.state.seeds[0].clone()
    }

    pub(crate) async fn close(&self, grace: Duration) {
        self.state.closed.store(true, Relaxed);
        self.state.parked.fail_all();
        let nodes: Vec<Arc<ConnectionHandle>> = lock(&self.state.nodes).values().cloned().collect();
        for node in nodes {
            node.close(grace).await;
        }
    }
}

impl State {
    fn map(&self) -> Arc<SlotMap> {
        self.map.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The connection to primary `node`, opened (in the background) on first use.
    fn node(&self, node: &Endpoint) -> Arc<ConnectionHandle> {
        self.connection(node, Role::Multiplexed)
    }

    /// The connection to `node` (a replica's sends READONLY first).
    fn connection(&self, node: &Endpoint, role: Role) -> Arc<ConnectionHandle> {
        let mut nodes = lock(&self.nodes);
        if let Some(conn) = nodes.get(&(node.clone(), role)) {
            return conn.clone();
        }
        let conn = Arc::new(ConnectionHandle::open_lazy(
            node.clone(),
            role,
            self.config.clone(),
            self.events.clone(),
            lock(&self.hand_back).clone(),
        ));
        nodes.insert((node.clone(), role), conn.clone());
        conn
    }

    /// Sends `req` to the primary serving `slot` (a keyless one to the
    /// first primary); holds it while no node is known to serve the slot.
    fn send_to_slot(self: &Arc<Self>, slot: Option<u16>, req: Request) -> Result<()> {
        if self.closed.load(Relaxed) {
            return Err(Error::closed(&req.name()));
        }
        let map = self.map();
        let (node, req) = match slot {
            Some(slot) => match map.owner(slot) {
                Some(node) if self.parked.is_empty() => (node, req),
                owner => match self.park(slot, req, owner.is_some()) {
                    Some(req) => (owner.unwrap_or(&self.seeds[0]), req),
                    None => return Ok(()),
                },
            },
            None => match map.primaries.first() {
                Some(node) => (node, req),
                None => (&self.seeds[0], req),
            },
        };
        self.node(node).send(req)
    }

    /// Holds a request for a slot without a known owner (or behind others
    /// for its slot that wait), and reads the topology until one is known
    /// or the request times out; the request back if it need not wait.
    fn park(self: &Arc<Self>, slot: u16, req: Request, owner_known: bool) -> Option<Request> {
        if let Some(req) = self.parked.hold(slot, req, owner_known, &self.config) {
            return Some(req);
        }
        if !owner_known {
            self.clone().refresh();
        }
        if self.parked.start_watch() {
            spawn_owner_watch(Arc::downgrade(self), self.parked.clone());
        }
        None
    }

    /// Sends on the held requests whose slot has an owner now, in the
    /// order they came.
    fn release_parked(self: &Arc<Self>) {
        let map = self.map();
        self.parked.release(
            |slot| map.owner(slot),
            |node, req| {
                if let Err(e) = self.node(node).send(req) {
                    tracing::debug!(target: "redmux", %e, "request that waited for its slot's owner refused");
                }
            },
        );
    }

    /// A read for a replica of the slot's primary (round robin over its
    /// replicas whose connection is up); with `PreferReplica`, the primary
    /// when none is; with `DemandReplica`, an error. A write is refused:
    /// replicas do not take them.
    fn send_to_replica(
        self: &Arc<Self>,
        slot: Option<u16>,
        req: Request,
        preference: ReplicaPreference,
    ) -> Result<()> {
        let name = req.name();
        if crate::router::write_goes_to_primary(&name, preference)? {
            return self.send_to_slot(slot, req);
        }
        let map = self.map();
        let replicas = match slot {
            Some(slot) => map.replicas_of(slot).to_vec(),
            None => map.replicas.iter().flatten().cloned().collect(),
        };
        let turn = self.counters.replica_turn.fetch_add(1, Relaxed) as usize;
        let conns: Vec<Arc<ConnectionHandle>> = replicas
            .iter()
            .map(|r| self.connection(r, Role::Replica))
            .collect();
        match crate::router::pick_replica(&conns, turn, preference) {
            Some(conn) => conn.send(req),
            None if preference == ReplicaPreference::DemandReplica => {
                // The map may not know a replica added since it was read.
                self.clone().refresh();
                Err(Error::refused(format!(
                    "{name} with DEMAND_REPLICA: no replica of {} is connected{}; retry, or \
                     use PREFER_REPLICA to fall back to the primary",
                    slot.map_or("any primary".to_owned(), |s| format!("slot {s}")),
                    if replicas.is_empty() {
                        " (the slot's primary has none)"
                    } else {
                        ""
                    }
                )))
            }
            None => self.send_to_slot(slot, req),
        }
    }

    /// A request a node connection gave back: follow its redirect, or
    /// route it again.
    fn on_returned(self: Arc<Self>, returned: Returned) {
        let Returned {
            mut request,
            reason,
        } = returned;
        if self.closed.load(Relaxed) {
            let name = request.name();
            return request.fail(Error::closed(&name));
        }
        match reason {
            ReturnReason::Redirect(Redirect { ask, slot, address }) => {
                if request.redirects() >= MAX_REDIRECTS {
                    let name = request.name();
                    let kind = if ask { "ASK" } else { "MOVED" };
                    return request.fail(Error::server(
                        &name,
                        &format!(
                            "{kind} {slot} {address} (after {MAX_REDIRECTS} redirects; the \
                             cluster is resharding faster than the client can follow; retry later)"
                        )
                        .into(),
                    ));
                }
                if ask && request.count() > 1 {
                    // ASKING admits one command; a batch would run in part.
                    let name = request.name();
                    let text = format!(
                        "ASK {slot} {address} (a batch of {} commands reached a slot being \
                         migrated; nothing ran; send it again once the migration is done, or \
                         send the commands separately)",
                        request.count()
                    );
                    return request.fail(Error::server(&name, &text.into()));
                }
                request.count_redirect();
                let Some(node) = parse_address(&address) else {
                    let name = request.name();
                    let text = format!("{} {slot} {address}", if ask { "ASK" } else { "MOVED" });
                    return request.fail(Error::server(&name, &text.into()));
                };
                if ask {
                    self.counters.asked.fetch_add(1, Relaxed);
                } else {
                    self.counters.moved.fetch_add(1, Relaxed);
                    self.learn(slot, &node);
                    self.clone().refresh();
                }
                let conn = self.node(&node);
                let request = request.handing_back_redirects().asking(ask);
                if let Err(e) = conn.send(request) {
                    tracing::debug!(target: "redmux", %e, "redirected request refused");
                }
            }
            ReturnReason::Unsent if fanout::is_node_bound(&request) => {
                // A part meant for one primary (or a SCAN page, whose
                // cursor only that node understands): another would answer
                // for the wrong shard.
                let name = request.name();
                request.fail(node_retired(&name, &"a former primary"));
            }
            ReturnReason::Unsent => {
                let slot = request_slot(&request).ok().flatten();
                if let Err(e) = self.send_to_slot(slot, request) {
                    tracing::debug!(target: "redmux", %e, "re-routed request refused");
                }
            }
        }
    }
}

/// The slot map as the subscriber sees it (a weak link: subscriptions do
/// not keep a closed router alive).
struct ShardView(Weak<State>);

impl crate::pubsub::ShardMap for ShardView {
    fn owner(&self, channel: &[u8]) -> Option<Endpoint> {
        self.0.upgrade()?.map().owner(key_slot(channel)).cloned()
    }

    fn refresh(&self) {
        if let Some(state) = self.0.upgrade() {
            state.refresh();
        }
    }

    fn is_primary(&self, node: &Endpoint) -> bool {
        self.0
            .upgrade()
            .is_some_and(|state| state.map().primaries.contains(node))
    }

    fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        match self.0.upgrade() {
            Some(state) => state.changes.subscribe(),
            // Closed: a receiver whose sender is gone ends the watch.
            None => tokio::sync::watch::channel(0).1,
        }
    }
}

/// The slot of a request's keys: `None` when it has none; an error when
/// they span slots (the server would refuse with `CROSSSLOT`), or, for a
/// group, nodes.
fn request_slot(req: &Request) -> Result<Option<u16>> {
    if req.count() == 1 {
        return command_slot(&req.commands);
    }
    one_slot(&[&req.commands[..]])
}

/// The one slot of the keys of every command in `parts` (runs of encoded
/// commands); an error naming the first command that leaves it.
pub(crate) fn one_slot(parts: &[&[u8]]) -> Result<Option<u16>> {
    let mut found: Option<u16> = None;
    for bytes in parts {
        let mut start = 0;
        while start < bytes.len() {
            let rest = &bytes[start..];
            let end = start + command_end(rest, 0).unwrap_or(rest.len());
            let command = &bytes[start..end];
            start = end;
            match (found, command_slot(command)?) {
                (None, slot) => found = slot,
                (Some(first), Some(slot)) if first != slot => {
                    return Err(cross_slot(
                        &crate::connection::request::command_name(command),
                        first,
                        slot,
                    ))
                }
                _ => {}
            }
        }
    }
    Ok(found)
}

/// The slot of one encoded command's keys (`None`: keyless, or unknown to
/// the command table, so any node answers, with `MOVED` if need be).
fn command_slot(command: &[u8]) -> Result<Option<u16>> {
    // Arguments flagged "not a key" still route (SPUBLISH's shard channel).
    let search = KeySearch::new().include_not_keys(true);
    let Ok(keys) = search.in_encoded(command) else {
        return Ok(None);
    };
    let mut found: Option<u16> = None;
    for key in keys.bytes_in(command) {
        let slot = key_slot(key);
        match found {
            None => found = Some(slot),
            Some(first) if first != slot => {
                return Err(cross_slot(
                    &crate::connection::request::command_name(command),
                    first,
                    slot,
                ))
            }
            Some(_) => {}
        }
    }
    Ok(found)
}

/// A command meant for one primary (a SCAN page, a part of a command sent
/// to every primary) whose node stopped being a primary before it was sent.
fn node_retired(name: &str, node: &dyn std::fmt::Display) -> Error {
    let again = if name == "SCAN" {
        "start the scan again: a new scan walks the primaries there are now"
    } else {
        "send the command again"
    };
    Error::connection_lost(
        name,
        &node.to_string(),
        &format!(
            "the node stopped being a cluster primary (a failover or resharding) before {name}              was sent to it, and no other node can answer for it; nothing ran; {again}"
        ),
        false,
    )
}

fn cross_slot(name: &str, first: u16, other: u16) -> Error {
    Error::refused(format!(
        "CROSSSLOT: the keys of {name} hash to different cluster slots ({first} and {other}), \
         so no single node can serve them; give related keys the same {{hash tag}} (e.g. \
         {{user:1}}:cart and {{user:1}}:orders), or send them separately"
    ))
}

/// `host:port` as a server writes it in a redirect (an IPv6 host is not
/// bracketed: the port follows the last colon).
fn parse_address(address: &str) -> Option<Endpoint> {
    let (host, port) = address.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some(Endpoint::new(host, port.parse().ok()?))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Cmd;

    #[test]
    fn addresses_in_redirects_parse_including_ipv6() {
        assert_eq!(
            parse_address("127.0.0.1:7001"),
            Some(Endpoint::new("127.0.0.1", 7001))
        );
        assert_eq!(parse_address("::1:7001"), Some(Endpoint::new("::1", 7001)));
        assert_eq!(parse_address("nohost"), None);
    }

    #[test]
    fn a_group_s_slot_is_its_keys_slot_and_cross_slot_keys_are_refused() {
        let one = Cmd::new("GET").key("{u}a").into_bytes();
        let two = Cmd::new("SET").key("{u}b").arg("v").into_bytes();
        let group = Request::group(
            bytes::BytesMut::from(&[&one[..], &two[..]].concat()[..]),
            2,
            0,
            None,
            Duration::from_secs(1),
        );
        assert_eq!(request_slot(&group).unwrap(), Some(key_slot(b"u")));
        let keyless = Request::single(
            bytes::BytesMut::from(&Cmd::new("PING").into_bytes()[..]),
            0,
            None,
            Duration::from_secs(1),
        );
        assert_eq!(request_slot(&keyless).unwrap(), None);
        let cross = Request::single(
            bytes::BytesMut::from(&Cmd::new("MGET").key("a").key("b").into_bytes()[..]),
            0,
            None,
            Duration::from_secs(1),
        );
        let e = request_slot(&cross).unwrap_err();
        assert!(
            e.to_string().contains("CROSSSLOT") && e.to_string().contains("MGET"),
            "{e}"
        );
    }

    #[test]
    fn the_slot_map_covers_shard_ranges() {
        let shards = vec![
            Shard {
                ranges: vec![(0, 100)],
                primary: Endpoint::new("a", 1),
                replicas: vec![],
            },
            Shard {
                ranges: vec![(101, 16383)],
                primary: Endpoint::new("b", 2),
                replicas: vec![],
            },
        ];
        let map = SlotMap::from_shards(&shards);
        assert_eq!(map.owner(0), Some(&Endpoint::new("a", 1)));
        assert_eq!(map.owner(101), Some(&Endpoint::new("b", 2)));
        assert_eq!(map.owner(16383), Some(&Endpoint::new("b", 2)));
    }
}

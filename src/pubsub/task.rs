//! The subscriber's task: owns the one subscriber connection of a
//! multiplexer, keeps every subscription alive on it, and hands each
//! message to the buffers of the subscriptions that asked for it.
//!
//! ```text
//!  Subscriber / Subscription ──Control──▶ Task ── SUBSCRIBE … ──▶ server
//!                                          │ ◀── confirmations, messages, PONG
//!            Buffer (one per subscription) ◀┘ push: never waits
//! ```
//!
//! | state     | leaves when                                   | to        |
//! |-----------|-----------------------------------------------|-----------|
//! | connecting| handshake done / failed                       | up / back-off |
//! | up        | read/write error, EOF, protocol error, unanswered PING for `stallTimeout` | back-off |
//! | back-off  | retry delay elapsed                           | connecting |
//!
//! What the server has been asked to subscribe is derived from `routes`
//! (every name some subscription wants), so restoring after a reconnect is
//! one pass over it: every channel, pattern and shard channel comes back,
//! not just some (the bug SE.Redis had after two quick reconnects). Each
//! subscription that was confirmed before the loss then reads a
//! [`Gap::Reconnected`] before the first message after it.
//!
//! Confirmations are matched by kind and name, not by position: messages
//! interleave with them, and a server may unsubscribe a shard channel on
//! its own (slot moved). Error replies and PONGs answer the oldest request
//! waiting for one, as the server answers in order.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::buffer::{Buffer, Pushed};
use super::message::{Delivery, Gap, Message};
use crate::cmd::Cmd;
use crate::config::{Config, Endpoint};
use crate::connection::{jitter, open_connection, Established, Locate, Role, Stream};
use crate::error::{Error, Result};
use crate::events::{ConnectionEvent, EventSink};
use crate::resp::{Decoder, Value};

/// The three kinds of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `SUBSCRIBE channel`.
    Channel,
    /// `PSUBSCRIBE pattern`.
    Pattern,
    /// `SSUBSCRIBE shard-channel`.
    Shard,
}

impl Kind {
    fn subscribe(self) -> &'static str {
        match self {
            Kind::Channel => "SUBSCRIBE",
            Kind::Pattern => "PSUBSCRIBE",
            Kind::Shard => "SSUBSCRIBE",
        }
    }

    fn unsubscribe(self) -> &'static str {
        match self {
            Kind::Channel => "UNSUBSCRIBE",
            Kind::Pattern => "PUNSUBSCRIBE",
            Kind::Shard => "SUNSUBSCRIBE",
        }
    }

    /// The kind and direction of a confirmation frame's first element.
    fn of_confirmation(name: &[u8]) -> Option<(Kind, bool)> {
        Some(match name.to_ascii_lowercase().as_slice() {
            b"subscribe" => (Kind::Channel, true),
            b"psubscribe" => (Kind::Pattern, true),
            b"ssubscribe" => (Kind::Shard, true),
            b"unsubscribe" => (Kind::Channel, false),
            b"punsubscribe" => (Kind::Pattern, false),
            b"sunsubscribe" => (Kind::Shard, false),
            _ => return None,
        })
    }
}

/// What handles ask of the task.
pub(crate) enum Control {
    /// Start delivering `names` (already prefixed) to `buffer`; answer
    /// `done` once the server confirmed them.
    Subscribe {
        id: u64,
        kind: Kind,
        names: Vec<Bytes>,
        /// Bytes of `channelPrefix` to take off received channel names (0: none).
        prefix_len: usize,
        /// The same in `names` as sent (longer for a pattern: escaped).
        sent_prefix_len: usize,
        buffer: Arc<Buffer>,
        done: oneshot::Sender<Result<()>>,
        /// Pushed to the subscription once the server confirmed, before
        /// any message that follows (a shard channel that moved here).
        gap: Option<Gap>,
    },
    /// Stop delivering to subscription `id`; answer `done` (if any) once
    /// the server confirmed the names no other subscription wants.
    Unsubscribe {
        id: u64,
        done: Option<oneshot::Sender<()>>,
    },
    /// End every subscription and the task.
    Close { done: oneshot::Sender<()> },
    /// The cluster's slot map changed: hand off the shard channels for
    /// which `moved_away` says another node serves their slot now.
    Evict { moved_away: MovedAway },
}

/// Says whether a shard channel's slot is served by another node now.
pub(crate) type MovedAway = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// A shard channel this task no longer serves, handed to the layer above
/// (`shards`) to be subscribed on the node that serves its slot now, for
/// the same subscription (same id and buffer).
pub(crate) struct HandedOff {
    pub(crate) id: u64,
    pub(crate) name: Bytes,
    pub(crate) prefix_len: usize,
    pub(crate) sent_prefix_len: usize,
    pub(crate) buffer: Arc<Buffer>,
    /// The node it was subscribed on.
    pub(crate) from: Endpoint,
    /// The caller still waiting for this subscription to be confirmed
    /// (it was made while this node's connection was down): answered once
    /// the channel is subscribed where it went.
    pub(crate) caller: Option<oneshot::Sender<Result<()>>>,
}

/// Counters the handles read (see `SubscriberStats`).
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) connected: AtomicBool,
    pub(crate) closed: AtomicBool,
    pub(crate) reconnects: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) messages: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) subscriptions: AtomicU64,
    pub(crate) names: AtomicU64,
    /// The server the task dials now, when a locator moved it from the
    /// one it was made for.
    pub(crate) endpoint: std::sync::Mutex<Option<Endpoint>>,
}

struct Sub {
    kind: Kind,
    names: Vec<Bytes>,
    prefix_len: usize,
    sent_prefix_len: usize,
    buffer: Arc<Buffer>,
    /// The server confirmed it once: it gets a gap after a reconnect.
    confirmed: bool,
    /// The server confirmed it on the current connection.
    live: bool,
}

/// Who waits for a group to complete.
enum Waiter {
    Subscribed(Joining),
    Unsubscribed(oneshot::Sender<()>),
}

/// A subscription (or names added to one) waiting for confirmation.
struct Joining {
    id: u64,
    done: oneshot::Sender<Result<()>>,
    /// Names added to a subscription this task already had (a shard
    /// channel handed over from another node): if refused, only these are
    /// dropped.
    added: Option<Vec<Bytes>>,
    /// Pushed to the subscription once confirmed (see `Control::Subscribe`).
    gap: Option<Gap>,
}

/// One request of the task: one command, or one per shard channel, whose
/// waiters are answered when every command of it is.
struct Group {
    kind: Kind,
    subscribe: bool,
    /// Commands not yet fully answered.
    open: usize,
    /// The first error reply (command, text), if a command failed.
    failed: Option<(&'static str, Bytes)>,
    waiters: Vec<Waiter>,
    /// A resubscription after a reconnect: its kind's subscriptions are
    /// live again when it succeeds, and end when it fails.
    restore: bool,
}

/// What a pending request waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Awaits {
    /// Confirmations of this kind and direction (`true`: subscribe).
    Confirm(Kind, bool),
    Pong,
}

/// A command written and not fully answered.
struct Pending {
    awaits: Awaits,
    /// The names still to be confirmed, in the order the server confirms
    /// them (so matching is O(1) per confirmation, even when a restore
    /// sends thousands of names).
    remaining: VecDeque<Bytes>,
    command: &'static str,
    /// The group it belongs to (`None` for a keep-alive PING).
    group: Option<u64>,
    sent: Instant,
}

/// Why `serve` returned.
enum Exit {
    /// Closed, or every handle dropped: the task ends.
    Done,
    /// The connection broke; reconnect.
    Lost(String),
}

pub(crate) struct Task {
    rx: mpsc::UnboundedReceiver<Control>,
    config: Arc<Config>,
    endpoint: Endpoint,
    events: Arc<EventSink>,
    shared: Arc<Shared>,
    subs: HashMap<u64, Sub>,
    /// Every name some subscription wants, with who wants it.
    routes: HashMap<(Kind, Bytes), Vec<u64>>,
    pending: VecDeque<Pending>,
    groups: HashMap<u64, Group>,
    next_group: u64,
    /// Subscribe waiters that arrived while no connection was up.
    waiting: Vec<Waiter>,
    out: BytesMut,
    /// When the current outage began (after a first connection).
    lost_at: Option<Instant>,
    ever_connected: bool,
    /// In a cluster: where shard channels whose slot moved are handed off
    /// (without it, their subscriptions end with an error).
    hand_off: Option<mpsc::UnboundedSender<HandedOff>>,
    /// Where to connect, asked before each attempt (follows a failover);
    /// `None`: always `endpoint`.
    locate: Option<Locate>,
}

impl Task {
    pub(crate) fn new(
        rx: mpsc::UnboundedReceiver<Control>,
        config: Arc<Config>,
        endpoint: Endpoint,
        events: Arc<EventSink>,
        shared: Arc<Shared>,
    ) -> Task {
        Task {
            rx,
            config,
            endpoint,
            events,
            shared,
            subs: HashMap::new(),
            routes: HashMap::new(),
            pending: VecDeque::new(),
            groups: HashMap::new(),
            next_group: 0,
            waiting: Vec::new(),
            out: BytesMut::new(),
            lost_at: None,
            ever_connected: false,
            hand_off: None,
            locate: None,
        }
    }

    /// The same task, dialing wherever `locate` says before each connect.
    pub(crate) fn locating(mut self, locate: Locate) -> Task {
        self.locate = Some(locate);
        self
    }

    /// The same task, handing off shard channels whose slot moved to `sink`.
    pub(crate) fn handing_off(mut self, sink: mpsc::UnboundedSender<HandedOff>) -> Task {
        self.hand_off = Some(sink);
        self
    }

    fn label(&self) -> String {
        format!("{} (subscriber)", self.endpoint)
    }

    /// Connects, serves, reconnects with back-off, until closed.
    pub(crate) async fn run(mut self) {
        let mut attempt: u32 = 0;
        // A failure is reported once per outage, as for the command connection.
        let mut reported = false;
        loop {
            attempt = attempt.saturating_add(1);
            if let Some(locate) = &self.locate {
                let now = locate();
                if now != self.endpoint {
                    tracing::info!(target: "redmux", from = %self.endpoint, to = %now, "the subscriber connection follows the primary");
                    *self
                        .shared
                        .endpoint
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some(now.clone());
                    self.endpoint = now;
                }
            }
            self.events.emit(ConnectionEvent::Connecting {
                endpoint: self.label(),
                attempt,
            });
            let connect =
                open_connection(self.endpoint.clone(), self.config.clone(), Role::Subscriber);
            let Some(result) = self.while_handling_controls(connect).await else {
                return;
            };
            let reason = match result {
                Ok(established) => {
                    attempt = 0;
                    reported = false;
                    match self.serve(established).await {
                        Exit::Done => return,
                        Exit::Lost(reason) => {
                            self.on_lost();
                            reason
                        }
                    }
                }
                Err(e) => e.to_string(),
            };
            if !reported {
                reported = true;
                self.events.emit(ConnectionEvent::Failed {
                    endpoint: self.label(),
                    reason,
                });
            }
            let delay = self
                .config
                .retry_policy
                .delay(attempt.saturating_sub(1), jitter());
            if self
                .while_handling_controls(tokio::time::sleep(delay))
                .await
                .is_none()
            {
                return;
            }
        }
    }

    /// Runs `fut` while applying controls that arrive; `None` if the task
    /// was closed meanwhile.
    async fn while_handling_controls<F: std::future::Future>(
        &mut self,
        fut: F,
    ) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Some(out),
                control = self.rx.recv() => {
                    if !self.apply(control, false) {
                        return None;
                    }
                }
            }
        }
    }

    /// One connection's life.
    async fn serve(&mut self, established: Established) -> Exit {
        let Established {
            mut stream,
            session,
        } = established;
        let mut input = session.leftover;
        let mut decoder = Decoder::new(self.config.resp_limits);
        self.shared.connected.store(true, Relaxed);
        let endpoint = self.label();
        match self.lost_at {
            Some(since) => {
                self.shared.reconnects.fetch_add(1, Relaxed);
                self.events.emit(ConnectionEvent::Restored {
                    endpoint,
                    outage: since.elapsed(),
                });
            }
            None if !self.ever_connected => {
                self.events.emit(ConnectionEvent::Connected { endpoint })
            }
            None => {}
        }
        self.ever_connected = true;
        self.restore();
        let mut last_read = Instant::now();
        let mut tick = tokio::time::interval(
            self.config
                .heartbeat_interval
                .max(Duration::from_millis(10)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if let Err(reason) = self.flush(&mut stream).await {
                return Exit::Lost(reason);
            }
            if let Err(reason) = self.decode_all(&mut decoder, &mut input) {
                return Exit::Lost(reason);
            }
            if !self.out.is_empty() {
                continue;
            }
            tokio::select! {
                control = self.rx.recv() => {
                    if !self.apply(control, true) {
                        return Exit::Done;
                    }
                }
                read = stream.read_buf(&mut input) => match read {
                    Ok(0) => return Exit::Lost("the server closed the connection".into()),
                    Ok(_) => last_read = Instant::now(),
                    Err(e) => return Exit::Lost(format!("read failed: {e}")),
                },
                _ = tick.tick() => {
                    if let Some(reason) = self.heartbeat(last_read) {
                        return Exit::Lost(reason);
                    }
                }
            }
        }
    }

    /// Writes what is queued, within the command timeout.
    async fn flush(&mut self, stream: &mut Stream) -> std::result::Result<(), String> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = self.out.split();
        let write = async {
            stream.write_all(&out).await?;
            stream.flush().await
        };
        match tokio::time::timeout(self.config.command_timeout(), write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("write failed: {e}")),
            Err(_) => Err("a write did not complete within the command timeout".into()),
        }
    }

    /// Decodes and handles every whole frame in `input`.
    fn decode_all(
        &mut self,
        decoder: &mut Decoder,
        input: &mut BytesMut,
    ) -> std::result::Result<(), String> {
        loop {
            match decoder.decode(input) {
                Ok(Some(value)) => self.on_frame(value),
                Ok(None) => return Ok(()),
                Err(e) => {
                    let error = Error::protocol(&self.label(), e);
                    self.events.emit(ConnectionEvent::ProtocolError {
                        endpoint: self.label(),
                        message: error.to_string(),
                    });
                    return Err(error.to_string());
                }
            }
        }
    }

    /// Keep-alive and stall check: a PING after `keepAlive` of silence; the
    /// connection is declared dead when a PING stays unanswered for
    /// `stallTimeout`.
    fn heartbeat(&mut self, last_read: Instant) -> Option<String> {
        let stall = self.config.stall_timeout;
        if let Some(ping) = self.pending.iter().find(|p| p.awaits == Awaits::Pong) {
            let waited = ping.sent.elapsed();
            if !stall.is_zero() && waited >= stall && last_read.elapsed() >= stall {
                return Some(format!(
                    "no reply to PING for {} ms (stallTimeout)",
                    waited.as_millis()
                ));
            }
            return None;
        }
        let keep_alive = self.config.keep_alive;
        if !keep_alive.is_zero() && last_read.elapsed() >= keep_alive {
            self.write(Cmd::new("PING"));
            self.pending.push_back(Pending {
                awaits: Awaits::Pong,
                remaining: VecDeque::new(),
                command: "PING",
                group: None,
                sent: Instant::now(),
            });
        }
        None
    }

    fn write(&mut self, cmd: Cmd) {
        self.out.extend_from_slice(&cmd.into_bytes());
    }

    /// Applies one control message; `false` when the task should end.
    fn apply(&mut self, control: Option<Control>, up: bool) -> bool {
        match control {
            // Every handle and subscription is gone.
            None => {
                self.shutdown(None);
                false
            }
            Some(Control::Close { done }) => {
                self.shutdown(Some(done));
                false
            }
            Some(Control::Subscribe {
                id,
                kind,
                names,
                prefix_len,
                sent_prefix_len,
                buffer,
                done,
                gap,
            }) => {
                if buffer.is_ended() {
                    // Its subscription was dropped while a shard channel
                    // of it was on its way here.
                    let _ = done.send(Err(Error::closed(kind.subscribe())));
                    return true;
                }
                for name in &names {
                    let ids = self.routes.entry((kind, name.clone())).or_default();
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                let mut added = None;
                match self.subs.get_mut(&id) {
                    // A shard channel handed off to this node, for a
                    // subscription that has others here already.
                    Some(sub) => {
                        let new: Vec<Bytes> = names
                            .iter()
                            .filter(|n| !sub.names.contains(n))
                            .cloned()
                            .collect();
                        sub.names.extend(new.iter().cloned());
                        added = Some(new);
                    }
                    None => {
                        self.subs.insert(
                            id,
                            Sub {
                                kind,
                                names: names.clone(),
                                prefix_len,
                                sent_prefix_len,
                                buffer,
                                confirmed: false,
                                live: false,
                            },
                        );
                    }
                }
                self.publish_counts();
                let waiter = Waiter::Subscribed(Joining {
                    id,
                    done,
                    added,
                    gap,
                });
                if up {
                    // Every name, also those another subscription holds:
                    // SUBSCRIBE is idempotent on the server, and this
                    // subscription's answer is then its own command's.
                    self.request(kind, true, names, vec![waiter], false);
                } else {
                    self.waiting.push(waiter);
                }
                true
            }
            Some(Control::Unsubscribe { id, done }) => {
                // A subscribe that timed out while the connection was down
                // waits no more.
                self.waiting
                    .retain(|w| !matches!(w, Waiter::Subscribed(j) if j.id == id));
                let gone = self.remove(id);
                let waiters: Vec<Waiter> = done.into_iter().map(Waiter::Unsubscribed).collect();
                match gone {
                    Some((kind, names)) if up && !names.is_empty() => {
                        self.request(kind, false, names, waiters, false)
                    }
                    _ => waiters.into_iter().for_each(|w| self.answer(w, None)),
                }
                true
            }
            Some(Control::Evict { moved_away }) => {
                let away: Vec<Bytes> = self
                    .routes
                    .keys()
                    .filter(|(kind, name)| *kind == Kind::Shard && moved_away(name))
                    .map(|(_, name)| name.clone())
                    .collect();
                for name in away {
                    self.hand_off(name);
                }
                true
            }
        }
    }

    /// Gives shard channel `name` of every subscription that wants it to
    /// the layer above, to be subscribed where its slot is served now;
    /// `false` (nothing done) outside a cluster. No SUNSUBSCRIBE is sent:
    /// the server dropped it with the slot, or the node is gone, and
    /// anything it still delivers for the name is ignored from now on.
    fn hand_off(&mut self, name: Bytes) -> bool {
        let Some(sink) = self.hand_off.clone() else {
            return false;
        };
        let Some(ids) = self.routes.remove(&(Kind::Shard, name.clone())) else {
            return true;
        };
        for id in ids {
            let Some(sub) = self.subs.get_mut(&id) else {
                continue;
            };
            sub.names.retain(|n| n != &name);
            let mut handed = HandedOff {
                id,
                name: name.clone(),
                prefix_len: sub.prefix_len,
                sent_prefix_len: sub.sent_prefix_len,
                buffer: sub.buffer.clone(),
                from: self.endpoint.clone(),
                caller: None,
            };
            if sub.names.is_empty() {
                self.subs.remove(&id);
                // Made while this connection was down: its caller waits
                // for the node the channel went to instead.
                if let Some(at) = self
                    .waiting
                    .iter()
                    .position(|w| matches!(w, Waiter::Subscribed(j) if j.id == id))
                {
                    if let Waiter::Subscribed(j) = self.waiting.swap_remove(at) {
                        handed.caller = Some(j.done);
                    }
                }
            }
            if let Err(unsent) = sink.send(handed) {
                unsent.0.buffer.end(Error::closed("SSUBSCRIBE"));
            }
        }
        self.publish_counts();
        true
    }

    /// Forgets subscription `id`; the names no subscription wants any more.
    fn remove(&mut self, id: u64) -> Option<(Kind, Vec<Bytes>)> {
        let sub = self.subs.remove(&id)?;
        let unwanted = self.unroute(sub.kind, id, sub.names);
        Some((sub.kind, unwanted))
    }

    /// Takes subscription `id` off the routes of `names`; the names no
    /// subscription wants any more.
    fn unroute(&mut self, kind: Kind, id: u64, names: Vec<Bytes>) -> Vec<Bytes> {
        let mut unwanted = Vec::new();
        for name in names {
            let key = (kind, name);
            if let Some(ids) = self.routes.get_mut(&key) {
                ids.retain(|&other| other != id);
                if ids.is_empty() {
                    self.routes.remove(&key);
                    unwanted.push(key.1);
                }
            }
        }
        self.publish_counts();
        unwanted
    }

    /// Writes (P|S)(UN)SUBSCRIBE for `names` as one group; the waiters
    /// are answered when its last confirmation arrives. Shard channels go
    /// one per command: in a cluster each command's channels must share a
    /// slot.
    fn request(
        &mut self,
        kind: Kind,
        subscribe: bool,
        names: Vec<Bytes>,
        waiters: Vec<Waiter>,
        restore: bool,
    ) {
        let command = if subscribe {
            kind.subscribe()
        } else {
            kind.unsubscribe()
        };
        let commands: Vec<VecDeque<Bytes>> = if kind == Kind::Shard {
            names.into_iter().map(|n| VecDeque::from([n])).collect()
        } else {
            vec![names.into()]
        };
        let group = self.next_group;
        self.next_group += 1;
        self.groups.insert(
            group,
            Group {
                kind,
                subscribe,
                open: commands.len(),
                failed: None,
                waiters,
                restore,
            },
        );
        for names in commands {
            let mut cmd = Cmd::new(command);
            for name in &names {
                cmd.push_arg(&name[..]);
            }
            self.write(cmd);
            self.pending.push_back(Pending {
                awaits: Awaits::Confirm(kind, subscribe),
                remaining: names,
                command,
                group: Some(group),
                sent: Instant::now(),
            });
        }
    }

    /// One command of a group is answered (`error`: its error reply).
    fn command_done(&mut self, group: Option<u64>, error: Option<(&'static str, Bytes)>) {
        let Some(id) = group else { return };
        let Some(g) = self.groups.get_mut(&id) else {
            return;
        };
        g.open = g.open.saturating_sub(1);
        if g.failed.is_none() {
            g.failed = error;
        }
        if g.open > 0 {
            return;
        }
        if let Some(g) = self.groups.remove(&id) {
            self.group_done(g);
        }
    }

    /// Every command of a group is answered: answer its waiters; a failed
    /// (re)subscription ends the subscriptions it was for.
    fn group_done(&mut self, group: Group) {
        let Group {
            kind,
            subscribe,
            failed,
            waiters,
            restore,
            ..
        } = group;
        if restore && subscribe {
            let of_kind: Vec<u64> = self
                .subs
                .iter()
                .filter(|(_, s)| s.kind == kind && !s.live)
                .map(|(id, _)| *id)
                .collect();
            for id in of_kind {
                match &failed {
                    None => {
                        if let Some(sub) = self.subs.get_mut(&id) {
                            sub.live = true;
                        }
                    }
                    // Not for subscriptions whose caller still waits: they
                    // get the error as their answer below.
                    Some((command, text)) => {
                        let waited_for = waiters
                            .iter()
                            .any(|w| matches!(w, Waiter::Subscribed(j) if j.id == id));
                        if !waited_for {
                            self.end(id, Error::server(command, text));
                        }
                    }
                }
            }
        }
        for waiter in waiters {
            let error = failed
                .as_ref()
                .map(|(command, text)| Error::server(command, text));
            self.answer(waiter, error);
        }
    }

    /// Ends subscription `id` with `error` and unsubscribes what no other
    /// subscription wants.
    fn end(&mut self, id: u64, error: Error) {
        if let Some(sub) = self.subs.get(&id) {
            sub.buffer.end(error);
        }
        self.forget(id);
    }

    /// Undoes a subscribe: the whole subscription `id`, or only `added`
    /// names of it.
    fn undo(&mut self, id: u64, added: Option<Vec<Bytes>>) {
        let Some(names) = added else {
            return self.forget(id);
        };
        let Some(sub) = self.subs.get_mut(&id) else {
            return;
        };
        let kind = sub.kind;
        sub.names.retain(|n| !names.contains(n));
        let unwanted = self.unroute(kind, id, names);
        if !unwanted.is_empty() && self.shared.connected.load(Relaxed) {
            self.request(kind, false, unwanted, Vec::new(), false);
        }
    }

    /// Removes subscription `id` and unsubscribes, if connected, the names
    /// no other subscription wants.
    fn forget(&mut self, id: u64) {
        if let Some((kind, names)) = self.remove(id) {
            if !names.is_empty() && self.shared.connected.load(Relaxed) {
                self.request(kind, false, names, Vec::new(), false);
            }
        }
    }

    /// After a (re)connect: subscribe everything wanted (one group per
    /// kind), with the subscribe waiters that arrived meanwhile, and tell
    /// confirmed subscriptions about the gap.
    fn restore(&mut self) {
        let mut by_kind: [Vec<Bytes>; 3] = Default::default();
        for (kind, name) in self.routes.keys() {
            by_kind[slot_of(*kind)].push(name.clone());
        }
        let mut waiting: [Vec<Waiter>; 3] = Default::default();
        for waiter in std::mem::take(&mut self.waiting) {
            let kind = match &waiter {
                Waiter::Subscribed(j) => self.subs.get(&j.id).map(|s| s.kind),
                Waiter::Unsubscribed(_) => None,
            };
            match kind {
                Some(kind) => waiting[slot_of(kind)].push(waiter),
                None => self.answer(waiter, None),
            }
        }
        for ((kind, mut names), waiters) in [Kind::Channel, Kind::Pattern, Kind::Shard]
            .into_iter()
            .zip(by_kind)
            .zip(waiting)
        {
            if names.is_empty() {
                waiters.into_iter().for_each(|w| self.answer(w, None));
            } else {
                names.sort();
                self.request(kind, true, names, waiters, true);
            }
        }
        if let Some(since) = self.lost_at.take() {
            let outage = since.elapsed();
            for sub in self.subs.values().filter(|s| s.confirmed) {
                sub.buffer
                    .push(Delivery::Gap(Gap::Reconnected { outage }), || {
                        Error::closed("SUBSCRIBE")
                    });
            }
        }
    }

    /// The connection broke: what was in flight waits for the next one.
    fn on_lost(&mut self) {
        self.shared.connected.store(false, Relaxed);
        self.shared.disconnects.fetch_add(1, Relaxed);
        if self.lost_at.is_none() {
            self.lost_at = Some(Instant::now());
        }
        self.out.clear();
        self.pending.clear();
        for sub in self.subs.values_mut() {
            sub.live = false;
        }
        let groups: Vec<Group> = self.groups.drain().map(|(_, g)| g).collect();
        for waiter in groups.into_iter().flat_map(|g| g.waiters) {
            match waiter {
                // Resubscribed with everything else on the next connection.
                Waiter::Subscribed(..) => self.waiting.push(waiter),
                // The server forgot everything with the connection.
                Waiter::Unsubscribed(_) => self.answer(waiter, None),
            }
        }
    }

    /// Ends every subscription (closed) and answers every waiter.
    fn shutdown(&mut self, done: Option<oneshot::Sender<()>>) {
        self.shared.closed.store(true, Relaxed);
        self.shared.connected.store(false, Relaxed);
        self.pending.clear();
        let waiters: Vec<Waiter> = std::mem::take(&mut self.groups)
            .into_values()
            .flat_map(|g| g.waiters)
            .chain(std::mem::take(&mut self.waiting))
            .collect();
        for waiter in waiters {
            self.answer(waiter, Some(Error::closed("SUBSCRIBE")));
        }
        for (_, sub) in self.subs.drain() {
            sub.buffer.end(Error::closed("SUBSCRIBE"));
        }
        self.routes.clear();
        self.publish_counts();
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    /// Answers a waiter: `None` for success.
    fn answer(&mut self, waiter: Waiter, error: Option<Error>) {
        match waiter {
            Waiter::Subscribed(Joining {
                id,
                done,
                added,
                gap,
            }) => {
                let failed = error.is_some();
                if failed {
                    // Some of its names may have been subscribed (shard
                    // channels go one per command): undo those (only the
                    // added ones, for names handed over to a subscription
                    // that has others here).
                    self.undo(id, added.clone());
                } else if let Some(sub) = self.subs.get_mut(&id) {
                    if let Some(gap) = gap {
                        let _ = sub
                            .buffer
                            .push(Delivery::Gap(gap), || Error::closed("SSUBSCRIBE"));
                    }
                    sub.confirmed = true;
                    sub.live = true;
                }
                let result = match error {
                    Some(e) => Err(e),
                    None => Ok(()),
                };
                if done.send(result).is_err() && !failed {
                    // The caller gave up (timed out): nobody will read it.
                    self.undo(id, added);
                }
            }
            Waiter::Unsubscribed(done) => {
                let _ = done.send(());
            }
        }
    }

    fn publish_counts(&self) {
        self.shared
            .subscriptions
            .store(self.subs.len() as u64, Relaxed);
        self.shared.names.store(self.routes.len() as u64, Relaxed);
    }

    /// One frame from the server.
    fn on_frame(&mut self, value: Value) {
        let items = match value {
            Value::Push(items) | Value::Array(items) => items,
            Value::SimpleString(s) if s.eq_ignore_ascii_case(b"PONG") => {
                self.on_pong();
                return;
            }
            Value::Error(text) => {
                self.on_error(&text);
                return;
            }
            other => {
                tracing::warn!(target: "redmux", endpoint = %self.label(), reply = other.type_name(), "unexpected reply on the subscriber connection; ignored");
                return;
            }
        };
        let mut items = items.into_iter();
        let Some(Value::BulkString(kind) | Value::SimpleString(kind)) = items.next() else {
            return;
        };
        let mut next_bytes = || match items.next() {
            Some(Value::BulkString(b) | Value::SimpleString(b)) => Some(b),
            _ => None,
        };
        match kind.to_ascii_lowercase().as_slice() {
            b"message" | b"smessage" => {
                let shard = kind.eq_ignore_ascii_case(b"smessage");
                if let (Some(channel), Some(payload)) = (next_bytes(), next_bytes()) {
                    let kind = if shard { Kind::Shard } else { Kind::Channel };
                    self.deliver(kind, channel.clone(), channel, None, payload);
                }
            }
            b"pmessage" => {
                if let (Some(pattern), Some(channel), Some(payload)) =
                    (next_bytes(), next_bytes(), next_bytes())
                {
                    self.deliver(
                        Kind::Pattern,
                        pattern.clone(),
                        channel,
                        Some(pattern),
                        payload,
                    );
                }
            }
            b"pong" => self.on_pong(),
            other => {
                if let Some((kind, subscribe)) = Kind::of_confirmation(other) {
                    self.on_confirmation(kind, subscribe, next_bytes());
                }
            }
        }
    }

    fn deliver(
        &mut self,
        kind: Kind,
        route: Bytes,
        channel: Bytes,
        pattern: Option<Bytes>,
        payload: Bytes,
    ) {
        self.shared.messages.fetch_add(1, Relaxed);
        let Some(ids) = self.routes.get(&(kind, route)) else {
            return; // unsubscribed meanwhile
        };
        let mut overflowed = Vec::new();
        for id in ids {
            let Some(sub) = self.subs.get(id) else {
                continue;
            };
            let strip = |b: &Bytes, len: usize| {
                if b.len() >= len {
                    b.slice(len..)
                } else {
                    b.clone()
                }
            };
            let message = Message {
                channel: strip(&channel, sub.prefix_len),
                pattern: pattern.as_ref().map(|p| strip(p, sub.sent_prefix_len)),
                payload: payload.clone(),
            };
            let names = &sub.names;
            let buffer = &sub.buffer;
            match buffer.push(Delivery::Message(message), || {
                Error::slow_consumer(describe(names, sub.sent_prefix_len), buffer.capacity())
            }) {
                Pushed::DroppedOldest => {
                    self.shared.dropped.fetch_add(1, Relaxed);
                }
                Pushed::Kept | Pushed::Ended => {}
                Pushed::Overflowed => overflowed.push(*id),
            }
        }
        for id in overflowed {
            self.forget(id);
        }
    }

    fn on_confirmation(&mut self, kind: Kind, subscribe: bool, name: Option<Bytes>) {
        let awaits = Awaits::Confirm(kind, subscribe);
        let matches = |p: &Pending, front_only: bool| {
            p.awaits == awaits
                && match &name {
                    None => true,
                    Some(n) if front_only => p.remaining.front() == Some(n),
                    Some(n) => p.remaining.contains(n),
                }
        };
        // Names are confirmed in the order sent: the front match is the
        // common case; a search only for the unusual one.
        let found = self
            .pending
            .iter()
            .position(|p| matches(p, true))
            .or_else(|| self.pending.iter().position(|p| matches(p, false)));
        let Some(index) = found else {
            if !subscribe {
                if let Some(name) = name {
                    self.unsubscribed_by_server(kind, name);
                }
            }
            return;
        };
        let entry = &mut self.pending[index];
        match &name {
            Some(n) if entry.remaining.front() == Some(n) => {
                entry.remaining.pop_front();
            }
            Some(n) => entry.remaining.retain(|r| r != n),
            None => entry.remaining.clear(),
        }
        if entry.remaining.is_empty() {
            if let Some(done) = self.pending.remove(index) {
                self.command_done(done.group, None);
            }
        }
    }

    /// The server unsubscribed a name nobody asked it to (a shard
    /// channel whose slot moved): the subscriptions that wanted it end,
    /// saying so, rather than wait for messages that will not come.
    fn unsubscribed_by_server(&mut self, kind: Kind, name: Bytes) {
        // In a cluster, the shard channel follows its slot instead.
        if kind == Kind::Shard && self.hand_off(name.clone()) {
            return;
        }
        let Some(ids) = self.routes.get(&(kind, name.clone())).cloned() else {
            return;
        };
        for id in ids {
            let reason = format!(
                "the server ended the subscription to {} on its own (for a shard channel: its \
                 slot moved); subscribe again",
                String::from_utf8_lossy(&name)
            );
            let endpoint = self.label();
            self.end(
                id,
                Error::connection_lost(kind.subscribe(), &endpoint, &reason, false),
            );
        }
    }

    fn on_pong(&mut self) {
        if let Some(index) = self.pending.iter().position(|p| p.awaits == Awaits::Pong) {
            self.pending.remove(index);
        }
    }

    /// An error reply answers the oldest command (the server answers in order).
    fn on_error(&mut self, text: &Bytes) {
        let Some(failed) = self.pending.pop_front() else {
            tracing::warn!(target: "redmux", endpoint = %self.label(), error = %String::from_utf8_lossy(text), "error reply on the subscriber connection with nothing pending");
            return;
        };
        self.command_done(failed.group, Some((failed.command, text.clone())));
    }
}

/// The index of a kind in per-kind arrays.
fn slot_of(kind: Kind) -> usize {
    match kind {
        Kind::Channel => 0,
        Kind::Pattern => 1,
        Kind::Shard => 2,
    }
}

/// The names of a subscription for messages, without the prefix.
fn describe(names: &[Bytes], prefix_len: usize) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(5)
        .map(|n| String::from_utf8_lossy(n.get(prefix_len..).unwrap_or(n)).into_owned())
        .collect();
    let more = names.len().saturating_sub(5);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

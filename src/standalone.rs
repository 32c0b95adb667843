//! A standalone primary: its connection, the replicas that serve reads
//! with a replica preference, and (with `serviceName=`) the sentinels that
//! say where the primary is.
//!
//! ```text
//!  Request ── PreferMaster / DemandMaster ──────────────────────▶ primary connection
//!          ── PreferReplica / DemandReplica, read-only command ─▶ a replica (round robin over
//!                                                                 those connected; lazily opened)
//!
//!  Sentinel:  primary connection ── each connect: resolve() ──▶ SENTINEL get-master-addr-by-name
//!             watcher: +switch-master, every configCheckSeconds ──▶ moved? primary.reconnect()
//!                                                                   and the replica list is read again
//! ```
//!
//! Replicas come from the configuration (every endpoint after the first
//! is taken as a replica of the first) or, with Sentinel, from `SENTINEL
//! replicas`. A write never goes to a replica: with `PREFER_REPLICA` it
//! goes to the primary, with `DEMAND_REPLICA` it is refused.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cmd::ReplicaPreference;
use crate::config::{Config, Endpoint};
use crate::connection::request::Request;
use crate::connection::{ConnectionHandle, Resolve, Role};
use crate::error::{Error, Result};
use crate::events::{ConnectionEvent, EventSink};
use crate::sentinel::{self, Sentinels};
use crate::stats::Stats;

/// The routing of a standalone primary (see the module docs).
pub(crate) struct Standalone {
    inner: Arc<Inner>,
}

struct Inner {
    primary: ConnectionHandle,
    /// Replica addresses, in the order reads take turns over them.
    replicas: RwLock<Vec<Endpoint>>,
    /// Their connections, made when a read first needs one.
    replica_conns: RwLock<HashMap<Endpoint, Arc<ConnectionHandle>>>,
    turn: AtomicUsize,
    config: Arc<Config>,
    events: Arc<EventSink>,
    sentinels: Option<Arc<Sentinels>>,
    closed: AtomicBool,
}

impl Standalone {
    /// Around an open primary connection; the endpoints listed after the
    /// first are its replicas.
    pub(crate) fn new(
        primary: ConnectionHandle,
        config: Arc<Config>,
        events: Arc<EventSink>,
    ) -> Standalone {
        let replicas = config.endpoints.iter().skip(1).cloned().collect();
        Standalone {
            inner: Arc::new(Inner::new(primary, replicas, config, events, None)),
        }
    }

    /// With `serviceName=`: the configured endpoints are sentinels; the
    /// primary is where they say, asked again before every reconnect.
    pub(crate) async fn with_sentinels(
        config: Arc<Config>,
        events: Arc<EventSink>,
    ) -> Result<Standalone> {
        let sentinels = Arc::new(Sentinels::new(&config, events.clone())?);
        let label = match sentinels.primary().await {
            Ok(endpoint) => endpoint,
            Err(e) if config.abort_connect => {
                sentinels.close().await;
                return Err(e);
            }
            Err(_) => config.endpoints[0].clone(),
        };
        let resolve: Resolve = {
            let sentinels = Arc::downgrade(&sentinels);
            Arc::new(move || {
                let sentinels = sentinels.clone();
                Box::pin(async move {
                    match sentinels.upgrade() {
                        Some(s) => s.primary().await,
                        None => Err(Error::closed("connect")),
                    }
                })
            })
        };
        let primary =
            match ConnectionHandle::open_resolved(label, resolve, config.clone(), events.clone())
                .await
            {
                Ok(primary) => primary,
                Err(e) => {
                    sentinels.close().await;
                    return Err(e);
                }
            };
        let replicas = sentinels.replicas().await.unwrap_or_default();
        let inner = Arc::new(Inner::new(
            primary,
            replicas,
            config,
            events,
            Some(sentinels.clone()),
        ));
        spawn_watcher(Arc::downgrade(&inner), &sentinels).await;
        Ok(Standalone { inner })
    }

    /// Sends a request where its replica preference allows.
    pub(crate) fn route(&self, preference: ReplicaPreference, req: Request) -> Result<()> {
        match preference {
            ReplicaPreference::PreferMaster | ReplicaPreference::DemandMaster => {
                self.inner.primary.send(req)
            }
            ReplicaPreference::PreferReplica | ReplicaPreference::DemandReplica => {
                self.inner.send_to_replica(preference, req)
            }
        }
    }

    /// The primary's address (where its last connect went).
    pub(crate) fn endpoint(&self) -> Endpoint {
        self.inner.primary.endpoint()
    }

    /// Where the primary is now, for the subscriber and dedicated
    /// connections (with Sentinel: where its connection last connected).
    pub(crate) fn locator(&self) -> crate::connection::Locate {
        let inner = Arc::downgrade(&self.inner);
        let first = self.endpoint();
        Arc::new(move || match inner.upgrade() {
            Some(inner) => inner.primary.endpoint(),
            None => first.clone(),
        })
    }

    /// The primary's counters, then each replica connection's.
    pub(crate) fn stats_by_endpoint(&self) -> Vec<(Endpoint, Stats)> {
        let mut all = vec![(self.inner.primary.endpoint(), self.inner.primary.stats())];
        let conns = self
            .inner
            .replica_conns
            .read()
            .unwrap_or_else(|e| e.into_inner());
        all.extend(conns.iter().map(|(e, c)| (e.clone(), c.stats())));
        all
    }

    pub(crate) async fn close(&self, grace: Duration) {
        let inner = &self.inner;
        inner.closed.store(true, Relaxed);
        let replicas: Vec<Arc<ConnectionHandle>> = inner
            .replica_conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for conn in replicas {
            conn.close(grace).await;
        }
        inner.primary.close(grace).await;
        if let Some(sentinels) = &inner.sentinels {
            sentinels.close().await;
        }
    }
}

impl Inner {
    fn new(
        primary: ConnectionHandle,
        replicas: Vec<Endpoint>,
        config: Arc<Config>,
        events: Arc<EventSink>,
        sentinels: Option<Arc<Sentinels>>,
    ) -> Inner {
        Inner {
            primary,
            replicas: RwLock::new(replicas),
            replica_conns: RwLock::new(HashMap::new()),
            turn: AtomicUsize::new(0),
            config,
            events,
            sentinels,
            closed: AtomicBool::new(false),
        }
    }

    fn send_to_replica(&self, preference: ReplicaPreference, req: Request) -> Result<()> {
        let name = req.name();
        if crate::router::write_goes_to_primary(&name, preference)? {
            return self.primary.send(req);
        }
        let replicas = self
            .replicas
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let conns: Vec<Arc<ConnectionHandle>> =
            replicas.iter().map(|r| self.connection(r)).collect();
        let turn = self.turn.fetch_add(1, Relaxed);
        match crate::router::pick_replica(&conns, turn, preference) {
            Some(conn) => conn.send(req),
            None if preference == ReplicaPreference::DemandReplica => Err(Error::refused(format!(
                "{name} with DEMAND_REPLICA: no replica is known ({}); list replicas after \
                 the primary in the configuration, or use PREFER_REPLICA to fall back to the \
                 primary",
                if self.sentinels.is_some() {
                    "the sentinels report none up"
                } else {
                    "only the primary is configured"
                }
            ))),
            None => self.primary.send(req),
        }
    }

    /// The connection to a replica, opened (in the background) on first use.
    fn connection(&self, endpoint: &Endpoint) -> Arc<ConnectionHandle> {
        if let Some(conn) = self
            .replica_conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(endpoint)
        {
            return conn.clone();
        }
        let mut conns = self
            .replica_conns
            .write()
            .unwrap_or_else(|e| e.into_inner());
        conns
            .entry(endpoint.clone())
            .or_insert_with(|| {
                Arc::new(ConnectionHandle::open_lazy(
                    endpoint.clone(),
                    Role::StandaloneReplica,
                    self.config.clone(),
                    self.events.clone(),
                    None,
                ))
            })
            .clone()
    }

    /// Asks the sentinels where the primary and the replicas are now;
    /// reconnects the primary if it moved, and retires replica connections
    /// the sentinels no longer list.
    async fn check_sentinels(&self, why: &str) {
        let Some(sentinels) = &self.sentinels else {
            return;
        };
        if let Ok(now) = sentinels.primary().await {
            let was = self.primary.endpoint();
            if now != was {
                let reason = format!(
                    "Sentinel moved the primary of '{}' from {was} to {now} ({why})",
                    sentinels.service()
                );
                self.events.emit(ConnectionEvent::PrimaryChanged {
                    endpoint: now.to_string(),
                    from: was.to_string(),
                    reason: reason.clone(),
                });
                self.primary.reconnect(reason);
            }
        }
        if let Ok(replicas) = sentinels.replicas().await {
            let gone: Vec<Arc<ConnectionHandle>> = {
                let mut conns = self
                    .replica_conns
                    .write()
                    .unwrap_or_else(|e| e.into_inner());
                let stale: Vec<Endpoint> = conns
                    .keys()
                    .filter(|e| !replicas.contains(e))
                    .cloned()
                    .collect();
                stale.iter().filter_map(|e| conns.remove(e)).collect()
            };
            *self.replicas.write().unwrap_or_else(|e| e.into_inner()) = replicas;
            for conn in gone {
                tokio::spawn(async move { conn.close(Duration::ZERO).await });
            }
        }
    }
}

/// Watches the sentinels for the life of the router: a `+switch-master`
/// for the service, or every `configCheckSeconds`, starts a check.
async fn spawn_watcher(inner: Weak<Inner>, sentinels: &Arc<Sentinels>) {
    let (tx, mut switches) = mpsc::channel::<()>(1);
    let service = sentinels.service().to_owned();
    for mut subscription in sentinels.watch_switches().await {
        let (tx, service) = (tx.clone(), service.clone());
        tokio::spawn(async move {
            while let Some(message) = subscription.next_message().await {
                if sentinel::switched_to(&message.payload, &service).is_some()
                    && tx.send(()).await.is_err()
                {
                    return;
                }
            }
        });
    }
    drop(tx);
    let every = match inner.upgrade() {
        Some(i) if !i.config.config_check.is_zero() => i.config.config_check,
        // No periodic check: the timer still has to tick at some pace.
        _ => Duration::from_secs(3600),
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await; // the first tick is immediate
        let mut listening = true;
        loop {
            let why = tokio::select! {
                got = switches.recv(), if listening => match got {
                    Some(()) => "+switch-master",
                    // Every sentinel subscription ended: closing, or none
                    // could be made; the periodic check goes on while open.
                    None => {
                        listening = false;
                        "sentinel subscriptions ended"
                    }
                },
                _ = tick.tick() => "periodic check",
            };
            match inner.upgrade() {
                Some(i) if !i.closed.load(Relaxed) => i.check_sentinels(why).await,
                _ => return,
            }
        }
    });
}

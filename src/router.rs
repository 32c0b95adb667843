//! Routing: which connection carries a request.
//!
//! The router owns the multiplexer's connections (one per endpoint it
//! uses), the event sink they share, and the routing facts of each call: its
//! [`CommandFlags`] now; its keys (from the command table's key extractor)
//! and cluster slot once cluster routing exists. Those facts stop here: a
//! connection receives only the [`Request`] itself (see
//! `connection::request`).
//!
//! Two modes, chosen at connect: **standalone** (the first configured
//! endpoint is the primary, any others its replicas; or, with
//! `serviceName=`, the endpoints are sentinels that say where the primary
//! and replicas are: see `crate::standalone`; a redirect reaches the
//! caller as a server error) and **cluster** (the server answered `CLUSTER
//! SHARDS`: see `crate::cluster`, which routes by slot and follows
//! redirects). Detection asks the first connection once it is up; with
//! `abortConnect=false` and no server reachable at connect, the mode is
//! standalone. Sentinel mode is never a cluster.

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::{self, ClusterRouter};
use crate::cmd::{CommandFlags, ReplicaPreference};
use crate::config::{Config, ConfigError, Endpoint};
use crate::connection::request::Request;
use crate::connection::ConnectionHandle;
use crate::error::{Error, Result};
use crate::events::{EventSink, Events};
use crate::standalone::Standalone;
use crate::stats::Stats;

pub(crate) struct Router {
    mode: Mode,
    events: Arc<EventSink>,
}

enum Mode {
    Standalone(Standalone),
    Cluster(ClusterRouter),
}

impl Router {
    /// Opens the connection(s) the configuration asks for.
    pub(crate) async fn open(config: Arc<Config>) -> Result<Router> {
        let Some(endpoint) = config.endpoints.first().cloned() else {
            return Err(ConfigError {
                key: None,
                message: "no endpoint given; add host:port, e.g. 127.0.0.1:6379".to_owned(),
            }
            .into());
        };
        let events = Arc::new(EventSink::new());
        if config.service_name.is_some() {
            let standalone = Standalone::with_sentinels(config, events.clone()).await?;
            return Ok(Router {
                mode: Mode::Standalone(standalone),
                events,
            });
        }
        let primary =
            ConnectionHandle::open(endpoint, config.clone(), events.clone(), None).await?;
        if primary.stats().connected {
            if let Some(shards) = cluster::detect(&primary, config.connect_timeout).await {
                let router = ClusterRouter::new(config, events.clone(), &shards);
                // The seed's connection has no hand-back sink; the cluster
                // router opens its own, one per node.
                primary.close(Duration::ZERO).await;
                return Ok(Router {
                    mode: Mode::Cluster(router),
                    events,
                });
            }
        }
        Ok(Router {
            mode: Mode::Standalone(Standalone::new(primary, config, events.clone())),
            events,
        })
    }

    /// Sends a request to the connection its flags allow.
    pub(crate) fn route(&self, flags: CommandFlags, req: Request) -> Result<()> {
        match &self.mode {
            Mode::Standalone(standalone) => standalone.route(flags.replica_preference(), req),
            Mode::Cluster(cluster) => cluster.route(flags, req),
        }
    }

    /// Sends a request to cluster primary `node` (a cluster-wide SCAN's
    /// page); on a standalone server, where `route` would.
    pub(crate) fn route_to_node(&self, node: &Endpoint, req: Request) -> Result<()> {
        match &self.mode {
            Mode::Standalone(standalone) => standalone.route(ReplicaPreference::PreferMaster, req),
            Mode::Cluster(cluster) => cluster.send_to_node(node, req),
        }
    }

    /// On a cluster, what the subscriber needs to send shard channels to
    /// their slot's primary.
    pub(crate) fn shard_map(&self) -> Option<Arc<dyn crate::pubsub::ShardMap>> {
        match &self.mode {
            Mode::Standalone(_) => None,
            Mode::Cluster(cluster) => Some(cluster.shard_map()),
        }
    }

    /// Where the subscriber and dedicated connections dial, asked before
    /// each connect (so they follow a failover).
    pub(crate) fn locator(&self) -> crate::connection::Locate {
        match &self.mode {
            Mode::Standalone(standalone) => standalone.locator(),
            Mode::Cluster(cluster) => cluster.locator(),
        }
    }

    /// The cluster's primaries now; `None` for a standalone server.
    pub(crate) fn cluster_primaries(&self) -> Option<Vec<Endpoint>> {
        match &self.mode {
            Mode::Standalone(_) => None,
            Mode::Cluster(cluster) => Some(cluster.primaries()),
        }
    }

    /// Refuses (with `CROSSSLOT`) commands that must run on one node but
    /// whose keys span cluster slots; `parts` are runs of encoded
    /// commands. Always `Ok` on a standalone server.
    pub(crate) fn one_slot(&self, parts: &[&[u8]]) -> Result<()> {
        match &self.mode {
            Mode::Standalone(_) => Ok(()),
            Mode::Cluster(_) => cluster::one_slot(parts).map(|_| ()),
        }
    }

    /// The cluster layer's counters; `None` for a standalone server.
    pub(crate) fn cluster_stats(&self) -> Option<cluster::ClusterStats> {
        match &self.mode {
            Mode::Standalone(_) => None,
            Mode::Cluster(c) => Some(c.stats()),
        }
    }

    /// Totals over every connection.
    pub(crate) fn stats(&self) -> Stats {
        self.stats_by_endpoint()
            .into_iter()
            .map(|(_, s)| s)
            .reduce(Stats::plus)
            .unwrap_or_default()
    }

    /// Each connection's counters, by endpoint.
    pub(crate) fn stats_by_endpoint(&self) -> Vec<(Endpoint, Stats)> {
        match &self.mode {
            Mode::Standalone(standalone) => standalone.stats_by_endpoint(),
            Mode::Cluster(cluster) => cluster.stats_by_endpoint(),
        }
    }

    /// The sink every connection of this multiplexer reports to (the
    /// subscriber's and dedicated connections' too).
    pub(crate) fn event_sink(&self) -> Arc<EventSink> {
        self.events.clone()
    }

    pub(crate) fn events(&self) -> Events {
        self.events.subscribe()
    }

    /// The primary's address (a cluster's first seed).
    pub(crate) fn endpoint(&self) -> Endpoint {
        match &self.mode {
            Mode::Standalone(standalone) => standalone.endpoint(),
            Mode::Cluster(cluster) => cluster.endpoint(),
        }
    }

    /// Closes every connection (see `Multiplexer::close_within`).
    pub(crate) async fn close(&self, grace: Duration) {
        match &self.mode {
            Mode::Standalone(standalone) => standalone.close(grace).await,
            Mode::Cluster(cluster) => cluster.close(grace).await,
        }
    }
}

/// Whether a request with a replica preference goes to the primary
/// because it may write (anything the command table does not call
/// read-only): `Ok(true)` with `PREFER_REPLICA`, refused with
/// `DEMAND_REPLICA`; `Ok(false)` for a read, which may use a replica.
pub(crate) fn write_goes_to_primary(name: &str, preference: ReplicaPreference) -> Result<bool> {
    let writes = crate::table::lookup(name)
        .is_none_or(|info| !info.flags().contains(crate::table::Flags::READONLY));
    if writes && preference == ReplicaPreference::DemandReplica {
        return Err(Error::refused(format!(
            "{name} with DEMAND_REPLICA: it is not a read-only command and replicas refuse \
             writes; send it without a replica preference"
        )));
    }
    Ok(writes)
}

/// The replica connection a read goes to: the next connected one in
/// turn; when a replica is demanded and none is connected yet, the next
/// one anyway (the read waits in its backlog, as on any connection).
/// `None`: no replica to use (the caller falls back or refuses).
pub(crate) fn pick_replica(
    conns: &[Arc<ConnectionHandle>],
    turn: usize,
    preference: ReplicaPreference,
) -> Option<&Arc<ConnectionHandle>> {
    let up: Vec<&Arc<ConnectionHandle>> = conns.iter().filter(|c| c.is_connected()).collect();
    match up.get(turn % up.len().max(1)) {
        Some(conn) => Some(*conn),
        None if preference == ReplicaPreference::DemandReplica && !conns.is_empty() => {
            conns.get(turn % conns.len())
        }
        None => None,
    }
}

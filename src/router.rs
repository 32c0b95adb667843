//! Routing: which connection carries a request.
//!
//! The router owns the multiplexer's connections (one per endpoint it
//! uses), the event sink they share, and the routing facts of each call: its
//! [`CommandFlags`] now; its keys (from the command table's key extractor)
//! and cluster slot once cluster routing exists. Those facts stop here: a
//! connection receives only the [`Request`] itself (see
//! `connection::request`).
//!
//! Today there is one endpoint (the first configured), so every request goes
//! to it whatever its replica preference. Requests a connection hands back
//! (a redirect, or unsent when a connection is retired) will come back here
//! to be sent elsewhere; with one standalone server there is nowhere else,
//! so its connection is opened without a hand-back sink and redirects reach
//! the caller as server errors.

use std::sync::Arc;
use std::time::Duration;

use crate::cmd::{CommandFlags, ReplicaPreference};
use crate::config::{Config, ConfigError, Endpoint};
use crate::connection::request::Request;
use crate::connection::ConnectionHandle;
use crate::error::Result;
use crate::events::{EventSink, Events};
use crate::stats::Stats;

pub(crate) struct Router {
    /// The primary's connection: the first configured endpoint.
    primary: ConnectionHandle,
    events: Arc<EventSink>,
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
        let primary = ConnectionHandle::open(endpoint, config, events.clone(), None).await?;
        Ok(Router { primary, events })
    }

    /// Sends a request to the connection its flags allow.
    pub(crate) fn route(&self, flags: CommandFlags, req: Request) -> Result<()> {
        self.pick(flags.replica_preference()).send(req)
    }

    fn pick(&self, preference: ReplicaPreference) -> &ConnectionHandle {
        match preference {
            // One endpoint and no replicas configured: it serves every
            // preference, as it did before replica routing (a replica
            // demanded where none exists is not refused yet).
            ReplicaPreference::PreferMaster
            | ReplicaPreference::DemandMaster
            | ReplicaPreference::PreferReplica
            | ReplicaPreference::DemandReplica => &self.primary,
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
        vec![(self.primary.endpoint().clone(), self.primary.stats())]
    }

    /// The sink every connection of this multiplexer reports to (the
    /// subscriber's and dedicated connections' too).
    pub(crate) fn event_sink(&self) -> Arc<EventSink> {
        self.events.clone()
    }

    pub(crate) fn events(&self) -> Events {
        self.events.subscribe()
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        self.primary.endpoint()
    }

    /// Closes every connection (see `Multiplexer::close_within`).
    pub(crate) async fn close(&self, grace: Duration) {
        self.primary.close(grace).await
    }
}

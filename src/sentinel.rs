//! Sentinel: asking the sentinels where a service's primary and replicas
//! are, and hearing when the primary moves.
//!
//! ```text
//!  connect / every reconnect ── SENTINEL get-master-addr-by-name <service> ──▶ sentinels (first that answers)
//!                                       │ host port
//!                                       ▼
//!                             dial that address, handshake as usual
//!
//!  +switch-master <service> old… new…  (pub/sub, from every sentinel)  ─┐
//!  every configCheckSeconds: ask again                                  ├─▶ primary moved? the
//!                                                                       │   connection reconnects
//! ```
//!
//! With `serviceName=` the configured endpoints are sentinels. They are
//! spoken to with `sentinelUser`/`sentinelPassword` (not the servers'
//! credentials), TLS as configured, and no database selection. One
//! multiplexed connection per sentinel is kept for questions (opened
//! lazily), and one subscriber connection per sentinel listens to
//! `+switch-master`, so the loss of any one sentinel costs nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::cmd::{Cmd, FromValue};
use crate::commands::map_pairs;
use crate::config::{Config, ConfigError, Endpoint};
use crate::connection::{ConnectionHandle, Role};
use crate::error::{Error, Result};
use crate::events::EventSink;
use crate::pubsub::{Core, Subscriber, Subscription};
use crate::resp::Value;

/// The sentinels of one service.
pub(crate) struct Sentinels {
    service: String,
    /// The configuration sentinels are spoken to with.
    config: Arc<Config>,
    events: Arc<EventSink>,
    conns: Vec<ConnectionHandle>,
    /// The subscriber connections listening to `+switch-master`.
    watchers: std::sync::Mutex<Vec<Arc<Core>>>,
}

impl Sentinels {
    /// Connections (made in the background) to every configured sentinel.
    pub(crate) fn new(config: &Config, events: Arc<EventSink>) -> Result<Sentinels> {
        let Some(service) = config.service_name.clone() else {
            return Err(ConfigError {
                key: Some("serviceName".into()),
                message: "no Sentinel service name given".into(),
            }
            .into());
        };
        let mut own = config.clone();
        own.user = config.sentinel_user.clone();
        own.password = config.sentinel_password.clone();
        own.default_database = 0;
        own.service_name = None;
        let own = Arc::new(own);
        let conns = own
            .endpoints
            .iter()
            .map(|endpoint| {
                ConnectionHandle::open_lazy(
                    endpoint.clone(),
                    Role::Sentinel,
                    own.clone(),
                    events.clone(),
                    None,
                )
            })
            .collect();
        Ok(Sentinels {
            service,
            config: own,
            events,
            conns,
            watchers: std::sync::Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn service(&self) -> &str {
        &self.service
    }

    /// Where the primary is now: the first sentinel to answer says.
    pub(crate) async fn primary(&self) -> Result<Endpoint> {
        let service = self.service.clone();
        self.ask_each(
            Cmd::new("SENTINEL")
                .arg("get-master-addr-by-name")
                .arg(self.service.as_str()),
            move |value| match value {
                Value::Array(items) if items.len() == 2 => {
                    let host = text(&items[0])?;
                    let port = text(&items[1])?.parse().ok()?;
                    Some(Ok(Endpoint::tcp(host, port)))
                }
                Value::Nil | Value::Array(_) => Some(Err(format!(
                    "it knows no service named '{service}' (check serviceName)"
                ))),
                _ => None,
            },
        )
        .await
    }

    /// The replicas the sentinels see up, for replica reads.
    pub(crate) async fn replicas(&self) -> Result<Vec<Endpoint>> {
        self.ask_each(
            Cmd::new("SENTINEL")
                .arg("replicas")
                .arg(self.service.as_str()),
            |value| match value {
                Value::Array(items) => Some(Ok(items.into_iter().filter_map(replica_of).collect())),
                _ => None,
            },
        )
        .await
    }

    /// Asks each sentinel in turn (connected ones first) until one gives
    /// an answer `read` accepts; `read` gives `None` for a reply it cannot
    /// read, `Some(Err)` for a refusal worth reporting.
    async fn ask_each<T>(
        &self,
        cmd: Cmd,
        read: impl Fn(Value) -> Option<std::result::Result<T, String>>,
    ) -> Result<T> {
        let mut order: Vec<&ConnectionHandle> = self.conns.iter().collect();
        order.sort_by_key(|c| !c.is_connected());
        let mut failures = Vec::new();
        for conn in order {
            let why = match conn.ask(cmd.clone(), self.config.connect_timeout).await {
                Ok(Value::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
                Ok(value) => match read(value) {
                    Some(Ok(answer)) => return Ok(answer),
                    Some(Err(why)) => why,
                    None => "an answer this client cannot read".to_owned(),
                },
                Err(e) => e.to_string(),
            };
            failures.push(format!("{}: {why}", conn.endpoint()));
        }
        Err(Error::connect_to(
            format!("the sentinels of service '{}'", self.service),
            format!(
                "none could say where the primary is ({}); check that the sentinels are up \
                 and that serviceName, sentinelUser and sentinelPassword are right",
                failures.join("; ")
            ),
        ))
    }

    /// A subscription to `+switch-master` on every sentinel (each on its
    /// own subscriber connection, which reconnects by itself).
    pub(crate) async fn watch_switches(&self) -> Vec<Subscription> {
        let mut subscriptions = Vec::new();
        for endpoint in &self.config.endpoints {
            let core = Arc::new(Core::new(
                self.config.clone(),
                endpoint.clone(),
                self.events.clone(),
            ));
            self.watchers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(core.clone());
            let subscriber = Subscriber::new(core).with_buffer(16, crate::Overflow::DropOldest);
            match subscriber.subscribe(["+switch-master"]).await {
                Ok(s) => subscriptions.push(s),
                Err(e) => {
                    tracing::warn!(target: "redmux", %endpoint, %e, "cannot watch a sentinel for +switch-master; the periodic check still runs")
                }
            }
        }
        subscriptions
    }

    pub(crate) async fn close(&self) {
        for conn in &self.conns {
            conn.close(Duration::ZERO).await;
        }
        let watchers =
            std::mem::take(&mut *self.watchers.lock().unwrap_or_else(|e| e.into_inner()));
        for core in watchers {
            core.close().await;
        }
    }
}

/// The new primary in a `+switch-master` message of `service`:
/// `<name> <old-ip> <old-port> <new-ip> <new-port>`.
pub(crate) fn switched_to(payload: &[u8], service: &str) -> Option<Endpoint> {
    let text = std::str::from_utf8(payload).ok()?;
    let parts: Vec<&str> = text.split_whitespace().collect();
    match parts.as_slice() {
        [name, _, _, ip, port] if *name == service => Some(Endpoint::tcp(*ip, port.parse().ok()?)),
        _ => None,
    }
}

/// One entry of `SENTINEL replicas`: its address, unless the sentinel
/// flags it down or disconnected.
fn replica_of(entry: Value) -> Option<Endpoint> {
    let pairs = map_pairs(entry, "a SENTINEL replicas entry").ok()?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| text(k).as_deref() == Some(name))
            .and_then(|(_, v)| text(v))
    };
    let flags = field("flags").unwrap_or_default();
    if ["s_down", "o_down", "disconnected"]
        .iter()
        .any(|bad| flags.split(',').any(|f| f == *bad))
    {
        return None;
    }
    Some(Endpoint::tcp(field("ip")?, field("port")?.parse().ok()?))
}

fn text(value: &Value) -> Option<String> {
    String::from_value(value.clone()).ok()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn a_switch_message_names_the_new_primary_of_its_service_only() {
        assert_eq!(
            switched_to(b"mymaster 127.0.0.1 7000 127.0.0.1 7001", "mymaster"),
            Some(Endpoint::tcp("127.0.0.1", 7001))
        );
        assert_eq!(
            switched_to(b"other 127.0.0.1 7000 127.0.0.1 7001", "mymaster"),
            None
        );
        assert_eq!(switched_to(b"mymaster garbage", "mymaster"), None);
    }

    #[test]
    fn replicas_flagged_down_are_left_out_in_both_protocols() {
        let up = Value::Array(
            ["ip", "10.0.0.2", "port", "6380", "flags", "slave"]
                .iter()
                .map(|s| bulk(s))
                .collect(),
        );
        let down = Value::Map(vec![
            (bulk("ip"), bulk("10.0.0.3")),
            (bulk("port"), bulk("6381")),
            (bulk("flags"), bulk("slave,s_down")),
        ]);
        assert_eq!(replica_of(up), Some(Endpoint::tcp("10.0.0.2", 6380)));
        assert_eq!(replica_of(down), None);
    }
}

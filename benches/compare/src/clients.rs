//! The three clients behind one small trait, each used the way its own
//! documentation shows, on ONE connection shared by every task.
//!
//! Per task, each client gets its own clone of the shared handle
//! (`Database`, `MultiplexedConnection`, `fred::Client`: all cheap clones
//! that share one socket). GET replies are read as each client's zero-copy
//! byte type (`Bytes` for redmux and fred, `Vec<u8>` for redis-rs, whose
//! `Value::BulkString` already owns a `Vec<u8>`), so no client pays for a
//! conversion the others skip.
//!
//! Socket options and timeouts are made equal on purpose:
//! * TCP_NODELAY. redmux sets it itself (src/connection/handshake.rs).
//!   redis-rs 1.8.1 does NOT: `redis::io::tcp::TcpSettings::default()` has
//!   `nodelay: false` (src/io/tcp.rs) and every `ConnectionInfo` built from
//!   a URL uses that default, so we set it explicitly with
//!   `ConnectionInfo::set_tcp_settings`. fred 10.1 leaves `TcpConfig::nodelay`
//!   at `None` (the OS default, Nagle on), so we set `Some(true)`. Leaving
//!   Nagle on in the peers would measure a socket option, not the clients.
//! * Reply timeouts: redis-rs defaults to 500 ms per response, which
//!   100 KB values at 4,096 tasks can exceed; all three get 30 s.
//! * Pipelining: redis-rs's MultiplexedConnection and fred's auto-pipelining
//!   are on by default; everything else stays at each client's default.
//!
//! The cluster run (`--cluster`) uses the same three, each as ONE client
//! that keeps one connection per primary: redmux is given every primary
//! and detects the cluster by itself; fred gets a `ServerConfig::Clustered`
//! config (same `Client` type, same options); redis-rs needs its own type,
//! [`RedisRsCluster`] (`cluster_async::ClusterConnection`), with the same
//! TCP_NODELAY and 30 s response timeout set on its builder.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use redmux::prelude::*;

pub const CLIENTS: [&str; 3] = ["redmux", "redis-rs", "fred"];

pub trait BenchClient: Clone + Send + Sync + 'static {
    type Val: AsRef<[u8]> + Send;

    fn get<'a>(
        &'a mut self,
        key: &'a str,
    ) -> impl Future<Output = Result<Option<Self::Val>, String>> + Send + 'a;

    fn set<'a>(
        &'a mut self,
        key: &'a str,
        value: &'a Bytes,
    ) -> impl Future<Output = Result<(), String>> + Send + 'a;

    /// A handle on database `db` sharing this one's connection, if the
    /// client can do that (redmux only).
    fn on_database(&self, _db: u32) -> Option<Self> {
        None
    }

    /// redmux only: (commands written, socket write calls) so far.
    fn write_stats(&self) -> Option<(u64, u64)> {
        None
    }

    fn close(self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

// ---------------------------------------------------------------- redmux

#[derive(Clone)]
pub struct Redmux {
    db: redmux::Database,
}

impl Redmux {
    /// One server, or every primary of a cluster (redmux asks the first
    /// one `CLUSTER SHARDS` and switches to cluster mode by itself).
    pub async fn connect(ports: &[u16]) -> Result<Redmux, String> {
        let endpoints: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        // syncTimeout: the same 30 s as the others (default 5 s would do,
        // but all three get the same number).
        let mux =
            redmux::Multiplexer::connect(format!("{},syncTimeout=30000", endpoints.join(",")))
                .await
                .map_err(|e| e.to_string())?;
        if ports.len() > 1 {
            match mux.cluster_stats() {
                Some(c) if c.primaries == ports.len() && c.slots_covered == 16384 => {}
                Some(c) => {
                    return Err(format!(
                        "redmux sees {} primaries and {} slots covered, expected {} and 16384",
                        c.primaries,
                        c.slots_covered,
                        ports.len()
                    ))
                }
                None => return Err("redmux did not detect the cluster".to_owned()),
            }
        }
        Ok(Redmux {
            db: mux.database(0),
        })
    }
}

impl BenchClient for Redmux {
    type Val = Bytes;

    async fn get<'a>(&'a mut self, key: &'a str) -> Result<Option<Bytes>, String> {
        self.db
            .get::<Option<Bytes>>(key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn set<'a>(&'a mut self, key: &'a str, value: &'a Bytes) -> Result<(), String> {
        match self.db.set(key, &value[..]).await {
            Ok(true) => Ok(()),
            Ok(false) => Err("SET returned false (nil) without a condition".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn on_database(&self, db: u32) -> Option<Redmux> {
        Some(Redmux {
            db: self.db.multiplexer().database(db),
        })
    }

    fn write_stats(&self) -> Option<(u64, u64)> {
        let s = self.db.multiplexer().stats();
        Some((s.commands_written, s.flushes))
    }

    async fn close(self) {
        self.db.multiplexer().close().await
    }
}

// ---------------------------------------------------------------- redis-rs

#[derive(Clone)]
pub struct RedisRs {
    conn: redis::aio::MultiplexedConnection,
}

impl RedisRs {
    pub async fn connect(port: u16) -> Result<RedisRs, String> {
        use redis::IntoConnectionInfo;
        let info = format!("redis://127.0.0.1:{port}")
            .into_connection_info()
            .map_err(|e| e.to_string())?
            // See the module comment: redis-rs 1.8.1 leaves Nagle on by default.
            .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = redis::Client::open(info).map_err(|e| e.to_string())?;
        let config =
            redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30)));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| e.to_string())?;
        Ok(RedisRs { conn })
    }
}

impl BenchClient for RedisRs {
    type Val = Vec<u8>;

    async fn get<'a>(&'a mut self, key: &'a str) -> Result<Option<Vec<u8>>, String> {
        use redis::AsyncCommands;
        self.conn
            .get::<_, Option<Vec<u8>>>(key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn set<'a>(&'a mut self, key: &'a str, value: &'a Bytes) -> Result<(), String> {
        use redis::AsyncCommands;
        // `()` accepts any non-error reply; an error reply is an Err.
        self.conn
            .set::<_, _, ()>(key, &value[..])
            .await
            .map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------- redis-rs, cluster

/// redis-rs's async cluster client: one multiplexed connection per primary
/// behind one cloneable handle, routed by slot.
#[derive(Clone)]
pub struct RedisRsCluster {
    conn: redis::cluster_async::ClusterConnection,
}

impl RedisRsCluster {
    pub async fn connect(ports: &[u16]) -> Result<RedisRsCluster, String> {
        let urls: Vec<String> = ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect();
        let client = redis::cluster::ClusterClient::builder(urls)
            // The cluster builder has its own TCP settings (nodelay off by
            // default, as for one server); see the module comment.
            .tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true))
            .response_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let conn = client
            .get_async_connection()
            .await
            .map_err(|e| e.to_string())?;
        Ok(RedisRsCluster { conn })
    }
}

impl BenchClient for RedisRsCluster {
    type Val = Vec<u8>;

    async fn get<'a>(&'a mut self, key: &'a str) -> Result<Option<Vec<u8>>, String> {
        use redis::AsyncCommands;
        self.conn
            .get::<_, Option<Vec<u8>>>(key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn set<'a>(&'a mut self, key: &'a str, value: &'a Bytes) -> Result<(), String> {
        use redis::AsyncCommands;
        self.conn
            .set::<_, _, ()>(key, &value[..])
            .await
            .map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------- fred

#[derive(Clone)]
pub struct Fred {
    client: fred::clients::Client,
}

impl Fred {
    /// One server, or every primary of a cluster.
    pub async fn connect(ports: &[u16]) -> Result<Fred, String> {
        use fred::prelude::*;
        let config = match ports {
            // A centralized config: one `Client` is one connection (a
            // `Pool` would be several).
            [port] => Config::from_url_centralized(&format!("redis://127.0.0.1:{port}"))
                .map_err(|e| e.to_string())?,
            // A clustered config: one `Client` keeps one connection per
            // primary, found from these seeds with CLUSTER SLOTS.
            _ => Config {
                server: ServerConfig::Clustered {
                    hosts: ports
                        .iter()
                        .map(|&p| fred::types::config::Server::new("127.0.0.1", p))
                        .collect(),
                    policy: Default::default(),
                },
                ..Default::default()
            },
        };
        let perf = PerformanceConfig {
            default_command_timeout: Duration::from_secs(30),
            ..Default::default()
        };
        let connection = ConnectionConfig {
            tcp: TcpConfig {
                nodelay: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        let client = Client::new(config, Some(perf), Some(connection), None);
        client.init().await.map_err(|e| e.to_string())?;
        Ok(Fred { client })
    }
}

impl BenchClient for Fred {
    type Val = Bytes;

    async fn get<'a>(&'a mut self, key: &'a str) -> Result<Option<Bytes>, String> {
        use fred::prelude::*;
        self.client
            .get::<Option<Bytes>, _>(key)
            .await
            .map_err(|e| e.to_string())
    }

    async fn set<'a>(&'a mut self, key: &'a str, value: &'a Bytes) -> Result<(), String> {
        use fred::prelude::*;
        // A `Bytes` clone is a reference count, not a copy.
        self.client
            .set::<(), _, _>(key, value.clone(), None, None, false)
            .await
            .map_err(|e| e.to_string())
    }

    async fn close(self) {
        use fred::prelude::*;
        let _ = self.client.quit().await;
    }
}

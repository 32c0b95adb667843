//! Opening one connection: the transport (see `transport`), then the handshake, all within
//! `connectTimeout`.
//!
//! The handshake is pipelined (one write, replies read in order): AUTH first
//! when credentials are set, then HELLO 3 for RESP3, SELECT for a non-zero
//! default database, CLIENT SETNAME, CLIENT SETINFO (ignored by servers that
//! lack it), `CONFIG GET databases` (how many databases the server has, so
//! the driver can pipeline SELECT and refuse a database that does not exist;
//! ignored when refused, e.g. by ACL or a renamed CONFIG), and a final PING
//! that proves the server answers commands as the configured user. The same
//! function runs for the first connect and for every reconnect, so a new
//! connection is always in the same state.
//!
//! What the handshake sends depends on the connection's [`Role`]: the
//! shared, multiplexed command connection and a leased dedicated connection
//! get all of the above; a subscriber connection skips SELECT and the
//! database count (channels do not belong to a database). Replica
//! (READONLY) connections will differ here and nowhere else.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::transport::{self, Stream};
use crate::cmd::Cmd;
use crate::config::{Config, Endpoint, Protocol};
use crate::error::{Error, Result};
use crate::resp::{Decoder, Limits, Value};

/// A connection that has passed the handshake.
pub(crate) struct Established {
    pub(crate) stream: Stream,
    pub(crate) session: Session,
}

/// What the handshake left the pipeline to know about a new connection.
pub(crate) struct Session {
    /// Bytes read after the last handshake reply (normally empty).
    pub(crate) leftover: BytesMut,
    /// The database the connection is in.
    pub(crate) db: u32,
    /// How many databases the server has (`CONFIG GET databases`), if it said.
    pub(crate) databases: Option<u32>,
}

/// What a connection is for; decides its handshake.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Role {
    /// The shared connection that carries every caller's commands.
    Multiplexed,
    /// The connection that carries every subscription (`mux.subscriber()`).
    Subscriber,
    /// An exclusive connection leased by one caller (`mux.dedicated()`).
    Dedicated,
    /// A multiplexed connection to a cluster replica that serves reads:
    /// `READONLY` is sent in the handshake.
    Replica,
    /// A multiplexed connection to a replica of a standalone primary
    /// (listed in the configuration, or found by Sentinel): it serves
    /// reads as it is, no `READONLY` (a cluster-only command).
    StandaloneReplica,
    /// A connection to a Sentinel: no `SELECT`, no `CONFIG GET` (a
    /// sentinel has neither).
    Sentinel,
}

/// What a failed step of the handshake means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// AUTH, HELLO, PING: failure means the connection is unusable.
    Required,
    /// SELECT, SETNAME: failure is a configuration problem, reported as such.
    Configured,
    /// CLIENT SETINFO: older servers do not know it; ignore failure.
    Optional,
    /// CONFIG GET databases: the server's database count, if it tells.
    Databases,
}

/// Connects to `endpoint` and runs the handshake, within `connectTimeout`.
pub(crate) async fn connect(
    endpoint: Endpoint,
    config: Arc<Config>,
    role: Role,
) -> Result<Established> {
    let budget = config.connect_timeout;
    match tokio::time::timeout(
        budget,
        connect_inner(&endpoint, &config, role, config.resp_limits),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(Error::connect(
            &endpoint,
            format!(
                "connect and handshake took longer than connectTimeout ({} ms)",
                budget.as_millis()
            ),
            None,
        )),
    }
}

async fn connect_inner(
    endpoint: &Endpoint,
    config: &Config,
    role: Role,
    limits: Limits,
) -> Result<Established> {
    let mut stream = transport::connect(endpoint, config).await?;

    let steps = handshake_commands(config, role);
    let mut out = BytesMut::new();
    for (_, cmd) in &steps {
        out.extend_from_slice(&cmd.clone().into_bytes());
    }
    stream
        .write_all(&out)
        .await
        .map_err(|e| Error::connect(endpoint, format!("handshake write failed: {e}"), Some(e)))?;

    let mut decoder = Decoder::new(limits);
    let mut buf = BytesMut::with_capacity(4096);
    let mut databases = None;
    for (step, cmd) in &steps {
        let reply = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(Value::Push(_))) => continue,
                Ok(Some(v)) => break v,
                Ok(None) => {}
                Err(e) => return Err(Error::protocol(&endpoint.to_string(), e)),
            }
            let n = stream.read_buf(&mut buf).await.map_err(|e| {
                Error::connect(endpoint, format!("handshake read failed: {e}"), Some(e))
            })?;
            if n == 0 {
                return Err(Error::connect(
                    endpoint,
                    format!(
                        "server closed the connection during the handshake (at {})",
                        cmd.name()
                    ),
                    None,
                ));
            }
        };
        if *step == Step::Databases {
            databases = database_count(&reply);
            continue;
        }
        if let Value::Error(text) = &reply {
            let text = String::from_utf8_lossy(text).into_owned();
            match step {
                Step::Optional | Step::Databases => {}
                Step::Required if cmd.name() == "HELLO" => {
                    return Err(Error::connect(
                        endpoint,
                        format!("protocol=resp3 needs Redis 6 or later; HELLO 3 failed: {text}"),
                        None,
                    ))
                }
                Step::Required => return Err(Error::auth(cmd.name(), text)),
                Step::Configured => {
                    return Err(Error::connect(
                        endpoint,
                        format!("{} failed: {text}; check the configuration", cmd.name()),
                        None,
                    ))
                }
            }
        }
    }
    Ok(Established {
        stream,
        session: Session {
            leftover: buf,
            db: config.default_database,
            databases,
        },
    })
}

/// The count from a `CONFIG GET databases` reply: `["databases", "16"]`
/// in RESP2, `{databases: "16"}` in RESP3; `None` for anything else (an
/// error, or a server that hides the setting).
fn database_count(reply: &Value) -> Option<u32> {
    let value = match reply {
        Value::Array(items) => items.get(1)?,
        Value::Map(pairs) => &pairs.first()?.1,
        _ => return None,
    };
    let count = match value {
        Value::BulkString(b) | Value::SimpleString(b) => {
            std::str::from_utf8(b).ok()?.parse().ok()?
        }
        Value::Int(n) => u32::try_from(*n).ok()?,
        _ => return None,
    };
    (count > 0).then_some(count)
}

/// The handshake's commands, in order.
fn handshake_commands(config: &Config, role: Role) -> Vec<(Step, Cmd)> {
    let mut steps = Vec::new();
    // A user without a password still authenticates (as an ACL user with
    // `nopass`, which accepts any password), rather than being ignored.
    if config.password.is_some() || config.user.is_some() {
        let mut auth = Cmd::new("AUTH");
        if let Some(user) = &config.user {
            auth.push_arg(user.as_str());
        }
        auth.push_arg(config.password.as_ref().map_or("", |p| p.expose()));
        steps.push((Step::Required, auth));
    }
    if config.protocol == Protocol::Resp3 {
        steps.push((Step::Required, Cmd::new("HELLO").arg(3)));
    }
    if config.default_database != 0 && !matches!(role, Role::Subscriber | Role::Sentinel) {
        steps.push((
            Step::Configured,
            Cmd::new("SELECT").arg(config.default_database),
        ));
    }
    if let Some(name) = &config.client_name {
        steps.push((
            Step::Configured,
            Cmd::new("CLIENT").arg("SETNAME").arg(name.as_str()),
        ));
    }
    if config.set_lib {
        steps.push((
            Step::Optional,
            Cmd::new("CLIENT")
                .arg("SETINFO")
                .arg("LIB-NAME")
                .arg("redmux"),
        ));
        steps.push((
            Step::Optional,
            Cmd::new("CLIENT")
                .arg("SETINFO")
                .arg("LIB-VER")
                .arg(env!("CARGO_PKG_VERSION")),
        ));
    }
    if !matches!(role, Role::Subscriber | Role::Sentinel) {
        steps.push((
            Step::Databases,
            Cmd::new("CONFIG").arg("GET").arg("databases"),
        ));
    }
    if role == Role::Replica {
        steps.push((Step::Required, Cmd::new("READONLY")));
    }
    steps.push((Step::Required, Cmd::new("PING")));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Password;

    #[test]
    fn auth_comes_first_and_ping_last() {
        let config = Config {
            password: Some(Password::new("pw")),
            user: Some("app".into()),
            protocol: Protocol::Resp3,
            default_database: 2,
            client_name: Some("web".into()),
            ..Config::default()
        };
        let names: Vec<String> = handshake_commands(&config, Role::Multiplexed)
            .iter()
            .map(|(_, c)| {
                format!(
                    "{} {}",
                    c.name(),
                    c.args()
                        .first()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "AUTH app",
                "HELLO 3",
                "SELECT 2",
                "CLIENT SETNAME",
                "CLIENT SETINFO",
                "CLIENT SETINFO",
                "CONFIG GET",
                "PING "
            ]
        );
    }

    #[test]
    fn minimal_handshake_asks_the_database_count_and_pings() {
        let config = Config {
            set_lib: false,
            ..Config::default()
        };
        let steps = handshake_commands(&config, Role::Multiplexed);
        let names: Vec<&str> = steps.iter().map(|(_, c)| c.name()).collect();
        assert_eq!(names, ["CONFIG", "PING"]);
    }

    #[test]
    fn a_subscriber_connection_skips_select_and_the_database_count() {
        let config = Config {
            default_database: 3,
            set_lib: false,
            ..Config::default()
        };
        let names = |role| {
            handshake_commands(&config, role)
                .iter()
                .map(|(_, c)| c.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Role::Subscriber), ["PING"]);
        assert_eq!(names(Role::Dedicated), ["SELECT", "CONFIG", "PING"]);
    }

    #[test]
    fn database_count_is_read_from_resp2_and_resp3_replies() {
        let bulk = |s: &'static str| Value::BulkString(s.into());
        assert_eq!(
            database_count(&Value::Array(vec![bulk("databases"), bulk("16")])),
            Some(16)
        );
        assert_eq!(
            database_count(&Value::Map(vec![(bulk("databases"), bulk("4"))])),
            Some(4)
        );
        for reply in [
            Value::Error("NOPERM this user has no permissions".into()),
            Value::Array(vec![]),
            Value::Array(vec![bulk("databases"), bulk("lots")]),
            Value::Array(vec![bulk("databases"), bulk("0")]),
            Value::Nil,
        ] {
            assert_eq!(database_count(&reply), None, "{reply:?}");
        }
    }
}

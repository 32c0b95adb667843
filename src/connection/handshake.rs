//! Opening one connection: the transport (see `transport`), then the handshake, all within
//! `connectTimeout`.
//!
//! The handshake is pipelined (one write, replies read in order): AUTH first
//! when credentials are set, then HELLO 3 for RESP3, SELECT for a non-zero
//! default database, CLIENT SETNAME, CLIENT SETINFO (ignored by servers that
//! lack it), and a final PING that proves the server answers commands as the
//! configured user. The same function runs for the first connect and for
//! every reconnect, so a new connection is always in the same state.

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
    /// Bytes read after the last handshake reply (normally empty).
    pub(crate) leftover: BytesMut,
    /// The database the connection is in.
    pub(crate) db: u32,
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
}

/// Connects to `endpoint` and runs the handshake, within `connectTimeout`.
pub(crate) async fn connect(endpoint: Endpoint, config: Arc<Config>) -> Result<Established> {
    let budget = config.connect_timeout;
    match tokio::time::timeout(
        budget,
        connect_inner(&endpoint, &config, config.resp_limits),
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
    limits: Limits,
) -> Result<Established> {
    let mut stream = transport::connect(endpoint, config).await?;

    let steps = handshake_commands(config);
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
        if let Value::Error(text) = &reply {
            let text = String::from_utf8_lossy(text).into_owned();
            match step {
                Step::Optional => {}
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
        leftover: buf,
        db: config.default_database,
    })
}

/// The handshake's commands, in order.
fn handshake_commands(config: &Config) -> Vec<(Step, Cmd)> {
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
    if config.default_database != 0 {
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
        let names: Vec<String> = handshake_commands(&config)
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
                "PING "
            ]
        );
    }

    #[test]
    fn minimal_handshake_is_setinfo_and_ping() {
        let config = Config {
            set_lib: false,
            ..Config::default()
        };
        let steps = handshake_commands(&config);
        let names: Vec<&str> = steps.iter().map(|(_, c)| c.name()).collect();
        assert_eq!(names, ["PING"]);
    }
}

//! TLS settings: [`TlsConfig`] (what `ssl`, `sslHost`, `sslCaCert`,
//! `sslCert`, `sslKey` and `sslInsecure` set) and the check of combinations
//! that cannot work, shared by the parsers and the transport.
//!
//! Only file paths live here, never key material, so `Debug` can show every
//! field. The transport turns them into a rustls client configuration once
//! per `Config` and keeps it in a private slot of the `TlsConfig`, so
//! reconnects do not read the files again.

use std::fmt;
use std::path::PathBuf;

use super::{Config, ConfigError, Endpoint};

/// How to secure TCP connections with TLS. `Config::tls` holds one when TLS
/// is on (`ssl=true`, or a `rediss://` URL).
///
/// The server's certificate is checked against the trusted roots (the
/// operating system's store, or `ca_cert` alone when set) and against the
/// server name (`server_name`, or else the endpoint's host). Needs the
/// crate's `tls` feature (on by default) to connect.
///
/// ```
/// use redmux::{Config, TlsConfig};
///
/// // From a configuration string ...
/// let c = Config::parse("redis.internal:6380,ssl=true,sslCaCert=/etc/redis/ca.pem")?;
/// let tls = c.tls.as_ref().expect("ssl=true turns TLS on");
/// assert_eq!(tls.ca_cert.as_deref(), Some(std::path::Path::new("/etc/redis/ca.pem")));
///
/// // ... or in code.
/// let mut tls = TlsConfig::default();
/// tls.server_name = Some("redis.internal".into());
/// tls.client_cert = Some("/etc/redis/client.pem".into());
/// tls.client_key = Some("/etc/redis/client.key".into());
/// let mut c = Config::parse("10.0.0.5:6380")?;
/// c.tls = Some(tls);
/// # Ok::<(), redmux::ConfigError>(())
/// ```
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TlsConfig {
    /// The name the server's certificate must be valid for (key `sslHost`);
    /// `None` means the endpoint's host (name or IP address).
    pub server_name: Option<String>,
    /// A PEM file of the certificate authorities to trust instead of the
    /// operating system's store (key `sslCaCert`, like redis-cli's
    /// `--cacert`).
    pub ca_cert: Option<PathBuf>,
    /// A PEM file with the client certificate (and any intermediates) to
    /// present, for servers that set `tls-auth-clients` (key `sslCert`).
    /// Needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// A PEM file with the private key of `client_cert` (key `sslKey`).
    pub client_key: Option<PathBuf>,
    /// Accept any server certificate (key `sslInsecure`). **Dangerous**:
    /// anyone who can intercept the connection can read and change all of
    /// its traffic, including the password. For tests only; every connection
    /// made with it logs a warning through `tracing`.
    pub insecure: bool,
    /// The rustls configuration built from the fields above on first use.
    #[cfg(feature = "tls")]
    pub(crate) prepared: Prepared,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths and flags only; the prepared rustls configuration (which
        // holds the client key once loaded) is left out.
        f.debug_struct("TlsConfig")
            .field("server_name", &self.server_name)
            .field("ca_cert", &self.ca_cert)
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The rustls client configuration made from a [`TlsConfig`], built by the
/// transport on the first connection and reused by every reconnect.
///
/// A clone starts empty (its fields may be changed before it is used), and
/// it takes no part in equality.
#[cfg(feature = "tls")]
#[derive(Default)]
pub(crate) struct Prepared(std::sync::OnceLock<std::sync::Arc<rustls::ClientConfig>>);

#[cfg(feature = "tls")]
impl Prepared {
    /// The configuration built earlier, if any.
    pub(crate) fn get(&self) -> Option<std::sync::Arc<rustls::ClientConfig>> {
        self.0.get().cloned()
    }

    /// Keeps `built` for later connections (a concurrent first build may
    /// win instead; both are equivalent).
    pub(crate) fn keep(&self, built: std::sync::Arc<rustls::ClientConfig>) {
        let _ = self.0.set(built);
    }
}

#[cfg(feature = "tls")]
impl Clone for Prepared {
    fn clone(&self) -> Self {
        Prepared::default()
    }
}

#[cfg(feature = "tls")]
impl PartialEq for Prepared {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Refuses TLS settings that cannot work: a client certificate without its
/// key (or the reverse), and TLS towards a Unix socket.
pub(crate) fn check_tls(config: &Config) -> Result<(), ConfigError> {
    let Some(tls) = &config.tls else {
        return Ok(());
    };
    match (&tls.client_cert, &tls.client_key) {
        (Some(_), None) => {
            return Err(ConfigError::new(
                Some("sslCert"),
                "'sslCert' (the client certificate) needs 'sslKey' (its private key, a PEM \
                 file); set both or neither",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                Some("sslKey"),
                "'sslKey' (a client private key) needs 'sslCert' (its certificate, a PEM \
                 file); set both or neither",
            ))
        }
        _ => {}
    }
    if let Some(socket) = config
        .endpoints
        .iter()
        .find(|e| matches!(e, Endpoint::Unix { .. }))
    {
        return Err(ConfigError::new(
            Some("ssl"),
            format!(
                "TLS is on but '{socket}' is a Unix socket, which redmux does not wrap in TLS; \
                 remove ssl=true (a local socket needs no TLS) or connect over TCP"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{parse_err, parse_ok};
    use std::path::Path;

    #[test]
    fn ssl_true_turns_tls_on_with_defaults() {
        let c = parse_ok("h:6380,ssl=true");
        let tls = c.tls.expect("tls on");
        assert_eq!(tls, TlsConfig::default());
        assert!(!tls.insecure);
        assert!(parse_ok("h,ssl=false").tls.is_none());
        assert!(parse_ok("h").tls.is_none());
        assert!(parse_ok("h,ssl=true,ssl=false").tls.is_none(), "later wins");
    }

    #[test]
    fn every_tls_key_is_parsed_in_any_order_and_case() {
        let c = parse_ok(
            "h,SSLCACERT=/ca.pem,sslcert=/c.pem,sslKey=/c.key,sslHost=redis.example,\
             sslInsecure=true,SSL=True",
        );
        let tls = c.tls.expect("tls on");
        assert_eq!(tls.ca_cert.as_deref(), Some(Path::new("/ca.pem")));
        assert_eq!(tls.client_cert.as_deref(), Some(Path::new("/c.pem")));
        assert_eq!(tls.client_key.as_deref(), Some(Path::new("/c.key")));
        assert_eq!(tls.server_name.as_deref(), Some("redis.example"));
        assert!(tls.insecure);
    }

    #[test]
    fn rediss_url_turns_tls_on_and_takes_tls_query_keys() {
        let c = parse_ok("rediss://:pw@h:6380/1?sslCaCert=%2Fetc%2Fca.pem&sslHost=h.example");
        let tls = c.tls.expect("tls on");
        assert_eq!(tls.ca_cert.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(tls.server_name.as_deref(), Some("h.example"));
        assert_eq!(c.endpoints, vec![Endpoint::tcp("h", 6380)]);
        assert_eq!(c.default_database, 1);
        assert!(parse_ok("REDISS://h").tls.is_some());
        assert!(parse_ok("rediss://h?ssl=false").tls.is_none());
        assert!(parse_ok("redis://h?ssl=true").tls.is_some());
    }

    #[test]
    fn tls_keys_without_tls_are_errors_naming_the_key() {
        for (input, key) in [
            ("h,sslCaCert=/ca.pem", "sslCaCert"),
            ("h,sslHost=x", "sslHost"),
            ("h,sslInsecure=true", "sslInsecure"),
            ("h,ssl=false,sslCert=/c,sslKey=/k", "sslCert"),
            ("redis://h?sslKey=/k", "sslKey"),
            ("rediss://h?sslHost=x&ssl=false", "sslHost"),
        ] {
            let e = parse_err(input);
            assert_eq!(e.key.as_deref(), Some(key), "{input}");
            assert!(e.message.contains("TLS is off"), "{input}: {e}");
            assert!(e.message.contains("ssl=true"), "{input}: {e}");
        }
    }

    #[test]
    fn client_certificate_and_key_go_together() {
        let e = parse_err("h,ssl=true,sslCert=/c.pem");
        assert_eq!(e.key.as_deref(), Some("sslCert"));
        assert!(e.message.contains("needs 'sslKey'"), "{e}");
        let e = parse_err("rediss://h?sslKey=/c.key");
        assert_eq!(e.key.as_deref(), Some("sslKey"));
        assert!(e.message.contains("needs 'sslCert'"), "{e}");
    }

    #[test]
    fn tls_with_a_unix_socket_is_an_error() {
        for input in ["/tmp/r.sock,ssl=true", "unix:///tmp/r.sock?ssl=true"] {
            let e = parse_err(input);
            assert_eq!(e.key.as_deref(), Some("ssl"), "{input}");
            assert!(e.message.contains("'/tmp/r.sock' is a Unix socket"), "{e}");
        }
    }

    #[test]
    fn tls_settings_round_trip_through_to_config_string() {
        let text = "h:1,ssl=true,sslHost=n.example,sslCaCert=/a/ca.pem,sslCert=/a/c.pem,\
                    sslKey=/a/c.key,sslInsecure=true";
        let c = parse_ok(text);
        assert_eq!(c.to_config_string(), text);
        assert!(parse_ok(&c.to_config_string()) == c);
        let plain = parse_ok("h:1,ssl=true");
        assert_eq!(plain.to_config_string(), "h:1,ssl=true");
    }

    #[test]
    fn tls_debug_shows_paths_and_flags_only() {
        let c = parse_ok("h,ssl=true,sslCert=/c.pem,sslKey=/c.key,password=hunter2");
        let debug = format!("{c:?}");
        assert!(debug.contains("client_key: Some(\"/c.key\")"), "{debug}");
        assert!(!debug.contains("prepared"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn check_tls_refuses_bad_combinations_built_in_code() {
        let mut c = parse_ok("h");
        c.tls = Some(TlsConfig {
            client_key: Some("/k".into()),
            ..TlsConfig::default()
        });
        assert_eq!(check_tls(&c).unwrap_err().key.as_deref(), Some("sslKey"));
        c.tls = Some(TlsConfig::default());
        assert!(check_tls(&c).is_ok());
        c.endpoints.push(Endpoint::unix("/s"));
        assert_eq!(check_tls(&c).unwrap_err().key.as_deref(), Some("ssl"));
    }
}

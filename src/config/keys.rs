//! The option keys: their canonical spellings, the StackExchange.Redis keys
//! that are recognised but not supported yet, and [`apply_option`], which
//! sets one `key=value` on a [`Draft`] (a [`Config`] being read). Both the
//! string form and the URL form go through it, so a key means the same in
//! either.

use std::path::PathBuf;
use std::time::Duration;

use super::tls::{check_tls, TlsConfig};
use super::{BacklogPolicy, Config, ConfigError, Overflow, Password, Protocol};

/// A configuration being read: the options applied so far, and the TLS
/// settings, which are only judged once the whole input is read (`ssl=true`
/// may come after `sslCaCert=...`).
pub(super) struct Draft {
    /// Everything but TLS, as applied so far.
    pub(super) config: Config,
    /// The last `ssl` value given (a `rediss://` URL counts as `ssl=true`).
    ssl: bool,
    /// The `ssl*` settings given so far.
    tls: TlsConfig,
    /// The first `ssl*` key given (canonical spelling), to name in an error
    /// if TLS ends up off.
    first_tls_key: Option<&'static str>,
}

impl Draft {
    pub(super) fn new() -> Draft {
        Draft {
            config: Config::default(),
            ssl: false,
            tls: TlsConfig::default(),
            first_tls_key: None,
        }
    }

    /// Turns TLS on or off, as `ssl=` does.
    pub(super) fn set_ssl(&mut self, on: bool) {
        self.ssl = on;
    }

    /// The finished configuration, once the TLS settings are consistent.
    pub(super) fn finish(self) -> Result<Config, ConfigError> {
        let Draft {
            mut config,
            ssl,
            tls,
            first_tls_key,
        } = self;
        if ssl {
            config.tls = Some(tls);
        } else if let Some(key) = first_tls_key {
            return Err(ConfigError::new(
                Some(key),
                format!(
                    "'{key}' is a TLS option but TLS is off; add ssl=true (or use a rediss:// \
                     URL), or remove {key}"
                ),
            ));
        }
        check_tls(&config)?;
        Ok(config)
    }

    fn tls_option(&mut self, key: &'static str) -> &mut TlsConfig {
        self.first_tls_key.get_or_insert(key);
        &mut self.tls
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    AbortConnect,
    AllowAdmin,
    AsyncTimeout,
    ConnectRetry,
    ConnectTimeout,
    DefaultDatabase,
    KeepAlive,
    MaxBytesInFlight,
    Name,
    Password,
    Protocol,
    SetLib,
    Ssl,
    SslCaCert,
    SslClientCert,
    SslHost,
    SslInsecure,
    SslKeyFile,
    SyncTimeout,
    BacklogPolicy,
    BacklogLimit,
    StallTimeout,
    User,
    ChannelPrefix,
    SubscriptionBuffer,
    SubscriptionOverflow,
    MaxDedicated,
    ConfigCheck,
    ServiceName,
    SentinelUser,
    SentinelPassword,
}

/// Supported keys, canonical spelling, in the order listed in messages.
pub(super) const SUPPORTED_KEYS: [(&str, Key); 31] = [
    ("abortConnect", Key::AbortConnect),
    ("allowAdmin", Key::AllowAdmin),
    ("asyncTimeout", Key::AsyncTimeout),
    ("backlogLimit", Key::BacklogLimit),
    ("backlogPolicy", Key::BacklogPolicy),
    ("channelPrefix", Key::ChannelPrefix),
    ("configCheckSeconds", Key::ConfigCheck),
    ("connectRetry", Key::ConnectRetry),
    ("connectTimeout", Key::ConnectTimeout),
    ("defaultDatabase", Key::DefaultDatabase),
    ("keepAlive", Key::KeepAlive),
    ("maxBytesInFlight", Key::MaxBytesInFlight),
    ("maxDedicated", Key::MaxDedicated),
    ("name", Key::Name),
    ("password", Key::Password),
    ("protocol", Key::Protocol),
    ("sentinelPassword", Key::SentinelPassword),
    ("sentinelUser", Key::SentinelUser),
    ("serviceName", Key::ServiceName),
    ("setlib", Key::SetLib),
    ("ssl", Key::Ssl),
    ("sslCaCert", Key::SslCaCert),
    ("sslCert", Key::SslClientCert),
    ("sslHost", Key::SslHost),
    ("sslInsecure", Key::SslInsecure),
    ("sslKey", Key::SslKeyFile),
    ("stallTimeout", Key::StallTimeout),
    ("subscriptionBuffer", Key::SubscriptionBuffer),
    ("subscriptionOverflow", Key::SubscriptionOverflow),
    ("syncTimeout", Key::SyncTimeout),
    ("user", Key::User),
];

/// SE.Redis keys redmux recognises but does not implement yet, with a hint.
const NOT_YET_SUPPORTED_KEYS: [(&str, &str); 9] = [
    (
        "sslProtocols",
        "choosing TLS versions is not supported yet; TLS 1.2 and 1.3 are offered",
    ),
    (
        "checkCertificateRevocation",
        "certificate revocation checks are not supported yet",
    ),
    ("tiebreaker", "topology options are not supported yet"),
    ("configChannel", "topology options are not supported yet"),
    ("proxy", "proxies are not supported yet"),
    ("tunnel", "tunnels are not supported yet"),
    ("version", "server version hints are not supported yet"),
    ("resolveDns", "DNS options are not supported yet"),
    ("highIntegrity", "high-integrity mode is not supported yet"),
];

fn supported_key_list() -> String {
    let names: Vec<&str> = SUPPORTED_KEYS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

/// Why text after `password=` is withheld from error messages.
pub(super) const HIDDEN_REASON: &str =
    "because it follows 'password=' and may be part of the password \
                             (a password containing ',' must be given in a redis:// URL as %2C)";

/// Quotes `text` for an error message, or says it is withheld because it may
/// be part of a password.
fn shown(text: &str, echo: bool) -> String {
    if echo {
        format!("'{text}'")
    } else {
        format!("a value not shown {HIDDEN_REASON}")
    }
}

/// Applies one `key=value` option. `echo` is false when the text may contain
/// password fragments and must not appear in an error message.
pub(super) fn apply_option(
    draft: &mut Draft,
    key: &str,
    value: &str,
    echo: bool,
) -> Result<(), ConfigError> {
    let key = key.trim();
    let value = value.trim();
    if key.is_empty() {
        return Err(ConfigError::new(
            None,
            "an option has an empty key before '='; write key=value, e.g. syncTimeout=2000",
        ));
    }
    let found = SUPPORTED_KEYS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key));
    let (name, which) = match found {
        Some(&(name, which)) => (name, which),
        None => {
            if let Some(&(name, hint)) = NOT_YET_SUPPORTED_KEYS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
            {
                return Err(ConfigError::new(
                    Some(name),
                    format!(
                        "'{name}' is a StackExchange.Redis option that is not supported yet by \
                         redmux ({hint}); remove it. Supported keys: {}",
                        supported_key_list()
                    ),
                ));
            }
            return Err(if echo {
                ConfigError::new(
                    Some(key),
                    format!(
                        "unknown key '{key}'; supported keys: {}",
                        supported_key_list()
                    ),
                )
            } else {
                ConfigError::new(
                    None,
                    format!(
                        "unknown key, not shown {HIDDEN_REASON}; supported keys: {}",
                        supported_key_list()
                    ),
                )
            });
        }
    };
    let config = &mut draft.config;
    match which {
        Key::AbortConnect => config.abort_connect = parse_bool(name, value, echo)?,
        Key::AllowAdmin => config.allow_admin = parse_bool(name, value, echo)?,
        Key::SetLib => config.set_lib = parse_bool(name, value, echo)?,
        Key::AsyncTimeout => {
            let ms = parse_u32(name, value, "a whole number of milliseconds", echo)?;
            config.async_timeout = Some(Duration::from_millis(u64::from(ms)));
        }
        Key::SyncTimeout => {
            let ms = parse_u32(name, value, "a whole number of milliseconds", echo)?;
            config.sync_timeout = Duration::from_millis(u64::from(ms));
        }
        Key::ConnectTimeout => {
            let ms = parse_u32(name, value, "a whole number of milliseconds", echo)?;
            config.connect_timeout = Duration::from_millis(u64::from(ms));
        }
        Key::KeepAlive => {
            let secs = parse_u32(name, value, "a whole number of seconds", echo)?;
            config.keep_alive = Duration::from_secs(u64::from(secs));
        }
        Key::ConnectRetry => {
            config.connect_retry = parse_u32(name, value, "a whole number of attempts", echo)?;
        }
        Key::DefaultDatabase => {
            config.default_database = parse_u32(name, value, "a database number", echo)?;
        }
        Key::Protocol => config.protocol = parse_protocol(name, value, echo)?,
        Key::BacklogPolicy => {
            config.backlog_policy =
                if value.eq_ignore_ascii_case("queue") || value.eq_ignore_ascii_case("default") {
                    BacklogPolicy::Queue
                } else if value.eq_ignore_ascii_case("failFast") {
                    BacklogPolicy::FailFast
                } else {
                    return Err(ConfigError::new(
                        Some(name),
                        format!(
                            "'{name}' expects queue or failFast, got {}",
                            shown(value, echo)
                        ),
                    ));
                }
        }
        Key::BacklogLimit => {
            config.backlog_limit =
                parse_u32(name, value, "a whole number of commands", echo)? as usize;
        }
        Key::MaxBytesInFlight => {
            let bytes = value
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| value.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| {
                    ConfigError::new(
                        Some(name),
                        format!(
                            "'{name}' expects a whole number of bytes (0 for no bound), got {}",
                            shown(value, echo)
                        ),
                    )
                })?;
            config.max_bytes_in_flight = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        Key::StallTimeout => {
            let ms = parse_u32(
                name,
                value,
                "a whole number of milliseconds (0 turns it off)",
                echo,
            )?;
            config.stall_timeout = Duration::from_millis(u64::from(ms));
        }
        Key::ChannelPrefix => config.channel_prefix = non_empty(value),
        Key::SubscriptionBuffer => {
            let n = parse_u32(name, value, "a number of messages, at least 1", echo)?;
            if n == 0 {
                return Err(ConfigError::new(
                    Some(name),
                    format!("'{name}' must be at least 1 (messages a subscription holds)"),
                ));
            }
            config.subscription_buffer = n as usize;
        }
        Key::SubscriptionOverflow => {
            config.subscription_overflow = if value.eq_ignore_ascii_case("dropOldest") {
                Overflow::DropOldest
            } else if value.eq_ignore_ascii_case("close") {
                Overflow::Close
            } else {
                return Err(ConfigError::new(
                    Some(name),
                    format!(
                        "'{name}' expects dropOldest or close, got {}",
                        shown(value, echo)
                    ),
                ));
            }
        }
        Key::ConfigCheck => {
            let secs = parse_u32(
                name,
                value,
                "a whole number of seconds (0 turns it off)",
                echo,
            )?;
            config.config_check = Duration::from_secs(u64::from(secs));
        }
        Key::MaxDedicated => {
            config.max_dedicated = parse_u32(name, value, "a number of connections", echo)?;
        }
        Key::Name => config.client_name = non_empty(value),
        Key::User => config.user = non_empty(value),
        Key::ServiceName => config.service_name = non_empty(value),
        Key::SentinelUser => config.sentinel_user = non_empty(value),
        Key::SentinelPassword => config.sentinel_password = non_empty(value).map(Password),
        Key::Password => config.password = non_empty(value).map(Password),
        Key::Ssl => draft.ssl = parse_bool(name, value, echo)?,
        Key::SslHost => draft.tls_option(name).server_name = non_empty(value),
        Key::SslCaCert => draft.tls_option(name).ca_cert = non_empty(value).map(PathBuf::from),
        Key::SslClientCert => {
            draft.tls_option(name).client_cert = non_empty(value).map(PathBuf::from)
        }
        Key::SslKeyFile => draft.tls_option(name).client_key = non_empty(value).map(PathBuf::from),
        Key::SslInsecure => draft.tls_option(name).insecure = parse_bool(name, value, echo)?,
    }
    Ok(())
}

/// True for keys whose values are secrets (never quoted in errors).
pub(super) fn is_secret_key(key: &str) -> bool {
    let key = key.trim();
    key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sentinelPassword")
}

pub(super) fn non_empty(value: &str) -> Option<String> {
    if value.is_empty() {
        None
    } else {
        Some(value.to_owned())
    }
}

fn parse_bool(key: &str, value: &str, echo: bool) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::new(
            Some(key),
            format!("'{key}' expects true or false, got {}", shown(value, echo)),
        ))
    }
}

/// Parses a non-negative decimal integer: digits only (no sign, no spaces),
/// at most `u32::MAX`. Keeping durations within `u32` units (at most ~49 days
/// of milliseconds or ~136 years of seconds) keeps `Instant::now() + d` far
/// from overflowing.
pub(super) fn parse_u32(
    key: &str,
    value: &str,
    what: &str,
    echo: bool,
) -> Result<u32, ConfigError> {
    let bad = || {
        ConfigError::new(
            Some(key),
            format!(
                "'{key}' expects {what} (0 to {}), got {}",
                u32::MAX,
                shown(value, echo)
            ),
        )
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    value.parse::<u32>().map_err(|_| bad())
}

fn parse_protocol(key: &str, value: &str, echo: bool) -> Result<Protocol, ConfigError> {
    if value.eq_ignore_ascii_case("resp2") || value == "2" {
        Ok(Protocol::Resp2)
    } else if value.eq_ignore_ascii_case("resp3") || value == "3" {
        Ok(Protocol::Resp3)
    } else {
        Err(ConfigError::new(
            Some(key),
            format!(
                "'{key}' expects resp2 or resp3 (or 2 or 3), got {}",
                shown(value, echo)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::tests::{ms, parse_err, parse_ok};
    use crate::config::{BacklogPolicy, Endpoint, Password, Protocol};

    #[test]
    fn every_supported_key_is_parsed() {
        let c = parse_ok(
            "h:1,abortConnect=false,allowAdmin=true,asyncTimeout=1500,syncTimeout=2500,\
             connectRetry=7,connectTimeout=900,defaultDatabase=12,keepAlive=30,name=worker-1,\
             password=pw,user=alice,protocol=resp3,setlib=false",
        );
        assert_eq!(c.endpoints, vec![Endpoint::new("h", 1)]);
        assert!(!c.abort_connect);
        assert!(c.allow_admin);
        assert_eq!(c.async_timeout, Some(ms(1500)));
        assert_eq!(c.sync_timeout, ms(2500));
        assert_eq!(c.connect_retry, 7);
        assert_eq!(c.connect_timeout, ms(900));
        assert_eq!(c.default_database, 12);
        assert_eq!(c.keep_alive, Duration::from_secs(30));
        assert_eq!(c.client_name.as_deref(), Some("worker-1"));
        assert_eq!(c.password.as_ref().map(Password::expose), Some("pw"));
        assert_eq!(c.user.as_deref(), Some("alice"));
        assert_eq!(c.protocol, Protocol::Resp3);
        assert!(!c.set_lib);
    }

    #[test]
    fn pubsub_and_dedicated_keys_parse_round_trip_and_reject_bad_values() {
        let d = parse_ok("h");
        assert_eq!(d.channel_prefix, None);
        assert_eq!(d.subscription_buffer, 1024);
        assert_eq!(d.subscription_overflow, crate::config::Overflow::DropOldest);
        assert_eq!(d.max_dedicated, 8);
        let c = parse_ok(
            "h,channelPrefix=app1:,subscriptionBuffer=50,subscriptionOverflow=CLOSE,maxDedicated=0",
        );
        assert_eq!(c.channel_prefix.as_deref(), Some("app1:"));
        assert_eq!(c.subscription_buffer, 50);
        assert_eq!(c.subscription_overflow, crate::config::Overflow::Close);
        assert_eq!(c.max_dedicated, 0);
        assert!(
            parse_ok(&c.to_config_string()) == c,
            "{}",
            c.to_config_string()
        );
        let e = parse_err("h,subscriptionBuffer=0");
        assert!(e.message.contains("at least 1"), "{e}");
        let e = parse_err("h,subscriptionOverflow=block");
        assert!(e.message.contains("dropOldest or close"), "{e}");
        let e = parse_err("h,maxDedicated=-1");
        assert_eq!(e.key.as_deref(), Some("maxDedicated"));
    }

    #[test]
    fn keys_and_boolean_values_are_case_insensitive() {
        let c = parse_ok("h,SYNCTIMEOUT=10,synctimeout=20,AbortConnect=FALSE,ALLOWADMIN=True");
        assert_eq!(c.sync_timeout, ms(20), "later value wins");
        assert!(!c.abort_connect);
        assert!(c.allow_admin);
    }

    #[test]
    fn protocol_accepts_resp2_resp3_and_digits_in_any_case() {
        for (text, expected) in [
            ("resp2", Protocol::Resp2),
            ("RESP3", Protocol::Resp3),
            ("Resp3", Protocol::Resp3),
            ("2", Protocol::Resp2),
            ("3", Protocol::Resp3),
        ] {
            assert_eq!(parse_ok(&format!("h,protocol={text}")).protocol, expected);
        }
    }

    #[test]
    fn a_value_may_contain_equals_signs() {
        let c = parse_ok("h,password=a=b==,name=x=y");
        assert_eq!(c.password.as_ref().map(Password::expose), Some("a=b=="));
        assert_eq!(c.client_name.as_deref(), Some("x=y"));
    }

    #[test]
    fn empty_string_values_clear_name_user_and_password() {
        let c = parse_ok("h,name=,user=,password=");
        assert_eq!(c.client_name, None);
        assert_eq!(c.user, None);
        assert_eq!(c.password, None);
    }

    #[test]
    fn zero_durations_are_accepted() {
        let c = parse_ok("h,syncTimeout=0,keepAlive=0,connectRetry=0");
        assert_eq!(c.sync_timeout, Duration::ZERO);
        assert_eq!(c.keep_alive, Duration::ZERO);
        assert_eq!(c.connect_retry, 0);
    }

    #[test]
    fn largest_u32_values_are_accepted() {
        let c = parse_ok("h,defaultDatabase=4294967295,syncTimeout=4294967295");
        assert_eq!(c.default_database, u32::MAX);
        assert_eq!(c.sync_timeout, ms(u64::from(u32::MAX)));
    }

    #[test]
    fn unknown_key_is_an_error_naming_the_key_and_listing_supported_keys() {
        let e = parse_err("h,fooBar=1");
        assert_eq!(e.key.as_deref(), Some("fooBar"));
        assert!(e.message.contains("unknown key 'fooBar'"), "{e}");
        assert!(e.message.contains("abortConnect, allowAdmin"), "{e}");
        assert!(e.message.contains("syncTimeout"), "{e}");
        assert!(
            e.to_string()
                .starts_with("invalid configuration key 'fooBar': "),
            "{e}"
        );
    }

    #[test]
    fn not_yet_supported_se_redis_keys_are_errors_naming_the_key() {
        for key in [
            "tiebreaker",
            "proxy",
            "version",
            "resolveDns",
            "sslProtocols",
            "checkCertificateRevocation",
            "configChannel",
            "highIntegrity",
            "tunnel",
        ] {
            let e = parse_err(&format!("h,{}=x", key.to_ascii_uppercase()));
            assert_eq!(e.key.as_deref(), Some(key));
            assert!(e.message.contains(&format!("'{key}'")), "{e}");
            assert!(e.message.contains("not supported yet by redmux"), "{e}");
        }
    }

    #[test]
    fn bad_boolean_is_an_error_naming_the_key_and_accepted_values() {
        let e = parse_err("h,abortConnect=yes");
        assert_eq!(e.key.as_deref(), Some("abortConnect"));
        assert!(e.message.contains("true or false"), "{e}");
        assert!(e.message.contains("'yes'"), "{e}");
        assert_eq!(parse_err("h,setlib=").key.as_deref(), Some("setlib"));
    }

    #[test]
    fn bad_numbers_are_errors_naming_the_key() {
        for (input, key) in [
            ("h,syncTimeout=abc", "syncTimeout"),
            ("h,synctimeout=-1", "syncTimeout"),
            ("h,connectTimeout=+5", "connectTimeout"),
            ("h,asyncTimeout=1.5", "asyncTimeout"),
            ("h,keepAlive=1 0", "keepAlive"),
            ("h,connectRetry=", "connectRetry"),
            ("h,defaultDatabase=4294967296", "defaultDatabase"),
            ("h,syncTimeout=99999999999999999999999", "syncTimeout"),
        ] {
            let e = parse_err(input);
            assert_eq!(e.key.as_deref(), Some(key), "{input}");
            assert!(e.message.contains(&format!("'{key}' expects")), "{e}");
        }
        let e = parse_err("h,syncTimeout=abc");
        assert_eq!(
            e.message,
            "'syncTimeout' expects a whole number of milliseconds (0 to 4294967295), got 'abc'"
        );
        let e = parse_err("h,keepAlive=x");
        assert!(e.message.contains("seconds"), "{e}");
    }

    #[test]
    fn bad_protocol_is_an_error_naming_the_key() {
        let e = parse_err("h,protocol=resp4");
        assert_eq!(e.key.as_deref(), Some("protocol"));
        assert!(e.message.contains("resp2 or resp3"), "{e}");
    }

    #[test]
    fn empty_key_is_an_error() {
        let e = parse_err("h,=5");
        assert!(e.message.contains("empty key"), "{e}");
    }

    #[test]
    fn max_bytes_in_flight_is_parsed_and_round_trips() {
        for (text, bytes) in [("1048576", 1 << 20), ("0", 0), ("8589934592", 8 << 30)] {
            let c = parse_ok(&format!("h,maxBytesInFlight={text}"));
            assert_eq!(c.max_bytes_in_flight, bytes);
            assert_eq!(parse_ok(&c.to_config_string()), c);
        }
        for bad in ["", "-1", "1e6", "64MiB"] {
            let e = parse_err(&format!("h,maxBytesInFlight={bad}"));
            assert_eq!(e.key.as_deref(), Some("maxBytesInFlight"));
            assert!(e.message.contains("whole number of bytes"), "{e}");
        }
    }

    #[test]
    fn resilience_keys_are_parsed() {
        let c = parse_ok("h,backlogPolicy=failFast,backlogLimit=10,stallTimeout=250");
        assert_eq!(c.backlog_policy, BacklogPolicy::FailFast);
        assert_eq!(c.backlog_limit, 10);
        assert_eq!(c.stall_timeout, ms(250));
        assert_eq!(parse_ok(&c.to_config_string()), c);
        let e = parse_err("h,backlogPolicy=sometimes");
        assert!(e.to_string().contains("queue or failFast"), "{e}");
    }
}

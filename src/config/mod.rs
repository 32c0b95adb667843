//! Connection configuration: turns the user's connection string into the
//! [`Config`] that the multiplexer and the connection handshake read.
//!
//! Two input forms are accepted by [`Config::parse`]:
//!
//! * the StackExchange.Redis form, `host:port,host2,/path/redis.sock,key=value,...`,
//!   with the same key names SE.Redis users already know (keys are
//!   case-insensitive);
//! * a URL, `redis://[[user][:password]@]host[:port][/db][?key=value&...]`,
//!   `rediss://...` (the same, with TLS) or `unix:///path/redis.sock[?key=value&...]`,
//!   whose query keys are the same option keys.
//!
//! Every problem is reported as a [`ConfigError`] that names the key and says
//! what is accepted. The password is never echoed: not by `Debug`, not by
//! `Display`, not inside an error message.
//!
//! This file holds [`Config`] itself (fields, defaults, `Debug`/`Display`,
//! [`Config::to_config_string`]) and picks the parser; the parts live beside
//! it: `endpoint` (server addresses), `keys` (the option table, shared by
//! both forms), `string` (the StackExchange.Redis form), `url` (URLs) and
//! `tls` (the TLS settings).

mod endpoint;
mod keys;
mod string;
mod tls;
mod url;

pub use endpoint::Endpoint;
pub(crate) use tls::check_tls;
pub use tls::TlsConfig;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::resp::Limits;

/// Default of [`Config::max_bytes_in_flight`] (key `maxBytesInFlight`):
/// 64 MiB, far above what the socket holds (a few MiB), so it only engages
/// when many large commands are issued at once (e.g. 4,096 SETs of 100 KB).
///
/// ```
/// let config: redmux::Config = "localhost,maxBytesInFlight=1048576".parse().unwrap();
/// assert_eq!(config.max_bytes_in_flight, 1 << 20);
/// assert_eq!(redmux::Config::default().max_bytes_in_flight, redmux::DEFAULT_MAX_BYTES_IN_FLIGHT);
/// ```
pub const DEFAULT_MAX_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// A password that does not print itself.
///
/// `Debug` and `Display` both print `****`; use [`Password::expose`] where the
/// secret is really needed (the `AUTH`/`HELLO` command of the handshake).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// Returns the secret itself. Only the handshake should call this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// The RESP protocol version negotiated during the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// RESP2, spoken by every Redis version; the default.
    #[default]
    Resp2,
    /// RESP3, requested with `HELLO 3` (Redis 6 and later).
    Resp3,
}

/// Everything needed to open and use the shared connection(s).
///
/// Build one with [`Config::parse`] (or `str::parse`), or start from
/// [`Config::default`] and set fields. `Debug` and `Display` never show the
/// password.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Servers to connect to; at least one after parsing. Port 6379 when the
    /// input did not name one.
    pub endpoints: Vec<Endpoint>,
    /// ACL user name sent with `AUTH`/`HELLO` (key `user`); `None` means the
    /// `default` user.
    pub user: Option<String>,
    /// Password sent with `AUTH`/`HELLO` (key `password`).
    pub password: Option<Password>,
    /// Client name sent with `CLIENT SETNAME` (key `name`).
    pub client_name: Option<String>,
    /// Database selected on connect (key `defaultDatabase`); default 0.
    pub default_database: u32,
    /// Time allowed for one connect attempt including the handshake (key
    /// `connectTimeout`, milliseconds); default 5 s.
    pub connect_timeout: Duration,
    /// How long a command may wait for its reply (key `syncTimeout`,
    /// milliseconds); default 5 s.
    pub sync_timeout: Duration,
    /// Timeout for awaited commands (key `asyncTimeout`, milliseconds);
    /// `None` means "same as `sync_timeout`". See [`Config::command_timeout`].
    pub async_timeout: Option<Duration>,
    /// Whether `connect` fails when no server is reachable at once (key
    /// `abortConnect`); `false` returns and keeps retrying. Default `true`.
    pub abort_connect: bool,
    /// Number of connect attempts during the initial `connect` (key
    /// `connectRetry`); default 3. The parser accepts 0.
    pub connect_retry: u32,
    /// Idle time after which a `PING` is sent (key `keepAlive`, SECONDS);
    /// default 60 s. Zero means no keep-alive pings.
    pub keep_alive: Duration,
    /// Whether admin/risky commands (FLUSHALL, CONFIG SET, SHUTDOWN, ...)
    /// are allowed (key `allowAdmin`); default `false`.
    pub allow_admin: bool,
    /// RESP version to negotiate (key `protocol`: `resp2`/`resp3` or `2`/`3`).
    pub protocol: Protocol,
    /// Whether to send `CLIENT SETINFO` lib-name/lib-ver (key `setlib`);
    /// default `true`.
    pub set_lib: bool,
    /// How long to wait between reconnect attempts (in code only); default
    /// exponential from 50 ms to 5 s with jitter.
    pub retry_policy: RetryPolicy,
    /// What happens to commands issued while no connection is up (key
    /// `backlogPolicy`: `queue` or `failFast`); default `queue`.
    pub backlog_policy: BacklogPolicy,
    /// Most commands held while no connection is up (key `backlogLimit`);
    /// default 100,000. Past it, new commands fail with kind `BacklogFull`.
    pub backlog_limit: usize,
    /// Bytes of commands a connection has written, or put in its write
    /// buffer, whose replies have not all arrived, past which no more are
    /// added (key `maxBytesInFlight`; 0 for no bound); default 64 MiB
    /// ([`DEFAULT_MAX_BYTES_IN_FLIGHT`]). Checked before each command is
    /// added, so the last one admitted may pass it, and a command larger
    /// than the bound still goes, alone. Later commands wait in the
    /// backlog, in order, with their timeouts running, until replies bring
    /// the total back under. It bounds what the socket and the server's
    /// query buffer hold for this client (the commands' bytes stay with
    /// their requests either way).
    pub max_bytes_in_flight: usize,
    /// A connection with commands awaiting replies that reads nothing for
    /// this long is torn down and reconnected (key `stallTimeout`, ms; 0
    /// turns it off); default 10 s, twice the default command timeout, so
    /// callers have timed out before their connection is declared dead.
    pub stall_timeout: Duration,
    /// How often the driver checks keep-alive and stalls (in code only);
    /// default 1 s. Command timeouts do not depend on it: each has its own
    /// precise timer.
    pub heartbeat_interval: Duration,
    /// Limits on what the server may send (in code only): bulk length,
    /// element count, nesting depth, line length.
    pub resp_limits: Limits,
    /// TLS settings; `Some` turns TLS on for TCP endpoints (key `ssl=true`,
    /// or a `rediss://` URL, plus the `ssl*` keys). Default `None`.
    pub tls: Option<TlsConfig>,
    /// Prefix put before every pub/sub channel name this client subscribes
    /// to or publishes on (key `channelPrefix`), and taken off the channel
    /// names of received messages; default `None`. Keyspace-notification
    /// helpers subscribe to the server's own channels without it.
    pub channel_prefix: Option<String>,
    /// Messages each subscription holds for a consumer that has not read
    /// them yet (key `subscriptionBuffer`, at least 1); default 1,024.
    /// What happens past it is [`Config::subscription_overflow`].
    pub subscription_buffer: usize,
    /// What a full subscription buffer does with the next message (key
    /// `subscriptionOverflow`: `dropOldest` or `close`); default
    /// [`Overflow::DropOldest`].
    pub subscription_overflow: Overflow,
    /// How often a cluster's topology is read again (key
    /// `configCheckSeconds`, seconds; 0 turns the periodic check off);
    /// default 60 s. It is also read after every `MOVED`.
    pub config_check: Duration,
    /// Most dedicated connections leased at once (key `maxDedicated`);
    /// default 8. A lease past it waits for one to be returned, up to
    /// `connectTimeout`. 0 turns dedicated connections off.
    pub max_dedicated: u32,
    /// The Sentinel service whose primary to use (key `serviceName`):
    /// with it, the endpoints are sentinels, which are asked where the
    /// primary (and its replicas) are, at connect and before every
    /// reconnect. Default `None`: the endpoints are Redis servers.
    pub service_name: Option<String>,
    /// ACL user for the sentinels (key `sentinelUser`); default `None`.
    pub sentinel_user: Option<String>,
    /// Password for the sentinels (key `sentinelPassword`); default `None`.
    pub sentinel_password: Option<Password>,
}

/// What a subscription whose buffer is full does with a new message
/// ([`Config::subscription_overflow`]). Either way the subscriber's
/// connection, the other subscriptions and the command connection keep
/// going: one slow consumer never stalls them.
///
/// ```
/// let config: redmux::Config = "localhost,subscriptionOverflow=close".parse().unwrap();
/// assert_eq!(config.subscription_overflow, redmux::Overflow::Close);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Drop the oldest unread message and keep the new one; the consumer
    /// is told how many were dropped (a `Gap` before the next message).
    #[default]
    DropOldest,
    /// End the subscription: the consumer reads what is buffered, then an
    /// error saying it fell behind; the channels are unsubscribed.
    Close,
}

/// Delay between reconnect attempts.
///
/// ```
/// use std::time::Duration;
/// use redmux::RetryPolicy;
/// let p = RetryPolicy::Linear { step: Duration::from_millis(100), max: Duration::from_secs(2) };
/// assert_eq!(p.delay(0, 0.5), Duration::from_millis(100));
/// assert_eq!(p.delay(50, 0.5), Duration::from_secs(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryPolicy {
    /// `min × 2^attempt`, capped at `max`, then ±25% jitter so many clients
    /// that lost the same server do not reconnect in lock-step.
    Exponential {
        /// First delay.
        min: Duration,
        /// Largest delay.
        max: Duration,
    },
    /// `step × (attempt + 1)`, capped at `max`, no jitter.
    Linear {
        /// Added per attempt.
        step: Duration,
        /// Largest delay.
        max: Duration,
    },
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::Exponential {
            min: Duration::from_millis(50),
            max: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt` (0-based); `jitter` in `[0, 1)`
    /// picks a point in the ±25% band of the exponential policy.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        match *self {
            RetryPolicy::Exponential { min, max } => {
                let base = min.saturating_mul(1u32 << attempt.min(20)).min(max);
                base.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
            }
            RetryPolicy::Linear { step, max } => {
                step.saturating_mul(attempt.saturating_add(1)).min(max)
            }
        }
    }
}

/// What happens to commands issued while no connection is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BacklogPolicy {
    /// Hold them (up to `backlog_limit`) and send them, in order, after the
    /// reconnect's handshake; each still ends at its own timeout.
    #[default]
    Queue,
    /// Fail them at once with kind `ConnectionLost` ("did not run").
    FailFast,
}

impl Default for Config {
    /// No endpoints (connecting will complain) and the SE.Redis defaults for
    /// everything else.
    fn default() -> Self {
        Config {
            endpoints: Vec::new(),
            user: None,
            password: None,
            client_name: None,
            default_database: 0,
            connect_timeout: Duration::from_millis(5000),
            sync_timeout: Duration::from_millis(5000),
            async_timeout: None,
            abort_connect: true,
            connect_retry: 3,
            keep_alive: Duration::from_secs(60),
            allow_admin: false,
            protocol: Protocol::Resp2,
            set_lib: true,
            retry_policy: RetryPolicy::default(),
            backlog_policy: BacklogPolicy::Queue,
            backlog_limit: 100_000,
            max_bytes_in_flight: DEFAULT_MAX_BYTES_IN_FLIGHT,
            stall_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(1),
            resp_limits: Limits::default(),
            tls: None,
            channel_prefix: None,
            subscription_buffer: 1024,
            subscription_overflow: Overflow::DropOldest,
            max_dedicated: 8,
            service_name: None,
            sentinel_user: None,
            sentinel_password: None,
            config_check: Duration::from_secs(60),
        }
    }
}

/// A configuration string that could not be understood.
///
/// `message` says what is wrong and what would be accepted. The offending
/// value may be quoted in it, except password text, which never is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration{}: {message}", .key.as_ref().map(|k| format!(" key '{k}'")).unwrap_or_default())]
pub struct ConfigError {
    /// The option key concerned (canonical spelling for known keys, as typed
    /// for unknown ones); `None` for endpoint and URL-structure problems.
    pub key: Option<String>,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl Config {
    /// Parses a StackExchange.Redis configuration string or a `redis://`,
    /// `rediss://` or `unix://` URL (detected by its scheme,
    /// case-insensitively).
    ///
    /// ```
    /// use std::time::Duration;
    /// use redmux::Config;
    ///
    /// // StackExchange.Redis form: endpoints and key=value options.
    /// let c = Config::parse("cache1:6380,cache2,syncTimeout=2000,abortConnect=false")?;
    /// assert_eq!(c.endpoints.len(), 2);
    /// assert_eq!(c.endpoints[1].port(), Some(6379));
    /// assert_eq!(c.sync_timeout, Duration::from_millis(2000));
    /// assert!(!c.abort_connect);
    ///
    /// // URL form: credentials, database and the same keys as query parameters.
    /// let c = Config::parse("redis://app:s3cret@cache1:6380/2?name=worker")?;
    /// assert_eq!(c.user.as_deref(), Some("app"));
    /// assert_eq!(c.default_database, 2);
    /// assert_eq!(c.client_name.as_deref(), Some("worker"));
    ///
    /// // TLS, and Unix sockets (a path in the string form, or a unix:// URL).
    /// let c = Config::parse("rediss://cache1:6380?sslCaCert=/etc/redis/ca.pem")?;
    /// assert!(c.tls.is_some());
    /// let c = Config::parse("/run/redis/redis.sock,defaultDatabase=3")?;
    /// assert_eq!(c.endpoints[0].to_string(), "/run/redis/redis.sock");
    /// let c = Config::parse("unix:///run/redis/redis.sock?defaultDatabase=3")?;
    /// assert_eq!(c.default_database, 3);
    /// # Ok::<(), redmux::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for unknown or not-yet-supported keys, malformed
    /// values, bad endpoints, no endpoint at all, an unsupported URL scheme,
    /// or TLS settings that cannot work together (see [`TlsConfig`]).
    pub fn parse(s: &str) -> Result<Config, ConfigError> {
        let s = s.trim();
        match url::url_scheme(s) {
            Some(scheme) => url::parse_url(scheme, s),
            None => string::parse_se_string(s),
        }
    }

    /// The timeout applied to awaited commands: `async_timeout` when set,
    /// otherwise `sync_timeout`.
    pub fn command_timeout(&self) -> Duration {
        self.async_timeout.unwrap_or(self.sync_timeout)
    }

    /// Renders the configuration in StackExchange.Redis form: endpoints,
    /// then only the options that differ from the defaults. The password is
    /// shown as `password=****`.
    ///
    /// Without a password the result parses back to an equal `Config`,
    /// provided durations are whole milliseconds (keep-alive whole seconds),
    /// the user and client names and TLS file paths contain no `,`, and
    /// Unix socket paths are absolute (a token starting with `/` is a
    /// socket).
    ///
    /// ```
    /// let c = redmux::Config::parse("redis://:s3cret@h:6380?ssl=true&sslHost=cache.example")?;
    /// assert_eq!(c.to_config_string(), "h:6380,password=****,ssl=true,sslHost=cache.example");
    /// # Ok::<(), redmux::ConfigError>(())
    /// ```
    pub fn to_config_string(&self) -> String {
        let d = Config::default();
        let mut parts: Vec<String> = self.endpoints.iter().map(|e| e.to_string()).collect();
        if let Some(user) = &self.user {
            parts.push(format!("user={user}"));
        }
        if let Some(password) = &self.password {
            parts.push(format!("password={password}"));
        }
        if let Some(name) = &self.client_name {
            parts.push(format!("name={name}"));
        }
        if self.default_database != d.default_database {
            parts.push(format!("defaultDatabase={}", self.default_database));
        }
        if self.connect_timeout != d.connect_timeout {
            parts.push(format!(
                "connectTimeout={}",
                self.connect_timeout.as_millis()
            ));
        }
        if self.sync_timeout != d.sync_timeout {
            parts.push(format!("syncTimeout={}", self.sync_timeout.as_millis()));
        }
        if let Some(t) = self.async_timeout {
            parts.push(format!("asyncTimeout={}", t.as_millis()));
        }
        if self.abort_connect != d.abort_connect {
            parts.push(format!("abortConnect={}", self.abort_connect));
        }
        if self.connect_retry != d.connect_retry {
            parts.push(format!("connectRetry={}", self.connect_retry));
        }
        if self.keep_alive != d.keep_alive {
            parts.push(format!("keepAlive={}", self.keep_alive.as_secs()));
        }
        if self.allow_admin != d.allow_admin {
            parts.push(format!("allowAdmin={}", self.allow_admin));
        }
        if self.protocol != d.protocol {
            let p = match self.protocol {
                Protocol::Resp2 => "resp2",
                Protocol::Resp3 => "resp3",
            };
            parts.push(format!("protocol={p}"));
        }
        if self.set_lib != d.set_lib {
            parts.push(format!("setlib={}", self.set_lib));
        }
        if self.backlog_policy != d.backlog_policy {
            parts.push("backlogPolicy=failFast".to_owned());
        }
        if self.backlog_limit != d.backlog_limit {
            parts.push(format!("backlogLimit={}", self.backlog_limit));
        }
        if self.max_bytes_in_flight != d.max_bytes_in_flight {
            parts.push(format!("maxBytesInFlight={}", self.max_bytes_in_flight));
        }
        if self.stall_timeout != d.stall_timeout {
            parts.push(format!("stallTimeout={}", self.stall_timeout.as_millis()));
        }
        if let Some(prefix) = &self.channel_prefix {
            parts.push(format!("channelPrefix={prefix}"));
        }
        if self.subscription_buffer != d.subscription_buffer {
            parts.push(format!("subscriptionBuffer={}", self.subscription_buffer));
        }
        if self.subscription_overflow != d.subscription_overflow {
            parts.push("subscriptionOverflow=close".to_owned());
        }
        if self.config_check != d.config_check {
            parts.push(format!(
                "configCheckSeconds={}",
                self.config_check.as_secs()
            ));
        }
        if self.max_dedicated != d.max_dedicated {
            parts.push(format!("maxDedicated={}", self.max_dedicated));
        }
        if let Some(service) = &self.service_name {
            parts.push(format!("serviceName={service}"));
        }
        if let Some(user) = &self.sentinel_user {
            parts.push(format!("sentinelUser={user}"));
        }
        if let Some(password) = &self.sentinel_password {
            parts.push(format!("sentinelPassword={password}"));
        }
        if let Some(tls) = &self.tls {
            parts.push("ssl=true".to_owned());
            if let Some(name) = &tls.server_name {
                parts.push(format!("sslHost={name}"));
            }
            for (key, path) in [
                ("sslCaCert", &tls.ca_cert),
                ("sslCert", &tls.client_cert),
                ("sslKey", &tls.client_key),
            ] {
                if let Some(path) = path {
                    parts.push(format!("{key}={}", path.display()));
                }
            }
            if tls.insecure {
                parts.push("sslInsecure=true".to_owned());
            }
        }
        parts.join(",")
    }
}

impl FromStr for Config {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Config::parse(s)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Password`'s own Debug prints "****".
        f.debug_struct("Config")
            .field("endpoints", &self.endpoints)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("client_name", &self.client_name)
            .field("default_database", &self.default_database)
            .field("connect_timeout", &self.connect_timeout)
            .field("sync_timeout", &self.sync_timeout)
            .field("async_timeout", &self.async_timeout)
            .field("abort_connect", &self.abort_connect)
            .field("connect_retry", &self.connect_retry)
            .field("keep_alive", &self.keep_alive)
            .field("allow_admin", &self.allow_admin)
            .field("protocol", &self.protocol)
            .field("set_lib", &self.set_lib)
            .field("retry_policy", &self.retry_policy)
            .field("backlog_policy", &self.backlog_policy)
            .field("backlog_limit", &self.backlog_limit)
            .field("max_bytes_in_flight", &self.max_bytes_in_flight)
            .field("stall_timeout", &self.stall_timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("resp_limits", &self.resp_limits)
            .field("tls", &self.tls)
            .field("channel_prefix", &self.channel_prefix)
            .field("subscription_buffer", &self.subscription_buffer)
            .field("subscription_overflow", &self.subscription_overflow)
            .field("max_dedicated", &self.max_dedicated)
            .field("service_name", &self.service_name)
            .field("sentinel_user", &self.sentinel_user)
            .field("sentinel_password", &self.sentinel_password)
            .field("config_check", &self.config_check)
            .finish()
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_config_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn parse_ok(s: &str) -> Config {
        match Config::parse(s) {
            Ok(c) => c,
            Err(e) => panic!("{s:?} should parse, got {e}"),
        }
    }

    pub(crate) fn parse_err(s: &str) -> ConfigError {
        match Config::parse(s) {
            Ok(c) => panic!("{s:?} should fail, got {c:?}"),
            Err(e) => e,
        }
    }

    pub(crate) fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn default_config_has_se_redis_defaults_and_no_endpoints() {
        let c = Config::default();
        assert!(c.endpoints.is_empty());
        assert_eq!(c.user, None);
        assert_eq!(c.password, None);
        assert_eq!(c.client_name, None);
        assert_eq!(c.default_database, 0);
        assert_eq!(c.connect_timeout, ms(5000));
        assert_eq!(c.sync_timeout, ms(5000));
        assert_eq!(c.async_timeout, None);
        assert!(c.abort_connect);
        assert_eq!(c.connect_retry, 3);
        assert_eq!(c.keep_alive, Duration::from_secs(60));
        assert!(!c.allow_admin);
        assert_eq!(c.protocol, Protocol::Resp2);
        assert!(c.set_lib);
    }

    #[test]
    fn parsing_a_bare_host_gives_defaults_plus_that_endpoint() {
        let c = parse_ok("localhost");
        let expected = Config {
            endpoints: vec![Endpoint::new("localhost", 6379)],
            ..Config::default()
        };
        assert!(c == expected);
    }

    #[test]
    fn from_str_matches_parse() {
        let c: Result<Config, _> = "redis://h:1".parse();
        assert!(c == Config::parse("h:1"));
    }

    #[test]
    fn error_messages_are_single_spaced_sentences() {
        for input in [
            "h,fooBar=1",
            "h,sslHost=x",
            "h,ssl=true,sslCert=/c",
            "/s,ssl=true",
            "unix://",
            "unix://h/s",
            "unix://:p@/s",
            "h,syncTimeout=x",
            "h,password=a,b=c",
            "h,password=a,b",
            "h,password=a,syncTimeout=x",
            "h:0",
            "::1",
            "",
            "redis://:pw",
            "redis://u:p@h:0",
            "redis://:p/x@h",
            "redis://:p%zz@h",
            "redis://h/x",
            "redis://h?x",
            "rediss://h?sslKey=/k",
            "http://h",
        ] {
            let e = parse_err(input);
            assert!(!e.message.contains("  "), "{input}: {e}");
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn debug_and_display_never_show_the_password() {
        let c = parse_ok("h,password=hunter2,user=alice");
        let debug = format!("{c:?}");
        let pretty = format!("{c:#?}");
        let display = c.to_string();
        for text in [&debug, &pretty, &display, &c.to_config_string()] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(debug.contains("password: Some(****)"), "{debug}");
        assert!(display.contains("password=****"), "{display}");
        let url = parse_ok("redis://alice:hunter2@h");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!url.to_string().contains("hunter2"));
    }

    #[test]
    fn password_debug_and_display_print_stars_and_expose_returns_the_secret() {
        let p = Password::new("hunter2");
        assert_eq!(format!("{p:?}"), "****");
        assert_eq!(p.to_string(), "****");
        assert_eq!(p.expose(), "hunter2");
    }

    #[test]
    fn password_related_errors_never_show_the_password() {
        let inputs = [
            // Bad percent-encoding in the password.
            "redis://alice:hunter2%zz@h",
            "redis://:hunter2%@h",
            "redis://:hunter2%FF@h",
            "redis://h?password=hunter2%zz",
            // Password with raw '/', '?' or '#'.
            "redis://:hunter2/x@h",
            "redis://:hun?ter2@h",
            "redis://:hunter2#x@h",
            "redis://:hunter2/x@h/0?name=y",
            // Credentials without '@'.
            "redis://:hunter2",
            "redis://alice:hunter2",
            "redis://alice:hunter2/0",
            // TLS URL with a password, and an invalid TLS combination.
            "rediss://alice:hunter2@h?sslKey=/k",
            "rediss://alice:hunter2",
            // Credentials where a unix:// URL takes none.
            "unix://alice:hunter2@/tmp/s",
            "unix://:hunter2@h/tmp/s",
            "unix://h?password=hunter2%zz",
            // A socket path directly after a password may be a fragment of it.
            "h,password=hun,/ter2",
            "h,password=hun,/ter2=x",
            // A password containing ',' in the SE.Redis form.
            "h,password=hun,ter2",
            "h,password=hun,ter2:x",
            "h,password=hun,ter2=x",
            "h,password=hun,ter2:1:2",
            "h,password=x,abortConnect=hunter2",
            "h,sentinelPassword=hunter2,abortConnect=hunter2",
            "h,password=x,h2,ter2:y",
            "h,password=hun,ter2,name=x",
        ];
        for input in inputs {
            let e = parse_err(input);
            let debug = format!("{e:?}");
            let display = e.to_string();
            assert!(
                !debug.contains("hunter2") && !debug.contains("ter2"),
                "{input}: {debug}"
            );
            assert!(
                !display.contains("hunter2") && !display.contains("ter2"),
                "{input}: {display}"
            );
        }
    }

    #[test]
    fn command_timeout_falls_back_to_sync_timeout() {
        let c = parse_ok("h,syncTimeout=1234");
        assert_eq!(c.command_timeout(), ms(1234));
        let c = parse_ok("h,syncTimeout=1234,asyncTimeout=99");
        assert_eq!(c.command_timeout(), ms(99));
        assert_eq!(Config::default().command_timeout(), ms(5000));
    }

    #[test]
    fn to_config_string_lists_endpoints_and_non_default_options() {
        assert_eq!(parse_ok("h").to_config_string(), "h:6379");
        let c = parse_ok("[::1]:1,b,syncTimeout=10,allowAdmin=true,protocol=3");
        assert_eq!(
            c.to_config_string(),
            "[::1]:1,b:6379,syncTimeout=10,allowAdmin=true,protocol=resp3"
        );
    }

    #[test]
    fn config_without_password_round_trips_through_to_config_string() {
        let c = Config {
            endpoints: vec![Endpoint::new("a", 1), Endpoint::new("::1", 7000)],
            user: Some("alice".into()),
            password: None,
            client_name: Some("svc=1".into()),
            default_database: 9,
            connect_timeout: ms(123),
            sync_timeout: ms(0),
            async_timeout: Some(ms(5000)),
            abort_connect: false,
            connect_retry: 0,
            keep_alive: Duration::from_secs(5),
            allow_admin: true,
            protocol: Protocol::Resp3,
            set_lib: false,
            service_name: Some("mymaster".into()),
            sentinel_user: Some("watcher".into()),
            ..Config::default()
        };
        let text = c.to_config_string();
        assert!(parse_ok(&text) == c, "{text}");
        let d = parse_ok("h");
        assert!(parse_ok(&d.to_config_string()) == d);
    }

    #[test]
    fn config_error_display_includes_key_only_when_present() {
        let e = parse_err("");
        assert_eq!(
            e.to_string(),
            "invalid configuration: no endpoint given; add host:port, e.g. 127.0.0.1:6379"
        );
    }

    #[test]
    fn retry_policies_grow_and_cap() {
        let exp = RetryPolicy::default();
        assert_eq!(exp.delay(0, 0.5), ms(50));
        assert_eq!(exp.delay(1, 0.5), ms(100));
        assert_eq!(exp.delay(30, 0.5), Duration::from_secs(5));
        assert_eq!(exp.delay(30, 0.0), ms(3750));
        let lin = RetryPolicy::Linear {
            step: ms(10),
            max: ms(25),
        };
        assert_eq!(
            (lin.delay(0, 0.9), lin.delay(1, 0.9), lin.delay(9, 0.9)),
            (ms(10), ms(20), ms(25))
        );
    }
}

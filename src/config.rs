//! Connection configuration: turns the user's connection string into the
//! [`Config`] that the multiplexer and the connection handshake read.
//!
//! Two input forms are accepted by [`Config::parse`]:
//!
//! * the StackExchange.Redis form, `host:port,host2,key=value,...`, with the
//!   same key names SE.Redis users already know (keys are case-insensitive);
//! * a URL, `redis://[[user][:password]@]host[:port][/db][?key=value&...]`,
//!   whose query keys are the same option keys.
//!
//! Every problem is reported as a [`ConfigError`] that names the key and says
//! what is accepted. The password is never echoed: not by `Debug`, not by
//! `Display`, not inside an error message.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::resp::Limits;

/// Port used when an endpoint does not name one.
const DEFAULT_PORT: u16 = 6379;

/// A server address: a host name or IP address plus a TCP port.
///
/// `Display` prints `host:port`, with IPv6 addresses in brackets
/// (`[::1]:6379`), which is also the form [`Config::parse`] accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Host name or IP address, without brackets for IPv6 (`::1`).
    pub host: String,
    /// TCP port, 6379 unless the configuration named another.
    pub port: u16,
}

impl Endpoint {
    /// Creates an endpoint from a host (name or IP address; IPv6 without
    /// brackets) and a port. No validation is done here.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Endpoint {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

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
            stall_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(1),
            resp_limits: Limits::default(),
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
    fn new(key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl Config {
    /// Parses a StackExchange.Redis configuration string or a `redis://` URL
    /// (detected by its scheme, case-insensitively).
    ///
    /// ```
    /// use std::time::Duration;
    /// use redmux::Config;
    ///
    /// // StackExchange.Redis form: endpoints and key=value options.
    /// let c = Config::parse("cache1:6380,cache2,syncTimeout=2000,abortConnect=false")?;
    /// assert_eq!(c.endpoints.len(), 2);
    /// assert_eq!(c.endpoints[1].port, 6379);
    /// assert_eq!(c.sync_timeout, Duration::from_millis(2000));
    /// assert!(!c.abort_connect);
    ///
    /// // URL form: credentials, database and the same keys as query parameters.
    /// let c = Config::parse("redis://app:s3cret@cache1:6380/2?name=worker")?;
    /// assert_eq!(c.user.as_deref(), Some("app"));
    /// assert_eq!(c.default_database, 2);
    /// assert_eq!(c.client_name.as_deref(), Some("worker"));
    /// # Ok::<(), redmux::ConfigError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for unknown or not-yet-supported keys, malformed
    /// values, bad endpoints, no endpoint at all, or an unsupported URL
    /// scheme (`rediss://`, `unix://`).
    pub fn parse(s: &str) -> Result<Config, ConfigError> {
        let s = s.trim();
        match url_scheme(s) {
            Some(scheme) => parse_url(scheme, &s[scheme.len() + 3..]),
            None => parse_se_string(s),
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
    /// provided durations are whole milliseconds (keep-alive whole seconds)
    /// and the user and client names contain no `,`.
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
        if self.stall_timeout != d.stall_timeout {
            parts.push(format!("stallTimeout={}", self.stall_timeout.as_millis()));
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
            .field("stall_timeout", &self.stall_timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("resp_limits", &self.resp_limits)
            .finish()
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_config_string())
    }
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    AbortConnect,
    AllowAdmin,
    AsyncTimeout,
    ConnectRetry,
    ConnectTimeout,
    DefaultDatabase,
    KeepAlive,
    Name,
    Password,
    Protocol,
    SetLib,
    SyncTimeout,
    BacklogPolicy,
    BacklogLimit,
    StallTimeout,
    User,
}

/// Supported keys, canonical spelling, in the order listed in messages.
const SUPPORTED_KEYS: [(&str, Key); 16] = [
    ("abortConnect", Key::AbortConnect),
    ("allowAdmin", Key::AllowAdmin),
    ("asyncTimeout", Key::AsyncTimeout),
    ("backlogLimit", Key::BacklogLimit),
    ("backlogPolicy", Key::BacklogPolicy),
    ("connectRetry", Key::ConnectRetry),
    ("connectTimeout", Key::ConnectTimeout),
    ("defaultDatabase", Key::DefaultDatabase),
    ("keepAlive", Key::KeepAlive),
    ("name", Key::Name),
    ("password", Key::Password),
    ("protocol", Key::Protocol),
    ("setlib", Key::SetLib),
    ("stallTimeout", Key::StallTimeout),
    ("syncTimeout", Key::SyncTimeout),
    ("user", Key::User),
];

/// SE.Redis keys redmux recognises but does not implement yet, with a hint.
const NOT_YET_SUPPORTED_KEYS: [(&str, &str); 16] = [
    ("ssl", "TLS is not supported yet"),
    ("sslHost", "TLS is not supported yet"),
    ("sslProtocols", "TLS is not supported yet"),
    ("checkCertificateRevocation", "TLS is not supported yet"),
    ("serviceName", "Sentinel is not supported yet"),
    ("sentinelUser", "Sentinel is not supported yet"),
    ("sentinelPassword", "Sentinel is not supported yet"),
    ("tiebreaker", "topology options are not supported yet"),
    (
        "configCheckSeconds",
        "topology options are not supported yet",
    ),
    ("configChannel", "topology options are not supported yet"),
    ("channelPrefix", "pub/sub options are not supported yet"),
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
const HIDDEN_REASON: &str = "because it follows 'password=' and may be part of the password \
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
fn apply_option(
    config: &mut Config,
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
        Key::StallTimeout => {
            let ms = parse_u32(
                name,
                value,
                "a whole number of milliseconds (0 turns it off)",
                echo,
            )?;
            config.stall_timeout = Duration::from_millis(u64::from(ms));
        }
        Key::Name => config.client_name = non_empty(value),
        Key::User => config.user = non_empty(value),
        Key::Password => config.password = non_empty(value).map(Password),
    }
    Ok(())
}

fn non_empty(value: &str) -> Option<String> {
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
fn parse_u32(key: &str, value: &str, what: &str, echo: bool) -> Result<u32, ConfigError> {
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

// ---------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------

/// Why a `host[:port]` text is not a valid endpoint.
enum EndpointProblem {
    EmptyHost,
    BadHost,
    UnclosedBracket,
    AfterBracket,
    UnbracketedIpv6,
    BadPort(String),
}

impl EndpointProblem {
    /// Describes the problem; `echo` controls whether the port text is quoted.
    fn describe(&self, echo: bool) -> String {
        match self {
            EndpointProblem::EmptyHost => "the host is empty".to_owned(),
            EndpointProblem::BadHost => {
                "the host contains characters not allowed in a host name or IP address".to_owned()
            }
            EndpointProblem::UnclosedBracket => {
                "an IPv6 address opened with '[' is not closed with ']'".to_owned()
            }
            EndpointProblem::AfterBracket => {
                "after an IPv6 address in brackets only ':port' may follow".to_owned()
            }
            EndpointProblem::UnbracketedIpv6 => {
                "an IPv6 address must be written in brackets, e.g. [::1]:6379".to_owned()
            }
            EndpointProblem::BadPort(port) if echo => {
                format!("the port must be a number from 1 to 65535, got '{port}'")
            }
            EndpointProblem::BadPort(_) => "the port must be a number from 1 to 65535".to_owned(),
        }
    }
}

/// Parses `host`, `host:port`, `[ipv6]` or `[ipv6]:port`.
fn parse_endpoint(text: &str) -> Result<Endpoint, EndpointProblem> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let close = rest.find(']').ok_or(EndpointProblem::UnclosedBracket)?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        let port = if after.is_empty() {
            None
        } else {
            Some(
                after
                    .strip_prefix(':')
                    .ok_or(EndpointProblem::AfterBracket)?,
            )
        };
        if host.is_empty() {
            return Err(EndpointProblem::EmptyHost);
        }
        let valid_v6 = host.contains(':')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":.%-_".contains(&b));
        if !valid_v6 {
            return Err(EndpointProblem::BadHost);
        }
        (host, port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        if port.is_some_and(|p| p.contains(':')) {
            return Err(EndpointProblem::UnbracketedIpv6);
        }
        if host.is_empty() {
            return Err(EndpointProblem::EmptyHost);
        }
        let bad_char =
            |c: char| c.is_whitespace() || c.is_control() || "/?#@[],=\\\"'<>%".contains(c);
        if host.chars().any(bad_char) {
            return Err(EndpointProblem::BadHost);
        }
        (host, port)
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => parse_port(p).ok_or_else(|| EndpointProblem::BadPort(p.to_owned()))?,
    };
    Ok(Endpoint::new(host, port))
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(port) => Some(port),
    }
}

fn push_endpoint(endpoints: &mut Vec<Endpoint>, endpoint: Endpoint) {
    if !endpoints.contains(&endpoint) {
        endpoints.push(endpoint);
    }
}

fn no_endpoint() -> ConfigError {
    ConfigError::new(
        None,
        "no endpoint given; add host:port, e.g. 127.0.0.1:6379",
    )
}

// ---------------------------------------------------------------------------
// StackExchange.Redis form
// ---------------------------------------------------------------------------

fn is_secret_key(key: &str) -> bool {
    let key = key.trim();
    key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sentinelPassword")
}

fn parse_se_string(s: &str) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    // A password cannot contain ',' in this form; if it does, the piece after
    // the comma arrives as a token of its own. The token right after a
    // password is therefore never quoted in errors, and may not be an
    // endpoint.
    let mut after_password = false;
    for token in s.split(',') {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let echo = !after_password;
        match token.split_once('=') {
            Some((key, value)) => {
                apply_option(&mut config, key, value, echo)?;
                after_password = is_secret_key(key);
            }
            None if after_password => {
                // Most likely the rest of a password that contains ','. Taking
                // it as a host would send the fragment to DNS and print it in
                // `Debug`, so refuse it without quoting it.
                return Err(ConfigError::new(
                    None,
                    format!(
                        "an endpoint may not directly follow 'password='; list endpoints first \
                         (the item is not shown {HIDDEN_REASON})"
                    ),
                ));
            }
            None => {
                let endpoint = parse_endpoint(token).map_err(|problem| {
                    ConfigError::new(
                        None,
                        format!(
                            "'{token}' is not a valid endpoint: {}; write host, host:port or \
                             [ipv6]:port",
                            problem.describe(true)
                        ),
                    )
                })?;
                push_endpoint(&mut config.endpoints, endpoint);
            }
        }
    }
    if config.endpoints.is_empty() {
        return Err(no_endpoint());
    }
    Ok(config)
}

// ---------------------------------------------------------------------------
// URL form
// ---------------------------------------------------------------------------

/// Returns the scheme if `s` starts with `scheme://`.
fn url_scheme(s: &str) -> Option<&str> {
    let idx = s.find("://")?;
    let scheme = &s[..idx];
    let looks_like_scheme = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    looks_like_scheme.then_some(scheme)
}

fn parse_url(scheme: &str, body: &str) -> Result<Config, ConfigError> {
    if scheme.eq_ignore_ascii_case("rediss") {
        return Err(ConfigError::new(
            None,
            "rediss:// (TLS) is not supported yet by redmux; use redis:// for a plain TCP connection",
        ));
    }
    if scheme.eq_ignore_ascii_case("unix") || scheme.eq_ignore_ascii_case("redis+unix") {
        return Err(ConfigError::new(
            None,
            "unix:// (Unix domain sockets) is not supported yet by redmux; use redis://host:port",
        ));
    }
    if !scheme.eq_ignore_ascii_case("redis") {
        return Err(ConfigError::new(
            None,
            format!(
                "unsupported URL scheme '{scheme}://'; use redis://[user:password@]host[:port][/db] \
                 or the host:port,key=value form"
            ),
        ));
    }

    // The authority (userinfo@host:port) ends at the first '/', '?' or '#'.
    let auth_end = body.find(['/', '?', '#']).unwrap_or(body.len());
    let (authority, rest) = body.split_at(auth_end);
    if rest.contains('@') {
        // Either a password holds a raw '/', '?' or '#', or a query value holds
        // a raw '@'. Quoting any part could reveal the password.
        return Err(ConfigError::new(
            None,
            "the URL has an '@' after the host part; percent-encode '/', '?' and '#' inside the \
             password (%2F, %3F, %23) and '@' inside query values (%40)",
        ));
    }
    // Everything after '#' is ignored.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };

    let mut config = Config::default();

    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            let user = percent_decode(user).map_err(|problem| {
                ConfigError::new(Some("user"), format!("the URL user name {problem}"))
            })?;
            config.user = non_empty(&user);
            if let Some(password) = password {
                let password = percent_decode(password).map_err(|problem| {
                    ConfigError::new(Some("password"), format!("the URL password {problem}"))
                })?;
                config.password = non_empty(&password).map(Password);
            }
            host_port
        }
        None => authority,
    };

    if host_port.is_empty() {
        return Err(ConfigError::new(
            None,
            "the URL has no host; write redis://host[:port], e.g. redis://127.0.0.1:6379",
        ));
    }
    let endpoint = parse_endpoint(host_port).map_err(|problem| {
        // Without an '@', "user:password" written without its '@' would land
        // here as host:port, so the text is only quoted when an '@' ended the
        // credentials.
        let echo = authority.contains('@');
        let what = if echo {
            format!("'{host_port}' in the URL is not a valid host[:port]")
        } else {
            "the host part of the URL is not a valid host[:port] (not shown in case it holds \
             credentials; end credentials with '@', e.g. redis://:password@host)"
                .to_owned()
        };
        ConfigError::new(None, format!("{what}: {}", problem.describe(echo)))
    })?;
    config.endpoints.push(endpoint);

    // The path, if any, is the database number.
    let db = path.strip_prefix('/').unwrap_or(path);
    if !db.is_empty() {
        config.default_database = parse_u32("defaultDatabase", db, "a database number", true)
            .map_err(|_| {
                ConfigError::new(
                    Some("defaultDatabase"),
                    format!(
                        "the URL path is the database number; expected a whole number \
                         (0 to {}), got '{db}'",
                        u32::MAX
                    ),
                )
            })?;
    }

    // Query parameters are the same options as the string form; applied after
    // the path and credentials, so they win.
    for pair in query.unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = match pair.split_once('=') {
            Some(kv) => kv,
            None => {
                return Err(ConfigError::new(
                    Some(pair),
                    format!("query parameter '{pair}' has no value; write {pair}=value"),
                ))
            }
        };
        let key = percent_decode(raw_key)
            .map_err(|problem| ConfigError::new(None, format!("a URL query key {problem}")))?;
        let secret = is_secret_key(&key);
        let value = percent_decode(raw_value).map_err(|problem| {
            let shown_key = SUPPORTED_KEYS
                .iter()
                .map(|(name, _)| *name)
                .find(|name| name.eq_ignore_ascii_case(key.trim()))
                .unwrap_or(key.trim());
            let message = if secret {
                format!("the URL query value of '{shown_key}' {problem}")
            } else {
                format!("the URL query value '{raw_value}' of '{shown_key}' {problem}")
            };
            ConfigError::new(Some(shown_key), message)
        })?;
        apply_option(&mut config, &key, &value, true)?;
    }
    Ok(config)
}

/// Decodes `%XX` escapes; the result must be UTF-8. The error text never
/// contains the input.
fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => {
                    return Err(
                        "has invalid percent-encoding: '%' must be followed by two hex digits \
                         (write a literal '%' as %25)",
                    )
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not valid UTF-8 after percent-decoding")
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(s: &str) -> Config {
        match Config::parse(s) {
            Ok(c) => c,
            Err(e) => panic!("{s:?} should parse, got {e}"),
        }
    }

    fn parse_err(s: &str) -> ConfigError {
        match Config::parse(s) {
            Ok(c) => panic!("{s:?} should fail, got {c:?}"),
            Err(e) => e,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    // --- defaults -------------------------------------------------------

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

    // --- keys -----------------------------------------------------------

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
    fn whitespace_around_tokens_keys_and_values_is_trimmed_and_empty_tokens_ignored() {
        let c = parse_ok("  h1:7000 , ,, syncTimeout = 42 ,name = app ,");
        assert_eq!(c.endpoints, vec![Endpoint::new("h1", 7000)]);
        assert_eq!(c.sync_timeout, ms(42));
        assert_eq!(c.client_name.as_deref(), Some("app"));
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

    // --- endpoints ------------------------------------------------------

    #[test]
    fn endpoint_without_port_defaults_to_6379() {
        assert_eq!(
            parse_ok("cache").endpoints,
            vec![Endpoint::new("cache", 6379)]
        );
    }

    #[test]
    fn endpoint_with_port_uses_it() {
        assert_eq!(
            parse_ok("10.0.0.1:6380").endpoints,
            vec![Endpoint::new("10.0.0.1", 6380)]
        );
    }

    #[test]
    fn ipv6_endpoints_in_brackets_with_and_without_port() {
        let c = parse_ok("[::1]:7000,[fe80::1%eth0]");
        assert_eq!(
            c.endpoints,
            vec![
                Endpoint::new("::1", 7000),
                Endpoint::new("fe80::1%eth0", 6379)
            ]
        );
    }

    #[test]
    fn multiple_endpoints_keep_their_order_and_duplicates_are_dropped() {
        let c = parse_ok("a:1,b,syncTimeout=1,c:3,a:1");
        assert_eq!(
            c.endpoints,
            vec![
                Endpoint::new("a", 1),
                Endpoint::new("b", 6379),
                Endpoint::new("c", 3)
            ]
        );
    }

    #[test]
    fn endpoint_display_brackets_ipv6() {
        assert_eq!(Endpoint::new("::1", 6379).to_string(), "[::1]:6379");
        assert_eq!(
            Endpoint::new("redis.local", 6380).to_string(),
            "redis.local:6380"
        );
    }

    // --- URL form -------------------------------------------------------

    #[test]
    fn url_with_host_only_uses_defaults() {
        let c = parse_ok("redis://cache");
        assert_eq!(c.endpoints, vec![Endpoint::new("cache", 6379)]);
        assert_eq!(c.user, None);
        assert_eq!(c.password, None);
        assert_eq!(c.default_database, 0);
    }

    #[test]
    fn url_scheme_is_case_insensitive() {
        let c = parse_ok("REDIS://cache:7000");
        assert_eq!(c.endpoints, vec![Endpoint::new("cache", 7000)]);
    }

    #[test]
    fn url_with_user_and_password() {
        let c = parse_ok("redis://alice:s3cret@cache:6380");
        assert_eq!(c.user.as_deref(), Some("alice"));
        assert_eq!(c.password.as_ref().map(Password::expose), Some("s3cret"));
        assert_eq!(c.endpoints, vec![Endpoint::new("cache", 6380)]);
    }

    #[test]
    fn url_with_password_only() {
        let c = parse_ok("redis://:pw@h");
        assert_eq!(c.user, None);
        assert_eq!(c.password.as_ref().map(Password::expose), Some("pw"));
        assert_eq!(c.endpoints, vec![Endpoint::new("h", 6379)]);
    }

    #[test]
    fn url_with_user_only() {
        let c = parse_ok("redis://bob@h");
        assert_eq!(c.user.as_deref(), Some("bob"));
        assert_eq!(c.password, None);
    }

    #[test]
    fn url_password_may_contain_a_raw_at_sign() {
        let c = parse_ok("redis://u:p@ss@h");
        assert_eq!(c.password.as_ref().map(Password::expose), Some("p@ss"));
        assert_eq!(c.endpoints, vec![Endpoint::new("h", 6379)]);
    }

    #[test]
    fn url_path_is_the_database() {
        assert_eq!(parse_ok("redis://h/3").default_database, 3);
        assert_eq!(parse_ok("redis://h/").default_database, 0);
    }

    #[test]
    fn url_query_parameters_are_option_keys() {
        let c = parse_ok(
            "redis://h:1/2?syncTimeout=100&ABORTCONNECT=false&name=app&protocol=resp3&&keepAlive=5",
        );
        assert_eq!(c.sync_timeout, ms(100));
        assert!(!c.abort_connect);
        assert_eq!(c.client_name.as_deref(), Some("app"));
        assert_eq!(c.protocol, Protocol::Resp3);
        assert_eq!(c.keep_alive, Duration::from_secs(5));
        assert_eq!(c.default_database, 2);
    }

    #[test]
    fn url_query_overrides_path_database() {
        assert_eq!(
            parse_ok("redis://h/2?defaultDatabase=5").default_database,
            5
        );
    }

    #[test]
    fn url_credentials_and_query_values_are_percent_decoded() {
        let c = parse_ok("redis://us%65r:p%40ss%3Aw%2Fo%25rd@h?name=my%20app");
        assert_eq!(c.user.as_deref(), Some("user"));
        assert_eq!(
            c.password.as_ref().map(Password::expose),
            Some("p@ss:w/o%rd")
        );
        assert_eq!(c.client_name.as_deref(), Some("my app"));
    }

    #[test]
    fn url_with_ipv6_host() {
        let c = parse_ok("redis://:pw@[::1]:7000/1");
        assert_eq!(c.endpoints, vec![Endpoint::new("::1", 7000)]);
        assert_eq!(c.default_database, 1);
        assert_eq!(
            parse_ok("redis://[::1]").endpoints,
            vec![Endpoint::new("::1", 6379)]
        );
    }

    #[test]
    fn url_fragment_is_ignored() {
        let c = parse_ok("redis://h:1/4?name=a#name=b&junk");
        assert_eq!(c.default_database, 4);
        assert_eq!(c.client_name.as_deref(), Some("a"));
        assert_eq!(
            parse_ok("redis://h#x").endpoints,
            vec![Endpoint::new("h", 6379)]
        );
    }

    #[test]
    fn from_str_matches_parse() {
        let c: Result<Config, _> = "redis://h:1".parse();
        assert!(c == Config::parse("h:1"));
    }

    // --- errors ---------------------------------------------------------

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
    fn unknown_query_key_in_url_is_an_error_naming_the_key() {
        let e = parse_err("redis://h?fooBar=1");
        assert_eq!(e.key.as_deref(), Some("fooBar"));
        assert!(e.message.contains("unknown key"), "{e}");
    }

    #[test]
    fn query_parameter_without_value_is_an_error_naming_it() {
        let e = parse_err("redis://h?allowAdmin");
        assert_eq!(e.key.as_deref(), Some("allowAdmin"));
        assert!(e.message.contains("has no value"), "{e}");
    }

    #[test]
    fn not_yet_supported_se_redis_keys_are_errors_naming_the_key() {
        for key in [
            "ssl",
            "sslHost",
            "serviceName",
            "tiebreaker",
            "configCheckSeconds",
            "channelPrefix",
            "proxy",
            "version",
            "resolveDns",
            "sslProtocols",
            "checkCertificateRevocation",
            "configChannel",
            "highIntegrity",
            "tunnel",
            "sentinelUser",
            "sentinelPassword",
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
    fn bad_ports_are_errors_naming_the_endpoint() {
        for input in [
            "h:0",
            "h:65536",
            "h:abc",
            "h:",
            "h:-1",
            "[::1]:99999",
            "h:+80",
        ] {
            let e = parse_err(input);
            assert_eq!(e.key, None, "{input}");
            assert!(e.message.contains("1 to 65535"), "{e}");
            assert!(e.message.contains(input), "{e}");
        }
        assert_eq!(parse_ok("h:65535").endpoints[0].port, 65535);
        let e = parse_err("redis://h:0");
        assert!(e.message.contains("1 to 65535"), "{e}");
    }

    #[test]
    fn malformed_endpoints_are_errors_saying_what_is_accepted() {
        for input in [
            ":6379", "::1", "[::1", "[::1]x", "[]:1", "a b", "h/x", "[nothex]",
        ] {
            let e = parse_err(input);
            assert_eq!(e.key, None, "{input}");
            assert!(e.message.contains("host:port"), "{input}: {e}");
        }
        assert!(parse_err("::1").message.contains("brackets"));
    }

    #[test]
    fn empty_endpoint_list_is_an_error() {
        for input in ["", "   ", ",,", "syncTimeout=1,name=x"] {
            let e = parse_err(input);
            assert_eq!(e.key, None);
            assert_eq!(
                e.message,
                "no endpoint given; add host:port, e.g. 127.0.0.1:6379"
            );
        }
    }

    #[test]
    fn empty_key_is_an_error() {
        let e = parse_err("h,=5");
        assert!(e.message.contains("empty key"), "{e}");
    }

    #[test]
    fn rediss_url_is_an_error_saying_tls_is_not_supported_yet() {
        let e = parse_err("rediss://:pw@h:6380");
        assert!(e.message.contains("TLS"), "{e}");
        assert!(e.message.contains("not supported yet"), "{e}");
        assert!(parse_err("REDISS://h").message.contains("TLS"));
    }

    #[test]
    fn unix_url_is_an_error_saying_not_supported_yet() {
        let e = parse_err("unix:///tmp/redis.sock");
        assert!(e.message.contains("not supported yet"), "{e}");
    }

    #[test]
    fn other_url_schemes_are_errors() {
        let e = parse_err("http://h");
        assert!(
            e.message.contains("unsupported URL scheme 'http://'"),
            "{e}"
        );
    }

    #[test]
    fn url_errors_name_the_key() {
        let e = parse_err("redis://h/abc");
        assert_eq!(e.key.as_deref(), Some("defaultDatabase"));
        assert!(e.message.contains("'abc'"), "{e}");
        assert_eq!(
            parse_err("redis://h/1/2").key.as_deref(),
            Some("defaultDatabase")
        );
        assert_eq!(
            parse_err("redis://h?syncTimeout=x").key.as_deref(),
            Some("syncTimeout")
        );
        assert_eq!(parse_err("redis://us%zzer@h").key.as_deref(), Some("user"));
        assert_eq!(parse_err("redis://h?name=%G0").key.as_deref(), Some("name"));
    }

    #[test]
    fn url_without_host_is_an_error() {
        for input in ["redis://", "redis:///0", "redis://:pw@", "redis://?name=x"] {
            let e = parse_err(input);
            assert!(e.message.contains("no host"), "{input}: {e}");
        }
    }

    #[test]
    fn error_messages_are_single_spaced_sentences() {
        for input in [
            "h,fooBar=1",
            "h,ssl=true",
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
            "rediss://h",
            "unix:///s",
            "http://h",
        ] {
            let e = parse_err(input);
            assert!(!e.message.contains("  "), "{input}: {e}");
            assert!(!e.message.is_empty());
        }
    }

    // --- secrets never shown --------------------------------------------

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
            // TLS URL with a password.
            "rediss://alice:hunter2@h",
            // A password containing ',' in the SE.Redis form.
            "h,password=hun,ter2",
            "h,password=hun,ter2:x",
            "h,password=hun,ter2=x",
            "h,password=hun,ter2:1:2",
            "h,password=x,abortConnect=hunter2",
            "h,sentinelPassword=hunter2",
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
    fn endpoint_directly_after_password_is_refused_as_a_likely_password_fragment() {
        let e = parse_err("h,password=hun,ter2");
        assert!(
            e.message.contains("may not directly follow 'password='"),
            "{e}"
        );
        let c = parse_ok("h,password=x,name=a,h2");
        assert_eq!(c.endpoints.len(), 2);
    }

    // --- timeouts and round trip ----------------------------------------

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
    fn resilience_keys_are_parsed() {
        let c = parse_ok("h,backlogPolicy=failFast,backlogLimit=10,stallTimeout=250");
        assert_eq!(c.backlog_policy, BacklogPolicy::FailFast);
        assert_eq!(c.backlog_limit, 10);
        assert_eq!(c.stall_timeout, ms(250));
        assert_eq!(parse_ok(&c.to_config_string()), c);
        let e = parse_err("h,backlogPolicy=sometimes");
        assert!(e.to_string().contains("queue or failFast"), "{e}");
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

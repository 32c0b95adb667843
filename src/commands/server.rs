//! Connection, server and introspection commands: PING, ECHO, INFO, DBSIZE,
//! TIME, MEMORY, CLIENT, CONFIG, SLOWLOG, LATENCY, COMMAND, ACL, FLUSHDB, ...
//!
//! Commands the refusal policy (`src/cmd/policy.rs`) refuses without
//! `allowAdmin=true` are issued with `ADMIN`, so a typed method is never a
//! way around the policy; read-only introspection it allows (CONFIG GET,
//! CLIENT LIST, SLOWLOG GET, ACL USERS, ...) is issued as an ordinary command.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{array_items, push_args, Commands, ADMIN, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

/// `FLUSHDB`/`FLUSHALL`/`SCRIPT FLUSH`/`FUNCTION FLUSH` mode.
///
/// ```
/// use redmux::FlushMode;
/// let mode = FlushMode::Async;
/// # let _ = mode;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushMode {
    /// Free the memory in the background (`ASYNC`).
    Async,
    /// Free the memory before replying (`SYNC`).
    Sync,
}

impl FlushMode {
    pub(super) fn word(self) -> &'static str {
        match self {
            FlushMode::Async => "ASYNC",
            FlushMode::Sync => "SYNC",
        }
    }
}

/// What [`ServerCommands::client_pause`] pauses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientPauseMode {
    /// Every command of every client (`ALL`).
    All,
    /// Only commands that may write (`WRITE`).
    Write,
}

/// Which clients [`ServerCommands::client_kill`] closes; filters combine
/// with AND.
///
/// ```
/// use redmux::ClientKillFilter;
/// let filter = ClientKillFilter::new().user("worker").skip_me(true);
/// # let _ = filter;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientKillFilter {
    filters: Vec<(&'static str, String)>,
}

impl ClientKillFilter {
    /// No filter yet (Redis needs at least one).
    pub fn new() -> ClientKillFilter {
        ClientKillFilter::default()
    }

    /// The client with this id (`ID`).
    pub fn id(mut self, id: u64) -> ClientKillFilter {
        self.filters.push(("ID", id.to_string()));
        self
    }

    /// The client connected from `ip:port` (`ADDR`).
    pub fn addr(mut self, addr: impl Into<String>) -> ClientKillFilter {
        self.filters.push(("ADDR", addr.into()));
        self
    }

    /// Clients connected to the server's local `ip:port` (`LADDR`).
    pub fn laddr(mut self, addr: impl Into<String>) -> ClientKillFilter {
        self.filters.push(("LADDR", addr.into()));
        self
    }

    /// Clients authenticated as `user` (`USER`).
    pub fn user(mut self, user: impl Into<String>) -> ClientKillFilter {
        self.filters.push(("USER", user.into()));
        self
    }

    /// Whether to spare the connection sending the command (`SKIPME`,
    /// Redis's default is `yes`). On a shared connection, `true` spares
    /// every caller of this multiplexer.
    pub fn skip_me(mut self, skip: bool) -> ClientKillFilter {
        self.filters
            .push(("SKIPME", if skip { "yes" } else { "no" }.to_owned()));
        self
    }

    /// Clients connected for longer than `age` (`MAXAGE`, whole seconds).
    pub fn max_age(mut self, age: Duration) -> ClientKillFilter {
        self.filters.push(("MAXAGE", age.as_secs().to_string()));
        self
    }
}

/// The reply of [INFO](https://redis.io/commands/info/): sections of
/// `field: value` pairs, parsed from the `# Section` / `key:value` text.
///
/// ```no_run
/// # use redmux::prelude::*;
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// let info = db.info().await?;
/// let version = info.get("server", "redis_version");
/// for (name, fields) in info.sections() {
///     println!("{name}: {} fields", fields.len());
/// }
/// # let _ = version;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    sections: Vec<(String, HashMap<String, String>)>,
}

impl Info {
    /// Parses INFO text. Lines before any `# Section` header land in a
    /// section named `""`; lines without a `:` are skipped.
    pub fn parse(text: &str) -> Info {
        let mut sections: Vec<(String, HashMap<String, String>)> = Vec::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(name) = line.strip_prefix('#') {
                sections.push((name.trim().to_owned(), HashMap::new()));
            } else if let Some((key, value)) = line.split_once(':') {
                if sections.is_empty() {
                    sections.push((String::new(), HashMap::new()));
                }
                if let Some((_, fields)) = sections.last_mut() {
                    fields.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        Info { sections }
    }

    /// The sections in the order the server sent them, as `(name, fields)`;
    /// names as sent (`"Server"`, `"Keyspace"`).
    pub fn sections(&self) -> impl Iterator<Item = (&str, &HashMap<String, String>)> {
        self.sections.iter().map(|(n, f)| (n.as_str(), f))
    }

    /// The fields of section `name` (case-insensitive), if it was sent.
    pub fn section(&self, name: &str) -> Option<&HashMap<String, String>> {
        self.sections
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| f)
    }

    /// Field `field` of section `section` (case-insensitive section name).
    pub fn get(&self, section: &str, field: &str) -> Option<&str> {
        self.section(section)?.get(field).map(String::as_str)
    }

    /// Field `field` of whichever section has it first.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.sections
            .iter()
            .find_map(|(_, f)| f.get(field))
            .map(String::as_str)
    }
}

impl FromValue for Info {
    /// From a bulk string (RESP2) or a verbatim string (RESP3).
    fn from_value(value: Value) -> Result<Info> {
        let text = String::from_value(value)?;
        Ok(Info::parse(&text))
    }
}

/// One connection as described by
/// [CLIENT INFO](https://redis.io/commands/client-info/) and
/// [CLIENT LIST](https://redis.io/commands/client-list/): the
/// `field=value` pairs of its line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    fields: Vec<(String, String)>,
}

impl ClientInfo {
    /// Parses one line of `field=value` pairs separated by spaces.
    pub fn parse(line: &str) -> ClientInfo {
        let fields = line
            .split_ascii_whitespace()
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (pair.to_owned(), String::new()),
            })
            .collect();
        ClientInfo { fields }
    }

    /// Field `name` (`"addr"`, `"flags"`, `"cmd"`, ...), if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every field, in the server's order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The client id (`id`).
    pub fn id(&self) -> Option<u64> {
        self.get("id")?.parse().ok()
    }

    /// The client's address, `ip:port` (`addr`).
    pub fn addr(&self) -> Option<&str> {
        self.get("addr")
    }

    /// The connection name (`name`), `None` if unset.
    pub fn name(&self) -> Option<&str> {
        self.get("name").filter(|n| !n.is_empty())
    }

    /// The selected database (`db`).
    pub fn db(&self) -> Option<u32> {
        self.get("db")?.parse().ok()
    }

    /// The authenticated user (`user`).
    pub fn user(&self) -> Option<&str> {
        self.get("user")
    }

    /// The last command run (`cmd`, e.g. `"client|info"`).
    pub fn cmd(&self) -> Option<&str> {
        self.get("cmd")
    }
}

fn client_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

impl FromValue for ClientInfo {
    /// From the bulk (RESP2) or verbatim (RESP3) string of one client line.
    fn from_value(value: Value) -> Result<ClientInfo> {
        let text = String::from_value(value)?;
        Ok(ClientInfo::parse(text.trim()))
    }

    /// `Vec<ClientInfo>` reads CLIENT LIST's text: one client per line.
    fn vec_from_bytes(bytes: Bytes) -> Option<Vec<ClientInfo>> {
        Some(
            client_text(&bytes)?
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(ClientInfo::parse)
                .collect(),
        )
    }
}

/// One entry of [SLOWLOG GET](https://redis.io/commands/slowlog-get/).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlowlogEntry {
    /// The entry's unique, increasing id.
    pub id: u64,
    /// When the command ran.
    pub time: SystemTime,
    /// How long it ran.
    pub duration: Duration,
    /// The command and its arguments (the server shortens long ones).
    pub args: Vec<String>,
    /// The client's `ip:port` (empty before Redis 4).
    pub client_addr: String,
    /// The client's name (empty if unset).
    pub client_name: String,
}

impl FromValue for SlowlogEntry {
    fn from_value(value: Value) -> Result<SlowlogEntry> {
        const WANTED: &str = "SlowlogEntry";
        let items = array_items(value, WANTED)?;
        let len = items.len();
        if len < 4 {
            return Err(Error::type_conversion(
                "array",
                WANTED,
                Some(format!("expected at least 4 elements, got {len}")),
            ));
        }
        let mut it = items.into_iter();
        let mut next = || it.next().unwrap_or(Value::Nil);
        let id = u64::from_value(next())?;
        let time = UNIX_EPOCH + Duration::from_secs(u64::from_value(next())?);
        let duration = Duration::from_micros(u64::from_value(next())?);
        let args = array_items(next(), WANTED)?
            .into_iter()
            .map(|a| Bytes::from_value(a).map(|b| String::from_utf8_lossy(&b).into_owned()))
            .collect::<Result<Vec<_>>>()?;
        let client_addr = Option::<String>::from_value(next())?.unwrap_or_default();
        let client_name = Option::<String>::from_value(next())?.unwrap_or_default();
        Ok(SlowlogEntry {
            id,
            time,
            duration,
            args,
            client_addr,
            client_name,
        })
    }
}

impl FromValue for SystemTime {
    /// From a Unix time in seconds (LASTSAVE's integer), or TIME's
    /// `[seconds, microseconds]` pair.
    fn from_value(value: Value) -> Result<SystemTime> {
        match value {
            Value::Array(items) => {
                let len = items.len();
                let mut it = items.into_iter();
                match (it.next(), it.next(), it.next()) {
                    (Some(secs), Some(micros), None) => Ok(UNIX_EPOCH
                        + Duration::from_secs(u64::from_value(secs)?)
                        + Duration::from_micros(u64::from_value(micros)?)),
                    _ => Err(Error::type_conversion(
                        "array",
                        "SystemTime",
                        Some(format!("expected 2 elements, got {len}")),
                    )),
                }
            }
            other => Ok(UNIX_EPOCH + Duration::from_secs(u64::from_value(other)?)),
        }
    }
}

/// Connection, server and introspection commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
/// Methods marked *admin* are refused (kind `AdminRefused`) unless the
/// configuration has `allowAdmin=true`.
pub trait ServerCommands: Commands {
    /// [PING](https://redis.io/commands/ping/): `"PONG"`; a round trip through the shared connection.
    fn ping(self) -> Self::Out<String> {
        self.issue(Cmd::new("PING"), TYPED)
    }

    /// [ECHO](https://redis.io/commands/echo/): the message back.
    fn echo<T: FromValue>(self, message: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("ECHO").arg(message), TYPED)
    }

    /// [INFO](https://redis.io/commands/info/): the default sections, parsed.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let info = db.info().await?;
    /// let clients: Option<u64> = info.get("clients", "connected_clients").and_then(|v| v.parse().ok());
    /// # let _ = clients;
    /// # Ok(()) }
    /// ```
    fn info(self) -> Self::Out<Info> {
        self.issue(Cmd::new("INFO"), TYPED)
    }

    /// [INFO](https://redis.io/commands/info/) of the named sections
    /// (`"memory"`, `"keyspace"`, `"all"`, ...), parsed; an unknown section
    /// gives an empty [`Info`].
    fn info_sections<S: ToArg>(self, sections: impl IntoIterator<Item = S>) -> Self::Out<Info> {
        let mut cmd = Cmd::new("INFO");
        push_args(&mut cmd, sections);
        self.issue(cmd, TYPED)
    }

    /// [DBSIZE](https://redis.io/commands/dbsize/): the number of keys in the database.
    fn dbsize(self) -> Self::Out<u64> {
        self.issue(Cmd::new("DBSIZE"), TYPED)
    }

    /// [TIME](https://redis.io/commands/time/): the server's clock, to the microsecond.
    fn time(self) -> Self::Out<SystemTime> {
        self.issue(Cmd::new("TIME"), TYPED)
    }

    /// [LASTSAVE](https://redis.io/commands/lastsave/): when the last
    /// successful save to disk happened (start-up time if none).
    fn lastsave(self) -> Self::Out<SystemTime> {
        self.issue(Cmd::new("LASTSAVE"), TYPED)
    }

    /// [MEMORY USAGE](https://redis.io/commands/memory-usage/): bytes used
    /// by `key` and its value; `None` if the key does not exist.
    fn memory_usage(self, key: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("MEMORY").arg("USAGE").key(key), TYPED)
    }

    /// [MEMORY USAGE](https://redis.io/commands/memory-usage/) sampling
    /// `samples` nested values (0: all of them); `None` if the key does not exist.
    fn memory_usage_samples(self, key: impl ToArg, samples: u64) -> Self::Out<Option<u64>> {
        let cmd = Cmd::new("MEMORY")
            .arg("USAGE")
            .key(key)
            .arg("SAMPLES")
            .arg(samples);
        self.issue(cmd, TYPED)
    }

    /// [MEMORY STATS](https://redis.io/commands/memory-stats/): memory
    /// figures by name (`"peak.allocated"`, `"keys.count"`, `"db.0"` (a
    /// nested map), ...).
    fn memory_stats(self) -> Self::Out<HashMap<String, Value>> {
        self.issue(Cmd::new("MEMORY").arg("STATS"), TYPED)
    }

    /// [MEMORY DOCTOR](https://redis.io/commands/memory-doctor/): a report on memory problems, as text.
    fn memory_doctor(self) -> Self::Out<String> {
        self.issue(Cmd::new("MEMORY").arg("DOCTOR"), TYPED)
    }

    /// [MEMORY MALLOC-STATS](https://redis.io/commands/memory-malloc-stats/): the allocator's statistics, as text.
    fn memory_malloc_stats(self) -> Self::Out<String> {
        self.issue(Cmd::new("MEMORY").arg("MALLOC-STATS"), TYPED)
    }

    /// [MEMORY PURGE](https://redis.io/commands/memory-purge/) (*admin*):
    /// asks the allocator to release memory.
    fn memory_purge(self) -> Self::Out<()> {
        self.issue(Cmd::new("MEMORY").arg("PURGE"), ADMIN)
    }

    /// [CLIENT ID](https://redis.io/commands/client-id/): the id of the
    /// connection the command ran on (shared by this multiplexer's callers).
    fn client_id(self) -> Self::Out<u64> {
        self.issue(Cmd::new("CLIENT").arg("ID"), TYPED)
    }

    /// [CLIENT INFO](https://redis.io/commands/client-info/): the
    /// connection the command ran on, parsed.
    fn client_info(self) -> Self::Out<ClientInfo> {
        self.issue(Cmd::new("CLIENT").arg("INFO"), TYPED)
    }

    /// [CLIENT LIST](https://redis.io/commands/client-list/): every
    /// connection to the server, parsed (read-only, so allowed without
    /// `allowAdmin`).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// for client in db.client_list().await? {
    ///     println!("{:?} from {:?}", client.id(), client.addr());
    /// }
    /// # Ok(()) }
    /// ```
    fn client_list(self) -> Self::Out<Vec<ClientInfo>> {
        self.issue(Cmd::new("CLIENT").arg("LIST"), TYPED)
    }

    /// [CLIENT GETNAME](https://redis.io/commands/client-getname/): the
    /// connection's name (set by the configuration's `name`); `None` if unset.
    fn client_getname(self) -> Self::Out<Option<String>> {
        self.issue(Cmd::new("CLIENT").arg("GETNAME"), TYPED)
    }

    /// [CLIENT KILL](https://redis.io/commands/client-kill/) (*admin*):
    /// closes the clients matching `filter`; how many were closed.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ClientKillFilter;
    /// let closed = db.client_kill(ClientKillFilter::new().user("batch-job")).await?;
    /// # let _ = closed;
    /// # Ok(()) }
    /// ```
    fn client_kill(self, filter: ClientKillFilter) -> Self::Out<u64> {
        let mut cmd = Cmd::new("CLIENT").arg("KILL");
        for (name, value) in &filter.filters {
            cmd.push_arg(*name);
            cmd.push_arg(value);
        }
        self.issue(cmd, ADMIN)
    }

    /// [CLIENT PAUSE](https://redis.io/commands/client-pause/) (*admin*):
    /// suspends clients' commands for `timeout` (whole milliseconds).
    fn client_pause(self, timeout: Duration, mode: ClientPauseMode) -> Self::Out<()> {
        let mode = match mode {
            ClientPauseMode::All => "ALL",
            ClientPauseMode::Write => "WRITE",
        };
        let cmd = Cmd::new("CLIENT")
            .arg("PAUSE")
            .arg(timeout.as_millis())
            .arg(mode);
        self.issue(cmd, ADMIN)
    }

    /// [CLIENT UNPAUSE](https://redis.io/commands/client-unpause/) (*admin*): ends a pause early.
    fn client_unpause(self) -> Self::Out<()> {
        self.issue(Cmd::new("CLIENT").arg("UNPAUSE"), ADMIN)
    }

    /// [CLIENT NO-EVICT](https://redis.io/commands/client-no-evict/)
    /// (*admin*): whether the shared connection is exempt from client eviction.
    fn client_no_evict(self, on: bool) -> Self::Out<()> {
        let cmd = Cmd::new("CLIENT")
            .arg("NO-EVICT")
            .arg(if on { "ON" } else { "OFF" });
        self.issue(cmd, ADMIN)
    }

    /// [CONFIG GET](https://redis.io/commands/config-get/): the parameters
    /// matching the glob `pattern`, by name (empty if none match).
    fn config_get(self, pattern: impl ToArg) -> Self::Out<HashMap<String, String>> {
        self.issue(Cmd::new("CONFIG").arg("GET").arg(pattern), TYPED)
    }

    /// [CONFIG GET](https://redis.io/commands/config-get/) of several patterns at once.
    fn config_get_many<P: ToArg>(
        self,
        patterns: impl IntoIterator<Item = P>,
    ) -> Self::Out<HashMap<String, String>> {
        let mut cmd = Cmd::new("CONFIG").arg("GET");
        push_args(&mut cmd, patterns);
        self.issue(cmd, TYPED)
    }

    /// [CONFIG SET](https://redis.io/commands/config-set/) (*admin*): sets `parameter` to `value`.
    fn config_set(self, parameter: impl ToArg, value: impl ToArg) -> Self::Out<()> {
        self.issue(
            Cmd::new("CONFIG").arg("SET").arg(parameter).arg(value),
            ADMIN,
        )
    }

    /// [CONFIG SET](https://redis.io/commands/config-set/) (*admin*) of
    /// several `(parameter, value)` pairs, atomically.
    fn config_set_many<P: ToArg, V: ToArg>(
        self,
        pairs: impl IntoIterator<Item = (P, V)>,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("CONFIG").arg("SET");
        for (p, v) in pairs {
            cmd.push_arg(&p);
            cmd.push_arg(&v);
        }
        self.issue(cmd, ADMIN)
    }

    /// [CONFIG RESETSTAT](https://redis.io/commands/config-resetstat/) (*admin*): zeroes INFO's statistics.
    fn config_resetstat(self) -> Self::Out<()> {
        self.issue(Cmd::new("CONFIG").arg("RESETSTAT"), ADMIN)
    }

    /// [CONFIG REWRITE](https://redis.io/commands/config-rewrite/)
    /// (*admin*): writes the running configuration to the config file (an
    /// error if the server started without one).
    fn config_rewrite(self) -> Self::Out<()> {
        self.issue(Cmd::new("CONFIG").arg("REWRITE"), ADMIN)
    }

    /// [SLOWLOG GET](https://redis.io/commands/slowlog-get/): the `count`
    /// latest slow log entries, newest first.
    fn slowlog_get(self, count: u64) -> Self::Out<Vec<SlowlogEntry>> {
        self.issue(Cmd::new("SLOWLOG").arg("GET").arg(count), TYPED)
    }

    /// [SLOWLOG LEN](https://redis.io/commands/slowlog-len/): the number of slow log entries.
    fn slowlog_len(self) -> Self::Out<u64> {
        self.issue(Cmd::new("SLOWLOG").arg("LEN"), TYPED)
    }

    /// [SLOWLOG RESET](https://redis.io/commands/slowlog-reset/) (*admin*): empties the slow log.
    fn slowlog_reset(self) -> Self::Out<()> {
        self.issue(Cmd::new("SLOWLOG").arg("RESET"), ADMIN)
    }

    /// [LATENCY LATEST](https://redis.io/commands/latency-latest/): per
    /// event, `(event, unix time of the latest spike, latest ms, max ms)`.
    fn latency_latest(self) -> Self::Out<Vec<(String, u64, u64, u64)>> {
        self.issue(Cmd::new("LATENCY").arg("LATEST"), TYPED)
    }

    /// [LATENCY HISTORY](https://redis.io/commands/latency-history/): the
    /// spikes of `event` as `(unix time, ms)` (empty if none).
    fn latency_history(self, event: impl ToArg) -> Self::Out<Vec<(u64, u64)>> {
        self.issue(Cmd::new("LATENCY").arg("HISTORY").arg(event), TYPED)
    }

    /// [LATENCY RESET](https://redis.io/commands/latency-reset/) (*admin*):
    /// clears the named events' history (every event if none are named);
    /// how many were reset.
    fn latency_reset<E: ToArg>(self, events: impl IntoIterator<Item = E>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("LATENCY").arg("RESET");
        push_args(&mut cmd, events);
        self.issue(cmd, ADMIN)
    }

    /// [LATENCY DOCTOR](https://redis.io/commands/latency-doctor/): a latency report, as text.
    fn latency_doctor(self) -> Self::Out<String> {
        self.issue(Cmd::new("LATENCY").arg("DOCTOR"), TYPED)
    }

    /// [LATENCY GRAPH](https://redis.io/commands/latency-graph/): an ASCII
    /// graph of the latency samples of `event`, as text.
    fn latency_graph(self, event: impl ToArg) -> Self::Out<String> {
        self.issue(Cmd::new("LATENCY").arg("GRAPH").arg(event), TYPED)
    }

    /// [LATENCY HISTOGRAM](https://redis.io/commands/latency-histogram/):
    /// per-command latency histograms (all commands if none are named), as
    /// the raw reply (a map from command name to its histogram).
    fn latency_histogram<N: ToArg>(
        self,
        commands: impl IntoIterator<Item = N>,
    ) -> Self::Out<Value> {
        let mut cmd = Cmd::new("LATENCY").arg("HISTOGRAM");
        push_args(&mut cmd, commands);
        self.issue(cmd, TYPED)
    }

    /// [COMMAND GETKEYSANDFLAGS](https://redis.io/commands/command-getkeysandflags/):
    /// the keys of the command line `command` with how it uses each, as
    /// `(key, flags)` pairs; sent as plain arguments (no key prefix).
    fn command_getkeysandflags<T: FromValue, A: ToArg>(
        self,
        command: impl IntoIterator<Item = A>,
    ) -> Self::Out<Vec<(T, Vec<String>)>> {
        let mut cmd = Cmd::new("COMMAND").arg("GETKEYSANDFLAGS");
        push_args(&mut cmd, command);
        self.issue(cmd, TYPED)
    }

    /// [ACL DRYRUN](https://redis.io/commands/acl-dryrun/) (*admin*):
    /// whether `user` may run the command line `command`; `"OK"` or the
    /// reason it may not.
    fn acl_dryrun<A: ToArg>(
        self,
        user: impl ToArg,
        command: impl IntoIterator<Item = A>,
    ) -> Self::Out<String> {
        let mut cmd = Cmd::new("ACL").arg("DRYRUN").arg(user);
        push_args(&mut cmd, command);
        self.issue(cmd, ADMIN)
    }

    /// [ACL LOAD](https://redis.io/commands/acl-load/) (*admin*): reloads
    /// the users from the configured ACL file.
    fn acl_load(self) -> Self::Out<()> {
        self.issue(Cmd::new("ACL").arg("LOAD"), ADMIN)
    }

    /// [ACL SAVE](https://redis.io/commands/acl-save/) (*admin*): writes the
    /// users to the configured ACL file.
    fn acl_save(self) -> Self::Out<()> {
        self.issue(Cmd::new("ACL").arg("SAVE"), ADMIN)
    }

    /// [ROLE](https://redis.io/commands/role/): the replication role, as
    /// the raw reply (`["master", offset, [replicas...]]`, ...).
    fn role(self) -> Self::Out<Value> {
        self.issue(Cmd::new("ROLE"), TYPED)
    }

    /// [LOLWUT](https://redis.io/commands/lolwut/): a piece of generative
    /// art and the server version, as text.
    fn lolwut(self) -> Self::Out<String> {
        self.issue(Cmd::new("LOLWUT"), TYPED)
    }

    /// [COMMAND COUNT](https://redis.io/commands/command-count/): how many commands the server has.
    fn command_count(self) -> Self::Out<u64> {
        self.issue(Cmd::new("COMMAND").arg("COUNT"), TYPED)
    }

    /// [COMMAND LIST](https://redis.io/commands/command-list/): the names of the server's commands.
    fn command_list(self) -> Self::Out<Vec<String>> {
        self.issue(Cmd::new("COMMAND").arg("LIST"), TYPED)
    }

    /// [COMMAND GETKEYS](https://redis.io/commands/command-getkeys/): the
    /// keys of the command line `command` (its name first), as the server
    /// finds them; read as `Vec<String>` or `Vec<Bytes>`. The line is sent as
    /// plain arguments: no key prefix is added.
    fn command_getkeys<T: FromValue, A: ToArg>(
        self,
        command: impl IntoIterator<Item = A>,
    ) -> Self::Out<T> {
        let mut cmd = Cmd::new("COMMAND").arg("GETKEYS");
        push_args(&mut cmd, command);
        self.issue(cmd, TYPED)
    }

    /// [COMMAND DOCS](https://redis.io/commands/command-docs/) of the named
    /// commands (every command if none are named), as the raw reply (a map
    /// from name to docs).
    fn command_docs<N: ToArg>(self, names: impl IntoIterator<Item = N>) -> Self::Out<Value> {
        let mut cmd = Cmd::new("COMMAND").arg("DOCS");
        push_args(&mut cmd, names);
        self.issue(cmd, TYPED)
    }

    /// [COMMAND INFO](https://redis.io/commands/command-info/) of the named
    /// commands, as the raw reply (one entry per name, nil for an unknown
    /// one). For one command parsed, see [`Database::command_info`](crate::Database::command_info).
    fn command_info_many<N: ToArg>(self, names: impl IntoIterator<Item = N>) -> Self::Out<Value> {
        let mut cmd = Cmd::new("COMMAND").arg("INFO");
        push_args(&mut cmd, names);
        self.issue(cmd, TYPED)
    }

    /// [ACL CAT](https://redis.io/commands/acl-cat/): the ACL categories.
    fn acl_cat(self) -> Self::Out<Vec<String>> {
        self.issue(Cmd::new("ACL").arg("CAT"), TYPED)
    }

    /// [ACL CAT](https://redis.io/commands/acl-cat/) `category`: the
    /// commands in it (an error for an unknown category).
    fn acl_cat_commands(self, category: impl ToArg) -> Self::Out<Vec<String>> {
        self.issue(Cmd::new("ACL").arg("CAT").arg(category), TYPED)
    }

    /// [ACL WHOAMI](https://redis.io/commands/acl-whoami/): the user the shared connection is authenticated as.
    fn acl_whoami(self) -> Self::Out<String> {
        self.issue(Cmd::new("ACL").arg("WHOAMI"), TYPED)
    }

    /// [ACL GENPASS](https://redis.io/commands/acl-genpass/): a random
    /// 256-bit password, as 64 hex digits.
    fn acl_genpass(self) -> Self::Out<String> {
        self.issue(Cmd::new("ACL").arg("GENPASS"), TYPED)
    }

    /// [ACL USERS](https://redis.io/commands/acl-users/): the user names.
    fn acl_users(self) -> Self::Out<Vec<String>> {
        self.issue(Cmd::new("ACL").arg("USERS"), TYPED)
    }

    /// [ACL LIST](https://redis.io/commands/acl-list/): every user's rules, one line per user.
    fn acl_list(self) -> Self::Out<Vec<String>> {
        self.issue(Cmd::new("ACL").arg("LIST"), TYPED)
    }

    /// [ACL GETUSER](https://redis.io/commands/acl-getuser/): `user`'s
    /// rules by property (`"flags"`, `"passwords"`, `"commands"`, ...);
    /// `None` if there is no such user.
    fn acl_getuser(self, user: impl ToArg) -> Self::Out<Option<HashMap<String, Value>>> {
        self.issue(Cmd::new("ACL").arg("GETUSER").arg(user), TYPED)
    }

    /// [ACL SETUSER](https://redis.io/commands/acl-setuser/) (*admin*):
    /// creates or changes `user` with ACL rules (`"on"`, `">password"`,
    /// `"~cache:*"`, `"+@read"`, ...), which are a language of their own.
    fn acl_setuser<R: ToArg>(
        self,
        user: impl ToArg,
        rules: impl IntoIterator<Item = R>,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("ACL").arg("SETUSER").arg(user);
        push_args(&mut cmd, rules);
        self.issue(cmd, ADMIN)
    }

    /// [ACL DELUSER](https://redis.io/commands/acl-deluser/) (*admin*):
    /// deletes users; how many existed.
    fn acl_deluser<U: ToArg>(self, users: impl IntoIterator<Item = U>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("ACL").arg("DELUSER");
        push_args(&mut cmd, users);
        self.issue(cmd, ADMIN)
    }

    /// [ACL LOG](https://redis.io/commands/acl-log/): the latest `count`
    /// security events, newest first, each by property (`"reason"`,
    /// `"username"`, `"object"`, `"count"`, ...).
    fn acl_log(self, count: u64) -> Self::Out<Vec<HashMap<String, Value>>> {
        self.issue(Cmd::new("ACL").arg("LOG").arg(count), TYPED)
    }

    /// [ACL LOG RESET](https://redis.io/commands/acl-log/) (*admin*): empties the ACL log.
    fn acl_log_reset(self) -> Self::Out<()> {
        self.issue(Cmd::new("ACL").arg("LOG").arg("RESET"), ADMIN)
    }

    /// [FLUSHDB](https://redis.io/commands/flushdb/) (*admin*): deletes
    /// every key of the database (all keys, whatever the handle's key prefix).
    fn flushdb(self) -> Self::Out<()> {
        self.issue(Cmd::new("FLUSHDB"), ADMIN)
    }

    /// [FLUSHDB](https://redis.io/commands/flushdb/) (*admin*) in the given mode.
    fn flushdb_with(self, mode: FlushMode) -> Self::Out<()> {
        self.issue(Cmd::new("FLUSHDB").arg(mode.word()), ADMIN)
    }

    /// [FLUSHALL](https://redis.io/commands/flushall/) (*admin*): deletes every key of every database.
    fn flushall(self) -> Self::Out<()> {
        self.issue(Cmd::new("FLUSHALL"), ADMIN)
    }

    /// [FLUSHALL](https://redis.io/commands/flushall/) (*admin*) in the given mode.
    fn flushall_with(self, mode: FlushMode) -> Self::Out<()> {
        self.issue(Cmd::new("FLUSHALL").arg(mode.word()), ADMIN)
    }

    /// [SWAPDB](https://redis.io/commands/swapdb/) (*admin*): swaps the contents of two databases.
    fn swapdb(self, index1: u32, index2: u32) -> Self::Out<()> {
        self.issue(Cmd::new("SWAPDB").arg(index1).arg(index2), ADMIN)
    }

    /// [SAVE](https://redis.io/commands/save/) (*admin*): saves the
    /// dataset to disk, blocking the server until done.
    fn save(self) -> Self::Out<()> {
        self.issue(Cmd::new("SAVE"), ADMIN)
    }

    /// [BGSAVE](https://redis.io/commands/bgsave/) (*admin*): starts a
    /// background save; the server's status text.
    fn bgsave(self) -> Self::Out<String> {
        self.issue(Cmd::new("BGSAVE"), ADMIN)
    }

    /// [BGREWRITEAOF](https://redis.io/commands/bgrewriteaof/) (*admin*):
    /// starts an append-only file rewrite; the server's status text.
    fn bgrewriteaof(self) -> Self::Out<String> {
        self.issue(Cmd::new("BGREWRITEAOF"), ADMIN)
    }

    /// [MODULE LIST](https://redis.io/commands/module-list/) (*admin*):
    /// the loaded modules, each by property (`"name"`, `"ver"`, ...).
    fn module_list(self) -> Self::Out<Vec<HashMap<String, Value>>> {
        self.issue(Cmd::new("MODULE").arg("LIST"), ADMIN)
    }
}

impl<C: Commands> ServerCommands for C {}

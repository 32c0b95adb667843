//! Dedicated connections: an exclusive connection leased from a small
//! bounded pool (`mux.dedicated()`), for what the shared connection
//! refuses: blocking commands, a hand-written WATCH/MULTI/EXEC, SELECT.
//!
//! ```text
//!  mux.dedicated() ── permit (≤ maxDedicated leased) ── idle connection, or a new one
//!        │                                              (same configuration and handshake)
//!        ▼
//!  Dedicated: one command at a time, on the caller's task: write, read one reply
//!        │ drop
//!        ▼
//!  back to the idle list if healthy and in its initial state; closed otherwise
//! ```
//!
//! There is no driver task: the lease is exclusive, so the caller's task
//! writes the command and reads its reply itself (`&mut self`). Nothing
//! reconnects behind the caller's back either: a dedicated connection that
//! breaks stays broken (a WATCH or a SELECT would silently vanish with a
//! new connection), and every later call on it fails saying so.
//!
//! **Blocking commands** get a client-side timeout longer than their server
//! timeout (the server's timeout plus the command timeout). If it still
//! passes, the connection is discarded, not returned: the command may
//! still be armed on the server and would take the next item pushed to
//! the list, for nobody (a known bug in clients that reuse such a
//! connection).
//!
//! A connection returns to the pool only if nothing changed its state:
//! same database as configured, no WATCH or MULTI open, no subscription,
//! MONITOR, CLIENT REPLY/TRACKING, HELLO, AUTH, RESET or READONLY sent.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{sealed, Commands, How, ListEnd};
use crate::config::{Config, Endpoint};
use crate::connection::{open_connection, Established, Locate, Role, Stream};
use crate::error::{Error, Result};
use crate::resp::{Decoder, Value};

/// The pool behind `mux.dedicated()`.
pub(crate) struct Pool {
    config: Arc<Config>,
    /// Where new connections go, asked at each lease (the primary moves
    /// with a Sentinel failover; a cluster's first live primary).
    locate: Locate,
    /// One permit per connection that may be leased at once.
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Link>>,
    closed: AtomicBool,
}

/// One open connection: the stream and what was read past the last reply.
struct Link {
    /// The server it is connected to.
    endpoint: Endpoint,
    stream: Stream,
    input: BytesMut,
    decoder: Decoder,
}

impl Pool {
    pub(crate) fn new(config: Arc<Config>, locate: Locate) -> Pool {
        Pool {
            permits: Arc::new(Semaphore::new(config.max_dedicated as usize)),
            config,
            locate,
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// Leases a connection: an idle one that is still open, or a new one.
    pub(crate) async fn lease(self: &Arc<Pool>) -> Result<Dedicated> {
        let max = self.config.max_dedicated;
        if max == 0 {
            return Err(Error::pool_exhausted(
                "maxDedicated=0 turns dedicated connections off; set maxDedicated to the number \
                 of connections that may block at once"
                    .to_owned(),
            ));
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed("DEDICATED"));
        }
        let endpoint = (self.locate)();
        let wait = self.config.connect_timeout;
        let permit = match tokio::time::timeout(wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(Error::closed("DEDICATED")),
            Err(_) => {
                return Err(Error::pool_exhausted(format!(
                    "all {max} dedicated connections to {} are leased and none came back within \
                     connectTimeout ({} ms); drop each Dedicated as soon as its work is done, or \
                     raise maxDedicated",
                    endpoint,
                    wait.as_millis()
                )))
            }
        };
        // An idle connection may have been closed meanwhile (a restart, the
        // server's idle timeout): a PING proves it before it is handed out.
        // One to a server that is no longer the primary is closed.
        loop {
            let reused = self.lock_idle().pop();
            let Some(mut link) = reused else { break };
            if link.endpoint != endpoint {
                continue;
            }
            let label = endpoint.to_string();
            let ping = Cmd::new("PING").into_bytes();
            let pong = tokio::time::timeout(
                self.config.connect_timeout,
                exchange(&mut link, &ping, &label),
            )
            .await;
            if let Ok(Ok(Value::SimpleString(_))) = pong {
                return Ok(Dedicated::new(self.clone(), link, permit));
            }
        }
        let Established { stream, session } =
            open_connection(endpoint.clone(), self.config.clone(), Role::Dedicated).await?;
        let link = Link {
            endpoint,
            stream,
            input: session.leftover,
            decoder: Decoder::new(self.config.resp_limits),
        };
        Ok(Dedicated::new(self.clone(), link, permit))
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Link>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `mux.close()`: idle connections are closed, new leases refused;
    /// leased ones close when their holders drop them.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.permits.close();
        self.lock_idle().clear();
    }
}

/// Writes one encoded command and reads its reply (push frames skipped).
async fn exchange(
    link: &mut Link,
    bytes: &[u8],
    endpoint: &str,
) -> std::result::Result<Value, Failure> {
    let lost = |e: std::io::Error| Failure::Lost(e.to_string());
    link.stream.write_all(bytes).await.map_err(lost)?;
    link.stream.flush().await.map_err(lost)?;
    loop {
        match link.decoder.decode(&mut link.input) {
            Ok(Some(Value::Push(_))) => continue,
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => return Err(Failure::Protocol(Error::protocol(endpoint, e))),
        }
        if link.stream.read_buf(&mut link.input).await.map_err(lost)? == 0 {
            return Err(Failure::Lost("the server closed the connection".to_owned()));
        }
    }
}

/// Why a round trip failed.
enum Failure {
    /// The transport broke (I/O error, EOF).
    Lost(String),
    /// The server sent something that is not RESP.
    Protocol(Error),
}

/// An exclusive connection, leased with
/// [`Multiplexer::dedicated`](crate::Multiplexer::dedicated); back to the
/// pool (or closed) when dropped.
///
/// Every typed command works on it (`conn.get("k")`, with the family
/// traits in scope), as do [`execute`](Self::execute) and
/// [`send`](Self::send), which here allow blocking and state-changing
/// commands (admin commands still need `allowAdmin`). The blocking commands
/// have typed methods: [`blpop`](Self::blpop), [`brpop`](Self::brpop),
/// [`blmove`](Self::blmove), [`bzpopmin`](Self::bzpopmin),
/// [`bzpopmax`](Self::bzpopmax), [`xread_block`](Self::xread_block),
/// [`wait`](Self::wait).
///
/// ```no_run
/// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
/// use std::time::Duration;
/// use redmux::prelude::*;
/// use redmux::Value;
///
/// let mut conn = mux.dedicated().await?;
/// // Blocks up to 5 s on the server; this connection only.
/// let job: Option<(String, String)> = conn.blpop(["jobs"], Duration::from_secs(5)).await?;
///
/// // A transaction by hand: WATCH, read, MULTI … EXEC.
/// conn.execute::<()>("WATCH", ["balance"]).await?;
/// let balance: i64 = conn.get::<Option<i64>>("balance").await?.unwrap_or(0);
/// conn.execute::<()>("MULTI", [""; 0]).await?;
/// conn.execute::<Value>("SET", ["balance".to_string(), (balance + 1).to_string()]).await?;
/// let committed: Value = conn.execute("EXEC", [""; 0]).await?; // Nil if `balance` changed
/// # let _ = (job, committed);
/// # Ok(()) }
/// ```
pub struct Dedicated {
    pool: Arc<Pool>,
    /// The server it is connected to (kept when the link breaks, for errors).
    endpoint: Endpoint,
    /// `None` once the connection broke or a call on it timed out.
    link: Option<Link>,
    _permit: OwnedSemaphorePermit,
    /// Why `link` is gone, for later calls' errors.
    broken: Option<String>,
    db: u32,
    watching: bool,
    in_multi: bool,
    /// Something changed the connection in a way the pool cannot undo.
    changed: bool,
}

impl Dedicated {
    fn new(pool: Arc<Pool>, link: Link, permit: OwnedSemaphorePermit) -> Dedicated {
        let db = pool.config.default_database;
        Dedicated {
            endpoint: link.endpoint.clone(),
            pool,
            link: Some(link),
            _permit: permit,
            broken: None,
            db,
            watching: false,
            in_multi: false,
            changed: false,
        }
    }

    /// Runs any command by name; blocking and state-changing commands are
    /// allowed here. Waits up to the command timeout (use
    /// [`send_with_timeout`](Self::send_with_timeout) for a longer one).
    ///
    /// # Errors
    /// Kind `Server` for an error reply, `Timeout` (the connection is then
    /// discarded), `ConnectionLost`, `AdminRefused` without `allowAdmin`.
    pub async fn execute<T: FromValue>(
        &mut self,
        name: &str,
        args: impl IntoIterator<Item = impl ToArg>,
    ) -> Result<T> {
        let mut cmd = Cmd::with_name(std::borrow::Cow::Owned(name.to_owned()));
        for a in args {
            cmd.push_arg(&a);
        }
        self.send(cmd).await
    }

    /// Runs a hand-built [`Cmd`]; as [`execute`](Self::execute).
    pub async fn send<T: FromValue>(&mut self, cmd: Cmd) -> Result<T> {
        let timeout = self.pool.config.command_timeout();
        self.send_with_timeout(cmd, Some(timeout)).await
    }

    /// Runs `cmd`, waiting up to `timeout` for its reply (`None`: no limit,
    /// for a blocking command with a server timeout of 0). On timeout the
    /// connection is discarded.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn send_with_timeout<T: FromValue>(
        &mut self,
        cmd: Cmd,
        timeout: Option<Duration>,
    ) -> Result<T> {
        let name = cmd.name().to_owned();
        let args: Vec<Vec<u8>> = cmd.args().iter().map(|a| a.to_vec()).collect();
        let arg_refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        if ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&name))
        {
            return Err(Error::refused(format!(
                "{} turns a connection into a stream of pushes, which a dedicated connection does \
                 not read; use mux.subscriber() for subscriptions (restored after reconnects), \
                 or redis-cli MONITOR",
                name.to_ascii_uppercase()
            )));
        }
        crate::cmd::policy::check_admin(&name, &arg_refs, self.pool.config.allow_admin)?;
        let value = self.round_trip(&name, cmd, timeout).await?;
        self.track(&name, &arg_refs, &value);
        match value {
            Value::Error(text) => Err(Error::server(&name, &text)),
            value => T::from_value(value).map_err(|e| e.with_command(&name)),
        }
    }

    /// Writes one command and reads its reply (push frames skipped).
    async fn round_trip(
        &mut self,
        name: &str,
        cmd: Cmd,
        timeout: Option<Duration>,
    ) -> Result<Value> {
        let endpoint = self.endpoint.to_string();
        // The link is out of `self` while the command is in flight: if this
        // future is dropped (a caller's own timeout, `select!`, an aborted
        // task) before the reply was read, the connection is gone with it
        // rather than handed out again with a reply (or an armed BLPOP)
        // still to come.
        let Some(mut link) = self.link.take() else {
            let why = self.broken.as_deref().unwrap_or("it was closed");
            return Err(Error::connection_lost(
                name,
                &endpoint,
                &format!("this dedicated connection is unusable ({why}); lease a new one with mux.dedicated()"),
                false,
            ));
        };
        self.broken = Some(format!(
            "{name} was cancelled before its reply arrived; its reply or effect may still come"
        ));
        let bytes = cmd.into_bytes();
        let exchange = exchange(&mut link, &bytes, &endpoint);
        let outcome = match timeout {
            Some(limit) => match tokio::time::timeout(limit, exchange).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    self.discard(format!(
                        "{name} timed out after {} ms and may still be armed on the server",
                        limit.as_millis()
                    ));
                    return Err(self.timeout_error(name, limit));
                }
            },
            None => exchange.await,
        };
        match outcome {
            Ok(value) => {
                self.link = Some(link);
                self.broken = None;
                Ok(value)
            }
            Err(Failure::Lost(reason)) => {
                self.discard(reason.clone());
                Err(Error::connection_lost(name, &endpoint, &reason, true))
            }
            Err(Failure::Protocol(error)) => {
                self.discard(error.to_string());
                Err(error)
            }
        }
    }

    fn timeout_error(&self, name: &str, limit: Duration) -> Error {
        Error::timeout(
            name,
            limit,
            limit,
            true,
            crate::error::ConnectionState::of_single(
                format!("{} (dedicated)", self.endpoint),
                self.pool.config.client_name.clone(),
                true,
                1,
            ),
        )
    }

    fn discard(&mut self, why: String) {
        self.link = None; // already taken while in flight; dropped here otherwise
        self.broken = Some(why);
    }

    /// Follows what a command did to the connection's state.
    fn track(&mut self, name: &str, args: &[&[u8]], reply: &Value) {
        let ok = !reply.is_error();
        let upper = name.to_ascii_uppercase();
        if self.in_multi && !matches!(upper.as_str(), "EXEC" | "DISCARD" | "MULTI") {
            // Queued, not run: what it will do is unknown until EXEC, so a
            // command that could change the connection marks it changed.
            if matches!(
                upper.as_str(),
                "SELECT" | "SWAPDB" | "CLIENT" | "HELLO" | "AUTH" | "RESET" | "READONLY"
            ) {
                self.changed = true;
            }
            return;
        }
        match upper.as_str() {
            "SELECT" if ok => {
                self.db = args
                    .first()
                    .and_then(|a| std::str::from_utf8(a).ok())
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(u32::MAX);
            }
            "WATCH" if ok => self.watching = true,
            "UNWATCH" => self.watching = false,
            "MULTI" if ok => self.in_multi = true,
            // EXEC (whatever its reply) and DISCARD end a transaction and
            // unwatch; without a MULTI they are errors that change nothing.
            "EXEC" | "DISCARD" if self.in_multi => {
                self.in_multi = false;
                self.watching = false;
            }
            "SUBSCRIBE" | "PSUBSCRIBE" | "SSUBSCRIBE" | "MONITOR" | "HELLO" | "AUTH" | "RESET"
            | "READONLY" | "QUIT" | "SYNC" | "PSYNC" => self.changed = true,
            "CLIENT" => {
                let sub = args.first().map(|a| a.to_ascii_uppercase());
                if matches!(
                    sub.as_deref(),
                    Some(
                        b"REPLY"
                            | b"TRACKING"
                            | b"CACHING"
                            | b"SETNAME"
                            | b"NO-EVICT"
                            | b"NO-TOUCH"
                    )
                ) {
                    self.changed = true;
                }
            }
            _ => {}
        }
    }

    /// Whether the connection can go back to the pool as it is.
    fn is_reusable(&self) -> bool {
        self.link.is_some()
            && !self.changed
            && !self.watching
            && !self.in_multi
            && self.db == self.pool.config.default_database
    }

    /// Whether the connection is still usable (no failure or timeout yet).
    pub fn is_usable(&self) -> bool {
        self.link.is_some()
    }

    /// [BLPOP](https://redis.io/commands/blpop/): pops the head of the
    /// first non-empty list among `keys`, waiting up to `timeout` on the
    /// server for one (`Duration::ZERO`: wait for ever). Read it as
    /// `Option<(String, V)>` (key and element; `None` on timeout).
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redmux::Dedicated) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// if let Some((list, job)) = conn.blpop::<Option<(String, String)>>(["high", "low"], Duration::from_secs(1)).await? {
    ///     println!("{job} from {list}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`execute`](Self::execute); the client waits `timeout` plus the
    /// command timeout before giving up (and discarding the connection).
    pub async fn blpop<T: FromValue>(
        &mut self,
        keys: impl IntoIterator<Item = impl ToArg>,
        timeout: Duration,
    ) -> Result<T> {
        self.blocking(keyed("BLPOP", keys), timeout).await
    }

    /// [BRPOP](https://redis.io/commands/brpop/): as [`blpop`](Self::blpop),
    /// from the tail.
    pub async fn brpop<T: FromValue>(
        &mut self,
        keys: impl IntoIterator<Item = impl ToArg>,
        timeout: Duration,
    ) -> Result<T> {
        self.blocking(keyed("BRPOP", keys), timeout).await
    }

    /// [BLMOVE](https://redis.io/commands/blmove/): moves an element from
    /// the `from` end of `source` to the `to` end of `destination`, waiting
    /// up to `timeout` for one; read as `Option<V>` (`None` on timeout).
    pub async fn blmove<T: FromValue>(
        &mut self,
        source: impl ToArg,
        destination: impl ToArg,
        from: ListEnd,
        to: ListEnd,
        timeout: Duration,
    ) -> Result<T> {
        let cmd = Cmd::new("BLMOVE")
            .key(source)
            .key(destination)
            .arg(from.keyword())
            .arg(to.keyword());
        self.blocking(cmd, timeout).await
    }

    /// [BZPOPMIN](https://redis.io/commands/bzpopmin/): pops the lowest
    /// member of the first non-empty sorted set among `keys`, waiting up to
    /// `timeout`; read as `Option<(String, V, f64)>` (key, member, score).
    pub async fn bzpopmin<T: FromValue>(
        &mut self,
        keys: impl IntoIterator<Item = impl ToArg>,
        timeout: Duration,
    ) -> Result<T> {
        self.blocking(keyed("BZPOPMIN", keys), timeout).await
    }

    /// [BZPOPMAX](https://redis.io/commands/bzpopmax/): as
    /// [`bzpopmin`](Self::bzpopmin), the highest member.
    pub async fn bzpopmax<T: FromValue>(
        &mut self,
        keys: impl IntoIterator<Item = impl ToArg>,
        timeout: Duration,
    ) -> Result<T> {
        self.blocking(keyed("BZPOPMAX", keys), timeout).await
    }

    /// [XREAD](https://redis.io/commands/xread/) with `BLOCK`: entries after
    /// each stream's id (`"$"`: only new ones), waiting up to `block` for
    /// any; at most `count` per stream if given. Empty on timeout.
    ///
    /// ```no_run
    /// # async fn demo(mut conn: redmux::Dedicated) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::StreamKeyEntries;
    /// let new: Vec<StreamKeyEntries> =
    ///     conn.xread_block([("events", "$")], Some(100), Duration::from_secs(2)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn xread_block<T: FromValue, K: ToArg, I: ToArg>(
        &mut self,
        streams: impl IntoIterator<Item = (K, I)>,
        count: Option<u64>,
        block: Duration,
    ) -> Result<T> {
        let mut cmd = Cmd::new("XREAD");
        if let Some(count) = count {
            cmd = cmd.arg("COUNT").arg(count);
        }
        cmd = cmd
            .arg("BLOCK")
            .arg(block.as_millis() as u64)
            .arg("STREAMS");
        let (keys, ids): (Vec<K>, Vec<I>) = streams.into_iter().unzip();
        for key in &keys {
            cmd.push_key(key);
        }
        for id in &ids {
            cmd.push_arg(id);
        }
        let limit = (!block.is_zero()).then(|| block + self.pool.config.command_timeout());
        self.send_with_timeout(cmd, limit).await
    }

    /// [WAIT](https://redis.io/commands/wait/): waits until the writes of
    /// this connection reached `replicas` replicas, or `timeout` passed
    /// (`Duration::ZERO`: for ever); how many acknowledged.
    pub async fn wait(&mut self, replicas: u64, timeout: Duration) -> Result<u64> {
        let cmd = Cmd::new("WAIT").arg(replicas).arg(server_ms(timeout));
        let limit = (!timeout.is_zero()).then(|| timeout + self.pool.config.command_timeout());
        self.send_with_timeout(cmd, limit).await
    }

    /// A blocking command whose last argument is its timeout in seconds.
    async fn blocking<T: FromValue>(&mut self, cmd: Cmd, timeout: Duration) -> Result<T> {
        let cmd = cmd.arg(server_ms(timeout) as f64 / 1000.0);
        let limit = (!timeout.is_zero()).then(|| timeout + self.pool.config.command_timeout());
        self.send_with_timeout(cmd, limit).await
    }
}

/// A server timeout in whole milliseconds, rounded up: a non-zero wait
/// under 1 ms must not become 0, which the server reads as "for ever".
fn server_ms(timeout: Duration) -> u64 {
    let ms = timeout.as_millis();
    let ms = if Duration::from_millis(ms as u64) < timeout {
        ms + 1
    } else {
        ms
    };
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// `name key…`.
fn keyed(name: &'static str, keys: impl IntoIterator<Item = impl ToArg>) -> Cmd {
    let mut cmd = Cmd::new(name);
    for key in keys {
        cmd.push_key(&key);
    }
    cmd
}

impl Drop for Dedicated {
    fn drop(&mut self) {
        if self.is_reusable() && !self.pool.closed.load(Ordering::Acquire) {
            if let Some(link) = self.link.take() {
                if link.input.is_empty() {
                    self.pool.lock_idle().push(link);
                }
            }
        }
        // Otherwise the stream closes here; the permit is released either way.
    }
}

impl std::fmt::Debug for Dedicated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedicated")
            .field("endpoint", &self.endpoint)
            .field("usable", &self.link.is_some())
            .field("db", &self.db)
            .field("watching", &self.watching)
            .field("in_multi", &self.in_multi)
            .finish()
    }
}

/// A typed command on a [`Dedicated`] connection: await it for the reply.
/// Made by the family traits' methods (`conn.get("k")`).
#[must_use = "a command on a dedicated connection runs only when awaited"]
pub struct DedicatedCall<'a, T> {
    conn: &'a mut Dedicated,
    cmd: Cmd,
    timeout: Option<Duration>,
    _reply: PhantomData<fn() -> T>,
}

impl<T> DedicatedCall<'_, T> {
    /// Waits up to `timeout` for the reply instead of the command timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl<'a, T: FromValue + Send + 'a> IntoFuture for DedicatedCall<'a, T> {
    type Output = Result<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let DedicatedCall {
            conn, cmd, timeout, ..
        } = self;
        Box::pin(async move {
            // Admin commands are checked in `send_with_timeout`.
            let timeout = timeout.unwrap_or_else(|| conn.pool.config.command_timeout());
            conn.send_with_timeout(cmd, Some(timeout)).await
        })
    }
}

impl sealed::Sealed for &mut Dedicated {}

impl<'a> Commands for &'a mut Dedicated {
    type Out<T: FromValue> = DedicatedCall<'a, T>;

    fn issue<T: FromValue>(self, cmd: Cmd, _how: How) -> DedicatedCall<'a, T> {
        DedicatedCall {
            conn: self,
            cmd,
            timeout: None,
            _reply: PhantomData,
        }
    }
}

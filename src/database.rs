//! `Database`, `Call` and `Reply`: how a caller issues one command and waits for it.
//!
//! The path of a command, top to bottom:
//! 1. a typed method (`db.get(key)`) or `db.execute(name, args)` builds a
//!    [`Cmd`] — the bytes are encoded here, on the caller's task — and wraps
//!    it in a [`Call`], which can still be given a timeout or flags;
//! 2. `.await` (through `IntoFuture`) or `.fire_and_forget()` hands the bytes
//!    and a reply slot to the connection's driver **at that moment**, so
//!    commands issued one after another reach the server in that order, and
//!    `tokio::join!(a, b)` pipelines `a` then `b`;
//! 3. the [`Reply`] future waits on the slot; the driver fills it with the
//!    reply, a timeout error, or a connection error — never with another
//!    caller's reply;
//! 4. the reply is converted with [`FromValue`] on the caller's task.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::cmd::{Cmd, CommandFlags, FromValue, ToArg};
use crate::commands::{How, KeysBack};
use crate::config::Endpoint;
use crate::connection::reply::{self, ReplyReceiver};
use crate::connection::request::{Answer, ReplySender, Request};
use crate::error::{Error, Result};
use crate::multiplexer::Multiplexer;
use crate::prefix::{self, Strip};
use crate::resp::Value;

/// A handle for one logical database on a [`Multiplexer`]. Cheap to clone.
///
/// Commands are methods on this type (see the command families in the
/// crate docs) plus [`execute`](Database::execute) for anything else.
#[derive(Clone)]
pub struct Database {
    mux: Multiplexer,
    index: u32,
    /// Put in front of every key this handle sends (see [`Database::with_key_prefix`]).
    prefix: Option<Arc<[u8]>>,
}

impl Database {
    pub(crate) fn new(mux: Multiplexer, index: u32) -> Database {
        Database {
            mux,
            index,
            prefix: None,
        }
    }

    /// A handle on the same database whose commands see only keys starting
    /// with `prefix`: every key argument of every command (typed or raw, in
    /// batches, transactions and their conditions, scripts' `KEYS`, the
    /// `MATCH` pattern of SCAN and KEYS) is sent with `prefix` in front,
    /// and nothing else is touched; keys the server returns (SCAN, KEYS,
    /// RANDOMKEY, LMPOP/ZMPOP, XREAD) come back without it. A command whose keys
    /// cannot all be found (SORT with `BY`/`GET` patterns, a command the
    /// table does not know) is refused rather than run unprefixed. On a
    /// prefixed handle the prefixes add up.
    ///
    /// ```no_run
    /// # async fn demo(mux: redmux::Multiplexer) -> redmux::Result<()> {
    /// use redmux::prelude::*;
    /// let tenant = mux.database(0).with_key_prefix("tenant:42:");
    /// tenant.set("plan", "pro").await?;            // sets "tenant:42:plan"
    /// let keys: Vec<String> = tenant.keys("*").await?; // ["plan"]
    /// # let _ = keys;
    /// # Ok(()) }
    /// ```
    pub fn with_key_prefix(&self, prefix: impl AsRef<[u8]>) -> Database {
        let mut joined = self.prefix.as_deref().unwrap_or_default().to_vec();
        joined.extend_from_slice(prefix.as_ref());
        Database {
            mux: self.mux.clone(),
            index: self.index,
            prefix: (!joined.is_empty()).then(|| Arc::from(joined)),
        }
    }

    /// The key prefix of this handle, if any.
    pub fn key_prefix(&self) -> Option<&[u8]> {
        self.prefix.as_deref()
    }

    /// The database number.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The multiplexer this handle belongs to.
    pub fn multiplexer(&self) -> &Multiplexer {
        &self.mux
    }

    /// Runs any command by name, with arguments sent as bulk strings.
    ///
    /// Blocking commands (BLPOP, ...), commands that change the shared
    /// connection's state (SELECT, SUBSCRIBE, MULTI, ...) and, unless
    /// `allowAdmin=true`, admin commands are refused before anything is sent;
    /// the check ignores case.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let encoding: String = db.execute("OBJECT", ["ENCODING", "k"]).await?;
    /// let raw: redmux::Value = db.execute("HGETALL", ["user:1"]).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Kind `Refused` or `AdminRefused` as above; otherwise as for any call.
    pub fn execute<T, A, I>(&self, name: &str, args: I) -> Call<'_, T>
    where
        T: FromValue,
        A: ToArg,
        I: IntoIterator<Item = A>,
    {
        let mut cmd = Cmd::with_name(Cow::Owned(name.to_ascii_uppercase()));
        for arg in args {
            cmd.push_arg(&arg);
        }
        self.send(cmd)
    }

    /// Runs a command built with [`Cmd`]; checked like [`execute`](Database::execute).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::Cmd;
    /// let n: i64 = db.send(Cmd::new("HSET").key("user:1").arg("visits").arg(1)).await?;
    /// # Ok(()) }
    /// ```
    pub fn send<T: FromValue>(&self, cmd: Cmd) -> Call<'_, T> {
        let keys_back = match self.prefix {
            Some(_) => prefix::keys_back_of(cmd.name()),
            None => KeysBack::None,
        };
        self.typed(
            cmd,
            How {
                checked: true,
                keys_back,
            },
        )
    }

    /// A call for a command built by a typed method or `send`.
    #[inline]
    pub(crate) fn typed<T: FromValue>(&self, cmd: Cmd, how: How) -> Call<'_, T> {
        Call::from_result(self, self.prepare(cmd, how.checked), how.keys_back)
    }

    /// Checks `cmd` against the refusal policy if asked, and adds the key
    /// prefix: what every command issued through this handle goes through.
    #[inline]
    pub(crate) fn prepare(&self, cmd: Cmd, checked: bool) -> Result<Cmd> {
        if checked {
            self.mux.refuse_if_needed(cmd.name(), &cmd.args())?;
        }
        let cmd = match &self.mux.inner.config.channel_prefix {
            None => cmd,
            Some(p) => prefix::channel(p.as_bytes(), cmd),
        };
        match &self.prefix {
            None => Ok(cmd),
            Some(p) => prefix::apply(p, cmd),
        }
    }

    /// What to take off the keys of a reply, on a prefixed handle.
    fn strip(&self, keys: KeysBack) -> Option<Box<Strip>> {
        match (&self.prefix, keys) {
            (Some(prefix), keys) if keys != KeysBack::None => Some(Box::new(Strip {
                prefix: prefix.clone(),
                keys,
            })),
            _ => None,
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("index", &self.index)
            .finish()
    }
}

/// A command ready to go: await it for the reply, or fire and forget it.
///
/// Nothing is sent until `.await` (or `IntoFuture::into_future`) or
/// [`fire_and_forget`](Call::fire_and_forget).
///
/// ```no_run
/// # use redmux::prelude::*;
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// use std::time::Duration;
/// let v: Option<String> = db.get("k").timeout(Duration::from_millis(50)).await?;
/// db.incr("hits").fire_and_forget()?;
/// # Ok(()) }
/// ```
#[must_use = "a command is sent only when awaited or fired"]
pub struct Call<'a, T> {
    db: &'a Database,
    cmd: Result<Cmd>,
    timeout: Option<Duration>,
    flags: CommandFlags,
    keys_back: KeysBack,
    _reply: PhantomData<fn() -> T>,
}

impl<'a, T: FromValue> Call<'a, T> {
    fn from_result(db: &'a Database, cmd: Result<Cmd>, keys_back: KeysBack) -> Call<'a, T> {
        Call {
            db,
            cmd,
            timeout: None,
            flags: CommandFlags::NONE,
            keys_back,
            _reply: PhantomData,
        }
    }

    /// Waits at most `timeout` for this reply instead of the configured
    /// `syncTimeout`/`asyncTimeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets [`CommandFlags`]; they travel with the request (routing flags
    /// take effect once replicas and cluster exist). Awaiting a call flagged
    /// `FIRE_AND_FORGET` sends it as [`fire_and_forget`](Call::fire_and_forget)
    /// does and resolves at once to the value converted from nil, so use it
    /// with `T = ()` or `Option<_>` (StackExchange.Redis returns a default).
    pub fn flags(mut self, flags: CommandFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Sends the command and returns at once; its reply is read and dropped.
    ///
    /// Its timeout (the configured one unless [`timeout`](Call::timeout) is
    /// set) bounds how long the driver keeps trying to send it, through an
    /// outage or "not executed" retries, before dropping it.
    ///
    /// # Errors
    /// Only what is known before sending: a refused command, or a closed multiplexer.
    pub fn fire_and_forget(self) -> Result<()> {
        let cmd = self.cmd?;
        self.db.enqueue(
            cmd,
            None,
            self.timeout,
            self.flags | CommandFlags::FIRE_AND_FORGET,
            None,
        )
    }

    /// Sends the command to cluster primary `node` rather than where its
    /// keys route (a cluster-wide SCAN's pages); on a standalone server,
    /// as awaiting it would.
    pub(crate) fn send_to_node(self, node: &Endpoint) -> Reply<T> {
        self.awaited(Some(node))
    }

    /// Queues the command (to `node`, if given) and returns the future of
    /// its reply.
    #[inline]
    fn awaited(self, node: Option<&Endpoint>) -> Reply<T> {
        let cmd = match self.cmd {
            Ok(cmd) => cmd,
            Err(e) => return Reply::failed(e),
        };
        let name = cmd.name_cow();
        let (slot, receiver) = reply::channel();
        match self
            .db
            .enqueue(cmd, Some(slot), self.timeout, self.flags, node)
        {
            Ok(()) => Reply::waiting(name, receiver, self.db.strip(self.keys_back)),
            Err(e) => Reply::failed(e),
        }
    }
}

impl Database {
    /// Hands an encoded command to the router, which reads its flags and
    /// picks the connection (`node`: a cluster primary chosen by the caller).
    fn enqueue(
        &self,
        cmd: Cmd,
        reply: Option<ReplySender>,
        timeout: Option<Duration>,
        flags: CommandFlags,
        node: Option<&Endpoint>,
    ) -> Result<()> {
        let (bytes, _) = cmd.into_encoded();
        let timeout = timeout.unwrap_or_else(|| self.mux.inner.config.command_timeout());
        let request = Request::single(bytes, self.index, reply, timeout);
        match node {
            None => self.mux.inner.router.route(flags, request),
            Some(node) => self.mux.inner.router.route_to_node(node, request),
        }
    }
}

impl<'a, T: FromValue> IntoFuture for Call<'a, T> {
    type Output = Result<T>;
    type IntoFuture = Reply<T>;

    /// Queues the command now and returns the future of its reply.
    fn into_future(self) -> Reply<T> {
        if !self.flags.contains(CommandFlags::FIRE_AND_FORGET) {
            return self.awaited(None);
        }
        let cmd = match self.cmd {
            Ok(cmd) => cmd,
            Err(e) => return Reply::failed(e),
        };
        let name = cmd.name_cow();
        match self.db.enqueue(cmd, None, self.timeout, self.flags, None) {
            Ok(()) => Reply::ready(name, Value::Nil),
            Err(e) => Reply::failed(e),
        }
    }
}

enum State {
    Waiting(ReplyReceiver),
    Ready(Option<Result<Value>>),
}

/// The future of one command's reply, converted to `T`.
///
/// # Cancel safety
/// Dropping it is safe at any time: the command stays in the connection's
/// queue and its reply is read and dropped, so no other caller's reply shifts.
/// Whether the command ran is then unknown.
#[must_use = "the reply is lost unless awaited"]
pub struct Reply<T> {
    name: Cow<'static, str>,
    state: State,
    /// A key prefix to take off the keys in the reply (prefixed handles only).
    strip: Option<Box<Strip>>,
    _reply: PhantomData<fn() -> T>,
}

impl<T> Reply<T> {
    #[inline]
    fn waiting(
        name: Cow<'static, str>,
        receiver: ReplyReceiver,
        strip: Option<Box<Strip>>,
    ) -> Reply<T> {
        Reply {
            name,
            state: State::Waiting(receiver),
            strip,
            _reply: PhantomData,
        }
    }

    fn failed(err: Error) -> Reply<T> {
        Reply {
            name: Cow::Borrowed(""),
            state: State::Ready(Some(Err(err))),
            strip: None,
            _reply: PhantomData,
        }
    }

    fn ready(name: Cow<'static, str>, value: Value) -> Reply<T> {
        Reply {
            name,
            state: State::Ready(Some(Ok(value))),
            strip: None,
            _reply: PhantomData,
        }
    }
}

impl<T: FromValue> Future for Reply<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        let outcome = match &mut this.state {
            State::Waiting(receiver) => match Pin::new(receiver).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(Ok(Answer::One(value)))) => Ok(value),
                // A single command is answered with one value; a group answer
                // here would be a bug, reported rather than mis-converted.
                Poll::Ready(Ok(Ok(Answer::Group(values)))) => Ok(Value::Array(values)),
                Poll::Ready(Ok(Err(e))) => Err(e),
                // The driver dropped the slot without answering: it ended.
                Poll::Ready(Err(_)) => Err(Error::closed(&this.name)),
            },
            State::Ready(outcome) => outcome
                .take()
                .unwrap_or_else(|| Err(Error::closed(&this.name))),
        };
        Poll::Ready(match outcome {
            Ok(Value::Error(text)) => Err(Error::server(&this.name, &text)),
            Ok(value) => {
                let value = match &this.strip {
                    Some(strip) => strip.apply(value),
                    None => value,
                };
                T::from_value(value).map_err(|e| e.with_command(&this.name))
            }
            Err(e) => Err(e),
        })
    }
}

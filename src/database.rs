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
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::cmd::{Cmd, CommandFlags, FromValue, ToArg};
use crate::connection::request::{Answer, ReplySender, Request};
use crate::error::{Error, Result};
use crate::multiplexer::Multiplexer;
use crate::resp::Value;

/// A handle for one logical database on a [`Multiplexer`]. Cheap to clone.
///
/// Commands are methods on this type (see the command families in the
/// crate docs) plus [`execute`](Database::execute) for anything else.
#[derive(Clone)]
pub struct Database {
    mux: Multiplexer,
    index: u32,
}

impl Database {
    pub(crate) fn new(mux: Multiplexer, index: u32) -> Database {
        Database { mux, index }
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
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::Cmd;
    /// let n: i64 = db.send(Cmd::new("HSET").key("user:1").arg("visits").arg(1)).await?;
    /// # Ok(()) }
    /// ```
    pub fn send<T: FromValue>(&self, cmd: Cmd) -> Call<'_, T> {
        let checked = self
            .mux
            .refuse_if_needed(cmd.name(), &cmd.args())
            .map(|()| cmd);
        Call::from_result(self, checked)
    }

    /// A call for a command built by a typed method (never refused).
    pub(crate) fn call<T: FromValue>(&self, cmd: Cmd) -> Call<'_, T> {
        Call::from_result(self, Ok(cmd))
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
    _reply: PhantomData<fn() -> T>,
}

impl<'a, T: FromValue> Call<'a, T> {
    fn from_result(db: &'a Database, cmd: Result<Cmd>) -> Call<'a, T> {
        Call {
            db,
            cmd,
            timeout: None,
            flags: CommandFlags::NONE,
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
        )
    }
}

impl Database {
    /// Hands an encoded command to the router, which reads its flags and
    /// picks the connection.
    fn enqueue(
        &self,
        cmd: Cmd,
        reply: Option<ReplySender>,
        timeout: Option<Duration>,
        flags: CommandFlags,
    ) -> Result<()> {
        let (bytes, _) = cmd.into_encoded();
        let timeout = timeout.unwrap_or_else(|| self.mux.inner.config.command_timeout());
        let request = Request::single(bytes, self.index, reply, timeout);
        self.mux.inner.router.route(flags, request)
    }
}

impl<'a, T: FromValue> IntoFuture for Call<'a, T> {
    type Output = Result<T>;
    type IntoFuture = Reply<T>;

    /// Queues the command now and returns the future of its reply.
    fn into_future(self) -> Reply<T> {
        let cmd = match self.cmd {
            Ok(cmd) => cmd,
            Err(e) => return Reply::failed(e),
        };
        let name = cmd.name_cow();
        if self.flags.contains(CommandFlags::FIRE_AND_FORGET) {
            return match self.db.enqueue(cmd, None, self.timeout, self.flags) {
                Ok(()) => Reply::ready(name, Value::Nil),
                Err(e) => Reply::failed(e),
            };
        }
        let (slot, receiver) = oneshot::channel();
        match self.db.enqueue(cmd, Some(slot), self.timeout, self.flags) {
            Ok(()) => Reply {
                name,
                state: State::Waiting(receiver),
                _reply: PhantomData,
            },
            Err(e) => Reply::failed(e),
        }
    }
}

enum State {
    Waiting(oneshot::Receiver<Result<Answer>>),
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
    _reply: PhantomData<fn() -> T>,
}

impl<T> Reply<T> {
    fn failed(err: Error) -> Reply<T> {
        Reply {
            name: Cow::Borrowed(""),
            state: State::Ready(Some(Err(err))),
            _reply: PhantomData,
        }
    }

    fn ready(name: Cow<'static, str>, value: Value) -> Reply<T> {
        Reply {
            name,
            state: State::Ready(Some(Ok(value))),
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
            Ok(value) => T::from_value(value).map_err(|e| e.with_command(&this.name)),
            Err(e) => Err(e),
        })
    }
}

//! Batches: commands collected by one caller and sent as one group.
//!
//! A [`Batch`] encodes each queued command into one buffer. `execute` hands
//! that buffer to the connection as a single request of N commands (the
//! request contract's *group*): the commands are written back to back, in
//! one write when they fit, with nothing from other callers between them,
//! and the N replies come back together. It is not a transaction: other
//! callers' commands may run on the server before or after the group, and
//! a command that fails does not stop the others (its own handle reports
//! its error). For all-or-nothing, use a transaction.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::sync::oneshot;

use crate::cmd::{Cmd, CommandFlags, FromValue};
use crate::connection::request::{Answer, Request};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::resp::Value;

/// Tells the handles of one batch from those of another.
static NEXT_BATCH: AtomicU64 = AtomicU64::new(1);

/// Commands queued to be sent together; made by [`Database::batch`].
///
/// ```no_run
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// use redmux::Cmd;
///
/// let mut batch = db.batch();
/// let name = batch.queue::<Option<String>>(Cmd::new("GET").key("user:1:name"));
/// let visits = batch.queue::<i64>(Cmd::new("INCR").key("user:1:visits"));
/// let mut replies = batch.execute().await?; // one request, one write
/// let name = replies.take(name)?;
/// let visits = replies.take(visits)?;
/// # let _ = (name, visits);
/// # Ok(())
/// # }
/// ```
#[must_use = "a batch sends nothing until executed"]
pub struct Batch<'a> {
    db: &'a Database,
    id: u64,
    commands: BytesMut,
    names: Vec<Cow<'static, str>>,
    /// The first command the refusal policy turned down: the batch fails
    /// with it, and nothing is sent.
    refused: Option<Error>,
    timeout: Option<Duration>,
    flags: CommandFlags,
}

/// A queued command's place in its batch, typed by its reply: give it to
/// [`BatchReplies::take`] after [`Batch::execute`].
#[must_use = "the reply is read with BatchReplies::take"]
#[derive(Debug)]
pub struct Queued<T> {
    batch: u64,
    index: usize,
    _reply: PhantomData<fn() -> T>,
}

/// The replies of an executed batch, in the order the commands were queued.
#[derive(Debug)]
pub struct BatchReplies {
    batch: u64,
    replies: Vec<Option<Value>>,
    names: Vec<Cow<'static, str>>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(db: &'a Database) -> Batch<'a> {
        Batch {
            db,
            id: NEXT_BATCH.fetch_add(1, Ordering::Relaxed),
            commands: BytesMut::new(),
            names: Vec::new(),
            refused: None,
            timeout: None,
            flags: CommandFlags::NONE,
        }
    }

    /// Queues `cmd`; its reply will be read as `T`. The refusal policy is
    /// applied now: a refused command (blocking, state-changing, admin
    /// without `allowAdmin`) makes [`execute`](Batch::execute) fail without
    /// sending anything.
    pub fn queue<T: FromValue>(&mut self, cmd: Cmd) -> Queued<T> {
        let index = self.names.len();
        if self.refused.is_none() {
            if let Err(e) = self
                .db
                .multiplexer()
                .refuse_if_needed(cmd.name(), &cmd.args())
            {
                self.refused = Some(e);
            }
        }
        self.names.push(cmd.name_cow());
        let (bytes, _) = cmd.into_encoded();
        self.commands.extend_from_slice(&bytes);
        Queued {
            batch: self.id,
            index,
            _reply: PhantomData,
        }
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True if nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How long to wait for all the replies (instead of the configured
    /// command timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Routing flags for the whole batch (e.g. a replica preference).
    pub fn flags(mut self, flags: CommandFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Sends the queued commands as one group and waits for all their
    /// replies. An error here is about the batch as a whole (a refused
    /// command, a timeout, a lost connection: then, as for a single
    /// command, [`Error::may_have_run`] says whether any of it may have
    /// run); a command's own error reply comes from
    /// [`BatchReplies::take`]. An empty batch sends nothing.
    pub async fn execute(self) -> Result<BatchReplies> {
        if let Some(err) = self.refused {
            return Err(err);
        }
        let count = self.names.len();
        if count == 0 {
            return Ok(BatchReplies {
                batch: self.id,
                replies: Vec::new(),
                names: self.names,
            });
        }
        // For messages only: built when one is needed.
        let label = || {
            format!(
                "a batch of {count} commands starting with {}",
                self.names[0]
            )
        };
        let count32 = u32::try_from(count)
            .map_err(|_| Error::refused(format!("{}: too many commands in one batch", label())))?;
        let mux = self.db.multiplexer();
        let timeout = self
            .timeout
            .unwrap_or_else(|| mux.inner.config.command_timeout());
        let (slot, receiver) = oneshot::channel();
        let request = Request::group(self.commands, count32, self.db.index(), Some(slot), timeout);
        mux.inner.router.route(self.flags, request)?;
        let values = match receiver.await {
            Ok(Ok(Answer::Group(values))) => values,
            Ok(Ok(Answer::One(value))) => vec![value],
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::closed(&label())),
        };
        Ok(BatchReplies {
            batch: self.id,
            replies: values.into_iter().map(Some).collect(),
            names: self.names,
        })
    }
}

impl BatchReplies {
    /// The reply of one queued command, converted to its type; the
    /// command's error reply (e.g. `WRONGTYPE`) as an error naming it.
    ///
    /// # Errors
    /// Also a `Refused` error if `queued` belongs to another batch or was
    /// taken already (a handle cannot be copied, so only through another
    /// batch's handle with the same index).
    pub fn take<T: FromValue>(&mut self, queued: Queued<T>) -> Result<T> {
        let wrong = || {
            Error::refused(
                "this Queued handle belongs to another batch; take it from that batch's replies"
                    .to_owned(),
            )
        };
        if queued.batch != self.batch {
            return Err(wrong());
        }
        let name = self.names.get(queued.index).cloned().unwrap_or_default();
        match self.replies.get_mut(queued.index).and_then(Option::take) {
            Some(Value::Error(text)) => Err(Error::server(&name, &text)),
            Some(value) => T::from_value(value).map_err(|e| e.with_command(&name)),
            None => Err(wrong()),
        }
    }

    /// How many replies the batch holds (taken or not).
    pub fn len(&self) -> usize {
        self.replies.len()
    }

    /// True for an empty batch's replies.
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }
}

impl Database {
    /// A new [`Batch`] on this database: queue commands, then
    /// [`execute`](Batch::execute) them as one group that no other caller's
    /// command interleaves with.
    pub fn batch(&self) -> Batch<'_> {
        Batch::new(self)
    }
}

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

use std::sync::Arc;

use crate::cmd::{Cmd, CommandFlags, FromValue};
use crate::commands::{How, KeysBack};
use crate::connection::request::{Answer, Request};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::prefix::{self, Strip};
use crate::resp::Value;

/// Tells the handles of one batch from those of another.
static NEXT_BATCH: AtomicU64 = AtomicU64::new(1);

/// Commands queued to be sent together; made by [`Database::batch`].
///
/// ```no_run
/// # use redmux::prelude::*;
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
    queue: Queue,
    timeout: Option<Duration>,
    flags: CommandFlags,
}

/// Commands encoded back to back, with what reading their replies needs:
/// shared by batches and transactions.
pub(crate) struct Queue {
    pub(crate) id: u64,
    pub(crate) commands: BytesMut,
    pub(crate) names: Vec<Cow<'static, str>>,
    keys_back: Vec<KeysBack>,
    /// The first command refused (by the policy, or by the key prefix):
    /// the whole batch or transaction fails with it, and nothing is sent.
    pub(crate) refused: Option<Error>,
}

impl Queue {
    pub(crate) fn new() -> Queue {
        Queue {
            id: NEXT_BATCH.fetch_add(1, Ordering::Relaxed),
            commands: BytesMut::new(),
            names: Vec::new(),
            keys_back: Vec::new(),
            refused: None,
        }
    }

    /// Encodes `cmd` (checked and prefixed as `db` does) after the others.
    pub(crate) fn push<T>(&mut self, db: &Database, cmd: Cmd, how: How) -> Queued<T> {
        let index = self.names.len();
        self.names.push(cmd.name_cow());
        self.keys_back.push(how.keys_back);
        match db.prepare(cmd, how.checked) {
            Ok(cmd) => {
                let (bytes, _) = cmd.into_encoded();
                self.commands.extend_from_slice(&bytes);
            }
            Err(e) => {
                self.refused.get_or_insert(e);
            }
        }
        Queued {
            batch: self.id,
            index,
            _reply: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// The replies, ready to be taken by their handles.
    pub(crate) fn replies(self, db: &Database, values: Vec<Value>) -> BatchReplies {
        BatchReplies {
            batch: self.id,
            replies: values.into_iter().map(Some).collect(),
            names: self.names,
            keys_back: self.keys_back,
            prefix: db.key_prefix().map(Arc::from),
        }
    }
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
    keys_back: Vec<KeysBack>,
    prefix: Option<Arc<[u8]>>,
}

impl<'a> Batch<'a> {
    pub(crate) fn new(db: &'a Database) -> Batch<'a> {
        Batch {
            db,
            queue: Queue::new(),
            timeout: None,
            flags: CommandFlags::NONE,
        }
    }

    /// Queues `cmd`; its reply will be read as `T`. The refusal policy is
    /// applied now: a refused command (blocking, state-changing, admin
    /// without `allowAdmin`) makes [`execute`](Batch::execute) fail without
    /// sending anything. Typed commands are queued with their methods
    /// (`batch.get("k")`, see [`Commands`](crate::Commands)).
    pub fn queue<T: FromValue>(&mut self, cmd: Cmd) -> Queued<T> {
        let how = raw_how(self.db, &cmd);
        self.queue.push(self.db, cmd, how)
    }

    pub(crate) fn queue_typed<T: FromValue>(&mut self, cmd: Cmd, how: How) -> Queued<T> {
        self.queue.push(self.db, cmd, how)
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True if nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.len() == 0
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
        let Batch {
            db,
            mut queue,
            timeout,
            flags,
        } = self;
        if let Some(err) = queue.refused.take() {
            return Err(err);
        }
        let count = queue.len();
        if count == 0 {
            return Ok(queue.replies(db, Vec::new()));
        }
        let label = format!(
            "a batch of {count} commands starting with {}",
            queue.names[0]
        );
        let commands = std::mem::take(&mut queue.commands);
        let values = send_group(db, commands, count, timeout, flags, None, &label).await?;
        Ok(queue.replies(db, values))
    }
}

/// How a raw command (`queue(cmd)`) is issued: checked, and on a prefixed
/// database with its returned keys found by name.
pub(crate) fn raw_how(db: &Database, cmd: &Cmd) -> How {
    How {
        checked: true,
        keys_back: match db.key_prefix() {
            Some(_) => prefix::keys_back_of(cmd.name()),
            None => KeysBack::None,
        },
    }
}

/// Sends `count` encoded commands as one group (gated when `gate` is
/// given) and waits for their replies.
pub(crate) async fn send_group(
    db: &Database,
    commands: BytesMut,
    count: usize,
    timeout: Option<Duration>,
    flags: CommandFlags,
    gate: Option<crate::connection::request::Gate>,
    label: &str,
) -> Result<Vec<Value>> {
    let count32 = u32::try_from(count)
        .map_err(|_| Error::refused(format!("{label}: too many commands in one group")))?;
    let mux = db.multiplexer();
    let timeout = timeout.unwrap_or_else(|| mux.inner.config.command_timeout());
    let (slot, receiver) = crate::connection::reply::channel();
    let mut request = Request::group(commands, count32, db.index(), Some(slot), timeout);
    if let Some(gate) = gate {
        request = request.gated(gate);
    }
    mux.inner.router.route(flags, request)?;
    match receiver.await {
        Ok(Ok(Answer::Group(values))) => Ok(values),
        Ok(Ok(Answer::One(value))) => Ok(vec![value]),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::closed(label)),
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
        let value = match self.replies.get_mut(queued.index).and_then(Option::take) {
            Some(Value::Error(text)) => return Err(Error::server(&name, &text)),
            Some(value) => value,
            None => return Err(wrong()),
        };
        let keys = self
            .keys_back
            .get(queued.index)
            .copied()
            .unwrap_or(KeysBack::None);
        let value = match &self.prefix {
            Some(prefix) if keys != KeysBack::None => Strip {
                prefix: prefix.clone(),
                keys,
            }
            .apply(value),
            _ => value,
        };
        T::from_value(value).map_err(|e| e.with_command(&name))
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

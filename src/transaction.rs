//! Transactions on the shared connection, StackExchange.Redis-style.
//!
//! A [`Transaction`] holds queued commands and, optionally, [`Condition`]s.
//! Without conditions it is one group, `MULTI`, the commands, `EXEC`,
//! written back to back: nothing from another caller can land between
//! `MULTI` and `EXEC`, and no gate is needed.
//!
//! With conditions, `exec` sends one **gated** request: `WATCH` on every
//! condition's key plus one check command per condition (`EXISTS`, `GET`,
//! `HLEN`, …). While it is on the wire nothing else is written on the
//! connection. Its continuation runs in the driver as soon as the check
//! replies arrive: if every condition holds it writes `MULTI`, the
//! commands and `EXEC` at once, still ahead of everything else; if not, it
//! writes `UNWATCH`. So no other caller's command ever runs between
//! `WATCH` and `EXEC` on this connection, and other callers cannot touch
//! the watches either (`WATCH`, `UNWATCH`, `MULTI`, `EXEC`, `DISCARD` are
//! refused on the shared connection). Another *client* changing a watched
//! key between the checks and `EXEC` makes `EXEC` abort:
//! [`Outcome::WatchedKeyChanged`].
//!
//! The cost for everyone else is the gate: one extra round trip during
//! which the connection writes nothing new (see docs/ARCHITECTURE.md for
//! the measurement). The `MULTI … EXEC` part is never sent again on
//! another connection (its watches would be gone): if the connection drops
//! before it is written, `exec` fails with a connection error saying it
//! did not run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::batch::{raw_how, send_group, BatchReplies, Queue, Queued};
use crate::cmd::{Cmd, CommandFlags, FromValue, ToArg};
use crate::commands::{sealed, Commands, How};
use crate::connection::request::{Gate, Step};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::resp::Value;

/// A comparison of a length or count with a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compare {
    /// Exactly this many.
    Equal(u64),
    /// Fewer than this.
    LessThan(u64),
    /// More than this.
    GreaterThan(u64),
}

impl Compare {
    fn holds(self, n: i64) -> bool {
        let Ok(n) = u64::try_from(n) else {
            return false;
        };
        match self {
            Compare::Equal(x) => n == x,
            Compare::LessThan(x) => n < x,
            Compare::GreaterThan(x) => n > x,
        }
    }
}

/// What a check command's reply must be.
#[derive(Clone, Debug)]
enum Expect {
    /// An integer reply compared with a number.
    Count(Compare),
    /// A bulk reply equal (or, with `false`, not equal) to these bytes;
    /// nil is never equal.
    Bytes(Bytes, bool),
    /// A score equal (or not) to this; nil is never equal.
    Score(f64, bool),
    /// Nil (`true`) or not nil (`false`).
    Nil(bool),
}

impl Expect {
    fn holds(&self, reply: &Value) -> bool {
        match (self, reply) {
            (_, Value::Error(_)) => false,
            (Expect::Count(c), Value::Int(n)) => c.holds(*n),
            (Expect::Nil(want), v) => matches!(v, Value::Nil) == *want,
            (Expect::Bytes(_, equal), Value::Nil) => !equal,
            (Expect::Bytes(want, equal), v) => match string_bytes(v) {
                Some(got) => (got == &want[..]) == *equal,
                None => false,
            },
            (Expect::Score(_, equal), Value::Nil) => !equal,
            (Expect::Score(want, equal), v) => match score(v) {
                Some(got) => (got == *want) == *equal,
                None => false,
            },
            _ => false,
        }
    }
}

fn string_bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) | Value::SimpleString(b) => Some(b),
        Value::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

fn score(value: &Value) -> Option<f64> {
    match value {
        Value::Double(d) => Some(*d),
        Value::Int(n) => Some(*n as f64),
        other => std::str::from_utf8(string_bytes(other)?).ok()?.parse().ok(),
    }
}

/// A precondition of a [`Transaction`]: its key is watched, a command
/// checks it right after the `WATCH`, and the transaction commits only if
/// every condition holds (StackExchange.Redis's `Condition`).
///
/// ```
/// use redmux::{Compare, Condition};
/// let free = Condition::key_not_exists("lock:order:7");
/// let small = Condition::list_length("queue", Compare::LessThan(100));
/// let v1 = Condition::hash_equal("doc:1", "version", "1");
/// # let _ = (free, small, v1);
/// ```
#[derive(Clone, Debug)]
pub struct Condition {
    key: Bytes,
    check: Cmd,
    expect: Expect,
    what: String,
}

fn key_bytes(key: &impl ToArg) -> Bytes {
    // The key's own bytes, recovered from its encoding (`$len\r\n…\r\n`).
    let cmd = Cmd::new("K").key(key);
    Bytes::copy_from_slice(cmd.first_key().unwrap_or_default())
}

fn arg_bytes(arg: &impl ToArg) -> Bytes {
    let cmd = Cmd::new("A").key(arg);
    Bytes::copy_from_slice(cmd.first_key().unwrap_or_default())
}

impl Condition {
    fn new(key: &impl ToArg, check: Cmd, expect: Expect, what: String) -> Condition {
        Condition {
            key: key_bytes(key),
            check,
            expect,
            what,
        }
    }

    fn label(key: &impl ToArg) -> String {
        String::from_utf8_lossy(&key_bytes(key)).into_owned()
    }

    /// The key exists.
    pub fn key_exists(key: impl ToArg) -> Condition {
        let what = format!("key {:?} exists", Condition::label(&key));
        let check = Cmd::new("EXISTS").key(&key);
        Condition::new(&key, check, Expect::Count(Compare::Equal(1)), what)
    }

    /// The key does not exist.
    pub fn key_not_exists(key: impl ToArg) -> Condition {
        let what = format!("key {:?} does not exist", Condition::label(&key));
        let check = Cmd::new("EXISTS").key(&key);
        Condition::new(&key, check, Expect::Count(Compare::Equal(0)), what)
    }

    /// The string at `key` equals `value` (a missing key does not).
    pub fn string_equal(key: impl ToArg, value: impl ToArg) -> Condition {
        let what = format!("string {:?} equals the given value", Condition::label(&key));
        let check = Cmd::new("GET").key(&key);
        Condition::new(&key, check, Expect::Bytes(arg_bytes(&value), true), what)
    }

    /// The string at `key` does not equal `value` (a missing key does not).
    pub fn string_not_equal(key: impl ToArg, value: impl ToArg) -> Condition {
        let what = format!(
            "string {:?} differs from the given value",
            Condition::label(&key)
        );
        let check = Cmd::new("GET").key(&key);
        Condition::new(&key, check, Expect::Bytes(arg_bytes(&value), false), what)
    }

    /// The length of the string at `key` (0 when missing) compares as given.
    pub fn string_length(key: impl ToArg, compare: Compare) -> Condition {
        let what = format!(
            "length of string {:?} is {compare:?}",
            Condition::label(&key)
        );
        let check = Cmd::new("STRLEN").key(&key);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// The hash at `key` has `field`.
    pub fn hash_field_exists(key: impl ToArg, field: impl ToArg) -> Condition {
        let what = format!("hash {:?} has the field", Condition::label(&key));
        let check = Cmd::new("HEXISTS").key(&key).arg(field);
        Condition::new(&key, check, Expect::Count(Compare::Equal(1)), what)
    }

    /// The hash at `key` lacks `field`.
    pub fn hash_field_not_exists(key: impl ToArg, field: impl ToArg) -> Condition {
        let what = format!("hash {:?} lacks the field", Condition::label(&key));
        let check = Cmd::new("HEXISTS").key(&key).arg(field);
        Condition::new(&key, check, Expect::Count(Compare::Equal(0)), what)
    }

    /// Field `field` of the hash at `key` equals `value`.
    pub fn hash_equal(key: impl ToArg, field: impl ToArg, value: impl ToArg) -> Condition {
        let what = format!(
            "hash {:?} field equals the given value",
            Condition::label(&key)
        );
        let check = Cmd::new("HGET").key(&key).arg(field);
        Condition::new(&key, check, Expect::Bytes(arg_bytes(&value), true), what)
    }

    /// Field `field` of the hash at `key` does not equal `value` (or is missing).
    pub fn hash_not_equal(key: impl ToArg, field: impl ToArg, value: impl ToArg) -> Condition {
        let what = format!(
            "hash {:?} field differs from the given value",
            Condition::label(&key)
        );
        let check = Cmd::new("HGET").key(&key).arg(field);
        Condition::new(&key, check, Expect::Bytes(arg_bytes(&value), false), what)
    }

    /// The number of fields of the hash at `key` compares as given.
    pub fn hash_length(key: impl ToArg, compare: Compare) -> Condition {
        let what = format!("length of hash {:?} is {compare:?}", Condition::label(&key));
        let check = Cmd::new("HLEN").key(&key);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// The element at `index` of the list at `key` equals `value`.
    pub fn list_index_equal(key: impl ToArg, index: i64, value: impl ToArg) -> Condition {
        let what = format!(
            "list {:?} element {index} equals the given value",
            Condition::label(&key)
        );
        let check = Cmd::new("LINDEX").key(&key).arg(index);
        Condition::new(&key, check, Expect::Bytes(arg_bytes(&value), true), what)
    }

    /// The element at `index` of the list at `key` differs from `value` (or is missing).
    pub fn list_index_not_equal(key: impl ToArg, index: i64, value: impl ToArg) -> Condition {
        let what = format!(
            "list {:?} element {index} differs from the given value",
            Condition::label(&key)
        );
        let check = Cmd::new("LINDEX").key(&key).arg(index);
        Condition::new(&key, check, Expect::Bytes(arg_bytes(&value), false), what)
    }

    /// The list at `key` has an element at `index`.
    pub fn list_index_exists(key: impl ToArg, index: i64) -> Condition {
        let what = format!("list {:?} has element {index}", Condition::label(&key));
        let check = Cmd::new("LINDEX").key(&key).arg(index);
        Condition::new(&key, check, Expect::Nil(false), what)
    }

    /// The list at `key` has no element at `index`.
    pub fn list_index_not_exists(key: impl ToArg, index: i64) -> Condition {
        let what = format!("list {:?} has no element {index}", Condition::label(&key));
        let check = Cmd::new("LINDEX").key(&key).arg(index);
        Condition::new(&key, check, Expect::Nil(true), what)
    }

    /// The length of the list at `key` compares as given.
    pub fn list_length(key: impl ToArg, compare: Compare) -> Condition {
        let what = format!("length of list {:?} is {compare:?}", Condition::label(&key));
        let check = Cmd::new("LLEN").key(&key);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// The set at `key` contains `member`.
    pub fn set_contains(key: impl ToArg, member: impl ToArg) -> Condition {
        let what = format!("set {:?} contains the member", Condition::label(&key));
        let check = Cmd::new("SISMEMBER").key(&key).arg(member);
        Condition::new(&key, check, Expect::Count(Compare::Equal(1)), what)
    }

    /// The set at `key` does not contain `member`.
    pub fn set_not_contains(key: impl ToArg, member: impl ToArg) -> Condition {
        let what = format!("set {:?} lacks the member", Condition::label(&key));
        let check = Cmd::new("SISMEMBER").key(&key).arg(member);
        Condition::new(&key, check, Expect::Count(Compare::Equal(0)), what)
    }

    /// The number of members of the set at `key` compares as given.
    pub fn set_length(key: impl ToArg, compare: Compare) -> Condition {
        let what = format!("length of set {:?} is {compare:?}", Condition::label(&key));
        let check = Cmd::new("SCARD").key(&key);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// The sorted set at `key` contains `member`.
    pub fn sorted_set_contains(key: impl ToArg, member: impl ToArg) -> Condition {
        let what = format!(
            "sorted set {:?} contains the member",
            Condition::label(&key)
        );
        let check = Cmd::new("ZSCORE").key(&key).arg(member);
        Condition::new(&key, check, Expect::Nil(false), what)
    }

    /// The sorted set at `key` does not contain `member`.
    pub fn sorted_set_not_contains(key: impl ToArg, member: impl ToArg) -> Condition {
        let what = format!("sorted set {:?} lacks the member", Condition::label(&key));
        let check = Cmd::new("ZSCORE").key(&key).arg(member);
        Condition::new(&key, check, Expect::Nil(true), what)
    }

    /// `member` of the sorted set at `key` has exactly `score`.
    pub fn sorted_set_score_equal(key: impl ToArg, member: impl ToArg, score: f64) -> Condition {
        let what = format!(
            "sorted set {:?} member has score {score}",
            Condition::label(&key)
        );
        let check = Cmd::new("ZSCORE").key(&key).arg(member);
        Condition::new(&key, check, Expect::Score(score, true), what)
    }

    /// `member` of the sorted set at `key` does not have `score` (or is missing).
    pub fn sorted_set_score_not_equal(
        key: impl ToArg,
        member: impl ToArg,
        score: f64,
    ) -> Condition {
        let what = format!(
            "sorted set {:?} member's score is not {score}",
            Condition::label(&key)
        );
        let check = Cmd::new("ZSCORE").key(&key).arg(member);
        Condition::new(&key, check, Expect::Score(score, false), what)
    }

    /// Some member of the sorted set at `key` has exactly `score`.
    pub fn sorted_set_score_exists(key: impl ToArg, score: f64) -> Condition {
        let what = format!(
            "sorted set {:?} has a member with score {score}",
            Condition::label(&key)
        );
        let check = Cmd::new("ZCOUNT").key(&key).arg(score).arg(score);
        Condition::new(&key, check, Expect::Count(Compare::GreaterThan(0)), what)
    }

    /// No member of the sorted set at `key` has exactly `score`.
    pub fn sorted_set_score_not_exists(key: impl ToArg, score: f64) -> Condition {
        let what = format!(
            "sorted set {:?} has no member with score {score}",
            Condition::label(&key)
        );
        let check = Cmd::new("ZCOUNT").key(&key).arg(score).arg(score);
        Condition::new(&key, check, Expect::Count(Compare::Equal(0)), what)
    }

    /// The number of members of the sorted set at `key` compares as given.
    pub fn sorted_set_length(key: impl ToArg, compare: Compare) -> Condition {
        let what = format!(
            "length of sorted set {:?} is {compare:?}",
            Condition::label(&key)
        );
        let check = Cmd::new("ZCARD").key(&key);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// The number of members of the sorted set at `key` with a score in
    /// `min..=max` compares as given.
    pub fn sorted_set_length_in_range(
        key: impl ToArg,
        min: f64,
        max: f64,
        compare: Compare,
    ) -> Condition {
        let what = format!(
            "members of sorted set {:?} scored {min}..={max}: {compare:?}",
            Condition::label(&key)
        );
        let check = Cmd::new("ZCOUNT").key(&key).arg(min).arg(max);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// The number of entries of the stream at `key` compares as given.
    pub fn stream_length(key: impl ToArg, compare: Compare) -> Condition {
        let what = format!(
            "length of stream {:?} is {compare:?}",
            Condition::label(&key)
        );
        let check = Cmd::new("XLEN").key(&key);
        Condition::new(&key, check, Expect::Count(compare), what)
    }

    /// What the condition requires, for messages.
    pub fn describe(&self) -> &str {
        &self.what
    }
}

/// How a transaction ended, when nothing went wrong on the way.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Every condition held and `EXEC` ran the commands: their replies.
    Committed(BatchReplies),
    /// A condition did not hold: nothing ran (the watches were released).
    ConditionFailed {
        /// Its position among the conditions, in the order added.
        index: usize,
        /// What it required ([`Condition::describe`]).
        condition: String,
    },
    /// Another client changed a watched key between the checks and
    /// `EXEC`: nothing ran.
    WatchedKeyChanged,
}

impl Outcome {
    /// True if the commands ran.
    pub fn committed(&self) -> bool {
        matches!(self, Outcome::Committed(_))
    }

    /// The replies, if the commands ran.
    pub fn into_replies(self) -> Option<BatchReplies> {
        match self {
            Outcome::Committed(replies) => Some(replies),
            _ => None,
        }
    }
}

/// Commands run all-or-nothing with `MULTI … EXEC`, optionally guarded by
/// [`Condition`]s; made by [`Database::transaction`].
///
/// ```no_run
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// use redmux::prelude::*;
/// use redmux::{Condition, Outcome};
///
/// // Check-and-set: bump the balance only if it is still what we read.
/// let balance: i64 = db.get::<Option<i64>>("balance").await?.unwrap_or(0);
/// let mut tx = db.transaction();
/// tx.add_condition(Condition::string_equal("balance", balance));
/// let set = tx.set("balance", balance + 10);
/// match tx.exec().await? {
///     Outcome::Committed(mut replies) => assert!(replies.take(set)?),
///     other => println!("not committed: {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[must_use = "a transaction sends nothing until exec"]
pub struct Transaction<'a> {
    db: &'a Database,
    conditions: Vec<Condition>,
    queue: Queue,
    timeout: Option<Duration>,
    flags: CommandFlags,
}

impl<'a> Transaction<'a> {
    pub(crate) fn new(db: &'a Database) -> Transaction<'a> {
        Transaction {
            db,
            conditions: Vec::new(),
            queue: Queue::new(),
            timeout: None,
            flags: CommandFlags::NONE,
        }
    }

    /// Adds a precondition: the transaction commits only if it holds
    /// (checked under `WATCH`, atomically with the commands).
    pub fn add_condition(&mut self, condition: Condition) -> &mut Self {
        self.conditions.push(condition);
        self
    }

    /// Queues `cmd` (a command without a typed method); its reply, read
    /// as `T`, comes from the [`Outcome::Committed`] replies. Checked like
    /// [`Database::send`].
    pub fn queue<T: FromValue>(&mut self, cmd: Cmd) -> Queued<T> {
        let how = raw_how(self.db, &cmd);
        self.queue.push(self.db, cmd, how)
    }

    /// How long to wait for the whole transaction, checks included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Routing flags for the whole transaction.
    pub fn flags(mut self, flags: CommandFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Checks the conditions and, if they hold, runs the commands with
    /// `MULTI … EXEC`.
    ///
    /// # Errors
    /// A refused command (nothing is sent); a command the server rejected
    /// while queueing (a syntax error: `EXEC` then ran nothing; the error
    /// names that command); a timeout or a lost connection, as for a
    /// single command ([`Error::may_have_run`] says whether it may have
    /// committed). A command's own runtime error (e.g. `WRONGTYPE`) does not
    /// abort the others: it comes from [`BatchReplies::take`].
    pub async fn exec(self) -> Result<Outcome> {
        let Transaction {
            db,
            conditions,
            mut queue,
            timeout,
            flags,
        } = self;
        if let Some(err) = queue.refused.take() {
            return Err(err);
        }
        let count = queue.len();
        let label = match queue.names.first() {
            Some(first) => format!("a transaction of {count} commands starting with {first}"),
            None => "an empty transaction".to_owned(),
        };
        let mut body = BytesMut::new();
        body.extend_from_slice(&encode(Cmd::new("MULTI")));
        body.extend_from_slice(&queue.commands);
        body.extend_from_slice(&encode(Cmd::new("EXEC")));

        let replies = if conditions.is_empty() {
            send_group(db, body, count + 2, timeout, flags, None, &label).await?
        } else {
            let (checks, failed) = checks(db, &conditions, body, count + 2)?;
            let replies = send_group(
                db,
                checks.commands,
                checks.count,
                timeout,
                flags,
                Some(checks.gate),
                &label,
            )
            .await?;
            let index = failed.load(Ordering::Acquire);
            if index != usize::MAX {
                let condition = conditions
                    .get(index)
                    .map(|c| c.what.clone())
                    .unwrap_or_default();
                return Ok(Outcome::ConditionFailed { index, condition });
            }
            replies
        };
        let exec = exec_reply(&queue, replies)?;
        match exec {
            Value::Nil => Ok(Outcome::WatchedKeyChanged),
            Value::Array(values) => Ok(Outcome::Committed(queue.replies(db, values))),
            other => Err(Error::type_conversion(
                other.type_name(),
                "the array EXEC returns",
                None,
            )),
        }
    }
}

/// The first, gated part of a conditional transaction.
struct Checks {
    commands: BytesMut,
    count: usize,
    gate: Gate,
}

/// Builds `WATCH keys…` plus one check per condition, with the
/// continuation that writes `body` (`MULTI … EXEC`, `body_count`
/// commands) when every check holds, or `UNWATCH`, recording the failed
/// condition's index in the returned cell.
fn checks(
    db: &Database,
    conditions: &[Condition],
    body: BytesMut,
    body_count: usize,
) -> Result<(Checks, Arc<AtomicUsize>)> {
    let mut watch = Cmd::new("WATCH");
    for condition in conditions {
        watch.push_key(&condition.key[..]);
    }
    let mut commands = BytesMut::new();
    commands.extend_from_slice(&encode(db.prepare(watch, false)?));
    for condition in conditions {
        commands.extend_from_slice(&encode(db.prepare(condition.check.clone(), false)?));
    }
    // In a cluster the router sees only the checks; the body follows them
    // to the same node, so its keys must be in the checks' slot.
    db.multiplexer()
        .inner
        .router
        .one_slot(&[&commands[..], &body[..]])?;
    let expects: Vec<Expect> = conditions.iter().map(|c| c.expect.clone()).collect();
    let failed = Arc::new(AtomicUsize::new(usize::MAX));
    let record = failed.clone();
    let body_count = u32::try_from(body_count)
        .map_err(|_| Error::refused("too many commands in one transaction".to_owned()))?;
    let then = move |replies: Vec<Value>| -> Step {
        // replies[0] answers WATCH; the rest answer the checks, in order.
        let failing = expects
            .iter()
            .zip(replies.iter().skip(1))
            .position(|(expect, reply)| !expect.holds(reply))
            .or_else(|| (replies.len() != expects.len() + 1).then_some(0));
        match failing {
            None => Step::Send {
                commands: body,
                count: body_count,
                gate: Gate::Open,
            },
            Some(index) => {
                record.store(index, Ordering::Release);
                Step::Send {
                    commands: BytesMut::from(&encode(Cmd::new("UNWATCH"))[..]),
                    count: 1,
                    gate: Gate::Open,
                }
            }
        }
    };
    Ok((
        Checks {
            commands,
            count: conditions.len() + 1,
            gate: Gate::Then(Box::new(then)),
        },
        failed,
    ))
}

fn encode(cmd: Cmd) -> BytesMut {
    cmd.into_encoded().0
}

/// `EXEC`'s reply out of the replies to `MULTI`, the commands and `EXEC`;
/// a command refused while queueing is reported by name.
fn exec_reply(queue: &Queue, mut replies: Vec<Value>) -> Result<Value> {
    let exec = replies.pop().unwrap_or(Value::Nil);
    if let Some(Value::Error(text)) = replies.first() {
        return Err(Error::server("MULTI", text));
    }
    if let Value::Error(text) = &exec {
        let queued = replies.iter().skip(1).zip(&queue.names);
        for (reply, name) in queued {
            if let Value::Error(why) = reply {
                let why = String::from_utf8_lossy(why);
                let text = String::from_utf8_lossy(text);
                let message = format!("{why} (so the transaction's EXEC ran nothing: {text})");
                return Err(Error::server(name, &Bytes::from(message)));
            }
        }
        return Err(Error::server("EXEC", text));
    }
    Ok(exec)
}

impl sealed::Sealed for &mut Transaction<'_> {}

impl Commands for &mut Transaction<'_> {
    type Out<T: FromValue> = Queued<T>;

    fn issue<T: FromValue>(self, cmd: Cmd, how: How) -> Queued<T> {
        self.queue.push(self.db, cmd, how)
    }
}

impl Database {
    /// A new [`Transaction`] on this database: queue commands (with their
    /// typed methods), add [`Condition`]s, then [`exec`](Transaction::exec).
    pub fn transaction(&self) -> Transaction<'_> {
        Transaction::new(self)
    }
}

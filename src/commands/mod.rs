//! Typed commands, written once and usable everywhere.
//!
//! Every typed command is a provided method of one **family trait**
//! ([`StringCommands`], [`KeyCommands`], [`HashCommands`], …). Each method
//! only builds a [`Cmd`] and hands it to [`Commands::issue`]; what comes
//! back depends on where it was called:
//!
//! | called on            | returns                                   | sent when                       |
//! |----------------------|-------------------------------------------|---------------------------------|
//! | `&Database`          | [`Call<T>`](crate::Call)                  | awaited or fired                |
//! | `&mut Batch`         | [`Queued<T>`](crate::Queued)              | [`Batch::execute`](crate::Batch::execute) |
//! | `&mut Transaction`   | [`Queued<T>`](crate::Queued)              | [`Transaction::exec`](crate::Transaction::exec) |
//!
//! so `db.get("k")`, `batch.get("k")` and `tx.get("k")` are the same method.
//! The family traits have a blanket implementation for every [`Commands`]
//! type; bring them into scope with `use redmux::prelude::*`.
//!
//! ```no_run
//! # async fn demo(db: redmux::Database) -> redmux::Result<()> {
//! use redmux::prelude::*;
//!
//! let n: Option<String> = db.get("k").await?;          // a Call
//! let mut batch = db.batch();
//! let visits = batch.incr("visits");                   // a Queued<i64>
//! let mut replies = batch.execute().await?;
//! let visits = replies.take(visits)?;
//! # let _ = (n, visits);
//! # Ok(()) }
//! ```
//!
//! `Commands` is sealed: the set of places a command can be issued is
//! the crate's to decide (the completeness test walks the server's command
//! table against these traits).

mod geo;
mod hashes;
mod hyperloglog;
mod introspection;
mod keys;
mod lists;
mod pubsub;
mod scan;
mod scripting;
mod server;
mod sets;
mod sorted_sets;
mod streams;
mod strings;

pub use geo::*;
pub use hashes::*;
pub use hyperloglog::*;
pub use keys::*;
pub use lists::*;
pub use pubsub::*;
pub use scan::{KeyType, Scan, ScanOptions};
pub use scripting::*;
pub use server::*;
pub use sets::*;
pub use sorted_sets::*;
pub use streams::*;
pub use strings::*;

use crate::batch::{Batch, Queued};
use crate::cmd::{pair_up, Cmd, FromValue};
use crate::database::{Call, Database};
use crate::error::{Error, Result};
use crate::resp::Value;

pub(crate) mod sealed {
    /// Only the crate's types issue commands.
    pub trait Sealed {}

    /// How a typed method wants its command issued. Public in a private
    /// module: callers outside the crate cannot name it, so cannot call
    /// [`Commands::issue`](super::Commands::issue) themselves.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct How {
        /// Run the refusal policy (admin commands need `allowAdmin`).
        pub(crate) checked: bool,
        /// Which parts of the reply are key names (a key prefix is
        /// stripped from them).
        pub(crate) keys_back: KeysBack,
    }

    /// Where a reply carries key names.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum KeysBack {
        /// Nowhere.
        None,
        /// The reply is a key, or an array of keys (KEYS).
        All,
        /// RANDOMKEY: a key outside the prefix reads as nil.
        Random,
        /// The reply's first element is a key (LMPOP, ZMPOP).
        First,
        /// A SCAN page: `[cursor, [keys]]`.
        ScanPage,
        /// XREAD/XREADGROUP: `[[key, entries], …]` (RESP2) or a map from
        /// key to entries (RESP3).
        Streams,
    }
}

pub(crate) use sealed::{How, KeysBack};

/// A typed method's command: never refused, no keys in the reply.
pub(crate) const TYPED: How = How {
    checked: false,
    keys_back: KeysBack::None,
};

/// A typed admin command: refused unless `allowAdmin=true`.
#[allow(dead_code)] // until the server family's admin commands
pub(crate) const ADMIN: How = How {
    checked: true,
    keys_back: KeysBack::None,
};

/// A typed command whose reply is keyed by stream name (XREAD, XREADGROUP).
pub(crate) const STREAMS_BACK: How = How {
    checked: false,
    keys_back: KeysBack::Streams,
};

/// A place commands can be issued: a [`Database`] (the command is sent when
/// its [`Call`] is awaited), a [`Batch`] or a
/// [`Transaction`](crate::Transaction) (it is queued and its typed result
/// read afterwards).
///
/// The family traits ([`StringCommands`], [`KeyCommands`],
/// [`HashCommands`], [`ListCommands`], [`SetCommands`],
/// [`SortedSetCommands`], [`HyperLogLogCommands`], [`GeoCommands`],
/// [`StreamCommands`], [`PubSubCommands`], [`ScriptingCommands`],
/// [`ServerCommands`]) build on this one: each typed command is written
/// once, as a provided method that builds a [`Cmd`] and issues it here, so
/// `db.get(k)` returns a [`Call`] to await while `batch.get(k)` and
/// `tx.get(k)` return a [`Queued`] handle for the result.
///
/// ```no_run
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// use redmux::prelude::*;
///
/// let name: Option<String> = db.get("user:1:name").await?; // a Call
/// let mut batch = db.batch();
/// let visits = batch.incr("user:1:visits");               // a Queued<i64>
/// let mut replies = batch.execute().await?;
/// let visits = replies.take(visits)?;
/// # let _ = (name, visits);
/// # Ok(()) }
/// ```
pub trait Commands: Sized + sealed::Sealed {
    /// What a typed method returns here, for a reply read as `T`.
    type Out<T: FromValue>;

    /// Issues an encoded command. Used by the family traits; not callable
    /// outside the crate (`How` cannot be named).
    #[doc(hidden)]
    fn issue<T: FromValue>(self, cmd: Cmd, how: How) -> Self::Out<T>;
}

impl sealed::Sealed for &Database {}

impl<'a> Commands for &'a Database {
    type Out<T: FromValue> = Call<'a, T>;

    #[inline]
    fn issue<T: FromValue>(self, cmd: Cmd, how: How) -> Call<'a, T> {
        self.typed(cmd, how)
    }
}

impl sealed::Sealed for &mut Batch<'_> {}

impl Commands for &mut Batch<'_> {
    type Out<T: FromValue> = Queued<T>;

    fn issue<T: FromValue>(self, cmd: Cmd, how: How) -> Queued<T> {
        self.queue_typed(cmd, how)
    }
}

/// Adds each item of `items` as a key.
#[allow(dead_code)]
pub(crate) fn push_keys<K: crate::ToArg>(cmd: &mut Cmd, items: impl IntoIterator<Item = K>) {
    for key in items {
        cmd.push_key(&key);
    }
}

/// Adds each item of `items` as an argument.
#[allow(dead_code)]
pub(crate) fn push_args<A: crate::ToArg>(cmd: &mut Cmd, items: impl IntoIterator<Item = A>) {
    for arg in items {
        cmd.push_arg(&arg);
    }
}

/// The key/value pairs of a RESP3 map or of a RESP2 flat array
/// `[k1, v1, k2, v2, ...]`; `wanted` names the target type in errors.
pub(crate) fn map_pairs(value: Value, wanted: &'static str) -> Result<Vec<(Value, Value)>> {
    match value {
        Value::Map(pairs) => Ok(pairs),
        Value::Array(items) if items.len() % 2 == 0 => Ok(pair_up(items)),
        Value::Array(items) => Err(Error::type_conversion(
            "array",
            wanted,
            Some(format!(
                "expected an even number of elements, got {}",
                items.len()
            )),
        )),
        other => Err(Error::type_conversion(other.type_name(), wanted, None)),
    }
}

/// The elements of an array or RESP3 set reply; `wanted` names the target type in errors.
pub(crate) fn array_items(value: Value, wanted: &'static str) -> Result<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        other => Err(Error::type_conversion(other.type_name(), wanted, None)),
    }
}

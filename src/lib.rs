//! # redmux
//!
//! A Redis client built the way StackExchange.Redis is built: **one shared,
//! multiplexed connection per server** carries the commands of every
//! concurrent caller. While one caller waits for its reply, the connection is
//! busy with everyone else's commands, so the round trip is filled instead of
//! wasted.
//!
//! ```text
//!  caller tasks                    driver task (one per connection)
//!  ────────────                    ───────────────────────────────
//!  db.get("a") ─┐ encode on caller
//!  db.set(..)  ─┼──▶ unbounded channel ──▶ backlog ──▶ write buffer ──▶ socket
//!  db.incr(..) ─┘   (no lock)                  │  one write per batch      │
//!      ▲                                       ▼                           ▼
//!      └──── reply slot ◀──── FIFO front ◀──── decoder ◀────────────── socket
//!            (FromValue runs back on the caller's task)
//! ```
//!
//! * [`Multiplexer::connect`] takes a StackExchange.Redis-style string
//!   (`"127.0.0.1:6379,name=web,syncTimeout=5000"`) or a `redis://` URL.
//! * [`Multiplexer::database`] gives a cheap [`Database`] handle. Typed
//!   commands for every Redis 7.0 family are methods of the family traits
//!   ([`StringCommands`], [`HashCommands`], [`SortedSetCommands`], …; bring
//!   them in with `use redmux::prelude::*`), usable alike on a database, a
//!   [`Batch`] and a [`Transaction`]; [`Database::execute`] runs any command
//!   by name.
//! * [`Transaction`]s run `MULTI … EXEC`, optionally guarded by
//!   [`Condition`]s checked under `WATCH`; [`Script`] runs Lua by SHA with a
//!   transparent `EVAL` fallback; [`Database::with_key_prefix`] namespaces
//!   every key.
//! * Each command is a [`Call`]: `.await` it, give it a `.timeout(..)`, or
//!   `.fire_and_forget()` it.
//! * [`Multiplexer::subscriber`] subscribes to channels, patterns, shard
//!   channels and keyspace notifications on a connection of its own,
//!   restored after every reconnect, with a bounded buffer per
//!   [`Subscription`]; [`queue::WorkQueue`] is the work queue that replaces
//!   BLPOP; [`Multiplexer::dedicated`] leases an exclusive connection for
//!   the rare caller that must block.
//! * Blocking commands (BLPOP, ...) and commands that change the shared
//!   connection's state (SELECT, SUBSCRIBE, MULTI, ...) are refused with an
//!   error that says what to use instead.
//! * Every call ends exactly once: with its own reply, a server error, a
//!   timeout carrying the connection's state, or a connection error.
//!
//! ```no_run
//! # use redmux::prelude::*;
//! # async fn demo() -> redmux::Result<()> {
//! use std::time::Duration;
//! use redmux::Multiplexer;
//!
//! let mux = Multiplexer::connect("127.0.0.1:6379,name=web").await?;
//! let db = mux.database(0);
//! db.set("k", "v").await?;
//! let v: Option<String> = db.get("k").await?;
//! db.expire("k", Duration::from_secs(300)).fire_and_forget()?;
//! let n: i64 = db.get("missing").timeout(Duration::from_millis(50)).await.unwrap_or(0);
//! # Ok(()) }
//! ```
//!
//! See `docs/ARCHITECTURE.md` for the path of a command in detail.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the integration tests' shared support module (also compiled into
// the unit tests of `table::registry`) name this crate as `redmux`.
#[cfg(test)]
extern crate self as redmux;

mod batch;
pub mod cluster;
mod cmd;
mod commands;
mod config;
mod connection;
mod database;
mod dedicated;
mod error;
mod events;
mod multiplexer;
mod prefix;
mod pubsub;
pub mod queue;
pub mod resp;
mod router;
mod script;
mod sentinel;
mod standalone;
mod stats;
pub mod table;
mod transaction;

pub use batch::{Batch, BatchReplies, Queued};
pub use cmd::{Cmd, CommandFlags, FromValue, ReplicaPreference, ToArg};
pub use commands::*;

/// Everything a typical program needs: the multiplexer, database handles
/// and every command family trait (whose methods are the typed commands).
///
/// ```no_run
/// use redmux::prelude::*;
/// # async fn demo(mux: Multiplexer) -> redmux::Result<()> {
/// let db = mux.database(0);
/// db.set("k", "v").await?;
/// # Ok(()) }
/// ```
pub mod prelude {
    pub use crate::commands::{
        Commands, GeoCommands, HashCommands, HyperLogLogCommands, KeyCommands, ListCommands,
        PubSubCommands, ScriptingCommands, ServerCommands, SetCommands, SortedSetCommands,
        StreamCommands, StringCommands,
    };
    pub use crate::{
        Batch, Call, Cmd, CommandFlags, Condition, Database, Error, Multiplexer, Outcome, Result,
        Script, Transaction,
    };
}
pub use config::{
    BacklogPolicy, Config, ConfigError, Endpoint, Overflow, Password, Protocol, RetryPolicy,
    TlsConfig, DEFAULT_MAX_BYTES_IN_FLIGHT,
};
pub use database::{Call, Database, Reply};
pub use dedicated::{Dedicated, DedicatedCall};
pub use error::{ConnectionState, Error, ErrorKind, Result};
pub use events::{ConnectionEvent, Events};
pub use multiplexer::{IntoConfig, Multiplexer};
pub use pubsub::{
    Delivery, Gap, KeyspaceEvent, Message, Subscriber, SubscriberStats, Subscription,
};
pub use resp::Value;
pub use script::Script;
pub use stats::Stats;
pub use transaction::{Compare, Condition, Outcome, Transaction};

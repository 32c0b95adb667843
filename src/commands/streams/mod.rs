//! Stream commands: XADD, XRANGE/XREVRANGE, XREAD/XREADGROUP (without
//! `BLOCK`), consumer groups (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM),
//! XDEL, XLEN, XTRIM, XSETID and XINFO.
//!
//! Entries are read as [`StreamEntry<V>`]: an id (`String`, e.g.
//! `"1700000000000-0"`) and the field/value pairs in the order they were
//! added, each read as `V` (`Bytes` unless you pick another [`FromValue`]
//! type such as `String`). Ids in arguments are anything [`ToArg`]
//! (`"1-0"`, `"$"`, `">"`, …); range ends are [`StreamBound`]s.
//!
//! `XREAD`/`XREADGROUP` with `BLOCK` are not wrapped: a blocking command
//! would hold the shared connection. Poll without `BLOCK`, or use a
//! dedicated connection for blocking reads.
//!
//! The reply types are in `replies.rs`, the argument and option builders in
//! `options.rs`; this file holds the family's methods.

mod options;
mod replies;

pub use options::*;
pub use replies::*;

use options::{push_streams, range_cmd, xadd_cmd};

use std::time::Duration;

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, STREAMS_BACK, TYPED};

/// Stream commands (XREAD/XREADGROUP without BLOCK).
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
///
/// Entries come back as [`StreamEntry<V>`]; pick `V` (`Bytes` by default,
/// `String` for text) with the variable's type.
pub trait StreamCommands: Commands {
    /// [XADD](https://redis.io/commands/xadd/): appends an entry with an
    /// auto-generated id, creating the stream if needed; returns the new id.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let id = db.xadd("events", [("kind", "login"), ("user", "42")]).await?;
    /// # Ok(()) }
    /// ```
    fn xadd<F, V>(
        self,
        key: impl ToArg,
        fields: impl IntoIterator<Item = (F, V)>,
    ) -> Self::Out<String>
    where
        F: ToArg,
        V: ToArg,
    {
        self.issue(xadd_cmd(key, fields, &XAddOptions::new()), TYPED)
    }

    /// [XADD](https://redis.io/commands/xadd/) with options (explicit id,
    /// `NOMKSTREAM`, trimming); the new id, or `None` when `NOMKSTREAM` was
    /// given and the stream does not exist.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{StreamTrim, XAddOptions};
    /// let opts = XAddOptions::new().trim(StreamTrim::max_len(1000).approx());
    /// let id: Option<String> = db.xadd_with("events", [("kind", "login")], opts).await?;
    /// # Ok(()) }
    /// ```
    fn xadd_with<F, V>(
        self,
        key: impl ToArg,
        fields: impl IntoIterator<Item = (F, V)>,
        options: XAddOptions,
    ) -> Self::Out<Option<String>>
    where
        F: ToArg,
        V: ToArg,
    {
        self.issue(xadd_cmd(key, fields, &options), TYPED)
    }

    /// [XRANGE](https://redis.io/commands/xrange/): the entries with ids
    /// from `start` to `end`, oldest first, at most `count` if given; empty
    /// for a missing key.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{StreamBound, StreamEntry};
    /// let all: Vec<StreamEntry<String>> =
    ///     db.xrange("events", StreamBound::Min, StreamBound::Max, None).await?;
    /// let next_page: Vec<StreamEntry> =
    ///     db.xrange("events", StreamBound::exclusive("1-5"), StreamBound::Max, Some(100)).await?;
    /// # Ok(()) }
    /// ```
    fn xrange<V: FromValue>(
        self,
        key: impl ToArg,
        start: StreamBound,
        end: StreamBound,
        count: Option<u64>,
    ) -> Self::Out<Vec<StreamEntry<V>>> {
        let cmd = range_cmd(Cmd::new("XRANGE").key(key), &start, &end, count);
        self.issue(cmd, TYPED)
    }

    /// [XREVRANGE](https://redis.io/commands/xrevrange/): the entries with
    /// ids from `end` down to `start`, newest first, at most `count` if
    /// given; empty for a missing key. (Note the order: the greater bound
    /// first, as in the command.)
    fn xrevrange<V: FromValue>(
        self,
        key: impl ToArg,
        end: StreamBound,
        start: StreamBound,
        count: Option<u64>,
    ) -> Self::Out<Vec<StreamEntry<V>>> {
        let cmd = range_cmd(Cmd::new("XREVRANGE").key(key), &end, &start, count);
        self.issue(cmd, TYPED)
    }

    /// [XREAD](https://redis.io/commands/xread/) without `BLOCK`: for each
    /// `(key, id)`, the entries after `id`. Streams with nothing new are left
    /// out; empty when none has anything.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::StreamKeyEntries;
    /// let new: Vec<StreamKeyEntries<String>> = db.xread([("a", "0-0"), ("b", "1-5")]).await?;
    /// for stream in new {
    ///     for entry in stream.entries {
    ///         println!("{} {} {:?}", stream.key, entry.id, entry.fields);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// On a database with a key prefix the returned key names come back
    /// without it.
    fn xread<V, K, I>(
        self,
        streams: impl IntoIterator<Item = (K, I)>,
    ) -> Self::Out<Vec<StreamKeyEntries<V>>>
    where
        V: FromValue,
        K: ToArg,
        I: ToArg,
    {
        let mut cmd = Cmd::new("XREAD");
        push_streams(&mut cmd, None, streams);
        self.issue(cmd, STREAMS_BACK)
    }

    /// [XREAD](https://redis.io/commands/xread/) without `BLOCK`, with
    /// options (`COUNT`); as [`xread`](Self::xread).
    fn xread_with<V, K, I>(
        self,
        streams: impl IntoIterator<Item = (K, I)>,
        options: XReadOptions,
    ) -> Self::Out<Vec<StreamKeyEntries<V>>>
    where
        V: FromValue,
        K: ToArg,
        I: ToArg,
    {
        let mut cmd = Cmd::new("XREAD");
        push_streams(&mut cmd, options.count, streams);
        self.issue(cmd, STREAMS_BACK)
    }

    /// [XREADGROUP](https://redis.io/commands/xreadgroup/) without `BLOCK`:
    /// reads as `consumer` of `group`. An id of `">"` asks for entries never
    /// delivered to the group; any other id re-reads this consumer's pending
    /// entries after it (deleted ones come back with no fields). Empty when
    /// there is nothing.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::{StreamKeyEntries, XReadGroupOptions};
    /// let got: Vec<StreamKeyEntries> =
    ///     db.xreadgroup("workers", "w1", [("jobs", ">")], XReadGroupOptions::new().count(10)).await?;
    /// # Ok(()) }
    /// ```
    fn xreadgroup<V, K, I>(
        self,
        group: impl ToArg,
        consumer: impl ToArg,
        streams: impl IntoIterator<Item = (K, I)>,
        options: XReadGroupOptions,
    ) -> Self::Out<Vec<StreamKeyEntries<V>>>
    where
        V: FromValue,
        K: ToArg,
        I: ToArg,
    {
        let mut cmd = Cmd::new("XREADGROUP").arg("GROUP").arg(group).arg(consumer);
        if options.no_ack {
            // NOACK may come anywhere before STREAMS.
            cmd.push_arg("NOACK");
        }
        push_streams(&mut cmd, options.count, streams);
        self.issue(cmd, STREAMS_BACK)
    }

    /// [XGROUP CREATE](https://redis.io/commands/xgroup-create/): creates
    /// `group` on the existing stream `key`, delivering entries after `id`
    /// (`"$"`: only new ones; `"0"`: all). Errors with `BUSYGROUP` if the
    /// group exists, and when the stream does not (see
    /// [`xgroup_create_with`](Self::xgroup_create_with) for `MKSTREAM`).
    fn xgroup_create(self, key: impl ToArg, group: impl ToArg, id: impl ToArg) -> Self::Out<()> {
        let cmd = Cmd::new("XGROUP").arg("CREATE").key(key).arg(group).arg(id);
        self.issue(cmd, TYPED)
    }

    /// [XGROUP CREATE](https://redis.io/commands/xgroup-create/) with options
    /// (`MKSTREAM`, `ENTRIESREAD`).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::XGroupCreateOptions;
    /// db.xgroup_create_with("jobs", "workers", "$", XGroupCreateOptions::new().mkstream()).await?;
    /// # Ok(()) }
    /// ```
    fn xgroup_create_with(
        self,
        key: impl ToArg,
        group: impl ToArg,
        id: impl ToArg,
        options: XGroupCreateOptions,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("XGROUP").arg("CREATE").key(key).arg(group).arg(id);
        if options.mkstream {
            cmd.push_arg("MKSTREAM");
        }
        if let Some(n) = options.entries_read {
            cmd.push_arg("ENTRIESREAD");
            cmd.push_arg(&n);
        }
        self.issue(cmd, TYPED)
    }

    /// [XGROUP CREATECONSUMER](https://redis.io/commands/xgroup-createconsumer/):
    /// `true` if the consumer was created, `false` if it existed.
    fn xgroup_createconsumer(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
    ) -> Self::Out<bool> {
        let cmd = Cmd::new("XGROUP")
            .arg("CREATECONSUMER")
            .key(key)
            .arg(group)
            .arg(consumer);
        self.issue(cmd, TYPED)
    }

    /// [XGROUP DELCONSUMER](https://redis.io/commands/xgroup-delconsumer/):
    /// deletes the consumer; how many pending entries it had (0 if it did
    /// not exist).
    fn xgroup_delconsumer(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
    ) -> Self::Out<u64> {
        let cmd = Cmd::new("XGROUP")
            .arg("DELCONSUMER")
            .key(key)
            .arg(group)
            .arg(consumer);
        self.issue(cmd, TYPED)
    }

    /// [XGROUP DESTROY](https://redis.io/commands/xgroup-destroy/): `true` if
    /// the group existed and was destroyed.
    fn xgroup_destroy(self, key: impl ToArg, group: impl ToArg) -> Self::Out<bool> {
        let cmd = Cmd::new("XGROUP").arg("DESTROY").key(key).arg(group);
        self.issue(cmd, TYPED)
    }

    /// [XGROUP SETID](https://redis.io/commands/xgroup-setid/): sets the
    /// group's last delivered id (`"$"` for the stream's last).
    fn xgroup_setid(self, key: impl ToArg, group: impl ToArg, id: impl ToArg) -> Self::Out<()> {
        let cmd = Cmd::new("XGROUP").arg("SETID").key(key).arg(group).arg(id);
        self.issue(cmd, TYPED)
    }

    /// [XGROUP SETID](https://redis.io/commands/xgroup-setid/) with
    /// `ENTRIESREAD` (Redis 7.0+): also sets the group's read counter.
    fn xgroup_setid_with(
        self,
        key: impl ToArg,
        group: impl ToArg,
        id: impl ToArg,
        entries_read: u64,
    ) -> Self::Out<()> {
        let cmd = Cmd::new("XGROUP")
            .arg("SETID")
            .key(key)
            .arg(group)
            .arg(id)
            .arg("ENTRIESREAD")
            .arg(entries_read);
        self.issue(cmd, TYPED)
    }

    /// [XACK](https://redis.io/commands/xack/): acknowledges `ids` for
    /// `group`; how many were pending.
    fn xack<I: ToArg>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        ids: impl IntoIterator<Item = I>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("XACK").key(key).arg(group);
        for id in ids {
            cmd.push_arg(&id);
        }
        self.issue(cmd, TYPED)
    }

    /// [XDEL](https://redis.io/commands/xdel/): deletes entries; how many
    /// existed.
    fn xdel<I: ToArg>(self, key: impl ToArg, ids: impl IntoIterator<Item = I>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("XDEL").key(key);
        for id in ids {
            cmd.push_arg(&id);
        }
        self.issue(cmd, TYPED)
    }

    /// [XLEN](https://redis.io/commands/xlen/): the number of entries (0 for
    /// a missing key).
    fn xlen(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("XLEN").key(key), TYPED)
    }

    /// [XPENDING](https://redis.io/commands/xpending/), summary form: how
    /// many entries of `group` are pending, the smallest and greatest
    /// pending ids, and the count per consumer. Errors (`NOGROUP`) when the
    /// key or group does not exist.
    fn xpending(self, key: impl ToArg, group: impl ToArg) -> Self::Out<XPendingSummary> {
        self.issue(Cmd::new("XPENDING").key(key).arg(group), TYPED)
    }

    /// [XPENDING](https://redis.io/commands/xpending/), extended form: the
    /// pending entries in a range (optionally only those idle long enough,
    /// or of one consumer), with owner, idle time and delivery count.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::{StreamBound, XPendingOptions};
    /// let stuck = db.xpending_with("jobs", "workers",
    ///     XPendingOptions::new(StreamBound::Min, StreamBound::Max, 10).idle(Duration::from_secs(60))).await?;
    /// for p in stuck { println!("{} held by {} for {:?}", p.id, p.consumer, p.idle); }
    /// # Ok(()) }
    /// ```
    fn xpending_with(
        self,
        key: impl ToArg,
        group: impl ToArg,
        options: XPendingOptions,
    ) -> Self::Out<Vec<PendingEntry>> {
        let mut cmd = Cmd::new("XPENDING").key(key).arg(group);
        if let Some(idle) = options.idle {
            cmd.push_arg("IDLE");
            cmd.push_arg(&idle.as_millis());
        }
        options.start.push(&mut cmd);
        options.end.push(&mut cmd);
        cmd.push_arg(&options.count);
        if let Some(consumer) = &options.consumer {
            cmd.push_arg(consumer);
        }
        self.issue(cmd, TYPED)
    }

    /// [XCLAIM](https://redis.io/commands/xclaim/): gives `consumer` the
    /// pending entries among `ids` idle for at least `min_idle`; the entries
    /// claimed (ids not pending, not idle enough, or deleted are left out).
    fn xclaim<V, I>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle: Duration,
        ids: impl IntoIterator<Item = I>,
    ) -> Self::Out<Vec<StreamEntry<V>>>
    where
        V: FromValue,
        I: ToArg,
    {
        self.xclaim_with(key, group, consumer, min_idle, ids, XClaimOptions::new())
    }

    /// [XCLAIM](https://redis.io/commands/xclaim/) with options (`IDLE`,
    /// `TIME`, `RETRYCOUNT`, `FORCE`); as [`xclaim`](Self::xclaim).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::{StreamEntry, XClaimOptions};
    /// let mine: Vec<StreamEntry> = db.xclaim_with("jobs", "workers", "w2",
    ///     Duration::from_secs(60), ["1-0", "2-0"], XClaimOptions::new().retry_count(5)).await?;
    /// # Ok(()) }
    /// ```
    fn xclaim_with<V, I>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle: Duration,
        ids: impl IntoIterator<Item = I>,
        options: XClaimOptions,
    ) -> Self::Out<Vec<StreamEntry<V>>>
    where
        V: FromValue,
        I: ToArg,
    {
        let mut cmd = Cmd::new("XCLAIM")
            .key(key)
            .arg(group)
            .arg(consumer)
            .arg(min_idle.as_millis());
        for id in ids {
            cmd.push_arg(&id);
        }
        options.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [XCLAIM](https://redis.io/commands/xclaim/) with `JUSTID`: as
    /// [`xclaim_with`](Self::xclaim_with), but returns only the claimed ids
    /// and leaves the delivery count alone.
    fn xclaim_justid<I: ToArg>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle: Duration,
        ids: impl IntoIterator<Item = I>,
        options: XClaimOptions,
    ) -> Self::Out<Vec<String>> {
        let mut cmd = Cmd::new("XCLAIM")
            .key(key)
            .arg(group)
            .arg(consumer)
            .arg(min_idle.as_millis());
        for id in ids {
            cmd.push_arg(&id);
        }
        options.push(&mut cmd);
        cmd.push_arg("JUSTID");
        self.issue(cmd, TYPED)
    }

    /// [XAUTOCLAIM](https://redis.io/commands/xautoclaim/): gives `consumer`
    /// up to `count` (server default 100) pending entries idle for at least
    /// `min_idle`, scanning from `start` (`"0"` or `"0-0"` for the
    /// beginning); the next start, the entries claimed and the pending ids
    /// whose entries were deleted.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::XAutoClaim;
    /// let mut start = "0-0".to_string();
    /// loop {
    ///     let page: XAutoClaim<String> =
    ///         db.xautoclaim("jobs", "workers", "w2", Duration::from_secs(60), &start, Some(50)).await?;
    ///     // ... handle page.entries ...
    ///     if page.next == "0-0" { break; }
    ///     start = page.next;
    /// }
    /// # Ok(()) }
    /// ```
    fn xautoclaim<V: FromValue>(
        self,
        key: impl ToArg,
        group: impl ToArg,
        consumer: impl ToArg,
        min_idle: Duration,
        start: impl ToArg,
        count: Option<u64>,
    ) -> Self::Out<XAutoClaim<V>> {
        let mut cmd = Cmd::new("XAUTOCLAIM")
            .key(key)
            .arg(group)
            .arg(consumer)
            .arg(min_idle.as_millis())
            .arg(start);
        if let Some(count) = count {
            cmd.push_arg("COUNT");
            cmd.push_arg(&count);
        }
        self.issue(cmd, TYPED)
    }

    /// [XTRIM](https://redis.io/commands/xtrim/): trims the stream; how many
    /// entries were removed.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let removed = db.xtrim("events", redmux::StreamTrim::max_len(1000)).await?;
    /// # Ok(()) }
    /// ```
    fn xtrim(self, key: impl ToArg, trim: StreamTrim) -> Self::Out<u64> {
        let mut cmd = Cmd::new("XTRIM").key(key);
        trim.push(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [XSETID](https://redis.io/commands/xsetid/): sets the stream's last
    /// generated id (not below its greatest entry id). Errors when the key
    /// does not exist.
    fn xsetid(self, key: impl ToArg, last_id: impl ToArg) -> Self::Out<()> {
        self.issue(Cmd::new("XSETID").key(key).arg(last_id), TYPED)
    }

    /// [XSETID](https://redis.io/commands/xsetid/) with options
    /// (`ENTRIESADDED`, `MAXDELETEDID`).
    fn xsetid_with(
        self,
        key: impl ToArg,
        last_id: impl ToArg,
        options: XSetIdOptions,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("XSETID").key(key).arg(last_id);
        if let Some(n) = options.entries_added {
            cmd.push_arg("ENTRIESADDED");
            cmd.push_arg(&n);
        }
        if let Some(id) = &options.max_deleted_id {
            cmd.push_arg("MAXDELETEDID");
            cmd.push_arg(id);
        }
        self.issue(cmd, TYPED)
    }

    /// [XINFO STREAM](https://redis.io/commands/xinfo-stream/): the stream's
    /// length, last id, first and last entries, group count and more.
    /// Errors when the key does not exist.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let info = db.xinfo_stream("events").await?;
    /// println!("{} entries, last {}", info.length, info.last_generated_id);
    /// # Ok(()) }
    /// ```
    fn xinfo_stream(self, key: impl ToArg) -> Self::Out<XInfoStream> {
        self.issue(Cmd::new("XINFO").arg("STREAM").key(key), TYPED)
    }

    /// [XINFO GROUPS](https://redis.io/commands/xinfo-groups/): the stream's
    /// consumer groups (empty if none). Errors when the key does not exist.
    fn xinfo_groups(self, key: impl ToArg) -> Self::Out<Vec<XInfoGroup>> {
        self.issue(Cmd::new("XINFO").arg("GROUPS").key(key), TYPED)
    }

    /// [XINFO CONSUMERS](https://redis.io/commands/xinfo-consumers/): the
    /// consumers of `group`. Errors (`NOGROUP`) when the key or group does
    /// not exist.
    fn xinfo_consumers(self, key: impl ToArg, group: impl ToArg) -> Self::Out<Vec<XInfoConsumer>> {
        self.issue(
            Cmd::new("XINFO").arg("CONSUMERS").key(key).arg(group),
            TYPED,
        )
    }
}

impl<C: Commands> StreamCommands for C {}

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

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::cmd::{pair_up, Cmd, FromValue, ToArg};
use crate::commands::{Commands, STREAMS_BACK, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

// ---------------------------------------------------------------------------
// Reply types
// ---------------------------------------------------------------------------

/// One stream entry: its id and its field/value pairs, in order.
///
/// `V` is how fields and values are read (`Bytes` by default; `String` for
/// text). An entry the server reports as deleted (`[id, nil]`, as
/// `XREADGROUP` does for history entries removed with `XDEL`) has no fields.
///
/// ```
/// use redmux::{FromValue, StreamEntry, Value};
/// let v = Value::Array(vec![
///     Value::BulkString("1-0".into()),
///     Value::Array(vec![Value::BulkString("f".into()), Value::BulkString("v".into())]),
/// ]);
/// let e: StreamEntry<String> = FromValue::from_value(v).unwrap();
/// assert_eq!(e.id, "1-0");
/// assert_eq!(e.get("f"), Some(&"v".to_string()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamEntry<V = Bytes> {
    /// The entry's id, `"<milliseconds>-<sequence>"`.
    pub id: String,
    /// The field/value pairs, in the order they were added.
    pub fields: Vec<(V, V)>,
}

impl<V: AsRef<[u8]>> StreamEntry<V> {
    /// The value of the first field named `field`, if any.
    pub fn get(&self, field: impl AsRef<[u8]>) -> Option<&V> {
        let field = field.as_ref();
        self.fields
            .iter()
            .find(|(f, _)| f.as_ref() == field)
            .map(|(_, v)| v)
    }
}

impl<V: FromValue> FromValue for StreamEntry<V> {
    fn from_value(value: Value) -> Result<Self> {
        let mut items = match value {
            Value::Array(items) if items.len() == 2 => items.into_iter(),
            other => return Err(conversion::<Self>(&other, "expected [id, fields]")),
        };
        let id = String::from_value(items.next().unwrap_or(Value::Nil))?;
        let fields = match items.next().unwrap_or(Value::Nil) {
            Value::Nil => Vec::new(),
            other => field_pairs::<Self>(other)?
                .into_iter()
                .map(|(f, v)| Ok((V::from_value(f)?, V::from_value(v)?)))
                .collect::<Result<_>>()?,
        };
        Ok(StreamEntry { id, fields })
    }
}

/// The entries read from one stream by [`StreamCommands::xread`] or
/// [`StreamCommands::xreadgroup`].
///
/// Both reply shapes are read: RESP3's map (key → entries) and RESP2's
/// array of `[key, entries]`. Streams with nothing new are absent; a reply
/// with nothing at all (nil) is an empty `Vec`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamKeyEntries<V = Bytes> {
    /// The stream's key.
    pub key: String,
    /// Its entries, oldest first.
    pub entries: Vec<StreamEntry<V>>,
}

impl<V: FromValue> FromValue for StreamKeyEntries<V> {
    fn from_value(value: Value) -> Result<Self> {
        // `Vec<T>` turns each map pair into a two-element array first.
        let (key, entries) = <(String, Vec<StreamEntry<V>>)>::from_value(value)?;
        Ok(StreamKeyEntries { key, entries })
    }
}

/// The summary form of [`StreamCommands::xpending`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct XPendingSummary {
    /// How many entries are pending (delivered, not acknowledged).
    pub count: u64,
    /// The smallest pending id (`None` when nothing is pending).
    pub smallest_id: Option<String>,
    /// The greatest pending id (`None` when nothing is pending).
    pub greatest_id: Option<String>,
    /// Each consumer with at least one pending entry, and how many it has.
    pub consumers: Vec<(String, u64)>,
}

impl FromValue for XPendingSummary {
    fn from_value(value: Value) -> Result<Self> {
        let (count, smallest_id, greatest_id, consumers) =
            <(u64, Option<String>, Option<String>, Vec<(String, u64)>)>::from_value(value)?;
        Ok(XPendingSummary {
            count,
            smallest_id,
            greatest_id,
            consumers,
        })
    }
}

/// One entry of the extended form of XPENDING
/// ([`StreamCommands::xpending_with`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingEntry {
    /// The entry's id.
    pub id: String,
    /// The consumer that owns it.
    pub consumer: String,
    /// Time since it was last delivered.
    pub idle: Duration,
    /// How many times it was delivered.
    pub deliveries: u64,
}

impl FromValue for PendingEntry {
    fn from_value(value: Value) -> Result<Self> {
        let (id, consumer, idle_ms, deliveries) = <(String, String, u64, u64)>::from_value(value)?;
        Ok(PendingEntry {
            id,
            consumer,
            idle: Duration::from_millis(idle_ms),
            deliveries,
        })
    }
}

/// The reply of [`StreamCommands::xautoclaim`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct XAutoClaim<V = Bytes> {
    /// Where the next call should start; `"0-0"` once the whole pending
    /// list was scanned.
    pub next: String,
    /// The entries claimed.
    pub entries: Vec<StreamEntry<V>>,
    /// Pending ids whose entries no longer exist in the stream (removed from
    /// the pending list by the call; empty before Redis 7.0).
    pub deleted: Vec<String>,
}

impl<V: FromValue> FromValue for XAutoClaim<V> {
    fn from_value(value: Value) -> Result<Self> {
        let mut items = match value {
            Value::Array(items) if items.len() == 2 || items.len() == 3 => items.into_iter(),
            other => {
                return Err(conversion::<Self>(
                    &other,
                    "expected [next, entries, deleted]",
                ))
            }
        };
        let next = String::from_value(items.next().unwrap_or(Value::Nil))?;
        let entries = Vec::from_value(items.next().unwrap_or(Value::Nil))?;
        let deleted = Vec::from_value(items.next().unwrap_or(Value::Nil))?;
        Ok(XAutoClaim {
            next,
            entries,
            deleted,
        })
    }
}

/// The reply of [`StreamCommands::xinfo_stream`] (the main fields of
/// `XINFO STREAM`, without `FULL`).
///
/// Fields added in later Redis versions are `Option`s: `None` from a
/// server that does not send them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct XInfoStream {
    /// Number of entries.
    pub length: u64,
    /// Keys in the stream's radix tree.
    pub radix_tree_keys: u64,
    /// Nodes in the stream's radix tree.
    pub radix_tree_nodes: u64,
    /// Number of consumer groups.
    pub groups: u64,
    /// The last id generated (or set with XSETID).
    pub last_generated_id: String,
    /// The greatest id deleted from the stream (Redis 7.0+).
    pub max_deleted_entry_id: Option<String>,
    /// How many entries were ever added (Redis 7.0+).
    pub entries_added: Option<u64>,
    /// The first entry's id as recorded (Redis 7.0+).
    pub recorded_first_entry_id: Option<String>,
    /// The first entry (`None` when the stream is empty).
    pub first_entry: Option<StreamEntry>,
    /// The last entry (`None` when the stream is empty).
    pub last_entry: Option<StreamEntry>,
}

impl FromValue for XInfoStream {
    fn from_value(value: Value) -> Result<Self> {
        let mut info = XInfoStream::default();
        for (name, v) in named_fields::<Self>(value)? {
            match name.as_ref() {
                b"length" => info.length = u64::from_value(v)?,
                b"radix-tree-keys" => info.radix_tree_keys = u64::from_value(v)?,
                b"radix-tree-nodes" => info.radix_tree_nodes = u64::from_value(v)?,
                b"groups" => info.groups = u64::from_value(v)?,
                b"last-generated-id" => info.last_generated_id = String::from_value(v)?,
                b"max-deleted-entry-id" => info.max_deleted_entry_id = FromValue::from_value(v)?,
                b"entries-added" => info.entries_added = FromValue::from_value(v)?,
                b"recorded-first-entry-id" => {
                    info.recorded_first_entry_id = FromValue::from_value(v)?
                }
                b"first-entry" => info.first_entry = FromValue::from_value(v)?,
                b"last-entry" => info.last_entry = FromValue::from_value(v)?,
                _ => {}
            }
        }
        Ok(info)
    }
}

/// One consumer group, from [`StreamCommands::xinfo_groups`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct XInfoGroup {
    /// The group's name.
    pub name: String,
    /// Number of consumers.
    pub consumers: u64,
    /// Entries delivered but not acknowledged.
    pub pending: u64,
    /// The last id delivered to the group.
    pub last_delivered_id: String,
    /// The logical read counter (Redis 7.0+; `None` when unknown).
    pub entries_read: Option<u64>,
    /// Entries still waiting to be delivered (Redis 7.0+; `None` when the
    /// server cannot tell).
    pub lag: Option<u64>,
}

impl FromValue for XInfoGroup {
    fn from_value(value: Value) -> Result<Self> {
        let mut group = XInfoGroup::default();
        for (name, v) in named_fields::<Self>(value)? {
            match name.as_ref() {
                b"name" => group.name = String::from_value(v)?,
                b"consumers" => group.consumers = u64::from_value(v)?,
                b"pending" => group.pending = u64::from_value(v)?,
                b"last-delivered-id" => group.last_delivered_id = String::from_value(v)?,
                b"entries-read" => group.entries_read = FromValue::from_value(v)?,
                b"lag" => group.lag = FromValue::from_value(v)?,
                _ => {}
            }
        }
        Ok(group)
    }
}

/// One consumer of a group, from [`StreamCommands::xinfo_consumers`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct XInfoConsumer {
    /// The consumer's name.
    pub name: String,
    /// Entries delivered to it and not acknowledged.
    pub pending: u64,
    /// Time since its last attempted interaction (read, claim, …).
    pub idle: Duration,
    /// Time since its last successful interaction (Redis 7.2+; `None` from
    /// older servers, or when it never had one).
    pub inactive: Option<Duration>,
}

impl FromValue for XInfoConsumer {
    fn from_value(value: Value) -> Result<Self> {
        let mut consumer = XInfoConsumer::default();
        for (name, v) in named_fields::<Self>(value)? {
            match name.as_ref() {
                b"name" => consumer.name = String::from_value(v)?,
                b"pending" => consumer.pending = u64::from_value(v)?,
                b"idle" => consumer.idle = Duration::from_millis(u64::from_value(v)?),
                // -1 when the consumer never succeeded.
                b"inactive" => {
                    consumer.inactive = u64::try_from(i64::from_value(v)?)
                        .ok()
                        .map(Duration::from_millis)
                }
                _ => {}
            }
        }
        Ok(consumer)
    }
}

fn conversion<T>(value: &Value, detail: &str) -> Error {
    Error::type_conversion(
        value.type_name(),
        std::any::type_name::<T>(),
        Some(detail.to_string()),
    )
}

/// Pairs from a RESP3 map or a flat RESP2 array `[k1, v1, k2, v2, …]`.
fn field_pairs<T>(value: Value) -> Result<Vec<(Value, Value)>> {
    match value {
        Value::Map(pairs) => Ok(pairs),
        Value::Array(items) if items.len() % 2 == 0 => Ok(pair_up(items)),
        other => Err(conversion::<T>(
            &other,
            "expected a map or a flat array of pairs",
        )),
    }
}

/// As [`field_pairs`], with the names read as bytes (XINFO replies).
fn named_fields<T>(value: Value) -> Result<Vec<(Bytes, Value)>> {
    field_pairs::<T>(value)?
        .into_iter()
        .map(|(k, v)| Ok((Bytes::from_value(k)?, v)))
        .collect()
}

// ---------------------------------------------------------------------------
// Arguments and options
// ---------------------------------------------------------------------------

/// One end of an XRANGE/XREVRANGE (or extended XPENDING) range.
///
/// ```
/// use redmux::StreamBound;
/// let all = (StreamBound::Min, StreamBound::Max);
/// let after = StreamBound::exclusive("1700000000000-3"); // `(1700000000000-3`
/// let from = StreamBound::inclusive("1700000000000"); // sequence 0 when a start
/// # let _ = (all, after, from);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamBound {
    /// The smallest id (`-`).
    Min,
    /// The greatest id (`+`).
    Max,
    /// This id, included (`"ms-seq"`, or `"ms"`: the server fills in the
    /// sequence, 0 for a start and the maximum for an end).
    Inclusive(String),
    /// This id, excluded (`(ms-seq`; Redis 6.2+).
    Exclusive(String),
}

impl StreamBound {
    /// An included id.
    pub fn inclusive(id: impl Into<String>) -> StreamBound {
        StreamBound::Inclusive(id.into())
    }

    /// An excluded id.
    pub fn exclusive(id: impl Into<String>) -> StreamBound {
        StreamBound::Exclusive(id.into())
    }

    fn push(&self, cmd: &mut Cmd) {
        match self {
            StreamBound::Min => cmd.push_arg("-"),
            StreamBound::Max => cmd.push_arg("+"),
            StreamBound::Inclusive(id) => cmd.push_arg(id),
            StreamBound::Exclusive(id) => {
                let mut arg = String::with_capacity(id.len() + 1);
                arg.push('(');
                arg.push_str(id);
                cmd.push_arg(&arg);
            }
        }
    }
}

/// How to trim a stream: by length (`MAXLEN`) or by smallest id (`MINID`),
/// exactly (`=`) or approximately (`~`, cheaper), with an optional `LIMIT`
/// on the entries removed. Used by [`XAddOptions::trim`] and
/// [`StreamCommands::xtrim`].
///
/// ```
/// use redmux::StreamTrim;
/// let keep_1000 = StreamTrim::max_len(1000).approx().limit(100);
/// let from_id = StreamTrim::min_id("1700000000000-0");
/// # let _ = (keep_1000, from_id);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamTrim {
    strategy: TrimStrategy,
    approx: bool,
    limit: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TrimStrategy {
    MaxLen(u64),
    MinId(String),
}

impl StreamTrim {
    /// Keep at most `len` entries (`MAXLEN`).
    pub fn max_len(len: u64) -> StreamTrim {
        StreamTrim {
            strategy: TrimStrategy::MaxLen(len),
            approx: false,
            limit: None,
        }
    }

    /// Remove the entries with ids below `id` (`MINID`).
    pub fn min_id(id: impl Into<String>) -> StreamTrim {
        StreamTrim {
            strategy: TrimStrategy::MinId(id.into()),
            approx: false,
            limit: None,
        }
    }

    /// Trim approximately (`~`): whole radix tree nodes only, so possibly
    /// fewer entries than asked; much cheaper.
    pub fn approx(mut self) -> StreamTrim {
        self.approx = true;
        self
    }

    /// Remove at most `count` entries (`LIMIT`; only with [`approx`](Self::approx),
    /// the server refuses it for exact trimming).
    pub fn limit(mut self, count: u64) -> StreamTrim {
        self.limit = Some(count);
        self
    }

    fn push(&self, cmd: &mut Cmd) {
        match &self.strategy {
            TrimStrategy::MaxLen(_) => cmd.push_arg("MAXLEN"),
            TrimStrategy::MinId(_) => cmd.push_arg("MINID"),
        }
        cmd.push_arg(if self.approx { "~" } else { "=" });
        match &self.strategy {
            TrimStrategy::MaxLen(len) => cmd.push_arg(len),
            TrimStrategy::MinId(id) => cmd.push_arg(id),
        }
        if let Some(limit) = self.limit {
            cmd.push_arg("LIMIT");
            cmd.push_arg(&limit);
        }
    }
}

/// Options for [`StreamCommands::xadd_with`]: an explicit id, `NOMKSTREAM`,
/// trimming.
///
/// ```
/// use redmux::{StreamTrim, XAddOptions};
/// let opts = XAddOptions::new().no_mkstream().trim(StreamTrim::max_len(10_000).approx());
/// let explicit = XAddOptions::new().id("1700000000000-1");
/// # let _ = (opts, explicit);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XAddOptions {
    id: Option<String>,
    no_mkstream: bool,
    trim: Option<StreamTrim>,
}

impl XAddOptions {
    /// An auto-generated id (`*`), the stream created if missing, no trimming.
    pub fn new() -> XAddOptions {
        XAddOptions::default()
    }

    /// Use this id (`"ms-seq"`, or `"ms-*"` for an auto sequence) instead
    /// of `*`.
    pub fn id(mut self, id: impl Into<String>) -> XAddOptions {
        self.id = Some(id.into());
        self
    }

    /// Do not create the stream if it does not exist (`NOMKSTREAM`): the
    /// reply is then `None`.
    pub fn no_mkstream(mut self) -> XAddOptions {
        self.no_mkstream = true;
        self
    }

    /// Trim the stream while adding.
    pub fn trim(mut self, trim: StreamTrim) -> XAddOptions {
        self.trim = Some(trim);
        self
    }
}

/// Options for [`StreamCommands::xread_with`] (`COUNT`).
///
/// ```
/// let opts = redmux::XReadOptions::new().count(100);
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XReadOptions {
    count: Option<u64>,
}

impl XReadOptions {
    /// No limit on the entries per stream.
    pub fn new() -> XReadOptions {
        XReadOptions::default()
    }

    /// At most `count` entries per stream (`COUNT`).
    pub fn count(mut self, count: u64) -> XReadOptions {
        self.count = Some(count);
        self
    }
}

/// Options for [`StreamCommands::xreadgroup_with`]: `COUNT`, `NOACK`.
///
/// ```
/// let opts = redmux::XReadGroupOptions::new().count(10).no_ack();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XReadGroupOptions {
    count: Option<u64>,
    no_ack: bool,
}

impl XReadGroupOptions {
    /// No limit, entries added to the pending list.
    pub fn new() -> XReadGroupOptions {
        XReadGroupOptions::default()
    }

    /// At most `count` entries per stream (`COUNT`).
    pub fn count(mut self, count: u64) -> XReadGroupOptions {
        self.count = Some(count);
        self
    }

    /// Do not add the entries to the pending list (`NOACK`): they count as
    /// acknowledged once delivered.
    pub fn no_ack(mut self) -> XReadGroupOptions {
        self.no_ack = true;
        self
    }
}

/// Options for [`StreamCommands::xgroup_create_with`]: `MKSTREAM`,
/// `ENTRIESREAD`.
///
/// ```
/// let opts = redmux::XGroupCreateOptions::new().mkstream();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XGroupCreateOptions {
    mkstream: bool,
    entries_read: Option<u64>,
}

impl XGroupCreateOptions {
    /// No options: the stream must exist.
    pub fn new() -> XGroupCreateOptions {
        XGroupCreateOptions::default()
    }

    /// Create an empty stream if it does not exist (`MKSTREAM`).
    pub fn mkstream(mut self) -> XGroupCreateOptions {
        self.mkstream = true;
        self
    }

    /// Set the group's read counter (`ENTRIESREAD`, Redis 7.0+), used to
    /// compute its lag.
    pub fn entries_read(mut self, entries_read: u64) -> XGroupCreateOptions {
        self.entries_read = Some(entries_read);
        self
    }
}

/// Options for [`StreamCommands::xsetid_with`]: `ENTRIESADDED`,
/// `MAXDELETEDID` (Redis 7.0+).
///
/// ```
/// let opts = redmux::XSetIdOptions::new().entries_added(10).max_deleted_id("5-0");
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XSetIdOptions {
    entries_added: Option<u64>,
    max_deleted_id: Option<String>,
}

impl XSetIdOptions {
    /// No options.
    pub fn new() -> XSetIdOptions {
        XSetIdOptions::default()
    }

    /// How many entries were ever added (`ENTRIESADDED`).
    pub fn entries_added(mut self, count: u64) -> XSetIdOptions {
        self.entries_added = Some(count);
        self
    }

    /// The greatest deleted id (`MAXDELETEDID`).
    pub fn max_deleted_id(mut self, id: impl Into<String>) -> XSetIdOptions {
        self.max_deleted_id = Some(id.into());
        self
    }
}

/// The range, count and filters of the extended form of XPENDING
/// ([`StreamCommands::xpending_with`]).
///
/// ```
/// use std::time::Duration;
/// use redmux::{StreamBound, XPendingOptions};
/// let opts = XPendingOptions::new(StreamBound::Min, StreamBound::Max, 10)
///     .idle(Duration::from_secs(60))
///     .consumer("alice");
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct XPendingOptions {
    start: StreamBound,
    end: StreamBound,
    count: u64,
    idle: Option<Duration>,
    consumer: Option<String>,
}

impl XPendingOptions {
    /// At most `count` pending entries with ids between `start` and `end`.
    pub fn new(start: StreamBound, end: StreamBound, count: u64) -> XPendingOptions {
        XPendingOptions {
            start,
            end,
            count,
            idle: None,
            consumer: None,
        }
    }

    /// Only entries idle for at least `min_idle` (`IDLE`, in milliseconds).
    pub fn idle(mut self, min_idle: Duration) -> XPendingOptions {
        self.idle = Some(min_idle);
        self
    }

    /// Only this consumer's entries.
    pub fn consumer(mut self, consumer: impl Into<String>) -> XPendingOptions {
        self.consumer = Some(consumer.into());
        self
    }
}

/// Options for [`StreamCommands::xclaim_with`] and
/// [`StreamCommands::xclaim_justid`]: `IDLE`/`TIME`, `RETRYCOUNT`, `FORCE`.
///
/// ```
/// use std::time::Duration;
/// let opts = redmux::XClaimOptions::new().idle(Duration::ZERO).retry_count(3).force();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XClaimOptions {
    idle: Option<Duration>,
    time: Option<SystemTime>,
    retry_count: Option<u64>,
    force: bool,
}

impl XClaimOptions {
    /// No options: idle time reset to 0, delivery count incremented.
    pub fn new() -> XClaimOptions {
        XClaimOptions::default()
    }

    /// Set the claimed entries' idle time (`IDLE`, in milliseconds).
    pub fn idle(mut self, idle: Duration) -> XClaimOptions {
        self.idle = Some(idle);
        self.time = None;
        self
    }

    /// Set the claimed entries' last delivery time (`TIME`, Unix
    /// milliseconds); replaces [`idle`](Self::idle).
    pub fn time(mut self, at: SystemTime) -> XClaimOptions {
        self.time = Some(at);
        self.idle = None;
        self
    }

    /// Set the delivery count (`RETRYCOUNT`).
    pub fn retry_count(mut self, count: u64) -> XClaimOptions {
        self.retry_count = Some(count);
        self
    }

    /// Claim ids not in the pending list too, if they exist in the stream
    /// (`FORCE`).
    pub fn force(mut self) -> XClaimOptions {
        self.force = true;
        self
    }

    fn push(&self, cmd: &mut Cmd) {
        if let Some(idle) = self.idle {
            cmd.push_arg("IDLE");
            cmd.push_arg(&idle.as_millis());
        }
        if let Some(at) = self.time {
            let millis = at
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            cmd.push_arg("TIME");
            cmd.push_arg(&millis);
        }
        if let Some(count) = self.retry_count {
            cmd.push_arg("RETRYCOUNT");
            cmd.push_arg(&count);
        }
        if self.force {
            cmd.push_arg("FORCE");
        }
    }
}

/// `COUNT n STREAMS k1 k2 … id1 id2 …` (keys first, then their ids).
fn push_streams<K: ToArg, I: ToArg>(
    cmd: &mut Cmd,
    count: Option<u64>,
    streams: impl IntoIterator<Item = (K, I)>,
) {
    if let Some(count) = count {
        cmd.push_arg("COUNT");
        cmd.push_arg(&count);
    }
    cmd.push_arg("STREAMS");
    let streams: Vec<(K, I)> = streams.into_iter().collect();
    for (key, _) in &streams {
        cmd.push_key(key);
    }
    for (_, id) in &streams {
        cmd.push_arg(id);
    }
}

fn xadd_cmd<K, F, V>(key: K, fields: impl IntoIterator<Item = (F, V)>, options: &XAddOptions) -> Cmd
where
    K: ToArg,
    F: ToArg,
    V: ToArg,
{
    let mut cmd = Cmd::new("XADD").key(key);
    if options.no_mkstream {
        cmd.push_arg("NOMKSTREAM");
    }
    if let Some(trim) = &options.trim {
        trim.push(&mut cmd);
    }
    match &options.id {
        Some(id) => cmd.push_arg(id),
        None => cmd.push_arg("*"),
    }
    for (field, value) in fields {
        cmd.push_arg(&field);
        cmd.push_arg(&value);
    }
    cmd
}

fn range_cmd(mut cmd: Cmd, first: &StreamBound, second: &StreamBound, count: Option<u64>) -> Cmd {
    first.push(&mut cmd);
    second.push(&mut cmd);
    if let Some(count) = count {
        cmd.push_arg("COUNT");
        cmd.push_arg(&count);
    }
    cmd
}

// ---------------------------------------------------------------------------
// The family
// ---------------------------------------------------------------------------

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

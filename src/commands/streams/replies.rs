//! Stream reply types: entries, pending summaries, XAUTOCLAIM pages and
//! XINFO reports, read from RESP2 arrays and RESP3 maps alike.

use std::time::Duration;

use bytes::Bytes;

#[cfg(doc)]
use super::StreamCommands;
use crate::cmd::FromValue;
use crate::commands::map_pairs;
use crate::error::{Error, Result};
use crate::resp::Value;

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
            other => map_pairs(other, std::any::type_name::<Self>())?
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

/// As [`map_pairs`], with the names read as bytes (XINFO replies).
fn named_fields<T>(value: Value) -> Result<Vec<(Bytes, Value)>> {
    map_pairs(value, std::any::type_name::<T>())?
        .into_iter()
        .map(|(k, v)| Ok((Bytes::from_value(k)?, v)))
        .collect()
}

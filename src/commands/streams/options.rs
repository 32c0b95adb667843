//! Stream arguments: id bounds, trimming, and the option builders of
//! XADD, XREAD, XREADGROUP, XGROUP, XSETID, XPENDING and XCLAIM, with the
//! helpers that write them into a command.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(doc)]
use super::StreamCommands;
use crate::cmd::{Cmd, ToArg};

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

    pub(super) fn push(&self, cmd: &mut Cmd) {
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

    pub(super) fn push(&self, cmd: &mut Cmd) {
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
    pub(super) id: Option<String>,
    pub(super) no_mkstream: bool,
    pub(super) trim: Option<StreamTrim>,
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
    pub(super) count: Option<u64>,
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

/// Options for [`StreamCommands::xreadgroup`]: `COUNT`, `NOACK`.
///
/// ```
/// let opts = redmux::XReadGroupOptions::new().count(10).no_ack();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct XReadGroupOptions {
    pub(super) count: Option<u64>,
    pub(super) no_ack: bool,
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
    pub(super) mkstream: bool,
    pub(super) entries_read: Option<u64>,
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
    pub(super) entries_added: Option<u64>,
    pub(super) max_deleted_id: Option<String>,
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
    pub(super) start: StreamBound,
    pub(super) end: StreamBound,
    pub(super) count: u64,
    pub(super) idle: Option<Duration>,
    pub(super) consumer: Option<String>,
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
    pub(super) idle: Option<Duration>,
    pub(super) time: Option<SystemTime>,
    pub(super) retry_count: Option<u64>,
    pub(super) force: bool,
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

    pub(super) fn push(&self, cmd: &mut Cmd) {
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
pub(super) fn push_streams<K: ToArg, I: ToArg>(
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

pub(super) fn xadd_cmd<K, F, V>(
    key: K,
    fields: impl IntoIterator<Item = (F, V)>,
    options: &XAddOptions,
) -> Cmd
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

pub(super) fn range_cmd(
    mut cmd: Cmd,
    first: &StreamBound,
    second: &StreamBound,
    count: Option<u64>,
) -> Cmd {
    first.push(&mut cmd);
    second.push(&mut cmd);
    if let Some(count) = count {
        cmd.push_arg("COUNT");
        cmd.push_arg(&count);
    }
    cmd
}

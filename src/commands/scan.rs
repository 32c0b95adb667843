//! The SCAN family as streams: SCAN, HSCAN, SSCAN, ZSCAN.
//!
//! Each returns a [`Scan`], a `futures_core::Stream` that sends the next
//! `SCAN cursor …` only when the elements of the previous page have been
//! taken, and ends when the server hands back cursor 0. Every page is an
//! ordinary command on the shared connection, so other callers' commands
//! run between pages. Redis guarantees that an element present for the
//! whole scan is returned at least once; one added or removed meanwhile may
//! or may not be, and an element may come twice if the keyspace shrinks
//! during the scan (the stream does not remove duplicates: that would keep
//! every element in memory).
//!
//! On a Redis Cluster, SCAN walks the primaries one after the other (those
//! serving slots when the stream was made), each from cursor 0 to its end,
//! every page sent to that primary; the guarantee holds for keys that stay
//! on their node. A key migrated during the scan may be missed or come
//! twice, and a primary that fails over mid-scan ends the stream with an
//! error: start again. HSCAN, SSCAN and ZSCAN go where their key lives.

use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::{FusedStream, Stream};

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::config::Endpoint;
use crate::database::{Database, Reply};
use crate::error::{Error, Result};
use crate::resp::Value;

/// The type of a key, for [`ScanOptions::of_type`] (SCAN's `TYPE` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `string`
    String,
    /// `list`
    List,
    /// `set`
    Set,
    /// `zset`
    SortedSet,
    /// `hash`
    Hash,
    /// `stream`
    Stream,
}

impl KeyType {
    /// The name the server uses (`TYPE key` replies with it).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::SortedSet => "zset",
            KeyType::Hash => "hash",
            KeyType::Stream => "stream",
        }
    }
}

/// Options of a scan: `MATCH`, `COUNT` and (SCAN only) `TYPE`.
///
/// ```
/// use redmux::{KeyType, ScanOptions};
/// let opts = ScanOptions::new().matching("session:*").count(500).of_type(KeyType::Hash);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanOptions {
    pattern: Option<Bytes>,
    count: Option<u32>,
    key_type: Option<KeyType>,
}

impl ScanOptions {
    /// No options: every element, the server's default page size (10).
    pub fn new() -> ScanOptions {
        ScanOptions::default()
    }

    /// Only elements matching the glob-style `pattern` (`MATCH`). The
    /// server filters each page after reading it, so a selective pattern
    /// gives short or empty pages; the stream keeps asking until the end.
    pub fn matching(mut self, pattern: impl AsRef<[u8]>) -> ScanOptions {
        self.pattern = Some(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// How much work the server does per page (`COUNT`): a hint, not a
    /// limit. Larger means fewer round trips and longer single commands on
    /// the shared connection.
    pub fn count(mut self, count: u32) -> ScanOptions {
        self.count = Some(count);
        self
    }

    /// Only keys of this type (`TYPE`; SCAN only, Redis 6.0 and later).
    /// HSCAN, SSCAN and ZSCAN have no such option: with it set they end
    /// with a `Refused` error before sending anything.
    pub fn of_type(mut self, key_type: KeyType) -> ScanOptions {
        self.key_type = Some(key_type);
        self
    }
}

/// What is scanned: the keyspace, or one key's members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Keys,
    Hash,
    Set,
    SortedSet,
}

impl Family {
    fn command(self) -> &'static str {
        match self {
            Family::Keys => "SCAN",
            Family::Hash => "HSCAN",
            Family::Set => "SSCAN",
            Family::SortedSet => "ZSCAN",
        }
    }

    /// Reply values per stream item: a key or member; a field and its
    /// value; a member and its score.
    fn width(self) -> usize {
        match self {
            Family::Keys | Family::Set => 1,
            Family::Hash | Family::SortedSet => 2,
        }
    }
}

/// A lazily paged scan: a `Stream` of `Result<T>`. The next page is asked
/// for only when the current one has been taken; an element present for the
/// whole scan comes back at least once (twice is possible if the keyspace
/// shrinks meanwhile: the stream keeps no memory of what it returned).
///
/// Items are keys for [`Database::scan`], members for
/// [`Database::sscan`], `(field, value)` pairs for [`Database::hscan`] and
/// `(member, score)` pairs for [`Database::zscan`]. After an error (the
/// server's, a timeout, a conversion) the stream ends.
///
/// ```no_run
/// # use redmux::prelude::*;
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// use futures_util::TryStreamExt;
/// use redmux::ScanOptions;
///
/// let keys: Vec<String> = db.scan(ScanOptions::new().matching("user:*")).try_collect().await?;
/// # let _ = keys;
/// # Ok(())
/// # }
/// ```
#[must_use = "a scan sends nothing until the stream is polled"]
pub struct Scan<T> {
    db: Database,
    family: Family,
    /// The command up to the cursor (`HSCAN key`), copied for each page.
    base: Cmd,
    /// A keyspace scan on a cluster: the primaries, scanned in turn (the
    /// one at `node` now); empty otherwise.
    nodes: Vec<Endpoint>,
    node: usize,
    options: ScanOptions,
    cursor: Bytes,
    /// The page being handed out.
    page: VecDeque<Value>,
    pending: Option<Reply<(Bytes, Vec<Value>)>>,
    /// The server said cursor 0 (or an error ended the scan).
    finished: bool,
    /// An error found before the first page, handed out on the first poll.
    refused: Option<Error>,
    _item: PhantomData<fn() -> T>,
}

impl<T> Scan<T> {
    fn new(db: &Database, family: Family, key: Option<&dyn ToArg>, options: ScanOptions) -> Self {
        let mut base = Cmd::new(family.command());
        if let Some(key) = key {
            base.push_key(key);
        }
        let refused = (family != Family::Keys && options.key_type.is_some()).then(|| {
            Error::refused(format!(
                "{} has no TYPE option (only SCAN has); filter the members yourself, \
                 or scan keys with ScanOptions::of_type",
                family.command()
            ))
        });
        let nodes = match family {
            Family::Keys => db.multiplexer().cluster_primaries().unwrap_or_default(),
            _ => Vec::new(),
        };
        Scan {
            db: db.clone(),
            family,
            base,
            nodes,
            node: 0,
            options,
            cursor: Bytes::from_static(b"0"),
            page: VecDeque::new(),
            pending: None,
            finished: false,
            refused,
            _item: PhantomData,
        }
    }

    fn page_command(&self) -> Cmd {
        let mut cmd = self.base.clone();
        cmd.push_arg(&self.cursor[..]);
        if let Some(pattern) = &self.options.pattern {
            cmd.push_arg("MATCH");
            cmd.push_arg(&pattern[..]);
        }
        if let Some(count) = self.options.count {
            cmd.push_arg("COUNT");
            cmd.push_arg(&count);
        }
        if let Some(key_type) = self.options.key_type {
            cmd.push_arg("TYPE");
            cmd.push_arg(key_type.as_str());
        }
        cmd
    }

    /// The next item from the current page, if it holds one.
    fn next_item(&mut self) -> Option<Result<T>>
    where
        T: FromValue,
    {
        let item = match self.family.width() {
            1 => self.page.pop_front().map(T::from_value),
            _ => {
                if self.page.len() < 2 {
                    return None;
                }
                let pair: Vec<Value> = self.page.drain(..2).collect();
                Some(T::from_value(Value::Array(pair)))
            }
        };
        item.map(|r| r.map_err(|e| e.with_command(self.family.command())))
    }

    fn end_with(&mut self, err: Error) -> Poll<Option<Result<T>>> {
        self.finished = true;
        self.page.clear();
        self.pending = None;
        Poll::Ready(Some(Err(err.with_command(self.family.command()))))
    }
}

impl<T: FromValue> Stream for Scan<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = self.get_mut();
        if let Some(err) = this.refused.take() {
            this.finished = true;
            return Poll::Ready(Some(Err(err)));
        }
        loop {
            if let Some(item) = this.next_item() {
                if item.is_err() {
                    this.finished = true;
                    this.page.clear();
                }
                return Poll::Ready(Some(item));
            }
            if !this.page.is_empty() {
                // An odd number of values for a pair-wise reply.
                let err = Error::type_conversion(
                    "array",
                    std::any::type_name::<T>(),
                    Some("a page with an odd number of elements; expected pairs".to_owned()),
                );
                return this.end_with(err);
            }
            if this.finished {
                return Poll::Ready(None);
            }
            let pending = match &mut this.pending {
                Some(pending) => pending,
                None => {
                    let reply = match this.nodes.get(this.node) {
                        Some(node) => this.db.send(this.page_command()).send_to_node(node),
                        None => this.db.send(this.page_command()).into_future(),
                    };
                    this.pending.insert(reply)
                }
            };
            let (cursor, elements) = match Pin::new(pending).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(page)) => page,
                Poll::Ready(Err(e)) => return this.end_with(e),
            };
            this.pending = None;
            this.finished = &cursor[..] == b"0";
            if this.finished && this.node + 1 < this.nodes.len() {
                // This primary is done; the next one starts from 0.
                this.node += 1;
                this.finished = false;
            }
            this.cursor = cursor;
            this.page = elements.into();
        }
    }
}

impl<T: FromValue> FusedStream for Scan<T> {
    fn is_terminated(&self) -> bool {
        self.finished && self.page.is_empty() && self.refused.is_none()
    }
}

impl Database {
    /// [SCAN](https://redis.io/commands/scan/): every key of this database
    /// (matching the options), as a stream that fetches a page at a time.
    /// `T` is the key's type: `String`, `Bytes`, `Vec<u8>`.
    /// On a Redis Cluster the stream walks every primary in turn, so it
    /// covers the whole keyspace (see `docs/CLUSTER.md` for what a
    /// resharding or failover meanwhile does to it).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use futures_util::StreamExt;
    /// use redmux::{KeyType, ScanOptions};
    ///
    /// let mut hashes = db.scan::<String>(ScanOptions::new().of_type(KeyType::Hash));
    /// while let Some(key) = hashes.next().await {
    ///     println!("{}", key?);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn scan<T: FromValue>(&self, options: ScanOptions) -> Scan<T> {
        Scan::new(self, Family::Keys, None, options)
    }

    /// [HSCAN](https://redis.io/commands/hscan/): the fields of the hash at
    /// `key` with their values, as a stream of `(field, value)` pairs.
    pub fn hscan<F: FromValue, V: FromValue>(
        &self,
        key: impl ToArg,
        options: ScanOptions,
    ) -> Scan<(F, V)> {
        Scan::new(self, Family::Hash, Some(&key), options)
    }

    /// [SSCAN](https://redis.io/commands/sscan/): the members of the set at
    /// `key`, as a stream.
    pub fn sscan<T: FromValue>(&self, key: impl ToArg, options: ScanOptions) -> Scan<T> {
        Scan::new(self, Family::Set, Some(&key), options)
    }

    /// [ZSCAN](https://redis.io/commands/zscan/): the members of the sorted
    /// set at `key` with their scores, as a stream of `(member, score)` pairs.
    pub fn zscan<T: FromValue>(&self, key: impl ToArg, options: ScanOptions) -> Scan<(T, f64)> {
        Scan::new(self, Family::SortedSet, Some(&key), options)
    }
}

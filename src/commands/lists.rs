//! List commands (the non-blocking ones): LPUSH, RPOP, LRANGE, LMOVE,
//! LMPOP, LPOS, ….
//!
//! The blocking commands (BLPOP, BRPOP, BLMOVE, BLMPOP, BRPOPLPUSH) are not
//! wrapped: they would hold the shared connection, which refuses them.

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{push_args, Commands, How, KeysBack, TYPED};

/// An end of a list: `LEFT` (the head) or `RIGHT` (the tail). For
/// [`ListCommands::lmove`] and [`ListCommands::lmpop`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListEnd {
    /// The head (`LEFT`): where LPUSH adds and LPOP takes.
    Left,
    /// The tail (`RIGHT`): where RPUSH adds and RPOP takes.
    Right,
}

impl ListEnd {
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            ListEnd::Left => "LEFT",
            ListEnd::Right => "RIGHT",
        }
    }
}

/// Where [`ListCommands::linsert`] puts the new element relative to the
/// pivot: `BEFORE` or `AFTER` it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListInsert {
    /// Just before the pivot (`BEFORE`).
    Before,
    /// Just after the pivot (`AFTER`).
    After,
}

/// Options for [`ListCommands::lpos_with`] and
/// [`ListCommands::lpos_count`]: `RANK` and `MAXLEN`.
///
/// ```
/// use redmux::LPosOptions;
/// // The second match counting from the tail, looking at most at 1000 elements.
/// let opts = LPosOptions::new().rank(-2).max_len(1000);
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LPosOptions {
    rank: Option<i64>,
    max_len: Option<u64>,
}

impl LPosOptions {
    /// No options: the first match from the head, scanning the whole list.
    pub fn new() -> LPosOptions {
        LPosOptions::default()
    }

    /// `RANK`: skip to the `rank`-th match (1 is the first); a negative rank
    /// counts matches from the tail (-1 is the last). 0 is refused by the
    /// server.
    pub fn rank(mut self, rank: i64) -> LPosOptions {
        self.rank = Some(rank);
        self
    }

    /// `MAXLEN`: compare at most `max_len` elements (0 means all).
    pub fn max_len(mut self, max_len: u64) -> LPosOptions {
        self.max_len = Some(max_len);
        self
    }

    fn apply(self, cmd: &mut Cmd) {
        if let Some(rank) = self.rank {
            cmd.push_arg("RANK");
            cmd.push_arg(&rank);
        }
        if let Some(max_len) = self.max_len {
            cmd.push_arg("MAXLEN");
            cmd.push_arg(&max_len);
        }
    }
}

/// List commands (the non-blocking ones).
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait ListCommands: Commands {
    /// [LINDEX](https://redis.io/commands/lindex/): the element at `index`
    /// (negative counts from the tail); `None` if out of range or the key is
    /// missing.
    fn lindex<T: FromValue>(self, key: impl ToArg, index: i64) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("LINDEX").key(key).arg(index), TYPED)
    }

    /// [LINSERT](https://redis.io/commands/linsert/): inserts `element`
    /// before or after the first `pivot`; returns the new length, -1 if
    /// `pivot` was not found, 0 if the key is missing.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ListInsert;
    /// let len = db.linsert("queue", ListInsert::Before, "b", "a").await?;
    /// # Ok(()) }
    /// ```
    fn linsert(
        self,
        key: impl ToArg,
        position: ListInsert,
        pivot: impl ToArg,
        element: impl ToArg,
    ) -> Self::Out<i64> {
        let position = match position {
            ListInsert::Before => "BEFORE",
            ListInsert::After => "AFTER",
        };
        self.issue(
            Cmd::new("LINSERT")
                .key(key)
                .arg(position)
                .arg(pivot)
                .arg(element),
            TYPED,
        )
    }

    /// [LLEN](https://redis.io/commands/llen/): the length of the list (0 for
    /// a missing key).
    fn llen(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("LLEN").key(key), TYPED)
    }

    /// [LMOVE](https://redis.io/commands/lmove/): pops an element from the
    /// `from` end of `source` and pushes it at the `to` end of
    /// `destination`, atomically; the element, or `None` if `source` is
    /// empty.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ListEnd;
    /// let job: Option<String> = db.lmove("pending", "working", ListEnd::Right, ListEnd::Left).await?;
    /// # Ok(()) }
    /// ```
    fn lmove<T: FromValue>(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        from: ListEnd,
        to: ListEnd,
    ) -> Self::Out<Option<T>> {
        self.issue(
            Cmd::new("LMOVE")
                .key(source)
                .key(destination)
                .arg(from.keyword())
                .arg(to.keyword()),
            TYPED,
        )
    }

    /// [LMPOP](https://redis.io/commands/lmpop/): pops up to `count`
    /// elements from the `end` of the first non-empty list among `keys`;
    /// that list's name (`N`: `String`, `Bytes`, …; without the key
    /// prefix, if one is configured) and the elements, or `None` if every
    /// list is empty.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::ListEnd;
    /// if let Some((list, jobs)) = db.lmpop::<String, String, _>(["high", "low"], ListEnd::Left, 10).await? {
    ///     println!("{} jobs from {list}", jobs.len());
    /// }
    /// # Ok(()) }
    /// ```
    fn lmpop<N: FromValue, T: FromValue, K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        end: ListEnd,
        count: u64,
    ) -> Self::Out<Option<(N, Vec<T>)>> {
        let keys: Vec<K> = keys.into_iter().collect();
        let mut cmd = Cmd::new("LMPOP").arg(keys.len());
        for key in &keys {
            cmd.push_key(key);
        }
        cmd.push_arg(end.keyword());
        cmd.push_arg("COUNT");
        cmd.push_arg(&count);
        self.issue(
            cmd,
            How {
                checked: false,
                keys_back: KeysBack::First,
            },
        )
    }

    /// [LPOP](https://redis.io/commands/lpop/): removes and returns the first
    /// element; `None` if the list is empty or missing.
    fn lpop<T: FromValue>(self, key: impl ToArg) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("LPOP").key(key), TYPED)
    }

    /// [LPOP](https://redis.io/commands/lpop/) with a count: removes and
    /// returns up to `count` elements from the head (empty if the list is
    /// missing).
    fn lpop_count<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("LPOP").key(key).arg(count), TYPED)
    }

    /// [LPOS](https://redis.io/commands/lpos/): the index of the first
    /// `element` in the list; `None` if there is none.
    fn lpos(self, key: impl ToArg, element: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("LPOS").key(key).arg(element), TYPED)
    }

    /// [LPOS](https://redis.io/commands/lpos/) with `RANK`/`MAXLEN`: the
    /// index of the chosen match; `None` if there is none.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::LPosOptions;
    /// let last = db.lpos_with("list", "x", LPosOptions::new().rank(-1)).await?;
    /// # Ok(()) }
    /// ```
    fn lpos_with(
        self,
        key: impl ToArg,
        element: impl ToArg,
        options: LPosOptions,
    ) -> Self::Out<Option<u64>> {
        let mut cmd = Cmd::new("LPOS").key(key).arg(element);
        options.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [LPOS](https://redis.io/commands/lpos/) with `COUNT`: the indexes of
    /// up to `count` matches (0: all of them), in the order scanned; empty
    /// if there is none.
    fn lpos_count(
        self,
        key: impl ToArg,
        element: impl ToArg,
        count: u64,
        options: LPosOptions,
    ) -> Self::Out<Vec<u64>> {
        let mut cmd = Cmd::new("LPOS").key(key).arg(element);
        options.apply(&mut cmd);
        cmd.push_arg("COUNT");
        cmd.push_arg(&count);
        self.issue(cmd, TYPED)
    }

    /// [LPUSH](https://redis.io/commands/lpush/): adds `element` at the head;
    /// returns the new length.
    fn lpush(self, key: impl ToArg, element: impl ToArg) -> Self::Out<u64> {
        let room = key.len_hint() + element.len_hint();
        self.issue(Cmd::sized("LPUSH", room).key(key).arg(element), TYPED)
    }

    /// [LPUSH](https://redis.io/commands/lpush/) of several elements, each
    /// in turn at the head (so the last ends up first); returns the new
    /// length.
    fn lpush_many<E: ToArg>(
        self,
        key: impl ToArg,
        elements: impl IntoIterator<Item = E>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("LPUSH").key(key);
        push_args(&mut cmd, elements);
        self.issue(cmd, TYPED)
    }

    /// [LPUSHX](https://redis.io/commands/lpushx/): as
    /// [`lpush`](ListCommands::lpush), only if the list exists; returns the
    /// new length, 0 if the key is missing (nothing pushed).
    fn lpushx(self, key: impl ToArg, element: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("LPUSHX").key(key).arg(element), TYPED)
    }

    /// [LPUSHX](https://redis.io/commands/lpushx/) of several elements; the
    /// new length, 0 if the key is missing (nothing pushed).
    fn lpushx_many<E: ToArg>(
        self,
        key: impl ToArg,
        elements: impl IntoIterator<Item = E>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("LPUSHX").key(key);
        push_args(&mut cmd, elements);
        self.issue(cmd, TYPED)
    }

    /// [LRANGE](https://redis.io/commands/lrange/): the elements from `start`
    /// to `stop`, both inclusive (negative indexes count from the tail: 0,
    /// -1 is the whole list); empty for a missing key.
    fn lrange<T: FromValue>(self, key: impl ToArg, start: i64, stop: i64) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("LRANGE").key(key).arg(start).arg(stop), TYPED)
    }

    /// [LREM](https://redis.io/commands/lrem/): removes elements equal to
    /// `element`: the first `count` from the head if `count > 0`, the last
    /// `-count` if `count < 0`, all if 0; returns how many were removed.
    fn lrem(self, key: impl ToArg, count: i64, element: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("LREM").key(key).arg(count).arg(element), TYPED)
    }

    /// [LSET](https://redis.io/commands/lset/): replaces the element at
    /// `index`; a server error if out of range or the key is missing.
    fn lset(self, key: impl ToArg, index: i64, element: impl ToArg) -> Self::Out<()> {
        self.issue(Cmd::new("LSET").key(key).arg(index).arg(element), TYPED)
    }

    /// [LTRIM](https://redis.io/commands/ltrim/): keeps only the elements
    /// from `start` to `stop` (inclusive, as in
    /// [`lrange`](ListCommands::lrange)).
    fn ltrim(self, key: impl ToArg, start: i64, stop: i64) -> Self::Out<()> {
        self.issue(Cmd::new("LTRIM").key(key).arg(start).arg(stop), TYPED)
    }

    /// [RPOP](https://redis.io/commands/rpop/): removes and returns the last
    /// element; `None` if the list is empty or missing.
    fn rpop<T: FromValue>(self, key: impl ToArg) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("RPOP").key(key), TYPED)
    }

    /// [RPOP](https://redis.io/commands/rpop/) with a count: removes and
    /// returns up to `count` elements from the tail, last first (empty if the
    /// list is missing).
    fn rpop_count<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("RPOP").key(key).arg(count), TYPED)
    }

    /// [RPOPLPUSH](https://redis.io/commands/rpoplpush/) (deprecated by the
    /// server in favour of [`lmove`](ListCommands::lmove)): pops the last
    /// element of `source` and pushes it at the head of `destination`; the
    /// element, or `None` if `source` is empty.
    fn rpoplpush<T: FromValue>(
        self,
        source: impl ToArg,
        destination: impl ToArg,
    ) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("RPOPLPUSH").key(source).key(destination), TYPED)
    }

    /// [RPUSH](https://redis.io/commands/rpush/): adds `element` at the tail;
    /// returns the new length.
    fn rpush(self, key: impl ToArg, element: impl ToArg) -> Self::Out<u64> {
        let room = key.len_hint() + element.len_hint();
        self.issue(Cmd::sized("RPUSH", room).key(key).arg(element), TYPED)
    }

    /// [RPUSH](https://redis.io/commands/rpush/) of several elements, in
    /// order at the tail; returns the new length.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// db.rpush_many("queue", ["a", "b", "c"]).await?;
    /// let all: Vec<String> = db.lrange("queue", 0, -1).await?;
    /// # Ok(()) }
    /// ```
    fn rpush_many<E: ToArg>(
        self,
        key: impl ToArg,
        elements: impl IntoIterator<Item = E>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("RPUSH").key(key);
        push_args(&mut cmd, elements);
        self.issue(cmd, TYPED)
    }

    /// [RPUSHX](https://redis.io/commands/rpushx/): as
    /// [`rpush`](ListCommands::rpush), only if the list exists; returns the
    /// new length, 0 if the key is missing (nothing pushed).
    fn rpushx(self, key: impl ToArg, element: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("RPUSHX").key(key).arg(element), TYPED)
    }

    /// [RPUSHX](https://redis.io/commands/rpushx/) of several elements; the
    /// new length, 0 if the key is missing (nothing pushed).
    fn rpushx_many<E: ToArg>(
        self,
        key: impl ToArg,
        elements: impl IntoIterator<Item = E>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("RPUSHX").key(key);
        push_args(&mut cmd, elements);
        self.issue(cmd, TYPED)
    }
}

impl<C: Commands> ListCommands for C {}

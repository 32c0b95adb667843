//! Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SINTER, SUNION, SDIFF, ….
//!
//! SSCAN is a stream: see [`Database::sscan`](crate::Database::sscan).

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{push_args, push_keys, Commands, TYPED};

/// Set commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
/// SSCAN is a stream: see [`Database::sscan`](crate::Database::sscan).
///
/// Replies that are whole sets (SMEMBERS, SINTER, SUNION, SDIFF) are read
/// as the caller's choice of collection: `Vec<T>` or `HashSet<T>`.
pub trait SetCommands: Commands {
    /// [SADD](https://redis.io/commands/sadd/): adds `member` to the set at
    /// `key`; `true` if it was not already there.
    fn sadd(self, key: impl ToArg, member: impl ToArg) -> Self::Out<bool> {
        let room = key.len_hint() + member.len_hint();
        self.issue(Cmd::sized("SADD", room).key(key).arg(member), TYPED)
    }

    /// [SADD](https://redis.io/commands/sadd/) of several members; how many
    /// were added (not already there).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let added = db.sadd_many("tags", ["rust", "redis"]).await?;
    /// # Ok(()) }
    /// ```
    fn sadd_many<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("SADD").key(key);
        push_args(&mut cmd, members);
        self.issue(cmd, TYPED)
    }

    /// [SCARD](https://redis.io/commands/scard/): how many members the set
    /// has (0 for a missing key).
    fn scard(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("SCARD").key(key), TYPED)
    }

    /// [SDIFF](https://redis.io/commands/sdiff/): the members of the first
    /// set that are in none of the others (missing keys are empty sets);
    /// read as `Vec<T>` or `HashSet<T>`.
    fn sdiff<T: FromValue, K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T> {
        let mut cmd = Cmd::new("SDIFF");
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }

    /// [SDIFFSTORE](https://redis.io/commands/sdiffstore/): stores the
    /// [`sdiff`](SetCommands::sdiff) of `keys` at `destination`
    /// (overwriting it); returns its size.
    fn sdiffstore<K: ToArg>(
        self,
        destination: impl ToArg,
        keys: impl IntoIterator<Item = K>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("SDIFFSTORE").key(destination);
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }

    /// [SINTER](https://redis.io/commands/sinter/): the members in every one
    /// of the sets (empty if any is missing); read as `Vec<T>` or
    /// `HashSet<T>`.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::collections::HashSet;
    /// let common: HashSet<String> = db.sinter(["friends:ada", "friends:bob"]).await?;
    /// # Ok(()) }
    /// ```
    fn sinter<T: FromValue, K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T> {
        let mut cmd = Cmd::new("SINTER");
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }

    /// [SINTERCARD](https://redis.io/commands/sintercard/): the size of the
    /// [`sinter`](SetCommands::sinter) of `keys`, without building it.
    fn sintercard<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        let keys: Vec<K> = keys.into_iter().collect();
        let mut cmd = Cmd::new("SINTERCARD").arg(keys.len());
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }

    /// [SINTERCARD](https://redis.io/commands/sintercard/) with `LIMIT`: as
    /// [`sintercard`](SetCommands::sintercard), stopping once `limit` is
    /// reached (so the result is at most `limit`; 0 means no limit).
    fn sintercard_limit<K: ToArg>(
        self,
        keys: impl IntoIterator<Item = K>,
        limit: u64,
    ) -> Self::Out<u64> {
        let keys: Vec<K> = keys.into_iter().collect();
        let mut cmd = Cmd::new("SINTERCARD").arg(keys.len());
        push_keys(&mut cmd, keys);
        cmd.push_arg("LIMIT");
        cmd.push_arg(&limit);
        self.issue(cmd, TYPED)
    }

    /// [SINTERSTORE](https://redis.io/commands/sinterstore/): stores the
    /// [`sinter`](SetCommands::sinter) of `keys` at `destination`
    /// (overwriting it); returns its size.
    fn sinterstore<K: ToArg>(
        self,
        destination: impl ToArg,
        keys: impl IntoIterator<Item = K>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("SINTERSTORE").key(destination);
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }

    /// [SISMEMBER](https://redis.io/commands/sismember/): whether `member`
    /// is in the set (`false` for a missing key).
    fn sismember(self, key: impl ToArg, member: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("SISMEMBER").key(key).arg(member), TYPED)
    }

    /// [SMEMBERS](https://redis.io/commands/smembers/): every member of the
    /// set (empty for a missing key); read as `Vec<T>` or `HashSet<T>`.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::collections::HashSet;
    /// let tags: HashSet<String> = db.smembers("tags").await?;
    /// # Ok(()) }
    /// ```
    fn smembers<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("SMEMBERS").key(key), TYPED)
    }

    /// [SMISMEMBER](https://redis.io/commands/smismember/): for each of
    /// `members`, in order, whether it is in the set.
    fn smismember<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<Vec<bool>> {
        let mut cmd = Cmd::new("SMISMEMBER").key(key);
        push_args(&mut cmd, members);
        self.issue(cmd, TYPED)
    }

    /// [SMOVE](https://redis.io/commands/smove/): moves `member` from
    /// `source` to `destination`, atomically; `false` if it was not in
    /// `source`.
    fn smove(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        member: impl ToArg,
    ) -> Self::Out<bool> {
        self.issue(
            Cmd::new("SMOVE").key(source).key(destination).arg(member),
            TYPED,
        )
    }

    /// [SPOP](https://redis.io/commands/spop/): removes and returns a random
    /// member; `None` if the set is empty or missing.
    fn spop<T: FromValue>(self, key: impl ToArg) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("SPOP").key(key), TYPED)
    }

    /// [SPOP](https://redis.io/commands/spop/) with a count: removes and
    /// returns up to `count` random members (empty for a missing key).
    fn spop_count<T: FromValue>(self, key: impl ToArg, count: u64) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("SPOP").key(key).arg(count), TYPED)
    }

    /// [SRANDMEMBER](https://redis.io/commands/srandmember/): a random member,
    /// left in the set; `None` if the set is empty or missing.
    fn srandmember<T: FromValue>(self, key: impl ToArg) -> Self::Out<Option<T>> {
        self.issue(Cmd::new("SRANDMEMBER").key(key), TYPED)
    }

    /// [SRANDMEMBER](https://redis.io/commands/srandmember/) with a count: up
    /// to `count` distinct random members, or, for a negative `count`,
    /// exactly `-count` members that may repeat (empty for a missing key).
    fn srandmember_count<T: FromValue>(self, key: impl ToArg, count: i64) -> Self::Out<Vec<T>> {
        self.issue(Cmd::new("SRANDMEMBER").key(key).arg(count), TYPED)
    }

    /// [SREM](https://redis.io/commands/srem/): removes `member`; `true` if it
    /// was there.
    fn srem(self, key: impl ToArg, member: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("SREM").key(key).arg(member), TYPED)
    }

    /// [SREM](https://redis.io/commands/srem/) of several members; how many
    /// were there and were removed.
    fn srem_many<M: ToArg>(
        self,
        key: impl ToArg,
        members: impl IntoIterator<Item = M>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("SREM").key(key);
        push_args(&mut cmd, members);
        self.issue(cmd, TYPED)
    }

    /// [SUNION](https://redis.io/commands/sunion/): the members in any of the
    /// sets; read as `Vec<T>` or `HashSet<T>`.
    fn sunion<T: FromValue, K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T> {
        let mut cmd = Cmd::new("SUNION");
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }

    /// [SUNIONSTORE](https://redis.io/commands/sunionstore/): stores the
    /// [`sunion`](SetCommands::sunion) of `keys` at `destination`
    /// (overwriting it); returns its size.
    fn sunionstore<K: ToArg>(
        self,
        destination: impl ToArg,
        keys: impl IntoIterator<Item = K>,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("SUNIONSTORE").key(destination);
        push_keys(&mut cmd, keys);
        self.issue(cmd, TYPED)
    }
}

impl<C: Commands> SetCommands for C {}

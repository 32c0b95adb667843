//! Key commands: deletion, existence, expiry, type, renaming, copying,
//! dumping and restoring, object introspection, sorting.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, How, KeyType, KeysBack, TYPED};
use crate::error::Result;
use crate::resp::Value;

/// A key command whose reply is an array of key names (KEYS).
const KEYS_BACK: How = How {
    checked: false,
    keys_back: KeysBack::All,
};

/// When [`KeyCommands::expire_with`] and [`KeyCommands::expireat_with`]
/// set the timeout (Redis 7.0+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpireCondition {
    /// `NX`: only if the key has no expiry.
    IfNone,
    /// `XX`: only if the key has an expiry.
    IfSet,
    /// `GT`: only if the new expiry is later (no expiry counts as infinite).
    IfLater,
    /// `LT`: only if the new expiry is sooner.
    IfSooner,
}

impl ExpireCondition {
    fn as_str(self) -> &'static str {
        match self {
            ExpireCondition::IfNone => "NX",
            ExpireCondition::IfSet => "XX",
            ExpireCondition::IfLater => "GT",
            ExpireCondition::IfSooner => "LT",
        }
    }
}

/// What [`KeyCommands::key_type`] found: a missing key, a type of
/// [`KeyType`], or another type (a module's, or one newer than this crate).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyTypeReply {
    /// The key does not exist (`none`).
    Missing,
    /// One of the core types.
    Known(KeyType),
    /// Any other type name.
    Other(String),
}

impl KeyTypeReply {
    /// The core type, if the key exists and has one.
    pub fn known(&self) -> Option<KeyType> {
        match self {
            KeyTypeReply::Known(t) => Some(*t),
            _ => None,
        }
    }
}

impl FromValue for KeyTypeReply {
    fn from_value(value: Value) -> Result<KeyTypeReply> {
        let name = String::from_value(value)?;
        Ok(match name.as_str() {
            "none" => KeyTypeReply::Missing,
            "string" => KeyTypeReply::Known(KeyType::String),
            "list" => KeyTypeReply::Known(KeyType::List),
            "set" => KeyTypeReply::Known(KeyType::Set),
            "zset" => KeyTypeReply::Known(KeyType::SortedSet),
            "hash" => KeyTypeReply::Known(KeyType::Hash),
            "stream" => KeyTypeReply::Known(KeyType::Stream),
            _ => KeyTypeReply::Other(name),
        })
    }
}

/// Options for [`KeyCommands::copy_with`]: `DB` and `REPLACE`.
///
/// ```
/// use redmux::CopyOptions;
/// let opts = CopyOptions::new().db(2).replace();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyOptions {
    db: Option<u32>,
    replace: bool,
}

impl CopyOptions {
    /// No options: copy within the database, not over an existing key.
    pub fn new() -> CopyOptions {
        CopyOptions::default()
    }

    /// Copy into database `db` (`DB`).
    pub fn db(mut self, db: u32) -> CopyOptions {
        self.db = Some(db);
        self
    }

    /// Overwrite the destination if it exists (`REPLACE`).
    pub fn replace(mut self) -> CopyOptions {
        self.replace = true;
        self
    }
}

/// Options for [`KeyCommands::restore_with`]: expiry, `REPLACE`,
/// `IDLETIME`, `FREQ`.
///
/// ```
/// use std::time::Duration;
/// use redmux::RestoreOptions;
/// let opts = RestoreOptions::new().ttl(Duration::from_secs(60)).replace();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreOptions {
    ttl: Option<Duration>,
    at: Option<SystemTime>,
    replace: bool,
    idle: Option<Duration>,
    freq: Option<u8>,
}

impl RestoreOptions {
    /// No options: no expiry, fails if the key exists.
    pub fn new() -> RestoreOptions {
        RestoreOptions::default()
    }

    /// Expire after `ttl` (milliseconds, at least 1).
    pub fn ttl(mut self, ttl: Duration) -> RestoreOptions {
        self.ttl = Some(ttl);
        self.at = None;
        self
    }

    /// Expire at `at` (`ABSTTL`, Unix milliseconds).
    pub fn expire_at(mut self, at: SystemTime) -> RestoreOptions {
        self.at = Some(at);
        self.ttl = None;
        self
    }

    /// Overwrite the key if it exists (`REPLACE`).
    pub fn replace(mut self) -> RestoreOptions {
        self.replace = true;
        self
    }

    /// The object's idle time, in whole seconds (`IDLETIME`; LRU policies).
    pub fn idle_time(mut self, idle: Duration) -> RestoreOptions {
        self.idle = Some(idle);
        self
    }

    /// The object's access frequency (`FREQ`; LFU policies).
    pub fn freq(mut self, freq: u8) -> RestoreOptions {
        self.freq = Some(freq);
        self
    }
}

/// Options for [`KeyCommands::sort`], [`KeyCommands::sort_ro`] and
/// [`KeyCommands::sort_store`].
///
/// `BY` and `GET` patterns name other keys: on a database with a key
/// prefix, SORT with them is refused (the prefix cannot be applied).
///
/// ```
/// use redmux::SortOptions;
/// let opts = SortOptions::new()
///     .by("weight_*")
///     .get("#")
///     .get("name_*")
///     .limit(0, 10)
///     .desc()
///     .alpha();
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SortOptions {
    by: Option<Bytes>,
    limit: Option<(u64, u64)>,
    get: Vec<Bytes>,
    desc: bool,
    alpha: bool,
}

impl SortOptions {
    /// No options: ascending numeric sort of the elements themselves.
    pub fn new() -> SortOptions {
        SortOptions::default()
    }

    /// Sort by the values of the keys `pattern` names, `*` replaced by each
    /// element (`BY`); a pattern without `*` (e.g. `nosort`) skips sorting.
    pub fn by(mut self, pattern: impl AsRef<[u8]>) -> SortOptions {
        self.by = Some(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// Return `count` elements from `offset` (`LIMIT`).
    pub fn limit(mut self, offset: u64, count: u64) -> SortOptions {
        self.limit = Some((offset, count));
        self
    }

    /// Return the values of the keys `pattern` names instead of the
    /// elements (`GET`; `#` is the element itself). Repeat for several.
    pub fn get(mut self, pattern: impl AsRef<[u8]>) -> SortOptions {
        self.get.push(Bytes::copy_from_slice(pattern.as_ref()));
        self
    }

    /// Descending order (`DESC`).
    pub fn desc(mut self) -> SortOptions {
        self.desc = true;
        self
    }

    /// Compare as strings rather than numbers (`ALPHA`).
    pub fn alpha(mut self) -> SortOptions {
        self.alpha = true;
        self
    }

    fn apply(&self, cmd: &mut Cmd) {
        if let Some(by) = &self.by {
            cmd.push_arg("BY");
            cmd.push_arg(by);
        }
        if let Some((offset, count)) = self.limit {
            cmd.push_arg("LIMIT");
            cmd.push_arg(&offset);
            cmd.push_arg(&count);
        }
        for pattern in &self.get {
            cmd.push_arg("GET");
            cmd.push_arg(pattern);
        }
        if self.desc {
            cmd.push_arg("DESC");
        }
        if self.alpha {
            cmd.push_arg("ALPHA");
        }
    }
}

/// The duration since the Unix epoch of `at`, in milliseconds (at least 1).
fn unix_millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .max(1)
}

/// Key commands: deletion, existence, expiry, renaming, copying, dumping, sorting.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait KeyCommands: Commands {
    /// [DEL](https://redis.io/commands/del/): deletes `key`; `true` if it existed.
    fn del(self, key: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("DEL").key(key), TYPED)
    }

    /// [DEL](https://redis.io/commands/del/) of several keys; how many existed.
    fn del_many<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("DEL");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [EXISTS](https://redis.io/commands/exists/): whether `key` exists.
    fn exists(self, key: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("EXISTS").key(key), TYPED)
    }

    /// [EXISTS](https://redis.io/commands/exists/) of several keys; how many exist
    /// (a key named twice counts twice).
    fn exists_many<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("EXISTS");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [EXPIRE](https://redis.io/commands/expire/) (or
    /// [PEXPIRE](https://redis.io/commands/pexpire/) for sub-second parts):
    /// `true` if the key exists and the timeout was set.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// db.expire("session:1", Duration::from_secs(300)).fire_and_forget()?;
    /// # Ok(()) }
    /// ```
    fn expire(self, key: impl ToArg, ttl: Duration) -> Self::Out<bool> {
        let cmd = if ttl.subsec_nanos() == 0 && ttl.as_secs() > 0 {
            Cmd::new("EXPIRE").key(key).arg(ttl.as_secs())
        } else {
            // Redis rejects 0 as "invalid expire time"; round a sub-millisecond ttl up.
            Cmd::new("PEXPIRE").key(key).arg(ttl.as_millis().max(1))
        };
        self.issue(cmd, TYPED)
    }

    /// [TTL](https://redis.io/commands/ttl/): seconds left; -1 if the key has
    /// no expiry, -2 if it does not exist.
    fn ttl(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("TTL").key(key), TYPED)
    }

    /// [EXPIRE](https://redis.io/commands/expire/) (or
    /// [PEXPIRE](https://redis.io/commands/pexpire/) for sub-second parts)
    /// under a condition (Redis 7.0+): `true` if the timeout was set,
    /// `false` if the key is missing or the condition did not hold.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::ExpireCondition;
    /// let extended = db
    ///     .expire_with("session:1", Duration::from_secs(600), ExpireCondition::IfLater)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn expire_with(
        self,
        key: impl ToArg,
        ttl: Duration,
        condition: ExpireCondition,
    ) -> Self::Out<bool> {
        let cmd = if ttl.subsec_nanos() == 0 && ttl.as_secs() > 0 {
            Cmd::new("EXPIRE").key(key).arg(ttl.as_secs())
        } else {
            Cmd::new("PEXPIRE").key(key).arg(ttl.as_millis().max(1))
        };
        self.issue(cmd.arg(condition.as_str()), TYPED)
    }

    /// [EXPIREAT](https://redis.io/commands/expireat/) (or
    /// [PEXPIREAT](https://redis.io/commands/pexpireat/) for sub-second
    /// parts): expire at `at`; `true` if the key exists and the timeout was
    /// set. A time in the past deletes the key.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::{Duration, SystemTime};
    /// db.expireat("report", SystemTime::now() + Duration::from_secs(3600)).await?;
    /// # Ok(()) }
    /// ```
    fn expireat(self, key: impl ToArg, at: SystemTime) -> Self::Out<bool> {
        self.issue(expire_at_cmd(key, at), TYPED)
    }

    /// [EXPIREAT](https://redis.io/commands/expireat/) or
    /// [PEXPIREAT](https://redis.io/commands/pexpireat/) under a condition
    /// (Redis 7.0+): `true` if the timeout was set.
    fn expireat_with(
        self,
        key: impl ToArg,
        at: SystemTime,
        condition: ExpireCondition,
    ) -> Self::Out<bool> {
        self.issue(expire_at_cmd(key, at).arg(condition.as_str()), TYPED)
    }

    /// [EXPIRETIME](https://redis.io/commands/expiretime/) (Redis 7.0+): when
    /// the key expires, in Unix seconds; -1 if it has no expiry, -2 if it
    /// does not exist.
    fn expiretime(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("EXPIRETIME").key(key), TYPED)
    }

    /// [PEXPIRETIME](https://redis.io/commands/pexpiretime/) (Redis 7.0+):
    /// when the key expires, in Unix milliseconds; -1 if it has no expiry,
    /// -2 if it does not exist.
    fn pexpiretime(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("PEXPIRETIME").key(key), TYPED)
    }

    /// [PTTL](https://redis.io/commands/pttl/): milliseconds left; -1 if the
    /// key has no expiry, -2 if it does not exist.
    fn pttl(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("PTTL").key(key), TYPED)
    }

    /// [PERSIST](https://redis.io/commands/persist/): removes the expiry;
    /// `true` if there was one (`false` also for a missing key).
    fn persist(self, key: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("PERSIST").key(key), TYPED)
    }

    /// [TYPE](https://redis.io/commands/type/): the key's type;
    /// [`KeyTypeReply::Missing`] if it does not exist.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::KeyType;
    /// if db.key_type("k").await?.known() == Some(KeyType::Hash) {
    ///     // ...
    /// }
    /// # Ok(()) }
    /// ```
    fn key_type(self, key: impl ToArg) -> Self::Out<KeyTypeReply> {
        self.issue(Cmd::new("TYPE").key(key), TYPED)
    }

    /// [RENAME](https://redis.io/commands/rename/): renames `key` to
    /// `new_key`, overwriting it; an error (`ERR no such key`) if `key` is
    /// missing.
    fn rename(self, key: impl ToArg, new_key: impl ToArg) -> Self::Out<()> {
        self.issue(Cmd::new("RENAME").key(key).key(new_key), TYPED)
    }

    /// [RENAMENX](https://redis.io/commands/renamenx/): renames `key` only if
    /// `new_key` does not exist; `true` when renamed.
    fn renamenx(self, key: impl ToArg, new_key: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("RENAMENX").key(key).key(new_key), TYPED)
    }

    /// [COPY](https://redis.io/commands/copy/): copies `source` to
    /// `destination`; `true` when copied (`false` if the source is missing
    /// or the destination exists).
    fn copy(self, source: impl ToArg, destination: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("COPY").key(source).key(destination), TYPED)
    }

    /// [COPY](https://redis.io/commands/copy/) with `DB`/`REPLACE`; `true` when copied.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::CopyOptions;
    /// db.copy_with("config", "config", CopyOptions::new().db(1).replace()).await?;
    /// # Ok(()) }
    /// ```
    fn copy_with(
        self,
        source: impl ToArg,
        destination: impl ToArg,
        options: CopyOptions,
    ) -> Self::Out<bool> {
        let mut cmd = Cmd::new("COPY").key(source).key(destination);
        if let Some(db) = options.db {
            cmd.push_arg("DB");
            cmd.push_arg(&db);
        }
        if options.replace {
            cmd.push_arg("REPLACE");
        }
        self.issue(cmd, TYPED)
    }

    /// [UNLINK](https://redis.io/commands/unlink/): deletes `key`, freeing
    /// memory in the background; `true` if it existed.
    fn unlink(self, key: impl ToArg) -> Self::Out<bool> {
        self.issue(Cmd::new("UNLINK").key(key), TYPED)
    }

    /// [UNLINK](https://redis.io/commands/unlink/) of several keys; how many existed.
    fn unlink_many<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("UNLINK");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [TOUCH](https://redis.io/commands/touch/): updates the last access
    /// time of `keys`; how many exist.
    fn touch<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("TOUCH");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [OBJECT ENCODING](https://redis.io/commands/object-encoding/): the
    /// internal encoding (`"listpack"`, `"int"`, …); `None` for a missing key.
    fn object_encoding(self, key: impl ToArg) -> Self::Out<Option<String>> {
        self.issue(Cmd::new("OBJECT").arg("ENCODING").key(key), TYPED)
    }

    /// [OBJECT FREQ](https://redis.io/commands/object-freq/): the logarithmic
    /// access counter; `None` for a missing key. An error unless the
    /// `maxmemory-policy` is an LFU one.
    fn object_freq(self, key: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("OBJECT").arg("FREQ").key(key), TYPED)
    }

    /// [OBJECT IDLETIME](https://redis.io/commands/object-idletime/): seconds
    /// since the last access; `None` for a missing key. An error under an
    /// LFU `maxmemory-policy`.
    fn object_idletime(self, key: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("OBJECT").arg("IDLETIME").key(key), TYPED)
    }

    /// [OBJECT REFCOUNT](https://redis.io/commands/object-refcount/): the
    /// value's reference count; `None` for a missing key.
    fn object_refcount(self, key: impl ToArg) -> Self::Out<Option<u64>> {
        self.issue(Cmd::new("OBJECT").arg("REFCOUNT").key(key), TYPED)
    }

    /// [DUMP](https://redis.io/commands/dump/): the value in Redis's
    /// serialization format, for [`restore`](KeyCommands::restore); `None`
    /// for a missing key.
    fn dump(self, key: impl ToArg) -> Self::Out<Option<Bytes>> {
        self.issue(Cmd::new("DUMP").key(key), TYPED)
    }

    /// [RESTORE](https://redis.io/commands/restore/): creates `key` from a
    /// [`dump`](KeyCommands::dump), without expiry; an error
    /// (`BUSYKEY`) if it exists.
    fn restore(self, key: impl ToArg, data: impl ToArg) -> Self::Out<()> {
        self.restore_with(key, data, RestoreOptions::new())
    }

    /// [RESTORE](https://redis.io/commands/restore/) with options.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::RestoreOptions;
    /// if let Some(data) = db.dump("a").await? {
    ///     db.restore_with("b", data, RestoreOptions::new().replace().ttl(Duration::from_secs(60)))
    ///         .await?;
    /// }
    /// # Ok(()) }
    /// ```
    fn restore_with(
        self,
        key: impl ToArg,
        data: impl ToArg,
        options: RestoreOptions,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("RESTORE").key(key);
        match (options.ttl, options.at) {
            (_, Some(at)) => cmd.push_arg(&unix_millis(at)),
            (Some(ttl), None) => cmd.push_arg(&ttl.as_millis().max(1)),
            (None, None) => cmd.push_arg(&0u8),
        }
        cmd.push_arg(&data);
        if options.replace {
            cmd.push_arg("REPLACE");
        }
        if options.at.is_some() {
            cmd.push_arg("ABSTTL");
        }
        if let Some(idle) = options.idle {
            cmd.push_arg("IDLETIME");
            cmd.push_arg(&idle.as_secs());
        }
        if let Some(freq) = options.freq {
            cmd.push_arg("FREQ");
            cmd.push_arg(&freq);
        }
        self.issue(cmd, TYPED)
    }

    /// [RANDOMKEY](https://redis.io/commands/randomkey/): a random key;
    /// read as `Option<T>` for `None` when the database is empty. On a
    /// prefixed handle it samples the whole database and a key outside the
    /// prefix reads as `None`.
    fn randomkey<T: FromValue>(self) -> Self::Out<T> {
        self.issue(
            Cmd::new("RANDOMKEY"),
            How {
                checked: false,
                keys_back: KeysBack::Random,
            },
        )
    }

    /// [KEYS](https://redis.io/commands/keys/): every key matching the glob
    /// `pattern`, read as e.g. `Vec<String>`. It walks the whole keyspace
    /// in one command, holding up everyone on the shared connection and
    /// server: prefer [`Database::scan`](crate::Database::scan).
    fn keys<T: FromValue>(self, pattern: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("KEYS").arg(pattern), KEYS_BACK)
    }

    /// [MOVE](https://redis.io/commands/move/): moves `key` to database
    /// `db`; `true` if moved (`false` if missing here or present there).
    fn move_key(self, key: impl ToArg, db: u32) -> Self::Out<bool> {
        self.issue(Cmd::new("MOVE").key(key).arg(db), TYPED)
    }

    /// [SORT](https://redis.io/commands/sort/): the sorted elements of a
    /// list, set or sorted set (or the `GET` values; `Vec<Option<T>>` when a
    /// `GET` key may be missing); empty for a missing key.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::SortOptions;
    /// let top: Vec<String> = db.sort("ids", &SortOptions::new().desc().limit(0, 3)).await?;
    /// # Ok(()) }
    /// ```
    fn sort<T: FromValue>(self, key: impl ToArg, options: &SortOptions) -> Self::Out<T> {
        let mut cmd = Cmd::new("SORT").key(key);
        options.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [SORT_RO](https://redis.io/commands/sort_ro/) (Redis 7.0+): as
    /// [`sort`](KeyCommands::sort), read-only (can run on replicas).
    fn sort_ro<T: FromValue>(self, key: impl ToArg, options: &SortOptions) -> Self::Out<T> {
        let mut cmd = Cmd::new("SORT_RO").key(key);
        options.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [SORT](https://redis.io/commands/sort/) with `STORE`: stores the
    /// result as a list at `destination` (replacing it); returns its length.
    fn sort_store(
        self,
        key: impl ToArg,
        destination: impl ToArg,
        options: &SortOptions,
    ) -> Self::Out<u64> {
        let mut cmd = Cmd::new("SORT").key(key);
        options.apply(&mut cmd);
        cmd.push_arg("STORE");
        cmd.push_key(&destination);
        self.issue(cmd, TYPED)
    }
}

/// EXPIREAT in whole seconds when exact, else PEXPIREAT in milliseconds.
fn expire_at_cmd(key: impl ToArg, at: SystemTime) -> Cmd {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    if since.subsec_nanos() == 0 && since.as_secs() > 0 {
        Cmd::new("EXPIREAT").key(key).arg(since.as_secs())
    } else {
        Cmd::new("PEXPIREAT").key(key).arg(unix_millis(at))
    }
}

impl<C: Commands> KeyCommands for C {}

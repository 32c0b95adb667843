//! String commands: GET, SET, MGET, MSET, INCR, INCRBY, DECR, DECRBY.

use std::time::Duration;

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, TYPED};

/// Options for [`Database::set_with`]: expiry and conditions.
///
/// ```
/// use std::time::Duration;
/// use redmux::SetOptions;
/// let opts = SetOptions::new().expire(Duration::from_secs(60)).only_if_absent();
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetOptions {
    expire: Option<Duration>,
    keep_ttl: bool,
    condition: Option<&'static str>,
}

impl SetOptions {
    /// No options: a plain SET.
    pub fn new() -> SetOptions {
        SetOptions::default()
    }

    /// Expire after `ttl` (`EX` for whole seconds, `PX` otherwise).
    pub fn expire(mut self, ttl: Duration) -> SetOptions {
        self.expire = Some(ttl);
        self
    }

    /// Keep the key's current time to live (`KEEPTTL`).
    pub fn keep_ttl(mut self) -> SetOptions {
        self.keep_ttl = true;
        self
    }

    /// Set only if the key does not exist (`NX`).
    pub fn only_if_absent(mut self) -> SetOptions {
        self.condition = Some("NX");
        self
    }

    /// Set only if the key exists (`XX`).
    pub fn only_if_exists(mut self) -> SetOptions {
        self.condition = Some("XX");
        self
    }

    fn apply(self, cmd: &mut Cmd) {
        if let Some(ttl) = self.expire {
            push_ttl(cmd, ttl, "EX", "PX");
        }
        if self.keep_ttl {
            cmd.push_arg("KEEPTTL");
        }
        if let Some(condition) = self.condition {
            cmd.push_arg(condition);
        }
    }
}

/// Appends a time to live in whole seconds when exact, else milliseconds
/// (at least 1 ms, since Redis rejects 0).
pub(crate) fn push_ttl(cmd: &mut Cmd, ttl: Duration, seconds_option: &str, millis_option: &str) {
    if ttl.subsec_nanos() == 0 && ttl.as_secs() > 0 {
        cmd.push_arg(seconds_option);
        cmd.push_arg(&ttl.as_secs());
    } else {
        cmd.push_arg(millis_option);
        cmd.push_arg(&ttl.as_millis().max(1));
    }
}

/// String commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait StringCommands: Commands {
    /// [GET](https://redis.io/commands/get/): the value of `key`; read it as
    /// `Option<T>` to get `None` for a missing key.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let v: Option<String> = db.get("k").await?;
    /// # Ok(()) }
    /// ```
    fn get<T: FromValue>(self, key: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("GET").key(key), TYPED)
    }

    /// [SET](https://redis.io/commands/set/): sets `key` to `value`; `true` when set.
    fn set(self, key: impl ToArg, value: impl ToArg) -> Self::Out<bool> {
        let room = key.len_hint() + value.len_hint();
        self.issue(Cmd::sized("SET", room).key(key).arg(value), TYPED)
    }

    /// [SET](https://redis.io/commands/set/) with options; `false` when a
    /// condition (`NX`/`XX`) stopped it.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// use redmux::SetOptions;
    /// let won = db.set_with("lock", "me", SetOptions::new().only_if_absent().expire(Duration::from_secs(10))).await?;
    /// # Ok(()) }
    /// ```
    fn set_with(self, key: impl ToArg, value: impl ToArg, options: SetOptions) -> Self::Out<bool> {
        // Room for the options too: EX/PX, a number, KEEPTTL, NX/XX.
        let room = key.len_hint() + value.len_hint() + 64;
        let mut cmd = Cmd::sized("SET", room).key(key).arg(value);
        options.apply(&mut cmd);
        self.issue(cmd, TYPED)
    }

    /// [MGET](https://redis.io/commands/mget/): the values of `keys`, in order; read as `Vec<Option<T>>`.
    fn mget<T, K>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
    {
        let mut cmd = Cmd::new("MGET");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [MSET](https://redis.io/commands/mset/): sets every `(key, value)` pair atomically.
    fn mset<K, V>(self, pairs: impl IntoIterator<Item = (K, V)>) -> Self::Out<()>
    where
        K: ToArg,
        V: ToArg,
    {
        let mut cmd = Cmd::new("MSET");
        for (key, value) in pairs {
            cmd.push_key(&key);
            cmd.push_arg(&value);
        }
        self.issue(cmd, TYPED)
    }

    /// [INCR](https://redis.io/commands/incr/): adds 1; returns the new value.
    fn incr(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("INCR").key(key), TYPED)
    }

    /// [INCRBY](https://redis.io/commands/incrby/): adds `delta`; returns the new value.
    fn incr_by(self, key: impl ToArg, delta: i64) -> Self::Out<i64> {
        self.issue(Cmd::new("INCRBY").key(key).arg(delta), TYPED)
    }

    /// [DECR](https://redis.io/commands/decr/): subtracts 1; returns the new value.
    fn decr(self, key: impl ToArg) -> Self::Out<i64> {
        self.issue(Cmd::new("DECR").key(key), TYPED)
    }

    /// [DECRBY](https://redis.io/commands/decrby/): subtracts `delta`; returns the new value.
    fn decr_by(self, key: impl ToArg, delta: i64) -> Self::Out<i64> {
        self.issue(Cmd::new("DECRBY").key(key).arg(delta), TYPED)
    }
}

impl<C: Commands> StringCommands for C {}

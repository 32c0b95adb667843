//! Key commands: DEL, EXISTS, EXPIRE/PEXPIRE, TTL.

use std::time::Duration;

use crate::cmd::{Cmd, ToArg};
use crate::commands::{Commands, TYPED};

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
}

impl<C: Commands> KeyCommands for C {}

//! Key commands: DEL, EXISTS, EXPIRE/PEXPIRE, TTL.

use std::time::Duration;

use crate::cmd::{Cmd, ToArg};
use crate::database::{Call, Database};

impl Database {
    /// [DEL](https://redis.io/commands/del/): deletes `key`; `true` if it existed.
    pub fn del(&self, key: impl ToArg) -> Call<'_, bool> {
        self.call(Cmd::new("DEL").key(key))
    }

    /// [DEL](https://redis.io/commands/del/) of several keys; how many existed.
    pub fn del_many<K: ToArg>(&self, keys: impl IntoIterator<Item = K>) -> Call<'_, u64> {
        let mut cmd = Cmd::new("DEL");
        for key in keys {
            cmd.push_key(&key);
        }
        self.call(cmd)
    }

    /// [EXISTS](https://redis.io/commands/exists/): whether `key` exists.
    pub fn exists(&self, key: impl ToArg) -> Call<'_, bool> {
        self.call(Cmd::new("EXISTS").key(key))
    }

    /// [EXISTS](https://redis.io/commands/exists/) of several keys; how many exist
    /// (a key named twice counts twice).
    pub fn exists_many<K: ToArg>(&self, keys: impl IntoIterator<Item = K>) -> Call<'_, u64> {
        let mut cmd = Cmd::new("EXISTS");
        for key in keys {
            cmd.push_key(&key);
        }
        self.call(cmd)
    }

    /// [EXPIRE](https://redis.io/commands/expire/) (or
    /// [PEXPIRE](https://redis.io/commands/pexpire/) for sub-second parts):
    /// `true` if the key exists and the timeout was set.
    ///
    /// ```no_run
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use std::time::Duration;
    /// db.expire("session:1", Duration::from_secs(300)).fire_and_forget()?;
    /// # Ok(()) }
    /// ```
    pub fn expire(&self, key: impl ToArg, ttl: Duration) -> Call<'_, bool> {
        let cmd = if ttl.subsec_nanos() == 0 && ttl.as_secs() > 0 {
            Cmd::new("EXPIRE").key(key).arg(ttl.as_secs())
        } else {
            // Redis rejects 0 as "invalid expire time"; round a sub-millisecond ttl up.
            Cmd::new("PEXPIRE").key(key).arg(ttl.as_millis().max(1))
        };
        self.call(cmd)
    }

    /// [TTL](https://redis.io/commands/ttl/): seconds left; -1 if the key has
    /// no expiry, -2 if it does not exist.
    pub fn ttl(&self, key: impl ToArg) -> Call<'_, i64> {
        self.call(Cmd::new("TTL").key(key))
    }
}

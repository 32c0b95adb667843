//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE.

use crate::cmd::{Cmd, ToArg};
use crate::commands::Commands;
use crate::commands::TYPED;

/// HyperLogLog commands: approximate distinct counts in at most 12 KB per key.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait HyperLogLogCommands: Commands {
    /// [PFADD](https://redis.io/commands/pfadd/): adds `elements` to the
    /// HyperLogLog at `key` (creating it, even with no elements); `true` if
    /// its estimate changed (or it was created).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// db.pfadd("visitors:today", ["alice", "bob"]).await?;
    /// let n = db.pfcount("visitors:today").await?;
    /// # Ok(()) }
    /// ```
    fn pfadd<E: ToArg>(
        self,
        key: impl ToArg,
        elements: impl IntoIterator<Item = E>,
    ) -> Self::Out<bool> {
        let mut cmd = Cmd::new("PFADD").key(key);
        for element in elements {
            cmd.push_arg(&element);
        }
        self.issue(cmd, TYPED)
    }

    /// [PFCOUNT](https://redis.io/commands/pfcount/): the approximate number
    /// of distinct elements added to `key`; 0 for a missing key.
    fn pfcount(self, key: impl ToArg) -> Self::Out<u64> {
        self.issue(Cmd::new("PFCOUNT").key(key), TYPED)
    }

    /// [PFCOUNT](https://redis.io/commands/pfcount/) of several keys: the
    /// approximate number of distinct elements in their union.
    fn pfcount_many<K: ToArg>(self, keys: impl IntoIterator<Item = K>) -> Self::Out<u64> {
        let mut cmd = Cmd::new("PFCOUNT");
        for key in keys {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }

    /// [PFMERGE](https://redis.io/commands/pfmerge/): stores the union of
    /// `destination` (if it exists) and `sources` at `destination`.
    fn pfmerge<K: ToArg>(
        self,
        destination: impl ToArg,
        sources: impl IntoIterator<Item = K>,
    ) -> Self::Out<()> {
        let mut cmd = Cmd::new("PFMERGE").key(destination);
        for key in sources {
            cmd.push_key(&key);
        }
        self.issue(cmd, TYPED)
    }
}

impl<C: Commands> HyperLogLogCommands for C {}

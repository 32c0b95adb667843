//! Lua scripts sent by their SHA-1, loaded on demand.
//!
//! A [`Script`] hashes its source once. Running it sends `EVALSHA` (the
//! server usually has the script cached, so only 40 bytes travel); on a
//! `NOSCRIPT` reply, after a restart, a failover or a `SCRIPT FLUSH`, it
//! sends `EVAL` with the source, which runs it and caches it again. The
//! caller sees one call. [`CommandFlags::NO_SCRIPT_CACHE`] sends `EVAL`
//! straight away. In a batch or a transaction, where a command cannot be
//! retried on its own, [`Script::eval_cmd`] queues the `EVAL` form.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use crate::cmd::{Cmd, CommandFlags, FromValue, ToArg};
use crate::database::Database;
use crate::error::Result;

/// A Lua script with its SHA-1, reusable and cheap to clone.
///
/// ```no_run
/// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
/// use redmux::Script;
///
/// // Once, e.g. in a `static` or an application state struct.
/// let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
/// let n: i64 = add.run(&db, ["counter"], [5]).await?;
/// # let _ = n;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Script {
    source: Bytes,
    sha: String,
    read_only: bool,
}

impl Script {
    /// A script from its Lua source; the SHA-1 is computed here, once.
    pub fn new(source: impl Into<Bytes>) -> Script {
        let source = source.into();
        let sha = sha1_smol::Sha1::from(&source[..]).digest().to_string();
        Script {
            source,
            sha,
            read_only: false,
        }
    }

    /// The same script run with `EVALSHA_RO`/`EVAL_RO`: the server refuses
    /// writes from it, and (with replicas) it may run on a replica.
    pub fn read_only(mut self) -> Script {
        self.read_only = true;
        self
    }

    /// The SHA-1 of the source, lowercase hex, as `SCRIPT LOAD` returns it.
    pub fn sha1(&self) -> &str {
        &self.sha
    }

    /// The Lua source.
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    /// Runs the script with `keys` (its `KEYS`, which a key prefix applies
    /// to) and `args` (its `ARGV`): `EVALSHA`, then `EVAL` if the server
    /// does not have it cached.
    ///
    /// # Errors
    /// The script's own error (kind `Server`), or as for any call.
    pub async fn run<T, K, A>(
        &self,
        db: &Database,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Result<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.run_with(db, keys, args, None, CommandFlags::NONE)
            .await
    }

    /// As [`run`](Script::run), with a timeout for each attempt and flags
    /// ([`CommandFlags::NO_SCRIPT_CACHE`] sends `EVAL` at once).
    ///
    /// # Errors
    /// As for [`run`](Script::run).
    pub async fn run_with<T, K, A>(
        &self,
        db: &Database,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
        timeout: Option<Duration>,
        flags: CommandFlags,
    ) -> Result<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        // The keys and arguments, encoded once, reused for the fallback.
        let mut tail = Cmd::new("EVAL");
        let mut numkeys = 0usize;
        for key in keys {
            tail.push_key(&key);
            numkeys += 1;
        }
        for arg in args {
            tail.push_arg(&arg);
        }
        let build = |by_sha: bool| {
            let (name, body): (&'static str, &[u8]) = match (by_sha, self.read_only) {
                (true, false) => ("EVALSHA", self.sha.as_bytes()),
                (true, true) => ("EVALSHA_RO", self.sha.as_bytes()),
                (false, false) => ("EVAL", &self.source),
                (false, true) => ("EVAL_RO", &self.source),
            };
            let mut cmd = Cmd::new(name).arg(body).arg(numkeys);
            for (i, arg) in tail.args().into_iter().enumerate() {
                if i < numkeys {
                    cmd.push_key(arg);
                } else {
                    cmd.push_arg(arg);
                }
            }
            cmd
        };
        let send = |cmd: Cmd| {
            let call = db.send::<T>(cmd).flags(flags);
            match timeout {
                Some(t) => call.timeout(t),
                None => call,
            }
        };
        if !flags.contains(CommandFlags::NO_SCRIPT_CACHE) {
            match send(build(true)).await {
                Err(e) if e.server_code() == Some("NOSCRIPT") => {}
                other => return other,
            }
        }
        send(build(false)).await
    }

    /// The `EVAL` (or `EVAL_RO`) command for this script, to queue in a
    /// batch or a transaction (`batch.queue::<T>(script.eval_cmd(..))`),
    /// where a `NOSCRIPT` could not be retried on its own.
    pub fn eval_cmd<K: ToArg, A: ToArg>(
        &self,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Cmd {
        let name = if self.read_only { "EVAL_RO" } else { "EVAL" };
        let keys: Vec<K> = keys.into_iter().collect();
        let mut cmd = Cmd::new(name).arg(&self.source[..]).arg(keys.len());
        for key in &keys {
            cmd.push_key(key);
        }
        for arg in args {
            cmd.push_arg(&arg);
        }
        cmd
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("sha1", &self.sha)
            .field("bytes", &self.source.len())
            .field("read_only", &self.read_only)
            .finish()
    }
}

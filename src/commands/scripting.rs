//! Scripting and functions: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL,
//! FCALL_RO, FUNCTION and SCRIPT.
//!
//! FUNCTION LOAD/DELETE/RESTORE/FLUSH/KILL and SCRIPT FLUSH/KILL are
//! refused without `allowAdmin=true` by the refusal policy, so their typed
//! methods are too.

use bytes::Bytes;

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{array_items, map_pairs};
use crate::commands::{push_args, Commands, FlushMode, ADMIN, TYPED};
use crate::error::{Error, Result};
use crate::resp::Value;

/// Adds `<script> <numkeys> <keys...> <args...>` to `cmd` (EVAL, FCALL, ...).
fn with_keys_and_args<K: ToArg, A: ToArg>(
    cmd: Cmd,
    target: impl ToArg,
    keys: impl IntoIterator<Item = K>,
    args: impl IntoIterator<Item = A>,
) -> Cmd {
    let keys: Vec<K> = keys.into_iter().collect();
    let mut cmd = cmd.arg(target).arg(keys.len());
    for key in &keys {
        cmd.push_key(key);
    }
    push_args(&mut cmd, args);
    cmd
}

/// How [`ScriptingCommands::function_restore_with`] treats libraries that
/// exist already.
///
/// ```
/// use redmux::FunctionRestorePolicy;
/// let policy = FunctionRestorePolicy::Replace;
/// # let _ = policy;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FunctionRestorePolicy {
    /// Delete every existing library first (`FLUSH`).
    Flush,
    /// Add the libraries; fail on a name clash (`APPEND`, Redis's default).
    Append,
    /// Add the libraries, replacing ones of the same name (`REPLACE`).
    Replace,
}

/// Options for [`ScriptingCommands::function_list_with`].
///
/// ```
/// use redmux::FunctionListOptions;
/// let opts = FunctionListOptions::new().library_name("my*").with_code();
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionListOptions {
    library_name: Option<String>,
    with_code: bool,
}

impl FunctionListOptions {
    /// Every library, without code.
    pub fn new() -> FunctionListOptions {
        FunctionListOptions::default()
    }

    /// Only libraries whose name matches the glob `pattern` (`LIBRARYNAME`).
    pub fn library_name(mut self, pattern: impl Into<String>) -> FunctionListOptions {
        self.library_name = Some(pattern.into());
        self
    }

    /// Include each library's source code (`WITHCODE`).
    pub fn with_code(mut self) -> FunctionListOptions {
        self.with_code = true;
        self
    }
}

/// One function of a [`FunctionLibrary`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionInfo {
    /// The function's name.
    pub name: String,
    /// Its description, if the library gave one.
    pub description: Option<String>,
    /// Its flags (`"no-writes"`, `"allow-oom"`, ...).
    pub flags: Vec<String>,
}

/// One library of [FUNCTION LIST](https://redis.io/commands/function-list/).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionLibrary {
    /// The library's name.
    pub name: String,
    /// Its engine (`"LUA"`).
    pub engine: String,
    /// Its functions.
    pub functions: Vec<FunctionInfo>,
    /// Its source code, when listed `WITHCODE`.
    pub code: Option<String>,
}

fn field_name(key: Value, wanted: &'static str) -> Result<String> {
    String::from_value(key).map_err(|_| {
        Error::type_conversion(
            "non-string key",
            wanted,
            Some("field names are strings".into()),
        )
    })
}

impl FromValue for FunctionInfo {
    /// From a RESP3 map or a RESP2 flat array of `name`, `description`, `flags`.
    fn from_value(value: Value) -> Result<FunctionInfo> {
        const WANTED: &str = "FunctionInfo";
        let mut name = None;
        let mut description = None;
        let mut flags = Vec::new();
        for (k, v) in map_pairs(value, WANTED)? {
            match field_name(k, WANTED)?.as_str() {
                "name" => name = Some(String::from_value(v)?),
                "description" => description = Option::<String>::from_value(v)?,
                "flags" => {
                    flags = array_items(v, WANTED)?
                        .into_iter()
                        .map(String::from_value)
                        .collect::<Result<_>>()?
                }
                _ => {}
            }
        }
        let name = name.ok_or_else(|| {
            Error::type_conversion("map", WANTED, Some("no \"name\" field".into()))
        })?;
        Ok(FunctionInfo {
            name,
            description,
            flags,
        })
    }
}

impl FromValue for FunctionLibrary {
    /// From a RESP3 map or a RESP2 flat array of `library_name`, `engine`,
    /// `functions` and, `WITHCODE`, `library_code`.
    fn from_value(value: Value) -> Result<FunctionLibrary> {
        const WANTED: &str = "FunctionLibrary";
        let mut name = None;
        let mut engine = String::new();
        let mut functions = Vec::new();
        let mut code = None;
        for (k, v) in map_pairs(value, WANTED)? {
            match field_name(k, WANTED)?.as_str() {
                "library_name" => name = Some(String::from_value(v)?),
                "engine" => engine = String::from_value(v)?,
                "functions" => {
                    functions = array_items(v, WANTED)?
                        .into_iter()
                        .map(FunctionInfo::from_value)
                        .collect::<Result<_>>()?
                }
                "library_code" => code = Option::<String>::from_value(v)?,
                _ => {}
            }
        }
        let name = name.ok_or_else(|| {
            Error::type_conversion("map", WANTED, Some("no \"library_name\" field".into()))
        })?;
        Ok(FunctionLibrary {
            name,
            engine,
            functions,
            code,
        })
    }
}

/// Scripting and functions.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
/// Keys given to EVAL/FCALL-style methods are keys (prefixed and routed);
/// the other arguments are passed as they are. Methods marked *admin* are
/// refused (kind `AdminRefused`) unless the configuration has
/// `allowAdmin=true`.
pub trait ScriptingCommands: Commands {
    /// [EVAL](https://redis.io/commands/eval/): runs the Lua `script` with
    /// `keys` (`KEYS[i]`) and `args` (`ARGV[i]`); its reply read as `T`
    /// (a Lua `nil`/`false` reads as `None` in an `Option`).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let n: i64 = db
    ///     .eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ["counter"], [5])
    ///     .await?;
    /// # let _ = n;
    /// # Ok(()) }
    /// ```
    fn eval<T, K, A>(
        self,
        script: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.issue(
            with_keys_and_args(Cmd::new("EVAL"), script, keys, args),
            TYPED,
        )
    }

    /// [EVALSHA](https://redis.io/commands/evalsha/): runs the cached
    /// script with SHA1 `sha`; as [`eval`](Self::eval). A server error with
    /// code `NOSCRIPT` if the script is not cached.
    fn evalsha<T, K, A>(
        self,
        sha: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.issue(
            with_keys_and_args(Cmd::new("EVALSHA"), sha, keys, args),
            TYPED,
        )
    }

    /// [EVAL_RO](https://redis.io/commands/eval_ro/): as
    /// [`eval`](Self::eval), for a script that must not write (a server
    /// error if it tries); may run on a replica.
    fn eval_ro<T, K, A>(
        self,
        script: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.issue(
            with_keys_and_args(Cmd::new("EVAL_RO"), script, keys, args),
            TYPED,
        )
    }

    /// [EVALSHA_RO](https://redis.io/commands/evalsha_ro/): as
    /// [`evalsha`](Self::evalsha), for a script that must not write.
    fn evalsha_ro<T, K, A>(
        self,
        sha: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.issue(
            with_keys_and_args(Cmd::new("EVALSHA_RO"), sha, keys, args),
            TYPED,
        )
    }

    /// [FCALL](https://redis.io/commands/fcall/): calls the loaded
    /// `function` with `keys` and `args`; its reply read as `T`.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let v: Option<String> = db.fcall("my_get", ["k"], [""; 0]).await?;
    /// # let _ = v;
    /// # Ok(()) }
    /// ```
    fn fcall<T, K, A>(
        self,
        function: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.issue(
            with_keys_and_args(Cmd::new("FCALL"), function, keys, args),
            TYPED,
        )
    }

    /// [FCALL_RO](https://redis.io/commands/fcall_ro/): as
    /// [`fcall`](Self::fcall), for a function flagged `no-writes`.
    fn fcall_ro<T, K, A>(
        self,
        function: impl ToArg,
        keys: impl IntoIterator<Item = K>,
        args: impl IntoIterator<Item = A>,
    ) -> Self::Out<T>
    where
        T: FromValue,
        K: ToArg,
        A: ToArg,
    {
        self.issue(
            with_keys_and_args(Cmd::new("FCALL_RO"), function, keys, args),
            TYPED,
        )
    }

    /// [FUNCTION LOAD](https://redis.io/commands/function-load/) (*admin*):
    /// loads a library (its code starts `#!lua name=<library>`); the library's
    /// name. A server error if the library exists already.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let code = "#!lua name=mylib\n\
    ///     redis.register_function('my_get', function(keys) return redis.call('GET', keys[1]) end)";
    /// let name = db.function_load(code).await?;
    /// assert_eq!(name, "mylib");
    /// # Ok(()) }
    /// ```
    fn function_load(self, code: impl ToArg) -> Self::Out<String> {
        self.issue(Cmd::new("FUNCTION").arg("LOAD").arg(code), ADMIN)
    }

    /// [FUNCTION LOAD REPLACE](https://redis.io/commands/function-load/)
    /// (*admin*): loads a library, replacing one of the same name; its name.
    fn function_load_replace(self, code: impl ToArg) -> Self::Out<String> {
        let cmd = Cmd::new("FUNCTION").arg("LOAD").arg("REPLACE").arg(code);
        self.issue(cmd, ADMIN)
    }

    /// [FUNCTION LIST](https://redis.io/commands/function-list/): every library, without code.
    fn function_list(self) -> Self::Out<Vec<FunctionLibrary>> {
        self.issue(Cmd::new("FUNCTION").arg("LIST"), TYPED)
    }

    /// [FUNCTION LIST](https://redis.io/commands/function-list/) with
    /// options: the libraries matching a name pattern, with their code.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::FunctionListOptions;
    /// for lib in db.function_list_with(FunctionListOptions::new().library_name("my*").with_code()).await? {
    ///     println!("{} ({} functions): {:?}", lib.name, lib.functions.len(), lib.code);
    /// }
    /// # Ok(()) }
    /// ```
    fn function_list_with(self, options: FunctionListOptions) -> Self::Out<Vec<FunctionLibrary>> {
        let mut cmd = Cmd::new("FUNCTION").arg("LIST");
        if let Some(pattern) = &options.library_name {
            cmd.push_arg("LIBRARYNAME");
            cmd.push_arg(pattern);
        }
        if options.with_code {
            cmd.push_arg("WITHCODE");
        }
        self.issue(cmd, TYPED)
    }

    /// [FUNCTION DELETE](https://redis.io/commands/function-delete/)
    /// (*admin*): deletes a library; a server error if there is none of that name.
    fn function_delete(self, library: impl ToArg) -> Self::Out<()> {
        self.issue(Cmd::new("FUNCTION").arg("DELETE").arg(library), ADMIN)
    }

    /// [FUNCTION DUMP](https://redis.io/commands/function-dump/): every
    /// library, serialized for [`function_restore`](Self::function_restore).
    fn function_dump(self) -> Self::Out<Bytes> {
        self.issue(Cmd::new("FUNCTION").arg("DUMP"), TYPED)
    }

    /// [FUNCTION RESTORE](https://redis.io/commands/function-restore/)
    /// (*admin*): loads the libraries of a [`function_dump`](Self::function_dump)
    /// payload (`APPEND`: a server error if a name clashes).
    fn function_restore(self, payload: impl ToArg) -> Self::Out<()> {
        self.issue(Cmd::new("FUNCTION").arg("RESTORE").arg(payload), ADMIN)
    }

    /// [FUNCTION RESTORE](https://redis.io/commands/function-restore/)
    /// (*admin*) with a policy for existing libraries.
    fn function_restore_with(
        self,
        payload: impl ToArg,
        policy: FunctionRestorePolicy,
    ) -> Self::Out<()> {
        let policy = match policy {
            FunctionRestorePolicy::Flush => "FLUSH",
            FunctionRestorePolicy::Append => "APPEND",
            FunctionRestorePolicy::Replace => "REPLACE",
        };
        let cmd = Cmd::new("FUNCTION").arg("RESTORE").arg(payload).arg(policy);
        self.issue(cmd, ADMIN)
    }

    /// [FUNCTION FLUSH](https://redis.io/commands/function-flush/) (*admin*): deletes every library.
    fn function_flush(self) -> Self::Out<()> {
        self.issue(Cmd::new("FUNCTION").arg("FLUSH"), ADMIN)
    }

    /// [FUNCTION FLUSH](https://redis.io/commands/function-flush/) (*admin*) in the given mode.
    fn function_flush_with(self, mode: FlushMode) -> Self::Out<()> {
        self.issue(Cmd::new("FUNCTION").arg("FLUSH").arg(mode.word()), ADMIN)
    }

    /// [FUNCTION KILL](https://redis.io/commands/function-kill/) (*admin*):
    /// stops the running read-only function, whoever called it; a server
    /// error with code `NOTBUSY` if none runs.
    fn function_kill(self) -> Self::Out<()> {
        self.issue(Cmd::new("FUNCTION").arg("KILL"), ADMIN)
    }

    /// [FUNCTION STATS](https://redis.io/commands/function-stats/): the
    /// running function (if any) and per-engine counts, as the raw reply (a
    /// map: `running_script`, `engines`).
    fn function_stats(self) -> Self::Out<Value> {
        self.issue(Cmd::new("FUNCTION").arg("STATS"), TYPED)
    }

    /// [SCRIPT EXISTS](https://redis.io/commands/script-exists/): whether
    /// each SHA1 is in the script cache, in order.
    fn script_exists<S: ToArg>(self, shas: impl IntoIterator<Item = S>) -> Self::Out<Vec<bool>> {
        let mut cmd = Cmd::new("SCRIPT").arg("EXISTS");
        push_args(&mut cmd, shas);
        self.issue(cmd, TYPED)
    }

    /// [SCRIPT LOAD](https://redis.io/commands/script-load/): caches
    /// `script` without running it; its SHA1 (40 hex digits) for
    /// [`evalsha`](Self::evalsha).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// let sha = db.script_load("return ARGV[1]").await?;
    /// let v: String = db.evalsha(&sha, [""; 0], ["hi"]).await?;
    /// # Ok(()) }
    /// ```
    fn script_load(self, script: impl ToArg) -> Self::Out<String> {
        self.issue(Cmd::new("SCRIPT").arg("LOAD").arg(script), TYPED)
    }

    /// [SCRIPT FLUSH](https://redis.io/commands/script-flush/) (*admin*): empties the script cache.
    fn script_flush(self) -> Self::Out<()> {
        self.issue(Cmd::new("SCRIPT").arg("FLUSH"), ADMIN)
    }

    /// [SCRIPT FLUSH](https://redis.io/commands/script-flush/) (*admin*) in the given mode.
    fn script_flush_with(self, mode: FlushMode) -> Self::Out<()> {
        self.issue(Cmd::new("SCRIPT").arg("FLUSH").arg(mode.word()), ADMIN)
    }

    /// [SCRIPT KILL](https://redis.io/commands/script-kill/) (*admin*):
    /// stops the running read-only script, whoever called it; a server
    /// error with code `NOTBUSY` if none runs.
    fn script_kill(self) -> Self::Out<()> {
        self.issue(Cmd::new("SCRIPT").arg("KILL"), ADMIN)
    }
}

impl<C: Commands> ScriptingCommands for C {}

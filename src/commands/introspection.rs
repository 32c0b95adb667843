//! What redmux knows of a command: its table entry and the keys of a
//! concrete command line, for commands the static table lacks too.
//!
//! Both go through the process-wide registry (`table::registry`): the
//! static table answers at once; a name it lacks (a module's command, one
//! added by a newer server) is asked of the server once with
//! `COMMAND INFO <name>` and remembered, so a newer Redis works without a
//! new release of redmux.

use crate::cmd::Cmd;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::table::registry::REGISTRY;
use crate::table::{CommandInfo, KeyError, KeySearch, Keys};

impl Database {
    /// The table entry of command `name` (`"CLIENT|LIST"` for a
    /// subcommand): from the static table, or, for a name it lacks, from the
    /// server's [COMMAND INFO](https://redis.io/commands/command-info/),
    /// asked once and remembered.
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::table::Flags;
    /// let info = db.command_info("json.set").await?; // a module's command
    /// println!("{} writes: {}", info.name(), info.flags().contains(Flags::WRITE));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Kind `Server` (not executed) if the server does not know the command
    /// either; otherwise the error of the `COMMAND INFO` call.
    pub async fn command_info(&self, name: &str) -> Result<CommandInfo> {
        Ok((*REGISTRY.resolve(self, name).await?).clone())
    }

    /// The keys of `cmd` (argument positions and byte ranges in
    /// `cmd.clone().into_bytes()`), found with the server's key specs; a
    /// command the static table lacks is described by the server first (see
    /// [`command_info`](Database::command_info)).
    ///
    /// ```no_run
    /// # use redmux::prelude::*;
    /// # async fn demo(db: redmux::Database) -> redmux::Result<()> {
    /// use redmux::Cmd;
    /// let cmd = Cmd::new("ZUNIONSTORE").key("dst").arg(2).key("a").key("b");
    /// let keys = db.keys_of(&cmd).await?;
    /// assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 3, 4]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Kind `Refused` if the arguments do not fit the command's key specs
    /// (the message names the [`KeyError`]); as for `command_info` when
    /// neither the table nor the server knows the command.
    pub async fn keys_of(&self, cmd: &Cmd) -> Result<Keys> {
        let encoded = cmd.clone().into_bytes();
        match KeySearch::new().in_encoded(&encoded) {
            Err(KeyError::UnknownCommand { name }) => {
                let info = REGISTRY.resolve(self, &name).await?;
                KeySearch::new()
                    .with_command(&info)
                    .in_encoded(&encoded)
                    .map_err(|e| key_error(cmd, e))
            }
            other => other.map_err(|e| key_error(cmd, e)),
        }
    }
}

fn key_error(cmd: &Cmd, e: KeyError) -> Error {
    Error::refused(format!(
        "{}: cannot tell which arguments are keys: {e}",
        cmd.name().to_ascii_uppercase()
    ))
}

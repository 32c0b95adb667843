//! Connection and server commands: PING, ECHO.

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::commands::{Commands, TYPED};

/// Connection and server commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait ServerCommands: Commands {
    /// [PING](https://redis.io/commands/ping/): `"PONG"`; a round trip through the shared connection.
    fn ping(self) -> Self::Out<String> {
        self.issue(Cmd::new("PING"), TYPED)
    }

    /// [ECHO](https://redis.io/commands/echo/): the message back.
    fn echo<T: FromValue>(self, message: impl ToArg) -> Self::Out<T> {
        self.issue(Cmd::new("ECHO").arg(message), TYPED)
    }
}

impl<C: Commands> ServerCommands for C {}

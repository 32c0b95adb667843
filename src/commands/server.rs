//! Connection and server commands: PING, ECHO.

use crate::cmd::{Cmd, FromValue, ToArg};
use crate::database::{Call, Database};

impl Database {
    /// [PING](https://redis.io/commands/ping/): `"PONG"`; a round trip through the shared connection.
    pub fn ping(&self) -> Call<'_, String> {
        self.call(Cmd::new("PING"))
    }

    /// [ECHO](https://redis.io/commands/echo/): the message back.
    pub fn echo<T: FromValue>(&self, message: impl ToArg) -> Call<'_, T> {
        self.call(Cmd::new("ECHO").arg(message))
    }
}

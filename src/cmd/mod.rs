//! Commands on their way out and replies on their way back, on the caller's task.
//!
//! A typed method (or [`Database::execute`](crate::Database::execute)) builds a
//! [`Cmd`]: its bytes are encoded here, on the caller's task, so the driver
//! only copies them into the socket buffer. [`policy`] refuses commands that
//! would stall or change the shared connection before anything is queued.
//! When the reply comes back, [`FromValue`] turns it into the caller's type,
//! again on the caller's task.

mod arg;
mod command;
mod flags;
mod from_value;
pub(crate) mod policy;

pub use arg::ToArg;
pub use command::Cmd;
pub use flags::{CommandFlags, ReplicaPreference};
pub(crate) use from_value::pair_up;
pub use from_value::FromValue;

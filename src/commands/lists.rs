//! List commands (the non-blocking ones).

use crate::commands::Commands;

/// List commands (the non-blocking ones).
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait ListCommands: Commands {}

impl<C: Commands> ListCommands for C {}

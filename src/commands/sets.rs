//! Set commands.

use crate::commands::Commands;

/// Set commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait SetCommands: Commands {}

impl<C: Commands> SetCommands for C {}

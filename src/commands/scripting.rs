//! Scripting and functions.

use crate::commands::Commands;

/// Scripting and functions.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait ScriptingCommands: Commands {}

impl<C: Commands> ScriptingCommands for C {}

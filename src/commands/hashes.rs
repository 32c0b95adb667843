//! Hash commands.

use crate::commands::Commands;

/// Hash commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait HashCommands: Commands {}

impl<C: Commands> HashCommands for C {}

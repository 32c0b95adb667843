//! Sorted-set commands.

use crate::commands::Commands;

/// Sorted-set commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait SortedSetCommands: Commands {}

impl<C: Commands> SortedSetCommands for C {}

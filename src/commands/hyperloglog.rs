//! HyperLogLog commands.

use crate::commands::Commands;

/// HyperLogLog commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait HyperLogLogCommands: Commands {}

impl<C: Commands> HyperLogLogCommands for C {}

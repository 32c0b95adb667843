//! Stream commands (XREAD/XREADGROUP without BLOCK).

use crate::commands::Commands;

/// Stream commands (XREAD/XREADGROUP without BLOCK).
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait StreamCommands: Commands {}

impl<C: Commands> StreamCommands for C {}

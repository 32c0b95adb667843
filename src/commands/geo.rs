//! Geo commands.

use crate::commands::Commands;

/// Geo commands.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait GeoCommands: Commands {}

impl<C: Commands> GeoCommands for C {}

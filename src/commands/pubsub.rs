//! Pub/sub publishing and introspection.

use crate::commands::Commands;

/// Pub/sub publishing and introspection.
///
/// Available on `&Database`, `&mut Batch` and `&mut Transaction` (see
/// [`Commands`]); bring it into scope with `use redmux::prelude::*`.
pub trait PubSubCommands: Commands {}

impl<C: Commands> PubSubCommands for C {}

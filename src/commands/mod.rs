//! Typed commands, one file per family. Each method builds a [`Cmd`](crate::Cmd)
//! and returns a [`Call`](crate::Call); nothing is sent until it is awaited
//! or fired. Methods link their Redis documentation page.

mod introspection;
mod keys;
mod scan;
mod server;
mod strings;

pub use scan::{KeyType, Scan, ScanOptions};
pub use strings::SetOptions;

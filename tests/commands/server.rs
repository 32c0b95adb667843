//! server commands: see main.rs.

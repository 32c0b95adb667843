//! keys commands: see main.rs.

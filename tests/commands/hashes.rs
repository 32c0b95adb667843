//! hashes commands: see main.rs.

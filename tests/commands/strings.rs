//! strings commands: see main.rs.

//! sets commands: see main.rs.

//! streams commands: see main.rs.

//! hyperloglog commands: see main.rs.

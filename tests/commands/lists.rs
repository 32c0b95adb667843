//! lists commands: see main.rs.

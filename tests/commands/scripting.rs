//! scripting commands: see main.rs.

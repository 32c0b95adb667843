//! sorted_sets commands: see main.rs.

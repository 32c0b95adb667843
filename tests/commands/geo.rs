//! geo commands: see main.rs.

//! pubsub commands: see main.rs.

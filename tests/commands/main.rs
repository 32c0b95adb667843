//! The typed command families against a real redis-server: one module per
//! family, each exercising its commands (including WRONGTYPE and nil cases)
//! under RESP2 and RESP3. One test binary, so the suite links once.

#[path = "../support/mod.rs"]
mod support;

mod geo;
mod hashes;
mod hyperloglog;
mod keys;
mod lists;
mod pubsub;
mod scripting;
mod server;
mod sets;
mod sorted_sets;
mod streams;
mod strings;

use redmux::Multiplexer;
use support::RedisServer;

/// A server and a multiplexer speaking `protocol` (`"resp2"` or `"resp3"`).
pub async fn connect(protocol: &str) -> (RedisServer, Multiplexer) {
    let server = RedisServer::start();
    let mux = server.connect(&format!(",protocol={protocol}")).await;
    (server, mux)
}

/// As [`connect`], with admin commands allowed.
pub async fn connect_admin(protocol: &str) -> (RedisServer, Multiplexer) {
    let server = RedisServer::start();
    let mux = server
        .connect(&format!(",protocol={protocol},allowAdmin=true"))
        .await;
    (server, mux)
}

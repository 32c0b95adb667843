//! What a service sees of its connections: events through `mux.events()`
//! and the same events through `tracing`, each naming its endpoint and
//! never a password; `stats()` totals and the per-endpoint breakdown.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redmux::prelude::*;
use redmux::{ConnectionEvent, Multiplexer};
use support::RedisServer;

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// A current-thread runtime: the driver runs on this thread, where the
// subscriber below is the default.
#[tokio::test]
async fn connection_events_reach_listeners_and_tracing_without_the_password() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = RedisServer::start();
    let acl = [
        "ACL",
        "SETUSER",
        "app",
        "on",
        ">hunter2-secret",
        "~*",
        "+@all",
    ];
    assert_eq!(server.command(&acl).trim(), "+OK");
    let mux = Multiplexer::connect(format!(
        "{},user=app,password=hunter2-secret",
        server.addr()
    ))
    .await
    .unwrap();
    let mut events = mux.events();
    let db = mux.database(0);
    db.set("k", "v").await.unwrap();

    // The server drops the connection; the driver reconnects.
    assert!(server
        .command(&["CLIENT", "KILL", "USER", "app"])
        .starts_with(':'));
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(event) = events.recv().await {
            let restored = matches!(event, ConnectionEvent::Restored { .. });
            seen.push(event);
            if restored {
                break;
            }
        }
    })
    .await
    .expect("the connection was restored");
    assert_eq!(db.get::<String>("k").await.unwrap(), "v");

    // The listener saw the whole story, each event naming the endpoint.
    assert!(
        matches!(seen.first(), Some(ConnectionEvent::Connected { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, ConnectionEvent::Failed { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|e| e.endpoint() == server.addr()),
        "{seen:?}"
    );

    // tracing got the same, with the endpoint, and never the password.
    let log = captured.text();
    for needle in [
        "connected",
        "connection failed",
        "connection restored",
        server.addr().as_str(),
    ] {
        assert!(
            log.contains(needle),
            "{needle:?} missing from the tracing output:\n{log}"
        );
    }
    assert!(
        !log.contains("hunter2"),
        "the password reached tracing:\n{log}"
    );

    // Totals and the per-endpoint breakdown agree for one connection.
    let total = mux.stats();
    let by_endpoint = mux.stats_by_endpoint();
    assert_eq!(by_endpoint.len(), 1);
    assert_eq!(by_endpoint[0].0.to_string(), server.addr());
    assert_eq!(by_endpoint[0].1.commands_written, total.commands_written);
    assert!(total.disconnects >= 1 && total.reconnects >= 1, "{total:?}");
}

//! Dedicated connections against a real redis-server: blocking commands
//! work there and never on the shared connection; a client-side timeout
//! discards the connection (a BLPOP still armed would eat the next push);
//! a hand-written WATCH/MULTI/EXEC; SELECT; the pool's bound and reuse.

mod support;

use std::time::Duration;

use redmux::prelude::*;
use redmux::{ErrorKind, ListEnd, Value};
use support::RedisServer;

/// The server-side id of a dedicated connection.
async fn client_id(conn: &mut redmux::Dedicated) -> i64 {
    conn.execute("CLIENT", ["ID"]).await.unwrap()
}

#[tokio::test]
async fn blpop_works_on_a_dedicated_connection_and_never_on_the_shared_one() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);

    let e = db
        .execute::<Value, _, _>("BLPOP", ["jobs", "1"])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    let text = e.to_string();
    assert!(
        text.contains("mux.dedicated()") && text.contains("WorkQueue"),
        "{text}"
    );

    let mut conn = mux.dedicated().await.unwrap();
    let waiter = tokio::spawn(async move {
        let got: Option<(String, String)> =
            conn.blpop(["jobs"], Duration::from_secs(5)).await.unwrap();
        (got, conn)
    });
    // The shared connection keeps serving while the dedicated one blocks.
    wait_for_blocked(&server, 1).await;
    assert_eq!(db.incr("other-work").await.unwrap(), 1);
    db.rpush("jobs", "job-1").await.unwrap();
    let (got, mut conn) = waiter.await.unwrap();
    assert_eq!(got, Some(("jobs".to_string(), "job-1".to_string())));

    // The other blocking commands.
    db.rpush("src", "a").await.unwrap();
    let moved: Option<String> = conn
        .blmove(
            "src",
            "dst",
            ListEnd::Left,
            ListEnd::Right,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(moved.as_deref(), Some("a"));
    db.zadd("z", 1.0, "low").await.unwrap();
    let popped: Option<(String, String, f64)> =
        conn.bzpopmin(["z"], Duration::from_secs(1)).await.unwrap();
    assert_eq!(popped, Some(("z".into(), "low".into(), 1.0)));
    let none: Option<(String, String)> = conn
        .brpop(["empty"], Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(none, None, "a server-side timeout is an empty answer");
    assert_eq!(conn.wait(0, Duration::from_millis(10)).await.unwrap(), 0);
    db.xadd("events", [("k", "v")]).await.unwrap();
    let read: Vec<redmux::StreamKeyEntries> = conn
        .xread_block([("events", "0")], Some(10), Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert!(conn.is_usable());
}

#[tokio::test]
async fn a_client_side_timeout_discards_the_connection_so_no_push_is_lost() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let mut conn = mux.dedicated().await.unwrap();
    // BLPOP forever on the server, but only 200 ms of patience here.
    let e = conn
        .send_with_timeout::<Value>(
            redmux::Cmd::new("BLPOP").key("q").arg(0),
            Some(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("dedicated"), "{e}");
    assert!(!conn.is_usable());
    let again = conn.get::<Option<String>>("q").await.unwrap_err();
    assert!(again.to_string().contains("lease a new one"), "{again}");
    drop(conn);
    // The connection is closed, so the server unblocked it: a push now
    // stays in the list instead of going to a BLPOP nobody reads.
    wait_for_blocked(&server, 0).await;
    db.rpush("q", "precious").await.unwrap();
    assert_eq!(db.llen("q").await.unwrap(), 1);
}

/// Waits until the server counts `n` blocked clients.
async fn wait_for_blocked(server: &RedisServer, n: u64) {
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while server.info_field("clients", "blocked_clients") != n {
        assert!(
            std::time::Instant::now() < until,
            "expected {n} blocked clients"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_call_cancelled_by_the_caller_takes_its_connection_with_it() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let mut conn = mux.dedicated().await.unwrap();
    let first_id = client_id(&mut conn).await;
    // The caller's own timeout drops the BLPOP future while it is armed.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(100),
        conn.blpop::<Value>(["cq"], Duration::from_secs(30)),
    )
    .await;
    assert!(cancelled.is_err(), "the caller's timeout fired");
    assert!(
        !conn.is_usable(),
        "a call without its reply leaves the connection unusable"
    );
    let e = conn.get::<Option<String>>("cq").await.unwrap_err();
    assert!(e.to_string().contains("cancelled"), "{e}");
    drop(conn);
    wait_for_blocked(&server, 0).await;
    db.rpush("cq", "kept").await.unwrap();
    assert_eq!(db.llen("cq").await.unwrap(), 1, "no armed BLPOP took it");
    let mut next = mux.dedicated().await.unwrap();
    assert_ne!(client_id(&mut next).await, first_id, "not handed out again");
}

#[tokio::test]
async fn exec_without_multi_keeps_the_watch_so_the_connection_is_not_reused() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let mut conn = mux.dedicated().await.unwrap();
    let first_id = client_id(&mut conn).await;
    conn.execute::<()>("WATCH", ["w"]).await.unwrap();
    let e = conn.execute::<Value>("EXEC", [""; 0]).await.unwrap_err();
    assert!(e.is_server_error(), "{e}");
    drop(conn);
    let mut next = mux.dedicated().await.unwrap();
    assert_ne!(
        client_id(&mut next).await,
        first_id,
        "a connection with a live WATCH is not reused"
    );
}

#[tokio::test]
async fn watch_multi_exec_by_hand_and_select_run_on_a_dedicated_connection() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    db.set("balance", 10).await.unwrap();

    let mut conn = mux.dedicated().await.unwrap();
    let first_id = client_id(&mut conn).await;
    conn.execute::<()>("WATCH", ["balance"]).await.unwrap();
    let balance: i64 = conn.get("balance").await.unwrap();
    db.incr("balance").await.unwrap(); // someone else changes it
    conn.execute::<()>("MULTI", [""; 0]).await.unwrap();
    let queued: String = conn
        .execute("SET", ["balance".to_string(), (balance + 5).to_string()])
        .await
        .unwrap();
    assert_eq!(queued, "QUEUED");
    let exec: Value = conn.execute::<Value>("EXEC", [""; 0]).await.unwrap();
    assert_eq!(exec, Value::Nil, "the WATCH saw the change: nothing ran");
    assert_eq!(db.get::<i64>("balance").await.unwrap(), 11);

    // SELECT is allowed here; the connection is then not reused.
    conn.execute::<()>("SELECT", ["3"]).await.unwrap();
    conn.set("in-db-3", 1).await.unwrap();
    assert_eq!(mux.database(3).get::<i64>("in-db-3").await.unwrap(), 1);
    drop(conn);
    let mut next = mux.dedicated().await.unwrap();
    assert_ne!(
        client_id(&mut next).await,
        first_id,
        "a SELECTed connection is not handed out again"
    );
    assert_eq!(
        next.get::<Option<i64>>("in-db-3").await.unwrap(),
        None,
        "back in database 0"
    );
}

#[tokio::test]
async fn a_clean_connection_is_reused_and_the_pool_is_bounded() {
    let server = RedisServer::start();
    let mux = server.connect(",maxDedicated=2,connectTimeout=1000").await;
    let mut a = mux.dedicated().await.unwrap();
    let id = client_id(&mut a).await;
    drop(a);
    let mut a = mux.dedicated().await.unwrap();
    assert_eq!(
        client_id(&mut a).await,
        id,
        "a clean connection comes back from the pool"
    );
    let b = mux.dedicated().await.unwrap();
    let e = mux.dedicated().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PoolExhausted);
    assert!(e.to_string().contains("maxDedicated"), "{e}");
    drop(b);
    let mut c = mux.dedicated().await.unwrap();
    c.set("k", "v").await.unwrap();
    let off = server.connect(",maxDedicated=0").await;
    assert_eq!(
        off.dedicated().await.unwrap_err().kind(),
        ErrorKind::PoolExhausted
    );
}

#[tokio::test]
async fn an_idle_connection_closed_by_a_restart_is_replaced_on_lease() {
    let mut server = RedisServer::start();
    let mux = server.connect(",abortConnect=false").await;
    let mut conn = mux.dedicated().await.unwrap();
    conn.set("k", 1).await.unwrap();
    drop(conn);
    server.restart();
    // No pause: the reused connection's PING finds it closed.
    let mut conn = mux.dedicated().await.unwrap();
    conn.set("k", 2).await.unwrap();
    assert_eq!(conn.get::<i64>("k").await.unwrap(), 2);
}

#[tokio::test]
async fn admin_commands_still_need_allow_admin_on_a_dedicated_connection() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let mut conn = mux.dedicated().await.unwrap();
    let e = conn.execute::<()>("FLUSHALL", [""; 0]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AdminRefused);
    assert!(conn.is_usable(), "a refusal sends nothing");
}

#[tokio::test]
async fn subscribe_and_monitor_are_refused_on_a_dedicated_connection() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp3").await;
    let mut conn = mux.dedicated().await.unwrap();
    for name in ["SUBSCRIBE", "psubscribe", "MONITOR"] {
        let e = conn.execute::<Value>(name, ["c"]).await.unwrap_err();
        assert!(
            e.is_refused() && e.to_string().contains("mux.subscriber()"),
            "{e}"
        );
    }
    assert!(conn.is_usable());
}

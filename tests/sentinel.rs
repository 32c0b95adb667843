//! A standalone primary with replicas, listed in the configuration or
//! found by Sentinel: replica reads land on replicas, writes never do, and
//! a Sentinel failover under load ends with writes on the new primary.
//!
//! The Sentinel tests run a primary, a replica and three sentinels
//! (`redis-server --sentinel`) on loopback ports (see
//! `support::RedisSentinels`).

mod support;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{CommandFlags, ConnectionEvent, Multiplexer};
use support::{assert_replica_reads, RedisSentinels, RedisServer};

/// Waits until `replica` has caught up with `keys` keys in db 0.
async fn replicated(replica: &RedisServer, keys: u64) {
    let until = Instant::now() + Duration::from_secs(10);
    while !replica
        .command(&["INFO", "keyspace"])
        .contains(&format!("db0:keys={keys},"))
    {
        assert!(Instant::now() < until, "the replica caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_listed_after_the_primary_serve_replica_reads() {
    let primary = RedisServer::start();
    let replica = RedisServer::start_with(&[
        "--replicaof",
        "127.0.0.1",
        &primary.port.to_string(),
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mux = Multiplexer::connect(format!("{},{}", primary.addr(), replica.addr()).as_str())
        .await
        .unwrap();
    let db = mux.database(0);
    db.set("r:k", "v").await.unwrap();
    replicated(&replica, 1).await;
    // The replica's connection is made on the first read that wants it;
    // a demanded read waits for it.
    assert_replica_reads(&db, "r:k", &primary, &replica).await;
    assert!(
        mux.stats_by_endpoint()
            .iter()
            .any(|(e, _)| e.port() == Some(replica.port)),
        "the replica's connection is counted"
    );

    // Only a primary: a demanded replica is refused, a preferred one is the primary.
    let alone = primary.connect("").await;
    let e = alone
        .database(0)
        .get::<String>("r:k")
        .flags(CommandFlags::DEMAND_REPLICA)
        .await
        .unwrap_err();
    assert!(
        e.is_refused() && e.to_string().contains("no replica"),
        "{e}"
    );
    let v: String = alone
        .database(0)
        .get("r:k")
        .flags(CommandFlags::PREFER_REPLICA)
        .await
        .unwrap();
    assert_eq!(v, "w");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentinels_name_the_primary_and_its_replicas() {
    let set = RedisSentinels::start();
    let mux = Multiplexer::connect(format!("{},serviceName=svc", set.endpoints()).as_str())
        .await
        .unwrap();
    let db = mux.database(0);
    db.set("r:k", "v").await.unwrap();
    assert_eq!(
        set.primary.command(&["GET", "r:k"]),
        "v",
        "the write went to the primary"
    );
    replicated(&set.replica, 1).await;
    assert_replica_reads(&db, "r:k", &set.primary, &set.replica).await;
    assert_eq!(
        mux.stats_by_endpoint()[0].0.port(),
        Some(set.primary.port),
        "the primary's connection comes first"
    );

    // A service the sentinels do not know fails clearly at connect.
    let e = Multiplexer::connect(format!("{},serviceName=nope", set.endpoints()).as_str())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("no service named 'nope'") && e.to_string().contains("serviceName"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_under_load_moves_writes_to_the_new_primary() {
    let mut set = RedisSentinels::start();
    let mux = Multiplexer::connect(
        format!("{},serviceName=svc,syncTimeout=3000", set.endpoints()).as_str(),
    )
    .await
    .unwrap();
    let mut events = mux.events();
    // A subscription, and a dedicated connection back in the pool, both
    // on the old primary.
    let mut news = mux.subscriber().subscribe(["news"]).await.unwrap();
    drop(mux.dedicated().await.unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let (db, stop) = (mux.database(0), stop.clone());
            tokio::spawn(async move {
                let (mut acknowledged, mut failed, mut unknown) = (0u64, 0u64, 0u64);
                let mut slowest = Duration::ZERO;
                let key = format!("fo:{t}");
                while !stop.load(Relaxed) {
                    let started = Instant::now();
                    match db.incr(&key).await {
                        Ok(_) => acknowledged += 1,
                        Err(e) if e.may_have_run() => unknown += 1,
                        Err(e) => {
                            assert!(
                                e.to_string().contains("INCR"),
                                "the error names the command: {e}"
                            );
                            failed += 1
                        }
                    }
                    slowest = slowest.max(started.elapsed());
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (key, acknowledged, failed, unknown, slowest)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reply = set.sentinels[0].command(&["SENTINEL", "FAILOVER", "svc"]);
    assert!(reply.starts_with("+OK"), "SENTINEL FAILOVER: {reply}");
    let until = Instant::now() + Duration::from_secs(30);
    while set.primary_port() != set.replica.port {
        assert!(Instant::now() < until, "the sentinels promoted the replica");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The client follows: a write lands on the new primary.
    let db = mux.database(0);
    let until = Instant::now() + Duration::from_secs(30);
    for n in 0u64.. {
        let _ = db.set("after", n).await;
        if set.replica.command(&["GET", "after"]) == n.to_string() {
            break;
        }
        assert!(Instant::now() < until, "writes reached the new primary");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Relaxed);
    let mut total = 0;
    for writer in writers {
        let (key, acknowledged, failed, unknown, slowest) = writer.await.unwrap();
        // Replication is asynchronous: writes the old primary took after
        // the promotion are lost with it, but none appears from nowhere.
        let on_new: u64 = set.replica.command(&["GET", &key]).parse().unwrap_or(0);
        assert!(
            on_new <= acknowledged + unknown,
            "{key}: new primary {on_new}, acknowledged {acknowledged}, unknown {unknown}, failed {failed}"
        );
        assert!(
            slowest < Duration::from_millis(3000 + 1500),
            "{key}: a call took {slowest:?}"
        );
        total += acknowledged;
    }
    assert!(total > 0, "the writers ran");
    let mut moved = None;
    while let Some(event) = events.try_recv() {
        if let ConnectionEvent::PrimaryChanged { endpoint, from, .. } = event {
            moved = Some((endpoint, from));
        }
    }
    assert_eq!(
        moved,
        Some((set.replica.addr(), set.primary.addr())),
        "a PrimaryChanged event names both"
    );
    assert_eq!(mux.stats_by_endpoint()[0].0.port(), Some(set.replica.port));

    // A dedicated connection leased now is on the new primary (the idle
    // one to the old primary is not handed out).
    let mut conn = mux.dedicated().await.unwrap();
    let role: Vec<redmux::Value> = conn.execute("ROLE", Vec::<String>::new()).await.unwrap();
    assert_eq!(
        role.first(),
        Some(&redmux::Value::BulkString("master".into())),
        "{role:?}"
    );
    drop(conn);
    // The old primary goes away: the subscriber reconnects to the new one
    // and its subscription goes on there.
    set.primary.kill();
    let item = tokio::time::timeout(Duration::from_secs(20), news.recv())
        .await
        .expect("the subscriber reconnects")
        .unwrap();
    assert!(
        matches!(item, redmux::Delivery::Gap(redmux::Gap::Reconnected { .. })),
        "{item:?}"
    );
    let until = Instant::now() + Duration::from_secs(10);
    while db.publish("news", "after").await.unwrap() == 0 {
        assert!(
            Instant::now() < until,
            "the subscriber is on the new primary"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(news.next_message().await.unwrap().payload_str(), "after");
    assert!(
        mux.subscriber().stats().connected,
        "connected to the new primary"
    );
}

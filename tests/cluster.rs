//! Redis Cluster against a real 6-node cluster (3 primaries, 3 replicas)
//! the tests build on loopback ports: routing by slot and hash tag,
//! cross-slot refusal, MOVED and ASK followed (also under load during a
//! live slot migration), NO_REDIRECT.
//!
//! One cluster per test: each migrates slots, and a fresh cluster takes
//! about a second to build.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use redmux::prelude::*;
use redmux::{CommandFlags, ErrorKind, Multiplexer};
use support::RedisCluster;

async fn connect(cluster: &RedisCluster) -> Multiplexer {
    let mux = Multiplexer::connect(cluster.seed().as_str()).await.unwrap();
    let stats = mux.cluster_stats().expect("cluster mode detected");
    assert_eq!((stats.primaries, stats.slots_covered), (3, 16_384));
    mux
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_go_to_the_primary_of_their_slot() {
    let cluster = RedisCluster::start(3, 1);
    let mux = connect(&cluster).await;
    let db = mux.database(0);
    let sets: Vec<_> = (0..1000).map(|i| db.set(format!("key:{i}"), i)).collect();
    for set in sets {
        set.await.unwrap();
    }
    for i in 0..1000 {
        assert_eq!(db.get::<i64>(format!("key:{i}")).await.unwrap(), i);
    }
    // Spread over every primary, each key where the server says it belongs.
    let mut total = 0;
    for node in &cluster.nodes[..3] {
        let size: u64 = node
            .command(&["DBSIZE"])
            .trim()
            .trim_start_matches(':')
            .parse()
            .unwrap();
        assert!(size > 200, "a primary holds a third of the keys ({size})");
        total += size;
    }
    assert_eq!(total, 1000);
    for i in [0, 17, 999] {
        let key = format!("key:{i}");
        let owner = cluster.owner_of(cluster.slot_of(&key));
        assert_eq!(owner.command(&["GET", &key]), i.to_string());
        assert_eq!(
            redmux::cluster::key_slot(key.as_bytes()),
            cluster.slot_of(&key)
        );
    }
    // Hash tags keep related keys together; a command whose keys span
    // slots and that cannot be split is refused before anything is sent.
    db.set("{user:1}:name", "ann").await.unwrap();
    let both: Vec<Option<String>> = db.mget(["{user:1}:name", "{user:1}:city"]).await.unwrap();
    assert_eq!(both, [Some("ann".to_string()), None]);
    // (MGET and the like are split instead: see below.)
    let e = db.rename("a", "b").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused);
    assert!(
        e.to_string().contains("CROSSSLOT") && e.to_string().contains("RENAME"),
        "{e}"
    );
    assert_eq!(
        mux.cluster_stats().unwrap().moved,
        0,
        "the map was right from the start"
    );
    assert_eq!(
        mux.stats_by_endpoint().len(),
        3,
        "one connection per primary"
    );
    // A timeout names the node the command waited on and its connection.
    let owner = cluster.owner_of(cluster.slot_of("slow"));
    owner.command(&["CLIENT", "PAUSE", "600", "WRITE"]);
    let e = db
        .set("slow", 1)
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let state = e
        .connection_state()
        .expect("a timeout carries the connection's state");
    assert_eq!(state.endpoint, owner.addr(), "{e}");
    assert!(state.connected && state.in_flight >= 1, "{e}");
    assert!(e.to_string().contains(&owner.addr()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_key_commands_across_slots_are_split_and_merged_in_order() {
    let cluster = RedisCluster::start(3, 1);
    let mux = connect(&cluster).await;
    let db = mux.database(0);
    let keys: Vec<String> = (0..100).map(|i| format!("split:{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    db.mset(pairs.clone()).await.unwrap();
    let slots: std::collections::HashSet<u16> = keys.iter().map(|k| cluster.slot_of(k)).collect();
    assert!(
        slots.len() > 50,
        "the keys span many slots ({})",
        slots.len()
    );
    // Every key is on the primary of its own slot.
    for key in &keys[..5] {
        assert_eq!(
            cluster
                .owner_of(cluster.slot_of(key))
                .command(&["GET", key]),
            format!("v-{key}")
        );
    }
    let mut asked: Vec<String> = keys.iter().rev().cloned().collect();
    asked.insert(3, "split:missing".into());
    let values: Vec<Option<String>> = db.mget(asked.clone()).await.unwrap();
    for (key, value) in asked.iter().zip(&values) {
        let expected = (key != "split:missing").then(|| format!("v-{key}"));
        assert_eq!(
            value, &expected,
            "{key}: values come back in the caller's order"
        );
    }
    assert_eq!(db.exists_many(keys.clone()).await.unwrap(), 100);
    // Keyless commands about the whole keyspace ask every primary.
    assert_eq!(db.dbsize().await.unwrap(), 100);
    let mut listed: Vec<String> = db.keys("split:*").await.unwrap();
    listed.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // SCAN walks every primary in turn: each key exactly once (nothing
    // changes meanwhile), small pages so every primary takes several.
    let mut scanned: Vec<String> = db
        .scan(redmux::ScanOptions::new().matching("split:*").count(5))
        .try_collect()
        .await
        .unwrap();
    scanned.sort();
    assert_eq!(scanned, expected, "SCAN covers every primary once");
    for node in &cluster.nodes[..3] {
        assert!(
            node.command_calls("scan") >= 2,
            "primary {} was scanned",
            node.port
        );
    }
    // SCRIPT LOAD reaches every primary, so EVALSHA works on any slot.
    let sha = db
        .script_load("return redis.call('GET', KEYS[1])")
        .await
        .unwrap();
    assert_script_on_every_primary(&cluster, &sha, true);
    for key in &keys[..10] {
        let value: String = db.evalsha(&sha, [key], Vec::<String>::new()).await.unwrap();
        assert_eq!(value, format!("v-{key}"));
    }
    assert_eq!(db.touch(keys[..10].to_vec()).await.unwrap(), 10);
    db.unlink_many(keys[..10].to_vec())
        .fire_and_forget()
        .unwrap();
    assert_eq!(
        db.del_many(keys.clone()).await.unwrap(),
        90,
        "the fire-and-forget UNLINK ran first"
    );
    assert_eq!(db.exists_many(keys).await.unwrap(), 0);
    // A batch across slots: one group per slot, replies in batch order,
    // each slot's commands in the caller's order.
    let mut batch = db.batch();
    let mut handles = Vec::new();
    for i in 0..20 {
        let key = format!("batch:{i}");
        let set = batch.queue::<()>(redmux::Cmd::new("SET").key(&key).arg(i * 10));
        let incr = batch.queue::<i64>(redmux::Cmd::new("INCR").key(&key));
        handles.push((key, set, incr));
    }
    let ping = batch.queue::<String>(redmux::Cmd::new("PING"));
    let mut replies = batch.execute().await.unwrap();
    for (i, (key, set, incr)) in handles.into_iter().enumerate() {
        replies.take(set).unwrap();
        assert_eq!(replies.take(incr).unwrap(), i as i64 * 10 + 1, "{key}");
        assert_eq!(
            cluster
                .owner_of(cluster.slot_of(&key))
                .command(&["GET", &key]),
            (i * 10 + 1).to_string(),
            "{key} is on its slot's primary"
        );
    }
    assert_eq!(replies.take(ping).unwrap(), "PONG");
    // A transaction must stay in one slot.
    let mut tx = db.transaction();
    let _ = tx.queue::<()>(redmux::Cmd::new("SET").key("tx:a").arg(1));
    let _ = tx.queue::<()>(redmux::Cmd::new("SET").key("tx:b").arg(1));
    let e = tx.exec().await.unwrap_err();
    assert!(e.to_string().contains("CROSSSLOT"), "{e}");
    // Also when only the body leaves the slot of the conditions' keys.
    assert_ne!(cluster.slot_of("tx:a"), cluster.slot_of("tx:b"));
    let mut tx = db.transaction();
    tx.add_condition(redmux::Condition::key_not_exists("tx:a"));
    let _ = tx.queue::<()>(redmux::Cmd::new("SET").key("tx:b").arg(1));
    let e = tx.exec().await.unwrap_err();
    assert!(e.to_string().contains("CROSSSLOT"), "{e}");
    assert_eq!(
        db.exists_many(["tx:a", "tx:b"]).await.unwrap(),
        0,
        "nothing ran"
    );
    db.del_many((0..20).map(|i| format!("batch:{i}")).collect::<Vec<_>>())
        .await
        .unwrap();
    db.set("left", 1).await.unwrap();
    db.set("right", 2).await.unwrap();
    let admin = Multiplexer::connect(format!("{},allowAdmin=true", cluster.seed()).as_str())
        .await
        .unwrap();
    admin.database(0).flushall().await.unwrap();
    assert_eq!(
        db.dbsize().await.unwrap(),
        0,
        "FLUSHALL reached every primary"
    );
    admin.database(0).script_flush().await.unwrap();
    assert_script_on_every_primary(&cluster, &sha, false);
}

/// Whether each primary has script `sha` cached (SCRIPT EXISTS on each).
fn assert_script_on_every_primary(cluster: &RedisCluster, sha: &str, loaded: bool) {
    let expected = format!("*1\r\n:{}\r\n", u8::from(loaded));
    for node in &cluster.nodes[..cluster.primaries] {
        assert_eq!(
            support::raw_at(node.port, &["SCRIPT", "EXISTS", sha]),
            expected,
            "SCRIPT EXISTS on primary {} (loaded: {loaded})",
            node.port
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_slot_is_followed_and_the_map_updated() {
    let cluster = RedisCluster::start(3, 1);
    let mux = connect(&cluster).await;
    let db = mux.database(0);
    db.set("moving", "v1").await.unwrap();
    let slot = cluster.slot_of("moving");
    let from = cluster.owner_of(slot);
    let to = cluster.other_primary(from);
    cluster.start_migration(slot, from, to);
    cluster.migrate_keys(from, to, &["moving"]);
    cluster.finish_migration(slot, to);
    assert_eq!(db.get::<String>("moving").await.unwrap(), "v1");
    let moved = mux.cluster_stats().unwrap().moved;
    assert!(moved >= 1, "the MOVED was followed ({moved})");
    for _ in 0..10 {
        assert_eq!(db.get::<String>("moving").await.unwrap(), "v1");
    }
    assert_eq!(
        mux.cluster_stats().unwrap().moved,
        moved,
        "no more redirects: the map learned"
    );
    // NO_REDIRECT hands the redirect to the caller instead: ask the old
    // owner's slot through a stale map is not possible any more, so move
    // the slot back and ask once without redirects.
    cluster.start_migration(slot, to, from);
    cluster.migrate_keys(to, from, &["moving"]);
    cluster.finish_migration(slot, from);
    let e = db
        .get::<String>("moving")
        .flags(CommandFlags::NO_REDIRECT)
        .await
        .unwrap_err();
    assert_eq!(e.server_code(), Some("MOVED"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_during_a_migration_is_followed_with_asking() {
    let cluster = RedisCluster::start(3, 1);
    let mux = connect(&cluster).await;
    let db = mux.database(0);
    db.set("{m}:moved", "a").await.unwrap();
    db.set("{m}:stays", "b").await.unwrap();
    let slot = cluster.slot_of("{m}");
    let from = cluster.owner_of(slot);
    let to = cluster.other_primary(from);
    cluster.start_migration(slot, from, to);
    cluster.migrate_keys(from, to, &["{m}:moved"]);
    // The source answers ASK for the migrated key; the target serves it
    // only after ASKING.
    assert_eq!(db.get::<String>("{m}:moved").await.unwrap(), "a");
    assert_eq!(db.get::<String>("{m}:stays").await.unwrap(), "b");
    // A new key in a migrating slot is created on the target.
    db.set("{m}:new", "c").await.unwrap();
    let stats = mux.cluster_stats().unwrap();
    assert!(stats.asked >= 2, "{stats:?}");
    assert_eq!(stats.moved, 0, "ASK does not change the map");
    // A multi-key read while its keys are split between the two nodes:
    // the source answers TRYAGAIN, and the client sends it again after a
    // pause until the migration is done.
    let mget = tokio::spawn({
        let db = db.clone();
        async move {
            db.mget::<Vec<Option<String>>, _>(["{m}:moved", "{m}:stays"])
                .await
        }
    });
    eventually("the source answered TRYAGAIN", || {
        from.command_errors("TRYAGAIN") > 0
    })
    .await;
    assert!(!mget.is_finished(), "the MGET is retried, not answered");
    cluster.migrate_keys(from, to, &["{m}:stays"]);
    cluster.finish_migration(slot, to);
    assert_eq!(
        mget.await.unwrap().unwrap(),
        [Some("a".to_string()), Some("b".to_string())],
        "the retried MGET reads both keys once they are together"
    );
    assert!(mux.stats().retried_not_executed > 0, "{:?}", mux.stats());
    for key in ["{m}:moved", "{m}:stays", "{m}:new"] {
        assert!(
            db.get::<Option<String>>(key).await.unwrap().is_some(),
            "{key}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_migration_under_load_gives_no_wrong_reply() {
    const TASKS: usize = 8;
    let cluster = Arc::new(RedisCluster::start(3, 1));
    let mux = connect(&cluster).await;
    let slot = cluster.slot_of("{load}");
    let migrated = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Each writer INCRs its key until the migration is over (and at least
    // 100 times), checking every reply is the next value.
    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let db = mux.database(0);
            let (migrated, started) = (migrated.clone(), started.clone());
            tokio::spawn(async move {
                let key = format!("{{load}}:{t}");
                let mut expected = 0i64;
                while expected < 100 || !migrated.load(std::sync::atomic::Ordering::Relaxed) {
                    expected += 1;
                    let got: i64 = db.incr(&key).await.expect("INCR");
                    assert_eq!(got, expected, "{key}: a reply out of place");
                    started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if expected % 20 == 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                expected
            })
        })
        .collect();
    // Migrate the slot key by key once the writers are running.
    while started.load(std::sync::atomic::Ordering::Relaxed) < 200 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mover = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || {
            let from = cluster.owner_of(slot);
            let to = cluster.other_primary(from);
            cluster.start_migration(slot, from, to);
            for t in 0..TASKS {
                cluster.migrate_keys(from, to, &[&format!("{{load}}:{t}")]);
                std::thread::sleep(Duration::from_millis(5));
            }
            cluster.finish_migration(slot, to);
            to.port
        })
    };
    let to_port = mover.await.unwrap();
    migrated.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut counts = Vec::new();
    for w in writers {
        counts.push(w.await.unwrap());
    }
    let target = cluster.nodes.iter().find(|n| n.port == to_port).unwrap();
    for (t, count) in counts.iter().enumerate() {
        assert_eq!(
            target.command(&["GET", &format!("{{load}}:{t}")]),
            count.to_string(),
            "every acknowledged INCR, once, on the new owner"
        );
    }
    let stats = mux.cluster_stats().unwrap();
    assert!(
        stats.asked + stats.moved > 0,
        "redirects happened under load: {stats:?}"
    );
}

/// Writers INCR their own keys (spread over every primary) until `stop`;
/// each checks that a reply is never below the last one it saw plus one
/// (no misplaced reply) and counts what it knows: acknowledged, failed
/// after being written (may have run), failed before.
///
/// With `may_lose` (a primary killed: replication is asynchronous, so its
/// replica can take over without its last writes) a reply at or below the
/// last one is counted in `went_back` instead of failing at once; the
/// test then allows one per writer, at the failover, not a stream of them.
struct Writer {
    key: String,
    acknowledged: u64,
    unknown: u64,
    went_back: u64,
    slowest: Duration,
}

async fn write_until(
    db: redmux::Database,
    key: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    may_lose: bool,
) -> Writer {
    let mut w = Writer {
        key,
        acknowledged: 0,
        unknown: 0,
        went_back: 0,
        slowest: Duration::ZERO,
    };
    let mut last = 0i64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let started = std::time::Instant::now();
        match db.incr(&w.key).await {
            Ok(n) if n <= last && may_lose => {
                w.went_back += 1;
                last = n;
                w.acknowledged += 1;
            }
            Ok(n) => {
                assert!(n > last, "{}: reply {n} after {last}", w.key);
                last = n;
                w.acknowledged += 1;
            }
            Err(e) if e.may_have_run() => w.unknown += 1,
            Err(_) => {}
        }
        w.slowest = w.slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    w
}

fn spawn_writers(
    mux: &Multiplexer,
    stop: &Arc<std::sync::atomic::AtomicBool>,
    may_lose: bool,
) -> Vec<tokio::task::JoinHandle<Writer>> {
    (0..8)
        .map(|t| {
            tokio::spawn(write_until(
                mux.database(0),
                format!("fo:{t}"),
                stop.clone(),
                may_lose,
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_under_load_is_followed_and_every_write_accounted_for() {
    let cluster = RedisCluster::start(3, 1);
    let mux = Multiplexer::connect(format!("{},syncTimeout=3000", cluster.seed()).as_str())
        .await
        .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = spawn_writers(&mux, &stop, false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The replica of the first primary takes over, gracefully.
    // A manual failover gives up after 5 s if the replica cannot catch up
    // (a loaded 2-core machine); ask again then, up to three times.
    let replica = &cluster.nodes[3];
    let is_primary = || {
        replica
            .command(&["INFO", "replication"])
            .contains("role:master")
    };
    'attempts: for attempt in 1..=3 {
        assert!(replica.command(&["CLUSTER", "FAILOVER"]).starts_with("+OK"));
        let until = std::time::Instant::now() + Duration::from_secs(7);
        while std::time::Instant::now() < until {
            if is_primary() {
                break 'attempts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(attempt < 3, "the failover completed");
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let db = mux.database(0);
    for writer in writers {
        let w = writer.await.unwrap();
        let on_server: u64 = db.get::<Option<u64>>(&w.key).await.unwrap().unwrap_or(0);
        assert!(
            w.acknowledged <= on_server && on_server <= w.acknowledged + w.unknown,
            "{}: server {on_server}, acknowledged {}, unknown {}",
            w.key,
            w.acknowledged,
            w.unknown
        );
        assert!(
            w.slowest < Duration::from_millis(3000 + 1500),
            "{}: a call took {:?}",
            w.key,
            w.slowest
        );
    }
    let stats = mux.cluster_stats().unwrap();
    assert!(
        stats.moved + stats.refreshes > 0,
        "the client noticed the failover: {stats:?}"
    );
    assert!(
        mux.stats_by_endpoint()
            .iter()
            .any(|(e, _)| e.port() == Some(replica.port)),
        "the new primary is used"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced_by_its_replica_and_writes_resume() {
    let mut cluster = RedisCluster::start(3, 1);
    let mux = Multiplexer::connect(format!("{},syncTimeout=2000", cluster.seed()).as_str())
        .await
        .unwrap();
    let db = mux.database(0);
    let mut events = mux.events();
    let slot = cluster.slot_of("{victim}");
    let victim_port = cluster.owner_of(slot).port;
    db.set("{victim}", "before").await.unwrap();
    let mut feed = mux
        .subscriber()
        .ssubscribe(["{victim}:feed"])
        .await
        .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = spawn_writers(&mux, &stop, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let victim = cluster
        .nodes
        .iter_mut()
        .find(|n| n.port == victim_port)
        .unwrap();
    victim.kill();
    // cluster-node-timeout is 2 s: the replica takes over after that.
    let started = std::time::Instant::now();
    loop {
        match db
            .set("{victim}", "after")
            .timeout(Duration::from_millis(500))
            .await
        {
            Ok(_) => break,
            Err(e) => assert!(
                started.elapsed() < Duration::from_secs(20),
                "writes to the killed primary's slots resume: {e}"
            ),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = 0;
    for writer in writers {
        let w = writer.await.unwrap();
        acknowledged += w.acknowledged;
        assert!(
            w.went_back <= 1,
            "{}: {} replies went back; writes lost at the failover explain one",
            w.key,
            w.went_back
        );
        assert!(
            w.slowest < Duration::from_millis(2000 + 1500),
            "{}: a call took {:?}",
            w.key,
            w.slowest
        );
    }
    assert!(acknowledged > 100, "writes went on ({acknowledged})");
    assert_eq!(db.get::<String>("{victim}").await.unwrap(), "after");
    let new_owner = cluster.owner_of(slot).port;
    assert_ne!(new_owner, victim_port, "a replica was promoted");
    // The failover was reported: the victim's slots moved to the replica.
    let mut reported = Vec::new();
    while let Some(event) = events.try_recv() {
        if let redmux::ConnectionEvent::PrimaryChanged {
            endpoint,
            from,
            reason,
        } = event
        {
            reported.push(format!("{from} -> {endpoint}: {reason}"));
        }
    }
    let expected = format!("127.0.0.1:{victim_port} -> 127.0.0.1:{new_owner}");
    assert!(
        reported.iter().any(|r| r.starts_with(&expected)),
        "a PrimaryChanged event {expected}; got {reported:?}"
    );
    // The shard channel followed its slot to the promoted replica.
    let item = tokio::time::timeout(Duration::from_secs(10), feed.recv())
        .await
        .expect("the move is reported")
        .unwrap();
    assert!(
        matches!(&item, redmux::Delivery::Gap(redmux::Gap::Resubscribed { to, .. })
            if *to == format!("127.0.0.1:{new_owner}")),
        "{item:?}"
    );
    eventually("the channel is subscribed on the new primary", || {
        shard_subscribers(new_owner, "{victim}:feed").ends_with(":1\r\n")
    })
    .await;
    assert_eq!(db.spublish("{victim}:feed", "after").await.unwrap(), 1);
    assert_eq!(feed.next_message().await.unwrap().payload_str(), "after");
    assert!(
        mux.stats_by_endpoint()
            .iter()
            .all(|(e, _)| e.port() != Some(victim_port)),
        "the dead node's connection was retired"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_that_ask_for_a_replica_land_on_replicas_and_writes_never_do() {
    let cluster = RedisCluster::start(3, 1);
    let mux = connect(&cluster).await;
    let db = mux.database(0);
    db.set("{r}:k", "v").await.unwrap();
    let slot = cluster.slot_of("{r}");
    let primary = cluster.owner_of(slot);
    let replica = cluster
        .nodes
        .iter()
        .find(|n| {
            let info = n.command(&["INFO", "replication"]);
            info.contains("role:slave") && info.contains(&format!("master_port:{}", primary.port))
        })
        .expect("the slot's primary has a replica");
    // Replication is asynchronous: wait until the replica has the key (the
    // only one of its shard).
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !replica.command(&["INFO", "keyspace"]).contains("keys=1") {
        assert!(std::time::Instant::now() < until, "the replica caught up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The map read at connect may predate the replica's gossip; a refused
    // DEMAND_REPLICA read starts a refresh, so a retry soon finds it.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match db
            .get::<String>("{r}:k")
            .flags(CommandFlags::DEMAND_REPLICA)
            .await
        {
            Ok(v) => break assert_eq!(v, "v"),
            Err(e) if e.is_refused() && std::time::Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => {
                let shards = std::process::Command::new("redis-cli")
                    .args([
                        "-p",
                        &cluster.nodes[0].port.to_string(),
                        "cluster",
                        "shards",
                    ])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).replace('\n', " "))
                    .unwrap_or_default();
                panic!("{e}; {:?}; CLUSTER SHARDS: {shards}", mux.cluster_stats())
            }
        }
    }
    support::assert_replica_reads(&db, "{r}:k", primary, replica).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_for_a_slot_without_an_owner_wait_for_one() {
    let cluster = RedisCluster::start(3, 0);
    for node in &cluster.nodes {
        node.command(&["CONFIG", "SET", "cluster-require-full-coverage", "no"]);
    }
    // Two slots nobody serves: every node forgets them.
    let (waits, never) = ("orphan", "{never}");
    let (slot, lost) = (cluster.slot_of(waits), cluster.slot_of(never));
    let owner = cluster.owner_of(slot);
    for node in &cluster.nodes {
        for s in [slot, lost] {
            let ok = node.command(&["CLUSTER", "DELSLOTS", &s.to_string()]);
            assert!(ok.starts_with("+OK"), "DELSLOTS: {ok}");
        }
    }
    let mux = Multiplexer::connect(format!("{},syncTimeout=10000", cluster.seed()).as_str())
        .await
        .unwrap();
    assert_eq!(mux.cluster_stats().unwrap().slots_covered, 16_382);
    let mut events = mux.events();
    let db = mux.database(0);
    let set = tokio::spawn({
        let db = db.clone();
        async move { db.set(waits, "arrived").await }
    });
    let started = std::time::Instant::now();
    while mux.cluster_stats().unwrap().waited_for_owner == 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the SET waits");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // More for the same slot, fire-and-forget then awaited: they wait too,
    // and run in the order they were issued.
    db.set("{orphan}:seq", "a").fire_and_forget().unwrap();
    let append = tokio::spawn({
        let db = db.clone();
        async move { db.append("{orphan}:seq", "b").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!set.is_finished(), "no node serves the slot: the SET waits");
    assert_eq!(mux.cluster_stats().unwrap().waited_for_owner, 3);
    let reply = owner.command(&["EXISTS", waits]);
    assert!(
        reply.contains("CLUSTERDOWN"),
        "the slot is not served: {reply}"
    );
    // The slot gets its owner back; the waiting SET goes there.
    let ok = owner.command(&["CLUSTER", "ADDSLOTS", &slot.to_string()]);
    assert!(ok.starts_with("+OK"), "ADDSLOTS: {ok}");
    set.await.unwrap().unwrap();
    assert_eq!(owner.command(&["GET", waits]).trim(), "arrived");
    assert_eq!(
        append.await.unwrap().unwrap(),
        2,
        "APPEND ran after the SET"
    );
    assert_eq!(owner.command(&["GET", "{orphan}:seq"]).trim(), "ab");
    let mut reported = Vec::new();
    while let Some(event) = events.try_recv() {
        if let redmux::ConnectionEvent::PrimaryChanged { endpoint, from, .. } = event {
            reported.push((from, endpoint));
        }
    }
    assert!(
        reported.contains(&("no node".to_owned(), owner.addr())),
        "the slot's new owner was reported: {reported:?}"
    );
    // A slot that never gets an owner: the call times out, naming the slot.
    let e = db
        .get::<Option<String>>(never)
        .timeout(Duration::from_millis(400))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(!e.may_have_run(), "{e}");
    assert!(
        e.to_string().contains(&format!("cluster slot {lost}")),
        "{e}"
    );
    assert_eq!(mux.cluster_stats().unwrap().waited_for_owner, 4);
    // With backlogPolicy=failFast nothing waits.
    let fast = Multiplexer::connect(format!("{},backlogPolicy=failFast", cluster.seed()).as_str())
        .await
        .unwrap();
    let e = fast
        .database(0)
        .get::<Option<String>>(never)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}");
    assert!(e.to_string().contains("failFast"), "{e}");
}

/// Waits (up to 10 s) until `check` holds, naming `what` if it never does.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(std::time::Instant::now() < until, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many of this client's connections the server at `port` counts as
/// subscribed to shard channel `channel`.
fn shard_subscribers(port: u16, channel: &str) -> String {
    support::raw_at(port, &["PUBSUB", "SHARDNUMSUB", channel])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_channels_are_subscribed_on_their_slot_s_primary_and_follow_it() {
    let cluster = RedisCluster::start(3, 0);
    let mux = connect(&cluster).await;
    let db = mux.database(0);
    let a = "{a}:feed";
    let owner_a = cluster.owner_of(cluster.slot_of(a));
    let b = ["{b}:feed", "{c}:feed", "{d}:feed", "{e}:feed", "{f}:feed"]
        .into_iter()
        .find(|c| cluster.owner_of(cluster.slot_of(c)).port != owner_a.port)
        .unwrap();
    let owner_b = cluster.owner_of(cluster.slot_of(b));
    let mut sub = mux.subscriber().ssubscribe([a, b]).await.unwrap();
    let once = |channel: &str| format!("*2\r\n${}\r\n{channel}\r\n:1\r\n", channel.len());
    assert_eq!(
        shard_subscribers(owner_a.port, a),
        once(a),
        "on a's primary"
    );
    assert_eq!(
        shard_subscribers(owner_b.port, b),
        once(b),
        "on b's primary"
    );
    assert_eq!(db.spublish(a, "1").await.unwrap(), 1);
    assert_eq!(db.spublish(b, "2").await.unwrap(), 1);
    let mut got = Vec::new();
    for _ in 0..2 {
        let m = sub.next_message().await.unwrap();
        got.push(format!("{}={}", m.channel_str(), m.payload_str()));
    }
    got.sort();
    assert_eq!(got, [format!("{a}=1"), format!("{b}=2")]);

    // a's slot moves to the third primary; its old owner drops the
    // subscription, and the client subscribes where the slot is now.
    let slot = cluster.slot_of(a);
    let to = cluster.nodes[..3]
        .iter()
        .find(|n| n.port != owner_a.port && n.port != owner_b.port)
        .unwrap();
    cluster.start_migration(slot, owner_a, to);
    cluster.finish_migration(slot, to);
    let item = tokio::time::timeout(Duration::from_secs(10), sub.recv())
        .await
        .expect("the move is reported")
        .unwrap();
    match item {
        redmux::Delivery::Gap(redmux::Gap::Resubscribed {
            channel,
            from,
            to: now,
        }) => {
            assert_eq!(
                (channel.as_str(), from, now),
                (a, owner_a.addr(), to.addr())
            );
        }
        other => panic!("expected Gap::Resubscribed, got {other:?}"),
    }
    eventually("a is subscribed on its new primary", || {
        shard_subscribers(to.port, a) == once(a)
    })
    .await;
    assert_eq!(mux.subscriber().stats().shard_moves, 1);
    assert_eq!(
        db.spublish(a, "3").await.unwrap(),
        1,
        "delivered on the new primary"
    );
    let m = sub.next_message().await.unwrap();
    assert_eq!((m.channel_str(), m.payload_str()), (a.into(), "3".into()));
    assert_eq!(db.spublish(b, "4").await.unwrap(), 1, "b did not move");
    assert_eq!(sub.next_message().await.unwrap().payload_str(), "4");

    // Dropping the subscription unsubscribes on every primary.
    drop(sub);
    let none = |channel: &str| format!("*2\r\n${}\r\n{channel}\r\n:0\r\n", channel.len());
    eventually("a unsubscribed", || {
        shard_subscribers(to.port, a) == none(a)
    })
    .await;
    eventually("b unsubscribed", || {
        shard_subscribers(owner_b.port, b) == none(b)
    })
    .await;
}

//! The shared multiplexer against real redis-server processes: correctness
//! under load, cancellation, fire-and-forget, refusals, batching, handshake,
//! databases, timeouts and shutdown.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{Config, ErrorKind, Multiplexer, SetOptions, Value};
use support::RedisServer;

#[tokio::test]
async fn basic_commands_round_trip() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);

    assert!(db.set("k", "v").await.unwrap());
    assert_eq!(
        db.get::<Option<String>>("k").await.unwrap(),
        Some("v".to_owned())
    );
    assert_eq!(db.get::<Option<String>>("missing").await.unwrap(), None);
    assert!(db.exists("k").await.unwrap());
    assert_eq!(db.incr("n").await.unwrap(), 1);
    assert_eq!(db.incr_by("n", 41).await.unwrap(), 42);
    assert_eq!(db.decr_by("n", 2).await.unwrap(), 40);
    assert!(db.expire("k", Duration::from_secs(100)).await.unwrap());
    let ttl = db.ttl("k").await.unwrap();
    assert!((1..=100).contains(&ttl), "ttl {ttl}");
    db.mset([("a", "1"), ("b", "2")]).await.unwrap();
    let values: Vec<Option<String>> = db.mget(["a", "b", "nope"]).await.unwrap();
    assert_eq!(values, vec![Some("1".into()), Some("2".into()), None]);
    assert_eq!(db.ping().await.unwrap(), "PONG");
    assert_eq!(
        db.echo::<Vec<u8>>(b"\x00\r\n".as_slice()).await.unwrap(),
        b"\x00\r\n"
    );
    assert!(db.del("k").await.unwrap());
    assert_eq!(db.del_many(["a", "b", "c"]).await.unwrap(), 2);
    let encoding: String = db.execute("object", ["ENCODING", "n"]).await.unwrap();
    assert_eq!(encoding, "int");
}

#[tokio::test]
async fn set_options_are_sent() {
    let server = RedisServer::start();
    let db = server.connect("").await.database(0);
    assert!(db
        .set_with(
            "lock",
            "a",
            SetOptions::new()
                .only_if_absent()
                .expire(Duration::from_millis(1500))
        )
        .await
        .unwrap());
    assert!(!db
        .set_with("lock", "b", SetOptions::new().only_if_absent())
        .await
        .unwrap());
    assert!(!db
        .set_with("other", "b", SetOptions::new().only_if_exists())
        .await
        .unwrap());
    let pttl: i64 = db.execute("PTTL", ["lock"]).await.unwrap();
    assert!((1..=1500).contains(&pttl), "pttl {pttl}");
    assert_eq!(db.get::<String>("lock").await.unwrap(), "a");
}

/// 1,000 tasks × 1,000 commands on one multiplexer, each task writing and
/// reading back its own binary values: every caller gets exactly its own reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_gets_its_own_reply_under_load() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let mut tasks = Vec::new();
    for task in 0..1000u32 {
        let db = mux.database(0);
        tasks.push(tokio::spawn(async move {
            for i in 0..500u32 {
                let key = format!("t{task}:{}", i % 7);
                // Unique per request, with CRLF and (every 50th) an empty value.
                let value: Vec<u8> = if i % 50 == 0 {
                    Vec::new()
                } else {
                    format!("\r\n{task}\0{i}\r\n").into_bytes()
                };
                let (set, get) = tokio::join!(
                    db.set(key.as_str(), value.as_slice()),
                    db.get::<Vec<u8>>(key.as_str())
                );
                assert!(set.expect("set"));
                assert_eq!(
                    get.expect("get"),
                    value,
                    "task {task} request {i} got someone else's reply"
                );
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let stats = mux.stats();
    assert!(stats.replies_received >= 1_000_000, "{stats:?}");
}

/// Half the calls time out or are dropped mid-flight; the connection keeps
/// answering everyone else correctly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_storm_does_not_shift_replies() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    // A large value makes some replies slow enough for tiny timeouts to fire.
    db.set("big", vec![b'x'; 512 * 1024]).await.unwrap();
    let timeouts = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..200u32 {
        let db = mux.database(0);
        let (timeouts, dropped) = (timeouts.clone(), dropped.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100u32 {
                let key = format!("c{task}:{i}");
                db.set(key.as_str(), i).await.unwrap();
                match i % 4 {
                    0 => {
                        // Dropped mid-flight: queued, then abandoned.
                        let fut = std::future::IntoFuture::into_future(db.get::<Vec<u8>>("big"));
                        let poll = tokio::time::timeout(Duration::from_micros(1), fut).await;
                        if poll.is_err() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    1 => match db
                        .get::<Vec<u8>>("big")
                        .timeout(Duration::from_micros(1))
                        .await
                    {
                        Err(e) if e.is_timeout() => {
                            timeouts.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("unexpected error {e}"),
                        Ok(v) => assert_eq!(v.len(), 512 * 1024),
                    },
                    _ => {
                        let v: u32 = db.get(key.as_str()).await.unwrap();
                        assert_eq!(v, i, "task {task}");
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        timeouts.load(Ordering::Relaxed) > 0,
        "no call timed out: the storm did not happen"
    );
    assert!(
        dropped.load(Ordering::Relaxed) > 0,
        "no call was dropped: the storm did not happen"
    );
    // Afterwards every reply still lines up.
    for i in 0..200u32 {
        let key = format!("after{i}");
        db.set(key.as_str(), i).await.unwrap();
        assert_eq!(db.get::<u32>(key.as_str()).await.unwrap(), i);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_and_forget_incrs_all_land() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    for _ in 0..100_000 {
        db.incr("ff").fire_and_forget().unwrap();
    }
    assert_eq!(db.get::<u64>("ff").await.unwrap(), 100_000);
}

#[tokio::test]
async fn blocking_and_admin_commands_are_refused_before_sending() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    for (name, args) in [
        ("BLPOP", vec!["q", "0"]),
        ("brpop", vec!["q", "0"]),
        ("BLMOVE", vec!["a", "b", "LEFT", "RIGHT", "0"]),
        ("bzpopmin", vec!["z", "0"]),
        ("WAIT", vec!["1", "0"]),
        ("xread", vec!["BLOCK", "0", "STREAMS", "s", "$"]),
        ("SUBSCRIBE", vec!["ch"]),
        ("MULTI", vec![]),
        ("select", vec!["1"]),
        ("MONITOR", vec![]),
    ] {
        let err = db.execute::<Value, _, _>(name, args).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{name}: {err}");
        assert!(
            err.to_string()
                .to_uppercase()
                .contains(&name.to_uppercase()),
            "{err}"
        );
    }
    for (name, args) in [
        ("FLUSHALL", vec![]),
        ("flushdb", vec![]),
        ("CONFIG", vec!["SET", "maxmemory", "1"]),
        ("DEBUG", vec!["SLEEP", "0"]),
        ("SHUTDOWN", vec![]),
    ] {
        let err = db.execute::<Value, _, _>(name, args).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AdminRefused, "{name}: {err}");
        assert!(err.to_string().contains("allowAdmin"), "{err}");
    }
    // Fire-and-forget is refused the same way.
    assert_eq!(
        db.execute::<Value, _, _>("BLPOP", ["q", "0"])
            .fire_and_forget()
            .unwrap_err()
            .kind(),
        ErrorKind::Refused
    );
    // The connection still works, and the server never saw any of them.
    assert_eq!(db.ping().await.unwrap(), "PONG");
    for cmd in [
        "blpop",
        "brpop",
        "blmove",
        "bzpopmin",
        "wait",
        "xread",
        "subscribe",
        "multi",
        "select",
        "monitor",
        "flushall",
        "flushdb",
        "config|set",
        "debug",
        "shutdown",
    ] {
        assert_eq!(server.command_calls(cmd), 0, "{cmd} reached the server");
    }
    assert!(
        server.command_calls("ping") >= 1,
        "commandstats is not counting"
    );
}

#[tokio::test]
async fn admin_commands_run_with_allow_admin() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},allowAdmin=true", server.addr()))
        .await
        .unwrap();
    let db = mux.database(0);
    db.set("k", 1).await.unwrap();
    let _: () = db.execute("FLUSHDB", Vec::<&str>::new()).await.unwrap();
    assert!(!db.exists("k").await.unwrap());
}

/// At 1,000 concurrent callers one write carries many commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_commands_share_each_write() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let before = mux.stats();
    let mut tasks = Vec::new();
    for task in 0..1000u32 {
        let db = mux.database(0);
        tasks.push(tokio::spawn(async move {
            for _ in 0..50 {
                db.get::<Option<String>>(format!("k{task}")).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = mux.stats();
    let commands = after.commands_written - before.commands_written;
    let flushes = after.flushes - before.flushes;
    assert!(commands >= 50_000, "{after:?}");
    let per_flush = commands as f64 / flushes as f64;
    assert!(
        per_flush >= 8.0,
        "only {per_flush:.1} commands per write: batching is not happening ({after:?})"
    );
}

#[tokio::test]
async fn server_error_in_a_pipeline_does_not_shift_later_replies() {
    let server = RedisServer::start();
    let db = server.connect("").await.database(0);
    db.execute::<(), _, _>("LPUSH", ["list", "x"])
        .await
        .unwrap();
    db.set("s", "value").await.unwrap();
    let (a, b, c) = tokio::join!(
        db.get::<String>("s"),
        db.get::<String>("list"),
        db.get::<String>("s")
    );
    assert_eq!(a.unwrap(), "value");
    let err = b.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.server_code(), Some("WRONGTYPE"));
    assert!(err.to_string().contains("GET"), "{err}");
    assert_eq!(c.unwrap(), "value");
}

#[tokio::test]
async fn type_mismatch_is_a_clear_error() {
    let server = RedisServer::start();
    let db = server.connect("").await.database(0);
    db.set("s", "abc").await.unwrap();
    let err = db.get::<i64>("s").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    assert!(
        err.to_string().contains("GET") && err.to_string().contains("abc"),
        "{err}"
    );
}

#[tokio::test]
async fn databases_switch_with_select_per_command() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let (db0, db3) = (mux.database(0), mux.database(3));
    db3.set("k", "three").await.unwrap();
    let (zero, three, zero_again) = tokio::join!(
        db0.get::<Option<String>>("k"),
        db3.get::<Option<String>>("k"),
        db0.get::<Option<String>>("k")
    );
    assert_eq!(
        (zero.unwrap(), three.unwrap(), zero_again.unwrap()),
        (None, Some("three".into()), None)
    );
    assert_eq!(server.command(&["SELECT", "3"]).trim(), "+OK");
    // A database the server does not have is refused before sending, and
    // nobody else's command is affected.
    let bad = mux.database(99);
    let selects = server.command_calls("select");
    let (bad_get, good) = tokio::join!(
        bad.get::<Option<String>>("k"),
        db3.get::<Option<String>>("k")
    );
    let err = bad_get.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("database 99") && text.contains("16 databases"),
        "{text}"
    );
    assert!(!err.may_have_run(), "the GET was never sent: {err}");
    assert_eq!(good.unwrap(), Some("three".into()));
    // One SELECT, back to 3 for the good GET; none for 99.
    assert_eq!(server.command_calls("select"), selects + 1);
}

/// With the database count known, SELECT is pipelined with the commands
/// behind it: tasks on two databases share writes instead of waiting a
/// round trip at every switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_switches_are_pipelined_and_every_reply_lands_in_its_database() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let mut tasks = Vec::new();
    for t in 0..32u32 {
        let db = mux.database(if t % 4 == 0 { 2 } else { 0 });
        tasks.push(tokio::spawn(async move {
            for i in 0..200u32 {
                let key = format!("t{t}");
                let (_, got) = tokio::join!(db.set(key.as_str(), i), db.get::<u32>(key.as_str()));
                assert_eq!(got.unwrap(), i);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for t in 0..32u32 {
        let in_2 = mux.database(2).exists(format!("t{t}")).await.unwrap();
        let in_0 = mux.database(0).exists(format!("t{t}")).await.unwrap();
        assert_eq!(
            (in_2, in_0),
            (t % 4 == 0, t % 4 != 0),
            "task {t}'s key in the wrong database"
        );
    }
    let stats = mux.stats();
    assert!(
        server.command_calls("select") > 10,
        "the workload switched databases"
    );
    assert!(
        stats.commands_per_flush() > 2.0,
        "switches did not stall batching: {stats:?}"
    );
}

/// A user who may not run CONFIG GET: the database count is unknown, so a
/// switch waits for SELECT's reply (the barrier) and still works.
#[tokio::test]
async fn without_the_database_count_select_is_a_barrier_and_still_works() {
    let server = RedisServer::start();
    let acl = [
        "ACL", "SETUSER", "noconfig", "on", "nopass", "~*", "+@all", "-config",
    ];
    assert_eq!(server.command(&acl).trim(), "+OK");
    let mux = Multiplexer::connect(format!("{},user=noconfig", server.addr()))
        .await
        .unwrap();
    mux.database(5).set("k", "five").await.unwrap();
    let (five, zero) = tokio::join!(
        mux.database(5).get::<Option<String>>("k"),
        mux.database(0).get::<Option<String>>("k")
    );
    assert_eq!((five.unwrap(), zero.unwrap()), (Some("five".into()), None));
    // Unknown count: a database past it is only found out by SELECT's error.
    let err = mux
        .database(99)
        .get::<Option<String>>("k")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SELECT 99"), "{err}");
    assert!(!err.may_have_run(), "{err}");
}

/// A user who may read the database count but not SELECT: the pipelined
/// SELECT fails, and the command written behind it says where it ran.
#[tokio::test]
async fn a_failed_pipelined_select_is_reported_and_later_switches_wait() {
    let server = RedisServer::start();
    let acl = [
        "ACL", "SETUSER", "noselect", "on", "nopass", "~*", "+@all", "-select",
    ];
    assert_eq!(server.command(&acl).trim(), "+OK");
    let mux = Multiplexer::connect(format!("{},user=noselect", server.addr()))
        .await
        .unwrap();
    let err = mux.database(2).set("k", "v").await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.server_code(), Some("NOPERM"), "{text}");
    assert!(err.may_have_run(), "{text}");
    assert!(text.contains("ran in database 0"), "{text}");
    // It did run, in database 0: the error says so truthfully.
    assert_eq!(mux.database(0).get::<String>("k").await.unwrap(), "v");
    // Next switch: a barrier, so nothing runs in the wrong database again.
    let err = mux.database(3).set("k3", "v").await.unwrap_err();
    assert!(!err.may_have_run(), "{err}");
    assert!(!mux.database(0).exists("k3").await.unwrap());
}

#[tokio::test]
async fn default_database_and_client_name_are_set_by_the_handshake() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},name=web-7,defaultDatabase=2", server.addr()))
        .await
        .unwrap();
    let db = mux.default_database();
    assert_eq!(db.index(), 2);
    db.set("k", "in two").await.unwrap();
    let name: String = db.execute("CLIENT", ["GETNAME"]).await.unwrap();
    assert_eq!(name, "web-7");
    let list = server.command(&["CLIENT", "LIST"]);
    assert!(
        list.contains("name=web-7") && list.contains("db=2"),
        "{list}"
    );
}

#[tokio::test]
async fn password_and_acl_user_are_sent_first() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let mux = Multiplexer::connect(format!("redis://:s3cret@{}/0", server.addr()))
        .await
        .unwrap();
    assert_eq!(mux.database(0).ping().await.unwrap(), "PONG");
    let err = Multiplexer::connect(format!("{},password=wrong,connectRetry=1", server.addr()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!err.to_string().contains("wrong"), "password echoed: {err}");
    let err = Multiplexer::connect(format!("{},connectRetry=1", server.addr()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "no password: {err}");
}

#[tokio::test]
async fn resp3_replies_arrive_as_maps() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},protocol=resp3", server.addr()))
        .await
        .unwrap();
    let db = mux.database(0);
    db.execute::<(), _, _>("HSET", ["h", "f", "v"])
        .await
        .unwrap();
    let raw: Value = db.execute("HGETALL", ["h"]).await.unwrap();
    assert!(matches!(raw, Value::Map(_)), "{raw:?}");
    let map: HashMap<String, String> = db.execute("HGETALL", ["h"]).await.unwrap();
    assert_eq!(map["f"], "v");
}

#[tokio::test]
async fn timeout_error_carries_the_connection_state() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},name=diag", server.addr()))
        .await
        .unwrap();
    let db = mux.database(0);
    db.set("k", "v").await.unwrap();
    // Pause the server from a side connection so replies stall.
    assert_eq!(
        server.command(&["CLIENT", "PAUSE", "400", "ALL"]).trim(),
        "+OK"
    );
    let started = Instant::now();
    let err = db
        .get::<String>("k")
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(err.is_timeout(), "{err}");
    assert!(
        waited >= Duration::from_millis(50) && waited < Duration::from_millis(300),
        "fired after {waited:?}"
    );
    let text = err.to_string();
    for needle in [
        "GET",
        "timeout 50 ms",
        &server.addr(),
        "diag",
        "in flight (awaiting reply) 1",
        "last write",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    let state = err.connection_state().expect("state");
    assert!(state.connected && state.in_flight == 1);
    // After the pause the late reply is dropped and the next ones line up.
    db.set("k2", "v2").await.unwrap();
    assert_eq!(db.get::<String>("k").await.unwrap(), "v");
    assert_eq!(db.get::<String>("k2").await.unwrap(), "v2");
}

#[tokio::test]
async fn connect_to_nothing_fails_fast_and_clearly() {
    let port = support::free_port();
    let started = Instant::now();
    let err = Multiplexer::connect(format!("127.0.0.1:{port},connectRetry=1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn bad_configuration_is_a_config_error() {
    let err = Multiplexer::connect("127.0.0.1:1,noSuchKey=1")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("noSuchKey"), "{err}");
    let mut config = Config::default();
    config.endpoints.clear();
    assert_eq!(
        Multiplexer::connect(config).await.unwrap_err().kind(),
        ErrorKind::Config
    );
}

#[tokio::test]
async fn close_answers_in_flight_then_refuses_new_commands() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let calls: Vec<_> = (0..100)
        .map(|i| std::future::IntoFuture::into_future(db.incr(format!("c{i}"))))
        .collect();
    mux.close().await;
    for call in calls {
        assert_eq!(
            call.await.unwrap(),
            1,
            "in-flight command was not answered before close"
        );
    }
    let err = db.get::<Option<String>>("k").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert_eq!(
        db.incr("x").fire_and_forget().unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert!(!mux.is_connected());
}

#[tokio::test]
async fn dropping_the_last_handle_closes_the_connection() {
    let server = RedisServer::start();
    let baseline = server.info_field("clients", "connected_clients");
    let mux = server.connect("").await;
    mux.database(0).ping().await.unwrap();
    assert_eq!(
        server.info_field("clients", "connected_clients"),
        baseline + 1
    );
    drop(mux);
    let until = Instant::now() + Duration::from_secs(5);
    while server.info_field("clients", "connected_clients") > baseline && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.info_field("clients", "connected_clients"),
        baseline,
        "the driver did not end"
    );
}

#[tokio::test]
async fn commands_of_one_caller_arrive_in_order() {
    let server = RedisServer::start();
    let db = server.connect("").await.database(0);
    let calls: Vec<_> = (0..1000)
        .map(|i| {
            std::future::IntoFuture::into_future(
                db.execute::<i64, _, _>("RPUSH", ["order".to_owned(), i.to_string()]),
            )
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap(), i as i64 + 1);
    }
    let list: Vec<i64> = db.execute("LRANGE", ["order", "0", "-1"]).await.unwrap();
    assert_eq!(list, (0..1000).collect::<Vec<i64>>());
}

/// Command info and key positions come from the static table without asking
/// the server; a name neither knows is a clear error.
#[tokio::test]
async fn command_info_and_keys_come_from_the_table_and_the_server() {
    let server = RedisServer::start();
    let db = server.connect("").await.database(0);
    let before = server.command_calls("command|info");
    let info = db.command_info("ZUNIONSTORE").await.unwrap();
    assert_eq!(info.name(), "zunionstore");
    let cmd = redmux::Cmd::new("ZUNIONSTORE")
        .key("dst")
        .arg(2)
        .key("a")
        .key("b");
    let keys = db.keys_of(&cmd).await.unwrap();
    assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 3, 4]);
    assert_eq!(
        server.command_calls("command|info"),
        before,
        "the table answered"
    );

    let err = db.command_info("no.such.command").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("no.such.command"), "{err}");
    assert_eq!(
        server.command_calls("command|info"),
        before + 1,
        "the server was asked"
    );
    let bad = redmux::Cmd::new("EVAL").arg("return 1").arg(5).key("a");
    let err = db.keys_of(&bad).await.unwrap_err();
    assert!(err.to_string().contains("numkeys"), "{err}");
}

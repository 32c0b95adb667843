//! `Script`: EVALSHA with a transparent EVAL fallback, against a real
//! redis-server.

mod support;

use redmux::prelude::*;
use redmux::{ErrorKind, Script};
use support::RedisServer;

#[tokio::test]
async fn a_script_survives_script_flush_and_is_sent_by_sha_when_cached() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    assert_eq!(add.sha1().len(), 40);

    // Not cached yet: EVALSHA says NOSCRIPT, EVAL runs and caches it.
    let n: i64 = add.run(&db, ["s:n"], [2]).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(server.command_calls("eval"), 1);
    // Cached now: only EVALSHA.
    let n: i64 = add.run(&db, ["s:n"], [3]).await.unwrap();
    assert_eq!(n, 5);
    assert_eq!(server.command_calls("eval"), 1);
    assert_eq!(server.command_calls("evalsha"), 2);
    let loaded: Vec<bool> = db.execute("SCRIPT", ["EXISTS", add.sha1()]).await.unwrap();
    assert_eq!(loaded, [true]);

    // The cache is flushed under it: the next run still succeeds, through EVAL.
    server.command(&["SCRIPT", "FLUSH"]);
    let n: i64 = add.run(&db, ["s:n"], [1]).await.unwrap();
    assert_eq!(n, 6);
    assert_eq!(server.command_calls("eval"), 2);
}

#[tokio::test]
async fn no_script_cache_sends_eval_and_read_only_scripts_cannot_write() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let echo = Script::new("return ARGV[1]");
    let v: String = echo
        .run_with(
            &db,
            Vec::<&str>::new(),
            ["hi"],
            None,
            CommandFlags::NO_SCRIPT_CACHE,
        )
        .await
        .unwrap();
    assert_eq!(v, "hi");
    assert_eq!(server.command_calls("evalsha"), 0);
    assert_eq!(server.command_calls("eval"), 1);

    let write = Script::new("return redis.call('SET', KEYS[1], 'x')").read_only();
    let err = write
        .run::<(), _, &str>(&db, ["ro:k"], [])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(server.command(&["EXISTS", "ro:k"]), ":0\r\n");

    // A script error is the caller's error, not a fallback loop.
    let bad = Script::new("return redis.call('NOSUCHCOMMAND')");
    let err = bad.run::<(), &str, &str>(&db, [], []).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn scripts_take_the_key_prefix_on_keys_only_and_queue_in_batches() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0).with_key_prefix("p:");
    let set = Script::new("redis.call('SET', KEYS[1], ARGV[1]) return KEYS[1]");
    let key: String = set.run(&db, ["k"], ["k"]).await.unwrap();
    assert_eq!(key, "p:k", "KEYS[1] as the server saw it");
    assert_eq!(server.command(&["GET", "p:k"]), "k", "ARGV untouched");

    let mut batch = db.batch();
    let a = batch.queue::<String>(set.eval_cmd(["b"], ["v"]));
    let got = batch.get::<String>("b");
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(a).unwrap(), "p:b");
    assert_eq!(replies.take(got).unwrap(), "v");
}

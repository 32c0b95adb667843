//! Key commands against a real server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redmux::prelude::*;
use redmux::{
    CopyOptions, ErrorKind, ExpireCondition, KeyType, KeyTypeReply, RestoreOptions, SortOptions,
};

use crate::connect;

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[tokio::test]
async fn expiry_conditions_and_times() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    db.set("k", "v").await.unwrap();

    // NX: only without an expiry.
    assert!(db
        .expire_with("k", Duration::from_secs(100), ExpireCondition::IfNone)
        .await
        .unwrap());
    assert!(!db
        .expire_with("k", Duration::from_secs(200), ExpireCondition::IfNone)
        .await
        .unwrap());
    // GT / LT.
    assert!(!db
        .expire_with("k", Duration::from_secs(50), ExpireCondition::IfLater)
        .await
        .unwrap());
    assert!(db
        .expire_with(
            "k",
            Duration::from_millis(300_500),
            ExpireCondition::IfLater
        )
        .await
        .unwrap());
    let pttl = db.pttl("k").await.unwrap();
    assert!((299_000..=300_500).contains(&pttl), "{pttl}");
    assert!(db
        .expire_with("k", Duration::from_secs(60), ExpireCondition::IfSooner)
        .await
        .unwrap());
    assert!(db
        .expire_with("k", Duration::from_secs(70), ExpireCondition::IfSet)
        .await
        .unwrap());
    let ttl = db.ttl("k").await.unwrap();
    assert!((65..=70).contains(&ttl), "{ttl}");
    assert!(!db
        .expire_with("missing", Duration::from_secs(1), ExpireCondition::IfNone)
        .await
        .unwrap());

    // EXPIREAT (whole seconds) and PEXPIREAT (milliseconds).
    let base = now_secs();
    let at = UNIX_EPOCH + Duration::from_secs(base as u64 + 1000);
    assert!(db.expireat("k", at).await.unwrap());
    assert_eq!(db.expiretime("k").await.unwrap(), base + 1000);
    let at_ms = at + Duration::from_millis(250);
    assert!(db.expireat("k", at_ms).await.unwrap());
    assert_eq!(
        db.pexpiretime("k").await.unwrap(),
        (base + 1000) * 1000 + 250
    );
    assert!(!db
        .expireat_with("k", at + Duration::from_secs(10), ExpireCondition::IfSooner)
        .await
        .unwrap());
    assert!(db
        .expireat_with("k", at + Duration::from_secs(10), ExpireCondition::IfLater)
        .await
        .unwrap());
    assert_eq!(db.expiretime("k").await.unwrap(), base + 1010);
    assert!(!db.expireat("missing", at).await.unwrap());

    // PERSIST, and the -1/-2 answers.
    assert!(db.persist("k").await.unwrap());
    assert!(!db.persist("k").await.unwrap());
    assert!(!db.persist("missing").await.unwrap());
    assert_eq!(db.pttl("k").await.unwrap(), -1);
    assert_eq!(db.expiretime("k").await.unwrap(), -1);
    assert_eq!(db.pexpiretime("k").await.unwrap(), -1);
    assert_eq!(db.pttl("missing").await.unwrap(), -2);
    assert_eq!(db.expiretime("missing").await.unwrap(), -2);
    assert_eq!(db.pexpiretime("missing").await.unwrap(), -2);

    // A time in the past deletes the key.
    assert!(db.expireat("k", UNIX_EPOCH).await.unwrap());
    assert_eq!(server.command(&["EXISTS", "k"]), ":0\r\n");
}

#[tokio::test]
async fn types_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        server.command(&["SET", "s", "v"]);
        server.command(&["RPUSH", "l", "a"]);
        server.command(&["SADD", "st", "a"]);
        server.command(&["ZADD", "z", "1", "a"]);
        server.command(&["HSET", "h", "f", "v"]);
        server.command(&["XADD", "x", "*", "f", "v"]);
        let cases = [
            ("s", KeyType::String),
            ("l", KeyType::List),
            ("st", KeyType::Set),
            ("z", KeyType::SortedSet),
            ("h", KeyType::Hash),
            ("x", KeyType::Stream),
        ];
        for (key, expected) in cases {
            let found = db.key_type(key).await.unwrap();
            assert_eq!(found, KeyTypeReply::Known(expected), "{protocol} {key}");
            assert_eq!(found.known(), Some(expected));
        }
        let missing = db.key_type("missing").await.unwrap();
        assert_eq!(missing, KeyTypeReply::Missing);
        assert_eq!(missing.known(), None);
    }
}

#[tokio::test]
async fn rename_copy_move_unlink_touch() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    db.set("a", "1").await.unwrap();
    db.set("b", "2").await.unwrap();

    db.rename("a", "c").await.unwrap();
    assert_eq!(server.command(&["GET", "c"]), "1");
    let err = db.rename("a", "d").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("no such key"), "{err}");
    assert!(!db.renamenx("c", "b").await.unwrap());
    assert!(db.renamenx("c", "a").await.unwrap());
    assert_eq!(server.command(&["GET", "a"]), "1");

    assert!(db.copy("a", "copy").await.unwrap());
    assert!(!db.copy("a", "b").await.unwrap(), "destination exists");
    assert!(!db.copy("missing", "x").await.unwrap());
    assert!(db
        .copy_with("a", "b", CopyOptions::new().replace())
        .await
        .unwrap());
    assert_eq!(server.command(&["GET", "b"]), "1");
    assert!(db
        .copy_with("a", "elsewhere", CopyOptions::new().db(3))
        .await
        .unwrap());
    let there: Option<String> = mux.database(3).get("elsewhere").await.unwrap();
    assert_eq!(there.as_deref(), Some("1"));

    assert!(db.move_key("copy", 4).await.unwrap());
    assert!(!db.move_key("copy", 4).await.unwrap());
    assert!(mux.database(4).exists("copy").await.unwrap());

    assert_eq!(db.touch(["a", "b", "missing"]).await.unwrap(), 2);
    assert!(db.unlink("a").await.unwrap());
    assert!(!db.unlink("a").await.unwrap());
    db.set("x", "1").await.unwrap();
    assert_eq!(db.unlink_many(["b", "x", "missing"]).await.unwrap(), 2);
    assert_eq!(server.command(&["DBSIZE"]), ":0\r\n");
}

#[tokio::test]
async fn object_subcommands() {
    let (server, mux) = connect("resp2").await;
    let db = mux.database(0);
    db.set("n", "12345").await.unwrap();
    db.set("s", "hello").await.unwrap();
    assert_eq!(
        db.object_encoding("n").await.unwrap().as_deref(),
        Some("int")
    );
    assert_eq!(
        db.object_encoding("s").await.unwrap().as_deref(),
        Some("embstr")
    );
    assert_eq!(db.object_encoding("missing").await.unwrap(), None);
    assert!(db.object_refcount("s").await.unwrap().is_some());
    assert_eq!(db.object_refcount("missing").await.unwrap(), None);
    let idle = db.object_idletime("s").await.unwrap();
    assert!(matches!(idle, Some(0..=5)), "{idle:?}");
    assert_eq!(db.object_idletime("missing").await.unwrap(), None);

    let err = db.object_freq("s").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("LFU"), "{err}");
    server.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    db.get::<Option<String>>("s").await.unwrap();
    assert!(db.object_freq("s").await.unwrap().is_some());
    assert_eq!(db.object_freq("missing").await.unwrap(), None);
}

#[tokio::test]
async fn dump_and_restore() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        server.command(&["RPUSH", "src", "a", "b"]);
        let data = db.dump("src").await.unwrap().expect("dump of a list");
        assert_eq!(db.dump("missing").await.unwrap(), None);

        db.restore("copy", data.clone()).await.unwrap();
        let items: Vec<String> = db.execute("LRANGE", ["copy", "0", "-1"]).await.unwrap();
        assert_eq!(items, ["a", "b"]);
        assert_eq!(db.ttl("copy").await.unwrap(), -1);

        let err = db.restore("copy", data.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("BUSYKEY"), "{err}");

        db.restore_with(
            "copy",
            data.clone(),
            RestoreOptions::new()
                .replace()
                .ttl(Duration::from_secs(100))
                .idle_time(Duration::from_secs(50)),
        )
        .await
        .unwrap();
        let ttl = db.ttl("copy").await.unwrap();
        assert!((95..=100).contains(&ttl), "{ttl}");
        let idle = db.object_idletime("copy").await.unwrap().unwrap_or(0);
        assert!(idle >= 50, "{idle}");

        let base = now_secs();
        let at = UNIX_EPOCH + Duration::from_secs(base as u64 + 500);
        db.restore_with("abs", data.clone(), RestoreOptions::new().expire_at(at))
            .await
            .unwrap();
        assert_eq!(db.expiretime("abs").await.unwrap(), base + 500);

        server.command(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
        db.restore_with("lfu", data.clone(), RestoreOptions::new().freq(100))
            .await
            .unwrap();
        assert_eq!(db.object_freq("lfu").await.unwrap(), Some(100));

        let err = db.restore("bad", "not a dump").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("payload"), "{err}");
    }
}

#[tokio::test]
async fn keys_and_randomkey_with_and_without_prefix() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let none: Option<String> = db.randomkey().await.unwrap();
    assert_eq!(none, None);
    let empty: Vec<String> = db.keys("*").await.unwrap();
    assert!(empty.is_empty());

    // With only a prefixed key, RANDOMKEY on the prefixed handle returns
    // it with the prefix stripped.
    server.command(&["SET", "t:user:9", "d"]);
    let tenant = db.with_key_prefix("t:");
    let one: Option<String> = tenant.randomkey().await.unwrap();
    assert_eq!(one.as_deref(), Some("user:9"));
    let one: Option<String> = db.randomkey().await.unwrap();
    assert_eq!(one.as_deref(), Some("t:user:9"));

    server.command(&["MSET", "user:1", "a", "user:2", "b", "other", "c"]);
    let mut users: Vec<String> = db.keys("user:*").await.unwrap();
    users.sort();
    assert_eq!(users, ["user:1", "user:2"]);
    let keys: Vec<String> = tenant.keys("*").await.unwrap();
    assert_eq!(keys, ["user:9"]);
    assert_eq!(
        tenant.key_type("user:9").await.unwrap().known(),
        Some(KeyType::String)
    );
}

#[tokio::test]
async fn sort_variants_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        server.command(&["RPUSH", "ids", "3", "1", "2", "10"]);
        server.command(&[
            "MSET", "w_1", "30", "w_2", "10", "w_3", "20", "name_1", "one", "name_2", "two",
            "name_3", "three",
        ]);

        let sorted: Vec<i64> = db.sort("ids", &SortOptions::new()).await.unwrap();
        assert_eq!(sorted, [1, 2, 3, 10]);
        let alpha: Vec<String> = db
            .sort("ids", &SortOptions::new().alpha().desc())
            .await
            .unwrap();
        assert_eq!(alpha, ["3", "2", "10", "1"]);
        let page: Vec<i64> = db
            .sort_ro("ids", &SortOptions::new().desc().limit(1, 2))
            .await
            .unwrap();
        assert_eq!(page, [3, 2]);
        let by_weight: Vec<Option<String>> = db
            .sort("ids", &SortOptions::new().by("w_*").get("#").get("name_*"))
            .await
            .unwrap();
        // 10 has no weight (0), then 2 (10), 3 (20), 1 (30).
        assert_eq!(
            by_weight,
            [
                Some("10".to_owned()),
                None,
                Some("2".to_owned()),
                Some("two".to_owned()),
                Some("3".to_owned()),
                Some("three".to_owned()),
                Some("1".to_owned()),
                Some("one".to_owned()),
            ],
            "{protocol}"
        );
        let missing: Vec<String> = db.sort("missing", &SortOptions::new()).await.unwrap();
        assert!(missing.is_empty());

        assert_eq!(
            db.sort_store("ids", "sorted", &SortOptions::new().desc())
                .await
                .unwrap(),
            4
        );
        let stored: Vec<String> = db.execute("LRANGE", ["sorted", "0", "-1"]).await.unwrap();
        assert_eq!(stored, ["10", "3", "2", "1"]);

        server.command(&["SET", "str", "x"]);
        let err = db
            .sort::<Vec<String>>("str", &SortOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("WRONGTYPE"), "{err}");
        server.command(&["RPUSH", "words", "b", "a"]);
        let err = db
            .sort::<Vec<String>>("words", &SortOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("converted into double"), "{err}");
    }
}

#[tokio::test]
async fn key_commands_in_a_batch() {
    let (_server, mux) = connect("resp3").await;
    let db = mux.database(0);
    db.set("k", "v").await.unwrap();
    let mut batch = db.batch();
    let expired = batch.expire_with("k", Duration::from_secs(30), ExpireCondition::IfNone);
    let pttl = batch.pttl("k");
    let kind = batch.key_type("k");
    let copied = batch.copy("k", "k2");
    let dumped = batch.dump("k2");
    let persisted = batch.persist("k");
    let mut replies = batch.execute().await.unwrap();
    assert!(replies.take(expired).unwrap());
    assert!(replies.take(pttl).unwrap() > 29_000);
    assert_eq!(
        replies.take(kind).unwrap(),
        KeyTypeReply::Known(KeyType::String)
    );
    assert!(replies.take(copied).unwrap());
    assert!(replies.take(dumped).unwrap().is_some());
    assert!(replies.take(persisted).unwrap());
}

//! `Database::with_key_prefix` against a real redis-server: only key
//! arguments get the prefix (checked on the server), typed and raw
//! commands, batches, SCAN and KEYS patterns, keys in replies stripped, and
//! commands whose keys cannot be found refused.

mod support;

use std::collections::HashSet;

use futures_util::TryStreamExt;
use redmux::prelude::*;
use redmux::{ErrorKind, ScanOptions, SetOptions, StreamKeyEntries, XReadGroupOptions};
use support::RedisServer;

#[tokio::test]
async fn only_key_arguments_get_the_prefix() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0).with_key_prefix("t:42:");
    assert_eq!(db.key_prefix(), Some(&b"t:42:"[..]));

    // Typed: key prefixed, value and options untouched.
    db.set_with(
        "k",
        "k",
        SetOptions::new().expire(std::time::Duration::from_secs(100)),
    )
    .await
    .unwrap();
    assert_eq!(server.command(&["GET", "t:42:k"]), "k");
    assert_eq!(server.command(&["EXISTS", "k"]), ":0\r\n");
    assert!(server.command(&["TTL", "t:42:k"]).starts_with(":1"));
    db.mset([("a", "a"), ("b", "b")]).await.unwrap();
    let got: Vec<Option<String>> = db.mget(["a", "b", "missing"]).await.unwrap();
    assert_eq!(got, [Some("a".into()), Some("b".into()), None]);
    assert_eq!(server.command(&["GET", "t:42:b"]), "b");

    // Raw: the key extractor finds the keys, even between other arguments.
    let _: i64 = db.execute("HSET", ["h", "h", "h"]).await.unwrap();
    assert_eq!(server.command(&["HGET", "t:42:h", "h"]), "h");
    server.command(&["ZADD", "t:42:z1", "1", "m"]);
    server.command(&["ZADD", "t:42:z2", "2", "m"]);
    let n: i64 = db
        .send(
            Cmd::new("ZUNIONSTORE")
                .key("dst")
                .arg(2)
                .key("z1")
                .key("z2")
                .arg("WEIGHTS")
                .arg(1)
                .arg(10),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(server.command(&["ZSCORE", "t:42:dst", "m"]), "21");

    // A batch goes through the same rewrite.
    let mut batch = db.batch();
    let set = batch.set("in-batch", "in-batch");
    let raw = batch.queue::<i64>(Cmd::new("APPEND").key("in-batch").arg("!"));
    let mut replies = batch.execute().await.unwrap();
    assert!(replies.take(set).unwrap());
    assert_eq!(replies.take(raw).unwrap(), 9);
    assert_eq!(server.command(&["GET", "t:42:in-batch"]), "in-batch!");

    // Prefixes add up.
    let inner = db.with_key_prefix("u:");
    inner.set("x", 1).await.unwrap();
    assert_eq!(server.command(&["GET", "t:42:u:x"]), "1");
}

#[tokio::test]
async fn keys_in_replies_come_back_without_the_prefix() {
    let server = RedisServer::start();
    for protocol in ["resp2", "resp3"] {
        let mux = server.connect(&format!(",protocol={protocol}")).await;
        server.command(&["FLUSHALL"]);
        let plain = mux.database(0);
        let db = plain.with_key_prefix("p*[");
        for i in 0..300 {
            db.set(format!("k{i}"), i).await.unwrap();
            plain.set(format!("other{i}"), i).await.unwrap();
        }
        // SCAN: a MATCH for the prefix (escaped: it has glob characters) is added.
        let keys: HashSet<String> = db
            .scan(ScanOptions::new().count(50))
            .try_collect()
            .await
            .unwrap();
        let want: HashSet<String> = (0..300).map(|i| format!("k{i}")).collect();
        assert_eq!(keys, want, "{protocol}");
        // With the caller's own MATCH, the prefix goes in front of it.
        let keys: HashSet<String> = db
            .scan(ScanOptions::new().matching("k1*"))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(keys.len(), 111); // k1, k10..k19, k100..k199
        assert!(keys.iter().all(|k| k.starts_with("k1")));

        let listed: Vec<String> = db.execute("KEYS", ["k2?"]).await.unwrap();
        assert_eq!(listed.len(), 10);
        assert!(listed.iter().all(|k| k.starts_with("k2") && k.len() == 3));
        // RANDOMKEY samples the whole database: keys of other namespaces
        // read as nil, prefixed ones come back stripped.
        let mut seen = (0, 0);
        for _ in 0..200 {
            match db
                .execute::<Option<String>, &str, _>("RANDOMKEY", [])
                .await
                .unwrap()
            {
                Some(key) => {
                    assert!(key.starts_with('k') && !key.starts_with("p*["), "{key}");
                    seen.0 += 1;
                }
                None => seen.1 += 1,
            }
        }
        assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");

        db.execute::<i64, _, _>("RPUSH", ["list", "a", "b"])
            .await
            .unwrap();
        let (key, items): (String, Vec<String>) = db
            .execute("LMPOP", ["2", "none", "list", "LEFT"])
            .await
            .unwrap();
        assert_eq!((key.as_str(), items), ("list", vec!["a".to_owned()]));

        // XREAD / XREADGROUP name the streams they read from.
        db.xadd("s1", [("f", "v")]).await.unwrap();
        db.xadd("s2", [("f", "w")]).await.unwrap();
        let read: Vec<StreamKeyEntries<String>> =
            db.xread([("s1", "0-0"), ("s2", "0-0")]).await.unwrap();
        let names: Vec<&str> = read.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(names, ["s1", "s2"], "{protocol}");
        // The raw form too: the key extractor finds the keys after STREAMS.
        let read: Vec<StreamKeyEntries<String>> = db
            .execute("XREAD", ["COUNT", "1", "STREAMS", "s2", "0-0"])
            .await
            .unwrap();
        assert_eq!(read[0].key, "s2", "{protocol}");
        assert_eq!(read[0].entries[0].get("f"), Some(&"w".to_owned()));
        db.xgroup_create("s1", "g", "0").await.unwrap();
        let read: Vec<StreamKeyEntries<String>> = db
            .xreadgroup("g", "c", [("s1", ">")], XReadGroupOptions::new())
            .await
            .unwrap();
        assert_eq!(read[0].key, "s1", "{protocol}");
        assert_eq!(read[0].entries.len(), 1);
        // On the server the stream lives under the prefix.
        let raw: Vec<StreamKeyEntries<String>> = plain.xread([("p*[s1", "0-0")]).await.unwrap();
        assert_eq!(raw[0].key, "p*[s1");
    }
}

#[tokio::test]
async fn commands_whose_keys_cannot_be_found_are_refused_unsent() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0).with_key_prefix("t:");
    server.command(&["RPUSH", "t:l", "2", "1"]);
    let err = db
        .execute::<Vec<String>, _, _>("SORT", ["l", "BY", "w_*"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert!(err.to_string().contains("SORT"), "{err}");
    assert_eq!(server.command_calls("sort"), 0);
    let err = db
        .execute::<(), _, _>("NOSUCHCOMMAND", ["x"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    // In a batch, the refusal fails the batch before anything is sent.
    let mut batch = db.batch();
    let _ = batch.set("fine", 1);
    let _ = batch.queue::<()>(Cmd::new("SORT").key("l").arg("GET").arg("o_*"));
    assert_eq!(
        batch.execute().await.unwrap_err().kind(),
        ErrorKind::Refused
    );
    assert_eq!(server.command(&["EXISTS", "t:fine"]), ":0\r\n");
    // SORT without patterns is fine.
    let sorted: Vec<i64> = db.execute("SORT", ["l"]).await.unwrap();
    assert_eq!(sorted, [1, 2]);
}

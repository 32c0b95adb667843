//! SCAN, HSCAN, SSCAN and ZSCAN as streams, against a real redis-server:
//! every element once on a keyspace that does not change, lazy paging,
//! MATCH/COUNT/TYPE, pairs under RESP2 and RESP3, and errors that end the
//! stream.

mod support;

use std::collections::{HashMap, HashSet};

use futures_util::{StreamExt, TryStreamExt};
use redmux::prelude::*;
use redmux::{Database, ErrorKind, KeyType, ScanOptions};
use support::RedisServer;

/// Writes `count` string keys `prefix{i}` in batches of MSETs.
async fn fill_strings(db: &Database, prefix: &str, count: usize) {
    let keys: Vec<String> = (0..count).map(|i| format!("{prefix}{i}")).collect();
    for chunk in keys.chunks(500) {
        db.mset(chunk.iter().map(|k| (k.as_str(), "v")))
            .await
            .expect("MSET");
    }
}

#[tokio::test]
async fn scan_visits_every_key_exactly_once_in_pages() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0);
    fill_strings(&db, "key:", 2_500).await;

    let keys: Vec<String> = db
        .scan(ScanOptions::new().count(100))
        .try_collect()
        .await
        .expect("scan");

    let pages = server.command_calls("scan");
    assert!(
        pages > 10,
        "2,500 keys at COUNT 100 take many pages, saw {pages}"
    );
    let distinct: HashSet<&String> = keys.iter().collect();
    assert_eq!(
        keys.len(),
        2_500,
        "every key once: no key missing or repeated"
    );
    assert_eq!(distinct.len(), 2_500);
    assert!((0..2_500).all(|i| distinct.contains(&format!("key:{i}"))));
}

// Two workers: the driver runs while the test waits, so a page fetched
// ahead of need would be seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_fetched_only_as_items_are_taken() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0);
    fill_strings(&db, "k", 1_000).await;
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(100));

    let mut stream = db.scan::<String>(ScanOptions::new().count(10));
    pause().await;
    assert_eq!(
        server.command_calls("scan"),
        0,
        "nothing sent before the first poll"
    );
    let first = stream.next().await.expect("an item").expect("a key");
    assert!(first.starts_with('k'));
    pause().await;
    assert_eq!(
        server.command_calls("scan"),
        1,
        "one page for the first key"
    );
    for _ in 0..4 {
        stream.next().await.expect("an item").expect("a key");
    }
    pause().await;
    let calls = server.command_calls("scan");
    assert!(
        calls <= 2,
        "five keys at COUNT 10: at most two pages, saw {calls}"
    );
}

#[tokio::test]
async fn match_and_type_filter_the_keys() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0);
    fill_strings(&db, "user:", 200).await;
    fill_strings(&db, "other:", 200).await;
    for i in 0..30 {
        let _: i64 = db
            .execute("HSET", [format!("user:h{i}"), "f".into(), "v".into()])
            .await
            .expect("HSET");
    }

    let users: HashSet<String> = db
        .scan(ScanOptions::new().matching("user:*").count(50))
        .try_collect()
        .await
        .expect("scan");
    assert_eq!(users.len(), 230);
    assert!(users.iter().all(|k| k.starts_with("user:")));

    let hashes: HashSet<String> = db
        .scan(ScanOptions::new().matching("user:*").of_type(KeyType::Hash))
        .try_collect()
        .await
        .expect("scan");
    let expected: HashSet<String> = (0..30).map(|i| format!("user:h{i}")).collect();
    assert_eq!(hashes, expected);
}

/// HSCAN, SSCAN and ZSCAN give every member once, as pairs where the
/// command returns pairs; the same under RESP2 and RESP3.
#[tokio::test]
async fn member_scans_return_every_member_as_typed_items() {
    let server = RedisServer::start();
    for protocol in ["resp2", "resp3"] {
        let mux = server.connect(&format!(",protocol={protocol}")).await;
        let db = mux.database(0);
        let (h, s, z) = (
            format!("{protocol}:h"),
            format!("{protocol}:s"),
            format!("{protocol}:z"),
        );
        let mut hset = vec![h.clone()];
        let mut sadd = vec![s.clone()];
        let mut zadd = vec![z.clone()];
        for i in 0..300 {
            hset.extend([format!("f{i}"), format!("v{i}")]);
            sadd.push(format!("m{i}"));
            zadd.extend([format!("{}.5", i), format!("z{i}")]);
        }
        let added: (i64, i64, i64) = (
            db.execute("HSET", hset).await.expect("HSET"),
            db.execute("SADD", sadd).await.expect("SADD"),
            db.execute("ZADD", zadd).await.expect("ZADD"),
        );
        assert_eq!(added, (300, 300, 300), "{protocol}: fresh keys");

        let fields: Vec<(String, String)> = db
            .hscan(&h, ScanOptions::new().count(20))
            .try_collect()
            .await
            .expect("hscan");
        assert_eq!(fields.len(), 300, "{protocol}: every field once");
        let fields: HashMap<String, String> = fields.into_iter().collect();
        assert!((0..300).all(|i| fields.get(&format!("f{i}")) == Some(&format!("v{i}"))));

        let members: Vec<String> = db
            .sscan(&s, ScanOptions::new().count(20))
            .try_collect()
            .await
            .expect("sscan");
        let distinct: HashSet<&String> = members.iter().collect();
        assert_eq!((members.len(), distinct.len()), (300, 300), "{protocol}");

        let scored: Vec<(String, f64)> = db
            .zscan(&z, ScanOptions::new().count(20))
            .try_collect()
            .await
            .expect("zscan");
        assert_eq!(scored.len(), 300, "{protocol}");
        for (member, score) in scored {
            let i: f64 = member[1..].parse().expect("z<i>");
            assert_eq!(score, i + 0.5, "{protocol}: score of {member}");
        }

        let matched: Vec<(String, String)> = db
            .hscan(&h, ScanOptions::new().matching("f1?"))
            .try_collect()
            .await
            .expect("hscan MATCH");
        assert_eq!(matched.len(), 10, "{protocol}: f10..f19");
    }
}

#[tokio::test]
async fn errors_end_the_stream() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0);
    assert!(db.set("text", "v").await.expect("SET"));

    // The server's error (WRONGTYPE), then the end.
    let mut wrong = db.sscan::<String>("text", ScanOptions::new());
    let err = wrong.next().await.expect("an item").expect_err("WRONGTYPE");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("SSCAN"), "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    assert!(
        wrong.next().await.is_none(),
        "the stream ends after an error"
    );

    // TYPE is SCAN's alone: refused before anything is sent.
    let mut typed = db.hscan::<String, String>("h", ScanOptions::new().of_type(KeyType::Hash));
    let err = typed.next().await.expect("an item").expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(err.to_string().contains("TYPE"), "{err}");
    assert!(typed.next().await.is_none());
    assert_eq!(server.command_calls("hscan"), 0, "nothing was sent");

    // A conversion error names the command and ends the stream too, though
    // the set has many more pages.
    let mut words = vec!["words".to_owned()];
    words.extend((0..500).map(|i| format!("w{i}")));
    let _: i64 = db.execute("SADD", words).await.expect("SADD");
    let mut numbers = db.sscan::<i64>("words", ScanOptions::new().count(10));
    let err = numbers
        .next()
        .await
        .expect("an item")
        .expect_err("not an integer");
    assert_eq!(err.kind(), ErrorKind::TypeConversion, "{err}");
    assert!(err.to_string().contains("SSCAN"), "{err}");
    assert!(numbers.next().await.is_none(), "ended after the error");
    assert_eq!(
        server.command_calls("sscan"),
        2,
        "the WRONGTYPE one and one page of the 500 words"
    );
}

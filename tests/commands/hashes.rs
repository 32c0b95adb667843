//! Hash commands against a real server, under RESP2 and RESP3.

use std::collections::{BTreeMap, HashMap, HashSet};

use redmux::prelude::*;
use redmux::{ErrorKind, HashPairs};

use crate::connect;

fn assert_wrongtype(err: redmux::Error) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
}

#[tokio::test]
async fn set_get_delete_and_exists() {
    let (server, mux) = connect("resp2").await;
    let db = mux.database(0);

    assert!(db.hset("h", "a", "1").await.unwrap(), "a new field");
    assert!(!db.hset("h", "a", "2").await.unwrap(), "an update");
    assert_eq!(server.command(&["HGET", "h", "a"]), "2");
    assert_eq!(
        db.hset_many("h", [("b", "x"), ("c", "yy"), ("a", "3")])
            .await
            .unwrap(),
        2,
        "b and c are new, a is updated"
    );
    assert_eq!(
        db.hget::<Option<String>>("h", "a").await.unwrap(),
        Some("3".into())
    );
    assert_eq!(db.hget::<i64>("h", "a").await.unwrap(), 3);
    assert_eq!(db.hget::<Option<String>>("h", "nope").await.unwrap(), None);
    assert_eq!(db.hget::<Option<String>>("nokey", "a").await.unwrap(), None);
    let err = db.hget::<String>("h", "nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion, "{err}");

    assert!(db.hexists("h", "b").await.unwrap());
    assert!(!db.hexists("h", "zz").await.unwrap());
    assert!(!db.hexists("nokey", "b").await.unwrap());

    assert_eq!(db.hlen("h").await.unwrap(), 3);
    assert_eq!(db.hlen("nokey").await.unwrap(), 0);
    assert_eq!(db.hstrlen("h", "c").await.unwrap(), 2);
    assert_eq!(db.hstrlen("h", "zz").await.unwrap(), 0);

    assert!(db.hsetnx("h", "d", "new").await.unwrap());
    assert!(!db.hsetnx("h", "d", "other").await.unwrap());
    assert_eq!(server.command(&["HGET", "h", "d"]), "new");

    assert!(db.hdel("h", "d").await.unwrap());
    assert!(!db.hdel("h", "d").await.unwrap());
    assert_eq!(db.hdel_many("h", ["b", "c", "zz"]).await.unwrap(), 2);
    assert_eq!(server.command(&["HLEN", "h"]).trim(), ":1");
    assert_eq!(db.hdel_many("nokey", ["a"]).await.unwrap(), 0);

    db.hmset("m", [("f1", "v1"), ("f2", "v2")]).await.unwrap();
    assert_eq!(server.command(&["HGET", "m", "f2"]), "v2");

    // Binary fields and values.
    assert!(db
        .hset("bin", b"\x00f".as_slice(), b"\xff\r\n".as_slice())
        .await
        .unwrap());
    let v: Option<Vec<u8>> = db.hget("bin", b"\x00f".as_slice()).await.unwrap();
    assert_eq!(v.as_deref(), Some(b"\xff\r\n".as_slice()));
}

#[tokio::test]
async fn whole_hash_replies_under_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.hset_many("h", [("a", "1"), ("b", "2"), ("c", "3")])
            .await
            .unwrap();

        let all: HashMap<String, i64> = db.hgetall("h").await.unwrap();
        assert_eq!(all.len(), 3, "{protocol}");
        assert_eq!(all["b"], 2, "{protocol}");
        let sorted: BTreeMap<String, String> = db.hgetall("h").await.unwrap();
        assert_eq!(
            sorted.into_iter().collect::<Vec<_>>(),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "3".to_owned())
            ],
            "{protocol}"
        );
        let pairs: HashPairs<String, u32> = db.hgetall("h").await.unwrap();
        let mut pairs = pairs.into_vec();
        pairs.sort();
        assert_eq!(
            pairs,
            vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 3)],
            "{protocol}"
        );
        let empty: HashMap<String, String> = db.hgetall("nokey").await.unwrap();
        assert!(empty.is_empty(), "{protocol}");

        let keys: HashSet<String> = db.hkeys("h").await.unwrap();
        assert_eq!(
            keys,
            HashSet::from(["a".to_owned(), "b".to_owned(), "c".to_owned()]),
            "{protocol}"
        );
        let mut values: Vec<i64> = db.hvals("h").await.unwrap();
        values.sort();
        assert_eq!(values, vec![1, 2, 3], "{protocol}");
        assert!(db.hkeys::<Vec<String>>("nokey").await.unwrap().is_empty());
        assert!(db.hvals::<String>("nokey").await.unwrap().is_empty());

        let got: Vec<Option<String>> = db.hmget("h", ["c", "zz", "a"]).await.unwrap();
        assert_eq!(
            got,
            vec![Some("3".into()), None, Some("1".into())],
            "{protocol}"
        );
        let got: Vec<Option<String>> = db.hmget("nokey", ["a", "b"]).await.unwrap();
        assert_eq!(got, vec![None, None], "{protocol}");

        assert_eq!(db.hincrby("h", "a", 10).await.unwrap(), 11, "{protocol}");
        assert_eq!(db.hincrby("h", "new", -4).await.unwrap(), -4, "{protocol}");
        assert_eq!(
            db.hincrbyfloat("h", "f", 1.5).await.unwrap(),
            1.5,
            "{protocol}"
        );
        assert_eq!(
            db.hincrbyfloat("h", "f", -0.25).await.unwrap(),
            1.25,
            "{protocol}"
        );
        let err = db.hincrby("h", "f", 1).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        assert!(err.to_string().contains("not an integer"), "{err}");
    }
}

#[tokio::test]
async fn hrandfield_in_every_shape_under_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        let full: HashMap<String, i64> =
            HashMap::from([("a".into(), 1), ("b".into(), 2), ("c".into(), 3)]);
        db.hset_many("h", full.iter().map(|(f, v)| (f.as_str(), *v)))
            .await
            .unwrap();

        let one: Option<String> = db.hrandfield("h").await.unwrap();
        assert!(full.contains_key(one.as_deref().unwrap()), "{protocol}");
        assert_eq!(db.hrandfield::<String>("nokey").await.unwrap(), None);

        let mut some: Vec<String> = db.hrandfield_count("h", 5).await.unwrap();
        some.sort();
        assert_eq!(
            some,
            vec!["a", "b", "c"],
            "distinct, at most the hash: {protocol}"
        );
        let repeats: Vec<String> = db.hrandfield_count("h", -7).await.unwrap();
        assert_eq!(repeats.len(), 7, "{protocol}");
        assert!(repeats.iter().all(|f| full.contains_key(f)), "{protocol}");
        assert!(db
            .hrandfield_count::<String>("nokey", 3)
            .await
            .unwrap()
            .is_empty());

        let pairs = db
            .hrandfield_with_values::<String, i64>("h", 2)
            .await
            .unwrap();
        assert_eq!(pairs.len(), 2, "{protocol}");
        for (field, value) in &pairs {
            assert_eq!(full[field], *value, "{protocol}");
        }
        let pairs = db
            .hrandfield_with_values::<String, i64>("h", -5)
            .await
            .unwrap();
        assert_eq!(pairs.len(), 5, "{protocol}");
        for (field, value) in pairs {
            assert_eq!(full[&field], value, "{protocol}");
        }
        // One pair is the ambiguous case for a flat/nested guess.
        let pairs = db
            .hrandfield_with_values::<String, i64>("h", 1)
            .await
            .unwrap()
            .into_vec();
        assert_eq!(pairs.len(), 1, "{protocol}");
        assert_eq!(full[&pairs[0].0], pairs[0].1, "{protocol}");
        assert!(db
            .hrandfield_with_values::<String, String>("nokey", 3)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn wrong_type_errors() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    server.command(&["SET", "s", "v"]);
    assert_wrongtype(db.hset("s", "f", "v").await.unwrap_err());
    assert_wrongtype(db.hget::<Option<String>>("s", "f").await.unwrap_err());
    assert_wrongtype(
        db.hgetall::<HashMap<String, String>>("s")
            .await
            .unwrap_err(),
    );
    assert_wrongtype(db.hlen("s").await.unwrap_err());
    assert_wrongtype(db.hdel_many("s", ["f"]).await.unwrap_err());
    assert_wrongtype(db.hrandfield::<String>("s").await.unwrap_err());
    assert_wrongtype(db.hmget::<String, _>("s", ["f"]).await.unwrap_err());
    assert_wrongtype(db.hincrbyfloat("s", "f", 1.0).await.unwrap_err());
    assert_eq!(server.command(&["GET", "s"]), "v", "left alone");
}

#[tokio::test]
async fn hash_commands_in_a_batch() {
    let (_server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let added = batch.hset_many("h", [("a", "1"), ("b", "2")]);
    let incr = batch.hincrby("h", "a", 5);
    let a = batch.hget::<Option<String>>("h", "a");
    let all = batch.hgetall::<BTreeMap<String, i64>>("h");
    let pairs = batch.hrandfield_with_values::<String, i64>("h", -3);
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(added).unwrap(), 2);
    assert_eq!(replies.take(incr).unwrap(), 6);
    assert_eq!(replies.take(a).unwrap(), Some("6".into()));
    assert_eq!(
        replies.take(all).unwrap(),
        BTreeMap::from([("a".into(), 6), ("b".into(), 2)])
    );
    assert_eq!(replies.take(pairs).unwrap().len(), 3);
}

//! Set commands against a real server, under RESP2 and RESP3.

use std::collections::HashSet;

use redmux::prelude::*;
use redmux::ErrorKind;

use crate::connect;

fn assert_wrongtype(err: redmux::Error) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
}

fn set(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn members_add_remove_and_test() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        assert!(db.sadd("s", "a").await.unwrap());
        assert!(!db.sadd("s", "a").await.unwrap(), "already there");
        assert_eq!(db.sadd_many("s", ["a", "b", "c", "d"]).await.unwrap(), 3);
        assert_eq!(server.command(&["SCARD", "s"]).trim(), ":4");
        assert_eq!(db.scard("s").await.unwrap(), 4);
        assert_eq!(db.scard("nokey").await.unwrap(), 0);

        let members: HashSet<String> = db.smembers("s").await.unwrap();
        assert_eq!(members, set(&["a", "b", "c", "d"]), "{protocol}");
        let mut members: Vec<String> = db.smembers("s").await.unwrap();
        members.sort();
        assert_eq!(members, ["a", "b", "c", "d"], "{protocol}");
        assert!(db
            .smembers::<Vec<String>>("nokey")
            .await
            .unwrap()
            .is_empty());

        assert!(db.sismember("s", "b").await.unwrap());
        assert!(!db.sismember("s", "z").await.unwrap());
        assert!(!db.sismember("nokey", "b").await.unwrap());
        assert_eq!(
            db.smismember("s", ["a", "z", "d"]).await.unwrap(),
            [true, false, true],
            "{protocol}"
        );
        assert_eq!(db.smismember("nokey", ["a"]).await.unwrap(), [false]);

        assert!(db.srem("s", "a").await.unwrap());
        assert!(!db.srem("s", "a").await.unwrap());
        assert_eq!(db.srem_many("s", ["b", "c", "z"]).await.unwrap(), 2);
        assert_eq!(db.srem_many("nokey", ["b"]).await.unwrap(), 0);
        assert_eq!(server.command(&["SMEMBERS", "s"]).trim(), "*1");

        assert!(db.smove("s", "t", "d").await.unwrap());
        assert!(!db.smove("s", "t", "d").await.unwrap(), "no longer in s");
        assert_eq!(server.command(&["SISMEMBER", "t", "d"]).trim(), ":1");
        assert_eq!(server.command(&["EXISTS", "s"]).trim(), ":0");
    }
}

#[tokio::test]
async fn random_members() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        let all = set(&["a", "b", "c"]);
        db.sadd_many("s", &all).await.unwrap();

        let one = db.srandmember::<String>("s").await.unwrap().unwrap();
        assert!(all.contains(&one), "{protocol}");
        assert_eq!(db.srandmember::<String>("nokey").await.unwrap(), None);
        let some: HashSet<String> = db
            .srandmember_count::<String>("s", 10)
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(some, all, "distinct, at most the set: {protocol}");
        let repeats: Vec<String> = db.srandmember_count("s", -8).await.unwrap();
        assert_eq!(repeats.len(), 8, "{protocol}");
        assert!(repeats.iter().all(|m| all.contains(m)));
        assert!(db
            .srandmember_count::<String>("nokey", 2)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            db.scard("s").await.unwrap(),
            3,
            "SRANDMEMBER leaves the set"
        );

        let popped = db.spop::<String>("s").await.unwrap().unwrap();
        assert!(all.contains(&popped), "{protocol}");
        let rest: Vec<String> = db.spop_count("s", 5).await.unwrap();
        assert_eq!(rest.len(), 2, "{protocol}");
        let mut seen: HashSet<String> = rest.into_iter().collect();
        seen.insert(popped);
        assert_eq!(seen, all, "{protocol}");
        assert_eq!(server.command(&["EXISTS", "s"]).trim(), ":0");
        assert_eq!(db.spop::<String>("s").await.unwrap(), None);
        assert!(db.spop_count::<String>("s", 2).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn set_algebra() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.sadd_many("x", ["a", "b", "c", "d"]).await.unwrap();
        db.sadd_many("y", ["c", "d", "e"]).await.unwrap();
        db.sadd_many("z", ["d", "f"]).await.unwrap();

        let diff: HashSet<String> = db.sdiff(["x", "y"]).await.unwrap();
        assert_eq!(diff, set(&["a", "b"]), "{protocol}");
        let diff: HashSet<String> = db.sdiff(["x", "y", "z"]).await.unwrap();
        assert_eq!(diff, set(&["a", "b"]));
        let diff: HashSet<String> = db.sdiff(["x", "nokey"]).await.unwrap();
        assert_eq!(diff.len(), 4);
        let inter: HashSet<String> = db.sinter(["x", "y"]).await.unwrap();
        assert_eq!(inter, set(&["c", "d"]), "{protocol}");
        let inter: Vec<String> = db.sinter(["x", "y", "z"]).await.unwrap();
        assert_eq!(inter, ["d"]);
        let inter: Vec<String> = db.sinter(["x", "nokey"]).await.unwrap();
        assert!(inter.is_empty());
        let union: HashSet<String> = db.sunion(["y", "z", "nokey"]).await.unwrap();
        assert_eq!(union, set(&["c", "d", "e", "f"]), "{protocol}");

        assert_eq!(db.sintercard(["x", "y"]).await.unwrap(), 2);
        assert_eq!(db.sintercard(["x", "y", "z"]).await.unwrap(), 1);
        assert_eq!(db.sintercard(["x", "nokey"]).await.unwrap(), 0);
        assert_eq!(db.sintercard_limit(["x", "y"], 1).await.unwrap(), 1);
        assert_eq!(
            db.sintercard_limit(["x", "y"], 0).await.unwrap(),
            2,
            "0: no limit"
        );
        assert_eq!(db.sintercard_limit(["x"], 3).await.unwrap(), 3);

        assert_eq!(db.sdiffstore("out", ["x", "y"]).await.unwrap(), 2);
        assert_eq!(
            db.smembers::<HashSet<String>>("out").await.unwrap(),
            set(&["a", "b"])
        );
        assert_eq!(db.sinterstore("out", ["x", "y"]).await.unwrap(), 2);
        assert_eq!(
            db.smembers::<HashSet<String>>("out").await.unwrap(),
            set(&["c", "d"]),
            "overwritten"
        );
        assert_eq!(db.sunionstore("out", ["x", "y", "z"]).await.unwrap(), 6);
        assert_eq!(server.command(&["SCARD", "out"]).trim(), ":6");
        assert_eq!(db.sinterstore("out", ["x", "nokey"]).await.unwrap(), 0);
        assert_eq!(server.command(&["EXISTS", "out"]).trim(), ":0", "emptied");

        // Under a key prefix, every key (destination included) is prefixed.
        let tenant = db.with_key_prefix("t1:");
        tenant.sadd_many("p", ["1", "2"]).await.unwrap();
        tenant.sadd_many("q", ["2", "3"]).await.unwrap();
        assert_eq!(tenant.sunionstore("u", ["p", "q"]).await.unwrap(), 3);
        assert_eq!(server.command(&["SCARD", "t1:u"]).trim(), ":3");
        assert_eq!(tenant.sintercard(["p", "q"]).await.unwrap(), 1);
        assert!(tenant.smove("p", "q", "1").await.unwrap());
        assert_eq!(server.command(&["SCARD", "t1:q"]).trim(), ":3");
    }
}

#[tokio::test]
async fn wrong_type_errors() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    server.command(&["SET", "str", "v"]);
    db.sadd("s", "a").await.unwrap();
    assert_wrongtype(db.sadd("str", "a").await.unwrap_err());
    assert_wrongtype(db.smembers::<Vec<String>>("str").await.unwrap_err());
    assert_wrongtype(db.scard("str").await.unwrap_err());
    assert_wrongtype(db.sinter::<Vec<String>, _>(["s", "str"]).await.unwrap_err());
    assert_wrongtype(db.sintercard(["s", "str"]).await.unwrap_err());
    assert_wrongtype(db.sunionstore("out", ["s", "str"]).await.unwrap_err());
    assert_wrongtype(db.smove("s", "str", "a").await.unwrap_err());
    assert_wrongtype(db.spop::<String>("str").await.unwrap_err());
    assert_eq!(server.command(&["GET", "str"]), "v", "left alone");
    assert_eq!(server.command(&["SCARD", "s"]).trim(), ":1", "not moved");
}

#[tokio::test]
async fn set_commands_in_a_batch() {
    let (_server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let added = batch.sadd_many("s", ["a", "b", "c"]);
    let removed = batch.srem("s", "b");
    let card = batch.scard("s");
    let flags = batch.smismember("s", ["a", "b"]);
    let members = batch.smembers::<HashSet<String>>("s");
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(added).unwrap(), 3);
    assert!(replies.take(removed).unwrap());
    assert_eq!(replies.take(card).unwrap(), 2);
    assert_eq!(replies.take(flags).unwrap(), [true, false]);
    assert_eq!(replies.take(members).unwrap(), set(&["a", "c"]));
}

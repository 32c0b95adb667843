//! List commands against a real server, under RESP2 and RESP3.

use redmux::prelude::*;
use redmux::{ErrorKind, LPosOptions, ListEnd, ListInsert};

use crate::connect;

fn assert_wrongtype(err: redmux::Error) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
}

async fn all(db: &Database, key: &str) -> Vec<String> {
    db.lrange(key, 0, -1).await.unwrap()
}

#[tokio::test]
async fn push_pop_and_ranges() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        assert_eq!(db.rpush("l", "b").await.unwrap(), 1);
        assert_eq!(db.lpush("l", "a").await.unwrap(), 2);
        assert_eq!(db.rpush_many("l", ["c", "d"]).await.unwrap(), 4);
        assert_eq!(db.lpush_many("l", ["y", "z"]).await.unwrap(), 6);
        assert_eq!(
            all(&db, "l").await,
            ["z", "y", "a", "b", "c", "d"],
            "{protocol}"
        );
        assert_eq!(server.command(&["LLEN", "l"]).trim(), ":6");
        assert_eq!(db.llen("l").await.unwrap(), 6);
        assert_eq!(db.llen("nokey").await.unwrap(), 0);

        assert_eq!(db.lpushx("nokey", "x").await.unwrap(), 0);
        assert_eq!(db.rpushx_many("nokey", ["x", "y"]).await.unwrap(), 0);
        assert_eq!(server.command(&["EXISTS", "nokey"]).trim(), ":0");
        assert_eq!(db.lpushx_many("l", ["p", "q"]).await.unwrap(), 8);
        assert_eq!(db.rpushx("l", "e").await.unwrap(), 9);
        assert_eq!(
            all(&db, "l").await,
            ["q", "p", "z", "y", "a", "b", "c", "d", "e"],
            "{protocol}"
        );

        let mid: Vec<String> = db.lrange("l", 2, 3).await.unwrap();
        assert_eq!(mid, ["z", "y"]);
        let tail: Vec<String> = db.lrange("l", -2, -1).await.unwrap();
        assert_eq!(tail, ["d", "e"]);
        assert!(db
            .lrange::<String>("nokey", 0, -1)
            .await
            .unwrap()
            .is_empty());

        assert_eq!(db.lindex::<String>("l", 0).await.unwrap(), Some("q".into()));
        assert_eq!(
            db.lindex::<String>("l", -1).await.unwrap(),
            Some("e".into())
        );
        assert_eq!(db.lindex::<String>("l", 100).await.unwrap(), None);
        assert_eq!(db.lindex::<String>("nokey", 0).await.unwrap(), None);

        assert_eq!(db.lpop::<String>("l").await.unwrap(), Some("q".into()));
        assert_eq!(db.rpop::<String>("l").await.unwrap(), Some("e".into()));
        let head: Vec<String> = db.lpop_count("l", 2).await.unwrap();
        assert_eq!(head, ["p", "z"], "{protocol}");
        let tail: Vec<String> = db.rpop_count("l", 2).await.unwrap();
        assert_eq!(tail, ["d", "c"], "last first: {protocol}");
        assert_eq!(db.lpop::<String>("nokey").await.unwrap(), None);
        assert_eq!(db.rpop::<String>("nokey").await.unwrap(), None);
        assert!(db
            .lpop_count::<String>("nokey", 3)
            .await
            .unwrap()
            .is_empty());
        assert!(db
            .rpop_count::<String>("nokey", 3)
            .await
            .unwrap()
            .is_empty());
        let rest: Vec<String> = db.rpop_count("l", 10).await.unwrap();
        assert_eq!(rest, ["b", "a", "y"], "{protocol}");
        assert_eq!(server.command(&["EXISTS", "l"]).trim(), ":0", "emptied");
    }
}

#[tokio::test]
async fn edits_in_place() {
    let (server, mux) = connect("resp2").await;
    let db = mux.database(0);
    db.rpush_many("l", ["a", "x", "b", "x", "c", "x"])
        .await
        .unwrap();

    assert_eq!(
        db.linsert("l", ListInsert::Before, "b", "B-")
            .await
            .unwrap(),
        7
    );
    assert_eq!(
        db.linsert("l", ListInsert::After, "b", "B+").await.unwrap(),
        8
    );
    assert_eq!(
        db.linsert("l", ListInsert::After, "nope", "?")
            .await
            .unwrap(),
        -1
    );
    assert_eq!(
        db.linsert("nokey", ListInsert::After, "a", "?")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        all(&db, "l").await,
        ["a", "x", "B-", "b", "B+", "x", "c", "x"]
    );

    assert_eq!(db.lrem("l", -1, "x").await.unwrap(), 1, "the last x");
    assert_eq!(all(&db, "l").await, ["a", "x", "B-", "b", "B+", "x", "c"]);
    assert_eq!(db.lrem("l", 0, "x").await.unwrap(), 2);
    assert_eq!(db.lrem("l", 1, "zz").await.unwrap(), 0);
    assert_eq!(all(&db, "l").await, ["a", "B-", "b", "B+", "c"]);

    db.lset("l", 1, "one").await.unwrap();
    db.lset("l", -1, "last").await.unwrap();
    assert_eq!(server.command(&["LINDEX", "l", "1"]), "one");
    let err = db.lset("l", 99, "v").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("index out of range"), "{err}");
    let err = db.lset("nokey", 0, "v").await.unwrap_err();
    assert!(err.to_string().contains("no such key"), "{err}");

    db.ltrim("l", 1, -2).await.unwrap();
    assert_eq!(all(&db, "l").await, ["one", "b", "B+"]);
    db.ltrim("l", 5, 10).await.unwrap();
    assert_eq!(
        server.command(&["EXISTS", "l"]).trim(),
        ":0",
        "trimmed away"
    );
}

#[tokio::test]
async fn moves_between_lists() {
    for protocol in ["resp2", "resp3"] {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.rpush_many("src", ["a", "b", "c"]).await.unwrap();

        let moved: Option<String> = db
            .lmove("src", "dst", ListEnd::Left, ListEnd::Right)
            .await
            .unwrap();
        assert_eq!(moved.as_deref(), Some("a"));
        let moved: Option<String> = db
            .lmove("src", "dst", ListEnd::Right, ListEnd::Left)
            .await
            .unwrap();
        assert_eq!(moved.as_deref(), Some("c"));
        assert_eq!(all(&db, "dst").await, ["c", "a"], "{protocol}");
        assert_eq!(
            db.rpoplpush::<String>("src", "dst").await.unwrap(),
            Some("b".into())
        );
        assert_eq!(all(&db, "dst").await, ["b", "c", "a"], "{protocol}");
        assert_eq!(
            db.lmove::<String>("src", "dst", ListEnd::Left, ListEnd::Left)
                .await
                .unwrap(),
            None
        );
        assert_eq!(db.rpoplpush::<String>("src", "dst").await.unwrap(), None);
        // A list rotated onto itself.
        assert_eq!(
            db.rpoplpush::<String>("dst", "dst").await.unwrap(),
            Some("a".into())
        );
        assert_eq!(all(&db, "dst").await, ["a", "b", "c"], "{protocol}");

        // LMPOP: the first non-empty list, its name and up to COUNT elements.
        db.rpush_many("second", ["1", "2", "3"]).await.unwrap();
        let popped = db
            .lmpop::<String, i64, _>(["empty", "second", "dst"], ListEnd::Left, 2)
            .await
            .unwrap();
        assert_eq!(
            popped,
            Some(("second".to_owned(), vec![1, 2])),
            "{protocol}"
        );
        let popped = db
            .lmpop::<String, String, _>(["dst"], ListEnd::Right, 10)
            .await
            .unwrap();
        assert_eq!(
            popped,
            Some(("dst".to_owned(), vec!["c".into(), "b".into(), "a".into()])),
            "{protocol}"
        );
        let none = db
            .lmpop::<String, String, _>(["empty", "dst"], ListEnd::Left, 1)
            .await
            .unwrap();
        assert_eq!(none, None, "{protocol}");

        // Under a key prefix, the key name comes back without it.
        let tenant = db.with_key_prefix("t1:");
        tenant.rpush("jobs", "j").await.unwrap();
        let popped = tenant
            .lmpop::<String, String, _>(["none", "jobs"], ListEnd::Left, 1)
            .await
            .unwrap();
        assert_eq!(
            popped,
            Some(("jobs".to_owned(), vec!["j".into()])),
            "{protocol}"
        );
    }
}

#[tokio::test]
async fn positions() {
    for protocol in ["resp2", "resp3"] {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.rpush_many("l", ["a", "b", "c", "1", "2", "3", "c", "c"])
            .await
            .unwrap();
        assert_eq!(db.lpos("l", "c").await.unwrap(), Some(2), "{protocol}");
        assert_eq!(db.lpos("l", "zz").await.unwrap(), None, "{protocol}");
        assert_eq!(db.lpos("nokey", "c").await.unwrap(), None, "{protocol}");
        let opts = LPosOptions::new().rank(2);
        assert_eq!(db.lpos_with("l", "c", opts).await.unwrap(), Some(6));
        let opts = LPosOptions::new().rank(-1);
        assert_eq!(db.lpos_with("l", "c", opts).await.unwrap(), Some(7));
        let opts = LPosOptions::new().max_len(2);
        assert_eq!(
            db.lpos_with("l", "c", opts).await.unwrap(),
            None,
            "beyond MAXLEN"
        );

        let every = db
            .lpos_count("l", "c", 0, LPosOptions::new())
            .await
            .unwrap();
        assert_eq!(every, [2, 6, 7], "{protocol}");
        let two = db
            .lpos_count("l", "c", 2, LPosOptions::new())
            .await
            .unwrap();
        assert_eq!(two, [2, 6]);
        let from_tail = db
            .lpos_count("l", "c", 2, LPosOptions::new().rank(-1))
            .await
            .unwrap();
        assert_eq!(from_tail, [7, 6]);
        let capped = db
            .lpos_count("l", "c", 0, LPosOptions::new().max_len(7))
            .await
            .unwrap();
        assert_eq!(capped, [2, 6]);
        assert!(db
            .lpos_count("l", "zz", 0, LPosOptions::new())
            .await
            .unwrap()
            .is_empty());

        let err = db
            .lpos_with("l", "c", LPosOptions::new().rank(0))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        assert!(err.to_string().contains("RANK"), "{err}");
    }
}

#[tokio::test]
async fn wrong_type_errors() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    server.command(&["SET", "s", "v"]);
    assert_wrongtype(db.lpush("s", "x").await.unwrap_err());
    assert_wrongtype(db.rpush_many("s", ["x"]).await.unwrap_err());
    assert_wrongtype(db.lpop::<String>("s").await.unwrap_err());
    assert_wrongtype(db.lrange::<String>("s", 0, -1).await.unwrap_err());
    assert_wrongtype(db.llen("s").await.unwrap_err());
    assert_wrongtype(db.lpos("s", "x").await.unwrap_err());
    assert_wrongtype(
        db.lmove::<String>("s", "d", ListEnd::Left, ListEnd::Left)
            .await
            .unwrap_err(),
    );
    assert_wrongtype(
        db.lmpop::<String, String, _>(["s"], ListEnd::Left, 1)
            .await
            .unwrap_err(),
    );
    assert_eq!(server.command(&["GET", "s"]), "v", "left alone");
}

#[tokio::test]
async fn list_commands_in_a_batch() {
    let (_server, mux) = connect("resp2").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let len = batch.rpush_many("q", ["a", "b", "c"]);
    let popped = batch.lpop::<String>("q");
    let range = batch.lrange::<String>("q", 0, -1);
    let mpop = batch.lmpop::<String, String, _>(["q"], ListEnd::Right, 1);
    let pos = batch.lpos("q", "b");
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(len).unwrap(), 3);
    assert_eq!(replies.take(popped).unwrap(), Some("a".into()));
    assert_eq!(replies.take(range).unwrap(), ["b", "c"]);
    assert_eq!(
        replies.take(mpop).unwrap(),
        Some(("q".into(), vec!["c".into()]))
    );
    assert_eq!(replies.take(pos).unwrap(), Some(0));
}

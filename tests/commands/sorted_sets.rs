//! sorted_sets commands: see main.rs.

use redmux::prelude::*;
use redmux::{
    ErrorKind, LexBound, ScoreBound, ZAddOptions, ZAggregate, ZCombineOptions, ZPopSide, ZRange,
};

use crate::connect;

fn pairs(items: &[(&str, f64)]) -> Vec<(String, f64)> {
    items.iter().map(|(m, s)| (m.to_string(), *s)).collect()
}

fn assert_wrongtype(err: redmux::Error) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
}

#[tokio::test]
async fn zadd_options_incr_score_rank_and_rem() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        assert!(db.zadd("z", 1.0, "a").await.unwrap());
        assert!(!db.zadd("z", 2.0, "a").await.unwrap(), "updated, not added");
        assert_eq!(server.command(&["ZSCORE", "z", "a"]), "2");

        let added = db
            .zadd_many(
                "z",
                [(3.0, "b"), (f64::INFINITY, "top")],
                ZAddOptions::new(),
            )
            .await
            .unwrap();
        assert_eq!(added, 2);
        // NX: existing "a" untouched, "c" added.
        let n = db
            .zadd_many(
                "z",
                [(100.0, "a"), (4.0, "c")],
                ZAddOptions::new().only_if_absent(),
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(db.zscore("z", "a").await.unwrap(), Some(2.0));
        // XX + GT + CH: only raises existing members; counts changes.
        let changed = db
            .zadd_many(
                "z",
                [(1.0, "a"), (5.0, "b"), (9.0, "new")],
                ZAddOptions::new()
                    .only_if_exists()
                    .only_if_greater()
                    .changed(),
            )
            .await
            .unwrap();
        assert_eq!(changed, 1, "only b raised");
        assert_eq!(db.zscore("z", "b").await.unwrap(), Some(5.0));
        assert_eq!(db.zscore("z", "new").await.unwrap(), None);
        // LT
        let changed = db
            .zadd_many(
                "z",
                [(0.5, "a")],
                ZAddOptions::new().only_if_less().changed(),
            )
            .await
            .unwrap();
        assert_eq!(changed, 1);

        // INCR
        assert_eq!(
            db.zadd_incr("z", 1.5, "a", ZAddOptions::new())
                .await
                .unwrap(),
            Some(2.0)
        );
        assert_eq!(
            db.zadd_incr("z", 1.0, "a", ZAddOptions::new().only_if_absent())
                .await
                .unwrap(),
            None,
            "NX stopped it"
        );
        assert_eq!(db.zincrby("z", -0.5, "a").await.unwrap(), 1.5);
        assert_eq!(db.zincrby("z", 2.0, "fresh").await.unwrap(), 2.0);

        // Infinite scores in both protocols.
        assert_eq!(db.zscore("z", "top").await.unwrap(), Some(f64::INFINITY));
        db.zadd("z", f64::NEG_INFINITY, "bottom").await.unwrap();
        assert_eq!(
            db.zscore("z", "bottom").await.unwrap(),
            Some(f64::NEG_INFINITY)
        );
        assert_eq!(db.zscore("z", "nope").await.unwrap(), None);
        assert_eq!(db.zscore("missing", "a").await.unwrap(), None);

        assert_eq!(
            db.zmscore("z", ["a", "nope", "top"]).await.unwrap(),
            vec![Some(1.5), None, Some(f64::INFINITY)]
        );
        assert_eq!(
            db.zmscore("missing", ["a"]).await.unwrap(),
            vec![None::<f64>]
        );

        // bottom(-inf) a(1.5) fresh(2) b(5) c(4)? -> c=4 < b=5
        assert_eq!(db.zcard("z").await.unwrap(), 6);
        assert_eq!(db.zcard("missing").await.unwrap(), 0);
        assert_eq!(db.zrank("z", "bottom").await.unwrap(), Some(0));
        assert_eq!(db.zrank("z", "c").await.unwrap(), Some(3));
        assert_eq!(db.zrevrank("z", "top").await.unwrap(), Some(0));
        assert_eq!(db.zrank("z", "nope").await.unwrap(), None);
        assert_eq!(db.zrevrank("missing", "a").await.unwrap(), None);

        assert!(db.zrem("z", "fresh").await.unwrap());
        assert!(!db.zrem("z", "fresh").await.unwrap());
        assert_eq!(db.zrem_many("z", ["a", "b", "nope"]).await.unwrap(), 2);
        assert_eq!(db.zcard("z").await.unwrap(), 3);

        // WRONGTYPE
        server.command(&["SET", "s", "x"]);
        assert_wrongtype(db.zadd("s", 1.0, "a").await.unwrap_err());
        assert_wrongtype(db.zscore("s", "a").await.unwrap_err());
        assert_wrongtype(db.zcard("s").await.unwrap_err());
        // A bad score is the server's error too.
        let err = db
            .zadd_many("z", [(f64::NAN, "x")], ZAddOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    }
}

#[tokio::test]
async fn counts_and_ranges_with_typed_bounds() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.zadd_many(
            "z",
            [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")],
            ZAddOptions::new(),
        )
        .await
        .unwrap();
        db.zadd_many(
            "lex",
            [(0.0, "a"), (0.0, "b"), (0.0, "c"), (0.0, "d")],
            ZAddOptions::new(),
        )
        .await
        .unwrap();

        use ScoreBound::*;
        assert_eq!(db.zcount("z", NegInf, PosInf).await.unwrap(), 4);
        assert_eq!(
            db.zcount("z", Exclusive(1.0), Inclusive(3.0))
                .await
                .unwrap(),
            2
        );
        assert_eq!(db.zcount("missing", NegInf, PosInf).await.unwrap(), 0);
        assert_eq!(
            db.zlexcount("lex", LexBound::inclusive("b"), LexBound::Max)
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            db.zlexcount("lex", LexBound::exclusive("a"), LexBound::exclusive("d"))
                .await
                .unwrap(),
            2
        );

        // ZRANGE by rank, score, lex; REV; LIMIT.
        let all: Vec<String> = db.zrange("z", ZRange::by_rank(0, -1)).await.unwrap();
        assert_eq!(all, ["a", "b", "c", "d"]);
        let rev: Vec<String> = db.zrange("z", ZRange::by_rank(0, 1).rev()).await.unwrap();
        assert_eq!(rev, ["d", "c"]);
        let by_score: Vec<String> = db
            .zrange("z", ZRange::by_score(Exclusive(1.0), PosInf))
            .await
            .unwrap();
        assert_eq!(by_score, ["b", "c", "d"]);
        let by_score_rev: Vec<String> = db
            .zrange(
                "z",
                ZRange::by_score(Inclusive(2.0), Inclusive(4.0))
                    .rev()
                    .limit(1, 5),
            )
            .await
            .unwrap();
        assert_eq!(
            by_score_rev,
            ["c", "b"],
            "bounds given as (min, max) with rev"
        );
        let by_lex: Vec<String> = db
            .zrange(
                "lex",
                ZRange::by_lex(LexBound::Min, LexBound::exclusive("c")),
            )
            .await
            .unwrap();
        assert_eq!(by_lex, ["a", "b"]);
        let by_lex_rev: Vec<String> = db
            .zrange(
                "lex",
                ZRange::by_lex(LexBound::inclusive("b"), LexBound::Max)
                    .rev()
                    .limit(0, 2),
            )
            .await
            .unwrap();
        assert_eq!(by_lex_rev, ["d", "c"]);
        let none: Vec<String> = db.zrange("missing", ZRange::by_rank(0, -1)).await.unwrap();
        assert!(none.is_empty());

        // WITHSCORES: flat under RESP2, nested under RESP3.
        let scored = db
            .zrange_withscores::<String>("z", ZRange::by_rank(0, -1).rev())
            .await
            .unwrap();
        assert_eq!(
            scored,
            pairs(&[("d", 4.0), ("c", 3.0), ("b", 2.0), ("a", 1.0)])
        );
        let scored = db
            .zrange_withscores::<String>("z", ZRange::by_score(NegInf, Exclusive(2.0)))
            .await
            .unwrap();
        assert_eq!(scored, pairs(&[("a", 1.0)]));
        let empty = db
            .zrange_withscores::<String>("missing", ZRange::by_rank(0, -1))
            .await
            .unwrap();
        assert!(empty.is_empty());

        // ZRANGESTORE
        let stored = db
            .zrangestore(
                "dst",
                "z",
                ZRange::by_score(Inclusive(2.0), PosInf).limit(0, 2),
            )
            .await
            .unwrap();
        assert_eq!(stored, 2);
        assert_eq!(server.command(&["ZCARD", "dst"]), ":2\r\n");
        let members: Vec<String> = db.zrange("dst", ZRange::by_rank(0, -1)).await.unwrap();
        assert_eq!(members, ["b", "c"]);

        // Legacy forms.
        let v: Vec<String> = db
            .zrangebyscore("z", Inclusive(2.0), Exclusive(4.0))
            .await
            .unwrap();
        assert_eq!(v, ["b", "c"]);
        let v: Vec<String> = db
            .zrevrangebyscore("z", PosInf, Exclusive(2.0))
            .await
            .unwrap();
        assert_eq!(v, ["d", "c"]);
        let v: Vec<String> = db.zrevrange("z", 0, 0).await.unwrap();
        assert_eq!(v, ["d"]);
        let v: Vec<String> = db
            .zrangebylex("lex", LexBound::exclusive("a"), LexBound::inclusive("c"))
            .await
            .unwrap();
        assert_eq!(v, ["b", "c"]);
        let v: Vec<String> = db
            .zrevrangebylex("lex", LexBound::Max, LexBound::exclusive("b"))
            .await
            .unwrap();
        assert_eq!(v, ["d", "c"]);

        // LIMIT with a rank range is the server's syntax error.
        let err = db
            .zrange::<Vec<String>>("z", ZRange::by_rank(0, -1).limit(0, 1))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");

        server.command(&["SET", "s", "x"]);
        assert_wrongtype(
            db.zrange::<Vec<String>>("s", ZRange::by_rank(0, -1))
                .await
                .unwrap_err(),
        );
        assert_wrongtype(db.zcount("s", NegInf, PosInf).await.unwrap_err());
    }
}

#[tokio::test]
async fn removing_ranges() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    db.zadd_many(
        "z",
        [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d"), (5.0, "e")],
        ZAddOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        db.zremrangebyscore("z", ScoreBound::Exclusive(4.0), ScoreBound::PosInf)
            .await
            .unwrap(),
        1
    );
    assert_eq!(db.zremrangebyrank("z", 0, 1).await.unwrap(), 2);
    assert_eq!(server.command(&["ZCARD", "z"]), ":2\r\n");
    db.zadd_many(
        "lex",
        [(0.0, "a"), (0.0, "b"), (0.0, "c")],
        ZAddOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        db.zremrangebylex("lex", LexBound::Min, LexBound::inclusive("b"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(db.zremrangebyrank("missing", 0, -1).await.unwrap(), 0);
    server.command(&["SET", "s", "x"]);
    assert_wrongtype(db.zremrangebyrank("s", 0, -1).await.unwrap_err());
}

#[tokio::test]
async fn inter_union_diff_and_their_store_forms() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.zadd_many(
            "a",
            [(1.0, "x"), (2.0, "y"), (3.0, "z")],
            ZAddOptions::new(),
        )
        .await
        .unwrap();
        db.zadd_many(
            "b",
            [(10.0, "y"), (20.0, "z"), (30.0, "w")],
            ZAddOptions::new(),
        )
        .await
        .unwrap();

        let inter: Vec<String> = db.zinter(["a", "b"]).await.unwrap();
        assert_eq!(inter, ["y", "z"]);
        let inter = db
            .zinter_withscores::<String, _>(["a", "b"], ZCombineOptions::new())
            .await
            .unwrap();
        assert_eq!(inter, pairs(&[("y", 12.0), ("z", 23.0)]));
        let inter = db
            .zinter_withscores::<String, _>(
                ["a", "b"],
                ZCombineOptions::new()
                    .weights([2.0, 0.5])
                    .aggregate(ZAggregate::Max),
            )
            .await
            .unwrap();
        assert_eq!(inter, pairs(&[("y", 5.0), ("z", 10.0)]));
        let inter: Vec<String> = db
            .zinter_with(["a", "b"], ZCombineOptions::new().weights([1.0, -1.0]))
            .await
            .unwrap();
        assert_eq!(inter, ["z", "y"], "z: 3-20=-17 before y: 2-10=-8");

        let union: Vec<String> = db.zunion(["a", "b"]).await.unwrap();
        assert_eq!(union, ["x", "y", "z", "w"]);
        let union = db
            .zunion_withscores::<String, _>(
                ["a", "b"],
                ZCombineOptions::new().aggregate(ZAggregate::Min),
            )
            .await
            .unwrap();
        assert_eq!(
            union,
            pairs(&[("x", 1.0), ("y", 2.0), ("z", 3.0), ("w", 30.0)])
        );
        let union: Vec<String> = db
            .zunion_with(
                ["a", "missing"],
                ZCombineOptions::new().weights([-1.0, 1.0]),
            )
            .await
            .unwrap();
        assert_eq!(union, ["z", "y", "x"]);

        let diff: Vec<String> = db.zdiff(["a", "b"]).await.unwrap();
        assert_eq!(diff, ["x"]);
        let diff = db.zdiff_withscores::<String, _>(["b", "a"]).await.unwrap();
        assert_eq!(diff, pairs(&[("w", 30.0)]));
        let none: Vec<String> = db.zdiff(["missing", "a"]).await.unwrap();
        assert!(none.is_empty());

        assert_eq!(db.zintercard(["a", "b"]).await.unwrap(), 2);
        assert_eq!(db.zintercard_limit(["a", "b"], 1).await.unwrap(), 1);
        assert_eq!(db.zintercard_limit(["a", "b"], 0).await.unwrap(), 2);
        assert_eq!(db.zintercard(["a", "missing"]).await.unwrap(), 0);

        assert_eq!(
            db.zinterstore(
                "i",
                ["a", "b"],
                ZCombineOptions::new().aggregate(ZAggregate::Max)
            )
            .await
            .unwrap(),
            2
        );
        assert_eq!(server.command(&["ZSCORE", "i", "z"]), "20");
        assert_eq!(
            db.zunionstore("u", ["a", "b"], ZCombineOptions::new().weights([1.0, 2.0]))
                .await
                .unwrap(),
            4
        );
        assert_eq!(server.command(&["ZSCORE", "u", "y"]), "22");
        assert_eq!(db.zdiffstore("d", ["b", "a"]).await.unwrap(), 1);
        assert_eq!(server.command(&["ZSCORE", "d", "w"]), "30");
        assert_eq!(db.zdiffstore("d", ["missing"]).await.unwrap(), 0);
        assert_eq!(server.command(&["EXISTS", "d"]), ":0\r\n");

        server.command(&["SET", "s", "x"]);
        assert_wrongtype(db.zinter::<Vec<String>, _>(["a", "s"]).await.unwrap_err());
        assert_wrongtype(
            db.zunionstore("u", ["s"], ZCombineOptions::new())
                .await
                .unwrap_err(),
        );
        assert_wrongtype(db.zintercard(["s", "a"]).await.unwrap_err());
        assert_wrongtype(db.zdiffstore("d", ["s"]).await.unwrap_err());
    }
}

#[tokio::test]
async fn pops_and_random_members() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.zadd_many(
            "z",
            [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d"), (5.0, "e")],
            ZAddOptions::new(),
        )
        .await
        .unwrap();

        let min = db.zpopmin::<String>("z", 1).await.unwrap();
        assert_eq!(min, pairs(&[("a", 1.0)]));
        let max = db.zpopmax::<String>("z", 2).await.unwrap();
        assert_eq!(max, pairs(&[("e", 5.0), ("d", 4.0)]));
        let none = db.zpopmin::<String>("missing", 3).await.unwrap();
        assert!(none.is_empty());

        // ZMPOP: the key, then pairs (nested under both protocols).
        let popped: Option<(String, Vec<(String, f64)>)> =
            db.zmpop(["missing", "z"], ZPopSide::Max, 1).await.unwrap();
        assert_eq!(popped, Some(("z".to_owned(), pairs(&[("c", 3.0)]))));
        let popped: Option<(String, Vec<(String, f64)>)> =
            db.zmpop(["z"], ZPopSide::Min, 10).await.unwrap();
        assert_eq!(popped, Some(("z".to_owned(), pairs(&[("b", 2.0)]))));
        let popped: Option<(String, Vec<(String, f64)>)> =
            db.zmpop(["z", "missing"], ZPopSide::Min, 1).await.unwrap();
        assert_eq!(popped, None);

        // A prefixed database gets its own key names back.
        let prefixed = db.with_key_prefix("app:");
        prefixed.zadd("q", 7.0, "job").await.unwrap();
        assert_eq!(server.command(&["ZSCORE", "app:q", "job"]), "7");
        let popped: Option<(String, Vec<(String, f64)>)> =
            prefixed.zmpop(["q"], ZPopSide::Min, 1).await.unwrap();
        assert_eq!(popped, Some(("q".to_owned(), pairs(&[("job", 7.0)]))));

        db.zadd_many(
            "r",
            [(1.0, "a"), (2.0, "b"), (3.0, "c")],
            ZAddOptions::new(),
        )
        .await
        .unwrap();
        let one: Option<String> = db.zrandmember("r").await.unwrap();
        assert!(matches!(one.as_deref(), Some("a" | "b" | "c")), "{one:?}");
        let none: Option<String> = db.zrandmember("missing").await.unwrap();
        assert_eq!(none, None);
        let mut distinct: Vec<String> = db.zrandmember_count("r", 10).await.unwrap();
        distinct.sort();
        assert_eq!(distinct, ["a", "b", "c"]);
        let repeats: Vec<String> = db.zrandmember_count("r", -7).await.unwrap();
        assert_eq!(repeats.len(), 7);
        let scored = db.zrandmember_withscores::<String>("r", 3).await.unwrap();
        let mut scored = scored;
        scored.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(scored, pairs(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]));
        let empty: Vec<String> = db.zrandmember_count("missing", 3).await.unwrap();
        assert!(empty.is_empty());

        server.command(&["SET", "s", "x"]);
        assert_wrongtype(db.zpopmin::<String>("s", 1).await.unwrap_err());
        assert_wrongtype(
            db.zmpop::<_, String>(["s"], ZPopSide::Min, 1)
                .await
                .unwrap_err(),
        );
        assert_wrongtype(db.zrandmember::<Option<String>>("s").await.unwrap_err());
    }
}

#[tokio::test]
async fn scored_members_read_both_shapes_and_refuse_bad_ones() {
    use redmux::{FromValue, Value};
    let bulk = |s: &str| Value::BulkString(s.to_owned().into());
    let flat = Value::Array(vec![bulk("a"), bulk("inf"), bulk("b"), bulk("-2.5")]);
    let nested = Value::Array(vec![
        Value::Array(vec![bulk("a"), Value::Double(f64::INFINITY)]),
        Value::Array(vec![bulk("b"), Value::Double(-2.5)]),
    ]);
    let want = pairs(&[("a", f64::INFINITY), ("b", -2.5)]);
    assert_eq!(Vec::<(String, f64)>::from_value(flat).unwrap(), want);
    assert_eq!(Vec::<(String, f64)>::from_value(nested).unwrap(), want);
    let odd = Value::Array(vec![bulk("a")]);
    let err = Vec::<(String, f64)>::from_value(odd).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    let err = Vec::<(String, f64)>::from_value(Value::Int(3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TypeConversion);
    let bad_score = Value::Array(vec![bulk("a"), bulk("high")]);
    assert!(Vec::<(String, f64)>::from_value(bad_score).is_err());
}

#[tokio::test]
async fn sorted_set_commands_in_a_batch() {
    for protocol in ["resp2", "resp3"] {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        let mut batch = db.batch();
        let added = batch.zadd_many("z", [(1.0, "a"), (2.0, "b")], ZAddOptions::new());
        let score = batch.zincrby("z", 0.5, "a");
        let range = batch.zrange_withscores::<String>("z", ZRange::by_rank(0, -1).rev());
        let rank = batch.zrank("z", "missing");
        let mut replies = batch.execute().await.unwrap();
        assert_eq!(replies.take(added).unwrap(), 2);
        assert_eq!(replies.take(score).unwrap(), 1.5);
        assert_eq!(
            replies.take(range).unwrap(),
            pairs(&[("b", 2.0), ("a", 1.5)])
        );
        assert_eq!(replies.take(rank).unwrap(), None);
    }
}

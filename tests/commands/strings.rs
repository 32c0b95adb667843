//! String and bitmap commands against a real server.

use std::time::{Duration, SystemTime};

use redmux::prelude::*;
use redmux::{
    BitFieldOffset, BitFieldOps, BitFieldOverflow, BitFieldType, BitOp, BitRange, ErrorKind,
    GetExExpiry, LcsMatch, LcsOptions, SetOptions,
};

use crate::connect;

fn assert_wrongtype(err: redmux::Error) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
}

#[tokio::test]
async fn ranges_appends_and_lengths() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    server.command(&["RPUSH", "list", "a"]);

    assert_eq!(db.append("s", "Hello").await.unwrap(), 5);
    assert_eq!(db.append("s", " World").await.unwrap(), 11);
    assert_eq!(db.strlen("s").await.unwrap(), 11);
    assert_eq!(db.strlen("missing").await.unwrap(), 0);
    let part: String = db.getrange("s", 0, 4).await.unwrap();
    assert_eq!(part, "Hello");
    let tail: String = db.getrange("s", -5, -1).await.unwrap();
    assert_eq!(tail, "World");
    let none: String = db.getrange("missing", 0, 10).await.unwrap();
    assert_eq!(none, "");
    let sub: Vec<u8> = db.substr("s", 6, 8).await.unwrap();
    assert_eq!(sub, b"Wor");
    assert_eq!(db.setrange("s", 6, "Redis").await.unwrap(), 11);
    assert_eq!(server.command(&["GET", "s"]), "Hello Redis");
    assert_eq!(db.setrange("padded", 3, "x").await.unwrap(), 4);
    let padded: Vec<u8> = db.get("padded").await.unwrap();
    assert_eq!(padded, b"\0\0\0x");

    assert_wrongtype(db.append("list", "x").await.unwrap_err());
    assert_wrongtype(db.strlen("list").await.unwrap_err());
    assert_wrongtype(db.getrange::<String>("list", 0, 1).await.unwrap_err());
    assert_wrongtype(db.setrange("list", 0, "x").await.unwrap_err());
}

#[tokio::test]
async fn get_and_change() {
    let (server, mux) = connect("resp2").await;
    let db = mux.database(0);
    server.command(&["RPUSH", "list", "a"]);

    // GETDEL
    db.set("k", "v").await.unwrap();
    let v: Option<String> = db.getdel("k").await.unwrap();
    assert_eq!(v.as_deref(), Some("v"));
    assert_eq!(server.command(&["EXISTS", "k"]), ":0\r\n");
    let v: Option<String> = db.getdel("k").await.unwrap();
    assert_eq!(v, None);
    assert_wrongtype(db.getdel::<Option<String>>("list").await.unwrap_err());

    // GETSET and SET ... GET
    let old: Option<String> = db.getset("k", "one").await.unwrap();
    assert_eq!(old, None);
    let old: Option<String> = db.getset("k", "two").await.unwrap();
    assert_eq!(old.as_deref(), Some("one"));
    let old: Option<String> = db.set_get("k", "three").await.unwrap();
    assert_eq!(old.as_deref(), Some("two"));
    let old: Option<String> = db.set_get("fresh", "x").await.unwrap();
    assert_eq!(old, None);
    let old: Option<String> = db
        .set_get_with(
            "k",
            "four",
            SetOptions::new()
                .only_if_absent()
                .expire(Duration::from_secs(100)),
        )
        .await
        .unwrap();
    assert_eq!(old.as_deref(), Some("three"), "NX refused, old value back");
    assert_eq!(server.command(&["GET", "k"]), "three");
    let old: Option<String> = db
        .set_get_with(
            "k",
            "five",
            SetOptions::new().expire(Duration::from_secs(100)),
        )
        .await
        .unwrap();
    assert_eq!(old.as_deref(), Some("three"));
    assert_eq!(server.command(&["GET", "k"]), "five");
    assert!(db.ttl("k").await.unwrap() > 90);
    assert_wrongtype(db.set_get::<Option<String>>("list", "x").await.unwrap_err());
    assert_wrongtype(db.getset::<Option<String>>("list", "x").await.unwrap_err());

    // GETEX
    let v: Option<String> = db
        .getex("k", GetExExpiry::In(Duration::from_millis(20_500)))
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("five"));
    let pttl = db.pttl("k").await.unwrap();
    assert!((19_000..=20_500).contains(&pttl), "{pttl}");
    let v: Option<String> = db.getex("k", GetExExpiry::Persist).await.unwrap();
    assert_eq!(v.as_deref(), Some("five"));
    assert_eq!(db.ttl("k").await.unwrap(), -1);
    let at = SystemTime::now() + Duration::from_secs(1000);
    let _: Option<String> = db.getex("k", GetExExpiry::At(at)).await.unwrap();
    let ttl = db.ttl("k").await.unwrap();
    assert!((990..=1000).contains(&ttl), "{ttl}");
    let v: Option<String> = db.getex("missing", GetExExpiry::Persist).await.unwrap();
    assert_eq!(v, None);
    assert_wrongtype(
        db.getex::<Option<String>>("list", GetExExpiry::Persist)
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn conditional_and_expiring_sets() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);

    assert!(db.setnx("n", "1").await.unwrap());
    assert!(!db.setnx("n", "2").await.unwrap());
    assert_eq!(server.command(&["GET", "n"]), "1");

    assert!(db.msetnx([("a", "1"), ("b", "2")]).await.unwrap());
    assert!(!db.msetnx([("b", "x"), ("c", "3")]).await.unwrap());
    assert_eq!(server.command(&["EXISTS", "c"]), ":0\r\n");
    assert_eq!(server.command(&["GET", "b"]), "2");

    db.setex("ex", Duration::from_secs(50), "v").await.unwrap();
    let ttl = db.ttl("ex").await.unwrap();
    assert!((45..=50).contains(&ttl), "{ttl}");
    db.psetex("px", Duration::from_millis(7_000), "v")
        .await
        .unwrap();
    let pttl = db.pttl("px").await.unwrap();
    assert!((5_000..=7_000).contains(&pttl), "{pttl}");
    assert_eq!(server.command(&["GET", "px"]), "v");
    let err = db
        .setex("bad", Duration::from_millis(10), "v")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("invalid expire time"), "{err}");
}

#[tokio::test]
async fn incrbyfloat_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        assert_eq!(db.incrbyfloat("f", 10.5).await.unwrap(), 10.5);
        assert_eq!(db.incrbyfloat("f", 0.1).await.unwrap(), 10.6);
        assert_eq!(db.incrbyfloat("f", -5.0).await.unwrap(), 5.6);
        assert_eq!(server.command(&["GET", "f"]), "5.6");
        server.command(&["SET", "word", "abc"]);
        let err = db.incrbyfloat("word", 1.0).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("not a valid float"), "{err}");
    }
}

#[tokio::test]
async fn lcs_plain_len_and_idx_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.mset([("key1", "ohmytext"), ("key2", "mynewtext")])
            .await
            .unwrap();
        let common: String = db.lcs("key1", "key2").await.unwrap();
        assert_eq!(common, "mytext");
        let empty: String = db.lcs("key1", "missing").await.unwrap();
        assert_eq!(empty, "");
        assert_eq!(db.lcs_len("key1", "key2").await.unwrap(), 6);

        let idx = db.lcs_idx("key1", "key2", LcsOptions::new()).await.unwrap();
        assert_eq!(idx.len, 6, "{protocol}");
        let ranges: Vec<_> = idx
            .matches
            .iter()
            .map(|m| (m.first, m.second, m.len))
            .collect();
        assert_eq!(
            ranges,
            vec![((4, 7), (5, 8), None), ((2, 3), (0, 1), None)],
            "{protocol}"
        );

        let idx = db
            .lcs_idx(
                "key1",
                "key2",
                LcsOptions::new().min_match_len(4).with_match_len(),
            )
            .await
            .unwrap();
        assert_eq!(idx.len, 6);
        assert_eq!(idx.matches.len(), 1);
        let m: &LcsMatch = &idx.matches[0];
        assert_eq!((m.first, m.second, m.len), ((4, 7), (5, 8), Some(4)));

        server.command(&["RPUSH", "list", "a"]);
        let err = db.lcs::<String>("list", "key1").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(
            err.to_string().contains("must contain string values"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn single_bits_counts_and_positions() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    server.command(&["RPUSH", "list", "a"]);

    assert!(!db.setbit("b", 7, true).await.unwrap());
    assert!(db.setbit("b", 7, true).await.unwrap());
    assert!(db.getbit("b", 7).await.unwrap());
    assert!(!db.getbit("b", 6).await.unwrap());
    assert!(!db.getbit("b", 1000).await.unwrap());
    assert!(!db.getbit("missing", 0).await.unwrap());
    assert!(db.setbit("b", 7, false).await.unwrap());
    assert_wrongtype(db.setbit("list", 0, true).await.unwrap_err());
    assert_wrongtype(db.getbit("list", 0).await.unwrap_err());

    // "foobar": 26 set bits; bytes 1..=1 ('o') has 6.
    db.set("fb", "foobar").await.unwrap();
    assert_eq!(db.bitcount("fb").await.unwrap(), 26);
    assert_eq!(db.bitcount("missing").await.unwrap(), 0);
    assert_eq!(
        db.bitcount_with("fb", BitRange::bytes(1, 1)).await.unwrap(),
        6
    );
    assert_eq!(
        db.bitcount_with("fb", BitRange::bits(5, 30)).await.unwrap(),
        17
    );
    assert_eq!(
        db.bitcount_with("fb", BitRange::bytes(0, 0).unit(redmux::BitUnit::Byte))
            .await
            .unwrap(),
        4
    );
    assert_wrongtype(db.bitcount("list").await.unwrap_err());

    // 0xff 0xf0 0x00
    db.set("pos", b"\xff\xf0\x00".as_slice()).await.unwrap();
    assert_eq!(db.bitpos("pos", false).await.unwrap(), 12);
    assert_eq!(db.bitpos("pos", true).await.unwrap(), 0);
    assert_eq!(
        db.bitpos_with("pos", true, BitRange::bytes(2, -1))
            .await
            .unwrap(),
        -1
    );
    assert_eq!(
        db.bitpos_with("pos", true, BitRange::bits(7, 15))
            .await
            .unwrap(),
        7
    );
    assert_eq!(
        db.bitpos_with("pos", false, BitRange::bits(0, 7))
            .await
            .unwrap(),
        -1
    );
    assert_eq!(db.bitpos("missing", true).await.unwrap(), -1);
    assert_wrongtype(db.bitpos("list", true).await.unwrap_err());
}

#[tokio::test]
async fn bitop_and_bitfield_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        db.set("x", b"\x0f\xff".as_slice()).await.unwrap();
        db.set("y", b"\xff".as_slice()).await.unwrap();
        assert_eq!(db.bitop(BitOp::And, "and", ["x", "y"]).await.unwrap(), 2);
        let v: Vec<u8> = db.get("and").await.unwrap();
        assert_eq!(v, b"\x0f\x00");
        db.bitop(BitOp::Or, "or", ["x", "y"]).await.unwrap();
        let v: Vec<u8> = db.get("or").await.unwrap();
        assert_eq!(v, b"\xff\xff");
        db.bitop(BitOp::Xor, "xor", ["x", "y"]).await.unwrap();
        let v: Vec<u8> = db.get("xor").await.unwrap();
        assert_eq!(v, b"\xf0\xff");
        assert_eq!(db.bitop(BitOp::Not, "not", ["y"]).await.unwrap(), 1);
        let v: Vec<u8> = db.get("not").await.unwrap();
        assert_eq!(v, b"\x00");
        let err = db.bitop(BitOp::Not, "not", ["x", "y"]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("BITOP NOT"), "{err}");

        let u8t = BitFieldType::Unsigned(8);
        let ops = BitFieldOps::new()
            .set(u8t, 0u64, 200)
            .incr_by(u8t, 0u64, 100)
            .overflow(BitFieldOverflow::Sat)
            .incr_by(u8t, 0u64, 250)
            .overflow(BitFieldOverflow::Fail)
            .incr_by(u8t, 0u64, 1)
            .set(BitFieldType::Signed(4), BitFieldOffset::Index(2), -3)
            .get(BitFieldType::Signed(4), BitFieldOffset::Index(2))
            .overflow(BitFieldOverflow::Wrap)
            .get(u8t, 0u64);
        let replies = db.bitfield("bf", &ops).await.unwrap();
        assert_eq!(
            replies,
            vec![
                Some(0),
                Some(44),
                Some(255),
                None,
                Some(0),
                Some(-3),
                Some(255)
            ],
            "{protocol}"
        );
        let ro = db
            .bitfield_ro(
                "bf",
                [
                    (u8t, BitFieldOffset::Bit(0)),
                    (BitFieldType::Signed(4), BitFieldOffset::Index(2)),
                ],
            )
            .await
            .unwrap();
        assert_eq!(ro, vec![255, -3]);
        let ro = db.bitfield_ro("missing", [(u8t, 0u64)]).await.unwrap();
        assert_eq!(ro, vec![0]);

        server.command(&["RPUSH", "list", "a"]);
        assert_wrongtype(
            db.bitfield("list", &BitFieldOps::new().get(u8t, 0u64))
                .await
                .unwrap_err(),
        );
        let err = db
            .bitfield(
                "bf",
                &BitFieldOps::new().get(BitFieldType::Unsigned(64), 0u64),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("Invalid bitfield type"), "{err}");
    }
}

#[tokio::test]
async fn string_commands_in_a_batch() {
    let (_server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let appended = batch.append("k", "abc");
    let set = batch.setbit("bits", 1, true);
    let count = batch.bitcount("bits");
    let old = batch.getset::<Option<String>>("k", "new");
    let len = batch.strlen("k");
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(appended).unwrap(), 3);
    assert!(!replies.take(set).unwrap());
    assert_eq!(replies.take(count).unwrap(), 1);
    assert_eq!(replies.take(old).unwrap().as_deref(), Some("abc"));
    assert_eq!(replies.take(len).unwrap(), 3);
}

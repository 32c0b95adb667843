//! Stream commands against a real server, under RESP2 and RESP3.

use std::time::Duration;

use bytes::Bytes;
use redmux::prelude::*;
use redmux::{
    ErrorKind, StreamBound, StreamEntry, StreamKeyEntries, StreamTrim, XAddOptions, XAutoClaim,
    XClaimOptions, XGroupCreateOptions, XPendingOptions, XReadGroupOptions, XReadOptions,
    XSetIdOptions,
};

use crate::connect;

const PROTOCOLS: [&str; 2] = ["resp2", "resp3"];

fn fields(entry: &StreamEntry<String>) -> Vec<(&str, &str)> {
    entry
        .fields
        .iter()
        .map(|(f, v)| (f.as_str(), v.as_str()))
        .collect()
}

fn ids<V>(entries: &[StreamEntry<V>]) -> Vec<&str> {
    entries.iter().map(|e| e.id.as_str()).collect()
}

fn assert_server_error(err: redmux::Error, needle: &str) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert!(err.to_string().contains(needle), "{err} lacks {needle}");
}

#[tokio::test]
async fn xadd_xlen_xrange_xrevrange_xdel() {
    for protocol in PROTOCOLS {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        let auto = db.xadd("s", [("a", "1"), ("b", "2")]).await.unwrap();
        assert!(auto.contains('-'), "{auto}");
        db.del("s").await.unwrap();

        for (id, v) in [("1-0", "x"), ("2-0", "y"), ("3-0", "z"), ("3-5", "w")] {
            let got = db
                .xadd_with("s", [("f", v)], XAddOptions::new().id(id))
                .await
                .unwrap();
            assert_eq!(got.as_deref(), Some(id));
        }
        assert_eq!(db.xlen("s").await.unwrap(), 4);
        assert_eq!(db.xlen("missing").await.unwrap(), 0);
        assert_eq!(server.command(&["XLEN", "s"]), ":4\r\n");

        // An id not above the last is the server's error.
        let err = db
            .xadd_with("s", [("f", "v")], XAddOptions::new().id("1-0"))
            .await
            .unwrap_err();
        assert_server_error(err, "equal or smaller");

        // NOMKSTREAM on a missing stream: None, nothing created.
        let none = db
            .xadd_with("nostream", [("f", "v")], XAddOptions::new().no_mkstream())
            .await
            .unwrap();
        assert_eq!(none, None);
        assert!(!db.exists("nostream").await.unwrap());

        let all: Vec<StreamEntry<String>> = db
            .xrange("s", StreamBound::Min, StreamBound::Max, None)
            .await
            .unwrap();
        assert_eq!(ids(&all), ["1-0", "2-0", "3-0", "3-5"]);
        assert_eq!(fields(&all[0]), [("f", "x")]);
        assert_eq!(all[3].get("f").map(String::as_str), Some("w"));

        let page: Vec<StreamEntry> = db
            .xrange(
                "s",
                StreamBound::exclusive("1-0"),
                StreamBound::inclusive("3"),
                Some(2),
            )
            .await
            .unwrap();
        assert_eq!(ids(&page), ["2-0", "3-0"]);
        assert_eq!(page[0].fields, [(Bytes::from("f"), Bytes::from("y"))]);

        let rev: Vec<StreamEntry<String>> = db
            .xrevrange("s", StreamBound::Max, StreamBound::exclusive("2-0"), None)
            .await
            .unwrap();
        assert_eq!(ids(&rev), ["3-5", "3-0"]);
        let rev_limited: Vec<StreamEntry<String>> = db
            .xrevrange("s", StreamBound::Max, StreamBound::Min, Some(1))
            .await
            .unwrap();
        assert_eq!(ids(&rev_limited), ["3-5"]);

        let empty: Vec<StreamEntry> = db
            .xrange("missing", StreamBound::Min, StreamBound::Max, None)
            .await
            .unwrap();
        assert!(empty.is_empty());

        assert_eq!(db.xdel("s", ["2-0", "9-9"]).await.unwrap(), 1);
        assert_eq!(db.xlen("s").await.unwrap(), 3);

        // WRONGTYPE.
        db.set("str", "v").await.unwrap();
        let err = db.xlen("str").await.unwrap_err();
        assert_server_error(err, "WRONGTYPE");
        let err = db.xadd("str", [("f", "v")]).await.unwrap_err();
        assert_server_error(err, "WRONGTYPE");
        let err = db
            .xrange::<Bytes>("str", StreamBound::Min, StreamBound::Max, None)
            .await
            .unwrap_err();
        assert_server_error(err, "WRONGTYPE");
    }
}

#[tokio::test]
async fn trimming_in_xadd_and_xtrim() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    for i in 1..=10 {
        let id = format!("{i}-0");
        db.xadd_with("s", [("i", i)], XAddOptions::new().id(id))
            .await
            .unwrap();
    }
    // Exact MAXLEN while adding.
    let id = db
        .xadd_with(
            "s",
            [("i", 11)],
            XAddOptions::new().id("11-0").trim(StreamTrim::max_len(5)),
        )
        .await
        .unwrap();
    assert_eq!(id.as_deref(), Some("11-0"));
    assert_eq!(db.xlen("s").await.unwrap(), 5);

    // Exact MINID with XTRIM: ids below 9-0 go.
    assert_eq!(db.xtrim("s", StreamTrim::min_id("9-0")).await.unwrap(), 2);
    assert_eq!(server.command(&["XLEN", "s"]), ":3\r\n");
    assert_eq!(db.xtrim("s", StreamTrim::max_len(1)).await.unwrap(), 2);
    // Approximate trimming removes whole radix tree nodes (100 entries
    // each by default): none for 250 → 200, since a node would leave 150;
    // and LIMIT caps how many go.
    let mut batch = db.batch();
    for _ in 0..250 {
        let _ = batch.xadd("big", [("f", "v")]);
    }
    batch.execute().await.unwrap();
    assert_eq!(
        db.xtrim("big", StreamTrim::max_len(200).approx())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        db.xtrim("big", StreamTrim::max_len(0).approx().limit(100))
            .await
            .unwrap(),
        100
    );
    assert_eq!(db.xlen("big").await.unwrap(), 150);
    // LIMIT with exact trimming is the server's syntax error.
    let err = db
        .xtrim("s", StreamTrim::max_len(0).limit(10))
        .await
        .unwrap_err();
    assert_server_error(err, "LIMIT");
    // Approximate MINID with NOMKSTREAM on an existing stream.
    let id = db
        .xadd_with(
            "s",
            [("i", 12)],
            XAddOptions::new()
                .no_mkstream()
                .trim(StreamTrim::min_id("12").approx()),
        )
        .await
        .unwrap();
    assert!(id.is_some());
    assert_eq!(db.xlen("s").await.unwrap(), 2);
    // Exact MINID while adding.
    db.xadd_with(
        "s",
        [("i", 13)],
        XAddOptions::new().trim(StreamTrim::min_id("12")),
    )
    .await
    .unwrap();
    assert_eq!(db.xlen("s").await.unwrap(), 2);
    assert_eq!(
        db.xtrim("missing", StreamTrim::max_len(0)).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn xread_both_shapes() {
    for protocol in PROTOCOLS {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        for id in ["1-0", "2-0", "3-0"] {
            db.xadd_with("a", [("k", id)], XAddOptions::new().id(id))
                .await
                .unwrap();
        }
        db.xadd_with("b", [("k", "b1")], XAddOptions::new().id("5-0"))
            .await
            .unwrap();

        let got: Vec<StreamKeyEntries<String>> =
            db.xread([("a", "1-0"), ("b", "0-0")]).await.unwrap();
        assert_eq!(got.len(), 2, "{protocol}");
        assert_eq!(got[0].key, "a");
        assert_eq!(ids(&got[0].entries), ["2-0", "3-0"]);
        assert_eq!(got[1].key, "b");
        assert_eq!(fields(&got[1].entries[0]), [("k", "b1")]);

        let limited: Vec<StreamKeyEntries> = db
            .xread_with([("a", "0"), ("b", "5-0")], XReadOptions::new().count(1))
            .await
            .unwrap();
        // b has nothing after 5-0: left out.
        assert_eq!(limited.len(), 1);
        assert_eq!(limited[0].key, "a");
        assert_eq!(ids(&limited[0].entries), ["1-0"]);

        // Nothing anywhere: nil, read as empty.
        let none: Vec<StreamKeyEntries> = db.xread([("a", "3-0"), ("zz", "0")]).await.unwrap();
        assert!(none.is_empty());

        db.set("str", "v").await.unwrap();
        let err = db.xread::<Bytes, _, _>([("str", "0")]).await.unwrap_err();
        assert_server_error(err, "WRONGTYPE");
    }
}

#[tokio::test]
async fn groups_readgroup_ack_pending_claim() {
    for protocol in PROTOCOLS {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        // No stream: CREATE fails unless MKSTREAM.
        let err = db.xgroup_create("s", "g", "$").await.unwrap_err();
        assert_server_error(err, "MKSTREAM");
        db.xgroup_create_with("s", "g", "0", XGroupCreateOptions::new().mkstream())
            .await
            .unwrap();
        assert_eq!(db.xlen("s").await.unwrap(), 0);
        let err = db.xgroup_create("s", "g", "$").await.unwrap_err();
        assert_server_error(err, "BUSYGROUP");

        for id in ["1-0", "2-0", "3-0"] {
            db.xadd_with("s", [("n", id)], XAddOptions::new().id(id))
                .await
                .unwrap();
        }

        assert!(db.xgroup_createconsumer("s", "g", "idle").await.unwrap());
        assert!(!db.xgroup_createconsumer("s", "g", "idle").await.unwrap());

        let got: Vec<StreamKeyEntries<String>> = db
            .xreadgroup(
                "g",
                "alice",
                [("s", ">")],
                XReadGroupOptions::new().count(2),
            )
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key, "s");
        assert_eq!(ids(&got[0].entries), ["1-0", "2-0"]);
        // bob reads the last one with NOACK; then nothing is new.
        let rest: Vec<StreamKeyEntries<String>> = db
            .xreadgroup("g", "bob", [("s", ">")], XReadGroupOptions::new().no_ack())
            .await
            .unwrap();
        assert_eq!(ids(&rest[0].entries), ["3-0"]);
        let nothing: Vec<StreamKeyEntries<String>> = db
            .xreadgroup("g", "bob", [("s", ">")], XReadGroupOptions::new())
            .await
            .unwrap();
        assert!(nothing.is_empty());

        // Summary: alice has 2 pending, bob none (NOACK).
        let summary = db.xpending("s", "g").await.unwrap();
        assert_eq!(summary.count, 2, "{protocol}");
        assert_eq!(summary.smallest_id.as_deref(), Some("1-0"));
        assert_eq!(summary.greatest_id.as_deref(), Some("2-0"));
        assert_eq!(summary.consumers, [("alice".to_string(), 2)]);

        // Extended form.
        let pending = db
            .xpending_with(
                "s",
                "g",
                XPendingOptions::new(StreamBound::Min, StreamBound::Max, 10),
            )
            .await
            .unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].id, "1-0");
        assert_eq!(pending[0].consumer, "alice");
        assert_eq!(pending[0].deliveries, 1);
        let filtered = db
            .xpending_with(
                "s",
                "g",
                XPendingOptions::new(StreamBound::exclusive("1-0"), StreamBound::Max, 10)
                    .consumer("alice"),
            )
            .await
            .unwrap();
        assert_eq!(filtered.len(), 1);
        assert_eq!(filtered[0].id, "2-0");
        let idle_long = db
            .xpending_with(
                "s",
                "g",
                XPendingOptions::new(StreamBound::Min, StreamBound::Max, 10)
                    .idle(Duration::from_secs(3600)),
            )
            .await
            .unwrap();
        assert!(idle_long.is_empty());

        // XCLAIM: bob takes 1-0 (min idle 0), with options.
        let claimed: Vec<StreamEntry<String>> = db
            .xclaim_with(
                "s",
                "g",
                "bob",
                Duration::ZERO,
                ["1-0"],
                XClaimOptions::new().retry_count(7),
            )
            .await
            .unwrap();
        assert_eq!(ids(&claimed), ["1-0"]);
        assert_eq!(fields(&claimed[0]), [("n", "1-0")]);
        let p = db
            .xpending_with(
                "s",
                "g",
                XPendingOptions::new(StreamBound::Min, StreamBound::inclusive("1-0"), 1),
            )
            .await
            .unwrap();
        assert_eq!((p[0].consumer.as_str(), p[0].deliveries), ("bob", 7));

        // Too little idle time: nothing claimed.
        let none: Vec<StreamEntry> = db
            .xclaim("s", "g", "carol", Duration::from_secs(3600), ["2-0"])
            .await
            .unwrap();
        assert!(none.is_empty());
        // JUSTID, and FORCE on an id that is not pending (3-0 was NOACK).
        let just = db
            .xclaim_justid(
                "s",
                "g",
                "carol",
                Duration::ZERO,
                ["2-0", "3-0"],
                XClaimOptions::new().force().idle(Duration::from_secs(10)),
            )
            .await
            .unwrap();
        assert_eq!(just, ["2-0", "3-0"]);

        // XAUTOCLAIM: everything to dave; a deleted entry is reported.
        assert_eq!(db.xdel("s", ["3-0"]).await.unwrap(), 1);
        let auto: XAutoClaim<String> = db
            .xautoclaim("s", "g", "dave", Duration::ZERO, "0-0", Some(10))
            .await
            .unwrap();
        assert_eq!(auto.next, "0-0");
        assert_eq!(ids(&auto.entries), ["1-0", "2-0"]);
        assert_eq!(auto.deleted, ["3-0"]);
        let page: XAutoClaim = db
            .xautoclaim("s", "g", "erin", Duration::ZERO, "0", Some(1))
            .await
            .unwrap();
        assert_eq!(ids(&page.entries), ["1-0"]);
        assert_eq!(page.next, "2-0");

        // XACK.
        assert_eq!(db.xack("s", "g", ["1-0", "2-0", "9-0"]).await.unwrap(), 2);
        let summary = db.xpending("s", "g").await.unwrap();
        assert_eq!(summary.count, 0);
        assert_eq!(summary.smallest_id, None);
        assert!(summary.consumers.is_empty());

        // Consumers: DELCONSUMER returns its pending count.
        db.xadd_with("s", [("n", "4")], XAddOptions::new().id("4-0"))
            .await
            .unwrap();
        let _: Vec<StreamKeyEntries> = db
            .xreadgroup("g", "frank", [("s", ">")], XReadGroupOptions::new())
            .await
            .unwrap();
        assert_eq!(db.xgroup_delconsumer("s", "g", "frank").await.unwrap(), 1);
        assert_eq!(db.xgroup_delconsumer("s", "g", "nobody").await.unwrap(), 0);

        // SETID, then reading again from the start.
        db.xgroup_setid("s", "g", "0").await.unwrap();
        let again: Vec<StreamKeyEntries<String>> = db
            .xreadgroup("g", "gina", [("s", ">")], XReadGroupOptions::new())
            .await
            .unwrap();
        assert_eq!(ids(&again[0].entries), ["1-0", "2-0", "4-0"]);
        db.xgroup_setid_with("s", "g", "$", 3).await.unwrap();
        let groups = db.xinfo_groups("s").await.unwrap();
        assert_eq!(groups[0].last_delivered_id, "4-0");
        assert_eq!(groups[0].entries_read, Some(3));

        // NOGROUP errors.
        let err = db.xpending("s", "nope").await.unwrap_err();
        assert_server_error(err, "NOGROUP");
        let err = db
            .xreadgroup::<Bytes, _, _>("nope", "c", [("s", ">")], XReadGroupOptions::new())
            .await
            .unwrap_err();
        assert_server_error(err, "NOGROUP");

        assert!(db.xgroup_destroy("s", "g").await.unwrap());
        assert!(!db.xgroup_destroy("s", "g").await.unwrap());
        assert_eq!(server.command(&["XINFO", "GROUPS", "s"]), "*0\r\n");

        db.set("str", "v").await.unwrap();
        let err = db.xack("str", "g", ["1-0"]).await.unwrap_err();
        assert_server_error(err, "WRONGTYPE");
    }
}

#[tokio::test]
async fn xinfo_and_xsetid() {
    for protocol in PROTOCOLS {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);

        let err = db.xinfo_stream("missing").await.unwrap_err();
        assert_server_error(err, "no such key");

        for id in ["1-0", "2-0", "3-0"] {
            db.xadd_with("s", [("n", id)], XAddOptions::new().id(id))
                .await
                .unwrap();
        }
        db.xdel("s", ["3-0"]).await.unwrap();
        db.xgroup_create("s", "g1", "0").await.unwrap();
        db.xgroup_create_with("s", "g2", "$", XGroupCreateOptions::new().entries_read(2))
            .await
            .unwrap();

        let info = db.xinfo_stream("s").await.unwrap();
        assert_eq!(info.length, 2, "{protocol}");
        assert_eq!(info.groups, 2);
        assert_eq!(info.last_generated_id, "3-0");
        assert_eq!(info.max_deleted_entry_id.as_deref(), Some("3-0"));
        assert_eq!(info.entries_added, Some(3));
        assert_eq!(info.recorded_first_entry_id.as_deref(), Some("1-0"));
        assert!(info.radix_tree_keys >= 1);
        let first = info.first_entry.expect("first entry");
        assert_eq!(first.id, "1-0");
        assert_eq!(first.get("n"), Some(&Bytes::from("1-0")));
        assert_eq!(info.last_entry.map(|e| e.id).as_deref(), Some("2-0"));

        let _: Vec<StreamKeyEntries> = db
            .xreadgroup("g1", "c1", [("s", ">")], XReadGroupOptions::new().count(1))
            .await
            .unwrap();
        let groups = db.xinfo_groups("s").await.unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].name, "g1");
        assert_eq!(groups[0].consumers, 1);
        assert_eq!(groups[0].pending, 1);
        assert_eq!(groups[0].last_delivered_id, "1-0");
        assert_eq!(groups[1].name, "g2");
        assert_eq!(groups[1].entries_read, Some(2));
        assert_eq!(groups[1].lag, Some(0));

        let consumers = db.xinfo_consumers("s", "g1").await.unwrap();
        assert_eq!(consumers.len(), 1);
        assert_eq!(consumers[0].name, "c1");
        assert_eq!(consumers[0].pending, 1);
        assert!(consumers[0].idle < Duration::from_secs(60));
        assert!(db.xinfo_consumers("s", "g2").await.unwrap().is_empty());
        let err = db.xinfo_consumers("s", "nope").await.unwrap_err();
        assert_server_error(err, "NOGROUP");

        // XSETID: not below the greatest id; options set the counters.
        let err = db.xsetid("s", "1-0").await.unwrap_err();
        assert_server_error(err, "smaller");
        db.xsetid("s", "10-0").await.unwrap();
        db.xsetid_with(
            "s",
            "11-0",
            XSetIdOptions::new().entries_added(50).max_deleted_id("5-0"),
        )
        .await
        .unwrap();
        let info = db.xinfo_stream("s").await.unwrap();
        assert_eq!(info.last_generated_id, "11-0");
        assert_eq!(info.entries_added, Some(50));
        assert_eq!(info.max_deleted_entry_id.as_deref(), Some("5-0"));
        let err = db.xsetid("missing", "1-0").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);

        // An empty stream has no first/last entry.
        db.xtrim("s", StreamTrim::max_len(0)).await.unwrap();
        let info = db.xinfo_stream("s").await.unwrap();
        assert_eq!(info.length, 0);
        assert_eq!(info.first_entry, None);
        assert_eq!(info.last_entry, None);

        db.set("str", "v").await.unwrap();
        let err = db.xinfo_stream("str").await.unwrap_err();
        assert_server_error(err, "WRONGTYPE");
    }
}

#[tokio::test]
async fn stream_commands_in_a_batch() {
    let (_server, mux) = connect("resp2").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let added = batch.xadd_with("s", [("f", "v")], XAddOptions::new().id("1-0"));
    let len = batch.xlen("s");
    let range = batch.xrange::<String>("s", StreamBound::Min, StreamBound::Max, None);
    let read = batch.xread_with::<String, _, _>([("s", "0")], XReadOptions::new().count(5));
    let info = batch.xinfo_stream("s");
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(added).unwrap().as_deref(), Some("1-0"));
    assert_eq!(replies.take(len).unwrap(), 1);
    assert_eq!(ids(&replies.take(range).unwrap()), ["1-0"]);
    let read = replies.take(read).unwrap();
    assert_eq!(read[0].key, "s");
    assert_eq!(fields(&read[0].entries[0]), [("f", "v")]);
    assert_eq!(replies.take(info).unwrap().length, 1);
}

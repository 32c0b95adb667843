//! Batches against a real redis-server: typed replies in order, per-command
//! errors, one group that other callers never split, refusals before
//! sending, and the batch's database.

mod support;

use std::sync::Arc;

use redmux::prelude::*;
use redmux::{Cmd, ErrorKind};
use support::RedisServer;

#[tokio::test]
async fn replies_come_back_typed_in_order_with_their_own_errors() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    assert!(db.set("name", "ada").await.expect("SET"));
    let before = mux.stats();

    let mut batch = db.batch();
    let name = batch.queue::<Option<String>>(Cmd::new("GET").key("name"));
    let visits = batch.queue::<i64>(Cmd::new("INCRBY").key("visits").arg(5));
    let missing = batch.queue::<Option<String>>(Cmd::new("GET").key("missing"));
    let wrong = batch.queue::<i64>(Cmd::new("LPUSH").key("name").arg("x"));
    let after_error = batch.queue::<i64>(Cmd::new("INCR").key("visits"));
    assert_eq!(batch.len(), 5);
    let mut replies = batch.execute().await.expect("the batch");

    let after = mux.stats();
    assert_eq!(after.commands_written - before.commands_written, 5);
    assert_eq!(after.flushes - before.flushes, 1, "one write for the batch");
    assert_eq!(replies.len(), 5);
    assert_eq!(replies.take(name).unwrap(), Some("ada".to_owned()));
    assert_eq!(replies.take(visits).unwrap(), 5);
    assert_eq!(replies.take(missing).unwrap(), None);
    let err = replies.take(wrong).expect_err("WRONGTYPE");
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.to_string().contains("LPUSH") && err.to_string().contains("WRONGTYPE"),
        "{err}"
    );
    assert_eq!(
        replies.take(after_error).unwrap(),
        6,
        "a failed command does not stop the rest"
    );
}

/// Many callers run batches of `SET shared <mine>` + `GET shared` at once:
/// if another caller's SET ever landed inside a batch, its GET would read
/// someone else's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_other_callers_command_lands_inside_a_batch() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = Arc::new(mux.database(0));
    let mut tasks = Vec::new();
    for task in 0..16 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..150 {
                let mine = format!("{task}:{round}");
                let mut batch = db.batch();
                let _set = batch.queue::<()>(Cmd::new("SET").key("shared").arg(&mine));
                let got = batch.queue::<String>(Cmd::new("GET").key("shared"));
                let mut replies = batch.execute().await.expect("batch");
                assert_eq!(
                    replies.take(got).expect("GET"),
                    mine,
                    "another caller's SET got in"
                );
                // Single commands from the same callers, between batches.
                let _: Option<String> = db.get("shared").await.expect("GET");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let batches = server.command_calls("set");
    assert_eq!(batches, 16 * 150);
    let s = mux.stats();
    assert!(
        s.commands_written > s.flushes,
        "batches shared writes with each other ({} commands, {} writes)",
        s.commands_written,
        s.flushes
    );
}

#[tokio::test]
async fn a_refused_command_fails_the_batch_before_anything_is_sent() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let _ = batch.queue::<Option<String>>(Cmd::new("GET").key("k"));
    let _ = batch.queue::<Option<(String, String)>>(Cmd::new("BLPOP").key("q").arg(0));
    let err = batch.execute().await.expect_err("BLPOP is refused");
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(err.to_string().contains("BLPOP"), "{err}");
    assert_eq!(
        server.command_calls("get"),
        0,
        "nothing of the batch was sent"
    );
}

#[tokio::test]
async fn handles_belong_to_their_batch_and_batches_run_in_their_database() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db3 = mux.database(3);

    let mut first = db3.batch();
    let set = first.queue::<()>(Cmd::new("SET").key("where").arg("three"));
    let mut second = db3.batch();
    let get = second.queue::<Option<String>>(Cmd::new("GET").key("where"));
    let mut first_replies = first.execute().await.expect("first");
    let mut second_replies = second.execute().await.expect("second");
    let err = first_replies
        .take(get)
        .expect_err("a handle of the second batch");
    assert_eq!(err.kind(), ErrorKind::Refused);
    second_replies
        .take(set)
        .expect_err("a handle of the first batch");

    let mut third = db3.batch();
    let get = third.queue::<Option<String>>(Cmd::new("GET").key("where"));
    let mut replies = third.execute().await.expect("third");
    assert_eq!(replies.take(get).unwrap(), Some("three".to_owned()));
    assert_eq!(
        server.command(&["EXISTS", "where"]).trim(),
        ":0",
        "not in database 0 (the side connection's)"
    );

    let empty = db3.batch().execute().await.expect("an empty batch");
    assert!(empty.is_empty());
}

//! Transactions on the shared connection, against a real redis-server:
//! MULTI/EXEC as one group, conditions checked under WATCH behind the
//! gate, check-and-set under contention with other callers' traffic, and
//! other callers unable to break or enter a transaction.

mod support;

use std::sync::Arc;

use redmux::prelude::*;
use redmux::{Compare, ErrorKind, Value};
use support::RedisServer;

#[tokio::test]
async fn an_unconditional_transaction_commits_with_typed_replies() {
    let server = RedisServer::start();
    for protocol in ["resp2", "resp3"] {
        let mux = server.connect(&format!(",protocol={protocol}")).await;
        let db = mux.database(0);
        db.del("tx:n").await.unwrap();
        let mut tx = db.transaction();
        let set = tx.set("tx:s", "v");
        let n = tx.incr_by("tx:n", 5);
        let get = tx.get::<String>("tx:s");
        let outcome = tx.exec().await.expect("exec");
        assert!(outcome.committed());
        let mut replies = outcome.into_replies().expect("committed");
        assert!(replies.take(set).unwrap());
        assert_eq!(replies.take(n).unwrap(), 5);
        assert_eq!(replies.take(get).unwrap(), "v");
        assert_eq!(server.command(&["GET", "tx:n"]), "5");
    }
}

#[tokio::test]
async fn a_failed_condition_runs_nothing_and_says_which() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0);
    db.set("tx:exists", "1").await.unwrap();
    let mut tx = db.transaction();
    tx.add_condition(Condition::key_exists("tx:exists"));
    tx.add_condition(Condition::key_exists("tx:missing"));
    let _ = tx.set("tx:written", "x");
    match tx.exec().await.expect("exec") {
        Outcome::ConditionFailed { index, condition } => {
            assert_eq!(index, 1);
            assert!(condition.contains("tx:missing"), "{condition}");
        }
        other => panic!("expected a failed condition, got {other:?}"),
    }
    assert_eq!(server.command(&["EXISTS", "tx:written"]), ":0\r\n");
    // The watches were released: a later unconditional transaction commits.
    let mut tx = db.transaction();
    let _ = tx.set("tx:written", "y");
    assert!(tx.exec().await.unwrap().committed());
    assert_eq!(server.command(&["GET", "tx:written"]), "y");
}

/// Every kind of condition, once where it holds and once where it does not.
#[tokio::test]
async fn every_condition_kind_holds_and_fails_as_documented() {
    let server = RedisServer::start();
    for protocol in ["resp2", "resp3"] {
        let mux = server.connect(&format!(",protocol={protocol}")).await;
        let db = mux.database(0);
        for cmd in [
            vec!["FLUSHDB"],
            vec!["SET", "s", "abc"],
            vec!["HSET", "h", "f", "1", "g", "2"],
            vec!["RPUSH", "l", "a", "b", "c"],
            vec!["SADD", "set", "m", "n"],
            vec!["ZADD", "z", "1.5", "a", "2", "b", "3", "c"],
            vec!["XADD", "x", "*", "f", "v"],
        ] {
            server.command(&cmd);
        }
        let cases: Vec<(Condition, bool)> = vec![
            (Condition::key_exists("s"), true),
            (Condition::key_exists("nope"), false),
            (Condition::key_not_exists("nope"), true),
            (Condition::key_not_exists("s"), false),
            (Condition::string_equal("s", "abc"), true),
            (Condition::string_equal("s", "abd"), false),
            (Condition::string_equal("nope", "abc"), false),
            (Condition::string_not_equal("s", "abd"), true),
            (Condition::string_not_equal("s", "abc"), false),
            (Condition::string_length("s", Compare::Equal(3)), true),
            (Condition::string_length("s", Compare::LessThan(3)), false),
            (Condition::string_length("s", Compare::GreaterThan(2)), true),
            (Condition::hash_field_exists("h", "f"), true),
            (Condition::hash_field_exists("h", "x"), false),
            (Condition::hash_field_not_exists("h", "x"), true),
            (Condition::hash_field_not_exists("h", "f"), false),
            (Condition::hash_equal("h", "f", 1), true),
            (Condition::hash_equal("h", "f", 2), false),
            (Condition::hash_not_equal("h", "f", 2), true),
            (Condition::hash_not_equal("h", "f", "1"), false),
            (Condition::hash_length("h", Compare::Equal(2)), true),
            (Condition::hash_length("h", Compare::GreaterThan(2)), false),
            (Condition::list_index_equal("l", 1, "b"), true),
            (Condition::list_index_equal("l", -1, "b"), false),
            (Condition::list_index_not_equal("l", 0, "b"), true),
            (Condition::list_index_not_equal("l", 0, "a"), false),
            (Condition::list_index_exists("l", 2), true),
            (Condition::list_index_exists("l", 3), false),
            (Condition::list_index_not_exists("l", 3), true),
            (Condition::list_index_not_exists("l", 0), false),
            (Condition::list_length("l", Compare::Equal(3)), true),
            (Condition::list_length("l", Compare::LessThan(3)), false),
            (Condition::set_contains("set", "m"), true),
            (Condition::set_contains("set", "z"), false),
            (Condition::set_not_contains("set", "z"), true),
            (Condition::set_not_contains("set", "n"), false),
            (Condition::set_length("set", Compare::Equal(2)), true),
            (Condition::set_length("set", Compare::GreaterThan(5)), false),
            (Condition::sorted_set_contains("z", "a"), true),
            (Condition::sorted_set_contains("z", "q"), false),
            (Condition::sorted_set_not_contains("z", "q"), true),
            (Condition::sorted_set_not_contains("z", "a"), false),
            (Condition::sorted_set_score_equal("z", "a", 1.5), true),
            (Condition::sorted_set_score_equal("z", "a", 2.0), false),
            (Condition::sorted_set_score_not_equal("z", "a", 2.0), true),
            (Condition::sorted_set_score_not_equal("z", "a", 1.5), false),
            (Condition::sorted_set_score_exists("z", 2.0), true),
            (Condition::sorted_set_score_exists("z", 2.5), false),
            (Condition::sorted_set_score_not_exists("z", 2.5), true),
            (Condition::sorted_set_score_not_exists("z", 3.0), false),
            (Condition::sorted_set_length("z", Compare::Equal(3)), true),
            (
                Condition::sorted_set_length("z", Compare::LessThan(3)),
                false,
            ),
            (
                Condition::sorted_set_length_in_range("z", 1.0, 2.0, Compare::Equal(2)),
                true,
            ),
            (
                Condition::sorted_set_length_in_range("z", 1.0, 2.0, Compare::Equal(3)),
                false,
            ),
            (Condition::stream_length("x", Compare::Equal(1)), true),
            (
                Condition::stream_length("x", Compare::GreaterThan(1)),
                false,
            ),
            // A check on the wrong type fails the condition, not the call.
            (Condition::hash_length("s", Compare::Equal(0)), false),
        ];
        for (condition, holds) in cases {
            let what = condition.describe().to_owned();
            let mut tx = db.transaction();
            tx.add_condition(condition);
            let n = tx.incr("ran");
            let before: i64 = db.get::<Option<i64>>("ran").await.unwrap().unwrap_or(0);
            let outcome = tx.exec().await.expect("exec");
            assert_eq!(
                outcome.committed(),
                holds,
                "{protocol}: {what}: {outcome:?}"
            );
            let after: i64 = db.get::<Option<i64>>("ran").await.unwrap().unwrap_or(0);
            assert_eq!(after - before, i64::from(holds), "{what}");
            if holds {
                assert_eq!(outcome.into_replies().unwrap().take(n).unwrap(), after);
            }
        }
    }
}

/// Many tasks add to one counter with check-and-set transactions while
/// other callers' traffic runs on the same connection: the total is exact
/// and every other caller gets its own replies.
#[tokio::test]
async fn check_and_set_under_contention_ends_with_the_exact_total() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = Arc::new(mux.database(0));
    db.set("cas", 0).await.unwrap();
    const TASKS: i64 = 16;
    const EACH: i64 = 25;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut retries = 0u32;
            for _ in 0..EACH {
                loop {
                    let seen: i64 = db.get::<Option<i64>>("cas").await.unwrap().unwrap_or(0);
                    let mut tx = db.transaction();
                    tx.add_condition(Condition::string_equal("cas", seen));
                    let _ = tx.set("cas", seen + 1);
                    if tx.exec().await.unwrap().committed() {
                        break;
                    }
                    retries += 1;
                }
            }
            retries
        }));
    }
    // Other callers meanwhile: their own keys, their own replies.
    let mut others = Vec::new();
    for t in 0..4 {
        let db = db.clone();
        others.push(tokio::spawn(async move {
            for i in 0..300 {
                let key = format!("other:{t}");
                db.set(&key, i).await.unwrap();
                let v: i64 = db.get(&key).await.unwrap();
                assert_eq!(v, i, "another caller got someone else's reply");
                let n: i64 = db.incr(format!("other:n:{t}")).await.unwrap();
                assert_eq!(n, i + 1);
            }
        }));
    }
    let mut retries = 0;
    for t in tasks {
        retries += t.await.unwrap();
    }
    for o in others {
        o.await.unwrap();
    }
    assert_eq!(server.command(&["GET", "cas"]), (TASKS * EACH).to_string());
    // The contention was real: some attempts saw a stale value and retried.
    assert!(
        retries > 0,
        "no check-and-set ever failed: the test did not contend"
    );
}

#[tokio::test]
async fn other_callers_cannot_break_or_enter_a_transaction() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp3").await;
    let db = Arc::new(mux.database(0));
    for name in ["UNWATCH", "EXEC", "DISCARD", "MULTI"] {
        let err = db.execute::<(), &str, _>(name, []).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{name}: {err}");
    }
    let err = db.execute::<(), _, _>("WATCH", ["k"]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    // Nor inside a batch or a transaction of their own.
    let mut batch = db.batch();
    let _ = batch.queue::<()>(Cmd::new("EXEC"));
    assert_eq!(
        batch.execute().await.unwrap_err().kind(),
        ErrorKind::Refused
    );

    // Plain commands racing with conditional transactions always get
    // their own reply, never QUEUED, and never run inside one.
    db.set("guard", "x").await.unwrap();
    let mut handles = Vec::new();
    for t in 0..8 {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..100 {
                if t % 2 == 0 {
                    let mut tx = db.transaction();
                    tx.add_condition(Condition::key_exists("guard"));
                    let n = tx.incr("tx:count");
                    let mut r = tx.exec().await.unwrap().into_replies().unwrap();
                    assert!(r.take(n).unwrap() > 0);
                } else {
                    let key = format!("plain:{t}:{i}");
                    let v: Value = db.execute("SET", [key.as_str(), "v"]).await.unwrap();
                    assert_eq!(v, Value::SimpleString("OK".into()));
                    let got: String = db.get(&key).await.unwrap();
                    assert_eq!(got, "v");
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(server.command(&["GET", "tx:count"]), "400");
}

#[tokio::test]
async fn a_command_rejected_while_queueing_aborts_and_is_named() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0);
    let mut tx = db.transaction();
    let _ = tx.set("q:a", "1");
    let _ = tx.queue::<()>(Cmd::new("SET").key("q:b")); // wrong arity
    let err = tx.exec().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.to_string().contains("SET"), "{err}");
    assert_eq!(server.command(&["EXISTS", "q:a"]), ":0\r\n");
    // A runtime error does not abort the others.
    db.set("q:s", "str").await.unwrap();
    let mut tx = db.transaction();
    let bad = tx.incr("q:s");
    let good = tx.incr("q:n");
    let mut replies = tx.exec().await.unwrap().into_replies().unwrap();
    assert_eq!(replies.take(bad).unwrap_err().kind(), ErrorKind::Server);
    assert_eq!(replies.take(good).unwrap(), 1);
}

#[tokio::test]
async fn a_prefixed_transaction_prefixes_commands_conditions_and_watches() {
    let server = RedisServer::start();
    let mux = server.connect(",protocol=resp2").await;
    let db = mux.database(0).with_key_prefix("t1:");
    db.set("k", "v").await.unwrap();
    assert_eq!(server.command(&["GET", "t1:k"]), "v");
    let mut tx = db.transaction();
    tx.add_condition(Condition::string_equal("k", "v"));
    let _ = tx.set("k", "k"); // the value "k" is not a key: untouched
    assert!(tx.exec().await.unwrap().committed());
    assert_eq!(server.command(&["GET", "t1:k"]), "k");
    assert_eq!(server.command(&["EXISTS", "k"]), ":0\r\n");
}

//! The work queue against a real redis-server: 100,000 items each done
//! exactly once by consumers that are killed and restarted mid-run; a
//! starting consumer drains the backlog without a nudge; the items of a
//! consumer that never comes back are recovered.

mod support;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::queue::{Consumer, WorkQueue};
use support::RedisServer;

/// Does one job: records it in the set `done` and acknowledges it in one
/// transaction, so a consumer killed at any point either did both or
/// neither. Returns whether the item was new to `done`.
async fn finish(db: &Database, consumer: &Consumer, payload: &[u8]) -> redmux::Result<bool> {
    let mut tx = db.transaction();
    let added = tx.sadd("done", payload);
    let _acked = tx.lrem(consumer.processing_key(), 1, payload);
    let mut replies = tx
        .exec()
        .await?
        .into_replies()
        .expect("an unconditional transaction commits");
    replies.take(added)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_is_done_exactly_once_while_consumers_are_killed_and_restarted() {
    const ITEMS: u64 = 100_000;
    const CONSUMERS: usize = 6;
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let queue = WorkQueue::new(&mux, "jobs").with_poll_interval(Duration::from_millis(100));
    let duplicates = Arc::new(AtomicU64::new(0));
    let done_by_consumers = Arc::new(AtomicU64::new(0));

    let spawn_consumer = |id: String| {
        let (queue, db) = (queue.clone(), db.clone());
        let (duplicates, done) = (duplicates.clone(), done_by_consumers.clone());
        tokio::spawn(async move {
            let mut consumer = queue.consumer(&id).await.expect("consumer starts");
            loop {
                let job = consumer.next().await.expect("next job");
                if finish(&db, &consumer, job.payload()).await.expect("finish") {
                    done.fetch_add(1, Relaxed);
                } else {
                    duplicates.fetch_add(1, Relaxed);
                }
            }
        })
    };
    let mut consumers: Vec<_> = (0..CONSUMERS)
        .map(|i| spawn_consumer(format!("c{i}")))
        .collect();

    // Two producers, fire-and-forget.
    let producers: Vec<_> = (0..2u64)
        .map(|p| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for i in 0..ITEMS / 2 {
                    queue.push(format!("item-{}", p * ITEMS / 2 + i)).unwrap();
                    if i % 1000 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();

    // Kill a consumer every 50 ms and start it again with the same id.
    let mut kills = 0u64;
    let started = Instant::now();
    loop {
        let done: u64 = db.scard("done").await.unwrap();
        if done == ITEMS {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "stuck at {done} of {ITEMS} (queue {}, kills {kills})",
            queue.len().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        let victim = (kills as usize) % CONSUMERS;
        consumers[victim].abort();
        if let Err(e) = (&mut consumers[victim]).await {
            assert!(e.is_cancelled(), "consumer c{victim} failed: {e}");
        }
        kills += 1;
        consumers[victim] = spawn_consumer(format!("c{victim}"));
    }
    for p in producers {
        p.await.unwrap();
    }
    for c in &consumers {
        assert!(!c.is_finished(), "a consumer stopped on its own (an error)");
        c.abort();
    }
    assert!(kills >= 3, "consumers were killed mid-run ({kills})");
    assert_eq!(duplicates.load(Relaxed), 0, "no item was done twice");
    assert_eq!(db.scard("done").await.unwrap(), ITEMS);
    assert_eq!(queue.len().await.unwrap(), 0);
    for i in 0..CONSUMERS {
        let left: u64 = db.llen(format!("{{jobs}}:processing:c{i}")).await.unwrap();
        assert_eq!(left, 0, "c{i} left nothing taken and unacknowledged");
    }
}

#[tokio::test]
async fn a_starting_consumer_drains_the_backlog_without_a_nudge() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let db = mux.database(0);
    let queue = WorkQueue::new(&mux, "backlog");
    // Pushed without nudges, before any consumer exists.
    for i in 0..100 {
        db.lpush(queue.key(), i.to_string()).await.unwrap();
    }
    // A poll interval far beyond the test: only the drain can find them.
    let mut consumer = WorkQueue::new(&mux, "backlog")
        .with_poll_interval(Duration::from_secs(3600))
        .consumer("w")
        .await
        .unwrap();
    for i in 0..100 {
        let job = tokio::time::timeout(Duration::from_secs(5), consumer.next())
            .await
            .expect("drained without waiting")
            .unwrap();
        assert_eq!(job.payload_str(), i.to_string(), "oldest first");
        consumer.ack(&job).await.unwrap();
    }
    // A new item wakes it through the nudge.
    let next =
        tokio::spawn(async move { consumer.next().await.map(|j| j.payload_str().into_owned()) });
    tokio::time::sleep(Duration::from_millis(50)).await;
    queue.push("late").unwrap();
    let late = tokio::time::timeout(Duration::from_secs(5), next)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(late, "late");
}

#[tokio::test]
async fn the_items_of_a_consumer_that_never_returns_are_recovered() {
    let server = RedisServer::start();
    let mux = server.connect("").await;
    let queue = WorkQueue::new(&mux, "rescue").with_poll_interval(Duration::from_millis(50));
    for i in 0..5 {
        queue.push_confirmed(format!("r{i}")).await.unwrap();
    }
    let mut doomed = queue.consumer("doomed").await.unwrap();
    for _ in 0..3 {
        doomed.next().await.unwrap(); // taken, never acknowledged
    }
    drop(doomed);
    assert_eq!(queue.len().await.unwrap(), 2);
    let mut survivor = queue.consumer("survivor").await.unwrap();
    // Nothing is stale yet: the doomed consumer beat just now.
    assert_eq!(
        queue.recover_stale(Duration::from_secs(60)).await.unwrap(),
        0
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = survivor.try_next().await.unwrap(); // the survivor beats
    let recovered = queue
        .recover_stale(Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(recovered, 3);
    let mut got = Vec::new();
    while let Some(job) = survivor.try_next().await.unwrap() {
        got.push(job.payload_str().into_owned());
    }
    assert_eq!(
        got.len() + 1,
        5,
        "every item once: {got:?} plus the one taken above"
    );
}

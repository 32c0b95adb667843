//! `work_queue`: producers and consumers sharing one multiplexer, without a
//! single blocking pop: the pattern that replaces BLPOP (see
//! `redmux::queue`). One consumer is killed mid-run and its unfinished items
//! are recovered; at the end every item is checked: done exactly once.
//!
//! Usage: `cargo run --release --example work_queue -- [REDIS] [ITEMS]`
//! (default 100,000 items; `scripts/demo.sh` runs it after the main demo).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::queue::{Consumer, WorkQueue};

const PRODUCERS: u64 = 3;
const CONSUMERS: usize = 4;

#[tokio::main]
async fn main() -> redmux::Result<()> {
    let mut args = std::env::args().skip(1);
    let redis = args.next().unwrap_or_else(|| "127.0.0.1:6379".to_owned());
    let items: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let mux = Multiplexer::connect(format!("{redis},name=work-queue")).await?;
    let db = mux.database(0);
    let queue = WorkQueue::new(&mux, "demo-jobs").with_poll_interval(Duration::from_millis(200));
    db.del("demo-jobs:done").await?;
    println!(
        "work queue: {PRODUCERS} producers push {items} items fire-and-forget; {CONSUMERS} consumers \
         LMOVE them (no BLPOP); consumer c0 is killed after 1 s and restarted after 2 s"
    );

    let done = Arc::new(AtomicU64::new(0));
    let duplicates = Arc::new(AtomicU64::new(0));
    let spawn = |id: String| {
        let (queue, db, done, duplicates) =
            (queue.clone(), db.clone(), done.clone(), duplicates.clone());
        tokio::spawn(async move {
            let mut consumer = queue.consumer(&id).await?;
            loop {
                let job = consumer.next().await?;
                // The work and the acknowledgement in one transaction.
                if finish(&db, &consumer, job.payload()).await? {
                    done.fetch_add(1, Relaxed);
                } else {
                    duplicates.fetch_add(1, Relaxed);
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), redmux::Error>(())
        })
    };
    let mut consumers: Vec<_> = (0..CONSUMERS).map(|i| spawn(format!("c{i}"))).collect();

    let started = Instant::now();
    for p in 0..PRODUCERS {
        let queue = queue.clone();
        let share = items / PRODUCERS + u64::from(p < items % PRODUCERS);
        tokio::spawn(async move {
            for i in 0..share {
                queue.push(format!("p{p}-{i}"))?;
                if i % 512 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            Ok::<(), redmux::Error>(())
        });
    }

    let mut killed = false;
    let mut restarted = false;
    let mut tick = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        tick += 1;
        let total: u64 = db.scard("demo-jobs:done").await?;
        if tick % 4 == 0 || total == items {
            println!(
                "  {:>5.1} s  done {total:>8}  waiting {:>8}  ({:.0} items/s)",
                started.elapsed().as_secs_f64(),
                queue.len().await?,
                total as f64 / started.elapsed().as_secs_f64()
            );
        }
        if !killed && started.elapsed() >= Duration::from_secs(1) {
            consumers[0].abort();
            killed = true;
            println!("  killed c0 (what it took and did not finish stays in its processing list)");
        }
        if killed && !restarted && started.elapsed() >= Duration::from_secs(2) {
            consumers[0] = spawn("c0".to_owned());
            restarted = true;
            println!("  restarted c0: it first puts back what its previous life left");
        }
        if total == items {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            println!("gave up after 300 s");
            break;
        }
    }
    for c in &consumers {
        c.abort();
    }
    let total: u64 = db.scard("demo-jobs:done").await?;
    println!(
        "\n{total} of {items} items done, {} twice, in {:.1} s; each consumer's processing list is empty: {}",
        duplicates.load(Relaxed),
        started.elapsed().as_secs_f64(),
        all_empty(&db).await?
    );
    db.del("demo-jobs:done").await?;
    mux.close().await;
    Ok(())
}

/// Records the item and acknowledges it atomically: a consumer killed at
/// any moment did both or neither. Whether the item was new.
async fn finish(db: &Database, consumer: &Consumer, payload: &[u8]) -> redmux::Result<bool> {
    let mut tx = db.transaction();
    let added = tx.sadd("demo-jobs:done", payload);
    let _acked = tx.lrem(consumer.processing_key(), 1, payload);
    match tx.exec().await?.into_replies() {
        Some(mut replies) => replies.take(added),
        None => Ok(false),
    }
}

async fn all_empty(db: &Database) -> redmux::Result<bool> {
    for i in 0..CONSUMERS {
        if db.llen(format!("{{demo-jobs}}:processing:c{i}")).await? != 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

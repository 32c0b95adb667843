//! A focused load generator for profiling: N tasks doing GET of a 16-byte
//! value on one multiplexer for D seconds, then ops/s and batching.
//!
//! `cargo run --release --example load -- HOST:PORT [TASKS] [SECONDS] [current]`
//!
//! The side-by-side comparison with other clients is `scripts/bench.sh`;
//! this exists to iterate quickly under `perf record`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redmux::prelude::*;
use redmux::Multiplexer;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), AnyError> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:6379".to_owned());
    let tasks: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let current_thread = args.next().as_deref() == Some("current");
    let runtime = if current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    }?;
    runtime.block_on(run(address, tasks, Duration::from_secs(seconds)))
}

async fn run(address: String, tasks: usize, length: Duration) -> Result<(), AnyError> {
    let mux = Multiplexer::connect(address.as_str()).await?;
    let db = mux.database(0);
    db.set("load:k", "0123456789abcdef").await?;
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let mut handles: Vec<tokio::task::JoinHandle<redmux::Result<()>>> = Vec::with_capacity(tasks);
    for _ in 0..tasks {
        let (db, stop, ops) = (db.clone(), stop.clone(), ops.clone());
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let v: Option<Bytes> = db.get("load:k").await?;
                if n % 1024 == 0 {
                    assert_eq!(v.as_deref(), Some(&b"0123456789abcdef"[..]));
                }
                n += 1;
            }
            ops.fetch_add(n, Ordering::Relaxed);
            redmux::Result::Ok(())
        }));
    }
    let before = mux.stats();
    let started = Instant::now();
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = mux.stats();
    let writes = (after.flushes - before.flushes).max(1);
    println!(
        "{tasks} tasks: {:.0} ops/s, {:.1} commands/write",
        ops.load(Ordering::Relaxed) as f64 / elapsed,
        (after.commands_written - before.commands_written) as f64 / writes as f64
    );
    Ok(())
}

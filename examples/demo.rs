//! The redmux demo: many tasks share ONE connection.
//!
//! Usage: `cargo run --release --example demo -- [ADDRESS] [SECONDS_PER_STEP]`
//! (`scripts/demo.sh` starts a throwaway redis-server and passes its address).
//!
//! For 1, 100 and 1,000 concurrent tasks it runs GET/SET against its own
//! keys, printing progress every second, then ops/s and how many commands
//! each socket write carried. Then it shows fire-and-forget and a refused BLPOP.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{Database, Multiplexer, Value};

#[tokio::main]
async fn main() -> redmux::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:6379".to_owned());
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);

    let mux = Multiplexer::connect(format!("{address},name=redmux-demo")).await?;
    println!("connected: {}", mux.config());
    let db = mux.database(0);

    println!("\n== many tasks, one connection ({seconds} s per step; every reply is checked)");
    println!(
        "{:>7} {:>12} {:>14} {:>18}",
        "tasks", "ops/s", "cmds/write", "server cmds/read"
    );
    for tasks in [1usize, 100, 1000] {
        run_step(&mux, &db, tasks, Duration::from_secs(seconds)).await?;
    }

    println!("\n== fire-and-forget: 100,000 INCRs return at once");
    db.del("demo:counter").await?;
    let started = Instant::now();
    for _ in 0..100_000 {
        db.incr("demo:counter").fire_and_forget()?;
    }
    let queued_in = started.elapsed();
    let total: u64 = db.get("demo:counter").await?;
    println!(
        "queued 100,000 in {:.1} ms; one awaited GET afterwards reads {total} (it waits behind them: same connection, same order)",
        queued_in.as_secs_f64() * 1000.0
    );

    println!("\n== a blocking command is refused before anything is sent");
    match db.execute::<Value, _, _>("BLPOP", ["jobs", "0"]).await {
        Err(e) => println!("BLPOP -> error ({:?}): {e}", e.kind()),
        Ok(v) => println!("BLPOP unexpectedly ran: {v:?}"),
    }

    mux.close().await;
    println!("\nclosed cleanly.");
    Ok(())
}

async fn run_step(
    mux: &Multiplexer,
    db: &Database,
    tasks: usize,
    length: Duration,
) -> redmux::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let before = mux.stats();
    let server_before = server_counts(db).await?;
    let mut handles: Vec<tokio::task::JoinHandle<redmux::Result<()>>> = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let (db, stop, ops) = (db.clone(), stop.clone(), ops.clone());
        handles.push(tokio::spawn(async move {
            let key = format!("demo:{t}");
            let mut i: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                db.set(key.as_str(), i).await?;
                let back: u64 = db.get(key.as_str()).await?;
                assert_eq!(back, i, "task {t} read someone else's value");
                i += 1;
                ops.fetch_add(2, Ordering::Relaxed);
            }
            redmux::Result::Ok(())
        }));
    }
    let started = Instant::now();
    let mut last = 0;
    while started.elapsed() < length {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = ops.load(Ordering::Relaxed);
        eprintln!(
            "  ... {tasks} tasks: {:>9} ops so far, {:>9} ops in the last second",
            now,
            now - last
        );
        last = now;
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await.expect("task panicked")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = mux.stats();
    let server_after = server_counts(db).await?;
    let commands = after.commands_written - before.commands_written;
    let writes = (after.flushes - before.flushes).max(1);
    let server_per_read = (server_after.0 - server_before.0) as f64
        / (server_after.1 - server_before.1).max(1) as f64;
    println!(
        "{:>7} {:>12.0} {:>14.1} {:>18.1}",
        tasks,
        ops.load(Ordering::Relaxed) as f64 / elapsed,
        commands as f64 / writes as f64,
        server_per_read,
    );
    Ok(())
}

/// (total_commands_processed, total_reads_processed) from INFO stats.
async fn server_counts(db: &Database) -> redmux::Result<(u64, u64)> {
    let info: String = db.execute("INFO", ["stats"]).await?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((
        field("total_commands_processed:"),
        field("total_reads_processed:"),
    ))
}

//! What conditional transactions cost the other callers of a shared
//! connection: their GET latency (p50/p99/p99.9) while a few tasks run
//! check-and-set transactions, against the same load with plain INCRs and
//! with unconditional MULTI/EXEC transactions instead.
//!
//! `cargo run --release --example tx_latency -- HOST:PORT [OTHER_TASKS] [TX_TASKS] [SECONDS]`
//!
//! Rounds are interleaved (plain, multi, conditional, repeated) so the
//! machine's drift hits every mode alike; medians of the rounds are printed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::Condition;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// The writer tasks send INCR: the same keys, no transaction.
    Plain,
    /// MULTI, INCR, EXEC as one group: no gate.
    Multi,
    /// WATCH + GET check behind the gate, then MULTI, SET, EXEC.
    Conditional,
}

fn main() -> Result<(), AnyError> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:6379".to_owned());
    let others: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    let writers: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(8);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mux = Multiplexer::connect(address.as_str()).await?;
        let db = mux.database(0);
        db.set("lat:k", "0123456789abcdef").await?;
        let mut results: Vec<(Mode, Round)> = Vec::new();
        for round in 0..3 {
            for mode in [Mode::Plain, Mode::Multi, Mode::Conditional] {
                let r = run(&db, mode, others, writers, Duration::from_secs_f64(seconds)).await?;
                eprintln!("round {round} {mode:?}: {r:?}");
                results.push((mode, r));
            }
        }
        println!("{others} other tasks doing GET, {writers} writer tasks; medians of 3 rounds");
        println!("| writers do | other GETs/s | GET p50 µs | GET p99 µs | GET p99.9 µs | writer ops/s (conditional: committed) |");
        println!("|---|---|---|---|---|---|");
        for mode in [Mode::Plain, Mode::Multi, Mode::Conditional] {
            let rounds: Vec<&Round> = results.iter().filter(|(m, _)| *m == mode).map(|(_, r)| r).collect();
            let med = |f: fn(&Round) -> f64| {
                let mut v: Vec<f64> = rounds.iter().map(|r| f(r)).collect();
                v.sort_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            };
            println!(
                "| {mode:?} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
                med(|r| r.gets_per_s),
                med(|r| r.p50),
                med(|r| r.p99),
                med(|r| r.p999),
                med(|r| r.writer_ops_per_s)
            );
        }
        Ok(())
    })
}

#[derive(Debug)]
struct Round {
    gets_per_s: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    writer_ops_per_s: f64,
}

async fn run(
    db: &Database,
    mode: Mode,
    others: usize,
    writers: usize,
    length: Duration,
) -> Result<Round, AnyError> {
    let stop = Arc::new(AtomicBool::new(false));
    let writer_ops = Arc::new(AtomicU64::new(0));
    let mut writer_handles: Vec<tokio::task::JoinHandle<redmux::Result<()>>> = Vec::new();
    for w in 0..writers {
        let (db, stop, ops) = (db.clone(), stop.clone(), writer_ops.clone());
        writer_handles.push(tokio::spawn(async move {
            let key = format!("lat:counter:{w}");
            while !stop.load(Ordering::Relaxed) {
                let done = match mode {
                    Mode::Plain => {
                        db.incr(&key).await?;
                        true
                    }
                    Mode::Multi => {
                        let mut tx = db.transaction();
                        let _ = tx.incr(&key);
                        tx.exec().await?.committed()
                    }
                    Mode::Conditional => {
                        let seen: i64 = db.get::<Option<i64>>(&key).await?.unwrap_or(0);
                        let mut tx = db.transaction();
                        tx.add_condition(Condition::string_equal(&key, seen));
                        let _ = tx.set(&key, seen + 1);
                        tx.exec().await?.committed()
                    }
                };
                if done {
                    ops.fetch_add(1, Ordering::Relaxed);
                }
            }
            redmux::Result::Ok(())
        }));
    }
    let mut other_handles: Vec<tokio::task::JoinHandle<redmux::Result<Vec<u64>>>> = Vec::new();
    for _ in 0..others {
        let (db, stop) = (db.clone(), stop.clone());
        other_handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 14);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let _: Option<bytes::Bytes> = db.get("lat:k").await?;
                lat.push(t.elapsed().as_nanos() as u64);
            }
            redmux::Result::Ok(lat)
        }));
    }
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for h in other_handles {
        all.extend(h.await??);
    }
    for h in writer_handles {
        h.await??;
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)] as f64 / 1000.0;
    Ok(Round {
        gets_per_s: all.len() as f64 / length.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        p999: pct(0.999),
        writer_ops_per_s: writer_ops.load(Ordering::Relaxed) as f64 / length.as_secs_f64(),
    })
}

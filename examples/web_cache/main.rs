//! `web_cache`: an HTTP service whose handlers share ONE multiplexed
//! connection, reading through a cache and writing it fire-and-forget.
//!
//! Usage:
//!   `cargo run --release --example web_cache -- [REDIS] [--load SECONDS CONCURRENCY]`
//!
//! Without `--load` it serves on a free port until Ctrl-C (try
//! `curl localhost:PORT/products/7`). With `--load` it also runs a load
//! against itself: CONCURRENCY keep-alive HTTP clients, 90% GETs of 10,000
//! products and 10% PUTs, printing progress every second, then requests/s,
//! latency percentiles and how many Redis commands each socket write
//! carried. `scripts/demo.sh --web` runs it against a throwaway server.

mod app;
mod http;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redmux::Multiplexer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let redis = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:6379".to_owned());
    let load = args.iter().position(|a| a == "--load").map(|i| {
        let seconds = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(5u64);
        let concurrency = args
            .get(i + 2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(64usize);
        (seconds, concurrency)
    });

    let mux = Multiplexer::connect(format!("{redis},name=web-cache")).await?;
    let state = app::AppState::new(mux.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = app::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    println!("web_cache listening on http://{addr} (Redis at {redis}, one shared connection)");

    match load {
        None => {
            println!("try: curl http://{addr}/products/7   |   Ctrl-C to stop");
            tokio::signal::ctrl_c().await?;
        }
        Some((seconds, concurrency)) => run_load(addr, &state, seconds, concurrency).await?,
    }
    mux.close().await;
    Ok(())
}

async fn run_load(
    addr: std::net::SocketAddr,
    state: &app::AppState,
    seconds: u64,
    concurrency: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    println!("\nload: {concurrency} keep-alive clients, 90% GET / 10% PUT over 10,000 products, {seconds} s");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let before = state.mux.stats();
    let mut clients = Vec::new();
    for c in 0..concurrency {
        let (stop, done, errors, latencies) = (
            stop.clone(),
            done.clone(),
            errors.clone(),
            latencies.clone(),
        );
        clients.push(tokio::spawn(async move {
            let mut client = match http::HttpClient::connect(addr).await {
                Ok(c) => c,
                Err(_) => {
                    errors.fetch_add(1, Relaxed);
                    return;
                }
            };
            let mut mine = Vec::with_capacity(1 << 16);
            let mut n: u64 = c as u64 * 7919;
            while !stop.load(Relaxed) {
                // A cheap deterministic mix per client (no RNG crate needed).
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let id = (n >> 33) % 10_000;
                let started = Instant::now();
                let result = if (n >> 20) % 10 == 0 {
                    let body = format!(r#"{{"id":{id},"name":"updated","price":{}}}"#, n % 1000);
                    client
                        .request("PUT", &format!("/products/{id}"), &body)
                        .await
                } else {
                    client.request("GET", &format!("/products/{id}"), "").await
                };
                match result {
                    Ok((200 | 204, _)) => {
                        mine.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        done.fetch_add(1, Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Relaxed);
                    }
                }
            }
            latencies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(mine);
        }));
    }
    let started = Instant::now();
    let mut last = 0;
    for second in 1..=seconds {
        tokio::time::sleep_until((started + Duration::from_secs(second)).into()).await;
        let now = done.load(Relaxed);
        println!("  {second:>3} s  {:>9} requests/s", now - last);
        last = now;
    }
    stop.store(true, Relaxed);
    let elapsed = started.elapsed();
    for c in clients {
        let _ = c.await;
    }
    let mut lat = std::mem::take(&mut *latencies.lock().unwrap_or_else(|e| e.into_inner()));
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        f64::from(lat[i]) / 1000.0
    };
    let after = state.mux.stats();
    let commands = after.commands_written - before.commands_written;
    let writes = (after.flushes - before.flushes).max(1);
    println!(
        "\nrequests: {} in {:.1} s = {:.0} requests/s at {concurrency} clients; errors: {}",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        errors.load(Relaxed)
    );
    println!(
        "latency: p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
    println!(
        "redis: {commands} commands in {writes} socket writes = {:.1} commands per write, on one connection; \
         cache hits {} misses {}",
        commands as f64 / writes as f64,
        state.hits.load(Relaxed),
        state.misses.load(Relaxed)
    );
    Ok(())
}

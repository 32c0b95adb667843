//! The open-loop workload: GET 16 B offered at a fixed rate, however the
//! client's replies fare.
//!
//! The closed-loop workloads measure how much a client can push through.
//! They cannot show what a caller waits for when requests arrive on their
//! own schedule (a server handling its users' requests): a closed-loop task
//! waiting on a slow reply also stops issuing, so a slow period is sampled
//! by a handful of requests instead of by all those that would have arrived
//! during it ("coordinated omission"). Here request `i` is due at
//! `t0 + i / rate` whatever happened to the ones before it, and its latency
//! runs from that **scheduled** start to the reply in hand, so time spent
//! waiting because the client (or the harness) was behind is counted.
//!
//! How requests are issued: a plain OS thread, the clock, sleeps until the
//! next request is due and then wakes a dispatcher task on the client's
//! runtime, which spawns every request due by now as its own tokio task;
//! that task makes one GET through its clone of the shared handle and
//! records its latency.
//!
//! * A spawn per request, not a fixed pool of N tasks: nothing then caps how
//!   many requests are outstanding. A client that falls behind holds its
//!   backlog as in-flight requests, as it would under a real server, and
//!   sees the concurrency the offered rate implies. With a pool, once all N
//!   tasks were waiting the rest would queue in the harness, in front of the
//!   client, and the client would be running a closed loop of N again. The
//!   spawn costs every client the same (and is what a server pays per
//!   request anyway); it is in the CPU and allocation counts (one
//!   allocation per request).
//! * The spawns happen on the runtime (the dispatcher), not on the clock
//!   thread: a spawn from outside the runtime goes through tokio's shared
//!   injection queue (a mutex) and may unpark a worker for every request,
//!   while the dispatcher wakes the runtime once per batch and spawns into
//!   its worker's own queue.
//! * A thread, not a tokio timer, keeps the time: tokio's timer has a 1 ms
//!   resolution, and at 50 k requests/s requests are 20 µs apart, so a
//!   timer firing up to 1 ms late would be charged to the client. The
//!   thread sleeps with a 1 µs timer slack, but never less than [`MIN_GAP`]
//!   (each wake-up costs it several µs of CPU on this VM; one per request
//!   at 300 k requests/s would take a core of the two), so at high rates
//!   requests leave in small bursts. The thread's own CPU time is left out
//!   of the CPU per operation and reported apart.
//! * How late each request was spawned after it was due is measured too
//!   (`issue_lag_*`): the clock's wake-up and the dispatcher's wait for a
//!   worker. It is part of the latencies; on a runtime that keeps up it is
//!   the harness's share, the same for every client, and the report shows
//!   it.
//!
//! More than [`BACKLOG_CAP_SECS`] worth of requests outstanding stops the
//! run's issuing (`gave_up`), which bounds memory when a client is far
//! below the offered rate.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::alloc;
use crate::clients::BenchClient;
use crate::server::Raw;
use crate::sys;
use crate::workload::{self, Padded, RunResult, Spec, SHARDS};

/// Offered rates, requests/s, of a full run and of `--quick`.
pub const RATES_FULL: [u64; 4] = [10_000, 50_000, 150_000, 300_000];
pub const RATES_QUICK: [u64; 3] = [10_000, 50_000, 150_000];

/// A rate is held when at least this share of it completed in the window.
/// With requests issued on time that is the same as "the backlog grew by less
/// than 5% of the window's requests": completions = issued - Δbacklog.
pub const HELD_SHARE: f64 = 0.95;

/// The shortest sleep of the clock thread between two wake-ups of the
/// dispatcher: at most 20 k wake-ups a second.
const MIN_GAP: Duration = Duration::from_micros(50);
/// The clock thread's timer slack (the kernel's default is 50 µs).
const TIMER_SLACK_NS: libc::c_ulong = 1_000;
/// Stop issuing once this many seconds' worth of requests are in flight.
pub const BACKLOG_CAP_SECS: f64 = 0.5;
/// How long the requests still in flight at the end may take to complete.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// What an open-loop run reports besides the fields every run has
/// (`ops_per_sec` is `achieved`; `p50_us` .. `p999_us` are from the
/// scheduled start).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OpenLoop {
    /// Target rate, requests/s.
    pub offered: u64,
    /// Completions (of any request) per second over the measured window.
    pub achieved: f64,
    /// Requests due in the window: those whose latencies are recorded.
    pub scheduled: u64,
    /// Requests issued and not yet completed at the window's start and end,
    /// and the most seen by the dispatcher.
    pub backlog_start: u64,
    pub backlog_end: u64,
    pub backlog_max: u64,
    /// How late the window's requests were spawned after they were due, µs
    /// (part of the latencies).
    pub issue_lag_p50_us: f64,
    pub issue_lag_p99_us: f64,
    /// CPU time of the clock thread per request of the window, µs: the
    /// harness's wake-ups, left out of `cpu_us_per_op`.
    pub clock_cpu_us_per_op: f64,
    /// The backlog reached [`BACKLOG_CAP_SECS`] and issuing stopped early.
    pub gave_up: bool,
    /// `achieved` >= [`HELD_SHARE`] of `offered`, and not `gave_up`.
    pub held: bool,
}

struct Shared {
    stop: AtomicBool,
    /// The clock thread's nudge to the dispatcher.
    wake: Notify,
    issued: AtomicU64,
    completed: AtomicU64,
    latency: Vec<Padded<Mutex<Histogram<u64>>>>,
    content_checks: AtomicU64,
    error: Mutex<Option<String>>,
}

/// The schedule of one run: request `i` is due at `t0 + i / rate`; those
/// before `warm` are the warm-up, `warm..total` the measured window.
#[derive(Clone, Copy)]
struct Schedule {
    t0: Instant,
    rate: u64,
    warm: u64,
    total: u64,
}

impl Schedule {
    /// When request `i` is due, in ns after t0.
    fn due_ns(&self, i: u64) -> u64 {
        (i as u128 * 1_000_000_000 / self.rate as u128) as u64
    }

    fn due(&self, i: u64) -> Instant {
        self.t0 + Duration::from_nanos(self.due_ns(i))
    }

    fn now_ns(&self) -> u64 {
        Instant::now().saturating_duration_since(self.t0).as_nanos() as u64
    }

    /// How many requests are due by `now_ns`: 0..=now*rate, at most `total`.
    fn due_by(&self, now_ns: u64) -> u64 {
        ((now_ns as u128 * self.rate as u128 / 1_000_000_000) as u64 + 1).min(self.total)
    }
}

/// The clock thread: wakes the dispatcher whenever a request falls due,
/// at most once per [`MIN_GAP`], until the last one is. Returns its own
/// CPU time from the window's start on, µs.
fn run_clock(s: Schedule, shared: &Shared) -> u64 {
    // SAFETY: PR_SET_TIMERSLACK changes only the calling thread's timer slack.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, TIMER_SLACK_NS) };
    std::thread::sleep(s.t0.saturating_duration_since(Instant::now()));
    let mut cpu_at_warm = None;
    while !shared.stop.load(Relaxed) {
        // `now` before the nudge: the dispatcher then sees at least as
        // many requests due as this thread does, and none is left behind
        // after the last nudge.
        let now = s.now_ns();
        shared.wake.notify_one();
        let next = s.due_by(now);
        if next >= s.total {
            break;
        }
        if cpu_at_warm.is_none() && next >= s.warm {
            cpu_at_warm = Some(sys::thread_cpu_time_us());
        }
        let wait = Duration::from_nanos(s.due_ns(next).saturating_sub(now));
        std::thread::sleep(wait.max(MIN_GAP));
    }
    // A dispatcher waiting when the stop flag ended the loop sees it now.
    shared.wake.notify_one();
    cpu_at_warm.map_or(0, |c| sys::thread_cpu_time_us().saturating_sub(c))
}

/// What the dispatcher saw.
struct Dispatch {
    /// How late it spawned each request of the window, ns.
    lag: Histogram<u64>,
    backlog_max: u64,
    gave_up: bool,
}

/// The dispatcher task: each time the clock wakes it, spawns every request
/// due by now, each as its own task.
async fn dispatch<C: BenchClient>(
    client: C,
    s: Schedule,
    shared: Arc<Shared>,
    keys: Arc<Vec<String>>,
    size: usize,
) -> Dispatch {
    let cap = ((s.rate as f64 * BACKLOG_CAP_SECS) as u64).max(1000);
    let mut d = Dispatch {
        lag: workload::histogram(),
        backlog_max: 0,
        gave_up: false,
    };
    let mut issued = 0u64;
    while issued < s.total && !shared.stop.load(Relaxed) {
        let mut due = s.due_by(s.now_ns());
        // Never more than `cap` outstanding, even after a long stall of
        // this task: past that, stop.
        let room = cap.saturating_sub(issued - shared.completed.load(Relaxed).min(issued));
        if due > issued + room {
            due = issued + room;
            d.gave_up = true;
        }
        for i in issued..due {
            tokio::spawn(request(
                client.clone(),
                s,
                i,
                shared.clone(),
                keys.clone(),
                size,
            ));
            if i >= s.warm {
                let _ = d.lag.record(s.now_ns().saturating_sub(s.due_ns(i)).max(1));
            }
        }
        if due > issued {
            issued = due;
            shared.issued.store(issued, Relaxed);
            let backlog = issued - shared.completed.load(Relaxed).min(issued);
            d.backlog_max = d.backlog_max.max(backlog);
        }
        if d.gave_up {
            shared.stop.store(true, Relaxed);
            break;
        }
        if issued < s.total {
            shared.wake.notified().await;
        }
    }
    d
}

/// Request `i`: one GET, timed from when it was due.
async fn request<C: BenchClient>(
    mut c: C,
    s: Schedule,
    i: u64,
    shared: Arc<Shared>,
    keys: Arc<Vec<String>>,
    size: usize,
) {
    let index = (i % keys.len() as u64) as usize;
    // Every 1000th reply gets its whole content compared.
    let full = i.is_multiple_of(1000);
    let outcome = c
        .get(&keys[index])
        .await
        .and_then(|v| workload::check_value(v.as_ref().map(|v| v.as_ref()), index, size, full));
    let done = Instant::now();
    match outcome {
        Ok(()) => {
            if i >= s.warm {
                let ns = done.saturating_duration_since(s.due(i)).as_nanos() as u64;
                let shard = &shared.latency[i as usize % SHARDS];
                let _ = shard.0.lock().unwrap().record(ns.max(1));
            }
            if full {
                shared.content_checks.fetch_add(1, Relaxed);
            }
        }
        Err(e) => {
            shared.error.lock().unwrap().get_or_insert(e);
            shared.stop.store(true, Relaxed);
        }
    }
    shared.completed.fetch_add(1, Relaxed);
}

struct Snap {
    at: Instant,
    issued: u64,
    completed: u64,
    allocs: (u64, u64),
    cpu_us: u64,
    writes: Option<(u64, u64)>,
}

/// INFO stats on the blocking pool, so the round trip stalls no worker
/// (on a current-thread runtime it would stall every request).
async fn server_stats(mut raw: Raw) -> Result<(Raw, (u64, u64)), String> {
    tokio::task::spawn_blocking(move || workload::snap_server(&mut raw).map(|s| (raw, s)))
        .await
        .map_err(|e| format!("INFO task: {e}"))?
}

/// One open-loop run of `spec` at `rate` requests/s, in this process.
pub async fn measure<C: BenchClient>(
    client: C,
    spec: &Spec,
    rate: u64,
) -> Result<RunResult, String> {
    let w = spec.workload;
    if rate == 0 {
        return Err("an open-loop rate must be above 0".to_owned());
    }
    let mut raw = Raw::connect(spec.port()).map_err(|e| format!("INFO connection: {e}"))?;
    // Besides the client's own: this INFO connection and the parent's.
    let connections = raw
        .info_u64("clients", "connected_clients")?
        .saturating_sub(2);
    let base_rss_kib = sys::proc_status_kib("VmRSS");

    let keys: Arc<Vec<String>> = Arc::new(workload::key_names(
        &workload::prefix(w),
        workload::key_count(w.size),
    ));
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        wake: Notify::new(),
        issued: AtomicU64::new(0),
        completed: AtomicU64::new(0),
        latency: workload::histograms(SHARDS),
        content_checks: AtomicU64::new(0),
        error: Mutex::new(None),
    });
    // Requests due in the warm-up are issued but not recorded.
    let warm = (spec.warmup.as_secs_f64() * rate as f64).ceil() as u64;
    let sched = Schedule {
        t0: Instant::now() + Duration::from_millis(10),
        rate,
        warm,
        total: warm + ((spec.duration.as_secs_f64() * rate as f64).round() as u64).max(1),
    };

    let dispatcher = tokio::spawn(dispatch(
        client.clone(),
        sched,
        shared.clone(),
        keys,
        w.size,
    ));
    let (clock_cpu_tx, clock_cpu) = tokio::sync::oneshot::channel();
    let clock_thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("open-loop clock".to_owned())
            .spawn(move || {
                let _ = clock_cpu_tx.send(run_clock(sched, &shared));
            })
            .map_err(|e| format!("starting the clock thread: {e}"))?
    };

    let snap = || Snap {
        at: Instant::now(),
        issued: shared.issued.load(Relaxed),
        completed: shared.completed.load(Relaxed),
        allocs: alloc::snapshot(),
        cpu_us: sys::cpu_time_us(),
        writes: client.write_stats(),
    };
    tokio::time::sleep_until(sched.due(sched.warm).into()).await;
    let start = snap();
    let (raw, server_start) = server_stats(raw).await?;
    tokio::time::sleep_until(sched.due(sched.total).into()).await;
    let end = snap();
    let (_raw, server_end) = server_stats(raw).await?;

    let d = dispatcher
        .await
        .map_err(|e| format!("dispatcher task: {e}"))?;
    // After the last release, or the stop flag, the clock ends within
    // a sleep.
    shared.stop.store(true, Relaxed);
    let clock_cpu_us = clock_cpu
        .await
        .map_err(|_| "the clock thread died".to_owned())?;
    let _ = clock_thread.join();
    // Wait for the requests still in flight: the window's last ones are
    // recorded like the others.
    let issued = shared.issued.load(Relaxed);
    let drain = Instant::now();
    while shared.completed.load(Relaxed) < issued {
        if drain.elapsed() > DRAIN_TIMEOUT {
            return Err(format!(
                "{} requests still outstanding {} s after the last was issued",
                issued - shared.completed.load(Relaxed),
                DRAIN_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if let Some(e) = shared.error.lock().unwrap().take() {
        return Err(e);
    }

    let ops = end.completed - start.completed;
    if ops == 0 {
        return Err("no request completed in the measured window".to_owned());
    }
    let secs = (end.at - start.at).as_secs_f64();
    let achieved = ops as f64 / secs;
    let server_cmds = (server_end.0.saturating_sub(server_start.0)).saturating_sub(1); // our INFO
    let server_reads = (server_end.1.saturating_sub(server_start.1)).saturating_sub(1);
    // The INFO snapshots are a round trip away from the local ones: allow
    // what the backlog and 1 ms of requests can account for.
    if (server_cmds + d.backlog_max + rate / 1000) * 100 < ops * 98 {
        return Err(format!(
            "the client counted {ops} replies but the server processed only {server_cmds} commands"
        ));
    }
    let latency = workload::merge(&shared.latency);
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let held = !d.gave_up && achieved >= HELD_SHARE * rate as f64;
    let result = RunResult {
        client: spec.client.clone(),
        workload: w.id.to_owned(),
        tasks: 0,
        runtime: spec.runtime_name().to_owned(),
        round: spec.round,
        ops,
        secs,
        ops_per_sec: achieved,
        p50_us: us(&latency, 0.50),
        p99_us: us(&latency, 0.99),
        p999_us: us(&latency, 0.999),
        large_p50_us: None,
        large_p99_us: None,
        cmds_per_write: match (start.writes, end.writes) {
            (Some((c0, f0)), Some((c1, f1))) if f1 > f0 => {
                Some((c1 - c0) as f64 / (f1 - f0) as f64)
            }
            _ => None,
        },
        server_cmds_per_read: server_cmds as f64 / server_reads.max(1) as f64,
        server_cmds_per_op: server_cmds as f64 / ops as f64,
        allocs_per_op: (end.allocs.0 - start.allocs.0) as f64 / ops as f64,
        alloc_bytes_per_op: (end.allocs.1 - start.allocs.1) as f64 / ops as f64,
        // The clock thread's share is the harness's (see OpenLoop).
        cpu_us_per_op: (end.cpu_us - start.cpu_us).saturating_sub(clock_cpu_us) as f64 / ops as f64,
        peak_rss_mib: sys::proc_status_kib("VmHWM") as f64 / 1024.0,
        base_rss_mib: base_rss_kib as f64 / 1024.0,
        connections,
        content_checks: shared.content_checks.load(Relaxed),
        server_error_replies: None,
        error: None,
        open_loop: Some(OpenLoop {
            offered: rate,
            achieved,
            scheduled: sched.total - sched.warm,
            backlog_start: start.issued.saturating_sub(start.completed),
            backlog_end: end.issued.saturating_sub(end.completed),
            backlog_max: d.backlog_max,
            issue_lag_p50_us: us(&d.lag, 0.50),
            issue_lag_p99_us: us(&d.lag, 0.99),
            clock_cpu_us_per_op: clock_cpu_us as f64 / (sched.total - sched.warm) as f64,
            gave_up: d.gave_up,
            held,
        }),
    };
    client.close().await;
    Ok(result)
}

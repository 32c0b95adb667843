//! Fault tests against real redis-server processes that the tests start,
//! kill, pause and restart themselves.
//!
//! Each test checks that every call ends exactly once, within its timeout
//! plus a margin; that no reply reaches the wrong caller (every caller ECHOes
//! values only it uses); that writes ran at most once (counted on the
//! server); that calls succeed again after the fault and the `Restored`
//! event fired; and that the fault really happened (kills, errors and
//! operations counted and asserted > 0), so no test can pass vacuously.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{ConnectionEvent, ErrorKind, Events, Multiplexer};
use support::RedisServer;

/// Slack on top of a call's own timeout for "ended within its timeout": a
/// loaded 2-core machine can delay any task by this much.
const MARGIN: Duration = Duration::from_millis(750);

/// What one writer saw.
#[derive(Default)]
struct Tally {
    /// INCRs acknowledged: they ran.
    acked: AtomicU64,
    /// INCRs that failed after being written: may or may not have run.
    unknown: AtomicU64,
    /// INCRs that failed before being sent: did not run.
    not_run: AtomicU64,
    errors: AtomicU64,
    echoes_ok: AtomicU64,
    slowest_ms: AtomicU64,
}

/// INCRs its own counter and ECHOes values only it uses, until `stop`.
async fn writer(
    db: redmux::Database,
    id: usize,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    timeout: Duration,
) {
    let key = format!("count:{id}");
    let mut i = 0u64;
    while !stop.load(Relaxed) {
        let started = Instant::now();
        match db.incr(key.as_str()).timeout(timeout).await {
            Ok(_) => tally.acked.fetch_add(1, Relaxed),
            Err(e) if e.may_have_run() => tally.unknown.fetch_add(1, Relaxed),
            Err(_) => tally.not_run.fetch_add(1, Relaxed),
        };
        let mine = format!("writer {id} echo {i}\r\n");
        match db.echo::<String>(mine.as_str()).timeout(timeout).await {
            Ok(back) => {
                assert_eq!(back, mine, "writer {id} received another caller's reply");
                tally.echoes_ok.fetch_add(1, Relaxed);
            }
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::Timeout | ErrorKind::ConnectionLost | ErrorKind::BacklogFull
                    ),
                    "{e}"
                );
                tally.errors.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        tally
            .slowest_ms
            .fetch_max(started.elapsed().as_millis() as u64, Relaxed);
        i += 1;
    }
}

struct Writers {
    stop: Arc<AtomicBool>,
    tallies: Vec<Arc<Tally>>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

fn start_writers(mux: &Multiplexer, count: usize, timeout: Duration) -> Writers {
    let stop = Arc::new(AtomicBool::new(false));
    let tallies: Vec<Arc<Tally>> = (0..count).map(|_| Arc::new(Tally::default())).collect();
    let handles = tallies
        .iter()
        .enumerate()
        .map(|(id, t)| {
            tokio::spawn(writer(
                mux.database(0),
                id,
                stop.clone(),
                t.clone(),
                timeout,
            ))
        })
        .collect();
    Writers {
        stop,
        tallies,
        handles,
    }
}

/// What all writers saw together.
#[derive(Debug)]
struct Totals {
    acked: u64,
    unknown: u64,
    /// Failed calls of any kind.
    errors: u64,
    echoes: u64,
}

impl Totals {
    /// The run proves something only if there was load and the fault hit it.
    fn assert_fault_hit_load(&self, min_ops: u64) {
        assert!(
            self.acked > min_ops && self.echoes > min_ops,
            "too little load: {self:?}"
        );
        assert!(
            self.errors > 0,
            "no call failed: the fault did not hit in-flight work ({self:?})"
        );
        assert!(self.unknown <= self.errors, "{self:?}");
    }
}

impl Writers {
    /// Stops the writers and checks that every iteration ended within its timeouts.
    async fn finish(&mut self, timeout: Duration) -> Totals {
        self.stop.store(true, Relaxed);
        for h in std::mem::take(&mut self.handles) {
            tokio::time::timeout(timeout * 3 + MARGIN, h)
                .await
                .expect("a writer hung")
                .expect("a writer panicked");
        }
        for t in &self.tallies {
            let slowest = Duration::from_millis(t.slowest_ms.load(Relaxed));
            // Two calls per iteration, each bounded by its own timeout.
            assert!(
                slowest <= timeout * 2 + MARGIN,
                "an iteration took {slowest:?}: a call outlived its timeout"
            );
        }
        let sum = |f: fn(&Tally) -> u64| self.tallies.iter().map(|t| f(t)).sum::<u64>();
        Totals {
            acked: sum(|t| t.acked.load(Relaxed)),
            unknown: sum(|t| t.unknown.load(Relaxed)),
            errors: sum(|t| {
                t.errors.load(Relaxed) + t.unknown.load(Relaxed) + t.not_run.load(Relaxed)
            }),
            echoes: sum(|t| t.echoes_ok.load(Relaxed)),
        }
    }

    /// Each writer's counter on the server lies between what it saw acknowledged
    /// and that plus the unknowns: nothing ran twice, nothing acknowledged was lost.
    fn check_counts(&self, server: &RedisServer) {
        for (id, t) in self.tallies.iter().enumerate() {
            let on_server: u64 = server
                .command(&["GET", &format!("count:{id}")])
                .trim()
                .parse()
                .unwrap_or(0);
            let (acked, unknown) = (t.acked.load(Relaxed), t.unknown.load(Relaxed));
            assert!(
                acked <= on_server && on_server <= acked + unknown,
                "writer {id}: server has {on_server}, acknowledged {acked}, unknown {unknown}"
            );
        }
    }
}

/// Waits for an event matching `want`, up to `within`.
async fn wait_for_event(
    events: &mut Events,
    within: Duration,
    want: impl Fn(&ConnectionEvent) -> bool,
) -> ConnectionEvent {
    tokio::time::timeout(within, async {
        loop {
            match events.recv().await {
                Some(e) if want(&e) => return e,
                Some(_) => {}
                None => panic!("event stream ended"),
            }
        }
    })
    .await
    .expect("the expected event did not arrive")
}

/// After a fault clears, a call succeeds within a few seconds.
async fn assert_recovers(mux: &Multiplexer) {
    let db = mux.database(0);
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match db
            .echo::<String>("back")
            .timeout(Duration::from_millis(500))
            .await
        {
            Ok(v) => {
                assert_eq!(v, "back");
                return;
            }
            Err(e) if Instant::now() < until => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("did not recover within 5 s: {e}"),
        }
    }
}

fn block<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_and_restarted_mid_load() {
    // appendfsync always: an acknowledged INCR is on disk before its reply, so
    // it survives SIGKILL and the server-side counts can be checked exactly.
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
    let mut events = mux.events();
    let timeout = Duration::from_millis(1000);
    let mut writers = start_writers(&mux, 16, timeout);
    let mut kills = 0;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        block(|| server.restart()); // SIGKILL, then start again on the same port
        kills += 1;
        wait_for_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, ConnectionEvent::Restored { .. })
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let totals = writers.finish(timeout).await;
    assert_eq!(kills, 2);
    totals.assert_fault_hit_load(500);
    block(|| writers.check_counts(&server));
    let stats = mux.stats();
    assert!(stats.disconnects >= 2 && stats.reconnects >= 2, "{stats:?}");
    eprintln!("kill/restart: kills {kills}, {totals:?}, {stats:?}");
    assert_recovers(&mux).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_kill_every_20ms_under_16_writers() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},name=victim", server.addr()))
        .await
        .unwrap();
    let mut events = mux.events();
    let timeout = Duration::from_millis(1000);
    let mut writers = start_writers(&mux, 16, timeout);
    let mut killed = 0u64;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let reply =
            block(|| server.command(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]));
        killed += reply
            .trim()
            .trim_start_matches(':')
            .parse::<u64>()
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let totals = writers.finish(timeout).await;
    assert!(killed > 10, "only {killed} kills landed");
    totals.assert_fault_hit_load(200);
    block(|| writers.check_counts(&server));
    wait_for_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, ConnectionEvent::Restored { .. })
    })
    .await;
    eprintln!("client kill: kills {killed}, {totals:?}, {:?}", mux.stats());
    assert_recovers(&mux).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_server_times_out_on_time_and_replies_still_line_up() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
    let db = mux.database(0);
    db.set("k", "v").await.unwrap();

    // CLIENT PAUSE from a side connection.
    assert_eq!(
        block(|| server.command(&["CLIENT", "PAUSE", "600", "ALL"])).trim(),
        "+OK"
    );
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let r = db
                    .echo::<String>(format!("p{i}"))
                    .timeout(Duration::from_millis(100))
                    .await;
                (r, started.elapsed())
            })
        })
        .collect();
    let mut fired = 0;
    for c in calls {
        let (r, took) = c.await.unwrap();
        let e = r.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_millis(100) + MARGIN,
            "timeout fired after {took:?}"
        );
        fired += 1;
    }
    assert_eq!(fired, 20);
    // After the pause, the late replies are dropped and new ones line up.
    for i in 0..50 {
        assert_eq!(
            db.echo::<String>(format!("after{i}")).await.unwrap(),
            format!("after{i}")
        );
    }

    // SIGSTOP / SIGCONT: the process itself freezes.
    let pid = server.pid().unwrap().to_string();
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    assert!(stopped.success());
    let started = Instant::now();
    let err = db
        .get::<String>("k")
        .timeout(Duration::from_millis(150))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout() && err.may_have_run(), "{err}");
    assert!(took < Duration::from_millis(150) + MARGIN, "{took:?}");
    assert!(
        err.to_string().contains("in flight (awaiting reply) 1"),
        "{err}"
    );
    let resumed = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap();
    assert!(resumed.success());
    assert_eq!(db.get::<String>("k").await.unwrap(), "v");
    assert!(mux.stats().timeouts >= 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_server_is_detected_and_the_connection_replaced() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},stallTimeout=300", server.addr()))
        .await
        .unwrap();
    let mut events = mux.events();
    let db = mux.database(0);
    db.set("k", "v").await.unwrap();
    let pid = server.pid().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let err = db
        .get::<String>("k")
        .timeout(Duration::from_secs(3))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert!(err.to_string().contains("stallTimeout"), "{err}");
    assert!(err.may_have_run());
    assert!(std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    let stalled = wait_for_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, ConnectionEvent::Stalled { .. })
    })
    .await;
    match stalled {
        ConnectionEvent::Stalled {
            endpoint,
            silent_for,
            awaiting,
        } => {
            assert_eq!(endpoint, server.addr());
            assert!(silent_for >= Duration::from_millis(300), "{silent_for:?}");
            assert_eq!(awaiting, 1);
        }
        other => panic!("{other:?}"),
    }
    wait_for_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, ConnectionEvent::Restored { .. })
    })
    .await;
    assert_eq!(db.get::<String>("k").await.unwrap(), "v");
    assert!(mux.stats().stalls >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_at_start() {
    let port = support::free_port();
    // abortConnect=true (default): a clear error, quickly.
    let err = Multiplexer::connect(format!("127.0.0.1:{port},connectRetry=2"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");

    // failFast backlog: connect returns, commands fail at once and say they did not run.
    let mux = Multiplexer::connect(format!(
        "127.0.0.1:{port},abortConnect=false,backlogPolicy=failFast"
    ))
    .await
    .unwrap();
    let started = Instant::now();
    let err = mux.database(0).ping().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert!(
        !err.may_have_run() && err.to_string().contains("failFast"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(mux);

    // abortConnect=false with the default backlog: commands wait, then drain in order once the server starts.
    let mux = Multiplexer::connect(format!("127.0.0.1:{port},abortConnect=false"))
        .await
        .unwrap();
    let mut events = mux.events();
    let db = mux.database(0);
    let queued: Vec<_> = (0..100)
        .map(|i| {
            std::future::IntoFuture::into_future(
                db.execute::<i64, _, _>("RPUSH", ["order".to_owned(), i.to_string()]),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(mux.stats().queued >= 100, "{:?}", mux.stats());
    let server = block(|| RedisServer::start_on(port));
    for (i, call) in queued.into_iter().enumerate() {
        assert_eq!(
            call.await.unwrap(),
            i as i64 + 1,
            "backlog drained out of order"
        );
    }
    // One outage: failure reported once, however many attempts it took.
    let (mut failed, mut attempts) = (0, 0);
    while let Some(event) = events.try_recv() {
        match event {
            ConnectionEvent::Failed { .. } => failed += 1,
            ConnectionEvent::Connecting { .. } => attempts += 1,
            _ => {}
        }
    }
    assert_eq!(failed, 1, "failure must be reported once per outage");
    assert!(
        attempts >= 2,
        "only {attempts} connect attempts were reported"
    );
    assert!(mux.is_connected());
    assert_eq!(block(|| server.command(&["LLEN", "order"])).trim(), ":100");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_both_ways_beside_small_commands() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
    let mut tasks = Vec::new();
    for t in 0..2u8 {
        let db = mux.database(0);
        tasks.push(tokio::spawn(async move {
            for round in 0..3u8 {
                let big: Vec<u8> = (0..10 * 1024 * 1024)
                    .map(|i| (i as u8) ^ t ^ round)
                    .collect();
                let key = format!("big{t}");
                let (set, get) = tokio::join!(
                    db.set(key.as_str(), big.as_slice()),
                    db.get::<Vec<u8>>(key.as_str())
                );
                assert!(set.unwrap());
                assert!(
                    get.unwrap() == big,
                    "task {t} round {round}: wrong 10 MiB value"
                );
            }
        }));
    }
    for t in 0..8u32 {
        let db = mux.database(0);
        tasks.push(tokio::spawn(async move {
            for i in 0..300u32 {
                let v = format!("small {t} {i}");
                assert_eq!(db.echo::<String>(v.as_str()).await.unwrap(), v);
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .expect("deadlock: large values stalled")
            .unwrap();
    }
    assert!(mux.stats().bytes_in > 60 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_user_without_rights_gets_clean_errors_and_no_shifted_replies() {
    let server = RedisServer::start();
    let ok = server.command(&[
        "ACL",
        "SETUSER",
        "reader",
        "on",
        ">pw",
        "~*",
        "+@connection",
        "+get",
        "+echo",
    ]);
    assert_eq!(ok.trim(), "+OK");
    let err = Multiplexer::connect(format!(
        "{},user=reader,password=nope,connectRetry=1",
        server.addr()
    ))
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let mux = Multiplexer::connect(format!("{},user=reader,password=pw", server.addr()))
        .await
        .unwrap();
    let db = mux.database(0);
    let (set, echo, get) = tokio::join!(
        db.set("k", "v"),
        db.echo::<String>("mine"),
        db.get::<Option<String>>("k")
    );
    let err = set.unwrap_err();
    assert_eq!(err.server_code(), Some("NOPERM"), "{err}");
    assert_eq!(echo.unwrap(), "mine");
    assert_eq!(get.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_and_forget_across_a_restart_is_accounted_for() {
    let mut server = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
    let mut events = mux.events();
    let db = mux.database(0);
    let total = 100_000u64;
    let mut refused = 0u64;
    for _ in 0..total {
        if db.incr("ff").fire_and_forget().is_err() {
            refused += 1;
        }
    }
    // Kill the server mid-stream: some acknowledged, most still queued or in flight.
    let acked_at_kill = loop {
        let acked = mux.stats().fire_and_forget_acknowledged;
        if acked >= 10_000 {
            break acked;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    block(|| server.restart());
    assert!(acked_at_kill < total, "the stream finished before the kill");
    wait_for_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, ConnectionEvent::Restored { .. })
    })
    .await;
    // An awaited command after them all: its reply comes after theirs.
    let on_server: u64 = loop {
        match db.get::<Option<u64>>("ff").await {
            Ok(v) => break v.unwrap_or(0),
            Err(e) => assert!(e.is_connection_error() || e.is_timeout(), "{e}"),
        }
    };
    // The driver publishes its counters at the end of a turn, and the GET's
    // caller may read them before the turn that delivered its reply ends:
    // wait (bounded) until that turn's tally is in.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    let mut s = mux.stats();
    while (s.in_flight, s.queued) != (0, 0) && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(1)).await;
        s = mux.stats();
    }
    let (acked, unknown, dropped) = (
        s.fire_and_forget_acknowledged,
        s.fire_and_forget_unknown,
        s.fire_and_forget_dropped,
    );
    eprintln!("fire-and-forget across restart: server {on_server}, acknowledged {acked}, unknown {unknown}, dropped {dropped}, refused {refused}");
    assert_eq!(s.disconnects, 1, "the restart did not happen: {s:?}");
    assert!(unknown > 0, "the kill hit no command in flight: {s:?}");
    assert_eq!(
        acked + unknown + dropped + refused,
        total,
        "a fire-and-forget command is unaccounted for: {s:?}"
    );
    assert!(
        acked <= on_server && on_server <= acked + unknown,
        "server {on_server} outside [{acked}, {}]",
        acked + unknown
    );
}

/// A Lua script that busy-waits about `ms` milliseconds.
fn busy_script(ms: u64) -> String {
    format!(
        "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] \
         while true do local n = redis.call('TIME') \
         if n[1] * 1000000 + n[2] - s > {} then break end end return 1",
        ms * 1000
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_replies_are_retried_and_run_exactly_once() {
    // Past 50 ms a running script makes the server answer others with -BUSY.
    let server = RedisServer::start_with(&["--lua-time-limit", "50"]);
    let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
    let db = mux.database(0);
    let port = server.port;
    let script =
        std::thread::spawn(move || support::command_at(port, &["EVAL", &busy_script(1000), "0"]));
    tokio::time::sleep(Duration::from_millis(200)).await; // the script is past its 50 ms by now
    let calls: Vec<_> = (0..50)
        .map(|_| {
            std::future::IntoFuture::into_future(db.incr("busy").timeout(Duration::from_secs(5)))
        })
        .collect();
    let mut values = Vec::new();
    for call in calls {
        values.push(
            call.await
                .expect("a BUSY reply must be retried until the script ends"),
        );
    }
    let script_reply = block(|| script.join())
        .expect("script thread")
        .expect("script");
    assert_eq!(script_reply.trim(), ":1");
    let retried = mux.stats().retried_not_executed;
    assert!(
        retried > 0,
        "no BUSY reply was seen: the fault did not happen"
    );
    // Each INCR ran exactly once, in order.
    assert_eq!(values, (1..=50).collect::<Vec<i64>>());
    assert_eq!(db.get::<i64>("busy").await.unwrap(), 50);
    eprintln!("BUSY: {retried} not-executed replies retried, 50 INCRs ran once each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_sends_keepalive_pings() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(format!("{},keepAlive=1", server.addr()))
        .await
        .unwrap();
    let pings_before = block(|| server.command_calls("ping")); // the handshake's PING
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let sent = mux.stats().keepalive_pings;
    assert!(
        sent >= 1,
        "no keep-alive PING after 2.6 s idle with keepAlive=1"
    );
    let pings_after = block(|| server.command_calls("ping"));
    assert!(
        pings_after >= pings_before + sent,
        "server saw {pings_before} -> {pings_after} PINGs, client sent {sent}"
    );
    // The PING replies were consumed by their own entries: a caller's reply is still its own.
    assert_eq!(
        mux.database(0).echo::<String>("after").await.unwrap(),
        "after"
    );
}

/// How close to its deadline a timeout fires, against a paused server. The
/// bound asserted is loose (a loaded machine delays any task); the figures
/// printed are what the reliability notes quote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_fire_at_their_deadline_not_at_a_tick() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
    let db = mux.database(0);
    db.ping().await.unwrap();
    assert_eq!(
        block(|| server.command(&["CLIENT", "PAUSE", "3000", "ALL"])).trim(),
        "+OK"
    );
    let mut overshoot_us = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let err = db
            .echo::<String>("x")
            .timeout(Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(50), "fired early: {took:?}");
        overshoot_us.push((took - Duration::from_millis(50)).as_micros() as u64);
    }
    overshoot_us.sort_unstable();
    let median = overshoot_us[overshoot_us.len() / 2];
    let worst = overshoot_us[overshoot_us.len() - 1];
    eprintln!("50 ms timeouts: median overshoot {median} µs, worst {worst} µs");
    // Far below the 1 s heartbeat: the timer is per deadline, not per tick.
    assert!(
        Duration::from_micros(median) < Duration::from_millis(100),
        "median overshoot {median} µs"
    );
    let _ = block(|| server.command(&["CLIENT", "UNPAUSE"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsendable_fire_and_forget_is_dropped_at_its_timeout() {
    let port = support::free_port();
    let mux = Multiplexer::connect(format!("127.0.0.1:{port},abortConnect=false"))
        .await
        .unwrap();
    let db = mux.database(0);
    for _ in 0..10 {
        db.incr("never")
            .timeout(Duration::from_millis(100))
            .fire_and_forget()
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(mux.stats().queued, 10, "they wait in the backlog first");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let s = mux.stats();
    assert_eq!(s.fire_and_forget_dropped, 10, "{s:?}");
    assert_eq!(s.queued, 0, "{s:?}");
}

#[tokio::test]
async fn user_without_password_authenticates_as_that_user() {
    let server = RedisServer::start();
    assert_eq!(
        server
            .command(&["ACL", "SETUSER", "open", "on", "nopass", "~*", "+@all"])
            .trim(),
        "+OK"
    );
    let mux = Multiplexer::connect(format!("{},user=open", server.addr()))
        .await
        .unwrap();
    let who: String = mux.database(0).execute("ACL", ["WHOAMI"]).await.unwrap();
    assert_eq!(who, "open");
}

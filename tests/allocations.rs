//! Heap allocations per command, counted by a global allocator.
//!
//! A GET round trip should cost two allocations of the library's own: the
//! command's buffer and the reply slot. The reply itself is a slice of the
//! read buffer (`Bytes`), and the driver's buffers and queues are reused.
//! Finding the keys of an everyday command (for prefixing or routing)
//! allocates nothing at all.
//! Counting is deterministic (unlike timing), so this is a test, not a
//! benchmark.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use bytes::Bytes;
use redmux::prelude::*;
use redmux::Multiplexer;
use support::RedisServer;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Bytes currently allocated (allocated minus freed).
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is a relaxed counter increment.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as u64, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        LIVE_BYTES.fetch_add(new_size as u64, Relaxed);
        LIVE_BYTES.fetch_sub(layout.size() as u64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counters are process-wide: tests that read them must not overlap.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A server, a current-thread runtime (one thread: nothing else allocates
/// meanwhile), and a multiplexer connected on it.
fn setup() -> (RedisServer, tokio::runtime::Runtime, Multiplexer) {
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mux = runtime
        .block_on(Multiplexer::connect(server.addr().as_str()))
        .unwrap();
    (server, runtime, mux)
}

#[test]
fn get_and_set_round_trips_allocate_at_most_two_times() {
    let _serial = serial();
    let (_server, runtime, mux) = setup(); // the server lives until the end
    runtime.block_on(async {
        let db = mux.database(0);
        db.set("k", "sixteen bytes!!!").await.unwrap();
        // Warm up: buffers and queues reach their working size.
        for _ in 0..2_000 {
            db.get::<Option<Bytes>>("k").await.unwrap();
        }
        const N: u64 = 10_000;
        let before = ALLOCATIONS.load(Relaxed);
        for _ in 0..N {
            let v = db.get::<Option<Bytes>>("k").await.unwrap();
            assert_eq!(v.as_deref(), Some(&b"sixteen bytes!!!"[..]));
        }
        let per_get = (ALLOCATIONS.load(Relaxed) - before) as f64 / N as f64;
        eprintln!("allocations per GET round trip: {per_get:.3}");
        assert!(
            per_get <= 2.1,
            "{per_get:.3} allocations per GET round trip"
        );

        // A SET of a 1 KB value: its buffer is sized once from the value's length.
        let value = Bytes::from(vec![b'v'; 1024]);
        let before = ALLOCATIONS.load(Relaxed);
        for _ in 0..N {
            assert!(db.set("k1", &value).await.unwrap());
        }
        let per_set = (ALLOCATIONS.load(Relaxed) - before) as f64 / N as f64;
        eprintln!("allocations per SET (1 KB) round trip: {per_set:.3}");
        assert!(
            per_set <= 2.1,
            "{per_set:.3} allocations per SET round trip"
        );
    });
}

/// Heap held while a request is in flight, beyond its own command bytes,
/// measured with the server paused so that 10,000 GETs sit unanswered. It
/// counts the FIFO entry (80 bytes) with the deque's growth slack (10,000
/// entries in 16,384 slots: 131 bytes), the reply slot (64), the command
/// buffer's header room (9), and the backlog and write buffer the burst
/// went through: about 212 bytes here (362 with tokio's oneshot, an 88-byte
/// entry, a 64-byte command buffer and a backlog that kept its peak size).
#[test]
fn an_in_flight_request_holds_at_most_256_bytes_beyond_its_payload() {
    let _serial = serial();
    let (server, runtime, mux) = setup();
    runtime.block_on(async {
        let db = mux.database(0);
        // A short warm-up only: the FIFO's and the channel's growth to 10,000
        // entries is part of what an in-flight request costs, so it is counted.
        let warm: Vec<_> = (0..100)
            .map(|_| std::future::IntoFuture::into_future(db.get::<Option<Bytes>>("k")))
            .collect();
        for w in warm {
            w.await.unwrap();
        }
        assert_eq!(
            server.command(&["CLIENT", "PAUSE", "2000", "ALL"]).trim(),
            "+OK"
        );
        const N: u64 = 10_000;
        let before = LIVE_BYTES.load(Relaxed);
        let calls: Vec<_> = (0..N)
            .map(|_| std::future::IntoFuture::into_future(db.get::<Option<Bytes>>("k")))
            .collect();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // All accepted by the driver: written, or (once the paused server's
        // socket buffers are full) waiting in the write buffer.
        while mux.stats().in_flight + mux.stats().queued < N {
            assert!(
                std::time::Instant::now() < until,
                "requests never all accepted: {:?}",
                mux.stats()
            );
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let held = LIVE_BYTES.load(Relaxed).saturating_sub(before);
        // The caller's own Vec of futures is not the library's: subtract it.
        let futures = (calls.capacity() * std::mem::size_of_val(&calls[0])) as u64;
        let payload = redmux::Cmd::new("GET").key("k").into_bytes().len() as u64;
        let per_request = (held - futures) as f64 / N as f64 - payload as f64;
        eprintln!(
            "heap per in-flight request beyond its {payload} payload bytes: {per_request:.0} bytes"
        );
        assert!(
            per_request <= 256.0,
            "{per_request:.0} bytes per in-flight request"
        );
        let _ = server.command(&["CLIENT", "UNPAUSE"]);
        for c in calls {
            c.await.unwrap();
        }
    });
}

#[test]
fn finding_the_keys_of_everyday_commands_allocates_nothing() {
    let _serial = serial();
    let set = redmux::Cmd::new("SET")
        .key("user:7")
        .arg("v")
        .arg("EX")
        .arg(10)
        .into_bytes();
    let eval = redmux::Cmd::new("EVAL")
        .arg("return 1")
        .arg(2)
        .key("a")
        .key("b")
        .into_bytes();
    let argv: [&[u8]; 5] = [b"MSET", b"a", b"1", b"b", b"2"];
    const N: u64 = 1_000;
    // The harness's other threads may allocate meanwhile (printing another
    // test's result); a round with none of that shows the true count.
    let mut fewest = u64::MAX;
    for _ in 0..5 {
        let before = ALLOCATIONS.load(Relaxed);
        let mut found = 0;
        for _ in 0..N {
            found += redmux::table::keys_in_encoded(&set).unwrap().len();
            found += redmux::table::keys_in_encoded(&eval).unwrap().len();
            found += redmux::table::keys_in_args(&argv).unwrap().len();
            found += usize::from(redmux::table::lookup("client|list").is_some());
        }
        fewest = fewest.min(ALLOCATIONS.load(Relaxed) - before);
        assert_eq!(found as u64, N * 6);
    }
    assert_eq!(
        fewest, 0,
        "key extraction allocated {fewest} times in {N} rounds"
    );
}

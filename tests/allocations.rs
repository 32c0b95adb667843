//! Heap allocations per command, counted by a global allocator.
//!
//! A GET round trip should cost two allocations of the library's own: the
//! command's buffer and the reply slot. The reply itself is a slice of the
//! read buffer (`Bytes`), and the driver's buffers and queues are reused.
//! Counting is deterministic (unlike timing), so this is a test, not a
//! benchmark.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use bytes::Bytes;
use redmux::Multiplexer;
use support::RedisServer;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is a relaxed counter increment.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_get_round_trip_allocates_at_most_two_times() {
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mux = Multiplexer::connect(server.addr().as_str()).await.unwrap();
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
    });
}

//! Micro-benchmarks of redmux's codec alone: encoding commands with `Cmd`
//! and decoding replies with `resp::Decoder`, no socket involved.
//!
//! Run from benches/compare: `cargo bench --bench codec`
//! (CARGO_TARGET_DIR=/work/target-bench in this project's scripts).

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use redmux::resp::Decoder;
use redmux::Cmd;

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("GET key", |b| {
        b.iter(|| {
            black_box(
                Cmd::new("GET")
                    .key(black_box("user:1000:profile"))
                    .into_bytes(),
            )
        })
    });
    let value = vec![b'v'; 1024];
    g.bench_function("SET key 1KB", |b| {
        b.iter(|| {
            black_box(
                Cmd::new("SET")
                    .key(black_box("user:1000:profile"))
                    .arg(black_box(&value[..]))
                    .into_bytes(),
            )
        })
    });
    g.finish();
}

fn bulk(payload: &[u8]) -> Vec<u8> {
    let mut v = format!("${}\r\n", payload.len()).into_bytes();
    v.extend_from_slice(payload);
    v.extend_from_slice(b"\r\n");
    v
}

fn decode(c: &mut Criterion) {
    let mut array10 = b"*10\r\n".to_vec();
    for i in 0..10 {
        array10.extend(bulk(format!("value-number-{i:02}").as_bytes()));
    }
    let mut map = b"%5\r\n".to_vec();
    for i in 0..5 {
        map.extend(bulk(format!("field{i}").as_bytes()));
        map.extend(bulk(format!("value-{i}").as_bytes()));
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("simple string +OK", b"+OK\r\n".to_vec()),
        ("bulk 16 B", bulk(&[b'x'; 16])),
        ("bulk 1 KB", bulk(&[b'x'; 1024])),
        ("integer", b":1234567\r\n".to_vec()),
        ("array of 10 bulks", array10),
        ("map of 5 pairs (RESP3)", map),
    ];
    // Each sample decodes a buffer holding FRAMES copies of the reply, the
    // way the driver drains one read that brought many replies; the buffer
    // is built outside the timed part, and the time is per frame.
    const FRAMES: usize = 256;
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(FRAMES as u64));
    for (name, frame) in &cases {
        let many: Vec<u8> = frame.repeat(FRAMES);
        let mut decoder = Decoder::default();
        g.bench_function(*name, |b| {
            b.iter_batched(
                || BytesMut::from(&many[..]),
                |mut buf| {
                    for _ in 0..FRAMES {
                        let v = decoder
                            .decode(&mut buf)
                            .expect("valid frame")
                            .expect("complete frame");
                        black_box(v);
                    }
                    buf
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);

//! Fuzzes the RESP decoder with arbitrary bytes from the server side.
//!
//! The decoder is the first code that touches bytes a server (or anything
//! pretending to be one) sends, so it must never panic, never allocate by a
//! peer-declared length, and never depend on how the bytes were split into
//! reads. For each input this target checks:
//!
//! 1. no panic, whatever the bytes;
//! 2. the same outcome whether the input arrives in one read, in two reads
//!    split at a position taken from the first input byte, or one byte per
//!    read: the same values in the same order, then the same error or the
//!    same unconsumed bytes and mid-frame state;
//! 3. every decoded value survives `encode_value` and decodes back to
//!    itself (compared through `Debug`, so NaN equals NaN).
//!
//! Limits are small (1 MiB bulk strings, 4096 elements, depth 32, 1 KiB
//! lines) so the fuzzer reaches every limit check with short inputs.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use redmux::resp::{encode_value, Decoder, Limits, ProtocolError};
use redmux::Value;

const LIMITS: Limits = Limits {
    max_bulk_len: 1024 * 1024,
    max_elements: 4096,
    max_depth: 32,
    max_line: 1024,
};

/// Everything observable after feeding some bytes.
#[derive(Debug)]
struct Outcome {
    /// The values decoded, in order, as `Debug` text (NaN-safe equality).
    values: Vec<String>,
    /// The values themselves, for the round-trip check.
    decoded: Vec<Value>,
    /// The error that ended decoding, if any.
    error: Option<ProtocolError>,
    /// Bytes left in the buffer and whether a frame is half-consumed, when
    /// decoding ended for lack of bytes rather than an error.
    rest: Option<(Vec<u8>, bool)>,
}

/// Feeds `chunks` one read at a time, decoding after each until `Ok(None)`;
/// stops at the first error.
fn feed<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = Decoder::new(LIMITS);
    let mut buf = BytesMut::new();
    let mut decoded = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(value)) => decoded.push(value),
                Ok(None) => break,
                Err(error) => {
                    // Poisoned: the same error again, whatever follows.
                    assert_eq!(decoder.decode(&mut buf), Err(error.clone()));
                    return Outcome {
                        values: decoded.iter().map(|v| format!("{v:?}")).collect(),
                        decoded,
                        error: Some(error),
                        rest: None,
                    };
                }
            }
        }
    }
    Outcome {
        values: decoded.iter().map(|v| format!("{v:?}")).collect(),
        decoded,
        error: None,
        rest: Some((buf.to_vec(), decoder.is_mid_frame())),
    }
}

fn assert_same(whole: &Outcome, other: &Outcome, how: &str) {
    assert_eq!(whole.values, other.values, "values differ when fed {how}");
    assert_eq!(whole.error, other.error, "errors differ when fed {how}");
    assert_eq!(whole.rest, other.rest, "leftover differs when fed {how}");
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else {
        return;
    };
    let whole = feed([data]);

    let at = usize::from(first) * data.len() / 255;
    let (head, tail) = data.split_at(at);
    assert_same(&whole, &feed([head, tail]), &format!("split at {at}"));
    assert_same(&whole, &feed(data.chunks(1)), "one byte at a time");

    for value in &whole.decoded {
        let mut encoded = BytesMut::new();
        encode_value(&mut encoded, value);
        let mut decoder = Decoder::default();
        let again = decoder.decode(&mut encoded);
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", Ok::<_, ProtocolError>(Some(value))),
            "{value:?} did not survive encode_value and decode"
        );
        assert!(
            encoded.is_empty(),
            "encode_value wrote more than one frame for {value:?}"
        );
    }
});

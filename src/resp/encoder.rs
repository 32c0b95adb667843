//! The RESP encoder: commands on the way out, and any [`Value`] for tests and
//! fake servers.
//!
//! Data flow: a caller's task encodes its command with [`encode_command`] into
//! a `BytesMut`, which the driver appends to the socket's write buffer. A
//! command is always an array of bulk strings, never an inline command: bulk
//! strings are length-prefixed, so arguments may hold any bytes (spaces, CR,
//! LF) without escaping. Lengths are formatted with `itoa` on the stack and
//! each piece reserves its space once, so encoding allocates nothing beyond
//! growing `buf`. [`encode_value`] writes a reply in RESP3 form, as a server
//! would; the decoder's tests and the fake servers in the test suite use it.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};

use super::Value;

/// Writes an array header, `*<len>\r\n`: the start of a command of `len`
/// arguments.
///
/// ```
/// use bytes::BytesMut;
/// use redmux::resp::write_array_header;
///
/// let mut buf = BytesMut::new();
/// write_array_header(&mut buf, 3);
/// assert_eq!(&buf[..], b"*3\r\n");
/// ```
pub fn write_array_header(buf: &mut BytesMut, len: usize) {
    write_header(buf, b'*', len);
}

/// Writes one bulk string, `$<len>\r\n<arg>\r\n`, reserving its space once.
///
/// ```
/// use bytes::BytesMut;
/// use redmux::resp::write_bulk;
///
/// let mut buf = BytesMut::new();
/// write_bulk(&mut buf, b"a\r\nb");
/// assert_eq!(&buf[..], b"$4\r\na\r\nb\r\n");
/// ```
pub fn write_bulk(buf: &mut BytesMut, arg: &[u8]) {
    write_blob(buf, b'$', &[arg]);
}

/// Exactly how many bytes [`write_bulk`] appends for a payload of `len` bytes.
pub(crate) fn bulk_len(len: usize) -> usize {
    1 + itoa::Buffer::new().format(len).len() + 2 + len + 2
}

/// Writes a command: an array of bulk strings, one per argument, the command
/// name first.
///
/// `args.len()` is written as the array's length before the arguments are
/// iterated, so the iterator's [`ExactSizeIterator::len`] must be right (the
/// standard collections' iterators are); a debug build asserts it.
///
/// ```
/// use bytes::BytesMut;
/// use redmux::resp::encode_command;
///
/// let mut buf = BytesMut::new();
/// encode_command(&mut buf, ["GET", "k"]);
/// assert_eq!(&buf[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
/// ```
pub fn encode_command<I, A>(buf: &mut BytesMut, args: I)
where
    I: IntoIterator<Item = A>,
    I::IntoIter: ExactSizeIterator,
    A: AsRef<[u8]>,
{
    let args = args.into_iter();
    let declared = args.len();
    write_array_header(buf, declared);
    let mut written = 0usize;
    for arg in args {
        write_bulk(buf, arg.as_ref());
        written += 1;
    }
    debug_assert_eq!(
        written, declared,
        "the argument iterator's len() did not match the number of arguments"
    );
}

/// Writes any [`Value`] in RESP3 form (RESP2's where the two are the same),
/// as a server would send it.
///
/// - [`Value::Nil`] is RESP3's `_\r\n`.
/// - [`Value::Error`] is a simple error (`-...\r\n`) unless it contains CR or
///   LF, which a line cannot carry; then it is a blob error (`!<len>\r\n`).
/// - [`Value::SimpleString`] containing CR or LF is written as a bulk string,
///   for the same reason: the output is always a valid frame.
/// - [`Value::Double`] is written so it decodes to the same `f64` bit for bit
///   (the shortest round-trip form, with an exponent for large and small
///   magnitudes), and infinities and NaN as `inf`, `-inf` and `nan`.
/// - [`Value::BigNumber`] bytes are written as given: they should be an
///   optional sign and digits.
///
/// Recursive: nesting depth costs stack, which is fine for the test and
/// fake-server values this is for (decoded values are limited to
/// [`Limits::max_depth`](super::Limits::max_depth) levels anyway).
///
/// ```
/// use bytes::BytesMut;
/// use redmux::{resp::encode_value, Value};
///
/// let mut buf = BytesMut::new();
/// encode_value(
///     &mut buf,
///     &Value::Map(vec![(Value::SimpleString("ok".into()), Value::Double(1.5))]),
/// );
/// encode_value(&mut buf, &Value::Nil);
/// assert_eq!(&buf[..], b"%1\r\n+ok\r\n,1.5\r\n_\r\n");
/// ```
pub fn encode_value(buf: &mut BytesMut, value: &Value) {
    match value {
        Value::Nil => buf.put_slice(b"_\r\n"),
        Value::SimpleString(text) if !has_cr_or_lf(text) => write_line(buf, b'+', text),
        Value::SimpleString(text) => write_blob(buf, b'$', &[text]),
        Value::Error(text) if !has_cr_or_lf(text) => write_line(buf, b'-', text),
        Value::Error(text) => write_blob(buf, b'!', &[text]),
        Value::Int(n) => write_line(buf, b':', itoa::Buffer::new().format(*n).as_bytes()),
        Value::BulkString(bytes) => write_blob(buf, b'$', &[bytes]),
        Value::Array(items) => write_items(buf, b'*', items),
        Value::Double(d) => write_double(buf, *d),
        Value::Boolean(true) => buf.put_slice(b"#t\r\n"),
        Value::Boolean(false) => buf.put_slice(b"#f\r\n"),
        Value::BigNumber(digits) => write_line(buf, b'(', digits),
        Value::VerbatimString { format, text } => write_blob(buf, b'=', &[format, b":", text]),
        Value::Map(pairs) => write_pairs(buf, b'%', pairs),
        Value::Set(items) => write_items(buf, b'~', items),
        Value::Push(items) => write_items(buf, b'>', items),
        Value::Attribute { attributes, value } => {
            write_pairs(buf, b'|', attributes);
            encode_value(buf, value);
        }
    }
}

/// True if `bytes` cannot be the content of a line.
fn has_cr_or_lf(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b == b'\r' || b == b'\n')
}

/// `<kind><len>\r\n`.
fn write_header(buf: &mut BytesMut, kind: u8, len: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(len).as_bytes();
    buf.reserve(1 + digits.len() + 2);
    buf.put_u8(kind);
    buf.put_slice(digits);
    buf.put_slice(b"\r\n");
}

/// `<kind><text>\r\n`; the caller ensures `text` has no CR or LF.
fn write_line(buf: &mut BytesMut, kind: u8, text: &[u8]) {
    buf.reserve(1 + text.len() + 2);
    buf.put_u8(kind);
    buf.put_slice(text);
    buf.put_slice(b"\r\n");
}

/// `<kind><len>\r\n<body>\r\n`, the body given in parts (a verbatim string's
/// format, `:` and text), with one reservation for the whole.
fn write_blob(buf: &mut BytesMut, kind: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(len).as_bytes();
    buf.reserve(1 + digits.len() + 2 + len + 2);
    buf.put_u8(kind);
    buf.put_slice(digits);
    buf.put_slice(b"\r\n");
    for part in parts {
        buf.put_slice(part);
    }
    buf.put_slice(b"\r\n");
}

/// An array, set or push: the header, then each element.
fn write_items(buf: &mut BytesMut, kind: u8, items: &[Value]) {
    write_header(buf, kind, items.len());
    for item in items {
        encode_value(buf, item);
    }
}

/// A map or attribute: the header counts pairs, then key, value, key, ...
fn write_pairs(buf: &mut BytesMut, kind: u8, pairs: &[(Value, Value)]) {
    write_header(buf, kind, pairs.len());
    for (key, value) in pairs {
        encode_value(buf, key);
        encode_value(buf, value);
    }
}

/// `,<double>\r\n`. `{:?}` prints the shortest decimal that parses back to
/// the same `f64`, switching to an exponent for very large or small
/// magnitudes (`1e300`, `1e-7`) where `{}` would print hundreds of digits.
fn write_double(buf: &mut BytesMut, d: f64) {
    if d.is_nan() {
        buf.put_slice(b",nan\r\n");
    } else if d == f64::INFINITY {
        buf.put_slice(b",inf\r\n");
    } else if d == f64::NEG_INFINITY {
        buf.put_slice(b",-inf\r\n");
    } else {
        buf.put_u8(b',');
        // Writing into a `BytesMut` cannot fail: it grows as needed.
        let _ = write!(buf, "{d:?}");
        buf.put_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::Decoder;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn encoded(value: &Value) -> BytesMut {
        let mut buf = BytesMut::new();
        encode_value(&mut buf, value);
        buf
    }

    #[test]
    fn array_header_is_star_len_crlf() {
        let mut buf = BytesMut::new();
        write_array_header(&mut buf, 0);
        write_array_header(&mut buf, 12);
        write_array_header(&mut buf, usize::MAX);
        assert_eq!(&buf[..], b"*0\r\n*12\r\n*18446744073709551615\r\n");
    }

    #[test]
    fn bulk_is_length_prefixed_and_binary_safe() {
        let mut buf = BytesMut::new();
        write_bulk(&mut buf, b"");
        write_bulk(&mut buf, b"hello");
        write_bulk(&mut buf, b"\r\n\0\xff");
        assert_eq!(&buf[..], b"$0\r\n\r\n$5\r\nhello\r\n$4\r\n\r\n\0\xff\r\n");
    }

    #[test]
    fn bulk_reserves_its_whole_size_once() {
        let mut buf = BytesMut::new();
        let arg = vec![b'x'; 1000];
        write_bulk(&mut buf, &arg);
        assert_eq!(buf.len(), 1 + 4 + 2 + 1000 + 2);
        assert!(buf.capacity() >= buf.len());
    }

    #[test]
    fn command_is_an_array_of_bulk_strings() {
        let mut buf = BytesMut::new();
        encode_command(&mut buf, ["SET", "key", "a value"]);
        assert_eq!(
            &buf[..],
            b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$7\r\na value\r\n"
        );

        let mut buf = BytesMut::new();
        let args: Vec<Vec<u8>> = vec![b"PING".to_vec()];
        encode_command(&mut buf, &args);
        assert_eq!(&buf[..], b"*1\r\n$4\r\nPING\r\n");

        let mut buf = BytesMut::new();
        encode_command(&mut buf, Vec::<Bytes>::new());
        assert_eq!(&buf[..], b"*0\r\n");
    }

    #[test]
    fn command_appends_to_what_is_already_in_the_buffer() {
        let mut buf = BytesMut::from(&b"+prefix\r\n"[..]);
        encode_command(&mut buf, [&b"GET"[..], b"k"]);
        assert_eq!(&buf[..], b"+prefix\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }

    #[test]
    fn scalars_encode_to_their_exact_resp3_bytes() {
        let cases: Vec<(Value, &[u8])> = vec![
            (Value::Nil, b"_\r\n"),
            (Value::SimpleString("OK".into()), b"+OK\r\n"),
            (Value::SimpleString(Bytes::new()), b"+\r\n"),
            (Value::Error("ERR no".into()), b"-ERR no\r\n"),
            (Value::Int(0), b":0\r\n"),
            (Value::Int(-42), b":-42\r\n"),
            (Value::Int(i64::MAX), b":9223372036854775807\r\n"),
            (Value::Int(i64::MIN), b":-9223372036854775808\r\n"),
            (Value::BulkString("hi".into()), b"$2\r\nhi\r\n"),
            (Value::BulkString(Bytes::new()), b"$0\r\n\r\n"),
            (Value::Boolean(true), b"#t\r\n"),
            (Value::Boolean(false), b"#f\r\n"),
            (
                Value::BigNumber("-123456789012345678901234567890".into()),
                b"(-123456789012345678901234567890\r\n",
            ),
            (
                Value::VerbatimString {
                    format: *b"txt",
                    text: "Some string".into(),
                },
                b"=15\r\ntxt:Some string\r\n",
            ),
        ];
        for (value, bytes) in cases {
            assert_eq!(&encoded(&value)[..], bytes, "{value:?}");
        }
    }

    #[test]
    fn error_with_cr_or_lf_becomes_a_blob_error() {
        assert_eq!(
            &encoded(&Value::Error("a\r\nb".into()))[..],
            b"!4\r\na\r\nb\r\n"
        );
        assert_eq!(
            &encoded(&Value::Error("a\rb".into()))[..],
            b"!3\r\na\rb\r\n"
        );
    }

    #[test]
    fn simple_string_with_cr_or_lf_becomes_a_bulk_string() {
        assert_eq!(
            &encoded(&Value::SimpleString("a\nb".into()))[..],
            b"$3\r\na\nb\r\n"
        );
    }

    #[test]
    fn doubles_encode_in_round_trip_form() {
        let cases: Vec<(f64, &[u8])> = vec![
            (1.5, b",1.5\r\n"),
            (1.0, b",1.0\r\n"),
            (-0.0, b",-0.0\r\n"),
            (0.1, b",0.1\r\n"),
            (1e300, b",1e300\r\n"),
            (1e-7, b",1e-7\r\n"),
            (f64::MAX, b",1.7976931348623157e308\r\n"),
            (5e-324, b",5e-324\r\n"),
            (f64::INFINITY, b",inf\r\n"),
            (f64::NEG_INFINITY, b",-inf\r\n"),
            (f64::NAN, b",nan\r\n"),
            (-f64::NAN, b",nan\r\n"),
        ];
        for (d, bytes) in cases {
            assert_eq!(&encoded(&Value::Double(d))[..], bytes, "{d:?}");
        }
    }

    #[test]
    fn aggregates_encode_to_their_exact_resp3_bytes() {
        let value = Value::Array(vec![
            Value::Int(1),
            Value::Set(vec![Value::SimpleString("a".into())]),
            Value::Push(vec![]),
            Value::Map(vec![(Value::BulkString("k".into()), Value::Nil)]),
        ]);
        assert_eq!(
            &encoded(&value)[..],
            b"*4\r\n:1\r\n~1\r\n+a\r\n>0\r\n%1\r\n$1\r\nk\r\n_\r\n"
        );
        let attribute = Value::Attribute {
            attributes: vec![(Value::SimpleString("ttl".into()), Value::Int(3600))],
            value: Box::new(Value::Array(vec![Value::Boolean(true)])),
        };
        assert_eq!(
            &encoded(&attribute)[..],
            b"|1\r\n+ttl\r\n:3600\r\n*1\r\n#t\r\n"
        );
    }

    /// Equality, except that NaN equals NaN.
    fn same(a: &Value, b: &Value) -> bool {
        let all = |x: &[Value], y: &[Value]| {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        };
        let pairs = |x: &[(Value, Value)], y: &[(Value, Value)]| {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((xk, xv), (yk, yv))| same(xk, yk) && same(xv, yv))
        };
        match (a, b) {
            (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
            (Value::Array(x), Value::Array(y))
            | (Value::Set(x), Value::Set(y))
            | (Value::Push(x), Value::Push(y)) => all(x, y),
            (Value::Map(x), Value::Map(y)) => pairs(x, y),
            (
                Value::Attribute {
                    attributes: xa,
                    value: xv,
                },
                Value::Attribute {
                    attributes: ya,
                    value: yv,
                },
            ) => pairs(xa, ya) && same(xv, yv),
            _ => a == b,
        }
    }

    fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
        prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
    }

    /// Any value, with simple strings kept free of CR and LF (which
    /// `encode_value` would turn into bulk strings).
    fn arb_value() -> impl Strategy<Value = Value> {
        let line = prop::collection::vec(
            any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
            0..16,
        )
        .prop_map(Bytes::from);
        let leaf = prop_oneof![
            Just(Value::Nil),
            line.prop_map(Value::SimpleString),
            // The decoder's +OK shortcut, split across chunks like the rest.
            Just(Value::SimpleString(Bytes::from_static(b"OK"))),
            bytes(16).prop_map(Value::Error),
            any::<i64>().prop_map(Value::Int),
            bytes(32).prop_map(Value::BulkString),
            prop::num::f64::ANY.prop_map(Value::Double),
            any::<bool>().prop_map(Value::Boolean),
            "[-+]?[0-9]{1,40}".prop_map(|s| Value::BigNumber(Bytes::from(s))),
            (any::<[u8; 3]>(), bytes(16))
                .prop_map(|(format, text)| Value::VerbatimString { format, text }),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..4);
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Set),
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Push),
                pairs.clone().prop_map(Value::Map),
                (pairs, inner).prop_map(|(attributes, value)| Value::Attribute {
                    attributes,
                    value: Box::new(value),
                }),
            ]
        })
    }

    /// Decodes `stream` fed in chunks of the given sizes (cycled), draining
    /// every frame after each chunk.
    fn decode_chunked(stream: &[u8], chunks: &[usize]) -> Vec<Value> {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        let mut values = Vec::new();
        let mut rest = stream;
        let mut sizes = chunks.iter().copied().cycle();
        while !rest.is_empty() {
            let size = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
            let (piece, tail) = rest.split_at(size);
            rest = tail;
            buf.extend_from_slice(piece);
            while let Some(value) = decoder.decode(&mut buf).expect("encoder output decodes") {
                values.push(value);
            }
        }
        assert!(buf.is_empty(), "bytes left over: {buf:?}");
        assert!(!decoder.is_mid_frame());
        values
    }

    proptest! {
        #[test]
        fn prop_value_round_trips_whole_and_in_chunks(
            values in prop::collection::vec(arb_value(), 1..4),
            chunks in prop::collection::vec(1usize..24, 1..8),
        ) {
            let mut buf = BytesMut::new();
            for value in &values {
                encode_value(&mut buf, value);
            }
            for decoded in [decode_chunked(&buf, &[buf.len()]), decode_chunked(&buf, &chunks), decode_chunked(&buf, &[1])] {
                prop_assert_eq!(decoded.len(), values.len());
                for (got, want) in decoded.iter().zip(&values) {
                    prop_assert!(same(got, want), "decoded {:?}\nexpected {:?}", got, want);
                }
            }
        }

        #[test]
        fn prop_command_round_trips_to_an_array_of_bulk_strings(
            args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..10),
            chunks in prop::collection::vec(1usize..24, 1..8),
        ) {
            let mut buf = BytesMut::new();
            encode_command(&mut buf, &args);
            let expected = Value::Array(args.iter().map(|a| Value::BulkString(Bytes::copy_from_slice(a))).collect());
            prop_assert_eq!(decode_chunked(&buf, &[buf.len()]), vec![expected.clone()]);
            prop_assert_eq!(decode_chunked(&buf, &chunks), vec![expected]);
        }
    }
}

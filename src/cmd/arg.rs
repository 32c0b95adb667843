//! Argument conversion: how Rust values become RESP bulk strings.
//!
//! Every argument goes out as a bulk string, so any byte sequence is safe,
//! including `\r\n` and empty strings. Numbers are formatted without
//! allocating.

use bytes::{Bytes, BytesMut};

use crate::resp::{bulk_len, write_bulk};

/// A value that can be sent as one command argument (one bulk string).
///
/// Implemented for strings, byte slices, `Bytes`, integers and floats, and
/// references to any of them.
///
/// ```
/// use redmux::Cmd;
/// let cmd = Cmd::new("SET").key("counter").arg(42).arg(b"\x00binary\r\n".as_slice());
/// assert_eq!(cmd.name(), "SET");
/// ```
pub trait ToArg {
    /// Appends this value to `buf` as one RESP bulk string.
    fn write_arg(&self, buf: &mut BytesMut);

    /// How many bytes `write_arg` will append, if cheaply known (0 if not):
    /// lets a command size its buffer once, exactly, instead of growing it
    /// or leaving room unused. Exact for strings, bytes and integers, the
    /// usual size for floats; a hint that is too small only costs the
    /// buffer a reallocation.
    fn len_hint(&self) -> usize {
        0
    }
}

/// A float's usual bulk string: up to 17 significant digits, a sign, a
/// point and a few leading zeros. Very large or very small floats are
/// written out in full, without an exponent, so this is not a bound.
const FLOAT_USUAL: usize = 1 + 2 + 2 + 32 + 2;

impl<T: ToArg + ?Sized> ToArg for &T {
    fn write_arg(&self, buf: &mut BytesMut) {
        (**self).write_arg(buf)
    }
    fn len_hint(&self) -> usize {
        (**self).len_hint()
    }
}

macro_rules! bytes_like {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_arg(&self, buf: &mut BytesMut) {
                write_bulk(buf, AsRef::<[u8]>::as_ref(self))
            }
            fn len_hint(&self) -> usize {
                bulk_len(AsRef::<[u8]>::as_ref(self).len())
            }
        }
    )*};
}
bytes_like!(str, String, [u8], Vec<u8>, BytesMut);

impl<const N: usize> ToArg for [u8; N] {
    fn write_arg(&self, buf: &mut BytesMut) {
        write_bulk(buf, self)
    }
    fn len_hint(&self) -> usize {
        bulk_len(N)
    }
}

impl ToArg for Bytes {
    fn write_arg(&self, buf: &mut BytesMut) {
        write_bulk(buf, self)
    }
    fn len_hint(&self) -> usize {
        bulk_len(self.len())
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_arg(&self, buf: &mut BytesMut) {
                let mut fmt = itoa::Buffer::new();
                write_bulk(buf, fmt.format(*self).as_bytes())
            }
            fn len_hint(&self) -> usize {
                // Exact: formatting on the stack costs less than the room
                // a bound would leave unused in every in-flight command.
                bulk_len(itoa::Buffer::new().format(*self).len())
            }
        }
    )*};
}
integers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl ToArg for f64 {
    /// Formats as Redis parses doubles: `inf`, `-inf`, or the shortest
    /// decimal that round-trips.
    fn write_arg(&self, buf: &mut BytesMut) {
        if self.is_infinite() {
            write_bulk(
                buf,
                if *self > 0.0 {
                    &b"inf"[..]
                } else {
                    &b"-inf"[..]
                },
            )
        } else {
            let text = self.to_string();
            write_bulk(buf, text.as_bytes())
        }
    }
    fn len_hint(&self) -> usize {
        FLOAT_USUAL
    }
}

impl ToArg for f32 {
    fn write_arg(&self, buf: &mut BytesMut) {
        f64::from(*self).write_arg(buf)
    }
    fn len_hint(&self) -> usize {
        FLOAT_USUAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded<T: ToArg + ?Sized>(v: &T) -> Vec<u8> {
        let mut buf = BytesMut::new();
        v.write_arg(&mut buf);
        buf.to_vec()
    }

    #[test]
    fn strings_and_bytes_are_bulk_strings() {
        assert_eq!(encoded("k"), b"$1\r\nk\r\n");
        assert_eq!(encoded(&b"a\r\nb".to_vec()), b"$4\r\na\r\nb\r\n");
        assert_eq!(encoded(""), b"$0\r\n\r\n");
    }

    #[test]
    fn numbers_are_decimal_bulk_strings() {
        assert_eq!(encoded(&-42i64), b"$3\r\n-42\r\n");
        assert_eq!(encoded(&u64::MAX), b"$20\r\n18446744073709551615\r\n");
        assert_eq!(encoded(&1.5f64), b"$3\r\n1.5\r\n");
        assert_eq!(encoded(&f64::NEG_INFINITY), b"$4\r\n-inf\r\n");
    }

    #[test]
    fn length_hints_are_exact_for_bytes_and_integers_and_enough_for_usual_floats() {
        for payload in ["", "k", "0123456789", &"x".repeat(100_000)] {
            assert_eq!(
                payload.len_hint(),
                encoded(payload).len(),
                "{}",
                payload.len()
            );
        }
        for n in [0i128, -1, i128::MIN, i128::MAX] {
            assert_eq!(n.len_hint(), encoded(&n).len());
        }
        assert_eq!(u64::MAX.len_hint(), encoded(&u64::MAX).len());
        for x in [
            -0.1,
            1.0 / 3.0,
            -1.2345678901234567e-5,
            2.5e15,
            f64::NEG_INFINITY,
        ] {
            assert!(x.len_hint() >= encoded(&x).len(), "{x}");
        }
    }
}

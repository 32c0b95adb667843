//! Argument conversion: how Rust values become RESP bulk strings.
//!
//! Every argument goes out as a bulk string, so any byte sequence is safe,
//! including `\r\n` and empty strings. Numbers are formatted without
//! allocating.

use bytes::{Bytes, BytesMut};

use crate::resp::write_bulk;

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

    /// About how many bytes `write_arg` will append, if cheaply known (0 if
    /// not): lets a command size its buffer once instead of growing it.
    fn len_hint(&self) -> usize {
        0
    }
}

/// Bytes a bulk string adds around its payload: `$`, up to 20 length digits, two CRLFs.
const BULK_OVERHEAD: usize = 25;

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
                AsRef::<[u8]>::as_ref(self).len() + BULK_OVERHEAD
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
        N + BULK_OVERHEAD
    }
}

impl ToArg for Bytes {
    fn write_arg(&self, buf: &mut BytesMut) {
        write_bulk(buf, self)
    }
    fn len_hint(&self) -> usize {
        self.len() + BULK_OVERHEAD
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn write_arg(&self, buf: &mut BytesMut) {
                let mut fmt = itoa::Buffer::new();
                write_bulk(buf, fmt.format(*self).as_bytes())
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
}

impl ToArg for f32 {
    fn write_arg(&self, buf: &mut BytesMut) {
        f64::from(*self).write_arg(buf)
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
}

//! `Cmd`: one command, encoded as it is built.
//!
//! The arguments are written straight into a `BytesMut` as RESP bulk strings
//! while the command is built; the array header, whose count is known only at
//! the end, goes into room reserved at the front. `into_bytes` therefore costs
//! no copy and the command travels to the driver as one `Bytes`. The name and
//! the position of the first key stay known, for error messages now and for
//! cluster routing later.

use std::borrow::Cow;
use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use super::arg::ToArg;
use crate::resp::{bulk_len, write_bulk};

/// Room kept at the front of the buffer for `*<count>\r\n`: `*`, up to ten
/// digits of a `u32` count, and CRLF.
const HEADER_ROOM: usize = 13;

/// Initial capacity when the arguments' size is not known in advance:
/// header room plus a short name and key, enough for most GET/SET/INCR
/// commands without growing.
const INITIAL_CAPACITY: usize = 64;

/// A command under construction: its name, its arguments already encoded,
/// and which argument is the first key.
///
/// ```
/// use redmux::Cmd;
/// let cmd = Cmd::new("SET").key("greeting").arg("hello").arg("EX").arg(60);
/// assert_eq!(cmd.name(), "SET");
/// assert_eq!(cmd.arg_count(), 5);
/// assert_eq!(cmd.first_key(), Some(&b"greeting"[..]));
/// ```
#[derive(Clone)]
pub struct Cmd {
    name: Cow<'static, str>,
    buf: BytesMut,
    argc: u32,
    /// Byte range of the first key's payload inside `buf`.
    first_key: Option<(usize, usize)>,
}

impl Cmd {
    /// Starts a command with a static name such as `"GET"`.
    pub fn new(name: &'static str) -> Cmd {
        Cmd::with_name(Cow::Borrowed(name))
    }

    /// Starts a command with room for exactly `args_len` bytes of encoded
    /// arguments (the sum of their [`ToArg::len_hint`]s), so a large value
    /// does not grow the buffer and a small command holds no unused room
    /// while it is in flight. A hint of 0 (unknown) falls back to the
    /// default capacity.
    pub(crate) fn sized(name: &'static str, args_len: usize) -> Cmd {
        Cmd::with_name_and_room(Cow::Borrowed(name), args_len)
    }

    /// Starts a command whose name is only known at run time (`execute`).
    pub(crate) fn with_name(name: Cow<'static, str>) -> Cmd {
        Cmd::with_name_and_room(name, 0)
    }

    fn with_name_and_room(name: Cow<'static, str>, args_len: usize) -> Cmd {
        let head = HEADER_ROOM + bulk_len(name.len());
        let capacity = if args_len == 0 {
            INITIAL_CAPACITY.max(head + 16)
        } else {
            head + args_len
        };
        let mut buf = BytesMut::with_capacity(capacity);
        buf.resize(HEADER_ROOM, 0);
        write_bulk(&mut buf, name.as_bytes());
        Cmd {
            name,
            buf,
            argc: 1,
            first_key: None,
        }
    }

    /// Appends an argument.
    pub fn arg<A: ToArg>(mut self, arg: A) -> Cmd {
        self.push_arg(&arg);
        self
    }

    /// Appends an argument that is a key (the first one decides routing in a cluster).
    pub fn key<K: ToArg>(mut self, key: K) -> Cmd {
        self.push_key(&key);
        self
    }

    /// Appends an argument in place.
    pub fn push_arg<A: ToArg + ?Sized>(&mut self, arg: &A) {
        arg.write_arg(&mut self.buf);
        self.argc = self.argc.saturating_add(1);
    }

    /// Appends a key in place.
    pub fn push_key<K: ToArg + ?Sized>(&mut self, key: &K) {
        let start = self.buf.len();
        self.push_arg(key);
        if self.first_key.is_none() {
            // Just written as `$<len>\r\n<payload>\r\n`: the payload runs from
            // after the header's LF to before the trailing CRLF.
            let written = &self.buf[start..];
            if let Some(lf) = written.iter().position(|&b| b == b'\n') {
                self.first_key = Some((start + lf + 1, self.buf.len() - 2));
            }
        }
    }

    /// The command's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_cow(&self) -> Cow<'static, str> {
        self.name.clone()
    }

    /// How many arguments, counting the name.
    pub fn arg_count(&self) -> usize {
        self.argc as usize
    }

    /// The first key's bytes, if a key was added.
    pub fn first_key(&self) -> Option<&[u8]> {
        self.first_key.map(|(a, b)| &self.buf[a..b])
    }

    /// The arguments after the name, decoded back from the buffer; used off
    /// the hot path (refusal checks on `execute`, tests).
    pub fn args(&self) -> Vec<&[u8]> {
        let mut out = Vec::with_capacity(self.arg_count());
        let mut rest = &self.buf[HEADER_ROOM..];
        while let Some((a, b)) = payload_range(rest) {
            out.push(&rest[a..b]);
            rest = &rest[(b + 2).min(rest.len())..];
        }
        out.into_iter().skip(1).collect()
    }

    /// Finishes the command: writes the array header into the reserved room
    /// and returns the wire bytes (no copy).
    pub fn into_bytes(self) -> Bytes {
        self.into_encoded().0.freeze()
    }

    /// The wire bytes and the first key's byte range within them (for routing).
    pub(crate) fn into_encoded(self) -> (BytesMut, Option<(u32, u32)>) {
        let mut buf = self.buf;
        let mut digits = itoa::Buffer::new();
        let count = digits.format(self.argc).as_bytes();
        let start = HEADER_ROOM - (count.len() + 3);
        buf[start] = b'*';
        buf[start + 1..start + 1 + count.len()].copy_from_slice(count);
        buf[HEADER_ROOM - 2..HEADER_ROOM].copy_from_slice(b"\r\n");
        buf.advance(start);
        let key = self.first_key.and_then(|(a, b)| {
            Some((
                u32::try_from(a - start).ok()?,
                u32::try_from(b - start).ok()?,
            ))
        });
        (buf, key)
    }
}

/// Given bytes starting with `$<len>\r\n<payload>\r\n`, the payload's range.
fn payload_range(bulk: &[u8]) -> Option<(usize, usize)> {
    let nl = bulk.iter().position(|&b| b == b'\n')?;
    let len: usize = std::str::from_utf8(bulk.get(1..nl.checked_sub(1)?)?)
        .ok()?
        .parse()
        .ok()?;
    let start = nl + 1;
    let end = start.checked_add(len)?;
    (end <= bulk.len()).then_some((start, end))
}

impl fmt::Debug for Cmd {
    /// Shows the name and argument count, never argument values (they may hold secrets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cmd")
            .field("name", &self.name)
            .field("args", &self.argc)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_an_array_of_bulk_strings() {
        let bytes = Cmd::new("SET").key("k").arg("v\r\n").into_bytes();
        assert_eq!(&bytes[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
    }

    #[test]
    fn a_sized_command_fills_its_buffer_exactly() {
        let (key, value) = ("user:7", vec![b'v'; 1000]);
        let cmd = Cmd::sized("SET", key.len_hint() + value.len_hint())
            .key(key)
            .arg(&value);
        let capacity = cmd.buf.capacity();
        assert_eq!(cmd.buf.len(), capacity, "no growth and no unused room");
    }

    #[test]
    fn header_fits_large_counts() {
        let mut cmd = Cmd::new("MSET");
        for i in 0..1234 {
            cmd.push_arg(&i);
        }
        let bytes = cmd.into_bytes();
        assert!(bytes.starts_with(b"*1235\r\n$4\r\nMSET\r\n$1\r\n0\r\n"));
    }

    #[test]
    fn first_key_and_args_are_recoverable() {
        let cmd = Cmd::new("GET").key(b"a\r\nb".as_slice());
        assert_eq!(cmd.first_key(), Some(&b"a\r\nb"[..]));
        assert_eq!(cmd.args(), vec![&b"a\r\nb"[..]]);
    }

    #[test]
    fn encoded_key_range_points_into_the_wire_bytes() {
        let (bytes, key) = Cmd::new("SET").key("user:7").arg("v").into_encoded();
        let (a, b) = key.unwrap();
        assert_eq!(&bytes[a as usize..b as usize], b"user:7");
    }

    #[test]
    fn debug_hides_argument_values() {
        let cmd = Cmd::new("AUTH").arg("hunter2");
        assert!(!format!("{cmd:?}").contains("hunter2"));
    }
}

//! The incremental RESP2/RESP3 decoder.
//!
//! Data flow: the driver task reads from the socket into its read buffer (a
//! `BytesMut`) and calls [`Decoder::decode`] on that buffer until it returns
//! `Ok(None)`; every complete [`Value`] it gets back goes to the oldest command
//! waiting in the driver's FIFO of in-flight commands (or, for a RESP3 push, to
//! whoever handles pushes). The decoder consumes each finished piece of a frame
//! from the front of the buffer as soon as it has it, keeps the rest of its
//! progress (open aggregates, a bulk whose body has not fully arrived, how far
//! it has scanned a line without a CRLF) in its own state, and so never rescans
//! a partial frame however many reads it takes to arrive. Bulk payloads are
//! split off the read buffer as `Bytes`, not copied. Nesting is handled with an
//! explicit stack, not recursion, so a hostile stream of nested headers cannot
//! overflow the driver's stack; every length the peer sends is checked against
//! [`Limits`] before anything is allocated for it.

use std::mem;

use bytes::{Buf, Bytes, BytesMut};

use super::Value;

/// The most elements pre-allocated for an aggregate, whatever its header claims.
///
/// Why 1024: one allocation holds the common reply (a few to a few hundred
/// elements) while a corrupt or hostile header such as `*16777216` costs at
/// most 1024 slots per open aggregate until elements actually arrive; beyond
/// that the `Vec` grows by doubling, so memory follows the bytes received, not
/// the number the peer wrote.
const PREALLOC_CAP: usize = 1024;

/// The most bytes of offending input quoted in an error message.
///
/// Why 32: a length or an `i64` is at most 20 characters, so any number is
/// quoted whole, while a 64 KiB garbage line does not end up in the logs.
const QUOTE_MAX: usize = 32;

/// Default for [`Limits::max_bulk_len`]: 512 MiB, the server's own
/// `proto-max-bulk-len` default, so no string Redis can store is refused.
const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// Default for [`Limits::max_elements`]: 2^24, far above real replies but low
/// enough that a corrupt count cannot make the client commit to billions.
const DEFAULT_MAX_ELEMENTS: usize = 1 << 24;

/// Default for [`Limits::max_depth`]: 128 levels, far above what real replies
/// nest while bounding code that walks a `Value` recursively.
const DEFAULT_MAX_DEPTH: usize = 128;

/// Default for [`Limits::max_line`]: 64 KiB, Redis's own limit on an inline
/// line, far above any header, number or status line it sends.
const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// Bounds on what the decoder accepts from the peer.
///
/// A frame that breaks one is a [`ProtocolError`], raised as soon as the
/// offending header (or line) is seen, before anything is allocated for it.
///
/// ```
/// use redmux::resp::{Decoder, Limits};
/// let limits = Limits { max_bulk_len: 1024 * 1024, ..Limits::default() };
/// let decoder = Decoder::new(limits);
/// assert_eq!(decoder.limits().max_bulk_len, 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest bulk string, blob error or verbatim string body accepted, in
    /// bytes.
    ///
    /// Default 512 MiB: Redis's `proto-max-bulk-len` default, the largest value
    /// a default server lets a client store, so a longer length can only come
    /// from a corrupt or hostile stream.
    pub max_bulk_len: usize,
    /// The most elements in one aggregate (array, set, push, map, attribute); a
    /// map or attribute pair counts as two.
    ///
    /// Default 2^24 (16,777,216): well above the largest replies seen in
    /// practice (a full `HGETALL` or `LRANGE` of a few million items) while a
    /// count past it, which would take hundreds of MiB of `Value`s, is treated
    /// as corruption rather than trusted.
    pub max_elements: usize,
    /// The deepest nesting of aggregates: a top-level array is at depth 1, and
    /// an attribute counts as a level while the value it annotates is read.
    ///
    /// Default 128: real replies nest a handful of levels (`EXEC` of nested
    /// replies, `COMMAND DOCS`, `CLUSTER SLOTS`), and code that walks or drops a
    /// `Value` recursively stays far from the stack limit.
    pub max_depth: usize,
    /// The longest line (type byte plus content, without the CRLF): simple
    /// strings and errors, numbers, and every length header.
    ///
    /// Default 64 KiB: Redis's own limit on an inline line; status and error
    /// lines are short, so a line past it means the stream lost framing, and
    /// the decoder says so instead of buffering forever waiting for a CRLF.
    pub max_line: usize,
}

impl Default for Limits {
    /// 512 MiB bulk strings, 2^24 elements per aggregate, 128 levels of
    /// nesting and 64 KiB lines; each field's documentation says why.
    fn default() -> Self {
        Limits {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_elements: DEFAULT_MAX_ELEMENTS,
            max_depth: DEFAULT_MAX_DEPTH,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

/// What was wrong with the bytes the peer sent.
///
/// The stream cannot be resynchronised after one of these, so the connection
/// is torn down; the message names the offending input and, where a limit was
/// hit, the limit and the [`Limits`] field that sets it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The first byte of a frame is not a RESP2 or RESP3 type byte.
    #[error("unknown RESP type byte {byte:#04x}{}", show_byte(*.byte))]
    UnknownType {
        /// The byte found.
        byte: u8,
    },
    /// A length header is not a plain decimal count (or `-1`, the RESP2 null,
    /// for `$` and `*`).
    #[error("invalid length \"{text}\" in '{kind}' header")]
    InvalidLength {
        /// The header's type byte.
        kind: char,
        /// The length as sent (escaped, and shortened if long).
        text: String,
    },
    /// A streamed RESP3 string or aggregate (`$?`, `*?`, ...), which Redis
    /// never sends.
    #[error("streamed RESP3 frame '{kind}?' is not supported (Redis never sends one)")]
    Streamed {
        /// The header's type byte.
        kind: char,
    },
    /// A bulk string, blob error or verbatim string is longer than
    /// [`Limits::max_bulk_len`].
    #[error("{what} length {len} exceeds the limit of {limit} bytes (Limits::max_bulk_len)")]
    BulkTooLong {
        /// "bulk string", "blob error" or "verbatim string".
        what: &'static str,
        /// The length the header declared.
        len: u64,
        /// The limit in force.
        limit: usize,
    },
    /// An aggregate declares more elements than [`Limits::max_elements`].
    #[error(
        "{what} of {count} {unit} exceeds the limit of {limit} elements (Limits::max_elements)"
    )]
    TooManyElements {
        /// "array", "set", "push", "map" or "attribute".
        what: &'static str,
        /// The count the header declared.
        count: u64,
        /// "elements", or "pairs (2 elements each)" for maps and attributes.
        unit: &'static str,
        /// The limit in force.
        limit: usize,
    },
    /// Aggregates nested deeper than [`Limits::max_depth`].
    #[error("nesting deeper than {limit} levels (Limits::max_depth)")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// More than [`Limits::max_line`] bytes arrived without a CRLF ending the
    /// line.
    #[error("line longer than {limit} bytes without CRLF (Limits::max_line)")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// A CR not followed by LF inside a line (for example a simple error whose
    /// message contains a CR).
    #[error("bare CR not followed by LF inside a '{kind}' line")]
    BareCr {
        /// The line's type byte.
        kind: char,
    },
    /// An LF without a CR before it inside a line.
    #[error("bare LF without a preceding CR inside a '{kind}' line")]
    BareLf {
        /// The line's type byte.
        kind: char,
    },
    /// The two bytes after a length-prefixed body are not CRLF.
    #[error("expected CRLF after {what} body of {len} bytes")]
    MissingCrlf {
        /// "bulk string", "blob error" or "verbatim string".
        what: &'static str,
        /// The body length the header declared.
        len: usize,
    },
    /// A `:` line is not a signed decimal that fits in an `i64`.
    #[error("invalid integer \"{text}\" (expected a signed decimal that fits in 64 bits)")]
    InvalidInteger {
        /// The line as sent (escaped, and shortened if long).
        text: String,
    },
    /// A `,` line is not a decimal, `inf`, `-inf` or `nan`.
    #[error("invalid double \"{text}\" (expected a decimal, inf, -inf or nan)")]
    InvalidDouble {
        /// The line as sent (escaped, and shortened if long).
        text: String,
    },
    /// A `#` line is not `t` or `f`.
    #[error("invalid boolean \"{text}\" (expected #t or #f)")]
    InvalidBoolean {
        /// The line as sent (escaped, and shortened if long).
        text: String,
    },
    /// A `(` line is not an optional sign followed by decimal digits.
    #[error("invalid big number \"{text}\" (expected an optional sign and decimal digits)")]
    InvalidBigNumber {
        /// The line as sent (escaped, and shortened if long).
        text: String,
    },
    /// A `_` line has content.
    #[error("invalid null \"{text}\" (expected nothing between '_' and CRLF)")]
    InvalidNull {
        /// The line as sent (escaped, and shortened if long).
        text: String,
    },
    /// A verbatim string body does not start with a three-byte format and `:`.
    #[error(
        "invalid verbatim string: body of {len} bytes does not start with a 3-byte format and ':'"
    )]
    InvalidVerbatim {
        /// The body length.
        len: usize,
    },
}

/// `" ('A')"` for a printable byte, nothing otherwise: the hex is always shown.
fn show_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!(" ('{}')", char::from(byte))
    } else {
        String::new()
    }
}

/// The offending input for an error message: escaped, and cut at [`QUOTE_MAX`].
fn quote(bytes: &[u8]) -> String {
    let shown = bytes.get(..QUOTE_MAX).unwrap_or(bytes);
    let mut text = shown.escape_ascii().to_string();
    if shown.len() < bytes.len() {
        text.push_str("...");
    }
    text
}

/// A length-prefixed body type.
#[derive(Clone, Copy, Debug)]
enum BulkKind {
    /// `$`: bulk string.
    String,
    /// `!`: blob error.
    Error,
    /// `=`: verbatim string.
    Verbatim,
}

impl BulkKind {
    fn name(self) -> &'static str {
        match self {
            BulkKind::String => "bulk string",
            BulkKind::Error => "blob error",
            BulkKind::Verbatim => "verbatim string",
        }
    }
}

/// A length-prefixed body whose header was consumed but whose body (plus CRLF)
/// has not fully arrived.
#[derive(Clone, Copy, Debug)]
struct PendingBulk {
    kind: BulkKind,
    /// The body length, already checked against `max_bulk_len`.
    len: usize,
}

/// Which aggregate a sequence frame builds.
#[derive(Clone, Copy, Debug)]
enum SeqKind {
    Array,
    Set,
    Push,
}

/// An aggregate opened but not yet complete.
#[derive(Debug)]
enum Frame {
    /// Array, set or push: `remaining` more elements to come.
    Seq {
        kind: SeqKind,
        remaining: usize,
        items: Vec<Value>,
    },
    /// Map, or the map of an attribute: `remaining` more pairs to come, and the
    /// key of the pair in progress once it has been read.
    Pairs {
        attribute: bool,
        remaining: usize,
        pairs: Vec<(Value, Value)>,
        key: Option<Value>,
    },
    /// An attribute map is complete; the next value is the one it annotates.
    AttributeTarget { attributes: Vec<(Value, Value)> },
}

/// What adding a value to the innermost open aggregate did.
enum Pushed {
    /// The aggregate wants more values.
    Incomplete,
    /// The aggregate is complete: this is its value, for the enclosing one.
    Complete(Value),
}

impl Frame {
    /// Adds the next element. Frames only stay on the stack while they need at
    /// least one more value, so `remaining` is at least 1 here.
    fn push(&mut self, value: Value) -> Pushed {
        match self {
            Frame::Seq {
                kind,
                remaining,
                items,
            } => {
                items.push(value);
                *remaining = remaining.saturating_sub(1);
                if *remaining > 0 {
                    return Pushed::Incomplete;
                }
                let items = mem::take(items);
                Pushed::Complete(match kind {
                    SeqKind::Array => Value::Array(items),
                    SeqKind::Set => Value::Set(items),
                    SeqKind::Push => Value::Push(items),
                })
            }
            Frame::Pairs {
                attribute,
                remaining,
                pairs,
                key,
            } => {
                let Some(k) = key.take() else {
                    *key = Some(value);
                    return Pushed::Incomplete;
                };
                pairs.push((k, value));
                *remaining = remaining.saturating_sub(1);
                if *remaining > 0 {
                    return Pushed::Incomplete;
                }
                let pairs = mem::take(pairs);
                if *attribute {
                    // The attribute map is done; it now waits, in the same
                    // stack slot, for the one value it annotates.
                    *self = Frame::AttributeTarget { attributes: pairs };
                    Pushed::Incomplete
                } else {
                    Pushed::Complete(Value::Map(pairs))
                }
            }
            Frame::AttributeTarget { attributes } => Pushed::Complete(Value::Attribute {
                attributes: mem::take(attributes),
                value: Box::new(value),
            }),
        }
    }
}

/// The outcome of reading one piece (a line, or a bulk body) from the buffer.
enum Step {
    /// The buffer holds no complete piece yet.
    NeedMore,
    /// An aggregate header was read and pushed on the stack.
    Opened,
    /// A complete value: a scalar, or an empty aggregate.
    Value(Value),
}

/// Incremental RESP2/RESP3 decoder: feed it the read buffer, get complete
/// [`Value`]s back.
///
/// Pass the same buffer on every call, only appending to it between calls:
/// the decoder consumes finished pieces from the front and remembers the rest
/// of its progress (open aggregates, a pending bulk body's length, how far the
/// line at the front has been scanned), so a frame arriving in many reads is
/// read once, never rescanned.
///
/// After [`decode`](Decoder::decode) returns an error the decoder is
/// *poisoned*: every later call returns the same error without looking at the
/// buffer. The stream has lost framing, so the connection must be closed; make
/// a new decoder for a new connection.
///
/// ```
/// use bytes::BytesMut;
/// use redmux::{resp::Decoder, Value};
///
/// let mut decoder = Decoder::default();
/// let mut buf = BytesMut::from(&b"*2\r\n$3\r\nfoo\r\n:4"[..]);
/// assert_eq!(decoder.decode(&mut buf).unwrap(), None); // ":4" lacks its CRLF
/// assert!(decoder.is_mid_frame());
/// buf.extend_from_slice(b"2\r\n+OK\r\n");
/// assert_eq!(
///     decoder.decode(&mut buf).unwrap(),
///     Some(Value::Array(vec![Value::BulkString("foo".into()), Value::Int(42)]))
/// );
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Value::SimpleString("OK".into())));
/// assert!(buf.is_empty());
/// ```
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    /// Aggregates opened but not complete, innermost last.
    stack: Vec<Frame>,
    /// A body whose header was consumed but whose bytes have not all arrived.
    bulk: Option<PendingBulk>,
    /// How many bytes at the front of the buffer (the line in progress) are
    /// known to hold no CR or LF: the next scan resumes there.
    scanned: usize,
    /// The error returned before, returned again by every later call.
    poisoned: Option<ProtocolError>,
    /// Bytes looked at by the line scanner, to prove tests never rescan.
    #[cfg(test)]
    bytes_examined: usize,
}

impl Default for Decoder {
    /// A decoder with [`Limits::default`].
    fn default() -> Self {
        Decoder::new(Limits::default())
    }
}

impl Decoder {
    /// A decoder that enforces `limits`, at the start of a stream.
    ///
    /// ```
    /// use redmux::resp::{Decoder, Limits};
    /// let decoder = Decoder::new(Limits { max_depth: 16, ..Limits::default() });
    /// assert!(!decoder.is_mid_frame());
    /// ```
    pub fn new(limits: Limits) -> Self {
        Decoder {
            limits,
            stack: Vec::new(),
            bulk: None,
            scanned: 0,
            poisoned: None,
            #[cfg(test)]
            bytes_examined: 0,
        }
    }

    /// The limits this decoder enforces.
    ///
    /// ```
    /// use redmux::resp::{Decoder, Limits};
    /// assert_eq!(Decoder::default().limits(), Limits::default());
    /// ```
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Consume bytes from the front of `buf` and return the next complete
    /// frame, `Ok(None)` if more bytes are needed.
    ///
    /// On `Ok(None)` every byte of `buf` that can be used yet has been taken
    /// into the decoder's state or left for the next call to resume from, so
    /// append the next read to the same buffer and call again. Bytes after the
    /// returned frame stay in `buf`: call again until `Ok(None)` to drain every
    /// frame a read brought. RESP2's null bulk string and null array (`$-1`,
    /// `*-1`) and RESP3's null (`_`) all decode to [`Value::Nil`].
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when the bytes are not valid RESP or break the
    /// [`Limits`]. The decoder is then poisoned: later calls return the same
    /// error.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redmux::{resp::Decoder, Value};
    ///
    /// let mut decoder = Decoder::default();
    /// let mut buf = BytesMut::from(&b"$5\r\nhel"[..]);
    /// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    /// buf.extend_from_slice(b"lo\r\n");
    /// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Value::BulkString("hello".into())));
    ///
    /// let mut bad = BytesMut::from(&b"A\r\n"[..]);
    /// let err = decoder.decode(&mut bad).unwrap_err();
    /// assert_eq!(err.to_string(), "unknown RESP type byte 0x41 ('A')");
    /// ```
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, ProtocolError> {
        if let Some(err) = &self.poisoned {
            return Err(err.clone());
        }
        // `+OK`, the reply to SET, SELECT and most writes, as a whole frame:
        // no line scan, and a static string instead of a slice of the buffer.
        if self.stack.is_empty() && self.bulk.is_none() && buf.starts_with(b"+OK\r\n") {
            buf.advance(5);
            // What was scanned of a partial line was this line's start.
            self.scanned = 0;
            return Ok(Some(Value::SimpleString(Bytes::from_static(b"OK"))));
        }
        let result = self.decode_frame(buf);
        if let Err(err) = &result {
            self.poisoned = Some(err.clone());
        }
        result
    }

    /// True while a frame has been partly consumed (an aggregate or bulk in
    /// progress).
    ///
    /// Bytes still sitting in the buffer (such as a line whose CRLF has not
    /// arrived) do not count: they have not been consumed. The driver can use
    /// `is_mid_frame() || !buf.is_empty()` to tell whether the peer closed the
    /// connection in the middle of a reply.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redmux::resp::Decoder;
    ///
    /// let mut decoder = Decoder::default();
    /// let mut buf = BytesMut::from(&b"*2\r\n:1\r\n"[..]);
    /// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    /// assert!(decoder.is_mid_frame());
    /// ```
    pub fn is_mid_frame(&self) -> bool {
        !self.stack.is_empty() || self.bulk.is_some()
    }

    /// A hint of how many more bytes the frame in progress needs at least (e.g.
    /// the rest of a bulk body + CRLF), 0 if unknown. Used by the driver to
    /// size its read buffer; never more than `limits.max_bulk_len + 2`.
    ///
    /// Only a bulk body whose header has been consumed gives a known size: the
    /// body bytes plus CRLF not yet in `buf`. Anything else (a line without its
    /// CRLF, the elements of an open aggregate) gives 0. Call it after
    /// [`decode`](Decoder::decode) returned `Ok(None)`, with the same buffer.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use redmux::resp::Decoder;
    ///
    /// let mut decoder = Decoder::default();
    /// let mut buf = BytesMut::from(&b"$10\r\nabc"[..]);
    /// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    /// assert_eq!(decoder.bytes_needed_hint(&buf), 10 + 2 - 3);
    /// ```
    pub fn bytes_needed_hint(&self, buf: &BytesMut) -> usize {
        match self.bulk {
            Some(bulk) => bulk
                .len
                .saturating_add(2)
                .saturating_sub(buf.len())
                .min(self.limits.max_bulk_len.saturating_add(2)),
            None => 0,
        }
    }

    /// Reads pieces until a top-level value is complete or the buffer runs
    /// dry. Each completed value is folded into the innermost open aggregate;
    /// an aggregate that completes becomes a value for the one enclosing it.
    fn decode_frame(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, ProtocolError> {
        loop {
            let mut value = match self.step(buf)? {
                Step::NeedMore => return Ok(None),
                Step::Opened => continue,
                Step::Value(value) => value,
            };
            loop {
                let Some(frame) = self.stack.last_mut() else {
                    return Ok(Some(value));
                };
                match frame.push(value) {
                    Pushed::Incomplete => break,
                    Pushed::Complete(done) => {
                        self.stack.pop();
                        value = done;
                    }
                }
            }
        }
    }

    /// Reads the next piece: a pending bulk body, or one line and (for a bulk
    /// header) the body after it if it is all there.
    fn step(&mut self, buf: &mut BytesMut) -> Result<Step, ProtocolError> {
        if let Some(bulk) = self.bulk {
            return self.bulk_body(buf, bulk);
        }
        let Some(&kind) = buf.first() else {
            return Ok(Step::NeedMore);
        };
        // Checked before looking for the CRLF so garbage fails at once instead
        // of waiting for a line end that may never come.
        if !b"_+-:$*,#(=%~>|!".contains(&kind) {
            return Err(ProtocolError::UnknownType { byte: kind });
        }
        let Some(end) = self.find_line(buf, kind)? else {
            return Ok(Step::NeedMore);
        };
        // The line is `buf[..end]` (type byte first) and `buf[end..end + 2]` is
        // its CRLF; `find_line` only returns `end >= 1`.
        let line = buf.get(1..end).unwrap_or_default();
        let value = match kind {
            b'+' | b'-' | b'(' => {
                if kind == b'(' && !is_big_number(line) {
                    return Err(ProtocolError::InvalidBigNumber { text: quote(line) });
                }
                // Zero copy: the text is split off the read buffer.
                buf.advance(1);
                let text = buf.split_to(end - 1).freeze();
                buf.advance(2);
                return Ok(Step::Value(match kind {
                    b'+' => Value::SimpleString(text),
                    b'-' => Value::Error(text),
                    _ => Value::BigNumber(text),
                }));
            }
            b':' => Value::Int(
                parse_int(line)
                    .ok_or_else(|| ProtocolError::InvalidInteger { text: quote(line) })?,
            ),
            b',' => Value::Double(
                parse_double(line)
                    .ok_or_else(|| ProtocolError::InvalidDouble { text: quote(line) })?,
            ),
            b'#' => match line {
                b"t" => Value::Boolean(true),
                b"f" => Value::Boolean(false),
                _ => return Err(ProtocolError::InvalidBoolean { text: quote(line) }),
            },
            b'_' if line.is_empty() => Value::Nil,
            b'_' => return Err(ProtocolError::InvalidNull { text: quote(line) }),
            b'$' | b'!' | b'=' => {
                let bulk_kind = match kind {
                    b'$' => BulkKind::String,
                    b'!' => BulkKind::Error,
                    _ => BulkKind::Verbatim,
                };
                let Some(len) = parse_len(line, kind, kind == b'$')? else {
                    buf.advance(end + 2);
                    return Ok(Step::Value(Value::Nil));
                };
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&len| len <= self.limits.max_bulk_len)
                    .ok_or(ProtocolError::BulkTooLong {
                        what: bulk_kind.name(),
                        len,
                        limit: self.limits.max_bulk_len,
                    })?;
                buf.advance(end + 2);
                let bulk = PendingBulk {
                    kind: bulk_kind,
                    len,
                };
                self.bulk = Some(bulk);
                return self.bulk_body(buf, bulk);
            }
            // The remaining type bytes are the aggregates: `*`, `~`, `>`, `%`, `|`.
            _ => {
                let Some(count) = parse_len(line, kind, kind == b'*')? else {
                    buf.advance(end + 2);
                    return Ok(Step::Value(Value::Nil));
                };
                let step = self.open_aggregate(kind, count)?;
                buf.advance(end + 2);
                return Ok(step);
            }
        };
        buf.advance(end + 2);
        Ok(Step::Value(value))
    }

    /// Checks an aggregate header against the limits and opens it: an empty
    /// one is a complete value at once, any other goes on the stack.
    fn open_aggregate(&mut self, kind: u8, count: u64) -> Result<Step, ProtocolError> {
        let (what, per_entry) = match kind {
            b'*' => ("array", 1),
            b'~' => ("set", 1),
            b'>' => ("push", 1),
            b'%' => ("map", 2),
            _ => ("attribute", 2),
        };
        // Checked: a pair count near usize::MAX must not wrap when doubled.
        let entries = usize::try_from(count)
            .ok()
            .filter(|&n| {
                n.checked_mul(per_entry)
                    .is_some_and(|elements| elements <= self.limits.max_elements)
            })
            .ok_or(ProtocolError::TooManyElements {
                what,
                count,
                unit: if per_entry == 1 {
                    "elements"
                } else {
                    "pairs (2 elements each)"
                },
                limit: self.limits.max_elements,
            })?;
        // Depth is checked for empty aggregates too, so the limit means the
        // same whatever the innermost aggregate holds.
        if self.stack.len() >= self.limits.max_depth {
            return Err(ProtocolError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        let capacity = entries.min(PREALLOC_CAP);
        let frame = match kind {
            b'*' | b'~' | b'>' if entries == 0 => {
                return Ok(Step::Value(match kind {
                    b'*' => Value::Array(Vec::new()),
                    b'~' => Value::Set(Vec::new()),
                    _ => Value::Push(Vec::new()),
                }));
            }
            b'%' if entries == 0 => return Ok(Step::Value(Value::Map(Vec::new()))),
            b'|' if entries == 0 => Frame::AttributeTarget {
                attributes: Vec::new(),
            },
            b'*' | b'~' | b'>' => Frame::Seq {
                kind: match kind {
                    b'*' => SeqKind::Array,
                    b'~' => SeqKind::Set,
                    _ => SeqKind::Push,
                },
                remaining: entries,
                items: Vec::with_capacity(capacity),
            },
            _ => Frame::Pairs {
                attribute: kind == b'|',
                remaining: entries,
                pairs: Vec::with_capacity(capacity),
                key: None,
            },
        };
        self.stack.push(frame);
        Ok(Step::Opened)
    }

    /// Takes a pending body off the buffer once it and its CRLF are all there.
    fn bulk_body(&mut self, buf: &mut BytesMut, bulk: PendingBulk) -> Result<Step, ProtocolError> {
        let len = bulk.len;
        // Only overflows with a limit near usize::MAX, which no buffer reaches.
        let Some(total) = len.checked_add(2) else {
            return Err(ProtocolError::BulkTooLong {
                what: bulk.kind.name(),
                len: len as u64,
                limit: self.limits.max_bulk_len,
            });
        };
        if buf.len() < total {
            return Ok(Step::NeedMore);
        }
        if buf.get(len..total) != Some(&b"\r\n"[..]) {
            return Err(ProtocolError::MissingCrlf {
                what: bulk.kind.name(),
                len,
            });
        }
        // Zero copy: the body becomes a `Bytes` sharing the read buffer.
        let body = buf.split_to(len).freeze();
        buf.advance(2);
        self.bulk = None;
        let value = match bulk.kind {
            BulkKind::String => Value::BulkString(body),
            BulkKind::Error => Value::Error(body),
            BulkKind::Verbatim => match body.get(..4) {
                Some(&[a, b, c, b':']) => Value::VerbatimString {
                    format: [a, b, c],
                    text: body.slice(4..),
                },
                _ => return Err(ProtocolError::InvalidVerbatim { len }),
            },
        };
        Ok(Step::Value(value))
    }

    /// Finds the CRLF ending the line at the front of `buf` and returns the
    /// index of its CR, or `None` if it has not arrived yet.
    ///
    /// Resumes where the previous call stopped, so a long line arriving in
    /// many reads is scanned once. A line ends at the first CRLF; a CR not
    /// followed by LF, or an LF alone, is an error, and so is a line that has
    /// passed `max_line` bytes without a CRLF.
    fn find_line(&mut self, buf: &BytesMut, kind: u8) -> Result<Option<usize>, ProtocolError> {
        let max = self.limits.max_line;
        // Only indices 0..=max can hold the line or its CR; a byte at index
        // `max` that is not CR proves the line too long.
        let end = buf.len().min(max.saturating_add(1));
        // Index 0 is the type byte, already checked. A buffer shorter than
        // what was scanned is not the one scanned (a misuse): start over.
        let resume = if self.scanned > buf.len() {
            1
        } else {
            self.scanned.max(1)
        };
        let start = resume.min(end);
        let window = buf.get(start..end).unwrap_or_default();
        let found = window.iter().position(|&b| b == b'\r' || b == b'\n');
        #[cfg(test)]
        {
            self.bytes_examined += found.map_or(window.len(), |offset| offset + 1);
        }
        let Some(offset) = found else {
            if buf.len() > max {
                return Err(ProtocolError::LineTooLong { limit: max });
            }
            self.scanned = end;
            return Ok(None);
        };
        let at = start + offset;
        let kind = char::from(kind);
        if window.get(offset) == Some(&b'\n') {
            return Err(ProtocolError::BareLf { kind });
        }
        match buf.get(at + 1) {
            Some(b'\n') => {
                self.scanned = 0;
                Ok(Some(at))
            }
            Some(_) => Err(ProtocolError::BareCr { kind }),
            None => {
                // The CR is the last byte so far: resume at it next time.
                self.scanned = at;
                Ok(None)
            }
        }
    }
}

/// A length or count: decimal digits, or `-1` (RESP2's null) where allowed.
/// `Ok(None)` is that null.
#[inline(always)] // on every bulk and aggregate header; outlined it cost ~30 instructions per GET
fn parse_len(line: &[u8], kind: u8, null_allowed: bool) -> Result<Option<u64>, ProtocolError> {
    if null_allowed && line == b"-1" {
        return Ok(None);
    }
    if line == b"?" {
        return Err(ProtocolError::Streamed {
            kind: char::from(kind),
        });
    }
    parse_digits(line)
        .map(Some)
        .ok_or_else(|| ProtocolError::InvalidLength {
            kind: char::from(kind),
            text: quote(line),
        })
}

/// One or more ASCII digits that fit in a `u64`; no sign, no spaces.
fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// An optionally signed decimal `i64`, parsed in place without allocating.
fn parse_int(line: &[u8]) -> Option<i64> {
    let (negative, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, line),
    };
    let magnitude = parse_digits(digits)?;
    if negative {
        // 0 - 2^63 is i64::MIN, the one magnitude with no positive i64.
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// A RESP3 double: `inf`, `-inf`, `nan`, or a decimal with optional sign,
/// fraction and exponent.
fn parse_double(line: &[u8]) -> Option<f64> {
    match line {
        b"inf" | b"+inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" | b"+nan" => Some(f64::NAN),
        // Restricting the characters first keeps Rust's extra spellings
        // ("infinity", "NaN") out; `parse` then checks the shape.
        _ if line
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) =>
        {
            std::str::from_utf8(line).ok()?.parse().ok()
        }
        _ => None,
    }
}

/// An optional sign followed by one or more decimal digits.
fn is_big_number(line: &[u8]) -> bool {
    let digits = match line {
        [b'-' | b'+', rest @ ..] => rest,
        _ => line,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn simple(s: &str) -> Value {
        Value::SimpleString(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// Every RESP2 and RESP3 type, with the value each must decode to.
    fn fixtures() -> Vec<(&'static [u8], Value)> {
        vec![
            (b"+OK\r\n", simple("OK")),
            (b"+\r\n", simple("")),
            (
                b"-ERR unknown command 'foo'\r\n",
                Value::Error("ERR unknown command 'foo'".into()),
            ),
            (b":0\r\n", Value::Int(0)),
            (b":-42\r\n", Value::Int(-42)),
            (b":+7\r\n", Value::Int(7)),
            (b":9223372036854775807\r\n", Value::Int(i64::MAX)),
            (b":-9223372036854775808\r\n", Value::Int(i64::MIN)),
            (b"$5\r\nhello\r\n", bulk("hello")),
            (b"$0\r\n\r\n", bulk("")),
            (b"$4\r\na\r\nb\r\n", bulk("a\r\nb")),
            (b"$2\r\n\r\n\r\n", bulk("\r\n")),
            (b"$-1\r\n", Value::Nil),
            (b"*-1\r\n", Value::Nil),
            (b"_\r\n", Value::Nil),
            (b"*0\r\n", Value::Array(vec![])),
            (
                b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
                Value::Array(vec![bulk("GET"), bulk("k")]),
            ),
            (
                b"*3\r\n:1\r\n*2\r\n+a\r\n*0\r\n$-1\r\n",
                Value::Array(vec![
                    Value::Int(1),
                    Value::Array(vec![simple("a"), Value::Array(vec![])]),
                    Value::Nil,
                ]),
            ),
            (
                b"*2\r\n*1\r\n*1\r\n:5\r\n*-1\r\n",
                Value::Array(vec![
                    Value::Array(vec![Value::Array(vec![Value::Int(5)])]),
                    Value::Nil,
                ]),
            ),
            (b",1.5\r\n", Value::Double(1.5)),
            (b",-2.5e-3\r\n", Value::Double(-2.5e-3)),
            (b",1E300\r\n", Value::Double(1e300)),
            (b",10\r\n", Value::Double(10.0)),
            (b",inf\r\n", Value::Double(f64::INFINITY)),
            (b",-inf\r\n", Value::Double(f64::NEG_INFINITY)),
            (b"#t\r\n", Value::Boolean(true)),
            (b"#f\r\n", Value::Boolean(false)),
            (
                b"(3492890328409238509324850943850943825024385\r\n",
                Value::BigNumber("3492890328409238509324850943850943825024385".into()),
            ),
            (b"(-1\r\n", Value::BigNumber("-1".into())),
            (
                b"=15\r\ntxt:Some string\r\n",
                Value::VerbatimString {
                    format: *b"txt",
                    text: "Some string".into(),
                },
            ),
            (
                b"=4\r\nmkd:\r\n",
                Value::VerbatimString {
                    format: *b"mkd",
                    text: Bytes::new(),
                },
            ),
            (
                b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
                Value::Map(vec![
                    (simple("first"), Value::Int(1)),
                    (simple("second"), Value::Int(2)),
                ]),
            ),
            (b"%0\r\n", Value::Map(vec![])),
            (
                b"~3\r\n+a\r\n+b\r\n+c\r\n",
                Value::Set(vec![simple("a"), simple("b"), simple("c")]),
            ),
            (b"~0\r\n", Value::Set(vec![])),
            (
                b">3\r\n+message\r\n+chan\r\n$5\r\nhello\r\n",
                Value::Push(vec![simple("message"), simple("chan"), bulk("hello")]),
            ),
            (
                b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
                Value::Attribute {
                    attributes: vec![(
                        simple("key-popularity"),
                        Value::Map(vec![
                            (bulk("a"), Value::Double(0.1923)),
                            (bulk("b"), Value::Double(0.0012)),
                        ]),
                    )],
                    value: Box::new(Value::Array(vec![
                        Value::Int(2039123),
                        Value::Int(9543892),
                    ])),
                },
            ),
            (
                b"|0\r\n+x\r\n",
                Value::Attribute {
                    attributes: vec![],
                    value: Box::new(simple("x")),
                },
            ),
            (
                b"*2\r\n|1\r\n+ttl\r\n:3600\r\n+a\r\n:2\r\n",
                Value::Array(vec![
                    Value::Attribute {
                        attributes: vec![(simple("ttl"), Value::Int(3600))],
                        value: Box::new(simple("a")),
                    },
                    Value::Int(2),
                ]),
            ),
            (
                b"!21\r\nSYNTAX invalid syntax\r\n",
                Value::Error("SYNTAX invalid syntax".into()),
            ),
            (b"!5\r\na\r\nbc\r\n", Value::Error("a\r\nbc".into())),
        ]
    }

    fn decode_all(bytes: &[u8]) -> Result<Option<Value>, ProtocolError> {
        let mut buf = BytesMut::from(bytes);
        Decoder::default().decode(&mut buf)
    }

    fn err_of(bytes: &[u8]) -> ProtocolError {
        match decode_all(bytes) {
            Err(err) => err,
            other => panic!(
                "{:?} decoded to {other:?}, expected an error",
                bytes.escape_ascii().to_string()
            ),
        }
    }

    /// The decoder's own allocations stay bounded by what it has been sent:
    /// no frame pre-allocated past `PREALLOC_CAP` beyond what it holds, no
    /// more open frames than the depth limit, a hint within its bound.
    fn assert_state_is_small(decoder: &Decoder, buf: &BytesMut) {
        assert!(decoder.stack.len() <= decoder.limits.max_depth);
        for frame in &decoder.stack {
            let (len, capacity) = match frame {
                Frame::Seq { items, .. } => (items.len(), items.capacity()),
                Frame::Pairs { pairs, .. } => (pairs.len(), pairs.capacity()),
                Frame::AttributeTarget { attributes } => (attributes.len(), attributes.capacity()),
            };
            assert!(
                capacity <= PREALLOC_CAP.max(2 * len),
                "frame holds {len} items in capacity {capacity}"
            );
        }
        assert!(decoder.bytes_needed_hint(buf) <= decoder.limits.max_bulk_len + 2);
        assert!(decoder.scanned <= buf.len());
    }

    #[test]
    fn every_fixture_decodes_whole_and_consumes_exactly() {
        for (bytes, expected) in fixtures() {
            let mut buf = BytesMut::from(bytes);
            let mut decoder = Decoder::default();
            assert_eq!(
                decoder.decode(&mut buf),
                Ok(Some(expected)),
                "{}",
                bytes.escape_ascii()
            );
            assert!(buf.is_empty(), "{} left {:?}", bytes.escape_ascii(), buf);
            assert!(!decoder.is_mid_frame());
            assert_eq!(decoder.decode(&mut buf), Ok(None));
        }
    }

    #[test]
    fn every_fixture_decodes_when_split_at_every_byte() {
        for (bytes, expected) in fixtures() {
            for split in 1..bytes.len() {
                let mut decoder = Decoder::default();
                let mut buf = BytesMut::from(&bytes[..split]);
                assert_eq!(
                    decoder.decode(&mut buf),
                    Ok(None),
                    "{} split at {split}",
                    bytes.escape_ascii()
                );
                assert_state_is_small(&decoder, &buf);
                buf.extend_from_slice(&bytes[split..]);
                assert_eq!(
                    decoder.decode(&mut buf),
                    Ok(Some(expected.clone())),
                    "{} split at {split}",
                    bytes.escape_ascii()
                );
                assert!(buf.is_empty());
                assert!(!decoder.is_mid_frame());
            }
        }
    }

    #[test]
    fn every_fixture_decodes_fed_one_byte_at_a_time() {
        for (bytes, expected) in fixtures() {
            let mut decoder = Decoder::default();
            let mut buf = BytesMut::new();
            let (last, head) = bytes.split_last().expect("fixtures are not empty");
            for &byte in head {
                buf.extend_from_slice(&[byte]);
                assert_eq!(
                    decoder.decode(&mut buf),
                    Ok(None),
                    "{}",
                    bytes.escape_ascii()
                );
                assert_state_is_small(&decoder, &buf);
            }
            buf.extend_from_slice(&[*last]);
            assert_eq!(
                decoder.decode(&mut buf),
                Ok(Some(expected)),
                "{}",
                bytes.escape_ascii()
            );
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn fixtures_back_to_back_in_one_buffer_decode_in_order() {
        let fixtures = fixtures();
        let mut buf = BytesMut::new();
        for (bytes, _) in &fixtures {
            buf.extend_from_slice(bytes);
        }
        let mut decoder = Decoder::default();
        for (bytes, expected) in fixtures {
            assert_eq!(
                decoder.decode(&mut buf),
                Ok(Some(expected)),
                "{}",
                bytes.escape_ascii()
            );
        }
        assert!(buf.is_empty());
        assert_eq!(decoder.decode(&mut buf), Ok(None));
    }

    #[test]
    fn fixtures_back_to_back_fed_one_byte_at_a_time_decode_in_order() {
        let fixtures = fixtures();
        let stream: Vec<u8> = fixtures
            .iter()
            .flat_map(|(b, _)| b.iter().copied())
            .collect();
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        for byte in stream {
            buf.extend_from_slice(&[byte]);
            while let Some(value) = decoder.decode(&mut buf).expect("valid stream") {
                decoded.push(value);
            }
        }
        let expected: Vec<Value> = fixtures.into_iter().map(|(_, v)| v).collect();
        assert_eq!(decoded, expected);
        assert!(buf.is_empty());
    }

    #[test]
    fn nan_double_decodes() {
        for text in [&b",nan\r\n"[..], b",-nan\r\n"] {
            match decode_all(text) {
                Ok(Some(Value::Double(d))) => assert!(d.is_nan()),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn more_double_spellings_decode() {
        for (text, expected) in [
            (&b",+inf\r\n"[..], f64::INFINITY),
            (b",-0\r\n", -0.0),
            (b",1e-7\r\n", 1e-7),
            (b",.5\r\n", 0.5),
            (b",1.7976931348623157e308\r\n", f64::MAX),
            (b",5e-324\r\n", 5e-324),
        ] {
            assert_eq!(decode_all(text), Ok(Some(Value::Double(expected))));
        }
    }

    #[test]
    fn bytes_after_a_frame_stay_in_the_buffer() {
        let mut buf = BytesMut::from(&b":1\r\n$3\r\nab"[..]);
        let mut decoder = Decoder::default();
        assert_eq!(decoder.decode(&mut buf), Ok(Some(Value::Int(1))));
        assert_eq!(&buf[..], b"$3\r\nab");
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        // The header was consumed; the partial body waits in the buffer.
        assert_eq!(&buf[..], b"ab");
        assert!(decoder.is_mid_frame());
    }

    #[test]
    fn bulk_body_and_simple_string_are_slices_of_the_read_buffer() {
        // (`+OK` alone is a static string: see the next test.)
        let mut buf = BytesMut::from(&b"$5\r\nhello\r\n+PONG\r\n=8\r\ntxt:abcd\r\n"[..]);
        let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
        let mut decoder = Decoder::default();
        let mut pointers = Vec::new();
        while let Some(value) = decoder.decode(&mut buf).expect("valid") {
            let ptr = match &value {
                Value::BulkString(b) | Value::SimpleString(b) => b.as_ptr(),
                Value::VerbatimString { text, .. } => text.as_ptr(),
                other => panic!("{other:?}"),
            };
            pointers.push(ptr as usize);
        }
        assert_eq!(pointers.len(), 3);
        for ptr in pointers {
            assert!(
                range.contains(&ptr),
                "value was copied out of the read buffer"
            );
        }
    }

    #[test]
    fn ok_is_decoded_alike_whole_split_and_inside_an_aggregate() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"+OK\r\n+OKAY\r\n*2\r\n+OK\r\n+OK\r\n+OK\r"[..]);
        let ok = || Value::SimpleString(Bytes::from_static(b"OK"));
        assert_eq!(decoder.decode(&mut buf).unwrap(), Some(ok()));
        assert_eq!(decoder.decode(&mut buf).unwrap(), Some(simple("OKAY")));
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Some(Value::Array(vec![ok(), ok()]))
        );
        assert_eq!(decoder.decode(&mut buf).unwrap(), None, "CRLF not complete");
        buf.extend_from_slice(b"\n");
        assert_eq!(decoder.decode(&mut buf).unwrap(), Some(ok()));
        assert!(buf.is_empty());
    }

    /// `+OK` split across reads: the scan of its first part must not be
    /// applied to the line after it (a stale resume point made the next
    /// line's CRLF look like a bare LF).
    #[test]
    fn ok_arriving_in_pieces_leaves_no_scan_state_behind() {
        for split in 1..5 {
            let whole = b"+OK\r\n$5\r\nhello\r\n+OK\r\n";
            let mut decoder = Decoder::default();
            let mut buf = BytesMut::from(&whole[..split]);
            assert_eq!(decoder.decode(&mut buf).unwrap(), None, "split at {split}");
            buf.extend_from_slice(&whole[split..]);
            let ok = Some(Value::SimpleString(Bytes::from_static(b"OK")));
            assert_eq!(decoder.decode(&mut buf).unwrap(), ok, "split at {split}");
            assert_eq!(
                decoder.decode(&mut buf).unwrap(),
                Some(Value::BulkString("hello".into())),
                "split at {split}"
            );
            assert_eq!(decoder.decode(&mut buf).unwrap(), ok, "split at {split}");
        }
    }

    #[test]
    fn long_line_fed_byte_by_byte_is_scanned_once() {
        let mut line = vec![b'+'];
        line.extend_from_slice(&[b'x'; 10_000]);
        line.extend_from_slice(b"\r\n");
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        let mut result = None;
        for &byte in &line {
            buf.extend_from_slice(&[byte]);
            if let Some(value) = decoder.decode(&mut buf).expect("valid") {
                result = Some(value);
            }
        }
        assert!(matches!(result, Some(Value::SimpleString(ref s)) if s.len() == 10_000));
        // Each byte looked at once, plus the CR once more when its LF arrived.
        assert!(
            decoder.bytes_examined <= line.len() + 1,
            "examined {} bytes of a {}-byte line",
            decoder.bytes_examined,
            line.len()
        );
    }

    #[test]
    fn nested_aggregate_fed_byte_by_byte_is_scanned_once() {
        let mut frame = b"*1000\r\n".to_vec();
        for i in 0..1000 {
            frame.extend_from_slice(format!("*2\r\n:{i}\r\n+some text\r\n").as_bytes());
        }
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        let mut done = false;
        for &byte in &frame {
            buf.extend_from_slice(&[byte]);
            if let Some(Value::Array(items)) = decoder.decode(&mut buf).expect("valid") {
                assert_eq!(items.len(), 1000);
                done = true;
            }
        }
        assert!(done);
        assert!(
            decoder.bytes_examined <= frame.len() * 2,
            "examined {}",
            decoder.bytes_examined
        );
    }

    #[test]
    fn bulk_body_waits_without_scanning_and_hints_the_rest() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"$10\r\n"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(buf.is_empty(), "the header is consumed");
        assert!(decoder.is_mid_frame());
        assert_eq!(decoder.bytes_needed_hint(&buf), 12);
        let examined = decoder.bytes_examined;
        for (i, byte) in b"0123456789\r".iter().enumerate() {
            buf.extend_from_slice(&[*byte]);
            assert_eq!(decoder.decode(&mut buf), Ok(None));
            assert_eq!(decoder.bytes_needed_hint(&buf), 12 - (i + 1));
        }
        assert_eq!(
            decoder.bytes_examined, examined,
            "a body is never scanned for CRLF"
        );
        buf.extend_from_slice(b"\n");
        assert_eq!(decoder.decode(&mut buf), Ok(Some(bulk("0123456789"))));
        assert_eq!(decoder.bytes_needed_hint(&buf), 0);
        assert!(!decoder.is_mid_frame());
    }

    #[test]
    fn hint_is_zero_when_no_bulk_is_pending() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"*3\r\n:1\r\n+partial"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(decoder.bytes_needed_hint(&buf), 0);
        assert_eq!(Decoder::default().bytes_needed_hint(&BytesMut::new()), 0);
    }

    #[test]
    fn hint_never_exceeds_max_bulk_len_plus_two() {
        let limits = Limits {
            max_bulk_len: 100,
            ..Limits::default()
        };
        let mut decoder = Decoder::new(limits);
        let mut buf = BytesMut::from(&b"$100\r\n"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(decoder.bytes_needed_hint(&buf), 102);
    }

    #[test]
    fn is_mid_frame_tracks_open_aggregates_and_bulks() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"+partial line"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(!decoder.is_mid_frame(), "nothing consumed yet");
        buf.clear();
        let mut decoder = Decoder::default();
        buf.extend_from_slice(b"%1\r\n+k\r\n");
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(decoder.is_mid_frame());
        buf.extend_from_slice(b"$1\r\n");
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(decoder.is_mid_frame());
        buf.extend_from_slice(b"v\r\n");
        assert_eq!(
            decoder.decode(&mut buf),
            Ok(Some(Value::Map(vec![(simple("k"), bulk("v"))])))
        );
        assert!(!decoder.is_mid_frame());
    }

    #[test]
    fn array_count_above_max_elements_is_rejected() {
        let err = err_of(b"*4294967295\r\n");
        assert_eq!(
            err.to_string(),
            "array of 4294967295 elements exceeds the limit of 16777216 elements (Limits::max_elements)"
        );
        assert!(matches!(
            err_of(b"~16777217\r\n"),
            ProtocolError::TooManyElements { what: "set", .. }
        ));
        assert!(matches!(
            err_of(b">99999999999\r\n"),
            ProtocolError::TooManyElements { what: "push", .. }
        ));
    }

    #[test]
    fn array_count_at_max_elements_is_accepted_without_preallocating_it() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"*16777216\r\n:1\r\n"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_state_is_small(&decoder, &buf);
    }

    #[test]
    fn bulk_length_above_max_bulk_len_is_rejected() {
        let err = err_of(b"$9223372036854775807\r\n");
        assert_eq!(
            err.to_string(),
            "bulk string length 9223372036854775807 exceeds the limit of 536870912 bytes (Limits::max_bulk_len)"
        );
        assert!(matches!(
            err_of(b"$536870913\r\n"),
            ProtocolError::BulkTooLong { .. }
        ));
        assert!(matches!(
            err_of(b"!536870913\r\n"),
            ProtocolError::BulkTooLong {
                what: "blob error",
                ..
            }
        ));
        assert!(matches!(
            err_of(b"=536870913\r\n"),
            ProtocolError::BulkTooLong {
                what: "verbatim string",
                ..
            }
        ));
        // At the limit the header is accepted and the body awaited.
        assert_eq!(decode_all(b"$536870912\r\n"), Ok(None));
    }

    #[test]
    fn map_pair_count_is_doubled_without_overflow() {
        let err = err_of(b"%9223372036854775807\r\n");
        assert_eq!(
            err.to_string(),
            "map of 9223372036854775807 pairs (2 elements each) exceeds the limit of 16777216 elements (Limits::max_elements)"
        );
        // Half the limit in pairs is the limit in elements; one more is not.
        assert_eq!(decode_all(b"%8388608\r\n"), Ok(None));
        assert!(matches!(
            err_of(b"%8388609\r\n"),
            ProtocolError::TooManyElements { .. }
        ));
        assert!(matches!(
            err_of(b"|8388609\r\n"),
            ProtocolError::TooManyElements {
                what: "attribute",
                ..
            }
        ));
        // With no element limit at all, doubling u64::MAX pairs must not wrap
        // into a small count.
        let unlimited = Limits {
            max_elements: usize::MAX,
            ..Limits::default()
        };
        let mut decoder = Decoder::new(unlimited);
        let mut buf = BytesMut::from(&b"%18446744073709551615\r\n"[..]);
        assert!(matches!(
            decoder.decode(&mut buf),
            Err(ProtocolError::TooManyElements { .. })
        ));
        let mut decoder = Decoder::new(unlimited);
        let mut buf = BytesMut::from(&b"%9223372036854775807\r\n"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_state_is_small(&decoder, &buf);
    }

    #[test]
    fn negative_lengths_other_than_resp2_null_are_rejected() {
        for bytes in [
            &b"*-2\r\n"[..],
            b"$-7\r\n",
            b"$-0\r\n",
            b"*-10\r\n",
            b"%-1\r\n",
            b"~-1\r\n",
            b">-1\r\n",
            b"|-1\r\n",
            b"!-1\r\n",
            b"=-1\r\n",
        ] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidLength { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
        assert_eq!(
            err_of(b"*-5\r\n").to_string(),
            "invalid length \"-5\" in '*' header"
        );
    }

    #[test]
    fn non_digit_lengths_are_rejected() {
        for bytes in [
            &b"$12a\r\n"[..],
            b"*\r\n",
            b"$\r\n",
            b"$+3\r\n",
            b"$ 3\r\n",
            b"$3 \r\n",
            b"*1.0\r\n",
            b"$0x10\r\n",
            b"%two\r\n",
            b"$99999999999999999999999\r\n",
        ] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidLength { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
        assert_eq!(
            err_of(b"$12a\r\n").to_string(),
            "invalid length \"12a\" in '$' header"
        );
    }

    #[test]
    fn streamed_frames_are_rejected() {
        for (bytes, kind) in [
            (&b"$?\r\n"[..], '$'),
            (b"*?\r\n", '*'),
            (b"%?\r\n", '%'),
            (b"~?\r\n", '~'),
        ] {
            assert_eq!(err_of(bytes), ProtocolError::Streamed { kind });
        }
        assert_eq!(
            err_of(b"$?\r\n").to_string(),
            "streamed RESP3 frame '$?' is not supported (Redis never sends one)"
        );
    }

    #[test]
    fn deep_nesting_errors_at_depth_limit_without_stack_overflow() {
        let mut bytes = Vec::with_capacity(400_000);
        for _ in 0..100_000 {
            bytes.extend_from_slice(b"*1\r\n");
        }
        let err = err_of(&bytes);
        assert_eq!(err, ProtocolError::TooDeep { limit: 128 });
        assert_eq!(
            err.to_string(),
            "nesting deeper than 128 levels (Limits::max_depth)"
        );
        // Maps nested as keys, and attributes annotating attributes, count too.
        for header in [&b"%1\r\n"[..], b"|0\r\n", b"~1\r\n", b">1\r\n"] {
            let bytes = header.repeat(100_000);
            assert_eq!(err_of(&bytes), ProtocolError::TooDeep { limit: 128 });
        }
    }

    #[test]
    fn nesting_at_depth_limit_is_accepted() {
        let mut bytes = Vec::new();
        for _ in 0..127 {
            bytes.extend_from_slice(b"*1\r\n");
        }
        bytes.extend_from_slice(b"*0\r\n");
        let mut value = decode_all(&bytes)
            .expect("128 levels are allowed")
            .expect("complete");
        let mut depth = 1;
        while let Value::Array(mut items) = value {
            match items.pop() {
                Some(inner) => {
                    value = inner;
                    depth += 1;
                }
                None => break,
            }
        }
        assert_eq!(depth, 128);
        bytes.splice(0..0, b"*1\r\n".iter().copied());
        assert_eq!(err_of(&bytes), ProtocolError::TooDeep { limit: 128 });
    }

    #[test]
    fn oversized_line_without_crlf_errors_once_max_line_exceeded() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"+"[..]);
        // 65,536 bytes is exactly the limit: still waiting for the CRLF.
        buf.extend_from_slice(&vec![b'a'; 65_535]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.extend_from_slice(b"a");
        let err = decoder.decode(&mut buf).unwrap_err();
        assert_eq!(err, ProtocolError::LineTooLong { limit: 65_536 });
        assert_eq!(
            err.to_string(),
            "line longer than 65536 bytes without CRLF (Limits::max_line)"
        );
        // All at once, with far more than the limit buffered: same error.
        let mut huge = vec![b'-'];
        huge.extend_from_slice(&vec![b'e'; 1_000_000]);
        assert_eq!(err_of(&huge), ProtocolError::LineTooLong { limit: 65_536 });
    }

    #[test]
    fn line_of_exactly_max_line_bytes_is_accepted() {
        let mut bytes = vec![b'+'];
        bytes.extend_from_slice(&vec![b'a'; 65_535]);
        bytes.extend_from_slice(b"\r\n");
        assert!(
            matches!(decode_all(&bytes), Ok(Some(Value::SimpleString(s))) if s.len() == 65_535)
        );
        // And when the CR arrives alone at the limit, the decoder waits for the LF.
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&bytes[..bytes.len() - 1]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.extend_from_slice(b"\n");
        assert!(matches!(
            decoder.decode(&mut buf),
            Ok(Some(Value::SimpleString(_)))
        ));
    }

    #[test]
    fn cr_inside_an_error_line_is_rejected() {
        let err = err_of(b"-ERR bad\rthing\r\n");
        assert_eq!(err, ProtocolError::BareCr { kind: '-' });
        assert_eq!(
            err.to_string(),
            "bare CR not followed by LF inside a '-' line"
        );
        // Fed in two parts, split right after the CR.
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"-ERR bad\r"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        buf.extend_from_slice(b"thing\r\n");
        assert_eq!(
            decoder.decode(&mut buf),
            Err(ProtocolError::BareCr { kind: '-' })
        );
    }

    #[test]
    fn bare_lf_inside_a_line_is_rejected() {
        assert_eq!(err_of(b"+OK\n"), ProtocolError::BareLf { kind: '+' });
        assert_eq!(
            err_of(b"-ERR a\nb\r\n"),
            ProtocolError::BareLf { kind: '-' }
        );
        assert_eq!(err_of(b":1\n\r\n"), ProtocolError::BareLf { kind: ':' });
    }

    #[test]
    fn unknown_type_byte_is_rejected_without_waiting_for_crlf() {
        let err = err_of(b"A");
        assert_eq!(err, ProtocolError::UnknownType { byte: b'A' });
        assert_eq!(err.to_string(), "unknown RESP type byte 0x41 ('A')");
        assert_eq!(err_of(b"\0").to_string(), "unknown RESP type byte 0x00");
        assert_eq!(err_of(b"\r\n").to_string(), "unknown RESP type byte 0x0d");
        // Inside an aggregate too.
        assert_eq!(
            err_of(b"*2\r\n:1\r\n."),
            ProtocolError::UnknownType { byte: b'.' }
        );
    }

    #[test]
    fn missing_crlf_after_a_body_is_rejected() {
        let err = err_of(b"$3\r\nabcde");
        assert_eq!(
            err.to_string(),
            "expected CRLF after bulk string body of 3 bytes"
        );
        assert!(matches!(
            err_of(b"$0\r\n\n\r"),
            ProtocolError::MissingCrlf { .. }
        ));
        assert!(matches!(
            err_of(b"!1\r\nxx\n"),
            ProtocolError::MissingCrlf {
                what: "blob error",
                ..
            }
        ));
    }

    #[test]
    fn invalid_scalars_are_rejected() {
        for bytes in [
            &b":abc\r\n"[..],
            b":\r\n",
            b":-\r\n",
            b":+\r\n",
            b":1.5\r\n",
            b": 1\r\n",
            b":--1\r\n",
            b":9223372036854775808\r\n",
            b":-9223372036854775809\r\n",
        ] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidInteger { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
        for bytes in [
            &b",\r\n"[..],
            b",abc\r\n",
            b",1e\r\n",
            b",infinity\r\n",
            b",NaN\r\n",
            b",1.2.3\r\n",
            b",--1\r\n",
            b", 1\r\n",
        ] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidDouble { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
        for bytes in [&b"#\r\n"[..], b"#x\r\n", b"#tt\r\n", b"#T\r\n", b"#1\r\n"] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidBoolean { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
        for bytes in [
            &b"(\r\n"[..],
            b"(-\r\n",
            b"(1.5\r\n",
            b"(12a\r\n",
            b"(--1\r\n",
        ] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidBigNumber { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
        assert!(matches!(
            err_of(b"_x\r\n"),
            ProtocolError::InvalidNull { .. }
        ));
        for bytes in [&b"=3\r\ntxt\r\n"[..], b"=5\r\ntxt!a\r\n", b"=0\r\n\r\n"] {
            assert!(
                matches!(err_of(bytes), ProtocolError::InvalidVerbatim { .. }),
                "{}",
                bytes.escape_ascii()
            );
        }
    }

    #[test]
    fn error_messages_quote_the_input_and_name_the_type() {
        assert_eq!(
            err_of(b":12x\r\n").to_string(),
            "invalid integer \"12x\" (expected a signed decimal that fits in 64 bits)"
        );
        assert_eq!(
            err_of(b",x\r\n").to_string(),
            "invalid double \"x\" (expected a decimal, inf, -inf or nan)"
        );
        assert_eq!(
            err_of(b"#y\r\n").to_string(),
            "invalid boolean \"y\" (expected #t or #f)"
        );
        assert_eq!(
            err_of(b"(1a\r\n").to_string(),
            "invalid big number \"1a\" (expected an optional sign and decimal digits)"
        );
        assert_eq!(
            err_of(b"=5\r\nabcde\r\n").to_string(),
            "invalid verbatim string: body of 5 bytes does not start with a 3-byte format and ':'"
        );
        // Long input is cut, and non-printable bytes escaped.
        let mut long = b":".to_vec();
        long.extend_from_slice(&[b'9'; 100]);
        long.extend_from_slice(b"\r\n");
        assert_eq!(
            err_of(&long).to_string(),
            format!(
                "invalid integer \"{}...\" (expected a signed decimal that fits in 64 bits)",
                "9".repeat(32)
            )
        );
        assert_eq!(
            err_of(b"$\x01\"\r\n").to_string(),
            "invalid length \"\\x01\\\"\" in '$' header"
        );
    }

    #[test]
    fn decoder_stays_poisoned_after_an_error() {
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"*2\r\n:1\r\n$-5\r\n"[..]);
        let err = decoder.decode(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::InvalidLength { kind: '$', .. }
        ));
        // Valid bytes later do not revive it.
        let mut fresh = BytesMut::from(&b"+OK\r\n"[..]);
        assert_eq!(decoder.decode(&mut fresh), Err(err.clone()));
        assert_eq!(decoder.decode(&mut fresh), Err(err));
        assert_eq!(
            &fresh[..],
            b"+OK\r\n",
            "a poisoned decoder consumes nothing"
        );
    }

    #[test]
    fn custom_limits_trigger_each_limit() {
        let limits = Limits {
            max_bulk_len: 4,
            max_elements: 3,
            max_depth: 2,
            max_line: 8,
        };
        let decode = |bytes: &[u8]| Decoder::new(limits).decode(&mut BytesMut::from(bytes));

        assert_eq!(decode(b"$4\r\nabcd\r\n"), Ok(Some(bulk("abcd"))));
        assert_eq!(
            decode(b"$5\r\nabcde\r\n"),
            Err(ProtocolError::BulkTooLong {
                what: "bulk string",
                len: 5,
                limit: 4
            })
        );
        assert!(matches!(
            decode(b"!5\r\n"),
            Err(ProtocolError::BulkTooLong { .. })
        ));
        assert!(matches!(
            decode(b"=5\r\n"),
            Err(ProtocolError::BulkTooLong { .. })
        ));

        assert!(matches!(decode(b"*3\r\n:1\r\n:2\r\n:3\r\n"), Ok(Some(_))));
        assert!(matches!(
            decode(b"*4\r\n"),
            Err(ProtocolError::TooManyElements { limit: 3, .. })
        ));
        assert!(matches!(decode(b"%1\r\n:1\r\n:2\r\n"), Ok(Some(_))));
        // Two pairs are four elements.
        assert!(matches!(
            decode(b"%2\r\n"),
            Err(ProtocolError::TooManyElements { .. })
        ));

        assert!(matches!(decode(b"*1\r\n*1\r\n:1\r\n"), Ok(Some(_))));
        assert_eq!(
            decode(b"*1\r\n*1\r\n*1\r\n"),
            Err(ProtocolError::TooDeep { limit: 2 })
        );
        assert_eq!(
            decode(b"*1\r\n*1\r\n*0\r\n"),
            Err(ProtocolError::TooDeep { limit: 2 })
        );
        // An attribute holds a level while its value is read.
        assert!(matches!(decode(b"|0\r\n*1\r\n:1\r\n"), Ok(Some(_))));
        assert_eq!(
            decode(b"|0\r\n*1\r\n*1\r\n"),
            Err(ProtocolError::TooDeep { limit: 2 })
        );

        // The line limit counts the type byte, not the CRLF.
        assert_eq!(decode(b"+1234567\r\n"), Ok(Some(simple("1234567"))));
        assert_eq!(
            decode(b"+12345678"),
            Err(ProtocolError::LineTooLong { limit: 8 })
        );
        assert_eq!(decode(b"+1234567"), Ok(None));
        // Headers are lines too.
        assert_eq!(
            decode(b"*00000001"),
            Err(ProtocolError::LineTooLong { limit: 8 })
        );
    }

    #[test]
    fn line_limit_error_arrives_as_soon_as_the_limit_is_passed_byte_by_byte() {
        let limits = Limits {
            max_line: 16,
            ..Limits::default()
        };
        let mut decoder = Decoder::new(limits);
        let mut buf = BytesMut::new();
        for i in 0..16 {
            buf.extend_from_slice(if i == 0 { b"+" } else { b"z" });
            assert_eq!(decoder.decode(&mut buf), Ok(None), "byte {i}");
        }
        buf.extend_from_slice(b"z");
        assert_eq!(
            decoder.decode(&mut buf),
            Err(ProtocolError::LineTooLong { limit: 16 })
        );
    }

    #[test]
    fn buffer_cleared_between_calls_does_not_panic() {
        // Not a supported use (the same buffer must be passed each time), but
        // it must not read out of bounds.
        let mut decoder = Decoder::default();
        let mut buf = BytesMut::from(&b"+abcdef"[..]);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        let mut other = BytesMut::from(&b"+a\r\n"[..]);
        assert_eq!(decoder.decode(&mut other), Ok(Some(simple("a"))));
    }

    /// Bytes that look like RESP: type bytes, numbers, CR and LF in all
    /// combinations, to reach deeper states than uniform random bytes do.
    fn resp_like_bytes() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"-1".to_vec()),
            Just(b"?".to_vec()),
            prop::sample::select(b"_+-:$*,#(=%~>|!".to_vec()).prop_map(|b| vec![b]),
            (0u32..20).prop_map(|n| n.to_string().into_bytes()),
            Just(b"99999999999999999999".to_vec()),
            Just(b"txt:".to_vec()),
            Just(b"inf".to_vec()),
            prop::collection::vec(any::<u8>(), 0..4),
        ];
        prop::collection::vec(token, 0..64).prop_map(|tokens| tokens.concat())
    }

    fn small_limits() -> impl Strategy<Value = Limits> {
        prop_oneof![
            Just(Limits::default()),
            (0usize..32, 0usize..8, 0usize..6, 0usize..24).prop_map(|(b, e, d, l)| Limits {
                max_bulk_len: b,
                max_elements: e,
                max_depth: d,
                max_line: l,
            }),
        ]
    }

    /// Feeds `bytes` in chunks, draining frames after each, until an error;
    /// checks the state invariants whenever the decoder asks for more bytes.
    fn feed_checking_state(limits: Limits, bytes: &[u8], chunk: usize) {
        let mut decoder = Decoder::new(limits);
        let mut buf = BytesMut::new();
        for piece in bytes.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(_)) => continue,
                    Ok(None) => {
                        assert_state_is_small(&decoder, &buf);
                        break;
                    }
                    Err(err) => {
                        // Poisoned: the same error again, and a message.
                        assert_eq!(decoder.decode(&mut buf), Err(err.clone()));
                        assert!(!err.to_string().is_empty());
                        return;
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn prop_arbitrary_bytes_never_panic_and_state_stays_small(
            limits in small_limits(),
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            chunk in 1usize..32,
        ) {
            feed_checking_state(limits, &bytes, chunk);
        }

        #[test]
        fn prop_resp_like_bytes_never_panic_and_state_stays_small(
            limits in small_limits(),
            bytes in resp_like_bytes(),
            chunk in 1usize..32,
        ) {
            feed_checking_state(limits, &bytes, chunk);
        }

        #[test]
        fn prop_split_point_does_not_change_the_outcome(
            bytes in resp_like_bytes(),
            split in any::<prop::sample::Index>(),
        ) {
            let whole = {
                let mut decoder = Decoder::default();
                let mut buf = BytesMut::from(&bytes[..]);
                let mut out = Vec::new();
                loop {
                    match decoder.decode(&mut buf) {
                        Ok(Some(v)) => out.push(Ok(v)),
                        Ok(None) => break,
                        Err(e) => { out.push(Err(e)); break; }
                    }
                }
                out
            };
            let at = split.index(bytes.len() + 1);
            let mut decoder = Decoder::default();
            let mut buf = BytesMut::from(&bytes[..at]);
            let mut out = Vec::new();
            'feed: for rest in [&bytes[at..], &[][..]] {
                loop {
                    match decoder.decode(&mut buf) {
                        Ok(Some(v)) => out.push(Ok(v)),
                        Ok(None) => break,
                        Err(e) => { out.push(Err(e)); break 'feed; }
                    }
                }
                buf.extend_from_slice(rest);
            }
            // NaN never equals itself, so compare the debug renderings.
            prop_assert_eq!(format!("{whole:?}"), format!("{out:?}"));
        }
    }
}

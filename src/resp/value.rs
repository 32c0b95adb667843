//! The `Value` type: one decoded reply frame, RESP2 or RESP3.
//!
//! Sits between the decoder (which builds values from the read buffer) and
//! `FromValue` (which turns them into the caller's Rust type on the caller's
//! task). Bulk payloads are `Bytes` slices of the read buffer: no copy is made
//! between the socket and the caller.

use bytes::Bytes;

/// One reply from the server, covering every RESP2 and RESP3 type.
///
/// ```
/// use redmux::Value;
/// let v = Value::Array(vec![Value::Int(1), Value::BulkString("a".into())]);
/// assert!(matches!(v, Value::Array(ref items) if items.len() == 2));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// RESP3 null (`_`), or RESP2's null bulk string (`$-1`) and null array (`*-1`).
    Nil,
    /// A simple string (`+OK`).
    SimpleString(Bytes),
    /// An error reply (`-ERR ...`) or RESP3 blob error (`!`); the text after the sign.
    Error(Bytes),
    /// A signed 64-bit integer (`:`).
    Int(i64),
    /// A bulk string (`$`), binary-safe.
    BulkString(Bytes),
    /// An array (`*`).
    Array(Vec<Value>),
    /// A RESP3 double (`,`), including `inf`, `-inf` and `nan`.
    Double(f64),
    /// A RESP3 boolean (`#t` / `#f`).
    Boolean(bool),
    /// A RESP3 big number (`(`), kept as its decimal digits (with an optional sign).
    BigNumber(Bytes),
    /// A RESP3 verbatim string (`=`): a three-letter format such as `txt` or `mkd`, and the text.
    VerbatimString {
        /// The format, e.g. `b"txt"`.
        format: [u8; 3],
        /// The text after `fmt:`.
        text: Bytes,
    },
    /// A RESP3 map (`%`), in the order the server sent it.
    Map(Vec<(Value, Value)>),
    /// A RESP3 set (`~`), in the order the server sent it.
    Set(Vec<Value>),
    /// A RESP3 push (`>`): out-of-band data such as pub/sub messages.
    Push(Vec<Value>),
    /// A RESP3 attribute (`|`) together with the reply it annotates.
    Attribute {
        /// The attribute map.
        attributes: Vec<(Value, Value)>,
        /// The reply that followed the attribute map.
        value: Box<Value>,
    },
}

impl Value {
    /// True for [`Value::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// True for an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }

    /// A short name of the RESP type, for error messages ("bulk string", "map", ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::SimpleString(_) => "simple string",
            Value::Error(_) => "error",
            Value::Int(_) => "integer",
            Value::BulkString(_) => "bulk string",
            Value::Array(_) => "array",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
            Value::BigNumber(_) => "big number",
            Value::VerbatimString { .. } => "verbatim string",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Push(_) => "push",
            Value::Attribute { .. } => "attribute",
        }
    }
}

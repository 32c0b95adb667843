//! RESP2/RESP3 wire format: [`Value`], the incremental [`Decoder`] and the
//! command encoder.
//!
//! Data flow: [`Cmd`](crate::Cmd) writes a command as an array of bulk
//! strings (with [`write_bulk`]) into a `BytesMut` on the caller's task; the
//! driver copies it into the socket's write buffer. Replies come back through [`Decoder::decode`], which consumes
//! bytes from the driver's read buffer one complete frame at a time.

mod decoder;
mod encoder;
mod value;

pub use decoder::{Decoder, Limits, ProtocolError};
pub(crate) use encoder::bulk_len;
pub use encoder::{encode_command, encode_value, write_array_header, write_bulk};
pub use value::Value;

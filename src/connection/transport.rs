//! Transports: how the bytes of one connection reach the server.
//!
//! The handshake and the driver see only a [`Stream`], a boxed
//! `AsyncRead + AsyncWrite`, so they work the same over every transport and
//! over an in-memory `tokio::io::duplex` in tests. [`connect`] opens one for
//! an endpoint. A virtual call per read or write system call costs nothing
//! next to the system call itself.

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{Config, Endpoint};
use crate::error::{Error, Result};

/// What a connection's bytes travel over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// An open transport, ready for the handshake.
pub(crate) type Stream = Box<dyn Io>;

/// Opens a transport to `endpoint` (no handshake yet).
pub(crate) async fn connect(endpoint: &Endpoint, _config: &Config) -> Result<Stream> {
    let Endpoint::Tcp { host, port } = endpoint else {
        return Err(Error::connect(
            endpoint,
            "only TCP endpoints are supported yet",
            None,
        ));
    };
    let stream = TcpStream::connect((host.as_str(), *port))
        .await
        .map_err(|e| connect_error(endpoint, e))?;
    // Nagle's algorithm would hold small commands back for up to 40 ms
    // waiting for the previous write's ACK; the driver batches already.
    stream
        .set_nodelay(true)
        .map_err(|e| connect_error(endpoint, e))?;
    Ok(Box::new(stream))
}

fn connect_error(endpoint: &Endpoint, e: io::Error) -> Error {
    Error::connect(endpoint, e.to_string(), Some(e))
}

//! Transports: how the bytes of one connection reach the server.
//!
//! The handshake and the driver see only a [`Stream`], a boxed
//! `AsyncRead + AsyncWrite`, so they work the same over every transport and
//! over an in-memory `tokio::io::duplex` in tests. [`connect`] opens one for
//! an endpoint:
//!
//! | endpoint | `config.tls` | stream |
//! |---|---|---|
//! | `Tcp` | `None` | TCP, `TCP_NODELAY` on |
//! | `Tcp` | `Some` | TLS (rustls) over that TCP stream; needs the `tls` feature |
//! | `Unix` | `None` | Unix domain socket |
//! | `Unix` | `Some` | refused: a configuration error |
//!
//! A virtual call per read or write system call costs nothing next to the
//! system call itself. Everything here runs inside the caller's
//! `connectTimeout`, the TLS handshake included.

#[cfg(feature = "tls")]
mod tls;

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{check_tls, Config, Endpoint};
use crate::error::{Error, Result};

/// What a connection's bytes travel over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// An open transport, ready for the handshake.
pub(crate) type Stream = Box<dyn Io>;

/// How much earlier than `connectTimeout` the TLS handshake gives up on its
/// own (at most a tenth of the timeout): soon enough for its message, which
/// names the likely cause (a plain port answers a TLS hello with silence),
/// to beat the caller's generic timeout; small next to the 5 s default.
const TLS_DEADLINE_MARGIN: Duration = Duration::from_millis(100);

/// Opens a transport to `endpoint` (no handshake yet).
///
/// Errors are kind `Connect` (unreachable, refused, a failed TLS check) or
/// kind `Config` (settings no retry can fix: TLS towards a Unix socket, an
/// unreadable certificate file, TLS without the `tls` feature).
pub(crate) async fn connect(endpoint: &Endpoint, config: &Config) -> Result<Stream> {
    // Parsed configurations were checked already; one built in code was not.
    check_tls(config)?;
    let margin = TLS_DEADLINE_MARGIN.min(config.connect_timeout / 10);
    let tls_deadline = super::timer::after(
        tokio::time::Instant::now(),
        config.connect_timeout.saturating_sub(margin),
    );
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let stream = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(|e| connect_error(endpoint, e))?;
            // Nagle's algorithm would hold small commands back for up to
            // 40 ms waiting for the previous write's ACK; the driver batches
            // already. Set before TLS so the handshake is not delayed either.
            stream
                .set_nodelay(true)
                .map_err(|e| connect_error(endpoint, e))?;
            match &config.tls {
                None => Ok(Box::new(stream)),
                Some(settings) => start_tls(stream, endpoint, host, settings, tls_deadline).await,
            }
        }
        Endpoint::Unix { path } => connect_unix(endpoint, path).await,
    }
}

#[cfg(feature = "tls")]
async fn start_tls(
    stream: TcpStream,
    endpoint: &Endpoint,
    host: &str,
    settings: &crate::config::TlsConfig,
    deadline: tokio::time::Instant,
) -> Result<Stream> {
    tls::connect(stream, endpoint, host, settings, deadline).await
}

#[cfg(not(feature = "tls"))]
async fn start_tls(
    _stream: TcpStream,
    _endpoint: &Endpoint,
    _host: &str,
    _settings: &crate::config::TlsConfig,
    _deadline: tokio::time::Instant,
) -> Result<Stream> {
    Err(crate::config::ConfigError::new(
        Some("ssl"),
        "TLS is on (ssl=true or rediss://) but redmux was built without its 'tls' cargo \
         feature; enable the feature (it is on by default) or turn TLS off",
    )
    .into())
}

#[cfg(unix)]
async fn connect_unix(endpoint: &Endpoint, path: &std::path::Path) -> Result<Stream> {
    let stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|e| connect_error(endpoint, e))?;
    Ok(Box::new(stream))
}

#[cfg(not(unix))]
async fn connect_unix(_endpoint: &Endpoint, _path: &std::path::Path) -> Result<Stream> {
    Err(crate::config::ConfigError::new(
        None,
        "Unix domain sockets are not available on this platform; connect over TCP",
    )
    .into())
}

fn connect_error(endpoint: &Endpoint, e: io::Error) -> Error {
    Error::connect(endpoint, e.to_string(), Some(e))
}

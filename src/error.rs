//! The one error type of redmux.
//!
//! Every failure a caller can see is an [`Error`]; [`Error::kind`] says which
//! family it belongs to so callers can `match` on it, and the `is_*` checks
//! cover the common questions ("did it time out?", "may it have run?").
//! Messages name what happened, the command, and what to do about it. The
//! decoder's "need more bytes" is not an error and never appears here.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use crate::config::{ConfigError, Endpoint};
use crate::resp::ProtocolError;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is; match on it to decide what to do.
///
/// ```
/// # fn handle(err: redmux::Error) {
/// match err.kind() {
///     redmux::ErrorKind::Timeout => { /* retry later or report */ }
///     redmux::ErrorKind::Server => eprintln!("redis said: {err}"),
///     _ => eprintln!("{err}"),
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with an error reply (`WRONGTYPE`, `ERR`, `NOSCRIPT`, ...).
    Server,
    /// The command's deadline passed before its reply arrived.
    Timeout,
    /// No connection could be made (refused, unreachable, handshake timed out).
    Connect,
    /// Authentication or the handshake was rejected by the server.
    Auth,
    /// The connection broke while the command was written or awaiting its reply.
    ConnectionLost,
    /// The server sent bytes that are not valid RESP, or broke a configured limit.
    Protocol,
    /// The command blocks or changes connection state, and is refused on a shared connection.
    Refused,
    /// The command is an admin command and `allowAdmin` is off.
    AdminRefused,
    /// The configuration string, URL or a value in it is invalid.
    Config,
    /// A reply could not be converted to the requested Rust type.
    TypeConversion,
    /// The multiplexer was closed (or all its handles dropped) before the command could run.
    Closed,
    /// The commands waiting for a connection exceed the backlog bound.
    BacklogFull,
    /// A subscription's consumer fell behind and its buffer was full, with
    /// `subscriptionOverflow=close`: the subscription was ended.
    SlowConsumer,
    /// No dedicated connection could be leased: all `maxDedicated` are in
    /// use (none came back in time), or `maxDedicated=0`.
    PoolExhausted,
}

/// What the connection was doing when a command timed out.
///
/// Its `Display` is the block of figures users paste into bug reports, in the
/// spirit of StackExchange.Redis's timeout message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionState {
    /// The server's address.
    pub endpoint: String,
    /// The client name sent with `CLIENT SETNAME`, if any.
    pub client_name: Option<String>,
    /// Whether a connection was up at that moment, or being (re)established.
    pub connected: bool,
    /// Commands accepted but not yet written to the socket.
    pub queued: usize,
    /// Commands written and awaiting their reply.
    pub in_flight: usize,
    /// Bytes in the write buffer not yet accepted by the socket.
    pub write_buffer: usize,
    /// Bytes read but not yet decoded into a whole reply.
    pub read_buffer: usize,
    /// Time since the socket last returned data; `None` if it never did.
    pub since_last_read: Option<Duration>,
    /// Time since the socket last accepted data; `None` if it never did.
    pub since_last_write: Option<Duration>,
    /// Total bytes written on this multiplexer.
    pub bytes_out: u64,
    /// Total bytes read on this multiplexer.
    pub bytes_in: u64,
}

impl ConnectionState {
    /// The state of a connection without a pipeline (the subscriber's, a
    /// dedicated one): which it is, whether it is up, and whether a
    /// command was awaiting its reply; the pipeline's figures are zero.
    pub(crate) fn of_single(
        endpoint: String,
        client_name: Option<String>,
        connected: bool,
        in_flight: usize,
    ) -> ConnectionState {
        ConnectionState {
            endpoint,
            client_name,
            connected,
            queued: 0,
            in_flight,
            write_buffer: 0,
            read_buffer: 0,
            since_last_read: None,
            since_last_write: None,
            bytes_out: 0,
            bytes_in: 0,
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn ago(d: Option<Duration>) -> String {
            d.map_or_else(
                || "never".to_owned(),
                |d| format!("{} ms ago", d.as_millis()),
            )
        }
        write!(
            f,
            "endpoint {}{}, {}; queued (unwritten) {}, in flight (awaiting reply) {}, \
             write buffer {} B, read buffer {} B, last read {}, last write {}, \
             bytes out {}, bytes in {}; redmux {}",
            self.endpoint,
            self.client_name
                .as_deref()
                .map(|n| format!(" (client name {n})"))
                .unwrap_or_default(),
            if self.connected {
                "connected"
            } else {
                "not connected"
            },
            self.queued,
            self.in_flight,
            self.write_buffer,
            self.read_buffer,
            ago(self.since_last_read),
            ago(self.since_last_write),
            self.bytes_out,
            self.bytes_in,
            env!("CARGO_PKG_VERSION"),
        )
    }
}

#[derive(Debug, thiserror::Error)]
enum Repr {
    #[error("{command}: server replied {code}: {message}")]
    Server {
        command: String,
        code: String,
        message: String,
        /// False when the error came from a step taken for the command (SELECT) and it was never sent.
        executed: bool,
    },
    #[error(
        "timeout awaiting reply to {command} after {} ms (timeout {} ms){}; {state}. \
         If in-flight is high the server or network is slow; if queued is high the client \
         cannot write fast enough; raise the timeout or lower the load",
        elapsed.as_millis(), timeout.as_millis(),
        if *written { ", the command was written and may have run" } else { ", the command was never sent" }
    )]
    Timeout {
        command: String,
        elapsed: Duration,
        timeout: Duration,
        written: bool,
        state: Box<ConnectionState>,
    },
    #[error("could not connect to {endpoint}: {reason}")]
    Connect {
        endpoint: String,
        reason: String,
        #[source]
        source: Option<std::io::Error>,
    },
    #[error("{command}: the server rejected the handshake: {message}; check user, password and ACL rights")]
    Auth { command: String, message: String },
    #[error(
        "{command}: connection to {endpoint} lost {}: {reason}",
        if *may_have_run { "after the command was written; it may or may not have run" } else { "before the command was sent; it did not run" }
    )]
    ConnectionLost {
        command: String,
        endpoint: String,
        reason: String,
        may_have_run: bool,
    },
    #[error("protocol error from {endpoint}: {source}; the connection was closed")]
    Protocol {
        endpoint: String,
        #[source]
        source: ProtocolError,
    },
    #[error("{0}")]
    Refused(String),
    #[error("{command} is an admin command and allowAdmin is off; set allowAdmin=true in the configuration to allow it")]
    AdminRefused { command: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{command}: cannot convert a {found} reply to {target}{}", detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    TypeConversion {
        command: String,
        found: &'static str,
        target: &'static str,
        detail: Option<String>,
    },
    #[error("{command}: the multiplexer is closed; create a new one with Multiplexer::connect")]
    Closed { command: String },
    #[error("{command}: the backlog of commands waiting for a connection is full ({limit} commands); the server at {endpoint} has been unreachable too long")]
    BacklogFull {
        command: String,
        endpoint: String,
        limit: usize,
    },
    #[error("subscription to {channels} ended: its consumer fell behind and the buffer of {capacity} messages was full (subscriptionOverflow=close); read faster, raise subscriptionBuffer, or set subscriptionOverflow=dropOldest to drop the oldest messages instead")]
    SlowConsumer { channels: String, capacity: usize },
    #[error("no dedicated connection to lease: {reason}")]
    PoolExhausted { reason: String },
}

/// The error type of every redmux operation.
///
/// Small (one pointer) so `Result<T, Error>` stays cheap to move; use
/// [`Error::kind`] to match, and `Display` for a message that says what
/// happened, to which command, and what to do.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<Repr>);

impl Error {
    /// Which kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match &*self.0 {
            Repr::Server { .. } => ErrorKind::Server,
            Repr::Timeout { .. } => ErrorKind::Timeout,
            Repr::Connect { .. } => ErrorKind::Connect,
            Repr::Auth { .. } => ErrorKind::Auth,
            Repr::ConnectionLost { .. } => ErrorKind::ConnectionLost,
            Repr::Protocol { .. } => ErrorKind::Protocol,
            Repr::Refused(_) => ErrorKind::Refused,
            Repr::AdminRefused { .. } => ErrorKind::AdminRefused,
            Repr::Config(_) => ErrorKind::Config,
            Repr::TypeConversion { .. } => ErrorKind::TypeConversion,
            Repr::Closed { .. } => ErrorKind::Closed,
            Repr::BacklogFull { .. } => ErrorKind::BacklogFull,
            Repr::SlowConsumer { .. } => ErrorKind::SlowConsumer,
            Repr::PoolExhausted { .. } => ErrorKind::PoolExhausted,
        }
    }

    /// True if the command's deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// True for an error reply from the server.
    pub fn is_server_error(&self) -> bool {
        self.kind() == ErrorKind::Server
    }

    /// True if the connection failed or broke (connect, auth, lost, protocol).
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Connect | ErrorKind::Auth | ErrorKind::ConnectionLost | ErrorKind::Protocol
        )
    }

    /// True if the command was refused by the client before anything was sent.
    pub fn is_refused(&self) -> bool {
        matches!(self.kind(), ErrorKind::Refused | ErrorKind::AdminRefused)
    }

    /// Whether the command may have been executed by the server.
    ///
    /// `false` means it certainly did not run (refused, never sent, closed);
    /// `true` means it may or may not have run (written before a connection
    /// loss or timeout), or it ran and failed (server error).
    pub fn may_have_run(&self) -> bool {
        match &*self.0 {
            Repr::Server { executed, .. } => *executed,
            Repr::Timeout { written, .. } => *written,
            Repr::ConnectionLost { may_have_run, .. } => *may_have_run,
            Repr::Protocol { .. } => true,
            _ => false,
        }
    }

    /// The error code of a server error reply (`"WRONGTYPE"`, `"ERR"`, `"NOSCRIPT"`, ...).
    pub fn server_code(&self) -> Option<&str> {
        match &*self.0 {
            Repr::Server { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The connection state captured when a command timed out.
    pub fn connection_state(&self) -> Option<&ConnectionState> {
        match &*self.0 {
            Repr::Timeout { state, .. } => Some(state),
            _ => None,
        }
    }

    // Constructors used inside the crate. Each takes what its message needs.

    /// Builds a server error from the text of an error reply (`"WRONGTYPE Operation ..."`).
    pub(crate) fn server(command: &str, reply: &Bytes) -> Error {
        Error::server_reply(command, reply, true)
    }

    /// A server error about a step the client took for this command (a
    /// SELECT), so the command itself was never sent.
    pub(crate) fn server_not_executed(command: &str, reply: &Bytes) -> Error {
        Error::server_reply(command, reply, false)
    }

    fn server_reply(command: &str, reply: &Bytes, executed: bool) -> Error {
        let text = String::from_utf8_lossy(reply);
        let (code, message) = match text.split_once(' ') {
            Some((code, rest))
                if !code.is_empty()
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()) =>
            {
                (code.to_owned(), rest.to_owned())
            }
            _ => ("ERR".to_owned(), text.into_owned()),
        };
        Error(Box::new(Repr::Server {
            command: command.to_owned(),
            code,
            message,
            executed,
        }))
    }

    pub(crate) fn timeout(
        command: &str,
        elapsed: Duration,
        timeout: Duration,
        written: bool,
        state: ConnectionState,
    ) -> Error {
        Error(Box::new(Repr::Timeout {
            command: command.to_owned(),
            elapsed,
            timeout,
            written,
            state: Box::new(state),
        }))
    }

    pub(crate) fn connect(
        endpoint: &Endpoint,
        reason: impl Into<String>,
        source: Option<std::io::Error>,
    ) -> Error {
        Error(Box::new(Repr::Connect {
            endpoint: endpoint.to_string(),
            reason: reason.into(),
            source,
        }))
    }

    /// A connect failure for something other than one endpoint (the
    /// sentinels of a service).
    pub(crate) fn connect_to(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error(Box::new(Repr::Connect {
            endpoint: what.into(),
            reason: reason.into(),
            source: None,
        }))
    }

    pub(crate) fn auth(command: &str, message: impl Into<String>) -> Error {
        Error(Box::new(Repr::Auth {
            command: command.to_owned(),
            message: message.into(),
        }))
    }

    pub(crate) fn connection_lost(
        command: &str,
        endpoint: &str,
        reason: &str,
        may_have_run: bool,
    ) -> Error {
        Error(Box::new(Repr::ConnectionLost {
            command: command.to_owned(),
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
            may_have_run,
        }))
    }

    pub(crate) fn protocol(endpoint: &str, source: ProtocolError) -> Error {
        Error(Box::new(Repr::Protocol {
            endpoint: endpoint.to_owned(),
            source,
        }))
    }

    /// A command for a database the server does not have; refused before sending.
    pub(crate) fn database_out_of_range(
        command: &str,
        db: u32,
        databases: u32,
        endpoint: &str,
    ) -> Error {
        Error::refused(format!(
            "{command} was not sent: database {db} does not exist on {endpoint}, which has \
             {databases} databases (0 to {}, from CONFIG GET databases); use mux.database(n) \
             with n below {databases}, or raise `databases` in the server's configuration",
            databases.saturating_sub(1)
        ))
    }

    /// A command written behind a pipelined SELECT that failed: it ran, but
    /// in database `ran_in` instead of `db`.
    pub(crate) fn wrong_database(command: &str, db: u32, ran_in: u32, select_error: &str) -> Error {
        let (code, rest) = match select_error.split_once(' ') {
            Some((code, rest))
                if !code.is_empty() && code.bytes().all(|b| b.is_ascii_uppercase()) =>
            {
                (code, rest)
            }
            _ => ("ERR", select_error),
        };
        let text = format!(
            "{code} SELECT {db} failed ({rest}); {command} was written behind it and ran in \
             database {ran_in} instead of {db}; the connection now waits for SELECT's reply \
             before switching databases"
        );
        Error::server_reply(command, &Bytes::from(text), true)
    }

    pub(crate) fn refused(message: String) -> Error {
        Error(Box::new(Repr::Refused(message)))
    }

    pub(crate) fn admin_refused(command: &str) -> Error {
        Error(Box::new(Repr::AdminRefused {
            command: command.to_owned(),
        }))
    }

    pub(crate) fn type_conversion(
        found: &'static str,
        target: &'static str,
        detail: Option<String>,
    ) -> Error {
        Error(Box::new(Repr::TypeConversion {
            command: String::new(),
            found,
            target,
            detail,
        }))
    }

    pub(crate) fn closed(command: &str) -> Error {
        Error(Box::new(Repr::Closed {
            command: command.to_owned(),
        }))
    }

    pub(crate) fn backlog_full(command: &str, endpoint: &str, limit: usize) -> Error {
        Error(Box::new(Repr::BacklogFull {
            command: command.to_owned(),
            endpoint: endpoint.to_owned(),
            limit,
        }))
    }

    pub(crate) fn slow_consumer(channels: String, capacity: usize) -> Error {
        Error(Box::new(Repr::SlowConsumer { channels, capacity }))
    }

    pub(crate) fn pool_exhausted(reason: String) -> Error {
        Error(Box::new(Repr::PoolExhausted { reason }))
    }

    /// Names the command in a type-conversion error raised before the command was known.
    pub(crate) fn with_command(mut self, name: &str) -> Error {
        if let Repr::TypeConversion { command, .. } = &mut *self.0 {
            if command.is_empty() {
                *command = name.to_owned();
            }
        }
        self
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error(Box::new(Repr::Config(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_splits_code_and_message() {
        let e = Error::server(
            "GET",
            &Bytes::from_static(
                b"WRONGTYPE Operation against a key holding the wrong kind of value",
            ),
        );
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(e.server_code(), Some("WRONGTYPE"));
        assert!(
            e.to_string()
                .starts_with("GET: server replied WRONGTYPE: Operation against"),
            "{e}"
        );
    }

    #[test]
    fn server_error_without_code_is_err() {
        let e = Error::server("EVAL", &Bytes::from_static(b"something odd"));
        assert_eq!(e.server_code(), Some("ERR"));
    }

    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn timeout_message_carries_connection_state() {
        let state = ConnectionState {
            endpoint: "127.0.0.1:7000".into(),
            client_name: Some("web".into()),
            connected: true,
            queued: 3,
            in_flight: 17,
            write_buffer: 12,
            read_buffer: 5,
            since_last_read: Some(Duration::from_millis(40)),
            since_last_write: None,
            bytes_out: 100,
            bytes_in: 200,
        };
        let e = Error::timeout(
            "GET",
            Duration::from_millis(51),
            Duration::from_millis(50),
            true,
            state,
        );
        let text = e.to_string();
        for needle in [
            "GET",
            "51 ms",
            "timeout 50 ms",
            "127.0.0.1:7000",
            "web",
            "queued (unwritten) 3",
            "in flight (awaiting reply) 17",
            "write buffer 12 B",
            "last read 40 ms ago",
            "last write never",
            "may have run",
        ] {
            assert!(text.contains(needle), "{needle:?} missing from {text}");
        }
        assert!(e.is_timeout() && e.may_have_run());
    }
}

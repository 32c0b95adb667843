//! Server addresses: the [`Endpoint`] type (TCP host and port, or a Unix
//! socket path) and the parser for the `host`, `host:port`, `[ipv6]` and
//! `[ipv6]:port` forms that both the StackExchange.Redis string and URLs use.

use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// Port used when an endpoint does not name one.
pub(super) const DEFAULT_PORT: u16 = 6379;

/// Where a server listens: a TCP host and port, or a Unix domain socket.
///
/// `Display` prints `host:port`, with IPv6 addresses in brackets
/// (`[::1]:6379`), or the socket's path: the forms
/// [`Config::parse`](super::Config::parse) accepts.
///
/// More transports may be added, so matches need a `_` arm; the accessors
/// answer `None` for what a variant does not have.
///
/// ```
/// use redmux::Endpoint;
///
/// let tcp = Endpoint::tcp("cache1", 6380);
/// assert_eq!((tcp.host(), tcp.port()), (Some("cache1"), Some(6380)));
/// assert_eq!(tcp.to_string(), "cache1:6380");
/// assert_eq!(Endpoint::tcp("::1", 6379).to_string(), "[::1]:6379");
///
/// let unix = Endpoint::unix("/run/redis/redis.sock");
/// assert_eq!(unix.host(), None);
/// assert_eq!(unix.to_string(), "/run/redis/redis.sock");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// A TCP address; with `ssl=true` the connection is TLS over it.
    Tcp {
        /// Host name or IP address, without brackets for IPv6 (`::1`).
        host: String,
        /// TCP port, 6379 unless the configuration named another.
        port: u16,
    },
    /// A Unix domain socket (the server's `unixsocket` setting).
    Unix {
        /// The socket file's path.
        path: PathBuf,
    },
}

impl Endpoint {
    /// A TCP endpoint from a host (name or IP address; IPv6 without
    /// brackets) and a port. No validation is done here.
    ///
    /// ```
    /// let e = redmux::Endpoint::tcp("10.0.0.5", 6379);
    /// assert_eq!(e.to_string(), "10.0.0.5:6379");
    /// ```
    pub fn tcp(host: impl Into<String>, port: u16) -> Self {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    /// The same as [`Endpoint::tcp`], kept for code written before Unix
    /// sockets were supported.
    ///
    /// ```
    /// use redmux::Endpoint;
    /// assert_eq!(Endpoint::new("h", 1), Endpoint::tcp("h", 1));
    /// ```
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Endpoint::tcp(host, port)
    }

    /// A Unix domain socket endpoint. No validation is done here; a
    /// configuration string recognises a socket by its leading `/`, so give
    /// an absolute path if the configuration is printed and parsed again.
    ///
    /// ```
    /// let e = redmux::Endpoint::unix("/var/run/redis.sock");
    /// assert_eq!(e.path(), Some(std::path::Path::new("/var/run/redis.sock")));
    /// ```
    pub fn unix(path: impl Into<PathBuf>) -> Self {
        Endpoint::Unix { path: path.into() }
    }

    /// The host of a TCP endpoint; `None` for a Unix socket.
    ///
    /// ```
    /// assert_eq!(redmux::Endpoint::tcp("h", 1).host(), Some("h"));
    /// assert_eq!(redmux::Endpoint::unix("/s").host(), None);
    /// ```
    pub fn host(&self) -> Option<&str> {
        match self {
            Endpoint::Tcp { host, .. } => Some(host),
            Endpoint::Unix { .. } => None,
        }
    }

    /// The port of a TCP endpoint; `None` for a Unix socket.
    ///
    /// ```
    /// assert_eq!(redmux::Endpoint::tcp("h", 7000).port(), Some(7000));
    /// assert_eq!(redmux::Endpoint::unix("/s").port(), None);
    /// ```
    pub fn port(&self) -> Option<u16> {
        match self {
            Endpoint::Tcp { port, .. } => Some(*port),
            Endpoint::Unix { .. } => None,
        }
    }

    /// The socket path of a Unix endpoint; `None` for TCP.
    ///
    /// ```
    /// use std::path::Path;
    /// assert_eq!(redmux::Endpoint::unix("/s").path(), Some(Path::new("/s")));
    /// assert_eq!(redmux::Endpoint::tcp("h", 1).path(), None);
    /// ```
    pub fn path(&self) -> Option<&Path> {
        match self {
            Endpoint::Tcp { .. } => None,
            Endpoint::Unix { path } => Some(path),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Unix { path } => write!(f, "{}", path.display()),
        }
    }
}

/// Why a `host[:port]` text is not a valid endpoint.
pub(super) enum EndpointProblem {
    EmptyHost,
    BadHost,
    UnclosedBracket,
    AfterBracket,
    UnbracketedIpv6,
    BadPort(String),
}

impl EndpointProblem {
    /// Describes the problem; `echo` controls whether the port text is quoted.
    pub(super) fn describe(&self, echo: bool) -> String {
        match self {
            EndpointProblem::EmptyHost => "the host is empty".to_owned(),
            EndpointProblem::BadHost => {
                "the host contains characters not allowed in a host name or IP address".to_owned()
            }
            EndpointProblem::UnclosedBracket => {
                "an IPv6 address opened with '[' is not closed with ']'".to_owned()
            }
            EndpointProblem::AfterBracket => {
                "after an IPv6 address in brackets only ':port' may follow".to_owned()
            }
            EndpointProblem::UnbracketedIpv6 => {
                "an IPv6 address must be written in brackets, e.g. [::1]:6379".to_owned()
            }
            EndpointProblem::BadPort(port) if echo => {
                format!("the port must be a number from 1 to 65535, got '{port}'")
            }
            EndpointProblem::BadPort(_) => "the port must be a number from 1 to 65535".to_owned(),
        }
    }
}

/// Parses `host`, `host:port`, `[ipv6]` or `[ipv6]:port`.
pub(super) fn parse_endpoint(text: &str) -> Result<Endpoint, EndpointProblem> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let close = rest.find(']').ok_or(EndpointProblem::UnclosedBracket)?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        let port = if after.is_empty() {
            None
        } else {
            Some(
                after
                    .strip_prefix(':')
                    .ok_or(EndpointProblem::AfterBracket)?,
            )
        };
        if host.is_empty() {
            return Err(EndpointProblem::EmptyHost);
        }
        let valid_v6 = host.contains(':')
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":.%-_".contains(&b));
        if !valid_v6 {
            return Err(EndpointProblem::BadHost);
        }
        (host, port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        if port.is_some_and(|p| p.contains(':')) {
            return Err(EndpointProblem::UnbracketedIpv6);
        }
        check_host_name(host)?;
        (host, port)
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => parse_port(p).ok_or_else(|| EndpointProblem::BadPort(p.to_owned()))?,
    };
    Ok(Endpoint::new(host, port))
}

/// Checks a host name or IPv4 address (not an IPv6 one): not empty, and
/// none of the characters that would make it ambiguous in a configuration
/// string, a URL or a log line.
pub(super) fn check_host_name(host: &str) -> Result<(), EndpointProblem> {
    if host.is_empty() {
        return Err(EndpointProblem::EmptyHost);
    }
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || "/?#@[],=\\\"'<>%".contains(c);
    if host.chars().any(bad_char) {
        return Err(EndpointProblem::BadHost);
    }
    Ok(())
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => None,
        Ok(port) => Some(port),
    }
}

pub(super) fn push_endpoint(endpoints: &mut Vec<Endpoint>, endpoint: Endpoint) {
    if !endpoints.contains(&endpoint) {
        endpoints.push(endpoint);
    }
}

pub(super) fn no_endpoint() -> ConfigError {
    ConfigError::new(
        None,
        "no endpoint given; add host:port, e.g. 127.0.0.1:6379",
    )
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{parse_err, parse_ok};
    use crate::config::Endpoint;

    #[test]
    fn endpoint_without_port_defaults_to_6379() {
        assert_eq!(
            parse_ok("cache").endpoints,
            vec![Endpoint::new("cache", 6379)]
        );
    }

    #[test]
    fn endpoint_with_port_uses_it() {
        assert_eq!(
            parse_ok("10.0.0.1:6380").endpoints,
            vec![Endpoint::new("10.0.0.1", 6380)]
        );
    }

    #[test]
    fn ipv6_endpoints_in_brackets_with_and_without_port() {
        let c = parse_ok("[::1]:7000,[fe80::1%eth0]");
        assert_eq!(
            c.endpoints,
            vec![
                Endpoint::new("::1", 7000),
                Endpoint::new("fe80::1%eth0", 6379)
            ]
        );
    }

    #[test]
    fn endpoint_display_brackets_ipv6() {
        assert_eq!(Endpoint::new("::1", 6379).to_string(), "[::1]:6379");
        assert_eq!(
            Endpoint::new("redis.local", 6380).to_string(),
            "redis.local:6380"
        );
    }

    #[test]
    fn bad_ports_are_errors_naming_the_endpoint() {
        for input in [
            "h:0",
            "h:65536",
            "h:abc",
            "h:",
            "h:-1",
            "[::1]:99999",
            "h:+80",
        ] {
            let e = parse_err(input);
            assert_eq!(e.key, None, "{input}");
            assert!(e.message.contains("1 to 65535"), "{e}");
            assert!(e.message.contains(input), "{e}");
        }
        assert_eq!(parse_ok("h:65535").endpoints[0].port(), Some(65535));
        let e = parse_err("redis://h:0");
        assert!(e.message.contains("1 to 65535"), "{e}");
    }

    #[test]
    fn malformed_endpoints_are_errors_saying_what_is_accepted() {
        for input in [
            ":6379", "::1", "[::1", "[::1]x", "[]:1", "a b", "h/x", "[nothex]",
        ] {
            let e = parse_err(input);
            assert_eq!(e.key, None, "{input}");
            assert!(e.message.contains("host:port"), "{input}: {e}");
        }
        assert!(parse_err("::1").message.contains("brackets"));
    }
}

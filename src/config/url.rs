//! The URL form: `redis://[[user][:password]@]host[:port][/db][?key=value&...]`,
//! `rediss://` (the same with TLS on) and `unix:///path/to/redis.sock[?key=value&...]`
//! (also spelled `redis+unix://`).
//!
//! The `url` crate finds the parts; the checks around it keep what it would
//! change silently (see `parse_tcp_url`).
//!
//! The query keys are the option keys of the string form (see `keys`),
//! applied after the credentials and the path, so they win. User, password
//! and query values are percent-decoded; a decoding problem names the part
//! but never quotes password text.

use std::borrow::Cow;

use ::url::{Host, ParseError, Url};
use percent_encoding::percent_decode_str;

use super::endpoint::{check_host_name, EndpointProblem, DEFAULT_PORT};
use super::keys::{apply_option, is_secret_key, non_empty, parse_u32, Draft, SUPPORTED_KEYS};
use super::{Config, ConfigError, Endpoint, Password};

/// Returns the scheme if `s` starts with `scheme://`.
pub(super) fn url_scheme(s: &str) -> Option<&str> {
    let idx = s.find("://")?;
    let scheme = &s[..idx];
    let looks_like_scheme = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    looks_like_scheme.then_some(scheme)
}

/// Parses `text`, a URL whose scheme (as found by [`url_scheme`]) is `scheme`.
pub(super) fn parse_url(scheme: &str, text: &str) -> Result<Config, ConfigError> {
    let mut draft = Draft::new();
    if scheme.eq_ignore_ascii_case("unix") || scheme.eq_ignore_ascii_case("redis+unix") {
        parse_unix_url(&mut draft, text)?;
    } else if scheme.eq_ignore_ascii_case("redis") || scheme.eq_ignore_ascii_case("rediss") {
        draft.set_ssl(scheme.eq_ignore_ascii_case("rediss"));
        parse_tcp_url(&mut draft, scheme, text)?;
    } else {
        return Err(ConfigError::new(
            None,
            format!(
                "unsupported URL scheme '{scheme}://'; use redis://[user:password@]host[:port][/db], \
                 rediss://... (TLS), unix:///path/to/redis.sock, or the host:port,key=value form"
            ),
        ));
    }
    draft.finish()
}

/// `unix:///path/to/redis.sock[?key=value&...]` (also `redis+unix://`).
/// The socket path is percent-decoded; credentials go in the query.
fn parse_unix_url(draft: &mut Draft, text: &str) -> Result<(), ConfigError> {
    let no_authority = || {
        ConfigError::new(
            None,
            "a unix:// URL takes no host or credentials before the path; write \
             unix:///path/to/redis.sock and give credentials as query keys \
             (?user=...&password=...)",
        )
    };
    let url = Url::parse(&keep_tabs_and_newlines(text)).map_err(|e| match e {
        // What the parser says of "unix://user:password@/path".
        ParseError::EmptyHost => no_authority(),
        other => ConfigError::new(
            None,
            format!("the URL could not be parsed ({other}); write unix:///path/to/redis.sock"),
        ),
    })?;
    let has_host = url.host_str().is_some_and(|h| !h.is_empty());
    if has_host || !url.username().is_empty() || url.password().is_some() {
        return Err(no_authority());
    }
    let path = decode(url.path()).map_err(|problem| {
        ConfigError::new(None, format!("the socket path of the URL {problem}"))
    })?;
    if path.is_empty() || path == "/" {
        return Err(ConfigError::new(
            None,
            "the unix:// URL has no socket path; write unix:///path/to/redis.sock",
        ));
    }
    draft.config.endpoints.push(Endpoint::unix(path));
    apply_query(draft, url.query())
}

/// `redis://` and `rediss://`: credentials, host, port, database, options.
fn parse_tcp_url(draft: &mut Draft, scheme: &str, text: &str) -> Result<(), ConfigError> {
    // The authority (userinfo@host:port) ends at the first '/', '?' or '#'.
    // Two checks on the raw text come before the URL parser, because what it
    // would make of these inputs hides the mistake:
    let body = &text[scheme.len() + 3..];
    let authority = &body[..body.find(['/', '?', '#']).unwrap_or(body.len())];
    if body[authority.len()..].contains('@') {
        // Either a password holds a raw '/', '?' or '#' (the parser would
        // take the rest of it for a path), or a query value holds a raw '@'.
        // Quoting any part could reveal the password.
        return Err(ConfigError::new(
            None,
            "the URL has an '@' after the host part; percent-encode '/', '?' and '#' inside the \
             password (%2F, %3F, %23) and '@' inside query values (%40)",
        ));
    }
    let credentials_ended = authority.contains('@');
    if authority.ends_with(':') {
        // The parser reads "host:" as the default port; an empty port is
        // more likely a typo (or a password without its '@').
        return Err(bad_port(credentials_ended));
    }

    let url = Url::parse(&keep_tabs_and_newlines(text))
        .map_err(|e| parse_error(e, authority, credentials_ended))?;

    let config = &mut draft.config;
    let user = decode(url.username()).map_err(|problem| {
        ConfigError::new(Some("user"), format!("the URL user name {problem}"))
    })?;
    config.user = non_empty(&user);
    if let Some(password) = url.password() {
        let password = decode(password).map_err(|problem| {
            ConfigError::new(Some("password"), format!("the URL password {problem}"))
        })?;
        config.password = non_empty(&password).map(Password::new);
    }

    let host = match url.host() {
        Some(Host::Domain(name)) => {
            let name = decode(name).map_err(|_| bad_host(None, credentials_ended))?;
            if name.is_empty() {
                return Err(no_host());
            }
            check_host_name(&name)
                .map_err(|problem| bad_host(Some((&name, &problem)), credentials_ended))?;
            name
        }
        Some(Host::Ipv4(address)) => address.to_string(),
        Some(Host::Ipv6(address)) => address.to_string(),
        None => return Err(no_host()),
    };
    let port = match url.port() {
        None => DEFAULT_PORT,
        Some(0) => return Err(bad_port(credentials_ended)),
        Some(port) => port,
    };
    config.endpoints.push(Endpoint::tcp(host, port));

    // The path, if any, is the database number.
    let path = url.path();
    let db = path.strip_prefix('/').unwrap_or(path);
    if !db.is_empty() {
        config.default_database = parse_u32("defaultDatabase", db, "a database number", true)
            .map_err(|_| {
                ConfigError::new(
                    Some("defaultDatabase"),
                    format!(
                        "the URL path is the database number; expected a whole number \
                         (0 to {}), got '{db}'",
                        u32::MAX
                    ),
                )
            })?;
    }

    apply_query(draft, url.query())
}

/// Applies the query's `key=value` pairs as options (after the credentials
/// and the path, so they win). Split here rather than by the URL parser's
/// form decoder, which would turn '+' into ' ', accept broken escapes and
/// parameters without '=', all silently.
fn apply_query(draft: &mut Draft, query: Option<&str>) -> Result<(), ConfigError> {
    for pair in query.unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = match pair.split_once('=') {
            Some(kv) => kv,
            None => {
                return Err(ConfigError::new(
                    Some(pair),
                    format!("query parameter '{pair}' has no value; write {pair}=value"),
                ))
            }
        };
        let key = decode(raw_key)
            .map_err(|problem| ConfigError::new(None, format!("a URL query key {problem}")))?;
        let secret = is_secret_key(&key);
        let value = decode(raw_value).map_err(|problem| {
            let shown_key = SUPPORTED_KEYS
                .iter()
                .map(|(name, _)| *name)
                .find(|name| name.eq_ignore_ascii_case(key.trim()))
                .unwrap_or(key.trim());
            let message = if secret {
                format!("the URL query value of '{shown_key}' {problem}")
            } else {
                format!("the URL query value '{raw_value}' of '{shown_key}' {problem}")
            };
            ConfigError::new(Some(shown_key), message)
        })?;
        apply_option(draft, &key, &value, true)?;
    }
    Ok(())
}

/// The URL parser drops tabs and line breaks wherever they are; escaping
/// them first keeps them, so a password keeps every character and a host
/// with one is refused, as before the parser was used.
fn keep_tabs_and_newlines(text: &str) -> Cow<'_, str> {
    if text.contains(['\t', '\n', '\r']) {
        Cow::Owned(
            text.replace('\t', "%09")
                .replace('\n', "%0A")
                .replace('\r', "%0D"),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8. Stricter than
/// `percent_decode_str` alone, which passes a '%' without two hex digits
/// through unchanged: a mistyped escape in a password must be an error, not
/// a different password. The error text never contains the input.
fn decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let well_formed = text.match_indices('%').all(|(i, _)| {
        bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    });
    if !well_formed {
        return Err(
            "has invalid percent-encoding: '%' must be followed by two hex digits \
             (write a literal '%' as %25)",
        );
    }
    percent_decode_str(text)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| "is not valid UTF-8 after percent-decoding")
}

fn no_host() -> ConfigError {
    ConfigError::new(
        None,
        "the URL has no host; write redis://host[:port], e.g. redis://127.0.0.1:6379",
    )
}

/// Hint for host and port problems when no '@' ended the credentials:
/// "user:password" written without its '@' reads as host:port, so nothing
/// of it is quoted.
const NOT_SHOWN: &str = "not shown in case it holds credentials; end credentials with '@', \
                         e.g. redis://:password@host";

fn bad_port(credentials_ended: bool) -> ConfigError {
    let hint = if credentials_ended {
        String::new()
    } else {
        format!(" ({NOT_SHOWN})")
    };
    ConfigError::new(
        None,
        format!(
            "the port in the URL is not valid{hint}: the port must be a number from 1 to 65535"
        ),
    )
}

fn bad_host(problem: Option<(&str, &EndpointProblem)>, credentials_ended: bool) -> ConfigError {
    let detail = match problem {
        Some((_, problem)) => problem.describe(false),
        None => "the host has invalid percent-encoding".to_owned(),
    };
    let what = match problem {
        Some((name, _)) if credentials_ended => {
            format!("'{name}' in the URL is not a valid host[:port]")
        }
        _ => format!("the host part of the URL is not a valid host[:port] ({NOT_SHOWN})"),
    };
    ConfigError::new(None, format!("{what}: {detail}"))
}

/// Explains a failure of the URL parser. Its messages never quote the
/// input; neither do these.
fn parse_error(e: ParseError, authority: &str, credentials_ended: bool) -> ConfigError {
    match e {
        ParseError::EmptyHost => no_host(),
        ParseError::InvalidPort => bad_port(credentials_ended),
        ParseError::InvalidIpv6Address if authority.contains('%') => ConfigError::new(
            None,
            "the IPv6 address in the URL is not valid; a zone (%eth0) cannot be given in a URL, \
             use the [fe80::1%eth0]:6379 form instead",
        ),
        ParseError::InvalidIpv6Address => ConfigError::new(
            None,
            "the IPv6 address in the URL is not valid; write it in brackets, e.g. \
             redis://[::1]:6379",
        ),
        ParseError::InvalidDomainCharacter => {
            bad_host(Some(("", &EndpointProblem::BadHost)), false)
        }
        other => ConfigError::new(
            None,
            format!(
                "the URL could not be parsed ({other}); write \
                 redis://[user:password@]host[:port][/db]"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::tests::{ms, parse_err, parse_ok};
    use crate::config::{Endpoint, Password, Protocol};

    #[test]
    fn url_with_host_only_uses_defaults() {
        let c = parse_ok("redis://cache");
        assert_eq!(c.endpoints, vec![Endpoint::new("cache", 6379)]);
        assert_eq!(c.user, None);
        assert_eq!(c.password, None);
        assert_eq!(c.default_database, 0);
    }

    #[test]
    fn url_scheme_is_case_insensitive() {
        let c = parse_ok("REDIS://cache:7000");
        assert_eq!(c.endpoints, vec![Endpoint::new("cache", 7000)]);
    }

    #[test]
    fn url_with_user_and_password() {
        let c = parse_ok("redis://alice:s3cret@cache:6380");
        assert_eq!(c.user.as_deref(), Some("alice"));
        assert_eq!(c.password.as_ref().map(Password::expose), Some("s3cret"));
        assert_eq!(c.endpoints, vec![Endpoint::new("cache", 6380)]);
    }

    #[test]
    fn url_with_password_only() {
        let c = parse_ok("redis://:pw@h");
        assert_eq!(c.user, None);
        assert_eq!(c.password.as_ref().map(Password::expose), Some("pw"));
        assert_eq!(c.endpoints, vec![Endpoint::new("h", 6379)]);
    }

    #[test]
    fn url_with_user_only() {
        let c = parse_ok("redis://bob@h");
        assert_eq!(c.user.as_deref(), Some("bob"));
        assert_eq!(c.password, None);
    }

    #[test]
    fn url_password_may_contain_a_raw_at_sign() {
        let c = parse_ok("redis://u:p@ss@h");
        assert_eq!(c.password.as_ref().map(Password::expose), Some("p@ss"));
        assert_eq!(c.endpoints, vec![Endpoint::new("h", 6379)]);
    }

    #[test]
    fn url_path_is_the_database() {
        assert_eq!(parse_ok("redis://h/3").default_database, 3);
        assert_eq!(parse_ok("redis://h/").default_database, 0);
    }

    #[test]
    fn url_query_parameters_are_option_keys() {
        let c = parse_ok(
            "redis://h:1/2?syncTimeout=100&ABORTCONNECT=false&name=app&protocol=resp3&&keepAlive=5",
        );
        assert_eq!(c.sync_timeout, ms(100));
        assert!(!c.abort_connect);
        assert_eq!(c.client_name.as_deref(), Some("app"));
        assert_eq!(c.protocol, Protocol::Resp3);
        assert_eq!(c.keep_alive, Duration::from_secs(5));
        assert_eq!(c.default_database, 2);
    }

    #[test]
    fn url_query_overrides_path_database() {
        assert_eq!(
            parse_ok("redis://h/2?defaultDatabase=5").default_database,
            5
        );
    }

    #[test]
    fn url_credentials_and_query_values_are_percent_decoded() {
        let c = parse_ok("redis://us%65r:p%40ss%3Aw%2Fo%25rd@h?name=my%20app");
        assert_eq!(c.user.as_deref(), Some("user"));
        assert_eq!(
            c.password.as_ref().map(Password::expose),
            Some("p@ss:w/o%rd")
        );
        assert_eq!(c.client_name.as_deref(), Some("my app"));
    }

    #[test]
    fn url_with_ipv6_host() {
        let c = parse_ok("redis://:pw@[::1]:7000/1");
        assert_eq!(c.endpoints, vec![Endpoint::new("::1", 7000)]);
        assert_eq!(c.default_database, 1);
        assert_eq!(
            parse_ok("redis://[::1]").endpoints,
            vec![Endpoint::new("::1", 6379)]
        );
    }

    #[test]
    fn url_fragment_is_ignored() {
        let c = parse_ok("redis://h:1/4?name=a#name=b&junk");
        assert_eq!(c.default_database, 4);
        assert_eq!(c.client_name.as_deref(), Some("a"));
        assert_eq!(
            parse_ok("redis://h#x").endpoints,
            vec![Endpoint::new("h", 6379)]
        );
    }

    #[test]
    fn unknown_query_key_in_url_is_an_error_naming_the_key() {
        let e = parse_err("redis://h?fooBar=1");
        assert_eq!(e.key.as_deref(), Some("fooBar"));
        assert!(e.message.contains("unknown key"), "{e}");
    }

    #[test]
    fn query_parameter_without_value_is_an_error_naming_it() {
        let e = parse_err("redis://h?allowAdmin");
        assert_eq!(e.key.as_deref(), Some("allowAdmin"));
        assert!(e.message.contains("has no value"), "{e}");
    }

    #[test]
    fn rediss_url_is_the_redis_url_with_tls_on() {
        let c = parse_ok("rediss://alice:pw@h:6380/2?name=n");
        assert!(c.tls.is_some());
        let mut plain = parse_ok("redis://alice:pw@h:6380/2?name=n");
        assert!(plain.tls.is_none());
        plain.tls = c.tls.clone();
        assert!(plain == c);
    }

    #[test]
    fn unix_url_gives_a_socket_endpoint_and_query_options() {
        let c = parse_ok("unix:///run/redis%20x.sock?password=pw&defaultDatabase=2&name=a");
        assert_eq!(c.endpoints, vec![Endpoint::unix("/run/redis x.sock")]);
        assert_eq!(c.password.as_ref().map(Password::expose), Some("pw"));
        assert_eq!(c.default_database, 2);
        assert_eq!(c.client_name.as_deref(), Some("a"));
        let c = parse_ok("REDIS+UNIX:///tmp/r.sock#ignored");
        assert_eq!(c.endpoints, vec![Endpoint::unix("/tmp/r.sock")]);
    }

    #[test]
    fn unix_url_without_path_or_with_a_host_is_an_error() {
        for input in ["unix://", "unix:///", "redis+unix://?name=x"] {
            assert!(
                parse_err(input).message.contains("no socket path"),
                "{input}"
            );
        }
        for input in ["unix://h/tmp/s", "unix://:pw@/tmp/s", "unix://u@h/tmp/s"] {
            let e = parse_err(input);
            assert!(
                e.message.contains("takes no host or credentials"),
                "{input}: {e}"
            );
        }
    }

    #[test]
    fn other_url_schemes_are_errors() {
        let e = parse_err("http://h");
        assert!(
            e.message.contains("unsupported URL scheme 'http://'"),
            "{e}"
        );
    }

    #[test]
    fn url_errors_name_the_key() {
        let e = parse_err("redis://h/abc");
        assert_eq!(e.key.as_deref(), Some("defaultDatabase"));
        assert!(e.message.contains("'abc'"), "{e}");
        assert_eq!(
            parse_err("redis://h/1/2").key.as_deref(),
            Some("defaultDatabase")
        );
        assert_eq!(
            parse_err("redis://h?syncTimeout=x").key.as_deref(),
            Some("syncTimeout")
        );
        assert_eq!(parse_err("redis://us%zzer@h").key.as_deref(), Some("user"));
        assert_eq!(parse_err("redis://h?name=%G0").key.as_deref(), Some("name"));
    }

    #[test]
    fn url_without_host_is_an_error() {
        for input in ["redis://", "redis:///0", "redis://:pw@", "redis://?name=x"] {
            let e = parse_err(input);
            assert!(e.message.contains("no host"), "{input}: {e}");
        }
    }

    #[test]
    fn url_parser_edge_cases_keep_their_earlier_meaning() {
        // Tabs and line breaks are kept in a password, not dropped.
        let c = parse_ok("redis://:p\tw\nx@h");
        assert_eq!(c.password.as_ref().map(Password::expose), Some("p\tw\nx"));
        // ... and refused in a host.
        assert!(parse_err("redis://h\t:1").message.contains("host"));
        // An empty port is an error, not the default port.
        assert!(parse_err("redis://h:").message.contains("1 to 65535"));
        assert!(parse_err("redis://h:65536").message.contains("1 to 65535"));
        // '+' in a query value is a plus sign, not a space.
        let c = parse_ok("redis://h?password=a+b&name=c+d");
        assert_eq!(c.password.as_ref().map(Password::expose), Some("a+b"));
        assert_eq!(c.client_name.as_deref(), Some("c+d"));
        // Non-ASCII host names are taken as written.
        assert_eq!(
            parse_ok("redis://\u{e9}.example").endpoints[0].host(),
            Some("\u{e9}.example")
        );
        // Characters that cannot be in a host are refused.
        for input in [
            "redis://a,b",
            "redis://a=b",
            "redis://ho%st",
            "redis://a%20b",
        ] {
            assert!(parse_err(input).message.contains("host"), "{input}");
        }
    }

    #[test]
    fn url_ipv6_zone_is_refused_with_the_form_that_accepts_it() {
        let e = parse_err("redis://[fe80::1%eth0]:7000");
        assert!(e.message.contains("[fe80::1%eth0]:6379 form"), "{e}");
        assert_eq!(
            parse_ok("[fe80::1%eth0]:7000").endpoints,
            vec![Endpoint::new("fe80::1%eth0", 7000)]
        );
    }
}

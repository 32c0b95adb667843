//! The URL form: `redis://[[user][:password]@]host[:port][/db][?key=value&...]`.
//!
//! The query keys are the option keys of the string form (see `keys`),
//! applied after the credentials and the path, so they win. User, password
//! and query values are percent-decoded; a decoding problem names the part
//! but never quotes password text.

use super::endpoint::parse_endpoint;
use super::keys::{apply_option, is_secret_key, non_empty, parse_u32, SUPPORTED_KEYS};
use super::{Config, ConfigError, Password};

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

pub(super) fn parse_url(scheme: &str, body: &str) -> Result<Config, ConfigError> {
    if scheme.eq_ignore_ascii_case("rediss") {
        return Err(ConfigError::new(
            None,
            "rediss:// (TLS) is not supported yet by redmux; use redis:// for a plain TCP connection",
        ));
    }
    if scheme.eq_ignore_ascii_case("unix") || scheme.eq_ignore_ascii_case("redis+unix") {
        return Err(ConfigError::new(
            None,
            "unix:// (Unix domain sockets) is not supported yet by redmux; use redis://host:port",
        ));
    }
    if !scheme.eq_ignore_ascii_case("redis") {
        return Err(ConfigError::new(
            None,
            format!(
                "unsupported URL scheme '{scheme}://'; use redis://[user:password@]host[:port][/db] \
                 or the host:port,key=value form"
            ),
        ));
    }

    // The authority (userinfo@host:port) ends at the first '/', '?' or '#'.
    let auth_end = body.find(['/', '?', '#']).unwrap_or(body.len());
    let (authority, rest) = body.split_at(auth_end);
    if rest.contains('@') {
        // Either a password holds a raw '/', '?' or '#', or a query value holds
        // a raw '@'. Quoting any part could reveal the password.
        return Err(ConfigError::new(
            None,
            "the URL has an '@' after the host part; percent-encode '/', '?' and '#' inside the \
             password (%2F, %3F, %23) and '@' inside query values (%40)",
        ));
    }
    // Everything after '#' is ignored.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };

    let mut config = Config::default();

    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            let user = percent_decode(user).map_err(|problem| {
                ConfigError::new(Some("user"), format!("the URL user name {problem}"))
            })?;
            config.user = non_empty(&user);
            if let Some(password) = password {
                let password = percent_decode(password).map_err(|problem| {
                    ConfigError::new(Some("password"), format!("the URL password {problem}"))
                })?;
                config.password = non_empty(&password).map(Password);
            }
            host_port
        }
        None => authority,
    };

    if host_port.is_empty() {
        return Err(ConfigError::new(
            None,
            "the URL has no host; write redis://host[:port], e.g. redis://127.0.0.1:6379",
        ));
    }
    let endpoint = parse_endpoint(host_port).map_err(|problem| {
        // Without an '@', "user:password" written without its '@' would land
        // here as host:port, so the text is only quoted when an '@' ended the
        // credentials.
        let echo = authority.contains('@');
        let what = if echo {
            format!("'{host_port}' in the URL is not a valid host[:port]")
        } else {
            "the host part of the URL is not a valid host[:port] (not shown in case it holds \
             credentials; end credentials with '@', e.g. redis://:password@host)"
                .to_owned()
        };
        ConfigError::new(None, format!("{what}: {}", problem.describe(echo)))
    })?;
    config.endpoints.push(endpoint);

    // The path, if any, is the database number.
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

    // Query parameters are the same options as the string form; applied after
    // the path and credentials, so they win.
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
        let key = percent_decode(raw_key)
            .map_err(|problem| ConfigError::new(None, format!("a URL query key {problem}")))?;
        let secret = is_secret_key(&key);
        let value = percent_decode(raw_value).map_err(|problem| {
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
        apply_option(&mut config, &key, &value, true)?;
    }
    Ok(config)
}

/// Decodes `%XX` escapes; the result must be UTF-8. The error text never
/// contains the input.
fn percent_decode(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => {
                    return Err(
                        "has invalid percent-encoding: '%' must be followed by two hex digits \
                         (write a literal '%' as %25)",
                    )
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not valid UTF-8 after percent-decoding")
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
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
    fn rediss_url_is_an_error_saying_tls_is_not_supported_yet() {
        let e = parse_err("rediss://:pw@h:6380");
        assert!(e.message.contains("TLS"), "{e}");
        assert!(e.message.contains("not supported yet"), "{e}");
        assert!(parse_err("REDISS://h").message.contains("TLS"));
    }

    #[test]
    fn unix_url_is_an_error_saying_not_supported_yet() {
        let e = parse_err("unix:///tmp/redis.sock");
        assert!(e.message.contains("not supported yet"), "{e}");
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
}

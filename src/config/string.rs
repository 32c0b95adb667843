//! The StackExchange.Redis form: `host:port,host2,key=value,...`.
//!
//! Tokens are split on `,`; a token starting with `/` is the path of a Unix
//! socket, a token with `=` is an option (see `keys`), any other is a TCP
//! endpoint. A password cannot contain `,` here, so the token
//! after `password=` is treated as a possible password fragment: never
//! quoted in errors, never taken as an endpoint.

use super::endpoint::{no_endpoint, parse_endpoint, push_endpoint};
use super::keys::{apply_option, is_secret_key, Draft, HIDDEN_REASON};
use super::{Config, ConfigError, Endpoint};

pub(super) fn parse_se_string(s: &str) -> Result<Config, ConfigError> {
    let mut draft = Draft::new();
    // A password cannot contain ',' in this form; if it does, the piece after
    // the comma arrives as a token of its own. The token right after a
    // password is therefore never quoted in errors, and may not be an
    // endpoint.
    let mut after_password = false;
    for token in s.split(',') {
        let token = token.trim();
        if token.is_empty() {
            continue;
        }
        let echo = !after_password;
        // A socket path may contain '=', so it is recognised before options.
        let is_path = token.starts_with('/');
        match token.split_once('=') {
            Some((key, value)) if !is_path => {
                apply_option(&mut draft, key, value, echo)?;
                after_password = is_secret_key(key);
            }
            _ if after_password => {
                // Most likely the rest of a password that contains ','. Taking
                // it as a host would send the fragment to DNS and print it in
                // `Debug`, so refuse it without quoting it.
                return Err(ConfigError::new(
                    None,
                    format!(
                        "an endpoint may not directly follow 'password='; list endpoints first \
                         (the item is not shown {HIDDEN_REASON})"
                    ),
                ));
            }
            _ if is_path => push_endpoint(&mut draft.config.endpoints, Endpoint::unix(token)),
            _ => {
                let endpoint = parse_endpoint(token).map_err(|problem| {
                    ConfigError::new(
                        None,
                        format!(
                            "'{token}' is not a valid endpoint: {}; write host, host:port or \
                             [ipv6]:port",
                            problem.describe(true)
                        ),
                    )
                })?;
                push_endpoint(&mut draft.config.endpoints, endpoint);
            }
        }
    }
    if draft.config.endpoints.is_empty() {
        return Err(no_endpoint());
    }
    draft.finish()
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{ms, parse_err, parse_ok};
    use crate::config::Endpoint;

    #[test]
    fn whitespace_around_tokens_keys_and_values_is_trimmed_and_empty_tokens_ignored() {
        let c = parse_ok("  h1:7000 , ,, syncTimeout = 42 ,name = app ,");
        assert_eq!(c.endpoints, vec![Endpoint::new("h1", 7000)]);
        assert_eq!(c.sync_timeout, ms(42));
        assert_eq!(c.client_name.as_deref(), Some("app"));
    }

    #[test]
    fn multiple_endpoints_keep_their_order_and_duplicates_are_dropped() {
        let c = parse_ok("a:1,b,syncTimeout=1,c:3,a:1");
        assert_eq!(
            c.endpoints,
            vec![
                Endpoint::new("a", 1),
                Endpoint::new("b", 6379),
                Endpoint::new("c", 3)
            ]
        );
    }

    #[test]
    fn empty_endpoint_list_is_an_error() {
        for input in ["", "   ", ",,", "syncTimeout=1,name=x"] {
            let e = parse_err(input);
            assert_eq!(e.key, None);
            assert_eq!(
                e.message,
                "no endpoint given; add host:port, e.g. 127.0.0.1:6379"
            );
        }
    }

    #[test]
    fn endpoint_directly_after_password_is_refused_as_a_likely_password_fragment() {
        let e = parse_err("h,password=hun,ter2");
        assert!(
            e.message.contains("may not directly follow 'password='"),
            "{e}"
        );
        let c = parse_ok("h,password=x,name=a,h2");
        assert_eq!(c.endpoints.len(), 2);
    }

    #[test]
    fn a_token_starting_with_a_slash_is_a_unix_socket() {
        let c = parse_ok("/tmp/a=b.sock, h:1 ,/var/run/redis.sock,name=x");
        assert_eq!(
            c.endpoints,
            vec![
                Endpoint::unix("/tmp/a=b.sock"),
                Endpoint::new("h", 1),
                Endpoint::unix("/var/run/redis.sock")
            ]
        );
        assert_eq!(
            c.to_config_string(),
            "/tmp/a=b.sock,h:1,/var/run/redis.sock,name=x"
        );
        let e = parse_err("h,password=hun,/ter2");
        assert!(
            e.message.contains("may not directly follow 'password='"),
            "{e}"
        );
    }
}

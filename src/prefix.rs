//! Key prefixes: `db.with_key_prefix("tenant:42:")`.
//!
//! A prefixed [`Database`](crate::Database) rewrites every command it
//! issues, typed or raw, in a batch, a transaction or a condition: the
//! server's key specs (the foundation's key extractor) say which arguments
//! are keys, and only those get the prefix. Patterns are keys too for the
//! commands that take one (KEYS, SCAN's `MATCH`). A command whose keys
//! cannot all be found (SORT with `BY`/`GET` patterns, a command the table
//! does not know) is refused rather than run unprefixed.
//!
//! On the way back, the prefix is removed from the keys a command returns
//! (KEYS, RANDOMKEY, SCAN pages, LMPOP/ZMPOP's key name, XREAD/XREADGROUP
//! stream names): see [`KeysBack`].
//! RANDOMKEY samples the whole database; a key outside the prefix reads
//! as nil (it is not this handle's to see), so on a shared database it may
//! answer nil while prefixed keys exist.

use std::sync::Arc;

use crate::cmd::Cmd;
use crate::commands::KeysBack;
use crate::error::{Error, Result};
use crate::resp::Value;
use crate::table::KeySearch;

/// Puts `channelPrefix` before the channel of PUBLISH and SPUBLISH (the
/// subscriber puts it before every channel it subscribes to, so both sides
/// meet); every other command is returned as it is.
///
/// ```text
/// PUBLISH news hi  ──channelPrefix=app1:──▶  PUBLISH app1:news hi
/// ```
pub(crate) fn channel(prefix: &[u8], cmd: Cmd) -> Cmd {
    let name = cmd.name();
    let routed = name.eq_ignore_ascii_case("SPUBLISH");
    if !(routed || name.eq_ignore_ascii_case("PUBLISH")) {
        return cmd;
    }
    let args = cmd.args();
    let mut out = Cmd::with_name(cmd.name_cow());
    for (i, arg) in args.iter().enumerate() {
        if i == 0 {
            let mut prefixed = prefix.to_vec();
            prefixed.extend_from_slice(arg);
            if routed {
                out.push_key(&prefixed[..]);
            } else {
                out.push_arg(&prefixed[..]);
            }
        } else {
            out.push_arg(*arg);
        }
    }
    out
}

/// Rewrites `cmd` with `prefix` in front of each key argument.
///
/// # Errors
/// Kind `Refused` when the command's keys cannot all be found.
pub(crate) fn apply(prefix: &[u8], cmd: Cmd) -> Result<Cmd> {
    let name = cmd.name().to_ascii_uppercase();
    let args = cmd.args();
    let mut line: Vec<&[u8]> = Vec::with_capacity(args.len() + 1);
    line.push(name.as_bytes());
    line.extend_from_slice(&args);
    let mut is_key = vec![false; line.len()];
    // A pattern gets the prefix with its glob characters escaped.
    let mut pattern_at = None;
    let mut add_match = false;
    match name.as_str() {
        // A pattern over the keyspace: it matches prefixed names only.
        "KEYS" => pattern_at = Some(1),
        "SCAN" => match pattern_after_match(&line) {
            Some(at) => pattern_at = Some(at),
            None => add_match = true,
        },
        _ => {
            let keys = KeySearch::new()
                .in_args(&line)
                .map_err(|e| refuse(&name, &e.to_string()))?;
            if let Some(why) = keys.incomplete() {
                return Err(refuse(&name, why.reason()));
            }
            for index in keys.indices() {
                if let Some(slot) = is_key.get_mut(index) {
                    *slot = true;
                }
            }
        }
    }
    let mut out = Cmd::with_name(cmd.name_cow());
    let mut joined = Vec::new();
    for (at, (arg, key)) in line.iter().zip(&is_key).enumerate().skip(1) {
        if pattern_at == Some(at) {
            joined.clear();
            joined.extend_from_slice(&escape_glob(prefix));
            joined.extend_from_slice(arg);
            out.push_arg(joined.as_slice());
        } else if *key {
            joined.clear();
            joined.extend_from_slice(prefix);
            joined.extend_from_slice(arg);
            out.push_key(joined.as_slice());
        } else {
            out.push_arg(*arg);
        }
    }
    if add_match {
        joined.clear();
        joined.extend_from_slice(&escape_glob(prefix));
        joined.push(b'*');
        out.push_arg("MATCH");
        out.push_arg(joined.as_slice());
    }
    Ok(out)
}

/// The index of the argument after `MATCH` in a SCAN line, if any.
fn pattern_after_match(line: &[&[u8]]) -> Option<usize> {
    // SCAN cursor [MATCH p] [COUNT n] [TYPE t]: options come in pairs after the cursor.
    let mut at = 2;
    while at + 1 < line.len() {
        if line[at].eq_ignore_ascii_case(b"MATCH") {
            return Some(at + 1);
        }
        at += 2;
    }
    None
}

/// `prefix` with glob metacharacters escaped, so it matches only itself
/// inside a pattern.
pub(crate) fn escape_glob(prefix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 4);
    for &b in prefix {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

fn refuse(name: &str, why: &str) -> Error {
    Error::refused(format!(
        "{name} on a database with a key prefix: cannot tell which arguments are keys ({why}); \
         the command was not sent, since it would run unprefixed. Use a database without a \
         prefix for it, or name the prefixed keys yourself"
    ))
}

/// Where the keys are in a reply to the command `name` sent raw
/// (`execute`/`send`) on a prefixed database.
pub(crate) fn keys_back_of(name: &str) -> KeysBack {
    if name.eq_ignore_ascii_case("KEYS") {
        KeysBack::All
    } else if name.eq_ignore_ascii_case("RANDOMKEY") {
        KeysBack::Random
    } else if name.eq_ignore_ascii_case("LMPOP") || name.eq_ignore_ascii_case("ZMPOP") {
        KeysBack::First
    } else if name.eq_ignore_ascii_case("SCAN") {
        KeysBack::ScanPage
    } else if name.eq_ignore_ascii_case("XREAD") || name.eq_ignore_ascii_case("XREADGROUP") {
        KeysBack::Streams
    } else {
        KeysBack::None
    }
}

/// A prefix to take off the keys of a reply.
#[derive(Debug)]
pub(crate) struct Strip {
    pub(crate) prefix: Arc<[u8]>,
    pub(crate) keys: KeysBack,
}

impl Strip {
    /// The reply with the prefix removed from its keys; keys without it
    /// (which a prefixed database should never see) are left as they are.
    pub(crate) fn apply(&self, mut value: Value) -> Value {
        match (self.keys, &mut value) {
            (KeysBack::None, _) => {}
            (KeysBack::All, keys) => self.all(keys),
            // RANDOMKEY samples the whole database: a key of another
            // namespace is not this handle's to see, so it reads as nil.
            (KeysBack::Random, Value::BulkString(key)) if !key.starts_with(&self.prefix) => {
                return Value::Nil
            }
            (KeysBack::Random, key) => self.one(key),
            // LMPOP/ZMPOP: `[key, items]`.
            (KeysBack::First, Value::Array(items)) => self.first(items),
            // A SCAN page: `[cursor, [keys]]`.
            (KeysBack::ScanPage, Value::Array(items)) if items.len() == 2 => {
                self.all(&mut items[1])
            }
            // XREAD/XREADGROUP: `[[key, entries], …]` or `{key: entries}`.
            (KeysBack::Streams, Value::Array(streams)) => {
                for stream in streams {
                    if let Value::Array(items) = stream {
                        self.first(items);
                    }
                }
            }
            (KeysBack::Streams, Value::Map(streams)) => {
                for (key, _) in streams {
                    self.one(key);
                }
            }
            _ => {}
        }
        value
    }

    fn first(&self, items: &mut [Value]) {
        if let Some(key) = items.first_mut() {
            self.one(key);
        }
    }

    fn all(&self, value: &mut Value) {
        match value {
            Value::Array(items) | Value::Set(items) => items.iter_mut().for_each(|v| self.one(v)),
            other => self.one(other),
        }
    }

    fn one(&self, value: &mut Value) {
        if let Value::BulkString(bytes) = value {
            if bytes.starts_with(&self.prefix) {
                *bytes = bytes.slice(self.prefix.len()..);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cmd: Cmd) -> Vec<String> {
        std::iter::once(cmd.name().to_owned())
            .chain(
                cmd.args()
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned()),
            )
            .collect()
    }

    #[test]
    fn channel_prefix_goes_before_the_published_channel_only() {
        let publish = channel(b"app:", Cmd::new("PUBLISH").arg("news").arg("news"));
        assert_eq!(line(publish), ["PUBLISH", "app:news", "news"]);
        let shard = channel(b"app:", Cmd::new("SPUBLISH").key("s").arg("m"));
        assert_eq!(
            shard.first_key(),
            Some(&b"app:s"[..]),
            "still the routing argument"
        );
        let other = channel(b"app:", Cmd::new("GET").key("news"));
        assert_eq!(line(other), ["GET", "news"]);
    }

    #[test]
    fn only_keys_get_the_prefix() {
        let cmd = Cmd::new("SET").key("k").arg("k").arg("EX").arg(10);
        assert_eq!(
            line(apply(b"t:", cmd).unwrap()),
            ["SET", "t:k", "k", "EX", "10"]
        );
        let cmd = Cmd::new("ZUNIONSTORE")
            .key("d")
            .arg(2)
            .key("a")
            .key("b")
            .arg("WEIGHTS")
            .arg(1)
            .arg(2);
        assert_eq!(
            line(apply(b"t:", cmd).unwrap()),
            ["ZUNIONSTORE", "t:d", "2", "t:a", "t:b", "WEIGHTS", "1", "2"]
        );
        let cmd = Cmd::new("EVAL")
            .arg("return KEYS[1]")
            .arg(1)
            .key("a")
            .arg("a");
        assert_eq!(
            line(apply(b"t:", cmd).unwrap()),
            ["EVAL", "return KEYS[1]", "1", "t:a", "a"]
        );
    }

    #[test]
    fn patterns_are_prefixed_and_scan_gets_a_match() {
        let cmd = Cmd::new("KEYS").arg("user:*");
        assert_eq!(line(apply(b"t:", cmd).unwrap()), ["KEYS", "t:user:*"]);
        let cmd = Cmd::new("SCAN").arg(0).arg("COUNT").arg(10);
        assert_eq!(
            line(apply(b"t*:", cmd).unwrap()),
            ["SCAN", "0", "COUNT", "10", "MATCH", "t\\*:*"]
        );
        let cmd = Cmd::new("SCAN").arg(0).arg("MATCH").arg("a*");
        assert_eq!(
            line(apply(b"t:", cmd).unwrap()),
            ["SCAN", "0", "MATCH", "t:a*"]
        );
    }

    #[test]
    fn unknown_keys_refuse() {
        let cmd = Cmd::new("SORT").key("l").arg("BY").arg("w_*");
        let err = apply(b"t:", cmd).unwrap_err();
        assert!(err.to_string().contains("SORT"), "{err}");
        assert!(apply(b"t:", Cmd::new("NOSUCHCMD").arg("x")).is_err());
    }

    #[test]
    fn strip_takes_the_prefix_off_returned_keys() {
        let strip = Strip {
            prefix: Arc::from(&b"t:"[..]),
            keys: KeysBack::ScanPage,
        };
        let page = Value::Array(vec![
            Value::BulkString("0".into()),
            Value::Array(vec![
                Value::BulkString("t:a".into()),
                Value::BulkString("t:b".into()),
            ]),
        ]);
        let Value::Array(items) = strip.apply(page) else {
            panic!("not an array")
        };
        assert_eq!(
            items[1],
            Value::Array(vec![
                Value::BulkString("a".into()),
                Value::BulkString("b".into())
            ])
        );
    }
}

//! Which commands a shared connection refuses, and why.
//!
//! Every caller of a multiplexer shares one connection. A blocking command
//! (BLPOP waits up to its timeout for data) would stall every other caller's
//! replies behind it; a state-changing command (SELECT, SUBSCRIBE, MULTI, ...)
//! would change what the connection means for everyone else. Both are refused
//! before anything is queued, with an error that says what to use instead.
//! Admin commands are refused unless the configuration has `allowAdmin=true`,
//! as in StackExchange.Redis.
//!
//! The check is case-insensitive. Typed methods never build refused commands,
//! so only [`Database::execute`](crate::Database::execute) and
//! [`Database::send`](crate::Database::send) pay for it.

use crate::error::Error;

const WORK_QUEUE_HINT: &str =
    "use the pub/sub work-queue pattern instead: producers LPUSH the item \
     (fire-and-forget) and PUBLISH a nudge; consumers SUBSCRIBE and RPOP until the list is empty, \
     draining once at start-up (see docs/ARCHITECTURE.md, \"Why blocking commands are refused\")";

/// Blocking commands: each would hold the shared connection until data arrives.
const BLOCKING: &[&str] = &[
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BLMOVE",
    "BLMPOP",
    "BZPOPMIN",
    "BZPOPMAX",
    "BZMPOP",
    "WAIT",
    "WAITAOF",
];

/// Commands that change the connection's state for every caller, with what to do instead.
const STATEFUL: &[(&str, &str)] = &[
    (
        "SUBSCRIBE",
        "pub/sub needs its own connection; a subscriber API is planned",
    ),
    (
        "PSUBSCRIBE",
        "pub/sub needs its own connection; a subscriber API is planned",
    ),
    (
        "SSUBSCRIBE",
        "pub/sub needs its own connection; a subscriber API is planned",
    ),
    (
        "UNSUBSCRIBE",
        "pub/sub needs its own connection; a subscriber API is planned",
    ),
    (
        "PUNSUBSCRIBE",
        "pub/sub needs its own connection; a subscriber API is planned",
    ),
    (
        "SUNSUBSCRIBE",
        "pub/sub needs its own connection; a subscriber API is planned",
    ),
    ("MONITOR", "run redis-cli MONITOR on its own connection"),
    (
        "MULTI",
        "transactions need the transaction API, which queues them atomically",
    ),
    (
        "EXEC",
        "transactions need the transaction API, which queues them atomically",
    ),
    (
        "DISCARD",
        "transactions need the transaction API, which queues them atomically",
    ),
    (
        "WATCH",
        "transactions need the transaction API, which queues them atomically",
    ),
    (
        "UNWATCH",
        "transactions need the transaction API, which queues them atomically",
    ),
    (
        "SELECT",
        "use mux.database(n), which switches database per command",
    ),
    ("QUIT", "use mux.close().await"),
    ("RESET", "use mux.close().await and connect again"),
    ("SYNC", "replication streams cannot share a connection"),
    ("PSYNC", "replication streams cannot share a connection"),
    (
        "HELLO",
        "set protocol=resp3 in the configuration; the handshake sends HELLO",
    ),
    (
        "AUTH",
        "set user and password in the configuration; the handshake sends AUTH",
    ),
    ("READONLY", "replica routing will set this per connection"),
    ("READWRITE", "replica routing will set this per connection"),
];

/// Admin commands, refused unless `allowAdmin=true`. A `None` subcommand list
/// means every form of the command; otherwise only the listed subcommands.
const ADMIN: &[(&str, Option<&[&str]>)] = &[
    ("FLUSHALL", None),
    ("FLUSHDB", None),
    ("DEBUG", None),
    ("SHUTDOWN", None),
    ("SAVE", None),
    ("BGSAVE", None),
    ("BGREWRITEAOF", None),
    ("REPLICAOF", None),
    ("SLAVEOF", None),
    ("FAILOVER", None),
    ("SWAPDB", None),
    ("MIGRATE", None),
    ("MODULE", None),
    ("CONFIG", Some(&["SET", "REWRITE", "RESETSTAT"])),
    (
        "CLIENT",
        Some(&["KILL", "PAUSE", "UNPAUSE", "NO-EVICT", "NO-TOUCH"]),
    ),
    (
        "ACL",
        Some(&["SETUSER", "DELUSER", "LOAD", "SAVE", "DRYRUN"]),
    ),
    ("SCRIPT", Some(&["FLUSH", "KILL"])),
    (
        "FUNCTION",
        Some(&["FLUSH", "DELETE", "KILL", "RESTORE", "LOAD"]),
    ),
    ("LATENCY", Some(&["RESET"])),
    ("SLOWLOG", Some(&["RESET"])),
    ("MEMORY", Some(&["PURGE"])),
    (
        "CLUSTER",
        Some(&[
            "ADDSLOTS",
            "ADDSLOTSRANGE",
            "DELSLOTS",
            "DELSLOTSRANGE",
            "FAILOVER",
            "FORGET",
            "MEET",
            "REPLICATE",
            "RESET",
            "SETSLOT",
            "FLUSHSLOTS",
            "SAVECONFIG",
            "SET-CONFIG-EPOCH",
            "BUMPEPOCH",
        ]),
    ),
];

/// Checks a command built by `execute`; `Ok` if the shared connection may run it.
pub(crate) fn check(name: &str, args: &[&[u8]], allow_admin: bool) -> Result<(), Error> {
    let upper = name.to_ascii_uppercase();
    let sub = args
        .first()
        .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase());
    let sub = sub.as_deref();

    if BLOCKING.contains(&upper.as_str()) || is_blocking_stream_read(&upper, args) {
        return Err(Error::refused(format!(
            "{upper} is a blocking command and is refused on a shared connection: it would stall the replies of \
             every other caller until it returns; {WORK_QUEUE_HINT}"
        )));
    }
    if upper == "CLIENT"
        && matches!(
            sub,
            Some("REPLY") | Some("TRACKING") | Some("SETNAME") | Some("SETINFO")
        )
    {
        let sub = sub.unwrap_or_default();
        return Err(Error::refused(format!(
            "CLIENT {sub} changes the state of the shared connection for every caller and is refused; \
             set client name and options in the configuration"
        )));
    }
    if let Some((_, instead)) = STATEFUL.iter().find(|(n, _)| *n == upper) {
        return Err(Error::refused(format!(
            "{upper} changes the state of the shared connection for every caller and is refused; {instead}"
        )));
    }
    if !allow_admin {
        let admin = ADMIN.iter().any(|(n, subs)| {
            *n == upper
                && match subs {
                    None => true,
                    Some(list) => sub.is_some_and(|s| list.contains(&s)),
                }
        });
        if admin {
            let shown = match sub {
                Some(s) if ADMIN.iter().any(|(n, subs)| *n == upper && subs.is_some()) => {
                    format!("{upper} {s}")
                }
                _ => upper,
            };
            return Err(Error::admin_refused(&shown));
        }
    }
    Ok(())
}

/// XREAD / XREADGROUP block when a `BLOCK` option comes before `STREAMS`
/// (after `STREAMS` come key names, which may be anything, even "block").
fn is_blocking_stream_read(upper: &str, args: &[&[u8]]) -> bool {
    if upper != "XREAD" && upper != "XREADGROUP" {
        return false;
    }
    args.iter()
        .take_while(|a| !a.eq_ignore_ascii_case(b"STREAMS"))
        .any(|a| a.eq_ignore_ascii_case(b"BLOCK"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn kind(name: &str, args: &[&str], admin: bool) -> Option<ErrorKind> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        check(name, &args, admin).err().map(|e| e.kind())
    }

    #[test]
    fn blocking_commands_are_refused_in_any_case() {
        for name in [
            "blpop",
            "BRPOP",
            "BrPopLPush",
            "blmove",
            "BLMPOP",
            "bzpopmin",
            "BZPOPMAX",
            "bzmpop",
            "WAIT",
            "waitaof",
        ] {
            assert_eq!(
                kind(name, &["k", "0"], true),
                Some(ErrorKind::Refused),
                "{name}"
            );
        }
    }

    #[test]
    fn refusal_message_names_command_and_pattern() {
        let err = check("blpop", &[b"q", b"0"], false).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("BLPOP") && text.contains("work-queue") && text.contains("PUBLISH"),
            "{text}"
        );
    }

    #[test]
    fn xread_refused_only_with_block_before_streams() {
        assert_eq!(
            kind("XREAD", &["BLOCK", "0", "STREAMS", "s", "$"], false),
            Some(ErrorKind::Refused)
        );
        assert_eq!(
            kind(
                "xreadgroup",
                &["GROUP", "g", "c", "block", "10", "STREAMS", "s", ">"],
                false
            ),
            Some(ErrorKind::Refused)
        );
        assert_eq!(
            kind("XREAD", &["COUNT", "1", "STREAMS", "block", "0"], false),
            None
        );
    }

    #[test]
    fn state_changing_commands_are_refused() {
        for name in [
            "SUBSCRIBE",
            "psubscribe",
            "MONITOR",
            "multi",
            "EXEC",
            "WATCH",
            "unwatch",
            "DISCARD",
            "select",
            "QUIT",
            "RESET",
            "SYNC",
            "PSYNC",
            "HELLO",
            "AUTH",
        ] {
            assert_eq!(kind(name, &["x"], true), Some(ErrorKind::Refused), "{name}");
        }
        assert_eq!(
            kind("CLIENT", &["reply", "OFF"], true),
            Some(ErrorKind::Refused)
        );
        assert_eq!(kind("CLIENT", &["ID"], false), None);
    }

    #[test]
    fn admin_commands_need_allow_admin() {
        assert_eq!(kind("flushall", &[], false), Some(ErrorKind::AdminRefused));
        assert_eq!(kind("FLUSHDB", &[], false), Some(ErrorKind::AdminRefused));
        assert_eq!(
            kind("config", &["set", "maxmemory", "1"], false),
            Some(ErrorKind::AdminRefused)
        );
        assert_eq!(
            kind("DEBUG", &["SLEEP", "1"], false),
            Some(ErrorKind::AdminRefused)
        );
        assert_eq!(kind("SHUTDOWN", &[], false), Some(ErrorKind::AdminRefused));
        assert_eq!(kind("CONFIG", &["GET", "maxmemory"], false), None);
        assert_eq!(kind("FLUSHALL", &[], true), None);
        let text = check("config", &[b"set"], false).unwrap_err().to_string();
        assert!(
            text.contains("CONFIG SET") && text.contains("allowAdmin=true"),
            "{text}"
        );
    }

    #[test]
    fn ordinary_commands_pass() {
        for name in ["GET", "set", "OBJECT", "LPUSH", "RPOP", "PUBLISH", "XADD"] {
            assert_eq!(kind(name, &["k"], false), None, "{name}");
        }
    }
}

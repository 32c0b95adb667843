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
//! The rules read the [command table](crate::table) first, then add what the
//! server does not say (each list below says why it exists):
//!
//! | refused as      | from the table                        | by hand                                        |
//! |-----------------|---------------------------------------|------------------------------------------------|
//! | blocking        | flag `blocking` (XREAD/XREADGROUP only with `BLOCK` before `STREAMS`) | WAIT, WAITAOF   |
//! | state-changing  | ACL category `@transaction`           | pub/sub, MONITOR, SELECT, HELLO, AUTH, CLIENT REPLY/..., ... |
//! | admin           | flag `admin`, minus read-only introspection (`ALLOWED_ADMIN`) | @dangerous commands the server does not flag admin (`ADMIN`) |
//!
//! A command the table does not know (newer than it, or a module's) meets
//! only the hand-written lists. The check is case-insensitive and allocates
//! only to build a refusal's message. Typed methods never build refused
//! commands, so only [`Database::execute`](crate::Database::execute) and
//! [`Database::send`](crate::Database::send) pay for it.

use crate::error::Error;
use crate::table::{self, AclCategories, CommandInfo, Flags};

const WORK_QUEUE_HINT: &str =
    "use the pub/sub work-queue pattern instead: producers LPUSH the item \
     (fire-and-forget) and PUBLISH a nudge; consumers SUBSCRIBE and pop (LMOVE into a processing list) \
     until the list is empty, draining once at start-up (redmux::queue::WorkQueue does this); or, for the \
     rare caller that must block, lease an exclusive connection with mux.dedicated().await \
     (see docs/WHY_NO_BLPOP.md)";

const PUBSUB_HINT: &str =
    "use mux.subscriber().subscribe([...]), which keeps subscriptions on a connection of their own \
     and restores them after a reconnect";

const TRANSACTION_HINT: &str =
    "transactions need the transaction API, which queues them atomically (db.transaction()); \
     a hand-written WATCH/MULTI/EXEC runs on mux.dedicated().await";

/// Blocking commands the table does not flag `blocking`: WAIT (and WAITAOF,
/// newer than the table) hold the caller until replicas or the AOF
/// acknowledge, up to their timeout.
const BLOCKING: &[&str] = &["WAIT", "WAITAOF"];

/// Commands that change the connection's state for every caller, with what
/// to do instead. MULTI/EXEC/DISCARD/WATCH/UNWATCH come from the table's
/// `@transaction` category.
const STATEFUL: &[(&str, &str)] = &[
    ("SUBSCRIBE", PUBSUB_HINT),
    ("PSUBSCRIBE", PUBSUB_HINT),
    ("SSUBSCRIBE", PUBSUB_HINT),
    ("UNSUBSCRIBE", PUBSUB_HINT),
    ("PUNSUBSCRIBE", PUBSUB_HINT),
    ("SUNSUBSCRIBE", PUBSUB_HINT),
    ("MONITOR", "run redis-cli MONITOR on its own connection"),
    (
        "SELECT",
        "use mux.database(n), which switches database per command (or SELECT on mux.dedicated().await)",
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

/// CLIENT subcommands that change the connection's state for every caller.
const STATEFUL_CLIENT: &[&str] = &["REPLY", "TRACKING", "CACHING", "SETNAME", "SETINFO"];

/// Commands the server flags `admin` that stay allowed without `allowAdmin`:
/// read-only introspection that changes nothing. Each entry: the table's
/// name, a first argument that makes it change something after all (then it
/// is refused), and why it is allowed.
const ALLOWED_ADMIN: &[(&str, Option<&str>, &str)] = &[
    ("config|get", None, "reads settings"),
    ("client|list", None, "lists connections"),
    ("slowlog|get", None, "reads the slow log"),
    ("slowlog|len", None, "counts the slow log"),
    ("latency|doctor", None, "reads the latency report"),
    ("latency|graph", None, "reads a latency graph"),
    ("latency|histogram", None, "reads latency histograms"),
    ("latency|history", None, "reads latency samples"),
    ("latency|latest", None, "reads the latest latency samples"),
    (
        "acl|log",
        Some("RESET"),
        "reads the ACL log (ACL LOG RESET clears it and is refused)",
    ),
    ("acl|users", None, "lists user names"),
    ("acl|list", None, "lists the ACL rules"),
    ("acl|getuser", None, "reads one user's rules"),
    ("cluster|slaves", None, "lists a node's replicas"),
    ("cluster|replicas", None, "lists a node's replicas"),
    (
        "cluster|count-failure-reports",
        None,
        "counts failure reports about a node",
    ),
];

/// Admin commands the server does not flag `admin` (most are only
/// `@dangerous`), refused unless `allowAdmin=true`; also what a command
/// newer than the table meets. A `None` subcommand list means every form of
/// the command; otherwise only the listed subcommands.
const ADMIN: &[(&str, Option<&[&str]>)] = &[
    ("FLUSHALL", None),
    ("FLUSHDB", None),
    ("SWAPDB", None),
    ("MIGRATE", None),
    ("SCRIPT", Some(&["FLUSH", "KILL"])),
    (
        "FUNCTION",
        Some(&["FLUSH", "DELETE", "KILL", "RESTORE", "LOAD"]),
    ),
    ("MEMORY", Some(&["PURGE"])),
    ("CLIENT", Some(&["NO-TOUCH"])),
];

/// Checks a command built by `execute`; `Ok` if the shared connection may run it.
pub(crate) fn check(name: &str, args: &[&[u8]], allow_admin: bool) -> Result<(), Error> {
    let info = resolve(name, args);
    let sub = args.first().copied();

    if is_blocking(name, info, args) {
        return Err(Error::refused(format!(
            "{} is a blocking command and is refused on a shared connection: it would stall the replies of \
             every other caller until it returns; {WORK_QUEUE_HINT}",
            name.to_ascii_uppercase()
        )));
    }
    if name.eq_ignore_ascii_case("CLIENT") {
        if let Some(sub) = sub.filter(|s| {
            STATEFUL_CLIENT
                .iter()
                .any(|c| s.eq_ignore_ascii_case(c.as_bytes()))
        }) {
            return Err(Error::refused(format!(
                "CLIENT {} changes the state of the shared connection for every caller and is refused; \
                 set client name and options in the configuration",
                String::from_utf8_lossy(sub).to_ascii_uppercase()
            )));
        }
    }
    if name.eq_ignore_ascii_case("SCRIPT") && sub.is_some_and(|s| s.eq_ignore_ascii_case(b"DEBUG"))
    {
        return Err(Error::refused(
            "SCRIPT DEBUG turns the shared connection into a Lua debugging session for every caller \
             and is refused; debug scripts with redis-cli --ldb"
                .to_owned(),
        ));
    }
    let instead = STATEFUL
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, instead)| *instead)
        .or_else(|| {
            info.filter(|i| i.acl_categories().contains(AclCategories::TRANSACTION))
                .map(|_| TRANSACTION_HINT)
        });
    if let Some(instead) = instead {
        return Err(Error::refused(format!(
            "{} changes the state of the shared connection for every caller and is refused; {instead}",
            name.to_ascii_uppercase()
        )));
    }
    if !allow_admin {
        if let Some(shown) = admin_name(name, info, args) {
            return Err(Error::admin_refused(&shown));
        }
    }
    Ok(())
}

/// The admin rule alone, for a dedicated connection: blocking and
/// state-changing commands are what it is for, but `allowAdmin` still
/// guards FLUSHALL, SHUTDOWN, CONFIG SET and the like.
pub(crate) fn check_admin(name: &str, args: &[&[u8]], allow_admin: bool) -> Result<(), Error> {
    if !allow_admin {
        if let Some(shown) = admin_name(name, resolve(name, args), args) {
            return Err(Error::admin_refused(&shown));
        }
    }
    Ok(())
}

/// The table's entry for the command line, down to the subcommand if it has
/// one; `None` if the table does not know it (then only the hand-written
/// lists apply).
fn resolve(name: &str, args: &[&[u8]]) -> Option<&'static CommandInfo> {
    if name.contains('|') {
        return None; // "client|list" is a table name, not a command.
    }
    let top = table::lookup(name)?;
    match args.first() {
        Some(sub) if top.is_container() => top.subcommand_bytes(sub),
        _ => Some(top),
    }
}

fn is_blocking(name: &str, info: Option<&CommandInfo>, args: &[&[u8]]) -> bool {
    let flagged = info.is_some_and(|info| {
        info.flags().contains(Flags::BLOCKING)
            && (!matches!(info.name(), "xread" | "xreadgroup") || is_blocking_stream_read(args))
    });
    flagged || BLOCKING.iter().any(|b| b.eq_ignore_ascii_case(name))
}

/// XREAD / XREADGROUP block when a `BLOCK` option comes before `STREAMS`
/// (after `STREAMS` come key names, which may be anything, even "block").
fn is_blocking_stream_read(args: &[&[u8]]) -> bool {
    args.iter()
        .take_while(|a| !a.eq_ignore_ascii_case(b"STREAMS"))
        .any(|a| a.eq_ignore_ascii_case(b"BLOCK"))
}

/// If the command needs `allowAdmin`, how to name it in the refusal
/// (`"FLUSHALL"`, `"CONFIG SET"`).
fn admin_name(name: &str, info: Option<&CommandInfo>, args: &[&[u8]]) -> Option<String> {
    let sub = args.first().copied();
    let shown = |with_sub: bool| match sub {
        Some(s) if with_sub => format!(
            "{} {}",
            name.to_ascii_uppercase(),
            String::from_utf8_lossy(s).to_ascii_uppercase()
        ),
        _ => name.to_ascii_uppercase(),
    };
    if let Some(info) = info.filter(|i| i.flags().contains(Flags::ADMIN)) {
        let allowed = ALLOWED_ADMIN.iter().any(|(allowed, unless, _)| {
            *allowed == info.name()
                && !unless.is_some_and(|word| {
                    args.get(1)
                        .is_some_and(|a| a.eq_ignore_ascii_case(word.as_bytes()))
                })
        });
        if !allowed {
            return Some(shown(info.container().is_some()));
        }
    }
    let (_, subs) = ADMIN.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    match subs {
        None => Some(shown(false)),
        Some(list) => sub
            .filter(|s| list.iter().any(|l| s.eq_ignore_ascii_case(l.as_bytes())))
            .map(|_| shown(true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn kind(name: &str, args: &[&str], admin: bool) -> Option<ErrorKind> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        check(name, &args, admin).err().map(|e| e.kind())
    }

    /// Refused as admin without `allowAdmin`, allowed with it.
    fn assert_admin_only(name: &str, args: &[&str]) {
        assert_eq!(
            kind(name, args, false),
            Some(ErrorKind::AdminRefused),
            "{name} {args:?}"
        );
        assert_eq!(
            kind(name, args, true),
            None,
            "{name} {args:?} with allowAdmin"
        );
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
    fn script_debug_and_client_caching_are_refused_but_other_script_commands_are_not() {
        assert!(check("SCRIPT", &[b"debug", b"yes"], true).is_err());
        assert!(check("client", &[b"CACHING", b"yes"], true).is_err());
        assert!(check("SCRIPT", &[b"EXISTS", b"abc"], false).is_ok());
        assert!(check("SCRIPT", &[b"LOAD", b"return 1"], false).is_ok());
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

    /// Every command line the table describes, as (name, first argument).
    fn table_commands() -> Vec<(&'static str, Option<&'static str>, &'static CommandInfo)> {
        let mut out = Vec::new();
        for info in table::commands() {
            out.push((info.name(), None, info));
            for sub in info.subcommands() {
                let (container, name) = sub.name().split_once('|').unwrap();
                out.push((container, Some(name), sub));
            }
        }
        out
    }

    fn kind_of(name: &str, sub: Option<&str>, extra: &[&str], admin: bool) -> Option<ErrorKind> {
        let mut args: Vec<&str> = sub.into_iter().collect();
        args.extend_from_slice(extra);
        kind(name, &args, admin)
    }

    #[test]
    fn everything_the_table_flags_blocking_is_refused() {
        let mut refused = Vec::new();
        for (name, sub, info) in table_commands() {
            if info.flags().contains(Flags::BLOCKING) {
                let extra: &[&str] = if name.starts_with("xread") {
                    &["BLOCK", "0", "STREAMS", "s", "$"]
                } else {
                    &["k", "0"]
                };
                assert_eq!(
                    kind_of(name, sub, extra, true),
                    Some(ErrorKind::Refused),
                    "{name}"
                );
                refused.push(info.name());
            }
        }
        refused.sort_unstable();
        assert_eq!(
            refused,
            [
                "blmove",
                "blmpop",
                "blpop",
                "brpop",
                "brpoplpush",
                "bzmpop",
                "bzpopmax",
                "bzpopmin",
                "xread",
                "xreadgroup"
            ]
        );
    }

    #[test]
    fn transaction_commands_come_from_the_table() {
        let mut refused = Vec::new();
        for (name, sub, info) in table_commands() {
            if info.acl_categories().contains(AclCategories::TRANSACTION) {
                let err = check(name, &[], true).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Refused, "{name}");
                assert!(err.to_string().contains("transaction API"), "{err}");
                assert!(sub.is_none());
                refused.push(name);
            }
        }
        refused.sort_unstable();
        assert_eq!(refused, ["discard", "exec", "multi", "unwatch", "watch"]);
        for name in refused {
            assert!(
                !STATEFUL.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)),
                "{name} listed twice"
            );
        }
    }

    #[test]
    fn everything_the_table_flags_admin_needs_allow_admin_unless_allowlisted() {
        for (name, sub, info) in table_commands() {
            if !info.flags().contains(Flags::ADMIN) {
                continue;
            }
            let allowlisted = ALLOWED_ADMIN.iter().any(|(n, _, _)| *n == info.name());
            let without = kind_of(name, sub, &["x"], false);
            let with = kind_of(name, sub, &["x"], true);
            if allowlisted {
                assert_eq!(without, None, "{} is read-only introspection", info.name());
            } else if with == Some(ErrorKind::Refused) {
                // MONITOR, SYNC, PSYNC: refused as state-changing either way.
                assert_eq!(without, Some(ErrorKind::Refused), "{}", info.name());
            } else {
                assert_eq!(without, Some(ErrorKind::AdminRefused), "{}", info.name());
                assert_eq!(with, None, "{} with allowAdmin", info.name());
            }
        }
    }

    #[test]
    fn newly_refused_admin_commands() {
        for (name, args) in [
            ("PFDEBUG", &["GETREG", "k"][..]),
            ("pfselftest", &[][..]),
            ("REPLCONF", &["listening-port", "1"][..]),
            ("client", &["UNBLOCK", "7"][..]),
            ("ACL", &["LOG", "reset"][..]),
        ] {
            assert_admin_only(name, args);
        }
        let text = check("client", &[b"unblock", b"7"], false)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("CLIENT UNBLOCK") && text.contains("allowAdmin"),
            "{text}"
        );
    }

    #[test]
    fn read_only_introspection_stays_allowed() {
        for (name, args) in [
            ("CONFIG", &["GET", "maxmemory"][..]),
            ("client", &["list"][..]),
            ("SLOWLOG", &["GET", "10"][..]),
            ("slowlog", &["LEN"][..]),
            ("LATENCY", &["DOCTOR"][..]),
            ("LATENCY", &["LATEST"][..]),
            ("LATENCY", &["HISTOGRAM", "get"][..]),
            ("ACL", &["LOG"][..]),
            ("ACL", &["LOG", "10"][..]),
            ("ACL", &["USERS"][..]),
            ("ACL", &["GETUSER", "default"][..]),
            ("CLUSTER", &["REPLICAS", "id"][..]),
            ("CLUSTER", &["COUNT-FAILURE-REPORTS", "id"][..]),
        ] {
            assert_eq!(kind(name, args, false), None, "{name} {args:?}");
        }
        for (allowed, _, reason) in ALLOWED_ADMIN {
            let info =
                table::lookup(allowed).unwrap_or_else(|| panic!("{allowed} is not in the table"));
            assert!(
                info.flags().contains(Flags::ADMIN),
                "{allowed} is not admin: no need to allow it"
            );
            assert!(!reason.is_empty());
        }
    }

    #[test]
    fn every_command_refused_before_the_table_still_is() {
        // The hand-written admin list as it was before the table.
        for (name, args) in [
            ("FLUSHALL", &[][..]),
            ("FLUSHDB", &[][..]),
            ("DEBUG", &["SLEEP", "0"][..]),
            ("SHUTDOWN", &[][..]),
            ("SAVE", &[][..]),
            ("BGSAVE", &[][..]),
            ("BGREWRITEAOF", &[][..]),
            ("REPLICAOF", &["NO", "ONE"][..]),
            ("SLAVEOF", &["NO", "ONE"][..]),
            ("FAILOVER", &[][..]),
            ("SWAPDB", &["0", "1"][..]),
            ("MIGRATE", &["h", "1", "k", "0", "10"][..]),
            ("MODULE", &["LIST"][..]),
            ("MODULE", &["LOAD", "x.so"][..]),
            ("CONFIG", &["SET", "a", "b"][..]),
            ("CONFIG", &["REWRITE"][..]),
            ("CONFIG", &["RESETSTAT"][..]),
            ("CLIENT", &["KILL", "ID", "1"][..]),
            ("CLIENT", &["PAUSE", "10"][..]),
            ("CLIENT", &["UNPAUSE"][..]),
            ("CLIENT", &["NO-EVICT", "on"][..]),
            ("CLIENT", &["NO-TOUCH", "on"][..]),
            ("ACL", &["SETUSER", "u"][..]),
            ("ACL", &["DELUSER", "u"][..]),
            ("ACL", &["LOAD"][..]),
            ("ACL", &["SAVE"][..]),
            ("ACL", &["DRYRUN", "u", "get"][..]),
            ("SCRIPT", &["FLUSH"][..]),
            ("SCRIPT", &["KILL"][..]),
            ("FUNCTION", &["FLUSH"][..]),
            ("FUNCTION", &["DELETE", "lib"][..]),
            ("FUNCTION", &["KILL"][..]),
            ("FUNCTION", &["RESTORE", "x"][..]),
            ("FUNCTION", &["LOAD", "x"][..]),
            ("LATENCY", &["RESET"][..]),
            ("SLOWLOG", &["RESET"][..]),
            ("MEMORY", &["PURGE"][..]),
            ("CLUSTER", &["ADDSLOTS", "1"][..]),
            ("CLUSTER", &["ADDSLOTSRANGE", "1", "2"][..]),
            ("CLUSTER", &["DELSLOTS", "1"][..]),
            ("CLUSTER", &["DELSLOTSRANGE", "1", "2"][..]),
            ("CLUSTER", &["FAILOVER"][..]),
            ("CLUSTER", &["FORGET", "id"][..]),
            ("CLUSTER", &["MEET", "h", "1"][..]),
            ("CLUSTER", &["REPLICATE", "id"][..]),
            ("CLUSTER", &["RESET"][..]),
            ("CLUSTER", &["SETSLOT", "1", "STABLE"][..]),
            ("CLUSTER", &["FLUSHSLOTS"][..]),
            ("CLUSTER", &["SAVECONFIG"][..]),
            ("CLUSTER", &["SET-CONFIG-EPOCH", "1"][..]),
            ("CLUSTER", &["BUMPEPOCH"][..]),
        ] {
            assert_admin_only(name, args);
        }
    }

    #[test]
    fn hand_written_lists_hold_only_what_the_table_cannot_say() {
        for (name, subs) in ADMIN {
            let forms: Vec<String> = match subs {
                None => vec![name.to_ascii_lowercase()],
                Some(list) => list
                    .iter()
                    .map(|s| format!("{name}|{s}").to_ascii_lowercase())
                    .collect(),
            };
            for form in forms {
                if let Some(info) = table::lookup(&form) {
                    assert!(
                        !info.flags().contains(Flags::ADMIN),
                        "{form} is flagged admin already"
                    );
                }
            }
        }
        for name in BLOCKING {
            if let Some(info) = table::lookup(name) {
                assert!(
                    !info.flags().contains(Flags::BLOCKING),
                    "{name} is flagged blocking already"
                );
            }
        }
    }

    #[test]
    fn commands_unknown_to_the_table_meet_the_hand_written_lists() {
        if table::server_version() == "7.0.15" {
            assert!(table::lookup("WAITAOF").is_none(), "WAITAOF came with 7.2");
        }
        assert_eq!(
            kind("waitaof", &["1", "0", "0"], true),
            Some(ErrorKind::Refused)
        );
        assert_eq!(
            kind("CLIENT", &["no-touch", "on"], false),
            Some(ErrorKind::AdminRefused)
        );
        assert_eq!(kind("MYMODULE.CMD", &["x"], false), None);
        assert_eq!(kind("OBJECT", &["k"], false), None);
        assert_eq!(
            kind("client|kill", &["x"], false),
            None,
            "not a command name on the wire"
        );
    }
}

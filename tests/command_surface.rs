//! Completeness of the typed command surface, checked rather than claimed.
//!
//! The test walks the server's command table (`redmux::table`) and sorts
//! every command and subcommand into one of:
//! - **wrapped**: a typed method builds it (found in the sources of
//!   `src/commands/`, `src/transaction.rs` and `src/script.rs` as
//!   `Cmd::new("NAME")`, with a literal `.arg("SUB")` right after it for a
//!   subcommand);
//! - **not wrapped**, listed below with the reason.
//!
//! It fails when a command is in neither, when a listed command is in fact
//! wrapped (the list went stale), and when a command listed as refused is
//! not refused by the shared connection (checked against a real server).
//! It prints the counts, which the release notes quote.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use redmux::{ErrorKind, Multiplexer};
use support::RedisServer;

/// Why a command has no typed method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Why {
    /// Refused on the shared connection (blocking, or changing its state):
    /// `execute` refuses it too, which the test checks.
    Refused,
    /// Part of the connection's own state, set by the configuration and the
    /// handshake (AUTH, HELLO, CLIENT SETNAME, …); not refused, not wrapped.
    ConnectionState,
    /// Administration, replication or internals that a client library should
    /// not offer as a typed call (SHUTDOWN, DEBUG, MODULE LOAD, SYNC, …).
    AdminOnly,
    /// Cluster management and cluster-internal commands: the cluster layer's
    /// business (topology is discovered by the client).
    Cluster,
    /// Help text (`… HELP`).
    Help,
    /// Covered by another API: the SCAN streams; DISCARD (`Transaction`
    /// never needs it).
    Elsewhere,
}

const NOT_WRAPPED: &[(&str, Why)] = &[
    // Blocking.
    ("BLMOVE", Why::Refused),
    ("BLMPOP", Why::Refused),
    ("BLPOP", Why::Refused),
    ("BRPOP", Why::Refused),
    ("BRPOPLPUSH", Why::Refused),
    ("BZMPOP", Why::Refused),
    ("BZPOPMAX", Why::Refused),
    ("BZPOPMIN", Why::Refused),
    ("WAIT", Why::Refused),
    // Connection state.
    ("SELECT", Why::Refused),
    ("SUBSCRIBE", Why::Refused),
    ("PSUBSCRIBE", Why::Refused),
    ("SSUBSCRIBE", Why::Refused),
    ("UNSUBSCRIBE", Why::Refused),
    ("PUNSUBSCRIBE", Why::Refused),
    ("SUNSUBSCRIBE", Why::Refused),
    ("MONITOR", Why::Refused),
    ("QUIT", Why::Refused),
    ("RESET", Why::Refused),
    ("CLIENT|REPLY", Why::Refused),
    ("CLIENT|TRACKING", Why::Refused),
    ("CLIENT|CACHING", Why::Refused),
    ("SCRIPT|DEBUG", Why::Refused),
    ("READONLY", Why::Refused),
    ("READWRITE", Why::Refused),
    ("AUTH", Why::ConnectionState),
    ("HELLO", Why::ConnectionState),
    ("CLIENT|SETNAME", Why::ConnectionState),
    ("CLIENT|GETREDIR", Why::ConnectionState),
    ("CLIENT|TRACKINGINFO", Why::ConnectionState),
    ("ASKING", Why::Cluster),
    // `Transaction` sends MULTI/EXEC/WATCH/UNWATCH itself (counted as
    // wrapped); it never needs DISCARD, and callers cannot send it.
    ("DISCARD", Why::Elsewhere),
    // Streams of SCAN pages.
    ("SCAN", Why::Elsewhere),
    ("HSCAN", Why::Elsewhere),
    ("SSCAN", Why::Elsewhere),
    ("ZSCAN", Why::Elsewhere),
    // Administration and internals.
    ("SHUTDOWN", Why::AdminOnly),
    ("DEBUG", Why::AdminOnly),
    ("SYNC", Why::AdminOnly),
    ("PSYNC", Why::AdminOnly),
    ("REPLCONF", Why::AdminOnly),
    ("REPLICAOF", Why::AdminOnly),
    ("SLAVEOF", Why::AdminOnly),
    ("FAILOVER", Why::AdminOnly),
    ("MIGRATE", Why::AdminOnly),
    ("RESTORE-ASKING", Why::AdminOnly),
    ("PFDEBUG", Why::AdminOnly),
    ("PFSELFTEST", Why::AdminOnly),
    ("MODULE|LOAD", Why::AdminOnly),
    ("MODULE|LOADEX", Why::AdminOnly),
    ("MODULE|UNLOAD", Why::AdminOnly),
    ("CLIENT|UNBLOCK", Why::AdminOnly),
];

/// Command names the sources build, `NAME` or `NAME|SUB`.
fn wrapped_in_sources() -> BTreeSet<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    // Every file under src/commands, family folders (streams/) included.
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(format!("{root}/src/commands"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/commands") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.push(format!("{root}/src/transaction.rs").into());
    files.push(format!("{root}/src/script.rs").into());
    let mut found = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source file");
        for opener in ["Cmd::new(\"", "Cmd::sized(\""] {
            let mut rest = text.as_str();
            while let Some(at) = rest.find(opener) {
                rest = &rest[at + opener.len()..];
                let Some(end) = rest.find('"') else { break };
                let name = rest[..end].to_ascii_uppercase();
                let after = rest[end..].trim_start_matches(|c: char| c != ')');
                let after = after.get(1..).unwrap_or("").trim_start();
                if let Some(sub) = after.strip_prefix(".arg(\"") {
                    if let Some(sub_end) = sub.find('"') {
                        found.insert(format!("{name}|{}", sub[..sub_end].to_ascii_uppercase()));
                    }
                }
                found.insert(name);
            }
        }
    }
    found
}

/// Every command of the table, subcommands as `NAME|SUB` (their containers
/// are not commands of their own).
fn table_commands() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for info in redmux::table::commands() {
        if info.subcommands().is_empty() {
            out.insert(info.name().to_ascii_uppercase());
        }
        for sub in info.subcommands() {
            out.insert(sub.name().to_ascii_uppercase());
        }
    }
    out
}

#[tokio::test]
async fn every_command_is_wrapped_or_listed_with_its_reason() {
    let wrapped = wrapped_in_sources();
    let listed: BTreeMap<&str, Why> = NOT_WRAPPED.iter().copied().collect();
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for name in table_commands() {
        let is_help = name.ends_with("|HELP");
        let why = listed
            .get(name.as_str())
            .copied()
            .or(is_help.then_some(Why::Help))
            .or(name.starts_with("CLUSTER|").then_some(Why::Cluster));
        match (wrapped.contains(&name), why) {
            (true, None) => *counts.entry("wrapped".into()).or_default() += 1,
            (true, Some(_)) if !is_help => stale.push(name),
            (true, Some(_)) => *counts.entry("wrapped".into()).or_default() += 1,
            (false, Some(why)) => *counts.entry(format!("{why:?}")).or_default() += 1,
            (false, None) => missing.push(name),
        }
    }
    println!(
        "command surface (server {}): {counts:?}",
        redmux::table::server_version()
    );
    assert!(
        missing.is_empty(),
        "commands neither wrapped nor listed as deliberately not wrapped: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "listed as not wrapped but wrapped: {stale:?}"
    );
    for (name, _) in NOT_WRAPPED {
        assert!(
            table_commands().contains(*name),
            "{name} is listed but not in the command table"
        );
    }
}

#[tokio::test]
async fn commands_listed_as_refused_are_refused() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(server.addr().as_str())
        .await
        .expect("connect");
    let db = mux.database(0);
    let mut not_refused = Vec::new();
    for (name, why) in NOT_WRAPPED {
        if *why != Why::Refused {
            continue;
        }
        let mut parts = name.split('|');
        let command = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.chain(["k", "0"]).collect();
        match db.execute::<redmux::Value, _, _>(command, args).await {
            Err(e) if e.kind() == ErrorKind::Refused => {}
            other => not_refused.push(format!("{name}: {other:?}")),
        }
    }
    assert!(
        not_refused.is_empty(),
        "listed as refused but sent: {not_refused:#?}"
    );
}

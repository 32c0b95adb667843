//! The registry: the static table first, then commands learned at run time.
//!
//! The layers that need a command's key specs (key prefixing, cluster slot
//! routing) ask here. A name the generated table has is answered at once
//! without a lock; any other name (a module's command, one added by a newer
//! server) is looked up in the learned map, and if absent there,
//! [`Registry::resolve`] asks the server with `COMMAND INFO <name>` through
//! the public [`Database::execute`], parses the entry, remembers it and
//! returns it. A name the server does not know either is an error and is not
//! remembered, so made-up names cannot grow the map; the map is also capped.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::resp::Value;

use super::generated::COMMANDS;
use super::spec::CommandInfo;
use super::{lookup_in, parse_command_info};

/// Most commands the learned map holds. Only names the server itself knows
/// get in (a few hundred at most, even with modules), so this is a guard
/// against a misbehaving server, not a cache size; past it a lookup still
/// works, it just asks the server again next time.
const MAX_LEARNED: usize = 1024;

/// A command's info, from the static table or learned at run time.
#[derive(Clone, Debug)]
pub(crate) enum Known {
    /// In the generated table.
    Static(&'static CommandInfo),
    /// Learned from `COMMAND INFO`.
    Learned(Arc<CommandInfo>),
}

impl Deref for Known {
    type Target = CommandInfo;
    fn deref(&self) -> &CommandInfo {
        match self {
            Known::Static(info) => info,
            Known::Learned(info) => info,
        }
    }
}

/// The static table plus what was learned from servers.
pub(crate) struct Registry {
    table: &'static [CommandInfo],
    /// Keyed by the lowercase name (`container|sub` for a subcommand).
    learned: RwLock<BTreeMap<String, Arc<CommandInfo>>>,
}

/// The registry of the generated table, shared by the whole process.
pub(crate) static REGISTRY: Registry = Registry::new(COMMANDS);

impl Registry {
    /// A registry over `table` (sorted by name, as the generated one is).
    pub(crate) const fn new(table: &'static [CommandInfo]) -> Registry {
        Registry {
            table,
            learned: RwLock::new(BTreeMap::new()),
        }
    }

    /// The command called `name` (`container|sub` for a subcommand), from
    /// the table or learned before; never asks the server.
    pub(crate) fn get(&self, name: &str) -> Option<Known> {
        if let Some(info) = lookup_in(self.table, name.as_bytes()) {
            return Some(Known::Static(info));
        }
        let key = name.to_ascii_lowercase();
        // A panic elsewhere while holding the lock leaves the map usable.
        let learned = self
            .learned
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        learned.get(&key).cloned().map(Known::Learned)
    }

    /// How many commands were learned.
    #[cfg(test)]
    pub(crate) fn learned_count(&self) -> usize {
        self.learned
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Like [`get`](Registry::get), but a name found nowhere is asked of
    /// the server behind `db` with `COMMAND INFO name`, and remembered.
    ///
    /// # Errors
    /// The server's or connection's error for `COMMAND INFO`; kind `Server`
    /// (not executed) if the server does not know the command either; kind
    /// `TypeConversion` if its reply cannot be read.
    ///
    /// # Cancel safety
    /// Dropping the future loses nothing: the reply is dropped unread, and
    /// the name is asked again next time.
    pub(crate) async fn resolve(&self, db: &Database, name: &str) -> Result<Known> {
        if let Some(known) = self.get(name) {
            return Ok(known);
        }
        let reply: Value = db.execute("COMMAND", ["INFO", name]).await?;
        let entry = match &reply {
            Value::Array(entries) if entries.len() == 1 => &entries[0],
            other => {
                return Err(Error::type_conversion(
                    other.type_name(),
                    "a one-entry COMMAND INFO reply",
                    None,
                )
                .with_command("COMMAND INFO"))
            }
        };
        if entry.is_nil() {
            return Err(Error::server_not_executed(
                name,
                &Bytes::from(format!(
                    "ERR unknown command '{name}': neither the command table nor the server (COMMAND INFO) knows it"
                )),
            ));
        }
        let info = parse_command_info(entry).map_err(|e| {
            Error::type_conversion(
                entry.type_name(),
                "redmux::table::CommandInfo",
                Some(e.to_string()),
            )
            .with_command("COMMAND INFO")
        })?;
        let info = Arc::new(info);
        let mut learned = self
            .learned
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if learned.len() < MAX_LEARNED {
            learned.insert(name.to_ascii_lowercase(), Arc::clone(&info));
        }
        Ok(Known::Learned(info))
    }
}

#[cfg(test)]
#[path = "../../tests/support/mod.rs"]
mod support;

#[cfg(test)]
mod tests {
    use super::support::RedisServer;
    use super::*;
    use crate::table::{keys_in_args, KeySearch};
    use crate::{ErrorKind, Multiplexer};

    /// The static table without GET and OBJECT, for "not in the table" cases.
    fn partial_table() -> &'static [CommandInfo] {
        let start = COMMANDS.partition_point(|c| c.name() < "get");
        // GET is followed by GETBIT ...; keep everything before it and nothing after.
        &COMMANDS[..start]
    }

    async fn check_learning(protocol: &str) {
        let server = RedisServer::start();
        let mux = Multiplexer::connect(format!("{},protocol={protocol}", server.addr()).as_str())
            .await
            .expect("connect");
        let db = mux.database(0);
        let registry = Registry::new(partial_table());
        assert!(
            registry.get("get").is_none(),
            "GET must be missing from the partial table"
        );
        assert!(registry.get("append").is_some());

        let calls = || server.command_calls("command|info");
        let before = calls();
        let get = registry.resolve(&db, "GET").await.expect("learn GET");
        assert!(matches!(get, Known::Learned(_)));
        assert_eq!(calls(), before + 1, "the first lookup asks the server");
        assert_eq!(get.name(), "get");
        let keys = KeySearch::new()
            .with_command(&get)
            .in_args(&["GET", "k"])
            .unwrap();
        assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1]);

        let again = registry.resolve(&db, "get").await.expect("GET again");
        assert!(matches!(again, Known::Learned(_)));
        assert_eq!(
            calls(),
            before + 1,
            "the second lookup sends no COMMAND INFO"
        );
        assert_eq!(registry.learned_count(), 1);

        // A subcommand whose container is missing too is learned by its full name.
        let usage = registry
            .resolve(&db, "object|encoding")
            .await
            .expect("learn OBJECT ENCODING");
        assert_eq!(usage.name(), "object|encoding");
        let keys = KeySearch::new()
            .with_command(&usage)
            .in_args(&["OBJECT", "ENCODING", "k"])
            .unwrap();
        assert_eq!(keys.indices().collect::<Vec<_>>(), vec![2]);

        // What the server learns must equal the static table, apart from
        // the two fields only COMMAND DOCS gives.
        for name in ["get", "object|encoding"] {
            let mut expected = crate::table::lookup(name)
                .expect("in the full table")
                .clone();
            expected.group = None;
            expected.since = None;
            assert_eq!(*registry.get(name).expect("learned"), expected, "{name}");
        }

        // A name nobody knows: an error, not remembered, asked again next time.
        let before = calls();
        let err = registry.resolve(&db, "nosuch.command").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(!err.may_have_run());
        assert!(
            err.to_string().contains("unknown command 'nosuch.command'"),
            "{err}"
        );
        assert!(registry.resolve(&db, "nosuch.command").await.is_err());
        assert_eq!(calls(), before + 2);
        assert_eq!(registry.learned_count(), 2);

        // In the static table: answered without the server.
        let before = calls();
        assert!(matches!(
            registry.resolve(&db, "APPEND").await,
            Ok(Known::Static(_))
        ));
        assert_eq!(calls(), before);
        assert!(
            keys_in_args(&["GET", "k"]).is_ok(),
            "the global table is untouched"
        );
    }

    #[tokio::test]
    async fn unknown_commands_are_learned_once_over_resp2() {
        check_learning("resp2").await;
    }

    #[tokio::test]
    async fn unknown_commands_are_learned_once_over_resp3() {
        check_learning("resp3").await;
    }

    #[tokio::test]
    async fn an_empty_table_learns_everything_from_the_server() {
        static EMPTY: Registry = Registry::new(&[]);
        let server = RedisServer::start();
        let mux = Multiplexer::connect(server.addr().as_str())
            .await
            .expect("connect");
        let db = mux.database(0);
        let zadd = EMPTY.resolve(&db, "zadd").await.expect("learn ZADD");
        assert_eq!(zadd.arity(), -4);
        let client = EMPTY.resolve(&db, "CLIENT").await.expect("learn CLIENT");
        assert!(
            client.subcommand("list").is_some(),
            "subcommands come with the container"
        );
        assert!(EMPTY.get("ZADD").is_some());
    }
}

//! The command table: what every Redis command is, taken from the server itself.
//!
//! One source of truth for everything in redmux that needs to know about a
//! command rather than just send it. A running `redis-server` describes its
//! commands (`COMMAND INFO`, `COMMAND DOCS`); a test dumps that description
//! to `src/table/commands.json` and generates `src/table/generated.rs` from
//! it, so the build needs neither a server nor a build script (see
//! `docs/COMMAND_TABLE.md`). On top of the table:
//!
//! ```text
//!  generated.rs (static, 7.0.15) ──┐
//!  COMMAND INFO at run time ───────┼──▶ CommandInfo ──▶ keys.rs: which arguments are keys
//!   (parse_command_info, learned)  ┘        │                (prefixing, slot routing)
//!                                           └────────▶ cmd/policy.rs: refuse blocking,
//!                                                      state-changing, admin commands
//! ```
//!
//! * [`lookup`] finds a command (or `container|sub`) by name, ignoring ASCII
//!   case, without allocating; [`commands`] lists them all.
//! * [`keys_in_args`] and [`keys_in_encoded`] find the keys of a concrete
//!   command line with Redis's own key-spec algorithm; [`KeySearch`] does
//!   the same with options or a command learned at run time.
//! * [`parse_command_info`] reads one `COMMAND INFO` entry (RESP2 or RESP3)
//!   into the same [`CommandInfo`] type, for commands the static table lacks.
//!
//! ```
//! use redmux::table::{self, Flags};
//! let get = table::lookup("get").unwrap();
//! assert_eq!(get.arity(), 2);
//! assert!(get.flags().contains(Flags::READONLY | Flags::FAST));
//! assert_eq!(get.group(), Some("string"));
//!
//! let keys = table::keys_in_args(&["MSET", "a", "1", "b", "2"]).unwrap();
//! assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 3]);
//! ```

#[rustfmt::skip]
mod generated;
mod keys;
mod parse;
pub(crate) mod registry;
mod small;
mod spec;

pub use keys::{
    keys_in_args, keys_in_encoded, Incomplete, KeyArg, KeyError, KeySearch, Keys, NumKeysProblem,
};
pub use parse::{parse_command_info, ParseError};
pub use spec::{AclCategories, BeginSearch, CommandInfo, FindKeys, Flags, KeySpec, KeySpecFlags};

use spec::cmp_ignore_ascii_case;

/// The version of the redis-server the static table was generated from.
///
/// ```
/// assert!(redmux::table::server_version().starts_with("7."));
/// ```
pub fn server_version() -> &'static str {
    generated::SERVER_VERSION
}

/// Every top-level command of the static table, sorted by name; their
/// subcommands are reached through [`CommandInfo::subcommands`].
///
/// ```
/// let all: Vec<_> = redmux::table::commands().collect();
/// assert!(all.len() > 200);
/// assert!(all.windows(2).all(|w| w[0].name() < w[1].name()));
/// ```
pub fn commands() -> impl Iterator<Item = &'static CommandInfo> {
    generated::COMMANDS.iter()
}

/// The command called `name` in the static table, ignoring ASCII case and
/// without allocating; `container|sub` (`"CLIENT|LIST"`) finds a subcommand.
///
/// ```
/// use redmux::table;
/// assert_eq!(table::lookup("ZADD").unwrap().name(), "zadd");
/// assert_eq!(table::lookup("object|ENCODING").unwrap().name(), "object|encoding");
/// assert!(table::lookup("NOSUCHCOMMAND").is_none());
/// ```
pub fn lookup(name: &str) -> Option<&'static CommandInfo> {
    lookup_in(generated::COMMANDS, name.as_bytes())
}

/// [`lookup`] over any sorted table, by bytes (a command name on the wire
/// need not be UTF-8).
pub(crate) fn lookup_in<'t>(table: &'t [CommandInfo], name: &[u8]) -> Option<&'t CommandInfo> {
    let (top, sub) = match name.iter().position(|&b| b == b'|') {
        Some(bar) => (&name[..bar], Some(&name[bar + 1..])),
        None => (name, None),
    };
    let found = table
        .binary_search_by(|info| cmp_ignore_ascii_case(info.name.as_bytes(), top))
        .ok()
        .and_then(|i| table.get(i))?;
    match sub {
        None => Some(found),
        Some(sub) => found.subcommand_bytes(sub),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_finds_subcommands() {
        let get = lookup("gEt").expect("GET is in the table");
        assert_eq!(get.name(), "get");
        assert_eq!(lookup("GET"), Some(get));
        let list = lookup("Client|List").expect("CLIENT LIST is in the table");
        assert_eq!(list.name(), "client|list");
        assert_eq!(
            lookup("client").and_then(|c| c.subcommand("list")),
            Some(list)
        );
        assert!(lookup("client|nope").is_none());
        assert!(lookup("").is_none());
        assert!(lookup("|").is_none());
        assert!(lookup("get|x").is_none());
    }

    #[test]
    fn the_table_is_sorted_and_complete() {
        let names: Vec<&str> = commands().map(CommandInfo::name).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "top level sorted");
        let total: usize = commands().map(|c| 1 + c.subcommands().len()).sum();
        if server_version() == "7.0.15" {
            // What redis-server 7.0.15 reports; another version has other counts.
            assert_eq!((names.len(), total), (240, 366));
        }
        for info in commands() {
            assert_eq!(info.name(), info.name().to_ascii_lowercase());
            let subs = info.subcommands();
            assert!(
                subs.windows(2).all(|w| w[0].name() < w[1].name()),
                "{}",
                info.name()
            );
            for sub in subs {
                assert_eq!(sub.container(), Some(info.name()));
                assert_eq!(lookup(sub.name()), Some(sub));
            }
            assert_eq!(lookup(&info.name().to_ascii_uppercase()), Some(info));
        }
    }
}

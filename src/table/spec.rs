//! The types of the command table: what one command is, as the server says.
//!
//! These are the nouns the rest of [`table`](crate::table) works with. The
//! generated static table (`generated.rs`) is built from them at compile
//! time with borrowed data; commands learned at run time from `COMMAND INFO`
//! ([`parse_command_info`](crate::table::parse_command_info)) use the same
//! types with owned data, which is why the text and list fields are `Cow`s.
//! The key extractor (`keys.rs`) reads [`KeySpec`]s; the refusal policy
//! reads [`Flags`] and [`AclCategories`].

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{BitOr, BitOrAssign};

/// Declares a bitset over a fixed list of names the server uses, with
/// `const` members, name look-up both ways, `|`, and a `Debug` that prints
/// the names.
macro_rules! bitset {
    (
        $(#[$meta:meta])*
        $name:ident($repr:ty) {
            $( $(#[$fmeta:meta])* $konst:ident = $bit:expr => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name($repr);

        impl $name {
            /// Nothing set.
            pub const EMPTY: $name = $name(0);
            $( $(#[$fmeta])* pub const $konst: $name = $name(1 << $bit); )*

            /// Every member with the name the server uses for it.
            const NAMES: &'static [($name, &'static str)] = &[ $( ($name::$konst, $text), )* ];

            /// The union of `members` (usable in `const` items, which is how
            /// the generated table spells its sets).
            pub const fn of(members: &[$name]) -> $name {
                let mut bits = 0;
                let mut i = 0;
                while i < members.len() {
                    bits |= members[i].0;
                    i += 1;
                }
                $name(bits)
            }

            /// True if every member of `other` is also in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// True if `self` and `other` share a member.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// True if nothing is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The raw bits (their positions are redmux's, not the server's).
            pub const fn bits(self) -> $repr {
                self.0
            }

            /// The member the server calls `name` (ASCII case ignored), if any.
            pub fn from_name(name: &str) -> Option<$name> {
                Self::NAMES
                    .iter()
                    .find(|(_, text)| text.eq_ignore_ascii_case(name))
                    .map(|(member, _)| *member)
            }

            /// The server's names of the members that are set, in a fixed order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                Self::NAMES
                    .iter()
                    .filter(move |(member, _)| self.contains(*member))
                    .map(|(_, text)| *text)
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: $name) {
                self.0 |= rhs.0;
            }
        }

        impl fmt::Debug for $name {
            /// The names joined with `|`, or `EMPTY`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut any = false;
                for name in self.names() {
                    if any {
                        f.write_str("|")?;
                    }
                    f.write_str(name)?;
                    any = true;
                }
                if !any {
                    f.write_str("EMPTY")?;
                }
                Ok(())
            }
        }
    };
}

bitset! {
    /// The server's flags for a command (`COMMAND INFO`, third field).
    ///
    /// Not to be confused with [`CommandFlags`](crate::CommandFlags), which
    /// are options a caller gives one call. Five flags exist in Redis but are
    /// hidden by `COMMAND INFO` (as of 7.x): `may_replicate`, `sentinel`,
    /// `only_sentinel`, `protected` and `touches_arbitrary_keys`; the
    /// generated table never has them set, but the type can name them.
    ///
    /// ```
    /// use redmux::table::{self, Flags};
    /// let blpop = table::lookup("blpop").unwrap();
    /// assert!(blpop.flags().contains(Flags::WRITE | Flags::BLOCKING));
    /// assert_eq!(Flags::from_name("denyoom"), Some(Flags::DENYOOM));
    /// assert_eq!(format!("{:?}", Flags::READONLY | Flags::FAST), "readonly|fast");
    /// ```
    Flags(u32) {
        /// May modify the dataset.
        WRITE = 0 => "write",
        /// Only reads data.
        READONLY = 1 => "readonly",
        /// May use more memory; refused when `maxmemory` is reached.
        DENYOOM = 2 => "denyoom",
        /// Implemented by a module.
        MODULE = 3 => "module",
        /// Administrative: may read or change the server's configuration or state.
        ADMIN = 4 => "admin",
        /// Publish/subscribe.
        PUBSUB = 5 => "pubsub",
        /// Not allowed in scripts.
        NOSCRIPT = 6 => "noscript",
        /// May block the client.
        BLOCKING = 7 => "blocking",
        /// Allowed while the database is loading.
        LOADING = 8 => "loading",
        /// Allowed on a replica with stale data.
        STALE = 9 => "stale",
        /// Not shown by MONITOR.
        SKIP_MONITOR = 10 => "skip_monitor",
        /// Not shown in the slow log.
        SKIP_SLOWLOG = 11 => "skip_slowlog",
        /// Allowed on an importing slot after ASKING (cluster).
        ASKING = 12 => "asking",
        /// O(1) or O(log N); never delays the server.
        FAST = 13 => "fast",
        /// Allowed before authentication.
        NO_AUTH = 14 => "no_auth",
        /// May replicate even though it is not a write (hidden by COMMAND INFO).
        MAY_REPLICATE = 15 => "may_replicate",
        /// Available in Sentinel mode (hidden by COMMAND INFO).
        SENTINEL = 16 => "sentinel",
        /// Available only in Sentinel mode (hidden by COMMAND INFO).
        ONLY_SENTINEL = 17 => "only_sentinel",
        /// May be called with no key even though it takes keys (EVAL with 0 keys).
        NO_MANDATORY_KEYS = 18 => "no_mandatory_keys",
        /// Disabled unless enabled in the configuration (hidden by COMMAND INFO).
        PROTECTED = 19 => "protected",
        /// Not allowed during an asynchronous load.
        NO_ASYNC_LOADING = 20 => "no_async_loading",
        /// Not allowed inside MULTI.
        NO_MULTI = 21 => "no_multi",
        /// Key positions depend on the arguments (keyword or numkeys).
        MOVABLEKEYS = 22 => "movablekeys",
        /// Allowed while a script or function is busy.
        ALLOW_BUSY = 23 => "allow_busy",
        /// May touch keys it does not name (hidden by COMMAND INFO).
        TOUCHES_ARBITRARY_KEYS = 24 => "touches_arbitrary_keys",
    }
}

bitset! {
    /// The ACL categories of a command (`COMMAND INFO`, seventh field, without the `@`).
    ///
    /// ```
    /// use redmux::table::{self, AclCategories};
    /// let exec = table::lookup("EXEC").unwrap();
    /// assert!(exec.acl_categories().contains(AclCategories::TRANSACTION));
    /// assert_eq!(AclCategories::from_name("@string"), None); // names come without '@'
    /// assert_eq!(AclCategories::from_name("string"), Some(AclCategories::STRING));
    /// ```
    AclCategories(u32) {
        /// Touches keys or metadata generically.
        KEYSPACE = 0 => "keyspace",
        /// Reads from keys.
        READ = 1 => "read",
        /// Writes to keys.
        WRITE = 2 => "write",
        /// Sets.
        SET = 3 => "set",
        /// Sorted sets.
        SORTEDSET = 4 => "sortedset",
        /// Lists.
        LIST = 5 => "list",
        /// Hashes.
        HASH = 6 => "hash",
        /// Strings.
        STRING = 7 => "string",
        /// Bitmaps.
        BITMAP = 8 => "bitmap",
        /// HyperLogLogs.
        HYPERLOGLOG = 9 => "hyperloglog",
        /// Geospatial indexes.
        GEO = 10 => "geo",
        /// Streams.
        STREAM = 11 => "stream",
        /// Publish/subscribe.
        PUBSUB = 12 => "pubsub",
        /// Administration.
        ADMIN = 13 => "admin",
        /// O(1) commands.
        FAST = 14 => "fast",
        /// Everything not fast.
        SLOW = 15 => "slow",
        /// May block the connection.
        BLOCKING = 16 => "blocking",
        /// Potentially dangerous.
        DANGEROUS = 17 => "dangerous",
        /// Connection management.
        CONNECTION = 18 => "connection",
        /// MULTI/EXEC/DISCARD/WATCH/UNWATCH.
        TRANSACTION = 19 => "transaction",
        /// Scripting and functions.
        SCRIPTING = 20 => "scripting",
    }
}

bitset! {
    /// How a command uses the keys one [`KeySpec`] finds.
    ///
    /// `RO`/`RW`/`OW`/`RM` say what happens to the key as a whole (read only,
    /// read-write, overwrite, remove); `access`/`update`/`insert`/`delete`
    /// refine it. `not_key` marks arguments that are not keys but hash like
    /// them (shard channels); `incomplete` marks a spec that may miss keys;
    /// `variable_flags` says the flags depend on the arguments.
    KeySpecFlags(u16) {
        /// Read only.
        RO = 0 => "RO",
        /// Read and write.
        RW = 1 => "RW",
        /// Overwrite without reading.
        OW = 2 => "OW",
        /// Remove the key.
        RM = 3 => "RM",
        /// Returns, copies or uses the user data.
        ACCESS = 4 => "access",
        /// Updates data already there.
        UPDATE = 5 => "update",
        /// Only adds data.
        INSERT = 6 => "insert",
        /// Deletes data from the value.
        DELETE = 7 => "delete",
        /// Not a key, but routed like one (a shard channel).
        NOT_KEY = 8 => "not_key",
        /// The spec may not find every key.
        INCOMPLETE = 9 => "incomplete",
        /// The flags depend on the arguments.
        VARIABLE_FLAGS = 10 => "variable_flags",
    }
}

/// Where the search for a key spec's keys starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BeginSearch {
    /// At a fixed argument index (0 is the command name).
    Index {
        /// The index.
        pos: i32,
    },
    /// Right after a keyword such as `STREAMS` or `STORE`.
    Keyword {
        /// The keyword, matched ignoring ASCII case.
        keyword: Cow<'static, str>,
        /// Where to start looking: a positive index searches forward from
        /// there; a negative one searches backward from `argc + startfrom`.
        start_from: i32,
    },
    /// The server cannot describe it (SORT's BY/GET and STORE).
    Unknown,
}

/// How to find the keys once the search has begun at index `first`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindKeys {
    /// A run of keys: from `first` to `first + last_key` (or, if negative,
    /// to `argc + last_key`), every `key_step` arguments.
    Range {
        /// The last key, relative to `first` if `>= 0`, else to the end.
        last_key: i32,
        /// Distance between keys (2 for `MSET k v k v`).
        key_step: i32,
        /// With `last_key == -1`, only `1/limit` of the remaining arguments
        /// are keys (2 for XREAD's `STREAMS k1 k2 id1 id2`); 0 means all.
        limit: i32,
    },
    /// The argument at `first + key_num_idx` says how many keys follow,
    /// starting at `first + first_key`.
    KeyNum {
        /// Where the count is, relative to `first`.
        key_num_idx: i32,
        /// Where the first key is, relative to `first`.
        first_key: i32,
        /// Distance between keys.
        key_step: i32,
    },
    /// The server cannot describe it.
    Unknown,
}

/// One key specification: a rule that finds some of a command's keys.
///
/// ```
/// use redmux::table::{self, BeginSearch, FindKeys};
/// let eval = table::lookup("EVAL").unwrap();
/// let spec = &eval.key_specs()[0];
/// assert_eq!(spec.begin_search, BeginSearch::Index { pos: 2 });
/// assert_eq!(spec.find_keys, FindKeys::KeyNum { key_num_idx: 0, first_key: 1, key_step: 1 });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeySpec {
    /// How the command uses these keys.
    pub flags: KeySpecFlags,
    /// Where the search starts.
    pub begin_search: BeginSearch,
    /// How the keys are found from there.
    pub find_keys: FindKeys,
}

impl KeySpec {
    /// A spec from its three parts.
    pub const fn new(
        flags: KeySpecFlags,
        begin_search: BeginSearch,
        find_keys: FindKeys,
    ) -> KeySpec {
        KeySpec {
            flags,
            begin_search,
            find_keys,
        }
    }

    /// True if the spec finds real keys (it is not marked `not_key`).
    pub const fn is_key(&self) -> bool {
        !self.flags.contains(KeySpecFlags::NOT_KEY)
    }
}

/// Everything the table knows about one command or subcommand.
///
/// Top-level commands come from [`lookup`](crate::table::lookup); their
/// subcommands (`CLIENT LIST` is `client|list`) from
/// [`subcommand`](CommandInfo::subcommand). Commands the static table lacks
/// can be read from a server's `COMMAND INFO` reply with
/// [`parse_command_info`](crate::table::parse_command_info).
///
/// ```
/// use redmux::table::{self, Flags};
/// let client = table::lookup("client").unwrap();
/// let list = client.subcommand("LIST").unwrap();
/// assert_eq!(list.name(), "client|list");
/// assert_eq!(list.container(), Some("client"));
/// assert!(list.flags().contains(Flags::ADMIN));
/// assert_eq!(table::lookup("CLIENT|list"), Some(list));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CommandInfo {
    /// Lowercase, `container|sub` for a subcommand.
    pub(crate) name: Cow<'static, str>,
    pub(crate) arity: i32,
    pub(crate) flags: Flags,
    /// The legacy (first, last, step) key range of `COMMAND INFO`.
    pub(crate) legacy_keys: (i32, i32, i32),
    pub(crate) acl: AclCategories,
    pub(crate) tips: Cow<'static, [Cow<'static, str>]>,
    pub(crate) key_specs: Cow<'static, [KeySpec]>,
    /// Sorted by name.
    pub(crate) subcommands: Cow<'static, [CommandInfo]>,
    pub(crate) group: Option<Cow<'static, str>>,
    pub(crate) since: Option<Cow<'static, str>>,
}

impl CommandInfo {
    /// The server's name for it, lowercase; `container|sub` for a subcommand.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// For a subcommand, the command that holds it (`client` for `client|list`).
    pub fn container(&self) -> Option<&str> {
        self.name.split_once('|').map(|(container, _)| container)
    }

    /// The arity: the exact argument count (name included) if positive, the
    /// minimum count if negative (`-2` means "at least two").
    pub fn arity(&self) -> i32 {
        self.arity
    }

    /// True if a command line with `argc` arguments (name included, and for a
    /// subcommand the container's name too) fits the arity.
    ///
    /// ```
    /// let get = redmux::table::lookup("GET").unwrap();
    /// assert!(get.accepts_arg_count(2) && !get.accepts_arg_count(3));
    /// ```
    pub fn accepts_arg_count(&self, argc: usize) -> bool {
        let arity = i64::from(self.arity);
        let argc = i64::try_from(argc).unwrap_or(i64::MAX);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// The server's flags for it.
    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// Its ACL categories.
    pub fn acl_categories(&self) -> AclCategories {
        self.acl
    }

    /// The legacy `(first, last, step)` key range of `COMMAND INFO`; the key
    /// specs say more and are what the key extractor uses.
    pub fn legacy_key_range(&self) -> (i32, i32, i32) {
        self.legacy_keys
    }

    /// Its command tips (`request_policy:all_shards`, `nondeterministic_output`, ...).
    pub fn tips(&self) -> impl Iterator<Item = &str> {
        self.tips.iter().map(|tip| tip.as_ref())
    }

    /// Its key specs, in the server's order (argument docs refer to them by index).
    pub fn key_specs(&self) -> &[KeySpec] {
        &self.key_specs
    }

    /// True if some key spec finds real keys (not only `not_key` arguments).
    pub fn has_keys(&self) -> bool {
        self.key_specs.iter().any(KeySpec::is_key)
    }

    /// Its subcommands, sorted by name; empty for most commands.
    pub fn subcommands(&self) -> &[CommandInfo] {
        &self.subcommands
    }

    /// True if the command is only a container for subcommands (CLIENT, CONFIG, ...).
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// The subcommand called `name` (ASCII case ignored), without allocating.
    ///
    /// ```
    /// let object = redmux::table::lookup("OBJECT").unwrap();
    /// assert_eq!(object.subcommand("encoding").unwrap().name(), "object|encoding");
    /// assert!(object.subcommand("nope").is_none());
    /// ```
    pub fn subcommand(&self, name: &str) -> Option<&CommandInfo> {
        self.subcommand_bytes(name.as_bytes())
    }

    pub(crate) fn subcommand_bytes(&self, name: &[u8]) -> Option<&CommandInfo> {
        // Every subcommand is named `<container>|<sub>`, so the order of the
        // full names is the order of their `<sub>` parts.
        let skip = self.name.len() + 1;
        self.subcommands
            .binary_search_by(|sub| {
                let own = sub.name.as_bytes();
                cmp_ignore_ascii_case(own.get(skip..).unwrap_or_default(), name)
            })
            .ok()
            .and_then(|i| self.subcommands.get(i))
    }

    /// The group in `COMMAND DOCS` (`string`, `server`, ...); `None` for a
    /// command learned from `COMMAND INFO`, which does not say.
    pub fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    /// The Redis version that added it (`COMMAND DOCS`); `None` for a command
    /// learned from `COMMAND INFO`.
    pub fn since(&self) -> Option<&str> {
        self.since.as_deref()
    }
}

/// Compares `table` (a lowercase name from the table) with `wanted` as if
/// `wanted` were lowercased, without allocating.
pub(crate) fn cmp_ignore_ascii_case(table: &[u8], wanted: &[u8]) -> Ordering {
    let common = table.len().min(wanted.len());
    for (a, b) in table.iter().zip(wanted.iter()).take(common) {
        match a.cmp(&b.to_ascii_lowercase()) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    table.len().cmp(&wanted.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitsets_name_their_members_both_ways() {
        for (member, name) in Flags::NAMES {
            assert_eq!(Flags::from_name(name), Some(*member), "{name}");
            assert_eq!(member.names().collect::<Vec<_>>(), vec![*name]);
        }
        assert_eq!(KeySpecFlags::from_name("rw"), Some(KeySpecFlags::RW));
        assert_eq!(AclCategories::from_name("nope"), None);
        let set = Flags::of(&[Flags::WRITE, Flags::DENYOOM]);
        assert_eq!(set, Flags::WRITE | Flags::DENYOOM);
        assert!(set.contains(Flags::WRITE) && !set.contains(Flags::WRITE | Flags::FAST));
        assert!(set.intersects(Flags::WRITE | Flags::FAST));
        assert_eq!(format!("{set:?}"), "write|denyoom");
        assert_eq!(format!("{:?}", KeySpecFlags::EMPTY), "EMPTY");
    }

    #[test]
    fn bit_positions_are_distinct() {
        let mut seen = 0u32;
        for (member, _) in Flags::NAMES {
            assert_eq!(seen & member.bits(), 0);
            seen |= member.bits();
        }
        let mut seen = 0u32;
        for (member, _) in AclCategories::NAMES {
            assert_eq!(seen & member.bits(), 0);
            seen |= member.bits();
        }
        let mut seen = 0u16;
        for (member, _) in KeySpecFlags::NAMES {
            assert_eq!(seen & member.bits(), 0);
            seen |= member.bits();
        }
    }

    #[test]
    fn case_insensitive_compare_orders_like_lowercase() {
        assert_eq!(cmp_ignore_ascii_case(b"get", b"GET"), Ordering::Equal);
        assert_eq!(cmp_ignore_ascii_case(b"get", b"GETDEL"), Ordering::Less);
        assert_eq!(cmp_ignore_ascii_case(b"getdel", b"Get"), Ordering::Greater);
        assert_eq!(cmp_ignore_ascii_case(b"set", b"GET"), Ordering::Greater);
        assert_eq!(cmp_ignore_ascii_case(b"", b""), Ordering::Equal);
    }

    #[test]
    fn arity_checks_exact_and_minimum_counts() {
        let mut info = CommandInfo {
            name: Cow::Borrowed("x"),
            arity: 2,
            flags: Flags::EMPTY,
            legacy_keys: (0, 0, 0),
            acl: AclCategories::EMPTY,
            tips: Cow::Borrowed(&[]),
            key_specs: Cow::Borrowed(&[]),
            subcommands: Cow::Borrowed(&[]),
            group: None,
            since: None,
        };
        assert!(info.accepts_arg_count(2));
        assert!(!info.accepts_arg_count(1) && !info.accepts_arg_count(3));
        info.arity = -3;
        assert!(!info.accepts_arg_count(2));
        assert!(info.accepts_arg_count(3) && info.accepts_arg_count(300));
    }
}

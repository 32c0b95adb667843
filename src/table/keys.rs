//! The key extractor: which arguments of a concrete command line are keys.
//!
//! The one place in redmux that answers "where are the keys?", for key
//! prefixing, cluster slot routing and anything else that needs them. It
//! reads the command's [`KeySpec`]s from the table and runs Redis's own
//! algorithm over the arguments (`getKeysUsingKeySpecs` in Redis's `db.c`),
//! so it agrees with `COMMAND GETKEYS`:
//!
//! 1. Find the command (`argv[0]`), and for a container (CLIENT, OBJECT,
//!    ...) the subcommand (`argv[1]`); if it takes keys, check the arity.
//! 2. For each key spec, begin the search at an index or after a keyword
//!    (searched forward from a positive `startfrom`, backward from a
//!    negative one), then take a range (`lastkey`, `keystep`, `limit`) or
//!    read a key count (`keynumidx`, `firstkey`, `keystep`).
//! 3. Specs the server cannot describe (SORT, SORT_RO, MIGRATE) are replaced
//!    by the same hand-written rules the server uses; anything else the table
//!    cannot know is reported in [`Keys::incomplete`], never guessed.
//!
//! Bad user input (a `numkeys` that is not a number, negative, or larger than
//! the arguments; a wrong argument count) is a [`KeyError`] naming the
//! problem: no panic, and nothing is allocated from a count the user gave.
//! Input may be an argument list or the encoded bytes a [`Cmd`](crate::Cmd)
//! produces; for the latter each key's byte range inside the encoding is
//! returned too, so a prefixing layer can splice without re-encoding.
//!
//! Where this deliberately differs from `COMMAND GETKEYS`: the server falls
//! back to `atoi` when a spec's `numkeys` does not parse (`"1abc"` counts as
//! 1, `"01"` too) and truncates a huge `numkeys` to 32 bits; here those are
//! errors, as they are when the command itself runs.

use std::fmt;
use std::ops::Range;

use super::generated::COMMANDS;
use super::small::Small;
use super::spec::{
    cmp_ignore_ascii_case, BeginSearch, CommandInfo, FindKeys, Flags, KeySpec, KeySpecFlags,
};

/// Keys kept inline in a [`Keys`] before it allocates: three covers every
/// single-key command, RENAME, SMOVE, LMOVE, and SET-like commands.
const INLINE_KEYS: usize = 3;

/// Argument positions kept inline while reading encoded bytes: eight covers
/// `SET k v EX 10 NX GET` and nearly every other everyday command.
const INLINE_ARGS: usize = 8;

/// One key found in a command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyArg {
    index: usize,
    start: usize,
    end: usize,
    flags: KeySpecFlags,
}

impl KeyArg {
    /// The argument's index (0 is the command name).
    pub fn index(&self) -> usize {
        self.index
    }

    /// Where the key's bytes are in the input: for [`keys_in_encoded`],
    /// offsets into the encoded command (the payload of the bulk string,
    /// without `$len\r\n` and the trailing CRLF); for [`keys_in_args`],
    /// offsets into that argument, which is always all of it.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// How the command uses the key, from its key spec (or from the rule
    /// that replaces it). With `variable_flags` set they are the widest the
    /// command may use.
    pub fn flags(&self) -> KeySpecFlags {
        self.flags
    }
}

/// Why a [`Keys`] may not list every key the command will touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Incomplete {
    /// SORT or SORT_RO with a `BY` or `GET` pattern containing `*`: the
    /// server builds key names from the sorted data, which no client can
    /// know in advance. Those keys are neither prefixed nor routed; in a
    /// cluster they must live in the sorted key's slot (use a hash tag).
    SortPatterns,
    /// A key spec the table cannot evaluate (its begin-search or find-keys
    /// is `unknown`, or it is flagged `incomplete`) on a command without a
    /// hand-written rule, such as a module command. Keys of the other specs
    /// are listed; ask the server with `COMMAND GETKEYS` for the rest.
    KeySpec {
        /// The spec's index in [`CommandInfo::key_specs`].
        index: usize,
    },
    /// The command declares movable keys but no key spec (a module that
    /// computes its keys in code); only `COMMAND GETKEYS` can say.
    Movable,
}

impl Incomplete {
    /// A one-line reason, for logs and error messages.
    pub fn reason(&self) -> &'static str {
        match self {
            Incomplete::SortPatterns => {
                "BY/GET patterns name keys derived from the sorted data; they are neither prefixed nor routed"
            }
            Incomplete::KeySpec { .. } => {
                "a key spec is unknown or incomplete and no client-side rule replaces it"
            }
            Incomplete::Movable => "the command computes its keys in code (movablekeys without key specs)",
        }
    }
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incomplete::KeySpec { index } => write!(f, "{} (key spec #{index})", self.reason()),
            _ => f.write_str(self.reason()),
        }
    }
}

/// The keys of one command line, in the order the server lists them.
///
/// ```
/// let keys = redmux::table::keys_in_args(&["ZUNIONSTORE", "dst", "2", "a", "b"]).unwrap();
/// assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 3, 4]);
/// assert!(keys.is_complete());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Keys {
    keys: Small<KeyArg, INLINE_KEYS>,
    incomplete: Option<Incomplete>,
}

impl Keys {
    /// The keys found.
    pub fn as_slice(&self) -> &[KeyArg] {
        self.keys.as_slice()
    }

    /// Iterates over the keys found.
    pub fn iter(&self) -> std::slice::Iter<'_, KeyArg> {
        self.as_slice().iter()
    }

    /// The argument indices of the keys (0 is the command name).
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.iter().map(KeyArg::index)
    }

    /// How many keys were found.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// True if no key was found.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The first key, if any.
    pub fn first(&self) -> Option<&KeyArg> {
        self.as_slice().first()
    }

    /// Why the list may miss keys the command touches, if it may.
    pub fn incomplete(&self) -> Option<Incomplete> {
        self.incomplete
    }

    /// True if the list has every key the command touches.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_none()
    }

    /// The keys' bytes inside the encoded command they were found in.
    ///
    /// ```
    /// use redmux::{table, Cmd};
    /// let bytes = Cmd::new("RENAME").key("old").key("new").into_bytes();
    /// let keys = table::keys_in_encoded(&bytes).unwrap();
    /// let names: Vec<&[u8]> = keys.bytes_in(&bytes).collect();
    /// assert_eq!(names, vec![&b"old"[..], &b"new"[..]]);
    /// ```
    pub fn bytes_in<'a>(&'a self, encoded: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .map(move |key| encoded.get(key.range()).unwrap_or_default())
    }

    fn push(&mut self, index: usize, (start, end): (usize, usize), flags: KeySpecFlags) {
        self.keys.push(KeyArg {
            index,
            start,
            end,
            flags,
        });
    }
}

impl<'a> IntoIterator for &'a Keys {
    type Item = &'a KeyArg;
    type IntoIter = std::slice::Iter<'a, KeyArg>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What is wrong with a `numkeys` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NumKeysProblem {
    /// Not a decimal integer (Redis's strict parse: no sign but `-`, no
    /// leading zeros, no spaces, within 64 bits).
    NotAnInteger,
    /// Negative.
    Negative(i64),
    /// Zero, for a command that needs at least one key.
    Zero,
    /// More keys than there are arguments after the count.
    TooLarge {
        /// The count given.
        numkeys: i64,
        /// How many arguments there are from the first key on.
        available: usize,
    },
}

impl fmt::Display for NumKeysProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumKeysProblem::NotAnInteger => f.write_str("it is not an integer"),
            NumKeysProblem::Negative(n) => write!(f, "it is negative ({n})"),
            NumKeysProblem::Zero => f.write_str("it is 0 but the command needs at least one key"),
            NumKeysProblem::TooLarge { numkeys, available } => write!(
                f,
                "it says {numkeys} keys but only {available} arguments follow"
            ),
        }
    }
}

/// Why the keys of a command line could not be found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The encoded bytes are not one RESP array of bulk strings.
    #[error("not an encoded command: {problem} at byte {offset}")]
    Malformed {
        /// Where the problem is.
        offset: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// There is no command name.
    #[error("empty command: no name")]
    Empty,
    /// The table does not know the command (or the container's subcommand);
    /// ask the server with `COMMAND INFO <name>`.
    #[error("unknown command '{name}': not in the command table; the server can describe it (COMMAND INFO {name})")]
    UnknownCommand {
        /// Lowercase, `container|sub` for an unknown subcommand.
        name: String,
    },
    /// The argument count does not fit the command's arity.
    #[error("wrong number of arguments for '{command}': {given} given, arity {arity}")]
    WrongArity {
        /// The command.
        command: String,
        /// Its arity (negative: at least that many).
        arity: i32,
        /// Arguments given, name included.
        given: usize,
    },
    /// A `numkeys` argument is unusable.
    #[error("bad numkeys for '{command}' (argument {index}): {problem}")]
    NumKeys {
        /// The command.
        command: String,
        /// The index of the `numkeys` argument.
        index: usize,
        /// What is wrong with it.
        problem: NumKeysProblem,
    },
    /// A key spec points outside the arguments (a syntax error the server
    /// would report too).
    #[error("the arguments of '{command}' do not fit its key spec #{spec}: a key would lie outside them")]
    OutOfRange {
        /// The command.
        command: String,
        /// The spec's index.
        spec: usize,
    },
    /// No key was found although the command needs one (a keyword such as
    /// `STREAMS` is missing, or MIGRATE names a key and `KEYS` too).
    #[error("'{command}' needs at least one key but its arguments name none")]
    NoKeys {
        /// The command.
        command: String,
    },
    /// A key spec (of a command learned at run time) the algorithm cannot
    /// run: a step below 1, or a `limit` with a `lastkey` other than -1.
    #[error("key spec #{spec} of '{command}' is not one the key-spec algorithm supports")]
    UnsupportedSpec {
        /// The command.
        command: String,
        /// The spec's index.
        spec: usize,
    },
}

impl KeyError {
    /// True if the command is not in the table: look it up on the server
    /// and search again with [`KeySearch::with_command`].
    pub fn is_unknown_command(&self) -> bool {
        matches!(self, KeyError::UnknownCommand { .. })
    }
}

/// A key search with options; [`keys_in_args`] and [`keys_in_encoded`] are
/// the default search.
///
/// ```
/// use redmux::table::{KeySearch, KeySpecFlags};
/// // SPUBLISH's channel is not a key, but a cluster routes it like one.
/// let keys = KeySearch::new().include_not_keys(true).in_args(&["SPUBLISH", "news", "hi"]).unwrap();
/// assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1]);
/// assert!(keys.first().unwrap().flags().contains(KeySpecFlags::NOT_KEY));
/// assert!(redmux::table::keys_in_args(&["SPUBLISH", "news", "hi"]).unwrap().is_empty());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct KeySearch<'a> {
    command: Option<&'a CommandInfo>,
    include_not_keys: bool,
}

impl<'a> KeySearch<'a> {
    /// The default search: the static table, real keys only.
    pub fn new() -> KeySearch<'a> {
        KeySearch::default()
    }

    /// Uses `command` for `argv[0]` instead of the static table (a command
    /// learned at run time). Its name is not compared with `argv[0]`. A
    /// container's subcommand is still chosen by `argv[1]`; a subcommand's
    /// info (`client|list`) is used as it is.
    pub fn with_command(mut self, command: &'a CommandInfo) -> KeySearch<'a> {
        self.command = Some(command);
        self
    }

    /// Also lists arguments of `not_key` specs (shard channels of SPUBLISH,
    /// SSUBSCRIBE, SUNSUBSCRIBE), which slot routing needs and prefixing must skip.
    pub fn include_not_keys(mut self, include: bool) -> KeySearch<'a> {
        self.include_not_keys = include;
        self
    }

    /// The keys of a command given as its arguments (`args[0]` is the name).
    ///
    /// # Errors
    /// See [`KeyError`].
    pub fn in_args<A: AsRef<[u8]>>(&self, args: &[A]) -> Result<Keys, KeyError> {
        self.find(&Slices(args))
    }

    /// The keys of an encoded command (a RESP array of bulk strings, as
    /// [`Cmd::into_bytes`](crate::Cmd::into_bytes) produces), with each key's
    /// byte range in `encoded`.
    ///
    /// # Errors
    /// [`KeyError::Malformed`] if `encoded` is not exactly one such array;
    /// otherwise see [`KeyError`].
    pub fn in_encoded(&self, encoded: &[u8]) -> Result<Keys, KeyError> {
        self.find(&Encoded::parse(encoded)?)
    }

    fn find<A: Argv>(&self, argv: &A) -> Result<Keys, KeyError> {
        if argv.argc() == 0 {
            return Err(KeyError::Empty);
        }
        let name = argv.arg(0);
        let top = match self.command {
            Some(info) => info,
            None => lookup_top(name).ok_or_else(|| unknown(name, None))?,
        };
        let info = if top.is_container() && top.container().is_none() && argv.argc() >= 2 {
            let sub = argv.arg(1);
            top.subcommand_bytes(sub)
                .ok_or_else(|| unknown(top.name().as_bytes(), Some(sub)))?
        } else {
            top
        };
        // Like the server, a command without keys has none whatever its
        // arguments; only then does the argument count matter.
        let searchable = info.flags().contains(Flags::MOVABLEKEYS)
            || info
                .key_specs()
                .iter()
                .any(|spec| spec.is_key() || self.include_not_keys);
        if !searchable {
            return Ok(Keys::default());
        }
        if !info.accepts_arg_count(argv.argc()) {
            return Err(KeyError::WrongArity {
                command: info.name().to_owned(),
                arity: info.arity(),
                given: argv.argc(),
            });
        }
        let keys = match Rule::replacing(info) {
            Some(rule) => rule.apply(argv),
            None => self.run_specs(info, argv)?,
        };
        let optional = info.flags().contains(Flags::NO_MANDATORY_KEYS);
        if keys.is_empty() && keys.is_complete() && info.has_keys() && !optional {
            return Err(KeyError::NoKeys {
                command: info.name().to_owned(),
            });
        }
        Ok(keys)
    }

    /// Redis's `getKeysUsingKeySpecs`, with its "invalid spec" outcomes
    /// turned into errors that say what is wrong.
    fn run_specs<A: Argv>(&self, info: &CommandInfo, argv: &A) -> Result<Keys, KeyError> {
        let mut keys = Keys::default();
        for (j, spec) in info.key_specs().iter().enumerate() {
            if !spec.is_key() && !self.include_not_keys {
                continue;
            }
            match evaluate(spec, j, info, argv)? {
                Found::Keys { first, last, step } => {
                    for i in (first..=last).step_by(step) {
                        keys.push(i, argv.span(i), spec.flags);
                    }
                }
                Found::Nothing => {}
                Found::Unknown => {
                    keys.incomplete
                        .get_or_insert(Incomplete::KeySpec { index: j });
                }
            }
            if spec.flags.contains(KeySpecFlags::INCOMPLETE) {
                keys.incomplete
                    .get_or_insert(Incomplete::KeySpec { index: j });
            }
        }
        if info.key_specs().is_empty() && info.flags().contains(Flags::MOVABLEKEYS) {
            keys.incomplete = Some(Incomplete::Movable);
        }
        Ok(keys)
    }
}

/// The keys of a command line given as its arguments (`args[0]` is the
/// command name), looked up in the static table.
///
/// ```
/// use redmux::table::keys_in_args;
/// let keys = keys_in_args(&["EVAL", "return 1", "2", "a", "b", "extra"]).unwrap();
/// assert_eq!(keys.indices().collect::<Vec<_>>(), vec![3, 4]);
/// let err = keys_in_args(&["EVAL", "return 1", "5", "a"]).unwrap_err();
/// assert!(err.to_string().contains("5 keys but only 1"));
/// assert!(keys_in_args(&["NOSUCH", "x"]).unwrap_err().is_unknown_command());
/// ```
///
/// # Errors
/// See [`KeyError`].
pub fn keys_in_args<A: AsRef<[u8]>>(args: &[A]) -> Result<Keys, KeyError> {
    KeySearch::new().in_args(args)
}

/// The keys of an encoded command (as [`Cmd::into_bytes`](crate::Cmd::into_bytes)
/// produces), with their byte ranges in `encoded`.
///
/// ```
/// use redmux::{table, Cmd};
/// let bytes = Cmd::new("SET").key("user:7").arg("v").into_bytes();
/// let keys = table::keys_in_encoded(&bytes).unwrap();
/// let key = keys.first().unwrap();
/// assert_eq!(key.index(), 1);
/// assert_eq!(&bytes[key.range()], b"user:7");
/// ```
///
/// # Errors
/// [`KeyError::Malformed`] if the bytes are not one RESP array of bulk
/// strings; otherwise see [`KeyError`].
pub fn keys_in_encoded(encoded: &[u8]) -> Result<Keys, KeyError> {
    KeySearch::new().in_encoded(encoded)
}

/// A top-level command of the static table by the bytes of `argv[0]`; a name
/// with `|` is not a command on the wire.
fn lookup_top(name: &[u8]) -> Option<&'static CommandInfo> {
    if name.contains(&b'|') {
        return None;
    }
    COMMANDS
        .binary_search_by(|info| cmp_ignore_ascii_case(info.name.as_bytes(), name))
        .ok()
        .and_then(|i| COMMANDS.get(i))
}

fn unknown(name: &[u8], sub: Option<&[u8]>) -> KeyError {
    let mut text = String::from_utf8_lossy(name).to_ascii_lowercase();
    if let Some(sub) = sub {
        text.push('|');
        text.push_str(&String::from_utf8_lossy(sub).to_ascii_lowercase());
    }
    KeyError::UnknownCommand { name: text }
}

/// What one key spec yields for one command line.
enum Found {
    /// Keys at `first, first + step, ...` up to `last` (inclusive).
    Keys {
        first: usize,
        last: usize,
        step: usize,
    },
    /// None (a keyword not present, or `numkeys` 0 where that is allowed).
    Nothing,
    /// The spec cannot be evaluated client-side.
    Unknown,
}

fn evaluate<A: Argv>(
    spec: &KeySpec,
    j: usize,
    info: &CommandInfo,
    argv: &A,
) -> Result<Found, KeyError> {
    let argc = i64::try_from(argv.argc()).unwrap_or(i64::MAX);
    let out_of_range = || KeyError::OutOfRange {
        command: info.name().to_owned(),
        spec: j,
    };
    let unsupported = || KeyError::UnsupportedSpec {
        command: info.name().to_owned(),
        spec: j,
    };
    let first = match &spec.begin_search {
        BeginSearch::Index { pos } => i64::from(*pos),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => match search_keyword(argv, keyword.as_bytes(), *start_from) {
            Some(at) => at + 1,
            None => return Ok(Found::Nothing),
        },
        BeginSearch::Unknown => return Ok(Found::Unknown),
    };
    let (first, last, step) = match &spec.find_keys {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        } => {
            let (last_key, limit) = (i64::from(*last_key), i64::from(*limit));
            let last = if last_key >= 0 {
                first + last_key
            } else if limit == 0 {
                argc + last_key
            } else if last_key == -1 && limit > 0 {
                // Only 1/limit of what follows are keys (XREAD's keys, then IDs).
                first + ((argc - first) / limit + last_key)
            } else {
                return Err(unsupported());
            };
            (first, last, i64::from(*key_step))
        }
        FindKeys::KeyNum {
            key_num_idx,
            first_key,
            key_step,
        } => {
            let at = first + i64::from(*key_num_idx);
            let Some(index) = usize::try_from(at).ok().filter(|&i| i < argv.argc()) else {
                return Err(out_of_range());
            };
            let bad = |problem| KeyError::NumKeys {
                command: info.name().to_owned(),
                index,
                problem,
            };
            let numkeys =
                parse_integer(argv.arg(index)).ok_or_else(|| bad(NumKeysProblem::NotAnInteger))?;
            if numkeys < 0 {
                return Err(bad(NumKeysProblem::Negative(numkeys)));
            }
            let first = first + i64::from(*first_key);
            if numkeys == 0 {
                if info.flags().contains(Flags::NO_MANDATORY_KEYS) {
                    return Ok(Found::Nothing);
                }
                return Err(bad(NumKeysProblem::Zero));
            }
            let available = (argc - first).max(0);
            if numkeys > available {
                return Err(bad(NumKeysProblem::TooLarge {
                    numkeys,
                    available: usize::try_from(available).unwrap_or(usize::MAX),
                }));
            }
            (first, first + numkeys - 1, i64::from(*key_step))
        }
        FindKeys::Unknown => return Ok(Found::Unknown),
    };
    if step < 1 {
        return Err(unsupported());
    }
    if first < 0 || last < first || last >= argc {
        return Err(out_of_range());
    }
    match (
        usize::try_from(first),
        usize::try_from(last),
        usize::try_from(step),
    ) {
        (Ok(first), Ok(last), Ok(step)) => Ok(Found::Keys { first, last, step }),
        _ => Err(out_of_range()),
    }
}

/// The index of `keyword` as Redis searches for it: forward from a positive
/// `start_from` up to (not including) the last argument, or backward from
/// `argc + start_from` down to (not including) index 1.
fn search_keyword<A: Argv>(argv: &A, keyword: &[u8], start_from: i32) -> Option<i64> {
    let argc = i64::try_from(argv.argc()).unwrap_or(i64::MAX);
    let start_from = i64::from(start_from);
    let (start, end) = if start_from > 0 {
        (start_from, argc - 1)
    } else {
        (argc + start_from, 1)
    };
    let mut i = start;
    while i != end {
        let index = usize::try_from(i)
            .ok()
            .filter(|&i| i >= 1 && i < argv.argc())?;
        if argv.arg(index).eq_ignore_ascii_case(keyword) {
            return Some(i);
        }
        i = if start <= end { i + 1 } else { i - 1 };
    }
    None
}

/// Redis's `string2ll`: an optional `-`, then digits with no leading zero
/// (except "0" itself), fitting in an `i64`.
fn parse_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 20 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    if negative && digits == b"0" {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(d)?
        } else {
            value.checked_add(d)?
        };
    }
    Some(value)
}

/// The hand-written rules the server itself uses where its key specs cannot
/// say (its `sortGetKeys`, `sortROGetKeys`, `migrateGetKeys`).
#[derive(Clone, Copy)]
enum Rule {
    Sort,
    SortRo,
    Migrate,
}

impl Rule {
    /// The rule for `info`, if it has one and its specs need it (a spec that
    /// is unknown or incomplete). A future server that describes these
    /// commands fully gets its specs used instead.
    fn replacing(info: &CommandInfo) -> Option<Rule> {
        let needs_rule = info.key_specs().iter().any(|spec| {
            spec.flags.contains(KeySpecFlags::INCOMPLETE)
                || spec.begin_search == BeginSearch::Unknown
                || spec.find_keys == FindKeys::Unknown
        });
        if !needs_rule {
            return None;
        }
        match info.name() {
            "sort" => Some(Rule::Sort),
            "sort_ro" => Some(Rule::SortRo),
            "migrate" => Some(Rule::Migrate),
            _ => None,
        }
    }

    fn apply<A: Argv>(self, argv: &A) -> Keys {
        match self {
            Rule::Sort => sort_keys(argv, true),
            Rule::SortRo => sort_keys(argv, false),
            Rule::Migrate => migrate_keys(argv),
        }
    }
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] [STORE destination]`: the sorted key, and the last STORE's
/// destination; skips options the way the server's own scan does. A BY or
/// GET pattern with `*` makes the result incomplete.
fn sort_keys<A: Argv>(argv: &A, store_allowed: bool) -> Keys {
    let argc = argv.argc();
    let mut keys = Keys::default();
    keys.push(1, argv.span(1), KeySpecFlags::RO | KeySpecFlags::ACCESS);
    let mut store = None;
    let mut patterns = false;
    let mut i = 2;
    while i < argc {
        let arg = argv.arg(i);
        if arg.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if store_allowed && arg.eq_ignore_ascii_case(b"store") && i + 1 < argc {
            // The last STORE wins, as in SORT itself; its argument is not skipped.
            store = Some(i + 1);
        } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
            if i + 1 < argc && argv.arg(i + 1).contains(&b'*') {
                patterns = true;
            }
            i += 1;
        }
        i += 1;
    }
    if let Some(at) = store {
        keys.push(at, argv.span(at), KeySpecFlags::OW | KeySpecFlags::UPDATE);
    }
    if patterns {
        keys.incomplete = Some(Incomplete::SortPatterns);
    }
    keys
}

/// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw]
/// [KEYS key ...]`: the one key, or with `KEYS` (and an empty key) the keys
/// after it; a key and `KEYS` together name none (the server's syntax error).
fn migrate_keys<A: Argv>(argv: &A) -> Keys {
    let argc = argv.argc();
    let (mut first, mut num) = (3, 1);
    if argc > 6 {
        let mut i = 6;
        while i < argc {
            let arg = argv.arg(i);
            if arg.eq_ignore_ascii_case(b"keys") {
                if argv.arg(3).is_empty() {
                    first = i + 1;
                    num = argc - first;
                } else {
                    num = 0;
                }
                break;
            }
            if arg.eq_ignore_ascii_case(b"auth") {
                i += 1;
            } else if arg.eq_ignore_ascii_case(b"auth2") {
                i += 2;
            }
            i += 1;
        }
    }
    let mut keys = Keys::default();
    let flags = KeySpecFlags::RW | KeySpecFlags::ACCESS | KeySpecFlags::DELETE;
    for at in (first..argc).take(num) {
        keys.push(at, argv.span(at), flags);
    }
    keys
}

/// Random access to the arguments of one command line.
trait Argv {
    /// How many arguments, name included.
    fn argc(&self) -> usize;
    /// Argument `i`, or empty if there is none.
    fn arg(&self, i: usize) -> &[u8];
    /// Where argument `i`'s bytes are in the input.
    fn span(&self, i: usize) -> (usize, usize);
}

/// Arguments given as a slice of byte strings.
struct Slices<'a, A>(&'a [A]);

impl<A: AsRef<[u8]>> Argv for Slices<'_, A> {
    fn argc(&self) -> usize {
        self.0.len()
    }
    fn arg(&self, i: usize) -> &[u8] {
        self.0.get(i).map(AsRef::as_ref).unwrap_or_default()
    }
    fn span(&self, i: usize) -> (usize, usize) {
        (0, self.arg(i).len())
    }
}

/// Arguments inside an encoded command, located by one pass over it.
struct Encoded<'a> {
    bytes: &'a [u8],
    spans: Small<(usize, usize), INLINE_ARGS>,
}

impl<'a> Encoded<'a> {
    /// Checks that `bytes` is exactly `*<n>\r\n` and `n` bulk strings, and
    /// records where each payload is. Storage grows with the arguments
    /// actually present, never with the count the header claims.
    fn parse(bytes: &'a [u8]) -> Result<Encoded<'a>, KeyError> {
        let malformed = |offset, problem| KeyError::Malformed { offset, problem };
        if bytes.first() != Some(&b'*') {
            return Err(malformed(0, "expected '*' (an array of bulk strings)"));
        }
        let (count, mut pos) = read_length(bytes, 1)?;
        let mut spans = Small::default();
        for _ in 0..count {
            if bytes.get(pos) != Some(&b'$') {
                let problem = if pos >= bytes.len() {
                    "truncated: fewer arguments than the header says"
                } else {
                    "expected '$' (a bulk string)"
                };
                return Err(malformed(pos, problem));
            }
            let (len, start) = read_length(bytes, pos + 1)?;
            let end = start
                .checked_add(len)
                .filter(|&end| end <= bytes.len())
                .ok_or_else(|| malformed(pos, "truncated bulk string"))?;
            match bytes.get(end..end + 2) {
                Some(b"\r\n") => {}
                Some(_) => return Err(malformed(end, "bulk string not followed by CRLF")),
                None => return Err(malformed(end, "truncated bulk string")),
            }
            spans.push((start, end));
            pos = end + 2;
        }
        if pos != bytes.len() {
            return Err(malformed(pos, "bytes after the end of the command"));
        }
        Ok(Encoded { bytes, spans })
    }
}

/// Reads `<digits>\r\n` at `at`; the number and the index after the CRLF.
fn read_length(bytes: &[u8], at: usize) -> Result<(usize, usize), KeyError> {
    let malformed = |offset, problem| KeyError::Malformed { offset, problem };
    let mut value: usize = 0;
    let mut pos = at;
    while let Some(&b) = bytes.get(pos) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(usize::from(b - b'0')))
            .ok_or_else(|| malformed(at, "length too large"))?;
        pos += 1;
    }
    if pos == at {
        let problem = match bytes.get(at) {
            None => "truncated length",
            Some(b'-') => "negative length (a null)",
            Some(_) => "expected a decimal length",
        };
        return Err(malformed(at, problem));
    }
    match bytes.get(pos..pos + 2) {
        Some(b"\r\n") => Ok((value, pos + 2)),
        Some(_) => Err(malformed(pos, "expected CRLF after a length")),
        None => Err(malformed(pos, "truncated length")),
    }
}

impl Argv for Encoded<'_> {
    fn argc(&self) -> usize {
        self.spans.as_slice().len()
    }
    fn arg(&self, i: usize) -> &[u8] {
        self.spans
            .as_slice()
            .get(i)
            .and_then(|&(start, end)| self.bytes.get(start..end))
            .unwrap_or_default()
    }
    fn span(&self, i: usize) -> (usize, usize) {
        self.spans.as_slice().get(i).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::table::{AclCategories, CommandInfo};
    use crate::Cmd;

    fn indices(args: &[&str]) -> Vec<usize> {
        match keys_in_args(args) {
            Ok(keys) => keys.indices().collect(),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    fn error(args: &[&str]) -> KeyError {
        match keys_in_args(args) {
            Ok(keys) => panic!("{args:?} gave keys {:?}", keys.as_slice()),
            Err(e) => e,
        }
    }

    /// A command with the given arity, flags and specs, for the algorithm's edge cases.
    fn command(arity: i32, flags: Flags, specs: Vec<KeySpec>) -> CommandInfo {
        CommandInfo {
            name: Cow::Borrowed("x.test"),
            arity,
            flags,
            legacy_keys: (0, 0, 0),
            acl: AclCategories::EMPTY,
            tips: Cow::Borrowed(&[]),
            key_specs: Cow::Owned(specs),
            subcommands: Cow::Borrowed(&[]),
            group: None,
            since: None,
        }
    }

    fn spec(begin: BeginSearch, find: FindKeys) -> KeySpec {
        KeySpec::new(KeySpecFlags::RW, begin, find)
    }

    fn range(last_key: i32, key_step: i32, limit: i32) -> FindKeys {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        }
    }

    fn keyword(word: &'static str, start_from: i32) -> BeginSearch {
        BeginSearch::Keyword {
            keyword: Cow::Borrowed(word),
            start_from,
        }
    }

    fn custom(info: &CommandInfo, args: &[&str]) -> Result<Vec<usize>, KeyError> {
        KeySearch::new()
            .with_command(info)
            .in_args(args)
            .map(|keys| keys.indices().collect())
    }

    #[test]
    fn single_key_and_ranges() {
        assert_eq!(indices(&["GET", "k"]), vec![1]);
        assert_eq!(indices(&["del", "a", "b", "c"]), vec![1, 2, 3]);
        assert_eq!(indices(&["MSET", "a", "1", "b", "2"]), vec![1, 3]);
        // BLPOP's spec ends two from the end: the timeout is not a key.
        assert_eq!(indices(&["BLPOP", "a", "b", "0"]), vec![1, 2]);
        assert_eq!(indices(&["RENAME", "a", "b"]), vec![1, 2]);
    }

    #[test]
    fn numkeys_commands() {
        assert_eq!(indices(&["EVAL", "s", "2", "a", "b", "arg"]), vec![3, 4]);
        assert_eq!(indices(&["FCALL", "f", "1", "a", "arg"]), vec![3]);
        assert_eq!(
            indices(&["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]),
            vec![1, 3, 4]
        );
        assert_eq!(indices(&["ZINTER", "2", "a", "b"]), vec![2, 3]);
        assert_eq!(indices(&["LMPOP", "2", "a", "b", "LEFT"]), vec![2, 3]);
        assert_eq!(indices(&["BLMPOP", "0", "1", "a", "LEFT"]), vec![3]);
        assert_eq!(
            indices(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
            vec![2, 3]
        );
    }

    #[test]
    fn numkeys_zero_is_allowed_only_where_keys_are_optional() {
        assert!(keys_in_args(&["EVAL", "return 1", "0"]).unwrap().is_empty());
        assert!(keys_in_args(&["FCALL_RO", "f", "0", "x"])
            .unwrap()
            .is_empty());
        let err = error(&["ZUNIONSTORE", "d", "0", "a"]);
        assert!(
            matches!(
                err,
                KeyError::NumKeys {
                    problem: NumKeysProblem::Zero,
                    index: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_numkeys_is_a_clear_error_not_a_panic_or_allocation() {
        let err = error(&["EVAL", "s", "99999999999", "a"]);
        assert_eq!(
            err,
            KeyError::NumKeys {
                command: "eval".into(),
                index: 2,
                problem: NumKeysProblem::TooLarge {
                    numkeys: 99_999_999_999,
                    available: 1
                }
            }
        );
        assert!(
            err.to_string().contains("99999999999 keys but only 1"),
            "{err}"
        );
        let err = error(&["EVAL", "s", "-1", "a"]);
        assert!(matches!(
            err,
            KeyError::NumKeys {
                problem: NumKeysProblem::Negative(-1),
                ..
            }
        ));
        for bad in [
            "x",
            "1abc",
            "01",
            "+1",
            " 1",
            "",
            "-0",
            "99999999999999999999999",
        ] {
            let err = error(&["ZINTER", bad, "a"]);
            assert!(
                matches!(
                    err,
                    KeyError::NumKeys {
                        problem: NumKeysProblem::NotAnInteger,
                        index: 1,
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
        }
        // i64::MAX keys: compared, never allocated.
        let err = error(&["LMPOP", "9223372036854775807", "a", "LEFT"]);
        assert!(matches!(
            err,
            KeyError::NumKeys {
                problem: NumKeysProblem::TooLarge { .. },
                ..
            }
        ));
    }

    #[test]
    fn integer_parsing_matches_redis() {
        assert_eq!(parse_integer(b"0"), Some(0));
        assert_eq!(parse_integer(b"-12"), Some(-12));
        assert_eq!(parse_integer(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_integer(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_integer(b"9223372036854775808"), None);
        assert_eq!(parse_integer(b"-"), None);
        assert_eq!(parse_integer(b"007"), None);
    }

    #[test]
    fn keywords_streams_and_store() {
        assert_eq!(
            indices(&["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"]),
            vec![4, 5]
        );
        assert_eq!(
            indices(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]),
            vec![5]
        );
        assert_eq!(
            indices(&["GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"]),
            vec![1, 7]
        );
        assert_eq!(
            indices(&["GEORADIUS", "k", "0", "0", "1", "km", "STOREDIST", "d"]),
            vec![1, 7]
        );
        // A missing STREAMS keyword leaves XREAD without keys: the server's syntax error.
        assert!(matches!(
            error(&["XREAD", "COUNT", "1", "x", "y"]),
            KeyError::NoKeys { .. }
        ));
        // "STREAMS k" has no ID for its key: the range would end before it starts.
        assert!(matches!(
            error(&["XREAD", "COUNT", "1", "STREAMS", "k"]),
            KeyError::OutOfRange { .. }
        ));
    }

    #[test]
    fn subcommands() {
        assert_eq!(indices(&["OBJECT", "ENCODING", "k"]), vec![2]);
        assert_eq!(indices(&["memory", "usage", "k", "SAMPLES", "5"]), vec![2]);
        assert_eq!(indices(&["XINFO", "STREAM", "s", "FULL"]), vec![2]);
        assert!(keys_in_args(&["CLIENT", "LIST"]).unwrap().is_empty());
        let err = error(&["OBJECT", "NOPE", "k"]);
        assert_eq!(
            err,
            KeyError::UnknownCommand {
                name: "object|nope".into()
            }
        );
        assert!(err.is_unknown_command());
        // A container alone is looked up as itself: it has no keys.
        assert!(keys_in_args(&["OBJECT"]).unwrap().is_empty());
        // Keyless commands have no keys whatever their arguments, as GETKEYS says.
        assert!(keys_in_args(&["PING", "a", "b", "c"]).unwrap().is_empty());
        // "client|list" is a table name, not a command on the wire.
        assert!(error(&["client|list"]).is_unknown_command());
    }

    #[test]
    fn sort_and_migrate_follow_the_servers_rules() {
        let keys = keys_in_args(&["SORT", "k", "LIMIT", "0", "1", "STORE", "d"]).unwrap();
        assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 6]);
        assert!(keys.is_complete());
        assert_eq!(
            keys.as_slice()[1].flags(),
            KeySpecFlags::OW | KeySpecFlags::UPDATE
        );
        // The last STORE wins.
        assert_eq!(
            indices(&["SORT", "k", "STORE", "a", "STORE", "b"]),
            vec![1, 5]
        );
        let keys = keys_in_args(&["SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d"]).unwrap();
        assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 7]);
        assert_eq!(keys.incomplete(), Some(Incomplete::SortPatterns));
        // BY without '*' reads no key (it only disables sorting).
        assert!(keys_in_args(&["SORT", "k", "BY", "nosort"])
            .unwrap()
            .is_complete());
        let keys = keys_in_args(&["SORT_RO", "k", "GET", "o_*"]).unwrap();
        assert_eq!(
            (keys.len(), keys.incomplete()),
            (1, Some(Incomplete::SortPatterns))
        );
        assert_eq!(indices(&["SORT_RO", "k", "STORE", "d"]), vec![1]);

        assert_eq!(indices(&["MIGRATE", "h", "1", "k", "0", "10"]), vec![3]);
        assert_eq!(
            indices(&[
                "MIGRATE", "h", "1", "", "0", "10", "COPY", "AUTH", "keys", "KEYS", "a", "b"
            ]),
            vec![10, 11]
        );
        assert_eq!(
            indices(&["MIGRATE", "h", "1", "", "0", "10", "AUTH2", "u", "p", "KEYS", "a"]),
            vec![10]
        );
        // A key and KEYS together: the server's syntax error, no keys.
        assert!(matches!(
            error(&["MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"]),
            KeyError::NoKeys { .. }
        ));
    }

    #[test]
    fn arity_and_unknown_commands() {
        assert_eq!(
            error(&["GET"]),
            KeyError::WrongArity {
                command: "get".into(),
                arity: 2,
                given: 1
            }
        );
        assert!(matches!(
            error(&["GET", "a", "b"]),
            KeyError::WrongArity { .. }
        ));
        assert_eq!(
            error(&["NOSUCH"]),
            KeyError::UnknownCommand {
                name: "nosuch".into()
            }
        );
        assert_eq!(keys_in_args::<&str>(&[]).unwrap_err(), KeyError::Empty);
        assert!(keys_in_args(&["PING"]).unwrap().is_empty());
    }

    #[test]
    fn negative_start_from_searches_backwards() {
        // KEYS searched from the second-to-last argument back to index 2.
        let info = command(
            -2,
            Flags::EMPTY,
            vec![spec(keyword("KEYS", -2), range(-1, 1, 0))],
        );
        assert_eq!(
            custom(&info, &["x", "a", "KEYS", "k1", "k2"]),
            Ok(vec![3, 4])
        );
        // The last KEYS before the end wins when searching backwards.
        assert_eq!(custom(&info, &["x", "KEYS", "a", "KEYS", "k"]), Ok(vec![4]));
        // Index 1 is never looked at, nor the last argument.
        assert_eq!(
            custom(&info, &["x", "KEYS", "a"]),
            Err(KeyError::NoKeys {
                command: "x.test".into()
            })
        );
        assert_eq!(
            custom(&info, &["x", "a", "KEYS"]),
            Err(KeyError::NoKeys {
                command: "x.test".into()
            })
        );
    }

    #[test]
    fn positive_start_from_skips_the_last_argument() {
        let info = command(
            -2,
            Flags::EMPTY,
            vec![spec(keyword("STORE", 2), range(0, 1, 0))],
        );
        assert_eq!(
            custom(&info, &["x", "STORE", "a", "STORE", "k"]),
            Ok(vec![4])
        );
        assert_eq!(
            custom(&info, &["x", "a", "b", "STORE"]),
            Err(KeyError::NoKeys {
                command: "x.test".into()
            })
        );
    }

    #[test]
    fn limit_and_step_divide_the_rest() {
        let info = command(
            -2,
            Flags::EMPTY,
            vec![spec(keyword("STREAMS", 1), range(-1, 1, 2))],
        );
        assert_eq!(
            custom(&info, &["x", "STREAMS", "a", "b", "1", "2"]),
            Ok(vec![2, 3])
        );
        // An odd remainder rounds down, as the server does.
        assert_eq!(custom(&info, &["x", "STREAMS", "a", "b", "1"]), Ok(vec![2]));
        let stepped = command(
            -2,
            Flags::EMPTY,
            vec![spec(BeginSearch::Index { pos: 1 }, range(-1, 3, 0))],
        );
        assert_eq!(
            custom(&stepped, &["x", "a", "1", "2", "b", "1", "2"]),
            Ok(vec![1, 4])
        );
        let stepped_last = command(
            -2,
            Flags::EMPTY,
            vec![spec(BeginSearch::Index { pos: 1 }, range(-2, 2, 0))],
        );
        assert_eq!(
            custom(&stepped_last, &["x", "a", "v", "b", "v", "t"]),
            Ok(vec![1, 3])
        );
    }

    #[test]
    fn keynum_with_offsets() {
        let info = command(
            -2,
            Flags::EMPTY,
            vec![spec(
                BeginSearch::Index { pos: 2 },
                FindKeys::KeyNum {
                    key_num_idx: 1,
                    first_key: 2,
                    key_step: 1,
                },
            )],
        );
        assert_eq!(
            custom(&info, &["x", "y", "z", "2", "a", "b"]),
            Ok(vec![4, 5])
        );
        assert!(matches!(
            custom(&info, &["x", "y", "z"]),
            Err(KeyError::OutOfRange { spec: 0, .. })
        ));
    }

    #[test]
    fn specs_the_algorithm_cannot_run_are_errors() {
        let zero_step = command(
            -2,
            Flags::EMPTY,
            vec![spec(BeginSearch::Index { pos: 1 }, range(0, 0, 0))],
        );
        assert!(matches!(
            custom(&zero_step, &["x", "a"]),
            Err(KeyError::UnsupportedSpec { .. })
        ));
        let odd_limit = command(
            -2,
            Flags::EMPTY,
            vec![spec(BeginSearch::Index { pos: 1 }, range(-2, 1, 2))],
        );
        assert!(matches!(
            custom(&odd_limit, &["x", "a", "b"]),
            Err(KeyError::UnsupportedSpec { .. })
        ));
        let negative = command(
            -2,
            Flags::EMPTY,
            vec![spec(BeginSearch::Index { pos: -1 }, range(0, 1, 0))],
        );
        assert!(matches!(
            custom(&negative, &["x", "a"]),
            Err(KeyError::OutOfRange { .. })
        ));
    }

    #[test]
    fn unknown_specs_without_a_rule_give_a_partial_result() {
        let info = command(
            -2,
            Flags::EMPTY,
            vec![
                spec(BeginSearch::Index { pos: 1 }, range(0, 1, 0)),
                spec(BeginSearch::Unknown, FindKeys::Unknown),
            ],
        );
        let keys = KeySearch::new()
            .with_command(&info)
            .in_args(&["x", "a", "b"])
            .unwrap();
        assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1]);
        assert_eq!(keys.incomplete(), Some(Incomplete::KeySpec { index: 1 }));
        let movable = command(-1, Flags::MOVABLEKEYS, vec![]);
        let keys = KeySearch::new()
            .with_command(&movable)
            .in_args(&["x", "a"])
            .unwrap();
        assert_eq!(
            (keys.len(), keys.incomplete()),
            (0, Some(Incomplete::Movable))
        );
    }

    #[test]
    fn encoded_input_gives_byte_ranges() {
        let bytes = Cmd::new("MSET")
            .key("a\r\nb")
            .arg("1")
            .key("")
            .arg("2")
            .into_bytes();
        let keys = keys_in_encoded(&bytes).unwrap();
        assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1, 3]);
        let found: Vec<&[u8]> = keys.bytes_in(&bytes).collect();
        assert_eq!(found, vec![&b"a\r\nb"[..], &b""[..]]);
        let first = keys.as_slice()[0].range();
        assert_eq!(&bytes[first.start - 3..first.start], b"4\r\n");
        let same = keys_in_args(&["MSET", "a\r\nb", "1", "", "2"]).unwrap();
        assert_eq!(same.indices().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(same.as_slice()[0].range(), 0..4);
    }

    #[test]
    fn single_key_commands_stay_inline() {
        let bytes = Cmd::new("SET")
            .key("k")
            .arg("v")
            .arg("EX")
            .arg(10)
            .into_bytes();
        let keys = keys_in_encoded(&bytes).unwrap();
        assert!(!keys.keys.is_spilled());
        let parsed = Encoded::parse(&bytes).unwrap();
        assert!(!parsed.spans.is_spilled());
    }

    #[test]
    fn malformed_encodings_are_errors() {
        let good = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        assert!(keys_in_encoded(good).is_ok());
        for cut in 0..good.len() {
            let err = keys_in_encoded(&good[..cut]).unwrap_err();
            assert!(
                matches!(err, KeyError::Malformed { .. }),
                "cut at {cut}: {err}"
            );
        }
        let cases: &[(&[u8], &str)] = &[
            (b"GET k\r\n", "expected '*'"),
            (b"*1\r\n:1\r\n", "expected '$'"),
            (b"*1\r\n$-1\r\n", "negative length"),
            (b"*1\r\n$3\r\nGETX\r\n", "not followed by CRLF"),
            (b"*1\r\n$3\r\nGET\r\nextra", "after the end"),
            (b"*1x\r\n$3\r\nGET\r\n", "expected CRLF"),
            (b"*99999999999999999999999\r\n", "too large"),
            (b"*4294967295\r\n$3\r\nGET\r\n", "fewer arguments"),
            (b"*1\r\n$18446744073709551615\r\nGET\r\n", "truncated"),
        ];
        for (input, needle) in cases {
            let err = keys_in_encoded(input).unwrap_err();
            assert!(
                err.to_string().contains(needle),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(keys_in_encoded(b"*0\r\n").unwrap_err(), KeyError::Empty);
    }

    /// Every command form of the table as the words that start its line.
    fn command_words() -> Vec<Vec<String>> {
        crate::table::commands()
            .flat_map(|c| std::iter::once(c).chain(c.subcommands()))
            .map(|c| c.name().split('|').map(str::to_owned).collect())
            .collect()
    }

    /// Arguments that exercise the algorithm: counts (good, zero, negative,
    /// huge, not numbers), the keywords specs and rules look for, and words.
    fn argument() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            (0i64..6).prop_map(|n| n.to_string()),
            Just("-1".to_owned()),
            Just("99999999999".to_owned()),
            Just("01".to_owned()),
            prop::sample::select(vec![
                "STREAMS",
                "STORE",
                "STOREDIST",
                "KEYS",
                "BY",
                "GET",
                "LIMIT",
                "BLOCK",
                "AUTH",
                "AUTH2",
                "w_*",
                "#",
                "",
            ])
            .prop_map(str::to_owned),
            "[a-z]{1,3}",
        ]
    }

    proptest::proptest! {
        #[test]
        fn prop_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..96)) {
            if let Ok(keys) = keys_in_encoded(&bytes) {
                for key in &keys {
                    proptest::prop_assert!(key.range().end <= bytes.len());
                }
            }
        }

        #[test]
        fn prop_both_entry_points_agree_and_stay_in_bounds(
            command in proptest::sample::select(command_words()),
            rest in proptest::collection::vec(argument(), 0..10),
        ) {
            let mut args = command;
            args.extend(rest);
            let mut encoded = bytes::BytesMut::new();
            crate::resp::encode_command(&mut encoded, args.iter());
            let from_args = keys_in_args(&args);
            let from_bytes = keys_in_encoded(&encoded);
            match (&from_args, &from_bytes) {
                (Ok(a), Ok(b)) => {
                    proptest::prop_assert_eq!(a.indices().collect::<Vec<_>>(), b.indices().collect::<Vec<_>>());
                    for key in b {
                        proptest::prop_assert!(key.index() < args.len());
                        proptest::prop_assert_eq!(&encoded[key.range()], args[key.index()].as_bytes());
                    }
                }
                (Err(a), Err(b)) => proptest::prop_assert_eq!(a, b),
                _ => proptest::prop_assert!(false, "{:?} vs {:?}", from_args, from_bytes),
            }
        }
    }
}

//! The key extractor against its oracle, the server's `COMMAND GETKEYS`.
//!
//! Every case is one command line. The server says which of its arguments
//! are keys (`COMMAND GETKEYS ...`); `redmux::table` must say the same,
//! both from the argument list and from the encoded bytes (where each key's
//! byte range must point at the key). Outcomes must match exactly:
//!
//! | GETKEYS                                      | redmux                          |
//! |----------------------------------------------|---------------------------------|
//! | a list of keys                               | `Ok`, the same keys in order    |
//! | "The command has no key arguments"           | `Ok`, no keys                   |
//! | "Invalid arguments / number of arguments / command" | `Err`                    |
//! | no keys, for EVAL/FCALL with a bad numkeys   | `Err` naming the numkeys problem |
//!
//! The last row is the one deliberate difference: keys are optional for
//! EVAL and FCALL, so the server answers "none" where the command itself
//! will fail; redmux reports the bad `numkeys` instead.
//!
//! Two sets of cases: a hand-written list of shapes (single keys, ranges,
//! steps, numkeys, keywords, subcommands, several specs, optional STORE,
//! negative lastkey, the server's edge cases), and one generated from the
//! argument docs of every command in the table (a minimal and a full form
//! of each), so no command with keys goes unchecked.

mod support;

use std::collections::BTreeSet;

use bytes::BytesMut;
use redmux::resp::encode_command;
use redmux::table::{self, Flags, KeyError, Keys};
use redmux::{Database, Multiplexer, Value};
use serde_json::Value as Json;
use support::RedisServer;

/// What `COMMAND GETKEYS` answered.
#[derive(Debug)]
enum Oracle {
    Keys(Vec<Vec<u8>>),
    NoKeyArguments,
    Invalid,
    /// `COMMAND GETKEYS name` without arguments is itself an arity error.
    Unaskable,
}

async fn getkeys(db: &Database, args: &[Vec<u8>]) -> Oracle {
    let mut full: Vec<&[u8]> = vec![b"GETKEYS"];
    full.extend(args.iter().map(Vec::as_slice));
    match db.execute::<Value, _, _>("COMMAND", full).await {
        Ok(Value::Array(items)) => Oracle::Keys(
            items
                .into_iter()
                .map(|item| match item {
                    Value::BulkString(b) => b.to_vec(),
                    other => panic!("GETKEYS gave {other:?}"),
                })
                .collect(),
        ),
        Ok(other) => panic!("GETKEYS gave {other:?}"),
        Err(e) => {
            let text = e.to_string();
            if text.contains("has no key arguments") {
                Oracle::NoKeyArguments
            } else if text.contains("Invalid") {
                Oracle::Invalid
            } else if args.len() == 1
                && text.contains("wrong number of arguments for 'command|getkeys'")
            {
                Oracle::Unaskable
            } else {
                let shown: Vec<_> = args.iter().map(|a| String::from_utf8_lossy(a)).collect();
                panic!("unexpected GETKEYS error for {shown:?}: {text}")
            }
        }
    }
}

fn encoded(args: &[Vec<u8>]) -> BytesMut {
    let mut buf = BytesMut::new();
    encode_command(&mut buf, args.iter());
    buf
}

/// Checks one command line through both entry points; returns the table
/// name of the command if the server found keys in it.
async fn check(db: &Database, args: &[Vec<u8>]) -> Option<String> {
    let shown = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let oracle = getkeys(db, args).await;
    let from_args = table::keys_in_args(args);
    let bytes = encoded(args);
    let from_bytes = table::keys_in_encoded(&bytes);
    let names = |keys: &Keys| -> Vec<Vec<u8>> { keys.indices().map(|i| args[i].clone()).collect() };
    match (&from_args, &from_bytes) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                a.indices().collect::<Vec<_>>(),
                b.indices().collect::<Vec<_>>(),
                "{shown}: the two entry points disagree"
            );
            assert_eq!(a.incomplete(), b.incomplete(), "{shown}");
            for key in b {
                assert_eq!(
                    &bytes[key.range()],
                    args[key.index()].as_slice(),
                    "{shown}: byte range"
                );
            }
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "{shown}: the two entry points disagree"),
        _ => panic!("{shown}: argv gave {from_args:?}, bytes gave {from_bytes:?}"),
    }
    match (oracle, from_args) {
        (Oracle::Keys(expected), Ok(keys)) => {
            assert_eq!(
                names(&keys),
                expected,
                "{shown}: keys differ from COMMAND GETKEYS"
            );
            let name = lookup_name(args);
            (!expected.is_empty()).then_some(name)
        }
        (Oracle::NoKeyArguments, Ok(keys)) => {
            assert!(
                keys.is_empty(),
                "{shown}: the server says it takes no keys, got {:?}",
                names(&keys)
            );
            None
        }
        (Oracle::Invalid, Err(_)) => None,
        (Oracle::Unaskable, Ok(keys)) if keys.is_empty() => None,
        (Oracle::Unaskable, Err(KeyError::WrongArity { .. } | KeyError::UnknownCommand { .. })) => {
            None
        }
        // EVAL/FCALL with a numkeys the command itself rejects: the server
        // answers "no keys" (keys are optional for them), redmux says why.
        (Oracle::Keys(expected), Err(KeyError::NumKeys { .. }))
            if expected.is_empty()
                && table::lookup(&lookup_name(args))
                    .is_some_and(|info| info.flags().contains(Flags::NO_MANDATORY_KEYS)) =>
        {
            None
        }
        (oracle, ours) => panic!("{shown}: COMMAND GETKEYS says {oracle:?}, redmux says {ours:?}"),
    }
}

/// The table's name for a command line (`object|encoding`).
fn lookup_name(args: &[Vec<u8>]) -> String {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let info = table::lookup(&name).expect("in the table");
    match args.get(1) {
        Some(sub) if info.is_container() => {
            format!(
                "{name}|{}",
                String::from_utf8_lossy(sub).to_ascii_lowercase()
            )
        }
        _ => name,
    }
}

fn line(text: &str) -> Vec<Vec<u8>> {
    text.split(' ').map(|a| a.as_bytes().to_vec()).collect()
}

/// Command lines of many shapes, each written as the server would get it.
const CASES: &[&str] = &[
    // Strings: one key at index 1.
    "APPEND k v",
    "DECR k",
    "DECRBY k 1",
    "get k",
    "GETDEL k",
    "GETEX k EX 10",
    "GETRANGE k 0 1",
    "GETSET k v",
    "INCR k",
    "INCRBY k 1",
    "INCRBYFLOAT k 1.5",
    "PSETEX k 100 v",
    "SET k v",
    "SET k v GET",
    "SET k v EX 10 NX",
    "SETEX k 10 v",
    "SETNX k v",
    "SETRANGE k 0 v",
    "STRLEN k",
    "SUBSTR k 0 1",
    // Ranges to the end, with steps.
    "LCS a b",
    "MGET a b c",
    "MSET a 1 b 2 c 3",
    "MSET a 1 b",
    "MSETNX a 1 b 2",
    "DEL a b c",
    "EXISTS a b",
    "TOUCH a b",
    "UNLINK a",
    "WATCH a b",
    "PFCOUNT a b",
    "PFMERGE d a b",
    "SDIFF a b",
    "SDIFFSTORE d a b",
    "SINTER a b c",
    "SINTERSTORE d a",
    "SUNION a",
    "SUNIONSTORE d a b",
    // Negative lastkey: the timeout at the end is not a key.
    "BLPOP a b 0",
    "BRPOP a 0",
    "BZPOPMAX a b 0",
    "BZPOPMIN a 1.5",
    // Two specs.
    "BITOP AND d a b",
    "BLMOVE a b LEFT RIGHT 0",
    "BRPOPLPUSH a b 0",
    "COPY a b",
    "COPY a b DB 1 REPLACE",
    "LMOVE a b LEFT RIGHT",
    "RENAME a b",
    "RENAMENX a b",
    "RPOPLPUSH a b",
    "SMOVE a b m",
    "ZRANGESTORE d k 0 1",
    "GEOSEARCHSTORE d k FROMMEMBER m BYRADIUS 1 km",
    // Bitmaps.
    "BITCOUNT k",
    "BITCOUNT k 0 1 BIT",
    "BITFIELD k GET u8 0",
    "BITFIELD k SET u8 0 1",
    "BITFIELD_RO k GET u8 0",
    "BITPOS k 1",
    "GETBIT k 0",
    "SETBIT k 0 1",
    // Keyspace.
    "DUMP k",
    "EXPIRE k 10",
    "EXPIRE k 10 NX",
    "EXPIREAT k 1",
    "EXPIRETIME k",
    "MOVE k 1",
    "PERSIST k",
    "PEXPIRE k 1",
    "PEXPIREAT k 1",
    "PEXPIRETIME k",
    "PTTL k",
    "RESTORE k 0 x",
    "RESTORE-ASKING k 0 x REPLACE",
    "TTL k",
    "TYPE k",
    // Subcommands.
    "OBJECT ENCODING k",
    "object freq k",
    "OBJECT IDLETIME k",
    "OBJECT REFCOUNT k",
    "MEMORY USAGE k",
    "MEMORY USAGE k SAMPLES 5",
    "XGROUP CREATE s g $ MKSTREAM",
    "XGROUP CREATECONSUMER s g c",
    "XGROUP DELCONSUMER s g c",
    "XGROUP DESTROY s g",
    "XGROUP SETID s g $",
    "XINFO CONSUMERS s g",
    "XINFO GROUPS s",
    "XINFO STREAM s FULL",
    // Hashes.
    "HDEL k f g",
    "HEXISTS k f",
    "HGET k f",
    "HGETALL k",
    "HINCRBY k f 1",
    "HINCRBYFLOAT k f 1.5",
    "HKEYS k",
    "HLEN k",
    "HMGET k f g",
    "HMSET k f v",
    "HRANDFIELD k 2 WITHVALUES",
    "HSCAN k 0 MATCH x*",
    "HSET k f v g w",
    "HSETNX k f v",
    "HSTRLEN k f",
    "HVALS k",
    // Lists.
    "LINDEX k 0",
    "LINSERT k BEFORE p v",
    "LLEN k",
    "LPOP k 2",
    "LPOS k v RANK 1",
    "LPUSH k a b",
    "LPUSHX k v",
    "LRANGE k 0 -1",
    "LREM k 0 v",
    "LSET k 0 v",
    "LTRIM k 0 1",
    "RPOP k",
    "RPUSH k v",
    "RPUSHX k v",
    // Sets.
    "SADD k m",
    "SCARD k",
    "SISMEMBER k m",
    "SMEMBERS k",
    "SMISMEMBER k a b",
    "SPOP k",
    "SRANDMEMBER k 2",
    "SREM k m",
    "SSCAN k 0",
    // Sorted sets.
    "ZADD k 1 m",
    "ZADD k NX CH 1 m 2 n",
    "ZCARD k",
    "ZCOUNT k 0 1",
    "ZINCRBY k 1 m",
    "ZLEXCOUNT k - +",
    "ZMSCORE k a b",
    "ZPOPMAX k",
    "ZPOPMIN k 2",
    "ZRANDMEMBER k",
    "ZRANGE k 0 1",
    "ZRANGE k (1 5 BYSCORE LIMIT 0 1",
    "ZRANGEBYLEX k - +",
    "ZRANGEBYSCORE k 0 1",
    "ZRANK k m",
    "ZREM k m",
    "ZREMRANGEBYLEX k - +",
    "ZREMRANGEBYRANK k 0 1",
    "ZREMRANGEBYSCORE k 0 1",
    "ZREVRANGE k 0 1",
    "ZREVRANGEBYLEX k + -",
    "ZREVRANGEBYSCORE k 1 0",
    "ZREVRANK k m",
    "ZSCAN k 0",
    "ZSCORE k m",
    // numkeys.
    "ZUNION 2 a b",
    "ZUNION 2 a b WEIGHTS 1 2 AGGREGATE MAX",
    "ZUNIONSTORE d 2 a b",
    "ZuNiOnStOrE d 1 a",
    "ZINTER 2 a b WITHSCORES",
    "ZINTERCARD 2 a b LIMIT 1",
    "ZINTERSTORE d 3 a b c",
    "ZDIFF 2 a b",
    "ZDIFFSTORE d 2 a b",
    "ZMPOP 2 a b MIN",
    "ZMPOP 1 a MAX COUNT 2",
    "BZMPOP 0 2 a b MIN",
    "LMPOP 2 a b LEFT",
    "LMPOP 2 a LEFT",
    "BLMPOP 0 1 a RIGHT COUNT 2",
    "SINTERCARD 2 a b",
    "SINTERCARD 1 a LIMIT 5",
    "EVAL s 2 a b x y",
    "EVAL s 0",
    "EVAL s 0 x",
    "EVALSHA sha 1 a",
    "EVAL_RO s 1 a x",
    "EVALSHA_RO sha 2 a b",
    "FCALL f 1 a x",
    "FCALL f 0",
    "FCALL_RO f 2 a b",
    // numkeys the server cannot use.
    "ZUNION 0 a",
    "ZUNIONSTORE d 0 a",
    "ZINTER 3 a b",
    "LMPOP 5 a LEFT",
    "BLMPOP 0 9 a LEFT",
    "SINTERCARD 0 a",
    "EVAL s 3 a",
    "EVAL s -1 a",
    "EVAL s x a",
    "FCALL f 2 a",
    // Keywords: STREAMS.
    "XREAD STREAMS a 0",
    "XREAD COUNT 1 STREAMS a b 0 0",
    "XREAD BLOCK 0 STREAMS a $",
    "xread count 1 streams a b c",
    "XREAD COUNT 1 a b",
    "XREAD COUNT 1 STREAMS a",
    "XREADGROUP GROUP g c STREAMS a >",
    "XREADGROUP GROUP g c COUNT 1 NOACK STREAMS a b > >",
    "XREADGROUP GROUP STREAMS c STREAMS a >",
    // Keywords: STORE / STOREDIST.
    "GEORADIUS k 0 0 1 km",
    "GEORADIUS k 0 0 1 km STORE d",
    "GEORADIUS k 0 0 1 km STOREDIST d",
    "GEORADIUS k 0 0 1 km STORE d STOREDIST e",
    "GEORADIUS k 0 0 1 km WITHDIST STORE",
    "GEORADIUS_RO k 0 0 1 km",
    "GEORADIUSBYMEMBER k m 1 km STORE d",
    "GEORADIUSBYMEMBER_RO k m 1 km",
    "GEOADD k 0 0 m",
    "GEODIST k a b",
    "GEOHASH k m",
    "GEOPOS k m n",
    "GEOSEARCH k FROMMEMBER m BYRADIUS 1 km",
    // SORT and SORT_RO: the server's own rules.
    "SORT k",
    "SORT k STORE d",
    "SORT k LIMIT 0 1 STORE d",
    "SORT k STORE a STORE b",
    "SORT k BY w_* GET # GET o_* STORE d",
    "SORT k STORE",
    "SORT k LIMIT STORE d",
    "SORT_RO k",
    "SORT_RO k BY w_* GET o_*",
    // MIGRATE: one key, or KEYS.
    "MIGRATE h 1 k 0 10",
    "MIGRATE h 1 k 0 10 COPY REPLACE",
    "MIGRATE h 1  0 10 KEYS a b",
    "MIGRATE h 1  0 10 COPY AUTH pw KEYS a",
    "MIGRATE h 1  0 10 AUTH2 u p KEYS a b c",
    "MIGRATE h 1  0 10 AUTH keys KEYS a",
    "MIGRATE h 1 k 0 10 KEYS a",
    "MIGRATE h 1  0 10",
    // Streams, other.
    "XACK s g 1-0 2-0",
    "XADD s * f v",
    "XADD s NOMKSTREAM MAXLEN 10 * f v",
    "XAUTOCLAIM s g c 0 0",
    "XCLAIM s g c 0 1-0",
    "XDEL s 1-0",
    "XLEN s",
    "XPENDING s g",
    "XRANGE s - +",
    "XREVRANGE s + -",
    "XSETID s 1-0",
    "XTRIM s MAXLEN 1",
    // HyperLogLog.
    "PFADD k a b",
    "PFDEBUG GETREG k",
    // Arity, unknown commands and keyless commands.
    "GET a b",
    "LPUSH k",
    "NOSUCHCOMMAND k",
    "OBJECT NOPE k",
    "OBJECT",
    "PING",
    "CLIENT LIST",
    "CONFIG GET maxmemory",
    "SPUBLISH ch msg",
    "PUBLISH ch msg",
];

#[tokio::test]
async fn hand_written_cases_agree_with_command_getkeys() {
    let server = RedisServer::start();
    let mux = Multiplexer::connect(server.addr().as_str())
        .await
        .expect("connect");
    let db = mux.database(0);
    let mut commands = BTreeSet::new();
    for case in CASES {
        if let Some(name) = check(&db, &line(case)).await {
            commands.insert(name);
        }
    }
    // Keys that are not plain words.
    let binary = vec![
        b"MSET".to_vec(),
        b"a\r\nb".to_vec(),
        b"1".to_vec(),
        Vec::new(),
        b"2".to_vec(),
    ];
    assert_eq!(check(&db, &binary).await.as_deref(), Some("mset"));
    assert!(
        commands.len() >= 100,
        "only {} distinct commands with keys were checked",
        commands.len()
    );
    eprintln!(
        "{} hand-written command lines, {} distinct commands with keys",
        CASES.len() + 1,
        commands.len()
    );
}

/// Argument lists built from `COMMAND DOCS` argument trees: `full` includes
/// each optional argument once and repeats each multiple argument twice.
struct Synth {
    next: usize,
    full: bool,
}

impl Synth {
    fn args(&mut self, args: &[Json], out: &mut Vec<Vec<u8>>) {
        for arg in args {
            self.arg(arg, out);
        }
    }

    fn arg(&mut self, arg: &Json, out: &mut Vec<Vec<u8>>) {
        let flags: Vec<&str> = arg["flags"]
            .as_array()
            .map(|f| f.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if flags.contains(&"optional") && !self.full {
            return;
        }
        let times = if flags.contains(&"multiple") && self.full {
            2
        } else {
            1
        };
        for round in 0..times {
            if let Some(token) = arg["token"].as_str() {
                if round == 0 || flags.contains(&"multiple_token") {
                    out.push(token.as_bytes().to_vec());
                }
            }
            self.next += 1;
            let n = self.next;
            match arg["type"].as_str().unwrap_or("string") {
                "key" => out.push(format!("k{n}").into_bytes()),
                "integer" | "unix-time" => out.push(b"1".to_vec()),
                "double" => out.push(b"1.5".to_vec()),
                "pure-token" => {}
                "oneof" => {
                    let choices = arg["arguments"].as_array().cloned().unwrap_or_default();
                    let pick = if self.full {
                        choices.last()
                    } else {
                        choices.first()
                    };
                    if let Some(choice) = pick {
                        self.arg(choice, out);
                    }
                }
                "block" => {
                    let inner = arg["arguments"].as_array().cloned().unwrap_or_default();
                    self.args(&inner, out);
                }
                _ => out.push(format!("s{n}").into_bytes()),
            }
        }
    }
}

#[tokio::test]
async fn every_command_with_keys_agrees_with_command_getkeys() {
    let dump: Json = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/table/commands.json"
        ))
        .expect("read the dump"),
    )
    .expect("the dump is JSON");
    let server = RedisServer::start();
    let mux = Multiplexer::connect(server.addr().as_str())
        .await
        .expect("connect");
    let db = mux.database(0);
    let mut lines = Vec::new();
    for info in table::commands() {
        let entries: Vec<(&str, &str)> = if info.is_container() {
            info.subcommands()
                .iter()
                .map(|sub| (info.name(), sub.name()))
                .collect()
        } else {
            vec![(info.name(), info.name())]
        };
        for (top, name) in entries {
            let entry = if top == name {
                &dump["commands"][top]
            } else {
                &dump["commands"][top]["subcommands"][name]
            };
            let docs = entry["docs"]["arguments"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for full in [false, true] {
                let mut argv: Vec<Vec<u8>> =
                    name.split('|').map(|p| p.as_bytes().to_vec()).collect();
                Synth { next: 0, full }.args(&docs, &mut argv);
                lines.push(argv);
            }
        }
    }
    let mut with_keys = BTreeSet::new();
    for argv in &lines {
        if let Some(name) = check(&db, argv).await {
            with_keys.insert(name);
        }
    }
    let expected: BTreeSet<String> = table::commands()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands()))
        .filter(|c| c.has_keys())
        .map(|c| c.name().to_owned())
        .collect();
    let missed: Vec<&String> = expected.difference(&with_keys).collect();
    assert!(missed.is_empty(), "never saw keys for {missed:?}");
    eprintln!(
        "{} generated command lines; all {} commands with keys agree",
        lines.len(),
        with_keys.len()
    );
}

#[test]
fn malformed_encodings_never_reach_the_algorithm() {
    for input in [
        &b""[..],
        b"*",
        b"*1\r\n",
        b"*1\r\n$3\r\nGE",
        b"*2\r\n$3\r\nGET\r\n",
        b"*1\r\n$3\r\nGET\r\n*1\r\n$4\r\nPING\r\n",
        b"PING\r\n",
    ] {
        let err = table::keys_in_encoded(input).unwrap_err();
        assert!(
            matches!(err, KeyError::Malformed { .. }),
            "{input:?}: {err}"
        );
    }
}

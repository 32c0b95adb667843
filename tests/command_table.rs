//! The command table's generator, and the tests that keep it honest.
//!
//! Data flow: a real redis-server describes its commands (`COMMAND INFO`,
//! `COMMAND DOCS`, fetched through redmux over RESP3 so nested maps stay
//! maps) → [`dump_from_server`] normalises that into sorted, pretty JSON,
//! committed as `src/table/commands.json` → [`generate_rust`] turns the dump
//! into `src/table/generated.rs`, the static table the library compiles.
//! The build never needs a server or a build script.
//!
//! * `committed_table_matches_the_server`: the committed dump equals what
//!   this machine's redis-server reports; on a difference it fails naming
//!   the commands added, removed and changed, and both server versions.
//!   With `REDMUX_REGENERATE=1` it writes both files instead
//!   (`scripts/gen-command-table.sh`).
//! * `generated_rust_matches_the_committed_dump`: `generated.rs` is exactly
//!   what the generator makes of the committed dump (no hand edits).
//! * `server_info_parses_to_the_static_table_*`: every live `COMMAND INFO`
//!   entry, read with `parse_command_info` over RESP2 and RESP3, equals the
//!   static table's entry, tying the run-time parser to the generated table.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use redmux::prelude::*;
use redmux::table::{self, AclCategories, CommandInfo, Flags, KeySpecFlags};
use redmux::Value;
use serde_json::{Map, Value as Json};
use support::RedisServer;

const DUMP: &str = "src/table/commands.json";
const GENERATED: &str = "src/table/generated.rs";

fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn regenerating() -> bool {
    std::env::var("REDMUX_REGENERATE").is_ok_and(|v| v == "1")
}

// ----- server → JSON -------------------------------------------------------

/// Any reply as JSON: maps become objects with sorted keys; arrays and sets
/// become arrays in the server's order.
fn to_json(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::SimpleString(b) | Value::BulkString(b) | Value::VerbatimString { text: b, .. } => {
            Json::String(String::from_utf8_lossy(b).into_owned())
        }
        Value::Int(n) => Json::from(*n),
        Value::Double(d) => Json::from(*d),
        Value::Boolean(b) => Json::Bool(*b),
        // Sets keep the server's order, which is fixed for a given server
        // version, and must: RESP3 sends key specs as a set, yet argument
        // docs refer to a spec by its index.
        Value::Array(items) | Value::Set(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(pairs) => object(
            pairs
                .iter()
                .map(|(k, v)| (json_key(k), to_json(v)))
                .collect(),
        ),
        other => panic!("unexpected {} in a COMMAND reply", other.type_name()),
    }
}

fn json_key(value: &Value) -> String {
    match to_json(value) {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

/// An object with its keys inserted in sorted order, so the output is sorted
/// whether or not serde_json preserves insertion order.
fn object(entries: BTreeMap<String, Json>) -> Json {
    let mut map = Map::new();
    for (k, v) in entries {
        map.insert(k, v);
    }
    Json::Object(map)
}

/// One `COMMAND INFO` entry (with its docs) as a named-field object.
fn info_entry(entry: &Value, docs: &Json) -> (String, Json) {
    let Value::Array(items) = entry else {
        panic!("COMMAND INFO entry is not an array: {entry:?}")
    };
    assert_eq!(items.len(), 10, "a 7.x COMMAND INFO entry has 10 fields");
    let name = json_key(&items[0]);
    let mut fields = BTreeMap::new();
    fields.insert("arity".into(), to_json(&items[1]));
    fields.insert("flags".into(), to_json(&items[2]));
    fields.insert("first_key".into(), to_json(&items[3]));
    fields.insert("last_key".into(), to_json(&items[4]));
    fields.insert("key_step".into(), to_json(&items[5]));
    fields.insert("acl_categories".into(), to_json(&items[6]));
    fields.insert("tips".into(), to_json(&items[7]));
    fields.insert("key_specs".into(), to_json(&items[8]));
    let mut own_docs = match docs {
        Json::Object(map) => map.clone(),
        Json::Null => Map::new(),
        other => panic!("COMMAND DOCS of {name} is not a map: {other}"),
    };
    let sub_docs = own_docs.remove("subcommands").unwrap_or(Json::Null);
    // No subcommands is an empty set, some are an array.
    let (Value::Array(subs) | Value::Set(subs)) = &items[9] else {
        panic!("subcommands of {name} are not an array")
    };
    let subcommands = subs
        .iter()
        .map(|sub| {
            let sub_name = match sub {
                Value::Array(fields) => json_key(&fields[0]),
                _ => panic!("subcommand of {name} is not an array"),
            };
            info_entry(sub, sub_docs.get(&sub_name).unwrap_or(&Json::Null))
        })
        .collect();
    fields.insert("subcommands".into(), object(subcommands));
    fields.insert("docs".into(), object(own_docs.into_iter().collect()));
    (name, object(fields))
}

/// The server's description of itself, normalised.
async fn dump_from_server(server: &RedisServer) -> Json {
    let mux = server.connect(",protocol=resp3").await;
    let db = mux.database(0);
    let info: Value = db.execute("COMMAND", ["INFO"]).await.expect("COMMAND INFO");
    let docs: Value = db.execute("COMMAND", ["DOCS"]).await.expect("COMMAND DOCS");
    let docs = to_json(&docs);
    let Value::Array(entries) = info else {
        panic!("COMMAND INFO is not an array")
    };
    let commands = entries
        .iter()
        .map(|entry| {
            let name = match entry {
                Value::Array(fields) => json_key(&fields[0]),
                _ => panic!("COMMAND INFO entry is not an array"),
            };
            info_entry(entry, docs.get(&name).unwrap_or(&Json::Null))
        })
        .collect();
    let version: String = db.execute("INFO", ["server"]).await.expect("INFO server");
    let version = version
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .expect("redis_version in INFO")
        .trim()
        .to_owned();
    let mut top = BTreeMap::new();
    top.insert(
        "generated_by".into(),
        Json::from("tests/command_table.rs (run scripts/gen-command-table.sh); do not edit"),
    );
    top.insert("server_version".into(), Json::from(version));
    top.insert("commands".into(), object(commands));
    object(top)
}

fn to_text(dump: &Json) -> String {
    let mut text = serde_json::to_string_pretty(dump).expect("JSON text");
    text.push('\n');
    text
}

// ----- JSON → Rust ---------------------------------------------------------

fn str_field<'a>(entry: &'a Json, field: &str, name: &str) -> Result<&'a str, String> {
    entry
        .get(field)
        .and_then(Json::as_str)
        .ok_or_else(|| format!("{name}: {field} is not a string"))
}

fn int_field(entry: &Json, field: &str, name: &str) -> Result<i64, String> {
    entry
        .get(field)
        .and_then(Json::as_i64)
        .ok_or_else(|| format!("{name}: {field} is not an integer"))
}

fn names<'a>(entry: &'a Json, field: &str, name: &str) -> Result<Vec<&'a str>, String> {
    entry
        .get(field)
        .and_then(Json::as_array)
        .ok_or_else(|| format!("{name}: {field} is not an array"))?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| format!("{name}: {field} holds a non-string"))
        })
        .collect()
}

/// `T::of(&[T::A, T::B])` for a set of server names, each checked against
/// the bitset so the generated code always compiles.
fn bitset(
    alias: &str,
    list: &[&str],
    known: impl Fn(&str) -> bool,
    what: &str,
    name: &str,
) -> Result<String, String> {
    if list.is_empty() {
        return Ok(format!("{alias}::EMPTY"));
    }
    let mut members = Vec::new();
    for item in list {
        let bare = item.strip_prefix('@').unwrap_or(item);
        if !known(bare) {
            return Err(format!(
                "{name}: {what} '{item}' is unknown to redmux::table; add it to src/table/spec.rs first"
            ));
        }
        members.push(format!("{alias}::{}", bare.to_ascii_uppercase()));
    }
    Ok(format!("{alias}::of(&[{}])", members.join(", ")))
}

fn key_spec(spec: &Json, name: &str) -> Result<String, String> {
    let flags = bitset(
        "K",
        &names(spec, "flags", name)?,
        |f| KeySpecFlags::from_name(f).is_some(),
        "key-spec flag",
        name,
    )?;
    let begin = spec
        .get("begin_search")
        .ok_or(format!("{name}: no begin_search"))?;
    let begin_spec = begin.get("spec").unwrap_or(&Json::Null);
    let begin_search = match str_field(begin, "type", name)? {
        "index" => format!(
            "BeginSearch::Index {{ pos: {} }}",
            int_field(begin_spec, "index", name)?
        ),
        "keyword" => format!(
            "BeginSearch::Keyword {{ keyword: B({:?}), start_from: {} }}",
            str_field(begin_spec, "keyword", name)?,
            int_field(begin_spec, "startfrom", name)?
        ),
        "unknown" => "BeginSearch::Unknown".to_owned(),
        other => {
            return Err(format!(
                "{name}: begin_search type {other:?} is unknown to redmux::table"
            ))
        }
    };
    let find = spec
        .get("find_keys")
        .ok_or(format!("{name}: no find_keys"))?;
    let find_spec = find.get("spec").unwrap_or(&Json::Null);
    let find_keys = match str_field(find, "type", name)? {
        "range" => format!(
            "FindKeys::Range {{ last_key: {}, key_step: {}, limit: {} }}",
            int_field(find_spec, "lastkey", name)?,
            int_field(find_spec, "keystep", name)?,
            int_field(find_spec, "limit", name)?
        ),
        "keynum" => format!(
            "FindKeys::KeyNum {{ key_num_idx: {}, first_key: {}, key_step: {} }}",
            int_field(find_spec, "keynumidx", name)?,
            int_field(find_spec, "firstkey", name)?,
            int_field(find_spec, "keystep", name)?
        ),
        "unknown" => "FindKeys::Unknown".to_owned(),
        other => {
            return Err(format!(
                "{name}: find_keys type {other:?} is unknown to redmux::table"
            ))
        }
    };
    Ok(format!(
        "KeySpec {{ flags: {flags}, begin_search: {begin_search}, find_keys: {find_keys} }}"
    ))
}

fn command(out: &mut String, name: &str, entry: &Json, indent: usize) -> Result<(), String> {
    if name != name.to_ascii_lowercase() {
        return Err(format!("{name}: the table relies on lowercase names"));
    }
    let pad = " ".repeat(indent);
    let flags = bitset(
        "F",
        &names(entry, "flags", name)?,
        |f| Flags::from_name(f).is_some(),
        "flag",
        name,
    )?;
    let acl = bitset(
        "A",
        &names(entry, "acl_categories", name)?,
        |c| AclCategories::from_name(c).is_some(),
        "ACL category",
        name,
    )?;
    let tips: Vec<String> = names(entry, "tips", name)?
        .iter()
        .map(|t| format!("B({t:?})"))
        .collect();
    let docs = entry.get("docs").unwrap_or(&Json::Null);
    let optional = |field: &str| match docs.get(field).and_then(Json::as_str) {
        Some(text) => format!("Some(B({text:?}))"),
        None => "None".to_owned(),
    };
    writeln!(out, "{pad}CommandInfo {{").ok();
    writeln!(out, "{pad}    name: B({name:?}),").ok();
    writeln!(out, "{pad}    arity: {},", int_field(entry, "arity", name)?).ok();
    writeln!(out, "{pad}    flags: {flags},").ok();
    writeln!(
        out,
        "{pad}    legacy_keys: ({}, {}, {}),",
        int_field(entry, "first_key", name)?,
        int_field(entry, "last_key", name)?,
        int_field(entry, "key_step", name)?
    )
    .ok();
    writeln!(out, "{pad}    acl: {acl},").ok();
    writeln!(out, "{pad}    tips: B(&[{}]),", tips.join(", ")).ok();
    let specs = entry
        .get("key_specs")
        .and_then(Json::as_array)
        .ok_or(format!("{name}: key_specs is not an array"))?;
    if specs.is_empty() {
        writeln!(out, "{pad}    key_specs: B(&[]),").ok();
    } else {
        writeln!(out, "{pad}    key_specs: B(&[").ok();
        for spec in specs {
            writeln!(out, "{pad}        {},", key_spec(spec, name)?).ok();
        }
        writeln!(out, "{pad}    ]),").ok();
    }
    let subs = entry
        .get("subcommands")
        .and_then(Json::as_object)
        .ok_or(format!("{name}: subcommands is not an object"))?;
    if subs.is_empty() {
        writeln!(out, "{pad}    subcommands: B(&[]),").ok();
    } else {
        writeln!(out, "{pad}    subcommands: B(&[").ok();
        // Sorted by name: CommandInfo::subcommand binary-searches them.
        let sorted: BTreeMap<&String, &Json> = subs.iter().collect();
        for (sub, sub_entry) in sorted {
            if !sub.starts_with(&format!("{name}|")) {
                return Err(format!("{sub} is listed under {name}"));
            }
            command(out, sub, sub_entry, indent + 8)?;
        }
        writeln!(out, "{pad}    ]),").ok();
    }
    writeln!(out, "{pad}    group: {},", optional("group")).ok();
    writeln!(out, "{pad}    since: {},", optional("since")).ok();
    writeln!(out, "{pad}}},").ok();
    Ok(())
}

/// The Rust source of `generated.rs` for a dump.
fn generate_rust(dump: &Json) -> Result<String, String> {
    let version = str_field(dump, "server_version", "dump")?;
    let commands = dump
        .get("commands")
        .and_then(Json::as_object)
        .ok_or("dump: commands is not an object")?;
    let mut out = String::new();
    writeln!(
        out,
        "//! The static command table, as redis-server {version} describes itself.\n\
         //!\n\
         //! GENERATED from `src/table/commands.json` by `tests/command_table.rs`\n\
         //! (`scripts/gen-command-table.sh`); do not edit by hand. Arity, flags,\n\
         //! key range, ACL categories, tips, key specs and subcommands come from\n\
         //! `COMMAND INFO`; group and version from `COMMAND DOCS`. The rest of\n\
         //! the docs (summaries, argument trees) stays in the JSON dump.\n\
         \n\
         use std::borrow::Cow::Borrowed as B;\n\
         \n\
         use super::spec::AclCategories as A;\n\
         use super::spec::Flags as F;\n\
         use super::spec::KeySpecFlags as K;\n\
         use super::spec::{{BeginSearch, CommandInfo, FindKeys, KeySpec}};\n\
         \n\
         /// The redis-server version the table was generated from.\n\
         pub(super) const SERVER_VERSION: &str = {version:?};\n\
         \n\
         /// Every top-level command, sorted by name (lookups binary-search it).\n\
         pub(super) static COMMANDS: &[CommandInfo] = &["
    )
    .ok();
    let sorted: BTreeMap<&String, &Json> = commands.iter().collect();
    for (name, entry) in sorted {
        command(&mut out, name, entry, 4)?;
    }
    out.push_str("];\n");
    Ok(out)
}

// ----- comparing -----------------------------------------------------------

/// The names of the fields of two objects that differ, with subcommands
/// named one by one.
fn changed_fields(old: &Json, new: &Json) -> Vec<String> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
    fields.sort();
    fields.dedup();
    let mut out = Vec::new();
    for field in fields {
        let (a, b) = (old.get(field), new.get(field));
        if a == b {
            continue;
        }
        if field == "subcommands" {
            let (added, removed, changed) =
                compare_maps(a.unwrap_or(&Json::Null), b.unwrap_or(&Json::Null));
            out.extend(added.into_iter().map(|s| format!("{s} added")));
            out.extend(removed.into_iter().map(|s| format!("{s} removed")));
            out.extend(changed);
        } else {
            out.push(field.clone());
        }
    }
    out
}

/// Names added, removed, and "name (fields)" changed between two maps of commands.
fn compare_maps(old: &Json, new: &Json) -> (Vec<String>, Vec<String>, Vec<String>) {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let added = new
        .keys()
        .filter(|k| !old.contains_key(*k))
        .cloned()
        .collect();
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    let mut changed: Vec<String> = old
        .iter()
        .filter_map(|(name, entry)| {
            let other = new.get(name)?;
            (entry != other)
                .then(|| format!("{name} ({})", changed_fields(entry, other).join(", ")))
        })
        .collect();
    changed.sort();
    (added, removed, changed)
}

fn describe_difference(committed: &Json, fresh: &Json) -> Option<String> {
    let (added, removed, changed) = compare_maps(
        committed.get("commands").unwrap_or(&Json::Null),
        fresh.get("commands").unwrap_or(&Json::Null),
    );
    if added.is_empty() && removed.is_empty() && changed.is_empty() {
        return None;
    }
    let version = |dump: &Json| {
        dump.get("server_version")
            .and_then(Json::as_str)
            .unwrap_or("?")
            .to_owned()
    };
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    Some(format!(
        "the committed command table ({DUMP}, from redis-server {}) differs from what this \
         redis-server {} reports:\n  added: {}\n  removed: {}\n  changed: {}\n\
         If this server is the one to target, run scripts/gen-command-table.sh, review the \
         diff of src/table/ and commit both files; otherwise test against redis-server {}.",
        version(committed),
        version(fresh),
        list(&added),
        list(&removed),
        list(&changed),
        version(committed),
    ))
}

// ----- the tests -----------------------------------------------------------

#[tokio::test]
async fn committed_table_matches_the_server() {
    let server = RedisServer::start();
    let fresh = dump_from_server(&server).await;
    let rust = generate_rust(&fresh).unwrap_or_else(|e| panic!("cannot generate the table: {e}"));
    if regenerating() {
        std::fs::write(path(DUMP), to_text(&fresh)).expect("write the dump");
        std::fs::write(path(GENERATED), rust).expect("write the generated table");
        eprintln!("wrote {DUMP} and {GENERATED}");
        return;
    }
    let committed_text = std::fs::read_to_string(path(DUMP))
        .unwrap_or_else(|e| panic!("{DUMP} is missing ({e}); run scripts/gen-command-table.sh"));
    let committed: Json = serde_json::from_str(&committed_text)
        .unwrap_or_else(|e| panic!("{DUMP} is not valid JSON ({e}); regenerate it"));
    if let Some(difference) = describe_difference(&committed, &fresh) {
        panic!("{difference}");
    }
    if committed.get("server_version") != fresh.get("server_version") {
        eprintln!(
            "note: same commands, but the dump came from redis-server {} and this is {}",
            committed["server_version"], fresh["server_version"]
        );
    } else {
        assert_eq!(
            committed_text,
            to_text(&fresh),
            "same content but not the generator's formatting: run scripts/gen-command-table.sh"
        );
    }
}

#[test]
fn generated_rust_matches_the_committed_dump() {
    if regenerating() {
        return; // Being rewritten by the other test.
    }
    let dump: Json =
        serde_json::from_str(&std::fs::read_to_string(path(DUMP)).expect("read the dump"))
            .expect("the dump is JSON");
    let expected =
        generate_rust(&dump).unwrap_or_else(|e| panic!("cannot generate the table: {e}"));
    let actual = std::fs::read_to_string(path(GENERATED)).expect("read generated.rs");
    if let Some((line, (want, got))) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        panic!(
            "{GENERATED} was edited or is stale: line {} is\n  {got}\nbut the generator makes\n  {want}\n\
             run scripts/gen-command-table.sh",
            line + 1
        );
    }
    assert_eq!(
        expected.lines().count(),
        actual.lines().count(),
        "{GENERATED} has a different length than the generator's output; run scripts/gen-command-table.sh"
    );
    assert_eq!(
        table::server_version(),
        dump["server_version"].as_str().unwrap_or("?")
    );
}

#[test]
fn the_comparison_names_what_changed() {
    let old: Json = serde_json::json!({
        "server_version": "7.0.15",
        "commands": {
            "get": {"arity": 2, "flags": ["readonly"], "subcommands": {}},
            "old": {"arity": 1, "subcommands": {}},
            "client": {"arity": -2, "subcommands": {"client|list": {"arity": -2}, "client|id": {"arity": 2}}}
        }
    });
    let new: Json = serde_json::json!({
        "server_version": "7.2.4",
        "commands": {
            "get": {"arity": 2, "flags": ["readonly", "fast"], "subcommands": {}},
            "new": {"arity": 1, "subcommands": {}},
            "client": {"arity": -2, "subcommands": {"client|list": {"arity": -3}, "client|no-touch": {"arity": 3}, "client|id": {"arity": 2}}}
        }
    });
    let text = describe_difference(&old, &new).expect("they differ");
    for needle in [
        "redis-server 7.0.15",
        "redis-server 7.2.4",
        "added: new",
        "removed: old",
        "get (flags)",
        "client (client|no-touch added, client|list (arity))",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert_eq!(describe_difference(&old, &old), None);
}

/// Compares everything `COMMAND INFO` says (group and version come from
/// `COMMAND DOCS`, so a parsed entry does not have them).
fn same_info(parsed: &CommandInfo, table: &CommandInfo) -> Result<(), String> {
    let name = table.name();
    let check = |what: &str, equal: bool| {
        if equal {
            Ok(())
        } else {
            Err(format!("{name}: {what} differs"))
        }
    };
    check("name", parsed.name() == name)?;
    check("arity", parsed.arity() == table.arity())?;
    check("flags", parsed.flags() == table.flags())?;
    check(
        "ACL categories",
        parsed.acl_categories() == table.acl_categories(),
    )?;
    check(
        "legacy key range",
        parsed.legacy_key_range() == table.legacy_key_range(),
    )?;
    check("tips", parsed.tips().eq(table.tips()))?;
    check("key specs", parsed.key_specs() == table.key_specs())?;
    check(
        "subcommand count",
        parsed.subcommands().len() == table.subcommands().len(),
    )?;
    for (a, b) in parsed.subcommands().iter().zip(table.subcommands()) {
        same_info(a, b)?;
    }
    check("group", parsed.group().is_none() && table.group().is_some())
}

async fn parsed_info_matches_the_table(protocol: &str) {
    let server = RedisServer::start();
    let db = server
        .connect(&format!(",protocol={protocol}"))
        .await
        .database(0);
    let reply: Value = db.execute("COMMAND", ["INFO"]).await.expect("COMMAND INFO");
    let Value::Array(entries) = reply else {
        panic!("COMMAND INFO is not an array")
    };
    assert_eq!(entries.len(), table::commands().count());
    let mut checked = 0;
    for entry in &entries {
        let parsed = table::parse_command_info(entry).unwrap_or_else(|e| panic!("{e}"));
        let static_entry = table::lookup(parsed.name())
            .unwrap_or_else(|| panic!("{} is not in the static table", parsed.name()));
        same_info(&parsed, static_entry).unwrap_or_else(|e| panic!("{protocol}: {e}"));
        checked += 1 + parsed.subcommands().len();
    }
    assert_eq!(
        checked,
        table::commands()
            .map(|c| 1 + c.subcommands().len())
            .sum::<usize>()
    );
}

#[tokio::test]
async fn server_info_parses_to_the_static_table_resp2() {
    parsed_info_matches_the_table("resp2").await;
}

#[tokio::test]
async fn server_info_parses_to_the_static_table_resp3() {
    parsed_info_matches_the_table("resp3").await;
}

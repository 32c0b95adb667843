//! Reading one `COMMAND INFO` entry into a [`CommandInfo`].
//!
//! For commands the static table lacks (a module, a newer server): the
//! registry sends `COMMAND INFO name`, and this turns the reply into the same
//! type the generated table uses, with owned data. Both reply shapes are
//! accepted: in RESP2 a key spec and its parts are flat arrays of
//! name/value pairs, in RESP3 they are maps, and flag lists may be sets.
//! Names the type does not know (a flag or category added by a later server)
//! are skipped rather than refused, so an upgrade never breaks a lookup.

use std::borrow::Cow;

use crate::resp::Value;

use super::spec::{
    AclCategories, BeginSearch, CommandInfo, FindKeys, Flags, KeySpec, KeySpecFlags,
};

/// A `COMMAND INFO` entry that does not have the documented shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot read a COMMAND INFO entry: {detail}")]
pub struct ParseError {
    detail: String,
}

impl ParseError {
    fn new(detail: impl Into<String>) -> ParseError {
        ParseError {
            detail: detail.into(),
        }
    }
}

/// Reads one entry of a `COMMAND INFO` reply (RESP2 or RESP3 shape).
///
/// The entry is the array `[name, arity, flags, first key, last key, step,
/// ACL categories, tips, key specs, subcommands]`; servers before 7.0 send
/// only the first six or seven fields, and their key range becomes one key
/// spec. Group and version are not in `COMMAND INFO`, so they are `None`.
///
/// ```
/// use redmux::table::{parse_command_info, Flags};
/// use redmux::Value;
/// let s = |t: &str| Value::BulkString(t.to_owned().into());
/// let entry = Value::Array(vec![
///     s("mymodule.get"), Value::Int(2),
///     Value::Array(vec![s("readonly"), s("module")]),
///     Value::Int(1), Value::Int(1), Value::Int(1),
///     Value::Array(vec![s("@read")]),
/// ]);
/// let info = parse_command_info(&entry).unwrap();
/// assert_eq!(info.name(), "mymodule.get");
/// assert!(info.flags().contains(Flags::READONLY | Flags::MODULE));
/// let keys = redmux::table::KeySearch::new().with_command(&info).in_args(&["MYMODULE.GET", "k"]).unwrap();
/// assert_eq!(keys.indices().collect::<Vec<_>>(), vec![1]);
/// ```
///
/// # Errors
/// [`ParseError`] naming the first field that is missing or of the wrong type.
pub fn parse_command_info(entry: &Value) -> Result<CommandInfo, ParseError> {
    let items = list(entry)
        .ok_or_else(|| ParseError::new(format!("expected an array, got {}", entry.type_name())))?;
    if items.len() < 6 {
        return Err(ParseError::new(format!(
            "expected at least 6 fields, got {}",
            items.len()
        )));
    }
    let name = text(&items[0], "name")?.to_ascii_lowercase();
    let arity = int(&items[1], "arity")?;
    let mut flags = Flags::EMPTY;
    for flag in texts(&items[2], "flags")? {
        flags |= Flags::from_name(flag).unwrap_or(Flags::EMPTY);
    }
    let legacy_keys = (
        int(&items[3], "first key")?,
        int(&items[4], "last key")?,
        int(&items[5], "step")?,
    );
    let mut acl = AclCategories::EMPTY;
    if let Some(categories) = items.get(6) {
        for category in texts(categories, "ACL categories")? {
            let bare = category.strip_prefix('@').unwrap_or(category);
            acl |= AclCategories::from_name(bare).unwrap_or(AclCategories::EMPTY);
        }
    }
    let tips = match items.get(7) {
        Some(tips) => texts(tips, "tips")?
            .into_iter()
            .map(|tip| Cow::Owned(tip.to_owned()))
            .collect(),
        None => Vec::new(),
    };
    let key_specs = match items.get(8) {
        Some(specs) => list(specs)
            .ok_or_else(|| ParseError::new("key specs: expected an array"))?
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                key_spec(spec).map_err(|e| ParseError::new(format!("key spec #{i}: {}", e.detail)))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => legacy_spec(legacy_keys).into_iter().collect(),
    };
    let mut subcommands = match items.get(9) {
        Some(subs) => list(subs)
            .ok_or_else(|| ParseError::new("subcommands: expected an array"))?
            .iter()
            .map(parse_command_info)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    for sub in &subcommands {
        if sub.container() != Some(name.as_str()) {
            return Err(ParseError::new(format!(
                "subcommand {} does not belong to {name}",
                sub.name()
            )));
        }
    }
    // Lookups binary-search subcommands by name.
    subcommands.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(CommandInfo {
        name: Cow::Owned(name),
        arity,
        flags,
        legacy_keys,
        acl,
        tips: Cow::Owned(tips),
        key_specs: Cow::Owned(key_specs),
        subcommands: Cow::Owned(subcommands),
        group: None,
        since: None,
    })
}

/// Before Redis 7 a command's keys were only the range (first, last, step);
/// as a key spec that is "index first, range up to last" (a negative last
/// counts from the end). No flags are known.
fn legacy_spec((first, last, step): (i32, i32, i32)) -> Option<KeySpec> {
    if first <= 0 {
        return None;
    }
    let last_key = if last < 0 { last } else { last - first };
    Some(KeySpec::new(
        KeySpecFlags::EMPTY,
        BeginSearch::Index { pos: first },
        FindKeys::Range {
            last_key,
            key_step: step,
            limit: 0,
        },
    ))
}

fn key_spec(value: &Value) -> Result<KeySpec, ParseError> {
    let fields = fields(value)?;
    let mut flags = KeySpecFlags::EMPTY;
    if let Some(list) = field(&fields, "flags") {
        for flag in texts(list, "flags")? {
            flags |= KeySpecFlags::from_name(flag).unwrap_or(KeySpecFlags::EMPTY);
        }
    }
    let begin = fields_of(&fields, "begin_search")?;
    let begin_search = match text(
        field(&begin, "type").unwrap_or(&Value::Nil),
        "begin_search type",
    )? {
        "index" => {
            let spec = fields_of(&begin, "spec")?;
            BeginSearch::Index {
                pos: int_field(&spec, "index")?,
            }
        }
        "keyword" => {
            let spec = fields_of(&begin, "spec")?;
            BeginSearch::Keyword {
                keyword: Cow::Owned(
                    text(field(&spec, "keyword").unwrap_or(&Value::Nil), "keyword")?.to_owned(),
                ),
                start_from: int_field(&spec, "startfrom")?,
            }
        }
        _ => BeginSearch::Unknown,
    };
    let find = fields_of(&fields, "find_keys")?;
    let find_keys = match text(
        field(&find, "type").unwrap_or(&Value::Nil),
        "find_keys type",
    )? {
        "range" => {
            let spec = fields_of(&find, "spec")?;
            FindKeys::Range {
                last_key: int_field(&spec, "lastkey")?,
                key_step: int_field(&spec, "keystep")?,
                limit: int_field(&spec, "limit")?,
            }
        }
        "keynum" => {
            let spec = fields_of(&find, "spec")?;
            FindKeys::KeyNum {
                key_num_idx: int_field(&spec, "keynumidx")?,
                first_key: int_field(&spec, "firstkey")?,
                key_step: int_field(&spec, "keystep")?,
            }
        }
        _ => FindKeys::Unknown,
    };
    Ok(KeySpec::new(flags, begin_search, find_keys))
}

type Fields<'v> = Vec<(&'v str, &'v Value)>;

/// The name/value pairs of a RESP3 map or a RESP2 flat array.
fn fields(value: &Value) -> Result<Fields<'_>, ParseError> {
    match value {
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| Ok((text(k, "map key")?, v)))
            .collect(),
        Value::Array(items) if items.len() % 2 == 0 => items
            .chunks_exact(2)
            .map(|pair| Ok((text(&pair[0], "map key")?, &pair[1])))
            .collect(),
        Value::Nil => Ok(Vec::new()),
        other => Err(ParseError::new(format!(
            "expected a map or an array of pairs, got {}",
            other.type_name()
        ))),
    }
}

fn field<'v>(fields: &Fields<'v>, name: &str) -> Option<&'v Value> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

fn fields_of<'v>(fields: &Fields<'v>, name: &str) -> Result<Fields<'v>, ParseError> {
    let value = field(fields, name).ok_or_else(|| ParseError::new(format!("{name} is missing")))?;
    self::fields(value).map_err(|e| ParseError::new(format!("{name}: {}", e.detail)))
}

fn int_field(fields: &Fields<'_>, name: &str) -> Result<i32, ParseError> {
    int(
        field(fields, name).ok_or_else(|| ParseError::new(format!("{name} is missing")))?,
        name,
    )
}

fn list(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

fn text<'v>(value: &'v Value, what: &str) -> Result<&'v str, ParseError> {
    let bytes = match value {
        Value::BulkString(b) | Value::SimpleString(b) => b,
        Value::VerbatimString { text, .. } => text,
        other => {
            return Err(ParseError::new(format!(
                "{what}: expected a string, got {}",
                other.type_name()
            )))
        }
    };
    std::str::from_utf8(bytes).map_err(|_| ParseError::new(format!("{what}: not UTF-8")))
}

fn texts<'v>(value: &'v Value, what: &str) -> Result<Vec<&'v str>, ParseError> {
    list(value)
        .ok_or_else(|| {
            ParseError::new(format!(
                "{what}: expected an array or set, got {}",
                value.type_name()
            ))
        })?
        .iter()
        .map(|item| text(item, what))
        .collect()
}

fn int(value: &Value, what: &str) -> Result<i32, ParseError> {
    let wide = match value {
        Value::Int(n) => *n,
        other => text(other, what)?
            .parse::<i64>()
            .map_err(|_| ParseError::new(format!("{what}: expected an integer")))?,
    };
    i32::try_from(wide).map_err(|_| ParseError::new(format!("{what}: {wide} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::BulkString(text.to_owned().into())
    }

    fn pairs(items: Vec<(&str, Value)>, resp3: bool) -> Value {
        if resp3 {
            Value::Map(items.into_iter().map(|(k, v)| (s(k), v)).collect())
        } else {
            Value::Array(items.into_iter().flat_map(|(k, v)| [s(k), v]).collect())
        }
    }

    /// XREAD's entry as 7.0 sends it, in either protocol.
    fn xread(resp3: bool) -> Value {
        let set = |items: Vec<Value>| {
            if resp3 {
                Value::Set(items)
            } else {
                Value::Array(items)
            }
        };
        let spec = pairs(
            vec![
                ("flags", set(vec![s("RO"), s("access")])),
                (
                    "begin_search",
                    pairs(
                        vec![
                            ("type", s("keyword")),
                            (
                                "spec",
                                pairs(
                                    vec![("keyword", s("STREAMS")), ("startfrom", Value::Int(1))],
                                    resp3,
                                ),
                            ),
                        ],
                        resp3,
                    ),
                ),
                (
                    "find_keys",
                    pairs(
                        vec![
                            ("type", s("range")),
                            (
                                "spec",
                                pairs(
                                    vec![
                                        ("lastkey", Value::Int(-1)),
                                        ("keystep", Value::Int(1)),
                                        ("limit", Value::Int(2)),
                                    ],
                                    resp3,
                                ),
                            ),
                        ],
                        resp3,
                    ),
                ),
            ],
            resp3,
        );
        Value::Array(vec![
            s("xread"),
            Value::Int(-4),
            set(vec![
                s("readonly"),
                s("blocking"),
                s("movablekeys"),
                s("some_future_flag"),
            ]),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            set(vec![s("@read"), s("@stream"), s("@slow"), s("@blocking")]),
            set(vec![]),
            Value::Array(vec![spec]),
            Value::Array(vec![]),
        ])
    }

    #[test]
    fn resp2_and_resp3_shapes_give_the_same_info() {
        let two = parse_command_info(&xread(false)).unwrap();
        let three = parse_command_info(&xread(true)).unwrap();
        assert_eq!(two, three);
        assert_eq!(two.name(), "xread");
        assert_eq!(
            two.flags(),
            Flags::READONLY | Flags::BLOCKING | Flags::MOVABLEKEYS
        );
        assert!(two
            .acl_categories()
            .contains(AclCategories::STREAM | AclCategories::BLOCKING));
        assert_eq!(
            two.key_specs(),
            &[KeySpec::new(
                KeySpecFlags::RO | KeySpecFlags::ACCESS,
                BeginSearch::Keyword {
                    keyword: Cow::Borrowed("STREAMS"),
                    start_from: 1
                },
                FindKeys::Range {
                    last_key: -1,
                    key_step: 1,
                    limit: 2
                },
            )]
        );
        assert_eq!(
            Some(&two),
            crate::table::lookup("xread")
                .map(|t| {
                    // The static table also knows group and version; the rest must agree.
                    let mut t = t.clone();
                    t.group = None;
                    t.since = None;
                    t
                })
                .as_ref()
        );
    }

    #[test]
    fn pre_7_entries_get_a_spec_from_the_key_range() {
        let entry = Value::Array(vec![
            s("mset"),
            Value::Int(-3),
            Value::Array(vec![s("write")]),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(2),
        ]);
        let info = parse_command_info(&entry).unwrap();
        assert_eq!(
            info.key_specs(),
            &[KeySpec::new(
                KeySpecFlags::EMPTY,
                BeginSearch::Index { pos: 1 },
                FindKeys::Range {
                    last_key: -1,
                    key_step: 2,
                    limit: 0
                }
            )]
        );
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let err = parse_command_info(&Value::Int(1)).unwrap_err();
        assert!(err.to_string().contains("expected an array"), "{err}");
        let err = parse_command_info(&Value::Array(vec![s("x"), Value::Int(1)])).unwrap_err();
        assert!(err.to_string().contains("at least 6"), "{err}");
        let mut entry = match xread(false) {
            Value::Array(items) => items,
            _ => unreachable!("built as an array"),
        };
        entry[1] = s("many");
        let err = parse_command_info(&Value::Array(entry.clone())).unwrap_err();
        assert!(err.to_string().contains("arity"), "{err}");
        entry[1] = Value::Int(-4);
        entry[8] = Value::Array(vec![Value::Array(vec![s("flags")])]);
        let err = parse_command_info(&Value::Array(entry.clone())).unwrap_err();
        assert!(err.to_string().contains("key spec #0"), "{err}");
        entry[8] = Value::Array(vec![]);
        entry[9] = Value::Array(vec![xread(false)]);
        let err = parse_command_info(&Value::Array(entry)).unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }
}

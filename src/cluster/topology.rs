//! The cluster's topology: which node serves which slots, read from
//! `CLUSTER SHARDS` (Redis 7) or, on older servers, `CLUSTER SLOTS`.
//!
//! Both replies are read under RESP2 (flat arrays of name/value pairs)
//! and RESP3 (maps). Nodes that are not reachable as the server describes
//! them (no address, health `fail`) are left out; a slot no healthy
//! primary serves stays unassigned, and commands for it wait (see the
//! router).

use super::SLOTS;
use crate::commands::map_pairs;
use crate::config::Endpoint;
use crate::error::{Error, Result};
use crate::resp::Value;

/// One range of slots and the nodes serving it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shard {
    /// Inclusive slot ranges.
    pub(crate) ranges: Vec<(u16, u16)>,
    pub(crate) primary: Endpoint,
    pub(crate) replicas: Vec<Endpoint>,
}

/// Reads a `CLUSTER SHARDS` reply.
pub(crate) fn parse_shards(reply: Value) -> Result<Vec<Shard>> {
    let shards = match reply {
        Value::Array(items) | Value::Set(items) => items,
        other => return Err(bad("CLUSTER SHARDS", other.type_name())),
    };
    let mut out = Vec::new();
    for shard in shards {
        let mut ranges = Vec::new();
        let mut primary = None;
        let mut replicas = Vec::new();
        for (name, value) in map_pairs(shard, "a shard")? {
            match text(&name).as_deref() {
                Some("slots") => {
                    let bounds: Vec<u16> = items(value)
                        .into_iter()
                        .filter_map(|v| integer(&v))
                        .filter_map(|n| u16::try_from(n).ok())
                        .collect();
                    ranges.extend(bounds.chunks_exact(2).map(|p| (p[0], p[1])));
                }
                Some("nodes") => {
                    for node in items(value) {
                        let Some((endpoint, role, healthy)) = node_of(node) else {
                            continue;
                        };
                        if !healthy {
                            continue;
                        }
                        if role == "master" {
                            primary = Some(endpoint);
                        } else {
                            replicas.push(endpoint);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(primary) = primary {
            if !ranges.is_empty() {
                out.push(Shard {
                    ranges,
                    primary,
                    replicas,
                });
            }
        }
    }
    Ok(out)
}

/// A node of a `CLUSTER SHARDS` shard: its address, role, and whether it
/// is usable (`health` not `fail`).
fn node_of(node: Value) -> Option<(Endpoint, String, bool)> {
    let (mut host, mut ip, mut port, mut role, mut health) = (None, None, None, None, None);
    for (name, value) in map_pairs(node, "a node").ok()? {
        match text(&name).as_deref() {
            Some("endpoint") => host = text(&value),
            Some("ip") => ip = text(&value),
            Some("port") => port = integer(&value),
            Some("role") => role = text(&value),
            Some("health") => health = text(&value),
            _ => {}
        }
    }
    // `endpoint` is what clients should use ("?" when unknown).
    let host = host.filter(|h| !h.is_empty() && h != "?").or(ip)?;
    let port = u16::try_from(port?).ok()?;
    Some((
        Endpoint::new(&host, port),
        role.unwrap_or_default(),
        health.as_deref() != Some("fail"),
    ))
}

/// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replicas…], …]`.
pub(crate) fn parse_slots(reply: Value) -> Result<Vec<Shard>> {
    let Value::Array(rows) = reply else {
        return Err(bad("CLUSTER SLOTS", reply.type_name()));
    };
    let mut out: Vec<Shard> = Vec::new();
    for row in rows {
        let mut fields = items(row).into_iter();
        let (Some(start), Some(end)) = (
            fields.next().as_ref().and_then(integer),
            fields.next().as_ref().and_then(integer),
        ) else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u16::try_from(start), u16::try_from(end)) else {
            continue;
        };
        let mut nodes = fields.filter_map(|node| {
            let mut parts = items(node).into_iter();
            let host = parts.next().as_ref().and_then(text)?;
            let port = u16::try_from(parts.next().as_ref().and_then(integer)?).ok()?;
            (!host.is_empty() && host != "?").then(|| Endpoint::new(&host, port))
        });
        let Some(primary) = nodes.next() else {
            continue;
        };
        let replicas: Vec<Endpoint> = nodes.collect();
        match out.iter_mut().find(|s| s.primary == primary) {
            Some(shard) => shard.ranges.push((start, end)),
            None => out.push(Shard {
                ranges: vec![(start, end)],
                primary,
                replicas,
            }),
        }
    }
    Ok(out)
}

fn bad(command: &str, found: &'static str) -> Error {
    Error::type_conversion(found, "a cluster topology", None).with_command(command)
}

fn items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(b) | Value::SimpleString(b) => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        Value::VerbatimString { text, .. } => Some(String::from_utf8_lossy(text).into_owned()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::BulkString(b) | Value::SimpleString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// The slots whose primary changed between two slot maps, from one old
/// primary (`None`: no owner) to one new primary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OwnerChange {
    pub(crate) from: Option<String>,
    pub(crate) to: String,
    /// Inclusive ranges of slots, ascending.
    pub(crate) slots: Vec<(u16, u16)>,
}

impl std::fmt::Display for OwnerChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: usize = self
            .slots
            .iter()
            .map(|&(a, b)| usize::from(b - a) + 1)
            .sum();
        let shown: Vec<String> = self
            .slots
            .iter()
            .take(4)
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        let more = if self.slots.len() > 4 { ", ..." } else { "" };
        write!(
            f,
            "{count} slot{} ({}{more}) moved from {} to {}",
            if count == 1 { "" } else { "s" },
            shown.join(", "),
            self.from.as_deref().unwrap_or("no node"),
            self.to
        )
    }
}

/// Compares the owner of every slot before and after; a slot that lost
/// its owner is not a change to report (its commands wait for one).
pub(crate) fn owner_changes<'a>(
    before: impl Fn(u16) -> Option<&'a Endpoint>,
    after: impl Fn(u16) -> Option<&'a Endpoint>,
) -> Vec<OwnerChange> {
    /// Old primary, new primary, slot ranges.
    type Change<'e> = (Option<&'e Endpoint>, &'e Endpoint, Vec<(u16, u16)>);
    let mut changes: Vec<Change<'a>> = Vec::new();
    for slot in 0..SLOTS {
        let (from, Some(to)) = (before(slot), after(slot)) else {
            continue;
        };
        if from == Some(to) {
            continue;
        }
        match changes.iter_mut().find(|c| c.0 == from && c.1 == to) {
            Some((_, _, slots)) => match slots.last_mut() {
                Some(last) if last.1 + 1 == slot => last.1 = slot,
                _ => slots.push((slot, slot)),
            },
            None => changes.push((from, to, vec![(slot, slot)])),
        }
    }
    changes
        .into_iter()
        .map(|(from, to, slots)| OwnerChange {
            from: from.map(Endpoint::to_string),
            to: to.to_string(),
            slots,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.to_owned().into())
    }

    fn node(port: i64, role: &str, health: &str) -> Value {
        Value::Array(vec![
            bulk("id"),
            bulk("abc"),
            bulk("port"),
            Value::Int(port),
            bulk("ip"),
            bulk("127.0.0.1"),
            bulk("endpoint"),
            bulk("127.0.0.1"),
            bulk("role"),
            bulk(role),
            bulk("health"),
            bulk(health),
        ])
    }

    #[test]
    fn shards_are_read_from_a_resp2_reply_and_failed_nodes_left_out() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("slots"),
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                Value::Int(6000),
                Value::Int(6001),
            ]),
            bulk("nodes"),
            Value::Array(vec![
                node(30001, "master", "online"),
                node(30004, "replica", "online"),
                node(30007, "replica", "fail"),
            ]),
        ])]);
        let shards = parse_shards(reply).unwrap();
        assert_eq!(
            shards,
            vec![Shard {
                ranges: vec![(0, 5460), (6000, 6001)],
                primary: Endpoint::new("127.0.0.1", 30001),
                replicas: vec![Endpoint::new("127.0.0.1", 30004)],
            }]
        );
    }

    #[test]
    fn slots_rows_of_one_primary_are_merged() {
        let row = |a: i64, b: i64, port: i64| {
            Value::Array(vec![
                Value::Int(a),
                Value::Int(b),
                Value::Array(vec![bulk("127.0.0.1"), Value::Int(port), bulk("id")]),
                Value::Array(vec![bulk("127.0.0.1"), Value::Int(port + 3), bulk("id2")]),
            ])
        };
        let shards = parse_slots(Value::Array(vec![
            row(0, 10, 1),
            row(20, 30, 1),
            row(11, 19, 2),
        ]))
        .unwrap();
        assert_eq!(shards.len(), 2);
        assert_eq!(shards[0].ranges, vec![(0, 10), (20, 30)]);
        assert_eq!(shards[0].replicas, vec![Endpoint::new("127.0.0.1", 4)]);
        assert!(parse_slots(Value::Int(1)).is_err());
    }

    #[test]
    fn owner_changes_group_slots_by_old_and_new_primary() {
        let (a, b, c) = (
            Endpoint::new("a", 1),
            Endpoint::new("b", 1),
            Endpoint::new("c", 1),
        );
        let before = |slot: u16| (slot < 8000).then_some(if slot < 100 { &a } else { &b });
        let after = |slot: u16| Some(if slot < 100 || slot == 200 { &a } else { &c });
        let changes = owner_changes(before, after);
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert_eq!(changes[0].from.as_deref(), Some("b:1"));
        assert_eq!(changes[0].to, "c:1");
        assert_eq!(changes[0].slots, vec![(100, 199), (201, 7999)]);
        assert_eq!(changes[1].slots, vec![(200, 200)]);
        assert_eq!(changes[2].from, None);
        assert_eq!(changes[2].slots, vec![(8000, 16383)]);
        assert_eq!(
            changes[0].to_string(),
            "7899 slots (100-199, 201-7999) moved from b:1 to c:1"
        );
        assert_eq!(
            changes[2].to_string(),
            "8384 slots (8000-16383) moved from no node to c:1"
        );
    }
}

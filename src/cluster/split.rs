//! Splitting a multi-key command whose keys span slots (the Codis proxy's
//! MultiOperator): one command per slot, sent in parallel, the replies
//! merged back in the caller's order.
//!
//! ```text
//!  MGET a b c        a, c: slot 15495 ── MGET a c ──▶ node 3 ─┐
//!                    b:    slot 3300  ── MGET b   ──▶ node 1 ─┤ replies put back in
//!                                                             ▼ key order: [a, b, c]
//! ```
//!
//! | command | parts | merged reply |
//! |---|---|---|
//! | MGET | keys by slot | values in the caller's key order |
//! | DEL, UNLINK, EXISTS, TOUCH | keys by slot | the sum of the parts' counts |
//! | MSET | key/value pairs by slot | `OK` if every part wrote; else an error naming the keys whose part failed (the other parts' keys were written) |
//!
//! Each part is a request of its own, with the caller's timeout and with
//! redirects followed like any other. Splitting gives up atomicity across
//! slots, which the cluster cannot offer anyway: an MGET may see one part
//! before and another after a concurrent write.

use bytes::Bytes;

use crate::cmd::Cmd;
use crate::connection::reply::{self, ReplyReceiver};
use crate::connection::request::{header, Answer, Request};
use crate::error::{Error, Result};
use crate::resp::Value;

use super::key_slot;

/// How a split command's parts are merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merge {
    /// MGET: values back in key order.
    Values,
    /// DEL, UNLINK, EXISTS, TOUCH: counts added.
    Sum,
    /// MSET: every part must say OK.
    AllOk,
}

/// The commands split by slot, with their merge and how many arguments
/// each key takes (MSET: the key and its value).
fn splittable(name: &[u8]) -> Option<(&'static str, Merge, usize)> {
    const TABLE: [(&str, Merge, usize); 6] = [
        ("MGET", Merge::Values, 1),
        ("DEL", Merge::Sum, 1),
        ("UNLINK", Merge::Sum, 1),
        ("EXISTS", Merge::Sum, 1),
        ("TOUCH", Merge::Sum, 1),
        ("MSET", Merge::AllOk, 2),
    ];
    TABLE
        .into_iter()
        .find(|(n, _, _)| n.as_bytes().eq_ignore_ascii_case(name))
}

/// One part: the slot, and the positions (in key order) of its keys.
struct Part {
    slot: u16,
    keys: Vec<usize>,
}

/// A command split into per-slot parts, ready to send.
pub(super) struct Split {
    name: &'static str,
    merge: Merge,
    total_keys: usize,
    parts: Vec<Part>,
    /// The parts' requests, in `parts` order (taken by `requests`).
    requests: Vec<Request>,
    receivers: Vec<Option<ReplyReceiver>>,
    /// The caller's reply slot (`None`: fire-and-forget).
    reply: Option<crate::connection::reply::ReplySender>,
    /// The keys, for error messages.
    key_names: Vec<Bytes>,
}

impl Split {
    /// Splits `req` if it is a single splittable command; gives it back otherwise.
    pub(super) fn of(req: Request) -> std::result::Result<Split, Request> {
        if req.count() != 1 {
            return Err(req);
        }
        let Some(args) = command_args(&req.commands) else {
            return Err(req);
        };
        let Some((name, merge, step)) = args.first().and_then(|n| splittable(n)) else {
            return Err(req);
        };
        let rest = &args[1..];
        if rest.is_empty() || rest.len() % step != 0 {
            return Err(req); // the server gives the arity error
        }
        let mut parts: Vec<Part> = Vec::new();
        let mut key_names = Vec::new();
        for (position, chunk) in rest.chunks(step).enumerate() {
            let slot = key_slot(&chunk[0]);
            key_names.push(chunk[0].clone());
            match parts.iter_mut().find(|p| p.slot == slot) {
                Some(part) => part.keys.push(position),
                None => parts.push(Part {
                    slot,
                    keys: vec![position],
                }),
            }
        }
        let fire_and_forget = req.reply.is_none();
        let mut requests = Vec::with_capacity(parts.len());
        let mut receivers = Vec::with_capacity(parts.len());
        for part in &parts {
            let mut cmd = Cmd::new(name);
            for &position in &part.keys {
                let chunk = &rest[position * step..position * step + step];
                cmd.push_key(&chunk[0][..]);
                for value in &chunk[1..] {
                    cmd.push_arg(&value[..]);
                }
            }
            let (slot, receiver) = if fire_and_forget {
                (None, None)
            } else {
                let (slot, receiver) = reply::channel();
                (Some(slot), Some(receiver))
            };
            requests.push(Request::single(
                cmd.into_encoded().0,
                req.db,
                slot,
                req.timeout,
            ));
            receivers.push(receiver);
        }
        Ok(Split {
            name,
            merge,
            total_keys: key_names.len(),
            parts,
            requests,
            receivers,
            reply: req.reply,
            key_names,
        })
    }

    /// The parts' slots and requests, to send.
    pub(super) fn requests(&mut self) -> Vec<(u16, Request)> {
        let slots: Vec<u16> = self.parts.iter().map(|p| p.slot).collect();
        slots.into_iter().zip(self.requests.drain(..)).collect()
    }

    /// Waits for every part and answers the caller with the merged reply.
    pub(super) async fn answer(mut self) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let mut outcomes = Vec::with_capacity(self.parts.len());
        for receiver in std::mem::take(&mut self.receivers) {
            let outcome = match receiver {
                Some(r) => match r.await {
                    Ok(Ok(Answer::One(value))) => Ok(value),
                    Ok(Ok(Answer::Group(values))) => Ok(Value::Array(values)),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(Error::closed(self.name)),
                },
                None => Ok(Value::Nil),
            };
            outcomes.push(outcome);
        }
        reply.send(self.merge(outcomes).map(Answer::One));
    }

    fn merge(&self, outcomes: Vec<Result<Value>>) -> Result<Value> {
        let mut failures = Vec::new();
        let mut values: Vec<Value> = vec![
            Value::Nil;
            if self.merge == Merge::Values {
                self.total_keys
            } else {
                0
            }
        ];
        let mut sum: i64 = 0;
        for (part, outcome) in self.parts.iter().zip(outcomes) {
            let value = match outcome {
                Ok(Value::Error(text)) => {
                    failures.push((part, String::from_utf8_lossy(&text).into_owned()));
                    continue;
                }
                Ok(value) => value,
                Err(e) => {
                    failures.push((part, e.to_string()));
                    continue;
                }
            };
            match (self.merge, value) {
                (Merge::Values, Value::Array(items)) if items.len() == part.keys.len() => {
                    for (&position, item) in part.keys.iter().zip(items) {
                        values[position] = item;
                    }
                }
                (Merge::Sum, Value::Int(n)) => sum = sum.saturating_add(n),
                (Merge::AllOk, Value::SimpleString(_)) => {}
                (_, other) => {
                    failures.push((part, format!("unexpected {} reply", other.type_name())))
                }
            }
        }
        if failures.is_empty() {
            return Ok(match self.merge {
                Merge::Values => Value::Array(values),
                Merge::Sum => Value::Int(sum),
                Merge::AllOk => Value::SimpleString(Bytes::from_static(b"OK")),
            });
        }
        let failed: Vec<String> = failures
            .iter()
            .map(|(part, why)| {
                let keys: Vec<String> = part
                    .keys
                    .iter()
                    .take(5)
                    .map(|&i| String::from_utf8_lossy(&self.key_names[i]).into_owned())
                    .collect();
                format!("slot {} (keys {}): {why}", part.slot, keys.join(", "))
            })
            .collect();
        let effect = match self.merge {
            Merge::Values => "nothing was changed".to_owned(),
            _ => format!(
                "the other {} of {} parts ran, so their keys were {}",
                self.parts.len() - failures.len(),
                self.parts.len(),
                if self.merge == Merge::AllOk {
                    "written"
                } else {
                    "affected"
                }
            ),
        };
        let text = format!(
            "ERR {} was split across {} cluster slots and {} part(s) failed: {}; {effect}",
            self.name,
            self.parts.len(),
            failures.len(),
            failed.join("; ")
        );
        Err(Error::server(self.name, &Bytes::from(text)))
    }
}

/// The arguments of one encoded command (name first), as `Bytes` copies;
/// `None` if the bytes are not a command.
fn command_args(bytes: &[u8]) -> Option<Vec<Bytes>> {
    let (count, mut at) = header(bytes, 0, b'*')?;
    let mut args = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let (len, start) = header(bytes, at, b'$')?;
        let end = start.checked_add(len)?;
        args.push(Bytes::copy_from_slice(bytes.get(start..end)?));
        at = end.checked_add(2)?;
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn request(cmd: Cmd) -> Request {
        let (slot, _receiver) = reply::channel();
        Request::single(cmd.into_encoded().0, 0, Some(slot), Duration::from_secs(1))
    }

    #[test]
    fn keys_are_grouped_by_slot_in_first_seen_order() {
        let split = match Split::of(request(Cmd::new("MGET").key("a").key("b").key("{a}x"))) {
            Ok(split) => split,
            Err(_) => panic!("MGET splits"),
        };
        let parts: Vec<(u16, Vec<usize>)> = split
            .parts
            .iter()
            .map(|p| (p.slot, p.keys.clone()))
            .collect();
        assert_eq!(
            parts,
            vec![(key_slot(b"a"), vec![0, 2]), (key_slot(b"b"), vec![1])]
        );
        assert!(Split::of(request(Cmd::new("GET").key("a"))).is_err());
        assert!(
            Split::of(request(Cmd::new("MSET").key("a").arg(1).key("b"))).is_err(),
            "odd MSET: the server says why"
        );
    }

    #[test]
    fn replies_merge_back_in_key_order_and_failures_name_their_keys() {
        let split = match Split::of(request(Cmd::new("MGET").key("a").key("b").key("{a}x"))) {
            Ok(split) => split,
            Err(_) => panic!("MGET splits"),
        };
        let bulk = |s: &'static str| Value::BulkString(Bytes::from_static(s.as_bytes()));
        let merged = split
            .merge(vec![
                Ok(Value::Array(vec![bulk("A"), bulk("X")])),
                Ok(Value::Array(vec![bulk("B")])),
            ])
            .unwrap();
        assert_eq!(merged, Value::Array(vec![bulk("A"), bulk("B"), bulk("X")]));
        let mset = match Split::of(request(Cmd::new("MSET").key("a").arg(1).key("b").arg(2))) {
            Ok(split) => split,
            Err(_) => panic!("MSET splits"),
        };
        let e = mset
            .merge(vec![
                Ok(Value::SimpleString("OK".into())),
                Ok(Value::Error("OOM no memory".into())),
            ])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("keys b") && e.contains("OOM") && e.contains("written"),
            "{e}"
        );
    }
}

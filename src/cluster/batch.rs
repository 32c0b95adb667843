//! Batches whose commands span slots: one group per slot, sent in
//! parallel, the replies put back in the caller's order.
//!
//! ```text
//!  batch [SET a, GET b, INCR {a}n, GET c]
//!     slot(a) ── group [SET a, INCR {a}n] ──▶ its primary ─┐
//!     slot(b) ── group [GET b]            ──▶ its primary ─┤ replies back at
//!     slot(c) ── group [GET c]            ──▶ its primary ─┘ positions 0,1,2,3
//! ```
//!
//! Each slot's commands stay in the caller's order, in one group (nothing
//! of another caller between them, as on one server); commands of
//! different slots run in no particular order relative to each other,
//! which the cluster could not promise anyway. A group per slot rather
//! than per node so that a `MOVED` (which names one slot) hands back a
//! whole group, and the node's connection writes all of a node's groups
//! together anyway.
//!
//! A keyless command goes with the slot of the keyed command before it (or
//! after it, at the start). A command whose own keys span slots makes the
//! whole batch fail before anything is sent, as does a transaction (a
//! gated group, or one holding MULTI … EXEC): those must stay in one slot.
//!
//! If a part fails as a whole (timeout, lost connection, a redirect it
//! could not follow), its commands' replies are errors naming what
//! happened and saying that the other parts ran; if every part failed, the
//! caller gets the first part's error itself, with its `may_have_run`.

use bytes::{Bytes, BytesMut};

use crate::connection::reply::{self, ReplyReceiver, ReplySender};
use crate::connection::request::{command_end, command_name, Answer, Request};
use crate::error::{Error, Result};
use crate::resp::Value;

use super::command_slot;

/// Commands that tie a group together: a group holding one is a
/// transaction, which must run on one node.
const TRANSACTIONAL: [&str; 5] = ["MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"];

/// One slot's share of a batch.
struct Part {
    slot: u16,
    /// Where its commands' replies go in the caller's batch.
    positions: Vec<usize>,
}

/// A batch split into per-slot groups, ready to send.
pub(super) struct BatchSplit {
    total: usize,
    parts: Vec<Part>,
    requests: Vec<Request>,
    receivers: Vec<Option<ReplyReceiver>>,
    reply: Option<ReplySender>,
    /// The first command's name, for the caller's error.
    name: String,
}

impl BatchSplit {
    /// Splits an ungated group by slot. `Ok(None)`: not such a group (a
    /// single command, a transaction), so the caller's cross-slot error
    /// stands; an error: a command in it spans slots by itself.
    pub(super) fn of(req: Request) -> Result<Option<BatchSplit>> {
        if req.count() < 2 || req.is_gated() {
            return Ok(None);
        }
        let bytes = &req.commands[..];
        // Each command's byte range and slot.
        let mut commands: Vec<(usize, usize, Option<u16>)> = Vec::new();
        let mut start = 0;
        for _ in 0..req.count() {
            let Some(len) = bytes.get(start..).and_then(|rest| command_end(rest, 0)) else {
                return Ok(None); // not commands: leave it to the server
            };
            let end = start + len;
            if TRANSACTIONAL.contains(&command_name(&bytes[start..end]).as_str()) {
                return Ok(None); // MULTI … EXEC: one slot, or refused
            }
            let slot = command_slot(&bytes[start..end])?;
            commands.push((start, end, slot));
            start = end;
        }
        // Keyless commands join their neighbour's slot.
        let mut last = commands.iter().find_map(|c| c.2);
        let Some(first) = last else {
            return Ok(None);
        };
        last = Some(first);
        let mut parts: Vec<Part> = Vec::new();
        let mut buffers: Vec<BytesMut> = Vec::new();
        for (position, &(start, end, slot)) in commands.iter().enumerate() {
            let slot = slot.or(last).unwrap_or(first);
            last = Some(slot);
            let index = match parts.iter().position(|p| p.slot == slot) {
                Some(i) => i,
                None => {
                    parts.push(Part {
                        slot,
                        positions: Vec::new(),
                    });
                    buffers.push(BytesMut::new());
                    parts.len() - 1
                }
            };
            parts[index].positions.push(position);
            buffers[index].extend_from_slice(&bytes[start..end]);
        }
        let mut requests = Vec::with_capacity(parts.len());
        let mut receivers = Vec::with_capacity(parts.len());
        for (part, buffer) in parts.iter().zip(buffers) {
            let (sender, receiver) = match req.reply {
                Some(_) => {
                    let (s, r) = reply::channel();
                    (Some(s), Some(r))
                }
                None => (None, None),
            };
            let count = u32::try_from(part.positions.len()).unwrap_or(u32::MAX);
            requests.push(Request::group(buffer, count, req.db, sender, req.timeout));
            receivers.push(receiver);
        }
        Ok(Some(BatchSplit {
            total: commands.len(),
            name: command_name(bytes),
            parts,
            requests,
            receivers,
            reply: req.reply,
        }))
    }

    /// The parts' slots and requests, to send.
    pub(super) fn requests(&mut self) -> Vec<(u16, Request)> {
        let slots: Vec<u16> = self.parts.iter().map(|p| p.slot).collect();
        slots.into_iter().zip(self.requests.drain(..)).collect()
    }

    /// Waits for every part and answers the caller with the replies in
    /// batch order.
    pub(super) async fn answer(mut self) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let mut outcomes = Vec::with_capacity(self.parts.len());
        for receiver in std::mem::take(&mut self.receivers) {
            outcomes.push(match receiver {
                Some(r) => match r.await {
                    Ok(Ok(Answer::Group(values))) => Ok(values),
                    Ok(Ok(Answer::One(value))) => Ok(vec![value]),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(Error::closed(&self.name)),
                },
                None => Ok(Vec::new()),
            });
        }
        reply.send(self.merge(outcomes).map(Answer::Group));
    }

    fn merge(&self, outcomes: Vec<Result<Vec<Value>>>) -> Result<Vec<Value>> {
        let failed = outcomes.iter().filter(|o| o.is_err()).count();
        if failed == self.parts.len() {
            if let Some(Err(e)) = outcomes.into_iter().next() {
                return Err(e);
            }
            return Err(Error::closed(&self.name));
        }
        let mut values = vec![Value::Nil; self.total];
        for (part, outcome) in self.parts.iter().zip(outcomes) {
            match outcome {
                Ok(replies) if replies.len() == part.positions.len() => {
                    for (&position, value) in part.positions.iter().zip(replies) {
                        values[position] = value;
                    }
                }
                Ok(replies) => {
                    let text = format!(
                        "ERR the part of this batch for cluster slot {} got {} replies for {} \
                         commands",
                        part.slot,
                        replies.len(),
                        part.positions.len()
                    );
                    fill(&mut values, &part.positions, text);
                }
                Err(e) => {
                    let text = format!(
                        "ERR {e} (this command was in the part of a batch split across {} \
                         cluster slots that went to slot {}; {} of those parts ran)",
                        self.parts.len(),
                        part.slot,
                        self.parts.len() - failed
                    );
                    fill(&mut values, &part.positions, text);
                }
            }
        }
        Ok(values)
    }
}

fn fill(values: &mut [Value], positions: &[usize], text: String) {
    let text = Bytes::from(text);
    for &position in positions {
        if let Some(v) = values.get_mut(position) {
            *v = Value::Error(text.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cluster::key_slot;
    use crate::Cmd;

    fn batch(cmds: &[Cmd]) -> Request {
        let mut bytes = BytesMut::new();
        for cmd in cmds {
            bytes.extend_from_slice(&cmd.clone().into_bytes());
        }
        let (slot, _receiver) = reply::channel();
        Request::group(
            bytes,
            cmds.len() as u32,
            0,
            Some(slot),
            Duration::from_secs(1),
        )
    }

    #[test]
    fn commands_group_by_slot_in_order_and_keyless_ones_join_a_neighbour() {
        let req = batch(&[
            Cmd::new("PING"),
            Cmd::new("SET").key("a").arg(1),
            Cmd::new("GET").key("b"),
            Cmd::new("INCR").key("{a}n"),
            Cmd::new("ECHO").arg("x"),
        ]);
        let split = BatchSplit::of(req).unwrap().unwrap();
        let parts: Vec<(u16, Vec<usize>)> = split
            .parts
            .iter()
            .map(|p| (p.slot, p.positions.clone()))
            .collect();
        assert_eq!(
            parts,
            vec![
                (key_slot(b"a"), vec![0, 1, 3, 4]),
                (key_slot(b"b"), vec![2])
            ]
        );
        assert_eq!(split.requests[0].count(), 4);
        assert_eq!(
            command_name(&split.requests[1].commands),
            "GET",
            "the slot's own commands"
        );
    }

    #[test]
    fn a_command_spanning_slots_or_a_single_command_is_not_split() {
        let cross = batch(&[Cmd::new("GET").key("a"), Cmd::new("MGET").key("a").key("b")]);
        let e = BatchSplit::of(cross).err().unwrap().to_string();
        assert!(e.contains("CROSSSLOT") && e.contains("MGET"), "{e}");
        assert!(BatchSplit::of(batch(&[Cmd::new("GET").key("a")]))
            .unwrap()
            .is_none());
        let transaction = batch(&[
            Cmd::new("MULTI"),
            Cmd::new("SET").key("a").arg(1),
            Cmd::new("SET").key("b").arg(1),
            Cmd::new("EXEC"),
        ]);
        assert!(
            BatchSplit::of(transaction).unwrap().is_none(),
            "a transaction is never split"
        );
    }

    #[test]
    fn replies_return_to_batch_order_and_a_failed_part_says_the_others_ran() {
        let req = batch(&[
            Cmd::new("GET").key("a"),
            Cmd::new("GET").key("b"),
            Cmd::new("GET").key("{a}x"),
        ]);
        let split = BatchSplit::of(req).unwrap().unwrap();
        let bulk = |s: &'static str| Value::BulkString(Bytes::from_static(s.as_bytes()));
        let merged = split
            .merge(vec![Ok(vec![bulk("A"), bulk("X")]), Ok(vec![bulk("B")])])
            .unwrap();
        assert_eq!(merged, vec![bulk("A"), bulk("B"), bulk("X")]);
        let merged = split
            .merge(vec![
                Ok(vec![bulk("A"), bulk("X")]),
                Err(Error::closed("GET")),
            ])
            .unwrap();
        let Value::Error(text) = &merged[1] else {
            panic!("{merged:?}")
        };
        let text = String::from_utf8_lossy(text);
        assert!(text.contains("1 of those parts ran"), "{text}");
        let all_failed = split.merge(vec![Err(Error::closed("GET")), Err(Error::closed("GET"))]);
        assert!(all_failed.is_err());
    }
}

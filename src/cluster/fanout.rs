//! Keyless commands whose answer is the whole cluster's: sent to every
//! primary and merged.
//!
//! | command | merged reply |
//! |---|---|
//! | DBSIZE | the sum of the primaries' counts |
//! | KEYS pattern | every primary's keys, one array (in no particular order, as on one server) |
//! | FLUSHALL, FLUSHDB | `OK` once every primary flushed; else an error naming the primaries that did not |
//! | SCRIPT LOAD, FUNCTION LOAD | the first primary's reply (the SHA-1, the library name) once every primary loaded it; else an error naming the ones that did not |
//! | SCRIPT FLUSH, FUNCTION FLUSH, FUNCTION DELETE | `OK` once every primary did it; else an error as above |
//!
//! Other keyless commands (PING, INFO, TIME, …) go to one primary. SCAN
//! pages go to one primary at a time (`Scan` walks them in turn).

use bytes::Bytes;

use crate::config::Endpoint;
use crate::connection::reply::{self, ReplyReceiver, ReplySender};
use crate::connection::request::{command_name, Answer, Request};
use crate::error::{Error, Result};
use crate::resp::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Merge {
    Sum,
    Concat,
    AllOk,
    /// Every primary answers the same; the first answer is the reply.
    Same,
}

/// How the replies of `name` (and, for SCRIPT and FUNCTION, of its
/// subcommand, read from the encoded `command`) merge; `None`: not a
/// command for every primary.
fn merge_of(name: &str, command: &[u8]) -> Option<Merge> {
    match name {
        "DBSIZE" => Some(Merge::Sum),
        "KEYS" => Some(Merge::Concat),
        "FLUSHALL" | "FLUSHDB" => Some(Merge::AllOk),
        "SCRIPT" | "FUNCTION" => match (name, subcommand(command).as_str()) {
            (_, "LOAD") => Some(Merge::Same),
            (_, "FLUSH") | ("FUNCTION", "DELETE") => Some(Merge::AllOk),
            _ => None,
        },
        _ => None,
    }
}

/// The second word of an encoded command, upper-cased (`""` if none).
fn subcommand(command: &[u8]) -> String {
    // *N, $len, NAME, $len, SUB
    command
        .split(|&b| b == b'\n')
        .nth(4)
        .map(|sub| {
            String::from_utf8_lossy(sub.strip_suffix(b"\r").unwrap_or(sub)).to_ascii_uppercase()
        })
        .unwrap_or_default()
}

/// Whether `req` must run on the primary it was sent to: a part of a
/// command sent to every primary, or a page of a cluster-wide SCAN.
pub(super) fn is_node_bound(req: &Request) -> bool {
    let name = command_name(&req.commands);
    name == "SCAN" || merge_of(&name, &req.commands).is_some()
}

/// A keyless command sent to every primary.
pub(super) struct FanOut {
    name: String,
    merge: Merge,
    nodes: Vec<Endpoint>,
    receivers: Vec<Option<ReplyReceiver>>,
    reply: Option<ReplySender>,
}

impl FanOut {
    /// One copy of `req` per primary, if it is a fan-out command; the
    /// request back otherwise.
    pub(super) fn of(
        req: Request,
        primaries: &[Endpoint],
    ) -> std::result::Result<(FanOut, Vec<(Endpoint, Request)>), Request> {
        let name = command_name(&req.commands);
        let Some(merge) = merge_of(&name, &req.commands) else {
            return Err(req);
        };
        if req.count() != 1 || primaries.is_empty() {
            return Err(req);
        }
        let mut parts = Vec::with_capacity(primaries.len());
        let mut receivers = Vec::with_capacity(primaries.len());
        for node in primaries {
            let (slot, receiver) = match req.reply {
                Some(_) => {
                    let (s, r) = reply::channel();
                    (Some(s), Some(r))
                }
                None => (None, None),
            };
            let bytes = bytes::BytesMut::from(&req.commands[..]);
            parts.push((
                node.clone(),
                Request::single(bytes, req.db, slot, req.timeout),
            ));
            receivers.push(receiver);
        }
        let fan = FanOut {
            name,
            merge,
            nodes: primaries.to_vec(),
            receivers,
            reply: req.reply,
        };
        Ok((fan, parts))
    }

    /// Waits for every primary and answers the caller.
    pub(super) async fn answer(mut self) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let mut sum: i64 = 0;
        let mut keys = Vec::new();
        let mut first: Option<Value> = None;
        let mut failed = Vec::new();
        for (node, receiver) in self.nodes.iter().zip(std::mem::take(&mut self.receivers)) {
            let outcome = match receiver {
                Some(r) => r.await,
                None => continue,
            };
            match outcome {
                Ok(Ok(Answer::One(Value::Error(text)))) => {
                    failed.push(format!("{node}: {}", String::from_utf8_lossy(&text)))
                }
                Ok(Ok(Answer::One(value))) => match (self.merge, value) {
                    (Merge::Sum, Value::Int(n)) => sum = sum.saturating_add(n),
                    (Merge::Concat, Value::Array(items) | Value::Set(items)) => keys.extend(items),
                    (Merge::AllOk, Value::SimpleString(_)) => {}
                    (Merge::Same, value) => match &first {
                        None => first = Some(value),
                        Some(f) if *f == value => {}
                        Some(f) => failed
                            .push(format!("{node}: answered {value:?}, another primary {f:?}")),
                    },
                    (_, other) => {
                        failed.push(format!("{node}: unexpected {} reply", other.type_name()))
                    }
                },
                Ok(Ok(Answer::Group(_))) => failed.push(format!("{node}: unexpected group reply")),
                Ok(Err(e)) => failed.push(format!("{node}: {e}")),
                Err(_) => failed.push(format!("{node}: the connection closed")),
            }
        }
        let result: Result<Value> = if failed.is_empty() {
            Ok(match self.merge {
                Merge::Sum => Value::Int(sum),
                Merge::Concat => Value::Array(keys),
                Merge::AllOk => Value::SimpleString(Bytes::from_static(b"OK")),
                Merge::Same => first.unwrap_or(Value::Nil),
            })
        } else {
            let text = format!(
                "ERR {} was sent to all {} primaries and {} failed: {}",
                self.name,
                self.nodes.len(),
                failed.len(),
                failed.join("; ")
            );
            Err(Error::server(&self.name, &Bytes::from(text)))
        };
        reply.send(result.map(Answer::One));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cmd;

    fn merge(cmd: Cmd) -> Option<Merge> {
        let bytes = cmd.into_bytes();
        merge_of(&command_name(&bytes), &bytes)
    }

    #[test]
    fn script_and_function_subcommands_that_change_every_primary_fan_out() {
        assert!(merge(Cmd::new("SCRIPT").arg("load").arg("return 1")) == Some(Merge::Same));
        assert!(merge(Cmd::new("SCRIPT").arg("FLUSH")) == Some(Merge::AllOk));
        assert!(merge(Cmd::new("FUNCTION").arg("DELETE").arg("lib")) == Some(Merge::AllOk));
        assert!(merge(Cmd::new("FUNCTION").arg("LOAD").arg("#!lua name=x")) == Some(Merge::Same));
        assert!(merge(Cmd::new("SCRIPT").arg("EXISTS").arg("abc")).is_none());
        assert!(merge(Cmd::new("SCRIPT").arg("KILL")).is_none());
        assert!(merge(Cmd::new("SCRIPT")).is_none());
        assert!(merge(Cmd::new("DBSIZE")) == Some(Merge::Sum));
    }
}

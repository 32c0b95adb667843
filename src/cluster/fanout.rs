//! Keyless commands whose answer is the whole cluster's: sent to every
//! primary and merged.
//!
//! | command | merged reply |
//! |---|---|
//! | DBSIZE | the sum of the primaries' counts |
//! | KEYS pattern | every primary's keys, one array (in no particular order, as on one server) |
//! | FLUSHALL, FLUSHDB | `OK` once every primary flushed; else an error naming the primaries that did not |
//!
//! Other keyless commands (PING, INFO, TIME, SCRIPT LOAD, …) go to one
//! primary. A cluster-wide SCAN is not built yet.

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
}

fn merge_of(name: &str) -> Option<Merge> {
    match name {
        "DBSIZE" => Some(Merge::Sum),
        "KEYS" => Some(Merge::Concat),
        "FLUSHALL" | "FLUSHDB" => Some(Merge::AllOk),
        _ => None,
    }
}

/// Whether `req` is a part of a command sent to every primary.
pub(super) fn is_fanout(req: &Request) -> bool {
    merge_of(&command_name(&req.commands)).is_some()
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
        let Some(merge) = merge_of(&name) else {
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

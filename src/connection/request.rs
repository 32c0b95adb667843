//! The request contract between routing (above) and a connection (below).
//!
//! Routing decides *where* a request goes: it reads the command's flags, its
//! keys and, later, its cluster slot, then hands a [`Request`] to one
//! connection. None of those routing facts travel further: a connection
//! only needs what it takes to write the bytes and answer the caller.
//!
//! A request is **one command, or a group of N commands** encoded back to
//! back. The driver writes a request's bytes as one piece, so nothing from
//! another caller lands between the commands of a group, and it answers
//! the request once, with its N replies ([`Answer::Group`]) or one error.
//! That is the shape a batch (N commands, one write), a transaction
//! (`MULTI … EXEC`) and an `ASKING`-prefixed retry will take.
//!
//! A request may carry a **gate** ([`Gate`]): once it is in the write
//! buffer, nothing else is written on that connection until its replies have
//! arrived. With [`Gate::Then`] the replies first go to a continuation that
//! runs in the driver and may write a follow-up group at once, still behind
//! the gate. A conditional transaction is exactly that: `WATCH` plus the
//! condition checks, then `MULTI … EXEC` or `UNWATCH` depending on the check
//! replies, with no other caller's command between `WATCH` and `EXEC`. The
//! driver's own `SELECT` barrier is a gate too.
//!
//! The driver can **hand a request back** ([`Returned`]) to the layer above
//! instead of answering it: a request flagged [`OnRedirect::HandBack`] whose
//! replies are all `MOVED`/`ASK` redirects, or, when a connection that was
//! given a hand-back sink closes, the requests it never sent. The request
//! comes back whole (bytes, reply slot, deadline), so routing can send it
//! elsewhere and the caller never notices. Without a sink nothing is handed
//! back: redirects reach the caller as server errors.
//!
//! Groups, continuations and hand-back are exercised by the driver's tests
//! today; the batch, transaction and cluster APIs are their first users.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::time::Instant;

use crate::error::Error;
use crate::resp::Value;

/// Where a request's answer goes.
pub(crate) use super::reply::ReplySender;

/// A request's replies, in the order of its commands.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The reply to a single command.
    One(Value),
    /// The replies to a group, one per command (error replies included).
    Group(Vec<Value>),
}

/// What holds other commands back while a request is on the wire.
pub(crate) enum Gate {
    /// Nothing: other callers' commands may follow at once (the usual case).
    Open,
    /// Nothing else is written until this request's replies have arrived.
    UntilReplies,
    /// As `UntilReplies`, then the replies go to the continuation, which
    /// answers the caller or writes a follow-up group, still behind the gate.
    Then(Continuation),
}

/// Decides, in the driver and behind the gate, what follows a gated
/// request's replies. It must be quick: the connection waits for it.
pub(crate) type Continuation = Box<dyn FnOnce(Vec<Value>) -> Step + Send>;

/// What a continuation decided.
pub(crate) enum Step {
    /// Answer the caller with these values (as a group).
    #[cfg_attr(not(test), allow(dead_code))] // transactions always write a follow-up
    Answer(Vec<Value>),
    /// Write these `count` commands next, before anything else; their
    /// replies answer the caller (or go to their own gate's continuation).
    Send {
        commands: BytesMut,
        count: u32,
        gate: Gate,
    },
}

/// What the driver does with `MOVED`/`ASK` replies to a request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OnRedirect {
    /// They are the caller's answer (as server errors): a standalone
    /// server, or a caller who asked not to be redirected (`NO_REDIRECT`).
    Deliver,
    /// Hand the request back to the layer above, which follows them.
    HandBack,
}

/// One request on its way to a connection.
///
/// Kept small (80 bytes) because every command travels as one through the
/// channel: what a single, ungated, new command does not need lives in a
/// boxed [`Shape`] that only groups, gates, hand-back and re-sent requests
/// pay for.
pub(crate) struct Request {
    /// The encoded command(s), back to back. Kept as the `BytesMut` they
    /// were built in: freezing into `Bytes` would allocate per request.
    pub(crate) commands: BytesMut,
    /// The database the commands must run in.
    pub(crate) db: u32,
    /// How long the caller waits; for fire-and-forget, how long the driver
    /// keeps trying to send it before dropping it.
    pub(crate) timeout: Duration,
    /// Where the answer goes; `None` for fire-and-forget.
    pub(crate) reply: Option<ReplySender>,
    /// `None`: one command, `Gate::Open`, `OnRedirect::Deliver`, a new deadline.
    pub(crate) shape: Option<Box<Shape>>,
}

/// The less common parts of a request.
pub(crate) struct Shape {
    /// How many commands `commands` holds, and so how many replies to await (≥ 1).
    pub(crate) count: u32,
    pub(crate) gate: Gate,
    pub(crate) on_redirect: OnRedirect,
    /// The deadline already running, for a request handed back and sent
    /// again: its caller's clock did not restart. `None` for a new request
    /// (the driver starts the clock when it takes it).
    pub(crate) deadline: Option<Instant>,
    /// Write `ASKING` just before the request (an `ASK` redirect being
    /// followed); the pipeline consumes its `+OK` itself.
    pub(crate) asking: bool,
    /// Redirects followed so far (the router bounds them).
    pub(crate) redirects: u8,
}

impl Request {
    /// One command.
    pub(crate) fn single(
        command: BytesMut,
        db: u32,
        reply: Option<ReplySender>,
        timeout: Duration,
    ) -> Request {
        Request {
            commands: command,
            db,
            timeout,
            reply,
            shape: None,
        }
    }

    /// `count` commands encoded back to back in `commands`, written as one
    /// piece and answered with `count` replies.
    pub(crate) fn group(
        commands: BytesMut,
        count: u32,
        db: u32,
        reply: Option<ReplySender>,
        timeout: Duration,
    ) -> Request {
        let mut req = Request::single(commands, db, reply, timeout);
        req.shape_mut().count = count.max(1);
        req
    }

    /// The same request behind `gate`.
    pub(crate) fn gated(mut self, gate: Gate) -> Request {
        self.shape_mut().gate = gate;
        self
    }

    /// The same request, handed back on `MOVED`/`ASK` instead of answered.
    pub(crate) fn handing_back_redirects(mut self) -> Request {
        self.shape_mut().on_redirect = OnRedirect::HandBack;
        self
    }

    /// The same request, with `ASKING` written just before it (or not).
    pub(crate) fn asking(mut self, asking: bool) -> Request {
        if asking || self.shape.is_some() {
            self.shape_mut().asking = asking;
        }
        self
    }

    /// When its caller stops waiting: the running deadline of a request
    /// handed back, or one started at `now` (a request held above the
    /// connections, whose clock no driver has started yet).
    pub(crate) fn start_clock(&mut self, now: Instant) -> Instant {
        let timeout = self.timeout;
        *self.shape_mut().deadline.get_or_insert(now + timeout)
    }

    /// Redirects this request has followed.
    pub(crate) fn redirects(&self) -> u8 {
        self.shape.as_ref().map_or(0, |s| s.redirects)
    }

    /// Counts one more redirect followed.
    pub(crate) fn count_redirect(&mut self) {
        let shape = self.shape_mut();
        shape.redirects = shape.redirects.saturating_add(1);
    }

    /// Whether a gate holds other commands back behind it (a transaction).
    pub(crate) fn is_gated(&self) -> bool {
        self.shape
            .as_ref()
            .is_some_and(|s| !matches!(s.gate, Gate::Open))
    }

    /// How many commands it holds.
    pub(crate) fn count(&self) -> u32 {
        self.shape.as_ref().map_or(1, |s| s.count)
    }

    fn shape_mut(&mut self) -> &mut Shape {
        self.shape.get_or_insert_with(|| {
            Box::new(Shape {
                count: 1,
                gate: Gate::Open,
                on_redirect: OnRedirect::Deliver,
                deadline: None,
                asking: false,
                redirects: 0,
            })
        })
    }

    /// The first command's name, upper-cased, for messages.
    pub(crate) fn name(&self) -> String {
        command_name(&self.commands)
    }

    /// Answers the caller with `err` (nothing for fire-and-forget).
    pub(crate) fn fail(self, err: Error) {
        if let Some(slot) = self.reply {
            slot.send(Err(err));
        }
    }
}

/// A request the driver gives back to the layer above, unanswered.
pub(crate) struct Returned {
    pub(crate) request: Request,
    pub(crate) reason: ReturnReason,
}

/// Why a request came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReturnReason {
    /// The server answered every command with this redirect; nothing ran.
    Redirect(Redirect),
    /// The connection closed before the request was written; it did not run.
    Unsent,
}

/// A `MOVED` or `ASK` reply: the slot and the address that serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Redirect {
    /// `ASK` (one-off, send `ASKING` first) rather than `MOVED` (for good).
    pub(crate) ask: bool,
    pub(crate) slot: u16,
    /// `host:port` as the server wrote it.
    pub(crate) address: String,
}

impl Redirect {
    /// Parses `MOVED <slot> <host:port>` or `ASK <slot> <host:port>`.
    pub(crate) fn parse(error_text: &[u8]) -> Option<Redirect> {
        let text = std::str::from_utf8(error_text).ok()?;
        let mut parts = text.split(' ');
        let ask = match parts.next()? {
            "MOVED" => false,
            "ASK" => true,
            _ => return None,
        };
        let slot = parts.next()?.parse().ok()?;
        let address = parts.next()?.to_owned();
        if address.is_empty() || parts.next().is_some() {
            return None;
        }
        Some(Redirect { ask, slot, address })
    }
}

/// Where the driver hands requests back: set by the layer above when it
/// opens a connection it can re-route from.
pub(crate) type HandBack = Arc<dyn Fn(Returned) + Send + Sync>;

/// The command name at the start of encoded commands (`*N\r\n$L\r\nNAME\r\n...`),
/// upper-cased, for error messages; `"?"` if the bytes are not a command.
pub(crate) fn command_name(bytes: &[u8]) -> String {
    let mut lines = bytes.split(|&b| b == b'\n');
    let _count = lines.next();
    let _len = lines.next();
    match lines.next() {
        Some(name) => {
            String::from_utf8_lossy(name.strip_suffix(b"\r").unwrap_or(name)).to_ascii_uppercase()
        }
        None => "?".to_owned(),
    }
}

/// The offset just past the `index`-th (0-based) encoded command in
/// `bytes`, a run of RESP arrays of bulk strings; `None` if the bytes end
/// first or are not commands. Used off the hot path: a reply to a group
/// that is only partly written.
pub(crate) fn command_end(bytes: &[u8], index: u32) -> Option<usize> {
    let mut at = 0;
    for _ in 0..=index {
        let (args, after) = header(bytes, at, b'*')?;
        at = after;
        for _ in 0..args {
            let (len, after) = header(bytes, at, b'$')?;
            at = after.checked_add(len)?.checked_add(2)?;
        }
    }
    (at <= bytes.len()).then_some(at)
}

/// Reads `<kind><decimal>\r\n` at `at`: the number and the offset after it.
pub(crate) fn header(bytes: &[u8], at: usize, kind: u8) -> Option<(usize, usize)> {
    if *bytes.get(at)? != kind {
        return None;
    }
    let rest = bytes.get(at + 1..)?;
    let cr = rest.iter().position(|&b| b == b'\r')?;
    let n = std::str::from_utf8(&rest[..cr]).ok()?.parse().ok()?;
    Some((n, at + 1 + cr + 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cmd;

    #[test]
    fn a_request_stays_within_80_bytes() {
        // One per command through the channel.
        assert!(
            std::mem::size_of::<Request>() <= 80,
            "{}",
            std::mem::size_of::<Request>()
        );
    }

    #[test]
    fn command_name_reads_the_first_bulk() {
        assert_eq!(command_name(&Cmd::new("get").key("k").into_bytes()), "GET");
        assert_eq!(command_name(b""), "?");
    }

    #[test]
    fn command_end_finds_each_command_of_a_group() {
        let a = Cmd::new("SET").key("k").arg("v\r\n").into_bytes();
        let b = Cmd::new("GET").key("k").into_bytes();
        let group = [&a[..], &b[..]].concat();
        assert_eq!(command_end(&group, 0), Some(a.len()));
        assert_eq!(command_end(&group, 1), Some(group.len()));
        assert_eq!(command_end(&group, 2), None);
        assert_eq!(command_end(&group[..a.len() + 3], 1), None);
        assert_eq!(command_end(b"junk", 0), None);
    }

    #[test]
    fn redirects_are_parsed_and_other_errors_are_not() {
        assert_eq!(
            Redirect::parse(b"MOVED 3999 127.0.0.1:6381"),
            Some(Redirect {
                ask: false,
                slot: 3999,
                address: "127.0.0.1:6381".into()
            })
        );
        assert_eq!(Redirect::parse(b"ASK 1 h:1").map(|r| r.ask), Some(true));
        for text in [
            &b"MOVED"[..],
            b"MOVED x h:1",
            b"MOVED 1",
            b"MOVED 1 h:1 extra",
            b"MOVED 70000 h:1",
            b"ERR MOVED 1 h:1",
            b"WRONGTYPE Operation",
        ] {
            assert_eq!(
                Redirect::parse(text),
                None,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

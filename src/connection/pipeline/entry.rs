//! An accepted request as the pipeline keeps it: in the backlog, then in
//! the FIFO until its last reply arrives.
//!
//! Entries are per request, so they are kept small (80 bytes): group state
//! (the replies gathered so far, a continuation) lives in a box that only
//! groups and continuations pay for.

use bytes::BytesMut;
use tokio::time::Instant;

use super::super::request::{
    command_name, Continuation, Gate, OnRedirect, ReplySender, Request, Shape,
};
use super::super::timer::capped;
use crate::error::Error;
use crate::resp::Value;

/// Why an entry is in the FIFO.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    /// A caller's awaited request.
    Awaited,
    /// A caller's fire-and-forget request.
    FireAndForget,
    /// A SELECT the pipeline inserted to switch the connection to the entry's `db`.
    Select,
    /// A keep-alive PING.
    Ping,
    /// The `ASKING` written just before a request that follows an `ASK`.
    Asking,
}

/// Deadlines as 8-byte ticks (nanoseconds past a process-wide epoch, plus
/// one; 0 for none) instead of a 16-byte `Option<Instant>`: with the group
/// pointer and the flags, that keeps an entry at 80 bytes.
pub(super) struct Deadline;

impl Deadline {
    /// The epoch: the first time it is asked for (a pipeline asks when it
    /// is created, before any deadline exists). An instant before it would
    /// be read back as the epoch itself.
    pub(super) fn epoch() -> Instant {
        static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *EPOCH.get_or_init(Instant::now)
    }

    fn ticks(at: Option<Instant>) -> u64 {
        let Some(at) = at else { return 0 };
        Deadline::after(1, at.saturating_duration_since(Deadline::epoch()))
    }

    /// `ticks` plus `d`, never 0 and never past `u64::MAX - 1`. u64
    /// arithmetic, not `as_nanos()`'s u128: this runs per request.
    fn after(ticks: u64, d: std::time::Duration) -> u64 {
        d.as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(d.subsec_nanos()))
            .saturating_add(ticks)
            .min(u64::MAX - 1)
    }

    fn instant(ticks: u64) -> Option<Instant> {
        let nanos = ticks.checked_sub(1)?;
        Some(Deadline::epoch() + std::time::Duration::from_nanos(nanos))
    }
}

/// The moment a batch of requests is accepted, read once per batch: as an
/// `Instant` for the driver's timer, and as [`Deadline`] ticks so that each
/// request's deadline is one addition rather than a clock subtraction.
#[derive(Clone, Copy, Debug)]
pub(in super::super) struct Now {
    pub(in super::super) at: Instant,
    ticks: u64,
}

impl Now {
    pub(in super::super) fn read() -> Now {
        let at = Instant::now();
        Now {
            at,
            ticks: Deadline::ticks(Some(at)),
        }
    }
}

/// Bits of [`Entry::flags`].
pub(super) mod flag {
    /// Nothing else is written until this entry's replies have arrived.
    pub(in super::super) const GATED: u8 = 1;
    /// `MOVED`/`ASK` replies hand the request back instead of answering it.
    pub(in super::super) const HAND_BACK: u8 = 2;
    /// Written behind a pipelined SELECT that failed: it ran in another
    /// database, so its reply is replaced by an error saying so.
    pub(in super::super) const WRONG_DB: u8 = 4;
    /// Written by a continuation: it only means something right after the
    /// gated request before it (e.g. `MULTI … EXEC` after its `WATCH`), so
    /// it is never sent again on another connection or after a "not
    /// executed" reply; it fails instead.
    pub(in super::super) const NO_RESEND: u8 = 8;
    /// Large enough to be written from its own buffer (a vectored write)
    /// rather than copied into the write buffer; set while it is unwritten.
    pub(in super::super) const OWN_BUFFER: u8 = 16;
    /// Follows an `ASK` redirect: `ASKING` goes just before it.
    pub(in super::super) const ASKING: u8 = 32;
}

/// A group's progress, and a gated request's continuation.
pub(super) struct Group {
    /// Commands (and so replies) in the request.
    pub(super) count: u32,
    /// Replies arrived so far.
    pub(super) replies: Vec<Value>,
    pub(super) then: Option<Continuation>,
}

pub(super) struct Entry {
    pub(super) bytes: BytesMut,
    pub(super) reply: Option<ReplySender>,
    /// When the caller stops waiting (for fire-and-forget: when the driver
    /// stops trying to send it), as [`Deadline`] ticks; 0 (none) once it
    /// expired: nobody wants it any more, so it is never sent again.
    deadline: u64,
    /// A caller's entry: its timeout in milliseconds, for the timeout
    /// message (4 bytes rather than a 16-byte `Duration`, which keeps the
    /// entry at 80 bytes); read it through `timeout()`.
    timeout_ms: u32,
    pub(super) db: u32,
    /// Offset in this connection's output stream just past the entry's last byte.
    pub(super) end: u64,
    /// `None` for a single command without a continuation (the usual case).
    pub(super) group: Option<Box<Group>>,
    pub(super) kind: Kind,
    pub(super) flags: u8,
    /// Redirects the request followed before (kept for its next hand-back).
    pub(super) redirects: u8,
}

impl Entry {
    /// The entry for a caller's request; its deadline starts at `now` unless
    /// the request already carries one (it was handed back and re-sent).
    #[inline]
    pub(super) fn from_request(req: Request, now: Now) -> (Entry, Instant) {
        let kind = if req.reply.is_some() {
            Kind::Awaited
        } else {
            Kind::FireAndForget
        };
        let mut flags = 0;
        let mut deadline = None;
        let mut followed = 0;
        let group = req.shape.and_then(|shape| {
            let Shape {
                count,
                gate,
                on_redirect,
                deadline: running,
                asking,
                redirects,
            } = *shape;
            deadline = running;
            if on_redirect == OnRedirect::HandBack {
                flags |= flag::HAND_BACK;
            }
            if asking {
                flags |= flag::ASKING;
            }
            followed = redirects;
            let then = match gate {
                Gate::Open => None,
                Gate::UntilReplies => {
                    flags |= flag::GATED;
                    None
                }
                Gate::Then(then) => {
                    flags |= flag::GATED;
                    Some(then)
                }
            };
            (count > 1 || then.is_some()).then(|| {
                Box::new(Group {
                    count,
                    replies: Vec::new(),
                    then,
                })
            })
        });
        let (deadline, ticks) = match deadline {
            Some(running) => (running, Deadline::ticks(Some(running))),
            None => {
                // The same capped wait for the timer and for the entry.
                let wait = capped(req.timeout);
                (now.at + wait, Deadline::after(now.ticks, wait))
            }
        };
        let entry = Entry {
            deadline: ticks,
            timeout_ms: u32::try_from(req.timeout.as_millis()).unwrap_or(u32::MAX),
            bytes: req.commands,
            reply: req.reply,
            db: req.db,
            end: 0,
            group,
            kind,
            flags,
            redirects: followed,
        };
        (entry, deadline)
    }

    /// An entry the pipeline adds itself (SELECT, PING): nobody awaits it.
    pub(super) fn internal(bytes: BytesMut, db: u32, kind: Kind) -> Entry {
        Entry {
            bytes,
            reply: None,
            deadline: 0,
            timeout_ms: 0,
            db,
            end: 0,
            group: None,
            kind,
            flags: 0,
            redirects: 0,
        }
    }

    /// A SELECT of `db`.
    pub(super) fn select(bytes: BytesMut, db: u32) -> Entry {
        Entry::internal(bytes, db, Kind::Select)
    }

    /// A caller's timeout (zero for the pipeline's own entries).
    pub(super) fn timeout(&self) -> std::time::Duration {
        if self.is_callers() {
            std::time::Duration::from_millis(u64::from(self.timeout_ms))
        } else {
            std::time::Duration::ZERO
        }
    }

    /// The request again, to hand back: same bytes, slot, deadline and gate.
    pub(super) fn into_request(self) -> Request {
        let timeout = self.timeout();
        let deadline = self.deadline();
        let (count, then) = match self.group {
            Some(group) => (group.count, group.then),
            None => (1, None),
        };
        let gate = match then {
            Some(then) => Gate::Then(then),
            None if self.flags & flag::GATED != 0 => Gate::UntilReplies,
            None => Gate::Open,
        };
        let on_redirect = if self.flags & flag::HAND_BACK != 0 {
            OnRedirect::HandBack
        } else {
            OnRedirect::Deliver
        };
        Request {
            commands: self.bytes,
            db: self.db,
            timeout,
            reply: self.reply,
            shape: Some(Box::new(Shape {
                count,
                gate,
                on_redirect,
                deadline,
                // A hand-back is sent again by the router, which decides.
                asking: false,
                redirects: self.redirects,
            })),
        }
    }

    pub(super) fn name(&self) -> String {
        command_name(&self.bytes)
    }

    pub(super) fn is_callers(&self) -> bool {
        matches!(self.kind, Kind::Awaited | Kind::FireAndForget)
    }

    pub(super) fn is_gated(&self) -> bool {
        self.flags & flag::GATED != 0
    }

    /// How many commands (and replies) the entry holds.
    pub(super) fn count(&self) -> u32 {
        self.group.as_ref().map_or(1, |g| g.count)
    }

    /// Replies gathered so far (only groups gather).
    pub(super) fn replies_so_far(&self) -> u32 {
        self.group.as_ref().map_or(0, |g| g.replies.len() as u32)
    }

    /// Offset of the entry's first byte in the output stream.
    pub(super) fn start(&self) -> u64 {
        self.end - self.bytes.len() as u64
    }

    /// Whether sending it (again) still serves someone: its deadline has not passed.
    pub(super) fn still_wanted(&self) -> bool {
        self.deadline != 0
    }

    /// When the caller stops waiting; `None` once it did.
    pub(super) fn deadline(&self) -> Option<Instant> {
        Deadline::instant(self.deadline)
    }

    /// The caller stopped waiting: the entry is never sent again.
    pub(super) fn expire(&mut self) {
        self.deadline = 0;
    }

    /// Makes the entry ready to be written again (after a "not executed"
    /// reply or a lost connection): no replies gathered, no position.
    pub(super) fn reset(&mut self) {
        self.end = 0;
        if let Some(group) = &mut self.group {
            group.replies.clear();
        }
    }

    /// Answers the caller (if still waiting) and drops the entry.
    pub(super) fn fail(self, err: Error) {
        if let Some(slot) = self.reply {
            slot.send(Err(err));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_trip_through_ticks() {
        Deadline::epoch();
        let now = Instant::now();
        for at in [now, now + std::time::Duration::from_millis(1234)] {
            assert_eq!(Deadline::instant(Deadline::ticks(Some(at))), Some(at));
        }
        assert_eq!(Deadline::ticks(None), 0);
        let read = Now::read();
        let later = std::time::Duration::from_millis(250);
        assert_eq!(
            Deadline::instant(Deadline::after(read.ticks, later)),
            Some(read.at + later),
            "a deadline from a batch's ticks is the same instant"
        );
        assert_eq!(Deadline::instant(0), None);
    }

    #[test]
    fn an_entry_stays_within_80_bytes() {
        // Per in-flight request; tests/allocations.rs measures the total.
        assert!(
            std::mem::size_of::<Entry>() <= 80,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }
}
